//! Execution time of every benchmark program at its small size, per tier mode: module
//! compilation and instantiation included (a fresh store per run, as a command runs).
//! Tier modes come from `TIERUP_BENCH_TIERS` (comma-separated; default `interp`), so the
//! JIT tiers slot in as they land: `TIERUP_BENCH_TIERS=interp,tiered cargo bench ...`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tierup::{Config, Engine, Module, TierMode};
use tierup_benches::{LARGE, PROGRAMS, Program, checksum, load, run_command, tiers_from_env};

fn bench_program(
    c: &mut Criterion,
    tier: TierMode,
    engine: &Engine,
    program: &Program,
) -> anyhow::Result<()> {
    let bytes = load(program.name)?;
    let size = program.small_size.to_string();
    let args = [size.as_str()];
    // Check the output once; a program this tier cannot run (yet) is reported and skipped.
    let module = Module::new(engine, &bytes)?;
    let out = run_command(engine, &module, &args)?;
    if checksum(&out.stdout) != Some(program.small_checksum) {
        anyhow::bail!(
            "wrong output (status {}): {}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let mut group = c.benchmark_group(format!("execute/{tier}"));
    group.bench_function(program.name, |b| {
        b.iter(|| {
            let module = Module::new(engine, &bytes)?;
            run_command(engine, &module, &args)
        })
    });
    group.finish();
    Ok(())
}

fn execute(c: &mut Criterion) {
    let tiers = match tiers_from_env() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("TIERUP_BENCH_TIERS: {e:#}");
            return;
        }
    };
    for tier in tiers {
        let engine = match Engine::new(Config::new().tier(tier)) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("execute/{tier}: skipped: {e:#}");
                continue;
            }
        };
        for program in PROGRAMS.iter().chain([&LARGE]) {
            if let Err(e) = bench_program(c, tier, &engine, program) {
                eprintln!("execute/{tier}/{}: skipped: {e:#}", program.name);
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = execute
}
criterion_main!(benches);
