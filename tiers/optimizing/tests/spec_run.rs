//! The wasm-2.0 spec suite's `assert_return`s, `assert_trap`s of calls, `assert_exhaustion`s
//! and plain invokes run on compiled code, in harness instances of every module whose
//! imports come from `spectest` only. A call expected to trap runs in a child process that
//! maps the fault to a trap through the code's trap sites, so the trap tables are checked
//! too. Modules whose instantiation traps are not run.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Host, Imports, Instance, Outcome, call_in_child};
use tierup_abi::{CompileOptions, FuncCode, FuncEntry, ModuleEnv, ValRaw, VmContext};
use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

fn suite() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testsuite/wasm-2.0");
    dir.is_dir().then_some(dir)
}

/// `spectest`'s print functions: they print nothing here.
unsafe extern "sysv64" fn print(
    _: *const FuncEntry,
    _: *const FuncCode,
    _: *mut VmContext,
    _: *mut ValRaw,
) -> u32 {
    0
}

/// The externref handle of `ref.extern n` (never null).
fn extern_handle(n: u32) -> u64 {
    u64::from(n) + 0x1000
}

/// The imports of a module, if they all come from `spectest`.
fn spectest_imports(wasm: &[u8]) -> Option<Imports> {
    let env = ModuleEnv::decode(wasm.into(), wasmparser::WasmFeatures::WASM2).ok()?;
    let mut imports = Imports::default();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let wasmparser::Payload::ImportSection(r) = payload.ok()? else {
            continue;
        };
        for import in r.into_imports() {
            let import = import.ok()?;
            if import.module != "spectest" {
                return None;
            }
            match import.ty {
                wasmparser::TypeRef::Func(t) => {
                    let ty = &env.types[t as usize];
                    imports.funcs.push(Host {
                        params: ty.params().to_vec(),
                        results: ty.results().to_vec(),
                        entry: print,
                    });
                }
                wasmparser::TypeRef::Global(_) => imports.globals.push(match import.name {
                    "global_i32" => ValRaw::i32(666),
                    "global_i64" => ValRaw::i64(666),
                    "global_f32" => ValRaw::f32_bits(666.6f32.to_bits()),
                    "global_f64" => ValRaw::f64_bits(666.6f64.to_bits()),
                    _ => return None,
                }),
                wasmparser::TypeRef::Memory(_) => imports.memory = Some((1, 2)),
                wasmparser::TypeRef::Table(_) => imports.tables.push((10, 20)),
                _ => return None,
            }
        }
    }
    Some(imports)
}

fn arg(a: &WastArg) -> Option<ValRaw> {
    let WastArg::Core(a) = a else { return None };
    Some(match a {
        WastArgCore::I32(v) => ValRaw::i32(*v),
        WastArgCore::I64(v) => ValRaw::i64(*v),
        WastArgCore::F32(v) => ValRaw::f32_bits(v.bits),
        WastArgCore::F64(v) => ValRaw::f64_bits(v.bits),
        WastArgCore::V128(v) => ValRaw::v128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(_) => ValRaw::ZERO,
        WastArgCore::RefExtern(n) => ValRaw::from_u64(extern_handle(*n)),
        _ => return None,
    })
}

