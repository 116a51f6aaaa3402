//! The translator's fusions around memory accesses, run through the interpreter on an
//! instance of the test kit: address arithmetic taken into loads and stores (constant
//! adds, indexed addressing, arithmetic folded from earlier instructions), loads fused
//! into the operation or branch that reads them, and the load-and-store pairs. Each test
//! checks the results (wrap-around, traps and their offsets) and the translated form, so
//! it fails if the fusion is removed or wrong. The other families: `arith_fusions.rs`,
//! `control_fusions.rs`, `local_fusions.rs`.

mod common;

use common::{Interp, offset_of};
use tierup_abi::TrapCode;
use tierup_testkit::Instance;

#[test]
fn constant_address_adds_fuse_into_accesses() {
    // `i32.add` of a constant, then an access without offset: one instruction whose
    // offset is added in 32-bit arithmetic, as the add did (an offset proper does not
    // wrap). A trap reports the access's offset.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "load") (param i32) (result i32)
            local.get 0 i32.const 8 i32.add i32.load)
          (func (export "load_offset") (param i32) (result i32)
            local.get 0 i32.load offset=8)
          (func (export "store") (param i32 i32)
            local.get 0 i32.const 16 i32.add local.get 1 i32.store)
          (func (export "store_computed") (param i32 i32)
            local.get 0 i32.const 1 i32.add i32.const 3 i32.add local.get 1 i32.store8))"#,
    );
    i.call("store", &[0, 0x1234_5678]).unwrap();
    assert_eq!(i.i32("load", &[8]), 0x1234_5678);
    // 0xffff_fff8 + 8 wraps to 0 in the add; as an offset it is out of bounds.
    assert_eq!(i.i32("load", &[0xffff_fff8]), 0);
    let t = i.call("load_offset", &[0xffff_fff8]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    i.call("store", &[0xffff_fff4, 7]).unwrap();
    assert_eq!(i.i32("load", &[0xffff_fffc]), 7);
    i.call("store_computed", &[0xffff_fffc, 0xab]).unwrap();
    assert_eq!(i.i32("load", &[0xffff_fff8]), 0xab);
    let t = i.call("load", &[65536]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(t.frames[0].code_offset as u64, i32_load_offset(&i, 0));
    let f = tierup_interp::translate(i.env(), 0).unwrap();
    assert!(!format!("{f:?}").contains("I32AddImm"), "{f:?}");
}

#[test]
fn loads_fuse_into_the_operation_that_reads_them() {
    // `x + load(p)` and `x * load(p)` as one instruction: the loaded value is the second
    // operand, the address may be computed just before, and a bad address traps where
    // the load is.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "setup")
            i32.const 8 f64.const 2.5 f64.store
            i32.const 16 i32.const 40 i32.store)
          (func (export "fadd") (param f64 i32) (result f64)
            local.get 0 local.get 1 f64.load f64.add)
          (func (export "fmul_computed") (param f64 i32) (result f64)
            local.get 0 local.get 1 i32.const 4 i32.mul f64.load f64.mul)
          (func (export "iadd") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.load offset=8 i32.add))"#,
    );
    i.call("setup", &[]).unwrap();
    let r = i.call("fadd", &[1.25f64.to_bits(), 8]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 3.75);
    let r = i.call("fmul_computed", &[4f64.to_bits(), 2]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 10.0);
    assert_eq!(i.i32("iadd", &[u32::MAX as u64, 8]), 39);
    let t = i.call("iadd", &[1, 65530]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(t.frames[0].code_offset as u64, i32_load_offset(&i, 3));
    for (func, name) in [(1, "F64AddLoad"), (2, "F64MulLoad"), (3, "I32AddLoad")] {
        let f = tierup_interp::translate(i.env(), func).unwrap();
        assert!(format!("{f:?}").contains(name), "{f:?}");
    }
}

