//! The handler of SIGSEGV, SIGBUS, SIGILL and SIGFPE that turns a fault in generated code
//! into its trap, and the alternate signal stack every thread that runs wasm has.
//!
//! The handler ([`handler`]) only reads: the thread's innermost activation, and through
//! the registry the trap site at the faulting PC. If both exist, it writes the PC, frame
//! pointer, fault address and trap into the activation's preallocated fault slot and
//! changes the interrupted context so that the thread continues in the trampoline's
//! `resume` (see [`super::activation`]): nothing is allocated, no lock is taken, and the
//! trap record is built afterwards in ordinary code. Any other fault is not ours: it goes
//! to the handler that was installed before ours (Rust's stack-overflow reporter, a
//! sanitizer, the embedder's), or, when that was the default action, the default action
//! is restored and the fault re-executes into it.

use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;
use std::sync::Once;

use super::activation::{self, Activation};
use super::registry;

/// The signals a fault in generated code raises.
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The actions installed before ours, by position in [`SIGNALS`]; written once, before our
/// handler is installed for that signal, and only read afterwards.
struct Previous(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);

// SAFETY: written only inside `INSTALL`, before the handler that reads it exists.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new([MaybeUninit::uninit(); 4]));
static INSTALL: Once = Once::new();

/// Installs the handler for the four signals, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: PREVIOUS[i] is written before the handler that reads it is installed
            // (by this same call).
            let installed =
                unsafe { install_action(sig, handler, 0, (*PREVIOUS.0.get())[i].as_mut_ptr()) };
            if let Err(e) = installed {
                panic!("cannot install the handler of signal {sig}: {e}");
            }
        }
    });
}

/// The signature of our handlers.
pub(super) type Handler =
    unsafe extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

/// Installs `handler` for `sig` (with `SA_SIGINFO | SA_ONSTACK` and `extra_flags`), storing
/// the action it replaces in `prev`. Every handler of ours blocks the preemption signal
/// while it runs (`preempt.rs`): met inside one, it would find the handler's PC, not the
/// code's, and be lost.
///
/// # Safety
///
/// `prev` is valid for a write, and whatever `handler` reads of it is written before
/// `handler` can run (it is written here, before the action is installed).
pub(super) unsafe fn install_action(
    sig: libc::c_int,
    handler: Handler,
    extra_flags: libc::c_int,
    prev: *mut libc::sigaction,
) -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid value to fill in; `sigemptyset`, `sigaddset`
    // and `sigaction` get valid pointers (`prev` by the caller's contract).
    unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | extra_flags;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaddset(&mut action.sa_mask, super::preempt::SIGNAL);
        if libc::sigaction(sig, &action, prev) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether [`install`] has run.
pub(crate) fn installed() -> bool {
    INSTALL.is_completed()
}

/// The direction flag of `rflags`.
const DIRECTION_FLAG: i64 = 1 << 10;

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
        let uc = &mut *(context as *mut libc::ucontext_t);
        let regs = &mut uc.uc_mcontext.gregs;
        let pc = regs[libc::REG_RIP as usize] as usize;
        let act = activation::current();
        if !act.is_null()
            && let Some(code) = registry::lookup(pc, |info, offset| info.trap_at(offset)).flatten()
        {
            let fp = regs[libc::REG_RBP as usize] as usize;
            let addr = (*info).si_addr() as usize;
            let (jmp, status) = Activation::record_fault(act, code, pc, fp, addr);
            regs[libc::REG_RIP as usize] = activation::resume_address() as i64;
            regs[libc::REG_RDI as usize] = jmp as i64;
            regs[libc::REG_RSI as usize] = i64::from(status);
            // The Rust code `resume` returns into expects the direction flag clear, as
            // every function's entry does; baseline code sets it for a backward copy.
            regs[libc::REG_EFL as usize] &= !DIRECTION_FLAG;
            return;
        }
        chain(sig, info, context);
    }
}

/// Passes a fault that is not ours to the action installed before ours.
///
/// # Safety
///
/// As for [`handler`].
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    // SAFETY: PREVIOUS[i] was written before our handler for `sig` was installed.
    unsafe {
        let prev = &*(*PREVIOUS.0.get())[i].as_ptr();
        if !call_handler(prev, sig, info, context) {
            // Restore the previous action and return: the faulting instruction runs again
            // and gets it (the default action for these signals ends the process).
            libc::sigaction(sig, prev, core::ptr::null_mut());
        }
    }
}

/// Calls the handler of action `prev` with the signal's arguments, if it has one (it is
/// neither the default action nor ignored); returns whether it did.
///
/// # Safety
///
/// `prev` is the action installed for `sig` before ours; the arguments are the kernel's.
pub(super) unsafe fn call_handler(
    prev: &libc::sigaction,
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) -> bool {
    if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
        return false;
    }
    // SAFETY: the action's handler has the signature its flags say.
    unsafe {
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: unsafe extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                core::mem::transmute(prev.sa_sigaction);
            f(sig, info, context);
        } else {
            let f: unsafe extern "C" fn(libc::c_int) = core::mem::transmute(prev.sa_sigaction);
            f(sig);
        }
    }
    true
}

/// The size of the alternate signal stacks this module makes.
const ALT_STACK_SIZE: usize = 64 << 10;

/// An alternate signal stack made for this thread, freed at its exit.
struct AltStack {
    /// The mapping (a guard page, then the stack), or null.
    base: Cell<*mut libc::c_void>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let base = self.base.get();
        if base.is_null() {
            return;
        }
        // SAFETY: disables the alternate stack of this exiting thread (which is ours: it
        // was installed by `ensure_alt_stack` on this thread) before unmapping it.
        unsafe {
            let disable = libc::stack_t {
                ss_sp: core::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: ALT_STACK_SIZE,
            };
            libc::sigaltstack(&disable, core::ptr::null_mut());
            libc::munmap(base, ALT_STACK_SIZE + page_size());
        }
    }
}

thread_local! {
    static ALT_STACK: AltStack = const {
        AltStack {
            base: Cell::new(core::ptr::null_mut()),
        }
    };
    static ALT_STACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

fn page_size() -> usize {
    rustix::param::page_size()
}

/// Makes sure this thread has an alternate signal stack, so that the handler runs even when
/// the fault is a stack overflow. Threads started by Rust's standard library have one;
/// other threads get one of ours, freed when the thread exits.
pub(crate) fn ensure_alt_stack() {
    if ALT_STACK_CHECKED.with(Cell::get) {
        return;
    }
    ALT_STACK_CHECKED.with(|c| c.set(true));
    // SAFETY: `sigaltstack` with a null new stack only reads the current one.
    unsafe {
        let mut current: libc::stack_t = core::mem::zeroed();
        if libc::sigaltstack(core::ptr::null(), &mut current) == 0
            && current.ss_flags & libc::SS_DISABLE == 0
            && current.ss_size >= ALT_STACK_SIZE / 2
        {
            return;
        }
        let guard = page_size();
        let base = libc::mmap(
            core::ptr::null_mut(),
            ALT_STACK_SIZE + guard,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if base == libc::MAP_FAILED {
            return;
        }
        libc::mprotect(base, guard, libc::PROT_NONE);
        let stack = libc::stack_t {
            ss_sp: base.cast::<u8>().add(guard).cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        if libc::sigaltstack(&stack, core::ptr::null_mut()) != 0 {
            libc::munmap(base, ALT_STACK_SIZE + guard);
            return;
        }
        ALT_STACK.with(|s| s.base.set(base));
    }
}
