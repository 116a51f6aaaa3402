//! The tier manager: hot functions move from the interpreter through baseline code to
//! optimized code while the program runs, in the background or synchronously, by calls and
//! by on-stack replacement;
//! code is compiled once per module and shared by its instances; modules dropped while
//! workers compile them; many threads calling while workers publish; the non-blocking
//! compile and instantiate; the events.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tierup::{Config, Engine, Instance, Linker, Module, Store, Tier, TierMode, TypedFunc};

/// A tiered engine with `threshold` and synchronous or background tier-up; baseline code
/// gets hot after ten times that work, so that small tests reach every tier.
fn tiered(threshold: u32, sync: bool) -> Engine {
    let mut config = Config::new();
    config
        .tier(TierMode::Tiered)
        .tier_up_threshold(threshold)
        .baseline_tier_up_threshold(Some(threshold.saturating_mul(10)))
        .sync_tier_up(sync);
    Engine::new(&config).unwrap()
}

fn instantiate(engine: &Engine, module: &Module) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    (store, instance)
}

/// Waits (up to a minute, so that a loaded machine does not fail the test) for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `sum(n)`: the sum of `i * i % 7` for `i` below `n`, by a loop.
const LOOP: &str = r#"
(module
  (func $sum (export "sum") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.extend_i32_u (i32.rem_u (i32.mul (local.get $i) (local.get $i)) (i32.const 7)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
"#;

fn sum(n: u32) -> i64 {
    (0..n).map(|i| i64::from(i.wrapping_mul(i) % 7)).sum()
}

#[test]
fn the_default_mode_is_tiered() {
    assert_eq!(Config::new().tier_mode(), TierMode::Tiered);
    assert_eq!(Engine::default().config().tier_mode(), TierMode::Tiered);
}

#[test]
fn a_hot_loop_in_a_function_called_a_few_hundred_times_moves_up() {
    let engine = tiered(tierup::DEFAULT_TIER_UP_THRESHOLD, false);
    let module = Module::new(&engine, LOOP).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
    let slot = instance.get_func(&mut store, "sum").unwrap().slot(&store);
    let mut calls = 0;
    // Each call runs 20,000 iterations: a few hundred calls are plenty of budget.
    while calls < 300 || slot.tier() != Tier::Optimizing {
        assert_eq!(f.call(&mut store, 20_000).unwrap(), sum(20_000));
        calls += 1;
        if calls >= 300 {
            eventually("the optimized `sum`", || slot.tier() == Tier::Optimizing);
        }
    }
    assert_eq!(f.call(&mut store, 12_345).unwrap(), sum(12_345));
    let stats = module.tiering_stats();
    // Baseline code, then optimized code (which the baseline code's counter asked for).
    assert_eq!(stats.compiled, 2, "{stats:?}");
    assert_eq!(stats.failed, 0);
}

/// With a threshold of 0 and synchronous tier-up a function moves one tier per call: the
/// interpreter's counter asks for baseline code at the first call, the baseline code's
/// counter for optimized code at the second; every call gives the same result.
#[test]
fn a_function_climbs_the_chain_one_tier_per_call() {
    let engine = tiered(0, true);
    let wat = r#"
    (module
      (func (export "f") (param i32) (result i32)
        (i32.mul (i32.add (local.get 0) (i32.const 3)) (local.get 0))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "f").unwrap();
    let slot = instance.get_func(&mut store, "f").unwrap().slot(&store);
    let mut seen = Vec::new();
    for x in 0..4 {
        assert_eq!(f.call(&mut store, x).unwrap(), (x + 3) * x);
        seen.push(slot.tier());
    }
    assert_eq!(
        seen,
        [
            Tier::Baseline,
            Tier::Optimizing,
            Tier::Optimizing,
            Tier::Optimizing
        ]
    );
    assert_eq!(module.tiering_stats().compiled, 2);
}

/// A function the baseline tier does not compile (it uses SIMD) goes from the interpreter
/// straight to the optimizing tier, and says so in its request states.
#[test]
fn a_function_the_baseline_tier_refuses_goes_straight_to_the_optimizing_tier() {
    let engine = tiered(0, true);
    let wat = r#"
    (module
      (func (export "f") (param i32) (result i32)
        (i32x4.extract_lane 2 (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 5))))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "f").unwrap();
    let slot = instance.get_func(&mut store, "f").unwrap().slot(&store);
    assert_eq!(f.call(&mut store, 7).unwrap(), 12);
    // The first report found the baseline tier's refusal; the next one goes on.
    assert_eq!(f.call(&mut store, 8).unwrap(), 13);
    assert_eq!(slot.tier(), Tier::Optimizing);
    let stats = module.tiering_stats();
    assert_eq!((stats.failed, stats.compiled), (1, 1), "{stats:?}");
}

/// In the baseline mode, a function the baseline tier refuses (SIMD) is compiled by the
/// optimizing tier on its first call, as the tiered chain skips the baseline tier for it;
/// the others are baseline code.
#[test]
fn in_the_baseline_mode_a_function_the_tier_refuses_is_optimized_code() {
    let engine = Engine::new(Config::new().tier(TierMode::Baseline)).unwrap();
    let wat = r#"
    (module
      (func (export "simd") (param i32) (result i32)
        (i32x4.extract_lane 2 (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 5)))))
      (func (export "scalar") (param i32) (result i32)
        (i32.add (local.get 0) (i32.const 5))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    for (name, tier) in [("simd", Tier::Optimizing), ("scalar", Tier::Baseline)] {
        let f: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, name).unwrap();
        assert_eq!(f.call(&mut store, 7).unwrap(), 12, "{name}");
        let slot = instance.get_func(&mut store, name).unwrap().slot(&store);
        assert_eq!(slot.tier(), tier, "{name}");
    }
    // A new instance starts with that code, without asking the baseline tier again.
    let (mut store, instance) = instantiate(&engine, &module);
    let slot = instance.get_func(&mut store, "simd").unwrap().slot(&store);
    assert_eq!(slot.tier(), Tier::Optimizing);
}

/// The register convention leaves the upper half of an `i32` argument undefined, and
/// optimized code passes a wrapped `i64` as it is; baseline code, which keeps every `i32`
/// in a register zero-extended and indexes memory with all 64 bits, must not take the
/// argument's register as the parameter's value without clearing it.
#[test]
fn a_baseline_callee_clears_the_upper_half_of_an_i32_argument_from_optimized_code() {
    let engine = Engine::new(Config::new().tier(TierMode::Baseline)).unwrap();
    let wat = r#"
    (module
      (memory 1)
      (data (i32.const 16) "\2a\00\00\00")
      (func $load (param i32) (result i32)
        (i32.load (local.get 0)))
      ;; SIMD: optimized code in the baseline mode.
      (func (export "call_with_wrapped") (param i64) (result i32)
        (drop (i32x4.extract_lane 0 (i32x4.splat (i32.const 1))))
        (call $load (i32.wrap_i64 (local.get 0)))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<i64, i32> = instance
        .get_typed_func(&mut store, "call_with_wrapped")
        .unwrap();
    for high in [0u64, 1, 0xffff_ffff] {
        let arg = (high << 32 | 16) as i64;
        assert_eq!(f.call(&mut store, arg).unwrap(), 42, "{arg:#x}");
    }
    let slot = instance
        .get_func(&mut store, "call_with_wrapped")
        .unwrap()
        .slot(&store);
    assert_eq!(slot.tier(), Tier::Optimizing);
}

#[test]
fn a_loop_in_a_function_entered_once_moves_by_on_stack_replacement() {
    for sync in [true, false] {
        let engine = tiered(10_000, sync);
        let module = Module::new(&engine, LOOP).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
        // In the interpreter this is seconds of work; optimized, a small part of that.
        let n = 200_000_000;
        assert_eq!(f.call(&mut store, n).unwrap(), sum(n), "sync {sync}");
        let stats = module.tiering_stats();
        // Its baseline and its optimized code, asked for by the reports from the loop.
        assert_eq!(stats.compiled, 2, "sync {sync}: {stats:?}");
        // From the interpreter into baseline code, and from there into optimized code.
        assert!(stats.osr_entries >= 2, "sync {sync}: {stats:?}");
        assert_eq!(stats.osr_entered, 2, "sync {sync}: {stats:?}");
    }
}

/// Loops at several depths, with values on the operand stack below them, parameters,
/// and every value type in the state: each moves into its OSR entry at its first back
/// edge (threshold 0, synchronous) and finishes there with the interpreter's result.
#[test]
fn on_stack_replacement_carries_the_whole_state() {
    let wat = r#"
    (module
      (memory 1)
      (func (export "nested") (param $n i32) (param $f f64) (result i64)
        (local $i i32) (local $j i32) (local $acc i64) (local $g f32) (local $v v128)
        (i64.const 1000)
        (loop $outer (result i64)
          (local.set $j (i32.const 0))
          (loop $inner
            (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $j))))
            (local.set $g (f32.add (local.get $g) (f32.const 0.5)))
            (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $inner (i32.lt_u (local.get $j) (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))
          (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $f)))
          (i64.add (i64.trunc_f32_s (local.get $g)))
          (i64.add (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v)))))
        (i64.add))
    )"#;
    let expected = |n: u32, f: f64| -> i64 {
        let (mut acc, mut g, mut v) = (0i64, 0f32, 0u32);
        for i in 0..n.max(1) {
            for j in 0..i.max(1) {
                acc += i64::from(j);
                g += 0.5;
                v = v.wrapping_add(j);
            }
        }
        1000 + acc + f as i64 + g as i64 + i64::from(v)
    };
    for (threshold, sync) in [(0, true), (50, true), (200, false)] {
        let engine = tiered(threshold, sync);
        let module = Module::new(&engine, wat).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<(u32, f64), i64> = instance.get_typed_func(&mut store, "nested").unwrap();
        for n in [1, 2, 30, 300] {
            assert_eq!(
                f.call(&mut store, (n, 2.5)).unwrap(),
                expected(n, 2.5),
                "n {n}, threshold {threshold}, sync {sync}"
            );
        }
    }
}

