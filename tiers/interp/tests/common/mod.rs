//! The interpreter as the tier under test of `tierup-testkit`: every test file builds its
//! instances with `Instance::new(Interp::default(), wat)`.

use tierup_testkit::Instance;

pub use tierup_interp::Interp;

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
