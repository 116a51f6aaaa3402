//! Epoch interruption (`Config::epoch_interruption`): the store's side of it.
//!
//! The engine counts epochs ([`crate::Engine::increment_epoch`]); each store has a deadline
//! and an [`Interrupts`] record, shared with the engine, that holds the deadline and the
//! address of the `interrupt` word in the context of each of the store's instances. Code
//! only tests that word (`tierup_abi`'s crate docs): an increment that reaches the
//! deadline sets it in every instance, and the `epoch` libcall, called by code that
//! found it set, clears it and does what the store was set to do ([`deadline_passed`]).
//!
//! The word may be set spuriously (an increment acting on a deadline that was just moved),
//! never left clear when the deadline has passed: [`Interrupts::set_deadline`] and the
//! libcall store the deadline, clear the words and only then read the epoch, and an
//! increment adds to the epoch before it reads a deadline, so one of the two sees the
//! other (all of it `SeqCst`).
//!
//! Machine code tests the word only where libcalls return (optimized code: at the headers
//! of loops that make them) and at OSR entries: where the engine has such code ([`Interrupts::new`]'s `signal`), the store also records
//! the thread that runs its wasm ([`Interrupts::enter`]), an increment that sets the words
//! signals that thread (`code::preempt`), under the lock that keeps the thread from
//! leaving (and so from exiting) meanwhile, and again until the store takes the interrupt
//! ([`resend_until_taken`]); the host's entries into wasm and host functions' returns into
//! it do the epoch handling where the word is set ([`Interrupts::at_host_boundary`]).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::store::StoreOpaque;

/// The deadline of one store and the interrupt words of its instances.
pub(crate) struct Interrupts {
    /// The epoch at which the store's code stops (`u64::MAX`: never).
    deadline: AtomicU64,
    /// The `VmContext::interrupt` word of each of the store's instances; emptied when the
    /// store drops, before the instances go (see [`Interrupts::clear`]).
    words: Mutex<Vec<Word>>,
    /// Whether the thread running the store is signalled when the words are set.
    signal: bool,
    /// The thread running the store's wasm, and how many entries into wasm it has made
    /// (0: none runs it).
    running: Mutex<(libc::pthread_t, u32)>,
}

/// The store's record of the thread that runs its wasm, dropped when that entry returns.
pub(crate) struct Running<'a>(Option<&'a Interrupts>);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            i.running.lock().1 -= 1;
        }
    }
}

/// The address of an instance's interrupt word.
struct Word(*const AtomicUsize);

// SAFETY: the word is atomic, and its instance lives until the store's drop empties the
// list that holds it (under the list's lock, which every user of it takes).
unsafe impl Send for Word {}

impl Interrupts {
    /// A store's record; `signal`: whether the engine's code leaves loops untested, so
    /// that the thread running the store must be signalled.
    pub(crate) fn new(signal: bool) -> Interrupts {
        Interrupts {
            deadline: AtomicU64::new(u64::MAX),
            words: Mutex::new(Vec::new()),
            signal,
            running: Mutex::new((crate::code::this_thread(), 0)),
        }
    }

