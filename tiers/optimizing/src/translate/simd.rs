//! 128-bit SIMD: constants, splats, lanes, shuffles, bitwise operators, integer and float
//! lane arithmetic, comparisons, narrowing, widening and conversions. (Loads and stores of
//! vectors are in `simd_memory.rs`.)
//!
//! A `v128` on the operand stack is always an `i8x16`; each operator bitcasts its operands
//! to the lane type it works on ([`Translator::pop_vector`]) and its result back
//! ([`Translator::push_vector`]). Cranelift folds the bitcast pairs away. Most operators
//! are one Cranelift instruction with wasm's semantics (`swizzle` zeroes out-of-range
//! lanes, shifts take the count modulo the lane width, `fmin`/`fmax` propagate NaN,
//! saturating conversions saturate); the pseudo-minimum and -maximum, the extended
//! multiplications, the pairwise additions, the dot product and the `_zero` conversions
//! are short sequences.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, Endianness, InstBuilder, MemFlagsData, Value, types};
use tierup_abi::CompileError;
use wasmparser::Operator;

use super::Translator;

/// The flags of a bitcast between vector types: lanes in little-endian order.
fn lanes() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl Translator<'_, '_> {
    /// `v` as a vector of type `ty`.
    pub(super) fn as_vector(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().bitcast(ty, lanes(), v)
        }
    }

    /// Pops a `v128` as a vector of type `ty`.
    pub(super) fn pop_vector(&mut self, ty: ir::Type) -> Result<Value, CompileError> {
        let v = self.pop()?;
        Ok(self.as_vector(v, ty))
    }

    /// Pushes a vector of any type as a `v128` (`i8x16`).
    pub(super) fn push_vector(&mut self, v: Value) {
        let v = self.as_vector(v, types::I8X16);
        self.push(v);
    }

    /// A vector of type `ty` with all bits zero.
    fn zero_vector(&mut self, ty: ir::Type) -> Value {
        let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
        self.b.ins().vconst(ty, c)
    }

    /// SIMD operators other than loads and stores.
    pub(super) fn translate_simd(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64X2};
        macro_rules! unary {
            ($ty:expr, $method:ident) => {{
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().$method(a);
                self.push_vector(v);
            }};
        }
        macro_rules! binary {
            ($ty:expr, $method:ident) => {{
                let b = self.pop_vector($ty)?;
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().$method(a, b);
                self.push_vector(v);
            }};
        }
        macro_rules! icmp {
            ($ty:expr, $cc:expr) => {{
                let b = self.pop_vector($ty)?;
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().icmp($cc, a, b);
                self.push_vector(v);
            }};
        }
        macro_rules! fcmp {
            ($ty:expr, $cc:expr) => {{
                let b = self.pop_vector($ty)?;
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().fcmp($cc, a, b);
                self.push_vector(v);
            }};
        }
        macro_rules! shift {
            ($ty:expr, $method:ident) => {{
                let count = self.pop()?;
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().$method(a, count);
                self.push_vector(v);
            }};
        }
        macro_rules! widen {
            ($from:expr, $method:ident) => {{
                let a = self.pop_vector($from)?;
                let v = self.b.ins().$method(a);
                self.push_vector(v);
            }};
        }
        macro_rules! ext_mul {
            ($from:expr, $widen:ident) => {{
                let b = self.pop_vector($from)?;
                let a = self.pop_vector($from)?;
                let a = self.b.ins().$widen(a);
                let b = self.b.ins().$widen(b);
                let v = self.b.ins().imul(a, b);
                self.push_vector(v);
            }};
        }
        macro_rules! ext_add_pairwise {
            ($from:expr, $low:ident, $high:ident) => {{
                let a = self.pop_vector($from)?;
                let low = self.b.ins().$low(a);
                let high = self.b.ins().$high(a);
                let v = self.b.ins().iadd_pairwise(low, high);
                self.push_vector(v);
            }};
        }
        macro_rules! all_true {
            ($ty:expr) => {{
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().vall_true(a);
                self.push_bool(v);
            }};
        }
        macro_rules! bitmask {
            ($ty:expr) => {{
                let a = self.pop_vector($ty)?;
                let v = self.b.ins().vhigh_bits(I32, a);
                self.push(v);
            }};
        }
        macro_rules! splat {
            ($ty:expr, $narrow:expr) => {{
                let mut x = self.pop()?;
                if let Some(narrow) = $narrow {
                    x = self.b.ins().ireduce(narrow, x);
                }
                let v = self.b.ins().splat($ty, x);
                self.push_vector(v);
            }};
        }
        macro_rules! extract {
            ($ty:expr, $lane:expr, $extend:ident) => {{
                let a = self.pop_vector($ty)?;
                let x = self.b.ins().extractlane(a, $lane);
                let x = self.b.ins().$extend(I32, x);
                self.push(x);
            }};
            ($ty:expr, $lane:expr) => {{
                let a = self.pop_vector($ty)?;
                let x = self.b.ins().extractlane(a, $lane);
                self.push(x);
            }};
        }
        macro_rules! replace {
            ($ty:expr, $lane:expr, $narrow:expr) => {{
                let mut x = self.pop()?;
                let a = self.pop_vector($ty)?;
                if let Some(narrow) = $narrow {
                    x = self.b.ins().ireduce(narrow, x);
                }
                let v = self.b.ins().insertlane(a, x, $lane);
                self.push_vector(v);
            }};
        }
        match *op {
            O::V128Const { value } => {
                let c = self
                    .b
                    .func
                    .dfg
                    .constants
                    .insert(value.bytes().to_vec().into());
                let v = self.b.ins().vconst(I8X16, c);
                self.push(v);
            }
            O::I8x16Splat => splat!(I8X16, Some(I8)),
            O::I16x8Splat => splat!(I16X8, Some(I16)),
            O::I32x4Splat => splat!(I32X4, None),
            O::I64x2Splat => splat!(I64X2, None),
            O::F32x4Splat => splat!(F32X4, None),
            O::F64x2Splat => splat!(F64X2, None),

            O::I8x16ExtractLaneS { lane } => extract!(I8X16, lane, sextend),
            O::I8x16ExtractLaneU { lane } => extract!(I8X16, lane, uextend),
            O::I16x8ExtractLaneS { lane } => extract!(I16X8, lane, sextend),
            O::I16x8ExtractLaneU { lane } => extract!(I16X8, lane, uextend),
            O::I32x4ExtractLane { lane } => extract!(I32X4, lane),
            O::I64x2ExtractLane { lane } => extract!(I64X2, lane),
            O::F32x4ExtractLane { lane } => extract!(F32X4, lane),
            O::F64x2ExtractLane { lane } => extract!(F64X2, lane),
            O::I8x16ReplaceLane { lane } => replace!(I8X16, lane, Some(I8)),
            O::I16x8ReplaceLane { lane } => replace!(I16X8, lane, Some(I16)),
            O::I32x4ReplaceLane { lane } => replace!(I32X4, lane, None),
            O::I64x2ReplaceLane { lane } => replace!(I64X2, lane, None),
            O::F32x4ReplaceLane { lane } => replace!(F32X4, lane, None),
            O::F64x2ReplaceLane { lane } => replace!(F64X2, lane, None),

            O::I8x16Shuffle { lanes } => {
                let (a, b) = self.pop2()?;
                let mask = self.b.func.dfg.immediates.push(lanes.to_vec().into());
                let v = self.b.ins().shuffle(a, b, mask);
                self.push(v);
            }
            O::I8x16Swizzle => binary!(I8X16, swizzle),

            O::V128Not => unary!(I8X16, bnot),
            O::V128And => binary!(I8X16, band),
            O::V128AndNot => binary!(I8X16, band_not),
            O::V128Or => binary!(I8X16, bor),
            O::V128Xor => binary!(I8X16, bxor),
            O::V128Bitselect => {
                let (a, b, mask) = self.pop3()?;
                let v = self.b.ins().bitselect(mask, a, b);
                self.push(v);
            }
            O::V128AnyTrue => {
                let a = self.pop_vector(I8X16)?;
                let v = self.b.ins().vany_true(a);
                self.push_bool(v);
            }

            O::I8x16Eq => icmp!(I8X16, IntCC::Equal),
            O::I8x16Ne => icmp!(I8X16, IntCC::NotEqual),
            O::I8x16LtS => icmp!(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => icmp!(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => icmp!(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => icmp!(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => icmp!(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => icmp!(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => icmp!(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => icmp!(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => icmp!(I16X8, IntCC::Equal),
            O::I16x8Ne => icmp!(I16X8, IntCC::NotEqual),
            O::I16x8LtS => icmp!(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => icmp!(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => icmp!(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => icmp!(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => icmp!(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => icmp!(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => icmp!(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => icmp!(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => icmp!(I32X4, IntCC::Equal),
            O::I32x4Ne => icmp!(I32X4, IntCC::NotEqual),
            O::I32x4LtS => icmp!(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => icmp!(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => icmp!(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => icmp!(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => icmp!(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => icmp!(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => icmp!(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => icmp!(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => icmp!(I64X2, IntCC::Equal),
            O::I64x2Ne => icmp!(I64X2, IntCC::NotEqual),
            O::I64x2LtS => icmp!(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => icmp!(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => icmp!(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => icmp!(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => fcmp!(F32X4, FloatCC::Equal),
            O::F32x4Ne => fcmp!(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => fcmp!(F32X4, FloatCC::LessThan),
            O::F32x4Gt => fcmp!(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => fcmp!(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => fcmp!(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => fcmp!(F64X2, FloatCC::Equal),
            O::F64x2Ne => fcmp!(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => fcmp!(F64X2, FloatCC::LessThan),
            O::F64x2Gt => fcmp!(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => fcmp!(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => fcmp!(F64X2, FloatCC::GreaterThanOrEqual),

            O::I8x16Abs => unary!(I8X16, iabs),
            O::I16x8Abs => unary!(I16X8, iabs),
            O::I32x4Abs => unary!(I32X4, iabs),
            O::I64x2Abs => unary!(I64X2, iabs),
            O::I8x16Neg => unary!(I8X16, ineg),
            O::I16x8Neg => unary!(I16X8, ineg),
            O::I32x4Neg => unary!(I32X4, ineg),
            O::I64x2Neg => unary!(I64X2, ineg),
            O::I8x16Popcnt => unary!(I8X16, popcnt),
            O::I8x16AllTrue => all_true!(I8X16),
            O::I16x8AllTrue => all_true!(I16X8),
            O::I32x4AllTrue => all_true!(I32X4),
            O::I64x2AllTrue => all_true!(I64X2),
            O::I8x16Bitmask => bitmask!(I8X16),
            O::I16x8Bitmask => bitmask!(I16X8),
            O::I32x4Bitmask => bitmask!(I32X4),
            O::I64x2Bitmask => bitmask!(I64X2),

            O::I8x16Shl => shift!(I8X16, ishl),
            O::I8x16ShrS => shift!(I8X16, sshr),
            O::I8x16ShrU => shift!(I8X16, ushr),
            O::I16x8Shl => shift!(I16X8, ishl),
            O::I16x8ShrS => shift!(I16X8, sshr),
            O::I16x8ShrU => shift!(I16X8, ushr),
            O::I32x4Shl => shift!(I32X4, ishl),
            O::I32x4ShrS => shift!(I32X4, sshr),
            O::I32x4ShrU => shift!(I32X4, ushr),
            O::I64x2Shl => shift!(I64X2, ishl),
            O::I64x2ShrS => shift!(I64X2, sshr),
            O::I64x2ShrU => shift!(I64X2, ushr),

            O::I8x16Add => binary!(I8X16, iadd),
            O::I16x8Add => binary!(I16X8, iadd),
            O::I32x4Add => binary!(I32X4, iadd),
            O::I64x2Add => binary!(I64X2, iadd),
            O::I8x16Sub => binary!(I8X16, isub),
            O::I16x8Sub => binary!(I16X8, isub),
            O::I32x4Sub => binary!(I32X4, isub),
            O::I64x2Sub => binary!(I64X2, isub),
            O::I16x8Mul => binary!(I16X8, imul),
            O::I32x4Mul => binary!(I32X4, imul),
            O::I64x2Mul => binary!(I64X2, imul),
            O::I8x16AddSatS => binary!(I8X16, sadd_sat),
            O::I8x16AddSatU => binary!(I8X16, uadd_sat),
            O::I8x16SubSatS => binary!(I8X16, ssub_sat),
            O::I8x16SubSatU => binary!(I8X16, usub_sat),
            O::I16x8AddSatS => binary!(I16X8, sadd_sat),
            O::I16x8AddSatU => binary!(I16X8, uadd_sat),
            O::I16x8SubSatS => binary!(I16X8, ssub_sat),
            O::I16x8SubSatU => binary!(I16X8, usub_sat),
            O::I8x16MinS => binary!(I8X16, smin),
            O::I8x16MinU => binary!(I8X16, umin),
            O::I8x16MaxS => binary!(I8X16, smax),
            O::I8x16MaxU => binary!(I8X16, umax),
            O::I16x8MinS => binary!(I16X8, smin),
            O::I16x8MinU => binary!(I16X8, umin),
            O::I16x8MaxS => binary!(I16X8, smax),
            O::I16x8MaxU => binary!(I16X8, umax),
            O::I32x4MinS => binary!(I32X4, smin),
            O::I32x4MinU => binary!(I32X4, umin),
            O::I32x4MaxS => binary!(I32X4, smax),
            O::I32x4MaxU => binary!(I32X4, umax),
            O::I8x16AvgrU => binary!(I8X16, avg_round),
            O::I16x8AvgrU => binary!(I16X8, avg_round),
            O::I16x8Q15MulrSatS => binary!(I16X8, sqmul_round_sat),

            O::I8x16NarrowI16x8S => binary!(I16X8, snarrow),
            O::I8x16NarrowI16x8U => binary!(I16X8, unarrow),
            O::I16x8NarrowI32x4S => binary!(I32X4, snarrow),
            O::I16x8NarrowI32x4U => binary!(I32X4, unarrow),
            O::I16x8ExtendLowI8x16S => widen!(I8X16, swiden_low),
            O::I16x8ExtendHighI8x16S => widen!(I8X16, swiden_high),
            O::I16x8ExtendLowI8x16U => widen!(I8X16, uwiden_low),
            O::I16x8ExtendHighI8x16U => widen!(I8X16, uwiden_high),
            O::I32x4ExtendLowI16x8S => widen!(I16X8, swiden_low),
            O::I32x4ExtendHighI16x8S => widen!(I16X8, swiden_high),
            O::I32x4ExtendLowI16x8U => widen!(I16X8, uwiden_low),
            O::I32x4ExtendHighI16x8U => widen!(I16X8, uwiden_high),
            O::I64x2ExtendLowI32x4S => widen!(I32X4, swiden_low),
            O::I64x2ExtendHighI32x4S => widen!(I32X4, swiden_high),
            O::I64x2ExtendLowI32x4U => widen!(I32X4, uwiden_low),
            O::I64x2ExtendHighI32x4U => widen!(I32X4, uwiden_high),
            O::I16x8ExtMulLowI8x16S => ext_mul!(I8X16, swiden_low),
            O::I16x8ExtMulHighI8x16S => ext_mul!(I8X16, swiden_high),
            O::I16x8ExtMulLowI8x16U => ext_mul!(I8X16, uwiden_low),
            O::I16x8ExtMulHighI8x16U => ext_mul!(I8X16, uwiden_high),
            O::I32x4ExtMulLowI16x8S => ext_mul!(I16X8, swiden_low),
            O::I32x4ExtMulHighI16x8S => ext_mul!(I16X8, swiden_high),
            O::I32x4ExtMulLowI16x8U => ext_mul!(I16X8, uwiden_low),
            O::I32x4ExtMulHighI16x8U => ext_mul!(I16X8, uwiden_high),
            O::I64x2ExtMulLowI32x4S => ext_mul!(I32X4, swiden_low),
            O::I64x2ExtMulHighI32x4S => ext_mul!(I32X4, swiden_high),
            O::I64x2ExtMulLowI32x4U => ext_mul!(I32X4, uwiden_low),
            O::I64x2ExtMulHighI32x4U => ext_mul!(I32X4, uwiden_high),
            O::I16x8ExtAddPairwiseI8x16S => ext_add_pairwise!(I8X16, swiden_low, swiden_high),
            O::I16x8ExtAddPairwiseI8x16U => ext_add_pairwise!(I8X16, uwiden_low, uwiden_high),
            O::I32x4ExtAddPairwiseI16x8S => ext_add_pairwise!(I16X8, swiden_low, swiden_high),
            O::I32x4ExtAddPairwiseI16x8U => ext_add_pairwise!(I16X8, uwiden_low, uwiden_high),
            O::I32x4DotI16x8S => {
                let b = self.pop_vector(I16X8)?;
                let a = self.pop_vector(I16X8)?;
                let (a_low, b_low) = (self.b.ins().swiden_low(a), self.b.ins().swiden_low(b));
                let low = self.b.ins().imul(a_low, b_low);
                let (a_high, b_high) = (self.b.ins().swiden_high(a), self.b.ins().swiden_high(b));
                let high = self.b.ins().imul(a_high, b_high);
                let v = self.b.ins().iadd_pairwise(low, high);
                self.push_vector(v);
            }

            O::F32x4Ceil => unary!(F32X4, ceil),
            O::F32x4Floor => unary!(F32X4, floor),
            O::F32x4Trunc => unary!(F32X4, trunc),
            O::F32x4Nearest => unary!(F32X4, nearest),
            O::F32x4Abs => unary!(F32X4, fabs),
            O::F32x4Neg => unary!(F32X4, fneg),
            O::F32x4Sqrt => unary!(F32X4, sqrt),
            O::F32x4Add => binary!(F32X4, fadd),
            O::F32x4Sub => binary!(F32X4, fsub),
            O::F32x4Mul => binary!(F32X4, fmul),
            O::F32x4Div => binary!(F32X4, fdiv),
            O::F32x4Min => binary!(F32X4, fmin),
            O::F32x4Max => binary!(F32X4, fmax),
            O::F32x4PMin => self.pseudo_min_max(F32X4, true)?,
            O::F32x4PMax => self.pseudo_min_max(F32X4, false)?,
            O::F64x2Ceil => unary!(F64X2, ceil),
            O::F64x2Floor => unary!(F64X2, floor),
            O::F64x2Trunc => unary!(F64X2, trunc),
            O::F64x2Nearest => unary!(F64X2, nearest),
            O::F64x2Abs => unary!(F64X2, fabs),
            O::F64x2Neg => unary!(F64X2, fneg),
            O::F64x2Sqrt => unary!(F64X2, sqrt),
            O::F64x2Add => binary!(F64X2, fadd),
            O::F64x2Sub => binary!(F64X2, fsub),
            O::F64x2Mul => binary!(F64X2, fmul),
            O::F64x2Div => binary!(F64X2, fdiv),
            O::F64x2Min => binary!(F64X2, fmin),
            O::F64x2Max => binary!(F64X2, fmax),
            O::F64x2PMin => self.pseudo_min_max(F64X2, true)?,
            O::F64x2PMax => self.pseudo_min_max(F64X2, false)?,

            O::I32x4TruncSatF32x4S => {
                let a = self.pop_vector(F32X4)?;
                let v = self.b.ins().fcvt_to_sint_sat(I32X4, a);
                self.push_vector(v);
            }
            O::I32x4TruncSatF32x4U => {
                let a = self.pop_vector(F32X4)?;
                let v = self.b.ins().fcvt_to_uint_sat(I32X4, a);
                self.push_vector(v);
            }
            O::I32x4TruncSatF64x2SZero => {
                let a = self.pop_vector(F64X2)?;
                let wide = self.b.ins().fcvt_to_sint_sat(I64X2, a);
                let zero = self.zero_vector(I64X2);
                let v = self.b.ins().snarrow(wide, zero);
                self.push_vector(v);
            }
            O::I32x4TruncSatF64x2UZero => {
                let a = self.pop_vector(F64X2)?;
                let wide = self.b.ins().fcvt_to_uint_sat(I64X2, a);
                let zero = self.zero_vector(I64X2);
                let v = self.b.ins().uunarrow(wide, zero);
                self.push_vector(v);
            }
            O::F32x4ConvertI32x4S => {
                let a = self.pop_vector(I32X4)?;
                let v = self.b.ins().fcvt_from_sint(F32X4, a);
                self.push_vector(v);
            }
            O::F32x4ConvertI32x4U => {
                let a = self.pop_vector(I32X4)?;
                let v = self.b.ins().fcvt_from_uint(F32X4, a);
                self.push_vector(v);
            }
            O::F64x2ConvertLowI32x4S => {
                let a = self.pop_vector(I32X4)?;
                let wide = self.b.ins().swiden_low(a);
                let v = self.b.ins().fcvt_from_sint(F64X2, wide);
                self.push_vector(v);
            }
            O::F64x2ConvertLowI32x4U => {
                let a = self.pop_vector(I32X4)?;
                let wide = self.b.ins().uwiden_low(a);
                let v = self.b.ins().fcvt_from_uint(F64X2, wide);
                self.push_vector(v);
            }
            O::F32x4DemoteF64x2Zero => widen!(F64X2, fvdemote),
            O::F64x2PromoteLowF32x4 => widen!(F32X4, fvpromote_low),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `pmin` (`b < a ? b : a`) or `pmax` (`a < b ? b : a`), lane-wise.
    fn pseudo_min_max(&mut self, ty: ir::Type, min: bool) -> Result<(), CompileError> {
        let b = self.pop_vector(ty)?;
        let a = self.pop_vector(ty)?;
        let take_b = if min {
            self.b.ins().fcmp(FloatCC::LessThan, b, a)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, a, b)
        };
        let mask = self.as_vector(take_b, ty);
        let v = self.b.ins().bitselect(mask, b, a);
        self.push_vector(v);
        Ok(())
    }
}
