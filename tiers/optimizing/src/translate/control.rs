//! Control flow: blocks, loops, `if`/`else`, branches, `return`, `unreachable`, and the
//! function's own frame.
//!
//! Every wasm block is a [`Frame`] with a merge block (`next`) whose parameters are the
//! block's results; a loop's branches go to its header instead, whose parameters are the
//! loop's parameters (preceded by the operands below them before the point of an OSR
//! entry, see `osr.rs`). An `if` keeps the values of its parameters (they dominate both
//! arms) to start the `else` arm, or, without one, to pass straight to `next`. Code after
//! an unconditional transfer is unreachable until an `else` or `end` that something
//! branches to; blocks opened there get no frame ([`Translator::dead_depth`] counts them).

use std::collections::HashMap;

use cranelift_codegen::ir::{
    Block, BlockArg, InstBuilder, JumpTableData, MemFlagsData, SourceLoc, Value,
};
use tierup_abi::CompileError;
use wasmparser::{BlockType, Operator, ValType};

use super::epoch::LoopTest;
use super::{Translator, block_args};
use crate::sig::{clif_type, type_at};

/// What kind of block a frame is.
pub(crate) enum FrameKind {
    /// `block`.
    Block,
    /// `loop`, whose branches go to `header`. Its first `carried` parameters are the
    /// bottom entries of the operand stack, below the loop's own parameters (none except
    /// before the point of an OSR entry, see `osr.rs`).
    /// `epoch`: its header's test of the interrupt word, if it has one (`epoch.rs`).
    Loop {
        header: Block,
        carried: usize,
        epoch: Option<LoopTest>,
    },
    /// `if`: the arm taken when the condition is zero starts at `else_block` with
    /// `else_args` (the block's parameters).
    If {
        else_block: Block,
        else_args: Vec<Value>,
        has_else: bool,
    },
    /// The function body.
    Function,
}

/// Where a branch goes and which operands it passes: the `carried` bottom entries of the
/// stack, then the top `n`.
#[derive(Clone, Copy)]
struct Target {
    block: Block,
    carried: usize,
    n: usize,
}

/// An open block.
pub(crate) struct Frame {
    kind: FrameKind,
    /// Where control continues after the block; its parameters are the block's results.
    next: Block,
    num_params: usize,
    num_results: usize,
    /// The operand stack's height below the block's parameters.
    height: usize,
    /// Whether anything branches to (or falls through into) `next`.
    exit_reachable: bool,
}

