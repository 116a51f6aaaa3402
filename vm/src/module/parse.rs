//! Decoding of a validated module into [`ModuleInfo`]: imports, exports, globals, tables,
//! memories, element and data segments, the start function, custom sections and names, plus
//! the [`ModuleEnv`] handed to the tiers.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tierup_abi::{FuncBodyRange, ModuleEnv};
use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, Name, Operator, Parser, Payload, TableInit,
    TypeRef,
};

use crate::Result;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType};

/// A constant expression of WebAssembly 2.0.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConstExpr {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
}

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

/// How an element segment is used.
#[derive(Clone, Debug)]
pub(crate) enum ElemMode {
    Active { table: u32, offset: ConstExpr },
    Passive,
    Declared,
}

/// One element segment.
#[derive(Clone, Debug)]
pub(crate) struct ElemInfo {
    pub mode: ElemMode,
    pub items: Vec<ConstExpr>,
}

/// One data segment; its bytes are `wasm[range]`.
#[derive(Clone, Debug)]
pub(crate) struct DataInfo {
    pub active: Option<(u32, ConstExpr)>,
    pub range: Range<usize>,
}

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
    let mut reader = expr.get_operators_reader();
    let mut value = None;
    while !reader.eof() {
        let op = reader.read()?;
        value = match op {
            Operator::I32Const { value } => Some(ConstExpr::I32(value)),
            Operator::I64Const { value } => Some(ConstExpr::I64(value)),
            Operator::F32Const { value } => Some(ConstExpr::F32(value.bits())),
            Operator::F64Const { value } => Some(ConstExpr::F64(value.bits())),
            Operator::V128Const { value } => Some(ConstExpr::V128(value.i128() as u128)),
            Operator::RefNull { .. } => Some(ConstExpr::RefNull),
            Operator::RefFunc { function_index } => Some(ConstExpr::RefFunc(function_index)),
            Operator::GlobalGet { global_index } => Some(ConstExpr::GlobalGet(global_index)),
            Operator::End => break,
            other => anyhow::bail!("unsupported constant expression operator {other:?}"),
        };
    }
    value.ok_or_else(|| anyhow::anyhow!("empty constant expression"))
}

/// Decodes a module that already passed validation.
pub(crate) fn parse(wasm: &Arc<[u8]>) -> Result<(ModuleInfo, ModuleEnv)> {
    let mut info = ModuleInfo::default();
    let features = wasmparser::WasmFeatures::WASM2;
    let mut env = ModuleEnv {
        wasm: wasm.clone(),
        types: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        bodies: Vec::new(),
        globals: Vec::new(),
        tables: Vec::new(),
        memories: Vec::new(),
        num_data: 0,
        num_elems: 0,
        features,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let ty = ty?;
                    info.types.push(FuncType::from_wasmparser(&ty));
                    env.types.push(ty);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let ty = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            info.funcs.push(t);
                            env.funcs.push(t);
                            info.num_imported_funcs += 1;
                            env.num_imported_funcs += 1;
                            let ft = info.types.get(t as usize).cloned();
                            ExternType::Func(ft.ok_or_else(|| anyhow::anyhow!("bad type index"))?)
                        }
                        TypeRef::Table(t) => {
                            info.num_imported_tables += 1;
                            env.tables.push(t);
                            ExternType::Table(TableType::from_wasmparser(&t))
                        }
                        TypeRef::Memory(m) => {
                            info.num_imported_memories += 1;
                            env.memories.push(m);
                            ExternType::Memory(MemoryType::from_wasmparser(&m))
                        }
                        TypeRef::Global(g) => {
                            info.num_imported_globals += 1;
                            env.globals.push(g);
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
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    let t = t?;
                    info.funcs.push(t);
                    env.funcs.push(t);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    let init = match &table.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(e) => Some(const_expr(e)?),
                    };
                    info.tables
                        .push((TableType::from_wasmparser(&table.ty), init));
                    env.tables.push(table.ty);
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader {
                    let m = m?;
                    info.memories.push(MemoryType::from_wasmparser(&m));
                    env.memories.push(m);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    info.globals.push((
                        GlobalType::from_wasmparser(&g.ty),
                        const_expr(&g.init_expr)?,
                    ));
                    env.globals.push(g.ty);
                }
            }
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
                    let elem = elem?;
                    let mode = match &elem.kind {
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(offset_expr)?,
                        },
                        ElementKind::Passive => ElemMode::Passive,
                        ElementKind::Declared => ElemMode::Declared,
                    };
                    let mut items = Vec::new();
                    match elem.items {
                        ElementItems::Functions(funcs) => {
                            for f in funcs {
                                items.push(ConstExpr::RefFunc(f?));
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for e in exprs {
                                items.push(const_expr(&e?)?);
                            }
                        }
                    }
                    info.elems.push(ElemInfo { mode, items });
                }
                env.num_elems = u32::try_from(info.elems.len()).unwrap_or(u32::MAX);
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let active = match &data.kind {
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => Some((*memory_index, const_expr(offset_expr)?)),
                        DataKind::Passive => None,
                    };
                    let end = data.range.end as usize;
                    let start = end - data.data.len();
                    info.datas.push(DataInfo {
                        active,
                        range: start..end,
                    });
                }
                env.num_data = u32::try_from(info.datas.len()).unwrap_or(u32::MAX);
            }
            Payload::DataCountSection { count, .. } => env.num_data = count,
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                env.bodies.push(FuncBodyRange {
                    start: r.start as usize,
                    end: r.end as usize,
                });
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
    Ok((info, env))
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