/// On-stack replacement from the interpreter into baseline code and from there into
/// optimized code with a large state: more locals and operand-stack values than are
/// copied one by one (constants and computed values below the loop, loop parameters), of
/// every scalar type, at thresholds that move at the first back edge and later ones.
#[test]
fn on_stack_replacement_through_the_baseline_tier_carries_a_large_state() {
    let mut locals = String::new();
    let mut below = String::new();
    let mut fold = String::new();
    for i in 0..12 {
        let ty = ["i32", "i64", "f32", "f64"][i % 4];
        locals += &format!("(local $l{i} {ty}) ");
        // Each local changes every iteration by its own step.
        let step = match ty {
            "i32" | "i64" => format!("({ty}.add (local.get $l{i}) ({ty}.const {}))", i + 1),
            _ => format!("({ty}.add (local.get $l{i}) ({ty}.const {}.5))", i + 1),
        };
        fold += &format!("(local.set $l{i} {step})\n");
    }
    // Ten values below the loop: constants and values computed from the parameter.
    for k in 0..10 {
        if k % 2 == 0 {
            below += &format!("(i64.const {})\n", 1000 * (k + 1));
        } else {
            below += &format!("(i64.mul (i64.extend_i32_u (local.get $n)) (i64.const {k}))\n");
        }
    }
    let mut total = String::from("(local.get $acc)");
    for i in 0..12 {
        let ty = ["i32", "i64", "f32", "f64"][i % 4];
        let as_i64 = match ty {
            "i32" => format!("(i64.extend_i32_u (local.get $l{i}))"),
            "i64" => format!("(local.get $l{i})"),
            _ => format!("(i64.trunc_{ty}_s (local.get $l{i}))"),
        };
        total = format!("(i64.add {total} {as_i64})");
    }
    let wat = format!(
        r#"
    (module
      (func (export "run") (param $n i32) (result i64)
        (local $i i32) (local $acc i64) {locals}
        {below}
        (i64.const 7) (i32.const 0)
        (loop $l (param i64 i32) (result i64 i32)
          {fold}
          (local.set $i)
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
          (i64.add (i64.const 3))
          (i32.add (local.get $i) (i32.const 1))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (drop)
        (local.set $acc (i64.add (local.get $acc)))
        (i64.add) (i64.add) (i64.add) (i64.add) (i64.add)
        (i64.add) (i64.add) (i64.add) (i64.add)
        (i64.add {total})))"#
    );
    let reference = {
        let mut config = Config::new();
        config.tier(TierMode::Interp);
        Engine::new(&config).unwrap()
    };
    let module = Module::new(&reference, &wat).unwrap();
    let (mut store, instance) = instantiate(&reference, &module);
    let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "run").unwrap();
    let expected: Vec<i64> = [3000, 50, 2, 1]
        .iter()
        .map(|&n| f.call(&mut store, n).unwrap())
        .collect();
    for (threshold, sync) in [(0, true), (7, true), (300, true), (100, false)] {
        let engine = tiered(threshold, sync);
        let module = Module::new(&engine, &wat).unwrap();
        for (k, n) in [3000, 50, 2, 1].into_iter().enumerate() {
            // A new instance each time: the first runs the loop in the interpreter until it
            // moves, the others start with the code published by then.
            let (mut store, instance) = instantiate(&engine, &module);
            let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "run").unwrap();
            assert_eq!(
                f.call(&mut store, n).unwrap(),
                expected[k],
                "n {n}, threshold {threshold}, sync {sync}"
            );
        }
        let stats = module.tiering_stats();
        if sync {
            assert!(stats.osr_entered >= 2, "threshold {threshold}: {stats:?}");
        }
        assert_eq!(stats.failed + stats.osr_failed, 0, "{stats:?}");
    }
}

