//! The translator: one pass over a validated wasm body, producing register bytecode.
//!
//! It keeps a compile-time stack of *providers* (a local, a constant register, or the
//! temporary register of that stack slot), so `local.get` and `*.const` emit nothing and
//! consumers name the provider's register directly. Operand-stack slots are laid out
//! after the locals in stack order, one register per scalar and two adjacent registers per
//! v128 (`Translator::slots` records where each slot starts), so a slot's register only
//! depends on the types below it, which validation fixes. Locals and parameters are laid
//! out the same way from register 0, and v128 constants take two constant registers.
//! Invariant: when a block, loop or `if` is entered,
//! no `Local` provider remains on the stack (they are copied to their slots first), so a
//! `local.set` inside a nested block never has to fix up values of an outer one.

//!
#![doc = include_str!("fusions.md")]

mod access;
mod control;
mod fuse;
mod layout;
mod ops;
mod stack;

use core::sync::atomic::AtomicI32;
use std::collections::HashMap;

use tierup_abi::{CompileOptions, FuncCode, ModuleEnv, Tier};
use wasmparser::{BlockType, Operator, ValType};

use crate::error::TranslateError;
use crate::exec::supports;
use crate::func::{CallSite, Hotness, InterpFunc, OsrPoint, StateLoc};
use crate::inst::Form;
use crate::isa::{Instr, Reg, Slot};

/// Where the value of one operand-stack slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// In local (or parameter) register `r`.
    Local(Reg),
    /// In constant register `r` (negative until `Translator::layout` renumbers it).
    Const(Reg),
    /// In the slot's own temporary register.
    Temp,
}

/// A control frame (the function body itself is frame 0).
#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// The block type (the function's own type for frame 0).
    ty: BlockType,
    /// Operand stack height below the frame's parameters.
    base: u32,
    params: u32,
    results: u32,
    /// Head of the chain of unresolved forward branches to this frame's end (-1: none).
    patches: i32,
    /// Whether any branch targets this frame's end label.
    branched: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Block,
    Loop {
        start: usize,
    },
    /// An `if` whose `else` was not seen yet: `else_branch` jumps to the else arm;
    /// `saved` indexes the parameter providers in `Translator::saved`.
    If {
        else_branch: usize,
        saved: usize,
    },
    Else,
}

/// Translation state for one function.
pub(crate) struct Translator<'a> {
    env: &'a ModuleEnv,
    func_index: u32,
    /// Registers of the parameters and locals.
    num_locals: u32,
    /// Registers of the parameters (the locals declared in the body follow them).
    param_regs: u32,
    num_results: u32,
    /// Start register and width (`true`: v128) of every local.
    locals: Vec<(Reg, bool)>,
    code: Vec<Instr>,
    /// The form of each instruction (`inst::Form`): which operands travel in the
    /// accumulator. Set by [`Translator::emit_linked`].
    forms: Vec<Form>,
    offsets: Vec<u32>,
    /// Constant values: `consts[k]` is register `-1 - k` until [`Translator::layout`],
    /// register `num_locals + k` after it.
    consts: Vec<u64>,
    const_regs: HashMap<u64, Reg>,
    const_v128: HashMap<u128, Reg>,
    calls: Vec<CallSite>,
    /// Width flags of signatures with v128 values (see `InterpFunc::wide`).
    wide: Vec<bool>,
    stack: Vec<Provider>,
    /// Start register and width of the temporary of each stack slot (parallel to `stack`).
    slots: Vec<(Reg, bool)>,
    /// One past the highest register any slot uses.
    max_reg: u32,
    /// Number of `Local` providers on `stack`, in total and per local.
    pending_locals: u32,
    local_uses: Vec<u32>,
    /// No `Local` provider sits below this height (scans start here).
    locals_floor: u32,
    /// The last instruction, if it wrote the temporary of the top stack slot and nothing
    /// (no label) came after it.
    last_result: Option<usize>,
    /// `last_result` as it was when each of the last two instructions was emitted
    /// (`[second to last, last]`): whether the instruction before each wrote the top slot.
    /// A fusion of the last two asks it for the instruction before the pair.
    emitted_after: [Option<usize>; 2],
    /// The position of the last label bound (see [`Translator::bind_label`]).
    last_label: usize,
    ctrl: Vec<Ctrl>,
    saved: Vec<(Provider, bool)>,
    reachable: bool,
    /// Nesting depth of blocks entered in unreachable code.
    dead_depth: u32,
    /// Byte offset of the operator being translated.
    offset: u32,
    /// The OSR points so far; their constants are named by their registers until
    /// [`Translator::layout`] resolves them.
    osr: Vec<OsrPoint>,
}