#[test]
fn fused_loads_wrap_and_link() {
    // `x * load(p) + load(q + 8)`: the second load's address add (32-bit, wrapping) and
    // the load fuse into the add, and the product then reaches it through the
    // accumulator; a bad address still traps at the second load.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "setup")
            i32.const 0 f64.const 0.5 f64.store
            i32.const 16 f64.const 3 f64.store
            i32.const 24 f64.const 10 f64.store)
          (func (export "f") (param f64 i32 i32) (result f64)
            local.get 0 local.get 1 f64.load f64.mul
            local.get 2 i32.const 8 i32.add f64.load f64.add))"#,
    );
    i.call("setup", &[]).unwrap();
    let f = |x: f64| x.to_bits();
    let r = i.call("f", &[f(2.0), 16, 16]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 16.0);
    // q + 8 wraps around to 0.
    let r = i.call("f", &[f(2.0), 24, u32::MAX as u64 - 7]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 20.5);
    let t = i.call("f", &[f(2.0), 16, 65530]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    let mut ops = i
        .env()
        .body_reader(1)
        .unwrap()
        .get_operators_reader()
        .unwrap();
    let second_load = std::iter::from_fn(|| ops.read_with_offset().ok())
        .filter(|(op, _)| matches!(op, wasmparser::Operator::F64Load { .. }))
        .nth(1)
        .unwrap()
        .1;
    assert_eq!(t.frames[0].code_offset as u64, second_load as u64);
    let code = format!("{:?}", tierup_interp::translate(i.env(), 1).unwrap());
    assert!(code.contains("offset: 0 } [OUT]"), "{code}");
    assert!(code.contains("offset: 8 } [A|WRAP]"), "{code}");
}

#[test]
fn indexed_accesses_take_the_address_add_in() {
    // `base + i` and `base + (i << k)` fuse into the access that reads them: the sum
    // wraps at 32 bits as the add did, the offset is then added without wrapping, the
    // index may come from the instruction before, and a trap is the access's.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "load") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add i32.load offset=4)
          (func (export "load_scaled") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 1 i32.add i32.const 2 i32.shl i32.add
            i32.load16_s)
          (func (export "store") (param i32 i32 i64)
            local.get 0 local.get 1 i32.const 3 i32.shl i32.add local.get 2 i64.store)
          (func (export "load64") (param i32 i32) (result i64)
            local.get 1 local.get 0 i32.const 3 i32.shl i32.add i64.load))"#,
    );
    // 0xffff_fff0 + 0x18 wraps to 8; the offset makes it 12.
    i.call("store", &[0, 1, 0x1234_5678_9abc_def0]).unwrap();
    assert_eq!(i.i32("load", &[0xffff_fff0, 0x18]), 0x1234_5678);
    assert_eq!(i.i64("load64", &[1, 0]), 0x1234_5678_9abc_def0);
    // 16 + ((-3 + 1) << 2) = 8: the low half of the stored value, sign-extended.
    assert_eq!(
        i.i32("load_scaled", &[16, (-3i32) as u32 as u64]),
        0xffff_def0_u32 as i32
    );
    // The wrapped sum is 65532; the offset takes the access past the end (no wrap).
    let t = i.call("load", &[0xffff_fffc, 0x1_0000]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(t.frames[0].code_offset as u64, i32_load_offset(&i, 0));
    let t = i.call("store", &[65536, 0, 0]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    for (func, form) in [(0, "INDEX]"), (1, "B|INDEX]"), (2, "INDEX]"), (3, "INDEX]")] {
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(code.contains(form), "{code}");
        assert!(
            !code.contains("I32Add {") && !code.contains("I32AddShl"),
            "{code}"
        );
    }
}

#[test]
fn byte_compares_take_the_load_in() {
    // An indexed `i32.load8_u` whose byte only an `==`/`!=` branch reads is one
    // instruction with it: the loop of a common prefix, either sense of the branch, and
    // a trap past the end of memory reported as the load's.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "init")
            i32.const 0 i64.const 0x6665_6463_6261 i64.store
            i32.const 100 i64.const 0x6665_7863_6261 i64.store)
          (func (export "common") (param i32 i32 i32) (result i32) (local i32)
            block
              loop
                local.get 3 local.get 2 i32.ge_u br_if 1
                local.get 0 local.get 3 i32.add i32.load8_u
                local.get 1 local.get 3 i32.add i32.load8_u
                i32.ne br_if 1
                local.get 3 i32.const 1 i32.add local.set 3
                br 0
              end
            end
            local.get 3)
          (func (export "find") (param i32 i32 i32) (result i32) (local i32)
            loop
              local.get 2 local.get 0 local.get 3 i32.add i32.load8_u
              i32.ne
              if
                local.get 3 i32.const 1 i32.add local.tee 3 local.get 1 i32.lt_u br_if 1
              end
            end
            local.get 3))"#,
    );
    i.call("init", &[]).unwrap();
    assert_eq!(i.i32("common", &[0, 100, 6]), 3);
    assert_eq!(i.i32("common", &[0, 0, 5]), 5);
    assert_eq!(i.i32("common", &[1, 101, 6]), 2);
    // "abcdef": 'd' at 3; 'z' is not there, the scan stops at the limit.
    assert_eq!(i.i32("find", &[0, 6, b'd' as u64]), 3);
    assert_eq!(i.i32("find", &[0, 6, b'z' as u64]), 6);
    // Zeros at 200.. and 65534..: the second load runs off the end.
    let t = i.call("common", &[200, 65534, 8]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    let common = format!("{:?}", tierup_interp::translate(i.env(), 1).unwrap());
    assert!(common.contains("BrI32NeLoad8U"), "{common}");
    let find = format!("{:?}", tierup_interp::translate(i.env(), 2).unwrap());
    assert!(find.contains("BrI32EqLoad8U"), "{find}");
}

