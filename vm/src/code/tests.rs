//! The machine-code runtime with hand-assembled code: executable memory is never writable
//! and executable at once, and faults and `raise` in registered code come back as traps
//! with their frames, through the real signal handler and trampoline.

use tierup_abi::trap;
use tierup_abi::{FrameOwner, FuncCode, FuncEntry, MachineCode, SourceLoc, Tier, TrapCode};
use tierup_abi::{TrapSite, ValRaw};

use super::{CodeMemory, CodeOwner, jit_entry};

/// Loads `bytes` as the array shim of function 7 (every byte belongs to wasm offset 100)
/// with trap sites `traps`, and calls it through the trampoline.
fn run(bytes: Vec<u8>, traps: &[(u32, TrapCode)]) -> (u32, trap::TrapRecord, CodeMemory) {
    super::install_signal_handlers();
    let memory = CodeMemory::new(1 << 16);
    let code = MachineCode {
        bytes,
        align: 16,
        register_entry: 0,
        array_shim: Some(0),
        traps: traps
            .iter()
            .map(|&(offset, code)| TrapSite { offset, code })
            .collect(),
        relocs: Vec::new(),
        wasm_map: vec![SourceLoc {
            code_offset: 0,
            wasm_offset: 100,
        }],
        frame_size: 0,
        preemptible: 0..0,
    };
    let owner = CodeOwner::Func {
        module: core::ptr::null(),
        func_index: 7,
        tier: Tier::Optimizing,
    };
    let base = memory.load(&code, owner).unwrap();
    let record = FuncCode {
        array_entry: jit_entry,
        register_entry: base.cast(),
        data: base.cast(),
        tier: Tier::Optimizing,
        variant: 0,
    };
    // SAFETY: the record is alive for the whole call.
    let slot =
        unsafe { FuncEntry::new(&record, core::ptr::null_mut(), core::ptr::null(), 0, 7, 0) };
    let mut cells = [ValRaw::ZERO; 1];
    // SAFETY: the record's shim is the code just loaded, which follows the array
    // convention or traps.
    let status = unsafe { FuncEntry::call(&slot, core::ptr::null_mut(), cells.as_mut_ptr()) };
    let rec = trap::take(status);
    (status, rec, memory)
}

fn frame_of(rec: &trap::TrapRecord) -> Vec<(u32, u32)> {
    rec.frames
        .iter()
        .map(|f| {
            assert_eq!(f.owner, FrameOwner::Module(core::ptr::null()));
            (f.func_index, f.code_offset)
        })
        .collect()
}

#[test]
fn normal_return_is_status_zero() {
    // xor eax, eax; ret
    let (status, rec, _m) = run(vec![0x31, 0xc0, 0xc3], &[]);
    assert_eq!(status, 0);
    assert!(rec.frames.is_empty());
}

#[test]
fn illegal_instruction_at_a_trap_site_is_that_trap() {
    // ud2
    let (status, rec, _m) = run(vec![0x0f, 0x0b], &[(0, TrapCode::Unreachable)]);
    assert_eq!(status, TrapCode::Unreachable.status());
    assert_eq!(rec.code, Some(TrapCode::Unreachable));
    assert_eq!(frame_of(&rec), [(7, 100)]);
}

#[test]
fn memory_fault_at_a_trap_site_is_that_trap() {
    // xor eax, eax; mov eax, [rax]
    let (status, rec, _m) = run(
        vec![0x31, 0xc0, 0x8b, 0x00, 0xc3],
        &[(2, TrapCode::MemoryOutOfBounds)],
    );
    assert_eq!(status, TrapCode::MemoryOutOfBounds.status());
    assert_eq!(frame_of(&rec), [(7, 100)]);
}

#[test]
fn division_fault_at_a_trap_site_is_that_trap() {
    // xor ecx, ecx; xor edx, edx; mov eax, 1; div ecx
    let (status, _, _m) = run(
        vec![
            0x31, 0xc9, 0x31, 0xd2, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf7, 0xf1, 0xc3,
        ],
        &[(9, TrapCode::IntegerDivideByZero)],
    );
    assert_eq!(status, TrapCode::IntegerDivideByZero.status());
}

