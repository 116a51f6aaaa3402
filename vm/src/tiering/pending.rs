//! Compiling and instantiating without blocking: [`AsyncCompile`] and [`AsyncInstantiate`]
//! return at once and complete on the engine's worker pool. Each is a [`Future`] that
//! works with any executor (it keeps the waker of its last poll and wakes it when the
//! work is done) and has a blocking [`AsyncCompile::wait`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::{Condvar, Mutex};

use super::Job;
use super::workers::Priority;
use crate::{Engine, Instance, Linker, Module, Result, StoreContextMut};

/// A value made on another thread, and who waits for it.
struct Slot<T> {
    state: Mutex<(Option<T>, Option<Waker>)>,
    done: Condvar,
}

impl<T> Slot<T> {
    fn new() -> Arc<Slot<T>> {
        Arc::new(Slot {
            state: Mutex::new((None, None)),
            done: Condvar::new(),
        })
    }

    fn fill(&self, value: T) {
        let waker = {
            let mut state = self.state.lock();
            state.0 = Some(value);
            state.1.take()
        };
        self.done.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.lock();
        match state.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn wait(&self) -> T {
        let mut state = self.state.lock();
        loop {
            if let Some(v) = state.0.take() {
                return v;
            }
            self.done.wait(&mut state);
        }
    }
}

/// A module being compiled on the worker pool: [`Module::new_async`]. Resolves to what
/// [`Module::new`] returns for the same bytes.
#[must_use = "the module is only available through the future"]
pub struct AsyncCompile {
    slot: Arc<Slot<Result<Module>>>,
}

impl AsyncCompile {
    pub(crate) fn start(engine: &Engine, bytes: Vec<u8>) -> AsyncCompile {
        let slot = Slot::new();
        let workers = match engine.pool() {
            Ok(w) => w,
            Err(e) => {
                slot.fill(Err(e));
                return AsyncCompile { slot };
            }
        };
        let engine = engine.clone();
        let filled = slot.clone();
        workers.submit(
            Job::Task(Box::new(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    Module::new(&engine, &bytes)
                }))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("compiling the module panicked")));
                filled.fill(result);
            })),
            Priority::Task,
        );
        AsyncCompile { slot }
    }

    /// Blocks until the module is compiled.
    pub fn wait(self) -> Result<Module> {
        self.slot.wait()
    }
}

impl Future for AsyncCompile {
    type Output = Result<Module>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Module>> {
        self.slot.poll(cx)
    }
}

/// A module being compiled on the worker pool and then instantiated:
/// [`Linker::instantiate_async`]. The compile runs on a worker; the instantiation (which
/// needs the store, and runs the start function) runs on the thread that polls or waits,
/// once the module is ready. Resolves to what [`Module::new`] followed by
/// [`Linker::instantiate`] returns.
#[must_use = "the instance is only made when the future is polled or waited for"]
pub struct AsyncInstantiate<'a, T: 'static> {
    compile: AsyncCompile,
    linker: &'a Linker<T>,
    store: StoreContextMut<'a, T>,
}

impl<'a, T: 'static> AsyncInstantiate<'a, T> {
    pub(crate) fn start(
        linker: &'a Linker<T>,
        store: StoreContextMut<'a, T>,
        bytes: Vec<u8>,
    ) -> Self {
        AsyncInstantiate {
            compile: AsyncCompile::start(linker.engine(), bytes),
            linker,
            store,
        }
    }

    /// Blocks until the module is compiled, then instantiates it.
    pub fn wait(mut self) -> Result<Instance> {
        let module = self.compile.slot.wait()?;
        self.linker.instantiate(&mut self.store, &module)
    }
}

impl<T: 'static> Future for AsyncInstantiate<'_, T> {
    type Output = Result<Instance>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Instance>> {
        let this = self.get_mut();
        match this.compile.slot.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(module)) => {
                Poll::Ready(this.linker.instantiate(&mut this.store, &module))
            }
        }
    }
}
