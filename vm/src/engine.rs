//! [`Engine`]: the configuration shared by modules and stores, and the engine-wide
//! signature registry that gives every distinct [`FuncType`] one canonical `u32` id.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::Result;
use crate::config::{Config, TierMode};
use crate::types::FuncType;

/// Canonical signature ids, one per distinct function type.
#[derive(Default)]
struct Signatures {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

struct EngineInner {
    config: Config,
    signatures: RwLock<Signatures>,
}

/// The global context of modules and stores. Cheap to clone (shared).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::from_config(Config::default())
    }
}

impl Engine {
    /// An engine with the given configuration; fails for tier modes not available yet.
    pub fn new(config: &Config) -> Result<Engine> {
        if config.tier != TierMode::Interp {
            anyhow::bail!("tier mode `{}` is not available yet", config.tier);
        }
        Ok(Engine::from_config(config.clone()))
    }

    fn from_config(config: Config) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                config,
                signatures: RwLock::new(Signatures::default()),
            }),
        }
    }

    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The canonical id of `ty`, registering it on first use.
    pub(crate) fn signature_id(&self, ty: &FuncType) -> u32 {
        if let Some(id) = self.inner.signatures.read().ids.get(ty) {
            return *id;
        }
        let mut sigs = self.inner.signatures.write();
        if let Some(id) = sigs.ids.get(ty) {
            return *id;
        }
        let id = u32::try_from(sigs.types.len()).unwrap_or(u32::MAX);
        sigs.types.push(ty.clone());
        sigs.ids.insert(ty.clone(), id);
        id
    }

    /// The function type of canonical id `id`.
    pub(crate) fn signature(&self, id: u32) -> FuncType {
        self.inner
            .signatures
            .read()
            .types
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| FuncType::new([], []))
    }
}
