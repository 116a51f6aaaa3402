//! No valid module refused: a generated module at each of the JS API's implementation
//! limits (the limits browsers set, and so the ones real toolchains stay within), run
//! under every tier mode with its results checked.
//!
//! | limit                    | value       | module                                      |
//! |--------------------------|-------------|---------------------------------------------|
//! | locals per function      | 50,000      | [`locals`]: every local written and read    |
//! | parameters               | 1,000       | [`params`]: called from wasm and the host   |
//! | results                  | 1,000       | [`results`]: returned to wasm and the host  |
//! | bytes per function body  | 7,654,321   | [`body_size`]                               |
//! | functions                | 1,000,000   | [`functions`]: the last one called          |
//! | table elements           | 10,000,000  | [`table_elements`]: the last one called     |
//! | memory pages             | 65,536      | [`memory_pages`]: the last byte written     |
//!
//! Beside them, two functions that stay within the limits but not within the
//! interpreter's compact register range: an operand stack 40,000 values deep, and 40,000
//! distinct constants.

use tierup::compare::{Mode, default_modes};
use tierup::{Engine, Instance, Linker, Module, Store, Trap, TrapCode, Val};
use tierup_tests::with_big_stack;
use wasm_encoder::{
    CodeSection, ConstExpr, ElementSection, Elements, ExportKind, ExportSection, Function,
    FunctionSection, MemArg, MemorySection, MemoryType, RefType, TableSection, TableType,
    TypeSection, ValType,
};

/// Every tier mode: each tier alone, eager, tiered (background, and synchronous with
/// thresholds at zero, with and without the baseline tier) and two random tier masks.
fn modes() -> Vec<Mode> {
    default_modes(0..=1)
}

/// A module of `funcs` (each a type index and a body), with `exports` (name, function)
/// and the optional table and memory sections.
struct Builder {
    types: TypeSection,
    funcs: FunctionSection,
    code: CodeSection,
    exports: ExportSection,
    table: Option<(TableSection, ElementSection)>,
    memory: Option<MemorySection>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            types: TypeSection::new(),
            funcs: FunctionSection::new(),
            code: CodeSection::new(),
            exports: ExportSection::new(),
            table: None,
            memory: None,
        }
    }

    /// Adds a function type; returns its index.
    fn ty(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let index = self.types.len();
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        index
    }

    /// Adds a function of type `ty` with `body` (which ends with its `end`); returns its
    /// index.
    fn func(&mut self, ty: u32, body: &Function) -> u32 {
        let index = self.funcs.len();
        self.funcs.function(ty);
        self.code.function(body);
        index
    }

    fn export(&mut self, name: &str, func: u32) {
        self.exports.export(name, ExportKind::Func, func);
    }

    fn finish(self) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        module.section(&self.types).section(&self.funcs);
        if let Some((table, _)) = &self.table {
            module.section(table);
        }
        if let Some(memory) = &self.memory {
            module.section(memory);
        }
        module.section(&self.exports);
        if let Some((_, elements)) = &self.table {
            module.section(elements);
        }
        module.section(&self.code);
        let wasm = module.finish();
        wasmparser::Validator::new()
            .validate_all(&wasm)
            .expect("the generated module is valid");
        wasm
    }
}

/// Instantiates `wasm` in a new engine of `mode`, then runs `check` on it, on a thread
/// with a large stack; panics with the mode's name when anything fails.
fn in_every_mode(wasm: &[u8], check: impl Fn(&mut Store<()>, &Instance) + Clone + Send + 'static) {
    for mode in modes() {
        let name = mode.name.clone();
        let wasm = wasm.to_vec();
        let check = check.clone();
        with_big_stack(move || {
            let engine = Engine::new(&mode.config).unwrap();
            let module = Module::new(&engine, &wasm)
                .unwrap_or_else(|e| panic!("{}: module refused: {e:#}", mode.name));
            let mut store = Store::new(&engine, ());
            let instance = Linker::new(&engine)
                .instantiate(&mut store, &module)
                .unwrap_or_else(|e| panic!("{}: instantiation failed: {e:#}", mode.name));
            check(&mut store, &instance);
        })
        .unwrap_or_else(|e| panic!("mode {name}: {e}"));
    }
}