    /// Records that this thread runs the store's wasm until the result is dropped (one
    /// entry from Rust into wasm; entries nest on one thread).
    pub(crate) fn enter(&self) -> Running<'_> {
        if !self.signal {
            return Running(None);
        }
        let mut running = self.running.lock();
        if running.1 == 0 {
            running.0 = crate::code::this_thread();
        }
        running.1 += 1;
        Running(Some(self))
    }

    /// Adds an instance's word, set where the deadline has passed at `epoch`.
    ///
    /// # Safety
    ///
    /// `word` stays valid until [`Interrupts::clear`].
    pub(crate) unsafe fn add(&self, word: *const AtomicUsize, epoch: u64) {
        let mut words = self.words.lock();
        words.push(Word(word));
        if epoch >= self.deadline.load(Ordering::SeqCst) {
            // SAFETY: the caller's contract.
            unsafe { (*word).store(1, Ordering::SeqCst) };
        }
    }

    /// Forgets every word: the store is going.
    pub(crate) fn clear(&self) {
        self.words.lock().clear();
    }

    /// Sets or clears the word of every instance; returns whether one of them changed.
    fn set_all(&self, on: bool) -> bool {
        let mut changed = false;
        for w in self.words.lock().iter() {
            // SAFETY: a listed word is valid (`add`).
            changed |= unsafe { (*w.0).swap(usize::from(on), Ordering::SeqCst) } != usize::from(on);
        }
        changed
    }

    /// An increment of the epoch to `epoch`: sets the words where it reaches the deadline,
    /// and signals the thread running the store where one was clear, again until the store
    /// takes the interrupt (one that was already set has its signals under way, or a
    /// thread that tests it on its way back into wasm).
    pub(crate) fn epoch_reached(self: &Arc<Self>, epoch: u64) {
        if epoch >= self.deadline.load(Ordering::SeqCst)
            && self.set_all(true)
            && self.signal
            && self.signal_running()
        {
            resend_until_taken(self);
        }
    }

    /// Signals the thread running the store, if one does; returns whether one did.
    fn signal_running(&self) -> bool {
        let running = self.running.lock();
        if running.1 == 0 {
            return false;
        }
        // SAFETY: the thread is inside an entry into wasm, which it leaves only after
        // taking this lock.
        unsafe { crate::code::preempt_thread(running.0) };
        true
    }

    /// The epoch handling where the host enters the store's wasm at context `vmctx`, or
    /// a host function returns into it: what the `epoch` libcall does where the engine's
    /// code does not test the word at its entries and after its calls (`signal`) and the
    /// context's word is set, else [`tierup_abi::STATUS_OK`].
    ///
    /// # Safety
    ///
    /// `vmctx` is the context of a live instance of this store, which nothing borrows.
    pub(crate) unsafe fn at_host_boundary(&self, vmctx: *mut tierup_abi::VmContext) -> u32 {
        // SAFETY: the caller's contract; every instance's word is set with the others.
        if !self.signal || unsafe { (*vmctx).interrupt.load(Ordering::SeqCst) } == 0 {
            return tierup_abi::STATUS_OK;
        }
        // SAFETY: the caller's contract.
        unsafe { crate::libcalls::epoch(vmctx) }
    }

    /// Whether a word is set.
    fn any_set(&self) -> bool {
        // SAFETY: a listed word is valid (`add`).
        let words = self.words.lock();
        words
            .iter()
            .any(|w| unsafe { (*w.0).load(Ordering::SeqCst) } != 0)
    }

    /// Signals the thread running the store again if a word is still set (the store has
    /// not taken the interrupt); returns whether it did.
    fn signal_again(&self) -> bool {
        self.any_set() && self.signal_running()
    }

    /// Sets the deadline, and the words by it (`now` reads the engine's epoch).
    pub(crate) fn set_deadline(&self, deadline: u64, now: impl Fn() -> u64) {
        self.deadline.store(deadline, Ordering::SeqCst);
        self.set_all(false);
        if now() >= deadline {
            self.set_all(true);
        }
    }

    /// Clears the words, then says whether the deadline has passed at `now()`.
    fn take(&self, now: impl Fn() -> u64) -> bool {
        self.set_all(false);
        now() >= self.deadline.load(Ordering::SeqCst)
    }
}

/// The stores whose thread was signalled and has not taken the interrupt yet, for the
/// thread that signals them again.
static UNTAKEN: Mutex<Vec<Weak<Interrupts>>> = Mutex::new(Vec::new());
static UNTAKEN_ADDED: Condvar = Condvar::new();

