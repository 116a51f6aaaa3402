//! Machine code in the runtime (of the baseline and the optimizing tier): traps from faults
//! in every kind of access (with guard regions and without), backtraces across tiers,
//! stack exhaustion through recursion that mixes tiers, code compiled once per module and published into every live instance, and
//! calls from compiled code into interpreted and host code of a signature that uses every
//! kind of argument location.

use tierup::{Config, Engine, Instance, Linker, Module, Store, Tier, TierMode, Trap, Val};

fn engine(guard_regions: bool) -> Engine {
    engine_of(TierMode::Optimizing, guard_regions)
}

/// An engine whose functions run in the tier of `mode` (baseline or optimizing).
fn engine_of(mode: TierMode, guard_regions: bool) -> Engine {
    let mut config = Config::new();
    config.tier(mode).guard_regions(guard_regions);
    Engine::new(&config).unwrap()
}

fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance, Module) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance, module)
}

/// Calls export `name` with `args` and returns its trap.
fn trap_of(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Trap {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    let e = f.call(&mut *store, args, &mut results).unwrap_err();
    match e.downcast::<Trap>() {
        Ok(t) => t,
        Err(e) => panic!("`{name}` failed without a trap: {e:#}"),
    }
}

const ACCESSES: &str = r#"
(module
  (memory 1 2)
  (table 2 funcref)
  (type $v (func))
  (func $nop (type $v))
  (elem (i32.const 0) $nop)
  (data $d "abcd")
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u offset=7 (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "loadf64") (param i32) (result f64) (f64.load (local.get 0)))
  (func (export "load128") (param i32) (result v128) (v128.load (local.get 0)))
  (func (export "store16") (param i32) (i32.store16 (local.get 0) (i32.const 1)))
  (func (export "storef32") (param i32) (f32.store (local.get 0) (f32.const 1)))
  (func (export "store128") (param i32) (v128.store (local.get 0) (v128.const i64x2 1 2)))
  (func (export "big_offset") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
  (func (export "lane") (param i32) (result v128)
    (v128.load32_lane 1 (local.get 0) (v128.const i64x2 0 0)))
  (func (export "fill") (param i32) (memory.fill (local.get 0) (i32.const 0) (i32.const 16)))
  (func (export "copy") (param i32) (memory.copy (i32.const 0) (local.get 0) (i32.const 16)))
  (func (export "init") (param i32) (memory.init $d (local.get 0) (i32.const 0) (i32.const 4)))
  (func (export "table_get") (param i32) (result funcref) (table.get (local.get 0)))
  (func (export "call_indirect") (param i32) (call_indirect (type $v) (local.get 0)))
  (func (export "call_mismatch") (result i32) (call_indirect (result i32) (i32.const 0)))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "overflow") (param i32) (result i32) (i32.div_s (i32.const 0x80000000) (local.get 0)))
  (func (export "convert") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "unreachable") unreachable))
"#;

fn check_accesses(mode: TierMode, guard_regions: bool) {
    let engine = engine_of(mode, guard_regions);
    let (mut store, inst, _module) = instantiate(&engine, ACCESSES);
    let oob = "out of bounds memory access";
    let i = Val::I32;
    let cases: &[(&str, Val, &str)] = &[
        ("load32", i(65533), oob),
        ("load8", i(65529), oob),
        ("load64", i(-1), oob),
        ("loadf64", i(65529), oob),
        ("load128", i(65521), oob),
        ("store16", i(65535), oob),
        ("storef32", i(65533), oob),
        ("store128", i(65530), oob),
        ("big_offset", i(0x20), oob),
        ("lane", i(65533), oob),
        ("fill", i(65530), oob),
        ("copy", i(65530), oob),
        ("init", i(65533), oob),
        ("table_get", i(2), "out of bounds table access"),
        ("call_indirect", i(5), "undefined element"),
        ("call_indirect", i(1), "uninitialized element"),
        ("div", i(0), "integer divide by zero"),
        ("overflow", i(-1), "integer overflow"),
        (
            "convert",
            Val::F32(f32::NAN.to_bits()),
            "invalid conversion to integer",
        ),
        ("convert", Val::F32(3e9f32.to_bits()), "integer overflow"),
    ];
    for (name, arg, message) in cases {
        let t = trap_of(&mut store, &inst, name, std::slice::from_ref(arg));
        assert_eq!(
            t.message(),
            *message,
            "{name}({arg:?}), {mode}, guard regions {guard_regions}"
        );
        assert_eq!(t.frames().len(), 1, "{name}: {t}");
        // Functions without SIMD ran in the mode's tier.
        let f = inst.get_func(&mut store, name).unwrap();
        if !["load128", "store128", "lane"].contains(name) {
            let tier = if mode == TierMode::Baseline {
                Tier::Baseline
            } else {
                Tier::Optimizing
            };
            assert_eq!(f.slot(&store).tier(), tier, "{name}");
        }
    }
    assert_eq!(
        trap_of(&mut store, &inst, "call_mismatch", &[]).message(),
        "indirect call type mismatch"
    );
    assert_eq!(
        trap_of(&mut store, &inst, "unreachable", &[]).message(),
        "unreachable"
    );
    // In bounds, the same functions work, also after growing the memory.
    let load = inst
        .get_typed_func::<i32, i32>(&mut store, "load32")
        .unwrap();
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
}

