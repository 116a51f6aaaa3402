//! The bounds rule of WebAssembly's bulk operations, for every implementation of the
//! libcalls (the runtime's and the test kit's): a range is checked whole before anything
//! is written, so an operation that traps leaves memory and tables untouched.

use core::ops::Range;

/// `at .. at + len` if it lies within `0 .. bound` (without overflow).
pub fn range(at: usize, len: usize, bound: usize) -> Option<Range<usize>> {
    let end = at.checked_add(len)?;
    (end <= bound).then_some(at..end)
}

/// Copies `len` items starting at `src` of `from` to `dst` of `to`, as `memory.init`,
/// `table.init` and active segments do; returns `false`, having written nothing, if
/// either range is out of bounds.
pub fn copy_in<T: Copy>(from: &[T], to: &mut [T], dst: usize, src: usize, len: usize) -> bool {
    match (range(src, len, from.len()), range(dst, len, to.len())) {
        (Some(s), Some(d)) => {
            to[d].copy_from_slice(&from[s]);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_whole() {
        assert_eq!(range(2, 3, 5), Some(2..5));
        assert_eq!(range(2, 4, 5), None);
        assert_eq!(range(5, 0, 5), Some(5..5));
        assert_eq!(range(6, 0, 5), None);
        assert_eq!(range(usize::MAX, 2, usize::MAX), None);
    }

    #[test]
    fn a_copy_out_of_bounds_writes_nothing() {
        let mut to = [0u8; 4];
        assert!(!copy_in(&[1, 2, 3], &mut to, 2, 0, 3));
        assert_eq!(to, [0; 4]);
        assert!(!copy_in(&[1, 2, 3], &mut to, 0, 1, 3));
        assert_eq!(to, [0; 4]);
        assert!(copy_in(&[1, 2, 3], &mut to, 1, 1, 2));
        assert_eq!(to, [0, 2, 3, 0]);
    }
}
