//! The tier manager: which function moves to which tier when, compiled where, and
//! published how; and the low-level handles of slots and code records ([`SlotHandle`],
//! [`CodeHandle`]) for the tier-swap tests.
//!
//! # The path of a hot function
//!
//! 1. **Counting** happens where the work is, in the tier that runs the function (the
//!    interpreter: `tierup_interp`'s crate docs; baseline code: `tierup_baseline`'s, in
//!    the function's slot, with a budget of its own,
//!    [`crate::Config::baseline_tier_up_threshold`]). When a function's budget runs out, the tier calls the `hot`
//!    libcall with the function, the OSR point it stands at
//!    (`tierup_abi::vmctx::NO_OSR` at its entry) and its own tier, and `hot` decides:
//!    the *target* is the next tier of the chain interpreter -> baseline -> optimizing
//!    after the reporting one (`Engine::tier_up_target`), up to the function's top tier,
//!    passing over a tier whose compile of the function failed (a function with SIMD goes
//!    from the interpreter to the optimizing tier).
//! 2. **Requests** are per module function and kind of code, not per instance: a
//!    function hot in two instances of its module is compiled once and published to
//!    both. Each (function, kind of code) has a request state (`Requests`): idle, queued,
//!    compiling, done or failed; the transitions are compare-and-swaps, so one thread
//!    queues it and one worker compiles it. A request is queued with the function's
//!    heat (how many times it ran out of budget); a queued function that gets hotter
//!    is queued again at its new heat (at powers of two), and the stale copy does
//!    nothing when a worker takes it.
//! 3. **Workers** (`workers`) take OSR entries first, then baseline compiles (short jobs:
//!    a warm function leaves the interpreter at once), then optimizing ones, the most
//!    urgent first: the most heat per byte of body (`ModuleInner::urgency`), so that a
//!    large function's compile of a hundred milliseconds does not keep the hot small ones
//!    waiting. They compile each with its tier, and publish the code into the function's
//!    slot in every live instance of the module with that kind of memory, by one atomic
//!    store each (`ModuleInner::compile_and_publish`); instances made later start with
//!    it. Running activations finish in the code they are in; the next call runs the
//!    new code. A failed compile leaves the function in its tier, for good, and says so
//!    in an event. A job holds its module weakly: a module dropped before a worker takes
//!    the job is not compiled, and a compile in progress keeps it alive only until the
//!    code is published into its (by then no) instances.
//! 4. **On-stack replacement** takes a long-running activation along. When a function
//!    reports itself hot from a loop header (or the code after a block end), an
//!    activation is running in the old tier there: besides the function's code, the
//!    manager asks the target tier for an OSR entry at that point at once (a job ahead of
//!    all others, so the activation does not wait for the function's code first), keeps
//!    it per (function, point, tier, kind of code), and hands it to the next report from
//!    that point, which moves the activation into it (`tierup_abi::osr`). So a loop
//!    entered once climbs the chain too: from the interpreter into the baseline tier's
//!    entry, whose counter later moves it into the optimizing tier's. A point a tier
//!    refuses is remembered and asked of the next tier instead; a function whose compile
//!    failed gets no OSR entries of that tier. The report's tier keeps an activation from
//!    being moved into an entry of its own tier. An OSR entry costs a compile of the whole
//!    function, so a function has one being made at a time (per tier and kind of code):
//!    a report from another of its loops meanwhile waits and asks again. And once an
//!    activation has moved into an entry, a later report from its point comes from a
//!    *new* activation (the one that moved runs no old code any more): the function is being called again and again,
//!    every call starting in the old tier, so its own code jumps ahead of every other job
//!    (`ModuleInner::reentered`). Yosys, which calls its passes' functions again and
//!    again, had its worker spend 80% of its time on OSR entries, entered thousands of
//!    times, before these two rules (`benches/README.md`, "Tuning the chain").
//!
//! With [`crate::Config::sync_tier_up`] the calling thread compiles at the report
//! instead of a worker (for tests: a function moves the moment it runs out of budget,
//! and with a threshold of 0 every function moves up one tier per call and every loop
//! enters its OSR entries at its first back edge). With [`crate::Config::random_tiers`],
//! each function's top tier is picked at random among the three.
//!
//! # Events
//!
//! Every step is a `tracing` event of target `tierup::tiering`, with the function's index
//! and name and the module's name: `queued` (with `heat`, and `at` for an OSR entry),
//! `compile start` and `compile finish` (with `worker`, `wasm_bytes`, and `micros` and
//! `code_bytes` at the finish), `published`, `compile failed`, `discarded` (the module was
//! dropped) and `OSR entered`. Their fields are only computed when a subscriber wants the
//! event. [`ChromeTrace`] turns them into a timeline (`tierup run --tier-log`),
//! [`TierReport`] into the tier report (`--tier-report`).
//!
//! # Profile
//!
//! What the events cannot say, how often each function was called and where the time
//! went, [`crate::Store::tier_profile`] reads from the code itself: the calls each slot
//! counted ([`crate::Config::count_calls`]) and, with a [`Sampler`] on the store's
//! thread, the CPU time sampled in each function and tier, in host functions and in the
//! runtime ([`TierProfile`]); [`TierReport::add_profile`] joins it to the report.

