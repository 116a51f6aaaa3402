//! Hotness and on-stack replacement: the code counts its own work, reports itself hot, and
//! moves a long-running activation into an OSR entry of the next tier; and an OSR entry of
//! this tier, which takes an activation of the interpreter along.
//!
//! # Counting
//!
//! Where the code counts (`CompileOptions::hotness_budget`), it spends the counter in its
//! slot (`FuncEntry::hotness`, off the slot register) at two kinds of point, two
//! instructions on the fast path each:
//!
//! ```text
//! sub dword [slot + hotness], work     ; work: the call and the function's length (at
//! jl    report                         ; most 64 operators) at entry, a loop body's (at
//!                                      ; most 1,024) at its header
//! ```
//!
//! The immediates are filled in once the code they weigh has been read. The out-of-line
//! report sets the counter back to the budget and calls the `hot` libcall with the point
//! (`NO_OSR` at entry, the `loop`'s offset at a header), this tier, and the point of the
//! outermost loop around it, which the runtime prefers to move at (see `vm`'s tier
//! manager). The runtime may set the counter lower to hear from the code sooner.
//!
//! An outermost loop's header spends the same counter with a 64-bit subtraction
//! (`sub qword [slot + hotness], work; jl report`): the high half is the slot's
//! `osr_request`, 0 unless the runtime wants the activation at the next outermost loop
//! header it passes (an OSR entry is ready there while the activation runs an inner
//! loop), when it is negative and the 64-bit difference is too, whatever the counter
//! says. With no request the two subtractions agree (a borrow out of the counter makes
//! the high half negative exactly when the 32-bit difference is), so the request costs
//! nothing on the fast path; the report of such a header sets both halves back (the
//! runtime sets the request again where it still wants one).
//!
//! # Leaving at a loop header
//!
//! At a loop header every value is in its slot (or a constant the generator knows), so the
//! state of `tierup_abi::osr` is the frame itself: when `hot` returns an OSR entry, the
//! report writes the constants into their slots, copies the locals and the operand stack
//! into cells below the stack pointer, calls the entry's register entry with their address
//! (the function's own slot and results area passed on), and returns what it returns as
//! the function's results. The moving frame stays below the entry's but belongs to no
//! wasm instruction there, so backtraces leave it out: the entry's frames stand for it,
//! as for a frame of the interpreter that moved.
//!
//! # Entering at a point
//!
//! An OSR entry of this tier ([`crate::compile_osr`]) is the whole function compiled again
//! with another prologue: it takes the state's address by the register convention, copies
//! the locals from it, and jumps to an out-of-line stub that copies the operand stack into
//! its slots (its height known once the point was read) and jumps to the point, where the
//! body's code goes on. At the point every value is in its slot (the generator spills
//! there) or is a constant the generator knows, one that is the same on every path to the
//! point (a loop's point is its header, after its parameters went to their slots), so
//! both ways into it agree.

use tierup_abi::Tier;
use tierup_abi::osr::ENTRY_PARAMS;
use tierup_abi::vmctx::NO_OSR;

use super::*;

/// What an entry spends at most for the function's length, in operators: a long function
/// is rarely run through.
const ENTRY_WORK: u32 = 64;

/// What an entry spends on top, for the call itself: the prologue and epilogue are some
/// thirty instructions, as many as a small function's body, so that a small function called
/// very often gets hot as soon as a large one called as often.
const CALL_WORK: u32 = 32;

/// What a loop header spends at most for the loop body's length, in operators: a long
/// body is rarely run through in one iteration. An interpreter's dispatch loop (a `br_table`
/// over thousands of operators, of which an iteration runs a few) otherwise reported
/// itself every few iterations, and every few iterations more while it waited for an
/// OSR entry: a million reports in QuickJS's 0.6 s `timeline.js`, 6% of the program's
/// time spent in the tier manager (`benches/README.md`).
const LOOP_WORK: u32 = 1024;

/// The out-of-line report of one counting point.
#[derive(Debug)]
pub(crate) struct Report {
    /// Where the check jumps when the counter ran out.
    stub: Label,
    /// Where the code goes on.
    back: Label,
    /// The point (`NO_OSR` at entry).
    at: u32,
    /// The point of the outermost loop around it (`at` for an outermost loop).
    outer: u32,
    /// The operand stack at the point (every entry in its slot or a constant).
    stack: Vec<Entry>,
    /// The copies of locals at the point, which the report's call clobbers: reloaded from
    /// the slots before the code goes on.
    copies: Vec<(Reg, u32)>,
}

/// The point an OSR entry enters.
#[derive(Debug)]
pub(crate) struct OsrIn {
    /// The point's module offset.
    pub at: u32,
    /// Where the prologue goes once the locals are copied.
    stub: Label,
    /// The point, and the operand stack's height there, once read.
    point: Option<(Label, u32)>,
}

/// What a point spends for `ops` operators of work.
pub(super) fn weight(ops: u32) -> i32 {
    ops.clamp(1, i32::MAX as u32) as i32
}

/// What a loop header spends for a body of `ops` operators (at most [`LOOP_WORK`]).
pub(super) fn loop_weight(ops: u32) -> i32 {
    weight(ops.min(LOOP_WORK))
}

