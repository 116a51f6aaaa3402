//! Epoch checks (`CompileOptions::epoch_interruption`): at the function's entry and at
//! every loop header, the code tests its context's interrupt word (`VmContext::
//! interrupt`, which the runtime sets when the epoch reaches the store's deadline), one
//! instruction and a branch off the context register:
//!
//! ```text
//! cmp  qword [vmctx + interrupt], 0
//! jne  stub
//! ```
//!
//! A loop header's stub calls the `epoch` libcall, which traps or lets the code go on (the
//! embedder may have moved the deadline), raises the status of a trap, and jumps back:
//! every value is in its slot there (after the merge) and no register keeps a copy of a
//! local past the check. The entry's check comes before the parameters are stored, where
//! they are still in their registers: its stub calls `epoch_preserving`, which keeps
//! every register and raises a trap itself, with the context in the first argument
//! register, whose parameter (the slot) it then takes back from the slot register. A
//! trap there belongs to the point's wasm instruction (the `loop`, or the function's first
//! instruction), so the frame shows in backtraces.

use super::*;

/// The out-of-line part of one epoch check.
#[derive(Debug)]
pub(crate) struct EpochStub {
    /// Where the check jumps when the deadline has passed.
    stub: Label,
    /// Where the code goes on.
    back: Label,
    /// The wasm instruction the check belongs to, `None` for the entry's (the function's
    /// first instruction, known once it was read).
    at: Option<u32>,
}

impl<M: Masm> CodeGen<'_, M> {
    /// An epoch check here, where the options ask for one: a loop header's (`at` its
    /// offset), or with `None` the entry's, right after the pinned registers are set.
    pub(super) fn check_epoch(&mut self, at: Option<u32>) {
        if !self.epoch_checks {
            return;
        }
        self.m
            .cmp_mem_imm(Size::S64, Addr::Base(M::VMCTX, vm::INTERRUPT as i32), 0);
        let (stub, back) = (self.m.new_label(), self.m.new_label());
        self.m.jcc(Cond::Ne, stub);
        if at.is_some() {
            // The stub calls out: no register keeps a local's copy across the check.
            self.bind_merge(back);
        } else {
            // Nothing is in registers yet but the parameters, which the stub keeps.
            self.m.bind(back);
        }
        self.epoch_stubs.push(EpochStub { stub, back, at });
    }

    /// Emits the stubs of the epoch checks, after the body.
    pub(super) fn emit_epoch_stubs(&mut self) {
        let first = self
            .wasm_map
            .iter()
            .map(|l| l.wasm_offset)
            .find(|&o| o != SourceLoc::NONE)
            .unwrap_or(SourceLoc::NONE);
        for s in std::mem::take(&mut self.epoch_stubs) {
            self.wasm_map.push(SourceLoc {
                code_offset: self.m.offset(),
                wasm_offset: s.at.unwrap_or(first),
            });
            self.m.bind(s.stub);
            self.m.mov(Size::S64, M::ARG_GPRS[0], M::VMCTX);
            if s.at.is_none() {
                self.m.load(
                    Size::S64,
                    M::SCRATCH,
                    Addr::Base(M::VMCTX, vm::LIBCALLS as i32),
                );
                self.m.call_mem(Addr::Base(
                    M::SCRATCH,
                    libcall_offsets::EPOCH_PRESERVING as i32,
                ));
                // The first parameter, the slot, is in the slot register too.
                self.m.mov(Size::S64, M::ARG_GPRS[0], M::SLOT);
                self.m.jmp(s.back);
                continue;
            }
            self.m.load(
                Size::S64,
                M::SCRATCH,
                Addr::Base(M::VMCTX, vm::LIBCALLS as i32),
            );
            self.m
                .call_mem(Addr::Base(M::SCRATCH, libcall_offsets::EPOCH as i32));
            self.raise_failed_status(s.back);
        }
    }
}
