//! Differential runs: one program under every tier mode, compared, with the first
//! divergence named ([`compare`]; `tierup compare` on the command line).
//!
//! Three tiers that must agree bit for bit are three chances to be wrong, so each run is
//! compared with the first (the interpreter's, by default) on everything a program can
//! show: how it ended (results, trap code and message, `proc_exit` status, or the error
//! that stopped it before it ran), its stdout and stderr, the final bytes of every memory
//! of its instance (a hash, then the first differing address; for a memory over 64 MiB,
//! the first differing page) and the final value of every global.
//!
//! Two divergences are allowed, because the specification allows them, and normalised:
//!
//! * **NaN bit patterns.** An operation that makes a NaN may give any NaN of the
//!   specification's sets, so any NaN equals any NaN of the same type in results and
//!   globals, and in memory a differing word is passed over where both sides hold a NaN
//!   (as an `f32` in the aligned four bytes around the first difference, or as an `f64` in
//!   the aligned eight). `v128` values are compared bit for bit: their lanes' types are
//!   not known.
//! * **The depth of stack exhaustion.** Each tier's frames have their own size, so a run
//!   that ends in `call stack exhausted` is compared on that trap alone: how deep it went
//!   (and so what it wrote and printed on the way) depends on the tier. With
//!   [`Target::EveryExport`], the calls are compared up to the first that ends so, and
//!   nothing after it.
//!
//! Reference values compare by null-ness only (function identities are per store).
//! Nothing else is normalised: a program that reads the clock or random numbers differs
//! by nature, and one that writes files into a preopened directory sees its own earlier
//! runs' files. A run that passes [`Program::timeout`] is stopped by epoch interruption
//! (`interrupt`), which diverges from a run that ended in time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::wasi::{I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
use crate::{Config, Engine, Linker, Module, Result, Store, TierMode, Trap, TrapCode, Val};

/// One way of running the program.
#[derive(Clone, Debug)]
pub struct Mode {
    /// Its name in reports.
    pub name: String,
    /// The engine's configuration (epoch interruption is switched on for the timeout).
    pub config: Config,
}

impl Mode {
    /// A mode named `name` with `config`.
    pub fn new(name: impl Into<String>, config: Config) -> Mode {
        Mode {
            name: name.into(),
            config,
        }
    }
}

/// The modes [`compare`] runs by default: the interpreter (the reference), the baseline
/// and the optimizing tier alone, the eager mode, the default tiered mode, the tiered mode
/// with synchronous tier-up at threshold 0 (every function climbs at its first calls and
/// every loop moves up by OSR), the same without the baseline tier, and then the tiered
/// mode with a random three-way tier mask of each seed in `seeds` (a third of the
/// functions stop in each tier, so calls and OSR cross every pair of tiers).
pub fn default_modes(seeds: impl IntoIterator<Item = u64>) -> Vec<Mode> {
    let mut modes = Vec::new();
    for (name, tier) in [
        ("interp", TierMode::Interp),
        ("baseline", TierMode::Baseline),
        ("optimizing", TierMode::Optimizing),
        ("eager", TierMode::Eager),
        ("tiered", TierMode::Tiered),
    ] {
        let mut c = Config::new();
        c.tier(tier);
        modes.push(Mode::new(name, c));
    }
    let sync = || {
        let mut c = Config::new();
        c.tier(TierMode::Tiered)
            .tier_up_threshold(0)
            .baseline_tier_up_threshold(Some(0))
            .sync_tier_up(true);
        c
    };
    modes.push(Mode::new("tiered-sync", sync()));
    let mut two = sync();
    two.baseline_tier(false);
    modes.push(Mode::new("tiered-sync-2tier", two));
    for seed in seeds {
        let mut c = sync();
        c.random_tiers(Some(seed));
        modes.push(Mode::new(format!("random-tiers-{seed}"), c));
    }
    modes
}

/// What to call.
#[derive(Clone, Debug)]
pub enum Target {
    /// `_start` of a WASI command, with these arguments after the program's name.
    Command(Vec<String>),
    /// An export, with these arguments.
    Invoke(String, Vec<Val>),
    /// Every exported function, in export order, each with zero (or null) arguments, the
    /// next called after a trap too (the instance stays usable): what differential
    /// testing of generated modules runs ([`End::Calls`]).
    EveryExport,
}

