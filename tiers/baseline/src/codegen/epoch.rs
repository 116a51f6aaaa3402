//! Epoch checks (`CompileOptions::epoch_interruption`).
//!
//! This tier's code is [`MachineCode::preemptible`](tierup_abi::MachineCode::preemptible)
//! from the end of its prologue (the frame made, the stack checked, the pinned registers
//! set) to the end of its out-of-line code: it keeps nothing below its stack pointer, and
//! `rbp` is its frame pointer throughout. So the runtime stops it by a signal, and the
//! code tests its context's interrupt word (`VmContext::interrupt`, which the runtime sets
//! when the epoch reaches the store's deadline) only where the signal may have found the
//! thread outside such code:
//!
//! * where a libcall returns (`memory.grow`, the table and segment instructions): the
//!   signal found the thread in the runtime, which does nothing with it;
//! * at an OSR entry's prologue: the signal found the thread in the interpreter before
//!   OSR moved it here.
//!
//! Anywhere else the signal finds the code itself, or the runtime sends it again (see the
//! abi crate docs' refinement on interruption). A test at each entry and loop header,
//! as this tier made before, cost up to 13.5% of the instructions of a benchmark program
//! (`benches/README.md`, "Epoch interruption").
//!
//! A test is one compare with memory and a branch off the context register:
//!
//! ```text
//! cmp  qword [vmctx + interrupt], 0
//! jne  stub
//! ```
//!
//! Its stub calls `epoch_preserving`, which keeps every register (a libcall's result, an
//! OSR entry's state address) and raises a trap itself, with the context in the first
//! argument register, whose value (the slot at an OSR entry; nothing after a libcall,
//! which clobbers it) it then takes back from the slot register. A trap there belongs to
//! the point's wasm instruction (the libcall's, or the OSR entry's point), so the frame
//! shows in backtraces.

use super::*;

/// The out-of-line part of one epoch check.
#[derive(Debug)]
pub(crate) struct EpochStub {
    /// Where the check jumps when the deadline has passed.
    stub: Label,
    /// Where the code goes on.
    back: Label,
    /// The wasm instruction the check belongs to.
    at: u32,
}

impl<M: Masm> CodeGen<'_, M> {
    /// An epoch check here, where the options ask for one, belonging to the wasm
    /// instruction at module offset `at`: after a libcall, or in an OSR entry's prologue.
    /// Every register keeps its value across it.
    pub(super) fn check_epoch(&mut self, at: u32) {
        if !self.epoch_checks {
            return;
        }
        self.m
            .cmp_mem_imm(Size::S64, Addr::Base(self.vmctx(), vm::INTERRUPT as i32), 0);
        let (stub, back) = (self.m.new_label(), self.m.new_label());
        self.m.jcc(Cond::Ne, stub);
        self.m.bind(back);
        self.epoch_stubs.push(EpochStub { stub, back, at });
    }

    /// The epoch check after a libcall of the current instruction.
    pub(super) fn check_epoch_after_libcall(&mut self) {
        let at = self
            .wasm_map
            .last()
            .map_or(SourceLoc::NONE, |l| l.wasm_offset);
        self.check_epoch(at);
    }

    /// Emits the stubs of the epoch checks, after the body.
    pub(super) fn emit_epoch_stubs(&mut self) {
        for s in std::mem::take(&mut self.epoch_stubs) {
            self.wasm_map.push(SourceLoc {
                code_offset: self.m.offset(),
                wasm_offset: s.at,
            });
            self.m.bind(s.stub);
            self.m.mov(Size::S64, M::ARG_GPRS[0], self.vmctx());
            self.m.load(
                Size::S64,
                M::SCRATCH,
                Addr::Base(self.vmctx(), vm::LIBCALLS as i32),
            );
            self.m.call_mem(Addr::Base(
                M::SCRATCH,
                libcall_offsets::EPOCH_PRESERVING as i32,
            ));
            self.m.mov(Size::S64, M::ARG_GPRS[0], self.slot_reg());
            self.m.jmp(s.back);
        }
    }
}
