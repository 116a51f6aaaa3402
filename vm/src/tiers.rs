//! The tiers the runtime is built with, as `tierup_abi::Compiler`s. The rest of the
//! runtime knows no tier's types: it asks a compiler for code and loads what it gets.

use tierup_abi::Compiler;

use crate::Result;

/// The optimizing tier for this host.
pub(crate) fn optimizing() -> Result<Box<dyn Compiler>> {
    let tier = tierup_optimizing::Optimizing::new()
        .map_err(|e| anyhow::anyhow!("cannot set up the optimizing tier for this host: {e}"))?;
    Ok(Box::new(tier))
}

/// The CPU time of the calling thread since [`ThreadCpu::start`].
pub(crate) struct ThreadCpu(std::time::Duration);

impl ThreadCpu {
    pub(crate) fn start() -> ThreadCpu {
        ThreadCpu(thread_cpu_time())
    }

    pub(crate) fn elapsed(&self) -> std::time::Duration {
        thread_cpu_time().saturating_sub(self.0)
    }
}

/// The CPU time the calling thread has used.
fn thread_cpu_time() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
