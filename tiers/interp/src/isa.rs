//! The register bytecode: one table ([`for_each_op!`]) lists every numeric, compare,
//! load and store instruction once (scalar, and v128 in the groups after `store`); it generates the [`Instr`] enum, the executor's match
//! arms and the translator's operator mapping. Control, call, memory-management, table and
//! global instructions are written out in [`define_instr!`]'s invocation below.

use tierup_abi::TrapCode;

/// A register index relative to the frame pointer. Negative indices are the function's
/// constants, `0..num_locals` its parameters and locals, the rest operand-stack temporaries.
pub type Reg = i16;

/// Calls `$cb! { ($($args)*) tables... }` with the instruction table.
///
/// Types in the table are the Rust types the operands are read as (see `num::Bits`); the
/// functions take those and return the result (`Result` for trapping operators). Variant
/// names equal `wasmparser::Operator` names, so the translator maps them mechanically.
macro_rules! for_each_op {
    ($cb:ident ! ( $($args:tt)* )) => {
        $cb! { ( $($args)* )
        binary {
            I32Add / I32AddImm(u32, u32) -> u32 = |a, b| a.wrapping_add(b);
            I32Sub / I32SubImm(u32, u32) -> u32 = |a, b| a.wrapping_sub(b);
            I32Mul / I32MulImm(u32, u32) -> u32 = |a, b| a.wrapping_mul(b);
            I32And / I32AndImm(u32, u32) -> u32 = |a, b| a & b;
            I32Or / I32OrImm(u32, u32) -> u32 = |a, b| a | b;
            I32Xor / I32XorImm(u32, u32) -> u32 = |a, b| a ^ b;
            I32Shl / I32ShlImm(u32, u32) -> u32 = |a, b| a.wrapping_shl(b);
            I32ShrS / I32ShrSImm(i32, u32) -> i32 = |a, b| a.wrapping_shr(b);
            I32ShrU / I32ShrUImm(u32, u32) -> u32 = |a, b| a.wrapping_shr(b);
            I32Rotl / I32RotlImm(u32, u32) -> u32 = |a, b| a.rotate_left(b & 31);
            I32Rotr / I32RotrImm(u32, u32) -> u32 = |a, b| a.rotate_right(b & 31);
            I64Add / I64AddImm(u64, u64) -> u64 = |a, b| a.wrapping_add(b);
            I64Sub / I64SubImm(u64, u64) -> u64 = |a, b| a.wrapping_sub(b);
            I64Mul / I64MulImm(u64, u64) -> u64 = |a, b| a.wrapping_mul(b);
            I64And / I64AndImm(u64, u64) -> u64 = |a, b| a & b;
            I64Or / I64OrImm(u64, u64) -> u64 = |a, b| a | b;
            I64Xor / I64XorImm(u64, u64) -> u64 = |a, b| a ^ b;
            I64Shl / I64ShlImm(u64, u64) -> u64 = |a, b| a.wrapping_shl(b as u32);
            I64ShrS / I64ShrSImm(i64, u64) -> i64 = |a, b| a.wrapping_shr(b as u32);
            I64ShrU / I64ShrUImm(u64, u64) -> u64 = |a, b| a.wrapping_shr(b as u32);
            I64Rotl / I64RotlImm(u64, u64) -> u64 = |a, b| a.rotate_left((b & 63) as u32);
            I64Rotr / I64RotrImm(u64, u64) -> u64 = |a, b| a.rotate_right((b & 63) as u32);
            F32Add / F32AddImm(f32, f32) -> f32 = |a, b| a + b;
            F32Sub / F32SubImm(f32, f32) -> f32 = |a, b| a - b;
            F32Mul / F32MulImm(f32, f32) -> f32 = |a, b| a * b;
            F32Div / F32DivImm(f32, f32) -> f32 = |a, b| a / b;
            F32Min / F32MinImm(f32, f32) -> f32 = crate::num::f32_min;
            F32Max / F32MaxImm(f32, f32) -> f32 = crate::num::f32_max;
            F32Copysign / F32CopysignImm(f32, f32) -> f32 = crate::num::f32_copysign;
            F64Add / F64AddImm(f64, f64) -> f64 = |a, b| a + b;
            F64Sub / F64SubImm(f64, f64) -> f64 = |a, b| a - b;
            F64Mul / F64MulImm(f64, f64) -> f64 = |a, b| a * b;
            F64Div / F64DivImm(f64, f64) -> f64 = |a, b| a / b;
            F64Min / F64MinImm(f64, f64) -> f64 = crate::num::f64_min;
            F64Max / F64MaxImm(f64, f64) -> f64 = crate::num::f64_max;
            F64Copysign / F64CopysignImm(f64, f64) -> f64 = crate::num::f64_copysign;
        }
        binary_trap {
            I32DivS / I32DivSImm(i32, i32) -> i32 = crate::num::i32_div_s;
            I32DivU / I32DivUImm(u32, u32) -> u32 = crate::num::i32_div_u;
            I32RemS / I32RemSImm(i32, i32) -> i32 = crate::num::i32_rem_s;
            I32RemU / I32RemUImm(u32, u32) -> u32 = crate::num::i32_rem_u;
            I64DivS / I64DivSImm(i64, i64) -> i64 = crate::num::i64_div_s;
            I64DivU / I64DivUImm(u64, u64) -> u64 = crate::num::i64_div_u;
            I64RemS / I64RemSImm(i64, i64) -> i64 = crate::num::i64_rem_s;
            I64RemU / I64RemUImm(u64, u64) -> u64 = crate::num::i64_rem_u;
        }
        unary {
            I32Clz(u32) -> u32 = |a| a.leading_zeros();
            I32Ctz(u32) -> u32 = |a| a.trailing_zeros();
            I32Popcnt(u32) -> u32 = |a| a.count_ones();
            I64Clz(u64) -> u64 = |a| a.leading_zeros() as u64;
            I64Ctz(u64) -> u64 = |a| a.trailing_zeros() as u64;
            I64Popcnt(u64) -> u64 = |a| a.count_ones() as u64;
            F32Abs(f32) -> f32 = crate::num::f32_abs;
            F32Neg(f32) -> f32 = crate::num::f32_neg;
            F32Ceil(f32) -> f32 = |a| crate::num::quiet_f32(a.ceil());
            F32Floor(f32) -> f32 = |a| crate::num::quiet_f32(a.floor());
            F32Trunc(f32) -> f32 = |a| crate::num::quiet_f32(a.trunc());
            F32Nearest(f32) -> f32 = |a| crate::num::quiet_f32(a.round_ties_even());
            F32Sqrt(f32) -> f32 = |a| a.sqrt();
            F64Abs(f64) -> f64 = crate::num::f64_abs;
            F64Neg(f64) -> f64 = crate::num::f64_neg;
            F64Ceil(f64) -> f64 = |a| crate::num::quiet_f64(a.ceil());
            F64Floor(f64) -> f64 = |a| crate::num::quiet_f64(a.floor());
            F64Trunc(f64) -> f64 = |a| crate::num::quiet_f64(a.trunc());
            F64Nearest(f64) -> f64 = |a| crate::num::quiet_f64(a.round_ties_even());
            F64Sqrt(f64) -> f64 = |a| a.sqrt();
            I32WrapI64(u64) -> u32 = |a| a as u32;
            I64ExtendI32S(i32) -> i64 = |a| a as i64;
            I64ExtendI32U(u32) -> u64 = |a| a as u64;
            I32Extend8S(u32) -> i32 = |a| a as i8 as i32;
            I32Extend16S(u32) -> i32 = |a| a as i16 as i32;
            I64Extend8S(u64) -> i64 = |a| a as i8 as i64;
            I64Extend16S(u64) -> i64 = |a| a as i16 as i64;
            I64Extend32S(u64) -> i64 = |a| a as i32 as i64;
            F32ConvertI32S(i32) -> f32 = |a| a as f32;
            F32ConvertI32U(u32) -> f32 = |a| a as f32;
            F32ConvertI64S(i64) -> f32 = |a| a as f32;
            F32ConvertI64U(u64) -> f32 = |a| a as f32;
            F64ConvertI32S(i32) -> f64 = |a| a as f64;
            F64ConvertI32U(u32) -> f64 = |a| a as f64;
            F64ConvertI64S(i64) -> f64 = |a| a as f64;
            F64ConvertI64U(u64) -> f64 = |a| a as f64;
            F32DemoteF64(f64) -> f32 = |a| a as f32;
            F64PromoteF32(f32) -> f64 = |a| a as f64;
            I32TruncSatF32S(f32) -> i32 = |a| a as i32;
            I32TruncSatF32U(f32) -> u32 = |a| a as u32;
            I32TruncSatF64S(f64) -> i32 = |a| a as i32;
            I32TruncSatF64U(f64) -> u32 = |a| a as u32;
            I64TruncSatF32S(f32) -> i64 = |a| a as i64;
            I64TruncSatF32U(f32) -> u64 = |a| a as u64;
            I64TruncSatF64S(f64) -> i64 = |a| a as i64;
            I64TruncSatF64U(f64) -> u64 = |a| a as u64;
        }
        unary_trap {
            I32TruncF32S(f32) -> i32 = crate::num::i32_trunc_f32_s;
            I32TruncF32U(f32) -> u32 = crate::num::i32_trunc_f32_u;
            I32TruncF64S(f64) -> i32 = crate::num::i32_trunc_f64_s;
            I32TruncF64U(f64) -> u32 = crate::num::i32_trunc_f64_u;
            I64TruncF32S(f32) -> i64 = crate::num::i64_trunc_f32_s;
            I64TruncF32U(f32) -> u64 = crate::num::i64_trunc_f32_u;
            I64TruncF64S(f64) -> i64 = crate::num::i64_trunc_f64_s;
            I64TruncF64U(f64) -> u64 = crate::num::i64_trunc_f64_u;
        }
        // Compares: the value form, the fused "branch if true" and "branch if false" forms.
        compare {
            I32Eq / BrI32Eq / BrI32NotEq (u32) [BrI32EqImm / BrI32NotEqImm] = |a, b| a == b;
            I32Ne / BrI32Ne / BrI32NotNe (u32) [BrI32NeImm / BrI32NotNeImm] = |a, b| a != b;
            I32LtS / BrI32LtS / BrI32NotLtS (i32) [BrI32LtSImm / BrI32NotLtSImm] = |a, b| a < b;
            I32LtU / BrI32LtU / BrI32NotLtU (u32) [BrI32LtUImm / BrI32NotLtUImm] = |a, b| a < b;
            I32GtS / BrI32GtS / BrI32NotGtS (i32) [BrI32GtSImm / BrI32NotGtSImm] = |a, b| a > b;
            I32GtU / BrI32GtU / BrI32NotGtU (u32) [BrI32GtUImm / BrI32NotGtUImm] = |a, b| a > b;
            I32LeS / BrI32LeS / BrI32NotLeS (i32) [BrI32LeSImm / BrI32NotLeSImm] = |a, b| a <= b;
            I32LeU / BrI32LeU / BrI32NotLeU (u32) [BrI32LeUImm / BrI32NotLeUImm] = |a, b| a <= b;
            I32GeS / BrI32GeS / BrI32NotGeS (i32) [BrI32GeSImm / BrI32NotGeSImm] = |a, b| a >= b;
            I32GeU / BrI32GeU / BrI32NotGeU (u32) [BrI32GeUImm / BrI32NotGeUImm] = |a, b| a >= b;
            I64Eq / BrI64Eq / BrI64NotEq (u64) [BrI64EqImm / BrI64NotEqImm] = |a, b| a == b;
            I64Ne / BrI64Ne / BrI64NotNe (u64) [BrI64NeImm / BrI64NotNeImm] = |a, b| a != b;
            I64LtS / BrI64LtS / BrI64NotLtS (i64) [BrI64LtSImm / BrI64NotLtSImm] = |a, b| a < b;
            I64LtU / BrI64LtU / BrI64NotLtU (u64) [BrI64LtUImm / BrI64NotLtUImm] = |a, b| a < b;
            I64GtS / BrI64GtS / BrI64NotGtS (i64) [BrI64GtSImm / BrI64NotGtSImm] = |a, b| a > b;
            I64GtU / BrI64GtU / BrI64NotGtU (u64) [BrI64GtUImm / BrI64NotGtUImm] = |a, b| a > b;
            I64LeS / BrI64LeS / BrI64NotLeS (i64) [BrI64LeSImm / BrI64NotLeSImm] = |a, b| a <= b;
            I64LeU / BrI64LeU / BrI64NotLeU (u64) [BrI64LeUImm / BrI64NotLeUImm] = |a, b| a <= b;
            I64GeS / BrI64GeS / BrI64NotGeS (i64) [BrI64GeSImm / BrI64NotGeSImm] = |a, b| a >= b;
            I64GeU / BrI64GeU / BrI64NotGeU (u64) [BrI64GeUImm / BrI64NotGeUImm] = |a, b| a >= b;
            F32Eq / BrF32Eq / BrF32NotEq (f32) = |a, b| a == b;
            F32Ne / BrF32Ne / BrF32NotNe (f32) = |a, b| a != b;
            F32Lt / BrF32Lt / BrF32NotLt (f32) = |a, b| a < b;
            F32Gt / BrF32Gt / BrF32NotGt (f32) = |a, b| a > b;
            F32Le / BrF32Le / BrF32NotLe (f32) = |a, b| a <= b;
            F32Ge / BrF32Ge / BrF32NotGe (f32) = |a, b| a >= b;
            F64Eq / BrF64Eq / BrF64NotEq (f64) = |a, b| a == b;
            F64Ne / BrF64Ne / BrF64NotNe (f64) = |a, b| a != b;
            F64Lt / BrF64Lt / BrF64NotLt (f64) = |a, b| a < b;
            F64Gt / BrF64Gt / BrF64NotGt (f64) = |a, b| a > b;
            F64Le / BrF64Le / BrF64NotLe (f64) = |a, b| a <= b;
            F64Ge / BrF64Ge / BrF64NotGe (f64) = |a, b| a >= b;
        }
        // Loads: the access width and the conversion of the little-endian bytes to register bits.
        load {
            I32Load[4] -> u32 = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
            I64Load[8] -> u64 = u64::from_le_bytes;
            F32Load[4] -> f32 = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
            F64Load[8] -> f64 = u64::from_le_bytes;
            I32Load8S[1] -> u32 = |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64;
            I32Load8U[1] -> u32 = |b: [u8; 1]| b[0] as u64;
            I32Load16S[2] -> u32 = |b: [u8; 2]| i16::from_le_bytes(b) as i32 as u32 as u64;
            I32Load16U[2] -> u32 = |b: [u8; 2]| u16::from_le_bytes(b) as u64;
            I64Load8S[1] -> u64 = |b: [u8; 1]| b[0] as i8 as i64 as u64;
            I64Load8U[1] -> u64 = |b: [u8; 1]| b[0] as u64;
            I64Load16S[2] -> u64 = |b: [u8; 2]| i16::from_le_bytes(b) as i64 as u64;
            I64Load16U[2] -> u64 = |b: [u8; 2]| u16::from_le_bytes(b) as u64;
            I64Load32S[4] -> u64 = |b: [u8; 4]| i32::from_le_bytes(b) as i64 as u64;
            I64Load32U[4] -> u64 = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
        }
        // Stores: the access width and the conversion of register bits to little-endian bytes.
        store {
            I32Store[4] (u32) = |v: u64| (v as u32).to_le_bytes();
            I64Store[8] (u64) = |v: u64| v.to_le_bytes();
            F32Store[4] (f32) = |v: u64| (v as u32).to_le_bytes();
            F64Store[8] (f64) = |v: u64| v.to_le_bytes();
            I32Store8[1] (u32) = |v: u64| [v as u8];
            I32Store16[2] (u32) = |v: u64| (v as u16).to_le_bytes();
            I64Store8[1] (u64) = |v: u64| [v as u8];
            I64Store16[2] (u64) = |v: u64| (v as u16).to_le_bytes();
            I64Store32[4] (u64) = |v: u64| (v as u32).to_le_bytes();
        }
        // v128 operations (see `simd`): the operand and result types are those of the
        // functions (lane arrays for a v128, `u32`/`u64` register bits for a scalar).
        vbinary {
            V128And = crate::simd::v128_and;
            V128Or = crate::simd::v128_or;
            V128Xor = crate::simd::v128_xor;
            V128AndNot = crate::simd::v128_andnot;
            I8x16Swizzle = crate::simd::i8x16_swizzle;
            I8x16NarrowI16x8S = crate::simd::i8x16_narrow_i16x8_s;
            I8x16NarrowI16x8U = crate::simd::i8x16_narrow_i16x8_u;
            I16x8NarrowI32x4S = crate::simd::i16x8_narrow_i32x4_s;
            I16x8NarrowI32x4U = crate::simd::i16x8_narrow_i32x4_u;
            I16x8Q15MulrSatS = crate::simd::i16x8_q15mulr_sat_s;
            I32x4DotI16x8S = crate::simd::i32x4_dot_i16x8_s;
            I8x16Add = crate::simd::i8x16_add;
            I8x16Sub = crate::simd::i8x16_sub;
            I8x16AddSatS = crate::simd::i8x16_add_sat_s;
            I8x16AddSatU = crate::simd::i8x16_add_sat_u;
            I8x16SubSatS = crate::simd::i8x16_sub_sat_s;
            I8x16SubSatU = crate::simd::i8x16_sub_sat_u;
            I8x16AvgrU = crate::simd::i8x16_avgr_u;
            I8x16MinS = crate::simd::i8x16_min_s;
            I8x16MinU = crate::simd::i8x16_min_u;
            I8x16MaxS = crate::simd::i8x16_max_s;
            I8x16MaxU = crate::simd::i8x16_max_u;
            I8x16Eq = crate::simd::i8x16_eq;
            I8x16Ne = crate::simd::i8x16_ne;
            I8x16LtS = crate::simd::i8x16_lt_s;
            I8x16GtS = crate::simd::i8x16_gt_s;
            I8x16LeS = crate::simd::i8x16_le_s;
            I8x16GeS = crate::simd::i8x16_ge_s;
            I8x16LtU = crate::simd::i8x16_lt_u;
            I8x16GtU = crate::simd::i8x16_gt_u;
            I8x16LeU = crate::simd::i8x16_le_u;
            I8x16GeU = crate::simd::i8x16_ge_u;
            I16x8Add = crate::simd::i16x8_add;
            I16x8Sub = crate::simd::i16x8_sub;
            I16x8Mul = crate::simd::i16x8_mul;
            I16x8AddSatS = crate::simd::i16x8_add_sat_s;
            I16x8AddSatU = crate::simd::i16x8_add_sat_u;
            I16x8SubSatS = crate::simd::i16x8_sub_sat_s;
            I16x8SubSatU = crate::simd::i16x8_sub_sat_u;
            I16x8AvgrU = crate::simd::i16x8_avgr_u;
            I16x8MinS = crate::simd::i16x8_min_s;
            I16x8MinU = crate::simd::i16x8_min_u;
            I16x8MaxS = crate::simd::i16x8_max_s;
            I16x8MaxU = crate::simd::i16x8_max_u;
            I16x8Eq = crate::simd::i16x8_eq;
            I16x8Ne = crate::simd::i16x8_ne;
            I16x8LtS = crate::simd::i16x8_lt_s;
            I16x8GtS = crate::simd::i16x8_gt_s;
            I16x8LeS = crate::simd::i16x8_le_s;
            I16x8GeS = crate::simd::i16x8_ge_s;
            I16x8LtU = crate::simd::i16x8_lt_u;
            I16x8GtU = crate::simd::i16x8_gt_u;
            I16x8LeU = crate::simd::i16x8_le_u;
            I16x8GeU = crate::simd::i16x8_ge_u;
            I32x4Add = crate::simd::i32x4_add;
            I32x4Sub = crate::simd::i32x4_sub;
            I32x4Mul = crate::simd::i32x4_mul;
            I32x4MinS = crate::simd::i32x4_min_s;
            I32x4MinU = crate::simd::i32x4_min_u;
            I32x4MaxS = crate::simd::i32x4_max_s;
            I32x4MaxU = crate::simd::i32x4_max_u;
            I32x4Eq = crate::simd::i32x4_eq;
            I32x4Ne = crate::simd::i32x4_ne;
            I32x4LtS = crate::simd::i32x4_lt_s;
            I32x4GtS = crate::simd::i32x4_gt_s;
            I32x4LeS = crate::simd::i32x4_le_s;
            I32x4GeS = crate::simd::i32x4_ge_s;
            I32x4LtU = crate::simd::i32x4_lt_u;
            I32x4GtU = crate::simd::i32x4_gt_u;
            I32x4LeU = crate::simd::i32x4_le_u;
            I32x4GeU = crate::simd::i32x4_ge_u;
            I64x2Add = crate::simd::i64x2_add;
            I64x2Sub = crate::simd::i64x2_sub;
            I64x2Mul = crate::simd::i64x2_mul;
            I64x2Eq = crate::simd::i64x2_eq;
            I64x2Ne = crate::simd::i64x2_ne;
            I64x2LtS = crate::simd::i64x2_lt_s;
            I64x2GtS = crate::simd::i64x2_gt_s;
            I64x2LeS = crate::simd::i64x2_le_s;
            I64x2GeS = crate::simd::i64x2_ge_s;
            I16x8ExtMulLowI8x16S = crate::simd::i16x8_extmul_low_i8x16_s;
            I16x8ExtMulLowI8x16U = crate::simd::i16x8_extmul_low_i8x16_u;
            I16x8ExtMulHighI8x16S = crate::simd::i16x8_extmul_high_i8x16_s;
            I16x8ExtMulHighI8x16U = crate::simd::i16x8_extmul_high_i8x16_u;
            I32x4ExtMulLowI16x8S = crate::simd::i32x4_extmul_low_i16x8_s;
            I32x4ExtMulLowI16x8U = crate::simd::i32x4_extmul_low_i16x8_u;
            I32x4ExtMulHighI16x8S = crate::simd::i32x4_extmul_high_i16x8_s;
            I32x4ExtMulHighI16x8U = crate::simd::i32x4_extmul_high_i16x8_u;
            I64x2ExtMulLowI32x4S = crate::simd::i64x2_extmul_low_i32x4_s;
            I64x2ExtMulLowI32x4U = crate::simd::i64x2_extmul_low_i32x4_u;
            I64x2ExtMulHighI32x4S = crate::simd::i64x2_extmul_high_i32x4_s;
            I64x2ExtMulHighI32x4U = crate::simd::i64x2_extmul_high_i32x4_u;
            F32x4Add = crate::simd::f32x4_add;
            F32x4Sub = crate::simd::f32x4_sub;
            F32x4Mul = crate::simd::f32x4_mul;
            F32x4Div = crate::simd::f32x4_div;
            F32x4Min = crate::simd::f32x4_min;
            F32x4Max = crate::simd::f32x4_max;
            F32x4PMin = crate::simd::f32x4_pmin;
            F32x4PMax = crate::simd::f32x4_pmax;
            F32x4Eq = crate::simd::f32x4_eq;
            F32x4Ne = crate::simd::f32x4_ne;
            F32x4Lt = crate::simd::f32x4_lt;
            F32x4Gt = crate::simd::f32x4_gt;
            F32x4Le = crate::simd::f32x4_le;
            F32x4Ge = crate::simd::f32x4_ge;
            F64x2Add = crate::simd::f64x2_add;
            F64x2Sub = crate::simd::f64x2_sub;
            F64x2Mul = crate::simd::f64x2_mul;
            F64x2Div = crate::simd::f64x2_div;
            F64x2Min = crate::simd::f64x2_min;
            F64x2Max = crate::simd::f64x2_max;
            F64x2PMin = crate::simd::f64x2_pmin;
            F64x2PMax = crate::simd::f64x2_pmax;
            F64x2Eq = crate::simd::f64x2_eq;
            F64x2Ne = crate::simd::f64x2_ne;
            F64x2Lt = crate::simd::f64x2_lt;
            F64x2Gt = crate::simd::f64x2_gt;
            F64x2Le = crate::simd::f64x2_le;
            F64x2Ge = crate::simd::f64x2_ge;
            I8x16Shl = crate::simd::i8x16_shl;
            I8x16ShrS = crate::simd::i8x16_shr_s;
            I8x16ShrU = crate::simd::i8x16_shr_u;
            I16x8Shl = crate::simd::i16x8_shl;
            I16x8ShrS = crate::simd::i16x8_shr_s;
            I16x8ShrU = crate::simd::i16x8_shr_u;
            I32x4Shl = crate::simd::i32x4_shl;
            I32x4ShrS = crate::simd::i32x4_shr_s;
            I32x4ShrU = crate::simd::i32x4_shr_u;
            I64x2Shl = crate::simd::i64x2_shl;
            I64x2ShrS = crate::simd::i64x2_shr_s;
            I64x2ShrU = crate::simd::i64x2_shr_u;
        }
        vunary {
            V128Not = crate::simd::v128_not;
            V128AnyTrue = crate::simd::v128_any_true;
            I8x16AllTrue = crate::simd::i8x16_all_true;
            I8x16Bitmask = crate::simd::i8x16_bitmask;
            I8x16Abs = crate::simd::i8x16_abs;
            I8x16Neg = crate::simd::i8x16_neg;
            I8x16Splat = crate::simd::i8x16_splat;
            I16x8AllTrue = crate::simd::i16x8_all_true;
            I16x8Bitmask = crate::simd::i16x8_bitmask;
            I16x8Abs = crate::simd::i16x8_abs;
            I16x8Neg = crate::simd::i16x8_neg;
            I16x8Splat = crate::simd::i16x8_splat;
            I32x4AllTrue = crate::simd::i32x4_all_true;
            I32x4Bitmask = crate::simd::i32x4_bitmask;
            I32x4Abs = crate::simd::i32x4_abs;
            I32x4Neg = crate::simd::i32x4_neg;
            I32x4Splat = crate::simd::i32x4_splat;
            I64x2AllTrue = crate::simd::i64x2_all_true;
            I64x2Bitmask = crate::simd::i64x2_bitmask;
            I64x2Abs = crate::simd::i64x2_abs;
            I64x2Neg = crate::simd::i64x2_neg;
            I64x2Splat = crate::simd::i64x2_splat;
            I8x16Popcnt = crate::simd::i8x16_popcnt;
            I16x8ExtendLowI8x16S = crate::simd::i16x8_extend_low_i8x16_s;
            I16x8ExtendLowI8x16U = crate::simd::i16x8_extend_low_i8x16_u;
            I16x8ExtendHighI8x16S = crate::simd::i16x8_extend_high_i8x16_s;
            I16x8ExtendHighI8x16U = crate::simd::i16x8_extend_high_i8x16_u;
            I32x4ExtendLowI16x8S = crate::simd::i32x4_extend_low_i16x8_s;
            I32x4ExtendLowI16x8U = crate::simd::i32x4_extend_low_i16x8_u;
            I32x4ExtendHighI16x8S = crate::simd::i32x4_extend_high_i16x8_s;
            I32x4ExtendHighI16x8U = crate::simd::i32x4_extend_high_i16x8_u;
            I64x2ExtendLowI32x4S = crate::simd::i64x2_extend_low_i32x4_s;
            I64x2ExtendLowI32x4U = crate::simd::i64x2_extend_low_i32x4_u;
            I64x2ExtendHighI32x4S = crate::simd::i64x2_extend_high_i32x4_s;
            I64x2ExtendHighI32x4U = crate::simd::i64x2_extend_high_i32x4_u;
            I16x8ExtAddPairwiseI8x16S = crate::simd::i16x8_extadd_pairwise_i8x16_s;
            I16x8ExtAddPairwiseI8x16U = crate::simd::i16x8_extadd_pairwise_i8x16_u;
            I32x4ExtAddPairwiseI16x8S = crate::simd::i32x4_extadd_pairwise_i16x8_s;
            I32x4ExtAddPairwiseI16x8U = crate::simd::i32x4_extadd_pairwise_i16x8_u;
            F32x4Abs = crate::simd::f32x4_abs;
            F32x4Neg = crate::simd::f32x4_neg;
            F32x4Sqrt = crate::simd::f32x4_sqrt;
            F32x4Ceil = crate::simd::f32x4_ceil;
            F32x4Floor = crate::simd::f32x4_floor;
            F32x4Trunc = crate::simd::f32x4_trunc;
            F32x4Nearest = crate::simd::f32x4_nearest;
            F64x2Abs = crate::simd::f64x2_abs;
            F64x2Neg = crate::simd::f64x2_neg;
            F64x2Sqrt = crate::simd::f64x2_sqrt;
            F64x2Ceil = crate::simd::f64x2_ceil;
            F64x2Floor = crate::simd::f64x2_floor;
            F64x2Trunc = crate::simd::f64x2_trunc;
            F64x2Nearest = crate::simd::f64x2_nearest;
            F32x4Splat = crate::simd::i32x4_splat;
            F64x2Splat = crate::simd::i64x2_splat;
            I32x4TruncSatF32x4S = crate::simd::i32x4_trunc_sat_f32x4_s;
            I32x4TruncSatF32x4U = crate::simd::i32x4_trunc_sat_f32x4_u;
            F32x4ConvertI32x4S = crate::simd::f32x4_convert_i32x4_s;
            F32x4ConvertI32x4U = crate::simd::f32x4_convert_i32x4_u;
            I32x4TruncSatF64x2SZero = crate::simd::i32x4_trunc_sat_f64x2_s_zero;
            I32x4TruncSatF64x2UZero = crate::simd::i32x4_trunc_sat_f64x2_u_zero;
            F64x2ConvertLowI32x4S = crate::simd::f64x2_convert_low_i32x4_s;
            F64x2ConvertLowI32x4U = crate::simd::f64x2_convert_low_i32x4_u;
            F32x4DemoteF64x2Zero = crate::simd::f32x4_demote_f64x2_zero;
            F64x2PromoteLowF32x4 = crate::simd::f64x2_promote_low_f32x4;
        }
        // Lane extraction `dst = op(src, lane)` and replacement `dst = op(a, b, lane)`.
        extract {
            I8x16ExtractLaneS = crate::simd::i8x16_extract_lane_s;
            I8x16ExtractLaneU = crate::simd::i8x16_extract_lane_u;
            I16x8ExtractLaneS = crate::simd::i16x8_extract_lane_s;
            I16x8ExtractLaneU = crate::simd::i16x8_extract_lane_u;
            I32x4ExtractLane = crate::simd::i32x4_extract_lane;
            I64x2ExtractLane = crate::simd::i64x2_extract_lane;
            F32x4ExtractLane = crate::simd::i32x4_extract_lane;
            F64x2ExtractLane = crate::simd::i64x2_extract_lane;
        }
        replace {
            I8x16ReplaceLane = crate::simd::i8x16_replace_lane;
            I16x8ReplaceLane = crate::simd::i16x8_replace_lane;
            I32x4ReplaceLane = crate::simd::i32x4_replace_lane;
            I64x2ReplaceLane = crate::simd::i64x2_replace_lane;
            F32x4ReplaceLane = crate::simd::i32x4_replace_lane;
            F64x2ReplaceLane = crate::simd::i64x2_replace_lane;
        }
        // v128 loads and stores: the access width and the conversion of the bytes.
        vload {
            V128Load[16] = crate::simd::load;
            V128Load8x8S[8] = crate::simd::load8x8_s;
            V128Load8x8U[8] = crate::simd::load8x8_u;
            V128Load16x4S[8] = crate::simd::load16x4_s;
            V128Load16x4U[8] = crate::simd::load16x4_u;
            V128Load32x2S[8] = crate::simd::load32x2_s;
            V128Load32x2U[8] = crate::simd::load32x2_u;
            V128Load8Splat[1] = crate::simd::load8_splat;
            V128Load16Splat[2] = crate::simd::load16_splat;
            V128Load32Splat[4] = crate::simd::load32_splat;
            V128Load64Splat[8] = crate::simd::load64_splat;
            V128Load32Zero[4] = crate::simd::load32_zero;
            V128Load64Zero[8] = crate::simd::load64_zero;
        }
        vstore {
            V128Store[16] = crate::simd::store;
        }
        // Single-lane loads `dst = op(src, bytes, lane)` and stores of lane `lane` of `val`.
        load_lane {
            V128Load8Lane[1] = crate::simd::load8_lane;
            V128Load16Lane[2] = crate::simd::load16_lane;
            V128Load32Lane[4] = crate::simd::load32_lane;
            V128Load64Lane[8] = crate::simd::load64_lane;
        }
        store_lane {
            V128Store8Lane[1] = crate::simd::store8_lane;
            V128Store16Lane[2] = crate::simd::store16_lane;
            V128Store32Lane[4] = crate::simd::store32_lane;
            V128Store64Lane[8] = crate::simd::store64_lane;
        }
        }
    };
}
pub(crate) use for_each_op;

