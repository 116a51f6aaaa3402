//! Command-line values: parsing `tierup run` arguments by parameter type (integers in
//! decimal or `0x` hex, floats in any WebAssembly text syntax: decimal, hex, `inf`, `nan`,
//! `nan:0x...`; a v128 as `0x` and 32 hex digits, as lanes with a shape such as
//! `i32x4 1 2 3 4`, or as four i32 lanes) and printing results (shortest round-trip
//! floats, NaN payloads visible, a v128 as its four i32 lanes in hex).

use tierup::{Val, ValType};
use wast::parser::{self, Parse, ParseBuffer};

/// Parses one argument as a value of type `ty`.
pub fn parse_arg(text: &str, ty: ValType) -> Result<Val, String> {
    let bad = |what: &str| format!("invalid {ty} argument `{text}`: {what}");
    match ty {
        ValType::I32 => parse_token::<i32>(text).map(Val::I32).map_err(|e| bad(&e)),
        ValType::I64 => parse_token::<i64>(text).map(Val::I64).map_err(|e| bad(&e)),
        ValType::F32 => parse_token::<wast::token::F32>(text)
            .map(|f| Val::F32(f.bits))
            .map_err(|e| bad(&e)),
        ValType::F64 => parse_token::<wast::token::F64>(text)
            .map(|f| Val::F64(f.bits))
            .map_err(|e| bad(&e)),
        ValType::V128 => parse_v128(text).map(Val::V128).map_err(|e| bad(&e)),
        ValType::FuncRef if is_null(text) => Ok(Val::FuncRef(None)),
        ValType::ExternRef if is_null(text) => Ok(Val::ExternRef(None)),
        ValType::FuncRef | ValType::ExternRef => Err(bad("only `null` can be passed")),
    }
}

/// A v128 argument: `0x` and up to 32 hex digits (the whole vector), lanes after a shape
/// keyword as in `v128.const` (`i8x16`, `i16x8`, `i32x4`, `i64x2`, `f32x4`, `f64x2`), or
/// four i32 lanes without one (the form results are printed in).
fn parse_v128(text: &str) -> Result<u128, String> {
    let text = text.trim();
    let shapes = ["i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2"];
    let lanes_text = if shapes.iter().any(|s| text.starts_with(s)) {
        text.to_string()
    } else if text.split_whitespace().count() == 4 {
        format!("i32x4 {text}")
    } else {
        let digits = text
            .strip_prefix("0x")
            .ok_or("expected 0x and up to 32 hex digits, or lanes such as `i32x4 1 2 3 4`")?;
        return u128::from_str_radix(&digits.replace('_', ""), 16).map_err(|e| e.to_string());
    };
    let c = parse_token::<wast::core::V128Const>(&lanes_text)?;
    Ok(u128::from_le_bytes(c.to_le_bytes()))
}

fn is_null(text: &str) -> bool {
    matches!(text, "null" | "ref.null")
}

/// Parses `text` as exactly one token of the WebAssembly text format.
fn parse_token<T: for<'a> Parse<'a>>(text: &str) -> Result<T, String> {
    // A leading `+` or `-` is part of the token in the text format, so plain numbers,
    // `0x` hex, `inf`, `nan` and `nan:0x...` all parse as they do in a `.wat` file.
    let buf = ParseBuffer::new(text).map_err(|e| e.message())?;
    parser::parse::<T>(&buf).map_err(|e| e.message())
}

/// Formats a result value for printing.
pub fn format_val(val: &Val) -> String {
    match val {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(bits) => format_f32(*bits),
        Val::F64(bits) => format_f64(*bits),
        Val::V128(bits) => format_v128(*bits),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(_)) => "ref.extern".to_string(),
    }
}

/// A v128 as its four i32 lanes in hex, lowest lane first (`0x00000001 0x00000002 ...`).
pub fn format_v128(bits: u128) -> String {
    (0..4)
        .map(|i| format!("0x{:08x}", (bits >> (32 * i)) as u32))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shortest round-trip decimal (with an exponent for very large or small magnitudes);
/// NaNs as `nan` (canonical) or `nan:0x<payload>`, with their sign.
pub fn format_f32(bits: u32) -> String {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        format_nan(bits >> 31 != 0, u64::from(bits & 0x007f_ffff), 0x0040_0000)
    } else if use_exponent(f64::from(f)) {
        format!("{f:e}")
    } else {
        f.to_string()
    }
}