mod fields;
mod handles;
mod pending;
mod profile;
mod report;
mod trace;
pub(crate) mod workers;

pub use crate::code::Sampler;
pub use profile::{FunctionProfile, TierProfile};
pub use report::{
    CompileReport, FunctionReport, Report, SVG_MAX_FUNCTIONS, TierReport, TimeShare, tier_index,
};
pub use trace::{ChromeTrace, ChromeTraceGuard};

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};
use tierup_abi::vmctx::NO_OSR;
use tierup_abi::{FuncCode, Tier, VmContext};

pub use handles::{CodeHandle, SlotHandle};
pub use pending::{AsyncCompile, AsyncInstantiate};

use crate::instance::InstanceData;
use crate::module::{FuncCodeBox, KEYS, ModuleInner, key};
use workers::Priority;

/// A `tierup::tiering` event at `$level` about function `$func_index` of module `$module`,
/// with the fields every such event has (index, name, module name) and `$rest`.
macro_rules! event {
    ($level:ident, $module:expr, $func_index:expr, $($rest:tt)*) => {
        tracing::$level!(
            target: "tierup::tiering",
            func_index = $func_index,
            func = %$module.func_display_name($func_index),
            module = $module.module_name(),
            $($rest)*
        )
    };
}

/// What a worker does.
pub(crate) enum Job {
    /// Compile a function with a tier and publish it.
    Compile {
        module: Weak<ModuleInner>,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    },
    /// Compile the OSR entry of a function at a point with a tier and keep it for the
    /// next report.
    Osr {
        module: Weak<ModuleInner>,
        func_index: u32,
        at: u32,
        tier: Tier,
        bounds_checks: bool,
    },
    /// A task of the embedding API.
    Task(Box<dyn FnOnce() + Send>),
}

impl Job {
    /// The tier a compile job compiles with.
    pub(crate) fn tier(&self) -> Option<Tier> {
        match self {
            Job::Compile { tier, .. } | Job::Osr { tier, .. } => Some(*tier),
            Job::Task(_) => None,
        }
    }
}

/// The request state of one function's code of one kind.
const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const COMPILING: u8 = 2;
const DONE: u8 = 3;
const FAILED: u8 = 4;

/// What the manager knows of a module's functions.
pub(crate) struct Requests {
    /// The request state of each defined function's code of each kind (`module::key`).
    state: Box<[[AtomicU8; KEYS]]>,
    /// How many times each defined function ran out of its budget.
    heat: Box<[AtomicU32]>,
    /// The OSR entries asked for.
    osr: Mutex<OsrTable>,
    /// Whether each defined function's code was moved to the front of the queue
    /// ([`ModuleInner::reentered`]).
    hurried: Box<[AtomicBool]>,
    /// How many activations moved into an OSR entry.
    osr_entered: AtomicUsize,
    /// Reports from an inner loop point made while the entry at its outermost loop was
    /// ready, by (function, point).
    inner_waits: Mutex<FxHashMap<(u32, u32), u32>>,
}

/// An OSR entry's function, point, tier and kind of memory.
type OsrKey = (u32, u32, Tier, bool);

