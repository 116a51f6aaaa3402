//! OSR entries (`tierup_abi::osr`): compiled for points of hand-written functions, entered
//! with states built here, and compared with what running the function from that state
//! means; traps inside an entry; points that are not OSR points; and every loop header of
//! a few spec-test scripts.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use common::{Host, Instance, Outcome, run_in_child};
use tierup_abi::{
    CompileOptions, Compiler, FuncCode, FuncEntry, ModuleEnv, TrapCode, ValRaw, VmContext,
};
use tierup_optimizing::Optimizing;
use wasmparser::ValType;

/// The operators of the body of function `f`, with their module offsets.
fn operators(env: &ModuleEnv, f: u32) -> Vec<(u32, wasmparser::Operator<'_>)> {
    let body = env.body_reader(f).unwrap();
    let mut ops = body.get_operators_reader().unwrap();
    let mut out = Vec::new();
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().unwrap();
        out.push((offset as u32, op));
    }
    out
}

/// The name of an operator's `wasmparser::Operator` variant.
fn name(op: &wasmparser::Operator) -> String {
    let debug = format!("{op:?}");
    let end = debug
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(debug.len());
    debug[..end].to_string()
}

/// The instructions of the body of function `f`: (module offset, operator name).
fn instructions(env: &ModuleEnv, f: u32) -> Vec<(u32, String)> {
    operators(env, f)
        .into_iter()
        .map(|(offset, op)| (offset, name(&op)))
        .collect()
}

/// The offset of the `n`th instruction named `name` (by its `wasmparser::Operator`
/// variant) of export `func`.
fn nth(inst: &Instance, func: &str, name: &str, n: usize) -> u32 {
    instructions(&inst.env, inst.func(func))
        .into_iter()
        .filter(|(_, op)| op == name)
        .nth(n)
        .unwrap_or_else(|| panic!("no {name} #{n} in {func}"))
        .0
}

/// The offset of the instruction after the `n`th `end` of export `func`.
fn after_end(inst: &Instance, func: &str, n: usize) -> u32 {
    let ops = instructions(&inst.env, inst.func(func));
    let i = ops
        .iter()
        .enumerate()
        .filter(|(_, (_, op))| op == "End")
        .nth(n)
        .unwrap()
        .0;
    ops[i + 1].0
}

/// Compiles the OSR entry of export `func` at `at` and calls it with `state`.
fn osr(inst: &mut Instance, func: &str, at: u32, state: &[ValRaw]) -> Vec<ValRaw> {
    let f = inst.func(func);
    let entry = inst
        .compile_osr(f, at)
        .unwrap_or_else(|e| panic!("{func} at {at:#x}: {e}"));
    inst.call_osr(f, entry, state)
        .unwrap_or_else(|e| panic!("{func} at {at:#x}: {e}"))
}

fn i32s(v: &[i32]) -> Vec<ValRaw> {
    v.iter().map(|&x| ValRaw::i32(x)).collect()
}

const COUNT: &str = r#"(module
  (func (export "count") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))"#;

/// `count` run from a state at its loop header: the sum of `i..n` added to `acc`.
fn count_from(n: i32, mut i: i32, mut acc: i32) -> i32 {
    loop {
        acc = acc.wrapping_add(i);
        i = i.wrapping_add(1);
        if (i as u32) >= (n as u32) {
            return acc;
        }
    }
}

#[test]
fn a_loop_at_the_start_of_a_function() {
    let mut inst = Instance::new(COUNT, vec![]);
    let at = nth(&inst, "count", "Loop", 0);
    // The loop is the first instruction.
    assert_eq!(instructions(&inst.env, inst.func("count"))[0].0, at);
    // Iteration 0: the parameters and zeroed locals, as a call starts.
    let called = inst.call("count", &[ValRaw::i32(10)])[0].get_i32();
    assert_eq!(called, 45);
    assert_eq!(
        osr(&mut inst, "count", at, &i32s(&[10, 0, 0]))[0].get_i32(),
        45
    );
    // Mid-iteration states.
    for (n, i, acc) in [(10, 5, 0), (10, 5, 100), (1000, 999, -7), (3, 7, 1)] {
        assert_eq!(
            osr(&mut inst, "count", at, &i32s(&[n, i, acc]))[0].get_i32(),
            count_from(n, i, acc),
            "n={n} i={i} acc={acc}"
        );
    }
}

