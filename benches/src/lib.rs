//! `tierup-benches`: the benchmark programs of `benches/programs` and the helpers that the
//! criterion benches, the program tests and the peer comparison (`benches/compare`) share:
//! the program list with sizes and expected checksums, module statistics, WASI runs.

mod programs;
mod run;
mod stats;

pub use programs::{LARGE, PROGRAMS, Program, load, programs_dir};
pub use run::{RunOutput, checksum, run_command};
pub use stats::{ModuleStats, module_stats};

/// Parses the tier modes named in the environment variable `TIERUP_BENCH_TIERS`
/// (comma-separated, e.g. `interp,tiered`); `interp` when unset.
pub fn tiers_from_env() -> anyhow::Result<Vec<tierup::TierMode>> {
    match std::env::var("TIERUP_BENCH_TIERS") {
        Ok(list) => list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse())
            .collect(),
        Err(_) => Ok(vec![tierup::TierMode::Interp]),
    }
}
