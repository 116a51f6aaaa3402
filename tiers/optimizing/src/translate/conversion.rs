//! Conversions: wrapping and extension, trapping and saturating float-to-int truncation,
//! int-to-float conversion, promotion and demotion, reinterpretation and sign extension.
//!
//! `fcvt_to_sint`/`fcvt_to_uint` trap with Cranelift's `BAD_CONVERSION_TO_INTEGER` on NaN
//! and `INTEGER_OVERFLOW` out of range, which are wasm's two traps of a truncation.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, types};
use tierup_abi::CompileError;
use wasmparser::Operator;

use super::Translator;

impl Translator<'_, '_> {
    /// Conversion operators.
    pub(super) fn translate_conversion(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{F32, F64, I8, I16, I32, I64};
        macro_rules! convert {
            ($method:ident, $ty:expr) => {{
                let a = self.pop()?;
                let v = self.b.ins().$method($ty, a);
                self.push(v);
            }};
        }
        macro_rules! sign_extend {
            ($from:expr, $to:expr) => {{
                let a = self.pop()?;
                let narrow = self.b.ins().ireduce($from, a);
                let v = self.b.ins().sextend($to, narrow);
                self.push(v);
            }};
        }
        match *op {
            O::I32WrapI64 => convert!(ireduce, I32),
            O::I64ExtendI32S => convert!(sextend, I64),
            O::I64ExtendI32U => convert!(uextend, I64),

            O::I32TruncF32S | O::I32TruncF64S => convert!(fcvt_to_sint, I32),
            O::I32TruncF32U | O::I32TruncF64U => convert!(fcvt_to_uint, I32),
            O::I64TruncF32S | O::I64TruncF64S => convert!(fcvt_to_sint, I64),
            O::I64TruncF32U | O::I64TruncF64U => convert!(fcvt_to_uint, I64),
            O::I32TruncSatF32S | O::I32TruncSatF64S => convert!(fcvt_to_sint_sat, I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => convert!(fcvt_to_uint_sat, I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => convert!(fcvt_to_sint_sat, I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => convert!(fcvt_to_uint_sat, I64),

            O::F32ConvertI32S | O::F32ConvertI64S => convert!(fcvt_from_sint, F32),
            O::F32ConvertI32U | O::F32ConvertI64U => convert!(fcvt_from_uint, F32),
            O::F64ConvertI32S | O::F64ConvertI64S => convert!(fcvt_from_sint, F64),
            O::F64ConvertI32U | O::F64ConvertI64U => convert!(fcvt_from_uint, F64),
            O::F32DemoteF64 => convert!(fdemote, F32),
            O::F64PromoteF32 => convert!(fpromote, F64),

            O::I32ReinterpretF32 => self.reinterpret(I32)?,
            O::I64ReinterpretF64 => self.reinterpret(I64)?,
            O::F32ReinterpretI32 => self.reinterpret(F32)?,
            O::F64ReinterpretI64 => self.reinterpret(F64)?,

            O::I32Extend8S => sign_extend!(I8, I32),
            O::I32Extend16S => sign_extend!(I16, I32),
            O::I64Extend8S => sign_extend!(I8, I64),
            O::I64Extend16S => sign_extend!(I16, I64),
            O::I64Extend32S => sign_extend!(I32, I64),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn reinterpret(&mut self, to: cranelift_codegen::ir::Type) -> Result<(), CompileError> {
        let a = self.pop()?;
        let v = self.b.ins().bitcast(to, MemFlagsData::new(), a);
        self.push(v);
        Ok(())
    }
}
