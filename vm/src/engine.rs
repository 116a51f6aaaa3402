//! [`Engine`]: the configuration shared by modules and stores, the engine-wide signature
//! registry that gives every distinct [`FuncType`] one canonical `u32` id, the tiers (as
//! `tierup_abi::Compiler`s) and the tier each function runs in, and the adapters through
//! which machine code calls interpreted and host functions.

use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Mutex, RwLock};
use tierup_abi::{Compiler, Tier};

use crate::Result;
use crate::code::{CodeMemory, CodeOwner, PerfSinks};
use crate::config::{Config, TierMode};
use crate::interrupt::Interrupts;
use crate::tiering::workers::Workers;
use crate::types::FuncType;

/// Canonical signature ids, one per distinct function type.
#[derive(Default)]
struct Signatures {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

struct EngineInner {
    config: Config,
    signatures: RwLock<Signatures>,
    interp: crate::tiers::Interpreter,
    /// The optimizing tier, in the modes that use it (and in the baseline mode, for the
    /// adapters).
    optimizing: Option<Box<dyn Compiler>>,
    /// The baseline tier, in the mode that uses it.
    baseline: Option<Box<dyn Compiler>>,
    /// Adapters from the register convention to the array entry, by signature id (see
    /// [`Engine::adapter`]), in the engine's own code memory.
    adapters: Mutex<HashMap<u32, usize>>,
    adapter_code: CodeMemory,
    /// The background workers: started with the engine in the modes that compile in the
    /// background, else on first use (by [`crate::Module::new_async`]).
    workers: OnceLock<Workers>,
    /// The perf map and jitdump writers ([`Config::perf_map`], [`Config::jitdump`]).
    perf: PerfSinks,
    /// The epoch ([`Engine::increment_epoch`]).
    epoch: AtomicU64,
    /// The stores that can be interrupted ([`Config::epoch_interruption`]), whose
    /// instances' interrupt words an increment of the epoch sets when it reaches their
    /// deadline; a dropped store's entry goes at the next increment.
    interruptible: Mutex<Vec<Weak<Interrupts>>>,
}

/// The interpreter's hotness budget, in instructions, where nothing tiers up but the
/// engine interrupts: a function that only calls (no loop, whose back edges return to
/// the trampoline often anyway) reports itself, and so passes the trampoline's epoch
/// check, after at most about this much work of its own.
const EPOCH_CHECK_WORK: u32 = 1 << 20;

/// The global context of modules and stores. Cheap to clone (shared).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Default for Engine {
    /// An engine of the default configuration; where the optimizing tier cannot be set up
    /// for this host (logged), one of the interpreter only.
    fn default() -> Engine {
        Engine::new(&Config::default()).unwrap_or_else(|e| {
            tracing::warn!(target: "tierup::tiering", "{e:#}; running in the interpreter only");
            let mut config = Config::default();
            config.tier(TierMode::Interp);
            Engine::from_config(config)
        })
    }
}

impl Engine {
    /// An engine with the given configuration; fails for tier modes not available yet.
    pub fn new(config: &Config) -> Result<Engine> {
        let optimizing = match config.tier {
            TierMode::Interp => None,
            TierMode::Baseline | TierMode::Optimizing | TierMode::Eager | TierMode::Tiered => {
                Some(crate::tiers::optimizing()?)
            }
        };
        let baseline = match config.tier {
            TierMode::Baseline => Some(crate::tiers::baseline()?),
            // The middle of the chain where the host has it; without it, functions go from
            // the interpreter straight to the optimizing tier.
            TierMode::Tiered if !config.baseline_tier => None,
            TierMode::Tiered => crate::tiers::baseline()
                .inspect_err(|e| {
                    tracing::info!(
                        target: "tierup::tiering",
                        "no baseline tier, tiering up from the interpreter to the optimizing tier: {e:#}"
                    )
                })
                .ok(),
            _ => None,
        };
        if optimizing.is_some() || baseline.is_some() {
            crate::code::install_signal_handlers();
            if config.epoch_interruption {
                crate::code::install_preemption();
            }
        }
        let perf = PerfSinks::new(config.perf_map, config.jitdump)
            .map_err(|e| anyhow::anyhow!("cannot create the files for perf: {e}"))?;
        let engine = Engine::build(config.clone(), optimizing, baseline, perf);
        let background = match config.tier {
            TierMode::Eager => true,
            TierMode::Tiered => !config.sync_tier_up,
            _ => false,
        };
        if background {
            engine.pool()?;
        }
        Ok(engine)
    }

