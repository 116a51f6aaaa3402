//! Epoch interruption (`Config::epoch_interruption`, `Engine::increment_epoch`,
//! `Store::set_epoch_deadline`): a guest that loops or calls without end is stopped with
//! the trap `interrupt` in every tier mode, behind a host call, and in a loop that OSR
//! moved into compiled code; the store stays usable; the deadline callback decides; code
//! that the signal stopped (machine code tests the word at few places) goes on with its
//! registers, flags and tables intact, and so does code stopped where a libcall returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tierup::tiering::{Sampler, tier_index};
use tierup::{
    Caller, Config, Engine, Instance, Linker, Module, Store, Tier, TierMode, Trap, TrapCode,
    TypedFunc, UpdateDeadline, Val,
};

const GUEST: &str = r#"
  (module
    (import "host" "reenter" (func $reenter))
    (func $spin (export "spin") (loop $l (br $l)))
    (func $fib (export "fib") (param i64) (result i64)
      (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
        (then (local.get 0))
        (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                       (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
    (func (export "count") (param $n i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc))
    (func (export "fsum") (param $n i32) (result f64) (local $acc f64) (local $x f64)
      (loop $l
        (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
        (local.set $acc (f64.add (local.get $acc) (f64.mul (local.get $x) (local.get $x))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc))
    (func (export "via_host") (call $reenter)))"#;

/// Whether `mode` (of [`modes`]) runs every function in machine code, which tests the
/// interrupt word at neither entries nor loops without libcalls: the signal stops it.
fn stopped_by_signal(mode: &str) -> bool {
    matches!(mode, "baseline" | "optimizing")
}

/// Every tier mode, interruptible.
fn modes() -> Vec<(&'static str, Config)> {
    let mut modes = Vec::new();
    for (name, mode) in [
        ("interp", TierMode::Interp),
        ("baseline", TierMode::Baseline),
        ("optimizing", TierMode::Optimizing),
        ("eager", TierMode::Eager),
        ("tiered", TierMode::Tiered),
    ] {
        let mut c = Config::new();
        c.tier(mode);
        modes.push((name, c));
    }
    let mut sync = Config::new();
    sync.tier(TierMode::Tiered)
        .tier_up_threshold(0)
        .baseline_tier_up_threshold(Some(0))
        .sync_tier_up(true);
    modes.push(("tiered, sync, threshold 0", sync));
    let mut mixed = Config::new();
    mixed
        .tier(TierMode::Tiered)
        .tier_up_threshold(0)
        .sync_tier_up(true)
        .random_tiers(Some(7));
    modes.push(("tiered, random tiers", mixed));
    for (_, c) in &mut modes {
        c.epoch_interruption(true);
    }
    modes
}

/// `GUEST` in a new store of `engine`, its host function calling back into `spin`.
fn instance<T: 'static>(engine: &Engine, data: T) -> (Store<T>, Instance) {
    let module = Module::new(engine, GUEST).unwrap();
    let mut store = Store::new(engine, data);
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "reenter", |mut caller: Caller<'_, T>| {
            let spin = caller
                .get_export("spin")
                .and_then(|e| e.into_func())
                .expect("spin");
            spin.call(&mut caller, &[], &mut [])
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// Advances `engine`'s epoch once after `delay`, from another thread.
fn tick_after(engine: &Engine, delay: Duration) -> std::thread::JoinHandle<()> {
    let engine = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        engine.increment_epoch();
    })
}

/// Advances `engine`'s epoch every millisecond until the returned flag is set.
fn ticker(engine: &Engine) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine, flag) = (engine.clone(), stop.clone());
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            engine.increment_epoch();
        }
    });
    (stop, handle)
}

/// The trap `interrupt` in `e`, directly or as the cause of a host function's error.
fn assert_interrupt(e: &anyhow::Error, what: &str) {
    let trap = e.chain().find_map(|c| {
        c.downcast_ref::<Trap>()
            .filter(|t| t.code() == Some(TrapCode::Interrupt))
    });
    assert!(trap.is_some(), "{what}: not an interrupt: {e:#}");
    assert_eq!(trap.unwrap().message(), "interrupt", "{what}");
}

