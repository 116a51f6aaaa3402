//! The WebAssembly 2.0 specification suite, all scripts (SIMD included) under every tier
//! mode: one test per script and mode, named like `wasm_2_0::optimizing::i32`. The modes:
//!
//! * `interp` — the interpreter;
//! * `interp_wide` — the interpreter with every function in its wide register form (the
//!   form of functions whose registers do not fit 16-bit operands);
//! * `baseline` — every function compiled by the baseline tier on its first call, with
//!   guard regions (one it does not compile yet, SIMD for one, runs in optimized code
//!   compiled without optimizations, `CompileOptions::quick`);
//! * `baseline_checked` — the same without guard regions: every access checked; its code
//!   checks the epoch too (`Config::epoch_interruption`, with no deadline);
//! * `baseline_mixed` — a random half of the functions (the seed of `mixed`) in the
//!   baseline tier and the rest interpreted;
//! * `baseline_validating` — every module compiled whole by the baseline tier when it is
//!   made, with lazy validation: each body validated in the same read as its compile
//!   (`Compiler::compile_validating`), the invalid modules of the scripts included, and
//!   each function the tier refuses (SIMD) validated on its own;
//! * `optimizing` — every function compiled by the optimizing tier on its first call, with
//!   guard regions (no bounds checks where the guard covers an access);
//! * `optimizing_checked` — the same without guard regions: every access checked, and
//!   the epoch too;
//! * `mixed` — a random half of the functions optimized and the rest interpreted, so that
//!   calls cross tiers in every direction. The seed is printed at the start and in every
//!   failure; `TIERUP_TEST_SEED=N` runs with seed N;
//! * `eager` — every function starts in the interpreter while workers compile all of them
//!   with the optimizing tier and publish each as it is ready, in the middle of the
//!   script's calls;
//! * `tiered_sync` — the default mode with a tier-up threshold of 0 and synchronous
//!   tier-up: every function is interpreted in its first activation, compiled by the
//!   baseline tier when it is first called and by the optimizing tier at its second call
//!   (it runs optimized from its third); every loop header and block end that a branch
//!   reaches moves its activation into a baseline OSR entry the first time it is reached,
//!   and a loop header of baseline code into an optimizing one;
//! * `tiered_sync_checked` — the same without guard regions (compiled code and OSR
//!   entries check every access);
//! * `tiered_sync_mixed` — the same with a random three-way tier mask (the seed of
//!   `mixed`): a third of the functions each stop in the interpreter, in baseline code and
//!   in optimized code, so calls and OSR cross every pair of tiers; its code counts its
//!   calls too (`Config::count_calls`, the tier report's) and checks the epoch, in every
//!   tier;
//! * `tiered_sync_wide` — `tiered_sync` with the interpreter's wide form: OSR out of it,
//!   and calls between it and both compiled tiers;
//! * `tiered_sync_2tier` — `tiered_sync` without the baseline tier (the chain of a CPU
//!   without the features its code needs): interpreter -> optimizing;
//! * `tiered` — the default mode with a threshold of 0: every function is queued at its
//!   first call, and workers publish the code while the script runs.

use std::path::PathBuf;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use tierup::{Config, Tier, TierMode};
use tierup_tests::{testsuite_dir, wast_files, with_big_stack};
use tierup_wast::{RunOptions, run_file};

/// One way of running the suite: an engine configuration (a tier-up threshold of 0, so that
/// the tiered modes move every function as soon as they can) and its tier mask's seed.
struct Mode {
    name: &'static str,
    config: Config,
    mask: Option<u64>,
    precompile: Option<Tier>,
}

impl Mode {
    /// `tier` with guard regions, no tier mask, background tier-up, the whole chain.
    fn new(name: &'static str, tier: TierMode) -> Mode {
        let mut config = Config::new();
        config.tier(tier).tier_up_threshold(0);
        Mode {
            name,
            config,
            mask: None,
            precompile: None,
        }
    }

