//! The `tierup` command: `tierup run` runs a WASI command program (or calls one export of
//! a module), `tierup wast` runs specification test scripts, `tierup compile` compiles a
//! whole module with one tier and reports the compile speed, `tierup compare` runs a
//! program under every tier mode and reports the first divergence; `tierup FILE.wasm ARGS...` is
//! short for `tierup run FILE.wasm ARGS...`. Exit status: 0 on success, 1 when wasm
//! trapped or a script failed, 2 for usage, parse, validation and link errors.

mod compare_cmd;
mod compile_cmd;
mod run;
mod tier_args;
mod values;
mod wast_cmd;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tierup::tiering::{ChromeTrace, ChromeTraceGuard, TierReport};
use tracing_subscriber::filter::Targets;

/// Stack size of the thread that runs wasm: deep recursion must reach the engine's call
/// depth limit (a trap) before the host stack runs out.
const WASM_THREAD_STACK: usize = 64 << 20;

/// The name of the thread that runs wasm (the program's track in the tier log).
const MAIN_THREAD: &str = "tierup-main";

/// The exit status for a trap or failed script.
const EXIT_TRAP: u8 = 1;
/// The exit status for usage, parse, validation and link errors.
const EXIT_USAGE: u8 = 2;

/// A tiered WebAssembly virtual machine.
#[derive(Parser, Debug)]
#[command(name = "tierup", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs a WebAssembly module (a WASI command program, or one export with --invoke)
    ///
    /// Runs a WebAssembly command program (one that exports `_start`, such as C compiled
    /// for `wasm32-wasi`) with WASI preview 1. The program sees the arguments after the
    /// module path, the environment given with `--env`/`--inherit-env`, and only the host
    /// directories granted with `--dir`. The process exits with the program's exit
    /// status; a trap prints the trap and its wasm backtrace and exits with 1. With
    /// `--invoke`, calls one exported function instead and prints its results.
    ///
    /// Examples:
    ///
    ///   tierup run --dir . program.wasm input.txt
    ///
    ///   tierup --dir data::/data program.wasm --flag   (`run` may be left out)
    ///
    ///   tierup run --invoke add math.wat 1 2
    #[command(verbatim_doc_comment)]
    Run(run::RunCommand),
    /// Runs WebAssembly test script files
    Wast(wast_cmd::WastCommand),
    /// Compiles every function of a module with one tier and reports the compile speed
    Compile(compile_cmd::CompileCommand),
    /// Runs a program under every tier mode and reports the first divergence
    ///
    /// Runs the program (a WASI command, or one export with --invoke) in the interpreter,
    /// each compiler alone, the eager and tiered modes, the tiered mode with synchronous
    /// tier-up at threshold 0 (with and without the baseline tier) and with random tier
    /// masks, and compares every run with the interpreter's: results, trap and message,
    /// exit status, stdout, stderr, the final bytes of every memory and the globals. NaN
    /// bit patterns and the depth of stack exhaustion may differ (the specification
    /// allows it). Exits with 0 when all runs agree, 1 when one differs.
    ///
    /// Examples:
    ///
    ///   tierup compare --dir . program.wasm input.txt
    ///
    ///   tierup compare --invoke fib math.wat 30
    #[command(verbatim_doc_comment)]
    Compare(compare_cmd::CompareCommand),
}

/// The command line, with `run` inserted when the first argument is neither a
/// subcommand nor a help or version flag (`tierup [OPTIONS] FILE.wasm ARGS...`).
fn command_line() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(first) = args.get(1)
        && !matches!(
            first.to_str(),
            Some(
                "run"
                    | "wast"
                    | "compile"
                    | "compare"
                    | "help"
                    | "-h"
                    | "--help"
                    | "-V"
                    | "--version"
            )
        )
    {
        args.insert(1, "run".into());
    }
    args
}

/// The events the tier log and the tier report read.
fn tier_events() -> Targets {
    Targets::new().with_target("tierup::tiering", tracing::Level::DEBUG)
}

/// Writes the runtime's events (tier transitions under `tierup::tiering`, traps under
/// `tierup::trap`, ...) to stderr when `RUST_LOG` asks for them, with its usual syntax
/// (`tierup::tiering=debug`, `info,tierup::memory=debug`), and the tier timeline to
/// `tier_log` when given (`tierup run --tier-log`); returns the timeline's guard. A
/// malformed filter or a log that cannot be created is an error of the command line.
fn init_logging(
    tier_log: Option<&Path>,
    tier_report: Option<&TierReport>,
) -> Result<Option<ChromeTraceGuard>, String> {
    use tracing_subscriber::prelude::*;
    let fmt = match std::env::var("RUST_LOG") {
        Ok(spec) => {
            let targets: Targets = spec.parse().map_err(|e| format!("RUST_LOG={spec}: {e}"))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_filter(targets),
            )
        }
        Err(_) => None,
    };
    let (trace, guard) = match tier_log {
        Some(path) => {
            let (layer, guard) = ChromeTrace::create(path, Some(MAIN_THREAD))
                .map_err(|e| format!("cannot create the tier log: {e}"))?;
            (Some(layer.with_filter(tier_events())), Some(guard))
        }
        None => (None, None),
    };
    let report = tier_report.map(|r| r.clone().with_filter(tier_events()));
    if fmt.is_some() || trace.is_some() || report.is_some() {
        tracing_subscriber::registry()
            .with(fmt)
            .with(trace)
            .with(report)
            .init();
    }
    Ok(guard)
}

fn main() -> ExitCode {
    let mut cli = Cli::parse_from(command_line());
    let (tier_log, report_to) = match &cli.command {
        Command::Run(cmd) => (cmd.tier_log(), cmd.tier_report()),
        _ => (None, None),
    };
    if let Some(Some(path)) = &report_to
        && !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("svg" | "html" | "htm")
        )
    {
        eprintln!(
            "error: --tier-report={}: the picture is a .svg or .html file",
            path.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let report = report_to.as_ref().map(|_| TierReport::new());
    if let (Command::Run(cmd), Some(report)) = (&mut cli.command, &report) {
        cmd.profile_into(report.clone());
    }
    let guard = match init_logging(tier_log.as_deref(), report.as_ref()) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let spawned = std::thread::Builder::new()
        .name(MAIN_THREAD.to_string())
        .stack_size(WASM_THREAD_STACK)
        .spawn(move || match cli.command {
            Command::Run(cmd) => cmd.execute(),
            Command::Wast(cmd) => cmd.execute(),
            Command::Compile(cmd) => cmd.execute(),
            Command::Compare(cmd) => cmd.execute(),
        });
    let code = match spawned {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            eprintln!("error: internal error (panic)");
            EXIT_USAGE
        }),
        Err(e) => {
            eprintln!("error: cannot start the execution thread: {e}");
            EXIT_USAGE
        }
    };
    drop(guard);
    if let (Some(report), Some(to)) = (report, report_to) {
        let report = report.report();
        match to {
            None => eprint!("{}", report.table()),
            Some(path) => {
                let page = match path.extension().and_then(|e| e.to_str()) {
                    Some("svg") => report.svg(),
                    _ => report.html(),
                };
                if let Err(e) = std::fs::write(&path, page) {
                    eprintln!(
                        "error: cannot write the tier report to {}: {e}",
                        path.display()
                    );
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        }
    }
    ExitCode::from(code)
}