#[test]
fn the_entry_has_the_osr_signature_and_tables() {
    let mut inst = Instance::new(COUNT, vec![]);
    let at = nth(&inst, "count", "Loop", 0);
    let f = inst.func("count");
    let entry = inst.compile_osr(f, at).unwrap();
    let code = inst.osr_code(entry);
    assert_eq!(code.register_entry, 0);
    assert!(code.array_shim.is_some());
    // Code of the loop maps to the function's wasm offsets.
    let body = instructions(&inst.env, f);
    let (first, last) = (body[0].0, body.last().unwrap().0);
    assert!(
        code.wasm_map
            .iter()
            .any(|l| l.wasm_offset >= first && l.wasm_offset <= last)
    );
    // The register entry is `[i64] -> [i32]` by the register convention.
    let tier = Optimizing::new().unwrap();
    let clif = tier
        .translate_osr(&inst.env, f, at, &CompileOptions::default())
        .unwrap();
    assert_eq!(
        clif.signature,
        tierup_optimizing::register_signature(&tierup_abi::osr::ENTRY_PARAMS, &[ValType::I32])
    );
}

#[test]
fn an_operand_stack_below_the_loop() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "f") (param $n i32) (result i32) (local $acc i32)
            (i32.const 7)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (local.get $n)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $acc)
            (i32.add)))"#,
        vec![],
    );
    let at = nth(&inst, "f", "Loop", 0);
    assert_eq!(inst.call("f", &[ValRaw::i32(3)])[0].get_i32(), 13);
    // State: n, acc, then the 7 below the loop.
    assert_eq!(osr(&mut inst, "f", at, &i32s(&[3, 0, 7]))[0].get_i32(), 13);
    // The stack entry comes from the state, not from the constant.
    assert_eq!(
        osr(&mut inst, "f", at, &i32s(&[3, 0, 100]))[0].get_i32(),
        106
    );
    assert_eq!(
        osr(&mut inst, "f", at, &i32s(&[2, 50, 100]))[0].get_i32(),
        153
    );
}

#[test]
fn a_loop_with_parameters() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "fib") (param $n i32) (result i32) (local $a i32) (local $b i32)
            (i32.const 0) (i32.const 1)
            (loop $l (param i32 i32) (result i32 i32)
              (local.set $b) (local.set $a)
              (local.get $b)
              (i32.add (local.get $a) (local.get $b))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (drop)))"#,
        vec![],
    );
    let at = nth(&inst, "fib", "Loop", 0);
    assert_eq!(inst.call("fib", &[ValRaw::i32(10)])[0].get_i32(), 55);
    // State: n, a, b, then the loop's two parameters.
    assert_eq!(
        osr(&mut inst, "fib", at, &i32s(&[10, 0, 0, 0, 1]))[0].get_i32(),
        55
    );
    // Three steps from (5, 8): (8, 13), (13, 21), (21, 34).
    assert_eq!(
        osr(&mut inst, "fib", at, &i32s(&[3, -1, -1, 5, 8]))[0].get_i32(),
        21
    );
}

/// `grid` run from a state at its inner loop's header.
fn grid_from(rows: i32, cols: i32, mut i: i32, mut j: i32, mut acc: i32) -> i32 {
    loop {
        loop {
            acc = acc.wrapping_add(i.wrapping_mul(100).wrapping_add(j));
            j = j.wrapping_add(1);
            if (j as u32) >= (cols as u32) {
                break;
            }
        }
        i = i.wrapping_add(1);
        if (i as u32) >= (rows as u32) {
            return acc;
        }
        j = 0;
    }
}