#[test]
fn an_endless_loop_or_endless_calls_are_interrupted_in_every_tier_mode() {
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, ());
        let spin = instance.get_func(&mut store, "spin").unwrap();
        let fib: TypedFunc<i64, i64> = instance.get_typed_func(&mut store, "fib").unwrap();
        let count: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "count").unwrap();

        store.set_epoch_deadline(1);
        let t = tick_after(&engine, Duration::from_millis(30));
        let preempted = tierup::preemptions();
        let e = spin.call(&mut store, &[], &mut []).unwrap_err();
        t.join().unwrap();
        assert_interrupt(&e, mode);
        if stopped_by_signal(mode) {
            // Its loop makes no call and tests nothing: the signal stopped it.
            assert_eq!(tierup::preemptions(), preempted + 1, "{mode}");
        }
        let trap = e.downcast_ref::<Trap>().unwrap();
        assert!(
            trap.frames()
                .iter()
                .any(|f| f.func_name.as_deref() == Some("spin")),
            "{mode}: {trap:?}"
        );

        // The store goes on: with the deadline passed still, code stops again at once;
        // with a new one, it runs.
        let e = count.call(&mut store, 10_000_000).unwrap_err();
        assert_interrupt(&e, mode);
        store.set_epoch_deadline(1);
        assert_eq!(
            count.call(&mut store, 1_000_000).unwrap(),
            3_000_000,
            "{mode}"
        );

        // fib(90) has no loop: its calls are checked (in machine code, whose entries
        // test nothing, the signal stops it).
        let t = tick_after(&engine, Duration::from_millis(30));
        let preempted = tierup::preemptions();
        let e = fib.call(&mut store, 90).unwrap_err();
        t.join().unwrap();
        assert_interrupt(&e, mode);
        if stopped_by_signal(mode) {
            assert!(tierup::preemptions() > preempted, "{mode}");
        }
        store.set_epoch_deadline(1);
        assert_eq!(fib.call(&mut store, 20).unwrap(), 6765, "{mode}");
    }
}

#[test]
fn an_endless_loop_behind_a_host_call_is_interrupted() {
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, ());
        let via_host = instance.get_func(&mut store, "via_host").unwrap();
        let count: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "count").unwrap();
        store.set_epoch_deadline(1);
        let t = tick_after(&engine, Duration::from_millis(30));
        let e = via_host.call(&mut store, &[], &mut []).unwrap_err();
        t.join().unwrap();
        assert_interrupt(&e, mode);
        store.set_epoch_deadline(1);
        assert_eq!(count.call(&mut store, 1000).unwrap(), 3000, "{mode}");
    }
}

#[test]
fn a_loop_that_osr_moved_into_compiled_code_is_interrupted() {
    let (_, config) = modes()
        .into_iter()
        .find(|(m, _)| *m == "tiered, sync, threshold 0")
        .unwrap();
    let engine = Engine::new(&config).unwrap();
    let (mut store, instance) = instance(&engine, ());
    let spin = instance.get_func(&mut store, "spin").unwrap();
    store.set_epoch_deadline(1);
    let sampler = Sampler::start(Duration::from_millis(1)).unwrap();
    let t = tick_after(&engine, Duration::from_millis(300));
    let e = spin.call(&mut store, &[], &mut []).unwrap_err();
    t.join().unwrap();
    assert_interrupt(&e, "tiered");
    // `spin` was entered once: it ran in optimized code only through OSR.
    let profile = store.tier_profile(Some(&sampler));
    let f = profile.functions.iter().find(|f| f.name == "spin").unwrap();
    let optimized = f.time[tier_index(Tier::Optimizing).unwrap()].as_secs_f64();
    assert!(
        optimized > 0.5 * profile.sampled.as_secs_f64(),
        "{profile:#?}"
    );
}

#[test]
fn the_callback_moves_the_deadline_on_until_it_interrupts() {
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, 0u32);
        let spin = instance.get_func(&mut store, "spin").unwrap();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(if *cx.data() < 5 {
                UpdateDeadline::Continue(1)
            } else {
                UpdateDeadline::Interrupt
            })
        });
        let (stop, t) = ticker(&engine);
        let e = spin.call(&mut store, &[], &mut []).unwrap_err();
        assert_interrupt(&e, mode);
        assert_eq!(*store.data(), 5, "{mode}");

        // An error of the callback is the trap's.
        store.epoch_deadline_callback(|_| anyhow::bail!("enough of this"));
        store.set_epoch_deadline(1);
        let e = spin.call(&mut store, &[], &mut []).unwrap_err();
        assert!(format!("{e:#}").contains("enough of this"), "{mode}: {e:#}");

        // Back to trapping.
        store.epoch_deadline_trap();
        store.set_epoch_deadline(1);
        let e = spin
            .call(&mut store, &[], &mut [Val::I32(0); 0])
            .unwrap_err();
        assert_interrupt(&e, mode);
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
    }
}

