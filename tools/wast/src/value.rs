//! Script values: turning `.wast` arguments into [`Val`]s and matching results against
//! expected patterns (exact integers, floats by bits, `nan:canonical` / `nan:arithmetic`
//! per lane, references), plus the text used for both sides in failure reports.

use std::collections::HashMap;

use tierup::{ExternRef, Store, Val};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// The `ref.extern N` values of one script: the same `N` always yields the same reference,
/// so identity comparisons inside wasm see one object per number.
#[derive(Default)]
pub struct ExternRefs {
    refs: HashMap<u32, ExternRef>,
}

impl ExternRefs {
    /// The reference holding `n`, created on first use.
    pub fn get(&mut self, store: &mut Store<()>, n: u32) -> ExternRef {
        if let Some(r) = self.refs.get(&n) {
            return *r;
        }
        let r = ExternRef::new(&mut *store, n);
        self.refs.insert(n, r);
        r
    }
}

/// Converts a script argument to a value.
pub fn arg_to_val(
    arg: &WastArg<'_>,
    store: &mut Store<()>,
    externs: &mut ExternRefs,
) -> Result<Val, String> {
    let WastArg::Core(arg) = arg else {
        return Err("component-model argument".to_string());
    };
    Ok(match arg {
        WastArgCore::I32(x) => Val::I32(*x),
        WastArgCore::I64(x) => Val::I64(*x),
        WastArgCore::F32(x) => Val::F32(x.bits),
        WastArgCore::F64(x) => Val::F64(x.bits),
        WastArgCore::V128(x) => Val::V128(u128::from_le_bytes(x.to_le_bytes())),
        WastArgCore::RefNull(ty) => match null_kind(ty) {
            Some(RefKind::Func) => Val::FuncRef(None),
            Some(RefKind::Extern) => Val::ExternRef(None),
            None => return Err(format!("unsupported null reference type {ty:?}")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(externs.get(store, *n))),
        WastArgCore::RefHost(_) => return Err("unsupported argument ref.host".to_string()),
    })
}

/// The two reference hierarchies of WebAssembly 2.0.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Func,
    Extern,
}