#[test]
fn a_nested_loop() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "grid") (param $rows i32) (param $cols i32) (result i32)
            (local $i i32) (local $j i32) (local $acc i32)
            (loop $outer
              (local.set $j (i32.const 0))
              (loop $inner
                (local.set $acc (i32.add (local.get $acc)
                  (i32.add (i32.mul (local.get $i) (i32.const 100)) (local.get $j))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $inner (i32.lt_u (local.get $j) (local.get $cols))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $outer (i32.lt_u (local.get $i) (local.get $rows))))
            (local.get $acc)))"#,
        vec![],
    );
    let called = inst.call("grid", &i32s(&[4, 5]))[0].get_i32();
    assert_eq!(called, grid_from(4, 5, 0, 0, 0));
    let outer = nth(&inst, "grid", "Loop", 0);
    let inner = nth(&inst, "grid", "Loop", 1);
    for (i, j, acc) in [(0, 0, 0), (2, 3, 1000), (3, 4, 5), (0, 4, 0)] {
        let state = i32s(&[4, 5, i, j, acc]);
        // Entered at the inner loop, the rows after the first need the outer back-edge.
        assert_eq!(
            osr(&mut inst, "grid", inner, &state)[0].get_i32(),
            grid_from(4, 5, i, j, acc),
            "inner i={i} j={j} acc={acc}"
        );
    }
    // At the outer loop (which sets j first).
    assert_eq!(
        osr(&mut inst, "grid", outer, &i32s(&[4, 5, 2, 77, 9]))[0].get_i32(),
        grid_from(4, 5, 2, 0, 9)
    );
}

#[test]
fn a_point_after_a_block_end() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "f") (param $x i32) (result i32)
            (i32.const 1000)
            (block (result i32)
              (i32.const 10)
              (br_if 0 (local.get $x))
              (drop)
              (i32.const 20))
            (i32.const 3)
            (i32.mul)
            (i32.add))
          (func (export "g") (param $x i32) (result i64)
            (if (result i64) (local.get $x)
              (then (i64.const 1))
              (else (i64.const 2)))
            (i64.const 40)
            (i64.add)))"#,
        vec![],
    );
    assert_eq!(inst.call("f", &[ValRaw::i32(1)])[0].get_i32(), 1030);
    assert_eq!(inst.call("f", &[ValRaw::i32(0)])[0].get_i32(), 1060);
    // Before the `i32.const 3` after the block: the stack holds 1000 and the result.
    let at = after_end(&inst, "f", 0);
    assert_eq!(at, nth(&inst, "f", "I32Const", 3));
    assert_eq!(
        osr(&mut inst, "f", at, &i32s(&[0, 1000, 14]))[0].get_i32(),
        1042
    );
    assert_eq!(osr(&mut inst, "f", at, &i32s(&[0, 1, 2]))[0].get_i32(), 7);
    // After an `if`'s end.
    let at = after_end(&inst, "g", 0);
    let state = [ValRaw::i32(1), ValRaw::i64(1 << 40)];
    assert_eq!(osr(&mut inst, "g", at, &state)[0].get_i64(), (1 << 40) + 40);
}

#[test]
fn a_point_inside_an_if_arm_in_a_loop() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "alt") (param $n i32) (result i32) (local $acc i32)
            (loop $l
              (local.get $acc)
              (i32.and (local.get $n) (i32.const 1))
              (if (param i32) (result i32)
                (then (i32.const 10) (i32.add))
                (else (i32.const 1) (i32.add)))
              (local.set $acc)
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $acc)))"#,
        vec![],
    );
    // Before the then-arm's `i32.const 10`, with the if's parameter on the stack; the later
    // iterations go through both arms.
    let at = nth(&inst, "alt", "I32Const", 1);
    let from = |mut n: i32, s: i32| {
        let mut acc = s + 10;
        loop {
            n -= 1;
            if n == 0 {
                return acc;
            }
            acc += if n & 1 == 1 { 10 } else { 1 };
        }
    };
    for (n, acc, s) in [(4, 0, 0), (5, 99, 3), (1, 0, 7)] {
        assert_eq!(
            osr(&mut inst, "alt", at, &i32s(&[n, acc, s]))[0].get_i32(),
            from(n, s),
            "n={n} s={s}"
        );
    }
}

