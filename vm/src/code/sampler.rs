//! The tier sampler: a profiling timer on one thread whose signal handler classifies
//! each interrupted program counter, so that the tier report can say where the thread's
//! time went, per function and tier.
//!
//! [`Sampler::start`] makes a POSIX timer on the monotonic clock that sends `SIGPROF` to
//! the calling thread (`SIGEV_THREAD_ID`) every interval.
//! The handler ([`on_sample`]) reads, in this order:
//!
//! 1. the code registry (the one machine code uses for traps): a PC in a function's
//!    machine code counts for that function in that code's tier; a PC in an adapter
//!    counts for the runtime;
//! 2. else the thread's [`tierup_abi::running`] word: an interpreter activation's state
//!    (the function it runs counts in the interpreter tier), a host function, or the
//!    runtime.
//!
//! Each sample weighs the thread's CPU time since the one before (read in the handler
//! from the thread's CPU clock): time the thread spent blocked or waiting for a CPU
//! counts nowhere, and the shares stay right where the kernel delivers a signal late or
//! merges expirations. (A timer on the thread's CPU-time clock would not wake a blocked
//! thread, but it expires only at the scheduler's tick, and on a loaded machine its
//! samples missed a host function making many system calls almost entirely: measured in
//! `tests/profile.rs`, `the_sampler_follows_wasm_into_host_functions_and_back`, with
//! six CPU hogs beside it, 0-6% of the time where 45% was spent.)
//! It adds that time into the sampler's [`Table`], made before the timer: fixed-size, open
//! addressing, written only by the handler (so by the sampled thread only) and read with
//! atomics, so the handler allocates nothing and takes no lock. The table's keys are
//! identities (a module, or an instance's context, and a function index), resolved to
//! names by the store afterwards (`Store::tier_profile`).
//!
//! The handler stays installed once installed: a `SIGPROF` still pending when a sampler
//! stops must not meet the signal's default action (which ends the process). Where no
//! sampler runs on the thread it passes the signal on to the handler that was installed
//! before ours, if any.

use core::cell::{Cell, UnsafeCell};
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

use tierup_abi::{Tier, VmContext, running};

use super::registry::{self, CodeOwner};

/// The distinct (function, tier) pairs a table holds; samples of further ones are
/// counted as lost.
const SLOTS: usize = 1 << 13;
/// The slots a key may take, from its hash on.
const MAX_PROBES: usize = 32;

/// Whose function a sample's key names (the tag of [`Slot::owner`]: an instance's context
/// has its low bit set, a module's identity not; both are aligned, so the bit is free).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SampleOwner {
    /// The module with this identity (a `ModuleInner`): machine code.
    Module(*const ()),
    /// The instance with this context: the interpreter.
    Instance(*const VmContext),
}

impl SampleOwner {
    fn word(self) -> usize {
        match self {
            SampleOwner::Module(m) => m as usize,
            SampleOwner::Instance(v) => v as usize | 1,
        }
    }

    fn from_word(w: usize) -> SampleOwner {
        if w & 1 == 0 {
            SampleOwner::Module(w as *const ())
        } else {
            SampleOwner::Instance((w & !1) as *const VmContext)
        }
    }
}

/// The sampled time of one function in one tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FunctionSamples {
    pub owner: SampleOwner,
    pub func_index: u32,
    pub tier: Tier,
    /// CPU time, in nanoseconds.
    pub nanos: u64,
}

/// One (function, tier) of a [`Table`]; free while `owner` is 0.
struct Slot {
    owner: AtomicUsize,
    /// `func_index << 8 | tier`.
    key: AtomicU64,
    /// CPU time, in nanoseconds.
    nanos: AtomicU64,
}