#[test]
fn address_constants_fold_into_later_accesses() {
    // `base + 16` computed before the index it is added to: the access takes the
    // constant in (32-bit wrapping, as the add did) and the add goes, unless the local it
    // read is written in between.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "setup")
            i32.const 0 i32.const 3 i32.store8
            i32.const 28 i32.const 77 i32.store
            i32.const 12 i32.const 55 i32.store)
          (func (export "get") (param i32 i32) (result i32)
            local.get 0 i32.const 16 i32.add
            local.get 1 i32.load8_u i32.const 2 i32.shl i32.add i32.load)
          (func (export "get_plain") (param i32 i32) (result i32)
            local.get 0 i32.const 12 i32.add local.get 1 drop i32.load)
          (func (export "moved") (param i32 i32) (result i32)
            local.get 0 i32.const 16 i32.add
            i32.const 100 local.set 0
            local.get 1 i32.load8_u i32.const 2 i32.shl i32.add i32.load))"#,
    );
    i.call("setup", &[]).unwrap();
    // 0 + 16 + 3 * 4 = 28.
    assert_eq!(i.i32("get", &[0, 0]), 77);
    // 0xffff_fff0 + 16 wraps to 0, and 0 + 3 * 4 = 12.
    assert_eq!(i.i32("get", &[0xffff_fff0, 0]), 55);
    assert_eq!(i.i32("get_plain", &[0, 0]), 55);
    assert_eq!(i.i32("get_plain", &[0xffff_fffc, 0]), 0);
    assert_eq!(i.i32("get_plain", &[0xffff_fff4, 0]), 3);
    assert_eq!(i.i32("moved", &[0, 0]), 77);
    let t = i.call("get", &[65520, 0]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(t.frames[0].code_offset as u64, i32_load_offset(&i, 1));
    for func in [1, 2] {
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(
            !code.contains("I32AddImm") && code.contains("WRAP"),
            "{code}"
        );
    }
    let code = format!("{:?}", tierup_interp::translate(i.env(), 3).unwrap());
    assert!(code.contains("I32AddImm"), "{code}");
}

