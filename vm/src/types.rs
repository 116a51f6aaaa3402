//! The embedding API's type descriptions: value, function, global, table, memory and extern
//! types, with conversions from `wasmparser`'s types.

use core::fmt;

/// The type of a WebAssembly value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
}

impl ValType {
    /// Whether the type is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// Converts a `wasmparser` value type (only the WebAssembly 2.0 types are accepted).
    /// The `wasmparser` value type.
    pub(crate) fn to_wasmparser(self) -> wasmparser::ValType {
        match self {
            ValType::I32 => wasmparser::ValType::I32,
            ValType::I64 => wasmparser::ValType::I64,
            ValType::F32 => wasmparser::ValType::F32,
            ValType::F64 => wasmparser::ValType::F64,
            ValType::V128 => wasmparser::ValType::V128,
            ValType::FuncRef => wasmparser::ValType::FUNCREF,
            ValType::ExternRef => wasmparser::ValType::EXTERNREF,
        }
    }

    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> ValType {
        match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => Self::from_ref_type(r),
        }
    }

    /// Converts a `wasmparser` reference type.
    pub(crate) fn from_ref_type(r: wasmparser::RefType) -> ValType {
        if r.is_func_ref() {
            ValType::FuncRef
        } else {
            ValType::ExternRef
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// The type of a function: parameters and results.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    /// A function type with the given parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }

    /// Converts a `wasmparser` function type.
    pub(crate) fn from_wasmparser(ty: &wasmparser::FuncType) -> FuncType {
        FuncType::new(
            ty.params().iter().map(|t| ValType::from_wasmparser(*t)),
            ty.results().iter().map(|t| ValType::from_wasmparser(*t)),
        )
    }

    /// The number of cells a call of this type needs: `max(params, results)`.
    pub(crate) fn cells(&self) -> usize {
        self.params.len().max(self.results.len())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, tys: &[ValType]) -> fmt::Result {
    f.write_str("(")?;
    for (i, t) in tys.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{t}")?;
    }
    f.write_str(")")
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("func ")?;
        write_list(f, &self.params)?;
        f.write_str(" -> ")?;
        write_list(f, &self.results)
    }
}

/// Whether a global can be changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content` with the given mutability.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
        }
    }

    /// The value type.
    pub fn content(&self) -> ValType {
        self.content
    }

    /// The mutability.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }

    pub(crate) fn from_wasmparser(ty: &wasmparser::GlobalType) -> GlobalType {
        GlobalType::new(
            ValType::from_wasmparser(ty.content_type),
            if ty.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        )
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Const => write!(f, "global {}", self.content),
            Mutability::Var => write!(f, "global (mut {})", self.content),
        }
    }
}

/// The type of a table: element type and limits (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: ValType,
    min: u32,
    max: Option<u32>,
}

impl TableType {
    /// A table of `element` references with the given limits.
    pub fn new(element: ValType, min: u32, max: Option<u32>) -> TableType {
        TableType { element, min, max }
    }

    /// The element type.
    pub fn element(&self) -> ValType {
        self.element
    }

    /// The minimum size in elements.
    pub fn minimum(&self) -> u32 {
        self.min
    }

    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u32> {
        self.max
    }

    pub(crate) fn from_wasmparser(ty: &wasmparser::TableType) -> TableType {
        TableType::new(
            ValType::from_ref_type(ty.element_type),
            u32::try_from(ty.initial).unwrap_or(u32::MAX),
            ty.maximum.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
        )
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {}", self.min)?;
        if let Some(max) = self.max {
            write!(f, " {max}")?;
        }
        write!(f, " {}", self.element)
    }
}

/// The type of a linear memory: limits in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    min: u32,
    max: Option<u32>,
}

impl MemoryType {
    /// A memory with the given limits in pages.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType { min, max }
    }

    /// The minimum size in pages.
    pub fn minimum(&self) -> u32 {
        self.min
    }

    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u32> {
        self.max
    }

    pub(crate) fn from_wasmparser(ty: &wasmparser::MemoryType) -> MemoryType {
        MemoryType::new(
            u32::try_from(ty.initial).unwrap_or(u32::MAX),
            ty.maximum.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
        )
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory {}", self.min)?;
        if let Some(max) = self.max {
            write!(f, " {max}")?;
        }
        Ok(())
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
}

impl ExternType {
    /// The function type, if this is a function.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(f) => Some(f),
            _ => None,
        }
    }
    /// The global type, if this is a global.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(g) => Some(g),
            _ => None,
        }
    }
    /// The table type, if this is a table.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(t) => Some(t),
            _ => None,
        }
    }
    /// The memory type, if this is a memory.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(m) => Some(m),
            _ => None,
        }
    }
    /// A short name of the kind: `func`, `global`, `table` or `memory`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Global(_) => "global",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
        }
    }
}

/// One import of a module.
#[derive(Clone, Debug)]
pub struct ImportType<'a> {
    pub(crate) module: &'a str,
    pub(crate) name: &'a str,
    pub(crate) ty: &'a ExternType,
}

impl<'a> ImportType<'a> {
    /// The module name of the import.
    pub fn module(&self) -> &'a str {
        self.module
    }
    /// The field name of the import.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// The imported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module.
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    pub(crate) name: &'a str,
    pub(crate) ty: ExternType,
}

impl<'a> ExportType<'a> {
    /// The export name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// The exported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let f = FuncType::new([ValType::I32, ValType::FuncRef], [ValType::F64]);
        assert_eq!(f.to_string(), "func (i32, funcref) -> (f64)");
        assert_eq!(
            GlobalType::new(ValType::I64, Mutability::Var).to_string(),
            "global (mut i64)"
        );
        assert_eq!(
            TableType::new(ValType::ExternRef, 1, Some(2)).to_string(),
            "table 1 2 externref"
        );
        assert_eq!(MemoryType::new(1, None).to_string(), "memory 1");
        assert_eq!(f.cells(), 2);
    }
}