/// Generates [`Instr`] from the table plus the hand-written variants, and the accessors the
/// translator needs (destination retargeting, compare fusion, branch patching).
macro_rules! define_instr {
    (
        ( $( $(#[$doc:meta])* $oname:ident { $($ofield:ident : $oty:ty),* $(,)? } ),* $(,)? )
        binary { $( $bname:ident / $biname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap { $( $tname:ident / $tiname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )* }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare { $( $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty) $([ $cbi:ident / $cbni:ident ])? = $cf:expr; )* }
        load { $( $lname:ident [$ln:literal] -> $lt:ty = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] ($st:ty) = $sf:expr; )* }
        vbinary { $( $wname:ident = $wf:expr; )* }
        vunary { $( $zname:ident = $zf:expr; )* }
        extract { $( $xname:ident = $xf:expr; )* }
        replace { $( $rname:ident = $rf:expr; )* }
        vload { $( $vlname:ident [$vln:literal] = $vlf:expr; )* }
        vstore { $( $vsname:ident [$vsn:literal] = $vsf:expr; )* }
        load_lane { $( $llname:ident [$lln:literal] = $llf:expr; )* }
        store_lane { $( $slname:ident [$sln:literal] = $slf:expr; )* }
    ) => {
        /// One register-machine instruction. Branch `offset`s are relative to the index of
        /// the branch itself (in the translator; `exec::Inst` holds them in bytes).
        ///
        /// `repr(u16)` fixes the layout: every variant starts with its `u16` tag, which
        /// equals the [`Op`] of the same name; the executor dispatches on that tag.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(u16)]
        pub enum Instr {
            $( $(#[$doc])* $oname { $($ofield: $oty),* }, )*
            $( #[doc = "`dst = a op b`"] $bname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "`dst = a op b`, may trap"] $tname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "`dst = a op imm` (`imm`: the register bits of a constant `b`)"] $biname { dst: Reg, a: Reg, imm: u64 }, )*
            $( #[doc = "`dst = a op imm`, may trap"] $tiname { dst: Reg, a: Reg, imm: u64 }, )*
            $( #[doc = "`dst = op src`"] $uname { dst: Reg, src: Reg }, )*
            $( #[doc = "`dst = op src`, may trap"] $vname { dst: Reg, src: Reg }, )*
            $( #[doc = "`dst = a cmp b`"] $cname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "branch if `a cmp b` (form `PRE`: `a += add` first, or `a += add_reg` with `ADD_REG`)"] $cbr { a: Reg, b: Reg, add_reg: Reg, offset: i32, add: Step }, )*
            $( #[doc = "branch unless `a cmp b` (forms as for the branch if)"] $cbrn { a: Reg, b: Reg, add_reg: Reg, offset: i32, add: Step }, )*
            $( $(
                #[doc = "branch if `a cmp imm` (form `PRE`: `a += add` first, or `a += add_reg` with `ADD_REG`)"] $cbi { a: Reg, imm: i16, add_reg: Reg, offset: i32, add: Step },
                #[doc = "branch unless `a cmp imm` (forms as for the branch if)"] $cbni { a: Reg, imm: i16, add_reg: Reg, offset: i32, add: Step },
            )? )*
            $( #[doc = "`dst = load(addr + offset)` (form `INDEX`: the address is `addr + index * scale`, in 32 bits)"] $lname { dst: Reg, addr: Reg, index: Reg, scale: u8, offset: u32 }, )*
            $( #[doc = "`store(addr + offset, val)` (form `INDEX`: the address is `addr + index * scale`, in 32 bits)"] $sname { addr: Reg, val: Reg, index: Reg, scale: u8, offset: u32 }, )*
            $( #[doc = "`dst = a op b` (v128)"] $wname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "`dst = op src` (v128)"] $zname { dst: Reg, src: Reg }, )*
            $( #[doc = "`dst = lane of src`"] $xname { dst: Reg, src: Reg, lane: u8 }, )*
            $( #[doc = "`dst = a with lane replaced by b`"] $rname { dst: Reg, a: Reg, b: Reg, lane: u8 }, )*
            $( #[doc = "`dst = load(addr + offset)` (v128)"] $vlname { dst: Reg, addr: Reg, offset: u32 }, )*
            $( #[doc = "`store(addr + offset, val)` (v128)"] $vsname { addr: Reg, val: Reg, offset: u32 }, )*
            $( #[doc = "`dst = src with lane loaded from addr + offset`"] $llname { dst: Reg, addr: Reg, src: Reg, lane: u8, offset: u32 }, )*
            $( #[doc = "`store(addr + offset, lane of val)`"] $slname { addr: Reg, val: Reg, lane: u8, offset: u32 }, )*
        }

        /// The tag of each [`Instr`] variant (same names, same order, so the same values).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub(crate) enum Op {
            $( $oname, )*
            $( $bname, )*
            $( $tname, )*
            $( $biname, )*
            $( $tiname, )*
            $( $uname, )*
            $( $vname, )*
            $( $cname, )*
            $( $cbr, )*
            $( $cbrn, )*
            $( $( $cbi, $cbni, )? )*
            $( $lname, )*
            $( $sname, )*
            $( $wname, )*
            $( $zname, )*
            $( $xname, )*
            $( $rname, )*
            $( $vlname, )*
            $( $vsname, )*
            $( $llname, )*
            $( $slname, )*
        }

        impl Op {
            /// Every tag in order (`ALL[t as usize] == t`).
            pub(crate) const ALL: &[Op] = &[
                $( Op::$oname, )*
                $( Op::$bname, )*
                $( Op::$tname, )*
                $( Op::$biname, )*
                $( Op::$tiname, )*
                $( Op::$uname, )*
                $( Op::$vname, )*
                $( Op::$cname, )*
                $( Op::$cbr, )*
                $( Op::$cbrn, )*
                $( $( Op::$cbi, Op::$cbni, )? )*
                $( Op::$lname, )*
                $( Op::$sname, )*
                $( Op::$wname, )*
                $( Op::$zname, )*
                $( Op::$xname, )*
                $( Op::$rname, )*
                $( Op::$vlname, )*
                $( Op::$vsname, )*
                $( Op::$llname, )*
                $( Op::$slname, )*
            ];
            /// The number of tags.
            pub(crate) const COUNT: usize = Op::ALL.len();
        }

        impl Instr {
            /// The tag of this instruction, from a `match` (the executor reads it from
            /// memory instead; tests check that both agree).
            #[allow(dead_code)]
            pub(crate) fn op(&self) -> Op {
                match self {
                    $( Instr::$oname { .. } => Op::$oname, )*
                    $( Instr::$bname { .. } => Op::$bname, )*
                    $( Instr::$tname { .. } => Op::$tname, )*
                    $( Instr::$biname { .. } => Op::$biname, )*
                    $( Instr::$tiname { .. } => Op::$tiname, )*
                    $( Instr::$uname { .. } => Op::$uname, )*
                    $( Instr::$vname { .. } => Op::$vname, )*
                    $( Instr::$cname { .. } => Op::$cname, )*
                    $( Instr::$cbr { .. } => Op::$cbr, )*
                    $( Instr::$cbrn { .. } => Op::$cbrn, )*
                    $( $(
                        Instr::$cbi { .. } => Op::$cbi,
                        Instr::$cbni { .. } => Op::$cbni,
                    )? )*
                    $( Instr::$lname { .. } => Op::$lname, )*
                    $( Instr::$sname { .. } => Op::$sname, )*
                    $( Instr::$wname { .. } => Op::$wname, )*
                    $( Instr::$zname { .. } => Op::$zname, )*
                    $( Instr::$xname { .. } => Op::$xname, )*
                    $( Instr::$rname { .. } => Op::$rname, )*
                    $( Instr::$vlname { .. } => Op::$vlname, )*
                    $( Instr::$vsname { .. } => Op::$vsname, )*
                    $( Instr::$llname { .. } => Op::$llname, )*
                    $( Instr::$slname { .. } => Op::$slname, )*
                }
            }

            /// The tag stored in the first two bytes of the instruction.
            #[inline(always)]
            pub(crate) fn tag(&self) -> u16 {
                // SAFETY: `Instr` is `repr(u16)`: every variant begins with its `u16` tag.
                unsafe { *(self as *const Instr as *const u16) }
            }

            /// The destination of an instruction that writes one register and reads all its
            /// operands before writing it (so it may be retargeted). Two fused pairs write
            /// a second register before it, which [`Instr::also_writes`] names.
            pub(crate) fn dst_mut(&mut self) -> Option<&mut Reg> {
                match self {
                    $( Instr::$bname { dst, .. } )|*
                    | $( Instr::$tname { dst, .. } )|*
                    | $( Instr::$biname { dst, .. } )|*
                    | $( Instr::$tiname { dst, .. } )|*
                    | $( Instr::$uname { dst, .. } )|*
                    | $( Instr::$vname { dst, .. } )|*
                    | $( Instr::$cname { dst, .. } )|*
                    | $( Instr::$lname { dst, .. } )|*
                    | $( Instr::$wname { dst, .. } )|*
                    | $( Instr::$zname { dst, .. } )|*
                    | $( Instr::$xname { dst, .. } )|*
                    | $( Instr::$rname { dst, .. } )|*
                    | $( Instr::$vlname { dst, .. } )|*
                    | $( Instr::$llname { dst, .. } )|*
                    | Instr::CopyV128 { dst, .. }
                    | Instr::SelectV128 { dst, .. }
                    | Instr::GlobalGetV128 { dst, .. }
                    | Instr::V128Bitselect { dst, .. }
                    | Instr::I8x16Shuffle { dst, .. }
                    | Instr::Copy { dst, .. }
                    | Instr::I32AddShl { dst, .. }
                    | Instr::I32AddShlLoad { val: dst, .. }
                    | Instr::CopyI32Load { dst, .. }
                    | Instr::I32AddShrU { dst, .. }
                    | Instr::I32XorShl { dst, .. }
                    | Instr::I32XorShrU { dst, .. }
                    | Instr::I32XorRotl { dst, .. }
                    | Instr::I32OrShl { dst, .. }
                    | Instr::I32OrShrU { dst, .. }
                    | Instr::I64XorShl { dst, .. }
                    | Instr::I64XorShrU { dst, .. }
                    | Instr::I32ShiftMask { dst, .. }
                    | Instr::I32OrShiftMask { dst, .. }
                    | Instr::I32SubMulImm { dst, .. }
                    | Instr::I32XorMulImm { dst, .. }
                    | Instr::I32DivUMagic { dst, .. }
                    | Instr::F64AddLoad { dst, .. }
                    | Instr::F64MulLoad { dst, .. }
                    | Instr::I32AddLoad { dst, .. }
                    | Instr::I32MinU { dst, .. }
                    | Instr::I32MaxU { dst, .. }
                    | Instr::I32MinS { dst, .. }
                    | Instr::I32MaxS { dst, .. }
                    | Instr::I64MinU { dst, .. }
                    | Instr::I64MaxU { dst, .. }
                    | Instr::I64MinS { dst, .. }
                    | Instr::I64MaxS { dst, .. }
                    | Instr::I32Eqz { dst, .. }
                    | Instr::I64Eqz { dst, .. }
                    | Instr::Select { dst, .. }
                    | Instr::GlobalGet { dst, .. }
                    | Instr::TableGet { dst, .. }
                    | Instr::TableSize { dst, .. }
                    | Instr::MemorySize { dst, .. }
                    | Instr::RefFunc { dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// The register an instruction with a `dst_mut` writes before that one:
            /// `I32AddShlLoad`'s address, `CopyI32Load`'s copy.
            pub(crate) fn also_writes(&self) -> Option<Reg> {
                match *self {
                    Instr::I32AddShlLoad { dst, .. } | Instr::CopyI32Load { copy: dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// The fused branch for a compare instruction: taken when the compare is true
            /// (`negate == false`) or false (`negate == true`). `const_bits` gives the value
            /// of a constant register, so that an integer compare with a small constant
            /// becomes an immediate form.
            pub(crate) fn fuse_branch(
                &self,
                negate: bool,
                const_bits: impl Fn(Reg) -> Option<u64>,
            ) -> Option<Instr> {
                Some(match *self {
                    $(
                        Instr::$cname { a, b, .. } => {
                            $(
                                let imm = const_bits(b)
                                    .and_then(<$ct as crate::num::Imm>::to_imm);
                                if let Some(imm) = imm {
                                    return Some(if negate {
                                        Instr::$cbni { a, imm, offset: 0, add_reg: 0, add: Step(0) }
                                    } else {
                                        Instr::$cbi { a, imm, offset: 0, add_reg: 0, add: Step(0) }
                                    });
                                }
                            )?
                            if negate {
                                Instr::$cbrn { a, b, offset: 0, add_reg: 0, add: Step(0) }
                            } else {
                                Instr::$cbr { a, b, offset: 0, add_reg: 0, add: Step(0) }
                            }
                        }
                    )*
                    Instr::I32Eqz { src, .. } => if negate {
                        Instr::BrNez { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    } else {
                        Instr::BrEqz { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    },
                    Instr::I64Eqz { src, .. } => if negate {
                        Instr::BrI64Nez { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    } else {
                        Instr::BrI64Eqz { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    },
                    _ => return None,
                })
            }

            /// Whether the value at `bit` (an `exec::form` bit; `OUT` for the result)
            /// travels in the float half of the accumulator (see `exec::Acc`): a link
            /// joins two instructions only where they agree.
            pub(crate) fn acc_float(&self, bit: u8) -> bool {
                use crate::exec::AccClass;
                const OUT: u8 = crate::exec::form::OUT;
                const A: u8 = crate::exec::form::A;
                const B: u8 = crate::exec::form::B;
                match (self, bit) {
                    $(
                        (Instr::$bname { .. } | Instr::$biname { .. }, OUT) => <$br as AccClass>::FLOAT,
                        (Instr::$bname { .. } | Instr::$biname { .. }, A) => <$ba as AccClass>::FLOAT,
                        (Instr::$bname { .. }, B) => <$bb as AccClass>::FLOAT,
                    )*
                    $(
                        (Instr::$uname { .. }, OUT) => <$ur as AccClass>::FLOAT,
                        (Instr::$uname { .. }, A) => <$ua as AccClass>::FLOAT,
                    )*
                    $(
                        (Instr::$cname { .. } | Instr::$cbr { .. } | Instr::$cbrn { .. }, A | B) => {
                            <$ct as AccClass>::FLOAT
                        }
                        $(
                            (Instr::$cbi { .. } | Instr::$cbni { .. }, A) => <$ct as AccClass>::FLOAT,
                        )?
                    )*
                    $( (Instr::$lname { .. }, OUT) => <$lt as AccClass>::FLOAT, )*
                    (Instr::F64AddLoad { .. } | Instr::F64MulLoad { .. }, OUT | A) => true,
                    (Instr::F64AddInPlace { .. }, A) => true,
                    $( (Instr::$sname { .. }, B) => <$st as AccClass>::FLOAT, )*
                    _ => false,
                }
            }

            /// Calls `f` on every register operand, in field order. (A span operand, such
            /// as `Return`'s `src`, is visited as its first register.)
            pub(crate) fn regs_mut(&mut self, mut f: impl FnMut(&mut Reg)) {
                match self {
                    $( Instr::$oname { $($ofield),* } => {
                        $( Operand::visit($ofield, &mut f); )*
                    } )*
                    $( Instr::$bname { dst, a, b } )|*
                    | $( Instr::$tname { dst, a, b } )|*
                    | $( Instr::$cname { dst, a, b } )|*
                    | $( Instr::$wname { dst, a, b } )|*
                    | $( Instr::$rname { dst, a, b, .. } )|* => {
                        f(dst);
                        f(a);
                        f(b);
                    }
                    $( Instr::$biname { dst, a, .. } )|*
                    | $( Instr::$tiname { dst, a, .. } )|*
                    | $( Instr::$uname { dst, src: a } )|*
                    | $( Instr::$vname { dst, src: a } )|*
                    | $( Instr::$zname { dst, src: a } )|*
                    | $( Instr::$xname { dst, src: a, .. } )|*
                    | $( Instr::$vlname { dst, addr: a, .. } )|* => {
                        f(dst);
                        f(a);
                    }
                    $( Instr::$lname { dst, addr, index, .. } )|* => {
                        f(dst);
                        f(addr);
                        f(index);
                    }
                    $( Instr::$cbr { a, b, add_reg: c, .. } | Instr::$cbrn { a, b, add_reg: c, .. } )|* => {
                        f(a);
                        f(b);
                        f(c);
                    }
                    $( Instr::$sname { addr, val, index, .. } )|* => {
                        f(addr);
                        f(val);
                        f(index);
                    }
                    $( Instr::$vsname { addr: a, val: b, .. } )|*
                    | $( Instr::$slname { addr: a, val: b, .. } )|* => {
                        f(a);
                        f(b);
                    }
                    $( $(
                        Instr::$cbi { a, add_reg, .. } | Instr::$cbni { a, add_reg, .. } => {
                            f(a);
                            f(add_reg);
                        }
                    )? )*
                    $( Instr::$llname { dst, addr, src, .. } => {
                        f(dst);
                        f(addr);
                        f(src);
                    } )*
                }
            }

            /// The address register and offset of a scalar load or store.
            pub(crate) fn address_mut(&mut self) -> Option<(&mut Reg, &mut u32)> {
                match self {
                    $( Instr::$lname { addr, offset, .. } )|*
                    | $( Instr::$sname { addr, offset, .. } )|* => Some((addr, offset)),
                    _ => None,
                }
            }

            /// The address register, index register and scale of a scalar load or store
            /// (see form `INDEX`).
            pub(crate) fn index_mut(&mut self) -> Option<(&mut Reg, &mut Reg, &mut u8)> {
                match self {
                    $( Instr::$lname { addr, index, scale, .. } )|*
                    | $( Instr::$sname { addr, index, scale, .. } )|* => Some((addr, index, scale)),
                    _ => None,
                }
            }

            /// The register operand of one of the table's scalar instructions that the
            /// translator links through the accumulator under form `A` (`second` false:
            /// `a`, `src`, a load's or store's `addr`) or `B` (`second`: `b`, a load's
            /// `index`, a store's `val`), or the i32 condition, operand or index of
            /// `br_if`, `i32.eqz`, `select` and `br_table`; `None` for other
            /// instructions. These read an i32 operand through the low 32 bits of its
            /// register alone (`Bits::from_reg`, and addresses are 32-bit), so the
            /// register may hold an i64 whose low half is that i32.
            pub(crate) fn scalar_operand_mut(&mut self, second: bool) -> Option<&mut Reg> {
                match (self, second) {
                    $( (Instr::$bname { a: r, .. }, false) | (Instr::$bname { b: r, .. }, true) => Some(r), )*
                    $( (Instr::$tname { a: r, .. }, false) | (Instr::$tname { b: r, .. }, true) => Some(r), )*
                    $( (Instr::$cname { a: r, .. }, false) | (Instr::$cname { b: r, .. }, true) => Some(r), )*
                    $(
                        (Instr::$cbr { a: r, .. } | Instr::$cbrn { a: r, .. }, false)
                        | (Instr::$cbr { b: r, .. } | Instr::$cbrn { b: r, .. }, true) => Some(r),
                    )*
                    $( $( (Instr::$cbi { a: r, .. } | Instr::$cbni { a: r, .. }, false) => Some(r), )? )*
                    $( (Instr::$biname { a: r, .. }, false) => Some(r), )*
                    $( (Instr::$tiname { a: r, .. }, false) => Some(r), )*
                    $( (Instr::$uname { src: r, .. }, false) => Some(r), )*
                    $( (Instr::$vname { src: r, .. }, false) => Some(r), )*
                    $( (Instr::$lname { addr: r, .. }, false) | (Instr::$lname { index: r, .. }, true) => Some(r), )*
                    $( (Instr::$sname { addr: r, .. }, false) | (Instr::$sname { val: r, .. }, true) => Some(r), )*
                    (
                        Instr::BrEqz { cond: r, .. }
                        | Instr::BrNez { cond: r, .. }
                        | Instr::I32Eqz { src: r, .. }
                        | Instr::Select { cond: r, .. }
                        | Instr::BrTable { index: r, .. },
                        false,
                    ) => Some(r),
                    _ => None,
                }
            }

            /// The value register of a scalar store.
            pub(crate) fn stored_value(&self) -> Option<Reg> {
                match *self {
                    $( Instr::$sname { val, .. } )|* => Some(val),
                    _ => None,
                }
            }

            /// Makes an integer branch reading register `r` first add `by` to it, in
            /// `bits` (32 or 64) arithmetic: the branch then does the work of the
            /// `r = r + by` before it (form `PRE`, with `ADD_REG` for a register). `r`
            /// must be the first operand, or either operand of an `eq`/`ne`. Returns
            /// whether the branch took it.
            pub(crate) fn pre_add(&mut self, r: Reg, by: Addend, bits: usize) -> bool {
                let symmetric = matches!(
                    self.op(),
                    Op::BrI32Eq | Op::BrI32Ne | Op::BrI64Eq | Op::BrI64Ne
                );
                let (first, other, add, add_reg, width) = match self {
                    $( $(
                        Instr::$cbi { a, add, add_reg, .. } | Instr::$cbni { a, add, add_reg, .. } => {
                            (a, None, add, add_reg, core::mem::size_of::<$ct>())
                        }
                        Instr::$cbr { a, b, add, add_reg, .. } | Instr::$cbrn { a, b, add, add_reg, .. } => {
                            (a, Some(b), add, add_reg, core::mem::size_of::<$ct>())
                        }
                    )? )*
                    Instr::BrEqz { cond, add, add_reg, .. } | Instr::BrNez { cond, add, add_reg, .. } => {
                        (cond, None, add, add_reg, 4)
                    }
                    Instr::BrI64Eqz { cond, add, add_reg, .. } | Instr::BrI64Nez { cond, add, add_reg, .. } => {
                        (cond, None, add, add_reg, 8)
                    }
                    _ => return false,
                };
                if width * 8 != bits {
                    return false;
                }
                if *first != r {
                    match other {
                        Some(b) if symmetric && *b == r => core::mem::swap(first, b),
                        _ => return false,
                    }
                }
                match by {
                    Addend::Const(k) => *add = Step(k),
                    Addend::Reg(x) => *add_reg = x,
                }
                true
            }

            /// The offset field of a branch instruction.
            pub(crate) fn offset_mut(&mut self) -> Option<&mut i32> {
                match self {
                    $( $(
                        Instr::$cbi { offset, .. } | Instr::$cbni { offset, .. } => Some(offset),
                    )? )*
                    $( Instr::$cbr { offset, .. } | Instr::$cbrn { offset, .. } )|*
                    | Instr::Br { offset }
                    | Instr::BrEqz { offset, .. }
                    | Instr::BrNez { offset, .. }
                    | Instr::BrI64Eqz { offset, .. }
                    | Instr::BrI64Nez { offset, .. }
                    | Instr::BrI32NeLoad8U { offset, .. }
                    | Instr::BrI32EqLoad8U { offset, .. } => Some(offset),
                    _ => None,
                }
            }

            /// The branch taken exactly when this conditional branch is not (the same
            /// operands, target and `PRE` step; a float compare's negation is also taken
            /// on NaN), which has the same forms: a conditional branch over an
            /// unconditional one is inverted into one branch.
            pub(crate) fn negated_branch(&self) -> Option<Instr> {
                Some(match *self {
                    $( $(
                        Instr::$cbi { a, imm, add_reg, offset, add } => {
                            Instr::$cbni { a, imm, add_reg, offset, add }
                        }
                        Instr::$cbni { a, imm, add_reg, offset, add } => {
                            Instr::$cbi { a, imm, add_reg, offset, add }
                        }
                    )? )*
                    $(
                        Instr::$cbr { a, b, add_reg, offset, add } => {
                            Instr::$cbrn { a, b, add_reg, offset, add }
                        }
                        Instr::$cbrn { a, b, add_reg, offset, add } => {
                            Instr::$cbr { a, b, add_reg, offset, add }
                        }
                    )*
                    Instr::BrEqz { cond, add_reg, offset, add } => {
                        Instr::BrNez { cond, add_reg, offset, add }
                    }
                    Instr::BrNez { cond, add_reg, offset, add } => {
                        Instr::BrEqz { cond, add_reg, offset, add }
                    }
                    Instr::BrI64Eqz { cond, add_reg, offset, add } => {
                        Instr::BrI64Nez { cond, add_reg, offset, add }
                    }
                    Instr::BrI64Nez { cond, add_reg, offset, add } => {
                        Instr::BrI64Eqz { cond, add_reg, offset, add }
                    }
                    Instr::BrI32NeLoad8U { a, addr, index, offset, mem_offset } => {
                        Instr::BrI32EqLoad8U { a, addr, index, offset, mem_offset }
                    }
                    Instr::BrI32EqLoad8U { a, addr, index, offset, mem_offset } => {
                        Instr::BrI32NeLoad8U { a, addr, index, offset, mem_offset }
                    }
                    _ => return None,
                })
            }
        }
    };
}

/// The constant a compare-branch of form `PRE` adds to its first operand (a loop
/// counter's step), or `I32AddImm2` to its operands. A type of its own, so that it is
/// not taken for a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step(pub i16);

/// What a loop counter advances by, for [`Instr::pre_add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Addend {
    Const(i16),
    Reg(Reg),
}

/// A field of a hand-written [`Instr`] variant, for [`Instr::regs_mut`]: a [`Reg`] is a
/// register operand; every other field type is not. (So a hand-written variant must not
/// use `i16`, the type behind `Reg`, for anything but registers.)
trait Operand {
    fn visit(&mut self, f: &mut impl FnMut(&mut Reg));
}

impl Operand for Reg {
    fn visit(&mut self, f: &mut impl FnMut(&mut Reg)) {
        f(self)
    }
}

macro_rules! not_operands {
    ($($t:ty),*) => {$(
        impl Operand for $t {
            fn visit(&mut self, _: &mut impl FnMut(&mut Reg)) {}
        }
    )*};
}
not_operands!(u8, u16, u32, u64, i32, Step, TrapCode);

for_each_op!(define_instr!(
    /// Traps with `code`.
    Trap { code: TrapCode },
    /// `dst = src`.
    Copy { dst: Reg, src: Reg },
    /// `dst = src`, then `dst2 = src2`: two consecutive copies in one dispatch.
    Copy2 { dst: Reg, src: Reg, dst2: Reg, src2: Reg },
    /// Copies `len` consecutive registers from `src..` to `dst..` in ascending order.
    CopySpan { dst: Reg, src: Reg, len: u16 },
    /// Unconditional branch.
    Br { offset: i32 },
    /// Branch if the i32 `cond` is zero. (In this and the next three, form `PRE` first
    /// adds `add`, or register `add_reg` with `ADD_REG`, to `cond`, as for the
    /// compare-branches.)
    BrEqz { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i32 `cond` is not zero.
    BrNez { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i64 `cond` is zero.
    BrI64Eqz { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i64 `cond` is not zero.
    BrI64Nez { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if `a` differs from the byte at `addr + index` (in 32-bit arithmetic, as
    /// form `INDEX` of a load) plus `mem_offset`: an indexed `i32.load8_u` whose value
    /// only the compare-branch after it reads, as in a loop comparing two byte strings.
    /// Traps as the load.
    BrI32NeLoad8U { a: Reg, addr: Reg, index: Reg, offset: i32, mem_offset: u32 },
    /// Branch if `a` equals the byte at `addr + index` plus `mem_offset`, as
    /// `BrI32NeLoad8U`.
    BrI32EqLoad8U { a: Reg, addr: Reg, index: Reg, offset: i32, mem_offset: u32 },
    /// Jumps to entry `min(index, len)` of the `len + 1` `Br` instructions that follow.
    BrTable { index: Reg, len: u32 },
    /// Returns the `len` consecutive registers `src..`.
    Return { src: Reg, len: u16 },
    /// Returns the one-register value `src` (a scalar).
    ReturnOne { src: Reg },
    /// Calls function `func` (`calls[site]` has the rest of the signature). The
    /// arguments are in the registers from `base`, the top of the operand stack: the
    /// callee's frame begins there, and its results are left there. In form `PRE` the
    /// call first sets its first argument, `base = arg + step` (i32; a copy of `arg` when
    /// `step` is 0; `arg` is not `base`, as the slow path may run the call again): the
    /// `fib(n - 1)` or `f(x)` of a one-argument call, computed or copied just before it,
    /// in the same dispatch.
    Call { base: Reg, site: u32, func: u32, arg: Reg, step: Step },
    /// Calls through table element `index` (`calls[site]` names type and table); `ty`
    /// is the expected type index. Arguments and results as for `Call`; in form `PRE`,
    /// first `base = arg` (after `index` is read).
    CallIndirect { base: Reg, index: Reg, arg: Reg, site: u32, ty: u32 },
    /// `dst = a + (b << shift)` (i32, wrapping): a constant `i32.shl` whose result only
    /// the next `i32.add` reads, as in array indexing. This and the eight after it are
    /// the shifted-operand family: an add, xor or or of a register and a shift or
    /// rotation of another by a constant (`shift`, already reduced modulo the width),
    /// which only that operation reads.
    I32AddShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a + (b >> shift)` (i32, logical shift, wrapping add).
    I32AddShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b << shift)` (i32).
    I32XorShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b >> shift)` (i32, logical shift).
    I32XorShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ rotl(b, shift)` (i32; a rotation right by `k` is one left by `32 - k`):
    /// the sums of rotations in SHA-2 and similar hashes.
    I32XorRotl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a | (b << shift)` (i32).
    I32OrShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a | (b >> shift)` (i32, logical shift).
    I32OrShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b << shift)` (i64): the steps of xorshift generators.
    I64XorShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b >> shift)` (i64, logical shift).
    I64XorShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a + (b << shift)` as `I32AddShl`, then `val` = the i32 at `dst + offset`:
    /// the address of an array element kept in a local (the code stores back through
    /// it, as a swap does) and the element loaded from it. Traps as the load, after
    /// `dst` is written.
    I32AddShlLoad { dst: Reg, a: Reg, b: Reg, val: Reg, shift: u8, offset: u32 },
    /// `copy = src`, then `dst` = the i32 at `addr + src * scale` (in 32-bit arithmetic,
    /// as form `INDEX`) `+ offset`: a loop moving its index to a local before it loads
    /// the element at the new one (`i = next; x = a[i]`, as in a merge). The load reads
    /// `src`, which holds what `copy` now does, so it need not wait for the copy.
    CopyI32Load { copy: Reg, src: Reg, dst: Reg, addr: Reg, scale: u8, offset: u32 },
    /// `dst = a / d` (i32, unsigned) for a constant `d >= 2`, by a multiplication:
    /// `magic = ceil(2^64 / d)`, and `a / d = (a * magic) >> 64` for every 32-bit `a`
    /// (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019). A
    /// division takes tens of cycles, the multiplication a few.
    I32DivUMagic { dst: Reg, a: Reg, magic: u64 },
    /// `dst = a - b * imm` (i32, wrapping): a multiplication by a constant whose result
    /// only the next `i32.sub` reads, as its second operand. The remainder `x - (x / d) *
    /// d` as compilers lower `x % d` where the quotient is needed too (digit loops).
    I32SubMulImm { dst: Reg, a: Reg, b: Reg, imm: u32 },
    /// `dst = (a ^ b) * imm` (i32, wrapping): an `i32.xor` whose result only the next
    /// multiplication by a constant reads: the step of FNV-1a hashing.
    I32XorMulImm { dst: Reg, a: Reg, b: Reg, imm: u32 },
    /// `dst = ((a >> shr) & mask) << shl` (i32, logical shifts): the shift and mask of a
    /// bit-field extraction (`shl` 0) or insertion (`shr` 0), whose first result only the
    /// second reads.
    I32ShiftMask { dst: Reg, a: Reg, shr: u8, shl: u8, mask: u32 },
    /// `dst = a | (((b >> shr) & mask) << shl)` (i32): an `I32ShiftMask` whose result
    /// only the next `i32.or` reads.
    I32OrShiftMask { dst: Reg, a: Reg, b: Reg, shr: u8, shl: u8, mask: u32 },
    /// `dst = a + imm`, then `dst2 = a2 + imm2` (i32, wrapping): two consecutive
    /// increments of locals.
    I32AddImm2 { dst: Reg, a: Reg, dst2: Reg, a2: Reg, imm: Step, imm2: Step },
    /// `dst = a + b`, then `dst2 = a2 + b2` (i32, wrapping): two consecutive adds into
    /// locals that are not both small constant increments (a constant addend is read
    /// from its constant register), such as a loop's strength-reduced induction
    /// variables stepping together.
    I32Add2 { dst: Reg, a: Reg, b: Reg, dst2: Reg, a2: Reg, b2: Reg },
    /// `dst` = the unsigned minimum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MinU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned maximum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MaxU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed minimum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MinS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed maximum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MaxS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned minimum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MinU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned maximum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MaxU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed minimum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MinS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed maximum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MaxS { dst: Reg, a: Reg, b: Reg },
    /// `dst = a + load(addr + offset)` (f64): a load whose value only the next `f64.add`
    /// reads, as its second operand.
    F64AddLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `dst = a * load(addr + offset)` (f64), as `F64AddLoad`.
    F64MulLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `dst = a + load(addr + offset)` (i32), as `F64AddLoad`.
    I32AddLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `store(addr + offset, a + load(addr + offset))` (f64): an `F64AddLoad` whose sum
    /// only the store back to the same address reads, `c[j] += x` (the update of a
    /// matrix product or an axpy). Traps as the load.
    F64AddInPlace { a: Reg, addr: Reg, offset: u32 },
    /// `store(addr + offset, a + load(addr + offset))` (i32), as `F64AddInPlace`:
    /// `count[k] += x`.
    I32AddInPlace { a: Reg, addr: Reg, offset: u32 },
    /// `i32.eqz`.
    I32Eqz { dst: Reg, src: Reg },
    /// `i64.eqz` (also `ref.is_null`).
    I64Eqz { dst: Reg, src: Reg },
    /// `dst = cond != 0 ? a : b`.
    Select { dst: Reg, cond: Reg, a: Reg, b: Reg },
    /// `dst = global[index]`.
    GlobalGet { dst: Reg, index: u32 },
    /// `global[index] = src`.
    GlobalSet { src: Reg, index: u32 },
    /// `dst = memory.size`.
    MemorySize { dst: Reg },
    /// `dst = memory.grow(delta)`.
    MemoryGrow { dst: Reg, delta: Reg },
    /// `memory.fill(dst, val, len)`.
    MemoryFill { dst: Reg, val: Reg, len: Reg },
    /// `memory.copy(dst, src, len)`.
    MemoryCopy { dst: Reg, src: Reg, len: Reg },
    /// `memory.init data (dst, src, len)`.
    MemoryInit { data: u32, dst: Reg, src: Reg, len: Reg },
    /// `data.drop data`.
    DataDrop { data: u32 },
    /// `dst = table[index]`.
    TableGet { dst: Reg, index: Reg, table: u32 },
    /// `table[index] = val`.
    TableSet { index: Reg, val: Reg, table: u32 },
    /// `dst = table.size`.
    TableSize { dst: Reg, table: u32 },
    /// `dst = table.grow(init, delta)`.
    TableGrow { dst: Reg, init: Reg, delta: Reg, table: u32 },
    /// `table.fill(dst, val, len)`.
    TableFill { dst: Reg, val: Reg, len: Reg, table: u32 },
    /// `table.copy dst_table src_table (dst, src, len)`.
    TableCopy { dst: Reg, src: Reg, len: Reg, dst_table: u32, src_table: u32 },
    /// `table.init table elem (dst, src, len)`.
    TableInit { dst: Reg, src: Reg, len: Reg, table: u32, elem: u32 },
    /// `elem.drop elem`.
    ElemDrop { elem: u32 },
    /// `dst = ref.func func`.
    RefFunc { dst: Reg, func: u32 },
    /// `dst = src` for a v128 (two registers; both read before either is written).
    CopyV128 { dst: Reg, src: Reg },
    /// `dst = cond != 0 ? a : b` for v128 operands.
    SelectV128 { dst: Reg, cond: Reg, a: Reg, b: Reg },
    /// `dst = global[index]` for a v128 global.
    GlobalGetV128 { dst: Reg, index: u32 },
    /// `global[index] = src` for a v128 global.
    GlobalSetV128 { src: Reg, index: u32 },
    /// `dst = v128.bitselect(a, b, c)`.
    V128Bitselect { dst: Reg, a: Reg, b: Reg, c: Reg },
    /// `dst = i8x16.shuffle(a, b)` with the lane indices in the v128 constant `mask`.
    I8x16Shuffle { dst: Reg, a: Reg, b: Reg, mask: Reg },
));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instr_is_compact() {
        assert!(core::mem::size_of::<Instr>() <= 16);
    }

    #[test]
    fn op_table_is_dense() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
    }

    #[test]
    fn tag_matches_op() {
        let samples = [
            Instr::Trap {
                code: TrapCode::Unreachable,
            },
            Instr::Copy { dst: 1, src: -2 },
            Instr::I32Add { dst: 1, a: 2, b: 3 },
            Instr::F64Sqrt { dst: 1, src: 2 },
            Instr::BrI32LtS {
                a: 1,
                b: 2,
                add_reg: 3,
                offset: -7,
                add: Step(1),
            },
            Instr::BrI64NotGeUImm {
                a: 1,
                imm: 2,
                add_reg: 0,
                offset: 9,
                add: Step(-1),
            },
            Instr::F64Load {
                dst: 1,
                addr: 2,
                index: 4,
                scale: 8,
                offset: 3,
            },
            Instr::I64Store32 {
                addr: 1,
                val: 2,
                index: 3,
                scale: 4,
                offset: 3,
            },
            Instr::I8x16Shuffle {
                dst: 1,
                a: 2,
                b: 3,
                mask: -4,
            },
            Instr::V128Store64Lane {
                addr: 1,
                val: 2,
                lane: 1,
                offset: 5,
            },
        ];
        for i in samples {
            assert_eq!(i.tag(), i.op() as u16);
        }
    }
}