#[test]
fn every_value_type_in_locals_and_on_the_stack_and_many_results() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "mix") (param $a i64) (param $b f32)
            (result i64 f32 f64 v128 externref funcref i32)
            (local $c f64) (local $v v128) (local $e externref) (local $r funcref) (local $k i32)
            (i64.const 0x10)
            (f32.const 0.25)
            (f64.const 0.125)
            (v128.const i32x4 100 200 300 400)
            (loop $l
              (local.set $a (i64.add (local.get $a) (i64.const 0x100000001)))
              (local.set $b (f32.mul (local.get $b) (f32.const 2)))
              (local.set $c (f64.add (local.get $c) (f64.const 0.5)))
              (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 2 3 4)))
              (local.set $k (i32.sub (local.get $k) (i32.const 1)))
              (br_if $l (i32.gt_s (local.get $k) (i32.const 0))))
            ;; stack: i64 f32 f64 v128 below the loop
            (i32x4.add (local.get $v))
            (local.set $v)
            (f64.add (local.get $c))
            (local.set $c)
            (f32.add (local.get $b))
            (local.set $b)
            (i64.add (local.get $a))
            (local.get $b) (local.get $c) (local.get $v) (local.get $e) (local.get $r)
            (i32.const 0x77)))"#,
        vec![],
    );
    let at = nth(&inst, "mix", "Loop", 0);
    let v = |lanes: [u32; 4]| {
        ValRaw::v128(
            lanes
                .iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | u128::from(l)),
        )
    };
    let f = inst.func("mix");
    let func_ref = &inst.slots[0] as *const FuncEntry;
    let state = [
        ValRaw::i64(5),                           // a
        ValRaw::f32_bits(1.5f32.to_bits()),       // b
        ValRaw::f64_bits(10.0f64.to_bits()),      // c
        v([1, 1, 1, 0xffff_ffff]),                // v
        ValRaw::externref(0xdead_beef_0000_1234), // e
        ValRaw::funcref(func_ref),                // r
        ValRaw::i32(3),                           // k: three iterations
        ValRaw::i64(0x1_0000_0000_0000),          // stack
        ValRaw::f32_bits(0.5f32.to_bits()),
        ValRaw::f64_bits(0.25f64.to_bits()),
        v([1000, 2000, 3000, 4000]),
    ];
    let entry = inst.compile_osr(f, at).unwrap();
    let r = inst.call_osr(f, entry, &state).unwrap();
    assert_eq!(r.len(), 7);
    assert_eq!(r[0].get_i64(), 5 + 3 * 0x1_0000_0001 + 0x1_0000_0000_0000);
    assert_eq!(f32::from_bits(r[1].get_f32_bits()), 1.5 * 8.0 + 0.5);
    assert_eq!(f64::from_bits(r[2].get_f64_bits()), 10.0 + 1.5 + 0.25);
    assert_eq!(r[3], v([1004, 2007, 3010, 4011]));
    assert_eq!(r[4].get_externref(), 0xdead_beef_0000_1234);
    assert_eq!(r[5].get_funcref(), func_ref);
    assert_eq!(r[6].get_i32(), 0x77);
    // A NaN in a float local is a NaN.
    let mut state = state;
    state[1] = ValRaw::f32_bits(0x7fc0_1234);
    state[6] = ValRaw::i32(1);
    let r = inst.call_osr(f, entry, &state).unwrap();
    assert!(f32::from_bits(r[1].get_f32_bits()).is_nan());
}

/// The state the host function `clobber` overwrites: (address, cells).
static CLOBBER: AtomicPtr<ValRaw> = AtomicPtr::new(std::ptr::null_mut());
static CLOBBER_LEN: AtomicUsize = AtomicUsize::new(0);

/// A host function of type [] -> [] that zeroes the state cells in `CLOBBER`.
unsafe extern "sysv64" fn clobber(
    _: *const FuncEntry,
    _: *const FuncCode,
    _: *mut VmContext,
    _: *mut ValRaw,
) -> u32 {
    let (ptr, len) = (
        CLOBBER.load(Ordering::Relaxed),
        CLOBBER_LEN.load(Ordering::Relaxed),
    );
    // SAFETY: the test stores a live buffer of `len` cells before the call.
    unsafe { std::slice::from_raw_parts_mut(ptr, len).fill(ValRaw::ZERO) };
    0
}

