//! The tier profile: calls counted by the code of every tier (`Config::count_calls`) and
//! CPU time sampled by tier (`tiering::Sampler`), read through `Store::tier_profile`.

use std::time::{Duration, Instant};

use tierup::tiering::{FunctionProfile, Sampler, TierProfile, tier_index};
use tierup::{Config, Engine, Linker, Module, Store, Tier, TierMode, TypedFunc};

/// Direct, indirect, recursive and host-to-wasm calls of `$leaf` and `$fib`.
const CALLS: &str = r#"
  (module $calls
    (type $t (func (param i32) (result i32)))
    (table 1 funcref)
    (elem (i32.const 0) $leaf)
    (func $leaf (export "leaf") (type $t) (i32.add (local.get 0) (i32.const 1)))
    (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    (func (export "run") (param $n i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (call $leaf (local.get $acc)))
        (local.set $acc (call_indirect (type $t) (local.get $acc) (i32.const 0)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc)))"#;

/// The engines of every mode that counts: each tier alone, the chain with synchronous
/// tier-up at threshold 0 (every function climbs while the loops run), the chain in the
/// background, and the chain under seeded random tier masks.
fn engines() -> Vec<(String, Engine)> {
    let mut configs: Vec<(String, Config)> = Vec::new();
    for mode in [TierMode::Interp, TierMode::Baseline, TierMode::Optimizing] {
        let mut c = Config::new();
        c.tier(mode);
        configs.push((mode.name().to_string(), c));
    }
    let mut sync = Config::new();
    sync.tier(TierMode::Tiered)
        .tier_up_threshold(0)
        .baseline_tier_up_threshold(Some(0))
        .sync_tier_up(true);
    configs.push(("tiered, sync, threshold 0".into(), sync));
    let mut background = Config::new();
    background.tier(TierMode::Tiered).tier_up_threshold(100);
    configs.push(("tiered, background".into(), background));
    for seed in 1..=3 {
        let mut c = Config::new();
        c.tier(TierMode::Tiered)
            .tier_up_threshold(0)
            .sync_tier_up(true)
            .random_tiers(Some(seed));
        configs.push((format!("tiered, random tiers {seed}"), c));
    }
    configs
        .into_iter()
        .map(|(name, mut c)| {
            c.count_calls(true);
            (name, Engine::new(&c).unwrap())
        })
        .collect()
}

fn function<'a>(profile: &'a TierProfile, name: &str) -> &'a FunctionProfile {
    profile
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name} in {profile:#?}"))
}

/// `CALLS` instantiated with `engine`.
fn calls_instance(engine: &Engine) -> (Store<()>, tierup::Instance) {
    let module = Module::new(engine, CALLS).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

#[test]
fn calls_are_counted_exactly_in_every_tier_mode() {
    for (mode, engine) in engines() {
        let (mut store, instance) = calls_instance(&engine);
        let run: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "run").unwrap();
        let leaf: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "leaf").unwrap();
        let fib: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "fib").unwrap();
        for _ in 0..3 {
            assert_eq!(run.call(&mut store, 5_000).unwrap(), 10_000, "{mode}");
        }
        for i in 0..7 {
            assert_eq!(leaf.call(&mut store, i).unwrap(), i + 1, "{mode}");
        }
        assert_eq!(fib.call(&mut store, 20).unwrap(), 6765, "{mode}");
        let profile = store.tier_profile(None);
        let calls = |name: &str| function(&profile, name).calls;
        assert_eq!(calls("leaf"), 3 * 2 * 5_000 + 7, "{mode}");
        // fib(n) makes 2 fib(n + 1) - 1 calls: 2 * 10946 - 1.
        assert_eq!(calls("fib"), 21_891, "{mode}");
        assert_eq!(calls("func[2]"), 3, "{mode}: {profile:#?}");
        assert_eq!(profile.samples, 0);
        assert!(profile.sampled.is_zero());
    }
}

#[test]
fn without_count_calls_the_code_counts_nothing() {
    let engine = Engine::new(Config::new().tier(TierMode::Baseline)).unwrap();
    let (mut store, instance) = calls_instance(&engine);
    let run: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "run").unwrap();
    run.call(&mut store, 100).unwrap();
    assert!(store.tier_profile(None).functions.is_empty());
}

