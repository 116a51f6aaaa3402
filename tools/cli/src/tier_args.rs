//! The options of `tierup run` and `tierup wast` that select and tune the tiers.

use clap::Args;
use tierup::{Config, TierMode};

/// How functions move between tiers.
#[derive(Args, Debug)]
pub struct TierArgs {
    /// The execution tier(s): tiered (the default: start in the interpreter, compile the
    /// hot functions on background workers with the baseline tier and, as they stay hot,
    /// with Cranelift, move long-running loops up by on-stack replacement), interp,
    /// baseline or optimizing (each function compiled by that tier on its first call) or
    /// eager (start in the interpreter while the workers compile every function with
    /// Cranelift)
    #[arg(long, value_name = "MODE", default_value = "tiered")]
    pub tier: TierMode,

    /// The interpreted work, in interpreter instructions, that makes a function hot in
    /// the tiered mode (calls weigh the function's length, up to 64; loop iterations the
    /// length of the loop body; default 1000 where the next tier is the baseline tier,
    /// 100000 where it is the optimizing tier); 0 makes every function hot at its first
    /// call, in every tier
    #[arg(long, value_name = "N")]
    pub tier_up_threshold: Option<u32>,

    /// The work, in wasm operators, that makes baseline code hot in the tiered mode
    /// (counted like --tier-up-threshold; default 3000000, or 0 with a threshold of 0)
    #[arg(long, value_name = "N")]
    pub baseline_tier_up_threshold: Option<u32>,

    /// Compile a hot function at once on the thread that runs it, not on a worker
    #[arg(long)]
    pub sync_tier_up: bool,

    /// In the tiered mode, move hot functions from the interpreter straight to the
    /// optimizing tier, without the baseline tier between them
    #[arg(long)]
    pub no_baseline_tier: bool,

    /// The number of background compile workers (default: one less than the cores, at
    /// least one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub workers: usize,

    /// A random per-function tier mask, reproducible from SEED: with `--tier optimizing`
    /// or `baseline` about half the functions are interpreted, with `--tier tiered` a
    /// third each stop in the interpreter, in baseline code and in optimized code
    #[arg(long, value_name = "SEED")]
    pub random_tiers: Option<u64>,
}

impl TierArgs {
    /// Sets these options in `config`.
    pub fn apply(&self, config: &mut Config) {
        config.tier(self.tier);
        if let Some(n) = self.tier_up_threshold {
            config.tier_up_threshold(n);
        }
        config
            .sync_tier_up(self.sync_tier_up)
            .baseline_tier(!self.no_baseline_tier)
            .baseline_tier_up_threshold(self.baseline_tier_up_threshold)
            .worker_threads(self.workers)
            .random_tiers(self.random_tiers);
    }
}