#[test]
fn the_whole_state_is_read_at_entry() {
    let mut inst = Instance::new(
        r#"(module
          (import "h" "clobber" (func $clobber))
          (func (export "f") (param $a i32) (result i64) (local $b i64) (local $c f64)
            (i64.const 5)
            (loop $l
              (call $clobber)
              (local.set $a (i32.sub (local.get $a) (i32.const 1)))
              (br_if $l (local.get $a)))
            (i64.add (local.get $b))
            (i64.add (i64.trunc_f64_s (local.get $c)))))"#,
        vec![Host {
            params: vec![],
            results: vec![],
            entry: clobber,
        }],
    );
    let at = nth(&inst, "f", "Loop", 0);
    let mut state = [
        ValRaw::i32(2),
        ValRaw::i64(300),
        ValRaw::f64_bits(40.0f64.to_bits()),
        ValRaw::i64(1),
    ];
    CLOBBER.store(state.as_mut_ptr(), Ordering::Relaxed);
    CLOBBER_LEN.store(state.len(), Ordering::Relaxed);
    let f = inst.func("f");
    let entry = inst.compile_osr(f, at).unwrap();
    let r = inst.call_osr(f, entry, &state).unwrap();
    assert_eq!(state, [ValRaw::ZERO; 4], "the host ran");
    assert_eq!(r[0].get_i64(), 341);
}

#[test]
fn traps_inside_an_osr_entry() {
    let mut inst = Instance::new(
        r#"(module
          (memory 1)
          (func (export "div") (param $n i32) (param $d i32) (result i32) (local $acc i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (i32.div_s (i32.const 100) (local.get $d))))
              (local.set $d (i32.sub (local.get $d) (i32.const 1)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $acc))
          (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $acc i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $p))))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $acc))
          (func $twice (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
          (func (export "calls") (param $n i32) (result i32) (local $acc i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (call $twice (local.get $n))))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $acc)))"#,
        vec![],
    );
    let div = inst.func("div");
    let at = nth(&inst, "div", "Loop", 0);
    let entry = inst.compile_osr(div, at).unwrap();
    // 100/4 + 100/3 + 100/2.
    assert_eq!(
        inst.call_osr(div, entry, &i32s(&[3, 4, 0])).unwrap()[0].get_i32(),
        25 + 33 + 50
    );
    let run = |inst: &mut Instance, f: u32, entry: usize, state: Vec<ValRaw>| {
        run_in_child(inst, false, |inst| inst.call_osr(f, entry, &state).is_ok())
    };
    assert_eq!(
        run(&mut inst, div, entry, i32s(&[5, 2, 0])),
        Outcome::Trapped(TrapCode::IntegerDivideByZero)
    );
    assert_eq!(
        run(&mut inst, div, entry, i32s(&[1, -1, 0])),
        Outcome::Returned
    );
    // The division's trap site names the function's `i32.div_s`.
    let div_s = nth(&inst, "div", "I32DivS", 0);
    let code = inst.osr_code(entry);
    assert!(
        code.traps
            .iter()
            .filter(|t| t.code == TrapCode::IntegerDivideByZero)
            .all(|t| code.wasm_offset(t.offset) == Some(div_s))
    );
    assert!(
        code.traps
            .iter()
            .any(|t| t.code == TrapCode::IntegerDivideByZero)
    );

    let sum = inst.func("sum");
    let at = nth(&inst, "sum", "Loop", 0);
    let entry = inst.compile_osr(sum, at).unwrap();
    inst.memory()[65532..65536].copy_from_slice(&9i32.to_le_bytes());
    assert_eq!(
        inst.call_osr(sum, entry, &i32s(&[65532, 1, 1])).unwrap()[0].get_i32(),
        10
    );
    assert_eq!(
        run(&mut inst, sum, entry, i32s(&[65528, 3, 0])),
        Outcome::Trapped(TrapCode::MemoryOutOfBounds)
    );

    // The prologue's stack-limit check, in a function that calls (Cranelift checks the
    // limit in functions that call or have a frame), as in its ordinary compilation.
    let calls = inst.func("calls");
    let at = nth(&inst, "calls", "Loop", 0);
    let entry = inst.compile_osr(calls, at).unwrap();
    let stack_check = |code: &tierup_abi::MachineCode| {
        code.traps.iter().any(|t| t.code == TrapCode::StackOverflow)
    };
    assert!(stack_check(inst.osr_code(entry)));
    let ordinary = (calls - inst.env.num_imported_funcs) as usize;
    assert!(stack_check(inst.code(ordinary)));
    assert_eq!(
        inst.call_osr(calls, entry, &i32s(&[3, 1])).unwrap()[0].get_i32(),
        1 + 12
    );
    assert_eq!(
        run_in_child(&mut inst, false, |inst| {
            let marker = 0u8;
            let here = std::hint::black_box(&marker) as *const u8 as usize;
            inst.set_stack_limit(here + (1 << 20));
            inst.call_osr(calls, entry, &i32s(&[3, 1])).is_ok()
        }),
        Outcome::Trapped(TrapCode::StackOverflow)
    );
}

