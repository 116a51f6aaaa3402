//! The translator's arithmetic fusions, run through the interpreter on an instance of the
//! test kit: shifts and rotations into the add, xor or or that reads them, multiplications
//! by constants into a sub or xor, unsigned division by a constant as a multiplication,
//! compare-and-select as minimum and maximum, bit-field extraction and insertion, and the
//! `i32.wrap_i64` that 32-bit readers make free. Each test checks the results (edge
//! values, wrap-around, traps) and the translated form, so it fails if the fusion is
//! removed or wrong. The other families: `control_fusions.rs`, `local_fusions.rs`,
//! `memory_fusions.rs`.

mod common;

use common::Interp;
use tierup_abi::TrapCode;
use tierup_testkit::Instance;

#[test]
fn shift_add_fuses_for_indexing() {
    // `base + (i << k)` becomes one instruction; it must wrap like the pair, mask the
    // shift count, and take either operand from the accumulator.
    let mut i = Instance::new(
        Interp::default(),
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
    );
    assert_eq!(i.i32("index", &[100, 7]), 128);
    assert_eq!(i.i32("index", &[u32::MAX as u64, 1]), 3);
    assert_eq!(i.i32("index", &[0, 0x4000_0001]), 4);
    assert_eq!(i.i32("index_first", &[5, 3]), 29);
    assert_eq!(i.i32("computed", &[9, 2]), 34);
    assert_eq!(i.i32("load", &[0, 4]), 4);
    let f = tierup_interp::translate(i.env(), 0).unwrap();
    assert!(format!("{f:?}").contains("I32AddShl"), "{f:?}");
}

#[test]
fn shifted_operands_fuse_into_add_xor_and_or() {
    // An add, xor or or of a constant shift or rotation is one instruction of the
    // shifted-operand family: shift counts modulo the width, rotations right as rotations
    // left, the shift on either side of a commutative operation, and chains in which the
    // shift's own operand comes from the accumulator.
    let mut i = Instance::new(
        Interp::default(),
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
    let code = |func| format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
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
        Interp::default(),
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
    let code = |func| format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
    assert!(code(0).contains("I32SubMulImm"), "{}", code(0));
    assert!(code(1).contains("I32SubMulImm"), "{}", code(1));
    assert_eq!(code(2).matches("I32XorMulImm").count(), 2, "{}", code(2));
    assert!(!code(2).contains("I32MulImm"), "{}", code(2));
}

#[test]
fn wraps_go_where_32_bit_code_reads_them() {
    // An `i32.wrap_i64` read by a load's address, an i32 operation, a compare-branch, a
    // `br_if`, `select` or `br_table` costs nothing: they read the low half of the i64's
    // register. The high half must not leak into them, nor into a local that keeps the
    // wrapped value (read in full by later code).
    let mut i = Instance::new(
        Interp::default(),
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
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(!code.contains("I32WrapI64"), "{code}");
    }
    let code = format!("{:?}", tierup_interp::translate(i.env(), 7).unwrap());
    assert!(code.contains("I32WrapI64"), "{code}");
}

#[test]
fn compare_and_select_become_min_max() {
    // `select(x, y, x < y)` and its variants are minima and maxima; each must keep the
    // signedness and width of its compare, and a select of other values stays a select.
    let mut i = Instance::new(
        Interp::default(),
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
        let f = tierup_interp::translate(i.env(), func).unwrap();
        assert!(format!("{f:?}").contains(name), "{f:?}");
    }
}

#[test]
fn bit_fields_fuse_shift_and_mask() {
    // `(x >> k) & m`, `(x & m) << k` and both: one `I32ShiftMask`, with wasm's shift
    // counts taken modulo 32.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "extract") (param i32) (result i32)
            local.get 0 i32.const 5 i32.shr_u i32.const 0x3f i32.and)
          (func (export "insert") (param i32) (result i32)
            local.get 0 i32.const 0xff i32.and i32.const 40 i32.shl)
          (func (export "move") (param i32) (result i32)
            local.get 0 i32.const 33 i32.shr_u i32.const 0xf i32.and i32.const 12 i32.shl
            i32.const 1 i32.or))"#,
    );
    let x = 0xdead_beef_u32;
    assert_eq!(i.i32("extract", &[x as u64]) as u32, (x >> 5) & 0x3f);
    assert_eq!(i.i32("insert", &[x as u64]) as u32, (x & 0xff) << 8);
    assert_eq!(
        i.i32("move", &[x as u64]) as u32,
        (((x >> 1) & 0xf) << 12) | 1
    );
    for func in 0..3 {
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
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
        Interp::default(),
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
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(code.contains("I32OrShiftMask"), "{code}");
        assert!(!code.contains("I32Or {"), "{code}");
    }
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
    let mut i = Instance::new(Interp::default(), &format!("(module {funcs})"));
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
        let code = format!("{:?}", tierup_interp::translate(i.env(), k as u32).unwrap());
        assert_eq!(code.contains("I32DivUMagic"), d >= 2, "{code}");
    }
}
