//! The translator's fused instructions, run through the interpreter on a hand-built
//! instance: each test checks the results (edge values, wrap-around, traps and their
//! offsets) and the translated form, so it fails if the fusion is removed or wrong. The
//! fusions around memory accesses: `memory_fusions.rs`.

mod harness;

use harness::Instance;
use tierup_abi::TrapCode;

#[test]
fn shift_add_fuses_for_indexing() {
    // `base + (i << k)` becomes one instruction; it must wrap like the pair, mask the
    // shift count, and take either operand from the accumulator.
    let mut i = Instance::new(
        r#"(module
          (memory 1)
          (func (export "index") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 2 i32.shl i32.add)
          (func (export "index_first") (param i32 i32) (result i32)
            local.get 1 i32.const 35 i32.shl local.get 0 i32.add)
          (func (export "computed") (param i32 i32) (result i32)
            local.get 0 i32.const 1 i32.add
            local.get 1 i32.const 1 i32.add i32.const 3 i32.shl i32.add)
          (func (export "load") (param i32 i32) (result i32)
            i32.const 64 local.get 1 i32.store
            local.get 0 local.get 1 i32.const 4 i32.shl i32.add i32.load))"#,
        1,
    );
    assert_eq!(i.i32("index", &[100, 7]), 128);
    assert_eq!(i.i32("index", &[u32::MAX as u64, 1]), 3);
    assert_eq!(i.i32("index", &[0, 0x4000_0001]), 4);
    assert_eq!(i.i32("index_first", &[5, 3]), 29);
    assert_eq!(i.i32("computed", &[9, 2]), 34);
    assert_eq!(i.i32("load", &[0, 4]), 4);
    let f = tierup_interp::translate(&i.env, 0).unwrap();
    assert!(format!("{f:?}").contains("I32AddShl"), "{f:?}");
}

#[test]
fn shifted_operands_fuse_into_add_xor_and_or() {
    // An add, xor or or of a constant shift or rotation is one instruction of the
    // shifted-operand family: shift counts modulo the width, rotations right as rotations
    // left, the shift on either side of a commutative operation, and chains in which the
    // shift's own operand comes from the accumulator.
    let mut i = Instance::new(
        r#"(module
          (func (export "sigma") (param i32) (result i32)
            local.get 0 i32.const 6 i32.rotr
            local.get 0 i32.const 11 i32.rotr i32.xor
            local.get 0 i32.const 57 i32.rotl i32.xor
            local.get 0 i32.const 3 i32.shr_u i32.xor)
          (func (export "mix") (param i32 i32) (result i32)
            local.get 1 i32.const 36 i32.shl local.get 0 i32.xor
            local.get 0 local.get 1 i32.const 7 i32.shr_u i32.add i32.add
            local.get 1 i32.const 1 i32.add i32.const 24 i32.shl i32.or
            local.get 0 i32.const 9 i32.shr_u i32.or)
          (func (export "xorshift") (param i64) (result i64)
            local.get 0 local.get 0 i64.const 13 i64.shl i64.xor local.tee 0
            local.get 0 i64.const 71 i64.shr_u i64.xor local.tee 0
            local.get 0 i64.const 17 i64.shl i64.xor))"#,
        0,
    );
    let sigma = |x: u32| x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_left(25) ^ (x >> 3);
    let mix = |x: u32, y: u32| {
        let t = (y << 4) ^ x;
        let t = t.wrapping_add(x.wrapping_add(y >> 7));
        (t | (y.wrapping_add(1) << 24)) | (x >> 9)
    };
    let xorshift = |mut x: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^ (x << 17)
    };
    for &(x, y) in &[
        (0u32, 0u32),
        (1, 0xffff_ffff),
        (0x6a09_e667, 0xbb67_ae85),
        (0x8000_0000, 0x7fff_ffff),
    ] {
        assert_eq!(i.i32("sigma", &[x as u64]) as u32, sigma(x));
        assert_eq!(i.i32("mix", &[x as u64, y as u64]) as u32, mix(x, y));
        let z = (x as u64) << 32 | y as u64;
        assert_eq!(i.i64("xorshift", &[z]) as u64, xorshift(z));
    }
    let code = |func| format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
    let sigma_code = code(0);
    assert_eq!(sigma_code.matches("I32XorRotl").count(), 2, "{sigma_code}");
    assert!(sigma_code.contains("I32XorShrU"), "{sigma_code}");
    let mix_code = code(1);
    for fused in ["I32XorShl", "I32AddShrU", "I32OrShl", "I32OrShrU"] {
        assert!(mix_code.contains(fused), "{fused}: {mix_code}");
    }
    let xorshift_code = code(2);
    assert_eq!(
        xorshift_code.matches("I64XorShl").count(),
        2,
        "{xorshift_code}"
    );
    assert!(xorshift_code.contains("I64XorShrU"), "{xorshift_code}");
    assert!(!xorshift_code.contains("ShlImm"), "{xorshift_code}");
}

