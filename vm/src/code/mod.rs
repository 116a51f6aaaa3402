//! The runtime of machine code, shared by every JIT tier: a tier returns bytes and tables
//! (`tierup_abi::MachineCode`), and everything executable happens here.
//!
//! * `arena` — executable memory per owner ([`CodeMemory`]): bytes copied into pages of
//!   their own, relocations applied, then read+execute for good (never writable and
//!   executable at once, never moved, freed with the owner).
//! * `registry` — the process-wide map from code addresses to trap tables and wasm offset
//!   maps, readable from a signal handler (no allocation, no lock).
//! * `signals` — the handler of SIGSEGV, SIGBUS, SIGILL and SIGFPE (faults in generated
//!   code become traps; others go to the previous handler) and the alternate signal
//!   stacks.
//! * `activation` — the entry trampoline ([`jit_entry`], the array entry of all machine
//!   code), the per-thread chain of unwind points, the `raise` libcall and the backtrace
//!   walk through the frame-pointer chain.
//! * `stack` — the per-thread stack limit every tier checks, set on entry into wasm
//!   ([`enter_wasm`]).
//! * `preempt` — the signal that stops a thread in machine code that tests no interrupt
//!   word (optimized code, but for a few places) and sends it into the epoch handling.
//! * `sampler` — the tier sampler: a profiling timer whose `SIGPROF` handler classifies
//!   the interrupted PC by tier and function (the registry, then the thread's
//!   `tierup_abi::running` word).
//! * `perf` — the perf map and jitdump files that name the code for Linux `perf`.

mod activation;
mod arena;
mod perf;
mod preempt;
mod registry;
mod sampler;
mod signals;
mod stack;

pub(crate) use activation::{EPOCH_PRESERVING, RAISE, jit_entry, resolving_entry};
pub(crate) use arena::CodeMemory;
pub(crate) use perf::PerfSinks;
pub use perf::{jitdump_path, perf_map_path};
pub use preempt::preemptions;
pub(crate) use preempt::{install as install_preemption, send as preempt_thread, this_thread};
pub(crate) use registry::CodeOwner;
pub(crate) use sampler::SampleOwner;
pub use sampler::Sampler;
pub(crate) use signals::install as install_signal_handlers;
pub(crate) use stack::enter_wasm;

#[cfg(test)]
mod tests;