/// Calls export `name` with `args`; returns its results, or panics with the error.
fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
    results: usize,
) -> Vec<Val> {
    let f = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let mut out = vec![Val::I32(0); results];
    f.call(&mut *store, args, &mut out)
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    out
}

/// The trap export `name` stops with (it has `results` results).
fn trap_of(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
    results: usize,
) -> TrapCode {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut out = vec![Val::I32(0); results];
    let err = f
        .call(&mut *store, args, &mut out)
        .expect_err("the call traps");
    err.downcast_ref::<Trap>()
        .and_then(Trap::code)
        .unwrap_or_else(|| panic!("{name}: not a trap: {err:#}"))
}

/// Whether two numbers are the same value (by their bits).
fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::I32(a), Val::I32(b)) => a == b,
        (Val::I64(a), Val::I64(b)) => a == b,
        (Val::F32(a), Val::F32(b)) => a == b,
        (Val::F64(a), Val::F64(b)) => a == b,
        _ => false,
    }
}

fn as_i64(v: &Val) -> i64 {
    v.i64().unwrap_or_else(|| panic!("not an i64: {v:?}"))
}

/// 50,000 locals (one parameter and 49,999 declared, of every type, v128 among them):
/// `mixed(x)` doubles `x` by a call to a small function, sets each local `k` to `x + k`
/// in its type, then folds them all into one i64 checksum; `outer` calls it from a small
/// function. `i64` does the same with 49,999 i64 locals and no v128, which the baseline
/// tier compiles.
#[test]
fn locals() {
    const LOCALS: u32 = 49_999;
    let types = [
        ValType::I32,
        ValType::I64,
        ValType::F32,
        ValType::F64,
        ValType::V128,
    ];
    let mut b = Builder::new();
    let ty = b.ty(&[ValType::I64], &[ValType::I64]);
    // A small function the large ones call, and one that calls a large one: calls
    // between functions of every size, in both directions.
    let mut twice = Function::new([]);
    twice
        .instructions()
        .local_get(0)
        .i64_const(2)
        .i64_mul()
        .end();
    let twice = b.func(ty, &twice);
    let mut large = Vec::new();
    for (name, kinds) in [("mixed", &types[..]), ("i64", &types[1..2])] {
        let local_ty = |k: u32| kinds[k as usize % kinds.len()];
        let mut f = Function::new_with_locals_types((1..=LOCALS).map(local_ty));
        let mut i = f.instructions();
        // x = twice(x)
        i.local_get(0).call(twice).local_set(0);
        // local k = x + k, in its type.
        for k in 1..=LOCALS {
            i.local_get(0).i64_const(k as i64).i64_add();
            match local_ty(k) {
                ValType::I32 => i.i32_wrap_i64(),
                ValType::I64 => &mut i,
                ValType::F32 => i.f32_convert_i64_s(),
                ValType::F64 => i.f64_convert_i64_s(),
                _ => i.i64x2_splat(),
            };
            i.local_set(k);
        }
        // acc = sum over k of (local k as i64) * (k % 7 + 1), wrapping.
        i.i64_const(0);
        for k in 1..=LOCALS {
            i.local_get(k);
            match local_ty(k) {
                ValType::I32 => i.i64_extend_i32_u(),
                ValType::I64 => &mut i,
                ValType::F32 => i.i64_trunc_f32_s(),
                ValType::F64 => i.i64_trunc_f64_s(),
                _ => i.i64x2_extract_lane(1),
            };
            i.i64_const(k as i64 % 7 + 1).i64_mul().i64_add();
        }
        i.end();
        let func = b.func(ty, &f);
        b.export(name, func);
        large.push(func);
    }
    // outer(x) = mixed(x) + 1
    let mut outer = Function::new([]);
    outer
        .instructions()
        .local_get(0)
        .call(large[0])
        .i64_const(1)
        .i64_add()
        .end();
    let outer = b.func(ty, &outer);
    b.export("outer", outer);
    let wasm = b.finish();
    let expect = |x: i64, kinds: &[ValType]| {
        let mut acc = 0i64;
        for k in 1..=LOCALS as i64 {
            let v = x.wrapping_add(k);
            let v = match kinds[k as usize % kinds.len()] {
                ValType::I32 => v as i32 as u32 as i64,
                ValType::F32 => v as f32 as i64,
                ValType::F64 => v as f64 as i64,
                _ => v,
            };
            acc = acc.wrapping_add(v.wrapping_mul(k % 7 + 1));
        }
        acc
    };
    let mixed = expect(2000, &types);
    let only = expect(-154, &types[1..2]);
    in_every_mode(&wasm, move |store, instance| {
        let got = call(store, instance, "mixed", &[Val::I64(1000)], 1);
        assert_eq!(as_i64(&got[0]), mixed, "mixed locals");
        let got = call(store, instance, "outer", &[Val::I64(1000)], 1);
        assert_eq!(
            as_i64(&got[0]),
            mixed.wrapping_add(1),
            "called from a small function"
        );
        let got = call(store, instance, "i64", &[Val::I64(-77)], 1);
        assert_eq!(as_i64(&got[0]), only, "i64 locals");
    });
}

