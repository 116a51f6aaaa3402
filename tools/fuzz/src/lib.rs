//! tierup's fuzz targets, as functions of their input (the `fuzz_targets/` files are
//! `cargo fuzz` wrappers around them, and `src/bin/seeds.rs` runs them over a range of
//! seeds without the fuzzing toolchain).
//!
//! * [`differential`]: `wasm-smith` makes a module of tierup's feature set from the input
//!   (`tierup_tests::differential`); every export runs under every tier mode and under
//!   seeded random tier masks (`tierup::compare`), and in wasmi, the reference engine,
//!   and any difference is a failure: between tier modes on everything a run shows,
//!   against wasmi on how each call ended (results, NaNs equal to NaNs, or a trap).
//! * [`robustness`]: arbitrary bytes, and generated modules with bytes flipped, go
//!   through validation, instantiation and every tier's compiler: anything but a module,
//!   an error or a trap (a panic, a crash) is a failure.

use std::time::Duration;

use tierup::compare::{End, Mode};
use tierup::{Config, Engine, Linker, Module, Store, Tier, TierMode, Val};
use tierup_tests::differential::{Verdict, check, generate, modes};

/// The tier modes of the differential target (two random tier masks, seeded by the
/// input's first bytes, so that a crash input reproduces).
fn differential_modes(data: &[u8]) -> Vec<Mode> {
    let seed = data
        .iter()
        .take(8)
        .fold(0u64, |h, &b| h.rotate_left(8) ^ u64::from(b));
    modes(seed..=seed.wrapping_add(1))
}

/// The differential target: `Err` with a report where two runs differ.
pub fn differential(data: &[u8]) -> Result<(), String> {
    let Some(wasm) = generate(data) else {
        return Ok(());
    };
    let modes = differential_modes(data);
    match check(&wasm, &modes) {
        Verdict::Diverge(report) => return Err(report),
        Verdict::Inconclusive => return Ok(()),
        Verdict::Agree(_) => {}
    }
    // The interpreter's calls, against wasmi's.
    let mut program =
        tierup::compare::Program::new(wasm.clone(), tierup::compare::Target::EveryExport);
    program.timeout = Duration::from_secs(20);
    let interp = tierup::compare::compare(&program, &modes[..1]).map_err(|e| format!("{e:#}"))?;
    let End::Calls(ours) = &interp.outcomes[0].end else {
        return Ok(());
    };
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    let theirs = wasmi_calls(&wasm, &names)?;
    for (name, end) in ours {
        let Some((_, reference)) = theirs.iter().find(|(n, _)| n == name) else {
            return Err(format!("wasmi has no export `{name}`"));
        };
        if exhausted(end, reference) {
            // Each engine's stack ends at its own depth, and what follows depends on it.
            break;
        }
        if let Some(d) = against_wasmi(end, reference) {
            return Err(format!("call of `{name}`: {d}"));
        }
    }
    Ok(())
}

/// The calls of the module made of `data`, as the interpreter and wasmi ended them, one
/// line each (for looking into a failure).
pub fn explain(data: &[u8]) -> String {
    let Some(wasm) = generate(data) else {
        return "no module".into();
    };
    let modes = differential_modes(data);
    let program = tierup::compare::Program::new(wasm.clone(), tierup::compare::Target::EveryExport);
    let mut out = String::new();
    let Ok(c) = tierup::compare::compare(&program, &modes[..1]) else {
        return "no comparison".into();
    };
    let End::Calls(ours) = &c.outcomes[0].end else {
        return format!("tierup: {}", c.outcomes[0].end);
    };
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    let theirs = wasmi_calls(&wasm, &names).unwrap_or_default();
    for (i, (name, end)) in ours.iter().enumerate() {
        let reference = theirs
            .get(i)
            .map(|(_, r)| format!("{r:?}"))
            .unwrap_or_default();
        out += &format!("{name:?}: tierup {end}; wasmi {reference}\n");
    }
    out
}

/// How a call ended in wasmi: results, or a trap (its kind as tierup names it, none for
/// one tierup has no name for, and its message).
#[derive(Debug)]
enum Reference {
    Returned(Vec<Val>),
    Trapped(Option<tierup::TrapCode>, String),
}

/// Whether either engine ran out of stack in the call.
fn exhausted(ours: &End, reference: &Reference) -> bool {
    use tierup::TrapCode::StackOverflow;
    matches!(ours, End::Trap(Some(StackOverflow), _))
        || matches!(reference, Reference::Trapped(Some(StackOverflow), _))
}

/// wasmi's trap codes as tierup's.
fn trap_kind(e: &wasmi::Error) -> Option<tierup::TrapCode> {
    use tierup::TrapCode as T;
    use wasmi::TrapCode as W;
    Some(match e.as_trap_code()? {
        W::UnreachableCodeReached => T::Unreachable,
        W::MemoryOutOfBounds => T::MemoryOutOfBounds,
        W::TableOutOfBounds => T::TableOutOfBounds,
        W::IndirectCallToNull => T::UninitializedElement,
        W::IntegerDivisionByZero => T::IntegerDivideByZero,
        W::IntegerOverflow => T::IntegerOverflow,
        W::BadConversionToInteger => T::BadConversionToInteger,
        W::StackOverflow => T::StackOverflow,
        W::BadSignature => T::IndirectCallTypeMismatch,
        _ => return None,
    })
}