fn f32_matches(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Whether `got` is what `ret` expects; `None` for an expectation the runner cannot check.
fn matches(ret: &WastRetCore, got: ValRaw) -> Option<bool> {
    let bytes = got.get_v128().to_le_bytes();
    let lane = |i: usize, n: usize| {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&bytes[i * n..i * n + n]);
        u64::from_le_bytes(b)
    };
    Some(match ret {
        WastRetCore::I32(v) => got.get_i32() == *v,
        WastRetCore::I64(v) => got.get_i64() == *v,
        WastRetCore::F32(p) => f32_matches(p, got.get_f32_bits()),
        WastRetCore::F64(p) => f64_matches(p, got.get_f64_bits()),
        WastRetCore::V128(p) => match p {
            V128Pattern::I8x16(v) => v
                .iter()
                .enumerate()
                .all(|(i, &x)| lane(i, 1) == u64::from(x as u8)),
            V128Pattern::I16x8(v) => v
                .iter()
                .enumerate()
                .all(|(i, &x)| lane(i, 2) == u64::from(x as u16)),
            V128Pattern::I32x4(v) => v
                .iter()
                .enumerate()
                .all(|(i, &x)| lane(i, 4) == u64::from(x as u32)),
            V128Pattern::I64x2(v) => v.iter().enumerate().all(|(i, &x)| lane(i, 8) == x as u64),
            V128Pattern::F32x4(v) => v
                .iter()
                .enumerate()
                .all(|(i, p)| f32_matches(p, lane(i, 4) as u32)),
            V128Pattern::F64x2(v) => v
                .iter()
                .enumerate()
                .all(|(i, p)| f64_matches(p, lane(i, 8))),
        },
        WastRetCore::RefNull(_) => got.get_u64() == 0,
        WastRetCore::RefExtern(Some(n)) => got.get_u64() == extern_handle(*n),
        WastRetCore::RefExtern(None) | WastRetCore::RefFunc(_) => got.get_u64() != 0,
        WastRetCore::Either(options) => {
            let mut any = false;
            for o in options {
                any |= matches(o, got)?;
            }
            any
        }
        _ => return None,
    })
}

#[derive(Default)]
struct Counts {
    modules: usize,
    skipped_modules: usize,
    asserts: usize,
    traps: usize,
    skipped: usize,
    failures: Vec<String>,
}

struct Runner {
    options: CompileOptions,
    instances: Vec<Instance>,
    names: HashMap<String, usize>,
    current: Option<usize>,
    /// Instances before this one may have been changed by a module the runner skipped.
    usable_from: usize,
    counts: Counts,
}

impl Runner {
    fn module(&mut self, mut m: QuoteWat) {
        let name = m.name().map(|id| id.name().to_string());
        self.current = None;
        let Ok(bytes) = m.encode() else { return };
        let valid = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2)
            .validate_all(&bytes)
            .is_ok();
        if !valid {
            return;
        }
        let Some(imports) = spectest_imports(&bytes) else {
            // It would link to (and may write to) instances here that are not set up to
            // share anything: none of them is used again.
            self.counts.skipped_modules += 1;
            self.usable_from = self.instances.len();
            return;
        };
        match Instance::instantiate(bytes.into(), imports, self.options) {
            Ok(instance) => {
                self.counts.modules += 1;
                self.instances.push(instance);
                let index = self.instances.len() - 1;
                self.current = Some(index);
                if let Some(name) = name {
                    self.names.insert(name, index);
                }
            }
            // An active segment out of bounds (what assert_trap of a module checks).
            Err(_) => self.counts.skipped_modules += 1,
        }
    }

    fn target(&self, module: Option<wast::token::Id>) -> Option<usize> {
        match module {
            Some(id) => self.names.get(id.name()).copied(),
            None => self.current,
        }
        .filter(|&i| i >= self.usable_from)
    }

    fn invoke(&mut self, inv: &WastInvoke) -> Option<Vec<ValRaw>> {
        let target = self.target(inv.module)?;
        let args: Option<Vec<ValRaw>> = inv.args.iter().map(arg).collect();
        let instance = &mut self.instances[target];
        Some(instance.call(inv.name, &args?))
    }

    fn assert_return(&mut self, file: &str, line: usize, exec: WastExecute, results: &[WastRet]) {
        let got = match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => self
                .target(module)
                .and_then(|t| self.instances[t].exported_global(global))
                .map(|v| vec![v]),
            WastExecute::Wat(_) => None,
        };
        let Some(got) = got else {
            self.counts.skipped += 1;
            return;
        };
        let mut ok = got.len() == results.len();
        for (r, &g) in results.iter().zip(&got) {
            let WastRet::Core(r) = r else {
                self.counts.skipped += 1;
                return;
            };
            match matches(r, g) {
                Some(m) => ok &= m,
                None => {
                    self.counts.skipped += 1;
                    return;
                }
            }
        }
        self.counts.asserts += 1;
        if !ok {
            self.counts
                .failures
                .push(format!("{file}:{line}: expected {results:?}, got {got:?}"));
        }
    }

    /// Runs a call expected to trap with `message` in a child process.
    fn assert_trap(
        &mut self,
        file: &str,
        line: usize,
        inv: &WastInvoke,
        message: &str,
        limit: bool,
    ) {
        let Some(target) = self.target(inv.module) else {
            self.counts.skipped += 1;
            return;
        };
        let Some(args) = inv.args.iter().map(arg).collect::<Option<Vec<_>>>() else {
            self.counts.skipped += 1;
            return;
        };
        let instance = &mut self.instances[target];
        let f = instance.func(inv.name);
        let outcome = call_in_child(instance, f, &args, limit);
        self.counts.traps += 1;
        let ok = match outcome {
            Outcome::Trapped(code) => {
                message.starts_with(code.message()) || code.message().starts_with(message)
            }
            _ => false,
        };
        if !ok {
            self.counts.failures.push(format!(
                "{file}:{line}: expected trap \"{message}\", got {outcome:?}"
            ));
        }
    }

    fn run(&mut self, file: &str, text: &str) -> Result<(), String> {
        let mut lexer = wast::lexer::Lexer::new(text);
        lexer.allow_confusing_unicode(true);
        let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
        let script: Wast = parser::parse(&buf).map_err(|e| e.to_string())?;
        let trace = std::env::var_os("SPEC_TRACE").is_some();
        for directive in script.directives {
            let line = directive.span().linecol_in(text).0 + 1;
            if trace {
                eprintln!("{file}:{line}");
            }
            match directive {
                WastDirective::Module(m) => self.module(m),
                WastDirective::AssertReturn { exec, results, .. } => {
                    self.assert_return(file, line, exec, &results)
                }
                WastDirective::Invoke(inv) => {
                    let ran = self.invoke(&inv).is_some();
                    self.counts.skipped += usize::from(!ran);
                }
                WastDirective::AssertTrap {
                    exec: WastExecute::Wat(_),
                    ..
                } => {
                    // A module whose instantiation traps may have written to instances
                    // here first.
                    self.counts.skipped += 1;
                    self.usable_from = self.instances.len();
                }
                WastDirective::AssertTrap {
                    exec: WastExecute::Invoke(inv),
                    message,
                    ..
                } => self.assert_trap(file, line, &inv, message, false),
                WastDirective::AssertExhaustion { call, message, .. } => {
                    self.assert_trap(file, line, &call, message, true)
                }
                WastDirective::AssertTrap { .. } => self.counts.skipped += 1,
                _ => {}
            }
        }
        Ok(())
    }
}