/// The type of parameter or result `k` of the 1,000-value signatures.
fn value_ty(k: u32) -> ValType {
    [ValType::I32, ValType::I64, ValType::F32, ValType::F64][k as usize % 4]
}

/// Pushes `x + k` as a value of [`value_ty`] `k` (`x` in local 0, an i64).
fn push_value(i: &mut wasm_encoder::InstructionSink<'_>, k: u32) {
    i.local_get(0).i64_const(k as i64).i64_add();
    match value_ty(k) {
        ValType::I32 => i.i32_wrap_i64(),
        ValType::I64 => i,
        ValType::F32 => i.f32_convert_i64_s(),
        _ => i.f64_convert_i64_s(),
    };
}

/// Turns the value of [`value_ty`] `k` on top of the stack into an i64 and adds it,
/// weighted by `k % 13 + 1`, to the i64 below it.
fn fold_value(i: &mut wasm_encoder::InstructionSink<'_>, k: u32) {
    match value_ty(k) {
        ValType::I32 => i.i64_extend_i32_s(),
        ValType::I64 => i,
        ValType::F32 => i.i64_trunc_f32_s(),
        _ => i.i64_trunc_f64_s(),
    };
    i.i64_const(k as i64 % 13 + 1).i64_mul().i64_add();
}

/// The checksum [`fold_value`] makes of the values [`push_value`] makes from `x`.
fn checksum(x: i64, n: u32) -> i64 {
    (0..n).fold(0i64, |acc, k| {
        let v = x + k as i64;
        let v = match value_ty(k) {
            ValType::I32 => v as i32 as i64,
            ValType::F32 => v as f32 as i64,
            ValType::F64 => v as f64 as i64,
            _ => v,
        };
        acc.wrapping_add(v.wrapping_mul(k as i64 % 13 + 1))
    })
}

/// The host's arguments for a 1,000-parameter function: `x + k` in each type.
fn host_values(x: i64, n: u32) -> Vec<Val> {
    (0..n)
        .map(|k| {
            let v = x + k as i64;
            match value_ty(k) {
                ValType::I32 => Val::I32(v as i32),
                ValType::I64 => Val::I64(v),
                ValType::F32 => Val::F32((v as f32).to_bits()),
                _ => Val::F64((v as f64).to_bits()),
            }
        })
        .collect()
}

/// 1,000 parameters of four types: `sum` folds them into a checksum; `caller(x)` calls it
/// with `x + k`, directly and through a table; the host calls it too.
#[test]
fn params() {
    const N: u32 = 1000;
    let tys: Vec<ValType> = (0..N).map(value_ty).collect();
    let mut b = Builder::new();
    let sum_ty = b.ty(&tys, &[ValType::I64]);
    let caller_ty = b.ty(&[ValType::I64], &[ValType::I64]);
    let mut sum = Function::new([]);
    let mut i = sum.instructions();
    i.i64_const(0);
    for k in 0..N {
        i.local_get(k);
        fold_value(&mut i, k);
    }
    i.end();
    let sum = b.func(sum_ty, &sum);
    let mut caller = Function::new([]);
    let mut i = caller.instructions();
    for k in 0..N {
        push_value(&mut i, k);
    }
    i.call(sum);
    // And once more through the table, to be added.
    for k in 0..N {
        push_value(&mut i, k);
    }
    i.i32_const(0).call_indirect(0, sum_ty).i64_add().end();
    let caller = b.func(caller_ty, &caller);
    b.export("sum", sum);
    b.export("caller", caller);
    b.table = Some(one_element_table(1, 0, sum));
    let wasm = b.finish();
    in_every_mode(&wasm, move |store, instance| {
        for x in [5, -40_000] {
            let got = call(store, instance, "caller", &[Val::I64(x)], 1);
            assert_eq!(
                as_i64(&got[0]),
                checksum(x, N).wrapping_mul(2),
                "caller({x})"
            );
            let got = call(store, instance, "sum", &host_values(x, N), 1);
            assert_eq!(
                as_i64(&got[0]),
                checksum(x, N),
                "sum({x}, ...) from the host"
            );
        }
    });
}

