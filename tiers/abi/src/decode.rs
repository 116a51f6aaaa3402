//! The one decoder of a module into its [`ModuleEnv`] ([`ModuleEnvBuilder`]) and of constant
//! expressions ([`ConstExpr`]), used by the runtime and the test kit alike. The builder is
//! fed one payload at a time and hands each entry it decoded back to its caller
//! ([`Entry`]), so a caller that needs more of the same sections still decodes in one
//! pass. Malformed input is a [`DecodeError`], never a panic.

use std::sync::Arc;

use wasmparser::{FuncType, Global, Import, MemoryType, Operator, Payload, Table, TypeRef};

use crate::env::{FuncBodyRange, ModuleEnv};

/// Why a module could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
    offset: usize,
}

impl DecodeError {
    /// An error with `message` at byte `offset` of the module.
    pub fn new(message: impl Into<String>, offset: usize) -> DecodeError {
        DecodeError {
            message: message.into(),
            offset,
        }
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the module where it went wrong.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (at offset {:#x})", self.message, self.offset)
    }
}

impl std::error::Error for DecodeError {}

impl From<wasmparser::BinaryReaderError> for DecodeError {
    fn from(e: wasmparser::BinaryReaderError) -> DecodeError {
        DecodeError::new(e.message(), e.offset() as usize)
    }
}

/// A constant expression of WebAssembly 2.0 (the initialiser of a global, a table or an
/// element, the offset of an active segment), decoded but not evaluated: evaluating
/// `ref.func` and `global.get` needs an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstExpr {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const`, as its bit pattern.
    F32(u32),
    /// `f64.const`, as its bit pattern.
    F64(u64),
    /// `v128.const`.
    V128(u128),
    /// `ref.null` of either reference type.
    RefNull,
    /// `ref.func` of a function index.
    RefFunc(u32),
    /// `global.get` of a global index (an imported global in a valid 2.0 module).
    GlobalGet(u32),
}

impl ConstExpr {
    /// Decodes a constant expression: exactly one operator of WebAssembly 2.0's constant
    /// instructions, then `end`.
    pub fn decode(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, DecodeError> {
        let mut reader = expr.get_operators_reader();
        let mut value = None;
        loop {
            let (op, at) = reader.read_with_offset()?;
            let at = at as usize;
            let decoded = match op {
                Operator::End if value.is_some() => break,
                Operator::I32Const { value } => ConstExpr::I32(value),
                Operator::I64Const { value } => ConstExpr::I64(value),
                Operator::F32Const { value } => ConstExpr::F32(value.bits()),
                Operator::F64Const { value } => ConstExpr::F64(value.bits()),
                Operator::V128Const { value } => ConstExpr::V128(value.i128() as u128),
                Operator::RefNull { .. } => ConstExpr::RefNull,
                Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
                Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
                Operator::End => {
                    return Err(DecodeError::new("empty constant expression", at));
                }
                other => {
                    return Err(DecodeError::new(
                        format!("unsupported constant expression operator {other:?}"),
                        at,
                    ));
                }
            };
            if value.is_some() {
                return Err(DecodeError::new(
                    "constant expression of more than one operator",
                    at,
                ));
            }
            value = Some(decoded);
        }
        value.ok_or_else(|| DecodeError::new("empty constant expression", 0))
    }
}

/// How an element segment is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElemMode {
    /// Written into table `table` at `offset` when the module is instantiated.
    Active {
        /// The table index.
        table: u32,
        /// The first element written.
        offset: ConstExpr,
    },
    /// Kept for `table.init` until `elem.drop`.
    Passive,
    /// Only declares the functions it names (for `ref.func`); dropped at instantiation.
    Declared,
}

/// An element segment, decoded: its mode and its items (a function index is a
/// `ConstExpr::RefFunc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemSegment {
    /// How the segment is used.
    pub mode: ElemMode,
    /// The segment's references, unevaluated.
    pub items: Vec<ConstExpr>,
}

impl ElemSegment {
    /// Decodes one element segment of the element section.
    pub fn decode(elem: wasmparser::Element<'_>) -> Result<ElemSegment, DecodeError> {
        let mode = match &elem.kind {
            wasmparser::ElementKind::Active {
                table_index,
                offset_expr,
            } => ElemMode::Active {
                table: table_index.unwrap_or(0),
                offset: ConstExpr::decode(offset_expr)?,
            },
            wasmparser::ElementKind::Passive => ElemMode::Passive,
            wasmparser::ElementKind::Declared => ElemMode::Declared,
        };
        let mut items = Vec::new();
        match elem.items {
            wasmparser::ElementItems::Functions(funcs) => {
                for f in funcs {
                    items.push(ConstExpr::RefFunc(f?));
                }
            }
            wasmparser::ElementItems::Expressions(_, exprs) => {
                for e in exprs {
                    items.push(ConstExpr::decode(&e?)?);
                }
            }
        }
        Ok(ElemSegment { mode, items })
    }
}

