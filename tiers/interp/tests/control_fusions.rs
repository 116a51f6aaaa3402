//! The translator's fusions into branches, loops and calls, run through the interpreter on
//! an instance of the test kit: loop counters into back edges, increments into the forward
//! branch that tests them, `eqz` into its branch, a branch over a jump inverted, the
//! dispatch head of a `loop { br_table }` copied to its cases, `br_table`'s index from the
//! accumulator, and calls that set their one argument. Each test checks the results (edge
//! values, wrap-around, traps and their offsets) and the translated form, so it fails if
//! the fusion is removed or wrong. The other families: `arith_fusions.rs`,
//! `local_fusions.rs`, `memory_fusions.rs`.

mod common;

use common::Interp;
use tierup_abi::TrapCode;
use tierup_testkit::Instance;

#[test]
fn loop_counters_fuse_into_back_edges() {
    // `i = i + k` just before a loop's `br_if` on `i` becomes part of the branch. The
    // counter must still be written, wrap in its own width, and keep its value when the
    // loop exits.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "count_up") (param i32) (result i32) (local i32)
            loop
              local.get 1 i32.const 1 i32.add local.tee 1
              local.get 0 i32.ne br_if 0
            end
            local.get 1)
          (func (export "count_up_swapped") (param i32) (result i32) (local i32)
            loop
              local.get 0
              local.get 1 i32.const 3 i32.add local.tee 1
              i32.ne br_if 0
            end
            local.get 1)
          (func (export "count_down") (param i32) (result i32) (local i32)
            loop
              local.get 1 i32.const 2 i32.add local.set 1
              local.get 0 i32.const -1 i32.add local.tee 0
              br_if 0
            end
            local.get 1)
          (func (export "wrap32") (param i32) (result i32)
            loop
              local.get 0 i32.const 0x40000000 i32.add local.tee 0
              i32.const 0x40000000 i32.gt_u br_if 0
            end
            local.get 0)
          (func (export "count64") (param i64) (result i64) (local i64)
            loop
              local.get 1 i64.const -7 i64.add local.tee 1
              local.get 0 i64.gt_s br_if 0
            end
            local.get 1)
          (func (export "stride") (param i64 i64) (result i64) (local i64 i64)
            loop
              local.get 3 i64.const 1 i64.add local.set 3
              local.get 2 local.get 1 i64.add local.tee 2
              local.get 0 i64.le_u br_if 0
            end
            local.get 3)
          (func (export "stride32") (param i32 i32) (result i32) (local i32)
            loop
              local.get 1 local.get 2 i32.add local.tee 2
              local.get 0 i32.lt_s br_if 0
            end
            local.get 2)
          (func (export "big_step") (param i64) (result i64)
            loop
              local.get 0 i64.const 0x100000000 i64.add local.tee 0
              i64.const 0x500000000 i64.lt_u br_if 0
            end
            local.get 0))"#,
    );
    assert_eq!(i.i32("count_up", &[1000]), 1000);
    assert_eq!(i.i32("count_up_swapped", &[99]), 99);
    assert_eq!(i.i32("count_down", &[50]), 100);
    // 0xc0000000 + 0x40000000 wraps to 0, which ends the loop.
    assert_eq!(i.i32("wrap32", &[0x8000_0000]), 0);
    assert_eq!(i.i64("count64", &[-100i64 as u64]), -105);
    assert_eq!(i.i64("big_step", &[1]), 0x5_0000_0001);
    // Steps held in locals: j += i while j <= n, and the step first in the add.
    assert_eq!(i.i64("stride", &[100, 7]), 15);
    assert_eq!(i.i32("stride32", &[100, 7]), 105);
    assert_eq!(
        i.i32("stride32", &[-5i32 as u32 as u64, -3i32 as u32 as u64]),
        -3
    );
    for func in [5, 6] {
        let f = tierup_interp::translate(i.env(), func).unwrap();
        let text = format!("{f:?}");
        assert!(
            !text.contains("I64Add {") && !text.contains("I32Add {"),
            "{text}"
        );
    }
    for func in 0..2 {
        let f = tierup_interp::translate(i.env(), func).unwrap();
        assert!(!format!("{f:?}").contains("I32AddImm"), "{f:?}");
    }
    let f = tierup_interp::translate(i.env(), 2).unwrap();
    assert!(format!("{f:?}").contains("add: Step(-1) }"), "{f:?}");
}