impl<M: Masm> CodeGen<'_, M> {
    fn counter(&self) -> Addr {
        Addr::Base(self.slot_reg(), entry::ENTRY_HOTNESS as i32)
    }

    /// How much of the slot a point spends: the counter, or at an outermost loop header
    /// the counter with the OSR request above it.
    fn counter_size(at: u32, outer: u32) -> Size {
        if at != NO_OSR && outer == at {
            Size::S64
        } else {
            Size::S32
        }
    }

    /// The check at a counting point whose report finds the stack as it is now; returns
    /// the spending to fill in.
    fn count(&mut self, at: u32, outer: u32) -> Patch {
        let counter = self.counter();
        let patch = self
            .m
            .sub_mem_patchable(Self::counter_size(at, outer), counter);
        let (stub, back) = (self.m.new_label(), self.m.new_label());
        self.m.jcc(Cond::LtS, stub);
        // The report calls out, and reloads the copies before it comes back.
        self.m.bind(back);
        self.reports.push(Report {
            stub,
            back,
            at,
            outer,
            stack: self.stack.entries.clone(),
            copies: self.copies.clone(),
        });
        patch
    }

    /// The entry's spending, after the prologue.
    pub(super) fn count_entry(&mut self) {
        if self.budget.is_some() {
            self.entry_count = Some(self.count(NO_OSR, NO_OSR));
        }
    }

    /// A loop header's spending, right after its label (`at` is the `loop`'s offset).
    pub(super) fn count_loop(&mut self, at: u32) {
        if self.budget.is_none() {
            return;
        }
        let outer = self
            .frames
            .iter()
            .find_map(|f| f.count.map(|(_, _, at)| at))
            .unwrap_or(at);
        let patch = self.count(at, outer);
        let before = self.ops;
        if let Some(f) = self.frames.last_mut() {
            f.count = Some((patch, before, at));
        }
    }

    /// Copies `count` values between the frame's slots from `disp` down (8 bytes each) and
    /// the cells (16 bytes each) from the address in `cells` up, frame to cells if
    /// `to_cells`; leaves `cells` past the last cell. Clobbers the scratch registers and
    /// the last argument register.
    fn copy_cells(&mut self, cells: Gpr, disp: i32, count: u32, to_cells: bool) {
        let (value, left, at) = (M::SCRATCH, M::SCRATCH2, M::ARG_GPRS[5]);
        let one = |m: &mut M, frame: Addr, cell: Addr| {
            if to_cells {
                m.load(Size::S64, value, frame);
                m.store(8, cell, value);
            } else {
                m.load(Size::S64, value, cell);
                m.store(8, frame, value);
            }
        };
        if count <= 8 {
            for i in 0..count {
                let frame = Addr::Frame(disp - 8 * i as i32);
                one(&mut self.m, frame, Addr::Base(cells, 16 * i as i32));
            }
        } else {
            self.m.lea(at, Addr::Frame(disp));
            self.m.mov_imm(Size::S32, left, u64::from(count));
            let top = self.m.new_label();
            self.m.bind(top);
            one(&mut self.m, Addr::Base(at, 0), Addr::Base(cells, 0));
            self.m.int_op_imm(IntOp::Sub, Size::S64, at, 8);
            self.m.int_op_imm(IntOp::Add, Size::S64, cells, 16);
            self.m.int_op_imm(IntOp::Sub, Size::S32, left, 1);
            self.m.jcc(Cond::Ne, top);
            return;
        }
        if count > 0 {
            self.m
                .int_op_imm(IntOp::Add, Size::S64, cells, 16 * count as i32);
        }
    }

    /// Writes the constant entries of `stack` into their slots.
    fn constants_to_slots(&mut self, stack: &[Entry]) {
        for (depth, &e) in stack.iter().enumerate() {
            if let Entry::Const(..) = e {
                let at = self.slot(depth);
                self.store_value(e, depth, at);
            }
        }
    }

    /// Emits the out-of-line reports and the OSR entry's stub, after the body.
    pub(super) fn emit_out_of_line(&mut self) -> Result<(), CompileError> {
        if let Some(patch) = self.entry_count {
            let work = weight(self.ops.min(ENTRY_WORK) + CALL_WORK);
            self.m.patch_imm32(patch, work);
        }
        for report in std::mem::take(&mut self.reports) {
            self.emit_report(report);
        }
        self.emit_epoch_stubs();
        if let Some(osr) = self.osr.take() {
            let Some((point, height)) = osr.point else {
                return Err(CompileError(format!(
                    "no reachable OSR point at offset {}",
                    osr.at
                )));
            };
            self.wasm_map.push(SourceLoc {
                code_offset: self.m.offset(),
                wasm_offset: osr.at,
            });
            self.m.bind(osr.stub);
            // The prologue left the address of the first stack cell in the first of the
            // registers `copy_cells` walks.
            self.copy_cells(M::ARG_GPRS[4], self.slot_disp(0), height, false);
            self.m.jmp(point);
        }
        Ok(())
    }

    fn emit_report(&mut self, report: Report) {
        let budget = self.budget.unwrap_or(0).min(i32::MAX as u32) as i32;
        // No wasm instruction: a frame that moved into an OSR entry is left out of
        // backtraces, where the entry's frames stand for it.
        self.wasm_map.push(SourceLoc {
            code_offset: self.m.offset(),
            wasm_offset: SourceLoc::NONE,
        });
        self.m.bind(report.stub);
        let counter = self.counter();
        let bytes = Self::counter_size(report.at, report.outer).bytes();
        self.m.store_imm(bytes, counter, budget);
        self.m
            .mov_imm(Size::S32, M::ARG_GPRS[1], u64::from(self.func_index));
        self.m
            .mov_imm(Size::S32, M::ARG_GPRS[2], u64::from(report.at));
        self.m
            .mov_imm(Size::S32, M::ARG_GPRS[3], Tier::Baseline as u64);
        self.m
            .mov_imm(Size::S32, M::ARG_GPRS[4], u64::from(report.outer));
        self.libcall(libcall_offsets::HOT);
        if report.at == NO_OSR {
            self.reload_copies(&report.copies);
            self.m.jmp(report.back);
            return;
        }
        self.m.test(Size::S64, M::RET_GPR);
        if report.copies.is_empty() {
            self.m.jcc(Cond::Eq, report.back);
        } else {
            let osr = self.m.new_label();
            self.m.jcc(Cond::Ne, osr);
            self.reload_copies(&report.copies);
            self.m.jmp(report.back);
            self.m.bind(osr);
        }
        // Into the OSR entry whose record is in the result register.
        self.constants_to_slots(&report.stack);
        let locals = self.locals.len() as u32;
        let height = report.stack.len() as u32;
        let bytes = (16 * (locals + height)).next_multiple_of(16);
        self.m.reserve(bytes);
        let cells = M::ARG_GPRS[4];
        let state = self.m.sp_addr(0);
        self.m.lea(cells, state);
        self.copy_cells(cells, self.local_disp(0), locals, true);
        self.copy_cells(cells, self.slot_disp(0), height, true);
        let layout = regcall::locate(&ENTRY_PARAMS, self.ty.results());
        if let Some(Loc::Gpr(g)) = layout.params.first() {
            let state = self.m.sp_addr(0);
            self.m.lea(M::ARG_GPRS[*g as usize], state);
        }
        if let Some(Loc::Gpr(g)) = layout.results_area {
            let area = self.results_area_disp();
            self.m
                .load(Size::S64, M::ARG_GPRS[g as usize], Addr::Frame(area));
        }
        self.m.mov(Size::S64, M::SCRATCH2, M::RET_GPR);
        self.m.mov(Size::S64, M::ARG_GPRS[1], self.vmctx());
        self.m.mov(Size::S64, M::ARG_GPRS[0], self.slot_reg());
        self.m
            .call_mem(Addr::Base(M::SCRATCH2, entry::CODE_REGISTER_ENTRY as i32));
        // The entry's results are the function's, where its caller expects them.
        self.m.epilogue();
    }

    /// Loads the locals of `copies` from their slots into the copies' registers.
    fn reload_copies(&mut self, copies: &[(Reg, u32)]) {
        for &(r, i) in copies {
            let ty = self.locals.get(i as usize).copied().unwrap_or(ValType::I64);
            let at = self.local(i);
            match r {
                Reg::G(g) => self.m.load(Size::of(ty), g, at),
                Reg::X(x) => self.m.fload(Size::of(ty), x, at),
            }
        }
    }

    /// The prologue of an OSR entry entering at `at`: the frame, then the locals from the
    /// state whose address arrives as the one parameter, then on to the stub that copies
    /// the operand stack (`emit_out_of_line`).
    pub(super) fn osr_prologue(
        &mut self,
        at: u32,
        locals: Vec<ValType>,
    ) -> Result<(), CompileError> {
        self.frame_setup(locals);
        // The signal may have found the activation in the interpreter (`epoch.rs`).
        self.check_epoch(at);
        let layout = regcall::locate(&ENTRY_PARAMS, self.ty.results());
        self.keep_results_area(&layout);
        let Some(&Loc::Gpr(g)) = layout.params.first() else {
            return Err(CompileError(
                "the OSR state's address has no register".into(),
            ));
        };
        let cells = M::ARG_GPRS[4];
        self.m.mov(Size::S64, cells, M::ARG_GPRS[g as usize]);
        let locals = self.locals.len() as u32;
        self.copy_cells(cells, self.local_disp(0), locals, false);
        let stub = self.m.new_label();
        self.m.jmp(stub);
        self.osr = Some(OsrIn {
            at,
            stub,
            point: None,
        });
        self.open_body();
        Ok(())
    }

    /// The OSR entry's point, reached in the body: every value goes to its slot (or stays
    /// a constant), and the stub jumps here.
    pub(super) fn osr_point(&mut self) {
        self.materialize_cmp();
        self.spill_all();
        let point = self.m.new_label();
        self.bind_merge(point);
        if let Some(osr) = &mut self.osr {
            osr.point = Some((point, self.stack.len() as u32));
        }
    }
}