/// Makes sure the thread running the store is signalled again, 1 ms after the first and
/// then at growing intervals up to 10 ms, for as long as it runs the store's wasm and the
/// store has not taken the interrupt: a signal can be lost (met inside another handler of
/// the embedder's, or merged with a pending `SIGURG` that is not ours), and a thread that
/// sits in a host call meanwhile takes it on its way back.
fn resend_until_taken(interrupts: &Arc<Interrupts>) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("tierup-preempt".into())
            .spawn(resend_loop);
        if let Err(e) = spawned {
            tracing::warn!(target: "tierup::interrupt", "no thread to signal interrupted stores again: {e}");
        }
    });
    let mut untaken = UNTAKEN.lock();
    if !untaken
        .iter()
        .any(|w| w.as_ptr() == Arc::as_ptr(interrupts))
    {
        untaken.push(Arc::downgrade(interrupts));
        UNTAKEN_ADDED.notify_one();
    }
}

/// The thread of [`resend_until_taken`].
fn resend_loop() {
    let mut delay = Duration::from_millis(1);
    loop {
        {
            let mut untaken = UNTAKEN.lock();
            while untaken.is_empty() {
                delay = Duration::from_millis(1);
                UNTAKEN_ADDED.wait(&mut untaken);
            }
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
        // Signalled outside the list's lock: `signal_again` takes the store's locks.
        let stores: Vec<Weak<Interrupts>> = core::mem::take(&mut *UNTAKEN.lock());
        let again: Vec<Weak<Interrupts>> = stores
            .into_iter()
            .filter(|w| w.upgrade().is_some_and(|i| i.signal_again()))
            .collect();
        UNTAKEN.lock().extend(again);
    }
}

/// What a store does where code found its interrupt word set (the `epoch` libcall):
/// [`tierup_abi::STATUS_OK`] to go on, or the status of a recorded trap.
///
/// # Safety
///
/// `store` is a live store that nothing else borrows during the call (the thread that runs
/// its code is in the libcall).
pub(crate) unsafe fn deadline_passed(store: *mut StoreOpaque) -> u32 {
    use crate::store::{OnDeadline, UpdateDeadline};
    use tierup_abi::{STATUS_OK, trap};
    // SAFETY: the caller's contract; the borrow ends before the callback runs.
    let callback = unsafe {
        let opaque = &mut *store;
        let engine = opaque.engine.clone();
        if !opaque.interrupts.take(|| engine.epoch()) {
            // Set for an older deadline, or moved on meanwhile.
            return STATUS_OK;
        }
        match &mut opaque.on_deadline {
            OnDeadline::Trap => return interrupt(opaque),
            OnDeadline::Callback(callback) => callback.take(),
        }
    };
    // A callback that runs calls no other (it is taken out while it runs): should its wasm
    // find the deadline passed, it traps.
    let Some(mut callback) = callback else {
        // SAFETY: as above.
        return interrupt(unsafe { &*store });
    };
    let result = {
        let _host = tierup_abi::running::enter(tierup_abi::running::HOST);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(store)))
    };
    // SAFETY: the callback's borrow of the store has ended.
    let opaque = unsafe { &mut *store };
    if let OnDeadline::Callback(slot @ None) = &mut opaque.on_deadline {
        *slot = Some(callback);
    }
    match result {
        Ok(Ok(UpdateDeadline::Continue(ticks))) => {
            opaque.set_epoch_deadline(ticks);
            STATUS_OK
        }
        Ok(Ok(UpdateDeadline::Interrupt)) => interrupt(opaque),
        Ok(Err(e)) => {
            opaque.interrupts.set_all(true);
            trap::record_host_error(Box::new(e))
        }
        Err(_) => {
            opaque.interrupts.set_all(true);
            trap::record_host_error(Box::new(anyhow::anyhow!(
                "the epoch deadline callback panicked"
            )))
        }
    }
}

/// The trap `interrupt`, the deadline left passed: the words stay set, so that code of the
/// store stops again at once until a new deadline is set.
fn interrupt(opaque: &StoreOpaque) -> u32 {
    opaque.interrupts.set_all(true);
    tierup_abi::trap::record(tierup_abi::TrapCode::Interrupt)
}
