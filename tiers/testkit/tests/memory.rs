//! The kit's linear memory and its libcalls, run through the interpreter: `memory.grow` up
//! to the maximum (or the kit's cap) and -1 beyond, a base that never moves, active and
//! passive data segments, `memory.init` and `data.drop`, and out-of-bounds traps.

mod common;

use common::Interp;
use tierup_abi::{TrapCode, WASM_PAGE_SIZE};
use tierup_testkit::{Error, Instance, MAX_MEMORY_PAGES, Options};

#[test]
fn memory_grow_grows_to_the_maximum_and_fails_beyond() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1 3)
          (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
          (func (export "size") (result i32) memory.size)
          (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
          (func (export "load") (param i32) (result i32) local.get 0 i32.load))"#,
    );
    let base = i.memory().as_ptr();
    assert_eq!(i.i32("size", &[]), 1);
    assert_eq!(i.i32("grow", &[0]), 1, "growing by nothing gives the size");
    assert_eq!(i.i32("grow", &[1]), 1);
    assert_eq!(i.i32("grow", &[1]), 2);
    assert_eq!(i.i32("grow", &[1]), -1, "beyond the declared maximum");
    assert_eq!(i.i32("grow", &[u32::MAX as u64]), -1);
    assert_eq!(i.i32("size", &[]), 3);
    assert_eq!(i.memory_pages(), 3);
    assert_eq!(i.memory().len(), 3 * WASM_PAGE_SIZE);
    assert_eq!(i.memory().as_ptr(), base, "the base never moves");
    // SAFETY: the context is alive in `i`.
    assert_eq!(unsafe { (*i.vmctx()).memory_base }.cast_const(), base);
    // The new pages are zero and usable.
    let last = 3 * WASM_PAGE_SIZE as u64 - 4;
    assert_eq!(i.i32("load", &[last]), 0);
    i.call("store", &[last, 0xdead_beef]).unwrap();
    assert_eq!(i.get_u32(last as usize), 0xdead_beef);
    assert_eq!(i.trap("load", &[last + 1]), TrapCode::MemoryOutOfBounds);
}

#[test]
fn memory_grow_without_a_maximum_stops_at_the_cap() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 0)
          (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
          (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    );
    assert_eq!(i.memory_pages(), 0);
    assert_eq!(i.trap("load", &[0]), TrapCode::MemoryOutOfBounds);
    assert_eq!(i.i32("grow", &[MAX_MEMORY_PAGES + 1]), -1);
    assert_eq!(i.i32("grow", &[MAX_MEMORY_PAGES]), 0);
    assert_eq!(i.i32("grow", &[1]), -1);
    assert_eq!(i.i32("grow", &[0]), MAX_MEMORY_PAGES as i32);
    assert_eq!(i.i32("load", &[MAX_MEMORY_PAGES * 65536 - 1]), 0);
    // A memory declared beyond the cap cannot be made.
    let e = Instance::instantiate(
        Interp::default(),
        format!("(module (memory {}))", MAX_MEMORY_PAGES + 1).as_bytes(),
        &Options::new(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Module(_)), "{e}");
}

#[test]
fn data_segments_memory_init_and_data_drop() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (data (i32.const 16) "active")
          (data "passive")
          (func (export "init") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.init 1)
          (func (export "init_active") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.init 0)
          (func (export "drop") data.drop 1))"#,
    );
    assert_eq!(&i.memory()[16..22], b"active");
    // An active segment is dropped once applied: only an empty range of it is in bounds.
    i.call("init_active", &[0, 0, 0]).unwrap();
    assert_eq!(
        i.call("init_active", &[0, 0, 1]).unwrap_err().code,
        Some(TrapCode::MemoryOutOfBounds)
    );
    i.call("init", &[100, 1, 5]).unwrap();
    assert_eq!(&i.memory()[99..106], b"\0assiv\0");
    // Out of bounds of the segment, of the memory, or of both by overflow: nothing is
    // written.
    for args in [[0, 3, 5], [65534, 0, 3], [u32::MAX as u64, 0, 1], [0, 8, 0]] {
        let t = i.call("init", &args).unwrap_err();
        assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds), "{args:?}");
    }
    assert_eq!(&i.memory()[65534..], b"\0\0");
    // Empty ranges at the very ends are in bounds; one past them is not.
    i.call("init", &[65536, 7, 0]).unwrap();
    assert_eq!(i.trap("init", &[65537, 0, 0]), TrapCode::MemoryOutOfBounds);
    i.call("drop", &[]).unwrap();
    i.call("drop", &[]).unwrap();
    assert_eq!(i.trap("init", &[0, 0, 1]), TrapCode::MemoryOutOfBounds);
    i.call("init", &[0, 0, 0]).unwrap();
}

#[test]
fn active_data_at_global_offsets_and_out_of_bounds() {
    // An imported global starts at zero in the kit.
    let i = Instance::from_bytes(
        Interp::default(),
        br#"(module
          (import "env" "base" (global i32))
          (memory 1)
          (data (global.get 0) "xy")
          (data (i32.const 65534) "zw"))"#,
        None,
    );
    assert_eq!(&i.memory()[..2], b"xy");
    assert_eq!(&i.memory()[65534..], b"zw");
    let e = Instance::instantiate(
        Interp::default(),
        br#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
        &Options::new(),
    )
    .unwrap_err();
    match e {
        Error::Trap(t) => assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds)),
        other => panic!("{other}"),
    }
}

#[test]
fn bulk_memory_and_accesses_trap_out_of_bounds() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "load64") (param i32) (result i64) local.get 0 i64.load offset=4)
          (func (export "fill") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.fill)
          (func (export "copy") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.copy))"#,
    );
    i.memory_mut()[..4].copy_from_slice(b"abcd");
    i.call("copy", &[2, 0, 4]).unwrap();
    assert_eq!(
        &i.memory()[..6],
        b"ababcd",
        "overlapping copies move as through a buffer"
    );
    i.call("fill", &[65528, 7, 8]).unwrap();
    assert_eq!(&i.memory()[65528..], [7; 8]);
    assert_eq!(i.i64("load64", &[65524]), 0x0707_0707_0707_0707);
    assert_eq!(i.trap("load64", &[65525]), TrapCode::MemoryOutOfBounds);
    assert_eq!(
        i.trap("load64", &[u32::MAX as u64]),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(i.trap("fill", &[65530, 0, 7]), TrapCode::MemoryOutOfBounds);
    assert_eq!(i.trap("copy", &[0, 65535, 2]), TrapCode::MemoryOutOfBounds);
    assert_eq!(i.trap("copy", &[65535, 0, 2]), TrapCode::MemoryOutOfBounds);
    assert_eq!(&i.memory()[..2], b"ab", "a trapping copy writes nothing");
}

#[test]
fn an_imported_memory_is_made_from_its_type() {
    let mut i = Instance::from_bytes(
        Interp::default(),
        br#"(module
          (import "env" "mem" (memory 2 2))
          (func (export "grow") (result i32) i32.const 1 memory.grow)
          (func (export "size") (result i32) memory.size))"#,
        None,
    );
    assert_eq!(i.i32("size", &[]), 2);
    assert_eq!(i.i32("grow", &[]), -1);
}
