//! `tierup-wast`: runs WebAssembly specification scripts (`.wast`) against tierup.
//!
//! [`run_file`] / [`run_source`] parse a script, execute every directive in one `Store`
//! and return a [`FileReport`] that counts passed and failed directives and describes each
//! failure (position, directive kind, what was expected, what happened).

mod runner;
mod spectest;
mod value;

use std::fmt;
use std::path::Path;

pub use tierup::{Config, Tier, TierMode};

/// How to run a script.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The engine's configuration: tier mode, guard regions, tier mask, thresholds.
    pub config: Config,
    /// Whether the `spectest` `print*` functions write their arguments to stdout.
    pub print: bool,
    /// A tier that compiles every function of each module when the module is made
    /// (`Module::precompile`, one thread), before it is instantiated or, for a module the
    /// script expects to be rejected, instead. With lazy validation that compile is where
    /// an invalid body is found.
    pub precompile: Option<Tier>,
}

impl Default for RunOptions {
    /// The interpreter, no printing.
    fn default() -> Self {
        let mut config = Config::new();
        config.tier(TierMode::Interp);
        RunOptions {
            config,
            print: false,
            precompile: None,
        }
    }
}

/// One directive that did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// 1-based column of the directive in the script.
    pub col: usize,
    /// The directive kind (`assert_return`, `module`, ...).
    pub kind: String,
    /// What the directive expected.
    pub expected: String,
    /// What happened instead.
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: expected {}, got {}",
            self.line, self.col, self.kind, self.expected, self.got
        )
    }
}

/// The outcome of one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The name of the script (its path, or the name given to [`run_source`]).
    pub name: String,
    /// Directives that passed.
    pub directives_passed: usize,
    /// Directives that failed (including a script that does not parse, counted once).
    pub directives_failed: usize,
    /// One entry per failed directive, in script order.
    pub failures: Vec<Failure>,
}

impl FileReport {
    /// Whether every directive passed (and the script parsed).
    pub fn ok(&self) -> bool {
        self.directives_failed == 0
    }

    /// The number of directives run.
    pub fn directives(&self) -> usize {
        self.directives_passed + self.directives_failed
    }
}

/// Runs the script at `path`. A file that cannot be read is reported as one failure.
pub fn run_file(path: &Path, opts: &RunOptions) -> FileReport {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => run_source(&name, &text, opts),
            Err(e) => FileReport::single_failure(name, "read", "UTF-8 text", e.to_string()),
        },
        Err(e) => FileReport::single_failure(name, "read", "a readable file", e.to_string()),
    }
}

/// Runs the script `text`; `name` is used in the report only.
pub fn run_source(name: &str, text: &str, opts: &RunOptions) -> FileReport {
    runner::run(name, text, opts)
}

impl FileReport {
    fn single_failure(name: String, kind: &str, expected: &str, got: String) -> FileReport {
        FileReport {
            name,
            directives_passed: 0,
            directives_failed: 1,
            failures: vec![Failure {
                line: 1,
                col: 1,
                kind: kind.to_string(),
                expected: expected.to_string(),
                got,
            }],
        }
    }
}