/// The OSR entries asked for, and which functions have one being made: a function has at
/// most one OSR entry of a tier and kind of memory queued or compiling at a time (an
/// entry costs a compile of the whole function; its other loops ask again later).
#[derive(Default)]
struct OsrTable {
    entries: FxHashMap<OsrKey, OsrEntry>,
    making: FxHashSet<(u32, Tier, bool)>,
    /// The entries an activation has moved into.
    entered: FxHashSet<OsrKey>,
}

enum OsrEntry {
    Queued,
    Ready(FuncCodeBox),
    Failed,
}

impl Requests {
    /// The state of a module with `defined` functions, none requested.
    pub fn new(defined: usize) -> Requests {
        Requests {
            state: (0..defined).map(|_| Default::default()).collect(),
            heat: (0..defined).map(|_| AtomicU32::new(0)).collect(),
            osr: Mutex::default(),
            hurried: (0..defined).map(|_| AtomicBool::new(false)).collect(),
            osr_entered: AtomicUsize::new(0),
            inner_waits: Mutex::default(),
        }
    }

    /// What the manager did so far.
    pub fn stats(&self) -> TieringStats {
        let mut stats = TieringStats {
            osr_entered: self.osr_entered.load(Ordering::Relaxed),
            ..TieringStats::default()
        };
        for s in self.state.iter().flatten() {
            match s.load(Ordering::Acquire) {
                QUEUED => stats.queued += 1,
                COMPILING => stats.compiling += 1,
                DONE => stats.compiled += 1,
                FAILED => stats.failed += 1,
                _ => {}
            }
        }
        for e in self.osr.lock().entries.values() {
            match e {
                OsrEntry::Queued => stats.osr_queued += 1,
                OsrEntry::Ready(_) => stats.osr_entries += 1,
                OsrEntry::Failed => stats.osr_failed += 1,
            }
        }
        stats
    }
}

/// What the tier manager did with a module's functions so far
/// ([`crate::Module::tiering_stats`]). A function counts once per kind of code (memories
/// with and without a guard region).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TieringStats {
    /// Functions waiting for a worker.
    pub queued: usize,
    /// Functions being compiled.
    pub compiling: usize,
    /// Functions compiled by the tier manager (and published).
    pub compiled: usize,
    /// Functions whose compile failed (they stay in their tier).
    pub failed: usize,
    /// OSR entries waiting for a worker.
    pub osr_queued: usize,
    /// OSR entries compiled.
    pub osr_entries: usize,
    /// OSR entries the compiler refused or failed on.
    pub osr_failed: usize,
    /// Activations that moved into an OSR entry.
    pub osr_entered: usize,
}

/// Moves a request from `from` to `to`; whether it was in `from`.
fn claim(state: &AtomicU8, from: u8, to: u8) -> bool {
    state
        .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// See `libcalls::hot`: code of tier `from` of a function of the instance of `vmctx` ran
/// out of its budget at OSR point `at` (or its entry). Returns the OSR entry to move the
/// activation into, or null to go on where it is.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
pub(crate) unsafe fn hot(
    vmctx: *mut VmContext,
    func_index: u32,
    at: u32,
    outer: u32,
    from: Tier,
) -> *const FuncCode {
    // SAFETY: a live instance's context points at its data (`instance.rs`).
    let inst = unsafe { &*((*vmctx).instance as *const InstanceData) };
    let module = &inst.module.inner;
    let (entry, poll) = module.hot(func_index, at, outer, from, inst.bounds_checks);
    // Code that counts in its slot (baseline code) reports again sooner while the
    // activation waits for an OSR entry, so that it moves soon after the entry is ready
    // instead of a whole budget later; or at the next loop header it passes.
    if from == Tier::Baseline {
        let slot = module
            .defined_index(func_index)
            .and_then(|d| inst.entries.get(d));
        if let (Some(slot), Some(budget)) = (slot, module.engine.baseline_budget()) {
            let request = if poll == Poll::Outer { -1 } else { 0 };
            slot.osr_request.store(request, Ordering::Relaxed);
            if poll != Poll::Later {
                let left = (budget / OSR_POLL_DIVISOR).min(i32::MAX as u32) as i32;
                slot.hotness.store(left, Ordering::Relaxed);
            }
        }
    }
    entry
}

/// When the reporting code is to report again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Poll {
    /// After its whole budget.
    Later,
    /// After a small part of it: an OSR entry it waits for is being compiled.
    Soon,
    /// At the next outermost loop header it passes, where an OSR entry is ready (through
    /// the slot's `osr_request`), and after a small part of its budget elsewhere.
    Outer,
}

