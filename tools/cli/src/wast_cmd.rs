//! `tierup wast`: runs `.wast` specification scripts (files, or every `*.wast` of a
//! directory, sorted) and prints one line per script and a summary line.

use std::path::{Path, PathBuf};

use clap::Args;
use tierup::Config;
use tierup_wast::{FileReport, RunOptions, run_file};

use crate::tier_args::TierArgs;
use crate::{EXIT_TRAP, EXIT_USAGE};

/// Runs WebAssembly test script files
#[derive(Args, Debug)]
pub struct WastCommand {
    #[command(flatten)]
    tiers: TierArgs,

    /// Let the `spectest` print functions write to stdout
    #[arg(long)]
    print: bool,

    /// Give memories no guard regions, so that all code checks bounds explicitly
    #[arg(long)]
    no_guard_regions: bool,

    /// The number of failures listed under a failing script
    #[arg(long, value_name = "N", default_value_t = 5)]
    show_failures: usize,

    /// Script files, or directories whose `*.wast` files are run
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

impl WastCommand {
    /// Runs every script and returns the exit status.
    pub fn execute(self) -> u8 {
        let files = match expand(&self.paths) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        };
        let mut config = Config::new();
        self.tiers.apply(&mut config);
        config.guard_regions(!self.no_guard_regions);
        let opts = RunOptions {
            config,
            print: self.print,
            precompile: None,
        };
        let (mut passed, mut failed) = (0usize, 0usize);
        for file in &files {
            let report = run_file(file, &opts);
            print_report(file, &report, self.show_failures);
            if report.ok() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        println!("{passed} passed, {failed} failed");
        if failed > 0 { EXIT_TRAP } else { 0 }
    }
}

fn print_report(file: &Path, report: &FileReport, shown: usize) {
    if report.ok() {
        println!(
            "ok   {} ({} directives)",
            file.display(),
            report.directives()
        );
        return;
    }
    println!(
        "FAIL {} ({} passed, {} failed)",
        file.display(),
        report.directives_passed,
        report.directives_failed
    );
    for f in report.failures.iter().take(shown) {
        println!("    {f}");
    }
    if report.failures.len() > shown {
        println!("    ... and {} more", report.failures.len() - shown);
    }
}

/// Files as given, directories replaced by their `*.wast` files (sorted).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read directory `{}`: {e}", path.display()))?;
            let mut found = Vec::new();
            for entry in entries {
                let p = entry
                    .map_err(|e| format!("cannot read directory `{}`: {e}", path.display()))?
                    .path();
                if p.extension().is_some_and(|e| e == "wast") && p.is_file() {
                    found.push(p);
                }
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