#[test]
fn an_operand_stack_below_nested_loops() {
    let mut inst = Instance::new(
        r#"(module
          (func (export "f") (param $rows i32) (param $cols i32) (result i64)
            (local $j i32) (local $acc i64)
            (i64.const 7)
            (loop $outer
              (local.set $j (local.get $cols))
              (i32.const 1000)
              (loop $inner (param i32)
                (drop)
                (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
                (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                (i32.const 2000)
                (br_if $inner (local.get $j))
                (drop))
              (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
              (br_if $outer (local.get $rows)))
            (i64.mul (i64.const 1000))
            (i64.add (local.get $acc))))"#,
        vec![],
    );
    assert_eq!(inst.call("f", &i32s(&[2, 3]))[0].get_i64(), 7006);
    // At the inner loop the stack holds the i64 below the outer loop and the inner loop's
    // parameter; the second row runs through the outer back-edge, which must pass the i64
    // of the state on.
    let at = nth(&inst, "f", "Loop", 1);
    let state = [
        ValRaw::i32(2),
        ValRaw::i32(3),
        ValRaw::i32(1),
        ValRaw::i64(50),
        ValRaw::i64(9),
        ValRaw::i32(0),
    ];
    assert_eq!(
        osr(&mut inst, "f", at, &state)[0].get_i64(),
        9000 + 50 + 1 + 3
    );
}

#[test]
fn points_that_are_not_osr_points() {
    let mut inst = Instance::new(
        r#"(module
          (import "h" "f" (func $imported))
          (func (export "dead") (result i32)
            (unreachable)
            (i32.const 1000)
            (loop (br 0)))
          (func (export "after_dead_block") (result i32)
            (block (unreachable))
            (i32.const 1))
          (func (export "live") (result i32)
            (i32.const 1000000)))"#,
        vec![Host {
            params: vec![],
            results: vec![],
            entry: clobber,
        }],
    );
    let tier = Optimizing::new().unwrap();
    let options = CompileOptions::default();
    let fails = |func: u32, at: u32| {
        let e = tier
            .compile_osr(&inst.env, func, at, &options)
            .expect_err(&format!("function {func} at {at:#x}"));
        assert!(!e.0.contains("internal compiler error"), "{e}");
        e.0
    };
    let dead = inst.func("dead");
    let e = fails(dead, nth(&inst, "dead", "I32Const", 0));
    assert!(e.contains("unreachable"), "{e}");
    fails(dead, nth(&inst, "dead", "Loop", 0));
    let after = inst.func("after_dead_block");
    fails(after, nth(&inst, "after_dead_block", "I32Const", 0));
    // Inside an instruction, before the body, past its end, in another function.
    let live = inst.func("live");
    let c = nth(&inst, "live", "I32Const", 0);
    let e = fails(live, c + 1);
    assert!(e.contains("not an OSR point"), "{e}");
    fails(live, 0);
    fails(live, u32::MAX);
    fails(live, nth(&inst, "dead", "Unreachable", 0));
    // Not a defined function.
    fails(0, c);
    fails(1000, c);
    // Both ends of `live` are points.
    let f = inst.func("live");
    for at in [c, nth(&inst, "live", "End", 0)] {
        let entry = inst.compile_osr(f, at).unwrap();
        let state = if at == c {
            vec![]
        } else {
            vec![ValRaw::i32(-3)]
        };
        let expect = if at == c { 1000000 } else { -3 };
        assert_eq!(
            inst.call_osr(f, entry, &state).unwrap()[0].get_i32(),
            expect
        );
    }
}

fn suite() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testsuite/wasm-2.0");
    dir.is_dir().then_some(dir)
}

