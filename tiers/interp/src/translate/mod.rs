//! The translator: one pass over a validated wasm body, producing register bytecode.
//!
//! It keeps a compile-time stack of *providers* (a local, a constant register, or the
//! temporary register of that stack slot), so `local.get` and `*.const` emit nothing and
//! consumers name the provider's register directly. Slot `h` of the operand stack always
//! lives in register `num_locals + h`. Invariant: when a block, loop or `if` is entered,
//! no `Local` provider remains on the stack (they are copied to their slots first), so a
//! `local.set` inside a nested block never has to fix up values of an outer one.

mod control;
mod ops;

use std::collections::HashMap;

use tierup_abi::ModuleEnv;
use wasmparser::Operator;

use crate::TranslateError;
use crate::func::{CallSite, InterpFunc};
use crate::isa::{Instr, Reg};

/// Where the value of one operand-stack slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// In local (or parameter) register `r`.
    Local(Reg),
    /// In constant register `r` (negative).
    Const(Reg),
    /// In the slot's own temporary register.
    Temp,
}

/// A control frame (the function body itself is frame 0).
#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
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
    num_locals: u32,
    num_results: u32,
    code: Vec<Instr>,
    offsets: Vec<u32>,
    consts: Vec<u64>,
    const_regs: HashMap<u64, Reg>,
    calls: Vec<CallSite>,
    stack: Vec<Provider>,
    max_height: u32,
    /// Number of `Local` providers on `stack`, in total and per local.
    pending_locals: u32,
    local_uses: Vec<u32>,
    /// No `Local` provider sits below this height (scans start here).
    locals_floor: u32,
    /// The last instruction, if it wrote the temporary of the top stack slot and nothing
    /// (no label) came after it.
    last_result: Option<usize>,
    ctrl: Vec<Ctrl>,
    saved: Vec<Provider>,
    reachable: bool,
    /// Nesting depth of blocks entered in unreachable code.
    dead_depth: u32,
    /// Byte offset of the operator being translated.
    offset: u32,
}

/// Buffers a translation needs only while it runs, kept per thread for the next one.
#[derive(Default)]
struct Scratch {
    const_regs: HashMap<u64, Reg>,
    stack: Vec<Provider>,
    local_uses: Vec<u32>,
    ctrl: Vec<Ctrl>,
    saved: Vec<Provider>,
}