/// Buffers a translation needs only while it runs, kept per thread for the next one.
#[derive(Default)]
struct Scratch {
    const_regs: HashMap<u64, Reg>,
    const_v128: HashMap<u128, Reg>,
    locals: Vec<(Reg, bool)>,
    stack: Vec<Provider>,
    slots: Vec<(Reg, bool)>,
    local_uses: Vec<u32>,
    ctrl: Vec<Ctrl>,
    saved: Vec<(Provider, bool)>,
}

impl Scratch {
    fn clear(&mut self) {
        self.const_regs.clear();
        self.const_v128.clear();
        self.locals.clear();
        self.slots.clear();
        self.stack.clear();
        self.local_uses.clear();
        self.ctrl.clear();
        self.saved.clear();
    }
}

thread_local! {
    static SCRATCH: core::cell::Cell<Option<Scratch>> = const { core::cell::Cell::new(None) };
}

/// The largest register index.
const MAX_REG: u32 = Reg::MAX as u32;

/// What an entry spends of a function's hotness budget, in instructions: its length up to
/// this cap (a call runs about its straight-line code, the loops count for themselves)...
const ENTRY_WEIGHT_CAP: usize = 64;
/// ... plus the call itself.
const CALL_WEIGHT: usize = 4;

/// The most instructions a function may have: its branch offsets, in bytes, must fit an
/// `i32` (see `inst::Inst`). Far above what the largest wasm body (7,654,321 bytes, the
/// common implementation limit) translates to.
const MAX_INSTRS: usize = (i32::MAX as usize) / (2 * core::mem::size_of::<crate::inst::Inst>());
/// The largest number of distinct constants (registers `-1 ..= Reg::MIN`).
const MAX_CONSTS: usize = Reg::MIN.unsigned_abs() as usize;

/// Translates defined function `func_index` of a validated module.
pub fn translate(env: &ModuleEnv, func_index: u32) -> Result<InterpFunc, TranslateError> {
    translate_with(env, func_index, &CompileOptions::default())
}

