//! The compile workers: a queue (crossbeam) and a pool of threads that compile functions
//! in the background and publish the code into the slots of every live instance of the
//! function's module, while the program keeps running.
//!
//! A job names its module weakly: a job of a module dropped meanwhile is discarded when a
//! worker takes it, and a compilation in progress keeps the module alive until it is
//! published (or dropped, if no instance is left). Jobs are deduplicated per module
//! function and kind of code by the module (see `ModuleInner::queue_all`), so a function
//! hot in two instances is compiled once. A failed compilation leaves the function in its
//! tier and says so in an event. Workers hold no reference to the engine: they end when
//! the engine, the last holder of the queue's sender, is dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Weak;
use std::time::Instant;

use crossbeam_channel::{Sender, unbounded};
use tierup_abi::Tier;

use crate::module::ModuleInner;

/// One function to compile.
pub(crate) struct Job {
    pub module: Weak<ModuleInner>,
    pub func_index: u32,
    pub tier: Tier,
    pub bounds_checks: bool,
}

/// The queue of an engine's workers.
pub(crate) struct Workers {
    queue: Sender<Job>,
}

impl Workers {
    /// Starts `threads` workers (at least one).
    pub fn start(threads: usize) -> std::io::Result<Workers> {
        let threads = threads.max(1);
        let (queue, jobs) = unbounded::<Job>();
        for i in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("tierup-worker-{i}"))
                .spawn(move || {
                    for job in jobs.iter() {
                        run(job, i);
                    }
                })?;
        }
        Ok(Workers { queue })
    }

    /// Queues `job`.
    pub fn submit(&self, job: Job) {
        // The receivers live as long as the workers, which only end when this sender is
        // dropped: sending cannot fail while `self` exists.
        let _ = self.queue.send(job);
    }
}

/// Compiles and publishes one job on worker `worker`.
fn run(job: Job, worker: usize) {
    let Some(module) = job.module.upgrade() else {
        tracing::debug!(
            target: "tierup::tiering",
            func_index = job.func_index,
            worker,
            "discarded: the module was dropped"
        );
        return;
    };
    let started = Instant::now();
    tracing::debug!(
        target: "tierup::tiering",
        func_index = job.func_index,
        tier = job.tier.name(),
        worker,
        "compile start"
    );
    let result = catch_unwind(AssertUnwindSafe(|| {
        module.compile_and_publish(job.func_index, job.tier, job.bounds_checks)
    }));
    match result {
        Ok(Ok(())) => tracing::debug!(
            target: "tierup::tiering",
            func_index = job.func_index,
            tier = job.tier.name(),
            worker,
            micros = started.elapsed().as_micros() as u64,
            "compile finish"
        ),
        Ok(Err(e)) => tracing::warn!(
            target: "tierup::tiering",
            func_index = job.func_index,
            tier = job.tier.name(),
            worker,
            error = %format!("{e:#}"),
            "compile failed: the function stays in its tier"
        ),
        Err(_) => tracing::warn!(
            target: "tierup::tiering",
            func_index = job.func_index,
            tier = job.tier.name(),
            worker,
            "compile panicked: the function stays in its tier"
        ),
    }
}