#[test]
fn faults_in_every_kind_of_access_trap_with_guard_regions() {
    check_accesses(TierMode::Optimizing, true);
}

#[test]
fn faults_in_every_kind_of_access_trap_without_guard_regions() {
    check_accesses(TierMode::Optimizing, false);
}

#[test]
fn faults_in_every_kind_of_access_trap_in_the_baseline_tier() {
    check_accesses(TierMode::Baseline, true);
    check_accesses(TierMode::Baseline, false);
}

const CHAIN: &str = r#"
(module $chain
  (func $a (export "a") (param i32) (result i32) (call $b (local.get 0)))
  (func $b (export "b") (param i32) (result i32) (i32.add (call $c (local.get 0)) (i32.const 1)))
  (func $c (export "c") (param i32) (result i32) (call $d (local.get 0)))
  (func $d (export "d") (param i32) (result i32)
    (if (local.get 0) (then unreachable))
    (i32.const 7)))
"#;

/// The backtrace of `a(1)` as (function name, module offset), innermost first, with the
/// functions in `interpreted` run by the interpreter and the rest optimized.
fn chain_backtrace(mode: TierMode, interpreted: &[&str]) -> Vec<(Option<String>, u32)> {
    let engine = engine_of(mode, true);
    let (mut store, inst, module) = instantiate(&engine, CHAIN);
    for (index, name) in ["a", "b", "c", "d"].iter().enumerate() {
        if interpreted.contains(name) {
            let code = module.compile_fresh(index as u32, Tier::Interp).unwrap();
            let f = inst.get_func(&mut store, name).unwrap();
            // SAFETY: the code is the same function's, owned by the module, which outlives
            // the store's use of it here.
            unsafe { f.slot(&store).publish(code) };
        }
    }
    let a = inst.get_typed_func::<i32, i32>(&mut store, "a").unwrap();
    assert_eq!(a.call(&mut store, 0).unwrap(), 8);
    let e = a.call(&mut store, 1).unwrap_err();
    let t = e.downcast::<Trap>().unwrap();
    assert_eq!(t.message(), "unreachable");
    t.frames()
        .iter()
        .map(|f| {
            assert_eq!(f.module_name.as_deref(), Some("chain"));
            (f.func_name.clone(), f.module_offset)
        })
        .collect()
}

#[test]
fn backtraces_show_every_frame_whatever_its_tier() {
    let all_interpreted = chain_backtrace(TierMode::Optimizing, &["a", "b", "c", "d"]);
    let names: Vec<_> = all_interpreted
        .iter()
        .map(|(n, _)| n.clone().unwrap())
        .collect();
    assert_eq!(names, ["d", "c", "b", "a"]);
    for mode in [TierMode::Optimizing, TierMode::Baseline] {
        for mix in [&[][..], &["a", "c"], &["b", "d"], &["d"], &["a"]] {
            assert_eq!(
                chain_backtrace(mode, mix),
                all_interpreted,
                "{mode}, interpreted: {mix:?}"
            );
        }
    }
}