/// Where the handler counts. See the module docs. The counters but `samples` are CPU
/// time in nanoseconds.
pub(crate) struct Table {
    slots: Box<[Slot]>,
    samples: AtomicU64,
    total: AtomicU64,
    host: AtomicU64,
    runtime: AtomicU64,
    /// Time of functions the table had no room for.
    lost: AtomicU64,
    /// The thread's CPU clock at the last sample (at first, when the table was made).
    last: AtomicU64,
}

impl Table {
    fn new() -> Table {
        Table {
            slots: (0..SLOTS)
                .map(|_| Slot {
                    owner: AtomicUsize::new(0),
                    key: AtomicU64::new(0),
                    nanos: AtomicU64::new(0),
                })
                .collect(),
            samples: AtomicU64::new(0),
            total: AtomicU64::new(0),
            host: AtomicU64::new(0),
            runtime: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            last: AtomicU64::new(thread_cpu_nanos()),
        }
    }

    /// Adds `n` to a counter. Only the handler writes, on one thread: a plain
    /// read-modify-write (no locked instruction) is exact.
    fn add(c: &AtomicU64, n: u64) {
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// Adds `nanos` of CPU time to `func_index` of `owner` in `tier`.
    fn record(&self, owner: SampleOwner, func_index: u32, tier: Tier, nanos: u64) {
        let word = owner.word();
        let key = u64::from(func_index) << 8 | tier as u64;
        let mask = self.slots.len() - 1;
        let start = (word as u64 ^ key.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_mul(0xff51_afd7_ed55_8ccd) as usize
            >> 3;
        for probe in 0..MAX_PROBES {
            let slot = &self.slots[start.wrapping_add(probe) & mask];
            let o = slot.owner.load(Ordering::Relaxed);
            if o == 0 {
                slot.key.store(key, Ordering::Relaxed);
                slot.nanos.store(nanos, Ordering::Relaxed);
                // Published last: a reader that sees the owner sees the key and the time.
                slot.owner.store(word, Ordering::Release);
                return;
            }
            if o == word && slot.key.load(Ordering::Relaxed) == key {
                Self::add(&slot.nanos, nanos);
                return;
            }
        }
        Self::add(&self.lost, nanos);
    }

    /// The sampled time per function and tier so far.
    pub fn functions(&self) -> Vec<FunctionSamples> {
        self.slots
            .iter()
            .filter_map(|s| {
                let owner = s.owner.load(Ordering::Acquire);
                if owner == 0 {
                    return None;
                }
                let key = s.key.load(Ordering::Relaxed);
                Some(FunctionSamples {
                    owner: SampleOwner::from_word(owner),
                    func_index: (key >> 8) as u32,
                    tier: Tier::from_u8(key as u8)?,
                    nanos: s.nanos.load(Ordering::Relaxed),
                })
            })
            .collect()
    }

    /// The samples taken so far.
    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }

    /// All sampled time so far.
    pub fn total(&self) -> Duration {
        nanos(&self.total)
    }

    /// The time in host functions.
    pub fn host(&self) -> Duration {
        nanos(&self.host)
    }

    /// The time in the runtime (neither wasm nor host functions).
    pub fn runtime(&self) -> Duration {
        nanos(&self.runtime)
    }

    /// The time of functions the table had no room for.
    pub fn lost(&self) -> Duration {
        nanos(&self.lost)
    }
}

fn nanos(c: &AtomicU64) -> Duration {
    Duration::from_nanos(c.load(Ordering::Relaxed))
}

/// This thread's CPU time, in nanoseconds (a system call the handler may make).
fn thread_cpu_nanos() -> u64 {
    // SAFETY: `clock_gettime` writes the time into `t`; it is async-signal-safe.
    unsafe {
        let mut t: libc::timespec = core::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t);
        (t.tv_sec as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(t.tv_nsec as u64)
    }
}

thread_local! {
    /// The table of the sampler running on this thread (null: none). Constant initialised
    /// and without destructor, so the handler can read it.
    static TABLE: Cell<*const Table> = const { Cell::new(core::ptr::null()) };
}

/// A profiling timer on the thread that started it, counting where that thread's CPU
/// time goes: per function and tier, in host functions, in the runtime (see the module
/// docs). It stops when dropped; it stays on its thread (`!Send`), and a thread runs one
/// sampler at a time. Like any profiling timer, its signal interrupts the thread's
/// blocking system calls: those that restart do (`SA_RESTART`: reads, writes, waits),
/// and WASI's `poll_oneoff` waits on for the rest of its time, but the embedder's own
/// `poll`, `select` or `nanosleep` on that thread may return `EINTR`. `Store::tier_profile` turns its counts into a
/// [`TierProfile`](crate::tiering::TierProfile).
pub struct Sampler {
    table: Box<Table>,
    timer: libc::timer_t,
    interval: Duration,
    /// The thread-local table and the timer belong to this thread.
    _thread: PhantomData<*const ()>,
}

impl Sampler {
    /// Starts sampling this thread every `interval` (at least 100 µs). Fails where a
    /// sampler already runs on this thread or the timer cannot be made.
    pub fn start(interval: Duration) -> std::io::Result<Sampler> {
        if !TABLE.with(Cell::get).is_null() {
            return Err(std::io::Error::other(
                "a tier sampler already runs on this thread",
            ));
        }
        install()?;
        let interval = interval.max(Duration::from_micros(100));
        let table = Box::new(Table::new());
        TABLE.with(|t| t.set(&*table));
        // SAFETY: a zeroed sigevent is a valid value to fill in; the timer is made for
        // this thread (its id from `gettid`) and its CPU clock, and `timer` receives its
        // id. The handler is installed, and the table it counts into is this thread's.
        let made = unsafe {
            let mut event: libc::sigevent = core::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = libc::SIGPROF;
            event.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = core::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
                Err(std::io::Error::last_os_error())
            } else {
                let spec = libc::itimerspec {
                    it_interval: timespec(interval),
                    it_value: timespec(interval),
                };
                if libc::timer_settime(timer, 0, &spec, core::ptr::null_mut()) != 0 {
                    let e = std::io::Error::last_os_error();
                    libc::timer_delete(timer);
                    Err(e)
                } else {
                    Ok(timer)
                }
            }
        };
        match made {
            Ok(timer) => Ok(Sampler {
                table,
                timer,
                interval,
                _thread: PhantomData,
            }),
            Err(e) => {
                TABLE.with(|t| t.set(core::ptr::null()));
                Err(e)
            }
        }
    }

