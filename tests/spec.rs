//! The WebAssembly 2.0 specification suite: one test per `.wast` script (named like
//! `wasm_2_0::i32`), each run with `tierup-wast` in the interpreter (all scripts, SIMD
//! included).

use std::path::PathBuf;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use tierup::TierMode;
use tierup_tests::{testsuite_dir, wast_files, with_big_stack};
use tierup_wast::{RunOptions, run_file};

/// Failures listed per failing script.
const MAX_LISTED_FAILURES: usize = 30;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let dir = testsuite_dir();
    let files = match wast_files(&dir, &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let trials = files
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Trial::test(format!("wasm_2_0::{stem}"), move || run_script(path))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

fn run_script(path: PathBuf) -> Result<(), Failed> {
    let opts = RunOptions {
        tier: TierMode::Interp,
        ..RunOptions::default()
    };
    let report = with_big_stack(move || run_file(&path, &opts))?;
    if report.ok() {
        return Ok(());
    }
    let mut msg = format!(
        "{} of {} directives failed:\n",
        report.directives_failed,
        report.directives()
    );
    for f in report.failures.iter().take(MAX_LISTED_FAILURES) {
        msg.push_str(&format!("  {f}\n"));
    }
    if report.failures.len() > MAX_LISTED_FAILURES {
        msg.push_str(&format!(
            "  ... and {} more\n",
            report.failures.len() - MAX_LISTED_FAILURES
        ));
    }
    Err(msg.into())
}