const PING_PONG: &str = r#"
(module
  (func $ping (export "ping") (param i64) (result i64)
    (i64.add (call $pong (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
  (func $pong (export "pong") (param i64) (result i64)
    (i64.add (call $ping (local.get 0)) (i64.const 1))))
"#;

#[test]
fn mixed_recursion_exhausts_the_stack_with_a_trap() {
    mixed_recursion(TierMode::Optimizing);
    mixed_recursion(TierMode::Baseline);
}

fn mixed_recursion(mode: TierMode) {
    let engine = engine_of(mode, true);
    let (mut store, inst, module) = instantiate(&engine, PING_PONG);
    let code = module.compile_fresh(1, Tier::Interp).unwrap();
    let pong = inst.get_func(&mut store, "pong").unwrap();
    // SAFETY: `pong`'s own code, owned by the module.
    unsafe { pong.slot(&store).publish(code) };
    let ping = inst.get_typed_func::<i64, i64>(&mut store, "ping").unwrap();
    // On a thread with a small stack, and again on this one.
    let result = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn({
            let mut store = Store::new(&engine, ());
            let inst = Linker::new(&engine)
                .instantiate(&mut store, &module)
                .unwrap();
            move || {
                let ping = inst.get_typed_func::<i64, i64>(&mut store, "ping").unwrap();
                ping.call(&mut store, 0)
                    .unwrap_err()
                    .downcast::<Trap>()
                    .unwrap()
                    .message()
                    .to_string()
            }
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, "call stack exhausted");
    let t = ping
        .call(&mut store, 0)
        .unwrap_err()
        .downcast::<Trap>()
        .unwrap();
    assert_eq!(t.message(), "call stack exhausted");
    // The store still works.
    let f = inst.get_func(&mut store, "pong").unwrap();
    assert_eq!(f.slot(&store).tier(), Tier::Interp);
}

const COUNTER: &str = r#"
(module
  (func $inc (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "twice") (param i32) (result i32) (call $inc (call $inc (local.get 0)))))
"#;

#[test]
fn code_is_compiled_once_and_published_into_every_live_instance() {
    let engine = engine(true);
    let module = Module::new(&engine, COUNTER).unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let one = linker.instantiate(&mut store, &module).unwrap();
    let two = linker.instantiate(&mut store, &module).unwrap();
    let inc_one = one.get_func(&mut store, "inc").unwrap();
    let inc_two = two.get_func(&mut store, "inc").unwrap();
    assert_eq!(inc_two.slot(&store).tier(), Tier::Lazy);
    let twice = one.get_typed_func::<i32, i32>(&mut store, "twice").unwrap();
    assert_eq!(twice.call(&mut store, 40).unwrap(), 42);
    assert_eq!(inc_one.slot(&store).tier(), Tier::Optimizing);
    assert_eq!(
        inc_two.slot(&store).tier(),
        Tier::Optimizing,
        "published into the other"
    );
    assert_eq!(
        inc_one.slot(&store).code(),
        inc_two.slot(&store).code(),
        "one compilation"
    );
    let three = linker.instantiate(&mut store, &module).unwrap();
    let inc_three = three.get_func(&mut store, "inc").unwrap();
    assert_eq!(
        inc_three.slot(&store).code(),
        inc_one.slot(&store).code(),
        "starts with it"
    );
    let inc = three.get_typed_func::<i32, i32>(&mut store, "inc").unwrap();
    assert_eq!(inc.call(&mut store, 1).unwrap(), 2);
    // A store of another thread shares the module's code too.
    let code = inc_one.slot(&store).code();
    let module2 = module.clone();
    std::thread::spawn(move || {
        let mut store = Store::new(module2.engine(), ());
        let inst = Linker::new(module2.engine())
            .instantiate(&mut store, &module2)
            .unwrap();
        let inc = inst.get_func(&mut store, "inc").unwrap();
        assert_eq!(inc.slot(&store).code(), code);
        let typed = inst.get_typed_func::<i32, i32>(&mut store, "inc").unwrap();
        assert_eq!(typed.call(&mut store, 5).unwrap(), 6);
    })
    .join()
    .unwrap();
}

#[test]
fn precompiled_code_is_what_instances_start_with() {
    let engine = engine(true);
    let module = Module::new(&engine, COUNTER).unwrap();
    let stats = module.precompile(Tier::Optimizing, 2).unwrap();
    assert_eq!(stats.functions, 2);
    assert!(stats.machine_bytes > 0 && stats.wasm_bytes > 0);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let inc = inst.get_func(&mut store, "inc").unwrap();
    assert_eq!(inc.slot(&store).tier(), Tier::Optimizing);
    let twice = inst
        .get_typed_func::<i32, i32>(&mut store, "twice")
        .unwrap();
    assert_eq!(twice.call(&mut store, 1).unwrap(), 3);
    // A second precompile finds everything compiled.
    assert_eq!(
        module
            .precompile(Tier::Optimizing, 1)
            .unwrap()
            .machine_bytes,
        0
    );
}

#[test]
fn no_mapping_is_ever_writable_and_executable_while_machine_code_runs() {
    let engine = engine(true);
    let (mut store, inst, module) = instantiate(&engine, COUNTER);
    module.precompile(Tier::Optimizing, 2).unwrap();
    let twice = inst
        .get_typed_func::<i32, i32>(&mut store, "twice")
        .unwrap();
    assert_eq!(twice.call(&mut store, 1).unwrap(), 3);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let wx: Vec<&str> = maps
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.contains('w') && p.contains('x'))
        })
        .collect();
    assert!(wx.is_empty(), "writable and executable mappings: {wx:?}");
}

fn eager_engine() -> Engine {
    let mut config = Config::new();
    config.tier(TierMode::Eager).worker_threads(1);
    Engine::new(&config).unwrap()
}

#[test]
fn eager_mode_starts_interpreted_and_publishes_optimized_code_while_running() {
    let engine = eager_engine();
    let (mut store, inst, _module) = instantiate(&engine, COUNTER);
    let inc = inst.get_func(&mut store, "inc").unwrap();
    let twice = inst
        .get_typed_func::<i32, i32>(&mut store, "twice")
        .unwrap();
    let started = std::time::Instant::now();
    let mut calls = 0u64;
    // Calls keep running (and stay right) until the worker's code is in the slot.
    while inc.slot(&store).tier() != Tier::Optimizing {
        assert_eq!(twice.call(&mut store, 5).unwrap(), 7);
        calls += 1;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no optimized code after {calls} calls"
        );
    }
    assert_eq!(twice.call(&mut store, 40).unwrap(), 42);
    // An instance made afterwards starts with the published code.
    let later = Linker::new(&engine)
        .instantiate(&mut store, &_module)
        .unwrap();
    let inc_later = later.get_func(&mut store, "inc").unwrap();
    assert_eq!(inc_later.slot(&store).code(), inc.slot(&store).code());
}

#[test]
fn modules_dropped_while_workers_compile_them_are_discarded_safely() {
    let engine = eager_engine();
    let mut wat = String::from("(module");
    for i in 0..300 {
        wat += &format!(
            " (func (export \"f{i}\") (param i32) (result i32) \
             (i32.mul (i32.add (local.get 0) (i32.const {i})) (i32.const 3)))"
        );
    }
    wat += ")";
    for round in 0..5 {
        let (mut store, inst, module) = instantiate(&engine, &wat);
        let f = inst.get_typed_func::<i32, i32>(&mut store, "f7").unwrap();
        assert_eq!(f.call(&mut store, round).unwrap(), (round + 7) * 3);
        drop((store, module));
    }
    // The workers are still there and working for a new module.
    let (mut store, inst, _module) = instantiate(&engine, COUNTER);
    let inc = inst.get_func(&mut store, "inc").unwrap();
    let started = std::time::Instant::now();
    while inc.slot(&store).tier() != Tier::Optimizing {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::yield_now();
    }
}

/// A signature that uses every kind of argument location of the register convention:
/// integer and float registers, then the stack (8-byte and 16-byte slots), and a results
/// area (three results).
const WIDE: &str = r#"
(module
  (type $wide (func (param i32 i64 f32 f64 v128 i32 i64 f32 f64 v128 i32 i64 f32 f64 v128
                           i32 i64 f32 f64 v128)
                    (result i64 f64 v128)))
  (import "host" "wide" (func $host (type $wide)))
  (table 1 funcref)
  (elem (i32.const 0) $wasm)
  ;; Folds its parameters so that each one's position and value matter.
  (func $wasm (export "wide") (type $wide)
    (local $i i64) (local $f f64) (local $v v128)
    (local.set $i (i64.add (i64.extend_i32_u (local.get 0)) (i64.mul (local.get 1) (i64.const 3))))
    (local.set $i (i64.add (local.get $i) (i64.mul (i64.extend_i32_u (local.get 5)) (i64.const 5))))
    (local.set $i (i64.add (local.get $i) (i64.mul (local.get 6) (i64.const 7))))
    (local.set $i (i64.add (local.get $i) (i64.mul (i64.extend_i32_u (local.get 10)) (i64.const 11))))
    (local.set $i (i64.add (local.get $i) (i64.mul (local.get 11) (i64.const 13))))
    (local.set $i (i64.add (local.get $i) (i64.mul (i64.extend_i32_u (local.get 15)) (i64.const 17))))
    (local.set $i (i64.add (local.get $i) (i64.mul (local.get 16) (i64.const 19))))
    (local.set $f (f64.add (f64.promote_f32 (local.get 2)) (f64.mul (local.get 3) (f64.const 2))))
    (local.set $f (f64.add (local.get $f) (f64.mul (f64.promote_f32 (local.get 7)) (f64.const 4))))
    (local.set $f (f64.add (local.get $f) (f64.mul (local.get 8) (f64.const 8))))
    (local.set $f (f64.add (local.get $f) (f64.mul (f64.promote_f32 (local.get 12)) (f64.const 16))))
    (local.set $f (f64.add (local.get $f) (f64.mul (local.get 13) (f64.const 32))))
    (local.set $f (f64.add (local.get $f) (f64.mul (f64.promote_f32 (local.get 17)) (f64.const 64))))
    (local.set $f (f64.add (local.get $f) (f64.mul (local.get 18) (f64.const 128))))
    (local.set $v (i32x4.add (local.get 4) (i32x4.shl (local.get 9) (i32.const 1))))
    (local.set $v (i32x4.add (local.get $v) (i32x4.shl (local.get 14) (i32.const 2))))
    (local.set $v (i32x4.add (local.get $v) (i32x4.shl (local.get 19) (i32.const 3))))
    (local.get $i) (local.get $f) (local.get $v))
  (func $args (param $k i32) (result i32 i64 f32 f64 v128 i32 i64 f32 f64 v128 i32 i64 f32
                                    f64 v128 i32 i64 f32 f64 v128)
    (local.get $k) (i64.extend_i32_u (i32.add (local.get $k) (i32.const 1)))
    (f32.convert_i32_u (i32.add (local.get $k) (i32.const 2)))
    (f64.convert_i32_u (i32.add (local.get $k) (i32.const 3)))
    (i32x4.splat (i32.add (local.get $k) (i32.const 4)))
    (i32.add (local.get $k) (i32.const 5)) (i64.extend_i32_u (i32.add (local.get $k) (i32.const 6)))
    (f32.convert_i32_u (i32.add (local.get $k) (i32.const 7)))
    (f64.convert_i32_u (i32.add (local.get $k) (i32.const 8)))
    (i32x4.splat (i32.add (local.get $k) (i32.const 9)))
    (i32.add (local.get $k) (i32.const 10)) (i64.extend_i32_u (i32.add (local.get $k) (i32.const 11)))
    (f32.convert_i32_u (i32.add (local.get $k) (i32.const 12)))
    (f64.convert_i32_u (i32.add (local.get $k) (i32.const 13)))
    (i32x4.splat (i32.add (local.get $k) (i32.const 14)))
    (i32.add (local.get $k) (i32.const 15)) (i64.extend_i32_u (i32.add (local.get $k) (i32.const 16)))
    (f32.convert_i32_u (i32.add (local.get $k) (i32.const 17)))
    (f64.convert_i32_u (i32.add (local.get $k) (i32.const 18)))
    (i32x4.splat (i32.add (local.get $k) (i32.const 19))))
  ;; The arguments for `k` to the interpreted function directly, through the table, and to
  ;; the host function: the three results, the vector's two halves.
  (func (export "direct") (param $k i32) (result i64 f64 i64 i64)
    (local $v v128)
    (call $wasm (call $args (local.get $k)))
    (local.set $v)
    (i64x2.extract_lane 0 (local.get $v))
    (i64x2.extract_lane 1 (local.get $v)))
  (func (export "indirect") (param $k i32) (result i64 f64 i64 i64)
    (local $v v128)
    (call_indirect (type $wide) (call $args (local.get $k)) (i32.const 0))
    (local.set $v)
    (i64x2.extract_lane 0 (local.get $v))
    (i64x2.extract_lane 1 (local.get $v)))
  (func (export "host") (param $k i32) (result i64 f64 i64 i64)
    (local $v v128)
    (call $host (call $args (local.get $k)))
    (local.set $v)
    (i64x2.extract_lane 0 (local.get $v))
    (i64x2.extract_lane 1 (local.get $v))))
"#;

/// `$wasm` of `WIDE`, in Rust: the host import's body and the expected results.
fn wide(args: &[Val]) -> (i64, f64, u128) {
    let mut i = 0i64;
    let mut f = 0f64;
    let mut v = [0u32; 4];
    for (n, a) in args.iter().enumerate() {
        let group = n / 5;
        match a {
            Val::I32(x) => i += *x as u32 as i64 * [1, 5, 11, 17][group],
            Val::I64(x) => i += x * [3, 7, 13, 19][group],
            Val::F32(x) => f += f32::from_bits(*x) as f64 * [1.0, 4.0, 16.0, 64.0][group],
            Val::F64(x) => f += f64::from_bits(*x) * [2.0, 8.0, 32.0, 128.0][group],
            Val::V128(x) => {
                for (lane, out) in v.iter_mut().enumerate() {
                    let l = (*x >> (32 * lane)) as u32;
                    *out = out.wrapping_add(l << group);
                }
            }
            other => panic!("unexpected argument {other:?}"),
        }
    }
    let v = v
        .iter()
        .enumerate()
        .fold(0u128, |acc, (lane, l)| acc | (*l as u128) << (32 * lane));
    (i, f, v)
}

#[test]
fn compiled_code_calls_interpreted_and_host_code_of_any_signature_through_adapters() {
    wide_calls(TierMode::Optimizing);
}

fn wide_calls(mode: TierMode) {
    let engine = engine_of(mode, true);
    let module = Module::new(&engine, WIDE).unwrap();
    let mut linker = Linker::new(&engine);
    let ty = module
        .imports()
        .next()
        .and_then(|i| i.ty().func().cloned())
        .unwrap();
    linker
        .func_new("host", "wide", ty, |_, args, results| {
            let (i, f, v) = wide(args);
            results[0] = Val::I64(i);
            results[1] = Val::F64(f.to_bits());
            results[2] = Val::V128(v);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &module).unwrap();
    // `$wasm` (function 1) interpreted; `calls` and `$args` compiled.
    let code = module.compile_fresh(1, Tier::Interp).unwrap();
    let f = inst.get_func(&mut store, "wide").unwrap();
    // SAFETY: the function's own code, owned by the module.
    unsafe { f.slot(&store).publish(code) };
    // Each caller several times: the first call goes through the resolving entry, the
    // later ones through the adapter it left in the slot.
    for name in ["direct", "indirect", "host"] {
        let caller = inst.get_func(&mut store, name).unwrap();
        for k in [0u32, 1, 1000, 7, 0x7fff_fff0] {
            let args: Vec<Val> = (0..20u32)
                .map(|n| {
                    let x = k.wrapping_add(n);
                    match n % 5 {
                        0 => Val::I32(x as i32),
                        1 => Val::I64(x as i64),
                        2 => Val::F32((x as f32).to_bits()),
                        3 => Val::F64((x as f64).to_bits()),
                        _ => Val::V128(x as u128 * 0x1_0000_0001_0000_0001_0000_0001),
                    }
                })
                .collect();
            let (i, fl, v) = wide(&args);
            let mut results = [Val::I64(0), Val::F64(0), Val::I64(0), Val::I64(0)];
            caller
                .call(&mut store, &[Val::I32(k as i32)], &mut results)
                .unwrap();
            assert_eq!(results[0].unwrap_i64(), i, "{name}, k = {k}");
            assert_eq!(results[1].unwrap_f64(), fl, "{name}, k = {k}");
            assert_eq!(results[2].unwrap_i64(), v as i64, "{name}, k = {k}");
            assert_eq!(results[3].unwrap_i64(), (v >> 64) as i64, "{name}, k = {k}");
        }
        assert_eq!(caller.slot(&store).tier(), Tier::Optimizing);
    }
    assert_eq!(f.slot(&store).tier(), Tier::Interp);
}

/// Twenty scalar parameters (integer and float registers, then the stack) and two results
/// (a results area): `$f` weighs each parameter by its position.
fn many_args_module() -> String {
    let params: Vec<&str> = (0..20)
        .map(|i| if i % 2 == 0 { "i64" } else { "f64" })
        .collect();
    let params = params.join(" ");
    let mut body = String::from("(i64.const 0)");
    let mut fbody = String::from("(f64.const 0)");
    for i in 0..20 {
        if i % 2 == 0 {
            body = format!(
                "(i64.add {body} (i64.mul (local.get {i}) (i64.const {})))",
                i + 1
            );
        } else {
            fbody = format!(
                "(f64.add {fbody} (f64.mul (local.get {i}) (f64.const {})))",
                i + 1
            );
        }
    }
    let args: String = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                format!("(i64.add (local.get 0) (i64.const {i}))")
            } else {
                format!("(f64.convert_i64_s (i64.add (local.get 0) (i64.const {i})))")
            }
        })
        .collect();
    format!(
        r#"(module
  (type $t (func (param {params}) (result i64 f64)))
  (import "host" "many" (func $host (type $t)))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f (export "f") (type $t) {body} {fbody})
  (func (export "direct") (param i64) (result i64 f64) (call $f {args}))
  (func (export "indirect") (param i64) (result i64 f64)
    (call_indirect (type $t) {args} (i32.const 0)))
  (func (export "host") (param i64) (result i64 f64) (call $host {args})))"#
    )
}

