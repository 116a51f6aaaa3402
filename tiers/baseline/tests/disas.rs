//! Golden disassembly of the baseline tier's code, one file per operator family: each
//! `tests/disas/NAME.wat` is compiled function by function and its code disassembled
//! (Intel syntax, each wasm instruction's code under a `;; @offset` line) into
//! `tests/disas/NAME.disas`, which must match. A change in the emitted code shows in
//! review as a change of those files.
//!
//! Re-bless every expectation after an intended change with
//! `TIERUP_BLESS=1 cargo test -p tierup-baseline --test disas`.
//!
//! A file's first line may set the compile options: `;; options: bounds_checks` (no guard
//! region: explicit checks), `hotness=N` (code that counts its hotness with budget N),
//! `count_calls` and `epoch` (epoch interruption); or it may be `;; adapters`: then the
//! file's functions are not compiled, but the adapter of each one's signature is (the
//! register entry of interpreted and host functions). A function's code where the runtime
//! may stop it by a signal is named under its first line (`;; preemptible: start..end`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
use tierup_abi::{CompileOptions, MachineCode, ModuleEnv, SourceLoc};

fn disas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disas")
}

/// The options a file's first line asks for.
fn options(wat: &str) -> CompileOptions {
    let mut options = CompileOptions::default();
    if let Some(line) = wat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(";; options:"))
    {
        for word in line.split_whitespace() {
            match word.split_once('=') {
                None if word == "bounds_checks" => options.bounds_checks = true,
                None if word == "count_calls" => options.count_calls = true,
                None if word == "epoch" => options.epoch_interruption = true,
                Some(("hotness", n)) => options.hotness_budget = Some(n.parse().unwrap()),
                _ => panic!("unknown option `{word}`"),
            }
        }
    }
    options
}

/// The disassembly of every defined function of `wat`, or of its signature's adapter.
fn disassemble(wat: &str) -> String {
    let wasm: Arc<[u8]> = wat::parse_str(wat).expect("the test's text").into();
    if wat.starts_with(";; adapters") {
        return disassemble_adapters(wasm);
    }
    disassemble_module(wasm, &options(wat))
}

/// The disassembly of the adapter of every defined function's signature of `wasm`.
fn disassemble_adapters(wasm: Arc<[u8]>) -> String {
    let env = ModuleEnv::decode(wasm, wasmparser::WasmFeatures::WASM2).expect("decodes");
    let mut out = String::new();
    for func_index in env.num_imported_funcs..env.funcs.len() as u32 {
        let ty = &env.types[env.funcs[func_index as usize] as usize];
        let code = tierup_baseline::compile_adapter(ty.params(), ty.results())
            .unwrap_or_else(|e| panic!("function {func_index}: {e}"));
        let _ = writeln!(out, "adapter of function {func_index} ({ty}):");
        print_code(&mut out, &code);
    }
    out
}

/// The disassembly of every defined function of the module `wasm`, compiled with `options`.
fn disassemble_module(wasm: Arc<[u8]>, options: &CompileOptions) -> String {
    let env = ModuleEnv::decode(wasm, wasmparser::WasmFeatures::WASM2).expect("decodes");
    let mut out = String::new();
    for func_index in env.num_imported_funcs..env.funcs.len() as u32 {
        let code = tierup_baseline::compile(&env, func_index, options)
            .unwrap_or_else(|e| panic!("function {func_index}: {e}"));
        let _ = writeln!(out, "function {func_index}:");
        print_code(&mut out, &code);
    }
    out
}

/// Appends the disassembly of `code` to `out`.
fn print_code(out: &mut String, code: &MachineCode) {
    if !code.preemptible.is_empty() {
        let (start, end) = (code.preemptible.start, code.preemptible.end);
        let _ = writeln!(out, "  ;; preemptible: {start:04x}..{end:04x}");
    }
    {
        let mut decoder = Decoder::with_ip(64, &code.bytes, 0, DecoderOptions::NONE);
        let mut formatter = IntelFormatter::new();
        let mut text = String::new();
        let mut instruction = Instruction::default();
        let mut map = code.wasm_map.iter().peekable();
        let shim = code.array_shim.unwrap_or(u32::MAX);
        while decoder.can_decode() {
            decoder.decode_out(&mut instruction);
            let at = instruction.ip() as u32;
            if at == shim {
                let _ = writeln!(out, "  ;; array shim");
            }
            let mut loc = None;
            while let Some(next) = map.next_if(|l| l.code_offset <= at) {
                loc = Some(next.wasm_offset);
            }
            match loc {
                Some(SourceLoc::NONE) if at != shim => {
                    let _ = writeln!(out, "  ;; (no wasm instruction)");
                }
                Some(SourceLoc::NONE) | None => {}
                Some(wasm) => {
                    let _ = writeln!(out, "  ;; @{wasm:#x}");
                }
            }
            let trap = code.traps.iter().find(|t| t.offset == at);
            text.clear();
            formatter.format(&instruction, &mut text);
            let _ = write!(out, "  {at:04x}  {text}");
            if let Some(t) = trap {
                let _ = write!(out, "    ; trap: {}", t.code.message());
            }
            out.push('\n');
        }
    }
}

#[test]
fn the_emitted_code_of_each_operator_family_is_as_blessed() {
    let bless = std::env::var_os("TIERUP_BLESS").is_some_and(|v| v != "0");
    let mut files: Vec<PathBuf> = std::fs::read_dir(disas_dir())
        .expect("tests/disas")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "the families' files are missing");
    let mut stale = Vec::new();
    for wat_path in &files {
        let wat = std::fs::read_to_string(wat_path).unwrap();
        let got = disassemble(&wat);
        let expected_path = wat_path.with_extension("disas");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            let line = got
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(expected.lines().count()));
            let shown = expected_path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&expected_path);
            stale.push(format!(
                "{}: differs from line {}:\n  now:      {}\n  expected: {}",
                shown.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("(end)"),
                expected.lines().nth(line).unwrap_or("(end)"),
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "the emitted code changed (re-bless with TIERUP_BLESS=1 if that is intended):\n{}",
        stale.join("\n")
    );
}

/// The expectations are not empty shells: a change of one operator's code changes them.
#[test]
fn a_different_operator_gives_a_different_disassembly() {
    let add = disassemble(
        "(module (func (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))",
    );
    let sub = disassemble(
        "(module (func (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))",
    );
    assert_ne!(add, sub);
    assert!(add.contains("add "), "{add}");
    assert!(sub.contains("sub "), "{sub}");
}

/// Prints the disassembly of any module: `TIERUP_DISAS=FILE cargo test -p tierup-baseline
/// --test disas -- --ignored --nocapture print_any_module` (text or binary).
#[test]
#[ignore = "a tool: prints the code of the module named by TIERUP_DISAS"]
fn print_any_module() {
    let path = std::env::var_os("TIERUP_DISAS").expect("TIERUP_DISAS names a module");
    let wasm: Arc<[u8]> = wat::parse_file(&path).expect("a module").into();
    print!("{}", disassemble_module(wasm, &CompileOptions::default()));
}