/// A loop of `n` iterations of arithmetic; `wait`, a host function that keeps its thread
/// busy for the given microseconds; `outer`, a host function that keeps its thread busy
/// for 5 ms of its CPU time and then calls back into `spin`.
const SPIN: &str = r#"
  (module $spin
    (import "host" "busy" (func $busy (param i32)))
    (import "host" "reenter" (func $reenter (param i32)))
    (func $spin (export "spin") (param $n i32) (result i32) (local $x i32)
      (loop $l
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $n)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $x))
    (func (export "wait") (param i32) (call $busy (local.get 0)))
    (func (export "outer") (param i32) (call $reenter (local.get 0))))"#;

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes the time into `t`.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// `SPIN` instantiated in `mode`, with its exports `spin`, `wait` and `outer`.
#[allow(clippy::type_complexity)]
fn spin_instance(
    mode: TierMode,
) -> (
    Store<()>,
    TypedFunc<i32, i32>,
    TypedFunc<i32, ()>,
    TypedFunc<i32, ()>,
) {
    let engine = Engine::new(Config::new().tier(mode)).unwrap();
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "busy", |micros: i32| {
            let until = Instant::now() + Duration::from_micros(micros as u64);
            let mut x = 0u64;
            while Instant::now() < until {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        })
        .unwrap()
        .func_wrap(
            "host",
            "reenter",
            |mut caller: tierup::Caller<'_, ()>, spins: i32| {
                // 5 ms of this thread's CPU time, however loaded the machine.
                let until = thread_cpu() + Duration::from_millis(5);
                let mut x = 0u64;
                while thread_cpu() < until {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                let spin = caller
                    .get_export("spin")
                    .and_then(|e| e.into_func())
                    .expect("spin");
                let mut result = [tierup::Val::I32(0)];
                spin.call(&mut caller, &[tierup::Val::I32(spins)], &mut result)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(())
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let spin = instance.get_typed_func(&mut store, "spin").unwrap();
    let wait = instance.get_typed_func(&mut store, "wait").unwrap();
    let outer = instance.get_typed_func(&mut store, "outer").unwrap();
    (store, spin, wait, outer)
}

/// Calls `f` until the sampler has `n` samples (or a minute has passed).
fn until_sampled(sampler: &Sampler, n: u64, mut f: impl FnMut()) {
    let start = Instant::now();
    while sampler.samples() < n && start.elapsed() < Duration::from_secs(60) {
        f();
    }
    assert!(sampler.samples() >= n, "{} samples", sampler.samples());
}

#[test]
fn the_sampler_finds_a_loop_in_the_tier_that_runs_it() {
    for (mode, tier) in [
        (TierMode::Interp, Tier::Interp),
        (TierMode::Baseline, Tier::Baseline),
        (TierMode::Optimizing, Tier::Optimizing),
    ] {
        let (mut store, spin, _, _) = spin_instance(mode);
        spin.call(&mut store, 10).unwrap();
        let sampler = Sampler::start(Duration::from_millis(1)).unwrap();
        until_sampled(&sampler, 40, || {
            spin.call(&mut store, 1_000_000).unwrap();
        });
        let profile = store.tier_profile(Some(&sampler));
        let f = function(&profile, "spin");
        let t = tier_index(tier).unwrap();
        let share = f.time[t].as_secs_f64() / profile.sampled.as_secs_f64();
        assert!(
            share > 0.8,
            "{mode:?}: {share:.2} of the time in {tier:?}: {profile:#?}"
        );
        for (other, time) in f.time.iter().enumerate() {
            if other != t {
                assert!(time.is_zero(), "{mode:?}: {profile:#?}");
            }
        }
        // Samples weigh the thread's CPU time since the one before: 1 ms each on an idle
        // machine, less where the thread shares its core (22.9 ms for 40 once, beside two
        // CPU-bound processes on two cores), never nothing.
        assert!(profile.sampled >= Duration::from_millis(4), "{profile:#?}");
    }
}

#[test]
fn the_sampler_tells_host_functions_apart() {
    for mode in [TierMode::Interp, TierMode::Optimizing] {
        let (mut store, _, wait, _) = spin_instance(mode);
        let sampler = Sampler::start(Duration::from_millis(1)).unwrap();
        until_sampled(&sampler, 40, || wait.call(&mut store, 20_000).unwrap());
        let profile = store.tier_profile(Some(&sampler));
        let share = profile.host.as_secs_f64() / profile.sampled.as_secs_f64();
        assert!(
            share > 0.8,
            "{mode:?}: {share:.2} in host functions: {profile:#?}"
        );
    }
}

#[test]
fn one_sampler_per_thread_and_a_new_one_after_it_stops() {
    let first = Sampler::start(Duration::from_millis(1)).unwrap();
    let second = Sampler::start(Duration::from_millis(1));
    assert!(second.is_err());
    drop(first);
    let again = Sampler::start(Duration::from_millis(1)).unwrap();
    // Another thread has its own.
    std::thread::spawn(|| Sampler::start(Duration::from_millis(1)).map(|_| ()))
        .join()
        .unwrap()
        .unwrap();
    drop(again);
    // A profiling signal that arrives when no sampler runs is ignored: it must not end
    // the process with the signal's default action.
    // SAFETY: raising a signal whose handler the sampler installed.
    assert_eq!(unsafe { libc::raise(libc::SIGPROF) }, 0);
}

#[test]
fn the_sampler_follows_wasm_into_host_functions_and_back() {
    for (mode, tier, spins) in [
        (TierMode::Interp, Tier::Interp, 2_000_000),
        (TierMode::Optimizing, Tier::Optimizing, 5_000_000),
    ] {
        let (mut store, _, _, outer) = spin_instance(mode);
        outer.call(&mut store, 10).unwrap();
        let sampler = Sampler::start(Duration::from_millis(1)).unwrap();
        until_sampled(&sampler, 60, || outer.call(&mut store, spins).unwrap());
        let profile = store.tier_profile(Some(&sampler));
        let share = |d: Duration| d.as_secs_f64() / profile.sampled.as_secs_f64();
        let spin = share(function(&profile, "spin").time[tier_index(tier).unwrap()]);
        let host = share(profile.host);
        // Both halves are there, and nothing is counted twice or lost between them.
        assert!(
            spin > 0.15 && host > 0.15,
            "{mode:?}: spin {spin:.2}, host {host:.2}: {profile:#?}"
        );
        assert!(spin + host > 0.8, "{mode:?}: {profile:#?}");
    }
}
