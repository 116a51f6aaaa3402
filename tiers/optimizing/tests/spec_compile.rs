//! Every function of every module of the WebAssembly 2.0 spec suite compiles, with
//! Cranelift's verifier on (test builds have debug assertions), both with and without
//! explicit bounds checks, and yields consistent machine-code tables.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tierup_abi::{CompileOptions, Compiled, Compiler, MachineCode, ModuleEnv};
use tierup_optimizing::Optimizing;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective, WastExecute};

fn suite() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testsuite/wasm-2.0");
    dir.is_dir().then_some(dir)
}

/// The binary modules a script defines (those that encode and validate).
fn modules(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script: Wast = parser::parse(&buf).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for directive in script.directives {
        let bytes = match directive {
            WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => m.encode(),
            WastDirective::AssertUnlinkable { mut module, .. }
            | WastDirective::AssertTrap {
                exec: WastExecute::Wat(mut module),
                ..
            } => module.encode(),
            _ => continue,
        };
        let Ok(bytes) = bytes else { continue };
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2);
        if validator.validate_all(&bytes).is_ok() {
            out.push(bytes);
        }
    }
    Ok(out)
}

/// What a compilation must satisfy besides succeeding.
fn check_tables(code: &MachineCode) -> Result<(), String> {
    let len = code.bytes.len() as u32;
    if !code.align.is_power_of_two() {
        return Err(format!("alignment {}", code.align));
    }
    let shim = code.array_shim.ok_or("no array shim")?;
    if code.register_entry != 0 || shim <= code.register_entry || shim >= len {
        return Err(format!(
            "entry {} shim {shim} of {len}",
            code.register_entry
        ));
    }
    if !code.traps.windows(2).all(|w| w[0].offset < w[1].offset)
        || code.traps.iter().any(|t| t.offset >= len)
    {
        return Err("trap sites unsorted or outside the code".into());
    }
    if !code
        .wasm_map
        .windows(2)
        .all(|w| w[0].code_offset < w[1].code_offset)
        || code.wasm_map.first().map(|l| l.code_offset) != Some(0)
    {
        return Err("wasm map unsorted or not starting at 0".into());
    }
    // Every explicit trap in the body maps to a wasm instruction (the prologue's stack
    // check belongs to none).
    for t in &code.traps {
        if t.offset < shim
            && t.code != tierup_abi::TrapCode::StackOverflow
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
    if !code.relocs.is_empty() && code.relocs.iter().any(|r| r.offset >= len) {
        return Err("relocation outside the code".into());
    }
    Ok(())
}

#[test]
fn every_spec_function_compiles() {
    let Some(dir) = suite() else {
        eprintln!("skipping: no spec suite beside the repository (../shared/testsuite)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    assert!(files.len() > 80, "only {} scripts in {dir:?}", files.len());

    let tier = Optimizing::new().unwrap();
    let next = AtomicUsize::new(0);
    let module_count = AtomicUsize::new(0);
    let func_count = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    let text = std::fs::read_to_string(path).unwrap();
                    let mods = match modules(&text) {
                        Ok(m) => m,
                        Err(e) => {
                            failures.lock().unwrap().push(format!("{name}: {e}"));
                            continue;
                        }
                    };
                    for (m, bytes) in mods.into_iter().enumerate() {
                        module_count.fetch_add(1, Ordering::Relaxed);
                        let wasm: Arc<[u8]> = bytes.into();
                        let env = match ModuleEnv::decode(wasm, wasmparser::WasmFeatures::WASM2) {
                            Ok(env) => env,
                            Err(e) => {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{name} module {m}: {e}"));
                                continue;
                            }
                        };
                        for f in env.num_imported_funcs..env.funcs.len() as u32 {
                            func_count.fetch_add(1, Ordering::Relaxed);
                            for bounds_checks in [false, true] {
                                let options = CompileOptions {
                                    bounds_checks,
                                    ..CompileOptions::default()
                                };
                                let result = match tier.compile(&env, f, &options) {
                                    Ok(Compiled::Machine(code)) => check_tables(&code),
                                    Ok(Compiled::Owned(_)) => Err("owned code".to_string()),
                                    Err(e) => Err(e.0),
                                };
                                if let Err(e) = result {
                                    failures.lock().unwrap().push(format!(
                                        "{name} module {m} func {f} (bounds checks {bounds_checks}): {e}"
                                    ));
                                    break;
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let (modules, funcs) = (module_count.into_inner(), func_count.into_inner());
    eprintln!(
        "{modules} modules, {funcs} functions, {} failures",
        failures.len()
    );
    for f in failures.iter().take(40) {
        // Verifier reports print the whole function; the first line and the errors say it.
        let mut lines = f.lines();
        eprintln!("{}", lines.next().unwrap_or_default());
        for l in lines.filter(|l| l.contains("; error:")).take(3) {
            eprintln!("    {}", l.trim());
        }
    }
    assert!(failures.is_empty(), "{} functions failed", failures.len());
    assert!(
        modules > 1500 && funcs > 5000,
        "{modules} modules, {funcs} functions"
    );
}
