//! [`Config`]: the settings of an [`crate::Engine`] (tier mode and resource limits), and
//! [`TierMode`], which selects the tiers that run code.

use core::fmt;
use core::str::FromStr;

/// Which tiers run code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TierMode {
    /// The register-based interpreter only.
    Interp,
    /// The baseline JIT: every function is compiled by the single-pass baseline tier on
    /// its first call, on the calling thread; a function it does not compile yet (one
    /// that uses SIMD) is compiled by the optimizing tier instead, as the tiered mode's
    /// chain skips the baseline tier for it, and says so in an event.
    Baseline,
    /// The optimizing JIT only: every function is compiled on its first call, on the
    /// calling thread; one beyond the tier's limits (a multi-megabyte body whose frame
    /// would not fit the wasm stack, see `tierup-optimizing`'s crate docs) runs in the
    /// interpreter, and says so in an event.
    Optimizing,
    /// The default: every function starts in the interpreter, and the functions that get
    /// hot (by calls and loop iterations, see [`Config::tier_up_threshold`]) are compiled
    /// on background workers and published while the program runs, first by the baseline
    /// tier, whose code counts its own hotness, then, as they stay hot, by the optimizing
    /// tier ([`Config::baseline_tier`]); a long-running loop moves up by on-stack
    /// replacement, from the interpreter into baseline code and from there into optimized
    /// code.
    #[default]
    Tiered,
    /// Start in the interpreter and compile every function with the optimizing tier on
    /// background workers from instantiation on, each published into the slots of the live
    /// instances as soon as it is ready; a loop still running in the interpreter once its
    /// function's code is ready moves into it by on-stack replacement, as in `Tiered`.
    Eager,
}

impl TierMode {
    /// Whether functions move to other tiers while they run (the tiered and eager modes):
    /// the interpreter counts their hotness, and a new instance starts with the best code
    /// compiled so far.
    pub(crate) fn tiers_up(self) -> bool {
        matches!(self, TierMode::Tiered | TierMode::Eager)
    }

    /// The lower-case name (`interp`, `baseline`, `optimizing`, `tiered`, `eager`).
    pub fn name(self) -> &'static str {
        match self {
            TierMode::Interp => "interp",
            TierMode::Baseline => "baseline",
            TierMode::Optimizing => "optimizing",
            TierMode::Tiered => "tiered",
            TierMode::Eager => "eager",
        }
    }
}

impl fmt::Display for TierMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TierMode {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<TierMode> {
        Ok(match s {
            "interp" => TierMode::Interp,
            "baseline" => TierMode::Baseline,
            "optimizing" => TierMode::Optimizing,
            "tiered" => TierMode::Tiered,
            "eager" => TierMode::Eager,
            _ => anyhow::bail!(
                "unknown tier mode `{s}` (expected interp, baseline, optimizing, tiered or eager)"
            ),
        })
    }
}

/// Engine settings, set with builder methods.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) tier: TierMode,
    pub(crate) max_memory_pages: u32,
    pub(crate) max_table_elements: u32,
    pub(crate) max_call_depth: usize,
    pub(crate) lazy_validation: bool,
    pub(crate) huge_pages: bool,
    pub(crate) guard_regions: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) tier_seed: Option<u64>,
    pub(crate) worker_threads: usize,
    pub(crate) tier_up_threshold: Option<u32>,
    pub(crate) sync_tier_up: bool,
    pub(crate) baseline_tier: bool,
    pub(crate) baseline_threshold: Option<u32>,
    pub(crate) perf_map: bool,
    pub(crate) jitdump: bool,
    pub(crate) count_calls: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) wide_interpreter: bool,
}

/// The default of [`Config::tier_up_threshold`] where the next tier is the optimizing one
/// (the chain without the baseline tier, and the eager mode).
pub const DEFAULT_TIER_UP_THRESHOLD: u32 = 100_000;

/// The default of [`Config::tier_up_threshold`] where the next tier is the baseline tier:
/// its compile is so cheap that a function leaves the interpreter after little work.
pub const DEFAULT_TIER_UP_THRESHOLD_TO_BASELINE: u32 = 1_000;

