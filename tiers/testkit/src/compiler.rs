//! The tier under test: [`Compiler`] turns one function of a module into code, and
//! [`Compiled`] keeps that code alive while the instance can run it.

use std::any::Any;
use std::sync::Arc;

use tierup_abi::{FuncCode, ModuleEnv};

/// Code a tier made for one function: a value that owns it and the [`FuncCode`] record to
/// publish into the function's entry slot.
pub struct Compiled {
    code: *const FuncCode,
    /// Dropped after the instance's last use of `code` (the kit keeps every `Compiled`
    /// until the instance is dropped).
    _owner: Box<dyn Any>,
}

impl Compiled {
    /// Code whose record is `code`, kept alive by `owner`.
    ///
    /// # Safety
    ///
    /// `code` must point at a valid [`FuncCode`] that stays valid, unchanged and at the same
    /// address for as long as `owner` lives, also when `owner` is moved (the record lies in
    /// a heap allocation `owner` owns, or in static memory). Its array entry must honour the
    /// `tierup_abi::ArrayEntry` contract for the function it was compiled for.
    pub unsafe fn new<T: Any>(owner: T, code: *const FuncCode) -> Compiled {
        Compiled {
            code,
            _owner: Box::new(owner),
        }
    }

    /// The code record.
    pub fn code(&self) -> *const FuncCode {
        self.code
    }
}

impl core::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compiled")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// A tier as the kit sees it: a compiler from a defined function of a module to code.
///
/// The interpreter's tests implement it with `tierup_interp::translate`; a JIT tier's with
/// its own compiler. Any `Fn(&Arc<ModuleEnv>, u32) -> Result<Compiled, String>` is one.
pub trait Compiler {
    /// Compiles the defined function `func_index` of `env`'s module, or says why it cannot.
    fn compile(&self, env: &Arc<ModuleEnv>, func_index: u32) -> Result<Compiled, String>;
}

impl<F> Compiler for F
where
    F: Fn(&Arc<ModuleEnv>, u32) -> Result<Compiled, String>,
{
    fn compile(&self, env: &Arc<ModuleEnv>, func_index: u32) -> Result<Compiled, String> {
        self(env, func_index)
    }
}
