//! The adapter of a signature: a register entry (`tierup_abi::regcall`) for functions
//! that only have an array entry (interpreted and host functions), the reverse of the
//! array shim. It checks the stack limit from its callee slot as compiled functions do,
//! stores its parameters into cells on its stack, calls the array entry of the record
//! its callee slot holds, raises a failed status through the caller's libcall table, and
//! returns the results from the cells by the register convention. One pass, no
//! allocation of registers: microseconds, where the optimizing tier takes a fraction of
//! a millisecond per signature (adapters are made on first use, on the program's
//! thread).

use tierup_abi::regcall::{self, Loc};
use tierup_abi::vmctx::{libcall_offsets, limits_offsets, offsets as vm};
use tierup_abi::{CompileError, MachineCode, SourceLoc, TrapCode, TrapSite, entry};
use wasmparser::ValType;

use crate::masm::{Addr, Cond, Masm, PinnedSet, Size, Xmm};

/// The adapter for functions of type `params -> results` (no `v128`: the optimizing tier
/// makes those).
pub(crate) fn build<M: Masm>(
    mut m: M,
    params: &[ValType],
    results: &[ValType],
) -> Result<MachineCode, CompileError> {
    if params.iter().chain(results).any(|&t| t == ValType::V128) {
        return Err(CompileError("the baseline tier has no v128 values".into()));
    }
    let [callee, caller, ..] = M::ARG_GPRS;
    let layout = regcall::locate(params, results);
    let mut traps = Vec::new();
    // Two callee-saved registers keep the caller's context (for `raise`) and the results
    // area across the call.
    let (caller_kept, area_kept) = m.shim_prologue();
    m.load(
        Size::S64,
        M::SCRATCH,
        Addr::Base(callee, entry::offsets::ENTRY_LIMITS as i32),
    );
    m.stack_check(M::SCRATCH, limits_offsets::STACK_LIMIT as i32, &mut traps);
    let cells = params.len().max(results.len()).max(1) as u32;
    let cells_bytes = (16 * cells).next_multiple_of(16);
    m.reserve(cells_bytes);
    let cell = |m: &M, i: usize| m.sp_addr(16 * i as i32);
    for (i, (&ty, loc)) in params.iter().zip(&layout.params).enumerate() {
        let at = cell(&m, i);
        match *loc {
            // An i32's register has an undefined upper half: its cell gets 4 bytes.
            Loc::Gpr(g) => m.store(Size::of(ty).bytes(), at, M::ARG_GPRS[g as usize]),
            Loc::Xmm(x) => m.fstore(Size::of(ty), at, Xmm(x)),
            Loc::Stack(off) => {
                // Above the return address and the saved frame pointer.
                m.load(Size::S64, M::SCRATCH, Addr::Frame(16 + off as i32));
                m.store(8, at, M::SCRATCH);
            }
            _ => return Err(CompileError("a parameter without a place".into())),
        }
    }
    m.mov(Size::S64, caller_kept, caller);
    if let Some(Loc::Gpr(g)) = layout.results_area {
        m.mov(Size::S64, area_kept, M::ARG_GPRS[g as usize]);
    }
    // (callee, code, caller, cells): the callee slot is still in its register.
    let [_, code, caller_arg, cells_arg, ..] = M::ARG_GPRS;
    m.load(
        Size::S64,
        code,
        Addr::Base(callee, entry::offsets::ENTRY_CODE as i32),
    );
    m.mov(Size::S64, caller_arg, caller_kept);
    let at = cell(&m, 0);
    m.lea(cells_arg, at);
    m.call_mem(Addr::Base(code, entry::offsets::CODE_ARRAY_ENTRY as i32));
    let failed = m.new_label();
    m.test(Size::S32, M::RET_GPR);
    m.jcc(Cond::Ne, failed);
    for (i, (&ty, loc)) in results.iter().zip(&layout.results).enumerate() {
        let at = cell(&m, i);
        match *loc {
            Loc::Rax => m.load(Size::of(ty), M::RET_GPR, at),
            Loc::Xmm0 => m.fload(Size::of(ty), M::RET_XMM, at),
            Loc::Area(off) => {
                m.load(Size::S64, M::SCRATCH, at);
                m.store(8, Addr::Base(area_kept, off as i32), M::SCRATCH);
            }
            _ => return Err(CompileError("a result without a place".into())),
        }
    }
    m.release(cells_bytes);
    m.shim_epilogue();
    // The callee failed: its trap is recorded; `raise` unwinds to the activation.
    m.bind(failed);
    m.mov(Size::S32, M::ARG_GPRS[0], M::RET_GPR);
    m.load(
        Size::S64,
        M::SCRATCH,
        Addr::Base(caller_kept, vm::LIBCALLS as i32),
    );
    m.call_mem(Addr::Base(M::SCRATCH, libcall_offsets::RAISE as i32));
    m.trap(TrapCode::Unreachable, &mut traps);
    let bytes = m.finish(0, PinnedSet::ALL).map_err(CompileError)?;
    Ok(MachineCode {
        bytes,
        align: 16,
        register_entry: 0,
        array_shim: None,
        traps: traps
            .into_iter()
            .map(|(offset, code)| TrapSite { offset, code })
            .collect(),
        relocs: Vec::new(),
        wasm_map: vec![SourceLoc {
            code_offset: 0,
            wasm_offset: SourceLoc::NONE,
        }],
        frame_size: (16 + 16 + cells_bytes).next_multiple_of(16),
        preemptible: 0..0,
    })
}
