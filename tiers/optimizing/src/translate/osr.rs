//! The OSR entry of a function (`tierup_abi::osr`): the whole body translated as usual,
//! entered at an OSR point instead of at its start.
//!
//! The entry block holds what every register entry does first (the context loaded from the
//! slot) and jumps to the *state block*, which stays empty until the translation reaches
//! the point. The body's translation starts in a block that nothing jumps to, so the code
//! before the point is reached only through branches back to it (loops around the point)
//! and everything else of it is dead; its locals start as zeros that no execution sees.
//!
//! When the translator is about to translate the operator at the point, in reachable code,
//! it makes a *merge block* with one parameter per operand-stack entry, jumps there from
//! the current block with the stack, and fills the state block: one load per local
//! (defining the local's variable) and one per stack entry, all before anything else, and
//! a jump to the merge block with the loaded stack. Translation goes on in the merge
//! block, whose parameters replace the stack; SSA construction merges the locals there.
//!
//! So the merge block dominates all code that runs, and values the translator holds from
//! before the point must not be used after it: stack entries and locals come through the
//! merge block, the context and the results area from the entry block, and the parameters
//! an `if` keeps for its `else` arm are used only in that arm, whose one predecessor is the
//! `if` itself. One more path leads into the code before the point: the back-edge of a loop
//! around it, which reaches the loop's header and runs the code from there to the point
//! again. That code must not use the operands below the loop as the unreachable code
//! before the loop defined them, so before the point every loop header takes the whole
//! operand stack as parameters and every branch to it passes the stack's bottom entries on
//! (`FrameKind::Loop::carried`); the loops before the point that do not enclose it are
//! dead code, and loops after it need nothing of the kind.

use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData, SourceLoc, Value, types};
use cranelift_frontend::FunctionBuilder;
use tierup_abi::CompileError;

use super::{Translator, block_args};
use crate::shim::cell;
use crate::sig::clif_type;

/// An OSR entry being translated.
pub(super) struct OsrEntry {
    /// The module offset of the operator the point is before.
    at: u32,
    /// The address of the state cells (the entry's one wasm parameter).
    state: Value,
    /// The state block, filled when the translation reaches the point.
    load: Block,
    /// Whether the translation reached the point.
    entered: bool,
}

impl OsrEntry {
    /// Ends the entry block (the current block) with a jump to the state block, and starts
    /// the unreachable block in which the body's translation begins.
    pub(super) fn start(b: &mut FunctionBuilder, at: u32, state: Value) -> OsrEntry {
        let load = b.create_block();
        b.ins().jump(load, &[]);
        b.seal_block(load);
        let body_start = b.create_block();
        b.seal_block(body_start);
        b.switch_to_block(body_start);
        OsrEntry {
            at,
            state,
            load,
            entered: false,
        }
    }

    /// An error unless the translation reached the point.
    pub(super) fn check_entered(&self) -> Result<(), CompileError> {
        if self.entered {
            Ok(())
        } else {
            Err(CompileError(format!(
                "not an OSR point: no instruction of the function starts at offset {:#x}",
                self.at
            )))
        }
    }
}

impl Translator<'_, '_> {
    /// Whether a loop header must take the whole operand stack as parameters: before the
    /// point of an OSR entry, where the code from the header of a loop around the point up
    /// to the point is reached only through the loop's back-edges, so the operands below
    /// the loop there are those the point passed on, not those of the unreachable code
    /// before the loop.
    pub(super) fn carry_stack_into_loops(&self) -> bool {
        self.osr.as_ref().is_some_and(|osr| !osr.entered)
    }

    /// Enters the OSR entry being made if the operator about to be translated, at module
    /// offset `offset`, is the one its point is before.
    pub(super) fn enter_osr_at(&mut self, offset: u64) -> Result<(), CompileError> {
        let Some(osr) = &mut self.osr else {
            return Ok(());
        };
        if offset != u64::from(osr.at) {
            return Ok(());
        }
        if !self.reachable {
            return Err(CompileError(format!(
                "not an OSR point: the instruction at offset {offset:#x} is unreachable"
            )));
        }
        osr.entered = true;
        let (state, load) = (osr.state, osr.load);

        let tys: Vec<_> = self
            .stack
            .iter()
            .map(|&v| self.b.func.dfg.value_type(v))
            .collect();
        // The stack holds wasm values only (the translator's invariant); anything else is
        // not a value of a state cell.
        if let Some(ty) = tys.iter().find(|&&ty| {
            ![types::I32, types::I64, types::F32, types::F64, types::I8X16].contains(&ty)
        }) {
            return Err(CompileError(format!(
                "internal: operand of type {ty} on the stack at the OSR point {offset:#x}"
            )));
        }
        let merge = self.b.create_block();
        for &ty in &tys {
            self.b.append_block_param(merge, ty);
        }
        let args = block_args(&self.stack);
        self.b.ins().jump(merge, &args);

        // The state block: every cell is read before anything else runs.
        let srcloc = self.b.srcloc();
        self.b.switch_to_block(load);
        self.b.set_srcloc(SourceLoc::default());
        let flags = MemFlagsData::trusted();
        for i in 0..self.locals.len() {
            let (var, ty) = self.locals[i];
            let v = self.b.ins().load(clif_type(ty), flags, state, cell(i)?);
            self.b.def_var(var, v);
        }
        let mut values = Vec::with_capacity(tys.len());
        for (i, &ty) in tys.iter().enumerate() {
            let at = cell(self.locals.len() + i)?;
            values.push(self.b.ins().load(ty, flags, state, at));
        }
        // The point may lie in a loop without calls, which tests nothing itself
        // (`epoch.rs`).
        self.env.check_epoch(&mut self.b);
        self.b.ins().jump(merge, &block_args(&values));

        self.b.seal_block(merge);
        self.b.switch_to_block(merge);
        self.b.set_srcloc(srcloc);
        self.stack = self.b.block_params(merge).to_vec();
        Ok(())
    }
}
