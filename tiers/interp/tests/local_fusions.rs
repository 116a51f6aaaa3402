//! The translator's fusions around locals, run through the interpreter on an instance of
//! the test kit: pairs that share a dispatch (two copies, two increments, two adds into
//! locals), a zeroing of a local that still holds its initial zero, and results written to
//! a local and passed on in the accumulator at once (form `TEE`). Each test checks the
//! results and the translated form, so it fails if the fusion is removed or wrong. The
//! other families: `arith_fusions.rs`, `control_fusions.rs`, `memory_fusions.rs`.

mod common;

use common::Interp;
use tierup_testkit::Instance;

#[test]
fn zeroing_a_local_that_still_holds_its_initial_zero_emits_nothing() {
    // Declared locals start at zero: setting one to zero before anything names it, outside
    // loops, needs no instruction. A parameter, a local written before, and a set inside
    // a loop (where a later write comes round to it) keep theirs; -0.0 is not zero bits.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "sum") (param i32) (result i32) (local i32)
            i32.const 0 local.set 1
            block
              local.get 0 i32.eqz br_if 0
              loop
                local.get 1 local.get 0 i32.add local.set 1
                local.get 0 i32.const 1 i32.sub local.tee 0
                br_if 0
              end
            end
            local.get 1)
          (func (export "param") (param i32) (result i32)
            i32.const 0 local.set 0
            local.get 0)
          (func (export "after_write") (param i32) (result i32) (local i32)
            local.get 0 local.set 1
            i32.const 0 local.set 1
            local.get 1)
          (func (export "in_loop") (param i32) (result i32) (local i32 i32)
            loop
              i32.const 0 local.set 1
              local.get 2 local.get 1 i32.add local.set 2
              i32.const 7 local.set 1
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0
            end
            local.get 2 local.get 1 i32.add)
          (func (export "negative_zero") (result f64) (local f64)
            f64.const -0 local.set 0
            local.get 0))"#,
    );
    assert_eq!(i.i32("sum", &[4]), 10);
    assert_eq!(i.i32("param", &[5]), 0);
    assert_eq!(i.i32("after_write", &[5]), 0);
    assert_eq!(i.i32("in_loop", &[3]), 7);
    assert_eq!(
        i.call("negative_zero", &[]).unwrap()[0],
        (-0.0f64).to_bits()
    );
    let code = |func| format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
    assert!(!code(0).contains("Copy"), "{}", code(0));
    for func in 1..5 {
        assert!(code(func).contains("Copy"), "{}", code(func));
    }
}

#[test]
fn consecutive_copies_pair_up() {
    // Two copies in a row are one `Copy2`, which copies in order: the second may read
    // what the first wrote. A copy at a label (a loop header here) starts a new pair.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "chain") (param i32 i32) (result i32) (local i32)
            local.get 1 local.set 0 local.get 0 local.set 2 local.get 2)
          (func (export "fib") (param i32) (result i32) (local i32 i32 i32)
            i32.const 1 local.set 2
            loop
              local.get 1 local.get 2 i32.add local.set 3
              local.get 2 local.set 1 local.get 3 local.set 2
              local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0
            end
            local.get 1))"#,
    );
    assert_eq!(i.i32("chain", &[1, 2]), 2);
    assert_eq!(i.i32("fib", &[10]), 55);
    assert_eq!(i.i32("fib", &[1]), 1);
    for func in [0, 1] {
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(code.contains("Copy2"), "{code}");
    }
}

#[test]
fn local_increments_pair_up() {
    // Two increments of locals in a row are one `I32AddImm2` (in order: the second may
    // read what the first wrote); one just before a loop's back edge still fuses into it.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "sum") (param i32) (result i32) (local i32 i32 i32)
            loop
              local.get 1 i32.const 3 i32.add local.set 1
              local.get 1 i32.const -1 i32.add local.set 1
              local.get 2 local.get 1 i32.add local.set 2
              local.get 3 i32.const 1 i32.add local.tee 3
              local.get 0 i32.lt_u br_if 0
            end
            local.get 2))"#,
    );
    // local 1 advances by 2 each round before it is summed: 2 + 4 + ... + 2 * 10.
    assert_eq!(i.i32("sum", &[10]), 110);
    let code = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert!(code.contains("I32AddImm2"), "{code}");
    assert!(code.contains("add: Step(1) } [PRE]"), "{code}");
}