/// What [`ModuleInner::osr_lookup`] found.
enum Lookup {
    Ready(*const FuncCode, Tier),
    Pending,
    None,
}

/// How many reports from inner loops an activation makes, once the entry at its outermost
/// loop is ready, before it moves at an inner loop instead (a sixteenth of the budget
/// each: one budget in all, for an outer loop that does not come round). Tuned on the
/// benchmark programs: a quarter of the budget left matmul at its inner loop, 8% slower
/// (`benches/README.md`, "Tuning the chain").
const OUTER_PATIENCE: u32 = 16;

/// While an activation of baseline code waits for an OSR entry, it reports itself every
/// this much of its budget.
const OSR_POLL_DIVISOR: u32 = 16;

/// The bytes of body every compile costs besides its body's, in [`ModuleInner::urgency`]
/// (a compile has a fixed cost, and a tiny function's heat is no more certain).
const URGENCY_BYTES: u64 = 256;

impl ModuleInner {
    /// See [`hot`]; also says when the reporting code is to report again.
    fn hot(
        self: &Arc<Self>,
        func_index: u32,
        at: u32,
        outer: u32,
        from: Tier,
        bounds_checks: bool,
    ) -> (*const FuncCode, Poll) {
        let none = (core::ptr::null(), Poll::Later);
        let Some(tier) = self.target(func_index, from, bounds_checks) else {
            return none;
        };
        let (Some(defined), Some(state)) = (
            self.defined_index(func_index),
            self.request_state(func_index, tier, bounds_checks),
        ) else {
            return none;
        };
        let heat = self.requests.heat[defined]
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        match state.load(Ordering::Acquire) {
            IDLE => self.request(func_index, tier, bounds_checks, heat),
            QUEUED if heat.is_power_of_two() => {
                // Hotter than when it was queued: queue it again, nearer the front.
                self.submit(func_index, tier, bounds_checks, heat);
            }
            _ => {}
        }
        if at == NO_OSR {
            return none;
        }
        // Loaded again: a synchronous request is done (or failed) by now. A report from a
        // loop asks for the OSR entry at once, whether or not the function's code is ready:
        // the activation in the loop needs the entry, not the code, and the workers take
        // OSR entries first, so it moves up one compile sooner (a function entered once
        // never uses its code anyway).
        match state.load(Ordering::Acquire) {
            FAILED => none,
            _ => self.osr_report(func_index, at, outer, tier, bounds_checks),
        }
    }

    /// The tier a report from code of tier `from` asks for: the next of the chain up to
    /// the function's top, passing over a tier that failed to compile the function (the
    /// baseline tier refuses SIMD: such a function goes from the interpreter to the
    /// optimizing tier).
    fn target(&self, func_index: u32, from: Tier, bounds_checks: bool) -> Option<Tier> {
        let mut tier = self.engine.tier_up_target(self.salt, func_index, from)?;
        while self
            .request_state(func_index, tier, bounds_checks)?
            .load(Ordering::Acquire)
            == FAILED
        {
            tier = self.engine.tier_up_target(self.salt, func_index, tier)?;
        }
        Some(tier)
    }

    /// Asks for `tier` code of `func_index`: compiles it now with synchronous tier-up,
    /// else queues it for the workers.
    fn request(self: &Arc<Self>, func_index: u32, tier: Tier, bounds_checks: bool, heat: u32) {
        let Some(state) = self.request_state(func_index, tier, bounds_checks) else {
            return;
        };
        if self.engine.config().sync_tier_up {
            if claim(state, IDLE, COMPILING) {
                self.compile_request(func_index, tier, bounds_checks);
            }
        } else if claim(state, IDLE, QUEUED) {
            self.submit(func_index, tier, bounds_checks, heat);
        }
    }