    /// An engine of `config` without machine code, which cannot fail.
    fn from_config(config: Config) -> Engine {
        Engine::build(config, None, None, PerfSinks::default())
    }

    fn build(
        config: Config,
        optimizing: Option<Box<dyn Compiler>>,
        baseline: Option<Box<dyn Compiler>>,
        perf: PerfSinks,
    ) -> Engine {
        let budget = if config.tier.tiers_up() {
            let to_baseline = baseline.is_some() && config.tier == TierMode::Tiered;
            Some(config.interp_threshold(to_baseline))
        } else if config.epoch_interruption {
            Some(EPOCH_CHECK_WORK)
        } else {
            None
        };
        let interp = crate::tiers::Interpreter::new(budget, config.wide_interpreter);
        Engine {
            inner: Arc::new(EngineInner {
                config,
                signatures: RwLock::new(Signatures::default()),
                interp,
                optimizing,
                baseline,
                adapters: Mutex::new(HashMap::new()),
                adapter_code: CodeMemory::new(64 << 10),
                workers: OnceLock::new(),
                perf,
                epoch: AtomicU64::new(0),
                interruptible: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Advances the engine's epoch by one. Code of every store of the engine whose
    /// deadline ([`crate::Store::set_epoch_deadline`]) this reaches stops at its next
    /// function entry or loop header (or, in a loop of optimized code that makes no call,
    /// where the signal this sends to the thread running the store finds it), where the
    /// store traps with `interrupt` or calls its callback. Callable from any thread (not from a signal handler: it takes a lock to
    /// reach the stores); nothing happens unless [`Config::epoch_interruption`] is on.
    pub fn increment_epoch(&self) {
        let epoch = self.inner.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.interruptible.lock().retain(|store| {
            let Some(store) = store.upgrade() else {
                return false;
            };
            store.epoch_reached(epoch);
            true
        });
    }

    /// The engine's epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    /// Makes a store interruptible by [`Engine::increment_epoch`], where the engine
    /// interrupts.
    pub(crate) fn register_interruptible(&self, store: &Arc<Interrupts>) {
        if self.interrupts() {
            self.inner.interruptible.lock().push(Arc::downgrade(store));
        }
    }

    /// Whether code checks the epoch ([`Config::epoch_interruption`]).
    pub(crate) fn interrupts(&self) -> bool {
        self.inner.config.epoch_interruption
    }

    /// Whether the engine interrupts by signal too: where it interrupts and has machine
    /// code, whose entries and loops test nothing (`code::preempt`).
    pub(crate) fn preempts(&self) -> bool {
        self.interrupts() && (self.inner.optimizing.is_some() || self.inner.baseline.is_some())
    }

    /// Names the `len` bytes of machine code loaded at `start` for Linux `perf`, where the
    /// engine writes a perf map or jitdump file (the name is made only then); the jitdump
    /// file gets the bytes as loaded, relocations applied.
    ///
    /// # Safety
    ///
    /// `[start, start + len)` is code loaded into memory that stays readable during the
    /// call.
    pub(crate) unsafe fn code_loaded(
        &self,
        start: *const u8,
        len: usize,
        name: impl FnOnce() -> String,
    ) {
        if self.inner.perf.on() {
            // SAFETY: the caller's contract; the slice is not kept.
            let loaded = unsafe { core::slice::from_raw_parts(start, len) };
            self.inner.perf.loaded(start, loaded, &name());
        }
    }

    /// The background workers, if they were started.
    pub(crate) fn workers(&self) -> Option<&Workers> {
        self.inner.workers.get()
    }

    /// The background workers, started now if they were not
    /// ([`Config::worker_threads`] of them, and the baseline lane where the chain has the
    /// baseline tier).
    pub(crate) fn pool(&self) -> Result<&Workers> {
        if let Some(w) = self.inner.workers.get() {
            return Ok(w);
        }
        let threads = match self.inner.config.worker_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()) - 1,
            n => n,
        };
        let workers = Workers::start(threads, self.chain_has_baseline())
            .map_err(|e| anyhow::anyhow!("cannot start the compile workers: {e}"))?;
        // A racing thread may have started a pool first; then ours ends at once (its
        // sender is dropped) and the first one serves.
        Ok(self.inner.workers.get_or_init(|| workers))
    }

    /// See [`TierMode::tiers_up`].
    pub(crate) fn tiers_up(&self) -> bool {
        self.inner.config.tier.tiers_up()
    }

    /// The tier a hot function `func_index` of a module moves to next from code of tier
    /// `from`, if any. In the tiered mode the chain is interpreter -> baseline ->
    /// optimizing (without a baseline tier, interpreter -> optimizing), up to the
    /// function's top tier, which the tier mask picks among the three (the top of the
    /// chain without one). In the eager mode (where every function is queued for the
    /// optimizing tier already, and a hot report moves a long-running loop by on-stack
    /// replacement) it is the optimizing tier. `salt` tells the functions of different
    /// modules apart.
    pub(crate) fn tier_up_target(&self, salt: u64, func_index: u32, from: Tier) -> Option<Tier> {
        let top = match self.inner.config.tier {
            TierMode::Eager => Tier::Optimizing,
            TierMode::Tiered => self.top_tier(salt, func_index),
            _ => return None,
        };
        self.next_tier(from).filter(|&t| t <= top)
    }

    /// The tier after `from` in the tiered modes' chain.
    pub(crate) fn next_tier(&self, from: Tier) -> Option<Tier> {
        match from {
            Tier::Lazy | Tier::Interp if self.chain_has_baseline() => Some(Tier::Baseline),
            Tier::Lazy | Tier::Interp | Tier::Baseline => Some(Tier::Optimizing),
            _ => None,
        }
    }

    /// The highest tier function `func_index` reaches in the tiered mode: the optimizing
    /// tier, or with a tier mask one of interpreter, baseline (where the engine has it) and
    /// optimizing, picked reproducibly from the seed.
    fn top_tier(&self, salt: u64, func_index: u32) -> Tier {
        let Some(seed) = self.inner.config.tier_seed else {
            return Tier::Optimizing;
        };
        let tiers: &[Tier] = if self.chain_has_baseline() {
            &[Tier::Interp, Tier::Baseline, Tier::Optimizing]
        } else {
            &[Tier::Interp, Tier::Optimizing]
        };
        tiers[(pick(seed, salt, func_index) % tiers.len() as u64) as usize]
    }

    /// The budget of work, in wasm operators, that baseline code in the tiered mode spends
    /// before it reports itself hot (`CompileOptions::hotness_budget`), and that its slots
    /// start with ([`Config::baseline_tier_up_threshold`]; `benches/README.md`, "Tuning
    /// the chain").
    pub(crate) fn baseline_budget(&self) -> Option<u32> {
        self.chain_has_baseline()
            .then(|| self.inner.config.baseline_budget())
    }

    /// Whether code counts its calls ([`Config::count_calls`]).
    pub(crate) fn counts_calls(&self) -> bool {
        self.inner.config.count_calls
    }

    /// Whether the tiered mode's chain has the baseline tier (the mode is tiered, and the
    /// engine made the tier: `Config::baseline_tier` and the CPU allow it).
    fn chain_has_baseline(&self) -> bool {
        self.inner.config.tier == TierMode::Tiered && self.inner.baseline.is_some()
    }

    /// The value a new slot's hotness counter starts at.
    pub(crate) fn initial_hotness(&self) -> i32 {
        self.baseline_budget()
            .map_or(0, |b| b.min(i32::MAX as u32) as i32)
    }

    /// The compiler of `tier`, if the engine has it.
    pub(crate) fn compiler(&self, tier: Tier) -> Option<&dyn Compiler> {
        match tier {
            Tier::Interp => Some(&self.inner.interp),
            Tier::Baseline => self.inner.baseline.as_deref(),
            Tier::Optimizing => self.inner.optimizing.as_deref(),
            _ => None,
        }
    }

    /// The tier function `func_index` of a module runs in. `salt` distinguishes the
    /// functions of different modules when tiers are picked at random.
    pub(crate) fn tier_for(&self, salt: u64, func_index: u32) -> Tier {
        let config = &self.inner.config;
        let top = match config.tier {
            TierMode::Optimizing => Tier::Optimizing,
            TierMode::Baseline => Tier::Baseline,
            _ => return Tier::Interp,
        };
        match config.tier_seed {
            Some(seed) if !coin(seed, salt, func_index) => Tier::Interp,
            _ => top,
        }
    }

    /// The register entry of a record of code that has none of its own (interpreted, host
    /// and not yet translated functions): the runtime's resolving entry, which makes the
    /// adapter of the callee's signature ([`Engine::adapter`]) when machine code first
    /// calls it through a slot, or null in an engine without machine code. So an engine
    /// compiles the adapters that calls need, when they need them, and a module starts
    /// without compiling any.
    pub(crate) fn array_code_register_entry(&self) -> *const () {
        if self.inner.optimizing.is_some() {
            crate::code::resolving_entry()
        } else {
            core::ptr::null()
        }
    }

    /// The register entry of the adapter for functions of the type with canonical id
    /// `signature` (compiled on first use and kept for the engine's life), or null in an
    /// engine without machine code. The baseline tier makes it where the engine has that
    /// tier (in microseconds), the optimizing tier otherwise and for signatures with
    /// `v128` values, which the baseline tier does not handle.
    pub(crate) fn adapter(&self, signature: u32) -> Result<*const ()> {
        let Some(jit) = self.inner.optimizing.as_deref() else {
            return Ok(core::ptr::null());
        };
        let mut adapters = self.inner.adapters.lock();
        if let Some(&a) = adapters.get(&signature) {
            return Ok(a as *const ());
        }
        let ty = self.signature(signature);
        let params: Vec<_> = ty.params().iter().map(|t| t.to_wasmparser()).collect();
        let results: Vec<_> = ty.results().iter().map(|t| t.to_wasmparser()).collect();
        let quick = self
            .inner
            .baseline
            .as_deref()
            .and_then(|b| b.compile_adapter(&params, &results))
            .and_then(Result::ok);
        let code = match quick {
            Some(code) => code,
            None => jit
                .compile_adapter(&params, &results)
                .ok_or_else(|| anyhow::anyhow!("the {} tier makes no adapters", jit.tier().name()))?
                .map_err(|e| anyhow::anyhow!("cannot compile the adapter for {ty}: {e}"))?,
        };
        let base = self
            .inner
            .adapter_code
            .load(&code, CodeOwner::Adapter)
            .map_err(|e| anyhow::anyhow!("cannot load the adapter for {ty}: {e}"))?;
        // SAFETY: `load` copied all of the adapter's bytes to `base`, in the engine's code
        // memory, readable for the engine's life.
        unsafe { self.code_loaded(base, code.bytes.len(), || format!("tierup adapter {ty}")) };
        let entry = base as usize + code.register_entry as usize;
        adapters.insert(signature, entry);
        Ok(entry as *const ())
    }

    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The canonical id of `ty`, registering it on first use.
    pub(crate) fn signature_id(&self, ty: &FuncType) -> u32 {
        if let Some(id) = self.inner.signatures.read().ids.get(ty) {
            return *id;
        }
        let mut sigs = self.inner.signatures.write();
        if let Some(id) = sigs.ids.get(ty) {
            return *id;
        }
        let id = u32::try_from(sigs.types.len()).unwrap_or(u32::MAX);
        sigs.types.push(ty.clone());
        sigs.ids.insert(ty.clone(), id);
        id
    }

    /// The function type of canonical id `id`.
    pub(crate) fn signature(&self, id: u32) -> FuncType {
        self.inner
            .signatures
            .read()
            .types
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| FuncType::new([], []))
    }
}

/// A reproducible coin toss per (seed, module, function): the random tier mask.
fn coin(seed: u64, salt: u64, func_index: u32) -> bool {
    pick(seed, salt, func_index) & 1 == 0
}

/// A reproducible pseudo-random number for function `func_index` of the module of `salt`
/// under the tier mask of `seed`.
fn pick(seed: u64, salt: u64, func_index: u32) -> u64 {
    mix(seed ^ mix(salt ^ mix(u64::from(func_index))))
}

/// A 64-bit mixing function (the finaliser of SplitMix64).
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The adapter for the slot `callee`, called by machine code of the instance whose context
/// is `caller` (the resolving entry's question): the engine is the caller's, or where
/// there is no caller, the callee's.
///
/// # Safety
///
/// `callee` is a live slot; `caller` is null or the context of a live instance.
pub(crate) unsafe fn resolve_adapter(
    callee: *const tierup_abi::FuncEntry,
    caller: *mut tierup_abi::VmContext,
) -> Result<*const ()> {
    // SAFETY: the caller's contract.
    let (signature, own) = unsafe { ((*callee).type_id, (*callee).vmctx) };
    let vmctx = if caller.is_null() { own } else { caller };
    if vmctx.is_null() {
        anyhow::bail!("a host function was called through its register entry without a caller");
    }
    // SAFETY: a live instance's context points at its data (`instance.rs`).
    let inst = unsafe { &*((*vmctx).instance as *const crate::instance::InstanceData) };
    let entry = inst.module.inner.engine.adapter(signature)?;
    if entry.is_null() {
        anyhow::bail!("machine code ran in an engine without a machine-code tier");
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(mode: TierMode, seed: Option<u64>) -> Engine {
        let mut config = Config::new();
        config.tier(mode).random_tiers(seed);
        Engine::from_config(config)
    }

    #[test]
    fn random_tiers_split_the_functions_reproducibly() {
        let e = engine(TierMode::Optimizing, Some(7));
        let tiers: Vec<Tier> = (0..1000).map(|f| e.tier_for(3, f)).collect();
        let optimized = tiers.iter().filter(|t| **t == Tier::Optimizing).count();
        assert!(
            (400..600).contains(&optimized),
            "{optimized} of 1000 optimized"
        );
        assert!(
            tiers
                .iter()
                .all(|t| matches!(t, Tier::Optimizing | Tier::Interp))
        );
        let again = engine(TierMode::Optimizing, Some(7));
        assert!((0..1000).all(|f| again.tier_for(3, f) == tiers[f as usize]));
        let other_seed = engine(TierMode::Optimizing, Some(8));
        assert!((0..1000).any(|f| other_seed.tier_for(3, f) != tiers[f as usize]));
        let other_module: Vec<Tier> = (0..1000).map(|f| e.tier_for(4, f)).collect();
        assert_ne!(other_module, tiers, "the salt tells modules apart");
    }

    #[test]
    fn without_a_seed_every_function_runs_in_the_mode_tier() {
        let e = engine(TierMode::Optimizing, None);
        assert!((0..100).all(|f| e.tier_for(1, f) == Tier::Optimizing));
        let i = engine(TierMode::Interp, Some(1));
        assert!((0..100).all(|f| i.tier_for(1, f) == Tier::Interp));
    }
}