/// A table of `size` funcrefs with `func` at `at`.
fn one_element_table(size: u64, at: i32, func: u32) -> (TableSection, ElementSection) {
    let mut table = TableSection::new();
    table.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: size,
        maximum: None,
        shared: false,
    });
    let mut elements = ElementSection::new();
    elements.active(
        None,
        &ConstExpr::i32_const(at),
        Elements::Functions(std::borrow::Cow::Owned(vec![func])),
    );
    (table, elements)
}

/// 1,000 results of four types: `values(x)` returns `x + k` in each; `caller(x)` folds
/// them into a checksum, after a direct call and after one through a table; the host
/// reads them all.
#[test]
fn results() {
    const N: u32 = 1000;
    let tys: Vec<ValType> = (0..N).map(value_ty).collect();
    let mut b = Builder::new();
    let values_ty = b.ty(&[ValType::I64], &tys);
    let caller_ty = b.ty(&[ValType::I64], &[ValType::I64]);
    let mut values = Function::new([]);
    let mut i = values.instructions();
    for k in 0..N {
        push_value(&mut i, k);
    }
    i.end();
    let values = b.func(values_ty, &values);
    // The caller keeps the results in locals (the last on top of the stack), folds them.
    let mut caller = Function::new_with_locals_types(tys.iter().copied().chain([ValType::I64]));
    let mut i = caller.instructions();
    let acc = N + 1;
    for indirect in [false, true] {
        i.local_get(0);
        if indirect {
            i.i32_const(0).call_indirect(0, values_ty);
        } else {
            i.call(values);
        }
        for k in (0..N).rev() {
            i.local_set(k + 1);
        }
        for k in 0..N {
            i.local_get(acc).local_get(k + 1);
            fold_value(&mut i, k);
            i.local_set(acc);
        }
    }
    i.local_get(acc).end();
    let caller = b.func(caller_ty, &caller);
    b.export("values", values);
    b.export("caller", caller);
    b.table = Some(one_element_table(1, 0, values));
    let wasm = b.finish();
    in_every_mode(&wasm, move |store, instance| {
        for x in [3, -1_000_000] {
            let got = call(store, instance, "caller", &[Val::I64(x)], 1);
            assert_eq!(
                as_i64(&got[0]),
                checksum(x, N).wrapping_mul(2),
                "caller({x})"
            );
            let got = call(store, instance, "values", &[Val::I64(x)], N as usize);
            let want = host_values(x, N);
            for (k, (got, want)) in got.iter().zip(&want).enumerate() {
                assert!(
                    same(got, want),
                    "values({x}) to the host: result {k} is {got:?}, not {want:?}"
                );
            }
        }
    });
}