#[test]
fn store_addresses_fold_past_the_value() {
    // A store's address is computed before its value: `(base + 16) + i` and `base + i`
    // fold into the store past the load of the value (INDEX, with WRAP for the constant).
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "copy_byte") (param i32 i32 i32)
            local.get 0 i32.const 16 i32.add local.get 1 i32.add
            local.get 2 i32.load8_u i32.store8)
          (func (export "copy_word") (param i32 i32 i32)
            local.get 0 local.get 1 i32.add
            local.get 2 i32.load i32.store offset=4)
          (func (export "word") (param i32) (result i32) local.get 0 i32.load)
          (func (export "blend") (param $i i32) (param $x i32) (param $y i32)
            local.get $i i32.const 1000 i32.add
            local.get $x local.get $y i32.mul
            local.get $x i32.sub
            i32.const 3 i32.rotl
            local.get $y i32.xor
            local.get $x i32.mul
            local.get $y i32.const 7 i32.rem_u i32.sub
            local.get $x i32.const 1 i32.shr_u i32.add
            local.get $y i32.rotr
            i32.store16)
          (func (export "setup")
            i32.const 200 i32.const 0x11223344 i32.store
            i32.const 300 i32.const 0x5a i32.store8))"#,
    );
    i.call("setup", &[]).unwrap();
    // 0 + 16 + 4 = 20.
    i.call("copy_byte", &[0, 4, 300]).unwrap();
    assert_eq!(i.i32("word", &[20]), 0x5a);
    // 0xffff_fff0 + 16 wraps to 0, + 40.
    i.call("copy_byte", &[0xffff_fff0, 40, 300]).unwrap();
    assert_eq!(i.i32("word", &[40]), 0x5a);
    // 100 + 4, and the offset 4.
    i.call("copy_word", &[100, 4, 200]).unwrap();
    assert_eq!(i.i32("word", &[108]), 0x1122_3344);
    let t = i.call("copy_byte", &[65530, 10, 300]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    // The address of `c[i]` computed eight instructions (translated) before its store,
    // as a compiler schedules it ahead of the value's arithmetic.
    let blend = |i: u32, x: u32, y: u32| {
        let v = (x.wrapping_mul(y).wrapping_sub(x).rotate_left(3) ^ y).wrapping_mul(x);
        (
            v.wrapping_sub(y % 7).wrapping_add(x >> 1).rotate_right(y) as u16,
            i.wrapping_add(1000),
        )
    };
    for (at, x, y) in [(4, 0xdead_beef, 0x1234_5679), (0xffff_fc19, 77, 3)] {
        let (v, ea) = blend(at, x, y);
        i.call("blend", &[at as u64, x as u64, y as u64]).unwrap();
        assert_eq!(i.i32("word", &[ea as u64]) as u16, v);
    }
    let t = i.call("blend", &[64535, 1, 2]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    let code = format!("{:?}", tierup_interp::translate(i.env(), 3).unwrap());
    assert!(!code.contains("I32AddImm"), "{code}");
    assert!(code.contains("offset: 1000 } [B|WRAP]"), "{code}");
    for func in [0, 1] {
        let code = format!("{:?}", tierup_interp::translate(i.env(), func).unwrap());
        assert!(!code.contains("I32Add"), "{code}");
        assert!(code.contains("INDEX]"), "{code}");
    }
}

/// The module offset of the first `i32.load` of function `func`.
fn i32_load_offset(i: &Instance, func: u32) -> u64 {
    offset_of(i, func, |op| {
        matches!(op, wasmparser::Operator::I32Load { .. })
    }) as u64
}

#[test]
fn element_addresses_kept_in_locals_fuse_with_their_load() {
    // An element's address computed into a local (kept for the store back through it)
    // and the element loaded from it are one instruction: heap sort's sift-down swaps
    // through two such addresses. The address wraps in 32 bits as the add did; the load
    // adds its offset without wrapping, and traps past the end of memory.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func $sift (param $a i32) (param $root i32) (param $n i32)
            (local $c i32) (local $pr i32) (local $pc i32) (local $vr i32) (local $vc i32)
            block $done
              loop $next
                local.get $root i32.const 1 i32.shl i32.const 1 i32.or local.tee $c
                local.get $n i32.ge_s br_if $done
                local.get $c i32.const 1 i32.add local.get $n i32.lt_s
                if
                  local.get $a local.get $c i32.const 1 i32.add i32.const 2 i32.shl i32.add
                  i32.load
                  local.get $a local.get $c i32.const 2 i32.shl i32.add i32.load
                  i32.gt_u
                  if local.get $c i32.const 1 i32.add local.set $c end
                end
                local.get $a local.get $root i32.const 2 i32.shl i32.add local.tee $pr
                i32.load local.set $vr
                local.get $a local.get $c i32.const 2 i32.shl i32.add local.tee $pc
                i32.load local.tee $vc
                local.get $vr i32.le_u br_if $done
                local.get $pr local.get $vc i32.store
                local.get $pc local.get $vr i32.store
                local.get $c local.set $root
                br $next
              end
            end)
          (func (export "heapsort") (param $a i32) (param $n i32) (local $i i32) (local $t i32)
            local.get $n i32.const 1 i32.shr_s local.set $i
            block $built
              loop $build
                local.get $i i32.eqz br_if $built
                local.get $i i32.const 1 i32.sub local.set $i
                local.get $a local.get $i local.get $n call $sift
                br $build
              end
            end
            block $sorted
              loop $pop
                local.get $n i32.const 1 i32.le_s br_if $sorted
                local.get $n i32.const 1 i32.sub local.set $n
                local.get $a i32.load local.set $t
                local.get $a local.get $a local.get $n i32.const 2 i32.shl i32.add
                local.tee $i i32.load i32.store
                local.get $i local.get $t i32.store
                local.get $a i32.const 0 local.get $n call $sift
                br $pop
              end
            end)
          (func (export "elem") (param $a i32) (param $i i32) (result i32) (local $p i32)
            local.get $a local.get $i i32.const 5 i32.shl i32.add local.tee $p
            i32.load offset=4 local.get $p i32.add)
          (func (export "reuse") (param $x i32) (param $y i32) (param $b i32) (result i32)
            (local $v i32)
            ;; An address from x and y, then x rewritten by the fused pair before the
            ;; access: the access must not take in the arithmetic (it would read the new x).
            local.get $x local.get $y i32.add
            local.get $b local.get $y i32.const 2 i32.shl i32.add local.tee $x
            i32.load local.set $v
            i32.load local.get $v i32.add))"#,
    );
    let mut x = 12345u32;
    let mut keys: Vec<u32> = (0..1000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            x >> 4
        })
        .collect();
    for (k, &v) in keys.iter().enumerate() {
        i.put_u32(64 + 4 * k, v);
    }
    i.call("heapsort", &[64, 1000]).unwrap();
    keys.sort_unstable();
    let sorted: Vec<u32> = (0..1000).map(|k| i.get_u32(64 + 4 * k)).collect();
    assert_eq!(sorted, keys);

    i.put_u32(0x14, 7);
    i.put_u32(0x134, 9);
    assert_eq!(i.i32("elem", &[0x10, 9]), 9 + 0x130);
    // 0xffff_fff0 + (1 << 5) wraps to 0x10.
    assert_eq!(i.i32("elem", &[0xffff_fff0, 1]), 7 + 0x10);
    // The last element in memory, then one past it: by the offset, by an offset that
    // would wrap, by the index.
    assert_eq!(i.i32("elem", &[0, 2047]), 65504);
    for (a, k) in [(65532, 0), (0xffff_fffc, 0), (0, 2048)] {
        let t = i.call("elem", &[a, k]).unwrap_err();
        assert_eq!(
            t.code,
            Some(TrapCode::MemoryOutOfBounds),
            "elem({a:#x}, {k})"
        );
    }
    // The address from the old x (0x2030 + 0x10) holds 5, the pair loads 0x3000 + 0x40
    // (3), and the address from the new x would hold 100.
    for (at, v) in [(0x2040, 5), (0x3040, 3), (0x3050, 100)] {
        i.put_u32(at, v);
    }
    assert_eq!(i.i32("reuse", &[0x2030, 0x10, 0x3000]), 8);
    let reuse = format!("{:?}", tierup_interp::translate(i.env(), 3).unwrap());
    assert!(reuse.contains("I32AddShlLoad"), "{reuse}");
    let sift = format!("{:?}", tierup_interp::translate(i.env(), 0).unwrap());
    assert_eq!(sift.matches("I32AddShlLoad").count(), 2, "{sift}");
    let elem = format!("{:?}", tierup_interp::translate(i.env(), 2).unwrap());
    assert!(elem.contains("I32AddShlLoad"), "{elem}");
}