/// The program to compare and its surroundings, the same in every run.
#[derive(Clone, Debug)]
pub struct Program {
    /// The module (binary or text).
    pub wasm: Vec<u8>,
    /// The program's name, its `argv[0]`.
    pub name: String,
    /// What to call.
    pub target: Target,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Preopened directories: the host's path and the guest's.
    pub dirs: Vec<(PathBuf, String)>,
    /// What the program reads from stdin (in every run).
    pub stdin: Vec<u8>,
    /// How long one run may take before it is interrupted.
    pub timeout: Duration,
}

impl Program {
    /// A program calling `target` of `wasm`, with no environment, directories or input,
    /// and a timeout of a minute per run.
    pub fn new(wasm: impl Into<Vec<u8>>, target: Target) -> Program {
        Program {
            wasm: wasm.into(),
            name: "program.wasm".into(),
            target,
            env: Vec::new(),
            dirs: Vec::new(),
            stdin: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug)]
pub enum End {
    /// The export returned these results (`_start`: none).
    Returned(Vec<Val>),
    /// The program called `proc_exit` with this status.
    Exit(i32),
    /// A trap: its code (none for a host function's error), and its message.
    Trap(Option<TrapCode>, String),
    /// Something else stopped it: compiling, linking or instantiating failed.
    Error(String),
    /// [`Target::EveryExport`]: each call's end, with the export's name.
    Calls(Vec<(String, End)>),
}

impl core::fmt::Display for End {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            End::Returned(vals) => {
                f.write_str("returned")?;
                for v in vals {
                    write!(f, " {}", ShowVal(v))?;
                }
                Ok(())
            }
            End::Exit(code) => write!(f, "exit status {code}"),
            End::Trap(_, message) => write!(f, "trap: {message}"),
            End::Error(e) => write!(f, "error: {e}"),
            End::Calls(calls) => {
                write!(f, "{} calls", calls.len())?;
                for (name, end) in calls {
                    write!(f, "; {name}: {end}")?;
                }
                Ok(())
            }
        }
    }
}

/// What one run showed.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The mode's name.
    pub mode: String,
    /// How it ended.
    pub end: End,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// The final state of each memory of the instance (imports first); none when it was
    /// never instantiated.
    pub memories: Vec<MemoryImage>,
    /// The final value of each global of the instance (imports first).
    pub globals: Vec<Val>,
    /// The run's wall time.
    pub wall: Duration,
}

impl Outcome {
    /// A short hash of the memories' bytes (FNV-1a), for reports.
    pub fn memory_hash(&self) -> u64 {
        self.memories.iter().fold(FNV_OFFSET, |h, m| {
            m.pages.iter().fold(h, |h, p| fnv(h, &p.to_le_bytes()))
        })
    }
}

/// A memory's final bytes, or for a large memory the hash of each of its pages: a copy of
/// a memory the program grew to gigabytes would double what the run took (a generated
/// module that grew its memory to 4 GiB took the fuzzing run to 24 GB).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryImage {
    /// The length in bytes.
    pub len: usize,
    /// A hash of each 64 KiB page (a word-wise FNV-1a hash, the same for equal bytes).
    pub pages: Vec<u64>,
    /// The bytes, where the memory is at most [`MemoryImage::MAX_COPY`] long.
    pub bytes: Option<Vec<u8>>,
}

impl MemoryImage {
    /// The largest memory whose bytes are kept (64 MiB).
    pub const MAX_COPY: usize = 64 << 20;

    /// The image of `bytes`.
    pub fn of(bytes: &[u8]) -> MemoryImage {
        MemoryImage {
            len: bytes.len(),
            pages: bytes
                .chunks(tierup_abi::WASM_PAGE_SIZE)
                .map(page_hash)
                .collect(),
            bytes: (bytes.len() <= Self::MAX_COPY).then(|| bytes.to_vec()),
        }
    }

    /// The hash of the whole memory.
    pub fn hash(&self) -> u64 {
        self.pages
            .iter()
            .fold(FNV_OFFSET, |h, p| fnv(h, &p.to_le_bytes()))
    }
}

/// Where two runs first differ.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// The run that differs.
    pub mode: String,
    /// The run it was compared with (the first).
    pub reference: String,
    /// What differs, in words.
    pub what: String,
}

impl core::fmt::Display for Divergence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} differs from {}: {}",
            self.mode, self.reference, self.what
        )
    }
}

/// Every run's outcome and the first divergence, if any.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// In the order of the modes.
    pub outcomes: Vec<Outcome>,
    /// The first run (in that order) that differs from the first run.
    pub divergence: Option<Divergence>,
}

