//! Compiled wasm runs: calls through slots and register entries, memory, globals, tables,
//! multi-value, SIMD, and host functions through the adapter, on hand-built instances.

mod common;

use common::{Host, Instance};
use tierup_abi::{FuncCode, FuncEntry, ValRaw, VmContext};
use wasmparser::ValType;

fn i32s(v: &[ValRaw]) -> Vec<i32> {
    v.iter().map(|c| c.get_i32()).collect()
}

#[test]
fn recursion_through_slots() {
    let mut inst = Instance::new(
        r#"(module
          (func $fac (export "fac") (param i64) (result i64)
            (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
              (then (i64.const 1))
              (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
          (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func (export "loop_sum") (param i32) (result i32) (local i32)
            (block $done
              (loop $again
                (br_if $done (i32.eqz (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (local.get 0)))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br $again)))
            (local.get 1)))"#,
        vec![],
    );
    assert_eq!(
        inst.call("fac", &[ValRaw::i64(20)])[0].get_i64(),
        2432902008176640000
    );
    assert_eq!(inst.call("fac", &[ValRaw::i64(0)])[0].get_i64(), 1);
    assert_eq!(inst.call("fib", &[ValRaw::i32(20)])[0].get_i32(), 6765);
    assert_eq!(
        inst.call("loop_sum", &[ValRaw::i32(100)])[0].get_i32(),
        5050
    );

    // The recursive functions check the stack limit in their prologue; a limit well below
    // the stack in use lets them run.
    let fac = inst.func("fac") as usize - inst.env.num_imported_funcs as usize;
    assert!(
        inst.code(fac)
            .traps
            .iter()
            .any(|t| t.code == tierup_abi::TrapCode::StackOverflow)
    );
    let here = &inst as *const Instance as usize;
    inst.set_stack_limit(here - (256 << 10));
    assert_eq!(inst.call("fib", &[ValRaw::i32(15)])[0].get_i32(), 610);
    inst.set_stack_limit(0);
}

#[test]
fn a_published_record_retargets_compiled_callers() {
    let mut inst = Instance::new(
        r#"(module
          (func $a (export "a") (result i32) (i32.const 1))
          (func $b (export "b") (result i32) (i32.const 2))
          (func (export "call_a") (result i32) (call $a)))"#,
        vec![],
    );
    assert_eq!(inst.call("call_a", &[])[0].get_i32(), 1);
    // Point a's slot at b's record: the compiled caller follows.
    let b_code = inst.slots[inst.func("b") as usize].load_code();
    inst.publish(inst.func("a"), b_code);
    assert_eq!(inst.call("call_a", &[])[0].get_i32(), 2);
}

#[test]
fn memory_loads_stores_and_bulk_operations() {
    let mut inst = Instance::new(
        r#"(module
          (memory 1 4)
          (data (i32.const 16) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14")
          (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
          (func (export "load16s") (param i32) (result i32) (i32.load16_s offset=2 (local.get 0)))
          (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
          (func (export "store") (param i32 i64) (i64.store offset=1 (local.get 0) (local.get 1)))
          (func (export "sum") (param i32 i32) (result i32) (local i32)
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get 1)))
                (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
                (br $next)))
            (local.get 2))
          (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
          (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
          (func (export "size") (result i32) (memory.size))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "last") (result i32) (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))))"#,
        vec![],
    );
    assert_eq!(inst.call("load8", &[ValRaw::i32(17)])[0].get_i32(), 2);
    assert_eq!(
        inst.call("load16s", &[ValRaw::i32(16)])[0].get_i32(),
        0x0403
    );
    assert_eq!(
        inst.call("load64", &[ValRaw::i32(16)])[0].get_i64(),
        0x0807060504030201
    );
    inst.call("store", &[ValRaw::i32(99), ValRaw::i64(-2)]);
    assert_eq!(&inst.memory()[100..108], &(-2i64).to_le_bytes());
    assert_eq!(
        inst.call("sum", &[ValRaw::i32(16), ValRaw::i32(20)])[0].get_i32(),
        210
    );

    // Fill: words and a byte tail, nothing outside the range.
    inst.call(
        "fill",
        &[ValRaw::i32(1001), ValRaw::i32(0x1ab), ValRaw::i32(19)],
    );
    let m = inst.memory();
    assert_eq!(m[1000], 0);
    assert!(m[1001..1020].iter().all(|&b| b == 0xab));
    assert_eq!(m[1020], 0);

    // Copy, overlapping both ways.
    let pattern: Vec<u8> = (0..40).collect();
    inst.memory()[2000..2040].copy_from_slice(&pattern);
    inst.call(
        "copy",
        &[ValRaw::i32(2003), ValRaw::i32(2000), ValRaw::i32(37)],
    );
    let mut expect = pattern.clone();
    expect.copy_within(0..37, 3);
    assert_eq!(&inst.memory()[2000..2040], &expect[..]);
    inst.memory()[2000..2040].copy_from_slice(&pattern);
    inst.call(
        "copy",
        &[ValRaw::i32(2000), ValRaw::i32(2005), ValRaw::i32(35)],
    );
    let mut expect = pattern.clone();
    expect.copy_within(5..40, 0);
    assert_eq!(&inst.memory()[2000..2040], &expect[..]);

    // The bound is read again after memory.grow.
    assert_eq!(inst.call("size", &[])[0].get_i32(), 1);
    assert_eq!(inst.call("grow", &[ValRaw::i32(2)])[0].get_i32(), 1);
    assert_eq!(inst.call("size", &[])[0].get_i32(), 3);
    assert_eq!(inst.call("grow", &[ValRaw::i32(100)])[0].get_i32(), -1);
    let len = inst.memory().len();
    inst.memory()[len - 4..].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(inst.call("last", &[])[0].get_i32(), 7);
}

