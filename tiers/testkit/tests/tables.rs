//! The kit's tables, element segments and table libcalls, run through the interpreter:
//! active, passive and declarative segments, `table.init`/`elem.drop`, `table.grow`,
//! `table.fill`, `table.copy` (within one table and between two), `externref` tables,
//! `call_indirect` through the tables, and every out-of-bounds trap.

mod common;

use common::Interp;
use tierup_abi::{TrapCode, ValRaw};
use tierup_testkit::{Error, Instance, Options};

#[test]
fn active_segments_fill_tables_and_call_indirect_checks_them() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (type $v (func (result i32)))
          (type $same (func (result i32)))
          (table 4 funcref)
          (elem (i32.const 1) $seven $eight)
          (elem (i32.const 3) func $wrong)
          (func $seven (type $v) i32.const 7)
          (func $eight (type $same) i32.const 8)
          (func $wrong (param i32) (result i32) local.get 0)
          (func (export "call") (param i32) (result i32)
            local.get 0 call_indirect (type $v)))"#,
    );
    let t = i.table(0).unwrap().to_vec();
    assert_eq!(t[0], 0);
    assert_eq!(t[1], i.entry(0).unwrap() as usize);
    assert_eq!(t[2], i.entry(1).unwrap() as usize);
    assert_eq!(t[3], i.entry(2).unwrap() as usize);
    assert_eq!(i.type_ids()[..2], [0, 0], "equal types share one id");
    assert_eq!(i.i32("call", &[1]), 7);
    assert_eq!(i.i32("call", &[2]), 8, "a structurally equal type matches");
    assert_eq!(i.trap("call", &[0]), TrapCode::UninitializedElement);
    assert_eq!(i.trap("call", &[3]), TrapCode::IndirectCallTypeMismatch);
    assert_eq!(i.trap("call", &[4]), TrapCode::UndefinedElement);
}

#[test]
fn passive_and_declared_segments_table_init_and_elem_drop() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (table $t 6 funcref)
          (elem $p funcref (ref.func $a) (ref.null func) (ref.func $b))
          (elem $d declare func $a)
          (elem $act (i32.const 0) $b)
          (func $a (result i32) i32.const 1)
          (func $b (result i32) i32.const 2)
          (func (export "init_p") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.init $t $p)
          (func (export "init_d") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.init $t $d)
          (func (export "init_act") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.init $t $act)
          (func (export "drop_p") elem.drop $p)
          (func (export "get") (param i32) (result funcref) local.get 0 table.get $t)
          (func (export "call") (param i32) (result i32)
            local.get 0 call_indirect (result i32)))"#,
    );
    let (a, b) = (i.entry(0).unwrap() as usize, i.entry(1).unwrap() as usize);
    assert_eq!(i.table(0).unwrap(), [b, 0, 0, 0, 0, 0]);
    i.call("init_p", &[3, 0, 3]).unwrap();
    assert_eq!(i.table(0).unwrap(), [b, 0, 0, a, 0, b]);
    assert_eq!(i.i32("call", &[3]), 1);
    assert_eq!(i.i32("call", &[5]), 2);
    assert_eq!(i.trap("call", &[4]), TrapCode::UninitializedElement);
    let r = i.call_cells("get", &[ValRaw::i32(5)]).unwrap();
    assert_eq!(r[0].get_funcref() as usize, b);
    // Bounds of the segment and of the table, overflow included; nothing is written.
    for args in [[0, 1, 3], [4, 0, 3], [u32::MAX as u64, 0, 1], [0, 4, 0]] {
        let t = i.call("init_p", &args).unwrap_err();
        assert_eq!(t.code, Some(TrapCode::TableOutOfBounds), "{args:?}");
    }
    i.call("init_p", &[6, 3, 0]).unwrap();
    assert_eq!(i.table(0).unwrap(), [b, 0, 0, a, 0, b]);
    // Declared and active segments were dropped at instantiation.
    assert_eq!(i.trap("init_d", &[0, 0, 1]), TrapCode::TableOutOfBounds);
    assert_eq!(i.trap("init_act", &[0, 0, 1]), TrapCode::TableOutOfBounds);
    i.call("init_act", &[0, 0, 0]).unwrap();
    i.call("drop_p", &[]).unwrap();
    assert_eq!(i.trap("init_p", &[0, 0, 1]), TrapCode::TableOutOfBounds);
    i.call("init_p", &[0, 0, 0]).unwrap();
}

