//! The interpreter as the tier under test of `tierup-testkit`: every test file builds its
//! instances with `Instance::new(interp, wat)`.

use std::sync::Arc;

use tierup_abi::ModuleEnv;
use tierup_testkit::Compiled;

/// Translates one function with `tierup_interp::translate`, for the kit to publish.
pub fn interp(env: &Arc<ModuleEnv>, func_index: u32) -> Result<Compiled, String> {
    let func = Box::new(tierup_interp::translate(env, func_index).map_err(|e| e.to_string())?);
    let code = func.code();
    // SAFETY: `code` is the record inside the boxed function, which `Compiled` owns; moving
    // the box does not move the function. The interpreter's array entry honours the
    // contract for the function it translated.
    Ok(unsafe { Compiled::new(func, code) })
}
