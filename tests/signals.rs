//! The runtime's signal handler shares the process: a fault outside wasm still reaches the
//! handler installed before it, and Rust's own stack-overflow report still works. Each
//! case runs in a child process (this test binary, started again with `TIERUP_SIGNAL_CASE`
//! set), since it ends the process or installs handlers of its own.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use tierup::{Config, Engine, TierMode};

const CASE: &str = "TIERUP_SIGNAL_CASE";

/// An engine with machine code, which installs the runtime's handlers.
fn optimizing_engine() -> Engine {
    let mut config = Config::new();
    config.tier(TierMode::Optimizing);
    Engine::new(&config).unwrap()
}

/// Runs this binary's test `name` in a child process with the case variable set.
fn child(name: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CASE, "1")
        .output()
        .unwrap()
}

static SEEN: AtomicUsize = AtomicUsize::new(0);
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The embedder's handler: counts the fault and makes the page accessible, so that the
/// faulting write completes when the handler returns.
extern "C" fn embedder_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    SEEN.fetch_add(1, Ordering::SeqCst);
    let page = PAGE.load(Ordering::SeqCst);
    // SAFETY: the page is the test's own mapping.
    unsafe { libc::mprotect(page as *mut _, 4096, libc::PROT_READ | libc::PROT_WRITE) };
}

#[test]
fn a_fault_outside_wasm_reaches_the_previous_handler() {
    if std::env::var_os(CASE).is_none() {
        let out = child("a_fault_outside_wasm_reaches_the_previous_handler");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {out:?}");
        assert!(stdout.contains("embedder handler ran once"), "{stdout}");
        return;
    }
    // SAFETY: a fresh inaccessible page, and a handler that only touches atomics and
    // calls mprotect.
    unsafe {
        let page = libc::mmap(
            core::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(page, libc::MAP_FAILED);
        PAGE.store(page as usize, Ordering::SeqCst);
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = embedder_handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGSEGV, &action, core::ptr::null_mut()),
            0
        );
        // The runtime installs its handler on top of the embedder's.
        let _engine = optimizing_engine();
        core::ptr::write_volatile(page.cast::<u8>(), 1);
        assert_eq!(core::ptr::read_volatile(page.cast::<u8>()), 1);
    }
    println!(
        "embedder handler ran {}",
        match SEEN.load(Ordering::SeqCst) {
            1 => "once".to_string(),
            n => format!("{n} times"),
        }
    );
}

#[test]
fn rust_still_reports_a_stack_overflow() {
    if std::env::var_os(CASE).is_none() {
        let out = child("rust_still_reports_a_stack_overflow");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("has overflowed its stack"), "{stderr}");
        return;
    }
    let _engine = optimizing_engine();
    #[allow(unconditional_recursion)] // the point: recursion until the stack overflows
    fn recurse(n: u64) -> u64 {
        let pad = [n; 64];
        core::hint::black_box(&pad);
        recurse(core::hint::black_box(n + 1)) + pad[3]
    }
    std::thread::Builder::new()
        .name("overflow".into())
        .spawn(|| recurse(0))
        .unwrap()
        .join()
        .ok();
}
