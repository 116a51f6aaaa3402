//! Where optimized code tests the interrupt word (`CompileOptions::epoch_interruption`).
//!
//! At the header of every loop that makes a libcall, and at an OSR entry; nowhere else.
//! Loops are the tightest code there is (the test cost lz's byte-compare loop 15%), and a
//! function's entry and the way into its loops are the most frequent places there are
//! (the tests cost `fnptr` 28% of its instructions, `fib` 17%: `benches/README.md`,
//! "Epoch interruption"). Instead the runtime interrupts such code from outside: an
//! increment of the epoch that passes the store's deadline sends a signal to the thread
//! running the store, and a thread that the signal finds in the
//! [`MachineCode::preemptible`](tierup_abi::MachineCode::preemptible) range of this
//! tier's code (all of it but the prologue's first two instructions and the `ret`s) is sent
//! into the epoch handling as if it had called it there (the runtime's `code::preempt`).
//! A thread the signal finds elsewhere is caught:
//!
//! * in a host function: where it returns into wasm (the runtime tests the word there, as
//!   at every entry from the host into wasm);
//! * in baseline code: as here (`tierup-baseline`'s `codegen/epoch.rs`);
//! * in the interpreter: by its own tests;
//! * in a libcall: by the header's test of the loop that makes it, if any;
//! * where it enters in the middle of a loop by OSR: by the OSR entry's test;
//! * anywhere else (in a prologue, a `ret`, or a libcall outside loops): by the signal
//!   again, which the runtime sends until the store takes the interrupt, 1 ms after the
//!   first and then at growing intervals up to 10 ms; a thread that runs for ever spends
//!   its time in code of this tier (where the signal finds it), or in code that tests.
//!
//! The translator emits the test at each loop header and, at the loop's `end`, when it
//! knows whether the loop made a libcall, takes out the test of a loop that made none, by
//! turning its branch into a jump to where it goes on; the cold block with the call is
//! then unreachable and Cranelift drops it.
//!
//! Rounding instructions (`floor`, `ceil`, `trunc`, `nearest`) are calls of Cranelift's
//! own on hosts without SSE4.1, which the translator does not see: there, the entry and
//! every loop header keep their tests.

use cranelift_codegen::ir::{self, InstBuilder};

use super::Translator;
use crate::env::EpochCheck;

/// The epoch tests of the loops of one function, taken out where they are not needed.
#[derive(Debug, Default)]
pub(crate) struct LoopEpochs {
    /// Whether tests are left out (false: the entry and every header test).
    elide: bool,
    /// The tests to take out.
    unneeded: Vec<EpochCheck>,
}

/// The header test of an open loop (kept in its frame), and `FuncEnv::calls` when the
/// loop was opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoopTest {
    check: EpochCheck,
    calls_before: u32,
}

impl LoopEpochs {
    /// `elide`: whether every call the code makes is one the translator emits (see the
    /// module docs).
    pub(crate) fn new(elide: bool) -> LoopEpochs {
        LoopEpochs {
            elide,
            ..LoopEpochs::default()
        }
    }

    /// Whether tests are left out (of the entry and of loops without libcalls).
    pub(crate) fn elides(&self) -> bool {
        self.elide
    }
}

impl Translator<'_, '_> {
    /// The header test of a loop being opened, if it has one, for its frame.
    pub(super) fn open_loop_test(&self, header: Option<EpochCheck>) -> Option<LoopTest> {
        header.map(|check| LoopTest {
            check,
            calls_before: self.env.calls,
        })
    }

    /// The `end` of a loop whose frame holds `test`.
    pub(super) fn close_loop_test(&mut self, test: Option<LoopTest>) {
        if let Some(t) = test
            && self.epochs.elide
            && self.env.calls == t.calls_before
        {
            self.epochs.unneeded.push(t.check);
        }
    }
}

/// Takes out of `func` the tests that the module docs say are not needed.
pub(super) fn remove_unneeded(func: &mut ir::Function, epochs: &LoopEpochs) {
    for &check in &epochs.unneeded {
        func.replace(check.branch).jump(check.go_on, &[]);
        func.layout.remove_inst(check.load);
    }
}

/// Whether the ISA computes the rounding instructions inline (not by a call of Cranelift's
/// own): x86-64 with SSE4.1 (the only ISA the runtime interrupts by signal).
pub(crate) fn rounding_inline(isa: &dyn cranelift_codegen::isa::TargetIsa) -> bool {
    isa.isa_flags()
        .iter()
        .any(|f| f.name == "has_sse41" && f.as_bool() == Some(true))
}

#[cfg(test)]
mod tests {
    use cranelift_codegen::ir::{InstructionData, Opcode};
    use tierup_abi::vmctx::offsets;
    use tierup_abi::{CompileOptions, ModuleEnv, ModuleEnvBuilder};

    use crate::Optimizing;

    fn env(wat: &str) -> ModuleEnv {
        let wasm = wat::parse_str(wat).unwrap();
        let mut builder =
            ModuleEnvBuilder::new(wasm.clone().into(), wasmparser::WasmFeatures::WASM2);
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            builder.payload(&payload.unwrap()).unwrap();
        }
        builder.finish().unwrap()
    }

    /// The tests of the interrupt word left in function `f`'s CLIF.
    fn tests_left(tier: &Optimizing, env: &ModuleEnv, f: u32) -> usize {
        let options = CompileOptions {
            epoch_interruption: true,
            ..CompileOptions::default()
        };
        let func = tier.translate(env, f, &options).unwrap();
        func.layout
            .blocks()
            .flat_map(|b| func.layout.block_insts(b))
            .filter(|&i| {
                matches!(func.dfg.insts[i], InstructionData::Load { opcode: Opcode::Load, offset, .. }
                    if i32::from(offset) == offsets::INTERRUPT as i32)
            })
            .count()
    }

    #[test]
    fn only_loops_with_libcalls_test() {
        let tier = Optimizing::new().unwrap();
        if !super::rounding_inline(tier.isa()) {
            return; // Every header keeps its test there.
        }
        let env = env(r#"(module
            (memory 1)
            (func $leaf)
            ;; 1 and 2: no loop; a loop without calls.
            (func)
            (func (loop $l (br $l)))
            ;; 3: a nest of three loops without calls.
            (func (param i32)
              (loop $a (loop $b (loop $c (br_if $c (local.get 0))) (br_if $b (local.get 0)))
                (br_if $a (local.get 0))))
            ;; 4: a loop that calls wasm: as one that does not (the callee is preemptible
            ;; or tests itself).
            (func (loop $l (call $leaf) (br $l)))
            ;; 5: a loop that makes a libcall around one that does not: the outer header.
            (func (param i32)
              (loop $o (drop (memory.grow (i32.const 0))) (loop $i (br_if $i (local.get 0))) (br $o)))
            ;; 6: a loop that makes a libcall: its header.
            (func (loop $l (drop (memory.grow (i32.const 0))) (br $l)))
            ;; 7: two loops side by side.
            (func (param i32) (loop $a (br_if $a (local.get 0))) (loop $b (br_if $b (local.get 0)))))"#);
        // $leaf is function 0. Entries test nothing.
        let expected = [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1), (6, 1), (7, 0)];
        for (f, n) in expected {
            assert_eq!(tests_left(&tier, &env, f), n, "function {f}");
        }
        // Off, there are none.
        let func = tier.translate(&env, 2, &CompileOptions::default()).unwrap();
        assert!(
            !func
                .display()
                .to_string()
                .contains(&format!("+{}", offsets::INTERRUPT))
        );
    }
}