impl Comparison {
    /// Whether all runs agree.
    pub fn agree(&self) -> bool {
        self.divergence.is_none()
    }
}

/// Runs `program` under each of `modes` (at least one) and compares every run with the
/// first. An error only where a mode's engine cannot be made (a tier this host lacks);
/// everything the program does, failures included, is an [`Outcome`].
pub fn compare(program: &Program, modes: &[Mode]) -> Result<Comparison> {
    let mut outcomes = Vec::with_capacity(modes.len());
    for mode in modes {
        outcomes.push(run(program, mode)?);
    }
    let divergence = outcomes.split_first().and_then(|(first, rest)| {
        rest.iter().find_map(|o| {
            diff(first, o).map(|what| Divergence {
                mode: o.mode.clone(),
                reference: first.mode.clone(),
                what,
            })
        })
    });
    Ok(Comparison {
        outcomes,
        divergence,
    })
}

/// The store's data of a run.
struct Host {
    wasi: WasiCtx,
}

/// One run of `program` under `mode`.
fn run(program: &Program, mode: &Mode) -> Result<Outcome> {
    let mut config = mode.config.clone();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)
        .map_err(|e| anyhow::anyhow!("mode {}: cannot make its engine: {e:#}", mode.name))?;
    let (stdout, stderr) = (MemoryOutputPipe::new(), MemoryOutputPipe::new());
    let mut b = WasiCtxBuilder::new();
    b.arg(&program.name);
    if let Target::Command(args) = &program.target {
        b.args(args);
    }
    for (k, v) in &program.env {
        b.env(k, v);
    }
    b.stdin(std::io::Cursor::new(program.stdin.clone()))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (host, guest) in &program.dirs {
        b.preopened_dir(host, guest)?;
    }
    let mut store = Store::new(&engine, Host { wasi: b.build() });
    let started = Instant::now();
    let ticker = Ticker::start(&engine, program.timeout);
    store.set_epoch_deadline(1);
    let (end, instance) = call(program, &engine, &mut store);
    drop(ticker);
    let wall = started.elapsed();
    let _ = store.data_mut().wasi.flush();
    let (memories, globals) = match instance {
        Some(i) => snapshot(&store, i),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Outcome {
        mode: mode.name.clone(),
        end,
        stdout: stdout.contents(),
        stderr: stderr.contents(),
        memories,
        globals,
        wall,
    })
}

/// Advances an engine's epoch once after a delay, unless dropped first.
struct Ticker {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: &Engine, after: Duration) -> Ticker {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let engine = engine.clone();
        let thread = std::thread::Builder::new()
            .name("compare-timeout".into())
            .spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(after)
                {
                    engine.increment_epoch();
                }
            })
            .ok();
        Ticker {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Compiles, links, instantiates and calls; the end and the instance (if made).
fn call(
    program: &Program,
    engine: &Engine,
    store: &mut Store<Host>,
) -> (End, Option<crate::Instance>) {
    let module = match Module::new(engine, &program.wasm) {
        Ok(m) => m,
        Err(e) => return (End::Error(format!("cannot compile: {e:#}")), None),
    };
    let mut linker = Linker::new(engine);
    if let Err(e) = crate::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi) {
        return (End::Error(format!("{e:#}")), None);
    }
    let instance = match linker.instantiate(&mut *store, &module) {
        Ok(i) => i,
        Err(e) => return (ended(e, "cannot instantiate"), None),
    };
    let (name, args) = match &program.target {
        Target::Command(_) => ("_start", &[][..]),
        Target::Invoke(name, args) => (name.as_str(), &args[..]),
        Target::EveryExport => return (every_export(store, instance), Some(instance)),
    };
    let Some(func) = instance.get_func(&mut *store, name) else {
        return (
            End::Error(format!("no exported function `{name}`")),
            Some(instance),
        );
    };
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    let end = match func.call(&mut *store, args, &mut results) {
        Ok(()) => End::Returned(results),
        Err(e) => ended(e, &format!("cannot call `{name}`")),
    };
    (end, Some(instance))
}

/// Calls every exported function of `instance` with zero arguments.
fn every_export(store: &mut Store<Host>, instance: crate::Instance) -> End {
    let mut calls = Vec::new();
    for (name, export) in instance.exports(&mut *store) {
        let Some(func) = export.into_func() else {
            continue;
        };
        let ty = func.ty(&*store);
        let args: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let end = match func.call(&mut *store, &args, &mut results) {
            Ok(()) => End::Returned(results),
            Err(e) => ended(e, &format!("cannot call `{name}`")),
        };
        calls.push((name, end));
    }
    End::Calls(calls)
}

