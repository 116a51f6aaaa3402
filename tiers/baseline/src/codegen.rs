//! The code generator: one pass over a function's operators, each emitted through the
//! macro-assembler as it is read, with the operand stack tracked symbolically
//! (`stack.rs`).
//!
//! Frame (below the frame pointer, after the registers the prologue saves): one 8-byte
//! slot per local, the results-area pointer when the function returns two or more values,
//! then one 8-byte slot per operand-stack depth. Parameters arrive by the register
//! convention (`tierup_abi::regcall`) and are stored into their locals' slots; the other
//! locals are zeroed.

use tierup_abi::entry::offsets as entry;
use tierup_abi::regcall::{self, Loc};
use tierup_abi::vmctx::{libcall_offsets, memory_offsets, offsets as vm, table_offsets};
use tierup_abi::{CompileError, GUARD_BYTES, ModuleEnv, SourceLoc, TrapCode};
use wasmparser::{BlockType, MemArg, Operator, ValType};

use crate::masm::{
    Addr, BitCount, Cond, FBits, FloatOp, Gpr, IntOp, Label, Masm, Round, ShiftOp, Size, Widen, Xmm,
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
struct Frame {
    kind: Kind,
    /// The stack height below the frame's parameters.
    height: usize,
    params: Vec<ValType>,
    results: Vec<ValType>,
    /// Where a branch to the frame goes: the end, or a loop's header.
    label: Label,
    /// Whether the code before the frame was reachable.
    reachable_at_start: bool,
    /// Whether a branch targets the end.
    end_used: bool,
}

impl Frame {
    /// The values a branch to the frame carries.
    fn branch_types(&self) -> &[ValType] {
        if self.kind == Kind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

/// An argument of a libcall.
#[derive(Clone, Copy, Debug)]
enum LArg {
    Imm(u64),
    /// The operand this many entries above the deepest of the call's operands.
    Operand(usize),
}

/// How many bytes a value of `ty` takes in a slot, and its operation width.
fn size_of(ty: ValType) -> Size {
    match ty {
        ValType::I32 | ValType::F32 => Size::S32,
        _ => Size::S64,
    }
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
    pub m: M,
    bounds_checks: bool,
    locals: Vec<ValType>,
    results: Vec<ValType>,
    stack: Stack,
    regs: Regs,
    frames: Vec<Frame>,
    pub traps: Vec<(u32, TrapCode)>,
    pub wasm_map: Vec<SourceLoc>,
    reachable: bool,
    /// Frames opened in unreachable code, whose operators are skipped.
    unreachable_depth: u32,
}

impl<'a, M: Masm> CodeGen<'a, M> {
    pub fn new(env: &'a ModuleEnv, m: M, bounds_checks: bool) -> Self {
        CodeGen {
            env,
            m,
            bounds_checks,
            locals: Vec::new(),
            results: Vec::new(),
            stack: Stack::default(),
            regs: Regs::new(M::ALLOCATABLE, M::ALLOCATABLE_XMM),
            frames: Vec::new(),
            traps: Vec::new(),
            wasm_map: Vec::new(),
            reachable: true,
            unreachable_depth: 0,
        }
    }

    /// The bytes of frame below the saved registers.
    pub fn frame_bytes(&self) -> u32 {
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
    /// stored into their locals and the other locals zeroed.
    pub fn prologue(
        &mut self,
        params: &[ValType],
        results: &[ValType],
        locals: Vec<ValType>,
    ) -> Result<(), CompileError> {
        self.locals = locals;
        self.results = results.to_vec();
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
        self.m.mov(Size::S64, M::SLOT, slot);
        self.m.load(
            Size::S64,
            M::VMCTX,
            Addr::Base(slot, entry::ENTRY_VMCTX as i32),
        );
        if !self.env.memories.is_empty() {
            self.m.load(
                Size::S64,
                M::MEMORY_BASE,
                Addr::Base(M::VMCTX, vm::MEMORY_BASE as i32),
            );
        }
        let layout = regcall::locate(params, results);
        if let Some(Loc::Gpr(g)) = layout.results_area {
            let area = self.results_area_disp();
            self.m.store(8, Addr::Frame(area), M::ARG_GPRS[g as usize]);
        }
        for (i, (&ty, loc)) in params.iter().zip(&layout.params).enumerate() {
            let dst = self.local(i as u32);
            match *loc {
                Loc::Gpr(g) => self.m.store(8, dst, M::ARG_GPRS[g as usize]),
                Loc::Xmm(x) => self.m.fstore(size_of(ty), dst, Xmm(x)),
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
        let end = self.m.new_label();
        self.frames.push(Frame {
            kind: Kind::Function,
            height: 0,
            params: Vec::new(),
            results: results.to_vec(),
            label: end,
            reachable_at_start: true,
            end_used: false,
        });
        Ok(())
    }

    /// Whether the body's final `end` was translated.
    pub fn done(&self) -> bool {
        self.frames.is_empty()
    }

    // ---- materialising values -----------------------------------------------------

    /// Puts the value of `e` (at `depth`) into `dst`, leaving the stack as it is.
    fn load_gpr(&mut self, e: Entry, depth: usize, dst: Gpr) {
        match e {
            Entry::Const(ty, bits) => self.m.mov_imm(size_of(ty), dst, bits),
            Entry::Local(ty, i) => {
                let at = self.local(i);
                self.m.load(size_of(ty), dst, at)
            }
            Entry::Reg(ty, Reg::G(r)) => {
                if r != dst {
                    self.m.mov(size_of(ty), dst, r)
                }
            }
            Entry::Reg(ty, Reg::X(x)) => self.m.xmm_to_gpr(size_of(ty), dst, x),
            Entry::Mem(ty) => {
                let at = self.slot(depth);
                self.m.load(size_of(ty), dst, at)
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
                self.m.gpr_to_xmm(size_of(ty), dst, M::SCRATCH);
            }
            Entry::Local(ty, i) => {
                let at = self.local(i);
                self.m.fload(size_of(ty), dst, at)
            }
            Entry::Reg(_, Reg::X(x)) => {
                if x != dst {
                    self.m.fmov(dst, x)
                }
            }
            Entry::Reg(ty, Reg::G(r)) => self.m.gpr_to_xmm(size_of(ty), dst, r),
            Entry::Mem(ty) => {
                let at = self.slot(depth);
                self.m.fload(size_of(ty), dst, at)
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
        match e {
            Entry::Const(_, bits) if bits as i64 == bits as i32 as i64 => {
                self.m.store_imm(8, addr, bits as i32)
            }
            Entry::Const(_, bits) if bits <= u32::MAX as u64 && bits as u32 as i32 >= 0 => {
                self.m.store_imm(8, addr, bits as i32)
            }
            Entry::Reg(_, Reg::G(r)) => self.m.store(8, addr, r),
            Entry::Reg(ty, Reg::X(x)) => self.m.fstore(size_of(ty), addr, x),
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
        let i = self
            .stack
            .deepest_in_reg(true)
            .expect("registers in use outside the stack");
        self.spill(i);
        self.regs.take_xmm().expect("a register was just spilled")
    }

    /// Takes `r` for the caller, spilling the entry that holds it.
    fn claim(&mut self, r: Reg) {
        if !self.regs.take_this(r) {
            if let Some(i) = self.stack.holding(r) {
                self.spill(i);
            }
            let taken = self.regs.take_this(r);
            debug_assert!(taken, "{r:?} is held outside the stack");
        }
    }

    fn pop(&mut self) -> Result<Entry, CompileError> {
        self.stack
            .pop()
            .ok_or_else(|| CompileError("operand stack underflow".into()))
    }

    /// Pops the top value into a general-purpose register that the caller owns.
    fn pop_gpr(&mut self) -> Result<Gpr, CompileError> {
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if let Entry::Reg(_, Reg::G(r)) = e {
            return Ok(r);
        }
        let r = self.alloc_gpr();
        self.load_gpr(e, depth, r);
        if let Entry::Reg(_, other) = e {
            self.regs.free(other);
        }
        Ok(r)
    }

    /// Pops the top value into a float register that the caller owns.
    fn pop_xmm(&mut self) -> Result<Xmm, CompileError> {
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if let Entry::Reg(_, Reg::X(x)) = e {
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

    // ---- control flow -----------------------------------------------------------------

    /// Stores the top `n` values into the slots from `height` up (the places a branch
    /// target expects them), leaving the stack as it is.
    fn place_values(&mut self, height: usize, n: usize) {
        let len = self.stack.len();
        for k in 0..n {
            let from = len - n + k;
            let e = self.stack.entries[from];
            let to = self.slot(height + k);
            self.store_value(e, from, to);
        }
    }

    /// Whether the top `n` values already sit in the slots from `height` up.
    fn values_in_place(&self, height: usize, n: usize) -> bool {
        let len = self.stack.len();
        len - n == height
            && self.stack.entries[height..]
                .iter()
                .all(|e| matches!(e, Entry::Mem(_)))
    }

    fn frame_at(&self, depth: u32) -> Result<&Frame, CompileError> {
        self.frames
            .len()
            .checked_sub(1 + depth as usize)
            .and_then(|i| self.frames.get(i))
            .ok_or_else(|| CompileError(format!("branch depth {depth} out of range")))
    }

    /// Emits a branch to the frame `depth` levels out (its values placed first).
    fn branch(&mut self, depth: u32) -> Result<(), CompileError> {
        let (height, n, label) = {
            let f = self.frame_at(depth)?;
            (f.height, f.branch_types().len(), f.label)
        };
        self.place_values(height, n);
        self.m.jmp(label);
        self.mark_used(depth);
        Ok(())
    }

    fn mark_used(&mut self, depth: u32) {
        let i = self.frames.len() - 1 - depth as usize;
        self.frames[i].end_used = true;
    }

    fn set_unreachable(&mut self) {
        self.reachable = false;
        let height = self.frames.last().map_or(0, |f| f.height);
        self.truncate(height);
    }

    fn block_types(&self, ty: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        let sig = self.env.block_sig(ty);
        (sig.params().to_vec(), sig.results().to_vec())
    }

    fn open(&mut self, kind: Kind, ty: BlockType, label: Label) {
        let (params, results) = self.block_types(ty);
        let height = self.stack.len() - params.len();
        self.frames.push(Frame {
            kind,
            height,
            params,
            results,
            label,
            reachable_at_start: true,
            end_used: false,
        });
    }

    /// The `else` of the innermost frame.
    fn else_(&mut self) -> Result<(), CompileError> {
        let frame = self
            .frames
            .last_mut()
            .ok_or_else(|| CompileError("else outside of a frame".into()))?;
        let Kind::If(else_label) = frame.kind else {
            return Err(CompileError("else without if".into()));
        };
        frame.kind = Kind::Else;
        let (height, n, end, reachable_at_start) = (
            frame.height,
            frame.results.len(),
            frame.label,
            frame.reachable_at_start,
        );
        let params = frame.params.clone();
        if self.reachable {
            self.place_values(height, n);
            self.m.jmp(end);
            self.mark_used(0);
        }
        self.truncate(height);
        self.m.bind(else_label);
        // The parameters' originals, below the then arm's copies, are in their slots.
        for ty in params {
            self.stack.push(Entry::Mem(ty));
        }
        self.reachable = reachable_at_start;
        Ok(())
    }

    /// The `end` of the innermost frame.
    fn end(&mut self) -> Result<(), CompileError> {
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| CompileError("end outside of a frame".into()))?;
        let n = frame.results.len();
        let fell_through = self.reachable;
        if self.reachable {
            self.place_values(frame.height, n);
        }
        // Branches to a loop go to its header, not to its end.
        let mut reachable = fell_through || (frame.end_used && frame.kind != Kind::Loop);
        match frame.kind {
            Kind::If(else_label) => {
                // No else arm: the parameters (as many and of the same types as the
                // results) are in place on that path.
                if fell_through {
                    self.m.jmp(frame.label);
                }
                self.m.bind(else_label);
                reachable |= frame.reachable_at_start;
                self.m.bind(frame.label);
            }
            Kind::Loop => {}
            _ => self.m.bind(frame.label),
        }
        self.truncate(frame.height);
        self.reachable = reachable;
        if reachable {
            for &ty in &frame.results {
                self.stack.push(Entry::Mem(ty));
            }
        }
        if frame.kind == Kind::Function && reachable {
            self.emit_return()?;
        }
        Ok(())
    }

    /// Returns the top values as the function's results.
    fn emit_return(&mut self) -> Result<(), CompileError> {
        let n = self.results.len();
        let len = self.stack.len();
        if len < n {
            return Err(CompileError("too few results".into()));
        }
        match n {
            0 => {}
            1 => {
                let e = self.stack.entries[len - 1];
                if is_float(self.results[0]) {
                    self.load_xmm(e, len - 1, M::RET_XMM);
                } else {
                    self.load_gpr(e, len - 1, M::RET_GPR);
                }
            }
            _ => {
                let area = self.results_area_disp();
                self.m.load(Size::S64, M::SCRATCH2, Addr::Frame(area));
                for k in 0..n {
                    let e = self.stack.entries[len - n + k];
                    self.store_value(e, len - n + k, Addr::Base(M::SCRATCH2, 16 * k as i32));
                }
            }
        }
        self.m.epilogue();
        Ok(())
    }

    // ---- calls -------------------------------------------------------------------------

    /// Calls the slot whose address is in the second scratch register with the top values
    /// as arguments, by the register convention, and pushes the results.
    fn call_slot(&mut self, params: &[ValType], results: &[ValType]) -> Result<(), CompileError> {
        let layout = regcall::locate(params, results);
        let n = params.len();
        let len = self.stack.len();
        let base = len
            .checked_sub(n)
            .ok_or_else(|| CompileError("too few arguments".into()))?;
        let area = if results.len() > 1 {
            16 * results.len() as u32
        } else {
            0
        };
        let reserve = (layout.stack_bytes + area).next_multiple_of(16);
        self.m.reserve(reserve);
        for (k, loc) in layout.params.iter().enumerate() {
            if let Loc::Stack(off) = *loc {
                let e = self.stack.entries[base + k];
                let at = self.m.sp_addr(off as i32);
                self.store_value(e, base + k, at);
            }
        }
        for (k, loc) in layout.params.iter().enumerate() {
            let e = self.stack.entries[base + k];
            match *loc {
                Loc::Gpr(g) => self.load_gpr(e, base + k, M::ARG_GPRS[g as usize]),
                Loc::Xmm(x) => self.load_xmm(e, base + k, Xmm(x)),
                _ => {}
            }
        }
        if let Some(Loc::Gpr(g)) = layout.results_area {
            let at = self.m.sp_addr(layout.stack_bytes as i32);
            self.m.lea(M::ARG_GPRS[g as usize], at);
        }
        self.m.mov(Size::S64, M::ARG_GPRS[1], M::VMCTX);
        self.m.mov(Size::S64, M::ARG_GPRS[0], M::SCRATCH2);
        self.m.call_mem(Addr::Base(
            M::ARG_GPRS[0],
            entry::ENTRY_REGISTER_ENTRY as i32,
        ));
        self.truncate(base);
        match results {
            [] => {}
            [ty] if is_float(*ty) => {
                self.claim(Reg::X(M::RET_XMM));
                self.push_xmm(*ty, M::RET_XMM);
            }
            [ty] => {
                self.claim(Reg::G(M::RET_GPR));
                self.push_gpr(*ty, M::RET_GPR);
            }
            many => {
                for (k, &ty) in many.iter().enumerate() {
                    let from = self.m.sp_addr((layout.stack_bytes + 16 * k as u32) as i32);
                    self.m.load(Size::S64, M::SCRATCH, from);
                    let to = self.slot(self.stack.len());
                    self.m.store(8, to, M::SCRATCH);
                    self.stack.push(Entry::Mem(ty));
                }
            }
        }
        self.m.release(reserve);
        Ok(())
    }

    fn call(&mut self, func_index: u32) -> Result<(), CompileError> {
        let ty = self.func_type(func_index)?;
        self.spill_all();
        let imported = self.env.num_imported_funcs;
        if func_index < imported {
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(M::VMCTX, vm::FUNC_REFS as i32),
            );
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(M::SCRATCH2, 8 * func_index as i32),
            );
        } else {
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(M::VMCTX, vm::DEFINED_FUNCS as i32),
            );
            let off = (func_index - imported) as u64 * entry::ENTRY_SIZE as u64;
            let off = i32::try_from(off).map_err(|_| unsupported("calls this far"))?;
            self.m.lea(M::SCRATCH2, Addr::Base(M::SCRATCH2, off));
        }
        self.call_slot(ty.params(), ty.results())
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<(), CompileError> {
        let ty = self
            .env
            .types
            .get(type_index as usize)
            .cloned()
            .ok_or_else(|| CompileError(format!("unknown type {type_index}")))?;
        let index = self.pop_gpr()?;
        self.spill_all();
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s2, Addr::Base(M::VMCTX, vm::TABLES as i32));
        self.m.load(Size::S64, s2, Addr::Base(s2, 8 * table as i32));
        self.m
            .load(Size::S64, s, Addr::Base(s2, table_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, index, s);
        self.trap_unless(Cond::LtU, TrapCode::UndefinedElement);
        self.m.load(
            Size::S64,
            s2,
            Addr::Base(s2, table_offsets::ELEMENTS as i32),
        );
        self.m.shift_imm(ShiftOp::Shl, Size::S64, index, 3);
        self.m.load(Size::S64, s2, Addr::Indexed(s2, index, 0));
        self.m.test(Size::S64, s2);
        self.trap_unless(Cond::Ne, TrapCode::UninitializedElement);
        self.m
            .load(Size::S64, s, Addr::Base(M::VMCTX, vm::TYPE_IDS as i32));
        self.m
            .load(Size::S32, s, Addr::Base(s, 4 * type_index as i32));
        self.m.load(
            Size::S32,
            index,
            Addr::Base(s2, entry::ENTRY_TYPE_ID as i32),
        );
        self.m.cmp(Size::S32, index, s);
        self.trap_unless(Cond::Eq, TrapCode::IndirectCallTypeMismatch);
        self.regs.free(Reg::G(index));
        self.call_slot(ty.params(), ty.results())
    }

    fn func_type(&self, func_index: u32) -> Result<wasmparser::FuncType, CompileError> {
        self.env
            .funcs
            .get(func_index as usize)
            .and_then(|&t| self.env.types.get(t as usize))
            .cloned()
            .ok_or_else(|| CompileError(format!("unknown function {func_index}")))
    }

    /// Calls libcall `offset` of the libcall table with the instance context and `args`
    /// (integers, already in their argument registers from the third on); the stack
    /// must be spilled.
    fn libcall(&mut self, offset: usize) {
        self.m.mov(Size::S64, M::ARG_GPRS[0], M::VMCTX);
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(M::VMCTX, vm::LIBCALLS as i32),
        );
        self.m.call_mem(Addr::Base(M::SCRATCH, offset as i32));
    }

    /// Calls libcall `offset` with the instance context and `args` (immediates, or the
    /// topmost `operands` entries, the deepest first, which it pops), in the integer
    /// argument registers from the second on. A libcall that returns a status (`status`)
    /// raises a failed one; one with a result pushes it as `result`.
    fn call_libcall(
        &mut self,
        offset: usize,
        args: &[LArg],
        operands: usize,
        status: bool,
        result: Option<ValType>,
    ) -> Result<(), CompileError> {
        self.spill_all();
        let len = self.stack.len();
        let base = len
            .checked_sub(operands)
            .ok_or_else(|| CompileError("operand stack underflow".into()))?;
        for (i, arg) in args.iter().enumerate() {
            let reg = M::ARG_GPRS[i + 1];
            match *arg {
                LArg::Imm(v) => self.m.mov_imm(Size::S64, reg, v),
                LArg::Operand(k) => {
                    let e = self.stack.entries[base + k];
                    self.load_gpr(e, base + k, reg);
                }
            }
        }
        self.truncate(base);
        self.libcall(offset);
        if status {
            let ok = self.m.new_label();
            self.m.test(Size::S32, M::RET_GPR);
            self.m.jcc(Cond::Eq, ok);
            self.m.mov(Size::S32, M::ARG_GPRS[0], M::RET_GPR);
            self.m.load(
                Size::S64,
                M::SCRATCH,
                Addr::Base(M::VMCTX, vm::LIBCALLS as i32),
            );
            self.m
                .call_mem(Addr::Base(M::SCRATCH, libcall_offsets::RAISE as i32));
            self.m.bind(ok);
        }
        if let Some(ty) = result {
            self.claim(Reg::G(M::RET_GPR));
            self.push_gpr(ty, M::RET_GPR);
        }
        Ok(())
    }

    fn table_type(&self, table: u32) -> Result<ValType, CompileError> {
        self.env
            .tables
            .get(table as usize)
            .map(|t| ValType::Ref(t.element_type))
            .ok_or_else(|| CompileError(format!("unknown table {table}")))
    }

    /// The table's descriptor, into the second scratch register.
    fn table_def(&mut self, table: u32) {
        let s2 = M::SCRATCH2;
        self.m
            .load(Size::S64, s2, Addr::Base(M::VMCTX, vm::TABLES as i32));
        self.m.load(Size::S64, s2, Addr::Base(s2, 8 * table as i32));
    }

    /// Checks `index` against the table's length (a trap beyond it) and leaves the
    /// elements' base in the second scratch register and `index` scaled to bytes.
    fn table_element(&mut self, table: u32, index: Gpr) -> Result<(), CompileError> {
        self.table_type(table)?;
        self.table_def(table);
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s, Addr::Base(s2, table_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, index, s);
        self.trap_unless(Cond::LtU, TrapCode::TableOutOfBounds);
        self.m.load(
            Size::S64,
            s2,
            Addr::Base(s2, table_offsets::ELEMENTS as i32),
        );
        self.m.shift_imm(ShiftOp::Shl, Size::S64, index, 3);
        Ok(())
    }

    // ---- memory ------------------------------------------------------------------------

    /// Pops the address operand of an access of `bytes` bytes and returns the access's
    /// operand and the register to free after it; checks the bound where the guard
    /// region does not cover the access.
    fn heap_addr(&mut self, memarg: &MemArg, bytes: u64) -> Result<(Addr, Gpr), CompileError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("multiple memories"));
        }
        let index = self.pop_gpr()?;
        let end = memarg.offset.saturating_add(bytes);
        if self.bounds_checks || end > GUARD_BYTES {
            self.bound_check(index, end)?;
        }
        let addr = match i32::try_from(memarg.offset) {
            Ok(off) => Addr::Indexed(M::MEMORY_BASE, index, off),
            Err(_) => {
                self.m.mov_imm(Size::S64, M::SCRATCH, memarg.offset);
                self.m.int_op(IntOp::Add, Size::S64, index, M::SCRATCH);
                Addr::Indexed(M::MEMORY_BASE, index, 0)
            }
        };
        Ok((addr, index))
    }

    /// Traps unless `index + end` is within the memory's current length.
    fn bound_check(&mut self, index: Gpr, end: u64) -> Result<(), CompileError> {
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m.mov(Size::S64, s, index);
        match i32::try_from(end) {
            Ok(e) => self.m.int_op_imm(IntOp::Add, Size::S64, s, e),
            Err(_) => {
                self.m.mov_imm(Size::S64, s2, end);
                self.m.int_op(IntOp::Add, Size::S64, s, s2);
            }
        }
        self.m
            .load(Size::S64, s2, Addr::Base(M::VMCTX, vm::MEMORY as i32));
        self.m
            .load(Size::S64, s2, Addr::Base(s2, memory_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, s, s2);
        self.trap_unless(Cond::LeU, TrapCode::MemoryOutOfBounds);
        Ok(())
    }

    fn access_site(&mut self) {
        let at = self.m.offset();
        self.traps.push((at, TrapCode::MemoryOutOfBounds));
    }

    fn load_int(
        &mut self,
        memarg: &MemArg,
        ty: ValType,
        bytes: u64,
        widen: Option<Widen>,
    ) -> Result<(), CompileError> {
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        self.access_site();
        match widen {
            Some(w) => self.m.load_widen(w, index, addr),
            None => self.m.load(size_of(ty), index, addr),
        }
        if ty == ValType::I32 && matches!(widen, Some(Widen::B8(true) | Widen::B16(true))) {
            // Sign-extended to 64 bits by the load; an i32 keeps its upper half zero.
            self.m.mov(Size::S32, index, index);
        }
        self.push_gpr(ty, index);
        Ok(())
    }

    fn load_float(&mut self, memarg: &MemArg, ty: ValType) -> Result<(), CompileError> {
        let bytes = if ty == ValType::F32 { 4 } else { 8 };
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        let x = self.alloc_xmm();
        self.access_site();
        self.m.fload(size_of(ty), x, addr);
        self.regs.free(Reg::G(index));
        self.push_xmm(ty, x);
        Ok(())
    }

    fn store_int(&mut self, memarg: &MemArg, bytes: u8) -> Result<(), CompileError> {
        let value = self.pop_gpr()?;
        let (addr, index) = self.heap_addr(memarg, u64::from(bytes))?;
        self.access_site();
        self.m.store(bytes, addr, value);
        self.regs.free(Reg::G(value));
        self.regs.free(Reg::G(index));
        Ok(())
    }

    fn store_float(&mut self, memarg: &MemArg, ty: ValType) -> Result<(), CompileError> {
        let value = self.pop_xmm()?;
        let bytes = if ty == ValType::F32 { 4 } else { 8 };
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        self.access_site();
        self.m.fstore(size_of(ty), addr, value);
        self.regs.free(Reg::X(value));
        self.regs.free(Reg::G(index));
        Ok(())
    }

    /// `memory.copy` and `memory.fill`: both ranges checked whole, then one string
    /// instruction (a copy descends when the destination is above the source).
    fn bulk(&mut self, copy: bool) -> Result<(), CompileError> {
        // dst, src-or-value, len: into the string instruction's registers.
        self.spill_all();
        let len = self.stack.len();
        if len < 3 {
            return Err(CompileError("operand stack underflow".into()));
        }
        let (dst_e, mid_e, len_e) = (
            self.stack.entries[len - 3],
            self.stack.entries[len - 2],
            self.stack.entries[len - 1],
        );
        let (dst, src, count) = (M::ARG_GPRS[0], M::ARG_GPRS[1], M::COUNT);
        self.load_gpr(dst_e, len - 3, dst);
        self.load_gpr(mid_e, len - 2, src);
        self.load_gpr(len_e, len - 1, count);
        self.truncate(len - 3);
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s2, Addr::Base(M::VMCTX, vm::MEMORY as i32));
        self.m
            .load(Size::S64, s2, Addr::Base(s2, memory_offsets::LENGTH as i32));
        for r in if copy { vec![dst, src] } else { vec![dst] } {
            self.m.mov(Size::S64, s, r);
            self.m.int_op(IntOp::Add, Size::S64, s, count);
            self.m.cmp(Size::S64, s, s2);
            self.trap_unless(Cond::LeU, TrapCode::MemoryOutOfBounds);
        }
        self.m.int_op(IntOp::Add, Size::S64, dst, M::MEMORY_BASE);
        if copy {
            self.m.int_op(IntOp::Add, Size::S64, src, M::MEMORY_BASE);
            let up = self.m.new_label();
            let done = self.m.new_label();
            self.m.cmp(Size::S64, dst, src);
            self.m.jcc(Cond::LeU, up);
            self.m.test(Size::S64, count);
            self.m.jcc(Cond::Eq, done);
            self.m.lea(dst, Addr::Indexed(dst, count, -1));
            self.m.lea(src, Addr::Indexed(src, count, -1));
            self.m.copy_bytes(false);
            self.m.jmp(done);
            self.m.bind(up);
            self.m.copy_bytes(true);
            self.m.bind(done);
        } else {
            self.m.mov(Size::S32, M::DIV_QUOTIENT, src);
            self.m.fill_bytes();
        }
        Ok(())
    }

    // ---- integer and float operations --------------------------------------------------

    fn int_binop(&mut self, size: Size, ty: ValType, op: IntOp) -> Result<(), CompileError> {
        if let Some(imm) = self.pop_imm(size) {
            let lhs = self.pop_gpr()?;
            self.m.int_op_imm(op, size, lhs, imm);
            self.push_gpr(ty, lhs);
        } else {
            let rhs = self.pop_gpr()?;
            let lhs = self.pop_gpr()?;
            self.m.int_op(op, size, lhs, rhs);
            self.regs.free(Reg::G(rhs));
            self.push_gpr(ty, lhs);
        }
        Ok(())
    }

    fn int_cmp(&mut self, size: Size, cond: Cond) -> Result<(), CompileError> {
        if let Some(imm) = self.pop_imm(size) {
            let lhs = self.pop_gpr()?;
            self.m.cmp_imm(size, lhs, imm);
            self.regs.free(Reg::G(lhs));
        } else {
            let rhs = self.pop_gpr()?;
            let lhs = self.pop_gpr()?;
            self.m.cmp(size, lhs, rhs);
            self.regs.free(Reg::G(rhs));
            self.regs.free(Reg::G(lhs));
        }
        self.stack.push(Entry::Cmp(cond));
        Ok(())
    }

    /// Turns a comparison left in the flags into a register.
    fn materialize_cmp(&mut self) {
        if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
            self.stack.pop();
            // Allocating may spill, which moves and stores: the flags stay.
            let r = self.alloc_gpr();
            self.m.set(cond, r);
            self.push_gpr(ValType::I32, r);
        }
    }

    /// Pops an `i32` condition as the flag condition that means "non-zero".
    fn pop_cond(&mut self) -> Result<Cond, CompileError> {
        if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
            self.stack.pop();
            return Ok(cond);
        }
        let r = self.pop_gpr()?;
        self.m.test(Size::S32, r);
        self.regs.free(Reg::G(r));
        Ok(Cond::Ne)
    }

    fn shift(&mut self, size: Size, ty: ValType, op: ShiftOp) -> Result<(), CompileError> {
        let bits = if size == Size::S32 { 31 } else { 63 };
        if let Some(imm) = self.pop_imm(size) {
            let v = self.pop_gpr()?;
            self.m.shift_imm(op, size, v, (imm & bits) as u8);
            self.push_gpr(ty, v);
            return Ok(());
        }
        let count = self.pop_gpr()?;
        let mut v = self.pop_gpr()?;
        if count != M::COUNT {
            if v == M::COUNT {
                let t = self.alloc_gpr();
                self.m.mov(Size::S64, t, v);
                self.regs.free(Reg::G(v));
                v = t;
            }
            self.claim(Reg::G(M::COUNT));
            self.m.mov(Size::S64, M::COUNT, count);
            self.regs.free(Reg::G(count));
        }
        self.m.shift(op, size, v);
        self.regs.free(Reg::G(M::COUNT));
        self.push_gpr(ty, v);
        Ok(())
    }

    /// Division and remainder, with wasm's traps.
    fn divide(
        &mut self,
        size: Size,
        ty: ValType,
        signed: bool,
        rem: bool,
    ) -> Result<(), CompileError> {
        let rhs = self.pop_gpr()?;
        self.m.mov(Size::S64, M::SCRATCH, rhs);
        self.regs.free(Reg::G(rhs));
        let lhs = self.pop_gpr()?;
        let (q, r) = (M::DIV_QUOTIENT, M::DIV_REMAINDER);
        if lhs != q {
            self.claim(Reg::G(q));
            self.m.mov(Size::S64, q, lhs);
            self.regs.free(Reg::G(lhs));
        }
        self.claim(Reg::G(r));
        self.m.test(size, M::SCRATCH);
        self.trap_unless(Cond::Ne, TrapCode::IntegerDivideByZero);
        let done = self.m.new_label();
        if signed {
            let normal = self.m.new_label();
            self.m.cmp_imm(size, M::SCRATCH, -1);
            self.m.jcc(Cond::Ne, normal);
            if rem {
                // x rem -1 = 0 (and MIN rem -1 must not fault).
                self.m.mov_imm(size, r, 0);
                self.m.jmp(done);
            } else {
                let min = if size == Size::S32 {
                    i32::MIN as u32 as u64
                } else {
                    i64::MIN as u64
                };
                self.m.mov_imm(size, r, min);
                self.m.cmp(size, q, r);
                self.trap_unless(Cond::Ne, TrapCode::IntegerOverflow);
            }
            self.m.bind(normal);
        }
        self.m.div(size, signed, M::SCRATCH);
        self.m.bind(done);
        let (keep, drop) = if rem { (r, q) } else { (q, r) };
        self.regs.free(Reg::G(drop));
        self.push_gpr(ty, keep);
        Ok(())
    }

    fn float_binop(&mut self, size: Size, ty: ValType, op: FloatOp) -> Result<(), CompileError> {
        let rhs = self.pop_xmm()?;
        let lhs = self.pop_xmm()?;
        self.m.float_op(op, size, lhs, rhs);
        self.regs.free(Reg::X(rhs));
        self.push_xmm(ty, lhs);
        Ok(())
    }

    /// `min` and `max`: a NaN operand gives a NaN, and `-0` is below `+0`.
    fn float_minmax(&mut self, size: Size, ty: ValType, max: bool) -> Result<(), CompileError> {
        let b = self.pop_xmm()?;
        let a = self.pop_xmm()?;
        let (nan, ordinary, done) = (self.m.new_label(), self.m.new_label(), self.m.new_label());
        self.m.fcmp(size, a, b);
        self.m.jcc(Cond::Parity, nan);
        self.m.jcc(Cond::Ne, ordinary);
        // Equal: only the signs of zeros can differ.
        self.m.fbits(if max { FBits::And } else { FBits::Or }, a, b);
        self.m.jmp(done);
        self.m.bind(nan);
        self.m.float_op(FloatOp::Add, size, a, b);
        self.m.jmp(done);
        self.m.bind(ordinary);
        self.m
            .float_op(if max { FloatOp::Max } else { FloatOp::Min }, size, a, b);
        self.m.bind(done);
        self.regs.free(Reg::X(b));
        self.push_xmm(ty, a);
        Ok(())
    }

    /// Loads the float constant `bits` into the float scratch register.
    fn xscratch_const(&mut self, size: Size, bits: u64) {
        self.m.mov_imm(Size::S64, M::SCRATCH, bits);
        self.m.gpr_to_xmm(size, M::XSCRATCH, M::SCRATCH);
    }

    fn sign_mask(size: Size) -> u64 {
        if size == Size::S32 {
            0x8000_0000
        } else {
            0x8000_0000_0000_0000
        }
    }

    /// `abs`, `neg` (bit operations on the sign) and `copysign`.
    fn float_sign(&mut self, size: Size, ty: ValType, op: u8) -> Result<(), CompileError> {
        let sign = Self::sign_mask(size);
        match op {
            0 | 1 => {
                let a = self.pop_xmm()?;
                if op == 0 {
                    self.xscratch_const(
                        size,
                        !sign
                            & if size == Size::S32 {
                                0xffff_ffff
                            } else {
                                u64::MAX
                            },
                    );
                    self.m.fbits(FBits::And, a, M::XSCRATCH);
                } else {
                    self.xscratch_const(size, sign);
                    self.m.fbits(FBits::Xor, a, M::XSCRATCH);
                }
                self.push_xmm(ty, a);
            }
            _ => {
                let b = self.pop_xmm()?;
                let a = self.pop_xmm()?;
                self.xscratch_const(size, sign);
                self.m.fbits(FBits::And, b, M::XSCRATCH);
                self.m.fbits(FBits::AndNot, M::XSCRATCH, a);
                self.m.fbits(FBits::Or, M::XSCRATCH, b);
                self.m.fmov(a, M::XSCRATCH);
                self.regs.free(Reg::X(b));
                self.push_xmm(ty, a);
            }
        }
        Ok(())
    }

    /// Float comparisons, into an `i32` (false for a NaN operand but in `ne`).
    fn float_cmp(&mut self, size: Size, op: &str) -> Result<(), CompileError> {
        let b = self.pop_xmm()?;
        let a = self.pop_xmm()?;
        let r = self.alloc_gpr();
        match op {
            "eq" | "ne" => {
                self.m.fcmp(size, a, b);
                let (c, p, combine) = if op == "eq" {
                    (Cond::Eq, Cond::NoParity, IntOp::And)
                } else {
                    (Cond::Ne, Cond::Parity, IntOp::Or)
                };
                self.m.set(c, r);
                self.m.set(p, M::SCRATCH);
                self.m.int_op(combine, Size::S32, r, M::SCRATCH);
            }
            // a < b is b > a: "above" is false for unordered operands.
            _ => {
                let (x, y, cond) = match op {
                    "lt" => (b, a, Cond::GtU),
                    "le" => (b, a, Cond::GeU),
                    "gt" => (a, b, Cond::GtU),
                    _ => (a, b, Cond::GeU),
                };
                self.m.fcmp(size, x, y);
                self.regs.free(Reg::G(r));
                self.regs.free(Reg::X(a));
                self.regs.free(Reg::X(b));
                self.stack.push(Entry::Cmp(cond));
                return Ok(());
            }
        }
        self.regs.free(Reg::X(a));
        self.regs.free(Reg::X(b));
        self.push_gpr(ValType::I32, r);
        Ok(())
    }

    fn float_unop(
        &mut self,
        size: Size,
        ty: ValType,
        round: Option<Round>,
    ) -> Result<(), CompileError> {
        let a = self.pop_xmm()?;
        match round {
            Some(mode) => self.m.fround(mode, size, a, a),
            None => self.m.fsqrt(size, a, a),
        }
        self.push_xmm(ty, a);
        Ok(())
    }

    /// `convert` of a signed or unsigned integer of width `from` to a float.
    fn convert(
        &mut self,
        from: Size,
        to: Size,
        ty: ValType,
        signed: bool,
    ) -> Result<(), CompileError> {
        let v = self.pop_gpr()?;
        let x = self.alloc_xmm();
        match (from, signed) {
            (Size::S32, true) => self.m.int_to_float(Size::S32, to, x, v),
            // A zero-extended 32-bit value is a non-negative 64-bit one.
            (Size::S32, false) | (Size::S64, true) => self.m.int_to_float(Size::S64, to, x, v),
            (Size::S64, false) => {
                let (big, done) = (self.m.new_label(), self.m.new_label());
                self.m.test(Size::S64, v);
                self.m.jcc(Cond::LtS, big);
                self.m.int_to_float(Size::S64, to, x, v);
                self.m.jmp(done);
                self.m.bind(big);
                // Halve (keeping the low bit for rounding), convert, double.
                self.m.mov(Size::S64, M::SCRATCH, v);
                self.m.shift_imm(ShiftOp::ShrU, Size::S64, M::SCRATCH, 1);
                self.m.int_op_imm(IntOp::And, Size::S64, v, 1);
                self.m.int_op(IntOp::Or, Size::S64, M::SCRATCH, v);
                self.m.int_to_float(Size::S64, to, x, M::SCRATCH);
                self.m.float_op(FloatOp::Add, to, x, x);
                self.m.bind(done);
            }
        }
        self.regs.free(Reg::G(v));
        self.push_xmm(ty, x);
        Ok(())
    }

    /// `trunc` (trapping) and `trunc_sat` of a float of width `from` to an integer of
    /// width `to`: the operand's range is checked first, then converted.
    fn truncate_float(
        &mut self,
        from: Size,
        to: Size,
        signed: bool,
        sat: bool,
    ) -> Result<(), CompileError> {
        let ty = if to == Size::S32 {
            ValType::I32
        } else {
            ValType::I64
        };
        let x = self.pop_xmm()?;
        let r = self.alloc_gpr();
        let f = |v: f64| -> u64 {
            if from == Size::S32 {
                u64::from((v as f32).to_bits())
            } else {
                v.to_bits()
            }
        };
        // Valid iff lo < x (or lo <= x) and x < hi.
        let (lo, lo_inclusive, hi) = match (signed, to, from) {
            (true, Size::S32, Size::S64) => (-2147483649.0, false, 2147483648.0),
            (true, Size::S32, Size::S32) => (-2147483648.0, true, 2147483648.0),
            (true, Size::S64, _) => (-9223372036854775808.0, true, 9223372036854775808.0),
            (false, Size::S32, _) => (-1.0, false, 4294967296.0),
            (false, Size::S64, _) => (-1.0, false, 18446744073709551616.0),
        };
        let (nan, small, big, done) = (
            self.m.new_label(),
            self.m.new_label(),
            self.m.new_label(),
            self.m.new_label(),
        );
        self.m.fcmp(from, x, x);
        self.m.jcc(Cond::Parity, nan);
        self.xscratch_const(from, f(lo));
        self.m.fcmp(from, x, M::XSCRATCH);
        self.m
            .jcc(if lo_inclusive { Cond::LtU } else { Cond::LeU }, small);
        self.xscratch_const(from, f(hi));
        self.m.fcmp(from, x, M::XSCRATCH);
        self.m.jcc(Cond::GeU, big);
        match (signed, to) {
            (true, _) => self.m.float_to_int(from, to, r, x),
            (false, Size::S32) => {
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.mov(Size::S32, r, r);
            }
            (false, Size::S64) => {
                let high = self.m.new_label();
                self.xscratch_const(from, f(9223372036854775808.0));
                self.m.fcmp(from, x, M::XSCRATCH);
                self.m.jcc(Cond::GeU, high);
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.jmp(done);
                self.m.bind(high);
                self.m.float_op(FloatOp::Sub, from, x, M::XSCRATCH);
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.mov_imm(Size::S64, M::SCRATCH, 1 << 63);
                self.m.int_op(IntOp::Xor, Size::S64, r, M::SCRATCH);
            }
        }
        self.m.jmp(done);
        let (min, max) = match (signed, to) {
            (true, Size::S32) => (i32::MIN as u32 as u64, i32::MAX as u64),
            (true, Size::S64) => (i64::MIN as u64, i64::MAX as u64),
            (false, Size::S32) => (0, u32::MAX as u64),
            (false, Size::S64) => (0, u64::MAX),
        };
        for (label, value, code) in [
            (nan, 0, TrapCode::BadConversionToInteger),
            (small, min, TrapCode::IntegerOverflow),
            (big, max, TrapCode::IntegerOverflow),
        ] {
            self.m.bind(label);
            if sat {
                self.m.mov_imm(to, r, value);
                self.m.jmp(done);
            } else {
                self.m.trap(code, &mut self.traps);
            }
        }
        self.m.bind(done);
        self.regs.free(Reg::X(x));
        self.push_gpr(ty, r);
        Ok(())
    }

    // ---- the operators -----------------------------------------------------------------

    /// Translates one operator at module offset `offset`.
    pub fn operator(&mut self, op: &Operator, offset: usize) -> Result<(), CompileError> {
        use Operator as O;
        use ValType::{F32, F64, I32, I64};
        let code_offset = self.m.offset();
        match self.wasm_map.last_mut() {
            Some(last) if last.code_offset == code_offset => last.wasm_offset = offset as u32,
            _ => self.wasm_map.push(SourceLoc {
                code_offset,
                wasm_offset: offset as u32,
            }),
        }
        if !matches!(
            op,
            O::BrIf { .. } | O::If { .. } | O::Select | O::TypedSelect { .. } | O::I32Eqz
        ) {
            self.materialize_cmp();
        }
        if !self.reachable {
            match op {
                O::Block { .. } | O::Loop { .. } | O::If { .. } => {
                    self.unreachable_depth += 1;
                    return Ok(());
                }
                O::Else if self.unreachable_depth == 0 => return self.else_(),
                O::End if self.unreachable_depth == 0 => return self.end(),
                O::End => {
                    self.unreachable_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        let (s32, s64) = (Size::S32, Size::S64);
        match *op {
            O::Unreachable => {
                self.m.trap(TrapCode::Unreachable, &mut self.traps);
                self.set_unreachable();
            }
            O::Nop => {}
            O::Block { blockty } => {
                self.spill_all();
                let end = self.m.new_label();
                self.open(Kind::Block, blockty, end);
            }
            O::Loop { blockty } => {
                self.spill_all();
                // The parameters change from one iteration to the next.
                let n = self.block_types(blockty).0.len();
                self.params_to_slots(n);
                let header = self.m.new_label();
                self.m.bind(header);
                self.open(Kind::Loop, blockty, header);
            }
            O::If { blockty } => {
                let cond = self.pop_cond()?;
                // Only moves and stores until the branch: the flags stay.
                self.spill_all();
                let (params, _) = self.block_types(blockty);
                // The else arm finds them in their slots.
                self.params_to_slots(params.len());
                // The then arm works on copies of the parameters; the else arm finds the
                // originals below them.
                let n = params.len();
                let len = self.stack.len();
                for (k, &ty) in params.iter().enumerate() {
                    let to = self.slot(len + k);
                    self.store_value(Entry::Mem(ty), len - n + k, to);
                    self.stack.push(Entry::Mem(ty));
                }
                let else_label = self.m.new_label();
                self.m.jcc(cond.invert(), else_label);
                let end = self.m.new_label();
                self.open(Kind::If(else_label), blockty, end);
                if let Some(f) = self.frames.last_mut() {
                    // Results land where the parameters' originals are.
                    f.height -= n;
                }
            }
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => {
                self.branch(relative_depth)?;
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop_cond()?;
                let (height, n, label) = {
                    let f = self.frame_at(relative_depth)?;
                    (f.height, f.branch_types().len(), f.label)
                };
                if self.values_in_place(height, n) {
                    self.m.jcc(cond, label);
                    self.mark_used(relative_depth);
                } else {
                    // The moves to the target's slots leave the flags alone.
                    let skip = self.m.new_label();
                    self.m.jcc(cond.invert(), skip);
                    self.branch(relative_depth)?;
                    self.m.bind(skip);
                }
            }
            O::BrTable { ref targets } => {
                let mut depths = targets
                    .targets()
                    .collect::<Result<Vec<u32>, _>>()
                    .map_err(|e| CompileError(e.to_string()))?;
                depths.push(targets.default());
                let index = self.pop_gpr()?;
                // Out-of-range indices take the default (the last entry).
                let last = (depths.len() - 1) as u32;
                self.m.mov_imm(s32, M::SCRATCH, u64::from(last));
                self.m.cmp(s32, index, M::SCRATCH);
                self.m.cmov(s64, Cond::GeU, index, M::SCRATCH);
                let stubs: Vec<Label> = depths.iter().map(|_| self.m.new_label()).collect();
                self.m.jump_table(index, M::SCRATCH, &stubs);
                self.regs.free(Reg::G(index));
                for (&depth, &stub) in depths.iter().zip(&stubs) {
                    self.m.bind(stub);
                    self.branch(depth)?;
                }
                self.set_unreachable();
            }
            O::Return => {
                self.emit_return()?;
                self.set_unreachable();
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            O::Drop => {
                if let Entry::Reg(_, r) = self.pop()? {
                    self.regs.free(r);
                }
            }
            O::Select | O::TypedSelect { .. } => {
                // Materialising the operands moves and loads only: the flags stay.
                let cond = self.pop_cond()?;
                let ty = self
                    .stack
                    .peek(0)
                    .map(Entry::ty)
                    .ok_or_else(|| CompileError("operand stack underflow".into()))?;
                if is_float(ty) {
                    let b = self.pop_xmm()?;
                    let a = self.pop_xmm()?;
                    let keep = self.m.new_label();
                    self.m.jcc(cond, keep);
                    self.m.fmov(a, b);
                    self.m.bind(keep);
                    self.regs.free(Reg::X(b));
                    self.push_xmm(ty, a);
                } else {
                    let b = self.pop_gpr()?;
                    let a = self.pop_gpr()?;
                    self.m.cmov(s64, cond.invert(), a, b);
                    self.regs.free(Reg::G(b));
                    self.push_gpr(ty, a);
                }
            }
            O::LocalGet { local_index } => {
                let ty = self.local_type(local_index)?;
                self.stack.push(Entry::Local(ty, local_index));
            }
            O::LocalSet { local_index } => self.local_set(local_index, false)?,
            O::LocalTee { local_index } => self.local_set(local_index, true)?,
            O::GlobalGet { global_index } => {
                let ty = self.global_type(global_index)?;
                if is_float(ty) {
                    let x = self.alloc_xmm();
                    self.global_addr(global_index);
                    self.m.fload(size_of(ty), x, Addr::Base(M::SCRATCH, 0));
                    self.push_xmm(ty, x);
                } else {
                    let r = self.alloc_gpr();
                    self.global_addr(global_index);
                    self.m.load(size_of(ty), r, Addr::Base(M::SCRATCH, 0));
                    self.push_gpr(ty, r);
                }
            }
            O::GlobalSet { global_index } => {
                let ty = self.global_type(global_index)?;
                if is_float(ty) {
                    let x = self.pop_xmm()?;
                    self.global_addr(global_index);
                    self.m.fstore(size_of(ty), Addr::Base(M::SCRATCH, 0), x);
                    self.regs.free(Reg::X(x));
                } else {
                    let r = self.pop_gpr()?;
                    self.global_addr(global_index);
                    self.m.store(8, Addr::Base(M::SCRATCH, 0), r);
                    self.regs.free(Reg::G(r));
                }
            }
            O::I32Load { memarg } => self.load_int(&memarg, I32, 4, None)?,
            O::I64Load { memarg } => self.load_int(&memarg, I64, 8, None)?,
            O::F32Load { memarg } => self.load_float(&memarg, F32)?,
            O::F64Load { memarg } => self.load_float(&memarg, F64)?,
            O::I32Load8S { memarg } => self.load_int(&memarg, I32, 1, Some(Widen::B8(true)))?,
            O::I32Load8U { memarg } => self.load_int(&memarg, I32, 1, Some(Widen::B8(false)))?,
            O::I32Load16S { memarg } => self.load_int(&memarg, I32, 2, Some(Widen::B16(true)))?,
            O::I32Load16U { memarg } => self.load_int(&memarg, I32, 2, Some(Widen::B16(false)))?,
            O::I64Load8S { memarg } => self.load_int(&memarg, I64, 1, Some(Widen::B8(true)))?,
            O::I64Load8U { memarg } => self.load_int(&memarg, I64, 1, Some(Widen::B8(false)))?,
            O::I64Load16S { memarg } => self.load_int(&memarg, I64, 2, Some(Widen::B16(true)))?,
            O::I64Load16U { memarg } => self.load_int(&memarg, I64, 2, Some(Widen::B16(false)))?,
            O::I64Load32S { memarg } => self.load_int(&memarg, I64, 4, Some(Widen::B32(true)))?,
            O::I64Load32U { memarg } => self.load_int(&memarg, I64, 4, Some(Widen::B32(false)))?,
            O::I32Store { memarg } => self.store_int(&memarg, 4)?,
            O::I64Store { memarg } => self.store_int(&memarg, 8)?,
            O::F32Store { memarg } => self.store_float(&memarg, F32)?,
            O::F64Store { memarg } => self.store_float(&memarg, F64)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store_int(&memarg, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store_int(&memarg, 2)?,
            O::I64Store32 { memarg } => self.store_int(&memarg, 4)?,
            O::MemorySize { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                let r = self.alloc_gpr();
                self.m.load(s64, r, Addr::Base(M::VMCTX, vm::MEMORY as i32));
                self.m
                    .load(s64, r, Addr::Base(r, memory_offsets::LENGTH as i32));
                self.m.shift_imm(ShiftOp::ShrU, s64, r, 16);
                self.push_gpr(I32, r);
            }
            O::MemoryGrow { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                self.spill_all();
                let len = self.stack.len();
                let delta = self.pop()?;
                self.load_gpr(delta, len - 1, M::ARG_GPRS[2]);
                self.m.mov_imm(s32, M::ARG_GPRS[1], 0);
                self.libcall(libcall_offsets::MEMORY_GROW);
                self.claim(Reg::G(M::RET_GPR));
                self.push_gpr(I32, M::RET_GPR);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                if dst_mem != 0 || src_mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                self.bulk(true)?;
            }
            O::MemoryFill { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                self.bulk(false)?;
            }
            O::TableGet { table } => {
                let ty = self.table_type(table)?;
                let index = self.pop_gpr()?;
                self.table_element(table, index)?;
                self.m
                    .load(s64, index, Addr::Indexed(M::SCRATCH2, index, 0));
                self.push_gpr(ty, index);
            }
            O::TableSet { table } => {
                let value = self.pop_gpr()?;
                let index = self.pop_gpr()?;
                self.table_element(table, index)?;
                self.m.store(8, Addr::Indexed(M::SCRATCH2, index, 0), value);
                self.regs.free(Reg::G(value));
                self.regs.free(Reg::G(index));
            }
            O::TableSize { table } => {
                self.table_type(table)?;
                let r = self.alloc_gpr();
                self.table_def(table);
                self.m.load(
                    s64,
                    r,
                    Addr::Base(M::SCRATCH2, table_offsets::LENGTH as i32),
                );
                self.push_gpr(I32, r);
            }
            O::TableGrow { table } => {
                self.table_type(table)?;
                // (init, delta) -> old size or -1
                let args = [LArg::Imm(table.into()), LArg::Operand(0), LArg::Operand(1)];
                self.call_libcall(libcall_offsets::TABLE_GROW, &args, 2, false, Some(I32))?;
            }
            O::TableFill { table } => {
                self.table_type(table)?;
                // (dst, value, len)
                let args = [
                    LArg::Imm(table.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_FILL, &args, 3, true, None)?;
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let args = [
                    LArg::Imm(dst_table.into()),
                    LArg::Imm(src_table.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_COPY, &args, 3, true, None)?;
            }
            O::TableInit { elem_index, table } => {
                let args = [
                    LArg::Imm(table.into()),
                    LArg::Imm(elem_index.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_INIT, &args, 3, true, None)?;
            }
            O::ElemDrop { elem_index } => {
                let args = [LArg::Imm(elem_index.into())];
                self.call_libcall(libcall_offsets::ELEM_DROP, &args, 0, false, None)?;
            }
            O::MemoryInit { data_index, mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                let args = [
                    LArg::Imm(0),
                    LArg::Imm(data_index.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::MEMORY_INIT, &args, 3, true, None)?;
            }
            O::DataDrop { data_index } => {
                let args = [LArg::Imm(data_index.into())];
                self.call_libcall(libcall_offsets::DATA_DROP, &args, 0, false, None)?;
            }
            O::I32Const { value } => self.stack.push(Entry::Const(I32, value as u32 as u64)),
            O::I64Const { value } => self.stack.push(Entry::Const(I64, value as u64)),
            O::F32Const { value } => self.stack.push(Entry::Const(F32, u64::from(value.bits()))),
            O::F64Const { value } => self.stack.push(Entry::Const(F64, value.bits())),

            O::I32Eqz | O::I64Eqz => {
                if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
                    self.stack.pop();
                    self.stack.push(Entry::Cmp(cond.invert()));
                } else {
                    let size = if matches!(op, O::I32Eqz) { s32 } else { s64 };
                    let r = self.pop_gpr()?;
                    self.m.test(size, r);
                    self.regs.free(Reg::G(r));
                    self.stack.push(Entry::Cmp(Cond::Eq));
                }
            }
            O::I32Eq => self.int_cmp(s32, Cond::Eq)?,
            O::I32Ne => self.int_cmp(s32, Cond::Ne)?,
            O::I32LtS => self.int_cmp(s32, Cond::LtS)?,
            O::I32LtU => self.int_cmp(s32, Cond::LtU)?,
            O::I32GtS => self.int_cmp(s32, Cond::GtS)?,
            O::I32GtU => self.int_cmp(s32, Cond::GtU)?,
            O::I32LeS => self.int_cmp(s32, Cond::LeS)?,
            O::I32LeU => self.int_cmp(s32, Cond::LeU)?,
            O::I32GeS => self.int_cmp(s32, Cond::GeS)?,
            O::I32GeU => self.int_cmp(s32, Cond::GeU)?,
            O::I64Eq => self.int_cmp(s64, Cond::Eq)?,
            O::I64Ne => self.int_cmp(s64, Cond::Ne)?,
            O::I64LtS => self.int_cmp(s64, Cond::LtS)?,
            O::I64LtU => self.int_cmp(s64, Cond::LtU)?,
            O::I64GtS => self.int_cmp(s64, Cond::GtS)?,
            O::I64GtU => self.int_cmp(s64, Cond::GtU)?,
            O::I64LeS => self.int_cmp(s64, Cond::LeS)?,
            O::I64LeU => self.int_cmp(s64, Cond::LeU)?,
            O::I64GeS => self.int_cmp(s64, Cond::GeS)?,
            O::I64GeU => self.int_cmp(s64, Cond::GeU)?,
            O::F32Eq => self.float_cmp(s32, "eq")?,
            O::F32Ne => self.float_cmp(s32, "ne")?,
            O::F32Lt => self.float_cmp(s32, "lt")?,
            O::F32Gt => self.float_cmp(s32, "gt")?,
            O::F32Le => self.float_cmp(s32, "le")?,
            O::F32Ge => self.float_cmp(s32, "ge")?,
            O::F64Eq => self.float_cmp(s64, "eq")?,
            O::F64Ne => self.float_cmp(s64, "ne")?,
            O::F64Lt => self.float_cmp(s64, "lt")?,
            O::F64Gt => self.float_cmp(s64, "gt")?,
            O::F64Le => self.float_cmp(s64, "le")?,
            O::F64Ge => self.float_cmp(s64, "ge")?,

            O::I32Clz => self.bit_count(s32, I32, BitCount::Clz)?,
            O::I32Ctz => self.bit_count(s32, I32, BitCount::Ctz)?,
            O::I32Popcnt => self.bit_count(s32, I32, BitCount::Popcnt)?,
            O::I64Clz => self.bit_count(s64, I64, BitCount::Clz)?,
            O::I64Ctz => self.bit_count(s64, I64, BitCount::Ctz)?,
            O::I64Popcnt => self.bit_count(s64, I64, BitCount::Popcnt)?,
            O::I32Add => self.int_binop(s32, I32, IntOp::Add)?,
            O::I32Sub => self.int_binop(s32, I32, IntOp::Sub)?,
            O::I32Mul => self.int_binop(s32, I32, IntOp::Mul)?,
            O::I32And => self.int_binop(s32, I32, IntOp::And)?,
            O::I32Or => self.int_binop(s32, I32, IntOp::Or)?,
            O::I32Xor => self.int_binop(s32, I32, IntOp::Xor)?,
            O::I64Add => self.int_binop(s64, I64, IntOp::Add)?,
            O::I64Sub => self.int_binop(s64, I64, IntOp::Sub)?,
            O::I64Mul => self.int_binop(s64, I64, IntOp::Mul)?,
            O::I64And => self.int_binop(s64, I64, IntOp::And)?,
            O::I64Or => self.int_binop(s64, I64, IntOp::Or)?,
            O::I64Xor => self.int_binop(s64, I64, IntOp::Xor)?,
            O::I32DivS => self.divide(s32, I32, true, false)?,
            O::I32DivU => self.divide(s32, I32, false, false)?,
            O::I32RemS => self.divide(s32, I32, true, true)?,
            O::I32RemU => self.divide(s32, I32, false, true)?,
            O::I64DivS => self.divide(s64, I64, true, false)?,
            O::I64DivU => self.divide(s64, I64, false, false)?,
            O::I64RemS => self.divide(s64, I64, true, true)?,
            O::I64RemU => self.divide(s64, I64, false, true)?,
            O::I32Shl => self.shift(s32, I32, ShiftOp::Shl)?,
            O::I32ShrS => self.shift(s32, I32, ShiftOp::ShrS)?,
            O::I32ShrU => self.shift(s32, I32, ShiftOp::ShrU)?,
            O::I32Rotl => self.shift(s32, I32, ShiftOp::Rotl)?,
            O::I32Rotr => self.shift(s32, I32, ShiftOp::Rotr)?,
            O::I64Shl => self.shift(s64, I64, ShiftOp::Shl)?,
            O::I64ShrS => self.shift(s64, I64, ShiftOp::ShrS)?,
            O::I64ShrU => self.shift(s64, I64, ShiftOp::ShrU)?,
            O::I64Rotl => self.shift(s64, I64, ShiftOp::Rotl)?,
            O::I64Rotr => self.shift(s64, I64, ShiftOp::Rotr)?,

            O::F32Abs => self.float_sign(s32, F32, 0)?,
            O::F32Neg => self.float_sign(s32, F32, 1)?,
            O::F32Copysign => self.float_sign(s32, F32, 2)?,
            O::F64Abs => self.float_sign(s64, F64, 0)?,
            O::F64Neg => self.float_sign(s64, F64, 1)?,
            O::F64Copysign => self.float_sign(s64, F64, 2)?,
            O::F32Ceil => self.float_unop(s32, F32, Some(Round::Ceil))?,
            O::F32Floor => self.float_unop(s32, F32, Some(Round::Floor))?,
            O::F32Trunc => self.float_unop(s32, F32, Some(Round::Trunc))?,
            O::F32Nearest => self.float_unop(s32, F32, Some(Round::Nearest))?,
            O::F32Sqrt => self.float_unop(s32, F32, None)?,
            O::F64Ceil => self.float_unop(s64, F64, Some(Round::Ceil))?,
            O::F64Floor => self.float_unop(s64, F64, Some(Round::Floor))?,
            O::F64Trunc => self.float_unop(s64, F64, Some(Round::Trunc))?,
            O::F64Nearest => self.float_unop(s64, F64, Some(Round::Nearest))?,
            O::F64Sqrt => self.float_unop(s64, F64, None)?,
            O::F32Add => self.float_binop(s32, F32, FloatOp::Add)?,
            O::F32Sub => self.float_binop(s32, F32, FloatOp::Sub)?,
            O::F32Mul => self.float_binop(s32, F32, FloatOp::Mul)?,
            O::F32Div => self.float_binop(s32, F32, FloatOp::Div)?,
            O::F32Min => self.float_minmax(s32, F32, false)?,
            O::F32Max => self.float_minmax(s32, F32, true)?,
            O::F64Add => self.float_binop(s64, F64, FloatOp::Add)?,
            O::F64Sub => self.float_binop(s64, F64, FloatOp::Sub)?,
            O::F64Mul => self.float_binop(s64, F64, FloatOp::Mul)?,
            O::F64Div => self.float_binop(s64, F64, FloatOp::Div)?,
            O::F64Min => self.float_minmax(s64, F64, false)?,
            O::F64Max => self.float_minmax(s64, F64, true)?,

            O::I32WrapI64 => {
                let r = self.pop_gpr()?;
                self.m.mov(s32, r, r);
                self.push_gpr(I32, r);
            }
            O::I64ExtendI32S => self.extend(Widen::B32(true), s64, I64)?,
            O::I64ExtendI32U => self.extend(Widen::B32(false), s64, I64)?,
            O::I32Extend8S => self.extend(Widen::B8(true), s32, I32)?,
            O::I32Extend16S => self.extend(Widen::B16(true), s32, I32)?,
            O::I64Extend8S => self.extend(Widen::B8(true), s64, I64)?,
            O::I64Extend16S => self.extend(Widen::B16(true), s64, I64)?,
            O::I64Extend32S => self.extend(Widen::B32(true), s64, I64)?,
            O::I32TruncF32S => self.truncate_float(s32, s32, true, false)?,
            O::I32TruncF32U => self.truncate_float(s32, s32, false, false)?,
            O::I32TruncF64S => self.truncate_float(s64, s32, true, false)?,
            O::I32TruncF64U => self.truncate_float(s64, s32, false, false)?,
            O::I64TruncF32S => self.truncate_float(s32, s64, true, false)?,
            O::I64TruncF32U => self.truncate_float(s32, s64, false, false)?,
            O::I64TruncF64S => self.truncate_float(s64, s64, true, false)?,
            O::I64TruncF64U => self.truncate_float(s64, s64, false, false)?,
            O::I32TruncSatF32S => self.truncate_float(s32, s32, true, true)?,
            O::I32TruncSatF32U => self.truncate_float(s32, s32, false, true)?,
            O::I32TruncSatF64S => self.truncate_float(s64, s32, true, true)?,
            O::I32TruncSatF64U => self.truncate_float(s64, s32, false, true)?,
            O::I64TruncSatF32S => self.truncate_float(s32, s64, true, true)?,
            O::I64TruncSatF32U => self.truncate_float(s32, s64, false, true)?,
            O::I64TruncSatF64S => self.truncate_float(s64, s64, true, true)?,
            O::I64TruncSatF64U => self.truncate_float(s64, s64, false, true)?,
            O::F32ConvertI32S => self.convert(s32, s32, F32, true)?,
            O::F32ConvertI32U => self.convert(s32, s32, F32, false)?,
            O::F32ConvertI64S => self.convert(s64, s32, F32, true)?,
            O::F32ConvertI64U => self.convert(s64, s32, F32, false)?,
            O::F64ConvertI32S => self.convert(s32, s64, F64, true)?,
            O::F64ConvertI32U => self.convert(s32, s64, F64, false)?,
            O::F64ConvertI64S => self.convert(s64, s64, F64, true)?,
            O::F64ConvertI64U => self.convert(s64, s64, F64, false)?,
            O::F32DemoteF64 | O::F64PromoteF32 => {
                let (to, ty) = if matches!(op, O::F32DemoteF64) {
                    (s32, F32)
                } else {
                    (s64, F64)
                };
                let x = self.pop_xmm()?;
                self.m.fconvert(to, x, x);
                self.push_xmm(ty, x);
            }
            O::I32ReinterpretF32 | O::I64ReinterpretF64 => {
                let (size, ty) = if matches!(op, O::I32ReinterpretF32) {
                    (s32, I32)
                } else {
                    (s64, I64)
                };
                let x = self.pop_xmm()?;
                let r = self.alloc_gpr();
                self.m.xmm_to_gpr(size, r, x);
                self.regs.free(Reg::X(x));
                self.push_gpr(ty, r);
            }
            O::F32ReinterpretI32 | O::F64ReinterpretI64 => {
                let (size, ty) = if matches!(op, O::F32ReinterpretI32) {
                    (s32, F32)
                } else {
                    (s64, F64)
                };
                let r = self.pop_gpr()?;
                let x = self.alloc_xmm();
                self.m.gpr_to_xmm(size, x, r);
                self.regs.free(Reg::G(r));
                self.push_xmm(ty, x);
            }
            O::RefNull { hty } => {
                let ty = ValType::Ref(
                    wasmparser::RefType::new(true, hty)
                        .ok_or_else(|| CompileError("unknown reference type".into()))?,
                );
                self.stack.push(Entry::Const(ty, 0));
            }
            O::RefIsNull => {
                let r = self.pop_gpr()?;
                self.m.test(s64, r);
                self.m.set(Cond::Eq, r);
                self.push_gpr(I32, r);
            }
            O::RefFunc { function_index } => {
                let r = self.alloc_gpr();
                self.m
                    .load(s64, r, Addr::Base(M::VMCTX, vm::FUNC_REFS as i32));
                self.m
                    .load(s64, r, Addr::Base(r, 8 * function_index as i32));
                self.push_gpr(ValType::FUNCREF, r);
            }
            ref other => {
                let name = format!("{other:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("");
                return Err(unsupported(&format!("`{name}`")));
            }
        }
        Ok(())
    }

    /// Stores the top `n` entries that are constants to their slots (the others are there
    /// after [`CodeGen::spill_all`]).
    fn params_to_slots(&mut self, n: usize) {
        let len = self.stack.len();
        for i in len - n..len {
            if let Entry::Const(ty, _) = self.stack.entries[i] {
                let e = self.stack.entries[i];
                let at = self.slot(i);
                self.store_value(e, i, at);
                self.stack.entries[i] = Entry::Mem(ty);
            }
        }
    }

    fn bit_count(&mut self, size: Size, ty: ValType, op: BitCount) -> Result<(), CompileError> {
        let r = self.pop_gpr()?;
        self.m.bit_count(op, size, r, r);
        self.push_gpr(ty, r);
        Ok(())
    }

    fn extend(&mut self, widen: Widen, to: Size, ty: ValType) -> Result<(), CompileError> {
        let r = self.pop_gpr()?;
        self.m.extend(widen, to, r, r);
        if to == Size::S32 {
            // A sign-extension within 32 bits keeps the upper half zero.
            self.m.mov(Size::S32, r, r);
        }
        self.push_gpr(ty, r);
        Ok(())
    }

    fn local_type(&self, i: u32) -> Result<ValType, CompileError> {
        self.locals
            .get(i as usize)
            .copied()
            .ok_or_else(|| CompileError(format!("unknown local {i}")))
    }

    fn global_type(&self, i: u32) -> Result<ValType, CompileError> {
        self.env
            .globals
            .get(i as usize)
            .map(|g| g.content_type)
            .ok_or_else(|| CompileError(format!("unknown global {i}")))
    }

    /// The address of global `i`'s cell, into the first scratch register.
    fn global_addr(&mut self, i: u32) {
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(M::VMCTX, vm::GLOBALS as i32),
        );
        self.m
            .load(Size::S64, M::SCRATCH, Addr::Base(M::SCRATCH, 8 * i as i32));
    }

    /// `local.set` and `local.tee`: entries that name the local are stored to their slots
    /// first, since they stand for its old value.
    fn local_set(&mut self, i: u32, tee: bool) -> Result<(), CompileError> {
        let ty = self.local_type(i)?;
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if e == Entry::Local(ty, i) {
            if tee {
                self.stack.push(e);
            }
            return Ok(());
        }
        for k in 0..self.stack.len() {
            if self.stack.entries[k] == Entry::Local(ty, i) {
                self.spill(k);
            }
        }
        let at = self.local(i);
        self.store_value(e, depth, at);
        match e {
            Entry::Reg(_, _) | Entry::Const(..) if tee => self.stack.push(e),
            Entry::Reg(_, r) => self.regs.free(r),
            _ if tee => self.stack.push(Entry::Local(ty, i)),
            _ => {}
        }
        Ok(())
    }
}