/// `sum (0.5 k)^2` for k in 1..=n, as `fsum` computes it.
fn fsum(n: i32) -> f64 {
    let (mut acc, mut x) = (0.0f64, 0.0f64);
    for _ in 0..n {
        x += 0.5;
        acc += x * x;
    }
    acc
}

#[test]
fn code_goes_on_after_the_callback_with_its_values_intact() {
    // A callback that always goes on, while the epoch moves every millisecond: the checks
    // at entries (parameters still in registers) and loop headers (values in registers,
    // floats too), or in optimized code the signal, call out again and again, and the
    // results must not change.
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, 0u32);
        let fib: TypedFunc<i64, i64> = instance.get_typed_func(&mut store, "fib").unwrap();
        let fsum_f: TypedFunc<i32, f64> = instance.get_typed_func(&mut store, "fsum").unwrap();
        let count: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "count").unwrap();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(UpdateDeadline::Continue(1))
        });
        let (stop, t) = ticker(&engine);
        let started = std::time::Instant::now();
        while *store.data() < 20 && started.elapsed() < Duration::from_secs(30) {
            assert_eq!(fib.call(&mut store, 25).unwrap(), 75_025, "{mode}");
            assert_eq!(
                fsum_f.call(&mut store, 300_000).unwrap(),
                fsum(300_000),
                "{mode}"
            );
            assert_eq!(
                count.call(&mut store, 3_000_000).unwrap(),
                9_000_000,
                "{mode}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        assert!(*store.data() >= 20, "{mode}: {} callbacks", store.data());
    }
}

#[test]
fn no_deadline_or_no_switch_stops_nothing() {
    // Interruptible, but no deadline set: the epoch moves, the code runs on.
    let mut on = Config::new();
    on.tier(TierMode::Optimizing).epoch_interruption(true);
    // A deadline and a moving epoch, but an engine that does not interrupt.
    let mut off = Config::new();
    off.tier(TierMode::Optimizing);
    let mut interp_off = Config::new();
    interp_off.tier(TierMode::Interp);
    for (what, config, deadline) in [
        ("no deadline", on, false),
        ("switch off", off, true),
        ("switch off, interp", interp_off, true),
    ] {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, ());
        let count: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "count").unwrap();
        if deadline {
            store.set_epoch_deadline(1);
        }
        for _ in 0..3 {
            engine.increment_epoch();
        }
        assert_eq!(
            count.call(&mut store, 5_000_000).unwrap(),
            15_000_000,
            "{what}"
        );
    }
}

#[test]
fn a_deadline_not_reached_stops_nothing() {
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = instance(&engine, ());
        let count: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "count").unwrap();
        store.set_epoch_deadline(3);
        engine.increment_epoch();
        engine.increment_epoch();
        assert_eq!(
            count.call(&mut store, 2_000_000).unwrap(),
            6_000_000,
            "{mode}"
        );
        engine.increment_epoch();
        let e = count.call(&mut store, 2_000_000).unwrap_err();
        assert_interrupt(&e, mode);
    }
}