#[test]
fn multi_value_blocks_calls_and_results() {
    let mut inst = Instance::new(
        r#"(module
          (func $three (export "three") (param i32) (result i32 i64 f64)
            (local.get 0)
            (i64.extend_i32_s (i32.mul (local.get 0) (i32.const -2)))
            (f64.convert_i32_s (local.get 0)))
          (func (export "swap") (param i32 i32) (result i32 i32)
            (local.get 1) (local.get 0))
          (func (export "combine") (param i32) (result i64)
            (local i64)
            (call $three (local.get 0))
            (drop)
            (local.set 1)
            (i64.extend_i32_u) (local.get 1) (i64.add))
          (func (export "block_params") (param i32 i32) (result i32)
            (local.get 0) (local.get 1)
            (block (param i32 i32) (result i32) (i32.sub))
            (loop (param i32) (result i32) (i32.add (i32.const 1))))
          (func (export "br_table") (param i32) (result i32 i32)
            (block $c (result i32 i32)
              (block $b (result i32 i32)
                (block $a (result i32 i32)
                  (i32.const 10) (i32.const 20)
                  (br_table $a $b $c (local.get 0)))
                (return))
              (drop) (i32.const 99))))"#,
        vec![],
    );
    let r = inst.call("three", &[ValRaw::i32(21)]);
    assert_eq!(
        (
            r[0].get_i32(),
            r[1].get_i64(),
            f64::from_bits(r[2].get_f64_bits())
        ),
        (21, -42, 21.0)
    );
    assert_eq!(
        i32s(&inst.call("swap", &[ValRaw::i32(1), ValRaw::i32(2)])),
        [2, 1]
    );
    assert_eq!(inst.call("combine", &[ValRaw::i32(5)])[0].get_i64(), -5);
    assert_eq!(
        inst.call("block_params", &[ValRaw::i32(10), ValRaw::i32(3)])[0].get_i32(),
        8
    );
    assert_eq!(i32s(&inst.call("br_table", &[ValRaw::i32(0)])), [10, 20]);
    assert_eq!(i32s(&inst.call("br_table", &[ValRaw::i32(1)])), [10, 99]);
    assert_eq!(i32s(&inst.call("br_table", &[ValRaw::i32(2)])), [10, 20]);
    assert_eq!(i32s(&inst.call("br_table", &[ValRaw::i32(7)])), [10, 20]);
}

