//! The interpreter as the tier under test of `tierup-testkit`: every test file builds its
//! instances with `Instance::new(interp, wat)`.

use std::sync::Arc;

use tierup_abi::ModuleEnv;
use tierup_testkit::{Compiled, Instance};

/// Translates one function with `tierup_interp::translate`, for the kit to publish.
pub fn interp(env: &Arc<ModuleEnv>, func_index: u32) -> Result<Compiled, String> {
    let func = Box::new(tierup_interp::translate(env, func_index).map_err(|e| e.to_string())?);
    let code = func.code();
    // SAFETY: `code` is the record inside the boxed function, which `Compiled` owns; moving
    // the box does not move the function. The interpreter's array entry honours the
    // contract for the function it translated.
    Ok(unsafe { Compiled::new(func, code) })
}

/// The module offset of the first operator of function `func` that `is` picks.
#[allow(dead_code)] // not every test file reads offsets
pub fn offset_of(i: &Instance, func: u32, is: impl Fn(&wasmparser::Operator<'_>) -> bool) -> u32 {
    let mut ops = i
        .env()
        .body_reader(func)
        .unwrap()
        .get_operators_reader()
        .unwrap();
    loop {
        let (op, at) = ops.read_with_offset().unwrap();
        if is(&op) {
            return at as u32;
        }
    }
}