/// A loop nest entered once moves from baseline code into optimized code at its outer
/// loop when that loop comes round (the outer header answers the manager's request), and
/// at the inner loop when it does not (an outer loop that runs once); both finish with
/// the interpreter's results. (At threshold 1,000, synchronous, the events show the first
/// shape entering optimized code at the outer loop's offset and the second at the inner
/// one's; at threshold 0 the patience runs out within the first inner loop.)
#[test]
fn a_loop_nest_moves_at_its_outer_loop_or_where_it_is() {
    let wat = r#"
    (module
      (func (export "nest") (param $outer i32) (param $inner i32) (result i64)
        (local $i i32) (local $j i32) (local $acc i64)
        (loop $o
          (local.set $j (i32.const 0))
          (loop $n
            (local.set $acc (i64.add (local.get $acc)
              (i64.extend_i32_u (i32.xor (local.get $i) (local.get $j)))))
            (br_if $n (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1)))
                                (local.get $inner))))
          (br_if $o (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (local.get $outer))))
        (local.get $acc)))"#;
    let nest = |outer: u32, inner: u32| -> i64 {
        let mut acc = 0i64;
        for i in 0..outer.max(1) {
            for j in 0..inner.max(1) {
                acc += i64::from(i ^ j);
            }
        }
        acc
    };
    // (outer, inner): many short inner loops; one outer iteration with a long inner one.
    for (outer, inner) in [(5_000, 40), (1, 200_000)] {
        for (threshold, sync) in [(0, true), (1_000, true), (1_000, false)] {
            let engine = tiered(threshold, sync);
            let module = Module::new(&engine, wat).unwrap();
            let (mut store, instance) = instantiate(&engine, &module);
            let f: TypedFunc<(u32, u32), i64> =
                instance.get_typed_func(&mut store, "nest").unwrap();
            assert_eq!(
                f.call(&mut store, (outer, inner)).unwrap(),
                nest(outer, inner),
                "{outer}x{inner}, threshold {threshold}, sync {sync}"
            );
            let stats = module.tiering_stats();
            if sync {
                assert_eq!(stats.osr_entered, 2, "{outer}x{inner}: {stats:?}");
            }
            assert_eq!(stats.failed + stats.osr_failed, 0, "{stats:?}");
        }
    }
}