#[test]
fn multiplications_by_constants_fuse_with_sub_and_xor() {
    // `x - (x / d) * d` (a remainder from its quotient) and FNV-1a's `(h ^ c) * p` are
    // one instruction each, wrapping as the pairs do; in "digits" the quotient comes
    // from the accumulator and the remainder's operand from a register.
    let mut i = Instance::new(
        r#"(module
          (func (export "rem") (param i32) (result i32)
            local.get 0 local.get 0 i32.const 10 i32.div_u i32.const 10 i32.mul i32.sub)
          (func (export "digits") (param i32) (result i32) (local i32 i32)
            loop
              local.get 0 i32.const 10 i32.div_u local.set 2
              local.get 1 i32.const 10 i32.mul
              local.get 0 local.get 2 i32.const 10 i32.mul i32.sub i32.add local.set 1
              local.get 2 local.tee 0
              br_if 0
            end
            local.get 1)
          (func (export "fnv") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.xor i32.const 16777619 i32.mul
            local.get 0 i32.xor i32.const 16777619 i32.mul))"#,
        0,
    );
    let fnv = |h: u32, c: u32| {
        let t = (h ^ c).wrapping_mul(16777619);
        (t ^ h).wrapping_mul(16777619)
    };
    let reversed = |mut x: u32| {
        let mut r = 0u32;
        loop {
            r = r.wrapping_mul(10).wrapping_add(x % 10);
            x /= 10;
            if x == 0 {
                return r;
            }
        }
    };
    for x in [0u32, 9, 10, 12345, 0x8000_0000, u32::MAX] {
        assert_eq!(i.i32("rem", &[x as u64]) as u32, x % 10, "{x}");
        assert_eq!(i.i32("digits", &[x as u64]) as u32, reversed(x), "{x}");
        assert_eq!(
            i.i32("fnv", &[2166136261, x as u64]) as u32,
            fnv(2166136261, x),
            "{x}"
        );
    }
    let code = |func| format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
    assert!(code(0).contains("I32SubMulImm"), "{}", code(0));
    assert!(code(1).contains("I32SubMulImm"), "{}", code(1));
    assert_eq!(code(2).matches("I32XorMulImm").count(), 2, "{}", code(2));
    assert!(!code(2).contains("I32MulImm"), "{}", code(2));
}

#[test]
fn zeroing_a_local_that_still_holds_its_initial_zero_emits_nothing() {
    // Declared locals start at zero: setting one to zero before anything names it, outside
    // loops, needs no instruction. A parameter, a local written before, and a set inside
    // a loop (where a later write comes round to it) keep theirs; -0.0 is not zero bits.
    let mut i = Instance::new(
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
        0,
    );
    assert_eq!(i.i32("sum", &[4]), 10);
    assert_eq!(i.i32("param", &[5]), 0);
    assert_eq!(i.i32("after_write", &[5]), 0);
    assert_eq!(i.i32("in_loop", &[3]), 7);
    assert_eq!(
        i.call("negative_zero", &[]).unwrap()[0],
        (-0.0f64).to_bits()
    );
    let code = |func| format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
    assert!(!code(0).contains("Copy"), "{}", code(0));
    for func in 1..5 {
        assert!(code(func).contains("Copy"), "{}", code(func));
    }
}