/// A data segment, decoded; its bytes are `wasm[range]` of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSegment {
    /// For an active segment, the memory index and the offset it is written at when the
    /// module is instantiated; `None` for a passive one.
    pub active: Option<(u32, ConstExpr)>,
    /// Where the segment's bytes lie in the module.
    pub range: core::ops::Range<usize>,
}

impl DataSegment {
    /// Decodes one data segment of the data section.
    pub fn decode(data: wasmparser::Data<'_>) -> Result<DataSegment, DecodeError> {
        let active = match &data.kind {
            wasmparser::DataKind::Active {
                memory_index,
                offset_expr,
            } => Some((*memory_index, ConstExpr::decode(offset_expr)?)),
            wasmparser::DataKind::Passive => None,
        };
        let end = data.range.end as usize;
        Ok(DataSegment {
            active,
            range: end - data.data.len()..end,
        })
    }
}

/// One entry of a section that [`ModuleEnvBuilder::payload_with`] decoded and recorded,
/// lent to the caller's hook.
#[derive(Debug)]
pub enum Entry<'e, 'a> {
    /// A function type of the type section (the type index is its position).
    Type(&'e FuncType),
    /// An import, of any kind.
    Import(&'e Import<'a>),
    /// A defined function's type index, from the function section.
    Function(u32),
    /// A defined table, with its initialiser.
    Table(&'e Table<'a>),
    /// A defined memory.
    Memory(&'e MemoryType),
    /// A defined global, with its initialiser.
    Global(&'e Global<'a>),
}

/// Builds a [`ModuleEnv`] from a module's payloads, fed in order.
///
/// The builder records types, imports (function, table, memory and global types), the
/// function, table, memory and global sections, the range of every code-section entry, the
/// data count and the number of element and data segments. Everything else (exports, the
/// start function, segment contents, custom sections) is left to the caller. The
/// builder checks what a tier relies on when it indexes the environment (every function's
/// type index names a function type; there is one body per defined function), so a
/// `ModuleEnv` from [`ModuleEnvBuilder::finish`] never makes [`ModuleEnv::func_type`] or
/// [`ModuleEnv::body`] panic; full validation is the caller's business.
#[derive(Debug)]
pub struct ModuleEnvBuilder {
    env: ModuleEnv,
    /// Whether the code section has begun: no function may be declared after it.
    code_seen: bool,
}

impl ModuleEnvBuilder {
    /// A builder for the module `wasm`, which its caller validated (or will validate) with
    /// `features`.
    pub fn new(wasm: Arc<[u8]>, features: wasmparser::WasmFeatures) -> ModuleEnvBuilder {
        ModuleEnvBuilder {
            env: ModuleEnv {
                wasm,
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
            },
            code_seen: false,
        }
    }

    /// The environment decoded so far (for a hook that needs, say, a type by index).
    pub fn env(&self) -> &ModuleEnv {
        &self.env
    }

    /// Records what `payload` contributes to the environment.
    pub fn payload(&mut self, payload: &Payload<'_>) -> Result<(), DecodeError> {
        self.payload_with(payload, |_| Ok::<(), DecodeError>(()))
    }

    /// Records what `payload` contributes to the environment and hands every entry of a
    /// type, import, function, table, memory or global section to `each`, in order, after
    /// recording it. The first error, the builder's or the hook's, stops the section.
    pub fn payload_with<'a, E: From<DecodeError>>(
        &mut self,
        payload: &Payload<'a>,
        mut each: impl FnMut(Entry<'_, 'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.clone().into_iter_err_on_gc_types() {
                    self.env.types.push(ty.map_err(DecodeError::from)?);
                    if let Some(ty) = self.env.types.last() {
                        each(Entry::Type(ty))?;
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports_with_offsets() {
                    let (at, import) = import.map_err(DecodeError::from)?;
                    match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            self.function(t, at as usize)?;
                            self.env.num_imported_funcs += 1;
                        }
                        TypeRef::Table(t) => self.env.tables.push(t),
                        TypeRef::Memory(m) => self.env.memories.push(m),
                        TypeRef::Global(g) => self.env.globals.push(g),
                        TypeRef::Tag(_) => {
                            return Err(DecodeError::new("tags are not supported", at as usize))?;
                        }
                    }
                    each(Entry::Import(&import))?;
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader.clone().into_iter_with_offsets() {
                    let (at, t) = t.map_err(DecodeError::from)?;
                    self.function(t, at as usize)?;
                    each(Entry::Function(t))?;
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.clone() {
                    let table = table.map_err(DecodeError::from)?;
                    self.env.tables.push(table.ty);
                    each(Entry::Table(&table))?;
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader.clone() {
                    let m = m.map_err(DecodeError::from)?;
                    self.env.memories.push(m);
                    each(Entry::Memory(&m))?;
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader.clone() {
                    let g = g.map_err(DecodeError::from)?;
                    self.env.globals.push(g.ty);
                    each(Entry::Global(&g))?;
                }
            }
            Payload::ElementSection(reader) => self.env.num_elems = reader.count(),
            Payload::DataCountSection { count, .. } => self.env.num_data = *count,
            Payload::DataSection(reader) => self.env.num_data = reader.count(),
            Payload::CodeSectionStart {
                count,
                unchecked_range,
                ..
            } => {
                let defined = self.env.funcs.len() - self.env.num_imported_funcs as usize;
                if self.code_seen || *count as usize != defined {
                    return Err(DecodeError::new(
                        format!(
                            "{count} function bodies for {defined} functions declared \
                             in the function section"
                        ),
                        unchecked_range.start as usize,
                    ))?;
                }
                self.code_seen = true;
                self.env.bodies.reserve_exact(defined);
            }
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                let defined = self.env.funcs.len() - self.env.num_imported_funcs as usize;
                if self.env.bodies.len() >= defined {
                    return Err(DecodeError::new(
                        "more function bodies than functions",
                        r.start as usize,
                    ))?;
                }
                self.env.bodies.push(FuncBodyRange {
                    start: r.start as usize,
                    end: r.end as usize,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// Records a function (imported or defined) of type `type_index`.
    fn function(&mut self, type_index: u32, at: usize) -> Result<(), DecodeError> {
        if type_index as usize >= self.env.types.len() {
            return Err(DecodeError::new(
                format!("unknown type {type_index}: type index out of bounds"),
                at,
            ));
        }
        if self.code_seen {
            return Err(DecodeError::new(
                "function declared after the code section",
                at,
            ));
        }
        self.env.funcs.push(type_index);
        Ok(())
    }

    /// The finished environment. Fails if the module declared functions but had fewer
    /// bodies than functions.
    pub fn finish(self) -> Result<ModuleEnv, DecodeError> {
        let defined = self.env.funcs.len() - self.env.num_imported_funcs as usize;
        if self.env.bodies.len() != defined {
            return Err(DecodeError::new(
                format!(
                    "{} function bodies for {defined} declared functions",
                    self.env.bodies.len()
                ),
                self.env.wasm.len(),
            ));
        }
        Ok(self.env)
    }
}

impl ModuleEnv {
    /// Decodes the whole module `wasm` (validated, or to be validated, with `features`)
    /// into its environment: a [`ModuleEnvBuilder`] fed every payload.
    pub fn decode(
        wasm: Arc<[u8]>,
        features: wasmparser::WasmFeatures,
    ) -> Result<ModuleEnv, DecodeError> {
        let bytes = wasm.clone();
        let mut builder = ModuleEnvBuilder::new(wasm, features);
        let mut parser = wasmparser::Parser::new(0);
        parser.set_features(features);
        for payload in parser.parse_all(&bytes) {
            builder.payload(&payload?)?;
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(wat: &str) -> Result<ModuleEnv, DecodeError> {
        let wasm: Arc<[u8]> = wat::parse_str(wat).unwrap().into();
        ModuleEnv::decode(wasm, wasmparser::WasmFeatures::WASM2)
    }

    #[test]
    fn decodes_every_section_the_env_records() {
        let env = decode(
            r#"(module
              (type $a (func (param i32) (result i32)))
              (type $b (func))
              (import "m" "f" (func (type $b)))
              (import "m" "t" (table 1 externref))
              (import "m" "g" (global i64))
              (memory 2 3)
              (table 4 funcref)
              (global (mut f32) (f32.const 1))
              (func (type $a) local.get 0)
              (func (type $b))
              (elem func 1)
              (elem declare func 2)
              (data "x") (data "y") (data "z"))"#,
        )
        .unwrap();
        assert_eq!(env.types.len(), 2);
        assert_eq!(env.funcs, [1, 0, 1]);
        assert_eq!(env.num_imported_funcs, 1);
        assert_eq!(env.tables.len(), 2);
        assert_eq!(env.tables[1].initial, 4);
        assert_eq!(env.memories.len(), 1);
        assert_eq!(env.memories[0].maximum, Some(3));
        assert_eq!(env.globals.len(), 2);
        assert!(env.globals[1].mutable);
        assert_eq!(env.num_elems, 2);
        assert_eq!(env.num_data, 3);
        assert_eq!(env.bodies.len(), 2);
        let (body, at) = env.body(1).unwrap();
        assert_eq!(at, env.bodies[0].start);
        assert_eq!(body.last(), Some(&0x0b), "a body ends in `end`");
        assert!(env.body(0).is_none(), "imports have no body");
        assert_eq!(env.func_type(1).params().len(), 1);
    }

    #[test]
    fn hooks_see_every_entry_in_order() {
        let wasm: Arc<[u8]> = wat::parse_str(
            r#"(module
              (import "m" "f" (func (param i32)))
              (memory 1)
              (global i32 (i32.const 7))
              (func (param i32)))"#,
        )
        .unwrap()
        .into();
        let mut builder = ModuleEnvBuilder::new(wasm.clone(), wasmparser::WasmFeatures::WASM2);
        let mut seen = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            builder
                .payload_with(&payload.unwrap(), |e| {
                    seen.push(match e {
                        Entry::Type(_) => "type".to_string(),
                        Entry::Import(i) => format!("import {}", i.name),
                        Entry::Function(t) => format!("func {t}"),
                        Entry::Table(_) => "table".to_string(),
                        Entry::Memory(_) => "memory".to_string(),
                        Entry::Global(g) => format!("global {:?}", ConstExpr::decode(&g.init_expr)),
                    });
                    Ok::<(), DecodeError>(())
                })
                .unwrap();
        }
        assert_eq!(
            seen,
            ["type", "import f", "func 0", "memory", "global Ok(I32(7))"]
        );
        assert_eq!(builder.finish().unwrap().funcs, [0, 0]);
    }

    #[test]
    fn constant_expressions() {
        let wasm = wat::parse_str(
            r#"(module
              (import "m" "g" (global i32))
              (global i64 (i64.const -2))
              (global f64 (f64.const -0.5))
              (global v128 (v128.const i64x2 1 2))
              (global funcref (ref.func 0))
              (global externref (ref.null extern))
              (global i32 (global.get 0))
              (func))"#,
        )
        .unwrap();
        let mut got = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let Payload::GlobalSection(r) = payload.unwrap() {
                for g in r {
                    got.push(ConstExpr::decode(&g.unwrap().init_expr).unwrap());
                }
            }
        }
        assert_eq!(
            got,
            [
                ConstExpr::I64(-2),
                ConstExpr::F64((-0.5f64).to_bits()),
                ConstExpr::V128(1 | (2 << 64)),
                ConstExpr::RefFunc(0),
                ConstExpr::RefNull,
                ConstExpr::GlobalGet(0),
            ]
        );
    }

    #[test]
    fn malformed_modules_are_errors() {
        // A function section naming a type that does not exist, and one that declares two
        // functions for one body: the builder refuses both without validation.
        let bad_type = [
            0, b'a', b's', b'm', 1, 0, 0, 0, // header
            1, 4, 1, 0x60, 0, 0, // one type: [] -> []
            3, 2, 1, 5, // one function of type 5
        ];
        let e = ModuleEnv::decode(bad_type.as_slice().into(), wasmparser::WasmFeatures::WASM2)
            .unwrap_err();
        assert!(e.message().contains("type index out of bounds"), "{e}");
        // Two functions and one body: the parser notices at the code section; a builder
        // that never sees a code section notices when it finishes.
        let missing_body = [
            0, b'a', b's', b'm', 1, 0, 0, 0, // header
            1, 4, 1, 0x60, 0, 0, // one type
            3, 3, 2, 0, 0, // two functions
            10, 4, 1, 2, 0, 0x0b, // one body
        ];
        assert!(
            ModuleEnv::decode(
                missing_body.as_slice().into(),
                wasmparser::WasmFeatures::WASM2,
            )
            .is_err()
        );
        let mut builder = ModuleEnvBuilder::new(
            missing_body.as_slice().into(),
            wasmparser::WasmFeatures::WASM2,
        );
        // The parser's own complaint at the end is not the point here.
        for payload in wasmparser::Parser::new(0)
            .parse_all(&missing_body[..19])
            .flatten()
        {
            builder.payload(&payload).unwrap();
        }
        let e = builder.finish().unwrap_err();
        assert!(e.message().contains("function bodies"), "{e}");
        let truncated = [0, b'a', b's', b'm', 1, 0, 0, 0, 1, 9, 1];
        assert!(
            ModuleEnv::decode(truncated.as_slice().into(), wasmparser::WasmFeatures::WASM2)
                .is_err()
        );
        // Every prefix of a real module is an error or a module, never a panic.
        let wasm = wat::parse_str(
            r#"(module (import "m" "f" (func)) (memory 1) (func (result i32) i32.const 1)
                 (data (i32.const 0) "abc"))"#,
        )
        .unwrap();
        for n in 0..wasm.len() {
            let _ = ModuleEnv::decode(wasm[..n].into(), wasmparser::WasmFeatures::WASM2);
        }
    }
}
