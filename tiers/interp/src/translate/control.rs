//! Control flow: blocks, loops, `if`/`else`, branches, `br_table`, `return` and calls.
//! A compare (or `eqz`) that directly feeds `br_if`/`if` is fused into one branch
//! instruction, with a 16-bit immediate when an integer compare's right operand is a small
//! constant. Forward branches to a label are chained through their offset fields and
//! patched when the label is bound.

use tierup_abi::BlockSig;
use wasmparser::{BlockType, FuncType};

use super::{Ctrl, CtrlKind, Provider, Translator};
use crate::error::TranslateError;
use crate::exec::supports;
use crate::func::CallSite;
use crate::inst::{Access, Counting, Form};
use crate::isa::{Addend, Instr, Reg, Step};
use crate::regs::Imm;

/// A popped branch condition.
enum Cond {
    /// A register holding an i32.
    Reg(Reg),
    /// The compare instruction at this index produced it; it can be fused into the branch.
    Fused(usize),
}

impl Translator<'_> {
    fn block_arity(&self, ty: BlockType) -> (u32, u32) {
        let sig: BlockSig<'_> = self.env.block_sig(ty);
        (sig.params().len() as u32, sig.results().len() as u32)
    }

    fn frame(&self, relative_depth: u32) -> Result<usize, TranslateError> {
        let len = self.ctrl.len();
        if relative_depth as usize >= len {
            return Err(self.error(format!("branch depth {relative_depth} out of range")));
        }
        Ok(len - 1 - relative_depth as usize)
    }

    /// The values a branch to frame `f` carries, and where they must go.
    fn label_arity(&self, f: usize) -> (u32, u32) {
        let c = &self.ctrl[f];
        match c.kind {
            CtrlKind::Loop { .. } => (c.params, c.base),
            _ => (c.results, c.base),
        }
    }

    /// Whether a branch to frame `f` must copy values (or is a return).
    fn branch_needs_copies(&self, f: usize) -> bool {
        if f == 0 {
            return true;
        }
        let (n, base) = self.label_arity(f);
        let Some(first) = self.height().checked_sub(n) else {
            // Not valid wasm; `copy_values_to` reports it.
            return true;
        };
        (0..n).any(|i| {
            let pos = first + i;
            !(pos == base + i && self.stack[pos as usize] == Provider::Temp)
        })
    }

    /// Copies the top `n` values to the slots `base..base + n` (laid out by the values'
    /// own widths from the start of slot `base`).
    fn copy_values_to(&mut self, n: u32, base: u32) -> Result<(), TranslateError> {
        let first = self
            .height()
            .checked_sub(n)
            .ok_or_else(|| self.error("operand stack underflow at branch"))?;
        // Sources are at or above the destinations (or disjoint from them), so copying
        // registers in ascending order is safe.
        let mut dst = self.temp(base)? as i32;
        let mut i = 0;
        while i < n {
            let src = self.reg_at(first + i);
            let width = 1 + self.is_wide(first + i) as i32;
            if src as i32 == dst {
                dst += width;
                i += 1;
                continue;
            }
            // Extend a run of consecutive sources needing copies.
            let mut len = 1;
            let mut regs = width;
            while i + len < n
                && regs < u16::MAX as i32 - 2
                && self.reg_at(first + i + len) as i32 == src as i32 + regs
                && self.same_span_area(src, self.reg_at(first + i + len))
            {
                regs += 1 + self.is_wide(first + i + len) as i32;
                len += 1;
            }
            let d = dst as Reg;
            if len == 1 {
                self.emit_copy(d, src, width == 2);
            } else {
                self.emit(Instr::CopySpan {
                    dst: d,
                    src,
                    len: regs as u16,
                });
            }
            dst += regs;
            i += len;
        }
        Ok(())
    }

    /// Links the branch at `idx` to the label of frame `f` (not the function frame).
    fn link(&mut self, idx: usize, f: usize) {
        let here = idx as i64;
        let c = &mut self.ctrl[f];
        let value = match c.kind {
            CtrlKind::Loop { start } => (start as i64 - here) as i32,
            _ => {
                c.branched = true;
                let prev = c.patches;
                c.patches = idx as i32;
                prev
            }
        };
        if let Some(off) = self.code[idx].offset_mut() {
            *off = value;
        }
    }

    /// Resolves the forward branches of chain `head` to the current position.
    fn patch_chain(&mut self, mut head: i32) {
        let target = self.code.len() as i64;
        while head >= 0 {
            let idx = head as usize;
            match self.code[idx].offset_mut() {
                Some(off) => {
                    head = *off;
                    *off = (target - idx as i64) as i32;
                }
                None => break,
            }
        }
    }

    /// Emits the copies and jump (or return) of an unconditional branch to frame `f`.
    fn branch_to(&mut self, f: usize) -> Result<(), TranslateError> {
        if f == 0 {
            return self.emit_return(false);
        }
        let (n, base) = self.label_arity(f);
        self.copy_values_to(n, base)?;
        let idx = self.emit(Instr::Br { offset: 0 });
        self.link(idx, f);
        Ok(())
    }

    /// Returns the top `num_results` values; `link` on an unconditional return (the
    /// values are not read after it).
    pub(super) fn emit_return(&mut self, link: bool) -> Result<(), TranslateError> {
        let n = self.num_results;
        let h = self.height();
        if h < n {
            return Err(self.error("operand stack underflow at return"));
        }
        let mut regs = 0u32;
        let src = if n == 0 {
            0
        } else {
            let first = self.reg_at(h - n);
            let mut consecutive = true;
            for pos in h - n..h {
                let r = self.reg_at(pos);
                consecutive &= r as i32 == first as i32 + regs as i32
                    && (pos == h - n || self.same_span_area(first, r));
                regs += 1 + self.is_wide(pos) as u32;
            }
            if consecutive {
                first
            } else {
                // Copy into the slots' own temporaries without changing the providers:
                // a conditional return (`br_if`, `br_table` stub) falls through to code
                // that must still see them.
                for pos in h - n..h {
                    if self.stack[pos as usize] != Provider::Temp {
                        let src = self.reg_at(pos);
                        let dst = self.temp(pos)?;
                        let wide = self.is_wide(pos);
                        self.emit_copy(dst, src, wide);
                    }
                }
                self.temp(h - n)?
            }
        };
        if regs == 1 {
            // One scalar result: its own instruction, which may take the value from the
            // accumulator (on an unconditional return only: the fall-through path of a
            // conditional one still reads the register).
            let ret = Instr::ReturnOne { src };
            if link {
                self.emit_linked(ret, &[(src, Form::A)], false);
            } else {
                self.emit(ret);
            }
            return Ok(());
        }
        let len = u16::try_from(regs).map_err(|_| self.error("too many results"))?;
        self.emit(Instr::Return { src, len });
        Ok(())
    }

    /// Pops a branch condition, remembering a compare that may be fused.
    fn take_cond(&mut self) -> Result<Cond, TranslateError> {
        let h = self.height();
        let top_is_temp = h > 0 && self.stack[h as usize - 1] == Provider::Temp;
        let producer = self.last_result;
        let reg = self.pop()?;
        if top_is_temp && let Some(idx) = producer {
            let mut instr = self.code[idx];
            let writes_cond = matches!(instr.dst_mut(), Some(d) if *d == reg);
            if writes_cond && instr.fuse_branch(false, |_| None).is_some() {
                return Ok(Cond::Fused(idx));
            }
        }
        Ok(Cond::Reg(reg))
    }

    /// Emits a branch taken when the condition is true (or false with `negate`); returns
    /// its index. A fused compare is moved down to the branch: only copies of locals into
    /// lower slots were emitted after it, which neither read nor write its operands.
    fn emit_cond_branch(&mut self, cond: Cond, negate: bool) -> usize {
        match cond {
            Cond::Reg(cond) => {
                let br = if negate {
                    Instr::BrEqz {
                        cond,
                        add_reg: 0,
                        offset: 0,
                        add: Step(0),
                    }
                } else {
                    Instr::BrNez {
                        cond,
                        add_reg: 0,
                        offset: 0,
                        add: Step(0),
                    }
                };
                self.emit_linked(br, &[(cond, Form::A)], false)
            }
            Cond::Fused(idx) => {
                let cmp = self.code.remove(idx);
                let cmp_form = self.forms.remove(idx);
                self.offsets.remove(idx);
                match cmp.fuse_branch(negate, |r| self.const_bits(r)) {
                    Some(br) => {
                        // The compare may read the accumulator, written by the instruction
                        // before it; the copies in between leave it alone, so the branch
                        // reads it instead. (Its handler has the same operand forms.)
                        let inputs = cmp_form & (Form::A | Form::B);
                        let at = self.emit(br);
                        if supports(&br, inputs) {
                            self.forms[at] = inputs;
                        } else if idx > 0 {
                            self.forms[idx - 1] &= !Form::OUT;
                        }
                        self.fuse_load_branch(at)
                    }
                    // Unreachable: `take_cond` checked that the compare fuses.
                    None => {
                        self.code.insert(idx, cmp);
                        self.forms.insert(idx, cmp_form);
                        self.offsets.insert(idx, self.offset);
                        self.emit(Instr::Trap {
                            code: tierup_abi::TrapCode::CompileError,
                        })
                    }
                }
            }
        }
    }

    /// An `==`/`!=` compare-branch at `at` whose second operand is the byte that the
    /// indexed `i32.load8_u` just before it loaded (through the accumulator) becomes one
    /// `BrI32EqLoad8U`/`BrI32NeLoad8U` in the load's place, which traps as the load did:
    /// the byte compares of string and match-length loops. Returns the branch's index.
    fn fuse_load_branch(&mut self, at: usize) -> usize {
        if at == 0 || self.last_label == at || self.forms[at] != Form::B {
            return at;
        }
        let prev = at - 1;
        if self.forms[prev] != Form::OUT | Access::INDEX {
            return at;
        }
        let Instr::I32Load8U {
            addr,
            index,
            scale: 1,
            offset: mem_offset,
            ..
        } = self.code[prev]
        else {
            return at;
        };
        let fused = match self.code[at] {
            Instr::BrI32Ne { a, offset, .. } | Instr::BrI32NotEq { a, offset, .. } => {
                Instr::BrI32NeLoad8U {
                    a,
                    addr,
                    index,
                    offset,
                    mem_offset,
                }
            }
            Instr::BrI32Eq { a, offset, .. } | Instr::BrI32NotNe { a, offset, .. } => {
                Instr::BrI32EqLoad8U {
                    a,
                    addr,
                    index,
                    offset,
                    mem_offset,
                }
            }
            _ => return at,
        };
        // The wasm offset kept is the load's, for its trap. Forward branches are patched
        // later through the index returned.
        self.replace_pair(prev, fused, Form::NONE, &[]);
        self.last_result = None;
        prev
    }

    fn enter(
        &mut self,
        kind: CtrlKind,
        ty: BlockType,
        params: u32,
        results: u32,
    ) -> Result<(), TranslateError> {
        let h = self.height();
        if h < params {
            return Err(self.error("operand stack underflow at block entry"));
        }
        self.ctrl.push(Ctrl {
            kind,
            ty,
            base: h - params,
            params,
            results,
            patches: -1,
            branched: false,
        });
        Ok(())
    }

    pub(super) fn op_block(&mut self, ty: BlockType) -> Result<(), TranslateError> {
        let (params, results) = self.block_arity(ty);
        self.materialise_locals()?;
        self.enter(CtrlKind::Block, ty, params, results)
    }

    pub(super) fn op_loop(&mut self, ty: BlockType) -> Result<(), TranslateError> {
        let (params, results) = self.block_arity(ty);
        self.materialise_locals()?;
        let h = self.height();
        if h < params {
            return Err(self.error("operand stack underflow at loop entry"));
        }
        // Back edges copy into the parameter slots, so the parameters must live there.
        self.materialise_from(h - params)?;
        self.bind_label();
        // The loop header: backward branches spend the function's hotness here, and a
        // hot function may move to another tier at it.
        self.osr_point(self.offset);
        let start = self.code.len();
        self.enter(CtrlKind::Loop { start }, ty, params, results)
    }

    pub(super) fn op_if(&mut self, ty: BlockType) -> Result<(), TranslateError> {
        let (params, results) = self.block_arity(ty);
        let cond = self.take_cond()?;
        self.materialise_locals()?;
        let h = self.height();
        if h < params {
            return Err(self.error("operand stack underflow at if"));
        }
        let saved = self.saved.len();
        for pos in h - params..h {
            let p = self.stack[pos as usize];
            let wide = self.is_wide(pos);
            self.saved.push((p, wide));
        }
        let else_branch = self.emit_cond_branch(cond, true);
        let else_branch = self.fuse_counter_branch(else_branch);
        self.enter(CtrlKind::If { else_branch, saved }, ty, params, results)
    }

    pub(super) fn op_else(&mut self) -> Result<(), TranslateError> {
        let Some(frame) = self.ctrl.last() else {
            return Err(self.error("else outside if"));
        };
        let CtrlKind::If { else_branch, saved } = frame.kind else {
            return Err(self.error("else without if"));
        };
        let (base, params, results) = (frame.base, frame.params, frame.results);
        if self.reachable {
            // The then arm ends: its results go to the result slots, then jump to the end.
            self.copy_values_to(results, base)?;
            let idx = self.emit(Instr::Br { offset: 0 });
            let f = self.ctrl.len() - 1;
            self.link(idx, f);
        }
        let target = self.code.len() as i64;
        if let Some(off) = self.code[else_branch].offset_mut() {
            *off = (target - else_branch as i64) as i32;
        }
        self.bind_label();
        self.truncate(base);
        for i in 0..params as usize {
            let (p, wide) = self.saved[saved + i];
            self.push(p, wide)?;
        }
        self.saved.truncate(saved);
        if let Some(c) = self.ctrl.last_mut() {
            c.kind = CtrlKind::Else;
        }
        self.reachable = true;
        Ok(())
    }

    pub(super) fn op_end(&mut self) -> Result<(), TranslateError> {
        if let Some(Ctrl {
            kind: CtrlKind::If { .. },
            ..
        }) = self.ctrl.last()
        {
            // An `if` without `else`: the false path passes the parameters on as results.
            self.op_else()?;
        }
        let Some(frame) = self.ctrl.pop() else {
            return Err(self.error("end without block"));
        };
        if self.ctrl.is_empty() {
            // The end of the function body.
            if self.reachable {
                self.emit_return(true)?;
            }
            self.reachable = false;
            return Ok(());
        }
        if self.reachable {
            self.copy_values_to(frame.results, frame.base)?;
        }
        if frame.patches >= 0 {
            self.patch_chain(frame.patches);
            self.bind_label();
        }
        let is_loop = matches!(frame.kind, CtrlKind::Loop { .. });
        self.reachable = self.reachable || (frame.branched && !is_loop);
        self.truncate(frame.base);
        let env = self.env;
        self.push_types(env.block_sig(frame.ty).results())?;
        // A label may be bound here even without forward branches (values merge in the
        // result slots), so nothing before may be retargeted.
        self.bind_label();
        if frame.branched && !is_loop {
            // The code after the end, a branch target (from a dispatch loop's copies of
            // its head, backward), is where the state before the next operator is.
            self.osr_point(self.offset + 1);
        }
        Ok(())
    }

    pub(super) fn op_br(&mut self, depth: u32) -> Result<(), TranslateError> {
        let f = self.frame(depth)?;
        self.branch_to(f)?;
        self.reachable = false;
        Ok(())
    }

    pub(super) fn op_br_if(&mut self, depth: u32) -> Result<(), TranslateError> {
        let f = self.frame(depth)?;
        let cond = self.take_cond()?;
        if self.branch_needs_copies(f) {
            let skip = self.emit_cond_branch(cond, true);
            self.branch_to(f)?;
            let target = self.code.len() as i64;
            if let Some(off) = self.code[skip].offset_mut() {
                *off = (target - skip as i64) as i32;
            }
            self.bind_label();
        } else {
            let idx = self.emit_cond_branch(cond, false);
            if matches!(self.ctrl[f].kind, CtrlKind::Loop { .. }) {
                self.link(idx, f);
                self.fuse_counter_branch(idx);
            } else {
                // Fused before it joins the chain of its frame, which records its index.
                let idx = self.fuse_counter_branch(idx);
                self.link(idx, f);
            }
        }
        Ok(())
    }

    /// Whether `instr` continues with the next instruction, always (no branch, call,
    /// return or trap).
    pub(super) fn straight_line(instr: &Instr) -> bool {
        let mut copy = *instr;
        copy.offset_mut().is_none()
            && !matches!(
                instr,
                Instr::BrTable { .. }
                    | Instr::Return { .. }
                    | Instr::ReturnOne { .. }
                    | Instr::Call { .. }
                    | Instr::CallIndirect { .. }
                    | Instr::Trap { .. }
            )
    }

    /// A `br_if` at `idx` that tests the register the instruction before it just
    /// advanced (`r = r + k`, an `i32.add` or `i64.add` of a small constant, or of a
    /// register with `Counting::ADD_REG`) takes the add in (form `Counting::PRE`): a counted loop closes in
    /// one dispatch, and `if (++c < n)` tests in one (a `br_if` out of a block, or the
    /// branch of an `if` to its `else`). Only where no label lies between the two. A back
    /// edge's offset is resolved already (moving the branch one place up changes it by
    /// one); a forward branch is fused before it is linked or patched, and the index
    /// returned is where the branch now is.
    fn fuse_counter_branch(&mut self, idx: usize) -> usize {
        if idx == 0 || self.last_label == idx || self.forms[idx] != Form::NONE {
            return idx;
        }
        let prev = idx - 1;
        if self.forms[prev] != Form::NONE {
            return idx;
        }
        // The second increment of a pair: the first stays, in the pair's place.
        let mut first = None;
        let (r, by, bits) = match self.code[prev] {
            Instr::I32AddImm2 {
                dst,
                a,
                dst2,
                a2,
                imm,
                imm2,
            } if dst2 == a2 => {
                let imm = imm.0 as i32 as u32 as u64;
                first = Some(Instr::I32AddImm { dst, a, imm });
                (dst2, Addend::Const(imm2.0), 32)
            }
            Instr::I32Add2 {
                dst,
                a,
                b,
                dst2,
                a2,
                b2,
            } if dst2 == a2 || dst2 == b2 => {
                first = Some(match self.const_bits(b) {
                    Some(imm) => Instr::I32AddImm { dst, a, imm },
                    None => Instr::I32Add { dst, a, b },
                });
                let step = if dst2 == a2 { b2 } else { a2 };
                let by = match self.const_bits(step).and_then(<u32 as Imm>::to_imm) {
                    Some(k) => Addend::Const(k),
                    None => Addend::Reg(step),
                };
                (dst2, by, 32)
            }
            Instr::I32AddImm { dst, a, imm } if dst == a => match <u32 as Imm>::to_imm(imm) {
                Some(k) => (dst, Addend::Const(k), 32),
                None => return idx,
            },
            Instr::I64AddImm { dst, a, imm } if dst == a => match <u64 as Imm>::to_imm(imm) {
                Some(k) => (dst, Addend::Const(k), 64),
                None => return idx,
            },
            Instr::I32Add { dst, a, b } if dst == a => (dst, Addend::Reg(b), 32),
            Instr::I32Add { dst, a, b } if dst == b => (dst, Addend::Reg(a), 32),
            Instr::I64Add { dst, a, b } if dst == a => (dst, Addend::Reg(b), 64),
            Instr::I64Add { dst, a, b } if dst == b => (dst, Addend::Reg(a), 64),
            _ => return idx,
        };
        let fused_form = match by {
            Addend::Const(_) => Form::from(Counting::PRE),
            Addend::Reg(_) => Counting::PRE | Counting::ADD_REG,
        };
        let mut branch = self.code[idx];
        if !branch.pre_add(r, by, bits) || !supports(&branch, fused_form) {
            return idx;
        }
        if let Some(first) = first {
            self.code[prev] = first;
            self.code[idx] = branch;
            self.forms[idx] = fused_form;
            return idx;
        }
        if let Some(offset) = branch.offset_mut() {
            *offset += 1;
        }
        // `PRE` forms read no operand from the accumulator: nothing to link.
        self.replace_pair(prev, branch, fused_form, &[]);
        // A branch has no result to link to.
        self.last_result = None;
        prev
    }

    pub(super) fn op_br_table(
        &mut self,
        table: wasmparser::BrTable<'_>,
    ) -> Result<(), TranslateError> {
        let index = self.pop()?;
        let len = table.len();
        self.emit_linked(Instr::BrTable { index, len }, &[(index, Form::A)], false);
        let first = self.code.len();
        let mut depths = Vec::with_capacity(len as usize + 1);
        for t in table.targets() {
            depths.push(t.map_err(TranslateError::from)?);
        }
        depths.push(table.default());
        for _ in 0..depths.len() {
            self.emit(Instr::Br { offset: 0 });
        }
        // Entries whose target needs copies jump to a per-target stub after the table.
        let mut stubs: Vec<(usize, usize)> = Vec::new();
        for (i, depth) in depths.iter().enumerate() {
            let f = self.frame(*depth)?;
            let idx = first + i;
            if !self.branch_needs_copies(f) {
                self.link(idx, f);
                continue;
            }
            let stub = match stubs.iter().find(|(sf, _)| *sf == f) {
                Some((_, s)) => *s,
                None => {
                    let s = self.code.len();
                    self.branch_to(f)?;
                    stubs.push((f, s));
                    s
                }
            };
            if let Some(off) = self.code[idx].offset_mut() {
                *off = (stub as i64 - idx as i64) as i32;
            }
        }
        self.reachable = false;
        Ok(())
    }

    pub(super) fn op_return(&mut self) -> Result<(), TranslateError> {
        self.emit_return(true)?;
        self.reachable = false;
        Ok(())
    }

    /// Places the arguments of a call of type `ty` in consecutive slots, pushes its
    /// results and returns the first slot's register and the call site (index 0, table 0).
    fn call_args(&mut self, ty: &FuncType) -> Result<(Reg, CallSite), TranslateError> {
        let (params, results) = (ty.params().len() as u32, ty.results().len() as u32);
        let h = self.height();
        if h < params {
            return Err(self.error("operand stack underflow at call"));
        }
        let first = h - params;
        self.materialise_from(first)?;
        let base = self.temp(first)?;
        self.truncate(first);
        self.push_types(ty.results())?;
        let wide = self.sig_widths(ty);
        let site = CallSite {
            index: 0,
            table: 0,
            params,
            results,
            wide,
        };
        Ok((base, site))
    }

    pub(super) fn op_call(&mut self, func: u32) -> Result<(), TranslateError> {
        let env = self.env;
        let ty = env
            .funcs
            .get(func as usize)
            .and_then(|t| env.types.get(*t as usize))
            .ok_or_else(|| self.error(format!("call of unknown function {func}")))?;
        let (base, mut call) = self.call_args(ty)?;
        call.index = func;
        let site = self.calls.len() as u32;
        self.calls.push(call);
        let idx = self.emit(Instr::Call {
            base,
            site,
            func,
            arg: base,
            step: Step(0),
        });
        self.fuse_call_argument(idx);
        Ok(())
    }

    /// A call at `idx` whose first argument the instruction just before it computed
    /// (an increment of another register by a small constant, or a copy; no label
    /// between) sets that argument itself (form `Counting::PRE`): one dispatch fewer per call of a
    /// one-argument function.
    fn fuse_call_argument(&mut self, idx: usize) {
        if idx == 0 || self.last_label == idx || self.forms[idx - 1] != Form::NONE {
            return;
        }
        let (dst, src, k) = match self.code[idx - 1] {
            Instr::I32AddImm { dst, a, imm } => match <u32 as Imm>::to_imm(imm) {
                Some(k) if k != 0 => (dst, a, k),
                _ => return,
            },
            Instr::Copy { dst, src } => (dst, src, 0),
            _ => return,
        };
        // The slow path of a call may run it again (after translating the callee, or
        // growing the frame stack): setting the argument must give the same value then,
        // so it may not read the register it writes.
        if src == dst {
            return;
        }
        let mut call = self.code[idx];
        match &mut call {
            Instr::Call {
                base, arg, step, ..
            } if *base == dst => (*arg, *step) = (src, Step(k)),
            Instr::CallIndirect {
                base, index, arg, ..
            } if *base == dst && *index != dst && k == 0 => *arg = src,
            _ => return,
        }
        if supports(&call, Counting::PRE.into()) {
            self.replace_pair_into_second(idx - 1, call, Counting::PRE.into(), &[]);
        }
    }

    pub(super) fn op_call_indirect(
        &mut self,
        type_index: u32,
        table: u32,
    ) -> Result<(), TranslateError> {
        let env = self.env;
        let ty = env
            .types
            .get(type_index as usize)
            .ok_or_else(|| self.error(format!("call_indirect of unknown type {type_index}")))?;
        let index = self.pop()?;
        // The index may sit in the slot of the first result; the executor reads it first.
        let (base, mut call) = self.call_args(ty)?;
        call.index = type_index;
        call.table = table;
        let site = self.calls.len() as u32;
        self.calls.push(call);
        let idx = self.emit(Instr::CallIndirect {
            base,
            index,
            arg: base,
            site,
            ty: type_index,
        });
        self.fuse_call_argument(idx);
        Ok(())
    }
}
