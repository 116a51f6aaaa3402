//! The compile workers: a priority queue of jobs and a pool of threads that run them in
//! the background while the program keeps running.
//!
//! The queue is a heap ordered by [`Priority`] (OSR entries first, then the engine's own
//! tasks, then baseline compiles, then optimizing ones; functions by hotness, hottest
//! first, oldest first among equals), with a
//! crossbeam channel that carries one wake-up per queued job: a worker blocks on the
//! channel and, woken, takes the best job in the heap (not necessarily the one whose
//! wake-up it got). A job whose function became hotter while it waited is pushed again
//! with the new heat; the copy left behind finds the function taken when it comes up and
//! does nothing (see `tiering::Requests`).
//!
//! Where the chain has the baseline tier, one more thread, the *baseline lane*, takes only
//! the baseline tier's jobs (its functions and its OSR entries, which take microseconds),
//! from a heap of their own; the other workers take the best job of both heaps. So a warm
//! function leaves the interpreter at once even while every other worker is in the middle
//! of a long optimizing compile (the timeline of QuickJS showed functions waiting in the
//! interpreter for 150 ms behind the one worker's Cranelift compiles). The lane's thread
//! wakes on the baseline jobs only (a channel of its own): each baseline job sends a
//! wake-up to both channels, and whichever thread comes first takes it; every wake-up of
//! the other workers still finds a job or an empty heap, so none is lost.
//!
//! Workers hold no reference to the engine: they end when the engine, the last holder
//! of the channel's sender, is dropped. A job names its module weakly, so a queued job
//! does not keep a dropped module alive (see `tiering::run_job`).

use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Sender, unbounded};
use parking_lot::Mutex;

use tierup_abi::Tier;

use super::Job;

/// How urgent a job is; greater first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Priority {
    /// A function to compile with the optimizing tier, with how urgent it is (its heat,
    /// the number of times it ran out of its budget, per byte of its body:
    /// `ModuleInner::urgency`; 0 for the eager mode's compiles).
    Function(u32),
    /// A function to compile with the baseline tier, with how hot it is: a short job,
    /// taken before the optimizing tier's.
    Baseline(u32),
    /// A task of the embedding API (a module compiled in the background), which someone
    /// waits for.
    Task,
    /// An OSR entry, which a running activation waits for.
    Osr,
    /// The code of a function whose activations keep arriving in a loop that already
    /// has an OSR entry (`ModuleInner::reentered`): every new call waits for it. With
    /// its urgency, as for `Function`.
    Reentered(u32),
}

