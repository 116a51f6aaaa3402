//! [`ModuleEnv`]: the read-only facts about a validated module that a tier needs to
//! translate one of its function bodies.
//!
//! One `ModuleEnv` is built per module by the decoder in [`crate::decode`] (the runtime's
//! and the test kit's alike), after the module's sections have been validated. Every body a
//! tier is asked to translate has passed validation (with lazy validation, just before), so
//! a tier may treat a malformed body as an internal error rather than a user error.

use std::sync::Arc;

use wasmparser::{FuncType, GlobalType, MemoryType, TableType, ValType};

/// Where one function body lies in the module's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncBodyRange {
    /// Offset of the first byte of the body (its locals declaration) in the module.
    pub start: usize,
    /// Offset one past its last byte (after the final `end`).
    pub end: usize,
}

/// What a tier may know about a module.
#[derive(Debug)]
pub struct ModuleEnv {
    /// The module's bytes (binary format). Body ranges and code offsets index into these.
    pub wasm: Arc<[u8]>,
    /// The module's function types, by type index.
    pub types: Vec<FuncType>,
    /// The type index of every function, imports first.
    pub funcs: Vec<u32>,
    /// How many of `funcs` are imported.
    pub num_imported_funcs: u32,
    /// The body of every defined function (index `func_index - num_imported_funcs`).
    pub bodies: Vec<FuncBodyRange>,
    /// Every global's type, imports first.
    pub globals: Vec<GlobalType>,
    /// Every table's type, imports first.
    pub tables: Vec<TableType>,
    /// Every memory's type, imports first.
    pub memories: Vec<MemoryType>,
    /// The number of data segments.
    pub num_data: u32,
    /// The number of element segments.
    pub num_elems: u32,
    /// The features the module was validated with.
    pub features: wasmparser::WasmFeatures,
}

impl ModuleEnv {
    /// The type of function `func_index`.
    pub fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    /// The bytes of all function bodies together.
    pub fn code_bytes(&self) -> usize {
        self.bodies.iter().map(|b| b.end - b.start).sum()
    }

    /// The body bytes of the defined function `func_index`, and the module offset of their
    /// first byte; `None` for an imported function or an index out of range.
    pub fn body(&self, func_index: u32) -> Option<(&[u8], usize)> {
        let defined = func_index.checked_sub(self.num_imported_funcs)?;
        let range = self.bodies.get(defined as usize)?;
        Some((&self.wasm[range.start..range.end], range.start))
    }

    /// A `wasmparser` reader for the body of the defined function `func_index`.
    pub fn body_reader(&self, func_index: u32) -> Option<wasmparser::FunctionBody<'_>> {
        let (bytes, offset) = self.body(func_index)?;
        Some(wasmparser::FunctionBody::new(
            wasmparser::BinaryReader::new_features(bytes, offset as u64, self.features),
        ))
    }

    /// The signature of a block type.
    pub fn block_sig(&self, ty: wasmparser::BlockType) -> BlockSig<'_> {
        match ty {
            wasmparser::BlockType::Empty => BlockSig::Empty,
            wasmparser::BlockType::Type(t) => BlockSig::Single(t),
            wasmparser::BlockType::FuncType(idx) => BlockSig::Func(&self.types[idx as usize]),
        }
    }
}

/// The parameters and results of a block, `if` or `loop`.
#[derive(Clone, Copy, Debug)]
pub enum BlockSig<'a> {
    /// No parameters, no results.
    Empty,
    /// No parameters, one result.
    Single(ValType),
    /// A function type from the type section.
    Func(&'a FuncType),
}

impl BlockSig<'_> {
    /// The block's parameter types.
    pub fn params(&self) -> &[ValType] {
        match self {
            BlockSig::Empty | BlockSig::Single(_) => &[],
            BlockSig::Func(f) => f.params(),
        }
    }

    /// The block's result types.
    pub fn results(&self) -> &[ValType] {
        match self {
            BlockSig::Empty => &[],
            BlockSig::Single(t) => core::slice::from_ref(t),
            BlockSig::Func(f) => f.results(),
        }
    }
}