/// Translates defined function `func_index` of a validated module with `options`: of
/// them only `count_calls` concerns the interpreter (which checks every memory access
/// itself and counts its hotness its own way), and makes the function's first
/// instruction a `CountCall`.
pub fn translate_with(
    env: &ModuleEnv,
    func_index: u32,
    options: &CompileOptions,
) -> Result<InterpFunc, TranslateError> {
    let body = env.body_reader(func_index).ok_or_else(|| TranslateError {
        message: format!("function {func_index} is not a defined function of the module"),
        offset: 0,
    })?;
    let body_offset = body.range().start as usize;
    let ty = env
        .funcs
        .get(func_index as usize)
        .and_then(|t| env.types.get(*t as usize))
        .ok_or_else(|| TranslateError {
            message: format!("function {func_index} has no type"),
            offset: body_offset,
        })?;
    let num_params = ty.params().len() as u32;
    let num_results = ty.results().len() as u32;
    let type_index = env.funcs.get(func_index as usize).copied().unwrap_or(0);

    let mut scratch = SCRATCH.with(|s| s.take()).unwrap_or_default();
    scratch.clear();
    let too_many = |n: u64| TranslateError {
        message: format!(
            "function {func_index} has {n} local registers; this register form names at most {MAX_REG}"
        ),
        offset: body_offset | crate::error::BEYOND_REGISTERS,
    };
    let mut num_regs: u64 = 0;
    for p in ty.params() {
        add_local(&mut scratch.locals, &mut num_regs, *p);
    }
    let param_regs = num_regs as u32;
    let mut locals = body.get_locals_reader().map_err(TranslateError::from)?;
    for _ in 0..locals.get_count() {
        let (n, ty) = locals.read().map_err(TranslateError::from)?;
        let needed = num_regs + n as u64 * (1 + (ty == ValType::V128) as u64);
        if needed > MAX_REG as u64 {
            return Err(too_many(needed));
        }
        for _ in 0..n {
            add_local(&mut scratch.locals, &mut num_regs, ty);
        }
    }
    if num_regs > MAX_REG as u64 {
        return Err(too_many(num_regs));
    }
    let num_locals = num_regs as u32;
    scratch.local_uses.resize(num_locals as usize, 0);
    let mut t = Translator {
        env,
        func_index,
        num_locals,
        param_regs,
        num_results,
        locals: scratch.locals,
        code: Vec::new(),
        forms: Vec::new(),
        offsets: Vec::new(),
        consts: Vec::new(),
        const_regs: scratch.const_regs,
        const_v128: scratch.const_v128,
        calls: Vec::new(),
        wide: Vec::new(),
        stack: scratch.stack,
        slots: scratch.slots,
        max_reg: num_locals,
        pending_locals: 0,
        local_uses: scratch.local_uses,
        locals_floor: 0,
        last_result: None,
        emitted_after: [None; 2],
        last_label: 0,
        ctrl: scratch.ctrl,
        saved: scratch.saved,
        reachable: true,
        dead_depth: 0,
        offset: body_offset as u32,
        osr: Vec::new(),
    };
    t.ctrl.push(Ctrl {
        kind: CtrlKind::Block,
        ty: BlockType::FuncType(type_index),
        base: 0,
        params: 0,
        results: num_results,
        patches: -1,
        branched: false,
    });
    let sig_wide = t.sig_widths(ty);
    if options.count_calls {
        t.emit(Instr::CountCall {});
        // Nothing folds into it: it is a boundary like a label.
        t.last_label = t.code.len();
    }
    let mut result = t.translate_body(body);
    if result.is_ok() && t.code.len() > MAX_INSTRS {
        result = Err(t.error(format!(
            "function {func_index} needs more than {MAX_INSTRS} interpreter instructions"
        )));
    }
    if result.is_ok() {
        result = t.layout();
    }
    if result.is_ok() {
        t.duplicate_dispatch_heads();
        t.invert_branches_over_jumps();
        t.link_through_locals();
        if t.code.len() > MAX_INSTRS {
            result = Err(t.error(format!(
                "function {func_index} needs more than {MAX_INSTRS} interpreter instructions"
            )));
        }
    }
    let (func, scratch) = t.finish(num_params, sig_wide);
    SCRATCH.with(|s| s.set(Some(scratch)));
    result.map(|()| func)
}

/// Lays out one more local of type `ty` at register `*num_regs`.
fn add_local(locals: &mut Vec<(Reg, bool)>, num_regs: &mut u64, ty: ValType) {
    let wide = ty == ValType::V128;
    // Callers check the total against `MAX_REG` (parameters: below).
    locals.push((*num_regs as Reg, wide));
    *num_regs += 1 + wide as u64;
}

impl<'a> Translator<'a> {
    /// An error at the current operator.
    fn error(&self, message: impl Into<String>) -> TranslateError {
        TranslateError {
            message: message.into(),
            offset: self.offset as usize,
        }
    }

    /// The error of a function that needs more registers than the form names (out of
    /// line: the register checks sit on the translator's hottest paths).
    #[cold]
    #[inline(never)]
    fn beyond_registers(&self) -> TranslateError {
        let mut e = self.error(format!(
            "function {} needs more than {MAX_REG} registers, or more than {MAX_CONSTS} distinct constants",
            self.func_index
        ));
        e.offset |= crate::error::BEYOND_REGISTERS;
        e
    }

    /// Translates the operators of the body.
    fn translate_body(&mut self, body: wasmparser::FunctionBody<'_>) -> Result<(), TranslateError> {
        let mut reader = body.get_operators_reader().map_err(TranslateError::from)?;
        while !reader.eof() {
            let (op, off) = reader.read_with_offset().map_err(TranslateError::from)?;
            self.offset = off as u32;
            self.operator(op)?;
        }
        if !self.ctrl.is_empty() {
            return Err(self.error("function body ends before its final `end`"));
        }
        Ok(())
    }

