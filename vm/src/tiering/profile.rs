//! The tier profile of a store: how often each function was called and where the
//! sampled thread's time went, per function and tier. Calls are counted by the code
//! itself ([`Config::count_calls`](crate::Config::count_calls)), time by a
//! [`Sampler`] on the thread that runs the store; [`Store::tier_profile`] reads both and
//! names the functions, and [`TierReport::add_profile`](super::TierReport::add_profile)
//! puts the result into the tier report.

use std::collections::HashMap;
use std::time::Duration;

use tierup_abi::VmContext;

use super::tier_index;
use crate::Store;
use crate::code::{SampleOwner, Sampler};
use crate::module::ModuleInner;

/// What the profile says of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionProfile {
    /// The module's name (`<unknown>` for a module without one), as in the tier events.
    pub module: String,
    /// The function's index in its module.
    pub func_index: u32,
    /// Its name (from the name section, else `func[N]`).
    pub name: String,
    /// Its calls, in every instance of the store (0 unless the engine counts them).
    pub calls: u64,
    /// The sampled CPU time it ran in each tier (indexed by [`tier_index`]).
    pub time: [Duration; 3],
}

impl FunctionProfile {
    /// Its sampled time in all tiers.
    pub fn total_time(&self) -> Duration {
        self.time.iter().sum()
    }
}

/// The tier profile of a store at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierProfile {
    /// The functions that were called or sampled, most sampled time first (then by
    /// calls).
    pub functions: Vec<FunctionProfile>,
    /// Whether the code counted calls ([`Config::count_calls`](crate::Config::count_calls)):
    /// else every function's `calls` is 0.
    pub calls_counted: bool,
    /// The samples taken (0 without a sampler).
    pub samples: u64,
    /// The CPU time they stand for: each sample weighs the thread's CPU time since the
    /// one before (the first: since the sampler started).
    pub sampled: Duration,
    /// Of it, the time in host functions.
    pub host: Duration,
    /// The time in the runtime itself: compiles on the program's thread, libcalls,
    /// instantiation, the embedder's own code.
    pub runtime: Duration,
    /// The time in wasm functions the profile cannot name (of an instance no longer in
    /// the store, or more distinct functions than the sampler has room for).
    pub unnamed: Duration,
}

impl<T> Store<T> {
    /// The tier profile of this store: the calls its instances' functions have counted,
    /// and, with `sampler` (started on the thread that runs the store), the samples of
    /// each function in each tier. See [`TierProfile`].
    pub fn tier_profile(&self, sampler: Option<&Sampler>) -> TierProfile {
        let instances = &self.inner.opaque.instances;
        let mut by_module: HashMap<*const (), &ModuleInner> = HashMap::new();
        let mut by_instance: HashMap<*const VmContext, *const ()> = HashMap::new();
        let mut functions: HashMap<(*const (), u32), FunctionProfile> = HashMap::new();
        for inst in instances {
            let module: &ModuleInner = &inst.module.inner;
            let id = module as *const ModuleInner as *const ();
            by_module.insert(id, module);
            by_instance.insert(&inst.vmctx, id);
            let imported = module.env.num_imported_funcs;
            for (i, slot) in inst.entries.iter().enumerate() {
                let calls = slot.calls.load(core::sync::atomic::Ordering::Relaxed);
                if calls > 0 {
                    let func_index = imported + i as u32;
                    entry(&mut functions, module, id, func_index).calls += calls;
                }
            }
        }
        let mut profile = TierProfile {
            calls_counted: self.inner.opaque.engine.counts_calls(),
            ..TierProfile::default()
        };
        if let Some(sampler) = sampler {
            let table = sampler.table();
            profile.samples = table.samples();
            profile.sampled = table.total();
            profile.host = table.host();
            profile.runtime = table.runtime();
            profile.unnamed = table.lost();
            for s in table.functions() {
                let id = match s.owner {
                    SampleOwner::Module(m) => Some(m),
                    SampleOwner::Instance(v) => by_instance.get(&v).copied(),
                };
                let found = id.and_then(|id| Some((id, *by_module.get(&id)?)));
                let time = Duration::from_nanos(s.nanos);
                match (found, tier_index(s.tier)) {
                    (Some((id, module)), Some(t)) => {
                        entry(&mut functions, module, id, s.func_index).time[t] += time;
                    }
                    _ => profile.unnamed += time,
                }
            }
        }
        profile.functions = functions.into_values().collect();
        profile.functions.sort_by(|a, b| {
            b.total_time()
                .cmp(&a.total_time())
                .then(b.calls.cmp(&a.calls))
                .then_with(|| (&a.module, a.func_index).cmp(&(&b.module, b.func_index)))
        });
        profile
    }
}

/// The profile of `func_index` of `module` (identity `id`), made on first use.
fn entry<'a>(
    functions: &'a mut HashMap<(*const (), u32), FunctionProfile>,
    module: &ModuleInner,
    id: *const (),
    func_index: u32,
) -> &'a mut FunctionProfile {
    functions
        .entry((id, func_index))
        .or_insert_with(|| FunctionProfile {
            module: module
                .info
                .name
                .clone()
                .unwrap_or_else(|| "<unknown>".to_string()),
            func_index,
            name: module.func_display_name(func_index),
            calls: 0,
            time: [Duration::ZERO; 3],
        })
}