    /// A report from a loop found its OSR entry of `tier` ready and already entered once,
    /// so another activation of the function runs the lower tier's code there (the one
    /// that moved into the entry runs no such code any more): the function is called
    /// again and again, each call starting in the lower tier, and its own code of `tier`
    /// is worth more than any OSR entry. It goes to the front of the queue, once.
    fn reentered(self: &Arc<Self>, func_index: u32, tier: Tier, bounds_checks: bool) {
        let (Some(defined), Some(state)) = (
            self.defined_index(func_index),
            self.request_state(func_index, tier, bounds_checks),
        ) else {
            return;
        };
        if self.engine.config().sync_tier_up
            || state.load(Ordering::Acquire) != QUEUED
            || self.requests.hurried[defined].swap(true, Ordering::Relaxed)
        {
            return;
        }
        let heat = self.requests.heat[defined].load(Ordering::Relaxed);
        let urgency = self.urgency(func_index, heat);
        self.submit_at(
            func_index,
            tier,
            bounds_checks,
            heat,
            Priority::Reentered(urgency),
        );
    }

    /// Queues a compile of `func_index` with `tier` at `heat`.
    fn submit(self: &Arc<Self>, func_index: u32, tier: Tier, bounds_checks: bool, heat: u32) {
        // A baseline compile takes microseconds, an optimizing one milliseconds: the short
        // jobs go first, so that warm functions leave the interpreter at once.
        let priority = match tier {
            Tier::Baseline => Priority::Baseline(heat),
            _ => Priority::Function(self.urgency(func_index, heat)),
        };
        self.submit_at(func_index, tier, bounds_checks, heat, priority);
    }

    /// How much an optimizing compile of `func_index` at `heat` is worth per unit of its
    /// cost: the heat (the work the function did, in budgets) per byte of body, as a
    /// fixed-point number. The queue takes the hot small functions before a hot large
    /// one, whose compile would hold the worker (tens to hundreds of milliseconds) while
    /// they all wait (Yosys: `benches/README.md`, "Tuning the chain").
    fn urgency(&self, func_index: u32, heat: u32) -> u32 {
        let bytes = self.body_bytes(func_index) as u64 + URGENCY_BYTES;
        ((u64::from(heat) << 16) / bytes).min(u64::from(u32::MAX)) as u32
    }

    /// Queues a compile of `func_index` with `tier` at `heat` with `priority` (a copy of
    /// a job queued before is left to the workers, who skip what is no longer queued).
    fn submit_at(
        self: &Arc<Self>,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
        heat: u32,
        priority: Priority,
    ) {
        let Some(workers) = self.engine.workers() else {
            return;
        };
        event!(debug, self, func_index, tier = tier.name(), heat, "queued");
        workers.submit(
            Job::Compile {
                module: Arc::downgrade(self),
                func_index,
                tier,
                bounds_checks,
            },
            priority,
        );
    }

    /// Queues a compile with the optimizing tier of every defined function not requested
    /// before for this kind of memory (the eager mode, at instantiation).
    pub(crate) fn queue_all(self: &Arc<Self>, bounds_checks: bool) {
        if self.engine.config().tier != crate::TierMode::Eager {
            return;
        }
        let first = self.env.num_imported_funcs;
        for func_index in first..first + self.requests.state.len() as u32 {
            if self
                .request_state(func_index, Tier::Optimizing, bounds_checks)
                .is_some_and(|s| claim(s, IDLE, QUEUED))
            {
                self.submit(func_index, Tier::Optimizing, bounds_checks, 0);
            }
        }
    }

    /// Compiles and publishes a request this thread claimed (state `COMPILING`), with its
    /// events, and records the outcome.
    fn compile_request(&self, func_index: u32, tier: Tier, bounds_checks: bool) {
        let Some(state) = self.request_state(func_index, tier, bounds_checks) else {
            return;
        };
        let outcome = self.timed(func_index, tier, None, || {
            self.compile_and_publish(func_index, tier, bounds_checks)
        });
        state.store(if outcome { DONE } else { FAILED }, Ordering::Release);
    }