#[test]
fn a_trap_inside_an_osr_entry_has_the_frames_of_every_tier() {
    let wat = r#"
    (module
      (func $inner (param $i i32) (result i32)
        (i32.div_u (i32.const 100) (i32.sub (i32.const 1000) (local.get $i))))
      (func $run (export "run") (result i32)
        (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (i32.add (local.get $acc) (call $inner (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l))
        (local.get $acc))
      (func (export "outer") (result i32) (call $run)))"#;
    let engine = tiered(0, true);
    let module = Module::new(&engine, wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<(), i32> = instance.get_typed_func(&mut store, "outer").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    let trap = err.downcast_ref::<tierup::Trap>().expect("a trap");
    assert_eq!(
        trap.code(),
        Some(tierup::TrapCode::IntegerDivideByZero),
        "{trap}"
    );
    // `run` moved from the interpreter into its baseline OSR entry and from there into its
    // optimized one: one frame of `run`, the optimized entry's, stands for all three.
    let frames: Vec<u32> = trap.frames().iter().map(|f| f.func_index).collect();
    assert_eq!(frames, [0, 1, 2], "{trap}");
    assert_eq!(module.tiering_stats().osr_entered, 2);
    // The store stays usable, and the next call runs the published code.
    assert!(f.call(&mut store, ()).is_err());
}

#[test]
fn code_is_compiled_once_and_shared_by_every_instance() {
    let engine = tiered(0, true);
    let module = Module::new(&engine, LOOP).unwrap();
    let mut instances: Vec<(Store<()>, Instance)> =
        (0..4).map(|_| instantiate(&engine, &module)).collect();
    let slots: Vec<_> = instances
        .iter_mut()
        .map(|(store, inst)| inst.get_func(&mut *store, "sum").unwrap().slot(&*store))
        .collect();
    assert!(slots.iter().all(|s| s.tier() == Tier::Lazy));
    // Hot in one instance: published into all of them.
    let (store, inst) = &mut instances[0];
    let f: TypedFunc<u32, i64> = inst.get_typed_func(&mut *store, "sum").unwrap();
    assert_eq!(f.call(&mut *store, 100).unwrap(), sum(100));
    // (Its loop moved it on from its baseline code.)
    let code = slots[0].code();
    assert_eq!(code.tier(), Tier::Optimizing);
    assert!(slots.iter().all(|s| s.code() == code), "one code for all");
    // An instance made later starts with it.
    let (mut store, late) = instantiate(&engine, &module);
    let late_slot = late.get_func(&mut store, "sum").unwrap().slot(&store);
    assert_eq!(late_slot.code(), code);
    // Hot again in another instance: nothing is compiled twice.
    for (store, inst) in instances.iter_mut() {
        let f: TypedFunc<u32, i64> = inst.get_typed_func(&mut *store, "sum").unwrap();
        assert_eq!(f.call(&mut *store, 1000).unwrap(), sum(1000));
    }
    assert_eq!(module.tiering_stats().compiled, 2, "baseline and optimized");
}

#[test]
fn random_tier_masks_stop_functions_at_each_tier_for_good() {
    let mut wat = String::from("(module\n");
    for i in 0..64 {
        wat += &format!("(func (export \"f{i}\") (result i32) (i32.const {i}))\n");
    }
    wat += ")";
    let mut config = Config::new();
    config
        .tier(TierMode::Tiered)
        .tier_up_threshold(0)
        .sync_tier_up(true)
        .random_tiers(Some(11));
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, &wat).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let mut tiers = Vec::new();
    for i in 0..64 {
        let f: TypedFunc<(), i32> = instance
            .get_typed_func(&mut store, &format!("f{i}"))
            .unwrap();
        for _ in 0..3 {
            assert_eq!(f.call(&mut store, ()).unwrap(), i);
        }
        tiers.push(
            instance
                .get_func(&mut store, &format!("f{i}"))
                .unwrap()
                .slot(&store)
                .tier(),
        );
    }
    let count = |tier: Tier| tiers.iter().filter(|t| **t == tier).count();
    let (interpreted, baseline, optimized) = (
        count(Tier::Interp),
        count(Tier::Baseline),
        count(Tier::Optimizing),
    );
    assert_eq!(interpreted + baseline + optimized, 64, "{tiers:?}");
    for (n, what) in [
        (interpreted, "interpreted"),
        (baseline, "baseline"),
        (optimized, "optimized"),
    ] {
        assert!((10..34).contains(&n), "{n} of 64 {what}: {tiers:?}");
    }
    // An optimized function went through the baseline tier.
    assert_eq!(module.tiering_stats().compiled, baseline + 2 * optimized);
}

/// Eight threads, each with its own store and instance of one module, make ten million
/// calls through entry slots (exports, direct calls and `call_indirect`) while the
/// workers compile and publish the functions as they get hot: every result is checked.
#[test]
fn eight_threads_call_through_slots_while_workers_publish() {
    let wat = r#"
    (module
      (type $t (func (param i32) (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $mix $twice)
      (func $mix (type $t)
        (i32.xor (i32.mul (local.get 0) (i32.const 0x9e3779b1)) (i32.shr_u (local.get 0) (i32.const 7))))
      (func $twice (type $t) (i32.add (local.get 0) (local.get 0)))
      (func (export "step") (param $x i32) (result i32)
        (i32.add
          (call $mix (local.get $x))
          (call_indirect (type $t) (local.get $x) (i32.and (local.get $x) (i32.const 1)))))
      (func (export "mix") (type $t) (call $mix (local.get 0))))"#;
    fn mix(x: u32) -> u32 {
        x.wrapping_mul(0x9e37_79b1) ^ (x >> 7)
    }
    fn step(x: u32) -> u32 {
        let other = if x & 1 == 0 {
            mix(x)
        } else {
            x.wrapping_add(x)
        };
        mix(x).wrapping_add(other)
    }
    let mut config = Config::new();
    config
        .tier(TierMode::Tiered)
        .tier_up_threshold(20_000)
        .worker_threads(2);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    const THREADS: u32 = 8;
    const CALLS: u32 = 10_000_000 / THREADS;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let (mut store, instance) = instantiate(&engine, &module);
                let step_f: TypedFunc<u32, u32> =
                    instance.get_typed_func(&mut store, "step").unwrap();
                let mix_f: TypedFunc<u32, u32> =
                    instance.get_typed_func(&mut store, "mix").unwrap();
                let slot = instance.get_func(&mut store, "step").unwrap().slot(&store);
                let mut tiers = std::collections::BTreeSet::new();
                for i in 0..CALLS {
                    let x = i.wrapping_mul(2_654_435_761).wrapping_add(t);
                    let (got, want) = if i % 4 == 3 {
                        (mix_f.call(&mut store, x).unwrap(), mix(x))
                    } else {
                        (step_f.call(&mut store, x).unwrap(), step(x))
                    };
                    assert_eq!(got, want, "thread {t}, call {i}, x {x}");
                    if i % 4096 == 0 {
                        tiers.insert(slot.tier());
                    }
                }
                tiers.insert(slot.tier());
                tiers
            })
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for t in threads {
        seen.extend(t.join().expect("a calling thread panicked"));
    }
    assert!(
        seen.contains(&Tier::Optimizing),
        "the calls ran in {seen:?}"
    );
    let stats = module.tiering_stats();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(stats.compiled >= 2, "{stats:?}");
}

/// Modules made hot and dropped at once, while the workers still have their jobs queued
/// or running: each job is discarded or finishes into no instance, and nothing crashes.
#[test]
fn modules_dropped_while_workers_compile_them() {
    let engine = tiered(0, false);
    let mut wat = String::from("(module\n");
    for i in 0..40 {
        wat += &format!(
            "(func (export \"f{i}\") (param i32) (result i32)
               (local.get 0) (i32.const {i}) (i32.add) (i32.const 3) (i32.mul))\n"
        );
    }
    wat += ")";
    for round in 0..20 {
        let module = Module::new(&engine, &wat).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        for i in 0..40 {
            let f: TypedFunc<i32, i32> = instance
                .get_typed_func(&mut store, &format!("f{i}"))
                .unwrap();
            assert_eq!(f.call(&mut store, round).unwrap(), (round + i) * 3);
        }
        drop((store, module));
    }
    // The engine and its workers keep working.
    let module = Module::new(&engine, LOOP).unwrap();
    let (mut store, instance) = instantiate(&engine, &module);
    let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
    let slot = instance.get_func(&mut store, "sum").unwrap().slot(&store);
    // Each tier's code asks for the next when it runs.
    eventually("the optimized `sum`", || {
        assert_eq!(f.call(&mut store, 10).unwrap(), sum(10));
        slot.tier() == Tier::Optimizing
    });
    assert_eq!(f.call(&mut store, 10).unwrap(), sum(10));
}

/// A thread-parking waker, to run a future to completion without an executor crate.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn compile_and_instantiate_without_blocking() {
    for mode in [TierMode::Tiered, TierMode::Interp] {
        let mut config = Config::new();
        config.tier(mode);
        let engine = Engine::new(&config).unwrap();
        // Wait, and a future on a minimal executor.
        let module = Module::new_async(&engine, LOOP).wait().unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
        assert_eq!(f.call(&mut store, 77).unwrap(), sum(77));
        let module = block_on(Module::new_async(&engine, LOOP)).unwrap();
        assert_eq!(module.exports().len(), 1);

        let linker = Linker::new(&engine);
        let mut store = Store::new(&engine, ());
        let instance = block_on(linker.instantiate_async(&mut store, LOOP)).unwrap();
        let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
        assert_eq!(f.call(&mut store, 5).unwrap(), sum(5));
        let instance = linker.instantiate_async(&mut store, LOOP).wait().unwrap();
        assert!(instance.get_func(&mut store, "sum").is_some());

        // The errors of the blocking calls.
        for bad in [
            &b"\0asm\x01\0\0\0\x01"[..],
            b"(module (func (result i32)))",
            b"nonsense",
        ] {
            let blocking = Module::new(&engine, bad).unwrap_err().to_string();
            let waited = Module::new_async(&engine, bad)
                .wait()
                .unwrap_err()
                .to_string();
            let polled = block_on(Module::new_async(&engine, bad))
                .unwrap_err()
                .to_string();
            assert_eq!(waited, blocking);
            assert_eq!(polled, blocking);
        }
        let importing = r#"(module (import "env" "f" (func)))"#;
        let blocking = Module::new(&engine, importing)
            .and_then(|m| linker.instantiate(&mut store, &m))
            .unwrap_err()
            .to_string();
        let waited = linker
            .instantiate_async(&mut store, importing)
            .wait()
            .unwrap_err();
        assert_eq!(waited.to_string(), blocking);
        assert!(blocking.contains("env::f"), "{blocking}");
    }
}