#[test]
fn adds_to_memory_update_in_place() {
    // A load, an add and the store of the sum back to the same address are one
    // instruction: an axpy (its operand from the accumulator), a histogram, addresses
    // that wrap in 32 bits (so both accesses hit address 0), a trap that leaves memory
    // as it was, and a store elsewhere, which stays a load-add and a store.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "axpy") (param $x f64) (param $a i32) (param $c i32) (param $n i32)
            loop $l
              local.get $c
              local.get $x local.get $a f64.load f64.mul
              local.get $c f64.load
              f64.add f64.store
              local.get $a i32.const 8 i32.add local.set $a
              local.get $c i32.const 8 i32.add local.set $c
              local.get $n i32.const 1 i32.sub local.tee $n br_if $l
            end)
          (func (export "count") (param $k i32) (param $by i32)
            local.get $k i32.const 2 i32.shl local.tee $k
            local.get $by local.get $k i32.load offset=4096 i32.add i32.store offset=4096)
          (func (export "wrapped") (param $p i32) (param $x f64)
            local.get $p i32.const 8 i32.add
            local.get $x local.get $p i32.const 8 i32.add f64.load f64.add
            f64.store)
          (func (export "elsewhere") (param $p i32) (param $q i32) (param $x i32)
            local.get $q local.get $x local.get $p i32.load i32.add i32.store))"#,
    );
    let a: Vec<f64> = (0..100).map(|k| 0.5 + k as f64 / 7.0).collect();
    let mut c: Vec<f64> = (0..100).map(|k| (k as f64).sqrt() - 3.0).collect();
    for k in 0..100 {
        i.memory_mut()[8 * k..8 * k + 8].copy_from_slice(&a[k].to_le_bytes());
        i.memory_mut()[800 + 8 * k..808 + 8 * k].copy_from_slice(&c[k].to_le_bytes());
    }
    i.call("axpy", &[1.25f64.to_bits(), 0, 800, 100]).unwrap();
    for (k, c) in c.iter_mut().enumerate() {
        *c += 1.25 * a[k];
        let got = f64::from_le_bytes(i.memory()[800 + 8 * k..808 + 8 * k].try_into().unwrap());
        assert_eq!(got.to_bits(), c.to_bits(), "c[{k}]");
    }

    for k in [3, 5, 3, 3, 1023] {
        i.call("count", &[k, 2]).unwrap();
    }
    assert_eq!(i.get_u32(4096 + 12), 6);
    assert_eq!(i.get_u32(4096 + 20), 2);
    assert_eq!(i.get_u32(4096 + 4092), 2);
    i.call("count", &[7, u32::MAX as u64]).unwrap();
    assert_eq!(i.get_u32(4096 + 28), u32::MAX);
    // One past the last word of memory: a trap, and nothing written.
    let before = i.memory().to_vec();
    let t = i.call("count", &[15360, 1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert!(i.memory() == before);

    i.memory_mut()[0..8].copy_from_slice(&2.5f64.to_le_bytes());
    i.call("wrapped", &[0xffff_fff8, 0.25f64.to_bits()])
        .unwrap();
    assert_eq!(
        f64::from_le_bytes(i.memory()[0..8].try_into().unwrap()),
        2.75
    );

    i.put_u32(8000, 40);
    i.call("elsewhere", &[8000, 8004, 2]).unwrap();
    assert_eq!(i.get_u32(8000), 40);
    assert_eq!(i.get_u32(8004), 42);

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(i.env(), f).unwrap());
    let axpy = code(&i, 0);
    assert!(
        axpy.contains("F64AddInPlace") && axpy.contains("} [A]"),
        "{axpy}"
    );
    assert!(code(&i, 1).contains("I32AddInPlace"), "{}", code(&i, 1));
    let wrapped = code(&i, 2);
    assert!(
        wrapped.contains("F64AddInPlace") && wrapped.contains("} [WRAP]"),
        "{wrapped}"
    );
    assert!(!code(&i, 3).contains("InPlace"), "{}", code(&i, 3));
}