#[test]
fn dispatch_heads_are_copied_to_the_cases() {
    // A `loop { br_table }` interpreter: each case's jump back to the head becomes a copy
    // of the head (its own `br_table`), whose entries keep their targets.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "run") (param i32) (result i32) (local i32 i32)
            (; local 1: pc; local 2: accumulator. ops: 0 add 1, 1 double, 2 sub 3, 3 halt ;)
            (; the program: 0 1 1 2 0 1 3 ;)
            i32.const 0 i32.const 0x02010100 i32.store
            i32.const 4 i32.const 0x00030100 i32.store
            loop $next
              block $halt
                block $sub
                  block $double
                    block $inc
                      local.get 1 i32.load8_u
                      local.get 1 i32.const 1 i32.add local.set 1
                      br_table $inc $double $sub $halt $halt
                    end
                    local.get 2 i32.const 1 i32.add local.set 2
                    br $next
                  end
                  local.get 2 i32.const 1 i32.shl local.set 2
                  br $next
                end
                local.get 2 i32.const 3 i32.sub local.set 2
                br $next
              end
            end
            local.get 2 local.get 0 i32.add))"#,
    );
    // ((0 + 1) * 2 * 2 - 3 + 1) * 2 = 4, then halt.
    assert_eq!(i.i32("run", &[100]), 104);
    let f = tierup_interp::translate(i.env(), 0).unwrap();
    assert_eq!(format!("{f:?}").matches("BrTable").count(), 4, "{f:?}");
}

#[test]
fn br_table_takes_its_index_from_the_accumulator() {
    // The index computed just before the `br_table` reaches it without a register;
    // every entry and the default (an index past the end) still land right.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "f") (param i32) (result i32)
            block block block
              local.get 0 i32.const 1 i32.sub br_table 0 1 2
            end i32.const 10 return
            end i32.const 20 return
            end i32.const 30))"#,
    );
    for (x, r) in [(1, 10), (2, 20), (3, 30), (4, 30), (0, 30)] {
        assert_eq!(i.i32("f", &[x]), r, "f({x})");
    }
    let code = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert!(code.contains("len: 2 } [A]"), "{code}");
}

#[test]
fn eqz_fuses_with_its_branch() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "f") (param i32) (result i32)
            block local.get 0 i32.eqz br_if 0 i32.const 5 return end
            i32.const 7))"#,
    );
    assert_eq!(i.i32("f", &[0]), 7);
    assert_eq!(i.i32("f", &[3]), 5);
    let f = tierup_interp::translate(i.env(), 0).unwrap();
    let code = format!("{f:?}");
    assert!(!code.contains("I32Eqz") && code.contains("BrEqz"), "{code}");
}

