//! The instruction word the executor runs ([`Inst`]: an instruction with the address of
//! its handler) and the [`Form`] that selects the handler: which operands travel in the
//! accumulator, and the variant bits of accesses ([`Access`]) and counting branches and
//! calls ([`Counting`]). The translator chooses forms, the executor implements them; both
//! depend on this module, which depends only on the instruction set.

use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

use crate::isa::{Instr, Slot};

/// An instruction as the executor runs it: the address of its handler, then the
/// instruction. Dispatch is one load of `handler` and an indirect jump (direct
/// threading); the handler reads its operands from `instr`, whose variant it knows.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Inst {
    /// The handler of `instr` in its form: an `exec::Handler`, stored without its type
    /// (which names the executor's context) so that the data model does not depend on
    /// the executor. Only `exec::encode` writes it, only the executor calls it.
    pub(crate) handler: *const (),
    /// The instruction.
    pub(crate) instr: Instr,
}

// SAFETY: `handler` is the address of a function, immutable like the rest of the word.
unsafe impl Send for Inst {}
// SAFETY: as for `Send`.
unsafe impl Sync for Inst {}

/// Which operands of an instruction travel in the accumulator (a machine register passed
/// from handler to handler) instead of a frame register, and which variant of the
/// instruction runs. Each instruction tag has a handler for some forms (see
/// `exec::encode`); [`Form::NONE`] (all operands in registers) always.
///
/// The link bits ([`Form::OUT`], [`Form::A`], [`Form::B`], [`Form::TEE`]) mean the same
/// for every instruction. Bits 8 and 16 mean different things to different families, so
/// they are values of the family's own type: [`Access`] for loads and stores,
/// [`Counting`] for branches and calls. No instruction belongs to both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Form(u8);

impl Form {
    /// Every operand in its register.
    pub const NONE: Form = Form(0);
    /// The result goes to the accumulator (the register operand `dst` is not written).
    pub const OUT: Form = Form(1);
    /// The first operand (`a`, `src`, `addr` or `cond`) comes from the accumulator.
    pub const A: Form = Form(2);
    /// The second operand (`b`, a load's `index`, or a store's `val`) comes from the
    /// accumulator.
    pub const B: Form = Form(4);
    /// The result goes to register `dst` and to the accumulator, for the next
    /// instruction, which reads it from there (a local written and read at once: `c = 2 *
    /// c + 1; if c < n`, or `x = a[i]; if x < p`). On a loaded value fused with its
    /// address arithmetic, the loaded value. On a counting branch ([`Counting::PRE`]), the
    /// counter after its step, for the instruction after the branch (the path that falls
    /// through; a branch target never reads the accumulator).
    pub const TEE: Form = Form(32);
    /// The number of distinct forms (all bits plus one): the rows of the handler table.
    pub const COUNT: usize = 64;

    /// The form's bits (a handler's const parameter, an index into the handler table).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The form with these bits.
    pub const fn from_bits(bits: u8) -> Form {
        Form(bits)
    }

    /// Whether every bit of `part` is set.
    pub fn has(self, part: impl Into<Form>) -> bool {
        let part = part.into();
        self.0 & part.0 == part.0
    }

    /// Whether any bit of `part` is set.
    pub fn any(self, part: impl Into<Form>) -> bool {
        self.0 & part.into().0 != 0
    }

    /// The operand position of [`Form::OUT`], [`Form::A`] or [`Form::B`].
    pub fn slot(self) -> Option<Slot> {
        match self {
            Form::OUT => Some(Slot::Out),
            Form::A => Some(Slot::A),
            Form::B => Some(Slot::B),
            _ => None,
        }
    }
}

/// The variant bits of a scalar load's or store's form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access(u8);

impl Access {
    /// The address is `addr + offset` in 32-bit arithmetic (wrapping), not the unbounded
    /// sum of a memory argument: the offset is the constant of an `i32.add` fused into
    /// the access, which wraps as the add did.
    pub const WRAP: Access = Access(8);
    /// The address is `addr + index * scale` in 32-bit arithmetic (wrapping), plus the
    /// offset: the `i32.add` (or `I32AddShl` by up to 3) of an indexed access fused into
    /// it. A load's [`Form::B`] then reads `index` from the accumulator. With
    /// [`Access::WRAP`] too, the offset is added in 32 bits as well.
    pub const INDEX: Access = Access(16);

    /// The bits (for handler code, whose form is a `u8` const parameter).
    pub const fn bits(self) -> u8 {
        self.0
    }
}

/// The variant bits of an integer branch's or a call's form: the instruction first does
/// the one before it, a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counting(u8);

impl Counting {
    /// Branches: first `a += add` (in the operands' width), the loop counter's
    /// `i32.add`/`i64.add` of a constant fused into its back edge (or an increment into a
    /// forward branch). Calls: first set the first argument (see `Instr::Call`).
    pub const PRE: Counting = Counting(8);
    /// With [`Counting::PRE`]: the step is register `add_reg` (held in a local), not the
    /// constant `add`.
    pub const ADD_REG: Counting = Counting(16);

    /// The bits (for handler code, whose form is a `u8` const parameter).
    pub const fn bits(self) -> u8 {
        self.0
    }
}

impl From<Access> for Form {
    fn from(a: Access) -> Form {
        Form(a.0)
    }
}

impl From<Counting> for Form {
    fn from(c: Counting) -> Form {
        Form(c.0)
    }
}

impl<T: Into<Form>> BitOr<T> for Form {
    type Output = Form;
    fn bitor(self, rhs: T) -> Form {
        Form(self.0 | rhs.into().0)
    }
}

impl<T: Into<Form>> BitOrAssign<T> for Form {
    fn bitor_assign(&mut self, rhs: T) {
        self.0 |= rhs.into().0;
    }
}

impl<T: Into<Form>> BitOr<T> for Access {
    type Output = Form;
    fn bitor(self, rhs: T) -> Form {
        Form(self.0 | rhs.into().0)
    }
}

impl<T: Into<Form>> BitOr<T> for Counting {
    type Output = Form;
    fn bitor(self, rhs: T) -> Form {
        Form(self.0 | rhs.into().0)
    }
}

impl<T: Into<Form>> BitAnd<T> for Form {
    type Output = Form;
    fn bitand(self, rhs: T) -> Form {
        Form(self.0 & rhs.into().0)
    }
}

impl Not for Form {
    type Output = Form;
    fn not(self) -> Form {
        Form(!self.0 & (Form::COUNT as u8 - 1))
    }
}

impl<T: Into<Form>> core::ops::BitAndAssign<T> for Form {
    fn bitand_assign(&mut self, rhs: T) {
        self.0 &= rhs.into().0;
    }
}