#[test]
fn wraps_go_where_32_bit_code_reads_them() {
    // An `i32.wrap_i64` read by a load's address, an i32 operation, a compare-branch, a
    // `br_if`, `select` or `br_table` costs nothing: they read the low half of the i64's
    // register. The high half must not leak into them, nor into a local that keeps the
    // wrapped value (read in full by later code).
    let mut i = Instance::new(
        r#"(module
          (memory 1)
          (func (export "load") (param i64) (result i32)
            i32.const 8 i32.const 42 i32.store
            local.get 0 i32.wrap_i64 i32.load)
          (func (export "add") (param i64 i32) (result i32)
            local.get 1 local.get 0 i32.wrap_i64 i32.add)
          (func (export "shifted") (param i64) (result i32)
            local.get 0 i64.const 32 i64.rotl i32.wrap_i64 i32.const 1 i32.add)
          (func (export "branch") (param i64) (result i32)
            block
              local.get 0 i32.wrap_i64 i32.const 5 i32.lt_u br_if 0
              i32.const 0 return
            end
            i32.const 1)
          (func (export "select") (param i64) (result i32)
            i32.const 7 i32.const 9 local.get 0 i32.wrap_i64 select)
          (func (export "nez") (param i64) (result i32)
            block
              local.get 0 i32.wrap_i64 br_if 0
              i32.const 0 return
            end
            i32.const 1)
          (func (export "table") (param i64) (result i32)
            block
              block
                local.get 0 i32.wrap_i64 br_table 0 1
              end
              i32.const 10 return
            end
            i32.const 20)
          (func (export "kept") (param i64) (result i64)
            (local i32)
            local.get 0 i32.wrap_i64 local.set 1
            local.get 1 i64.extend_i32_u))"#,
        1,
    );
    let high = 0xdead_beef_0000_0000_u64;
    assert_eq!(i.i32("load", &[high | 8]), 42);
    let t = i.call("load", &[high | 0xffff_fffe]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(i.i32("add", &[high | 7, 3]), 10);
    assert_eq!(i.i32("add", &[high | 0xffff_ffff, 3]), 2);
    assert_eq!(i.i32("shifted", &[0x1234_5678_0000_0009]), 0x1234_5679);
    assert_eq!(i.i32("branch", &[high | 4]), 1);
    assert_eq!(i.i32("branch", &[high | 5]), 0);
    for (low, chosen, taken, case) in [(0, 9, 0, 10), (1, 7, 1, 20), (2, 7, 1, 20)] {
        assert_eq!(i.i32("select", &[high | low]), chosen);
        assert_eq!(i.i32("nez", &[high | low]), taken);
        assert_eq!(i.i32("table", &[high | low]), case);
    }
    assert_eq!(i.i64("kept", &[high | 5]), 5);
    for func in 0..7 {
        let code = format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
        assert!(!code.contains("I32WrapI64"), "{code}");
    }
    let code = format!("{:?}", tierup_interp::translate(&i.env, 7).unwrap());
    assert!(code.contains("I32WrapI64"), "{code}");
}

#[test]
fn loop_counters_fuse_into_back_edges() {
    // `i = i + k` just before a loop's `br_if` on `i` becomes part of the branch. The
    // counter must still be written, wrap in its own width, and keep its value when the
    // loop exits.
    let mut i = Instance::new(
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
        0,
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
        let f = tierup_interp::translate(&i.env, func).unwrap();
        let text = format!("{f:?}");
        assert!(
            !text.contains("I64Add {") && !text.contains("I32Add {"),
            "{text}"
        );
    }
    for func in 0..2 {
        let f = tierup_interp::translate(&i.env, func).unwrap();
        assert!(!format!("{f:?}").contains("I32AddImm"), "{f:?}");
    }
    let f = tierup_interp::translate(&i.env, 2).unwrap();
    assert!(format!("{f:?}").contains("add: Step(-1) }"), "{f:?}");
}