/// The exported functions `names` of `wasm` called in wasmi in that order (tierup's, as
/// `Target::EveryExport` calls them: the calls share the module's fuel, so the order
/// matters), each with zero arguments.
fn wasmi_calls(wasm: &[u8], names: &[&str]) -> Result<Vec<(String, Reference)>, String> {
    let mut config = wasmi::Config::default();
    config
        .wasm_simd(true)
        .set_max_recursion_depth(100_000)
        .set_max_stack_height(64 << 20);
    let engine = wasmi::Engine::new(&config);
    let module = wasmi::Module::new(&engine, wasm).map_err(|e| format!("wasmi refused it: {e}"))?;
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        // The start function trapped: tierup must have trapped as well (its outcome then
        // has no calls, and nothing is compared here).
        Err(_) => return Ok(Vec::new()),
    };
    let mut funcs = Vec::new();
    for &name in names {
        let func = instance
            .get_func(&store, name)
            .ok_or_else(|| format!("wasmi has no exported function `{name}`"))?;
        funcs.push((name.to_string(), func));
    }
    let mut calls = Vec::new();
    for (name, func) in funcs {
        let ty = func.ty(&store);
        let args: Vec<wasmi::Val> = ty
            .params()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        let end = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Reference::Returned(results.iter().map(from_wasmi).collect()),
            Err(e) => Reference::Trapped(trap_kind(&e), e.to_string()),
        };
        calls.push((name, end));
    }
    Ok(calls)
}

fn from_wasmi(v: &wasmi::Val) -> Val {
    match v {
        wasmi::Val::I32(x) => Val::I32(*x),
        wasmi::Val::I64(x) => Val::I64(*x),
        wasmi::Val::F32(x) => Val::F32(x.to_bits()),
        wasmi::Val::F64(x) => Val::F64(x.to_bits()),
        wasmi::Val::V128(x) => Val::V128(x.as_u128()),
        wasmi::Val::FuncRef(r) => Val::FuncRef(if r.is_null() {
            None
        } else {
            // Only null-ness is compared: a placeholder of the right kind.
            return Val::I32(1);
        }),
        wasmi::Val::ExternRef(r) => Val::ExternRef(if r.is_null() {
            None
        } else {
            return Val::I32(2);
        }),
    }
}

/// What differs between tierup's end of a call and wasmi's, if anything: results (any NaN
/// equal to any NaN, references by null-ness), or the trap's kind (the wording is each
/// engine's own; an undefined table element is a table access out of bounds to wasmi).
fn against_wasmi(ours: &End, reference: &Reference) -> Option<String> {
    use tierup::TrapCode as T;
    match (ours, reference) {
        (End::Returned(a), Reference::Returned(b)) => {
            let same = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y));
            (!same).then(|| format!("tierup returned {a:?}, wasmi {b:?}"))
        }
        (End::Trap(code, _), Reference::Trapped(kind, t)) => {
            let same = code == kind
                || matches!(
                    (code, kind),
                    (Some(T::UndefinedElement), Some(T::TableOutOfBounds))
                );
            (!same).then(|| format!("tierup: {ours}; wasmi trapped: {t}"))
        }
        (ours, Reference::Trapped(_, t)) => Some(format!("tierup: {ours}; wasmi trapped: {t}")),
        (ours, Reference::Returned(b)) => Some(format!("tierup: {ours}; wasmi returned {b:?}")),
    }
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => {
            x == y || (f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan())
        }
        (Val::F64(x), Val::F64(y)) => {
            x == y || (f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan())
        }
        (Val::I32(x), Val::I32(y)) => x == y,
        (Val::I64(x), Val::I64(y)) => x == y,
        (Val::V128(x), Val::V128(y)) => x == y,
        (Val::FuncRef(None), Val::FuncRef(None)) => true,
        (Val::FuncRef(Some(_)), Val::I32(1)) => true,
        (Val::ExternRef(None), Val::ExternRef(None)) => true,
        (Val::ExternRef(Some(_)), Val::I32(2)) => true,
        _ => false,
    }
}

/// The robustness target: never a panic or a crash, whatever the bytes.
pub fn robustness(data: &[u8]) {
    let (selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let bytes = if selector & 1 == 0 {
        rest.to_vec()
    } else {
        // A generated module with some of its bytes flipped.
        let Some(mut wasm) = generate(rest) else {
            return;
        };
        for (i, &b) in rest.iter().take(8).enumerate() {
            if wasm.is_empty() {
                break;
            }
            let at = (usize::from(b) * 131 + i * 977) % wasm.len();
            wasm[at] ^= b | 1;
        }
        wasm
    };
    for (tier, mode) in [
        (Tier::Interp, TierMode::Interp),
        (Tier::Baseline, TierMode::Baseline),
        (Tier::Optimizing, TierMode::Optimizing),
    ] {
        let mut config = Config::new();
        config.tier(mode).epoch_interruption(true);
        let Ok(engine) = Engine::new(&config) else {
            continue;
        };
        let Ok(module) = Module::new(&engine, &bytes) else {
            continue;
        };
        // Every function through the tier's compiler (the baseline tier refuses some).
        let _ = module.precompile(tier, 1);
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(1);
        let ticker = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                engine.increment_epoch();
            })
        };
        if let Ok(instance) = Linker::new(&engine).instantiate(&mut store, &module) {
            for (_, export) in instance.exports(&mut store) {
                let Some(func) = export.into_func() else {
                    continue;
                };
                let ty = func.ty(&store);
                let args: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
                let mut results: Vec<Val> =
                    ty.results().iter().map(|t| Val::default_for(*t)).collect();
                let _ = func.call(&mut store, &args, &mut results);
            }
        }
        let _ = ticker.join();
    }
}
