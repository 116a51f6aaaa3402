//! The host ISA with this tier's flags, and the step from a finished CLIF function to the
//! pieces of a [`MachineCode`]: bytes, trap sites in our [`TrapCode`]s, relocations in the
//! contract's terms, the wasm offset map and the frame size.

use std::cell::RefCell;

use cranelift_codegen::binemit::Reloc as ClifReloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName, LibCall};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::print_errors::pretty_error;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use tierup_abi::{
    CompileError, Libm, MachineCode, Reloc, RelocKind, RelocTarget, SourceLoc, TrapCode, TrapSite,
};

/// The host ISA, detected by `cranelift_native`, with the flags described in the crate docs,
/// the optimization level `opt_level` (`speed` or `none`) and the register allocator
/// `regalloc` (`backtracking` or `single_pass`).
pub(crate) fn host_isa(opt_level: &str, regalloc: &str) -> Result<OwnedTargetIsa, CompileError> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| CompileError(format!("cranelift setting {name}={value}: {e}")))
    };
    set(&mut flags, "opt_level", opt_level)?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "unwind_info", "false")?;
    set(&mut flags, "enable_probestack", "false")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    set(&mut flags, "enable_nan_canonicalization", "false")?;
    set(&mut flags, "regalloc_algorithm", regalloc)?;
    let builder = cranelift_native::builder()
        .map_err(|e| CompileError(format!("no Cranelift backend for this host: {e}")))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CompileError(format!("cranelift ISA: {e}")))
}

/// The Cranelift trap code of one of our traps. Cranelift's own codes stand for the traps
/// its instructions raise by themselves; the rest are user codes numbered by our status.
pub(crate) const fn clif_trap(code: TrapCode) -> ir::TrapCode {
    match code {
        TrapCode::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapCode::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        TrapCode::IntegerDivideByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapCode::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        TrapCode::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        other => ir::TrapCode::unwrap_user(other.status() as u8),
    }
}

/// The inverse of [`clif_trap`].
fn our_trap(code: ir::TrapCode) -> Option<TrapCode> {
    Some(match code {
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => TrapCode::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivideByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapCode::BadConversionToInteger,
        ir::TrapCode::STACK_OVERFLOW => TrapCode::StackOverflow,
        other => TrapCode::from_status(u32::from(other.as_raw().get()))?,
    })
}

/// The rounding function a Cranelift libcall stands for.
fn libm(call: LibCall) -> Option<Libm> {
    Some(match call {
        LibCall::FloorF32 => Libm::FloorF32,
        LibCall::FloorF64 => Libm::FloorF64,
        LibCall::CeilF32 => Libm::CeilF32,
        LibCall::CeilF64 => Libm::CeilF64,
        LibCall::TruncF32 => Libm::TruncF32,
        LibCall::TruncF64 => Libm::TruncF64,
        LibCall::NearestF32 => Libm::NearestF32,
        LibCall::NearestF64 => Libm::NearestF64,
        _ => return None,
    })
}

/// One compiled CLIF function, in the contract's terms, offsets relative to its start.
#[derive(Clone)]
pub(crate) struct Emitted {
    pub bytes: Vec<u8>,
    pub align: u32,
    pub traps: Vec<TrapSite>,
    pub relocs: Vec<Reloc>,
    /// `(start, end, wasm offset or NONE)` of every range Cranelift attributed to a source
    /// location, sorted by start.
    pub srclocs: Vec<(u32, u32, u32)>,
    pub frame_size: u32,
    /// The offset from which the frame-pointer chain holds this function's frame (see
    /// [`frame_ready`]).
    pub frame_ready: Option<u32>,
}

thread_local! {
    /// Each thread's Cranelift context, reused from one compilation to the next so that
    /// its many buffers are allocated once per thread rather than once per function.
    static CONTEXT: RefCell<Context> = RefCell::new(Context::new());
}

/// Compiles `func` for `isa`.
pub(crate) fn emit(isa: &dyn TargetIsa, func: ir::Function) -> Result<Emitted, CompileError> {
    CONTEXT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut ctx) => {
            ctx.clear();
            ctx.func = func;
            emit_in(&mut ctx, isa)
        }
        // Not reached (a compilation never starts another on its thread), but a fresh
        // context is always correct.
        Err(_) => emit_in(&mut Context::for_function(func), isa),
    })
}

/// Compiles the function in `ctx` for `isa`.
fn emit_in(ctx: &mut Context, isa: &dyn TargetIsa) -> Result<Emitted, CompileError> {
    let code = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError(format!("cranelift: {}", pretty_error(e.func, e.inner))))?;
    let buffer = &code.buffer;
    let mut traps = Vec::with_capacity(buffer.traps().len());
    for t in buffer.traps() {
        let code = our_trap(t.code)
            .ok_or_else(|| CompileError(format!("unexpected trap code {}", t.code)))?;
        traps.push(TrapSite {
            offset: t.offset,
            code,
        });
    }
    let mut relocs = Vec::with_capacity(buffer.relocs().len());
    for r in buffer.relocs() {
        let kind = match r.kind {
            ClifReloc::Abs8 => RelocKind::Abs8,
            ClifReloc::X86PCRel4 | ClifReloc::X86CallPCRel4 => RelocKind::PcRel4,
            other => {
                return Err(CompileError(format!(
                    "unsupported relocation kind {other} at {}",
                    r.offset
                )));
            }
        };
        let target = match &r.target {
            FinalizedRelocTarget::ExternalName(ExternalName::LibCall(call)) => libm(*call)
                .map(RelocTarget::Libm)
                .ok_or_else(|| CompileError(format!("unsupported libcall {call}")))?,
            other => {
                return Err(CompileError(format!(
                    "unsupported relocation target {}",
                    other.display(None)
                )));
            }
        };
        relocs.push(Reloc {
            offset: r.offset,
            kind,
            target,
            addend: r.addend,
        });
    }
    let srclocs = buffer
        .get_srclocs_sorted()
        .iter()
        .map(|s| {
            let wasm = if s.loc.is_default() {
                SourceLoc::NONE
            } else {
                s.loc.bits()
            };
            (s.start, s.end, wasm)
        })
        .collect();
    Ok(Emitted {
        frame_ready: frame_ready(buffer.data()),
        bytes: buffer.data().to_vec(),
        align: buffer.alignment.max(isa.function_alignment().preferred),
        traps,
        relocs,
        srclocs,
        frame_size: buffer.frame_layout().map_or(0, |l| l.frame_to_fp_offset),
    })
}