fn run_suite(options: CompileOptions) {
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
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Counts::default());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    let text = std::fs::read_to_string(path).unwrap();
                    let mut runner = Runner {
                        options,
                        instances: Vec::new(),
                        names: HashMap::new(),
                        current: None,
                        usable_from: 0,
                        counts: Counts::default(),
                    };
                    if let Err(e) = runner.run(&name, &text) {
                        runner.counts.failures.push(format!("{name}: {e}"));
                    }
                    let mut t = total.lock().unwrap();
                    t.modules += runner.counts.modules;
                    t.skipped_modules += runner.counts.skipped_modules;
                    t.asserts += runner.counts.asserts;
                    t.traps += runner.counts.traps;
                    t.skipped += runner.counts.skipped;
                    t.failures.extend(runner.counts.failures);
                }
            });
        }
    });
    let mut t = total.into_inner().unwrap();
    t.failures.sort();
    eprintln!(
        "{} modules instantiated ({} skipped), {} results and {} traps checked ({} not run), {} failed",
        t.modules,
        t.skipped_modules,
        t.asserts,
        t.traps,
        t.skipped,
        t.failures.len()
    );
    for f in t.failures.iter().take(40) {
        eprintln!("{f}");
    }
    assert!(
        t.failures.is_empty(),
        "{} assertions failed",
        t.failures.len()
    );
    assert!(t.asserts > 20000, "only {} assertions checked", t.asserts);
}

#[test]
fn spec_assertions_with_guard_pages() {
    run_suite(CompileOptions {
        bounds_checks: false,
        ..CompileOptions::default()
    });
}

#[test]
fn spec_assertions_with_bounds_checks() {
    run_suite(CompileOptions {
        bounds_checks: true,
        ..CompileOptions::default()
    });
}