    /// The interval it samples at.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The samples taken so far.
    pub fn samples(&self) -> u64 {
        self.table.samples()
    }

    pub(crate) fn table(&self) -> &Table {
        &self.table
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        // SAFETY: the timer is ours and deleted once. A signal it sent that is still
        // pending finds the table until the thread-local is cleared, and nothing after.
        unsafe {
            libc::timer_delete(self.timer);
        }
        TABLE.with(|t| t.set(core::ptr::null()));
    }
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
    }
}

/// The action for `SIGPROF` installed before ours.
struct Previous(UnsafeCell<MaybeUninit<libc::sigaction>>);

// SAFETY: written only inside `INSTALL`, before the handler that reads it exists.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new(MaybeUninit::uninit()));
static INSTALL: Once = Once::new();

/// Installs the handler of `SIGPROF`, once per process.
fn install() -> std::io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        // SAFETY: PREVIOUS is written before our handler, which reads it, exists.
        // SA_RESTART so that a sample does not make the program's system calls fail with
        // EINTR.
        result = unsafe {
            super::signals::install_action(
                libc::SIGPROF,
                on_sample,
                libc::SA_RESTART,
                (*PREVIOUS.0.get()).as_mut_ptr(),
            )
        };
    });
    if result.is_ok() && !installed() {
        return Err(std::io::Error::other(
            "the SIGPROF handler is not installed",
        ));
    }
    result
}

