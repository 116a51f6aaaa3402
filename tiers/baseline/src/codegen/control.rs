//! Control flow: blocks, loops, `if`/`else`, branches and returns, and how values reach
//! the slots a branch target expects.

use super::*;

impl<M: Masm> CodeGen<'_, M> {
    /// Puts the top `n` values where a branch target expects them: into its merge register
    /// `reg` (one value), or into the slots from `height` up; leaves the stack as it is.
    /// Where a register, it may hold another entry only if that entry is dead on the path
    /// (below a branch's values, or nothing: a frame's end finds only its results above
    /// its height, whose entries are in their slots or constants).
    pub(super) fn place_values(&mut self, height: usize, n: usize, reg: Option<Reg>) {
        let len = self.stack.len();
        if let Some(r) = reg {
            self.forget_copy_in(r);
            let e = self.stack.entries[len - 1];
            match r {
                Reg::G(g) => self.load_gpr(e, len - 1, g),
                Reg::X(x) => self.load_xmm(e, len - 1, x),
            }
            return;
        }
        for k in 0..n {
            let from = len - n + k;
            let e = self.stack.entries[from];
            let to = self.slot(height + k);
            self.store_value(e, from, to);
        }
    }

    /// Whether the top `n` values already are where a branch target expects them (see
    /// [`Self::place_values`]).
    pub(super) fn values_in_place(&self, height: usize, n: usize, reg: Option<Reg>) -> bool {
        if let Some(r) = reg {
            return matches!(self.stack.peek(0), Some(&Entry::Reg(_, held)) if held == r);
        }
        let len = self.stack.len();
        len - n == height
            && self.stack.entries[height..]
                .iter()
                .all(|e| matches!(e, Entry::Mem(_)))
    }

    /// Where a branch to the frame `depth` levels out puts its values: the height below
    /// them, how many, the label, and the merge register.
    pub(super) fn target(
        &self,
        depth: u32,
    ) -> Result<(usize, usize, Label, Option<Reg>), CompileError> {
        let f = self.frame_at(depth)?;
        Ok((
            f.height,
            f.branch_types().len(),
            f.label,
            f.merge_reg::<M>(),
        ))
    }

    /// Pushes a frame's results as they are at its end, reached by more than one path.
    fn push_merged(&mut self, frame: &Frame<'_>) {
        match frame.merge_reg::<M>() {
            Some(r) => {
                let taken = self.regs.take_this(r);
                debug_assert!(taken, "the merge register {r:?} is held at a frame's end");
                self.stack.push(Entry::Reg(frame.results()[0], r));
            }
            None => {
                for &ty in frame.results() {
                    self.stack.push(Entry::Mem(ty));
                }
            }
        }
    }

    pub(super) fn frame_at(&self, depth: u32) -> Result<&Frame<'_>, CompileError> {
        self.frames
            .len()
            .checked_sub(1 + depth as usize)
            .and_then(|i| self.frames.get(i))
            .ok_or_else(|| CompileError(format!("branch depth {depth} out of range")))
    }

    /// Emits a branch to the frame `depth` levels out (its values placed first).
    pub(super) fn branch(&mut self, depth: u32) -> Result<(), CompileError> {
        let (height, n, label, reg) = self.target(depth)?;
        self.place_values(height, n, reg);
        self.m.jmp(label);
        self.mark_used(depth);
        Ok(())
    }

    pub(super) fn mark_used(&mut self, depth: u32) {
        let i = self.frames.len() - 1 - depth as usize;
        self.frames[i].end_used = true;
    }

    pub(super) fn set_unreachable(&mut self) {
        self.reachable = false;
        let height = self.frames.last().map_or(0, |f| f.height);
        self.truncate(height);
    }

    pub(super) fn open(&mut self, kind: Kind, ty: BlockType, label: Label) {
        let sig = self.env.block_sig(ty);
        let height = self.stack.len() - sig.params().len();
        self.frames.push(Frame {
            kind,
            height,
            sig,
            label,
            reachable_at_start: true,
            end_used: false,
            count: None,
        });
    }

    /// The `else` of the innermost frame.
    pub(super) fn else_(&mut self) -> Result<(), CompileError> {
        let frame = self
            .frames
            .last_mut()
            .ok_or_else(|| CompileError("else outside of a frame".into()))?;
        let Kind::If(else_label) = frame.kind else {
            return Err(CompileError("else without if".into()));
        };
        frame.kind = Kind::Else;
        let (height, n, end, reachable_at_start, reg) = (
            frame.height,
            frame.results().len(),
            frame.label,
            frame.reachable_at_start,
            frame.merge_reg::<M>(),
        );
        let sig = frame.sig;
        if self.reachable {
            self.place_values(height, n, reg);
            self.m.jmp(end);
            self.mark_used(0);
        }
        self.truncate(height);
        self.bind_merge(else_label);
        // The parameters' originals, below the then arm's copies, are in their slots.
        for &ty in sig.params() {
            self.stack.push(Entry::Mem(ty));
        }
        self.reachable = reachable_at_start;
        Ok(())
    }

    /// The `end` of the innermost frame.
    pub(super) fn end(&mut self) -> Result<(), CompileError> {
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| CompileError("end outside of a frame".into()))?;
        let n = frame.results().len();
        let fell_through = self.reachable;
        if frame.kind == Kind::Function {
            return self.end_function(frame);
        }
        if let Some((patch, before, _)) = frame.count {
            self.m
                .patch_imm32(patch, hotness::loop_weight(self.ops - before));
        }
        // Only the code before the end reaches it when no branch targets the end (a loop's
        // branches go to its header) and the frame is no `if` without an `else`.
        let one_path =
            !(matches!(frame.kind, Kind::If(_)) || frame.end_used && frame.kind != Kind::Loop);
        if one_path {
            // The results stay where they are.
            if !fell_through {
                self.truncate(frame.height);
            }
            return Ok(());
        }
        if self.reachable {
            self.place_values(frame.height, n, frame.merge_reg::<M>());
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
                self.bind_merge(else_label);
                reachable |= frame.reachable_at_start;
                self.bind_merge(frame.label);
            }
            // Not reached: a loop's end has one path.
            Kind::Loop => {}
            _ => self.bind_merge(frame.label),
        }
        self.truncate(frame.height);
        self.reachable = reachable;
        if reachable {
            self.push_merged(&frame);
        }
        Ok(())
    }

    /// The body's final `end`: the path that falls through returns its values from where
    /// they are; branches to the end find them in their slots and return from there.
    fn end_function(&mut self, frame: Frame) -> Result<(), CompileError> {
        if self.reachable {
            self.emit_return()?;
        }
        if frame.end_used {
            self.truncate(frame.height);
            self.bind_merge(frame.label);
            self.push_merged(&frame);
            self.emit_return()?;
        }
        self.truncate(frame.height);
        self.reachable = false;
        Ok(())
    }

    /// Returns the top values as the function's results.
    pub(super) fn emit_return(&mut self) -> Result<(), CompileError> {
        let results = self.ty.results();
        let n = results.len();
        let len = self.stack.len();
        if len < n {
            return Err(CompileError("too few results".into()));
        }
        match n {
            0 => {}
            1 => {
                let e = self.stack.entries[len - 1];
                if is_float(results[0]) {
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
}