    /// Records the point before the operator being translated (`at`, a module offset) as
    /// an OSR point at the next instruction, with the stack as it is, if the code there
    /// is reachable.
    pub(super) fn osr_point(&mut self, at: u32) {
        if !self.reachable {
            return;
        }
        let stack = (0..self.height())
            .map(|h| StateLoc::Reg {
                r: self.reg_at(h),
                wide: self.is_wide(h),
            })
            .collect();
        let inst = self.code.len() as u32;
        // Two points at one instruction (a loop right after a block's end, with only code
        // between them that emits nothing, such as a store of zero into a local known to
        // be zero): keep the later one. The instruction is reached by the later point's
        // edges too (a loop's back edges), where entering at the earlier point would run
        // that code again (the local set to zero once more); and where the earlier one's
        // edges reach it, the code between has no effect, as the translator knew.
        if let Some(last) = self.osr.last_mut()
            && last.inst == inst
        {
            *last = OsrPoint { inst, at, stack };
            return;
        }
        self.osr.push(OsrPoint { inst, at, stack });
    }

    /// The translated function, and the scratch buffers for the next translation.
    fn finish(self, num_params: u32, sig_wide: u32) -> (InterpFunc, Scratch) {
        // Parameters are the caller's to set; every other local starts at zero, and the
        // constants follow (see `layout`).
        let param_regs = match self.locals.get(num_params as usize) {
            Some(&(r, _)) => r as u32,
            None => self.num_locals,
        };
        let locals: Box<[(Reg, bool)]> = self.locals.as_slice().into();
        let entry_weight = (self.code.len().min(ENTRY_WEIGHT_CAP) + CALL_WEIGHT)
            * core::mem::size_of::<crate::inst::Inst>();
        let scratch = Scratch {
            const_regs: self.const_regs,
            const_v128: self.const_v128,
            locals: self.locals,
            slots: self.slots,
            stack: self.stack,
            local_uses: self.local_uses,
            ctrl: self.ctrl,
            saved: self.saved,
        };
        let mut image = vec![0; (self.num_locals - param_regs) as usize];
        image.extend_from_slice(&self.consts);
        let func = InterpFunc {
            record: FuncCode {
                array_entry: crate::exec::array_entry,
                register_entry: core::ptr::null(),
                data: core::ptr::null(),
                tier: Tier::Interp,
                variant: crate::regs::VARIANT,
            },
            code: self
                .code
                .iter()
                .zip(&self.forms)
                .map(|(&i, &f)| crate::exec::encode(i, f))
                .collect(),
            offsets: self.offsets.into_boxed_slice(),
            image: image.into_boxed_slice(),
            image_at: param_regs,
            calls: self.calls.into_boxed_slice(),
            wide: self.wide.into_boxed_slice(),
            sig_wide,
            func_index: self.func_index,
            num_params,
            num_results: self.num_results,
            frame_size: self.max_reg,
            hotness: Hotness {
                left: AtomicI32::new(i32::MAX),
                budget: i32::MAX,
                entry_delta: -(entry_weight as i32),
            },
            locals,
            osr: self.osr.into_boxed_slice(),
        };
        (func, scratch)
    }

    /// Lays out the frame as the executor sees it (see `InterpFunc`): parameters and
    /// locals, then the constants, then the operand-stack temporaries. Until here
    /// constants are registers `-1, -2, ...` and temporaries start at `num_locals`; this
    /// renumbers both, and drops constants that no instruction reads from a register
    /// (those that became immediates), so that a call does not copy them.
    ///
    /// Constants sit below the temporaries because a callee's frame begins at its
    /// arguments, the caller's topmost temporaries: everything of the caller above them is
    /// dead during the call, and the caller's constants are not above them.
    fn layout(&mut self) -> Result<(), TranslateError> {
        let n = self.consts.len();
        let index = |r: Reg| (-1 - r as i32) as usize;
        let mut used = vec![false; n];
        for instr in &mut self.code {
            instr.regs_mut(|r| {
                if *r < 0 {
                    used[index(*r)] = true;
                }
            });
        }
        // A v128 constant named by its low half at `r` has its high half at `r + 1`.
        for &r in self.const_v128.values() {
            if used[index(r)] {
                used[index(r) - 1] = true;
            }
        }
        let kept = used.iter().filter(|u| **u).count() as u32;
        if self.max_reg + kept > MAX_REG {
            return Err(self.beyond_registers());
        }
        // New registers in the old ascending order (`-n ..= -1`), which keeps the halves
        // of a v128 constant adjacent, low half first.
        let mut new_reg = vec![0 as Reg; n];
        let mut consts = Vec::with_capacity(kept as usize);
        for k in (0..n).rev().filter(|k| used[*k]) {
            new_reg[k] = (self.num_locals + consts.len() as u32) as Reg;
            consts.push(self.consts[k]);
        }
        let num_locals = self.num_locals;
        for instr in &mut self.code {
            instr.regs_mut(|r| {
                if *r < 0 {
                    *r = new_reg[index(*r)];
                } else if *r as u32 >= num_locals {
                    *r += kept as Reg;
                }
            });
        }
        for point in &mut self.osr {
            for loc in point.stack.iter_mut() {
                let StateLoc::Reg { r, wide } = *loc else {
                    continue;
                };
                if r < 0 {
                    // The state reads the value, not the register, which may be gone.
                    let lo = self.consts[index(r)] as u128;
                    let hi = if wide {
                        self.consts[index(r) - 1] as u128
                    } else {
                        0
                    };
                    *loc = StateLoc::Const(lo | hi << 64);
                } else if r as u32 >= num_locals {
                    *loc = StateLoc::Reg {
                        r: r + kept as Reg,
                        wide,
                    };
                }
            }
        }
        self.consts = consts;
        self.max_reg += kept;
        Ok(())
    }

