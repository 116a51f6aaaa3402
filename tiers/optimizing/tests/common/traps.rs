//! Running a call that is expected to trap: in a forked child process whose signal handler
//! maps the faulting instruction to its trap through the code's trap sites (as the runtime
//! does) and exits with the trap's status; `raise` exits the same way. The parent reads
//! the outcome from the exit status. Nothing in the parent is unwound or redirected.

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use tierup_abi::{TrapCode, ValRaw};

use super::Instance;

/// Exit statuses of the child: 0 returned, `TRAPPED + status` trapped, anything else is
/// a failure of its own.
const TRAPPED: i32 = 100;
const UNKNOWN_FAULT: i32 = 99;

/// Whether this process is a child running a call that may trap.
static IN_CHILD: AtomicBool = AtomicBool::new(false);
/// The child's trap sites: (absolute address, trap), sorted.
static SITES: AtomicPtr<Vec<(usize, TrapCode)>> = AtomicPtr::new(std::ptr::null_mut());

/// What a call did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Returned,
    Trapped(TrapCode),
    Failed(String),
}

/// `raise` in a child ends it with the status; anywhere else nothing may trap.
pub fn raise(status: u32) {
    if IN_CHILD.load(Ordering::Relaxed) {
        // SAFETY: ends the child process.
        unsafe { libc::_exit(TRAPPED + status as i32) };
    }
    eprintln!("raise({status}): a trap outside a child that expects one");
    std::process::abort();
}

extern "C" fn on_fault(_: libc::c_int, _: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes the interrupted context; the sites were set before the
    // call and are never freed in the child.
    unsafe {
        let pc =
            (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
        let sites = &*SITES.load(Ordering::Relaxed);
        let status = match sites.binary_search_by_key(&pc, |s| s.0) {
            Ok(i) => TRAPPED + sites[i].1.status() as i32,
            Err(_) => UNKNOWN_FAULT,
        };
        libc::_exit(status);
    }
}

/// Calls function `f` of `instance` in a child process, with a stack limit 256 KiB below
/// the current stack if `limit_stack`.
pub fn call_in_child(
    instance: &mut Instance,
    f: u32,
    args: &[ValRaw],
    limit_stack: bool,
) -> Outcome {
    run_in_child(instance, limit_stack, |instance| {
        instance.call_index(f, args).is_ok()
    })
}

/// Runs `call` (which returns whether it succeeded) on `instance` in a child process, with
/// a stack limit 256 KiB below the current stack if `limit_stack`; the trap sites of every
/// code `instance` loaded are known to the child's handler.
pub fn run_in_child(
    instance: &mut Instance,
    limit_stack: bool,
    call: impl FnOnce(&mut Instance) -> bool,
) -> Outcome {
    // SAFETY: the child only runs the call (wasm code, libcalls) and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        IN_CHILD.store(true, Ordering::Relaxed);
        let mut sites: Vec<(usize, TrapCode)> = instance
            .codes
            .iter()
            .flat_map(|c| {
                let base = c.at(0) as usize;
                c.code
                    .traps
                    .iter()
                    .map(move |t| (base + t.offset as usize, t.code))
            })
            .collect();
        sites.sort_by_key(|s| s.0);
        SITES.store(Box::into_raw(Box::new(sites)), Ordering::Relaxed);
        // SAFETY: installs a handler for the faults generated code raises.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            for sig in [libc::SIGILL, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE] {
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
        if limit_stack {
            let marker = 0u8;
            let here = std::hint::black_box(&marker) as *const u8 as usize;
            instance.set_stack_limit(here - (256 << 10));
        }
        let status = if call(instance) { 0 } else { 98 };
        // SAFETY: ends the child process.
        unsafe { libc::_exit(status) };
    }
    if pid < 0 {
        return Outcome::Failed("fork failed".into());
    }
    let mut status = 0;
    // SAFETY: waits for the child just made.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFSIGNALED(status) {
        return Outcome::Failed(format!("killed by signal {}", libc::WTERMSIG(status)));
    }
    match libc::WEXITSTATUS(status) {
        0 => Outcome::Returned,
        s if s > TRAPPED => match TrapCode::from_status((s - TRAPPED) as u32) {
            Some(code) => Outcome::Trapped(code),
            None => Outcome::Failed(format!("exit status {s}")),
        },
        UNKNOWN_FAULT => Outcome::Failed("a fault at no trap site".into()),
        s => Outcome::Failed(format!("exit status {s}")),
    }
}