/// The end of a run that failed with `e`.
fn ended(e: anyhow::Error, context: &str) -> End {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        End::Exit(exit.0)
    } else if let Some(trap) = e.downcast_ref::<Trap>() {
        End::Trap(trap.code(), trap.message().to_string())
    } else {
        End::Error(format!("{context}: {e:#}"))
    }
}

/// The final bytes of the instance's memories and the values of its globals.
fn snapshot(store: &Store<Host>, instance: crate::Instance) -> (Vec<MemoryImage>, Vec<Val>) {
    let opaque = &store.inner.opaque;
    let Some(inst) = opaque.instances.get(instance.index) else {
        return (Vec::new(), Vec::new());
    };
    let memories = inst
        .memories
        .iter()
        .map(|&m| MemoryImage::of(opaque.memories[m].data()))
        .collect();
    let globals = inst
        .globals
        .iter()
        .map(|&g| {
            let g = &opaque.globals[g];
            Val::from_raw(opaque.id, g.ty.content(), g.get_raw())
        })
        .collect();
    (memories, globals)
}

/// What differs between two outcomes, in words; `None` where they agree.
fn diff(a: &Outcome, b: &Outcome) -> Option<String> {
    if let (End::Calls(x), End::Calls(y)) = (&a.end, &b.end) {
        for (i, ((name, p), (other, q))) in x.iter().zip(y).enumerate() {
            if name != other || !same_end(p, q) {
                return Some(format!("call {i} (`{other}`) ended with {q}, not {p}"));
            }
            if exhausted(p) {
                // What follows may depend on how deep the stack went.
                return None;
            }
        }
        if x.len() != y.len() {
            return Some(format!("it made {} calls, not {}", y.len(), x.len()));
        }
    } else if !same_end(&a.end, &b.end) {
        return Some(format!("it ended with {}, not {}", b.end, a.end));
    }
    if exhausted(&a.end) {
        // The depth of stack exhaustion is the tier's: what happened on the way is too.
        return None;
    }
    if let Some(at) = first_difference(&a.stdout, &b.stdout) {
        return Some(format!("stdout {}", show_bytes(&a.stdout, &b.stdout, at)));
    }
    if let Some(at) = first_difference(&a.stderr, &b.stderr) {
        return Some(format!("stderr {}", show_bytes(&a.stderr, &b.stderr, at)));
    }
    if a.memories.len() != b.memories.len() {
        return Some(format!(
            "it has {} memories, not {}",
            b.memories.len(),
            a.memories.len()
        ));
    }
    for (i, (ma, mb)) in a.memories.iter().zip(&b.memories).enumerate() {
        if ma.len != mb.len {
            return Some(format!("memory {i} is {} bytes, not {}", mb.len, ma.len));
        }
        let hashes = format!(
            "memory {i} (hash {:016x}, not {:016x})",
            mb.hash(),
            ma.hash()
        );
        match (&ma.bytes, &mb.bytes) {
            (Some(x), Some(y)) => {
                if let Some(at) = memory_difference(x, y) {
                    return Some(format!(
                        "{hashes} first differs at address {at:#x}: {:#04x}, not {:#04x}",
                        y[at], x[at]
                    ));
                }
            }
            _ => {
                if let Some(page) = ma.pages.iter().zip(&mb.pages).position(|(x, y)| x != y) {
                    return Some(format!(
                        "{hashes} first differs in the page at {:#x} (a memory this large \
                         is compared by page, NaNs included)",
                        page * tierup_abi::WASM_PAGE_SIZE
                    ));
                }
            }
        }
    }
    if a.globals.len() != b.globals.len() {
        return Some(format!(
            "it has {} globals, not {}",
            b.globals.len(),
            a.globals.len()
        ));
    }
    for (i, (ga, gb)) in a.globals.iter().zip(&b.globals).enumerate() {
        if !same_val(ga, gb) {
            return Some(format!(
                "global {i} is {}, not {}",
                ShowVal(gb),
                ShowVal(ga)
            ));
        }
    }
    None
}

/// Whether a run ended in stack exhaustion.
fn exhausted(e: &End) -> bool {
    matches!(e, End::Trap(Some(TrapCode::StackOverflow), _))
}

