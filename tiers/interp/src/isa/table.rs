//! The instruction table: every wasm operator that maps to one instruction of a fixed
//! shape, one row each, grouped by shape. [`define_instr!`](super::define) turns the
//! rows into [`Instr`](super::Instr) variants, and [`for_each_row!`](super::for_each_row)
//! hands them to the executor and the translator, one row at a time.
//!
//! A row names the operator (as `wasmparser::Operator` does, so the translator maps it
//! mechanically), the instructions derived from it (an immediate form, fused branches),
//! the Rust types its operands are read as (see `regs::Bits`) and the function that
//! computes it (`Result` for operators that may trap). A group's shape:
//!
//! | group | row | instructions |
//! |---|---|---|
//! | `binary`, `binary_trap` | `Op / OpImm (A, B) -> R = f` | `dst = a op b`, `dst = a op imm` |
//! | `unary`, `unary_trap` | `Op (A) -> R = f` | `dst = op src` |
//! | `compare` | `Op / BrOp / BrNotOp (T) [BrOpImm / BrNotOpImm] = f` | value, branch if, branch unless, and with a small constant |
//! | `load` | `Op [bytes] -> T = f` | `dst = f(bytes at addr + offset)` |
//! | `store` | `Op [bytes] (T) = f` | `bytes at addr + offset = f(val)` |
//! | `vbinary`, `vunary` | `Op = f` | v128 lane operations (types from `f`'s signature) |
//! | `extract`, `replace` | `Op = f` | lane access with a constant lane |
//! | `vload`, `vstore`, `load_lane`, `store_lane` | `Op [bytes] = f` | v128 memory access |
//!
//! Adding an operator of an existing shape is one row; its handler and its translation
//! come from the group.

/// Calls `$cb! { ($($args)*) groups... }` with the instruction table, in the grouped shape
/// above. Only [`define_instr!`](super::define) reads this shape; everything else takes
/// the rows one at a time from [`for_each_row!`](super::for_each_row).
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