    /// Bodies validated by their compile: every module compiled by `tier` when it is
    /// made, with lazy validation (an invalid body is found by that compile).
    fn validated_by(mut self, tier: Tier) -> Mode {
        self.config.lazy_validation(true);
        self.precompile = Some(tier);
        self
    }

    /// Without guard regions: every access checked.
    fn unguarded(mut self) -> Mode {
        self.config.guard_regions(false);
        self
    }

    /// With the random tier mask of `seed`.
    fn masked(mut self, seed: u64) -> Mode {
        self.config.random_tiers(Some(seed));
        self.mask = Some(seed);
        self
    }

    /// With synchronous tier-up.
    fn sync(mut self) -> Mode {
        self.config.sync_tier_up(true);
        self
    }

    /// With code that counts its calls.
    fn counting(mut self) -> Mode {
        self.config.count_calls(true);
        self
    }

    /// With code that checks the epoch (no deadline is set: the checks never fire, but
    /// every function runs through them).
    fn interruptible(mut self) -> Mode {
        self.config.epoch_interruption(true);
        self
    }

    /// With every function interpreted in the wide register form.
    fn wide(mut self) -> Mode {
        self.config.wide_interpreter(true);
        self
    }

    /// Without the baseline tier in the tiered chain.
    fn without_baseline(mut self) -> Mode {
        self.config.baseline_tier(false);
        self
    }
}

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
    let seed = seed();
    println!("spec suite: mixed tiers with seed {seed} (set TIERUP_TEST_SEED={seed} to repeat)");
    let modes = [
        Mode::new("interp", TierMode::Interp),
        Mode::new("interp_wide", TierMode::Interp).wide(),
        Mode::new("baseline", TierMode::Baseline),
        Mode::new("baseline_checked", TierMode::Baseline)
            .unguarded()
            .interruptible(),
        Mode::new("baseline_mixed", TierMode::Baseline).masked(seed),
        Mode::new("baseline_validating", TierMode::Baseline).validated_by(Tier::Baseline),
        Mode::new("optimizing", TierMode::Optimizing),
        Mode::new("optimizing_checked", TierMode::Optimizing)
            .unguarded()
            .interruptible(),
        Mode::new("mixed", TierMode::Optimizing).masked(seed),
        Mode::new("eager", TierMode::Eager),
        Mode::new("tiered_sync", TierMode::Tiered).sync(),
        Mode::new("tiered_sync_checked", TierMode::Tiered)
            .unguarded()
            .sync(),
        Mode::new("tiered_sync_mixed", TierMode::Tiered)
            .masked(seed)
            .sync()
            .counting()
            .interruptible(),
        Mode::new("tiered_sync_wide", TierMode::Tiered)
            .sync()
            .wide(),
        Mode::new("tiered_sync_2tier", TierMode::Tiered)
            .sync()
            .without_baseline(),
        Mode::new("tiered", TierMode::Tiered),
    ];
    let mut trials = Vec::new();
    for mode in modes {
        for path in &files {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let opts = RunOptions {
                config: mode.config.clone(),
                precompile: mode.precompile,
                ..RunOptions::default()
            };
            let (name, mask) = (mode.name, mode.mask);
            let path = path.clone();
            trials.push(Trial::test(
                format!("wasm_2_0::{name}::{stem}"),
                move || run_script(path, opts, mask),
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// The seed of the mixed mode: `TIERUP_TEST_SEED`, or one drawn from the clock.
fn seed() -> u64 {
    if let Some(s) = std::env::var("TIERUP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 % 1_000_000)
}

fn run_script(path: PathBuf, opts: RunOptions, seed: Option<u64>) -> Result<(), Failed> {
    let report = with_big_stack(move || run_file(&path, &opts))?;
    if report.ok() {
        return Ok(());
    }
    let mut msg = match seed {
        Some(seed) => format!("(mixed tiers, TIERUP_TEST_SEED={seed}) "),
        None => String::new(),
    };
    msg += &format!(
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
