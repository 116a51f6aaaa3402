//! Start-up costs: `Module::new` (decode and validate; no function is translated, since
//! translation is lazy) and instantiation with WASI imports into a fresh store.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tierup::wasi::{WasiCtx, WasiCtxBuilder};
use tierup::{Engine, Linker, Module, Store};
use tierup_benches::{LARGE, PROGRAMS, Program, load};

struct Host {
    wasi: WasiCtx,
}

fn bench_program(c: &mut Criterion, engine: &Engine, program: &Program) -> anyhow::Result<()> {
    let bytes = load(program.name)?;
    let module = Module::new(engine, &bytes)?;
    let mut linker = Linker::new(engine);
    tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)?;

    let mut group = c.benchmark_group("module_new");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(program.name, |b| b.iter(|| Module::new(engine, &bytes)));
    group.finish();

    let mut group = c.benchmark_group("instantiate");
    group.bench_function(program.name, |b| {
        b.iter(|| {
            let wasi = WasiCtxBuilder::new().build();
            let mut store = Store::new(engine, Host { wasi });
            linker.instantiate(&mut store, &module).map(|_| store)
        })
    });
    group.finish();
    Ok(())
}

fn instantiate(c: &mut Criterion) {
    let engine = Engine::default();
    for program in [&LARGE].into_iter().chain(PROGRAMS) {
        if let Err(e) = bench_program(c, &engine, program) {
            eprintln!("{}: {e:#}", program.name);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = instantiate
}
criterion_main!(benches);