#[test]
fn compare_and_select_become_min_max() {
    // `select(x, y, x < y)` and its variants are minima and maxima; each must keep the
    // signedness and width of its compare, and a select of other values stays a select.
    let mut i = Instance::new(
        r#"(module
          (func (export "min_u") (param i32 i32) (result i32)
            local.get 0 local.get 1 local.get 0 local.get 1 i32.lt_u select)
          (func (export "max_s") (param i32 i32) (result i32)
            local.get 0 local.get 1 local.get 0 local.get 1 i32.gt_s select)
          (func (export "max_u_swapped") (param i32 i32) (result i32)
            local.get 1 local.get 0 local.get 0 local.get 1 i32.le_u select)
          (func (export "min_s64") (param i64 i64) (result i64)
            local.get 1 local.get 0 local.get 0 local.get 1 i64.ge_s select)
          (func (export "not_min") (param i32 i32) (result i32)
            local.get 0 i32.const 7 local.get 0 local.get 1 i32.lt_u select))"#,
        0,
    );
    let m1 = u32::MAX as u64;
    assert_eq!(i.i32("min_u", &[3, m1]), 3);
    assert_eq!(i.i32("min_u", &[m1, 3]), 3);
    assert_eq!(i.i32("max_s", &[3, m1]), 3);
    assert_eq!(i.i32("max_s", &[m1, 3]), 3);
    assert_eq!(i.i32("max_s", &[m1, m1]), -1);
    assert_eq!(i.i32("max_u_swapped", &[3, m1]), -1);
    assert_eq!(i.i32("max_u_swapped", &[5, 5]), 5);
    assert_eq!(i.i64("min_s64", &[u64::MAX, 3]), -1);
    assert_eq!(i.i64("min_s64", &[3, 1 << 40]), 3);
    assert_eq!(i.i32("not_min", &[3, 9]), 3);
    assert_eq!(i.i32("not_min", &[9, 3]), 7);
    for (func, name) in [
        (0, "I32MinU"),
        (1, "I32MaxS"),
        (2, "I32MaxU"),
        (3, "I64MinS"),
    ] {
        let f = tierup_interp::translate(&i.env, func).unwrap();
        assert!(format!("{f:?}").contains(name), "{f:?}");
    }
}

#[test]
fn dispatch_heads_are_copied_to_the_cases() {
    // A `loop { br_table }` interpreter: each case's jump back to the head becomes a copy
    // of the head (its own `br_table`), whose entries keep their targets.
    let mut i = Instance::new(
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
        1,
    );
    // ((0 + 1) * 2 * 2 - 3 + 1) * 2 = 4, then halt.
    assert_eq!(i.i32("run", &[100]), 104);
    let f = tierup_interp::translate(&i.env, 0).unwrap();
    assert_eq!(format!("{f:?}").matches("BrTable").count(), 4, "{f:?}");
}

#[test]
fn consecutive_copies_pair_up() {
    // Two copies in a row are one `Copy2`, which copies in order: the second may read
    // what the first wrote. A copy at a label (a loop header here) starts a new pair.
    let mut i = Instance::new(
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
        0,
    );
    assert_eq!(i.i32("chain", &[1, 2]), 2);
    assert_eq!(i.i32("fib", &[10]), 55);
    assert_eq!(i.i32("fib", &[1]), 1);
    for func in [0, 1] {
        let code = format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
        assert!(code.contains("Copy2"), "{code}");
    }
}

#[test]
fn bit_fields_fuse_shift_and_mask() {
    // `(x >> k) & m`, `(x & m) << k` and both: one `I32ShiftMask`, with wasm's shift
    // counts taken modulo 32.
    let mut i = Instance::new(
        r#"(module
          (func (export "extract") (param i32) (result i32)
            local.get 0 i32.const 5 i32.shr_u i32.const 0x3f i32.and)
          (func (export "insert") (param i32) (result i32)
            local.get 0 i32.const 0xff i32.and i32.const 40 i32.shl)
          (func (export "move") (param i32) (result i32)
            local.get 0 i32.const 33 i32.shr_u i32.const 0xf i32.and i32.const 12 i32.shl
            i32.const 1 i32.or))"#,
        0,
    );
    let x = 0xdead_beef_u32;
    assert_eq!(i.i32("extract", &[x as u64]) as u32, (x >> 5) & 0x3f);
    assert_eq!(i.i32("insert", &[x as u64]) as u32, (x & 0xff) << 8);
    assert_eq!(
        i.i32("move", &[x as u64]) as u32,
        (((x >> 1) & 0xf) << 12) | 1
    );
    for func in 0..3 {
        let code = format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
        assert_eq!(code.matches("I32ShiftMask").count(), 1, "{code}");
        assert!(
            !code.contains("ShlImm") && !code.contains("AndImm"),
            "{code}"
        );
    }
}