/// A loop without calls that keeps 14 `f64` and 9 `i64` values in registers and branches
/// on comparisons, for `regs`: the signal may stop it at any instruction (between a
/// compare and its branch too), and every value and flag must come back as it was.
const PRESSURE: &str = r#"
  (module
    (func (export "pressure") (param $n i64) (result f64)
      (local $i i64) (local $a i64) (local $b i64) (local $c i64) (local $d i64)
      (local $e i64) (local $f i64) (local $g i64)
      (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64) (local $x4 f64)
      (local $x5 f64) (local $x6 f64) (local $x7 f64) (local $x8 f64) (local $x9 f64)
      (local $x10 f64) (local $x11 f64) (local $x12 f64) (local $x13 f64)
      (loop $l
        (local.set $a (i64.add (local.get $a) (local.get $i)))
        (local.set $b (i64.xor (local.get $b) (i64.mul (local.get $i) (i64.const 0x9e3779b97f4a7c15))))
        (local.set $c (i64.rotl (i64.add (local.get $c) (local.get $b)) (i64.const 7)))
        (local.set $d (select (i64.add (local.get $d) (i64.const 3)) (i64.sub (local.get $d) (i64.const 1))
                              (i64.lt_u (i64.and (local.get $b) (i64.const 255)) (i64.const 100))))
        (local.set $e (i64.add (local.get $e) (i64.extend_i32_u (i64.gt_s (local.get $c) (local.get $a)))))
        (local.set $f (i64.sub (local.get $f) (i64.shr_u (local.get $b) (i64.const 61))))
        (local.set $g (i64.add (local.get $g) (i64.popcnt (local.get $c))))
        (local.set $x0 (f64.add (local.get $x0) (f64.const 0.5)))
        (local.set $x1 (f64.add (local.get $x1) (f64.mul (local.get $x0) (f64.const 1.0e-3))))
        (local.set $x2 (f64.sub (local.get $x2) (f64.convert_i64_s (i64.and (local.get $b) (i64.const 15)))))
        (local.set $x3 (f64.add (local.get $x3) (f64.sqrt (local.get $x0))))
        (local.set $x4 (f64.mul (local.get $x4) (f64.const 0.999)))
        (local.set $x4 (f64.add (local.get $x4) (local.get $x1)))
        (local.set $x5 (f64.max (local.get $x5) (f64.sub (local.get $x3) (local.get $x1))))
        (local.set $x6 (f64.add (local.get $x6) (f64.convert_i64_u (i64.and (local.get $c) (i64.const 1023)))))
        (local.set $x7 (f64.min (local.get $x7) (local.get $x2)))
        (local.set $x8 (f64.add (local.get $x8) (f64.div (local.get $x6) (f64.add (local.get $x0) (f64.const 1)))))
        (local.set $x9 (f64.add (local.get $x9) (f64.abs (local.get $x2))))
        (local.set $x10 (f64.add (local.get $x10) (f64.neg (local.get $x7))))
        (local.set $x11 (f64.add (local.get $x11) (f64.mul (local.get $x5) (f64.const 0.25))))
        (local.set $x12 (f64.add (local.get $x12) (f64.floor (local.get $x3))))
        (local.set $x13 (f64.add (local.get $x13) (f64.copysign (local.get $x4) (local.get $x2))))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))
      (f64.add
        (f64.add
          (f64.add (f64.add (local.get $x0) (local.get $x1)) (f64.add (local.get $x2) (local.get $x3)))
          (f64.add (f64.add (local.get $x4) (local.get $x5)) (f64.add (local.get $x6) (local.get $x7))))
        (f64.add
          (f64.add (f64.add (local.get $x8) (local.get $x9)) (f64.add (local.get $x10) (local.get $x11)))
          (f64.add
            (f64.add (local.get $x12) (local.get $x13))
            (f64.convert_i64_u
              (i64.xor (i64.xor (i64.xor (local.get $a) (local.get $b)) (i64.xor (local.get $c) (local.get $d)))
                       (i64.xor (i64.xor (local.get $e) (local.get $f)) (local.get $g))))))))
    (memory 1)
    ;; Sums what n `memory.grow 0` return (the size, 1 page): a loop of libcalls.
    (func (export "grows") (param $n i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (memory.grow (i32.const 0))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc))
    (table $t (export "table") 8 funcref)
    (elem (i32.const 2) func $f $f)
    (func $f)
    ;; Reads the table at every iteration: the nulls among its first eight elements, n times.
    (func (export "nulls") (param $n i32) (result i32) (local $acc i32) (local $i i32)
      (loop $l
        (local.set $acc (i32.add (local.get $acc)
          (ref.is_null (table.get $t (i32.and (local.get $i) (i32.const 7))))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.get $acc)))"#;

/// What `pressure` computes, uninterrupted: the same program in the interpreter, in a
/// store without a deadline.
fn pressure_expected(n: i64) -> u64 {
    let mut config = Config::new();
    config.tier(TierMode::Interp);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, PRESSURE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f: TypedFunc<i64, f64> = instance.get_typed_func(&mut store, "pressure").unwrap();
    f.call(&mut store, n).unwrap().to_bits()
}

/// An instance of [`PRESSURE`] in a store whose deadline is the next tick and whose
/// deadline callback counts its calls (the store's data) and goes on for another tick.
fn counting_callbacks(engine: &Engine) -> (Store<u32>, Instance) {
    let module = Module::new(engine, PRESSURE).unwrap();
    let mut store = Store::new(engine, 0u32);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        Ok(UpdateDeadline::Continue(1))
    });
    (store, instance)
}

