//! The code generator: one pass over a function's operators, each emitted through the
//! macro-assembler as it is read, with the operand stack tracked symbolically
//! (`stack.rs`).
//!
//! Frame (below the frame pointer, after the registers the prologue saves): one 8-byte
//! slot per local, the results-area pointer when the function returns two or more values,
//! then one 8-byte slot per operand-stack depth. Parameters arrive by the register
//! convention (`tierup_abi::regcall`) and are stored into their locals' slots; the other
//! locals are zeroed.
//!
//! An `i32` in a register is always zero-extended to 64 bits: the 32-bit operations keep
//! it so, loads of 32 bits or less into an `i32` clear the upper half, and a call's `i32`
//! result is zero-extended on return. Memory accesses and jump tables index with the
//! whole register, so this is what keeps them inside the sandbox.
//!
//! This file holds the generator's state, the frame layout, the prologue and how values
//! are materialised and spilled; `ops.rs` the operator visitor, and `control.rs`,
//! `calls.rs`, `memory.rs` and `numeric.rs` what operators of each family emit.
//! `phases.rs` is how the crate drives the generator: one type per phase of a compile.

mod calls;
mod control;
mod epoch;
mod hotness;
mod memory;
mod numeric;
mod ops;
mod phases;

pub(crate) use phases::{Body, Setup};

use tierup_abi::entry::offsets as entry;
use tierup_abi::regcall::{self, Loc};
use tierup_abi::vmctx::{libcall_offsets, memory_offsets, offsets as vm, table_offsets};
use tierup_abi::{BlockSig, CompileError, GUARD_BYTES, ModuleEnv, SourceLoc, TrapCode};
use wasmparser::{BlockType, FuncType, MemArg, Operator, ValType};

use crate::masm::{
    Addr, BitCount, Cond, FBits, FloatOp, Gpr, IntOp, Label, Masm, Patch, Pinned, PinnedSet, Round,
    ShiftOp, Size, Widen, Xmm,
};
use crate::stack::{Entry, Reg, Regs, Stack};

/// What kind of construct a control frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Function,
    Block,
    Loop,
    /// An `if` whose `else` has not been seen: the label of its else arm.
    If(Label),
    Else,
}

/// A block, loop, `if` or the function body.
#[derive(Debug)]
struct Frame<'a> {
    kind: Kind,
    /// The stack height below the frame's parameters.
    height: usize,
    /// Its parameters and results (borrowed from the module: opening a frame allocates
    /// nothing); the function body's are the function's type, whose parameters are the
    /// body's locals, not values on its stack.
    sig: BlockSig<'a>,
    /// Where a branch to the frame goes: the end, or a loop's header.
    label: Label,
    /// Whether the code before the frame was reachable.
    reachable_at_start: bool,
    /// Whether a branch targets the end.
    end_used: bool,
    /// A loop's hotness spending at its header, the operators read before the header
    /// (the spending is the body's length, filled in at the loop's end) and the loop's
    /// OSR point.
    count: Option<(Patch, u32, u32)>,
}

impl Frame<'_> {
    /// The values on the stack when the frame starts.
    fn params(&self) -> &[ValType] {
        match self.kind {
            Kind::Function => &[],
            _ => self.sig.params(),
        }
    }

    /// The values it leaves on the stack.
    fn results(&self) -> &[ValType] {
        self.sig.results()
    }

    /// The values a branch to the frame carries.
    fn branch_types(&self) -> &[ValType] {
        if self.kind == Kind::Loop {
            self.params()
        } else {
            self.results()
        }
    }

    /// The register where the paths into the frame's end meet with its one result, if it
    /// has one and no parameters (the result register of its class: a value that leaves a
    /// block is often returned, and a register is where the next operator wants it);
    /// otherwise the values meet in their slots. A loop's branches go to its header with
    /// its parameters, in their slots.
    fn merge_reg<M: Masm>(&self) -> Option<Reg> {
        match (self.kind, self.params(), self.results()) {
            (Kind::Loop, ..) => None,
            (_, [], &[ty]) if is_float(ty) => Some(Reg::X(M::RET_XMM)),
            (_, [], [_]) => Some(Reg::G(M::RET_GPR)),
            _ => None,
        }
    }
}