#[test]
fn index_copies_fuse_with_the_load_at_the_index() {
    // A copy of an index to a local and the indexed load at it are one instruction,
    // which indexes with the copy's source: a branchless merge of two sorted runs, a
    // list chase whose loaded value overwrites the copy's source, a copy that the loaded
    // value then overwrites, a copy that is the address too (its value read through the
    // accumulator), and a trap at the end of memory.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "merge") (param $a i32) (param $h i32) (param $n i32) (param $out i32)
            (result i32)
            (local $i i32) (local $j i32) (local $ii i32) (local $jj i32) (local $x i32)
            (local $y i32) (local $k i32)
            local.get $h local.set $j
            block $done
              loop $l
                local.get $i local.get $h i32.ge_u br_if $done
                local.get $j local.get $n i32.ge_u br_if $done
                local.get $i local.set $ii
                local.get $a local.get $ii i32.const 2 i32.shl i32.add i32.load local.set $x
                local.get $j local.set $jj
                local.get $a local.get $jj i32.const 2 i32.shl i32.add i32.load local.set $y
                local.get $out local.get $k i32.const 2 i32.shl i32.add
                local.get $x local.get $y local.get $x local.get $y i32.le_u select
                i32.store
                local.get $ii local.get $x local.get $y i32.le_u i32.add local.set $i
                local.get $jj local.get $x local.get $y i32.gt_u i32.add local.set $j
                local.get $k i32.const 1 i32.add local.set $k
                br $l
              end
            end
            local.get $k)
          (func (export "chase") (param $a i32) (param $cur i32) (result i32)
            (local $prev i32) (local $n i32)
            block $done
              loop $l
                local.get $cur i32.eqz br_if $done
                local.get $cur local.set $prev
                local.get $a local.get $prev i32.const 2 i32.shl i32.add i32.load
                local.set $cur
                local.get $n i32.const 1 i32.add local.set $n
                br $l
              end
            end
            local.get $prev i32.const 16 i32.shl local.get $n i32.or)
          (func (export "overwrite") (param $a i32) (param $p i32) (result i32) (local $q i32)
            local.get $p local.set $q
            local.get $a local.get $q i32.const 2 i32.shl i32.add i32.load local.set $q
            local.get $q local.get $p i32.sub)
          (func (export "same") (param $p i32) (result i32) (local $b i32)
            local.get $p local.set $b
            local.get $b local.get $b i32.const 2 i32.shl i32.add i32.load offset=4
            local.get $b i32.add))"#,
    );
    // Runs [1, 4, 4, 9, 30] and [2, 4, 5, 40] at 0; the merge stops when one runs out.
    let keys = [1, 4, 4, 9, 30, 2, 4, 5, 40];
    for (k, &v) in keys.iter().enumerate() {
        i.put_u32(4 * k, v);
    }
    assert_eq!(i.i32("merge", &[0, 5, 9, 1024]), 8);
    let merged: Vec<u32> = (0..8).map(|k| i.get_u32(1024 + 4 * k)).collect();
    assert_eq!(merged, [1, 2, 4, 4, 4, 5, 9, 30]);

    // A list through words 512.. (index k holds the next index): 300 -> 301 -> ... -> 0.
    for k in 300..310 {
        i.put_u32(4 * k, k as u32 + 1);
    }
    i.put_u32(4 * 310, 0);
    assert_eq!(i.i32("chase", &[0, 300]), (310 << 16) | 11);
    i.put_u32(4 * 310, 20000);
    let t = i.call("chase", &[0, 300]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));

    i.put_u32(64 + 4 * 7, 1000);
    assert_eq!(i.i32("overwrite", &[64, 7]), 993);
    i.put_u32(5 * 9 + 4, 77);
    assert_eq!(i.i32("same", &[9]), 86);

    for f in 0..4 {
        let code = format!("{:?}", tierup_interp::translate(i.env(), f).unwrap());
        let want = if f == 0 { 2 } else { 1 };
        assert_eq!(
            code.matches("CopyI32Load").count(),
            want,
            "function {f}: {code}"
        );
    }
    let same = format!("{:?}", tierup_interp::translate(i.env(), 3).unwrap());
    assert!(
        same.contains("CopyI32Load { copy: 1, src: 0, dst: 2, addr: 0"),
        "{same}"
    );
    assert!(same.contains("} [OUT]"), "{same}");
}