/// The default of [`Config::baseline_tier_up_threshold`].
pub const DEFAULT_BASELINE_TIER_UP_THRESHOLD: u32 = 3_000_000;

impl Default for Config {
    fn default() -> Config {
        Config {
            tier: TierMode::Tiered,
            max_memory_pages: 65536,
            max_table_elements: 10_000_000,
            max_call_depth: 20_000,
            lazy_validation: false,
            huge_pages: true,
            guard_regions: true,
            max_wasm_stack: 1 << 20,
            tier_seed: None,
            worker_threads: 0,
            tier_up_threshold: None,
            sync_tier_up: false,
            baseline_tier: true,
            baseline_threshold: None,
            perf_map: false,
            count_calls: false,
            epoch_interruption: false,
            wide_interpreter: false,
            jitdump: false,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Config {
        Config::default()
    }

    /// Selects the tiers that run code (default [`TierMode::Tiered`]).
    pub fn tier(&mut self, mode: TierMode) -> &mut Self {
        self.tier = mode;
        self
    }

    /// The largest number of pages any memory may have (default 65536). `memory.grow`
    /// beyond it returns -1; a memory whose minimum exceeds it cannot be created.
    pub fn max_memory_pages(&mut self, pages: u32) -> &mut Self {
        self.max_memory_pages = pages.min(65536);
        self
    }

    /// The largest number of elements any table may have (default 10,000,000).
    pub fn max_table_elements(&mut self, elements: u32) -> &mut Self {
        self.max_table_elements = elements;
        self
    }

    /// The number of interpreted wasm frames a thread may have live at once (default
    /// 20,000).
    pub fn max_call_depth(&mut self, depth: usize) -> &mut Self {
        self.max_call_depth = depth;
        self
    }

    /// Defers the validation of each function body to its first call (default: off).
    ///
    /// Off, [`crate::Module::new`] validates the whole module, as the WebAssembly
    /// specification requires, and rejects a module with any invalid function. On, it
    /// validates everything but the function bodies; a body is validated just before its
    /// first translation, and an invalid one makes that call (and every later one) trap
    /// with a compile error that carries the validation message, while the module's
    /// other functions run. This starts large modules sooner when most functions are
    /// never called (the same trade as wasmi's lazy compilation mode).
    pub fn lazy_validation(&mut self, lazy: bool) -> &mut Self {
        self.lazy_validation = lazy;
        self
    }

    /// The bytes of host stack wasm may use below the point where Rust first called into it
    /// (default 1 MiB). Machine code checks the limit in every function's prologue and the
    /// interpreter when it is entered; beyond it a call traps with `call stack exhausted`.
    /// The limit never comes closer than 512 KiB to the end of the thread's stack, which
    /// stays for the runtime and host functions.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// The number of background compile workers of the modes that have them (default 0:
    /// one less than the cores, at least one). Where the tiered chain has the baseline
    /// tier, one more thread takes only its compiles (microseconds each), so that a warm
    /// function leaves the interpreter while the workers are busy with optimizing ones.
    pub fn worker_threads(&mut self, threads: usize) -> &mut Self {
        self.worker_threads = threads;
        self
    }

    /// How much interpreted work makes a function hot in [`TierMode::Tiered`], in
    /// interpreter instructions (default [`DEFAULT_TIER_UP_THRESHOLD_TO_BASELINE`] where
    /// the next tier is the baseline tier, [`DEFAULT_TIER_UP_THRESHOLD`] where it is the
    /// optimizing tier: `benches/README.md`, "Tuning the chain"). A function's
    /// budget is spent at each call (by the function's length, up to 64 instructions) and
    /// at each backward branch (by the length of the loop body), as V8 and SpiderMonkey
    /// weigh it; when it runs out, the function is queued for the next tier of the chain
    /// (and, when it is still running a loop once that code is ready, moved into it there
    /// by on-stack replacement), and the budget starts again. Baseline code counts the same
    /// way in wasm operators, with its own budget ([`Config::baseline_tier_up_threshold`]).
    /// 0 makes every function hot at its first call, in every tier (unless
    /// [`Config::baseline_tier_up_threshold`] says otherwise).
    pub fn tier_up_threshold(&mut self, instructions: u32) -> &mut Self {
        self.tier_up_threshold = Some(instructions);
        self
    }

    /// The interpreter's threshold, for a chain whose next tier after the interpreter is
    /// the baseline tier or not.
    pub(crate) fn interp_threshold(&self, to_baseline: bool) -> u32 {
        self.tier_up_threshold.unwrap_or(if to_baseline {
            DEFAULT_TIER_UP_THRESHOLD_TO_BASELINE
        } else {
            DEFAULT_TIER_UP_THRESHOLD
        })
    }

    /// Compiles a hot function on the thread that runs it, at once, instead of on a
    /// background worker (default: off). For tests: which code runs where becomes
    /// deterministic, and with a threshold of 0 every function runs baseline code from its
    /// second call and optimized code from its third, and every loop moves into baseline
    /// code at its first back edge and on into optimized code at once.
    pub fn sync_tier_up(&mut self, on: bool) -> &mut Self {
        self.sync_tier_up = on;
        self
    }

    /// Whether the tiered mode's chain has the baseline tier between the interpreter and
    /// the optimizing tier (default: on, where the CPU has what its code needs). Off, hot
    /// functions go from the interpreter straight to the optimizing tier.
    pub fn baseline_tier(&mut self, on: bool) -> &mut Self {
        self.baseline_tier = on;
        self
    }

    /// How much work baseline code does before it asks for the optimizing tier, in wasm
    /// operators, counted like the interpreter's threshold (calls by the function's length
    /// up to 64 plus 32 for the call, loop iterations by the body's length). Default
    /// (`None`): [`DEFAULT_BASELINE_TIER_UP_THRESHOLD`], or 0 where
    /// [`Config::tier_up_threshold`] is 0. 0 makes baseline code hot at once.
    pub fn baseline_tier_up_threshold(&mut self, operators: Option<u32>) -> &mut Self {
        self.baseline_threshold = operators;
        self
    }

    /// The work that makes baseline code hot ([`Config::baseline_tier_up_threshold`]).
    pub(crate) fn baseline_budget(&self) -> u32 {
        self.baseline_threshold
            .unwrap_or(match self.tier_up_threshold {
                Some(0) => 0,
                _ => DEFAULT_BASELINE_TIER_UP_THRESHOLD,
            })
    }

    /// Reserves a guard region with every linear memory (default: on).
    ///
    /// On, each memory reserves 8 GiB of address space (4 GiB it can grow into, then 4 GiB
    /// never accessible), so machine code needs no bounds check for an access whose
    /// static offset is below 4 GiB: one beyond the memory faults, and the fault becomes
    /// `out of bounds memory access`. Where the reservation fails, that memory has no guard
    /// and code run with it checks every access. Off, memories reserve only their maximum
    /// size and all code checks bounds explicitly (less address space, slower code).
    pub fn guard_regions(&mut self, on: bool) -> &mut Self {
        self.guard_regions = on;
        self
    }

    /// A per-function tier mask for tests, picked at random, reproducibly from `seed`: in
    /// [`TierMode::Optimizing`] and [`TierMode::Baseline`] about half of the functions are
    /// interpreted, so calls cross tiers in every direction; in [`TierMode::Tiered`] each
    /// function's top tier is one of interpreter, baseline and optimizing, a third each
    /// (however hot, a function goes no higher). `None` (the default) lets every function reach the
    /// mode's top tier.
    pub fn random_tiers(&mut self, seed: Option<u64>) -> &mut Self {
        self.tier_seed = seed;
        self
    }

    /// Asks the host to back linear memories with transparent huge pages (default: on).
    ///
    /// On Linux this advises the kernel (`madvise(MADV_HUGEPAGE)`) that each memory's
    /// reservation may use 2 MiB pages, which the kernel then does where the system allows
    /// it (`/sys/kernel/mm/transparent_hugepage/enabled` set to `madvise` or `always`).
    /// Programs that work over megabytes of memory take fewer page faults and TLB misses;
    /// the cost is resident memory that grows in steps of up to 2 MiB, zeroed when first
    /// touched. Off, or on other systems, memories use the base page size.
    pub fn huge_pages(&mut self, on: bool) -> &mut Self {
        self.huge_pages = on;
        self
    }

    /// Writes the perf map `/tmp/perf-PID.map` (default: off): a line per piece of
    /// machine code as it is loaded, `START SIZE NAME`, so that `perf report` names the
    /// samples in JIT code (`wasm[MODULE]::FUNCTION (TIER)`). The engine fails to build
    /// where the file cannot be created.
    pub fn perf_map(&mut self, on: bool) -> &mut Self {
        self.perf_map = on;
        self
    }

    /// Writes a jitdump file `jit-PID.dump` in the working directory (default: off): each
    /// piece of machine code with its name and load time, for `perf record -k mono`
    /// followed by `perf inject --jit`, which makes the code itself visible to `perf
    /// report` and `perf annotate`. The engine fails to build where the file cannot be
    /// created.
    pub fn jitdump(&mut self, on: bool) -> &mut Self {
        self.jitdump = on;
        self
    }

    /// Counts every function's calls (default: off), in every tier: the code the engine
    /// makes increments a counter of the function's slot at its entry, which
    /// [`Store::tier_profile`](crate::Store::tier_profile) reads (the calls column of the
    /// tier report). Off, the code has no trace of it; on, a call costs an increment more.
    pub fn count_calls(&mut self, on: bool) -> &mut Self {
        self.count_calls = on;
        self
    }

    /// Lets the embedder stop running wasm (default off): when the engine's epoch
    /// ([`Engine::increment_epoch`](crate::Engine::increment_epoch)) reaches a store's
    /// deadline ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)), its code
    /// stops at the next function entry or loop header, in every tier, and traps with
    /// `interrupt` or calls the store's callback
    /// ([`Store::epoch_deadline_callback`](crate::Store::epoch_deadline_callback)). Off, the
    /// code has no trace of it; on, machine code tests one word only where a libcall
    /// returns (optimized code: at the header of a loop that makes one) and at OSR entries,
    /// a signal sent to the thread running the store (`SIGURG`, passed on to an earlier
    /// handler of the embedder's where it is not ours) stops it anywhere else
    /// (`benches/README.md` has the cost), and the interpreter tests nothing on its
    /// instructions (it tests where it returns to its trampoline). A callback that code stopped by the signal calls may
    /// change the store (grow a table, write memory or globals): nothing the code holds
    /// dangles, but the loop it stopped in may go on with values it read before.
    pub fn epoch_interruption(&mut self, on: bool) -> &mut Self {
        self.epoch_interruption = on;
        self
    }

    /// Interprets every function in the interpreter's wide register form (default off:
    /// only a function whose registers do not fit the compact form's 16-bit operands, see
    /// `tierup-interp`'s crate docs). For testing the wide form: it runs the same code
    /// with larger instructions, a little slower.
    #[doc(hidden)]
    pub fn wide_interpreter(&mut self, on: bool) -> &mut Self {
        self.wide_interpreter = on;
        self
    }

    /// The selected tier mode.
    pub fn tier_mode(&self) -> TierMode {
        self.tier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_mode_names_round_trip() {
        for mode in [
            TierMode::Interp,
            TierMode::Baseline,
            TierMode::Optimizing,
            TierMode::Tiered,
            TierMode::Eager,
        ] {
            assert_eq!(mode.to_string().parse::<TierMode>().unwrap(), mode);
        }
        assert!("fast".parse::<TierMode>().is_err());
    }

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.tier_mode(), TierMode::Tiered);
        assert_eq!(TierMode::default(), TierMode::Tiered);
        assert_eq!(c.interp_threshold(false), DEFAULT_TIER_UP_THRESHOLD);
        assert_eq!(
            c.interp_threshold(true),
            DEFAULT_TIER_UP_THRESHOLD_TO_BASELINE
        );
        assert_eq!(c.baseline_budget(), DEFAULT_BASELINE_TIER_UP_THRESHOLD);
        let mut zero = Config::default();
        zero.tier_up_threshold(0);
        assert_eq!(
            (zero.interp_threshold(true), zero.baseline_budget()),
            (0, 0)
        );
        assert!(!c.sync_tier_up);
        assert_eq!(c.max_memory_pages, 65536);
        assert_eq!(c.max_table_elements, 10_000_000);
        assert_eq!(c.max_call_depth, 20_000);
    }
}