/// Shortest round-trip decimal (with an exponent for very large or small magnitudes);
/// NaNs as `nan` (canonical) or `nan:0x<payload>`, with their sign.
pub fn format_f64(bits: u64) -> String {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        format_nan(
            bits >> 63 != 0,
            bits & 0x000f_ffff_ffff_ffff,
            0x0008_0000_0000_0000,
        )
    } else if use_exponent(f) {
        format!("{f:e}")
    } else {
        f.to_string()
    }
}

/// Whether a finite, non-zero magnitude is printed with an exponent (as JavaScript does:
/// from 1e21 up and below 1e-6).
fn use_exponent(f: f64) -> bool {
    let a = f.abs();
    a.is_finite() && a != 0.0 && !(1e-6..1e21).contains(&a)
}

fn format_nan(negative: bool, payload: u64, canonical: u64) -> String {
    let sign = if negative { "-" } else { "" };
    if payload == canonical {
        format!("{sign}nan")
    } else {
        format!("{sign}nan:0x{payload:x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str, ty: ValType) -> Option<Val> {
        parse_arg(text, ty).ok()
    }

    #[test]
    fn integers() {
        assert!(matches!(arg("42", ValType::I32), Some(Val::I32(42))));
        assert!(matches!(arg("-7", ValType::I32), Some(Val::I32(-7))));
        assert!(matches!(
            arg("0xffffffff", ValType::I32),
            Some(Val::I32(-1))
        ));
        assert!(matches!(arg("0x10", ValType::I64), Some(Val::I64(16))));
        assert!(arg("4294967296", ValType::I32).is_none());
        assert!(arg("1.5", ValType::I32).is_none());
        assert!(arg("", ValType::I32).is_none());
    }

    #[test]
    fn floats() {
        assert!(matches!(arg("1.5", ValType::F32), Some(Val::F32(b)) if b == 1.5f32.to_bits()));
        assert!(
            matches!(arg("-inf", ValType::F64), Some(Val::F64(b)) if b == f64::NEG_INFINITY.to_bits())
        );
        assert!(matches!(
            arg("nan", ValType::F32),
            Some(Val::F32(0x7fc0_0000))
        ));
        assert!(matches!(
            arg("nan:0x200000", ValType::F32),
            Some(Val::F32(0x7fa0_0000))
        ));
        assert!(matches!(arg("0x1p-1", ValType::F64), Some(Val::F64(b)) if b == 0.5f64.to_bits()));
        assert!(matches!(arg("3", ValType::F64), Some(Val::F64(b)) if b == 3.0f64.to_bits()));
    }

    #[test]
    fn v128_round_trip() {
        let v = 0x0000_0004_0000_0003_0000_0002_0000_0001u128;
        assert_eq!(
            format_val(&Val::V128(v)),
            "0x00000001 0x00000002 0x00000003 0x00000004"
        );
        assert!(matches!(arg("i32x4 1 2 3 4", ValType::V128), Some(Val::V128(x)) if x == v));
        assert!(matches!(arg("1 2 3 4", ValType::V128), Some(Val::V128(x)) if x == v));
        let printed = format_v128(v);
        assert!(matches!(arg(&printed, ValType::V128), Some(Val::V128(x)) if x == v));
        assert!(matches!(
            arg("0x0000000400000003_0000000200000001", ValType::V128),
            Some(Val::V128(x)) if x == v
        ));
        assert!(
            matches!(arg("i64x2 -1 0", ValType::V128), Some(Val::V128(x)) if x == u64::MAX as u128)
        );
        assert!(arg("1 2 3", ValType::V128).is_none());
        assert!(arg("i32x4 1 2", ValType::V128).is_none());
    }

    #[test]
    fn printing() {
        assert_eq!(format_f32(0.1f32.to_bits()), "0.1");
        assert_eq!(format_f64(f64::INFINITY.to_bits()), "inf");
        assert_eq!(format_f64((-0.0f64).to_bits()), "-0");
        assert_eq!(format_f32(0x7fc0_0000), "nan");
        assert_eq!(format_f32(0xffa0_0000), "-nan:0x200000");
        assert_eq!(format_f64(0x7ff0_0000_0000_0001), "nan:0x1");
        assert_eq!(format_val(&Val::I32(-3)), "-3");
        assert_eq!(format_f64(1e300f64.to_bits()), "1e300");
        assert_eq!(format_f64((-2.5e-10f64).to_bits()), "-2.5e-10");
        assert_eq!(format_f32(1e20f32.to_bits()), "100000000000000000000");
        assert_eq!(format_f32(f32::MAX.to_bits()), "3.4028235e38");
    }
}
