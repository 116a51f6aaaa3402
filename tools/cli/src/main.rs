//! The `tierup` command: `tierup run` instantiates a module and calls one of its exports,
//! `tierup wast` runs specification test scripts. Exit status: 0 on success, 1 when wasm
//! trapped or a script failed, 2 for usage, parse, validation and link errors.

mod run;
mod values;
mod wast_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Stack size of the thread that runs wasm: deep recursion must reach the engine's call
/// depth limit (a trap) before the host stack runs out.
const WASM_THREAD_STACK: usize = 64 << 20;

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
    /// Runs a WebAssembly module
    Run(run::RunCommand),
    /// Runs WebAssembly test script files
    Wast(wast_cmd::WastCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spawned = std::thread::Builder::new()
        .name("tierup-main".to_string())
        .stack_size(WASM_THREAD_STACK)
        .spawn(move || match cli.command {
            Command::Run(cmd) => cmd.execute(),
            Command::Wast(cmd) => cmd.execute(),
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
    ExitCode::from(code)
}