    /// Runs `compile` (which returns the bytes of code made) between a `compile start` and
    /// a `compile finish` or `compile failed` event; whether it succeeded. A panic of the
    /// compiler is a failure.
    fn timed(
        &self,
        func_index: u32,
        tier: Tier,
        at: Option<u32>,
        compile: impl FnOnce() -> crate::Result<usize>,
    ) -> bool {
        let worker = std::thread::current();
        let worker = worker.name().unwrap_or("unnamed");
        let wasm_bytes = self.body_bytes(func_index);
        event!(
            debug,
            self,
            func_index,
            tier = tier.name(),
            at,
            worker,
            wasm_bytes,
            "compile start"
        );
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(compile))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the compiler panicked")));
        let micros = started.elapsed().as_micros() as u64;
        match result {
            Ok(code_bytes) => {
                event!(
                    debug,
                    self,
                    func_index,
                    tier = tier.name(),
                    at,
                    worker,
                    micros,
                    wasm_bytes,
                    code_bytes,
                    "compile finish"
                );
                true
            }
            Err(e) => {
                event!(
                    warn,
                    self,
                    func_index,
                    tier = tier.name(),
                    at,
                    worker,
                    micros,
                    error = %format!("{e:#}"),
                    "compile failed: the function stays in its tier"
                );
                false
            }
        }
    }

    /// The OSR entry of `func_index` at `at` by `tier` or, where that tier failed to make
    /// it, by the next tier of the chain: ready, or asked for now (compiled at once with
    /// synchronous tier-up, else queued) and pending, or not to be had.
    fn osr_lookup(
        self: &Arc<Self>,
        func_index: u32,
        at: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Lookup {
        let osr_key = (func_index, at, tier, bounds_checks);
        {
            let mut table = self.requests.osr.lock();
            match table.entries.get(&osr_key) {
                Some(OsrEntry::Ready(code)) => return Lookup::Ready(code.record(), tier),
                Some(OsrEntry::Failed) => {
                    drop(table);
                    return match self.engine.tier_up_target(self.salt, func_index, tier) {
                        Some(next) => self.osr_lookup(func_index, at, next, bounds_checks),
                        None => Lookup::None,
                    };
                }
                Some(OsrEntry::Queued) => return Lookup::Pending,
                None => {}
            }
            if !table.making.insert((func_index, tier, bounds_checks)) {
                // Another entry of the function is being made: this point asks again.
                return Lookup::Pending;
            }
            table.entries.insert(osr_key, OsrEntry::Queued);
        }
        if !self.engine.config().sync_tier_up {
            if let Some(workers) = self.engine.workers() {
                event!(debug, self, func_index, tier = tier.name(), at, "queued");
                workers.submit(
                    Job::Osr {
                        module: Arc::downgrade(self),
                        func_index,
                        at,
                        tier,
                        bounds_checks,
                    },
                    Priority::Osr,
                );
            }
            return Lookup::Pending;
        }
        self.compile_osr_request(func_index, at, tier, bounds_checks);
        self.osr_lookup(func_index, at, tier, bounds_checks)
    }

    /// What a report from OSR point `at` gets: the entry there, if it is ready (counted,
    /// with its event), and when to report again. A report from an inner loop whose
    /// outermost enclosing loop is at `outer` asks for the entry there first: the
    /// optimizing tier's entry at an inner loop ran measurably slower than its entry at
    /// the outer one (lz: 20% on the whole run; why is not established). Once that entry is
    /// ready, the outer loop's header reports the next time the activation passes it
    /// ([`Poll::Outer`]) and moves it; after [`OUTER_PATIENCE`] reports from inner loops
    /// meanwhile it moves where it is.
    fn osr_report(
        self: &Arc<Self>,
        func_index: u32,
        at: u32,
        outer: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> (*const FuncCode, Poll) {
        if outer != at && outer != NO_OSR {
            match self.osr_lookup(func_index, outer, tier, bounds_checks) {
                Lookup::Ready(..) => {
                    let mut waits = self.requests.inner_waits.lock();
                    let n = waits.entry((func_index, at)).or_insert(0);
                    *n += 1;
                    if *n <= OUTER_PATIENCE {
                        return (core::ptr::null(), Poll::Outer);
                    }
                }
                Lookup::Pending => return (core::ptr::null(), Poll::Soon),
                Lookup::None => {}
            }
        }
        match self.osr_lookup(func_index, at, tier, bounds_checks) {
            Lookup::Ready(record, tier) => {
                let first = (self.requests.osr.lock().entered).insert((
                    func_index,
                    at,
                    tier,
                    bounds_checks,
                ));
                if !first {
                    self.reentered(func_index, tier, bounds_checks);
                }
                self.requests.osr_entered.fetch_add(1, Ordering::Relaxed);
                event!(
                    debug,
                    self,
                    func_index,
                    tier = tier.name(),
                    at,
                    "OSR entered"
                );
                (record, Poll::Later)
            }
            Lookup::Pending => (core::ptr::null(), Poll::Soon),
            Lookup::None => (core::ptr::null(), Poll::Later),
        }
    }

    /// Compiles the OSR entry of a request in state `Queued` and keeps the outcome.
    fn compile_osr_request(&self, func_index: u32, at: u32, tier: Tier, bounds_checks: bool) {
        // Set only when the compile succeeded.
        let mut made = None;
        self.timed(func_index, tier, Some(at), || {
            let (code, bytes) = self.compile_osr(func_index, at, tier, bounds_checks)?;
            made = Some(code);
            Ok(bytes)
        });
        let entry = made.map_or(OsrEntry::Failed, OsrEntry::Ready);
        let mut table = self.requests.osr.lock();
        table
            .entries
            .insert((func_index, at, tier, bounds_checks), entry);
        table.making.remove(&(func_index, tier, bounds_checks));
    }

    /// The bytes of defined function `func_index`'s body (0 for another function).
    fn body_bytes(&self, func_index: u32) -> usize {
        self.defined_index(func_index)
            .and_then(|d| self.env.bodies.get(d))
            .map_or(0, |b| b.end - b.start)
    }

    /// The module's name for events.
    pub(crate) fn module_name(&self) -> &str {
        self.info.name.as_deref().unwrap_or("<unknown>")
    }

    /// The index among the defined functions of `func_index`, if it is one.
    fn defined_index(&self, func_index: u32) -> Option<usize> {
        let defined = func_index.checked_sub(self.env.num_imported_funcs)? as usize;
        (defined < self.requests.state.len()).then_some(defined)
    }

    /// The request state of `func_index`'s code by `tier` for memories with
    /// (`bounds_checks` false) or without a guard region; `None` for a function that is
    /// not defined here or a tier with no code of its own.
    fn request_state(&self, func_index: u32, tier: Tier, bounds_checks: bool) -> Option<&AtomicU8> {
        let defined = self.defined_index(func_index)?;
        Some(&self.requests.state[defined][key(tier, bounds_checks)?])
    }
}

/// Runs one job on worker `worker`.
pub(crate) fn run_job(job: Job) {
    match job {
        Job::Task(task) => {
            // A task reports its own outcome; a panic in it is its own (it is caught so
            // that the worker lives on).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task));
        }
        Job::Compile {
            module,
            func_index,
            tier,
            bounds_checks,
        } => {
            let Some(module) = live(&module, func_index) else {
                return;
            };
            // A stale copy of a job queued again finds the request taken.
            if module
                .request_state(func_index, tier, bounds_checks)
                .is_some_and(|s| claim(s, QUEUED, COMPILING))
            {
                module.compile_request(func_index, tier, bounds_checks);
            }
        }
        Job::Osr {
            module,
            func_index,
            at,
            tier,
            bounds_checks,
        } => {
            if let Some(module) = live(&module, func_index) {
                module.compile_osr_request(func_index, at, tier, bounds_checks);
            }
        }
    }
}

/// The module of a job about `func_index`, unless it was dropped (then the job is
/// discarded, with an event).
fn live(module: &Weak<ModuleInner>, func_index: u32) -> Option<Arc<ModuleInner>> {
    let module = module.upgrade();
    if module.is_none() {
        tracing::debug!(
            target: "tierup::tiering",
            func_index,
            worker = std::thread::current().name().unwrap_or("unnamed"),
            "discarded: the module was dropped"
        );
    }
    module
}