/// The modules a script defines that encode and validate.
fn modules(text: &str) -> Vec<Vec<u8>> {
    use wast::parser::{self, ParseBuffer};
    use wast::{Wast, WastDirective};
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).unwrap();
    let script: Wast = parser::parse(&buf).unwrap();
    let mut out = Vec::new();
    for directive in script.directives {
        let (WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m)) = directive
        else {
            continue;
        };
        let Ok(bytes) = m.encode() else { continue };
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2);
        if validator.validate_all(&bytes).is_ok() {
            out.push(bytes);
        }
    }
    out
}

/// An open block, for [`reachability`].
struct Open {
    is_loop: bool,
    /// An `if` whose `else` has not come: its end is reached when the condition is zero.
    if_without_else: bool,
    /// Whether a branch to the block's end, or a fall-through into it, was seen.
    end_reached: bool,
    /// Whether the block was opened in reachable code.
    live: bool,
}

/// Which instructions of a body can be reached, by the rule of the contract: not after an
/// unconditional transfer until an `else`, or an `end` whose block something reaches the
/// end of (by a branch to it or by falling through). Returns (offset, reachable, name).
fn reachability(env: &ModuleEnv, f: u32) -> Vec<(u32, bool, String)> {
    use wasmparser::Operator as O;
    fn branch(open: &mut [Open], depth: u32) {
        let i = open.len() - 1 - depth as usize;
        if !open[i].is_loop {
            open[i].end_reached = true;
        }
    }
    let mut open = vec![Open {
        is_loop: false,
        if_without_else: false,
        end_reached: false,
        live: true,
    }];
    let mut reachable = true;
    let mut out = Vec::new();
    for (offset, op) in operators(env, f) {
        out.push((offset, reachable, name(&op)));
        match op {
            O::Block { .. } | O::Loop { .. } | O::If { .. } => open.push(Open {
                is_loop: matches!(op, O::Loop { .. }),
                if_without_else: matches!(op, O::If { .. }),
                end_reached: false,
                live: reachable,
            }),
            O::Else => {
                let top = open.last_mut().unwrap();
                if top.live {
                    top.end_reached |= reachable;
                    top.if_without_else = false;
                    reachable = true;
                }
            }
            O::End => {
                let top = open.pop().unwrap();
                if top.live {
                    reachable |= top.end_reached || top.if_without_else;
                }
            }
            _ if !reachable => {}
            O::Br { relative_depth } => {
                branch(&mut open, relative_depth);
                reachable = false;
            }
            O::BrIf { relative_depth } => branch(&mut open, relative_depth),
            O::BrTable { targets } => {
                for d in targets.targets() {
                    branch(&mut open, d.unwrap());
                }
                branch(&mut open, targets.default());
                reachable = false;
            }
            O::Return | O::Unreachable => reachable = false,
            _ => {}
        }
    }
    out
}

/// What compiling OSR entries at the points of spec scripts found.
#[derive(Default)]
struct Points {
    compiled: usize,
    refused: usize,
    failures: Vec<String>,
}

impl Points {
    /// Compiles the OSR entry (with Cranelift's verifier on) of every function of every
    /// module of `script` at every point `wanted` picks among the instructions (name, and
    /// the name of the instruction before); a reachable point must compile, with
    /// consistent tables, an unreachable one must be refused.
    fn check(
        &mut self,
        tier: &Optimizing,
        dir: &Path,
        script: &str,
        wanted: impl Fn(&str, Option<&str>) -> bool,
    ) {
        let text = std::fs::read_to_string(dir.join(script)).unwrap();
        for (m, bytes) in modules(&text).into_iter().enumerate() {
            let wasm: Arc<[u8]> = bytes.into();
            let env = ModuleEnv::decode(wasm, wasmparser::WasmFeatures::WASM2).unwrap();
            for f in env.num_imported_funcs..env.funcs.len() as u32 {
                let ops = reachability(&env, f);
                for (i, (at, reachable, name)) in ops.iter().enumerate() {
                    let before = i.checked_sub(1).map(|i| ops[i].2.as_str());
                    if !wanted(name, before) {
                        continue;
                    }
                    let result = tier.compile_osr(&env, f, *at, &CompileOptions::default());
                    let result = match (reachable, result) {
                        (true, Ok(code)) => {
                            self.compiled += 1;
                            check_tables(&code)
                        }
                        (false, Err(e)) if e.0.contains("not an OSR point") => {
                            self.refused += 1;
                            Ok(())
                        }
                        (_, Ok(_)) => Err("compiled".to_string()),
                        // Verifier reports print the whole function; the errors say it.
                        (_, Err(e)) => Err(e
                            .0
                            .lines()
                            .filter(|l| l.contains("error") || l.starts_with("cranelift"))
                            .take(8)
                            .collect::<Vec<_>>()
                            .join("\n")),
                    };
                    if let Err(e) = result {
                        self.failures.push(format!(
                            "{script} module {m} func {f} at {at:#x} ({name}, reachable \
                             {reachable}): {e}"
                        ));
                    }
                }
            }
        }
    }