#[test]
fn globals_tables_and_indirect_calls() {
    let mut inst = Instance::new(
        r#"(module
          (type $un (func (param i32) (result i32)))
          (global $g (mut i32) (i32.const 5))
          (global $k i64 (i64.const 77))
          (table $t 4 funcref)
          (elem (table $t) (i32.const 0) func $double $square)
          (func $double (type $un) (i32.add (local.get 0) (local.get 0)))
          (func $square (type $un) (i32.mul (local.get 0) (local.get 0)))
          (func (export "bump") (result i32)
            (global.set $g (i32.add (global.get $g) (i32.const 1)))
            (global.get $g))
          (func (export "k") (result i64) (global.get $k))
          (func (export "apply") (param i32 i32) (result i32)
            (call_indirect $t (type $un) (local.get 1) (local.get 0)))
          (func (export "install") (param i32)
            (table.set $t (local.get 0) (ref.func $square)))
          (func (export "is_null") (param i32) (result i32)
            (ref.is_null (table.get $t (local.get 0))))
          (func (export "size") (result i32) (table.size $t)))"#,
        vec![],
    );
    assert_eq!(inst.call("bump", &[])[0].get_i32(), 6);
    assert_eq!(inst.call("bump", &[])[0].get_i32(), 7);
    assert_eq!(inst.global(0).get_i32(), 7);
    assert_eq!(inst.call("k", &[])[0].get_i64(), 77);
    assert_eq!(
        inst.call("apply", &[ValRaw::i32(0), ValRaw::i32(21)])[0].get_i32(),
        42
    );
    assert_eq!(
        inst.call("apply", &[ValRaw::i32(1), ValRaw::i32(9)])[0].get_i32(),
        81
    );
    assert_eq!(inst.call("is_null", &[ValRaw::i32(3)])[0].get_i32(), 1);
    inst.call("install", &[ValRaw::i32(3)]);
    assert_eq!(inst.call("is_null", &[ValRaw::i32(3)])[0].get_i32(), 0);
    assert_eq!(
        inst.call("apply", &[ValRaw::i32(3), ValRaw::i32(5)])[0].get_i32(),
        25
    );
    assert_eq!(inst.call("size", &[])[0].get_i32(), 4);
}

#[test]
fn simd() {
    let mut inst = Instance::new(
        r#"(module
          (memory 1)
          (func (export "add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
          (func (export "dot") (param v128 v128) (result i32)
            (local v128)
            (local.set 2 (f32x4.mul (local.get 0) (local.get 1)))
            (i32.trunc_f32_s
              (f32.add (f32.add (f32x4.extract_lane 0 (local.get 2)) (f32x4.extract_lane 1 (local.get 2)))
                       (f32.add (f32x4.extract_lane 2 (local.get 2)) (f32x4.extract_lane 3 (local.get 2))))))
          (func (export "reverse") (param v128) (result v128)
            (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get 0) (local.get 0)))
          (func (export "splat_sum") (param i32) (result i64)
            (v128.store (i32.const 32) (i16x8.splat (local.get 0)))
            (i64.add
              (i64x2.extract_lane 0 (i64x2.extend_low_i32x4_u (v128.load32_zero (i32.const 32))))
              (i64x2.extract_lane 1 (i64x2.extend_low_i32x4_u (v128.load32_zero (i32.const 32))))))
          (func (export "pair") (param v128) (result v128 i32)
            (i8x16.abs (local.get 0)) (i8x16.bitmask (local.get 0))))"#,
        vec![],
    );
    let a = ValRaw::v128(u128::from_le_bytes(
        [1u32, 2, 3, u32::MAX]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
    ));
    let b = ValRaw::v128(u128::from_le_bytes(
        [10u32, 20, 30, 2]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
    ));
    let sum = inst.call("add", &[a, b])[0].get_v128().to_le_bytes();
    let lanes: Vec<u32> = sum
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(lanes, [11, 22, 33, 1]);

    let f = |v: [f32; 4]| {
        ValRaw::v128(u128::from_le_bytes(
            v.iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<_>>()
                .try_into()
                .unwrap(),
        ))
    };
    let d = inst.call("dot", &[f([1.0, 2.0, 3.0, 4.0]), f([5.0, 6.0, 7.0, 8.0])]);
    assert_eq!(d[0].get_i32(), 70);

    let bytes: [u8; 16] = core::array::from_fn(|i| i as u8);
    let r = inst.call("reverse", &[ValRaw::v128(u128::from_le_bytes(bytes))]);
    let mut rev = bytes;
    rev.reverse();
    assert_eq!(r[0].get_v128().to_le_bytes(), rev);

    // Two i16 lanes of 0x0102 make the low i32 0x01020102; the other lanes of the loaded
    // vector are zero.
    assert_eq!(
        inst.call("splat_sum", &[ValRaw::i32(0x0102)])[0].get_i64(),
        0x01020102
    );
    assert_eq!(&inst.memory()[32..36], &[2, 1, 2, 1]);

    let mut signed = [0u8; 16];
    signed[0] = 0x80;
    signed[3] = 0xff;
    signed[15] = 5;
    let r = inst.call("pair", &[ValRaw::v128(u128::from_le_bytes(signed))]);
    let abs = r[0].get_v128().to_le_bytes();
    assert_eq!((abs[0], abs[3], abs[15]), (0x80, 1, 5));
    assert_eq!(r[1].get_i32(), 0b1001);
}

