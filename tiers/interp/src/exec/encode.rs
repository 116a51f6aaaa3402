//! The handler table and the encoding of instructions: [`encode`] turns an [`Instr`] and
//! its [`Form`] into the [`Inst`] the executor runs, with the address of the handler
//! that implements that form; [`supports`] tells the translator which forms exist.

use super::dispatch::{Handler, HandlerTable};
use super::{branch, call, fused, instance, ops, values, vector};
use crate::inst::{Form, Inst};
use crate::isa::{Instr, Op};
use tierup_abi::TrapCode;

/// The handlers of each instruction tag, by form.
static HANDLERS: HandlerTable = handler_table();

/// Builds [`HANDLERS`]; a tag without a form-0 handler is a compile-time error.
const fn handler_table() -> HandlerTable {
    let mut t: HandlerTable = [[None; Op::COUNT]; Form::COUNT];
    ops::register(&mut t);
    vector::register(&mut t);
    branch::register(&mut t);
    call::register(&mut t);
    values::register(&mut t);
    fused::register(&mut t);
    instance::register(&mut t);
    let mut i = 0;
    while i < Op::COUNT {
        if t[0][i].is_none() {
            panic!("an instruction without a handler");
        }
        i += 1;
    }
    t
}

/// The handler of `instr` in form `form`, if it has one.
fn handler_of(instr: &Instr, form: Form) -> Option<Handler> {
    // Every tag is below the rows' length (`Op::COUNT`).
    *HANDLERS
        .get(form.bits() as usize)?
        .get(instr.tag() as usize)?
}

/// Whether `instr` has a handler for form `form` (for the translator).
pub(crate) fn supports(instr: &Instr, form: Form) -> bool {
    handler_of(instr, form).is_some()
}

/// `instr` with its handler for `form`, and its branch offset (in instructions) turned
/// into bytes, which saves the handlers a multiplication. The translator asks
/// [`supports`] before it gives an instruction a form; should it not have, the
/// instruction becomes a trap (`CompileError`) rather than run with the wrong operands.
/// Offsets cannot overflow: see `translate::MAX_INSTRS`.
pub(crate) fn encode(mut instr: Instr, form: Form) -> Inst {
    if let Some(offset) = instr.offset_mut() {
        *offset = offset.saturating_mul(core::mem::size_of::<Inst>() as i32);
    }
    let (handler, instr) = match handler_of(&instr, form) {
        Some(handler) => (handler, instr),
        None => (
            branch::Trap as Handler,
            Instr::Trap {
                code: TrapCode::CompileError,
            },
        ),
    };
    Inst {
        handler: handler as *const (),
        instr,
    }
}

impl Inst {
    /// The form whose handler this instruction carries (for `Debug`).
    fn form(&self) -> Option<Form> {
        let tag = self.instr.tag() as usize;
        let bits = HANDLERS.iter().position(|row| {
            row.get(tag)
                .is_some_and(|h| h.is_some_and(|h| h as usize == self.handler as usize))
        })?;
        Some(Form::from_bits(bits as u8))
    }
}

impl core::fmt::Debug for Inst {
    /// The instruction, then its form when it has one: the names of its bits, e.g.
    /// `F64AddLoad { .. } [A|WRAP]`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::inst::{Access, Counting};
        self.instr.fmt(f)?;
        let Some(form) = self.form().filter(|&form| form != Form::NONE) else {
            return Ok(());
        };
        // Bits 8 and 16 belong to a branch's or call's family or to an access's.
        let mut instr = self.instr;
        let counting = instr.offset_mut().is_some()
            || matches!(instr, Instr::Call { .. } | Instr::CallIndirect { .. });
        let variants = if counting {
            [
                (Form::from(Counting::PRE), "PRE"),
                (Counting::ADD_REG.into(), "ADD_REG"),
            ]
        } else {
            [
                (Form::from(Access::WRAP), "WRAP"),
                (Access::INDEX.into(), "INDEX"),
            ]
        };
        let names = [(Form::OUT, "OUT"), (Form::A, "A"), (Form::B, "B")]
            .into_iter()
            .chain(variants)
            .chain([(Form::TEE, "TEE")]);
        let mut sep = " [";
        for (bit, name) in names {
            if form.has(bit) {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        f.write_str("]")
    }
}
