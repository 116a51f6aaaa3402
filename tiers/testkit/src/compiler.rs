//! The tier under test is a `tierup_abi::Compiler`; this module keeps what it makes alive
//! while the instance can run it ([`Code`]).
//!
//! The kit runs code that needs no machine-code runtime ([`Compiled::Owned`], the
//! interpreter's bytecode). Machine code needs executable memory, a signal handler and
//! the entry trampoline, which the runtime (`tierup`) provides: JIT tiers test their
//! execution through it, and the kit refuses their code with an error saying so.

use tierup_abi::{CompileOptions, Compiled, Compiler, FuncCode, ModuleEnv, OwnedCode};

/// The options the kit compiles with: its memories have no guard region.
pub(crate) const OPTIONS: CompileOptions = CompileOptions {
    bounds_checks: true,
    hotness_budget: None,
    count_calls: false,
    epoch_interruption: false,
    quick: false,
};

/// Code a tier made for one function, owned by the instance until it is dropped.
pub(crate) struct Code {
    owned: Box<dyn OwnedCode>,
}

impl Code {
    /// Compiles defined function `func_index` of `env` with `compiler`.
    pub(crate) fn compile(
        compiler: &dyn Compiler,
        env: &ModuleEnv,
        func_index: u32,
    ) -> Result<Code, String> {
        match compiler.compile(env, func_index, &OPTIONS) {
            Ok(Compiled::Owned(owned)) => Ok(Code { owned }),
            Ok(Compiled::Machine(_)) => Err(format!(
                "function {func_index} was compiled to machine code, which the test kit does \
                 not load (machine-code tiers run through the runtime)"
            )),
            Err(e) => Err(e.0),
        }
    }

    /// The code record to publish.
    pub(crate) fn record(&mut self) -> *const FuncCode {
        self.owned.record()
    }
}