struct Queued {
    priority: Priority,
    /// Submission order: earlier first among equal priorities.
    seq: u64,
    job: Job,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Queued) -> bool {
        (self.priority, self.seq) == (other.priority, other.seq)
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Queued) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Queued) -> core::cmp::Ordering {
        // The heap is a max-heap: greater priority first, then smaller sequence numbers.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// The stack of a worker thread: Cranelift's passes recurse over large functions (real
/// programs have bodies of hundreds of kilobytes), more than a default thread's 2 MiB
/// guarantees.
const WORKER_STACK: usize = 16 << 20;

struct Shared {
    heap: Mutex<BinaryHeap<Queued>>,
    /// The baseline lane's jobs, where there is a lane.
    quick: Mutex<BinaryHeap<Queued>>,
    seq: AtomicU64,
}

impl Shared {
    /// The best job of both heaps.
    fn pop_any(&self) -> Option<Queued> {
        let mut heap = self.heap.lock();
        let mut quick = self.quick.lock();
        match (heap.peek(), quick.peek()) {
            (Some(h), Some(q)) if q > h => quick.pop(),
            (Some(_), _) => heap.pop(),
            (None, _) => quick.pop(),
        }
    }
}

/// The queue and threads of an engine's workers.
pub(crate) struct Workers {
    shared: Arc<Shared>,
    wake: Sender<()>,
    /// The baseline lane's wake-ups, where there is a lane.
    wake_quick: Option<Sender<()>>,
}

impl Workers {
    /// Starts `threads` workers (at least one), and the baseline lane's thread where
    /// `baseline_lane`.
    pub fn start(threads: usize, baseline_lane: bool) -> std::io::Result<Workers> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            heap: Mutex::new(BinaryHeap::new()),
            quick: Mutex::new(BinaryHeap::new()),
            seq: AtomicU64::new(0),
        });
        let spawn = |name: String, work: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .stack_size(WORKER_STACK)
                .spawn(work)
                .map(drop)
        };
        let (wake, woken) = unbounded::<()>();
        for i in 0..threads {
            let woken = woken.clone();
            let shared = shared.clone();
            spawn(
                format!("tierup-worker-{i}"),
                Box::new(move || {
                    for () in woken.iter() {
                        // One wake-up per job (and one more per baseline job, which the
                        // lane may have taken): the heaps hold a job or are empty.
                        if let Some(q) = shared.pop_any() {
                            super::run_job(q.job);
                        }
                    }
                }),
            )?;
        }
        let wake_quick = if baseline_lane {
            let (wake_quick, woken) = unbounded::<()>();
            let shared = shared.clone();
            spawn(
                "tierup-worker-baseline".to_string(),
                Box::new(move || {
                    for () in woken.iter() {
                        let next = shared.quick.lock().pop();
                        if let Some(q) = next {
                            super::run_job(q.job);
                        }
                    }
                }),
            )?;
            Some(wake_quick)
        } else {
            None
        };
        Ok(Workers {
            shared,
            wake,
            wake_quick,
        })
    }

    /// Queues `job` with `priority`.
    pub fn submit(&self, job: Job, priority: Priority) {
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let queued = Queued { priority, seq, job };
        // The receivers live as long as the workers, which only end when these senders
        // are dropped: sending cannot fail while `self` exists.
        match &self.wake_quick {
            Some(quick) if queued.job.tier() == Some(Tier::Baseline) => {
                self.shared.quick.lock().push(queued);
                let _ = quick.send(());
            }
            _ => self.shared.heap.lock().push(queued),
        }
        let _ = self.wake.send(());
    }

    /// The number of jobs waiting (some of them may be stale copies).
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.shared.heap.lock().len() + self.shared.quick.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_reentered_then_osr_then_tasks_then_baseline_then_the_most_urgent() {
        let mut heap = BinaryHeap::new();
        let job = || Job::Task(Box::new(|| {}));
        for (seq, priority) in [
            Priority::Function(3),
            Priority::Function(9),
            Priority::Task,
            Priority::Function(9),
            Priority::Osr,
            Priority::Function(0),
            Priority::Baseline(1),
            Priority::Reentered(1),
            Priority::Reentered(7),
        ]
        .into_iter()
        .enumerate()
        {
            heap.push(Queued {
                priority,
                seq: seq as u64,
                job: job(),
            });
        }
        let order: Vec<(Priority, u64)> = core::iter::from_fn(|| heap.pop())
            .map(|q| (q.priority, q.seq))
            .collect();
        assert_eq!(
            order,
            [
                (Priority::Reentered(7), 8),
                (Priority::Reentered(1), 7),
                (Priority::Osr, 4),
                (Priority::Task, 2),
                (Priority::Baseline(1), 6),
                (Priority::Function(9), 1),
                (Priority::Function(9), 3),
                (Priority::Function(3), 0),
                (Priority::Function(0), 5),
            ]
        );
    }

    /// A compile job of a module that is gone: a worker discards it at once.
    fn orphan(tier: Tier) -> Job {
        Job::Compile {
            module: std::sync::Weak::new(),
            func_index: 0,
            tier,
            bounds_checks: false,
        }
    }

    #[test]
    fn the_baseline_lane_takes_baseline_jobs_while_the_workers_are_busy() {
        let workers = Workers::start(1, true).unwrap();
        let (started_tx, started) = crossbeam_channel::bounded(1);
        let (release, blocked) = crossbeam_channel::bounded::<()>(0);
        workers.submit(
            Job::Task(Box::new(move || {
                started_tx.send(()).unwrap();
                let _ = blocked.recv();
            })),
            Priority::Function(0),
        );
        // The only worker is busy now.
        started.recv().unwrap();
        workers.submit(orphan(Tier::Optimizing), Priority::Function(5));
        workers.submit(orphan(Tier::Baseline), Priority::Baseline(1));
        let start = std::time::Instant::now();
        // The lane takes the baseline job and leaves the optimizing one to the worker.
        while workers.waiting() > 1 {
            assert!(
                start.elapsed().as_secs() < 60,
                "the lane did not take its job"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(workers.waiting(), 1, "the lane took an optimizing job");
        release.send(()).unwrap();
        while workers.waiting() > 0 {
            assert!(
                start.elapsed().as_secs() < 60,
                "the worker did not take its job"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn every_submitted_task_runs() {
        let workers = Workers::start(2, false).unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        for i in 0..100 {
            let tx = tx.clone();
            workers.submit(
                Job::Task(Box::new(move || tx.send(i).unwrap())),
                Priority::Function(i),
            );
        }
        let mut got: Vec<u32> = (0..100).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert_eq!(workers.waiting(), 0);
    }
}
