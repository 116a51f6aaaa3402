//! The one environment through which the translator lowers everything instance-specific:
//! the function's context, linear memory (base, bound, checks), globals, tables, calls
//! through entry slots, libcalls, and traps. Nothing outside this file knows an offset of
//! the `VmContext` or a `FuncEntry`.
//!
//! # What is loaded how
//!
//! * Pointers that are fixed for the life of an instance (the context's arrays, the memory
//!   base, the libcall table, a global's cell, a function's slot, a type's signature id) are
//!   loaded `readonly`, `notrap` and `can_move`, so Cranelift merges repeated loads and may
//!   hoist them out of loops.
//! * Things that change while the function runs (the memory bound after `memory.grow` or a
//!   call, table elements and lengths, mutable globals, a slot's code pointer) are plain
//!   loads, each in an alias region of its own (heap, memory descriptor, tables, globals),
//!   so a store to linear memory does not force a reload of the bound and a call (which
//!   clobbers every region) does.
//! * Every access to linear memory carries the heap-out-of-bounds trap code, so each one
//!   that may fault is a trap site.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AliasRegion, AliasRegionData, Endianness, InstBuilder, MemFlagsData, SigRef, StackSlot,
    StackSlotData, StackSlotKind, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use tierup_abi::entry::offsets as entry_offsets;
use tierup_abi::vmctx::{libcall_offsets, memory_offsets, offsets, table_offsets};
use tierup_abi::{CompileError, CompileOptions, GUARD_BYTES, ModuleEnv, TrapCode};
use wasmparser::{FuncType, ValType};

use crate::isa::clif_trap;
use crate::sig::{PTR, clif_type, native_signature, register_signature, type_at};

/// A libcall of the `tierup_abi::Libcalls` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Libcall {
    MemoryGrow,
    MemoryInit,
    DataDrop,
    TableGrow,
    TableFill,
    TableCopy,
    TableInit,
    ElemDrop,
    Raise,
    /// `epoch_preserving`, called by the `preserve_all` convention.
    EpochPreserving,
}

impl Libcall {
    /// The offset of the function pointer in the table.
    fn offset(self) -> usize {
        match self {
            Libcall::MemoryGrow => libcall_offsets::MEMORY_GROW,
            Libcall::MemoryInit => libcall_offsets::MEMORY_INIT,
            Libcall::DataDrop => libcall_offsets::DATA_DROP,
            Libcall::TableGrow => libcall_offsets::TABLE_GROW,
            Libcall::TableFill => libcall_offsets::TABLE_FILL,
            Libcall::TableCopy => libcall_offsets::TABLE_COPY,
            Libcall::TableInit => libcall_offsets::TABLE_INIT,
            Libcall::ElemDrop => libcall_offsets::ELEM_DROP,
            Libcall::Raise => libcall_offsets::RAISE,
            Libcall::EpochPreserving => libcall_offsets::EPOCH_PRESERVING,
        }
    }

    /// Parameter and result types, as declared in `tierup_abi::Libcalls`.
    fn types(self) -> (&'static [ir::Type], &'static [ir::Type]) {
        use types::{I32, I64};
        match self {
            Libcall::MemoryGrow => (&[I64, I32, I32], &[I32]),
            Libcall::MemoryInit => (&[I64, I32, I32, I32, I32, I32], &[I32]),
            Libcall::DataDrop => (&[I64, I32], &[]),
            Libcall::TableGrow => (&[I64, I32, I64, I32], &[I32]),
            Libcall::TableFill => (&[I64, I32, I32, I64, I32], &[I32]),
            Libcall::TableCopy => (&[I64, I32, I32, I32, I32, I32], &[I32]),
            Libcall::TableInit => (&[I64, I32, I32, I32, I32, I32], &[I32]),
            Libcall::ElemDrop => (&[I64, I32], &[]),
            Libcall::Raise => (&[I32], &[]),
            Libcall::EpochPreserving => (&[I64], &[]),
        }
    }
}

/// The alias regions of the memory the translated code touches.
struct Regions {
    heap: AliasRegion,
    memory_def: AliasRegion,
    tables: AliasRegion,
    globals: AliasRegion,
}

