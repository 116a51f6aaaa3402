//! The tiers the runtime is built with, as `tierup_abi::Compiler`s. The rest of the
//! runtime knows no tier's types: it asks a compiler for code and loads what it gets.

use tierup_abi::{CompileError, CompileOptions, Compiled, Compiler, ModuleEnv, Tier};

use crate::Result;

/// The interpreter tier. A function is translated in the compact register form
/// (`tierup-interp`, 16-bit register operands) where it fits, and in the wide form
/// (`tierup-interp-wide`: the same interpreter with 32-bit operands) where it needs more
/// registers than 16 bits name: its locals, distinct constants and operand stack together
/// beyond 32,767 (a function with 50,000 locals, which the JS API's limits allow). The two
/// forms call each other through their array entries, like any two tiers.
pub(crate) struct Interpreter {
    compact: tierup_interp::Interp,
    wide: tierup_interp_wide::Interp,
    /// Every function in the wide form (`Config::wide_interpreter`, for its tests).
    wide_only: bool,
}

impl Interpreter {
    /// An interpreter whose functions report themselves hot every `budget` instructions
    /// of work, or never.
    pub(crate) fn new(budget: Option<u32>, wide_only: bool) -> Interpreter {
        let (compact, wide) = match budget {
            Some(b) => (
                tierup_interp::Interp::with_budget(b),
                tierup_interp_wide::Interp::with_budget(b),
            ),
            None => Default::default(),
        };
        Interpreter {
            compact,
            wide,
            wide_only,
        }
    }
}

impl Compiler for Interpreter {
    fn tier(&self) -> Tier {
        Tier::Interp
    }

    /// Translates the function in the compact form, or in the wide one where the compact
    /// form's registers do not reach (a translation of such a function stops where the
    /// registers run out, and starts again in the wide form).
    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        if !self.wide_only {
            match self.compact.translate(env, func_index, options) {
                Ok(func) => return Ok(Compiled::Owned(Box::new(func))),
                Err(e) if !e.beyond_registers() => return Err(CompileError(e.to_string())),
                Err(_) => {}
            }
        }
        self.wide.compile(env, func_index, options)
    }
}

/// The baseline tier for this host (an error where the CPU lacks what its code needs).
pub(crate) fn baseline() -> Result<Box<dyn Compiler>> {
    let tier = tierup_baseline::Baseline::new()
        .map_err(|e| anyhow::anyhow!("cannot set up the baseline tier for this host: {e}"))?;
    Ok(Box::new(tier))
}

/// The optimizing tier for this host.
pub(crate) fn optimizing() -> Result<Box<dyn Compiler>> {
    let tier = tierup_optimizing::Optimizing::new()
        .map_err(|e| anyhow::anyhow!("cannot set up the optimizing tier for this host: {e}"))?;
    Ok(Box::new(tier))
}