fn same_end(a: &End, b: &End) -> bool {
    match (a, b) {
        (End::Calls(x), End::Calls(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((m, p), (n, q))| m == n && same_end(p, q))
        }
        (End::Returned(x), End::Returned(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_val(p, q))
        }
        (End::Exit(x), End::Exit(y)) => x == y,
        (End::Trap(c, m), End::Trap(d, n)) => c == d && m == n,
        (End::Error(x), End::Error(y)) => x == y,
        _ => false,
    }
}

/// Equal values, any NaN equal to any NaN of its type, references by null-ness.
fn same_val(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => x == y || (f32_nan(*x) && f32_nan(*y)),
        (Val::F64(x), Val::F64(y)) => x == y || (f64_nan(*x) && f64_nan(*y)),
        (Val::FuncRef(x), Val::FuncRef(y)) => x.is_none() == y.is_none(),
        (Val::ExternRef(x), Val::ExternRef(y)) => x.is_none() == y.is_none(),
        (Val::I32(x), Val::I32(y)) => x == y,
        (Val::I64(x), Val::I64(y)) => x == y,
        (Val::V128(x), Val::V128(y)) => x == y,
        _ => false,
    }
}

fn f32_nan(bits: u32) -> bool {
    f32::from_bits(bits).is_nan()
}

fn f64_nan(bits: u64) -> bool {
    f64::from_bits(bits).is_nan()
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

/// The first address where two memories of one length differ, passing over words where
/// both hold a NaN (an `f32` in the aligned four bytes, or an `f64` in the aligned eight).
fn memory_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(d) = first_difference(&a[from..], &b[from..]) {
        let at = from + d;
        let nan_in = |width: usize| {
            let start = at & !(width - 1);
            let end = start + width;
            let both_nan = end <= a.len() && {
                let (x, y) = (&a[start..end], &b[start..end]);
                if width == 4 {
                    let w = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap_or([0; 4]));
                    f32_nan(w(x)) && f32_nan(w(y))
                } else {
                    let w = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]));
                    f64_nan(w(x)) && f64_nan(w(y))
                }
            };
            both_nan.then_some(end)
        };
        match nan_in(4).or_else(|| nan_in(8)) {
            Some(end) => from = end,
            None => return Some(at),
        }
    }
    None
}

/// Two byte strings around their first difference at `at`.
fn show_bytes(a: &[u8], b: &[u8], at: usize) -> String {
    let window = |s: &[u8]| {
        let start = at.saturating_sub(16);
        let end = (at + 24).min(s.len());
        let text: String = s
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .flat_map(|&c| std::ascii::escape_default(c))
            .map(char::from)
            .collect();
        format!("\"{text}\"")
    };
    format!(
        "first differs at byte {at} (of {} and {}): {} here, {} there",
        b.len(),
        a.len(),
        window(b),
        window(a)
    )
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A hash of one page of memory: FNV-1a over its 64-bit words (eight times as fast as over
/// its bytes, which matters for memories of gigabytes), then its tail bytes.
fn page_hash(page: &[u8]) -> u64 {
    let mut words = page.chunks_exact(8);
    let mut h = FNV_OFFSET;
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3);
    }
    fnv(h, words.remainder())
}

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A value as reports show it.
struct ShowVal<'a>(&'a Val);

