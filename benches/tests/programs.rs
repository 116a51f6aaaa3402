//! Every benchmark program runs under the interpreter at its small size and prints the
//! checksum of its native build; the helpers' module statistics are sane.

use tierup::{Engine, Module};
use tierup_benches::{LARGE, PROGRAMS, checksum, load, module_stats, run_command};

#[test]
fn programs_print_the_native_checksum() {
    let engine = Engine::default();
    let mut failures = Vec::new();
    for program in PROGRAMS.iter().chain([&LARGE]) {
        let bytes = load(program.name).expect("program module");
        let module = Module::new(&engine, &bytes).expect("valid module");
        let size = program.small_size.to_string();
        match run_command(&engine, &module, &[&size]) {
            Ok(out) if out.status == 0 && checksum(&out.stdout) == Some(program.small_checksum) => {
            }
            // Until the interpreter runs SIMD, a SIMD program may fail, but never print a
            // wrong checksum.
            Err(_) if program.simd => {}
            other => failures.push(format!("{}: {other:?}", program.name)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn module_stats_of_the_large_module() {
    let stats = module_stats(&load(LARGE.name).expect("large module")).expect("stats");
    assert!(stats.defined_funcs > 6000, "{stats:?}");
    assert!(stats.imported_funcs > 0, "{stats:?}");
    assert!(stats.code_bytes > 1_000_000, "{stats:?}");
    assert_eq!(stats.defined().len() as u32, stats.defined_funcs);
}