/// An operand in a register that the operator reads (`CodeGen::pop_gpr_read`).
#[derive(Clone, Copy, Debug)]
struct Read {
    reg: Gpr,
    /// The local whose copy the register holds, lent for the operator; `None` where the
    /// operator owns the register.
    lent_by: Option<u32>,
}

/// The right operand of an integer operation (`CodeGen::pop_operand`).
#[derive(Clone, Copy, Debug)]
enum Operand {
    Reg(Read),
    /// A local's slot or a stack slot (still valid after the pop: nothing writes it
    /// before the operation reads it).
    Mem(Addr),
}

/// An argument of a libcall.
#[derive(Clone, Copy, Debug)]
enum LArg {
    Imm(u64),
    /// The operand this many entries above the deepest of the call's operands.
    Operand(usize),
}

fn is_float(ty: ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64)
}

fn unsupported(what: &str) -> CompileError {
    CompileError(format!("the baseline tier does not compile {what} yet"))
}

/// The code generator of one function.
pub(crate) struct CodeGen<'a, M: Masm> {
    env: &'a ModuleEnv,
    m: M,
    bounds_checks: bool,
    locals: Vec<ValType>,
    /// The function's type.
    ty: &'a FuncType,
    stack: Stack,
    regs: Regs,
    frames: Vec<Frame<'a>>,
    traps: Vec<(u32, TrapCode)>,
    wasm_map: Vec<SourceLoc>,
    reachable: bool,
    /// Frames opened in unreachable code, whose operators are skipped.
    unreachable_depth: u32,
    /// The function's index (for hotness reports).
    func_index: u32,
    /// The hotness budget, where the code counts (`CompileOptions::hotness_budget`).
    budget: Option<u32>,
    /// Whether the entry counts the call (`CompileOptions::count_calls`).
    count_calls: bool,
    /// Whether libcalls and an OSR entry check the epoch
    /// (`CompileOptions::epoch_interruption`, `epoch.rs`).
    epoch_checks: bool,
    /// Where the code becomes preemptible (`MachineCode::preemptible`): the end of the
    /// prologue's frame set-up.
    preemptible_from: u32,
    /// The out-of-line parts of the epoch checks, emitted after the body.
    epoch_stubs: Vec<epoch::EpochStub>,
    /// The operators read so far.
    ops: u32,
    /// The entry's hotness spending, filled in with the function's length at the end.
    entry_count: Option<Patch>,
    /// The out-of-line reports of the counting points, emitted after the body.
    reports: Vec<hotness::Report>,
    /// For an OSR entry: the point it enters, and where its prologue continues.
    osr: Option<hotness::OsrIn>,
    /// Locals whose value a register holds too (see "Locals in registers"): the register
    /// (taken from the allocator) and the local.
    copies: Vec<(Reg, u32)>,
    /// The pinned registers the code uses: the others are neither loaded nor saved
    /// (`Masm::pinned`). Code names them only through [`CodeGen::vmctx`],
    /// [`CodeGen::memory_base`] and [`CodeGen::slot_reg`], which record the use.
    pinned: core::cell::Cell<PinnedSet>,
    /// The layout of the last call, whose vectors the next call reuses.
    call_layout: Option<regcall::Layout>,
}