/// Whether our handler of `SIGPROF` is the one installed.
fn installed() -> bool {
    // SAFETY: `sigaction` with a null new action only reads the current one.
    unsafe {
        let mut current: libc::sigaction = core::mem::zeroed();
        libc::sigaction(libc::SIGPROF, core::ptr::null(), &mut current) == 0
            && current.sa_sigaction == on_sample as *const () as usize
    }
}

/// The handler of `SIGPROF`.
///
/// # Safety
///
/// Called by the kernel with a valid `info` and `context`.
unsafe extern "C" fn on_sample(
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let table = TABLE.with(Cell::get);
    if table.is_null() {
        // SAFETY: the kernel's arguments, passed on as they came.
        unsafe { chain(sig, info, context) };
        return;
    }
    // SAFETY: the table is alive while the thread-local points at it (a sampler clears it
    // before it frees the table, on this thread); the context of x86-64 Linux is a
    // ucontext; `running_function` gets this thread's word, read on this thread.
    unsafe {
        let table = &*table;
        let uc = &*(context as *const libc::ucontext_t);
        let pc = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
        let now = thread_cpu_nanos();
        let spent = now.saturating_sub(table.last.load(Ordering::Relaxed));
        table.last.store(now, Ordering::Relaxed);
        Table::add(&table.samples, 1);
        Table::add(&table.total, spent);
        match registry::lookup(pc, |info, _| info.owner) {
            Some(CodeOwner::Func {
                module,
                func_index,
                tier,
            }) => table.record(SampleOwner::Module(module), func_index, tier, spent),
            Some(CodeOwner::Adapter) => Table::add(&table.runtime, spent),
            None => match running::current() {
                running::HOST => Table::add(&table.host, spent),
                word => match tierup_interp::running_function(word)
                    .or_else(|| tierup_interp_wide::running_function(word))
                {
                    Some((vmctx, func_index)) => table.record(
                        SampleOwner::Instance(vmctx),
                        func_index,
                        Tier::Interp,
                        spent,
                    ),
                    None => Table::add(&table.runtime, spent),
                },
            },
        }
    }
}

/// Passes a `SIGPROF` that is not a sampler's to the action installed before ours (a
/// default action is not taken: it would end the process for a late sample).
///
/// # Safety
///
/// As for [`on_sample`].
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: PREVIOUS was written before our handler was installed.
    unsafe {
        let prev = &*(*PREVIOUS.0.get()).as_ptr();
        super::signals::call_handler(prev, sig, info, context);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_adds_up_per_function_and_tier() {
        let table = Table::new();
        let m = SampleOwner::Module(0x1000 as *const ());
        let v = SampleOwner::Instance(0x2000 as *const VmContext);
        table.record(m, 3, Tier::Baseline, 10);
        table.record(m, 3, Tier::Baseline, 5);
        table.record(m, 3, Tier::Optimizing, 7);
        table.record(v, 3, Tier::Interp, 1);
        let mut got: Vec<_> = table
            .functions()
            .into_iter()
            .map(|s| (s.owner.word(), s.func_index, s.tier as u8, s.nanos))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                (0x1000, 3, Tier::Baseline as u8, 15),
                (0x1000, 3, Tier::Optimizing as u8, 7),
                (0x2001, 3, Tier::Interp as u8, 1),
            ]
        );
        assert_eq!(SampleOwner::from_word(0x2001), v);
    }

    #[test]
    fn a_full_table_counts_the_rest_as_lost() {
        let table = Table::new();
        let m = SampleOwner::Module(0x1000 as *const ());
        let n = SLOTS as u32 + 100;
        for f in 0..n {
            table.record(m, f, Tier::Optimizing, 1);
        }
        let kept: u64 = table.functions().iter().map(|s| s.nanos).sum();
        assert!(kept <= SLOTS as u64);
        assert_eq!(kept + table.lost().as_nanos() as u64, u64::from(n));
    }
}
