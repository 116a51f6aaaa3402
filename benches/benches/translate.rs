//! Interpreter translation speed: every defined function of each benchmark module is
//! translated to register bytecode (`Module::compile_fresh`), reported in bytes of code
//! section per second. Validation happens in the untimed setup.

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tierup::{Engine, Module, Tier};
use tierup_benches::{LARGE, PROGRAMS, Program, load, module_stats};

/// Translates every defined function of `module`; the first error ends the run.
fn translate_all(module: &Module, funcs: std::ops::Range<u32>) -> anyhow::Result<()> {
    for f in funcs {
        module.compile_fresh(f, Tier::Interp)?;
    }
    Ok(())
}

fn bench_program(c: &mut Criterion, engine: &Engine, program: &Program) -> anyhow::Result<()> {
    let bytes = load(program.name)?;
    let stats = module_stats(&bytes)?;
    // A module whose functions cannot be translated yet (SIMD before the interpreter
    // supports it) is reported and skipped.
    if let Err(e) = translate_all(&Module::new(engine, &bytes)?, stats.defined()) {
        eprintln!("translate/{}: skipped: {e:#}", program.name);
        return Ok(());
    }
    let mut group = c.benchmark_group("translate");
    group.throughput(Throughput::Bytes(stats.code_bytes));
    group.bench_function(program.name, |b| {
        b.iter_batched(
            || Module::new(engine, &bytes).expect("the module was valid a moment ago"),
            |module| translate_all(&module, stats.defined()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
    Ok(())
}

fn translate(c: &mut Criterion) {
    let engine = Engine::default();
    for program in PROGRAMS.iter().chain([&LARGE]) {
        if let Err(e) = bench_program(c, &engine, program) {
            eprintln!("translate/{}: {e:#}", program.name);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = translate
}
criterion_main!(benches);