/// A host function of type (i32, i64, f64) -> (i64, f32).
unsafe extern "sysv64" fn host_mix(
    callee: *const FuncEntry,
    code: *const FuncCode,
    caller: *mut VmContext,
    cells: *mut ValRaw,
) -> u32 {
    assert!(!callee.is_null() && !code.is_null() && !caller.is_null());
    // SAFETY: the adapter passes max(params, results) cells.
    let cells = unsafe { std::slice::from_raw_parts_mut(cells, 3) };
    let (a, b, c) = (
        cells[0].get_i32(),
        cells[1].get_i64(),
        f64::from_bits(cells[2].get_f64_bits()),
    );
    cells[0] = ValRaw::i64(i64::from(a) * 1000 + b);
    cells[1] = ValRaw::f32_bits((c as f32 * 2.0).to_bits());
    0
}

/// A host function of type (v128) -> (v128).
unsafe extern "sysv64" fn host_not(
    _: *const FuncEntry,
    _: *const FuncCode,
    _: *mut VmContext,
    cells: *mut ValRaw,
) -> u32 {
    // SAFETY: one cell.
    unsafe { *cells = ValRaw::v128(!(*cells).get_v128()) };
    0
}

#[test]
fn host_functions_through_the_adapter() {
    let mut inst = Instance::new(
        r#"(module
          (import "h" "mix" (func $mix (param i32 i64 f64) (result i64 f32)))
          (import "h" "not" (func $not (param v128) (result v128)))
          (func (export "run") (param i32) (result i64)
            (call $mix (local.get 0) (i64.const 7) (f64.const 1.25))
            (i64.trunc_f32_s)
            (i64.add))
          (func (export "not") (param v128) (result v128) (call $not (local.get 0))))"#,
        vec![
            Host {
                params: vec![ValType::I32, ValType::I64, ValType::F64],
                results: vec![ValType::I64, ValType::F32],
                entry: host_mix,
            },
            Host {
                params: vec![ValType::V128],
                results: vec![ValType::V128],
                entry: host_not,
            },
        ],
    );
    // 3 * 1000 + 7 + trunc(2.5)
    assert_eq!(inst.call("run", &[ValRaw::i32(3)])[0].get_i64(), 3009);
    let v = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
    assert_eq!(inst.call("not", &[ValRaw::v128(v)])[0].get_v128(), !v);
}

#[test]
fn traps_map_to_their_codes() {
    use common::{Outcome, call_in_child};
    use tierup_abi::TrapCode;
    let mut inst = Instance::new(
        r#"(module
          (memory 1)
          (table 2 funcref)
          (elem (i32.const 0) $f)
          (func $f (result i32) (i32.const 1))
          (func (export "unreachable") (unreachable))
          (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
          (func (export "overflow") (param i32) (result i32) (i32.div_s (i32.const 0x80000000) (local.get 0)))
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "indirect") (param i32) (result i64) (call_indirect (result i64) (local.get 0)))
          (func (export "convert") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
          (func $deep (export "deep") (param i32) (result i32)
            (i32.add (i32.const 1) (call $deep (local.get 0)))))"#,
        vec![],
    );
    let mut run = |name: &str, args: &[ValRaw], limit: bool| {
        let f = inst.func(name);
        call_in_child(&mut inst, f, args, limit)
    };
    let trapped = Outcome::Trapped;
    assert_eq!(
        run("unreachable", &[], false),
        trapped(TrapCode::Unreachable)
    );
    assert_eq!(
        run("div", &[ValRaw::i32(0)], false),
        trapped(TrapCode::IntegerDivideByZero)
    );
    assert_eq!(run("div", &[ValRaw::i32(1)], false), Outcome::Returned);
    assert_eq!(
        run("overflow", &[ValRaw::i32(-1)], false),
        trapped(TrapCode::IntegerOverflow)
    );
    // A fault in the guard region, at the load's trap site.
    assert_eq!(
        run("load", &[ValRaw::i32(65534)], false),
        trapped(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        run("indirect", &[ValRaw::i32(0)], false),
        trapped(TrapCode::IndirectCallTypeMismatch)
    );
    assert_eq!(
        run("indirect", &[ValRaw::i32(1)], false),
        trapped(TrapCode::UninitializedElement)
    );
    assert_eq!(
        run("indirect", &[ValRaw::i32(2)], false),
        trapped(TrapCode::UndefinedElement)
    );
    let nan = ValRaw::f32_bits(f32::NAN.to_bits());
    assert_eq!(
        run("convert", &[nan], false),
        trapped(TrapCode::BadConversionToInteger)
    );
    let big = ValRaw::f32_bits(3e9f32.to_bits());
    assert_eq!(
        run("convert", &[big], false),
        trapped(TrapCode::IntegerOverflow)
    );
    assert_eq!(
        run("deep", &[ValRaw::i32(0)], true),
        trapped(TrapCode::StackOverflow)
    );
}
