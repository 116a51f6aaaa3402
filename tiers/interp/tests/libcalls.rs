//! The interpreter around its libcalls, on an instance of the test kit (whose libcalls are
//! real): the memory bound and table it reads again after `memory.grow`, `table.grow` and
//! segment operations in the same function, traps raised in a libcall with the frame and
//! offset of the instruction that called it, and lazy translation through the `translate`
//! libcall, also at calls that set their own argument.

mod common;

use common::{Interp, offset_of};
use tierup_abi::{Tier, TrapCode};
use tierup_testkit::{Instance, Options};

#[test]
fn accesses_after_memory_grow_see_the_new_bound() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1 4)
          (func (export "grow_and_touch") (param i32) (result i32) (local i32)
            ;; In bounds only once the memory has grown: the bound is read again.
            (local.set 1 (i32.mul (memory.size) (i32.const 65536)))
            (drop (memory.grow (local.get 0)))
            (i32.store (local.get 1) (i32.const 99))
            (i32.add (i32.load (local.get 1)) (memory.size)))
          (func (export "grow_in_a_loop") (result i32) (local $n i32)
            (loop $l
              (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))
                          (local.get $n))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))
              (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
            (local.get $n)))"#,
    );
    assert_eq!(i.i32("grow_and_touch", &[1]), 99 + 2);
    assert_eq!(i.memory_pages(), 2);
    let t = i.call("grow_and_touch", &[0]).unwrap_err();
    assert_eq!(
        t.code,
        Some(TrapCode::MemoryOutOfBounds),
        "not grown: out of bounds"
    );
    assert_eq!(i.i32("grow_in_a_loop", &[]), 3);
    assert_eq!(i.memory_pages(), 4);
    assert_eq!(i.memory()[3 * 65536 - 1], 1);
    assert_eq!(i.memory()[4 * 65536 - 1], 2);
}

#[test]
fn calls_through_a_table_grown_in_the_same_function() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (type $v (func (result i32)))
          (table 0 funcref)
          (elem declare func $forty)
          (func $forty (type $v) i32.const 40)
          (func (export "grow_and_call") (param i32) (result i32)
            (drop (table.grow (ref.func $forty) (local.get 0)))
            (i32.add (call_indirect (type $v) (i32.const 0)) (table.size)))
          (func (export "fill_and_call") (param i32) (result i32)
            (table.fill (i32.const 0) (ref.null func) (local.get 0))
            (call_indirect (type $v) (i32.const 0))))"#,
    );
    assert_eq!(i.trap("grow_and_call", &[0]), TrapCode::UndefinedElement);
    assert_eq!(i.i32("grow_and_call", &[2]), 42);
    assert_eq!(i.i32("grow_and_call", &[0]), 42);
    assert_eq!(i.i32("fill_and_call", &[0]), 40);
    assert_eq!(
        i.trap("fill_and_call", &[1]),
        TrapCode::UninitializedElement
    );
    assert_eq!(i.trap("fill_and_call", &[3]), TrapCode::TableOutOfBounds);
}

#[test]
fn libcall_traps_name_the_instruction_that_called() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (table 1 funcref)
          (data $d "abc")
          (elem $e func $f)
          (func $f)
          (func (export "init") (param i32)
            (memory.init $d (local.get 0) (i32.const 0) (i32.const 3)))
          (func (export "table_init") (param i32)
            (table.init $e (local.get 0) (i32.const 0) (i32.const 1)))
          (func (export "outer") (param i32)
            (call 1 (local.get 0))))"#,
    );
    i.call("init", &[65533]).unwrap();
    assert_eq!(&i.memory()[65533..], b"abc");
    let t = i.call("init", &[65534]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    let at = offset_of(&i, 1, |op| {
        matches!(op, wasmparser::Operator::MemoryInit { .. })
    });
    assert_eq!((t.frames[0].func_index, t.frames[0].code_offset), (1, at));
    let t = i.call("outer", &[65534]).unwrap_err();
    assert_eq!(t.frames.len(), 2);
    assert_eq!(t.frames[1].func_index, 3);
    i.call("table_init", &[0]).unwrap();
    let t = i.call("table_init", &[1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::TableOutOfBounds));
    let at = offset_of(&i, 2, |op| {
        matches!(op, wasmparser::Operator::TableInit { .. })
    });
    assert_eq!((t.frames[0].func_index, t.frames[0].code_offset), (2, at));
}

#[test]
fn calls_that_set_their_argument_survive_lazy_translation() {
    // A call that sets its argument itself (form `PRE`) runs again when its callee is
    // translated at that call (the `translate` libcall): here each callee is first called
    // from such a call, directly or through the table, so a doubled increment would show.
    let wat = r#"(module
      (type $t (func (param i32) (result i32)))
      (table 3 funcref)
      (elem (i32.const 0) $g $h $k)
      (func $g (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
      (func $h (param i32) (result i32) local.get 0 i32.const 5 i32.mul)
      (func $k (param i32) (result i32) local.get 0 i32.const 7 i32.add)
      (func $fib (param $n i32) (result i32)
        local.get $n i32.const 2 i32.lt_u
        if (result i32)
          local.get $n
        else
          local.get $n i32.const -1 i32.add call $fib
          local.get $n i32.const -2 i32.add call $fib
          i32.add
        end)
      (func (export "nested") (param $x i32) (result i32)
        local.get $x call $g i32.const 1 i32.add call $h
        local.get $x i32.const -1 i32.add call $k
        i32.add)
      (func (export "fib") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $fib)
      (func (export "indirect") (param $x i32) (param $e i32) (result i32)
        local.get $x i32.const 1 i32.add local.get $e call_indirect (type $t)))"#;
    let mut i = Instance::instantiate(
        Interp::default(),
        wat.as_bytes(),
        &Options::new().lazy(true),
    )
    .unwrap();
    assert_eq!(i.tier_of(0), Some(Tier::Lazy));
    // h(g(5) + 1) + k(5 - 1) = 80 + 11, on the first call and after.
    assert_eq!(i.i32("nested", &[5]), 91);
    assert_eq!(i.i32("nested", &[5]), 91);
    assert_eq!(i.tier_of(3), Some(Tier::Lazy), "fib not called yet");
    assert_eq!(i.i32("fib", &[19]), 6765);
    assert_eq!(i.i32("fib", &[19]), 6765);
    let mut j = Instance::instantiate(
        Interp::default(),
        wat.as_bytes(),
        &Options::new().lazy(true),
    )
    .unwrap();
    assert_eq!(j.i32("indirect", &[6, 2]), 14);
    assert_eq!(j.i32("indirect", &[6, 0]), 21);
    assert_eq!(j.i32("indirect", &[6, 2]), 14);
    assert_eq!(j.tier_of(0), Some(Tier::Interp));
    assert_eq!(j.tier_of(1), Some(Tier::Lazy), "never called");
    assert_eq!(j.tier_of(2), Some(Tier::Interp));
}