/// The results of `$f` for the arguments of `k`.
fn many_args_expected(k: i64) -> (i64, f64) {
    let mut i = 0i64;
    let mut f = 0f64;
    for n in 0..20i64 {
        if n % 2 == 0 {
            i += (k + n) * (n + 1);
        } else {
            f += (k + n) as f64 * (n + 1) as f64;
        }
    }
    (i, f)
}

#[test]
fn calls_with_many_arguments_work_between_every_pair_of_tiers() {
    let wat = many_args_module();
    for mode in [TierMode::Baseline, TierMode::Optimizing] {
        // Callee (function 1) and callers in the mode's tier, or one of them in another
        // tier: interpreted, or (in baseline mode) optimized.
        let other = if mode == TierMode::Baseline {
            Tier::Optimizing
        } else {
            Tier::Interp
        };
        let swaps = [
            None,
            Some((1u32, Tier::Interp)),
            Some((2, Tier::Interp)),
            Some((4, Tier::Interp)),
            Some((1, other)),
            Some((3, other)),
        ];
        for swap in swaps {
            let engine = engine_of(mode, true);
            let module = Module::new(&engine, &wat).unwrap();
            let ty = module
                .imports()
                .next()
                .and_then(|i| i.ty().func().cloned())
                .unwrap();
            let mut linker = Linker::new(&engine);
            linker
                .func_new("host", "many", ty, |_, args, results| {
                    let (mut i, mut f) = (0i64, 0f64);
                    for (n, a) in args.iter().enumerate() {
                        match a {
                            Val::I64(x) => i += x * (n as i64 + 1),
                            Val::F64(x) => f += f64::from_bits(*x) * (n as f64 + 1.0),
                            other => panic!("unexpected argument {other:?}"),
                        }
                    }
                    results[0] = Val::I64(i);
                    results[1] = Val::F64(f.to_bits());
                    Ok(())
                })
                .unwrap();
            let mut store = Store::new(&engine, ());
            let inst = linker.instantiate(&mut store, &module).unwrap();
            if let Some((index, tier)) = swap {
                let code = module.compile_fresh(index, tier).unwrap();
                let name = ["", "f", "direct", "indirect", "host"][index as usize];
                let slot = inst.get_func(&mut store, name).unwrap().slot(&store);
                // SAFETY: the function's own code, owned by the module.
                unsafe { slot.publish(code) };
            }
            for name in ["direct", "indirect", "host"] {
                let caller = inst.get_func(&mut store, name).unwrap();
                for k in [0i64, 1, -7, 1 << 40] {
                    let mut results = [Val::I64(0), Val::F64(0)];
                    caller
                        .call(&mut store, &[Val::I64(k)], &mut results)
                        .unwrap();
                    let (i, f) = many_args_expected(k);
                    assert_eq!(results[0].unwrap_i64(), i, "{mode} {swap:?} {name} {k}");
                    assert_eq!(results[1].unwrap_f64(), f, "{mode} {swap:?} {name} {k}");
                }
            }
        }
    }
}