#[test]
fn forward_branches_take_the_increment_before_them() {
    // A forward `br_if` (or an `if`) on a register just advanced by a constant or a
    // register takes the add in (`PRE`), as back edges do: `if (++c < n)`. The register
    // holds the sum on both paths; other branches to the same block still land; the sum
    // wraps (`when(0, 5)`: -1 is above 5 unsigned).
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "count") (param $c i32) (param $n i32) (result i32)
            block $out
              block $small
                local.get $c i32.const 3 i32.add local.tee $c
                local.get $n i32.lt_s br_if $small
                local.get $c i32.const 100 i32.gt_s br_if $out
                local.get $c i32.const 1000 i32.add return
              end
              local.get $c i32.const 1 i32.add local.set $c
              local.get $c local.get $n i32.eq br_if $out
              local.get $c i32.const 2000 i32.add return
            end
            local.get $c)
          (func (export "step") (param $x i64) (param $s i64) (param $lim i64) (result i64)
            block $b
              local.get $x local.get $s i64.add local.set $x
              local.get $x local.get $lim i64.ge_u br_if $b
              local.get $x i64.const 1000 i64.add return
            end
            local.get $x)
          (func (export "when") (param $c i32) (param $n i32) (result i32)
            local.get $c i32.const -1 i32.add local.tee $c
            local.get $n i32.gt_u
            if (result i32)
              local.get $c i32.const 100 i32.add
            else
              local.get $c
            end))"#,
    );
    assert_eq!(i.i32("count", &[0, 10]), 2004);
    assert_eq!(i.i32("count", &[6, 10]), 10);
    assert_eq!(i.i32("count", &[7, 10]), 1010);
    assert_eq!(i.i32("count", &[200, 10]), 203);
    let max = i32::MAX as u32 as u64;
    assert_eq!(i.i32("count", &[max - 1, 10]), i32::MIN.wrapping_add(2002));
    assert_eq!(i.i64("step", &[5, 7, 20]), 1012);
    assert_eq!(i.i64("step", &[15, 7, 20]), 22);
    assert_eq!(i.i64("step", &[u64::MAX, 2, 5]), 1001);
    assert_eq!(i.i32("when", &[10, 5]), 109);
    assert_eq!(i.i32("when", &[6, 5]), 5);
    assert_eq!(i.i32("when", &[0, 5]), 99);
    let when = format!("{:?}", tierup_interp::translate(i.env(), 2).unwrap());
    // The increment also passes to the `+ 100` after the branch (form `TEE`).
    assert!(
        when.contains("[PRE|TEE], I32AddImm { dst: 2, a: 0, imm: 100 } [A]"),
        "{when}"
    );
    let count = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert_eq!(count.matches("[PRE").count(), 2, "{count}");
    let step = format!("{:?}", tierup_interp::translate(i.env(), 1).unwrap());
    assert!(step.contains("[PRE|ADD_REG|TEE]"), "{step}");
}

#[test]
fn calls_set_their_argument() {
    // A call whose one argument was computed (`n - 1`) or copied just before it sets
    // the argument itself (`PRE`), direct or through a table. An argument computed from
    // the call slot itself (`f(g() + 1)`) is left to its own instruction: the slow path
    // of a call runs it again (see `vm/tests/exec.rs`, `calls_setting_their_argument_
    // survive_lazy_translation`), which would add twice.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (type $t (func (param i32) (result i32)))
          (table 5 funcref)
          (elem (i32.const 0) $fib $g $h $fib_export $twice)
          (func $fib (param $n i32) (result i32)
            local.get $n i32.const 2 i32.lt_u
            if (result i32)
              local.get $n
            else
              local.get $n i32.const -1 i32.add call $fib
              local.get $n i32.const -2 i32.add call $fib
              i32.add
            end)
          (func $g (param $x i32) (result i32) local.get $x i32.const 3 i32.mul)
          (func $h (param $x i32) (result i32) local.get $x i32.const 5 i32.mul)
          (func $fib_export (export "fib") (param i32) (result i32) local.get 0 call $fib)
          (func $twice (export "twice") (param $x i32) (param $k i32) (result i32)
            local.get $x local.get $k call_indirect (type $t))
          (func (export "nested") (param $x i32) (result i32)
            local.get $x call $g i32.const 1 i32.add call $h))"#,
    );
    assert_eq!(i.i32("nested", &[5]), 80);
    assert_eq!(i.i32("fib", &[20]), 6765);
    assert_eq!(i.i32("twice", &[7, 1]), 21);
    assert_eq!(i.i32("twice", &[7, 0]), 13);
    // Element 4 is `twice` itself, of another type.
    let t = i.call("twice", &[7, 4]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IndirectCallTypeMismatch));
    let fib = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert_eq!(fib.matches("} [PRE]").count(), 2, "{fib}");
    assert!(fib.contains("arg: 0, step: Step(-1) } [PRE]"), "{fib}");
    let twice = format!("{:?}", tierup_interp::translate(i.env(), 4).unwrap());
    assert!(
        twice.contains("CallIndirect") && twice.contains("} [PRE]"),
        "{twice}"
    );
    let nested = format!("{:?}", tierup_interp::translate(i.env(), 5).unwrap());
    assert_eq!(nested.matches("[PRE]").count(), 1, "{nested}");
    assert!(
        nested.contains("I32AddImm { dst: 1, a: 1, imm: 1 }"),
        "{nested}"
    );
}