#[test]
fn raise_unwinds_with_the_recorded_trap() {
    trap::record(TrapCode::TableOutOfBounds);
    let raise = super::RAISE as *const () as u64;
    // sub rsp, 8; mov rax, raise; mov edi, 6; call rax; ud2
    let mut bytes = vec![0x48, 0x83, 0xec, 0x08, 0x48, 0xb8];
    bytes.extend_from_slice(&raise.to_le_bytes());
    bytes.extend_from_slice(&[0xbf, 0x06, 0x00, 0x00, 0x00, 0xff, 0xd0, 0x0f, 0x0b]);
    let (status, rec, _m) = run(bytes, &[]);
    assert_eq!(status, TrapCode::TableOutOfBounds.status());
    assert_eq!(rec.code, Some(TrapCode::TableOutOfBounds));
    assert_eq!(frame_of(&rec), [(7, 100)], "the caller of raise is a frame");
}

#[test]
fn code_pages_are_never_writable_and_executable() {
    let (_, _, memory) = run(vec![0x31, 0xc0, 0xc3], &[]);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let wx: Vec<&str> = maps
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.contains('w') && p.contains('x'))
        })
        .collect();
    assert!(wx.is_empty(), "writable and executable mappings: {wx:?}");
    assert!(maps.lines().any(|l| l.contains(" r-xp ")));
    drop(memory);
}

#[test]
fn pieces_loaded_together_share_pages_and_keep_their_own_tables() {
    super::install_signal_handlers();
    let memory = CodeMemory::new(1 << 16);
    let piece = |bytes: Vec<u8>, wasm_offset: u32, traps: Vec<TrapSite>| MachineCode {
        bytes,
        align: 16,
        register_entry: 0,
        array_shim: Some(0),
        traps,
        relocs: Vec::new(),
        wasm_map: vec![SourceLoc {
            code_offset: 0,
            wasm_offset,
        }],
        frame_size: 0,
        preemptible: 0..0,
    };
    // `xor eax, eax; ret`, then `ud2` trapping as unreachable, then an out-of-bounds load.
    let codes = [
        piece(vec![0x31, 0xc0, 0xc3], 10, vec![]),
        piece(
            vec![0x0f, 0x0b],
            20,
            vec![TrapSite {
                offset: 0,
                code: TrapCode::Unreachable,
            }],
        ),
        piece(
            vec![0x31, 0xc0, 0x8b, 0x00, 0xc3],
            30,
            vec![TrapSite {
                offset: 2,
                code: TrapCode::MemoryOutOfBounds,
            }],
        ),
    ];
    let pieces: Vec<_> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let owner = CodeOwner::Func {
                module: core::ptr::null(),
                func_index: i as u32,
                tier: Tier::Optimizing,
            };
            (c, owner)
        })
        .collect();
    let bases = memory.load_many(&pieces).unwrap();
    assert_eq!(bases.len(), 3);
    assert_eq!(
        bases[0] as usize / 4096,
        bases[2] as usize / 4096,
        "one page"
    );
    assert!(bases.iter().all(|b| (*b as usize).is_multiple_of(16)));
    let expect = [
        (0, None),
        (1, Some(TrapCode::Unreachable)),
        (2, Some(TrapCode::MemoryOutOfBounds)),
    ];
    for ((base, (func, trap)), code) in bases.iter().zip(expect).zip(&codes) {
        let record = FuncCode {
            array_entry: jit_entry,
            register_entry: base.cast(),
            data: base.cast(),
            tier: Tier::Optimizing,
            variant: 0,
        };
        // SAFETY: the record is alive for the whole call.
        let slot = unsafe {
            FuncEntry::new(
                &record,
                core::ptr::null_mut(),
                core::ptr::null(),
                0,
                func,
                0,
            )
        };
        let mut cells = [ValRaw::ZERO; 1];
        // SAFETY: the shim is the piece just loaded, which returns 0 or traps.
        let status = unsafe { FuncEntry::call(&slot, core::ptr::null_mut(), cells.as_mut_ptr()) };
        let rec = trap::take(status);
        match trap {
            None => assert_eq!(status, 0),
            Some(t) => {
                assert_eq!(rec.code, Some(t));
                assert_eq!(frame_of(&rec), [(func, code.wasm_map[0].wasm_offset)]);
            }
        }
    }
}
