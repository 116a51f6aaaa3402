//! What a thread is running, for a sampling profiler: one word per thread that the
//! runtime's profiling signal handler reads, in the signal handler, when the interrupted
//! program counter lies in no machine code of a tier.
//!
//! Machine code needs no marker: the runtime classifies a PC in it through its code
//! registry. What remains is told apart here: the interpreter (whose handlers are
//! ordinary Rust functions) stores a pointer to its activation's state while it runs
//! ([`enter`] with an address), host functions store [`HOST`] while they run, and
//! everything else (the runtime's own code: libcalls, compiles on the program's thread,
//! instantiation) leaves [`NOTHING`]. Each keeps the word it found and puts it back when
//! it is done ([`Restore`]), so the word always names the innermost of them. An
//! interpreter's state is private to it: the runtime asks the interpreter what it means.
//!
//! The word is a constant-initialised thread local without destructor, so a signal
//! handler may read it; the thread it belongs to is the only writer, and the handler runs
//! on that thread, so it sees the word as of an instruction boundary.

use core::cell::Cell;

/// Not wasm, nor a host function: the runtime (the word's value outside any of them).
pub const NOTHING: usize = 0;
/// A host function.
pub const HOST: usize = 1;

thread_local! {
    static RUNNING: Cell<usize> = const { Cell::new(NOTHING) };
}

/// The word of this thread: [`NOTHING`], [`HOST`] or an interpreter's state address.
#[inline]
pub fn current() -> usize {
    RUNNING.with(Cell::get)
}

/// Makes `what` this thread's word until the returned guard is dropped, which puts back
/// the word it replaced.
#[inline]
pub fn enter(what: usize) -> Restore {
    Restore(RUNNING.with(|r| r.replace(what)))
}

/// Puts back the word [`enter`] replaced, when dropped.
#[must_use = "the word is put back when the guard is dropped"]
pub struct Restore(usize);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_nest_and_restore() {
        assert_eq!(current(), NOTHING);
        {
            let _host = enter(HOST);
            assert_eq!(current(), HOST);
            {
                let _interp = enter(0x1000);
                assert_eq!(current(), 0x1000);
            }
            assert_eq!(current(), HOST);
        }
        assert_eq!(current(), NOTHING);
    }
}
