//! The wasm -> CLIF translator of one function body, split by operator family: control
//! flow ([`control`]), locals, globals and parametric operators ([`locals`]), scalar
//! numerics ([`numeric`]) and conversions ([`conversion`]), linear memory ([`memory`]),
//! tables and references ([`table`]), calls ([`call`]) and 128-bit SIMD ([`simd`],
//! [`simd_memory`]).
//! Each family's `translate_*` method returns whether the operator was one of its own.
//! [`osr`] makes the OSR entry of a function: the same translation with another entry.
//!
//! The translator keeps the wasm operand stack as CLIF values, with one invariant: every
//! `v128` on it is an `i8x16` (operators bitcast to the lane type they need and back), so
//! block parameters, locals, calls and returns all see one type per wasm type.

mod call;
mod control;
mod conversion;
mod epoch;
mod locals;
mod memory;
mod numeric;
mod osr;
mod simd;
mod simd_memory;
mod table;

use cranelift_codegen::ir::{self, BlockArg, InstBuilder, SourceLoc, UserFuncName, Value, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use tierup_abi::{CompileError, CompileOptions, ModuleEnv};
use wasmparser::{Operator, ValType};

use crate::env::FuncEnv;
use crate::sig::{check_stack_limit, clif_type, func_type, register_signature};
use osr::OsrEntry;

pub(crate) use control::Frame;

/// The translator's state for one function.
pub(crate) struct Translator<'m, 'f> {
    pub b: FunctionBuilder<'f>,
    pub env: FuncEnv<'m>,
    /// The wasm operand stack.
    pub stack: Vec<Value>,
    /// The enclosing blocks, the function's own outermost.
    pub control: Vec<Frame>,
    /// Every local, parameters first.
    pub locals: Vec<(Variable, ValType)>,
    /// The results area parameter, for a function with two or more results.
    pub results_area: Option<Value>,
    /// Whether the current position can be reached.
    pub reachable: bool,
    /// How many blocks were opened in unreachable code and are still open (they get no
    /// frames).
    pub dead_depth: u32,
    /// The OSR entry being made, if this translation makes one.
    osr: Option<OsrEntry>,
    /// The epoch tests of the loops (`epoch.rs`).
    epochs: epoch::LoopEpochs,
}

/// Where the translated function is entered.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry {
    /// At the start of the body, with the wasm parameters: the function's register entry.
    Start,
    /// At the OSR point before the operator at module offset `at`, with the address of the
    /// state (`tierup_abi::osr`).
    Osr { at: u32 },
}