impl core::fmt::Display for ShowVal<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Val::I32(v) => write!(f, "{v}:i32"),
            Val::I64(v) => write!(f, "{v}:i64"),
            Val::F32(b) => write!(f, "{}:f32 ({b:#010x})", f32::from_bits(*b)),
            Val::F64(b) => write!(f, "{}:f64 ({b:#018x})", f64::from_bits(*b)),
            Val::V128(b) => write!(f, "{b:#034x}:v128"),
            Val::FuncRef(r) => f.write_str(if r.is_some() {
                "funcref"
            } else {
                "null funcref"
            }),
            Val::ExternRef(r) => f.write_str(if r.is_some() {
                "externref"
            } else {
                "null externref"
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_words_in_memory_are_passed_over() {
        let mut a = vec![0u8; 32];
        let mut b = vec![0u8; 32];
        a[4..8].copy_from_slice(&0x7fc0_0000u32.to_le_bytes());
        b[4..8].copy_from_slice(&0xffc0_0001u32.to_le_bytes());
        assert_eq!(memory_difference(&a, &b), None);
        a[16..24].copy_from_slice(&0x7ff8_0000_0000_0000u64.to_le_bytes());
        b[16..24].copy_from_slice(&0x7ff8_0000_0000_0001u64.to_le_bytes());
        assert_eq!(memory_difference(&a, &b), None);
        b[25] = 1;
        assert_eq!(memory_difference(&a, &b), Some(25));
        // A NaN on one side only is a difference.
        let c = vec![0u8; 32];
        assert_eq!(memory_difference(&c, &b), Some(4));
    }

    fn outcome(end: End) -> Outcome {
        Outcome {
            mode: "m".into(),
            end,
            stdout: b"hello\n".to_vec(),
            stderr: Vec::new(),
            memories: vec![MemoryImage::of(&[0; 64])],
            globals: vec![Val::I32(1), Val::F64(0x7ff8_0000_0000_0000)],
            wall: Duration::ZERO,
        }
    }

    #[test]
    fn every_part_of_an_outcome_is_compared() {
        let a = outcome(End::Returned(vec![Val::I32(3)]));
        assert_eq!(diff(&a, &a.clone()), None);
        let mut b = a.clone();
        b.end = End::Returned(vec![Val::I32(4)]);
        assert!(
            diff(&a, &b)
                .unwrap()
                .contains("returned 4:i32, not returned 3:i32")
        );
        let mut b = a.clone();
        b.end = End::Trap(Some(TrapCode::Unreachable), "unreachable".into());
        assert!(diff(&a, &b).unwrap().contains("trap: unreachable"));
        let mut b = a.clone();
        b.stdout = b"hellO\n".to_vec();
        assert!(
            diff(&a, &b)
                .unwrap()
                .starts_with("stdout first differs at byte 4")
        );
        let mut b = a.clone();
        b.stderr = b"!".to_vec();
        assert!(diff(&a, &b).unwrap().starts_with("stderr"));
        let mut b = a.clone();
        let mut bytes = vec![0u8; 64];
        bytes[33] = 7;
        b.memories[0] = MemoryImage::of(&bytes);
        assert!(
            diff(&a, &b)
                .unwrap()
                .contains("at address 0x21: 0x07, not 0x00")
        );
        // Past the size whose bytes are kept, pages are compared by their hashes.
        let (mut x, mut y) = (a.clone(), a.clone());
        x.memories[0].bytes = None;
        y.memories[0] = MemoryImage {
            bytes: None,
            ..MemoryImage::of(&bytes)
        };
        assert!(diff(&x, &y).unwrap().contains("in the page at 0x0"));
        let mut b = a.clone();
        b.memories[0] = MemoryImage::of(&[0; 128]);
        assert!(diff(&a, &b).unwrap().contains("128 bytes, not 64"));
        let mut b = a.clone();
        b.globals[0] = Val::I32(2);
        assert!(diff(&a, &b).unwrap().starts_with("global 0 is 2:i32"));
        // Another NaN in a global is no difference; an exit status is.
        let mut b = a.clone();
        b.globals[1] = Val::F64(0xfff8_0000_0000_0001);
        assert_eq!(diff(&a, &b), None);
        let (x, y) = (outcome(End::Exit(0)), outcome(End::Exit(1)));
        assert!(diff(&x, &y).is_some());
    }

    #[test]
    fn stack_exhaustion_is_compared_on_the_trap_alone() {
        let exhausted = || End::Trap(Some(TrapCode::StackOverflow), "call stack exhausted".into());
        let a = outcome(exhausted());
        let mut b = outcome(exhausted());
        b.memories[0] = MemoryImage::of(&[9; 64]);
        b.stdout.clear();
        b.globals[0] = Val::I32(77);
        assert_eq!(diff(&a, &b), None);
        let c = outcome(End::Returned(Vec::new()));
        assert!(diff(&a, &c).is_some());
    }

    #[test]
    fn values_compare_with_nans_equal() {
        assert!(same_val(&Val::F32(0x7fc0_0000), &Val::F32(0xffc0_0000)));
        assert!(!same_val(&Val::F32(0x7fc0_0000), &Val::F32(0)));
        assert!(same_val(
            &Val::F64(0x7ff8_0000_0000_0001),
            &Val::F64(0xfff8_0000_0000_0000)
        ));
        assert!(!same_val(&Val::I32(1), &Val::I32(2)));
        assert_eq!(first_difference(b"abc", b"abd"), Some(2));
        assert_eq!(first_difference(b"ab", b"abc"), Some(2));
        assert_eq!(first_difference(b"ab", b"ab"), None);
    }
}