#[test]
fn loaded_locals_pass_in_the_accumulator() {
    // A load whose value goes to a local that the next instruction reads passes it in the
    // accumulator as well (form `TEE`): quicksort's scan `while (a[i] < p) i++` (the
    // value is stored later, so it stays in its local), heap sort's test of an element
    // whose address is kept for the swap (`I32AddShlLoad`), an f64 and a sign-extending
    // byte load into their arithmetic. A trap in the linked form is the load's. Not into
    // a loop head, which the back edge reaches with another accumulator.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "scan") (param $a i32) (param $p i32) (result i32)
            (local $i i32) (local $x i32)
            loop $l
              local.get $a local.get $i i32.const 2 i32.shl i32.add i32.load
              local.set $x
              local.get $x local.get $p i32.lt_u
              local.get $i i32.const 1 i32.add local.set $i
              br_if $l
            end
            local.get $x i32.const 8 i32.shl local.get $i i32.or)
          (func (export "sift") (param $a i32) (param $c i32) (param $v i32) (result i32)
            (local $q i32) (local $x i32)
            local.get $a local.get $c i32.const 2 i32.shl i32.add local.tee $q
            i32.load local.set $x
            block $keep
              local.get $v local.get $x i32.ge_u br_if $keep
              local.get $q local.get $v i32.store
            end
            local.get $x)
          (func (export "half") (param $p i32) (result f64) (local $y f64)
            local.get $p f64.load local.set $y
            local.get $y f64.const 0.5 f64.mul local.get $y f64.sub)
          (func (export "byte") (param $p i32) (result i64) (local $b i64)
            local.get $p i64.load8_s local.set $b
            local.get $b i64.const 3 i64.mul)
          (func (export "head") (param $p i32) (param $n i32) (result i32) (local $x i32)
            local.get $p i32.load local.set $x
            loop $l
              local.get $x i32.const 3 i32.mul local.set $x
              local.get $n i32.const 1 i32.sub local.tee $n
              br_if $l
            end
            local.get $x))"#,
    );
    // The scan stops at the first key not below the pivot: 9 at index 3.
    for (k, v) in [1u32, 5, 2, 9, 0].into_iter().enumerate() {
        i.put_u32(4 * k, v);
    }
    assert_eq!(i.i32("scan", &[0, 6]), (9 << 8) | 4);
    assert_eq!(i.i32("scan", &[0, 1]), (1 << 8) | 1);
    // Past the end of memory: the load traps, linked or not.
    let t = i.call("scan", &[65536 - 8, u32::MAX as u64]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));

    // The element is returned, and replaced by `v` when `v` is below it.
    i.put_u32(64 + 4 * 3, 40);
    assert_eq!(i.i32("sift", &[64, 3, 10]), 40);
    assert_eq!(i.i32("sift", &[64, 3, 50]), 10);
    assert_eq!(i.i32("sift", &[64, 3, 0]), 10);
    assert_eq!(i.i32("sift", &[64, 3, 0]), 0);

    i.memory_mut()[128..136].copy_from_slice(&(-3.0f64).to_bits().to_le_bytes());
    let half = f64::from_bits(i.call("half", &[128]).unwrap()[0]);
    assert_eq!(half, 1.5);
    i.memory_mut()[200] = 0xfe;
    assert_eq!(i.call("byte", &[200]).unwrap()[0] as i64, -6);
    i.put_u32(256, 2);
    assert_eq!(i.i32("head", &[256, 3]), 54);

    let code = |i: &Instance, f| format!("{:?}", tierup_interp::translate(i.env(), f).unwrap());
    let scan = code(&i, 0);
    assert!(
        scan.contains("I32Load { dst: 3, addr: 0, index: 2, scale: 4, offset: 0 } [INDEX|TEE]"),
        "{scan}"
    );
    assert!(code(&i, 1).contains("I32AddShlLoad"), "{}", code(&i, 1));
    for f in 1..4 {
        assert!(
            code(&i, f).contains("TEE]"),
            "function {f}: {}",
            code(&i, f)
        );
    }
    let head = code(&i, 4);
    assert!(
        head.contains("offset: 0 }, I32MulImm { dst: 2, a: 2, imm: 3 },"),
        "{head}"
    );
}
