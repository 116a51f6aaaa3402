//! 128-bit SIMD.

use tierup_abi::CompileError;
use wasmparser::Operator;

use super::Translator;

impl Translator<'_, '_> {
    /// SIMD operators.
    pub(super) fn translate_simd(&mut self, _op: &Operator) -> Result<bool, CompileError> {
        Ok(false)
    }
}
