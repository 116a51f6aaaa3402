//! Decoding of a validated module into [`ModuleInfo`]: imports, exports, globals, tables,
//! memories, element and data segments, the start function, custom sections and names, plus
//! the [`ModuleEnv`] handed to the tiers, which `tierup-abi`'s decoder builds in the same
//! pass (the tiers' test kit uses that decoder too).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tierup_abi::{Entry, ModuleEnv, ModuleEnvBuilder};
use wasmparser::{ExternalKind, Name, Parser, Payload, TableInit, TypeRef};

use crate::Result;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType};

/// A constant expression of WebAssembly 2.0, decoded by the shared decoder of `tierup-abi`.
pub(crate) use tierup_abi::ConstExpr;

/// One import.
#[derive(Clone, Debug)]
pub(crate) struct ImportInfo {
    pub module: String,
    pub name: String,
    pub ty: ExternType,
}

/// What an export refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
}

/// One export.
#[derive(Clone, Debug)]
pub(crate) struct ExportInfo {
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

/// How an element segment is used, one element segment and one data segment: decoded by
/// the shared decoder of `tierup-abi`.
pub(crate) use tierup_abi::{DataSegment as DataInfo, ElemMode, ElemSegment as ElemInfo};

/// Everything the runtime knows about a module.
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    pub name: Option<String>,
    pub func_names: HashMap<u32, String>,
    pub types: Vec<FuncType>,
    pub funcs: Vec<u32>,
    pub imports: Vec<ImportInfo>,
    pub exports: Vec<ExportInfo>,
    pub num_imported_funcs: u32,
    pub num_imported_tables: u32,
    pub num_imported_memories: u32,
    pub num_imported_globals: u32,
    pub tables: Vec<(TableType, Option<ConstExpr>)>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<(GlobalType, ConstExpr)>,
    pub elems: Vec<ElemInfo>,
    pub datas: Vec<DataInfo>,
    pub start: Option<u32>,
    pub custom: Vec<(String, Range<usize>)>,
}

impl ModuleInfo {
    /// The type of function `index` (imports first).
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let ty = *self.funcs.get(index as usize)?;
        self.types.get(ty as usize)
    }

    /// The type of global `index` (imports first).
    pub fn global_type(&self, index: u32) -> Option<GlobalType> {
        self.imports
            .iter()
            .filter_map(|i| i.ty.global().copied())
            .chain(self.globals.iter().map(|g| g.0))
            .nth(index as usize)
    }

    /// The type of table `index` (imports first).
    pub fn table_type(&self, index: u32) -> Option<TableType> {
        self.imports
            .iter()
            .filter_map(|i| i.ty.table().copied())
            .chain(self.tables.iter().map(|t| t.0))
            .nth(index as usize)
    }

    /// The type of memory `index` (imports first).
    pub fn memory_type(&self, index: u32) -> Option<MemoryType> {
        self.imports
            .iter()
            .filter_map(|i| i.ty.memory().copied())
            .chain(self.memories.iter().copied())
            .nth(index as usize)
    }

    /// The type of an export.
    pub fn export_type(&self, e: &ExportInfo) -> Option<ExternType> {
        Some(match e.kind {
            ExportKind::Func => ExternType::Func(self.func_type(e.index)?.clone()),
            ExportKind::Table => ExternType::Table(self.table_type(e.index)?),
            ExportKind::Memory => ExternType::Memory(self.memory_type(e.index)?),
            ExportKind::Global => ExternType::Global(self.global_type(e.index)?),
        })
    }
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
    Ok(ConstExpr::decode(expr)?)
}

/// Decodes a module that already passed validation, in one pass over its payloads: the
/// shared [`ModuleEnvBuilder`] records what the tiers see, and hands each type, import,
/// table, memory and global it decoded to this function for what only the runtime needs.
pub(crate) fn parse(wasm: &Arc<[u8]>) -> Result<(ModuleInfo, ModuleEnv)> {
    let mut info = ModuleInfo::default();
    let mut builder = ModuleEnvBuilder::new(wasm.clone(), wasmparser::WasmFeatures::WASM2);
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        builder.payload_with(&payload, |entry| record(&mut info, entry))?;
        match payload {
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => anyhow::bail!("tags are not supported"),
                    };
                    info.exports.push(ExportInfo {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    info.elems.push(ElemInfo::decode(elem?)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    info.datas.push(DataInfo::decode(data?)?);
                }
            }
            Payload::CustomSection(reader) => {
                let start = reader.data_offset() as usize;
                let range = start..start + reader.data().len();
                if reader.name() == "name" {
                    read_names(&mut info, reader.data(), start);
                }
                info.custom.push((reader.name().to_string(), range));
            }
            _ => {}
        }
    }
    Ok((info, builder.finish()?))
}

/// Records in `info` what the runtime needs of one entry the shared decoder decoded.
fn record(info: &mut ModuleInfo, entry: Entry<'_, '_>) -> Result<()> {
    match entry {
        Entry::Type(ty) => info.types.push(FuncType::from_wasmparser(ty)),
        Entry::Import(import) => {
            let ty = match import.ty {
                TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                    info.funcs.push(t);
                    info.num_imported_funcs += 1;
                    let ft = info.types.get(t as usize).cloned();
                    ExternType::Func(ft.ok_or_else(|| anyhow::anyhow!("bad type index"))?)
                }
                TypeRef::Table(t) => {
                    info.num_imported_tables += 1;
                    ExternType::Table(TableType::from_wasmparser(&t))
                }
                TypeRef::Memory(m) => {
                    info.num_imported_memories += 1;
                    ExternType::Memory(MemoryType::from_wasmparser(&m))
                }
                TypeRef::Global(g) => {
                    info.num_imported_globals += 1;
                    ExternType::Global(GlobalType::from_wasmparser(&g))
                }
                TypeRef::Tag(_) => anyhow::bail!("tags are not supported"),
            };
            info.imports.push(ImportInfo {
                module: import.module.to_string(),
                name: import.name.to_string(),
                ty,
            });
        }
        Entry::Function(t) => info.funcs.push(t),
        Entry::Table(table) => {
            let init = match &table.init {
                TableInit::RefNull => None,
                TableInit::Expr(e) => Some(const_expr(e)?),
            };
            info.tables
                .push((TableType::from_wasmparser(&table.ty), init));
        }
        Entry::Memory(m) => info.memories.push(MemoryType::from_wasmparser(m)),
        Entry::Global(g) => info.globals.push((
            GlobalType::from_wasmparser(&g.ty),
            const_expr(&g.init_expr)?,
        )),
    }
    Ok(())
}

/// Reads the module and function names of a name section, ignoring malformed parts (a
/// custom section never makes a module invalid).
fn read_names(info: &mut ModuleInfo, data: &[u8], offset: usize) {
    let reader =
        wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(data, offset as u64));
    for name in reader {
        let Ok(name) = name else { return };
        match name {
            Name::Module { name, .. } => info.name = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let Ok(naming) = naming else { break };
                    info.func_names
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
}