/// Translates the defined function `func_index` of `module` into a CLIF function of the
/// register convention, entered as `entry` says: the function itself, or its OSR entry of
/// type `[i64] -> results` (see [`osr`]).
pub(crate) fn translate(
    isa: &dyn TargetIsa,
    module: &ModuleEnv,
    func_index: u32,
    options: CompileOptions,
    entry: Entry,
) -> Result<ir::Function, CompileError> {
    let ty = func_type(module, func_index)?;
    let body = module
        .body_reader(func_index)
        .ok_or_else(|| CompileError(format!("function {func_index} has no body")))?;
    let (name, sig) = match entry {
        Entry::Start => (
            UserFuncName::user(0, func_index),
            register_signature(ty.params(), ty.results()),
        ),
        Entry::Osr { .. } => (
            UserFuncName::user(2, func_index),
            register_signature(&tierup_abi::osr::ENTRY_PARAMS, ty.results()),
        ),
    };
    let mut func = ir::Function::with_name_signature(name, sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);

    check_stack_limit(b.func)?;

    let entry_block = b.create_block();
    b.append_block_params_for_function_params(entry_block);
    b.switch_to_block(entry_block);
    b.seal_block(entry_block);
    let params = b.block_params(entry_block).to_vec();
    let (slot, rest) = params
        .split_first()
        .ok_or_else(|| CompileError("register entry without parameters".into()))?;
    // rest = [caller, (results area), wasm params...]
    let (results_area, entry_params) = if ty.results().len() > 1 {
        (rest.get(1).copied(), rest.get(2..).unwrap_or(&[]))
    } else {
        (None, rest.get(1..).unwrap_or(&[]))
    };
    let env = FuncEnv::new(&mut b, module, options, *slot);

    let mut t = Translator {
        b,
        env,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        results_area,
        reachable: true,
        dead_depth: 0,
        osr: None,
        epochs: epoch::LoopEpochs::new(epoch::rounding_inline(isa)),
    };
    match entry {
        Entry::Start => {
            if options.count_calls {
                FuncEnv::count_call(&mut t.b, *slot);
            }
            if !t.epochs.elides() {
                t.env.check_epoch(&mut t.b);
            }
            for (&value, &ty) in entry_params.iter().zip(ty.params()) {
                let var = t.b.declare_var(clif_type(ty));
                t.b.def_var(var, value);
                t.locals.push((var, ty));
            }
        }
        Entry::Osr { at } => {
            let &[state] = entry_params else {
                return Err(CompileError("OSR entry without its state parameter".into()));
            };
            t.osr = Some(OsrEntry::start(&mut t.b, at, state));
            // The body's own start is never reached: the parameters are locals like the
            // others there, and only the state gives them values.
            for &ty in ty.params() {
                let var = t.b.declare_var(clif_type(ty));
                let zero = FuncEnv::zero(&mut t.b, ty);
                t.b.def_var(var, zero);
                t.locals.push((var, ty));
            }
        }
    }
    let mut locals = body.get_locals_reader().map_err(reader_error)?;
    for _ in 0..locals.get_count() {
        let (count, ty) = locals.read().map_err(reader_error)?;
        if count == 0 {
            continue;
        }
        let zero = FuncEnv::zero(&mut t.b, ty);
        for _ in 0..count {
            let var = t.b.declare_var(clif_type(ty));
            t.b.def_var(var, zero);
            t.locals.push((var, ty));
        }
    }
    t.push_function_frame(ty.results())?;

    let mut ops = body.get_operators_reader().map_err(reader_error)?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(reader_error)?;
        if t.control.is_empty() {
            return Err(CompileError(format!(
                "operator after the end of the function at {offset:#x}"
            )));
        }
        t.b.set_srcloc(SourceLoc::new(offset as u32));
        t.enter_osr_at(offset)?;
        t.operator(&op)
            .map_err(|e| CompileError(format!("{} (at offset {offset:#x})", e.0)))?;
    }
    if !t.control.is_empty() {
        return Err(CompileError("function body ends inside a block".into()));
    }
    if let Some(osr) = &t.osr {
        osr.check_entered()?;
    }
    t.b.seal_all_blocks();
    let epochs = core::mem::take(&mut t.epochs);
    t.b.finalize(isa.frontend_config());
    epoch::remove_unneeded(&mut func, &epochs);
    Ok(func)
}

fn reader_error(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError(format!("{e}"))
}

/// An error for an operator this translator does not know.
pub(crate) fn unsupported(op: &Operator) -> CompileError {
    CompileError(format!("unsupported operator {op:?}"))
}

impl Translator<'_, '_> {
    /// Translates one operator.
    fn operator(&mut self, op: &Operator) -> Result<(), CompileError> {
        if !self.reachable {
            return self.translate_unreachable(op);
        }
        let handled = self.translate_control(op)?
            || self.translate_locals(op)?
            || self.translate_numeric(op)?
            || self.translate_conversion(op)?
            || self.translate_memory(op)?
            || self.translate_table(op)?
            || self.translate_call(op)?
            || self.translate_simd_memory(op)?
            || self.translate_simd(op)?;
        if handled {
            Ok(())
        } else {
            Err(unsupported(op))
        }
    }

    // ----- the operand stack -----

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    pub fn pop(&mut self) -> Result<Value, CompileError> {
        self.stack
            .pop()
            .ok_or_else(|| CompileError("operand stack underflow".into()))
    }

    /// Pops two values, returning them in stack order (deeper first).
    pub fn pop2(&mut self) -> Result<(Value, Value), CompileError> {
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b))
    }

    /// Pops three values, in stack order.
    pub fn pop3(&mut self) -> Result<(Value, Value, Value), CompileError> {
        let c = self.pop()?;
        let (a, b) = self.pop2()?;
        Ok((a, b, c))
    }

    /// The top `n` values, in stack order.
    pub fn peekn(&self, n: usize) -> Result<&[Value], CompileError> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| CompileError("operand stack underflow".into()))?;
        Ok(&self.stack[at..])
    }

    /// Pops the top `n` values, in stack order.
    pub fn popn(&mut self, n: usize) -> Result<Vec<Value>, CompileError> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| CompileError("operand stack underflow".into()))?;
        Ok(self.stack.split_off(at))
    }

    /// Pushes an `i8`-typed boolean (a CLIF comparison) as a wasm `i32`.
    pub fn push_bool(&mut self, v: Value) {
        let v = self.b.ins().uextend(types::I32, v);
        self.push(v);
    }
}

/// Block arguments for `values`.
pub(crate) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}
