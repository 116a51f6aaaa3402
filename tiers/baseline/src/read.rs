//! Reading a body: each operator is decoded once, straight into a visitor call (no
//! [`Operator`] value kept between the decoder and its users), and handed first to the
//! validator, when the compile validates the body too
//! ([`tierup_abi::Compiler::compile_validating`]), then to the code generator. The
//! generator only ever sees operators the validator accepted, so it works on a valid
//! prefix of the body; an invalid body stops at its first invalid operator.

use tierup_abi::{BodyValidator, ValidatingError};
use wasmparser::{Operator, VisitOperator, VisitSimdOperator};

use crate::codegen::Body;
use crate::masm::Masm;

/// The visitor of one operator at a time: the validator's visit, then the generator's.
pub(crate) struct Reader<'r, 'a, M: Masm> {
    pub body: &'r mut Body<'a, M>,
    pub validator: Option<&'r mut BodyValidator>,
    /// The module offset of the operator being visited.
    pub offset: usize,
}

/// The visit methods of `wasmparser`'s operator lists: each one validates the operator
/// (by the validator's method of the same name, from its visitor named by the first
/// argument) and then emits it.
macro_rules! validate_then_emit {
    ($validator:ident; $( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                if let Some(v) = self.validator.as_deref_mut() {
                    v.$validator(self.offset as u64)
                        .$visit($($($arg.clone()),*)?)
                        .map_err(ValidatingError::Invalid)?;
                }
                self.body
                    .operator(&Operator::$op $({ $($arg),* })?, self.offset)
                    .map_err(ValidatingError::Compile)
            }
        )*
    };
}

macro_rules! visit_operator {
    ($($list:tt)*) => { validate_then_emit!(visitor; $($list)*); };
}

macro_rules! visit_simd_operator {
    ($($list:tt)*) => { validate_then_emit!(simd_visitor; $($list)*); };
}

#[allow(clippy::clone_on_copy)]
impl<'a, M: Masm> VisitOperator<'a> for Reader<'_, '_, M> {
    type Output = Result<(), ValidatingError>;

    wasmparser::for_each_visit_operator!(visit_operator);

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }
}

/// SIMD operators are validated like the others; the generator refuses them (this tier
/// does not compile SIMD yet), which ends the compile.
#[allow(clippy::clone_on_copy)]
impl<'a, M: Masm> VisitSimdOperator<'a> for Reader<'_, '_, M> {
    wasmparser::for_each_visit_simd_operator!(visit_simd_operator);
}
