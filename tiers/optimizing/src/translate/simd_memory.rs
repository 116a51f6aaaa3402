//! Loads and stores of `v128`: whole vectors, extending loads, splat and zero-extending
//! loads, and single-lane loads and stores. Addresses are checked like any other access
//! (`Translator::access`) and every access is a trap site.

use cranelift_codegen::ir::{self, InstBuilder, types};
use tierup_abi::CompileError;
use wasmparser::{MemArg, Operator};

use super::Translator;

impl Translator<'_, '_> {
    /// Loads a scalar of type `ty` (`size` bytes) at the popped index.
    fn load_scalar(&mut self, memarg: &MemArg, ty: ir::Type) -> Result<ir::Value, CompileError> {
        let (addr, off) = self.access(memarg, ty.bytes())?;
        let flags = self.env.heap_flags();
        Ok(self.b.ins().load(ty, flags, addr, off))
    }

    /// SIMD loads and stores.
    pub(super) fn translate_simd_memory(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{I8, I8X16, I16, I16X8, I32, I32X4, I64, I64X2};
        macro_rules! extending {
            ($memarg:expr, $method:ident) => {{
                let (addr, off) = self.access($memarg, 8)?;
                let flags = self.env.heap_flags();
                let v = self.b.ins().$method(flags, addr, off);
                self.push_vector(v);
            }};
        }
        macro_rules! splat {
            ($memarg:expr, $lane:expr, $ty:expr) => {{
                let x = self.load_scalar($memarg, $lane)?;
                let v = self.b.ins().splat($ty, x);
                self.push_vector(v);
            }};
        }
        macro_rules! zero {
            ($memarg:expr, $lane:expr, $ty:expr) => {{
                let x = self.load_scalar($memarg, $lane)?;
                let v = self.b.ins().scalar_to_vector($ty, x);
                self.push_vector(v);
            }};
        }
        macro_rules! load_lane {
            ($memarg:expr, $lane_index:expr, $lane:expr, $ty:expr) => {{
                let vector = self.pop_vector($ty)?;
                let x = self.load_scalar($memarg, $lane)?;
                let v = self.b.ins().insertlane(vector, x, $lane_index);
                self.push_vector(v);
            }};
        }
        macro_rules! store_lane {
            ($memarg:expr, $lane_index:expr, $lane:expr, $ty:expr) => {{
                let vector = self.pop_vector($ty)?;
                let x = self.b.ins().extractlane(vector, $lane_index);
                let (addr, off) = self.access($memarg, $lane.bytes())?;
                let flags = self.env.heap_flags();
                self.b.ins().store(flags, x, addr, off);
            }};
        }
        match *op {
            O::V128Load { ref memarg } => {
                let v = self.load_scalar(memarg, I8X16)?;
                self.push(v);
            }
            O::V128Store { ref memarg } => {
                let v = self.pop_vector(I8X16)?;
                let (addr, off) = self.access(memarg, 16)?;
                let flags = self.env.heap_flags();
                self.b.ins().store(flags, v, addr, off);
            }
            O::V128Load8x8S { ref memarg } => extending!(memarg, sload8x8),
            O::V128Load8x8U { ref memarg } => extending!(memarg, uload8x8),
            O::V128Load16x4S { ref memarg } => extending!(memarg, sload16x4),
            O::V128Load16x4U { ref memarg } => extending!(memarg, uload16x4),
            O::V128Load32x2S { ref memarg } => extending!(memarg, sload32x2),
            O::V128Load32x2U { ref memarg } => extending!(memarg, uload32x2),
            O::V128Load8Splat { ref memarg } => splat!(memarg, I8, I8X16),
            O::V128Load16Splat { ref memarg } => splat!(memarg, I16, I16X8),
            O::V128Load32Splat { ref memarg } => splat!(memarg, I32, I32X4),
            O::V128Load64Splat { ref memarg } => splat!(memarg, I64, I64X2),
            O::V128Load32Zero { ref memarg } => zero!(memarg, I32, I32X4),
            O::V128Load64Zero { ref memarg } => zero!(memarg, I64, I64X2),
            O::V128Load8Lane { ref memarg, lane } => load_lane!(memarg, lane, I8, I8X16),
            O::V128Load16Lane { ref memarg, lane } => load_lane!(memarg, lane, I16, I16X8),
            O::V128Load32Lane { ref memarg, lane } => load_lane!(memarg, lane, I32, I32X4),
            O::V128Load64Lane { ref memarg, lane } => load_lane!(memarg, lane, I64, I64X2),
            O::V128Store8Lane { ref memarg, lane } => store_lane!(memarg, lane, I8, I8X16),
            O::V128Store16Lane { ref memarg, lane } => store_lane!(memarg, lane, I16, I16X8),
            O::V128Store32Lane { ref memarg, lane } => store_lane!(memarg, lane, I32, I32X4),
            O::V128Store64Lane { ref memarg, lane } => store_lane!(memarg, lane, I64, I64X2),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
