//! The interpreter as the compiler under test of the kit's own tests.

use std::sync::Arc;

use tierup_abi::ModuleEnv;
use tierup_testkit::Compiled;

/// Translates one function with `tierup_interp::translate`.
pub fn interp(env: &Arc<ModuleEnv>, func_index: u32) -> Result<Compiled, String> {
    let func = Box::new(tierup_interp::translate(env, func_index).map_err(|e| e.to_string())?);
    let code = func.code();
    // SAFETY: `code` is the record inside the boxed function, which `Compiled` owns; moving
    // the box does not move the function. The interpreter's array entry honours the
    // contract for the function it translated.
    Ok(unsafe { Compiled::new(func, code) })
}