/// A body of exactly 7,654,321 bytes: a long straight-line computation over a few locals
/// (`x = x * 31 + k` and friends), padded with `nop`s.
#[test]
fn body_size() {
    const BYTES: usize = 7_654_321;
    let mut b = Builder::new();
    let ty = b.ty(&[ValType::I32], &[ValType::I32]);
    let mut f = Function::new([(1, ValType::I32)]);
    let mut steps = 0u32;
    while f.byte_len() + 16 < BYTES {
        let k = steps as i32 % 1000;
        f.instructions()
            .local_get(0)
            .i32_const(31)
            .i32_mul()
            .i32_const(k)
            .i32_add()
            .local_tee(0)
            .local_get(1)
            .i32_xor()
            .local_set(1);
        steps += 1;
    }
    f.instructions().local_get(1);
    // The body so far, padded with `nop`s to one byte short of the size, then its `end`.
    let mut bytes = f.into_raw_body();
    bytes.resize(BYTES - 1, 0x01);
    bytes.push(0x0b);
    b.funcs.function(ty);
    b.code.raw(&bytes);
    b.export("run", 0);
    let wasm = b.finish();
    let expect = |mut x: i32| {
        let mut acc = 0i32;
        for s in 0..steps {
            x = x.wrapping_mul(31).wrapping_add(s as i32 % 1000);
            acc ^= x;
        }
        acc
    };
    let want = expect(17);
    in_every_mode(&wasm, move |store, instance| {
        let got = call(store, instance, "run", &[Val::I32(17)], 1);
        assert_eq!(got[0].i32(), Some(want));
    });
}

/// 1,000,000 functions, function `k` returning `k`: the first, a middle and the last are
/// exported, and `last_via_call` reaches the last by a direct call.
#[test]
fn functions() {
    const N: u32 = 1_000_000;
    let mut b = Builder::new();
    let ty = b.ty(&[], &[ValType::I32]);
    for k in 0..N - 1 {
        let mut f = Function::new([]);
        f.instructions().i32_const(k as i32).end();
        b.func(ty, &f);
    }
    let mut f = Function::new([]);
    f.instructions().call(N - 2).i32_const(1).i32_add().end();
    let last = b.func(ty, &f);
    b.export("first", 0);
    b.export("middle", N / 2);
    b.export("last", last);
    let wasm = b.finish();
    in_every_mode(&wasm, move |store, instance| {
        for (name, want) in [("first", 0), ("middle", N / 2), ("last", N - 1)] {
            let got = call(store, instance, name, &[], 1);
            assert_eq!(got[0].i32(), Some(want as i32), "{name}");
        }
    });
}

/// A table of 10,000,000 funcrefs with a function at the last index: `call_last` calls it
/// through the table, `size` reads the size, `grow` cannot grow it further, and a call at
/// the index past the end traps.
#[test]
fn table_elements() {
    const N: u32 = 10_000_000;
    let mut b = Builder::new();
    let ty = b.ty(&[], &[ValType::I32]);
    let index_ty = b.ty(&[ValType::I32], &[ValType::I32]);
    let mut answer = Function::new([]);
    answer.instructions().i32_const(42).end();
    let answer = b.func(ty, &answer);
    let mut call_at = Function::new([]);
    call_at
        .instructions()
        .local_get(0)
        .call_indirect(0, ty)
        .end();
    let call_at = b.func(index_ty, &call_at);
    let mut size = Function::new([]);
    size.instructions().table_size(0).end();
    let size = b.func(ty, &size);
    let mut grow = Function::new([]);
    grow.instructions()
        .ref_null(wasm_encoder::HeapType::FUNC)
        .i32_const(1)
        .table_grow(0)
        .end();
    let grow = b.func(ty, &grow);
    b.export("call_at", call_at);
    b.export("size", size);
    b.export("grow", grow);
    b.table = Some(one_element_table(N as u64, N as i32 - 1, answer));
    let wasm = b.finish();
    in_every_mode(&wasm, move |store, instance| {
        let got = call(store, instance, "call_at", &[Val::I32(N as i32 - 1)], 1);
        assert_eq!(got[0].i32(), Some(42));
        assert_eq!(
            call(store, instance, "size", &[], 1)[0].i32(),
            Some(N as i32)
        );
        assert_eq!(call(store, instance, "grow", &[], 1)[0].i32(), Some(-1));
        for (at, trap) in [
            (N as i32 - 2, TrapCode::UninitializedElement),
            (N as i32, TrapCode::UndefinedElement),
        ] {
            let got = trap_of(store, instance, "call_at", &[Val::I32(at)], 1);
            assert_eq!(got, trap, "call_at({at})");
        }
    });
}