    // ----- emission -----

    /// Appends an instruction; returns its index.
    fn emit(&mut self, instr: Instr) -> usize {
        let idx = self.code.len();
        self.code.push(instr);
        self.forms.push(Form::NONE);
        self.offsets.push(self.offset);
        self.emitted_after = [self.emitted_after[1], self.last_result];
        self.last_result = None;
        idx
    }

    /// Appends an instruction that writes the temporary of the (new) top slot.
    fn emit_result(&mut self, instr: Instr) {
        let idx = self.emit(instr);
        self.last_result = Some(idx);
    }

    /// Appends `instr`, which reads `operands` (each with the `inst::Form` bit that reads it
    /// from the accumulator), as [`Translator::emit_result`] when `result`, else as
    /// [`Translator::emit`]; returns its index. When one operand is the temporary the
    /// previous instruction has just written (nothing, no label, in between), and both
    /// instructions have handlers for it, links them: the previous instruction writes the
    /// accumulator instead of the temporary, and `instr` reads it from there. A temporary
    /// is read exactly once (the stack slot is popped), so nothing else needs the register.
    pub(super) fn emit_linked(
        &mut self,
        instr: Instr,
        operands: &[(Reg, Form)],
        result: bool,
    ) -> usize {
        let link = self.link_to_previous(&instr, operands);
        let idx = self.emit(instr);
        if result {
            self.last_result = Some(idx);
        }
        if let Some((prev, bit)) = link {
            self.forms[prev] |= Form::OUT;
            self.forms[idx] = bit;
            return self.elide_wrap(idx, bit, operands);
        }
        idx
    }

    /// For [`Translator::emit_linked`]: the previous instruction and the form bit of the
    /// operand of `instr` that can come from the accumulator, if any.
    fn link_to_previous(&self, instr: &Instr, operands: &[(Reg, Form)]) -> Option<(usize, Form)> {
        let prev = self.last_result?;
        if prev + 1 != self.code.len() {
            return None;
        }
        self.link_bit(prev, instr, Form::NONE, operands)
            .map(|bit| (prev, bit))
    }

    /// The form bit under which `instr`, to be placed right after `prev` (which wrote
    /// the top slot's temporary) in form `form`, can read `prev`'s result from the
    /// accumulator: `operands` (each with its bit) name that temporary exactly once, and
    /// both instructions have the handlers.
    fn link_bit(
        &self,
        prev: usize,
        instr: &Instr,
        form: Form,
        operands: &[(Reg, Form)],
    ) -> Option<Form> {
        let mut producer = self.code[prev];
        let dst = *producer.dst_mut()?;
        if dst < self.num_locals as Reg || self.forms[prev].has(Form::OUT) {
            return None;
        }
        let mut reading = operands.iter().filter(|(r, _)| *r == dst);
        let &(_, bit) = reading.next()?;
        let linked = reading.next().is_none()
            && !form.any(bit)
            && supports(&producer, self.forms[prev] | Form::OUT)
            && supports(instr, form | bit)
            && bit
                .slot()
                .is_some_and(|s| producer.acc_float(Slot::Out) == instr.acc_float(s));
        linked.then_some(bit)
    }

    /// Marks a label position: no instruction before it may be retargeted or fused.
    fn bind_label(&mut self) {
        self.last_result = None;
        self.last_label = self.code.len();
    }

    // ----- operator shapes -----