#[test]
fn bit_fields_fuse_into_the_or_that_inserts_them() {
    // An `I32ShiftMask` read only by an `i32.or` is one `I32OrShiftMask`: the swap steps
    // of a bit reversal (the field on either side of the or) and an insertion whose
    // field comes from a computed value.
    let mut i = Instance::new(
        r#"(module
          (func (export "reverse") (param i32) (result i32)
            local.get 0 i32.const 1 i32.shr_u i32.const 0x55555555 i32.and
            local.get 0 i32.const 0x55555555 i32.and i32.const 1 i32.shl i32.or local.set 0
            local.get 0 i32.const 0x33333333 i32.and i32.const 2 i32.shl
            local.get 0 i32.const 2 i32.shr_u i32.const 0x33333333 i32.and i32.or)
          (func (export "insert") (param i32 i32) (result i32)
            local.get 0
            local.get 1 i32.const 1 i32.add i32.const 3 i32.shr_u i32.const 0xf i32.and
            i32.const 8 i32.shl
            i32.or))"#,
        0,
    );
    let swap = |x: u32, k: u32, m: u32| ((x >> k) & m) | ((x & m) << k);
    for x in [0u32, 1, 0x8000_0001, 0xdead_beef, u32::MAX] {
        let want = swap(swap(x, 1, 0x5555_5555), 2, 0x3333_3333);
        assert_eq!(i.i32("reverse", &[x as u64]) as u32, want, "{x:#x}");
        let y = x.rotate_left(7);
        let want = x | ((y.wrapping_add(1) >> 3) & 0xf) << 8;
        assert_eq!(
            i.i32("insert", &[x as u64, y as u64]) as u32,
            want,
            "{x:#x}"
        );
    }
    for func in 0..2 {
        let code = format!("{:?}", tierup_interp::translate(&i.env, func).unwrap());
        assert!(code.contains("I32OrShiftMask"), "{code}");
        assert!(!code.contains("I32Or {"), "{code}");
    }
}

#[test]
fn local_increments_pair_up() {
    // Two increments of locals in a row are one `I32AddImm2` (in order: the second may
    // read what the first wrote); one just before a loop's back edge still fuses into it.
    let mut i = Instance::new(
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
        0,
    );
    // local 1 advances by 2 each round before it is summed: 2 + 4 + ... + 2 * 10.
    assert_eq!(i.i32("sum", &[10]), 110);
    let code = format!("{:?}", tierup_interp::translate(&i.env, 0).unwrap());
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
        0,
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
    let walk_code = format!("{:?}", tierup_interp::translate(&i.env, 0).unwrap());
    assert_eq!(walk_code.matches("I32Add2").count(), 2, "{walk_code}");
    let count_code = format!("{:?}", tierup_interp::translate(&i.env, 1).unwrap());
    assert!(!count_code.contains("I32Add2"), "{count_code}");
    assert!(count_code.contains("[PRE|ADD_REG]"), "{count_code}");
}

#[test]
fn br_table_takes_its_index_from_the_accumulator() {
    // The index computed just before the `br_table` reaches it without a register;
    // every entry and the default (an index past the end) still land right.
    let mut i = Instance::new(
        r#"(module
          (func (export "f") (param i32) (result i32)
            block block block
              local.get 0 i32.const 1 i32.sub br_table 0 1 2
            end i32.const 10 return
            end i32.const 20 return
            end i32.const 30))"#,
        0,
    );
    for (x, r) in [(1, 10), (2, 20), (3, 30), (4, 30), (0, 30)] {
        assert_eq!(i.i32("f", &[x]), r, "f({x})");
    }
    let code = format!("{:?}", tierup_interp::translate(&i.env, 0).unwrap());
    assert!(code.contains("len: 2 } [A]"), "{code}");
}

#[test]
fn unsigned_division_by_a_constant_is_a_multiplication() {
    // Every divisor from 2 up becomes `I32DivUMagic`; its quotients must be exact for
    // the dividends at the edges (0, the divisor's neighbourhood, the top of the range)
    // and a spread of others. A divisor 0 still traps, 1 stays a division.
    let divisors: [u32; 14] = [
        0,
        1,
        2,
        3,
        5,
        7,
        10,
        16,
        641,
        65535,
        65536,
        0x7fff_ffff,
        0x8000_0001,
        u32::MAX,
    ];
    let funcs: String = divisors
        .iter()
        .enumerate()
        .map(|(k, d)| {
            format!(
                "(func (export \"d{k}\") (param i32) (result i32) local.get 0 i32.const {} i32.div_u)",
                *d as i32
            )
        })
        .collect();
    let mut i = Instance::new(&format!("(module {funcs})"), 0);
    let mut dividends = vec![
        0u32,
        1,
        2,
        3,
        u32::MAX,
        u32::MAX - 1,
        0x8000_0000,
        0x7fff_ffff,
    ];
    let mut x = 0x9e37_79b9u32;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        dividends.push(x);
    }
    for (k, &d) in divisors.iter().enumerate() {
        let name = format!("d{k}");
        if d == 0 {
            let t = i.call(&name, &[7]).unwrap_err();
            assert_eq!(t.code, Some(TrapCode::IntegerDivideByZero));
            continue;
        }
        let near = [d.wrapping_sub(1), d, d.wrapping_add(1), d.wrapping_mul(3)];
        for &n in dividends.iter().chain(&near) {
            assert_eq!(i.i32(&name, &[n as u64]) as u32, n / d, "{n} / {d}");
        }
        let code = format!("{:?}", tierup_interp::translate(&i.env, k as u32).unwrap());
        assert_eq!(code.contains("I32DivUMagic"), d >= 2, "{code}");
    }
}

