//! The symbolic value stack and the register allocator.
//!
//! Each operand-stack entry is where its value is *now*: a constant, a local (read when it
//! is used), a register, or its own slot of the frame (every stack depth has one, below
//! the locals). Values are materialised only when an operation needs them in a register;
//! when registers run out, the deepest entry held in one is spilled to its slot.
//!
//! Control flow merges only in a canonical state: when a block, loop or `if` begins, every
//! entry in a register or naming a local is stored to its slot, so that the entries below
//! the block stay where they are on every path through it (nothing inside a block pops
//! them, spilling moves only register entries and writing a local only entries that name
//! it), and the values a branch carries are stored into the slots of the target's results.
//!
//! A comparison leaves its result in the flags ([`Entry::Cmp`]) for a `br_if`, `if`,
//! `select` or `eqz` right after it to use; any other operator turns it into a register
//! first.

use wasmparser::ValType;

use crate::masm::{Cond, Gpr, Xmm};

/// A register holding a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    G(Gpr),
    X(Xmm),
}

/// Where an operand-stack entry's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A constant: the value's bits (`i32` and `f32` in the low 32).
    Const(ValType, u64),
    /// The current value of a local.
    Local(ValType, u32),
    /// A register.
    Reg(ValType, Reg),
    /// The entry's own slot of the frame.
    Mem(ValType),
    /// An `i32` that is 1 if `cond` holds for the flags of the last comparison, else 0:
    /// the result of a comparison that the next operator may branch on directly. Only
    /// ever the top entry, and only until the next operator, which either consumes it
    /// or materialises it (no code in between changes the flags).
    Cmp(Cond),
}

impl Entry {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match *self {
            Entry::Const(t, _) | Entry::Local(t, _) | Entry::Reg(t, _) | Entry::Mem(t) => t,
            Entry::Cmp(_) => ValType::I32,
        }
    }
}

/// The free registers of one class, a stack: the last freed is taken first. Fixed
/// capacity, so that a compile allocates nothing for it.
#[derive(Clone, Copy, Debug)]
struct FreeList<T> {
    regs: [T; FREE_CAPACITY],
    len: usize,
}

/// The registers a [`FreeList`] holds: more than either class has on any target.
const FREE_CAPACITY: usize = 16;

impl<T: Copy + PartialEq> FreeList<T> {
    /// `regs` free, the first of them taken first.
    fn new(regs: &[T], fill: T) -> FreeList<T> {
        let mut list = FreeList {
            regs: [fill; FREE_CAPACITY],
            len: 0,
        };
        for &r in regs.iter().rev() {
            list.push(r);
        }
        list
    }

    fn free(&self) -> &[T] {
        &self.regs[..self.len]
    }

    fn push(&mut self, r: T) {
        debug_assert!(
            self.len < FREE_CAPACITY,
            "more registers than the list holds"
        );
        if let Some(slot) = self.regs.get_mut(self.len) {
            *slot = r;
            self.len += 1;
        }
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        Some(self.regs[self.len])
    }

    /// Takes `r` out if it is free (the others keep their order); whether it was.
    fn take(&mut self, r: T) -> bool {
        match self.free().iter().position(|&x| x == r) {
            Some(i) => {
                self.regs.copy_within(i + 1..self.len, i);
                self.len -= 1;
                true
            }
            None => false,
        }
    }
}

/// The free registers.
#[derive(Clone, Debug)]
pub struct Regs {
    gpr_free: FreeList<Gpr>,
    xmm_free: FreeList<Xmm>,
}

impl Regs {
    /// All of `gprs` and `xmms` free; taken from the front first.
    pub fn new(gprs: &[Gpr], xmms: &[Xmm]) -> Regs {
        Regs {
            gpr_free: FreeList::new(gprs, Gpr(0)),
            xmm_free: FreeList::new(xmms, Xmm(0)),
        }
    }

    /// A free general-purpose register, if any.
    pub fn take_gpr(&mut self) -> Option<Gpr> {
        self.gpr_free.pop()
    }

    /// A free float register, if any.
    pub fn take_xmm(&mut self) -> Option<Xmm> {
        self.xmm_free.pop()
    }

    /// Takes `r` if it is free; whether it was.
    pub fn take_this(&mut self, r: Reg) -> bool {
        match r {
            Reg::G(g) => self.gpr_free.take(g),
            Reg::X(x) => self.xmm_free.take(x),
        }
    }

    /// Whether a register of the class (`float`) is free.
    pub fn has_free(&self, float: bool) -> bool {
        if float {
            self.xmm_free.len > 0
        } else {
            self.gpr_free.len > 0
        }
    }

    /// Whether `r` is free.
    pub fn is_free(&self, r: Reg) -> bool {
        match r {
            Reg::G(g) => self.gpr_free.free().contains(&g),
            Reg::X(x) => self.xmm_free.free().contains(&x),
        }
    }

    /// Gives `r` back.
    pub fn free(&mut self, r: Reg) {
        debug_assert!(!self.is_free(r), "{r:?} freed twice");
        match r {
            Reg::G(g) => self.gpr_free.push(g),
            Reg::X(x) => self.xmm_free.push(x),
        }
    }
}

/// The operand stack.
#[derive(Clone, Debug, Default)]
pub struct Stack {
    pub entries: Vec<Entry>,
    /// The deepest the stack has been (slots the frame needs).
    pub max_depth: usize,
}

impl Stack {
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline(always)]
    pub fn push(&mut self, e: Entry) {
        self.entries.push(e);
        self.max_depth = self.max_depth.max(self.entries.len());
    }

    #[inline(always)]
    pub fn pop(&mut self) -> Option<Entry> {
        self.entries.pop()
    }

    #[inline]
    pub fn peek(&self, from_top: usize) -> Option<&Entry> {
        self.entries.iter().rev().nth(from_top)
    }

    /// The deepest entry held in a register of the class of `float`.
    pub fn deepest_in_reg(&self, float: bool) -> Option<usize> {
        self.entries.iter().position(|e| match e {
            Entry::Reg(_, Reg::G(_)) => !float,
            Entry::Reg(_, Reg::X(_)) => float,
            _ => false,
        })
    }

    /// The entry held in `r`, if any.
    pub fn holding(&self, r: Reg) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| matches!(e, Entry::Reg(_, x) if *x == r))
    }
}
