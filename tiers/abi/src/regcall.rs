//! The register calling convention of calls between JIT code: where each parameter and
//! result of a function's register entry lies ([`locate`]).
//!
//! The convention is the System V AMD64 C calling convention (`extern "sysv64"`) of the
//! function
//!
//! ```text
//! fn(callee: *const FuncEntry, caller: *mut VmContext, [results: *mut ValRaw,] params...) -> [result]
//! ```
//!
//! * `callee` is the slot the call went through (the callee's own context is one load away,
//!   `callee.vmctx`); an adapter needs the slot itself to call the array entry of what it
//!   holds. `caller` is the calling instance's context (host functions reach the caller's
//!   memory through it).
//! * With two or more results, a third pointer argument points at one 16-byte cell per
//!   result ([`crate::ValRaw`] layout), where the callee writes them; nothing is returned
//!   in registers. With one result, an integer or reference comes back in `rax`, a float or
//!   `v128` in `xmm0`.
//! * Parameters follow in order: `i32`, `i64` and references take the next of `rdi`, `rsi`,
//!   `rdx`, `rcx`, `r8`, `r9` (the pointer arguments come first), `f32`, `f64` and `v128`
//!   the next of `xmm0`..`xmm7`; the rest go on the stack, in order, from the stack pointer
//!   at the call, 8 bytes each and 16 bytes, 16-aligned, for a `v128`. The caller owns
//!   and pops that area.
//!
//! Being the C convention, it is what Cranelift's `SystemV` calling convention produces for
//! this signature, what a hand-written code generator can follow with this function, and
//! what a Rust `extern "sysv64"` function of the same signature accepts, which is how the
//! tests check it. Wasm tail calls (`return_call`) need a callee-popped stack area; they
//! will get an entry of their own rather than change this one.

use wasmparser::ValType;

/// A general-purpose argument register, by its position in [`ARG_GPRS`].
pub type Gpr = u8;

/// The integer argument registers in order (hardware register numbers: `rdi`=7, `rsi`=6,
/// `rdx`=2, `rcx`=1, `r8`=8, `r9`=9).
pub const ARG_GPRS: [u8; 6] = [7, 6, 2, 1, 8, 9];

/// The number of `xmm` argument registers (`xmm0`..`xmm7`).
pub const ARG_XMMS: u8 = 8;

/// Where one value lies at the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// In the integer argument register `ARG_GPRS[n]`.
    Gpr(Gpr),
    /// In `xmm{n}`.
    Xmm(u8),
    /// On the stack, this many bytes above the stack pointer at the call instruction
    /// (8 bytes more at the callee's first instruction, past the return address).
    Stack(u32),
    /// The result returned in `rax`.
    Rax,
    /// The result returned in `xmm0`.
    Xmm0,
    /// The result cell at this byte offset of the results area.
    Area(u32),
}

/// The locations of a register entry's arguments and results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The callee slot pointer (always `rdi`).
    pub callee: Loc,
    /// The caller context pointer (always `rsi`).
    pub caller: Loc,
    /// The results-area pointer (`rdx`) when there are two or more results.
    pub results_area: Option<Loc>,
    /// Each wasm parameter.
    pub params: Vec<Loc>,
    /// Each wasm result.
    pub results: Vec<Loc>,
    /// The bytes of stack arguments (a multiple of 16, so the stack stays aligned).
    pub stack_bytes: u32,
}

/// Whether a value of type `ty` travels in an `xmm` register.
pub fn is_float(ty: ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64 | ValType::V128)
}

/// The locations of the arguments and results of a register entry of type
/// `params -> results`.
pub fn locate(params: &[ValType], results: &[ValType]) -> Layout {
    let mut layout = Layout {
        callee: Loc::Gpr(0),
        caller: Loc::Gpr(1),
        results_area: None,
        params: Vec::new(),
        results: Vec::new(),
        stack_bytes: 0,
    };
    layout.locate(params, results);
    layout
}

impl Layout {
    /// Makes this the layout of type `params -> results` ([`locate`]), reusing its
    /// vectors: a compiler that lays out every call keeps one.
    pub fn locate(&mut self, params: &[ValType], results: &[ValType]) {
        let mut gpr: u8 = 0;
        let mut xmm: u8 = 0;
        let mut stack: u32 = 0;
        let next_gpr = |gpr: &mut u8| {
            let r = *gpr;
            *gpr += 1;
            r
        };
        let callee = Loc::Gpr(next_gpr(&mut gpr));
        let caller = Loc::Gpr(next_gpr(&mut gpr));
        let results_area = (results.len() > 1).then(|| Loc::Gpr(next_gpr(&mut gpr)));
        self.params.clear();
        self.params.extend(params.iter().map(|&ty| {
            if is_float(ty) {
                if xmm < ARG_XMMS {
                    xmm += 1;
                    return Loc::Xmm(xmm - 1);
                }
            } else if (gpr as usize) < ARG_GPRS.len() {
                return Loc::Gpr(next_gpr(&mut gpr));
            }
            let size = if ty == ValType::V128 { 16 } else { 8 };
            stack = stack.next_multiple_of(size);
            let at = stack;
            stack += size;
            Loc::Stack(at)
        }));
        self.results.clear();
        match results {
            [] => {}
            [ty] if is_float(*ty) => self.results.push(Loc::Xmm0),
            [_] => self.results.push(Loc::Rax),
            many => self
                .results
                .extend((0..many.len() as u32).map(|i| Loc::Area(i * 16))),
        }
        self.callee = callee;
        self.caller = caller;
        self.results_area = results_area;
        self.stack_bytes = stack.next_multiple_of(16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValType::*;

    #[test]
    fn registers_then_stack() {
        let l = locate(&[I32, F64, I64, I64, I64, I64, I32, F32], &[I32]);
        assert_eq!(l.callee, Loc::Gpr(0));
        assert_eq!(l.caller, Loc::Gpr(1));
        assert_eq!(l.results_area, None);
        assert_eq!(
            l.params,
            [
                Loc::Gpr(2),
                Loc::Xmm(0),
                Loc::Gpr(3),
                Loc::Gpr(4),
                Loc::Gpr(5),
                Loc::Stack(0),
                Loc::Stack(8),
                Loc::Xmm(1)
            ]
        );
        assert_eq!(l.results, [Loc::Rax]);
        assert_eq!(l.stack_bytes, 16);
    }

    #[test]
    fn results_area_takes_a_register() {
        let l = locate(&[I32], &[I32, F32]);
        assert_eq!(l.results_area, Some(Loc::Gpr(2)));
        assert_eq!(l.params, [Loc::Gpr(3)]);
        assert_eq!(l.results, [Loc::Area(0), Loc::Area(16)]);
        assert_eq!(locate(&[], &[V128]).results, [Loc::Xmm0]);
    }

    #[test]
    fn vectors_on_the_stack_are_aligned() {
        let params = [V128; 10];
        let mut with_i64 = vec![I64; 5];
        with_i64.extend(params);
        let l = locate(&with_i64, &[]);
        // Four i64 in registers, the fifth at 0, then two v128 past the eight xmm.
        assert_eq!(l.params[4], Loc::Stack(0));
        assert_eq!(l.params[13], Loc::Stack(16));
        assert_eq!(l.params[14], Loc::Stack(32));
        assert_eq!(l.stack_bytes, 48);
    }
}