#[test]
fn table_grow_fill_and_size() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (table $f 1 3 funcref)
          (table $e 0 externref)
          (elem declare func $k)
          (func $k (result i32) i32.const 42)
          (func (export "grow_f") (param i32) (result i32)
            ref.func $k local.get 0 table.grow $f)
          (func (export "size_f") (result i32) table.size $f)
          (func (export "call") (param i32) (result i32)
            local.get 0 call_indirect $f (result i32))
          (func (export "grow_e") (param externref i32) (result i32)
            local.get 0 local.get 1 table.grow $e)
          (func (export "fill_e") (param i32 externref i32)
            local.get 0 local.get 1 local.get 2 table.fill $e)
          (func (export "get_e") (param i32) (result externref) local.get 0 table.get $e)
          (func (export "set_e") (param i32 externref) local.get 0 local.get 1 table.set $e))"#,
    );
    assert_eq!(i.i32("grow_f", &[0]), 1);
    assert_eq!(i.i32("grow_f", &[2]), 1);
    assert_eq!(i.i32("size_f", &[]), 3);
    assert_eq!(i.i32("grow_f", &[1]), -1, "beyond the maximum");
    assert_eq!(
        i.i32("call", &[2]),
        42,
        "grown elements hold the initial value"
    );
    assert_eq!(i.trap("call", &[0]), TrapCode::UninitializedElement);

    let h = |n: usize| ValRaw::externref(n);
    let grow = |i: &mut Instance, init, n| {
        i.call_cells("grow_e", &[h(init), ValRaw::i32(n)]).unwrap()[0].get_i32()
    };
    assert_eq!(grow(&mut i, 7, 4), 0);
    assert_eq!(grow(&mut i, 8, 1), 4);
    assert_eq!(grow(&mut i, 8, -1), -1, "beyond the kit's cap");
    assert_eq!(i.table(1).unwrap(), [7, 7, 7, 7, 8]);
    i.call_cells("fill_e", &[ValRaw::i32(1), h(9), ValRaw::i32(3)])
        .unwrap();
    assert_eq!(i.table(1).unwrap(), [7, 9, 9, 9, 8]);
    i.call_cells("fill_e", &[ValRaw::i32(5), h(1), ValRaw::i32(0)])
        .unwrap();
    let t = i
        .call_cells("fill_e", &[ValRaw::i32(3), h(1), ValRaw::i32(3)])
        .unwrap_err();
    assert_eq!(t.code, Some(TrapCode::TableOutOfBounds));
    assert_eq!(
        i.table(1).unwrap(),
        [7, 9, 9, 9, 8],
        "a trapping fill writes nothing"
    );
    i.call_cells("set_e", &[ValRaw::i32(0), h(0)]).unwrap();
    let r = i.call_cells("get_e", &[ValRaw::i32(4)]).unwrap();
    assert_eq!(r[0].get_externref(), 8);
    let t = i.call_cells("get_e", &[ValRaw::i32(5)]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::TableOutOfBounds));
    let t = i.call_cells("set_e", &[ValRaw::i32(5), h(1)]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::TableOutOfBounds));
}

#[test]
fn table_copy_within_and_between_tables() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (table $a 5 funcref)
          (table $b 3 funcref)
          (elem (table $a) (i32.const 0) func $f0 $f1 $f2)
          (elem (table $b) (i32.const 0) func $f2 $f2 $f2)
          (func $f0) (func $f1) (func $f2)
          (func (export "aa") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.copy $a $a)
          (func (export "ab") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.copy $a $b)
          (func (export "ba") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 table.copy $b $a))"#,
    );
    let e: Vec<usize> = (0..3).map(|f| i.entry(f).unwrap() as usize).collect();
    i.call("aa", &[1, 0, 3]).unwrap();
    assert_eq!(
        i.table(0).unwrap(),
        [e[0], e[0], e[1], e[2], 0],
        "forward overlap"
    );
    i.call("aa", &[0, 1, 4]).unwrap();
    assert_eq!(
        i.table(0).unwrap(),
        [e[0], e[1], e[2], 0, 0],
        "backward overlap"
    );
    i.call("ba", &[1, 0, 2]).unwrap();
    assert_eq!(i.table(1).unwrap(), [e[2], e[0], e[1]]);
    i.call("ab", &[3, 0, 2]).unwrap();
    assert_eq!(i.table(0).unwrap(), [e[0], e[1], e[2], e[2], e[0]]);
    for (f, args) in [
        ("aa", [0, 1, 5]),
        ("aa", [1, 0, 5]),
        ("ab", [0, 1, 3]),
        ("ba", [1, 0, 3]),
        ("ba", [0, u32::MAX as u64, 1]),
        ("ab", [6, 0, 0]),
    ] {
        assert_eq!(i.trap(f, &args), TrapCode::TableOutOfBounds, "{f} {args:?}");
    }
    i.call("ab", &[5, 3, 0]).unwrap();
    assert_eq!(
        i.table(1).unwrap(),
        [e[2], e[0], e[1]],
        "traps write nothing"
    );
}

#[test]
fn table_initialisers_and_out_of_bounds_active_segments() {
    // Items of every constant form; an imported global starts at zero (here: null).
    let i = Instance::new(
        Interp::default(),
        r#"(module
          (import "env" "g" (global $g funcref))
          (table 4 funcref)
          (elem (i32.const 0) funcref (ref.func $f) (global.get $g) (ref.null func) (ref.func $f))
          (func $f))"#,
    );
    let f = i.entry(0).unwrap() as usize;
    assert_eq!(i.table(0).unwrap(), [f, 0, 0, f]);
    let e = Instance::instantiate(
        Interp::default(),
        br#"(module (table 2 funcref) (elem (i32.const 1) $f $f) (func $f))"#,
        &Options::new(),
    )
    .unwrap_err();
    match e {
        Error::Trap(t) => assert_eq!(t.code, Some(TrapCode::TableOutOfBounds)),
        other => panic!("{other}"),
    }
    // An imported table is empty, of its minimum size.
    let i = Instance::from_bytes(
        Interp::default(),
        br#"(module (import "env" "t" (table 3 externref)))"#,
        None,
    );
    assert_eq!(i.table(0).unwrap(), [0, 0, 0]);
}