#[test]
fn precompiling_with_the_baseline_tier_leaves_simd_functions_to_the_optimizing_tier() {
    let engine = engine_of(TierMode::Baseline, true);
    let module = Module::new(
        &engine,
        r#"(module
          (func (export "scalar") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
          (func (export "vector") (param i32) (result i32)
            (i32x4.extract_lane 1 (i32x4.mul (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 5))))))"#,
    )
    .unwrap();
    let stats = module.precompile(Tier::Baseline, 1).unwrap();
    assert_eq!((stats.functions, stats.refused), (2, 1));
    assert!(stats.machine_bytes > 0);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    // The refused function is compiled by the optimizing tier at its first call.
    for (name, expected, tier) in [
        ("scalar", 21, Tier::Baseline),
        ("vector", 35, Tier::Optimizing),
    ] {
        let f = inst.get_typed_func::<i32, i32>(&mut store, name).unwrap();
        assert_eq!(f.call(&mut store, 7).unwrap(), expected, "{name}");
        let slot = inst.get_func(&mut store, name).unwrap().slot(&store);
        assert_eq!(slot.tier(), tier, "{name}");
    }
}

/// The baseline tier's copies of locals in registers: an operator that reads one local
/// twice (a compare, a store of a local at its own address), then a store of a constant
/// into it, then a read. Two copies of the local once survived the operator, and the read
/// found the stale one (42 for 7).
#[test]
fn a_local_read_twice_by_one_operator_then_set_reads_its_new_value() {
    const TWICE: &str = r#"
      (module
        (memory 1)
        (func (export "cmp") (param $p i32) (result i32) (local $x i32)
          (local.set $x (i32.add (local.get $p) (i32.const 1)))
          (drop (i32.lt_u (local.get $x) (local.get $x)))
          (local.set $x (i32.const 7))
          (local.get $x))
        (func (export "store") (param $p i32) (result i32) (local $x i32)
          (local.set $x (i32.add (local.get $p) (i32.const 1)))
          (i32.store (local.get $x) (local.get $x))
          (local.set $x (i32.const 7))
          (i32.add (local.get $x) (i32.load (i32.const 42))))
        (func (export "add") (param $p i32) (result i32) (local $x i32)
          (local.set $x (i32.add (local.get $p) (i32.const 1)))
          (drop (i32.add (local.get $x) (local.get $x)))
          (local.set $x (i32.const 7))
          (local.get $x)))"#;
    for mode in [TierMode::Baseline, TierMode::Optimizing, TierMode::Interp] {
        let (mut store, instance, _) = instantiate(&engine_of(mode, true), TWICE);
        for (name, expected) in [("cmp", 7), ("store", 49), ("add", 7)] {
            let f = instance
                .get_typed_func::<i32, i32>(&mut store, name)
                .unwrap();
            assert_eq!(
                f.call(&mut store, 41).unwrap(),
                expected,
                "{name} in {mode:?}"
            );
        }
    }
}