    fn assert_ok(&self, min_compiled: usize, min_refused: usize) {
        eprintln!(
            "{} OSR entries, {} unreachable points, {} failures",
            self.compiled,
            self.refused,
            self.failures.len()
        );
        for f in self.failures.iter().take(20) {
            eprintln!("{f}");
        }
        assert!(
            self.failures.is_empty(),
            "{} points failed",
            self.failures.len()
        );
        assert!(
            self.compiled >= min_compiled,
            "only {} OSR entries",
            self.compiled
        );
        assert!(
            self.refused >= min_refused,
            "only {} unreachable points",
            self.refused
        );
    }
}

/// The tables of an OSR entry: sorted, inside the code, every explicit trap of the body at
/// a wasm offset, the shim at none.
fn check_tables(code: &tierup_abi::MachineCode) -> Result<(), String> {
    let len = code.bytes.len() as u32;
    let shim = code.array_shim.ok_or("no array shim")?;
    if code.register_entry != 0 || shim >= len {
        return Err(format!(
            "entry {} shim {shim} of {len}",
            code.register_entry
        ));
    }
    if !code.traps.windows(2).all(|w| w[0].offset < w[1].offset) {
        return Err("trap sites unsorted".into());
    }
    for t in &code.traps {
        if t.offset < shim
            && t.code != TrapCode::StackOverflow
            && code.wasm_offset(t.offset).is_none()
        {
            return Err(format!(
                "trap {:?} at {} has no wasm offset",
                t.code, t.offset
            ));
        }
    }
    if code.wasm_offset(shim).is_some() {
        return Err("the shim maps to a wasm instruction".into());
    }
    Ok(())
}

/// Every instruction of every function of a few spec scripts is the point of an OSR entry
/// if it is reachable, and refused if not. This shakes out values that the code after the
/// point uses but only the unreachable start of the body defines.
#[test]
fn every_instruction_of_some_spec_scripts() {
    let Some(dir) = suite() else {
        eprintln!("skipping: no spec suite beside the repository (../shared/testsuite)");
        return;
    };
    let tier = Optimizing::new().unwrap();
    let mut points = Points::default();
    for script in [
        "loop.wast",
        "block.wast",
        "br_table.wast",
        "fac.wast",
        "br_if.wast",
        "if.wast",
        "labels.wast",
        "br.wast",
        "return.wast",
        "unreachable.wast",
        "select.wast",
        "local_tee.wast",
        "call_indirect.wast",
        "memory_grow.wast",
        "simd_lane.wast",
    ] {
        points.check(&tier, &dir, script, |_, _| true);
    }
    points.assert_ok(4000, 1000);
}

/// Every loop header, and every point after an `end`, of every function of the whole spec
/// suite.
#[test]
fn every_loop_header_and_block_end_of_the_spec_suite() {
    let Some(dir) = suite() else {
        eprintln!("skipping: no spec suite beside the repository (../shared/testsuite)");
        return;
    };
    let mut scripts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wast"))
        .collect();
    scripts.sort();
    assert!(scripts.len() > 80, "only {} scripts", scripts.len());
    let tier = Optimizing::new().unwrap();
    let mut points = Points::default();
    for script in &scripts {
        points.check(&tier, &dir, script, |name, before| {
            name == "Loop" || before == Some("End")
        });
    }
    points.assert_ok(1500, 100);
}