    fn unary(
        &mut self,
        wide: bool,
        make: impl FnOnce(Reg, Reg) -> Instr,
    ) -> Result<(), TranslateError> {
        let src = self.pop()?;
        let dst = self.push_temp(wide)?;
        self.emit_linked(make(dst, src), &[(src, Form::A)], true);
        Ok(())
    }

    fn binary(
        &mut self,
        wide: bool,
        make: impl FnOnce(Reg, Reg, Reg) -> Instr,
    ) -> Result<(), TranslateError> {
        let b = self.pop()?;
        let a = self.pop()?;
        let dst = self.push_temp(wide)?;
        self.emit_linked(make(dst, a, b), &[(a, Form::A), (b, Form::B)], true);
        Ok(())
    }

    /// A scalar binary operator with an immediate form: a constant second operand (or a
    /// constant first one, when the operator is commutative) is encoded in the instruction
    /// instead of read from its constant register.
    fn binary_imm(
        &mut self,
        commutative: bool,
        make: impl FnOnce(Reg, Reg, Reg) -> Instr,
        make_imm: impl FnOnce(Reg, Reg, u64) -> Instr,
    ) -> Result<(), TranslateError> {
        let b = self.pop()?;
        let a = self.pop()?;
        let dst = self.push_temp(false)?;
        let idx = match (self.const_bits(a), self.const_bits(b)) {
            (_, Some(imm)) => {
                let instr = Self::reduce_strength(make_imm(dst, a, imm));
                let idx = self.emit_linked(instr, &[(a, Form::A)], true);
                self.fuse_xor_mul(idx);
                idx
            }
            (Some(imm), None) if commutative => {
                self.emit_linked(make_imm(dst, b, imm), &[(b, Form::A)], true)
            }
            _ => {
                let idx = self.emit_linked(make(dst, a, b), &[(a, Form::A), (b, Form::B)], true);
                self.fuse_shifted_operand(idx);
                self.fuse_load_op(idx);
                self.fuse_mul_sub(idx);
                return Ok(());
            }
        };
        self.fuse_shift_mask(idx);
        Ok(())
    }

    /// The bits of constant register `r` (`None` for other registers).
    fn const_bits(&self, r: Reg) -> Option<u64> {
        let k = usize::try_from(-1 - r as i32).ok()?;
        self.consts.get(k).copied()
    }

    fn mem_offset(&self, memarg: &wasmparser::MemArg) -> Result<u32, TranslateError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(self.error("multiple memories are not supported"));
        }
        u32::try_from(memarg.offset).map_err(|_| self.error("memory offset beyond 32 bits"))
    }

    fn load(
        &mut self,
        memarg: wasmparser::MemArg,
        wide: bool,
        make: impl FnOnce(Reg, Reg, u32) -> Instr,
    ) -> Result<(), TranslateError> {
        let offset = self.mem_offset(&memarg)?;
        let addr = self.pop()?;
        let dst = self.push_temp(wide)?;
        let idx = self.emit_linked(make(dst, addr, offset), &[(addr, Form::A)], true);
        self.fuse_address_add(idx);
        self.fuse_address_index(idx);
        self.fold_address_arithmetic();
        self.fuse_shifted_address_load();
        self.fuse_copy_load();
        Ok(())
    }

    fn store(
        &mut self,
        memarg: wasmparser::MemArg,
        make: impl FnOnce(Reg, Reg, u32) -> Instr,
    ) -> Result<(), TranslateError> {
        let offset = self.mem_offset(&memarg)?;
        let val = self.pop()?;
        let addr = self.pop()?;
        let idx = self.emit_linked(
            make(addr, val, offset),
            &[(addr, Form::A), (val, Form::B)],
            false,
        );
        self.fuse_address_add(idx);
        self.fuse_address_index(idx);
        self.fold_address_arithmetic();
        self.fuse_add_in_place();
        Ok(())
    }

    /// Dispatches one operator, skipping unreachable code.
    fn operator(&mut self, op: Operator<'_>) -> Result<(), TranslateError> {
        if !self.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth == 0 => return self.op_else(),
                Operator::End if self.dead_depth == 0 => return self.op_end(),
                Operator::End => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        self.reachable_operator(op)
    }
}

impl From<wasmparser::BinaryReaderError> for TranslateError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        TranslateError {
            message: e.message().to_string(),
            offset: e.offset() as usize,
        }
    }
}
