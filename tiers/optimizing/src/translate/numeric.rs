//! Scalar numerics: constants, comparisons, integer and float arithmetic.
//!
//! Cranelift's instructions already have wasm's semantics where it matters: shift counts
//! are taken modulo the width, `sdiv`/`udiv`/`srem`/`urem` trap on a zero divisor and
//! `sdiv` on `MIN / -1` (trap sites with Cranelift's own codes), `srem` of `MIN % -1` is 0,
//! `fmin`/`fmax` propagate NaN and order -0 below +0, and `nearest` rounds to even.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, types};
use tierup_abi::CompileError;
use wasmparser::Operator;

use super::Translator;

impl Translator<'_, '_> {
    fn icmp(&mut self, cc: IntCC) -> Result<(), CompileError> {
        let (a, b) = self.pop2()?;
        let v = self.b.ins().icmp(cc, a, b);
        self.push_bool(v);
        Ok(())
    }

    fn fcmp(&mut self, cc: FloatCC) -> Result<(), CompileError> {
        let (a, b) = self.pop2()?;
        let v = self.b.ins().fcmp(cc, a, b);
        self.push_bool(v);
        Ok(())
    }

    fn eqz(&mut self) -> Result<(), CompileError> {
        let a = self.pop()?;
        let v = self.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
        self.push_bool(v);
        Ok(())
    }

    /// Scalar numeric operators.
    pub(super) fn translate_numeric(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        macro_rules! unary {
            ($method:ident) => {{
                let a = self.pop()?;
                let v = self.b.ins().$method(a);
                self.push(v);
            }};
        }
        macro_rules! binary {
            ($method:ident) => {{
                let (a, b) = self.pop2()?;
                let v = self.b.ins().$method(a, b);
                self.push(v);
            }};
        }
        match *op {
            O::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            O::I32Eqz | O::I64Eqz => self.eqz()?,
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal)?,
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual)?,
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan)?,
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan)?,
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan)?,
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan)?,
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual)?,
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual)?,
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual)?,
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual)?,

            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal)?,
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual)?,
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan)?,
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan)?,
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual)?,
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual)?,

            O::I32Clz | O::I64Clz => unary!(clz),
            O::I32Ctz | O::I64Ctz => unary!(ctz),
            O::I32Popcnt | O::I64Popcnt => unary!(popcnt),
            O::I32Add | O::I64Add => binary!(iadd),
            O::I32Sub | O::I64Sub => binary!(isub),
            O::I32Mul | O::I64Mul => binary!(imul),
            O::I32DivS | O::I64DivS => binary!(sdiv),
            O::I32DivU | O::I64DivU => binary!(udiv),
            O::I32RemS | O::I64RemS => binary!(srem),
            O::I32RemU | O::I64RemU => binary!(urem),
            O::I32And | O::I64And => binary!(band),
            O::I32Or | O::I64Or => binary!(bor),
            O::I32Xor | O::I64Xor => binary!(bxor),
            O::I32Shl | O::I64Shl => binary!(ishl),
            O::I32ShrS | O::I64ShrS => binary!(sshr),
            O::I32ShrU | O::I64ShrU => binary!(ushr),
            O::I32Rotl | O::I64Rotl => binary!(rotl),
            O::I32Rotr | O::I64Rotr => binary!(rotr),

            O::F32Abs | O::F64Abs => unary!(fabs),
            O::F32Neg | O::F64Neg => unary!(fneg),
            O::F32Ceil | O::F64Ceil => unary!(ceil),
            O::F32Floor | O::F64Floor => unary!(floor),
            O::F32Trunc | O::F64Trunc => unary!(trunc),
            O::F32Nearest | O::F64Nearest => unary!(nearest),
            O::F32Sqrt | O::F64Sqrt => unary!(sqrt),
            O::F32Add | O::F64Add => binary!(fadd),
            O::F32Sub | O::F64Sub => binary!(fsub),
            O::F32Mul | O::F64Mul => binary!(fmul),
            O::F32Div | O::F64Div => binary!(fdiv),
            O::F32Min | O::F64Min => binary!(fmin),
            O::F32Max | O::F64Max => binary!(fmax),
            O::F32Copysign | O::F64Copysign => binary!(fcopysign),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