impl Scratch {
    fn clear(&mut self) {
        self.const_regs.clear();
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
const MAX_REG: u32 = i16::MAX as u32;
/// The largest number of distinct constants (registers `-1 ..= -32768`).
const MAX_CONSTS: usize = 1 << 15;

/// Translates defined function `func_index` of a validated module.
pub fn translate(env: &ModuleEnv, func_index: u32) -> Result<InterpFunc, TranslateError> {
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

    let mut num_locals = num_params as u64;
    let mut locals = body.get_locals_reader().map_err(TranslateError::from)?;
    for _ in 0..locals.get_count() {
        let (n, _ty) = locals.read().map_err(TranslateError::from)?;
        num_locals += n as u64;
    }
    if num_locals > MAX_REG as u64 {
        return Err(TranslateError {
            message: format!(
                "function {func_index} has {num_locals} locals; the interpreter supports at most {MAX_REG}"
            ),
            offset: body_offset,
        });
    }
    let mut scratch = SCRATCH.with(|s| s.take()).unwrap_or_default();
    scratch.clear();
    scratch.local_uses.resize(num_locals as usize, 0);
    let mut t = Translator {
        env,
        func_index,
        num_locals: num_locals as u32,
        num_results,
        code: Vec::new(),
        offsets: Vec::new(),
        consts: Vec::new(),
        const_regs: scratch.const_regs,
        calls: Vec::new(),
        stack: scratch.stack,
        max_height: 0,
        pending_locals: 0,
        local_uses: scratch.local_uses,
        locals_floor: 0,
        last_result: None,
        ctrl: scratch.ctrl,
        saved: scratch.saved,
        reachable: true,
        dead_depth: 0,
        offset: body_offset as u32,
    };
    t.ctrl.push(Ctrl {
        kind: CtrlKind::Block,
        base: 0,
        params: 0,
        results: num_results,
        patches: -1,
        branched: false,
    });
    let result = t.translate_body(body);
    let (func, scratch) = t.finish(num_params);
    SCRATCH.with(|s| s.set(Some(scratch)));
    result.map(|()| func)
}

impl<'a> Translator<'a> {
    /// An error at the current operator.
    fn error(&self, message: impl Into<String>) -> TranslateError {
        TranslateError {
            message: message.into(),
            offset: self.offset as usize,
        }
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

    /// The translated function, and the scratch buffers for the next translation.
    fn finish(self, num_params: u32) -> (InterpFunc, Scratch) {
        let scratch = Scratch {
            const_regs: self.const_regs,
            stack: self.stack,
            local_uses: self.local_uses,
            ctrl: self.ctrl,
            saved: self.saved,
        };
        let mut consts = self.consts;
        consts.reverse();
        let func = InterpFunc {
            code: self.code.into_boxed_slice(),
            offsets: self.offsets.into_boxed_slice(),
            consts: consts.into_boxed_slice(),
            calls: self.calls.into_boxed_slice(),
            func_index: self.func_index,
            num_params,
            num_results: self.num_results,
            num_locals: self.num_locals,
            frame_size: self.num_locals + self.max_height,
        };
        (func, scratch)
    }

    // ----- emission -----

    /// Appends an instruction; returns its index.
    fn emit(&mut self, instr: Instr) -> usize {
        let idx = self.code.len();
        self.code.push(instr);
        self.offsets.push(self.offset);
        self.last_result = None;
        idx
    }

    /// Appends an instruction that writes the temporary of the (new) top slot.
    fn emit_result(&mut self, instr: Instr) {
        let idx = self.emit(instr);
        self.last_result = Some(idx);
    }

    /// Marks a label position: no instruction before it may be retargeted or fused.
    fn bind_label(&mut self) {
        self.last_result = None;
    }

    // ----- registers and the provider stack -----

    /// The temporary register of stack slot `h`.
    fn temp(&self, h: u32) -> Result<Reg, TranslateError> {
        let r = self.num_locals as u64 + h as u64;
        if r > MAX_REG as u64 {
            return Err(self.error(format!(
                "function {} needs more than {MAX_REG} registers",
                self.func_index
            )));
        }
        Ok(r as Reg)
    }

    fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    /// The register holding stack slot `h`.
    fn reg_at(&self, h: u32) -> Reg {
        match self.stack[h as usize] {
            Provider::Local(r) | Provider::Const(r) => r,
            // Slots below the height were pushed with a checked `temp`.
            Provider::Temp => (self.num_locals + h) as Reg,
        }
    }

    fn push(&mut self, p: Provider) -> Result<(), TranslateError> {
        let h = self.height();
        self.temp(h)?;
        if let Provider::Local(r) = p {
            self.pending_locals += 1;
            self.local_uses[r as usize] += 1;
        }
        self.stack.push(p);
        self.max_height = self.max_height.max(h + 1);
        Ok(())
    }

    /// Pushes a temporary slot and returns its register.
    fn push_temp(&mut self) -> Result<Reg, TranslateError> {
        let r = self.temp(self.height())?;
        self.push(Provider::Temp)?;
        Ok(r)
    }

    /// Pops a slot and returns the register it is in.
    fn pop(&mut self) -> Result<Reg, TranslateError> {
        let h = self.height();
        if h == 0 {
            return Err(self.error("operand stack underflow"));
        }
        let r = self.reg_at(h - 1);
        if let Some(p) = self.stack.pop() {
            self.forget(p);
        }
        Ok(r)
    }

    /// Pops slots down to height `h`.
    fn truncate(&mut self, h: u32) {
        while self.height() > h {
            if let Some(p) = self.stack.pop() {
                self.forget(p);
            }
        }
    }

    /// Accounts for a provider leaving the stack (popped or materialised).
    fn forget(&mut self, p: Provider) {
        if let Provider::Local(r) = p {
            self.pending_locals -= 1;
            self.local_uses[r as usize] -= 1;
        }
        self.locals_floor = self.locals_floor.min(self.height());
    }

    /// Interns a constant and pushes it.
    fn push_const(&mut self, bits: u64) -> Result<(), TranslateError> {
        let reg = match self.const_regs.get(&bits) {
            Some(r) => *r,
            None => {
                if self.consts.len() >= MAX_CONSTS {
                    return Err(self.error(format!(
                        "function {} has more than {MAX_CONSTS} distinct constants",
                        self.func_index
                    )));
                }
                let r = -1 - self.consts.len() as i32;
                self.consts.push(bits);
                self.const_regs.insert(bits, r as Reg);
                r as Reg
            }
        };
        self.push(Provider::Const(reg))
    }

    /// Copies slot `h` into its own temporary if it is a local or constant.
    fn materialise(&mut self, h: u32) -> Result<(), TranslateError> {
        match self.stack[h as usize] {
            Provider::Temp => {}
            p @ (Provider::Local(src) | Provider::Const(src)) => {
                let dst = self.temp(h)?;
                self.emit(Instr::Copy { dst, src });
                self.stack[h as usize] = Provider::Temp;
                self.forget(p);
            }
        }
        Ok(())
    }

    /// Materialises every slot from `from` to the top.
    fn materialise_from(&mut self, from: u32) -> Result<(), TranslateError> {
        for h in from..self.height() {
            self.materialise(h)?;
        }
        Ok(())
    }

    /// Materialises every `Local` provider (before control flow splits or merges).
    fn materialise_locals(&mut self) -> Result<(), TranslateError> {
        if self.pending_locals > 0 {
            for h in self.locals_floor..self.height() {
                if let Provider::Local(_) = self.stack[h as usize] {
                    self.materialise(h)?;
                }
            }
        }
        self.locals_floor = self.height();
        Ok(())
    }

    /// Materialises the `Local(r)` providers (before local `r` is overwritten); returns
    /// whether there were any.
    fn materialise_local(&mut self, r: Reg) -> Result<bool, TranslateError> {
        if self.local_uses[r as usize] == 0 {
            return Ok(false);
        }
        let mut any = false;
        for h in self.locals_floor..self.height() {
            if self.stack[h as usize] == Provider::Local(r) {
                self.materialise(h)?;
                any = true;
            }
        }
        Ok(any)
    }

    /// The register of local `index`.
    fn local(&self, index: u32) -> Result<Reg, TranslateError> {
        if index >= self.num_locals {
            return Err(self.error(format!("local index {index} out of range")));
        }
        Ok(index as Reg)
    }

    /// `local.set` (and the first half of `local.tee`).
    fn local_set(&mut self, index: u32) -> Result<(), TranslateError> {
        let dst = self.local(index)?;
        let h = self.height();
        if h == 0 {
            return Err(self.error("operand stack underflow"));
        }
        let top_is_temp = self.stack[h as usize - 1] == Provider::Temp;
        let producer = self.last_result;
        let src = self.pop()?;
        let had_pending = self.materialise_local(dst)?;
        if top_is_temp
            && !had_pending
            && let Some(idx) = producer
            && let Some(d) = self.code[idx].dst_mut()
            && *d == src
        {
            *d = dst;
            self.last_result = None;
            return Ok(());
        }
        if src != dst {
            self.emit(Instr::Copy { dst, src });
        }
        Ok(())
    }

    // ----- operator shapes -----

    fn unary(&mut self, make: impl FnOnce(Reg, Reg) -> Instr) -> Result<(), TranslateError> {
        let src = self.pop()?;
        let dst = self.push_temp()?;
        self.emit_result(make(dst, src));
        Ok(())
    }

    fn binary(&mut self, make: impl FnOnce(Reg, Reg, Reg) -> Instr) -> Result<(), TranslateError> {
        let b = self.pop()?;
        let a = self.pop()?;
        let dst = self.push_temp()?;
        self.emit_result(make(dst, a, b));
        Ok(())
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
        make: impl FnOnce(Reg, Reg, u32) -> Instr,
    ) -> Result<(), TranslateError> {
        let offset = self.mem_offset(&memarg)?;
        let addr = self.pop()?;
        let dst = self.push_temp()?;
        self.emit_result(make(dst, addr, offset));
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
        self.emit(make(addr, val, offset));
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