/// A host function that fails, called from compiled code through the adapter of its
/// signature (made by the baseline tier for scalar signatures, by the optimizing tier for
/// `v128` ones): the failure comes out of the call as the host's error, and the store
/// goes on.
#[test]
fn a_host_function_that_fails_behind_an_adapter_fails_the_call_and_the_store_goes_on() {
    const WAT: &str = r#"
      (module
        (import "host" "check" (func $check (param i32 f64) (result i32)))
        (import "host" "check_v" (func $check_v (param v128) (result i32)))
        (func (export "run") (param i32) (result i32)
          (call $check (local.get 0) (f64.const 0.5)))
        (func (export "run_v") (param i32) (result i32)
          (call $check_v (i32x4.splat (local.get 0)))))"#;
    for mode in [TierMode::Baseline, TierMode::Optimizing] {
        let engine = engine_of(mode, true);
        let module = Module::new(&engine, WAT).unwrap();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "check", |x: i32, y: f64| {
                if x == 0 {
                    anyhow::bail!("boom");
                }
                Ok(x + (y * 2.0) as i32)
            })
            .unwrap()
            .func_wrap("host", "check_v", |v: u128| {
                if v == 0 {
                    anyhow::bail!("boom v128");
                }
                Ok(v as i32)
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let run = inst.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
        let run_v = inst
            .get_typed_func::<i32, i32>(&mut store, "run_v")
            .unwrap();
        for _ in 0..3 {
            assert_eq!(run.call(&mut store, 5).unwrap(), 6, "{mode:?}");
            let e = run.call(&mut store, 0).unwrap_err();
            assert!(format!("{e:#}").contains("boom"), "{mode:?}: {e:#}");
            assert_eq!(run_v.call(&mut store, 9).unwrap(), 9, "{mode:?}");
            let e = run_v.call(&mut store, 0).unwrap_err();
            assert!(format!("{e:#}").contains("boom v128"), "{mode:?}: {e:#}");
        }
        let run_f = inst.get_func(&mut store, "run").unwrap();
        assert_eq!(run_f.slot(&store).tier(), mode_tier(mode), "{mode:?}");
    }
}

fn mode_tier(mode: TierMode) -> Tier {
    match mode {
        TierMode::Baseline => Tier::Baseline,
        _ => Tier::Optimizing,
    }
}