/// The environment of one function being translated.
pub(crate) struct FuncEnv<'m> {
    pub module: &'m ModuleEnv,
    options: CompileOptions,
    /// The function's own context, loaded from its slot in the entry block.
    pub vmctx: Value,
    regions: Regions,
    register_sigs: HashMap<u32, SigRef>,
    libcall_sigs: HashMap<Libcall, SigRef>,
    /// The stack area that receives the results of callees with two or more results,
    /// shared by all call sites (results are loaded right after each call).
    call_results: Option<StackSlot>,
    /// The libcalls emitted so far (not the epoch check's own), so that the translator
    /// knows which loops make none (`translate/epoch.rs`).
    pub calls: u32,
}

/// An epoch check as emitted ([`FuncEnv::check_epoch`]), so that it can be taken out
/// again where it turns out not to be needed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EpochCheck {
    /// The load of the interrupt word.
    pub load: ir::Inst,
    /// The branch on it.
    pub branch: ir::Inst,
    /// Where the branch goes when the word is clear.
    pub go_on: ir::Block,
}

/// A flags value for loads of pointers fixed for the life of the instance.
fn fixed() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// A byte offset as a load/store immediate, if it fits.
fn imm(offset: u64) -> Option<i32> {
    i32::try_from(offset).ok()
}