/// The start of the code after the frame pointer is set up, where the code begins with the
/// prologue Cranelift emits with `preserve_frame_pointers` (`push rbp; mov rbp, rsp`); the
/// code is checked rather than trusted, so that another prologue makes the function
/// unpreemptible instead of wrongly so.
fn frame_ready(code: &[u8]) -> Option<u32> {
    const PROLOGUE: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];
    code.starts_with(&PROLOGUE).then_some(PROLOGUE.len() as u32)
}

/// Appends `code` to `out` at `code`'s alignment, shifting its tables; returns its offset.
fn append(out: &mut MachineCode, code: Emitted) -> Result<u32, CompileError> {
    let align = code.align.max(1) as usize;
    let at = out.bytes.len().next_multiple_of(align);
    let at32 = u32::try_from(at).map_err(|_| CompileError("code too large".into()))?;
    // Padding belongs to no instruction.
    push_loc(
        &mut out.wasm_map,
        at32.min(out.bytes.len() as u32),
        SourceLoc::NONE,
    );
    out.bytes.resize(at, 0xcc);
    out.bytes.extend_from_slice(&code.bytes);
    out.align = out.align.max(code.align);
    out.traps.extend(code.traps.into_iter().map(|t| TrapSite {
        offset: t.offset + at32,
        ..t
    }));
    out.relocs.extend(code.relocs.into_iter().map(|r| Reloc {
        offset: r.offset + at32,
        ..r
    }));
    let mut pos = 0;
    push_loc(&mut out.wasm_map, at32, SourceLoc::NONE);
    for (start, end, wasm) in code.srclocs {
        if start > pos {
            push_loc(&mut out.wasm_map, at32 + pos, SourceLoc::NONE);
        }
        push_loc(&mut out.wasm_map, at32 + start, wasm);
        pos = end;
    }
    push_loc(&mut out.wasm_map, at32 + pos, SourceLoc::NONE);
    Ok(at32)
}

/// Adds the start of a range to a wasm offset map, keeping it sorted and minimal.
fn push_loc(map: &mut Vec<SourceLoc>, code_offset: u32, wasm_offset: u32) {
    if let Some(last) = map.last_mut() {
        if last.code_offset == code_offset {
            last.wasm_offset = wasm_offset;
            // The range before it may now say the same.
            let n = map.len();
            if n >= 2 && map[n - 2].wasm_offset == wasm_offset {
                map.pop();
            }
            return;
        }
        if last.wasm_offset == wasm_offset {
            return;
        }
    }
    map.push(SourceLoc {
        code_offset,
        wasm_offset,
    });
}

/// The machine code of a register entry followed, if given, by an array shim.
pub(crate) fn link(entry: Emitted, shim: Option<Emitted>) -> Result<MachineCode, CompileError> {
    let frame_size = entry.frame_size;
    let (frame_ready, len) = (entry.frame_ready, entry.bytes.len() as u32);
    let mut out = MachineCode {
        align: 1,
        ..MachineCode::default()
    };
    out.register_entry = append(&mut out, entry)?;
    if let Some(ready) = frame_ready {
        out.preemptible = out.register_entry + ready..out.register_entry + len;
    }
    if let Some(shim) = shim {
        out.array_shim = Some(append(&mut out, shim)?);
    }
    let end = out.bytes.len() as u32;
    push_loc(&mut out.wasm_map, end, SourceLoc::NONE);
    out.traps.sort_by_key(|t| t.offset);
    out.frame_size = frame_size;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_codes_round_trip() {
        for s in 1..=13 {
            let code = TrapCode::from_status(s).unwrap();
            assert_eq!(our_trap(clif_trap(code)), Some(code));
        }
    }

    #[test]
    fn wasm_maps_are_minimal_and_sorted() {
        let code = Emitted {
            bytes: vec![0x90; 40],
            align: 16,
            traps: vec![],
            relocs: vec![],
            srclocs: vec![(4, 10, 7), (10, 12, 7), (12, 20, 9), (24, 30, 11)],
            frame_size: 0,
            frame_ready: None,
        };
        let shim = Emitted {
            bytes: vec![0x90; 8],
            align: 16,
            traps: vec![],
            relocs: vec![],
            srclocs: vec![],
            frame_size: 0,
            frame_ready: None,
        };
        let m = link(code, Some(shim)).unwrap();
        assert_eq!(m.array_shim, Some(48));
        let pairs: Vec<_> = m
            .wasm_map
            .iter()
            .map(|l| (l.code_offset, l.wasm_offset))
            .collect();
        let n = SourceLoc::NONE;
        assert_eq!(pairs, [(0, n), (4, 7), (12, 9), (20, n), (24, 11), (30, n)]);
        assert_eq!(m.wasm_offset(5), Some(7));
        assert_eq!(m.wasm_offset(21), None);
        assert_eq!(m.wasm_offset(50), None);
    }
}