/// A memory of 65,536 pages (4 GiB): the last word is written and read back, the size
/// is 65,536 pages, `memory.grow` fails, and a word that reaches past the end traps.
#[test]
fn memory_pages() {
    let mut b = Builder::new();
    let store_ty = b.ty(&[ValType::I32, ValType::I32], &[]);
    let load_ty = b.ty(&[ValType::I32], &[ValType::I32]);
    let size_ty = b.ty(&[], &[ValType::I32]);
    let arg = |offset| MemArg {
        offset,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    };
    let mut store = Function::new([]);
    store
        .instructions()
        .local_get(0)
        .local_get(1)
        .i32_store(arg(0))
        .end();
    let store = b.func(store_ty, &store);
    let mut load = Function::new([]);
    load.instructions().local_get(0).i32_load(arg(0)).end();
    let load = b.func(load_ty, &load);
    let mut size = Function::new([]);
    size.instructions().memory_size(0).end();
    let size = b.func(size_ty, &size);
    let mut grow = Function::new([]);
    grow.instructions().i32_const(1).memory_grow(0).end();
    let grow = b.func(size_ty, &grow);
    b.export("store", store);
    b.export("load", load);
    b.export("size", size);
    b.export("grow", grow);
    let mut memory = MemorySection::new();
    memory.memory(MemoryType {
        minimum: 65536,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    b.memory = Some(memory);
    let wasm = b.finish();
    let last = u32::MAX - 3;
    in_every_mode(&wasm, move |store, instance| {
        call(
            store,
            instance,
            "store",
            &[Val::I32(last as i32), Val::I32(0x1234_5678)],
            0,
        );
        let got = call(store, instance, "load", &[Val::I32(last as i32)], 1);
        assert_eq!(got[0].i32(), Some(0x1234_5678));
        assert_eq!(call(store, instance, "size", &[], 1)[0].i32(), Some(65536));
        assert_eq!(call(store, instance, "grow", &[], 1)[0].i32(), Some(-1));
        let trap = trap_of(store, instance, "load", &[Val::I32(last as i32 + 1)], 1);
        assert_eq!(trap, TrapCode::MemoryOutOfBounds);
    });
}

/// An operand stack 40,000 values deep (the interpreter's compact registers reach 32,767):
/// `deep(x)` pushes `x + k` for every `k`, then adds them all up.
#[test]
fn deep_operand_stack() {
    const DEPTH: i64 = 40_000;
    let mut b = Builder::new();
    let ty = b.ty(&[ValType::I64], &[ValType::I64]);
    let mut f = Function::new([]);
    let mut i = f.instructions();
    for k in 0..DEPTH {
        i.local_get(0).i64_const(k).i64_add();
    }
    for _ in 1..DEPTH {
        i.i64_add();
    }
    i.end();
    let deep = b.func(ty, &f);
    b.export("deep", deep);
    let wasm = b.finish();
    let want = |x: i64| (0..DEPTH).fold(0i64, |acc, k| acc.wrapping_add(x + k));
    in_every_mode(&wasm, move |store, instance| {
        for x in [0, 9, -123_456_789] {
            let got = call(store, instance, "deep", &[Val::I64(x)], 1);
            assert_eq!(as_i64(&got[0]), want(x), "deep({x})");
        }
    });
}

/// 40,000 distinct constants (the interpreter's compact registers hold 32,768), each
/// multiplied with the argument, which keeps them out of immediates.
#[test]
fn distinct_constants() {
    const N: i64 = 40_000;
    let mut b = Builder::new();
    let ty = b.ty(&[ValType::I64], &[ValType::I64]);
    let mut f = Function::new([]);
    let mut i = f.instructions();
    i.i64_const(0);
    for k in 0..N {
        let c = 1_000_003 * k + 7;
        i.i64_const(c).local_get(0).i64_sub().i64_add();
    }
    i.end();
    let func = b.func(ty, &f);
    b.export("sum", func);
    let wasm = b.finish();
    let want = |x: i64| {
        (0..N).fold(0i64, |acc, k| {
            acc.wrapping_add((1_000_003 * k + 7).wrapping_sub(x))
        })
    };
    in_every_mode(&wasm, move |store, instance| {
        for x in [1, -5] {
            let got = call(store, instance, "sum", &[Val::I64(x)], 1);
            assert_eq!(as_i64(&got[0]), want(x), "sum({x})");
        }
    });
}