impl Translator<'_, '_> {
    /// The parameter and result types of a block type.
    fn block_types(&self, ty: BlockType) -> Result<(Vec<ValType>, Vec<ValType>), CompileError> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![t]),
            BlockType::FuncType(index) => {
                let f = type_at(self.env.module, index)?;
                (f.params().to_vec(), f.results().to_vec())
            }
        })
    }

    /// A new block with parameters of the given types.
    fn block_with_params(&mut self, tys: &[ValType]) -> Block {
        let block = self.b.create_block();
        for &t in tys {
            self.b.append_block_param(block, clif_type(t));
        }
        block
    }

    /// Opens the function's own frame.
    pub(super) fn push_function_frame(&mut self, results: &[ValType]) -> Result<(), CompileError> {
        let next = self.block_with_params(results);
        self.control.push(Frame {
            kind: FrameKind::Function,
            next,
            num_params: 0,
            num_results: results.len(),
            height: self.stack.len(),
            exit_reachable: false,
        });
        Ok(())
    }

    /// Jumps to `target` with the top `n` operands.
    fn jump_with(&mut self, target: Block, n: usize) -> Result<(), CompileError> {
        self.jump_to(Target {
            block: target,
            carried: 0,
            n,
        })
    }

    /// Jumps to a branch target with its operands.
    fn jump_to(&mut self, target: Target) -> Result<(), CompileError> {
        let args = self.target_args(target)?;
        self.b.ins().jump(target.block, &args);
        Ok(())
    }

    /// The block arguments of a branch to `target`: the `carried` bottom operands, then
    /// the top `n`.
    fn target_args(&self, target: Target) -> Result<Vec<BlockArg>, CompileError> {
        let bottom = self
            .stack
            .get(..target.carried)
            .ok_or_else(|| CompileError("operand stack underflow".into()))?;
        let mut args = block_args(bottom);
        args.extend(block_args(self.peekn(target.n)?));
        Ok(args)
    }

    /// Where a branch to label `depth` goes and which operands it carries; marks the
    /// target's exit reachable.
    fn branch_target(&mut self, depth: u32) -> Result<Target, CompileError> {
        let index = self
            .control
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| CompileError(format!("branch to unknown label {depth}")))?;
        let frame = &mut self.control[index];
        Ok(match frame.kind {
            FrameKind::Loop {
                header, carried, ..
            } => Target {
                block: header,
                carried,
                n: frame.num_params,
            },
            _ => {
                frame.exit_reachable = true;
                Target {
                    block: frame.next,
                    carried: 0,
                    n: frame.num_results,
                }
            }
        })
    }

    /// Returns `values` from the function by the register convention.
    pub(super) fn emit_return(&mut self, values: &[Value]) {
        match self.results_area {
            Some(area) => {
                for (i, &v) in values.iter().enumerate() {
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), v, area, (16 * i) as i32);
                }
                self.b.ins().return_(&[]);
            }
            None => {
                self.b.ins().return_(values);
            }
        }
    }

    /// An operator in unreachable code: only the block structure matters.
    pub(super) fn translate_unreachable(&mut self, op: &Operator) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.translate_else()?,
            Operator::End => {
                if self.dead_depth > 0 {
                    self.dead_depth -= 1;
                } else {
                    self.translate_end()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Control operators.
    pub(super) fn translate_control(&mut self, op: &Operator) -> Result<bool, CompileError> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.env.unreachable(&mut self.b);
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_types(blockty)?;
                let next = self.block_with_params(&results);
                let height = self.block_height(params.len())?;
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                    exit_reachable: false,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_types(blockty)?;
                let height = self.block_height(params.len())?;
                // Before the point of an OSR entry, the code of an enclosing loop up to the
                // point is reached only through the back-edge, where the operands below the
                // loop are those of the point: the header takes them as parameters.
                let carried = if self.carry_stack_into_loops() {
                    height
                } else {
                    0
                };
                let header = self.b.create_block();
                for i in 0..carried {
                    let ty = self.b.func.dfg.value_type(self.stack[i]);
                    self.b.append_block_param(header, ty);
                }
                for &t in &params {
                    self.b.append_block_param(header, clif_type(t));
                }
                let target = Target {
                    block: header,
                    carried,
                    n: params.len(),
                };
                self.jump_to(target)?;
                self.b.switch_to_block(header);
                let header_params = self.b.block_params(header);
                self.stack.truncate(height);
                self.stack[..carried].copy_from_slice(&header_params[..carried]);
                self.stack.extend_from_slice(&header_params[carried..]);
                let header_test = self.env.check_epoch(&mut self.b);
                let epoch = self.open_loop_test(header_test);
                let next = self.block_with_params(&results);
                self.control.push(Frame {
                    kind: FrameKind::Loop {
                        header,
                        carried,
                        epoch,
                    },
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                    exit_reachable: false,
                });
            }
            Operator::If { blockty } => {
                let cond = self.pop()?;
                let (params, results) = self.block_types(blockty)?;
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let next = self.block_with_params(&results);
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let else_args = self.peekn(params.len())?.to_vec();
                let height = self.block_height(params.len())?;
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block,
                        else_args,
                        has_else: false,
                    },
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                    exit_reachable: false,
                });
            }
            Operator::Else => self.translate_else()?,
            Operator::End => self.translate_end()?,
            Operator::Br { relative_depth } => {
                let target = self.branch_target(relative_depth)?;
                self.jump_to(target)?;
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop()?;
                let target = self.branch_target(relative_depth)?;
                let args = self.target_args(target)?;
                let cont = self.b.create_block();
                self.b.ins().brif(cond, target.block, &args, cont, &[]);
                self.b.seal_block(cont);
                self.b.switch_to_block(cont);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop()?;
                let mut depths = Vec::with_capacity(targets.len() as usize);
                for d in targets.targets() {
                    depths.push(d.map_err(|e| CompileError(format!("{e}")))?);
                }
                self.br_table(index, &depths, targets.default())?;
                self.reachable = false;
            }
            Operator::Return => {
                let depth = self.control.len().saturating_sub(1) as u32;
                let target = self.branch_target(depth)?;
                self.jump_to(target)?;
                self.reachable = false;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The operand stack's height below a new block's `n` parameters.
    fn block_height(&self, n: usize) -> Result<usize, CompileError> {
        self.stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| CompileError("operand stack underflow at a block".into()))
    }

    /// `br_table`: targets that take operands are reached through a block per label that
    /// passes them on.
    fn br_table(&mut self, index: Value, depths: &[u32], default: u32) -> Result<(), CompileError> {
        let arity = self.branch_target(default)?.n;
        let mut blocks: HashMap<u32, Block> = HashMap::new();
        let mut jumps: Vec<(Block, Target)> = Vec::new();
        for &depth in depths.iter().chain([&default]) {
            if blocks.contains_key(&depth) {
                continue;
            }
            let target = self.branch_target(depth)?;
            if target.n != arity {
                return Err(CompileError("br_table targets of different arity".into()));
            }
            let block = if target.n == 0 && target.carried == 0 {
                target.block
            } else {
                let via = self.b.create_block();
                jumps.push((via, target));
                via
            };
            blocks.insert(depth, block);
        }
        let call = |t: &mut Self, depth: u32| {
            let block = blocks[&depth];
            t.b.func.dfg.block_call(block, &[])
        };
        let default_call = call(self, default);
        let table: Vec<_> = depths.iter().map(|&d| call(self, d)).collect();
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default_call, &table));
        self.b.ins().br_table(index, jt);
        for (via, target) in jumps {
            self.b.seal_block(via);
            self.b.switch_to_block(via);
            self.jump_to(target)?;
        }
        Ok(())
    }

    /// `else`: the then-arm falls through to `next`, the else-arm begins.
    fn translate_else(&mut self) -> Result<(), CompileError> {
        let reachable = self.reachable;
        let frame = self
            .control
            .last()
            .ok_or_else(|| CompileError("else outside a block".into()))?;
        let (next, n, height) = (frame.next, frame.num_results, frame.height);
        if reachable {
            self.jump_with(next, n)?;
        }
        let frame = self
            .control
            .last_mut()
            .ok_or_else(|| CompileError("else outside a block".into()))?;
        frame.exit_reachable |= reachable;
        let FrameKind::If {
            else_block,
            ref else_args,
            ref mut has_else,
        } = frame.kind
        else {
            return Err(CompileError("else without if".into()));
        };
        *has_else = true;
        self.stack.truncate(height);
        self.stack.extend_from_slice(else_args);
        self.b.switch_to_block(else_block);
        self.reachable = true;
        Ok(())
    }

    /// `end`: the block falls through to `next`, which continues if anything reaches it.
    fn translate_end(&mut self) -> Result<(), CompileError> {
        let frame = self
            .control
            .last()
            .ok_or_else(|| CompileError("end outside a block".into()))?;
        let (next, n) = (frame.next, frame.num_results);
        if self.reachable {
            self.jump_with(next, n)?;
        }
        let mut frame = self
            .control
            .pop()
            .ok_or_else(|| CompileError("end outside a block".into()))?;
        frame.exit_reachable |= self.reachable;
        match frame.kind {
            FrameKind::If {
                else_block,
                ref else_args,
                has_else: false,
            } => {
                // No else arm: the parameters are the results.
                self.b.switch_to_block(else_block);
                let args = block_args(else_args);
                self.b.ins().jump(next, &args);
                frame.exit_reachable = true;
            }
            FrameKind::Loop { header, epoch, .. } => {
                self.b.seal_block(header);
                self.close_loop_test(epoch);
            }
            _ => {}
        }
        self.stack.truncate(frame.height);
        self.b.seal_block(next);
        self.reachable = frame.exit_reachable;
        if self.reachable {
            self.b.switch_to_block(next);
            self.stack.extend_from_slice(self.b.block_params(next));
            if let FrameKind::Function = frame.kind {
                // The epilogue belongs to no wasm instruction.
                self.b.set_srcloc(SourceLoc::default());
                let values = self.popn(frame.num_results)?;
                self.emit_return(&values);
                self.reachable = false;
            }
        }
        Ok(())
    }
}
