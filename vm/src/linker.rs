//! [`Linker`]: resolves a module's imports by `module::name` from defined items, host
//! functions and registered instances, then instantiates it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Result;
use crate::engine::Engine;
use crate::externs::Extern;
use crate::func::{Caller, Func, HostFn, IntoFunc};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{AsContextMut, StoreInner};
use crate::types::FuncType;
use crate::values::Val;

/// An import could not be resolved or does not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError(pub String);

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LinkError {}

enum Definition<T> {
    Extern(Extern),
    Host(FuncType, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Host(t, f) => Definition::Host(t.clone(), f.clone()),
        }
    }
}

/// Resolves imports by name. Later definitions of the same name replace earlier ones.
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            defs: self.defs.clone(),
        }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
        }
    }

    /// The linker's engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) {
        self.defs
            .insert((module.to_string(), name.to_string()), def);
    }

    /// Defines `module::name` as `item`.
    pub fn define(
        &mut self,
        _store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()));
        Ok(self)
    }

    /// Defines `module::name` as a host function from a typed closure.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_host();
        self.insert(module, name, Definition::Host(ty, host));
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` over [`Val`]s.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = crate::func::dynamic_host_fn(ty.clone(), func);
        self.insert(module, name, Definition::Host(ty, host));
        Ok(self)
    }

    /// Defines `module::name` as a raw host closure over the call's cells (used by
    /// [`crate::wasi`], whose functions all take and return plain integers).
    pub(crate) fn func_raw(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        host: Arc<HostFn<T>>,
    ) -> &mut Self {
        self.insert(module, name, Definition::Host(ty, host));
        self
    }

    /// Instantiates `module` (resolving its imports here) and defines all its exports under
    /// `module_name`.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self> {
        let instance = self.instantiate(&mut store, module)?;
        self.instance(store, module_name, instance)
    }

    /// Defines every export of `instance` under `module_name`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(&mut store) {
            self.insert(module_name, &name, Definition::Extern(item));
        }
        Ok(self)
    }

    fn resolve(&self, store: &mut StoreInner<T>, module: &str, name: &str) -> Option<Extern> {
        match self.defs.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(e) => Some(*e),
            Definition::Host(ty, f) => {
                Some(Extern::Func(Func::from_host(store, ty.clone(), f.clone())))
            }
        }
    }

    /// The item defined as `module::name`, if any.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        self.resolve(store.as_context_mut().0, module, name)
    }

    /// Compiles `bytes` (binary or text) on the engine's worker pool and instantiates the
    /// module in `store` once it is ready, without blocking: see
    /// [`crate::tiering::AsyncInstantiate`]. The errors are those of [`Module::new`] and
    /// [`Linker::instantiate`].
    pub fn instantiate_async<'a>(
        &'a self,
        store: &'a mut impl AsContextMut<Data = T>,
        bytes: impl Into<Vec<u8>>,
    ) -> crate::tiering::AsyncInstantiate<'a, T> {
        crate::tiering::AsyncInstantiate::start(self, store.as_context_mut(), bytes.into())
    }

    /// Instantiates `module`, resolving its imports here.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let store = store.as_context_mut().0;
        let mut imports = Vec::with_capacity(module.imports().len());
        for (i, imp) in module.imports().enumerate() {
            match self.resolve(store, imp.module(), imp.name()) {
                Some(e) => imports.push(e),
                None => {
                    return Err(LinkError(format!(
                        "unknown import: `{}::{}` (import #{i}) has not been defined",
                        imp.module(),
                        imp.name()
                    ))
                    .into());
                }
            }
        }
        Instance::new_in(&mut store.opaque, module, &imports)
    }
}
