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

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::store::StoreOpaque;

/// The deadline of one store and the interrupt words of its instances.
pub(crate) struct Interrupts {
    /// The epoch at which the store's code stops (`u64::MAX`: never).
    deadline: AtomicU64,
    /// The `VmContext::interrupt` word of each of the store's instances; emptied when the
    /// store drops, before the instances go (see [`Interrupts::clear`]).
    words: Mutex<Vec<Word>>,
}

/// The address of an instance's interrupt word.
struct Word(*const AtomicUsize);

// SAFETY: the word is atomic, and its instance lives until the store's drop empties the
// list that holds it (under the list's lock, which every user of it takes).
unsafe impl Send for Word {}

impl Interrupts {
    pub(crate) fn new() -> Interrupts {
        Interrupts {
            deadline: AtomicU64::new(u64::MAX),
            words: Mutex::new(Vec::new()),
        }
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

    /// Sets or clears the word of every instance.
    fn set_all(&self, on: bool) {
        for w in self.words.lock().iter() {
            // SAFETY: a listed word is valid (`add`).
            unsafe { (*w.0).store(usize::from(on), Ordering::SeqCst) };
        }
    }

    /// An increment of the epoch to `epoch`: sets the words where it reaches the deadline.
    pub(crate) fn epoch_reached(&self, epoch: u64) {
        if epoch >= self.deadline.load(Ordering::SeqCst) {
            self.set_all(true);
        }
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