impl<'a, M: Masm> CodeGen<'a, M> {
    fn new(
        env: &'a ModuleEnv,
        m: M,
        func_index: u32,
        ty: &'a FuncType,
        options: &tierup_abi::CompileOptions,
    ) -> Self {
        CodeGen {
            env,
            m,
            bounds_checks: options.bounds_checks,
            locals: Vec::new(),
            ty,
            // Room for what most functions need, so that few of them grow.
            stack: Stack {
                entries: Vec::with_capacity(32),
                max_depth: 0,
            },
            regs: Regs::new(M::ALLOCATABLE, M::ALLOCATABLE_XMM),
            frames: Vec::with_capacity(16),
            traps: Vec::with_capacity(16),
            wasm_map: Vec::new(),
            reachable: true,
            unreachable_depth: 0,
            func_index,
            budget: options.hotness_budget,
            count_calls: options.count_calls,
            epoch_checks: options.epoch_interruption,
            epoch_stubs: Vec::new(),
            preemptible_from: 0,
            ops: 0,
            entry_count: None,
            reports: Vec::new(),
            osr: None,
            copies: Vec::with_capacity(16),
            pinned: core::cell::Cell::new(PinnedSet::default()),
            call_layout: None,
        }
    }

    /// The register of the instance context, recorded as used.
    fn vmctx(&self) -> Gpr {
        self.pinned.set(self.pinned.get().with(Pinned::Vmctx));
        M::VMCTX
    }

    /// The register of memory 0's base, recorded as used (with the context's, which it
    /// is loaded from).
    fn memory_base(&self) -> Gpr {
        self.pinned.set(
            self.pinned
                .get()
                .with(Pinned::MemoryBase)
                .with(Pinned::Vmctx),
        );
        M::MEMORY_BASE
    }

    /// The register of the function's own slot, recorded as used.
    fn slot_reg(&self) -> Gpr {
        self.pinned.set(self.pinned.get().with(Pinned::Slot));
        M::SLOT
    }

    /// The bytes of frame below the saved registers.
    fn frame_bytes(&self) -> u32 {
        8 * (self.slot_base() + self.stack.max_depth as u32)
    }

    fn local_disp(&self, i: u32) -> i32 {
        -((M::SAVED_BYTES + 8 * (i + 1)) as i32)
    }

    fn results_area_disp(&self) -> i32 {
        self.local_disp(self.locals.len() as u32)
    }

    /// Slots before the operand stack's (locals and the results-area pointer).
    fn slot_base(&self) -> u32 {
        self.locals.len() as u32 + 1
    }

    fn slot_disp(&self, depth: usize) -> i32 {
        -((M::SAVED_BYTES + 8 * (self.slot_base() + depth as u32 + 1)) as i32)
    }

    fn slot(&self, depth: usize) -> Addr {
        Addr::Frame(self.slot_disp(depth))
    }

    fn local(&self, i: u32) -> Addr {
        Addr::Frame(self.local_disp(i))
    }

    // ---- the function -------------------------------------------------------------

    /// The prologue: the frame, the stack check, the pinned registers, the parameters
    /// stored into their locals (after the epoch check, where the options ask), the other
    /// locals zeroed, the call counted (where they ask) and the entry's hotness spending.
    fn prologue(&mut self, locals: Vec<ValType>) -> Result<(), CompileError> {
        self.frame_setup(locals);
        self.store_params()?;
        if self.count_calls {
            self.m.add_mem_imm(
                Size::S64,
                Addr::Base(self.slot_reg(), entry::ENTRY_CALLS as i32),
                1,
            );
        }
        self.count_entry();
        self.open_body();
        Ok(())
    }

