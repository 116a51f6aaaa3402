//! The passes over the laid-out code, after the last operator: copies of a dispatch
//! loop's head at its jumps back to it, conditional branches over jumps inverted, and
//! values written to a local handed to their reader in the accumulator as well (form
//! `TEE`). Each keeps the branch offsets (in instructions) and the wasm offsets true.

use super::Translator;
use crate::exec::supports;
use crate::inst::{Counting, Form};
use crate::isa::{Instr, Slot};

impl Translator<'_> {
    /// Replaces each unconditional `Br` to the head of a `loop { switch }`, a short
    /// straight-line block ending in a `BrTable`, with a copy of that block: the
    /// interpreter written in wasm then dispatches its next instruction from the end of
    /// each case (one jump fewer, and a `br_table` jump of its own per case, which the
    /// branch predictor learns from what the case is usually followed by). The copy's
    /// branches keep their original targets. Runs on the laid-out code (offsets in
    /// instructions) and bounds the growth.
    pub(super) fn duplicate_dispatch_heads(&mut self) {
        /// The longest head (before its `BrTable`) and table copied.
        const MAX_HEAD: usize = 8;
        const MAX_TABLE: u32 = 256;
        // Most functions have no `br_table`: they pay one scan, no allocation.
        if !self.code.iter().any(|i| matches!(i, Instr::BrTable { .. })) {
            return;
        }
        let n = self.code.len();
        // The block a `Br` at `i` jumps to, as `start..end` (the `BrTable` and its
        // entries included), if it is a dispatch head.
        let head_at = |code: &[Instr], i: usize| -> Option<(usize, usize)> {
            let Instr::Br { offset } = code[i] else {
                return None;
            };
            let start = usize::try_from(i as i64 + offset as i64).ok()?;
            for (k, instr) in code.iter().enumerate().skip(start).take(MAX_HEAD + 1) {
                match *instr {
                    Instr::BrTable { len, .. } if len <= MAX_TABLE => {
                        let end = k + len as usize + 2;
                        // Not a head that contains the jump itself.
                        return (end <= code.len() && !(start..end).contains(&i))
                            .then_some((start, end));
                    }
                    _ if !Self::straight_line(instr) => return None,
                    _ => {}
                }
            }
            None
        };
        // The entries of a `BrTable` stay single `Br`s (translator invariant 3).
        let mut entry = vec![false; n];
        for (t, instr) in self.code.iter().enumerate() {
            if let Instr::BrTable { len, .. } = *instr {
                let last = (t + len as usize + 1).min(n - 1);
                entry[t + 1..=last].fill(true);
            }
        }
        let mut budget = n / 2 + 256;
        let mut copies: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut any = false;
        for (i, slot) in copies.iter_mut().enumerate() {
            if !entry[i]
                && let Some((start, end)) = head_at(&self.code, i)
                && end - start <= budget
            {
                budget -= end - start;
                *slot = Some((start, end));
                any = true;
            }
        }
        if !any {
            return;
        }
        self.relayout(&copies);
    }

    /// A conditional branch over an unconditional one (`br_if $a; br $b; $a:`, how
    /// compilers lay out `c + 1 < n && ...` and many loop exits) becomes one branch to the
    /// unconditional one's target, its condition negated, and the unconditional branch
    /// goes (unless something else jumps to it): the path that falls through, usually
    /// the common one, dispatches once instead of twice. Runs on the laid-out code.
    pub(super) fn invert_branches_over_jumps(&mut self) {
        // The jump after a branch over it, if instruction `k` is such a branch. A jump to
        // itself stays: the branch would go to what follows it.
        let jump_over = |code: &[Instr], k: usize| match code[k + 1] {
            Instr::Br { offset } if offset != 0 => {
                let mut cond = code[k];
                cond.offset_mut().is_some_and(|o| *o == 2).then_some(offset)
            }
            _ => None,
        };
        let n = self.code.len();
        // Most functions have none: they pay one scan, no allocation.
        if !(0..n.saturating_sub(1)).any(|k| jump_over(&self.code, k).is_some()) {
            return;
        }
        let target = self.branch_targets();
        let mut removed: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut any = false;
        let mut k = 0;
        while k + 1 < n {
            if let Some(offset) = jump_over(&self.code, k)
                && !target[k + 1]
                && let Some(mut negated) = self.code[k].negated_branch()
                && supports(&negated, self.forms[k])
                && let Some(o) = negated.offset_mut()
            {
                // Offsets count from the branch: the jump's target is `k + 1 + offset`.
                *o = offset + 1;
                self.code[k] = negated;
                removed[k + 1] = Some((k + 1, k + 1));
                any = true;
                k += 2;
            } else {
                k += 1;
            }
        }
        if any {
            self.relayout(&removed);
        }
    }

    /// Which instructions of the laid-out code a branch jumps to (one more entry, for
    /// the end of the code).
    pub(super) fn branch_targets(&self) -> Vec<bool> {
        let n = self.code.len();
        let mut target = vec![false; n + 1];
        for (k, instr) in self.code.iter().enumerate() {
            let mut copy = *instr;
            if let Some(offset) = copy.offset_mut()
                && let Ok(t) = usize::try_from(k as i64 + *offset as i64)
                && t <= n
            {
                target[t] = true;
            }
        }
        target
    }

    /// Lays the code out again with old instruction `i` replaced by a copy of old
    /// instructions `start..end` where `pieces[i]` is `Some((start, end))` (an empty
    /// range removes it), the others kept, and every branch (copied ones included)
    /// pointed at where its old target now starts. A removed instruction's place is
    /// taken by what follows it.
    pub(super) fn relayout(&mut self, pieces: &[Option<(usize, usize)>]) {
        let n = self.code.len();
        let extra: usize = pieces.iter().flatten().map(|&(s, e)| e - s).sum();
        // `origin[k]` is the old instruction new instruction `k` copies, `map[i]` where
        // old instruction `i` (or what replaces it) now starts.
        let mut code = Vec::with_capacity(n + extra);
        let mut forms = Vec::with_capacity(n + extra);
        let mut offsets = Vec::with_capacity(n + extra);
        let mut origin = Vec::with_capacity(n + extra);
        let mut map = Vec::with_capacity(n + 1);
        for (i, piece) in pieces.iter().enumerate() {
            map.push(code.len());
            let (start, end) = piece.unwrap_or((i, i + 1));
            for k in start..end {
                code.push(self.code[k]);
                forms.push(self.forms[k]);
                offsets.push(self.offsets[k]);
                origin.push(k);
            }
        }
        map.push(code.len());
        // An OSR point moves with its instruction; one at a removed instruction (a jump
        // nothing branches to) goes, as its state would now name what follows.
        self.osr.retain_mut(|p| {
            let i = p.inst as usize;
            if matches!(pieces.get(i), Some(Some((s, e))) if s == e) {
                return false;
            }
            p.inst = map[i] as u32;
            true
        });
        self.osr.dedup_by_key(|p| p.inst);
        for (k, instr) in code.iter_mut().enumerate() {
            if let Some(offset) = instr.offset_mut() {
                let target = (origin[k] as i64 + *offset as i64) as usize;
                *offset = (map[target] as i64 - k as i64) as i32;
            }
        }
        self.code = code;
        self.forms = forms;
        self.offsets = offsets;
    }

    /// On the laid-out code: an operator or load whose result register the next
    /// instruction reads (as an operand it can take from the accumulator, and through no
    /// other operand) also passes the result in the accumulator (form `Form::TEE`), and the
    /// reader takes it from there; so does a counting branch (`PRE`) with its counter,
    /// for the path that falls through (`if (++c < n) x = a[c]`). The linking at
    /// emission covers temporaries; this covers locals (the register is still written
    /// for later readers), where the value would otherwise go through memory and back:
    /// `c = 2 * c + 1` and the test of `c`, a sum kept in a local and stored at once, an
    /// element loaded into a local and compared at once (`while (a[i] < p)`, where the
    /// compare decides a branch that is hard to predict, so the sooner it has its
    /// operand the less a misprediction costs). Never into a branch target, which is
    /// reached with another accumulator.
    pub(super) fn link_through_locals(&mut self) {
        let n = self.code.len();
        let target = self.branch_targets();
        for k in 0..n.saturating_sub(1) {
            let (mut producer, mut consumer) = (self.code[k], self.code[k + 1]);
            let (form, next_form) = (self.forms[k], self.forms[k + 1]);
            if target[k + 1]
                || form.any(Form::OUT | Form::TEE)
                || next_form.any(Form::A | Form::B)
                || !supports(&producer, form | Form::TEE)
            {
                continue;
            }
            // A counting branch passes its counter on; the others their result.
            let counting = form.has(Counting::PRE) && producer.offset_mut().is_some();
            let written = if counting {
                producer.scalar_operand_mut(false)
            } else {
                producer.dst_mut()
            };
            let Some(&mut r) = written else {
                continue;
            };
            // `r` is read once, through the operand linked; the reader may write it.
            let writes_r = consumer.dst_mut().is_some_and(|d| *d == r);
            let mut names = 0;
            consumer.regs_mut(|x| names += (*x == r) as usize);
            if names != 1 + writes_r as usize {
                continue;
            }
            let bit = if consumer.scalar_operand_mut(false).is_some_and(|x| *x == r) {
                Form::A
            } else if consumer.scalar_operand_mut(true).is_some_and(|x| *x == r) {
                Form::B
            } else {
                continue;
            };
            if !supports(&consumer, next_form | bit)
                || bit
                    .slot()
                    .is_none_or(|s| producer.acc_float(Slot::Out) != consumer.acc_float(s))
            {
                continue;
            }
            self.forms[k] |= Form::TEE;
            self.forms[k + 1] |= bit;
        }
    }
}