fn null_kind(ty: &HeapType<'_>) -> Option<RefKind> {
    match ty {
        HeapType::Abstract { ty, .. } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Some(RefKind::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Some(RefKind::Extern),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `val` matches the expected result `ret`.
pub fn matches(ret: &WastRet<'_>, val: &Val, store: &Store<()>) -> bool {
    match ret {
        WastRet::Core(core) => matches_core(core, val, store),
        _ => false,
    }
}

fn matches_core(ret: &WastRetCore<'_>, val: &Val, store: &Store<()>) -> bool {
    match (ret, val) {
        (WastRetCore::I32(x), Val::I32(y)) => x == y,
        (WastRetCore::I64(x), Val::I64(y)) => x == y,
        (WastRetCore::F32(p), Val::F32(bits)) => f32_matches(p, *bits),
        (WastRetCore::F64(p), Val::F64(bits)) => f64_matches(p, *bits),
        (WastRetCore::V128(p), Val::V128(bits)) => v128_matches(p, *bits),
        (WastRetCore::RefNull(ty), Val::FuncRef(r)) => {
            r.is_none()
                && ty
                    .as_ref()
                    .is_none_or(|t| null_kind(t) == Some(RefKind::Func))
        }
        (WastRetCore::RefNull(ty), Val::ExternRef(r)) => {
            r.is_none()
                && ty
                    .as_ref()
                    .is_none_or(|t| null_kind(t) == Some(RefKind::Extern))
        }
        (WastRetCore::RefExtern(n), Val::ExternRef(Some(r))) => match n {
            None => true,
            Some(n) => r.data(store).downcast_ref::<u32>() == Some(n),
        },
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(cases), v) => cases.iter().any(|c| matches_core(c, v, store)),
        _ => false,
    }
}

fn f32_matches(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of width `bits` of a v128 value, zero-extended.
fn lane(v: u128, width: u32, i: u32) -> u128 {
    let mask = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    (v >> (width * i)) & mask
}

fn v128_matches(p: &V128Pattern, v: u128) -> bool {
    match p {
        V128Pattern::I8x16(l) => (0..16).all(|i| lane(v, 8, i) as u8 == l[i as usize] as u8),
        V128Pattern::I16x8(l) => (0..8).all(|i| lane(v, 16, i) as u16 == l[i as usize] as u16),
        V128Pattern::I32x4(l) => (0..4).all(|i| lane(v, 32, i) as u32 == l[i as usize] as u32),
        V128Pattern::I64x2(l) => (0..2).all(|i| lane(v, 64, i) as u64 == l[i as usize] as u64),
        V128Pattern::F32x4(l) => (0..4).all(|i| f32_matches(&l[i as usize], lane(v, 32, i) as u32)),
        V128Pattern::F64x2(l) => (0..2).all(|i| f64_matches(&l[i as usize], lane(v, 64, i) as u64)),
    }
}

/// A value as script text, floats with their bits (`f32.const 1.5 (0x3fc00000)`).
pub fn describe_val(val: &Val, store: &Store<()>) -> String {
    match val {
        Val::I32(x) => format!("i32.const {x}"),
        Val::I64(x) => format!("i64.const {x}"),
        Val::F32(b) => format!("f32.const {} (0x{b:08x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64.const {} (0x{b:016x})", f64::from_bits(*b)),
        Val::V128(b) => format!("v128.const i32x4 {}", v128_i32_lanes(*b)),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(r)) => match r.data(store).downcast_ref::<u32>() {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern (host value)".to_string(),
        },
    }
}

fn v128_i32_lanes(v: u128) -> String {
    (0..4)
        .map(|i| format!("0x{:08x}", lane(v, 32, i) as u32))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A list of values as script text.
pub fn describe_vals(vals: &[Val], store: &Store<()>) -> String {
    let items: Vec<String> = vals.iter().map(|v| describe_val(v, store)).collect();
    format!("[{}]", items.join(", "))
}

/// An expected result as script text.
pub fn describe_ret(ret: &WastRet<'_>) -> String {
    match ret {
        WastRet::Core(core) => describe_ret_core(core),
        _ => "(component value)".to_string(),
    }
}

/// A list of expected results as script text.
pub fn describe_rets(rets: &[WastRet<'_>]) -> String {
    let items: Vec<String> = rets.iter().map(describe_ret).collect();
    format!("[{}]", items.join(", "))
}

fn describe_f32(p: &NanPattern<wast::token::F32>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => format!("{} (0x{:08x})", f32::from_bits(v.bits), v.bits),
    }
}

fn describe_f64(p: &NanPattern<wast::token::F64>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => format!("{} (0x{:016x})", f64::from_bits(v.bits), v.bits),
    }
}

fn describe_ret_core(ret: &WastRetCore<'_>) -> String {
    match ret {
        WastRetCore::I32(x) => format!("i32.const {x}"),
        WastRetCore::I64(x) => format!("i64.const {x}"),
        WastRetCore::F32(p) => format!("f32.const {}", describe_f32(p)),
        WastRetCore::F64(p) => format!("f64.const {}", describe_f64(p)),
        WastRetCore::V128(p) => format!("v128.const {}", describe_v128(p)),
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(t)) => match null_kind(t) {
            Some(RefKind::Func) => "ref.null func".to_string(),
            Some(RefKind::Extern) => "ref.null extern".to_string(),
            None => format!("ref.null {t:?}"),
        },
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(cases) => {
            let items: Vec<String> = cases.iter().map(describe_ret_core).collect();
            format!("either({})", items.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

fn describe_v128(p: &V128Pattern) -> String {
    fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
        items
            .into_iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
    match p {
        V128Pattern::I8x16(l) => format!("i8x16 {}", join(l)),
        V128Pattern::I16x8(l) => format!("i16x8 {}", join(l)),
        V128Pattern::I32x4(l) => format!("i32x4 {}", join(l)),
        V128Pattern::I64x2(l) => format!("i64x2 {}", join(l)),
        V128Pattern::F32x4(l) => format!("f32x4 {}", join(l.iter().map(describe_f32))),
        V128Pattern::F64x2(l) => format!("f64x2 {}", join(l.iter().map(describe_f64))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns() {
        let canon = NanPattern::<wast::token::F32>::CanonicalNan;
        let arith = NanPattern::<wast::token::F32>::ArithmeticNan;
        assert!(f32_matches(&canon, 0x7fc0_0000));
        assert!(f32_matches(&canon, 0xffc0_0000));
        assert!(!f32_matches(&canon, 0x7fc0_0001));
        assert!(f32_matches(&arith, 0x7fc0_0001));
        assert!(!f32_matches(&arith, 0x7f80_0001));
        let canon = NanPattern::<wast::token::F64>::CanonicalNan;
        assert!(f64_matches(&canon, 0xfff8_0000_0000_0000));
        assert!(!f64_matches(&canon, 0x7ff0_0000_0000_0001));
    }

    #[test]
    fn lanes() {
        let v = u128::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(lane(v, 8, 0), 1);
        assert_eq!(lane(v, 8, 15), 16);
        assert_eq!(lane(v, 16, 1), 0x0403);
        assert_eq!(lane(v, 64, 1), 0x100f_0e0d_0c0b_0a09);
        assert!(v128_matches(
            &V128Pattern::I32x4([0x04030201, 0x08070605, 0x0c0b0a09, 0x100f0e0d]),
            v
        ));
    }
}