#[test]
fn branches_over_jumps_are_inverted() {
    // `br_if $a; br $b; $a:` is one branch to `$b` with the condition negated, the jump
    // gone: `c + 1 < n && a[c + 1] > a[c]`, a float compare (its negation is taken on
    // NaN), a counting branch that keeps its step (and becomes a loop on itself), and a
    // jump that another branch also reaches, which stays.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "pick") (param $c i32) (param $n i32) (result i32)
            block $no
              block $yes
                local.get $c i32.const 1 i32.add local.get $n i32.lt_s br_if $yes
                br $no
              end
              local.get $c i32.const 4 i32.mul i32.load offset=4
              local.get $c i32.const 4 i32.mul i32.load
              i32.gt_u br_if $no
              i32.const 1 return
            end
            i32.const 0)
          (func (export "below") (param $x f64) (param $y f64) (result i32)
            block $no
              block $yes
                local.get $x local.get $y f64.lt br_if $yes
                br $no
              end
              i32.const 1 return
            end
            i32.const 0)
          (func (export "spin") (param $n i32) (result i32) (local $k i32)
            block $out
              loop $l
                local.get $k i32.const 3 i32.add local.tee $k
                local.get $n i32.ge_u br_if $out
                br $l
              end
            end
            local.get $k)
          (func (export "shared") (param $a i32) (param $b i32) (result i32)
            block $no
              block $yes
                block $mid
                  local.get $b br_if $mid
                  local.get $a br_if $yes
                end
                br $no
              end
              i32.const 1 return
            end
            i32.const 0))"#,
    );
    // Words 4, 9, 2 at 0: a[1] > a[0], a[2] < a[1].
    for (k, v) in [4u32, 9, 2].into_iter().enumerate() {
        i.put_u32(4 * k, v);
    }
    // 1 when `c + 1 < n` and not `a[c + 1] > a[c]`.
    assert_eq!(i.i32("pick", &[0, 3]), 0);
    assert_eq!(i.i32("pick", &[1, 3]), 1);
    assert_eq!(i.i32("pick", &[2, 3]), 0);
    assert_eq!(i.i32("pick", &[1, 2]), 0);
    let f = |x: f64| x.to_bits();
    assert_eq!(i.i32("below", &[f(1.0), f(2.0)]), 1);
    assert_eq!(i.i32("below", &[f(2.0), f(1.0)]), 0);
    assert_eq!(i.i32("below", &[f(f64::NAN), f(1.0)]), 0);
    assert_eq!(i.i32("below", &[f(1.0), f(f64::NAN)]), 0);
    assert_eq!(i.i32("spin", &[10]), 12);
    assert_eq!(i.i32("spin", &[0]), 3);
    assert_eq!(i.i32("shared", &[1, 0]), 1);
    assert_eq!(i.i32("shared", &[0, 0]), 0);
    assert_eq!(i.i32("shared", &[1, 1]), 0);

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(i.env(), f).unwrap());
    let pick = code(&i, 0);
    assert!(
        pick.contains("BrI32NotLtS") && !pick.contains("Br {"),
        "{pick}"
    );
    let below = code(&i, 1);
    assert!(
        below.contains("BrF64NotLt") && !below.contains("Br {"),
        "{below}"
    );
    let spin = code(&i, 2);
    assert!(
        spin.contains("offset: 0, add: Step(3) } [PRE]") && !spin.contains("Br {"),
        "{spin}"
    );
    assert!(code(&i, 3).contains("Br {"), "{}", code(&i, 3));
}
