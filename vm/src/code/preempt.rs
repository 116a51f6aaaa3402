//! Asynchronous interruption of machine code: the signal that an increment of the epoch
//! sends to the thread running a store whose deadline it passed, and its handler.
//!
//! Machine code tests the interrupt word at few places (not at its entries, nor in its
//! loops but those with libcalls: the tiers' `epoch.rs` say why every endless run is still
//! stopped). To stop a
//! thread running such code, [`send`] queues `SIGURG` to it, tagged as ours; the handler
//! ([`handler`]) looks the interrupted PC up in the code registry, and where it lies in
//! the [`MachineCode::preemptible`](tierup_abi::MachineCode::preemptible) range of its
//! code and is not a `ret`, it pushes the PC below the thread's stack pointer as a return
//! address and continues the thread in the runtime's `preempt` stub (`activation.rs`). The
//! stub saves every register a call may clobber and the flags, runs the store's epoch
//! handling (the trap `interrupt`, or the deadline callback) and returns to the
//! interrupted instruction, or raises the trap with that instruction as the innermost
//! frame. Anywhere else (host code, the interpreter, a prologue, a `ret`, an adapter) the
//! handler does nothing: the thread tests the word on its way back into machine code, or
//! the signal comes again.
//!
//! A signal can be lost: met inside another signal handler (ours block it while they run,
//! an embedder's may not), or merged with a pending `SIGURG` that is not ours. So the
//! store's side (`interrupt.rs`) sends it again, at growing intervals up to 10 ms, for as
//! long as the thread runs the store's wasm and the store has not taken the interrupt.
//!
//! The handler reads only the thread's activation and the registry (no lock, no
//! allocation). `SIGURG` is ignored by default and rarely used (Go's runtime preempts
//! goroutines with it for the same reason); a `SIGURG` that is not ours (not queued by
//! this process with our tag) goes to the handler installed before ours, if any. The
//! handler is installed with `SA_RESTART`, so a system call of a host function that the
//! signal meets restarts where the system allows.
//!
//! What code stopped here sees: at the interrupted instruction, values the code keeps in
//! registers across the loop (a global's value, a table's length, memory contents it
//! reuses) may not reflect changes the deadline callback made to the store until the loop
//! ends. Nothing the code holds can dangle: memories and tables grow in place.

use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;
use std::sync::Once;

use super::activation;
use super::registry;

/// The signal.
pub(super) const SIGNAL: libc::c_int = libc::SIGURG;

/// The tag in the value of our signals: the address of this static.
static TAG: u8 = 0;

thread_local! {
    /// How many times the handler sent this thread into the epoch handling. Constant
    /// initialised and without destructor, so the handler can write it.
    static PREEMPTED: Cell<u64> = const { Cell::new(0) };
}

/// How many times this thread, running machine code, was stopped by the signal of an
/// epoch increment and sent into its store's deadline handling
/// ([`Config::epoch_interruption`](crate::Config::epoch_interruption)); the other stops are
/// the code's own tests of the interrupt word. For tests and diagnostics.
pub fn preemptions() -> u64 {
    PREEMPTED.with(Cell::get)
}

/// The action installed before ours; written once, before ours is installed.
struct Previous(UnsafeCell<MaybeUninit<libc::sigaction>>);

// SAFETY: written only inside `INSTALL`, before the handler that reads it exists.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new(MaybeUninit::uninit()));
static INSTALL: Once = Once::new();

/// Installs the handler, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // SAFETY: PREVIOUS is written before the handler that reads it is installed (by
        // this same call). SA_RESTART: a host function's system calls that the signal
        // meets restart where the system allows.
        let installed = unsafe {
            super::signals::install_action(
                SIGNAL,
                handler,
                libc::SA_RESTART,
                (*PREVIOUS.0.get()).as_mut_ptr(),
            )
        };
        if let Err(e) = installed {
            panic!("cannot install the handler of signal {SIGNAL}: {e}");
        }
    });
}

/// Whether [`install`] has run.
pub(crate) fn installed() -> bool {
    INSTALL.is_completed()
}

/// The calling thread, for [`send`].
pub(crate) fn this_thread() -> libc::pthread_t {
    // SAFETY: no preconditions.
    unsafe { libc::pthread_self() }
}

/// Asks `thread` to stop where it runs machine code that can be interrupted.
///
/// # Safety
///
/// `thread` is alive (its owner keeps it from exiting during the call).
pub(crate) unsafe fn send(thread: libc::pthread_t) {
    if !installed() {
        return;
    }
    let value = libc::sigval {
        sival_ptr: (&raw const TAG) as *mut libc::c_void,
    };
    // SAFETY: the caller's contract; the signal's handler is installed.
    let rc = unsafe { libc::pthread_sigqueue(thread, SIGNAL, value) };
    if rc != 0 {
        // The queue of signals is full (the thread is flooded with them): the word stays
        // set, and the thread tests it where it leaves the loop it is in, if ever.
        tracing::debug!(target: "tierup::interrupt", rc, "could not signal a thread running wasm");
    }
}

/// Whether a signal is one that [`send`] sent.
///
/// # Safety
///
/// `info` is the kernel's.
unsafe fn ours(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel's siginfo; the queue fields are valid for `SI_QUEUE`.
    unsafe {
        (*info).si_code == libc::SI_QUEUE
            && (*info).si_pid() == libc::getpid()
            && core::ptr::eq((*info).si_value().sival_ptr as *const u8, &raw const TAG)
    }
}

/// The signal handler.
///
/// # Safety
///
/// Called by the kernel with a valid `info` and `context` for `sig`.
unsafe extern "C" fn handler(
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes valid pointers; the context of x86-64 Linux is a ucontext.
    unsafe {
        if !ours(info) {
            let prev = &*(*PREVIOUS.0.get()).as_ptr();
            super::signals::call_handler(prev, sig, info, context);
            return;
        }
        if activation::current().is_null() {
            return;
        }
        let uc = &mut *(context as *mut libc::ucontext_t);
        let regs = &mut uc.uc_mcontext.gregs;
        let pc = regs[libc::REG_RIP as usize] as usize;
        let preemptible =
            registry::lookup(pc, |info, offset| info.preemptible.contains(&offset)) == Some(true);
        // A `ret` (plain or with an immediate) follows the epilogue's restore of the
        // caller's frame pointer: there the chain lacks this frame.
        if !preemptible || matches!(*(pc as *const u8), 0xc3 | 0xc2) {
            return;
        }
        // Code in the range keeps nothing below its stack pointer, and its stack has room
        // for a call of the runtime (the contract of `preemptible`).
        let sp = regs[libc::REG_RSP as usize] as usize - 8;
        *(sp as *mut usize) = pc;
        regs[libc::REG_RSP as usize] = sp as i64;
        regs[libc::REG_RIP as usize] = activation::preempt_address() as i64;
        PREEMPTED.with(|c| c.set(c.get() + 1));
    }
}