    /// The frame, the stack check and the pinned registers.
    fn frame_setup(&mut self, locals: Vec<ValType>) {
        self.locals = locals;
        self.m.prologue();
        // rdi (the first argument) is the callee slot.
        let slot = M::ARG_GPRS[0];
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(slot, entry::ENTRY_LIMITS as i32),
        );
        self.m.stack_check(
            M::SCRATCH,
            tierup_abi::vmctx::limits_offsets::STACK_LIMIT as i32,
            &mut self.traps,
        );
        self.m
            .pinned(Pinned::Slot, |m| m.mov(Size::S64, M::SLOT, slot));
        self.m.pinned(Pinned::Vmctx, |m| {
            m.load(
                Size::S64,
                M::VMCTX,
                Addr::Base(slot, entry::ENTRY_VMCTX as i32),
            )
        });
        if !self.env.memories.is_empty() {
            self.m.pinned(Pinned::MemoryBase, |m| {
                m.load(
                    Size::S64,
                    M::MEMORY_BASE,
                    Addr::Base(M::VMCTX, vm::MEMORY_BASE as i32),
                )
            });
        }
        self.preemptible_from = self.m.offset();
    }

    /// Stores the results-area pointer of a function with two or more results, which
    /// arrives in a register by `layout`, into its frame slot.
    fn keep_results_area(&mut self, layout: &regcall::Layout) {
        if let Some(Loc::Gpr(g)) = layout.results_area {
            let area = self.results_area_disp();
            self.m.store(8, Addr::Frame(area), M::ARG_GPRS[g as usize]);
        }
    }

    /// Stores the parameters into their locals and zeroes the other locals.
    fn store_params(&mut self) -> Result<(), CompileError> {
        let params = self.ty.params();
        let layout = regcall::locate(params, self.ty.results());
        self.keep_results_area(&layout);
        for (i, (&ty, loc)) in params.iter().zip(&layout.params).enumerate() {
            let dst = self.local(i as u32);
            // A parameter's register keeps a copy of it where the allocator has that
            // register. The convention leaves the upper half of an `i32` undefined (a
            // caller in optimized code passes a wrapped `i64` as it is): it is cleared
            // first, as this tier keeps every `i32` in a register.
            match *loc {
                Loc::Gpr(g) => {
                    let r = M::ARG_GPRS[g as usize];
                    self.m.store(8, dst, r);
                    if self.regs.take_this(Reg::G(r)) {
                        if ty == ValType::I32 {
                            self.m.mov(Size::S32, r, r);
                        }
                        self.keep_copy(i as u32, Reg::G(r));
                    }
                }
                Loc::Xmm(x) => {
                    self.m.fstore(Size::of(ty), dst, Xmm(x));
                    if self.regs.take_this(Reg::X(Xmm(x))) {
                        self.keep_copy(i as u32, Reg::X(Xmm(x)));
                    }
                }
                Loc::Stack(off) => {
                    // Above the return address and the saved frame pointer.
                    self.m
                        .load(Size::S64, M::SCRATCH, Addr::Frame(16 + off as i32));
                    self.m.store(8, dst, M::SCRATCH);
                }
                _ => return Err(CompileError("a parameter without a place".into())),
            }
        }
        let first = params.len() as u32;
        let count = self.locals.len() as u32 - first;
        if count <= 16 {
            for i in first..first + count {
                let at = self.local(i);
                self.m.store_imm(8, at, 0);
            }
        } else {
            // A loop over the slots, from the lowest address up.
            let lowest = self.local_disp(first + count - 1);
            self.m.lea(M::SCRATCH, Addr::Frame(lowest));
            self.m.mov_imm(Size::S32, M::SCRATCH2, u64::from(count));
            let top = self.m.new_label();
            self.m.bind(top);
            self.m.store_imm(8, Addr::Base(M::SCRATCH, 0), 0);
            self.m.int_op_imm(IntOp::Add, Size::S64, M::SCRATCH, 8);
            self.m.int_op_imm(IntOp::Sub, Size::S32, M::SCRATCH2, 1);
            self.m.jcc(Cond::Ne, top);
        }
        Ok(())
    }

    /// Opens the function body's frame.
    fn open_body(&mut self) {
        let end = self.m.new_label();
        self.frames.push(Frame {
            kind: Kind::Function,
            height: 0,
            sig: BlockSig::Func(self.ty),
            label: end,
            reachable_at_start: true,
            end_used: false,
            count: None,
        });
    }

    /// Whether the body's final `end` was translated.
    fn done(&self) -> bool {
        self.frames.is_empty()
    }

    // ---- materialising values -----------------------------------------------------

    /// Puts the value of `e` (at `depth`) into `dst`, leaving the stack as it is.
    fn load_gpr(&mut self, e: Entry, depth: usize, dst: Gpr) {
        match e {
            Entry::Const(ty, bits) => self.m.mov_imm(Size::of(ty), dst, bits),
            Entry::Local(ty, i) => match self.copy_of(i) {
                Some(Reg::G(r)) if r == dst => {}
                Some(Reg::G(r)) => self.m.mov(Size::of(ty), dst, r),
                Some(Reg::X(x)) => self.m.xmm_to_gpr(Size::of(ty), dst, x),
                None => {
                    let at = self.local(i);
                    self.m.load(Size::of(ty), dst, at)
                }
            },
            Entry::Reg(ty, Reg::G(r)) => {
                if r != dst {
                    self.m.mov(Size::of(ty), dst, r)
                }
            }
            Entry::Reg(ty, Reg::X(x)) => self.m.xmm_to_gpr(Size::of(ty), dst, x),
            Entry::Mem(ty) => {
                let at = self.slot(depth);
                self.m.load(Size::of(ty), dst, at)
            }
            // Read right after the comparison (see `Entry::Cmp`).
            Entry::Cmp(cond) => self.m.set(cond, dst),
        }
    }

    /// Puts the value of `e` (at `depth`) into `dst`, leaving the stack as it is.
    fn load_xmm(&mut self, e: Entry, depth: usize, dst: Xmm) {
        match e {
            Entry::Const(ty, bits) => {
                self.m.mov_imm(Size::S64, M::SCRATCH, bits);
                self.m.gpr_to_xmm(Size::of(ty), dst, M::SCRATCH);
            }
            Entry::Local(ty, i) => match self.copy_of(i) {
                Some(Reg::X(x)) if x == dst => {}
                Some(Reg::X(x)) => self.m.fmov(dst, x),
                Some(Reg::G(r)) => self.m.gpr_to_xmm(Size::of(ty), dst, r),
                None => {
                    let at = self.local(i);
                    self.m.fload(Size::of(ty), dst, at)
                }
            },
            Entry::Reg(_, Reg::X(x)) => {
                if x != dst {
                    self.m.fmov(dst, x)
                }
            }
            Entry::Reg(ty, Reg::G(r)) => self.m.gpr_to_xmm(Size::of(ty), dst, r),
            Entry::Mem(ty) => {
                let at = self.slot(depth);
                self.m.fload(Size::of(ty), dst, at)
            }
            Entry::Cmp(cond) => {
                self.m.set(cond, M::SCRATCH);
                self.m.gpr_to_xmm(Size::S32, dst, M::SCRATCH);
            }
        }
    }

    /// Stores the value of `e` (at `depth`) to `addr` (8 bytes, or 4 for an `f32` in a
    /// register), leaving the stack as it is. Uses the first scratch register.
    fn store_value(&mut self, e: Entry, depth: usize, addr: Addr) {
        if let Entry::Local(ty, i) = e
            && let Some(copy) = self.copy_of(i)
        {
            return match copy {
                Reg::G(r) => self.m.store(8, addr, r),
                Reg::X(x) => self.m.fstore(Size::of(ty), addr, x),
            };
        }
        match e {
            Entry::Const(_, bits) if bits as i64 == bits as i32 as i64 => {
                self.m.store_imm(8, addr, bits as i32)
            }
            Entry::Const(_, bits) if bits <= u32::MAX as u64 && bits as u32 as i32 >= 0 => {
                self.m.store_imm(8, addr, bits as i32)
            }
            Entry::Reg(_, Reg::G(r)) => self.m.store(8, addr, r),
            Entry::Reg(ty, Reg::X(x)) => self.m.fstore(Size::of(ty), addr, x),
            Entry::Mem(_) if addr == self.slot(depth) => {}
            other => {
                // Constants that do not fit, locals and slots: through the scratch
                // register, as 8 bytes of bits.
                let raw = match other {
                    Entry::Const(_, b) => Entry::Const(ValType::I64, b),
                    Entry::Local(_, i) => Entry::Local(ValType::I64, i),
                    Entry::Cmp(c) => Entry::Cmp(c),
                    _ => Entry::Mem(ValType::I64),
                };
                self.load_gpr(raw, depth, M::SCRATCH);
                self.m.store(8, addr, M::SCRATCH);
            }
        }
    }

    /// Moves the entry at `index` to its slot.
    fn spill(&mut self, index: usize) {
        let e = self.stack.entries[index];
        match e {
            Entry::Reg(ty, r) => {
                let at = self.slot(index);
                self.store_value(e, index, at);
                self.regs.free(r);
                self.stack.entries[index] = Entry::Mem(ty);
            }
            Entry::Local(ty, _) => {
                let at = self.slot(index);
                self.store_value(e, index, at);
                self.stack.entries[index] = Entry::Mem(ty);
            }
            _ => {}
        }
    }

    /// Moves every entry in a register or naming a local to its slot.
    fn spill_all(&mut self) {
        for i in 0..self.stack.len() {
            self.spill(i);
        }
    }

    fn alloc_gpr(&mut self) -> Gpr {
        if let Some(r) = self.regs.take_gpr() {
            return r;
        }
        if self.forget_one(false)
            && let Some(r) = self.regs.take_gpr()
        {
            return r;
        }
        let i = self
            .stack
            .deepest_in_reg(false)
            .expect("registers in use outside the stack");
        self.spill(i);
        self.regs.take_gpr().expect("a register was just spilled")
    }

    fn alloc_xmm(&mut self) -> Xmm {
        if let Some(r) = self.regs.take_xmm() {
            return r;
        }
        if self.forget_one(true)
            && let Some(r) = self.regs.take_xmm()
        {
            return r;
        }
        let i = self
            .stack
            .deepest_in_reg(true)
            .expect("registers in use outside the stack");
        self.spill(i);
        self.regs.take_xmm().expect("a register was just spilled")
    }

    /// Takes `r` for the caller, forgetting the local's copy or spilling the entry that
    /// holds it.
    fn claim(&mut self, r: Reg) {
        if !self.regs.take_this(r) {
            if !self.forget_copy_in(r)
                && let Some(i) = self.stack.holding(r)
            {
                self.spill(i);
            }
            let taken = self.regs.take_this(r);
            debug_assert!(taken, "{r:?} is held outside the stack");
        }
    }

    // ---- locals in registers ----------------------------------------------------------
    //
    // A local's slot always holds its value; a register may hold a copy too, which
    // `local.set` and `local.tee` leave there (the register of the value they store), so
    // that reading the local again moves from the register instead of loading from the
    // frame. A copy's register is taken from the allocator; when the allocator has none
    // free it forgets a copy before it spills a value (a copy needs no store). Copies are
    // forgotten where paths of other code meet (`bind_merge`), at calls (which clobber
    // every allocatable register), before code writes fixed registers it did not claim,
    // and when the local is set again. A hotness check keeps them: its report reloads
    // them after its call.

    /// The register that holds a copy of local `i`, if one does.
    fn copy_of(&self, i: u32) -> Option<Reg> {
        self.copies.iter().find(|c| c.1 == i).map(|c| c.0)
    }

    /// Keeps `r`, which the caller owns and which holds local `i`'s value, as its copy.
    fn keep_copy(&mut self, i: u32, r: Reg) {
        self.forget_copy_of(i);
        self.copies.push((r, i));
    }

    /// Forgets local `i`'s copy, if it has one.
    fn forget_copy_of(&mut self, i: u32) {
        if let Some(r) = self.detach_copy(i) {
            self.regs.free(r);
        }
    }

    /// Forgets the copy that `r` holds, if it holds one; whether it did.
    fn forget_copy_in(&mut self, r: Reg) -> bool {
        match self.copies.iter().position(|c| c.0 == r) {
            Some(k) => {
                self.copies.swap_remove(k);
                self.regs.free(r);
                true
            }
            None => false,
        }
    }

    /// Forgets the oldest copy in a register of the class (`float`); whether there was one.
    fn forget_one(&mut self, float: bool) -> bool {
        match self
            .copies
            .iter()
            .position(|c| matches!(c.0, Reg::X(_)) == float)
        {
            Some(k) => {
                let (r, _) = self.copies.remove(k);
                self.regs.free(r);
                true
            }
            None => false,
        }
    }

    /// Removes local `i`'s copy and hands its register (still taken) to the caller.
    fn detach_copy(&mut self, i: u32) -> Option<Reg> {
        let k = self.copies.iter().position(|c| c.1 == i)?;
        Some(self.copies.swap_remove(k).0)
    }

    /// If `e` (just popped) names a local with a copy and no register of its class is
    /// free, hands the copy's register over to the caller, so that the local has no copy
    /// after; not while other entries name the local, which will read the copy. Where a
    /// register is free the caller takes that and moves the copy into it: the local keeps
    /// its copy for the next reads.
    fn take_copy(&mut self, e: Entry) -> Option<Reg> {
        match e {
            Entry::Local(ty, i)
                if !self.regs.has_free(is_float(ty)) && !self.stack.entries.contains(&e) =>
            {
                self.detach_copy(i)
            }
            _ => None,
        }
    }

    /// Pops the top value into a general-purpose register for the caller to read and not
    /// change: a local's copy is lent (no other operand can take it until
    /// [`Self::release`] gives it back to the local), any other value is in a register the
    /// caller owns.
    fn pop_gpr_read(&mut self) -> Result<Read, CompileError> {
        // (An integer local's copy is in a general-purpose register.)
        if let Some(&Entry::Local(ty, i)) = self.stack.peek(0)
            && !is_float(ty)
        {
            if let Some(Reg::G(reg)) = self.detach_copy(i) {
                self.stack.pop();
                return Ok(Read {
                    reg,
                    lent_by: Some(i),
                });
            }
            // Loaded into a free register, which keeps the copy for the next reads (where
            // none is free, into one the caller owns).
            if let Some(reg) = self.regs.take_gpr() {
                self.stack.pop();
                let at = self.local(i);
                self.m.load(Size::of(ty), reg, at);
                return Ok(Read {
                    reg,
                    lent_by: Some(i),
                });
            }
        }
        Ok(Read {
            reg: self.pop_gpr()?,
            lent_by: None,
        })
    }

    /// Pops the top value as the right operand of an integer operation: a register to
    /// read (see [`Self::pop_gpr_read`]), or, for a local without a copy or a value in its
    /// slot, the memory it is in, which the operation reads directly (no load of its own).
    fn pop_operand(&mut self) -> Result<Operand, CompileError> {
        let depth = self.stack.len().saturating_sub(1);
        match self.stack.peek(0) {
            Some(&Entry::Local(_, i)) if self.copy_of(i).is_none() => {
                self.stack.pop();
                Ok(Operand::Mem(self.local(i)))
            }
            Some(Entry::Mem(_)) => {
                self.stack.pop();
                Ok(Operand::Mem(self.slot(depth)))
            }
            _ => self.pop_gpr_read().map(Operand::Reg),
        }
    }

    /// Gives back a register read with [`Self::pop_gpr_read`]. A local has one copy at
    /// most: where the operator read the same local twice (the second time into a register
    /// of its own, which became a copy too), the first register given back stays the copy
    /// and the other is freed.
    fn release(&mut self, read: Read) {
        match read.lent_by {
            Some(i) if self.copy_of(i).is_none() => self.copies.push((Reg::G(read.reg), i)),
            _ => self.regs.free(Reg::G(read.reg)),
        }
    }

    /// Forgets every copy.
    fn forget_copies(&mut self) {
        // Cleared in place: the vector keeps its room for the next copies.
        for &(r, _) in &self.copies {
            self.regs.free(r);
        }
        self.copies.clear();
    }

    /// Binds `label` where paths of different code meet (a frame's end, a loop's header,
    /// an `else`, an OSR entry's point): no copy is known to be there on every path.
    fn bind_merge(&mut self, label: Label) {
        self.forget_copies();
        self.m.bind(label);
    }

    fn pop(&mut self) -> Result<Entry, CompileError> {
        self.stack
            .pop()
            .ok_or_else(|| CompileError("operand stack underflow".into()))
    }

    /// Pops the top value into a general-purpose register that the caller owns (a local's
    /// copy is moved, or handed over where no register is free: see `take_copy`).
    fn pop_gpr(&mut self) -> Result<Gpr, CompileError> {
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if let Entry::Reg(_, Reg::G(r)) = e {
            return Ok(r);
        }
        if let Some(Reg::G(r)) = self.take_copy(e) {
            return Ok(r);
        }
        let r = self.alloc_gpr();
        self.load_gpr(e, depth, r);
        if let Entry::Reg(_, other) = e {
            self.regs.free(other);
        }
        Ok(r)
    }

    /// Pops the top value into a float register that the caller owns (a local's copy is
    /// moved, or handed over where no register is free).
    fn pop_xmm(&mut self) -> Result<Xmm, CompileError> {
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if let Entry::Reg(_, Reg::X(x)) = e {
            return Ok(x);
        }
        if let Some(Reg::X(x)) = self.take_copy(e) {
            return Ok(x);
        }
        let x = self.alloc_xmm();
        self.load_xmm(e, depth, x);
        if let Entry::Reg(_, other) = e {
            self.regs.free(other);
        }
        Ok(x)
    }

    /// Pops the top value if it is a constant that fits a sign-extended 32-bit immediate
    /// of an operation of `size`.
    fn pop_imm(&mut self, size: Size) -> Option<i32> {
        match *self.stack.peek(0)? {
            Entry::Const(_, bits) => {
                let imm = match size {
                    Size::S32 => bits as u32 as i32,
                    Size::S64 if bits as i64 == bits as i32 as i64 => bits as i32,
                    Size::S64 => return None,
                };
                self.stack.pop();
                Some(imm)
            }
            _ => None,
        }
    }

    /// Claims the result register after a call and pushes the integer or reference result
    /// of type `ty` in it. An `i32` is zero-extended first: the calling convention leaves
    /// the upper half undefined, and this tier keeps every `i32` in a register
    /// zero-extended, which its memory accesses rely on (they index with all 64 bits).
    fn push_call_result(&mut self, ty: ValType) {
        self.claim(Reg::G(M::RET_GPR));
        if ty == ValType::I32 {
            self.m.mov(Size::S32, M::RET_GPR, M::RET_GPR);
        }
        self.push_gpr(ty, M::RET_GPR);
    }

    fn push_gpr(&mut self, ty: ValType, r: Gpr) {
        self.stack.push(Entry::Reg(ty, Reg::G(r)));
    }

    fn push_xmm(&mut self, ty: ValType, x: Xmm) {
        self.stack.push(Entry::Reg(ty, Reg::X(x)));
    }

    /// Drops entries down to `height`, freeing their registers.
    fn truncate(&mut self, height: usize) {
        while self.stack.len() > height {
            if let Some(Entry::Reg(_, r)) = self.stack.pop() {
                self.regs.free(r);
            }
        }
    }

    /// A trap unless `cond` holds for the last comparison.
    fn trap_unless(&mut self, cond: Cond, code: TrapCode) {
        let ok = self.m.new_label();
        self.m.jcc(cond, ok);
        self.m.trap(code, &mut self.traps);
        self.m.bind(ok);
    }
}
