//! The interpreter as the compiler under test of the kit's own tests.

use tierup_abi::{CompileError, CompileOptions, Compiled, Compiler, ModuleEnv, Tier};

pub use tierup_interp::Interp;

/// The interpreter, except for the functions `refuse` has a message for, which fail to
/// compile with it (and `refuse` may panic, as a broken compiler would).
#[allow(dead_code)] // only some test files refuse functions
pub struct Picky<F>(pub F);

impl<F: Fn(u32) -> Option<String> + Send + Sync> Compiler for Picky<F> {
    fn tier(&self) -> Tier {
        Tier::Interp
    }

    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        match (self.0)(func_index) {
            Some(message) => Err(CompileError(message)),
            None => Interp::default().compile(env, func_index, options),
        }
    }
}