/// A `tracing` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The events of every thread (workers included) go to one global subscriber, the only
/// one this test binary sets; the test reads those of its own module (`$events`).
#[test]
fn every_step_is_an_event() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    {
        let engine = tiered(1_000, false);
        let module = Module::new(&engine, LOOP.replacen("(module", "(module $events", 1)).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<u32, i64> = instance.get_typed_func(&mut store, "sum").unwrap();
        assert_eq!(f.call(&mut store, 100_000_000).unwrap(), sum(100_000_000));
        let stats = module.tiering_stats();
        assert_eq!(stats.osr_entered, 2, "{stats:?}");
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("tierup::tiering") && l.contains("module=\"events\""))
        .collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    for step in [
        "queued",
        "heat=",
        "compile start",
        "compile finish",
        "micros=",
        "code_bytes=",
        "worker=\"tierup-worker-",
        "published",
        "OSR entered",
    ] {
        assert!(has(step), "no `{step}` in the events:\n{log}");
    }
}

/// The tier report from the embedding API: a `tracing-subscriber` layer whose report is
/// data. Synchronous tier-up keeps every event on this thread, whose scoped subscriber
/// has the layer.
#[test]
fn the_tier_report_is_data_from_the_embedding_api() {
    use tierup::tiering::{TierReport, tier_index};
    use tracing_subscriber::layer::SubscriberExt;
    const SPINS: &str = r#"
      (module $report
        (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
        (func $spin (export "spin") (param i32) (result i32) (local i32)
          (loop $l
            (local.set 1 (i32.add (local.get 1) (call $square (local.get 0))))
            (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
          (local.get 1)))"#;
    let layer = TierReport::new();
    let subscriber = tracing_subscriber::registry().with(layer.clone());
    tracing::subscriber::with_default(subscriber, || {
        let engine = tiered(0, true);
        let module = Module::new(&engine, SPINS).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "spin").unwrap();
        for _ in 0..3 {
            f.call(&mut store, 100).unwrap();
        }
    });
    let report = layer.report();
    let names: Vec<&str> = report.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(report.functions.len(), 2, "{names:?}");
    assert_eq!(report.interpreted_only, 0);
    for f in &report.functions {
        assert_eq!(f.module, "report");
        assert_eq!(f.top_tier(), Tier::Optimizing, "{f:?}");
        let [interp, baseline, optimizing] = f.reached.map(Option::unwrap);
        assert!(interp <= baseline && baseline <= optimizing, "{f:?}");
        for tier in [Tier::Baseline, Tier::Optimizing] {
            assert!(f.code_bytes[tier_index(tier).unwrap()] > 0, "{f:?}");
        }
        assert_eq!(f.failed, 0);
    }
    let spin = report.functions.iter().find(|f| f.name == "spin").unwrap();
    assert!(spin.osr_entered > 0, "{spin:?}");
    // Every compile ran on this thread, and each function's compiles add up.
    let me = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string();
    assert!(report.compiles.iter().all(|c| c.thread == me && !c.failed));
    assert!(report.compiles.iter().any(|c| c.osr_at.is_some()));
    for f in &report.functions {
        let made: usize = report
            .compiles
            .iter()
            .filter(|c| c.name == f.name)
            .map(|c| c.code_bytes)
            .sum();
        assert_eq!(made, f.code_bytes.iter().sum::<usize>());
    }
    assert!(report.table().lines().all(|l| l.chars().count() <= 80));
}

/// A block's end reached by a branch, then code that emits no interpreter instruction (a
/// store of zero into a local that is still zero), then a loop: the block end's OSR point
/// and the loop header's are the same interpreter instruction, which the loop's back
/// edges reach too. An activation moved from there must enter at the loop header: entered
/// at the block end, it stored the zero again in the middle of the loop (Yosys printed a
/// wrong preprocessor error in the default mode, and this gave 298,497).
#[test]
fn a_point_shared_by_a_block_end_and_a_loop_header_enters_at_the_loop() {
    const SHARED: &str = r#"
      (module
        (func (export "f") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (block (br_if 0 (local.get $n)))
          (local.set $acc (i32.const 0))
          (loop $l
            (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.get $acc)))"#;
    for (threshold, sync, baseline) in [
        (1_000, true, true),
        (1_000, true, false),
        (1_000, false, true),
        (10, true, true),
        (0, true, true),
    ] {
        let mut config = Config::new();
        config
            .tier(TierMode::Tiered)
            .tier_up_threshold(threshold)
            .sync_tier_up(sync)
            .baseline_tier(baseline);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, SHARED).unwrap();
        let (mut store, instance) = instantiate(&engine, &module);
        let f: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "f").unwrap();
        // Long enough in the background mode that the workers' entry is usually ready
        // while the loop runs (whether it is depends on the machine's load).
        let n = if sync { 100_000 } else { 3_000_000 };
        assert_eq!(
            f.call(&mut store, n).unwrap(),
            3 * n,
            "threshold {threshold}, sync {sync}, baseline tier {baseline}"
        );
        if sync {
            assert!(module.tiering_stats().osr_entered > 0, "no OSR");
        }
    }
}

/// Interpreter activations nested through host calls (wasm -> host -> wasm ...), as a
/// recursion through interpreted and compiled functions nests them, are bounded by the
/// host stack, not by a count: a bound of 200 made such a recursion trap at a depth where
/// every tier alone went on (found by `tests/differential.rs`).
#[test]
fn nested_activations_are_bounded_by_the_stack_not_by_a_count() {
    tierup_tests::with_big_stack(|| {
        for mode in [TierMode::Interp, TierMode::Optimizing, TierMode::Tiered] {
            let mut config = Config::new();
            config.tier(mode).max_wasm_stack(32 << 20);
            let engine = Engine::new(&config).unwrap();
            let module = Module::new(
                &engine,
                r#"(module
                     (import "host" "down" (func $down (param i32) (result i32)))
                     (func (export "rec") (param i32) (result i32)
                       (if (result i32) (i32.eqz (local.get 0))
                         (then (i32.const 0))
                         (else (i32.add (call $down (local.get 0)) (i32.const 1))))))"#,
            )
            .unwrap();
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::new(&engine);
            linker
                .func_wrap(
                    "host",
                    "down",
                    |mut caller: tierup::Caller<'_, ()>, n: i32| -> tierup::Result<i32> {
                        let rec = caller
                            .get_export("rec")
                            .and_then(|e| e.into_func())
                            .expect("rec");
                        let mut out = [tierup::Val::I32(0)];
                        rec.call(&mut caller, &[tierup::Val::I32(n - 1)], &mut out)?;
                        Ok(out[0].unwrap_i32())
                    },
                )
                .unwrap();
            let instance = linker.instantiate(&mut store, &module).unwrap();
            let rec: tierup::TypedFunc<i32, i32> =
                instance.get_typed_func(&mut store, "rec").unwrap();
            assert_eq!(rec.call(&mut store, 1_000).unwrap(), 1_000, "{mode:?}");
            // And the stack still ends it: a trap, not a crash.
            let e = rec.call(&mut store, 10_000_000).unwrap_err();
            assert!(
                format!("{e:#}").contains("call stack exhausted"),
                "{mode:?}: {e:#}"
            );
        }
    })
    .unwrap();
}