#[test]
fn adds_into_locals_pair_up() {
    // Two adds into locals in a row that are not both small constant increments are one
    // `I32Add2`, in order (the second may read what the first wrote), a constant addend
    // from its register; when the second is a back edge's counter, the branch takes it
    // and the first stays alone.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "walk") (param i32 i32) (result i32) (local i32 i32 i32)
            loop
              local.get 2 local.get 1 i32.add local.set 2
              local.get 3 i32.const 100000 i32.add local.set 3
              local.get 3 local.get 2 i32.add local.set 4
              local.get 1 local.get 4 i32.add local.set 1
              local.get 0 i32.const -1 i32.add local.tee 0
              br_if 0
            end
            local.get 1 local.get 2 i32.xor local.get 3 i32.xor)
          (func (export "count") (param i32 i32) (result i32) (local i32 i32)
            loop
              local.get 3 local.get 1 i32.add local.set 3
              local.get 2 local.get 1 i32.add local.tee 2
              local.get 0 i32.lt_u br_if 0
            end
            local.get 3))"#,
    );
    let walk = |n: u32, mut b: u32| {
        let (mut c, mut d) = (0u32, 0u32);
        for _ in 0..n {
            c = c.wrapping_add(b);
            d = d.wrapping_add(100000);
            let e = d.wrapping_add(c);
            b = b.wrapping_add(e);
        }
        b ^ c ^ d
    };
    for (n, b) in [(1u32, 3u32), (5, 7), (40, 0x7fff_ffff)] {
        assert_eq!(i.i32("walk", &[n as u64, b as u64]) as u32, walk(n, b));
    }
    // Steps of 3 up to at least 30: ten rounds.
    assert_eq!(i.i32("count", &[30, 3]), 30);
    let walk_code = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert_eq!(walk_code.matches("I32Add2").count(), 2, "{walk_code}");
    let count_code = format!("{:?}", tierup_interp::translate(i.env(), 1).unwrap());
    assert!(!count_code.contains("I32Add2"), "{count_code}");
    assert!(count_code.contains("[PRE|ADD_REG]"), "{count_code}");
}

#[test]
fn locals_written_and_read_at_once_pass_in_the_accumulator() {
    // An operator whose result goes to a local that the next instruction reads passes it
    // in the accumulator as well (form `TEE`), the reader taking it from there: heap
    // sort's `c = 2 * c + 1` and its test, an f64 chain through a local, a compare kept
    // in a local and branched on, and a reader that writes the local itself. Not into a
    // branch target (a loop head, reached from the back edge with another accumulator),
    // nor into a reader that names the local twice.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "levels") (param $n i32) (result i32) (local $c i32) (local $k i32)
            loop $l
              local.get $k i32.const 1 i32.add local.set $k
              local.get $c i32.const 1 i32.shl i32.const 1 i32.or local.tee $c
              local.get $n i32.lt_u br_if $l
            end
            local.get $k)
          (func (export "poly") (param $x f64) (result f64) (local $y f64)
            local.get $x f64.const 1.5 f64.mul local.set $y
            local.get $y f64.const 0.25 f64.add local.set $y
            local.get $y local.get $x f64.mul)
          (func (export "below") (param $a i32) (param $b i32) (result i32) (local $t i32)
            local.get $a local.get $b i32.lt_u local.set $t
            block $no
              local.get $t i32.eqz br_if $no
              i32.const 7 return
            end
            i32.const 9)
          (func (export "bump") (param $x i32) (result i32) (local $y i32)
            local.get $x i32.const 3 i32.mul local.set $y
            local.get $y i32.const 1 i32.add local.set $y
            local.get $y)
          (func (export "head") (param $x i32) (param $n i32) (result i32) (local $y i32)
            local.get $x i32.const 1 i32.add local.set $y
            loop $l
              local.get $y i32.const 3 i32.mul local.set $y
              local.get $n i32.const 1 i32.sub local.tee $n
              br_if $l
            end
            local.get $y)
          (func (export "square") (param $a i32) (param $b i32) (result i32) (local $x i32)
            local.get $a local.get $b i32.add local.set $x
            local.get $x local.get $x i32.mul))"#,
    );
    // c = 1, 3, 7, ...: 2^k - 1 reaches 1000 at k = 10.
    assert_eq!(i.i32("levels", &[1000]), 10);
    assert_eq!(i.i32("levels", &[0]), 1);
    let poly = |x: f64| (x * 1.5 + 0.25) * x;
    for x in [3.0f64, -0.1, 1e300] {
        let got = f64::from_bits(i.call("poly", &[x.to_bits()]).unwrap()[0]);
        assert_eq!(got.to_bits(), poly(x).to_bits(), "poly({x})");
    }
    assert_eq!(i.i32("below", &[1, 2]), 7);
    assert_eq!(i.i32("below", &[2, 1]), 9);
    assert_eq!(i.i32("below", &[u32::MAX as u64, 0]), 9);
    assert_eq!(i.i32("bump", &[5]), 16);
    // (x + 1) * 3^n: the loop head reads `y` from its register on every round.
    assert_eq!(i.i32("head", &[1, 4]), 2 * 81);
    assert_eq!(i.i32("square", &[3, 4]), 49);

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(i.env(), f).unwrap());
    let levels = code(&i, 0);
    assert!(
        levels.contains("I32OrImm { dst: 1, a: 3, imm: 1 } [A|TEE]"),
        "{levels}"
    );
    assert!(levels.contains("add: Step(0) } [A]"), "{levels}");
    assert!(code(&i, 1).contains("TEE]"), "{}", code(&i, 1));
    assert!(code(&i, 2).contains("TEE]"), "{}", code(&i, 2));
    assert!(code(&i, 3).contains("TEE]"), "{}", code(&i, 3));
    let head = code(&i, 4);
    assert!(
        head.contains("I32AddImm { dst: 2, a: 0, imm: 1 }, I32MulImm { dst: 2, a: 2, imm: 3 },"),
        "{head}"
    );
    assert!(!code(&i, 5).contains("TEE"), "{}", code(&i, 5));
}