#[test]
fn a_loop_stopped_by_the_signal_goes_on_with_every_register_and_flag_intact() {
    const N: i64 = 2_000_000;
    let expected = pressure_expected(N);
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = counting_callbacks(&engine);
        let f: TypedFunc<i64, f64> = instance.get_typed_func(&mut store, "pressure").unwrap();
        // Warm up, so that the tiered modes run the loop in optimized code.
        for _ in 0..3 {
            f.call(&mut store, 10_000).unwrap();
        }
        let (stop, t) = ticker(&engine);
        let preempted = tierup::preemptions();
        let started = std::time::Instant::now();
        let mut calls = 0;
        while (calls < 3 || *store.data() < 50) && started.elapsed() < Duration::from_secs(30) {
            assert_eq!(f.call(&mut store, N).unwrap().to_bits(), expected, "{mode}");
            calls += 1;
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        assert!(*store.data() >= 50, "{mode}: {} callbacks", store.data());
        if stopped_by_signal(mode) {
            let stops = tierup::preemptions() - preempted;
            assert!(stops >= 50, "{mode}: {stops} stops by signal");
        }
    }
}

#[test]
fn a_table_the_callback_grows_under_a_stopped_loop_stays_where_the_loop_reads_it() {
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, PRESSURE).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let nulls: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "nulls").unwrap();
        let table = instance.get_table(&mut store, "table").unwrap();
        nulls.call(&mut store, 1000).unwrap();
        store.set_epoch_deadline(1);
        // Each callback grows the table by 4096 elements: a table kept in a vector would
        // move again and again under the loop.
        store.epoch_deadline_callback(move |mut cx| {
            *cx.data_mut() += 1;
            table.grow(&mut cx, 4096, Val::FuncRef(None))?;
            Ok(UpdateDeadline::Continue(1))
        });
        let (stop, t) = ticker(&engine);
        let started = std::time::Instant::now();
        while *store.data() < 40 && started.elapsed() < Duration::from_secs(30) {
            // Six of the first eight elements are null.
            assert_eq!(
                nulls.call(&mut store, 10_000_000).unwrap(),
                7_500_000,
                "{mode}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        assert!(*store.data() >= 40, "{mode}: {} callbacks", store.data());
        assert_eq!(table.size(&store), 8 + 4096 * *store.data(), "{mode}");
    }
}

#[test]
fn a_loop_of_libcalls_stops_where_they_return_with_their_results_intact() {
    // The signal mostly finds the thread in the runtime, where a libcall runs: machine
    // code tests the word where the libcall returns, keeping its result.
    for (mode, config) in modes() {
        let engine = Engine::new(&config).unwrap();
        let (mut store, instance) = counting_callbacks(&engine);
        let grows: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "grows").unwrap();
        for _ in 0..3 {
            grows.call(&mut store, 10_000).unwrap();
        }
        let (stop, t) = ticker(&engine);
        let preempted = tierup::preemptions();
        let started = std::time::Instant::now();
        let mut calls = 0;
        while *store.data() < 20 && started.elapsed() < Duration::from_secs(30) {
            assert_eq!(
                grows.call(&mut store, 1_000_000).unwrap(),
                1_000_000,
                "{mode}"
            );
            calls += 1;
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        let callbacks = u64::from(*store.data());
        assert!(callbacks >= 20, "{mode}: {callbacks} callbacks");
        if stopped_by_signal(mode) {
            // Most signals find the thread in the libcall, where they do nothing: the test
            // after it made more stops than the host's entries (one a call at most).
            let by_signal = tierup::preemptions() - preempted;
            assert!(
                callbacks - by_signal > calls,
                "{mode}: {callbacks} callbacks, {by_signal} by signal, {calls} calls"
            );
        }
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        let t = tick_after(&engine, Duration::from_millis(10));
        let e = grows.call(&mut store, i32::MAX).unwrap_err();
        t.join().unwrap();
        assert_interrupt(&e, mode);
    }
}