impl<'m> FuncEnv<'m> {
    /// Sets up the environment; `slot` is the callee slot parameter of the register entry,
    /// from which the context is loaded at the builder's current position (the entry
    /// block).
    pub fn new(
        b: &mut FunctionBuilder,
        module: &'m ModuleEnv,
        options: CompileOptions,
        slot: Value,
    ) -> FuncEnv<'m> {
        let mut region = |user_id: u32, description: &'static str| {
            b.func.dfg.alias_regions.insert(AliasRegionData {
                user_id,
                description: description.into(),
            })
        };
        let regions = Regions {
            heap: region(1, "linear memory"),
            memory_def: region(2, "memory descriptor"),
            tables: region(3, "tables"),
            globals: region(4, "globals"),
        };
        let vmctx = b
            .ins()
            .load(PTR, fixed(), slot, entry_offsets::ENTRY_VMCTX as i32);
        FuncEnv {
            module,
            options,
            vmctx,
            regions,
            register_sigs: HashMap::new(),
            libcall_sigs: HashMap::new(),
            call_results: None,
            calls: 0,
        }
    }

    /// The flags of an access to linear memory: may trap (heap out of bounds), little-endian.
    pub fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_endianness(Endianness::Little)
            .with_alias_region(Some(self.regions.heap))
    }

    /// Loads a value of type `ty` at `base + offset` with `flags` (any offset).
    fn load_at(
        b: &mut FunctionBuilder,
        flags: MemFlagsData,
        ty: ir::Type,
        base: Value,
        offset: u64,
    ) -> Value {
        match imm(offset) {
            Some(off) => b.ins().load(ty, flags, base, off),
            None => {
                let addr = b.ins().iadd_imm_u(base, offset as i64);
                b.ins().load(ty, flags, addr, 0)
            }
        }
    }

    /// Loads a pointer fixed for the life of the instance from `base + offset`.
    fn fixed_load(b: &mut FunctionBuilder, ty: ir::Type, base: Value, offset: u64) -> Value {
        Self::load_at(b, fixed(), ty, base, offset)
    }

    /// A pointer field of the context.
    fn vmctx_field(&self, b: &mut FunctionBuilder, offset: usize) -> Value {
        Self::fixed_load(b, PTR, self.vmctx, offset as u64)
    }

    /// Element `index` of a fixed array of pointers at context field `field`.
    fn vmctx_array(&self, b: &mut FunctionBuilder, field: usize, index: u32) -> Value {
        let array = self.vmctx_field(b, field);
        Self::fixed_load(b, PTR, array, 8 * u64::from(index))
    }

    /// Traps with `code`: the block ends.
    pub fn trap(&self, b: &mut FunctionBuilder, code: TrapCode) {
        b.ins().trap(clif_trap(code));
    }

    /// The trap of `unreachable`, kept at the offset of the `unreachable` itself.
    ///
    /// Cranelift rewrites a branch to a block that does nothing but trap into a conditional
    /// trap at the branch, which would report the offset of the `if` or `br_if` in
    /// backtraces instead (the interpreter reports the `unreachable`). A fence, which only
    /// runs on the way to the trap, makes the block more than a trap.
    pub fn unreachable(&self, b: &mut FunctionBuilder) {
        b.ins().fence();
        self.trap(b, TrapCode::Unreachable);
    }

    /// Traps with `code` if `cond` is non-zero.
    pub fn trap_if(&self, b: &mut FunctionBuilder, cond: Value, code: TrapCode) {
        b.ins().trapnz(cond, clif_trap(code));
    }

    /// Traps with `code` if `cond` is zero.
    pub fn trap_unless(&self, b: &mut FunctionBuilder, cond: Value, code: TrapCode) {
        b.ins().trapz(cond, clif_trap(code));
    }

    // ----- linear memory -----

    /// Fails unless the module has memory `index` and it is memory 0 of 32-bit indices.
    pub fn check_memory(&self, index: u32) -> Result<(), CompileError> {
        match self.module.memories.get(index as usize) {
            Some(m) if index == 0 && !m.memory64 && !m.shared => Ok(()),
            Some(_) => Err(CompileError(format!(
                "memory {index}: only memory 0, 32-bit and unshared, is supported"
            ))),
            None => Err(CompileError(format!("unknown memory {index}"))),
        }
    }

    /// The base of memory 0.
    pub fn memory_base(&self, b: &mut FunctionBuilder) -> Value {
        self.vmctx_field(b, offsets::MEMORY_BASE)
    }

    /// The current length of memory 0 in bytes, as an `i64`.
    pub fn memory_length(&self, b: &mut FunctionBuilder) -> Value {
        let def = self.vmctx_field(b, offsets::MEMORY);
        let flags = MemFlagsData::trusted().with_alias_region(Some(self.regions.memory_def));
        b.ins()
            .load(types::I64, flags, def, memory_offsets::LENGTH as i32)
    }

    /// The address of an access of `size` bytes at `index + offset` of memory 0, checked as
    /// the options and the guard region require, as a base value and an immediate offset
    /// for the access.
    pub fn heap_address(
        &self,
        b: &mut FunctionBuilder,
        index: Value,
        offset: u64,
        size: u32,
    ) -> Result<(Value, i32), CompileError> {
        let index = b.ins().uextend(types::I64, index);
        let end = offset
            .checked_add(u64::from(size))
            .filter(|&e| e <= u64::from(u32::MAX) + 16)
            .ok_or_else(|| CompileError(format!("memory offset {offset} out of range")))?;
        if self.options.bounds_checks || end > GUARD_BYTES {
            let last = b.ins().iadd_imm_u(index, end as i64);
            let length = self.memory_length(b);
            let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, last, length);
            self.trap_if(b, oob, TrapCode::MemoryOutOfBounds);
        }
        let base = self.memory_base(b);
        let addr = b.ins().iadd(base, index);
        Ok(match imm(offset) {
            Some(off) => (addr, off),
            None => (b.ins().iadd_imm_u(addr, offset as i64), 0),
        })
    }

    /// Traps unless `at + len` (both `i64`, zero-extended from 32 bits) is within memory 0;
    /// returns `at`'s address.
    pub fn heap_range(&self, b: &mut FunctionBuilder, at: Value, len: Value) -> Value {
        let end = b.ins().iadd(at, len);
        let length = self.memory_length(b);
        let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
        self.trap_if(b, oob, TrapCode::MemoryOutOfBounds);
        let base = self.memory_base(b);
        b.ins().iadd(base, at)
    }

    // ----- globals -----

    fn global_type(&self, index: u32) -> Result<wasmparser::GlobalType, CompileError> {
        self.module
            .globals
            .get(index as usize)
            .copied()
            .ok_or_else(|| CompileError(format!("unknown global {index}")))
    }

    fn global_flags(&self, mutable: bool) -> MemFlagsData {
        let flags = MemFlagsData::trusted().with_alias_region(Some(self.regions.globals));
        if mutable {
            flags
        } else {
            flags.with_readonly().with_can_move()
        }
    }

    /// `global.get`.
    pub fn global_get(&self, b: &mut FunctionBuilder, index: u32) -> Result<Value, CompileError> {
        let ty = self.global_type(index)?;
        let cell = self.vmctx_array(b, offsets::GLOBALS, index);
        let flags = self.global_flags(ty.mutable);
        Ok(b.ins().load(clif_type(ty.content_type), flags, cell, 0))
    }

    /// `global.set`.
    pub fn global_set(
        &self,
        b: &mut FunctionBuilder,
        index: u32,
        value: Value,
    ) -> Result<(), CompileError> {
        self.global_type(index)?;
        let cell = self.vmctx_array(b, offsets::GLOBALS, index);
        b.ins().store(self.global_flags(true), value, cell, 0);
        Ok(())
    }

    // ----- tables -----

    /// The descriptor of table `index`.
    pub fn table_def(&self, b: &mut FunctionBuilder, index: u32) -> Result<Value, CompileError> {
        if index as usize >= self.module.tables.len() {
            return Err(CompileError(format!("unknown table {index}")));
        }
        Ok(self.vmctx_array(b, offsets::TABLES, index))
    }

    fn table_flags(&self) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.regions.tables))
    }

    /// The current length of a table, as an `i64`.
    pub fn table_length(&self, b: &mut FunctionBuilder, def: Value) -> Value {
        b.ins().load(
            types::I64,
            self.table_flags(),
            def,
            table_offsets::LENGTH as i32,
        )
    }

    /// The address of element `index` (an `i32`) of table `table`, trapping with `code`
    /// when it is out of bounds.
    pub fn table_element(
        &self,
        b: &mut FunctionBuilder,
        table: u32,
        index: Value,
        code: TrapCode,
    ) -> Result<Value, CompileError> {
        let def = self.table_def(b, table)?;
        let index = b.ins().uextend(types::I64, index);
        let length = self.table_length(b, def);
        let oob = b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.trap_if(b, oob, code);
        let elements = b
            .ins()
            .load(PTR, self.table_flags(), def, table_offsets::ELEMENTS as i32);
        let scaled = b.ins().ishl_imm_u(index, 3);
        Ok(b.ins().iadd(elements, scaled))
    }

    /// Loads the element at `addr` (from [`FuncEnv::table_element`]).
    pub fn table_load(&self, b: &mut FunctionBuilder, addr: Value) -> Value {
        b.ins().load(PTR, self.table_flags(), addr, 0)
    }

    /// Stores `value` into the element at `addr`.
    pub fn table_store(&self, b: &mut FunctionBuilder, addr: Value, value: Value) {
        b.ins().store(self.table_flags(), value, addr, 0);
    }

    // ----- functions and calls -----

    /// The slot of function `index` (also its `funcref`).
    pub fn func_slot(&self, b: &mut FunctionBuilder, index: u32) -> Result<Value, CompileError> {
        if index as usize >= self.module.funcs.len() {
            return Err(CompileError(format!("unknown function {index}")));
        }
        match index.checked_sub(self.module.num_imported_funcs) {
            // A defined function's slot lies in the instance's own array: no load of it.
            Some(defined) => {
                let slots = self.vmctx_field(b, offsets::DEFINED_FUNCS);
                let offset = i64::from(defined) * entry_offsets::ENTRY_SIZE as i64;
                Ok(b.ins().iadd_imm_s(slots, offset))
            }
            None => Ok(self.vmctx_array(b, offsets::FUNC_REFS, index)),
        }
    }

    /// The canonical signature id of type `index`, as an `i32`.
    pub fn type_id(&self, b: &mut FunctionBuilder, index: u32) -> Result<Value, CompileError> {
        type_at(self.module, index)?;
        let ids = self.vmctx_field(b, offsets::TYPE_IDS);
        Ok(Self::fixed_load(b, types::I32, ids, 4 * u64::from(index)))
    }

    /// Counts a call in the function's slot (`FuncEntry::calls`): a plain
    /// read-modify-write, as the field allows.
    pub fn count_call(b: &mut FunctionBuilder, slot: Value) {
        let flags = MemFlagsData::trusted();
        let offset = entry_offsets::ENTRY_CALLS as i32;
        let calls = b.ins().load(types::I64, flags, slot, offset);
        let calls = b.ins().iadd_imm_u(calls, 1);
        b.ins().store(flags, calls, slot, offset);
    }

    /// The epoch check of a function entry or loop header, where the options ask for it
    /// (`CompileOptions::epoch_interruption`): a test of the context's interrupt word, and
    /// in a cold block, when it is set, a call of `epoch_preserving` (which raises the
    /// trap itself) by the `preserve_all` convention: the call clobbers no register, so a
    /// loop's values stay where they are across it, and nothing of it is hoisted out of a
    /// loop (what a loop holds in a register for the check it takes from its own values:
    /// the callee's address, held across a loop, took a callee-saved register from every
    /// one). The cold call, inside every loop that checks, keeps alias analysis from
    /// reusing an earlier load of the word. Returns the check, if one was emitted.
    pub fn check_epoch(&mut self, b: &mut FunctionBuilder) -> Option<EpochCheck> {
        if !self.options.epoch_interruption {
            return None;
        }
        let interrupt = b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.vmctx,
            offsets::INTERRUPT as i32,
        );
        let load = b.func.dfg.value_def(interrupt).unwrap_inst();
        let call = b.create_block();
        let go_on = b.create_block();
        let branch = b.ins().brif(interrupt, call, &[], go_on, &[]);
        b.seal_block(call);
        b.set_cold_block(call);
        b.switch_to_block(call);
        // Loaded here, not hoisted: held across the loop, the callee's address took a
        // register from every loop (a callee-saved one, saved in the prologue).
        let stay = MemFlagsData::trusted().with_readonly();
        let table = b
            .ins()
            .load(PTR, stay, self.vmctx, offsets::LIBCALLS as i32);
        let callee = b
            .ins()
            .load(PTR, stay, table, libcall_offsets::EPOCH_PRESERVING as i32);
        let sig = self.libcall_sig(b, Libcall::EpochPreserving);
        let vmctx = self.vmctx;
        b.ins().call_indirect(sig, callee, &[vmctx]);
        b.ins().jump(go_on, &[]);
        b.seal_block(go_on);
        b.switch_to_block(go_on);
        Some(EpochCheck {
            load,
            branch,
            go_on,
        })
    }

    /// The signature id in a slot, as an `i32`.
    pub fn slot_type_id(&self, b: &mut FunctionBuilder, slot: Value) -> Value {
        // A slot's signature never changes.
        let flags = MemFlagsData::trusted().with_readonly();
        b.ins()
            .load(types::I32, flags, slot, entry_offsets::ENTRY_TYPE_ID as i32)
    }

    fn register_sig(
        &mut self,
        b: &mut FunctionBuilder,
        type_index: u32,
    ) -> Result<(SigRef, &'m FuncType), CompileError> {
        let ty = type_at(self.module, type_index)?;
        let sig = *self
            .register_sigs
            .entry(type_index)
            .or_insert_with(|| b.import_signature(register_signature(ty.params(), ty.results())));
        Ok((sig, ty))
    }

    /// Calls the function in `slot`, of type `type_index`, through its register entry.
    pub fn call_slot(
        &mut self,
        b: &mut FunctionBuilder,
        slot: Value,
        type_index: u32,
        args: &[Value],
    ) -> Result<Vec<Value>, CompileError> {
        let (sig, ty) = self.register_sig(b, type_index)?;
        if ty.params().len() != args.len() {
            return Err(CompileError(format!(
                "call of type {type_index} with {} arguments",
                args.len()
            )));
        }
        // The register entry is published by other threads: a fresh load at every call,
        // straight from the slot (see `tierup_abi::entry`, invariant 3).
        let entry = b.ins().load(
            PTR,
            MemFlagsData::trusted(),
            slot,
            entry_offsets::ENTRY_REGISTER_ENTRY as i32,
        );
        let results = ty.results();
        let area = if results.len() > 1 {
            let slot = self.call_results_area(b, results.len());
            Some(slot)
        } else {
            None
        };
        let mut call_args = Vec::with_capacity(args.len() + 3);
        call_args.push(slot);
        call_args.push(self.vmctx);
        if let Some(area) = area {
            call_args.push(b.ins().stack_addr(PTR, area, 0));
        }
        call_args.extend_from_slice(args);
        let call = b.ins().call_indirect(sig, entry, &call_args);
        Ok(match area {
            None => b.inst_results(call).to_vec(),
            Some(area) => results
                .iter()
                .enumerate()
                .map(|(i, &t)| b.ins().stack_load(PTR, clif_type(t), area, (16 * i) as i32))
                .collect(),
        })
    }

    /// The shared results area, grown to hold `n` cells.
    fn call_results_area(&mut self, b: &mut FunctionBuilder, n: usize) -> StackSlot {
        let size = (16 * n) as u32;
        match self.call_results {
            Some(slot) => {
                let data = &mut b.func.sized_stack_slots[slot];
                data.size = data.size.max(size);
                slot
            }
            None => {
                let slot = b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    size,
                    4,
                ));
                self.call_results = Some(slot);
                slot
            }
        }
    }

    // ----- libcalls -----

    /// The signature of a libcall, imported once per function.
    fn libcall_sig(&mut self, b: &mut FunctionBuilder, call: Libcall) -> SigRef {
        *self.libcall_sigs.entry(call).or_insert_with(|| {
            let (params, results) = call.types();
            let mut sig = native_signature(params, results);
            if call == Libcall::EpochPreserving {
                sig.call_conv = CallConv::PreserveAll;
            }
            b.import_signature(sig)
        })
    }

    /// Calls a libcall; returns its result, if it has one.
    pub fn libcall(
        &mut self,
        b: &mut FunctionBuilder,
        call: Libcall,
        args: &[Value],
    ) -> Option<Value> {
        let sig = self.libcall_sig(b, call);
        let table = self.vmctx_field(b, offsets::LIBCALLS);
        let func = Self::fixed_load(b, PTR, table, call.offset() as u64);
        self.calls += 1;
        let inst = b.ins().call_indirect(sig, func, args);
        b.inst_results(inst).first().copied()
    }

    /// Calls a status-returning libcall with the context as its first argument, and raises
    /// the trap of a non-zero status.
    pub fn libcall_checked(
        &mut self,
        b: &mut FunctionBuilder,
        call: Libcall,
        args: &[Value],
    ) -> Result<(), CompileError> {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        let status = self
            .libcall(b, call, &all)
            .ok_or_else(|| CompileError(format!("libcall {call:?} returns no status")))?;
        self.raise_if_failed(b, status);
        Ok(())
    }

    /// Calls the libcall with the context as its first argument; returns its result.
    pub fn libcall_vm(
        &mut self,
        b: &mut FunctionBuilder,
        call: Libcall,
        args: &[Value],
    ) -> Option<Value> {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        self.libcall(b, call, &all)
    }

    /// If `status` is non-zero, raises it (a cold block that never returns); continues in a
    /// new block otherwise.
    pub fn raise_if_failed(&mut self, b: &mut FunctionBuilder, status: Value) {
        let failed = b.create_block();
        let ok = b.create_block();
        b.ins().brif(status, failed, &[], ok, &[]);
        b.seal_block(failed);
        b.seal_block(ok);
        b.set_cold_block(failed);
        b.switch_to_block(failed);
        self.libcall(b, Libcall::Raise, &[status]);
        // `raise` never returns.
        self.trap(b, TrapCode::Unreachable);
        b.switch_to_block(ok);
    }

    /// The zero value of a wasm type.
    pub fn zero(b: &mut FunctionBuilder, ty: ValType) -> Value {
        match ty {
            ValType::I32 => b.ins().iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => b.ins().iconst(types::I64, 0),
            ValType::F32 => b.ins().f32const(0.0),
            ValType::F64 => b.ins().f64const(0.0),
            ValType::V128 => {
                let c = b.func.dfg.constants.insert(vec![0u8; 16].into());
                b.ins().vconst(types::I8X16, c)
            }
        }
    }
}