#[test]
fn eqz_fuses_with_its_branch() {
    let mut i = Instance::new(
        r#"(module
          (func (export "f") (param i32) (result i32)
            block local.get 0 i32.eqz br_if 0 i32.const 5 return end
            i32.const 7))"#,
        0,
    );
    assert_eq!(i.i32("f", &[0]), 7);
    assert_eq!(i.i32("f", &[3]), 5);
    let f = tierup_interp::translate(&i.env, 0).unwrap();
    let code = format!("{f:?}");
    assert!(!code.contains("I32Eqz") && code.contains("BrEqz"), "{code}");
}

/// The wasm offset of the first `i32.load` of function `func`.
#[test]
fn forward_branches_take_the_increment_before_them() {
    // A forward `br_if` (or an `if`) on a register just advanced by a constant or a
    // register takes the add in (`PRE`), as back edges do: `if (++c < n)`. The register
    // holds the sum on both paths; other branches to the same block still land; the sum
    // wraps (`when(0, 5)`: -1 is above 5 unsigned).
    let mut i = Instance::new(
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
        0,
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
    let when = format!("{:?}", tierup_interp::translate(&i.env, 2).unwrap());
    // The increment also passes to the `+ 100` after the branch (form `TEE`).
    assert!(
        when.contains("[PRE|TEE], I32AddImm { dst: 2, a: 0, imm: 100 } [A]"),
        "{when}"
    );
    let count = format!("{:?}", tierup_interp::translate(&i.env, 0).unwrap());
    assert_eq!(count.matches("[PRE").count(), 2, "{count}");
    let step = format!("{:?}", tierup_interp::translate(&i.env, 1).unwrap());
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
        r#"(module
          (type $t (func (param i32) (result i32)))
          (table 5 funcref)
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
          (func (export "fib") (param i32) (result i32) local.get 0 call $fib)
          (func (export "twice") (param $x i32) (param $k i32) (result i32)
            local.get $x local.get $k call_indirect (type $t))
          (func (export "nested") (param $x i32) (result i32)
            local.get $x call $g i32.const 1 i32.add call $h))"#,
        0,
    );
    assert_eq!(i.i32("nested", &[5]), 80);
    assert_eq!(i.i32("fib", &[20]), 6765);
    assert_eq!(i.i32("twice", &[7, 1]), 21);
    assert_eq!(i.i32("twice", &[7, 0]), 13);
    // The harness's table holds the six functions in order.
    let t = i.call("twice", &[7, 4]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IndirectCallTypeMismatch));
    let fib = format!("{:?}", tierup_interp::translate(&i.env, 0).unwrap());
    assert_eq!(fib.matches("} [PRE]").count(), 2, "{fib}");
    assert!(fib.contains("arg: 0, step: Step(-1) } [PRE]"), "{fib}");
    let twice = format!("{:?}", tierup_interp::translate(&i.env, 4).unwrap());
    assert!(
        twice.contains("CallIndirect") && twice.contains("} [PRE]"),
        "{twice}"
    );
    let nested = format!("{:?}", tierup_interp::translate(&i.env, 5).unwrap());
    assert_eq!(nested.matches("[PRE]").count(), 1, "{nested}");
    assert!(
        nested.contains("I32AddImm { dst: 1, a: 1, imm: 1 }"),
        "{nested}"
    );
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
        0,
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

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(&i.env, f).unwrap());
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

#[test]
fn branches_over_jumps_are_inverted() {
    // `br_if $a; br $b; $a:` is one branch to `$b` with the condition negated, the jump
    // gone: `c + 1 < n && a[c + 1] > a[c]`, a float compare (its negation is taken on
    // NaN), a counting branch that keeps its step (and becomes a loop on itself), and a
    // jump that another branch also reaches, which stays.
    let mut i = Instance::new(
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
        1,
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

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(&i.env, f).unwrap());
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
