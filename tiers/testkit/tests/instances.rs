//! Building instances with the kit, through the interpreter: globals from every constant
//! expression, host imports, the start function, lazy compilation through the entry and
//! the `translate` libcall, compile failures, the call-depth bound and instantiation
//! errors.

mod common;

use core::sync::atomic::Ordering;

use common::{Interp, Picky};
use tierup_abi::{FuncCode, FuncEntry, STATUS_OK, Tier, TrapCode, ValRaw, VmContext};
use tierup_testkit::{Error, Instance, Options};

#[test]
fn globals_start_from_their_constant_expressions() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (import "env" "base" (global $base i64))
          (global (export "i32") i32 (i32.const -7))
          (global (export "i64") i64 (i64.const 0x1_0000_0000))
          (global (export "f32") f32 (f32.const -1.5))
          (global (export "f64") f64 (f64.const 0.25))
          (global (export "v128") v128 (v128.const i32x4 1 2 3 4))
          (global (export "null") funcref (ref.null func))
          (global (export "null_extern") externref (ref.null extern))
          (global (export "func") funcref (ref.func $f))
          (global (export "copy") i64 (global.get $base))
          (global $count (export "count") (mut i32) (i32.const 10))
          (func $f (export "bump") (result i32)
            global.get $count i32.const 1 i32.add global.set $count global.get $count)
          (func (export "func_global") (result funcref) global.get 8))"#,
    );
    assert_eq!(i.global("i32").get_i32(), -7);
    assert_eq!(i.global("i64").get_i64(), 1 << 32);
    assert_eq!(i.global("f32").get_f32_bits(), (-1.5f32).to_bits());
    assert_eq!(i.global("f64").get_f64_bits(), 0.25f64.to_bits());
    assert_eq!(
        i.global("v128").get_v128(),
        0x0000_0004_0000_0003_0000_0002_0000_0001
    );
    assert!(i.global("null").get_funcref().is_null());
    assert_eq!(i.global("null_extern").get_externref(), 0);
    assert_eq!(i.global("func").get_funcref(), i.entry(0).unwrap());
    assert_eq!(
        i.global("copy").get_i64(),
        0,
        "imported globals start at zero"
    );
    assert_eq!(i.i32("bump", &[]), 11);
    assert_eq!(i.global("count").get_i32(), 11);
    assert!(i.set_global_at(10, ValRaw::i32(100)));
    assert!(!i.set_global_at(11, ValRaw::ZERO));
    assert_eq!(i.i32("bump", &[]), 101);
    let r = i.call_cells("func_global", &[]).unwrap();
    assert_eq!(r[0].get_funcref(), i.entry(0).unwrap());
    assert_eq!(i.global_at(0).unwrap().get_i64(), 0);
    assert!(i.global_at(11).is_none());
}

/// Host imports: import 0 returns its argument plus 100, import 1 traps with
/// `unreachable`.
///
/// # Safety
///
/// As for an array entry: `callee` is a slot and `args` has one cell.
unsafe extern "sysv64" fn host(
    callee: *const FuncEntry,
    _code: *const FuncCode,
    _caller: *mut VmContext,
    args: *mut ValRaw,
) -> u32 {
    // SAFETY: the kit passes the import's own slot; both imports take one cell.
    unsafe {
        assert!((*callee).vmctx.is_null(), "host slots have no context");
        match (*callee).func_index {
            0 => {
                *args = ValRaw::i32((*args).get_i32() + 100);
                STATUS_OK
            }
            _ => tierup_abi::trap::record(TrapCode::Unreachable),
        }
    }
}

#[test]
fn one_host_entry_serves_every_import_by_its_slot() {
    let mut i = Instance::with_host(
        Interp::default(),
        r#"(module
          (import "env" "add" (func $add (param i32) (result i32)))
          (import "env" "fail" (func $fail (param i32)))
          (func (export "add") (param i32) (result i32) local.get 0 call $add)
          (func (export "fail") i32.const 0 call $fail))"#,
        host,
    );
    assert_eq!(i.tier_of(0), Some(Tier::Host));
    assert_eq!(i.tier_of(2), Some(Tier::Interp));
    assert_eq!(i.i32("add", &[5]), 105);
    let t = i.call("fail", &[]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::Unreachable));
    assert_eq!(
        t.frames[0].func_index, 3,
        "the calling wasm frame is in the trace"
    );
    let e = Instance::instantiate(
        Interp::default(),
        br#"(module (import "env" "f" (func)))"#,
        &Options::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("host"), "{e}");
}

#[test]
fn the_start_function_runs_at_instantiation() {
    let i = Instance::new(
        Interp::default(),
        r#"(module
          (global (export "g") (mut i32) (i32.const 1))
          (func $start global.get 0 i32.const 41 i32.add global.set 0)
          (start $start))"#,
    );
    assert_eq!(i.global("g").get_i32(), 42);
    let e = Instance::instantiate(
        Interp::default(),
        br#"(module (func $s unreachable) (start $s))"#,
        &Options::new(),
    )
    .unwrap_err();
    match e {
        Error::Trap(t) => assert_eq!(t.code, Some(TrapCode::Unreachable)),
        other => panic!("{other}"),
    }
}

const CALLS: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $double)
  (func $double (type $t) local.get 0 i32.const 2 i32.mul)
  (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func (export "direct") (param i32) (result i32) local.get 0 call $inc)
  (func (export "indirect") (param i32) (result i32)
    local.get 0 i32.const 0 call_indirect (type $t))
  (func (export "never") (result i32) i32.const 0)
  (func $broken (export "broken") (result i32) i32.const 1))"#;

#[test]
fn lazy_instances_compile_each_function_on_its_first_call() {
    let mut i = Instance::instantiate(
        Interp::default(),
        CALLS.as_bytes(),
        &Options::new().lazy(true),
    )
    .unwrap();
    for f in 0..6 {
        assert_eq!(i.tier_of(f), Some(Tier::Lazy), "function {f}");
    }
    // The export is entered through the lazy entry, its callee through the `translate`
    // libcall the interpreter calls when it finds the lazy record in the callee's slot.
    assert_eq!(i.i32("direct", &[4]), 5);
    assert_eq!(i.tier_of(2), Some(Tier::Interp));
    assert_eq!(i.tier_of(1), Some(Tier::Interp));
    assert_eq!(i.tier_of(0), Some(Tier::Lazy));
    assert_eq!(i.i32("indirect", &[4]), 8);
    assert_eq!(i.tier_of(0), Some(Tier::Interp));
    assert_eq!(i.i32("direct", &[5]), 6, "published code is reused");
    assert_eq!(
        i.tier_of(4),
        Some(Tier::Lazy),
        "never called, never compiled"
    );
}

/// The interpreter, except that it refuses function 5 and panics on function 4.
fn picky() -> impl tierup_abi::Compiler {
    Picky(|func_index| match func_index {
        4 => panic!("the compiler broke on function 4"),
        5 => Some("function 5 is not to my liking".into()),
        _ => None,
    })
}

#[test]
fn compile_failures_are_errors_or_traps() {
    // Up front, a failure or a panic of the compiler is an error of instantiation.
    let e = Instance::instantiate(picky(), CALLS.as_bytes(), &Options::new()).unwrap_err();
    match e {
        Error::Compile {
            func_index,
            message,
        } => {
            assert_eq!(func_index, 4);
            assert!(
                message.contains("panicked: the compiler broke"),
                "{message}"
            );
        }
        other => panic!("{other}"),
    }
    let e = Instance::instantiate(
        Picky(|f| (f == 5).then(|| "no".to_string())),
        CALLS.as_bytes(),
        &Options::new(),
    )
    .unwrap_err();
    match e {
        Error::Compile {
            func_index,
            message,
        } => assert_eq!((func_index, message.as_str()), (5, "no")),
        other => panic!("{other}"),
    }
    // Lazily, the failure is a trap at the first call, with the compiler's message; a
    // panicking compiler is a trap too, and the instance stays usable.
    let mut i =
        Instance::instantiate(picky(), CALLS.as_bytes(), &Options::new().lazy(true)).unwrap();
    let t = i.call("broken", &[]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::CompileError));
    assert!(t.message.unwrap().contains("not to my liking"));
    let t = i.call("never", &[]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::CompileError));
    assert!(t.message.unwrap().contains("broke on function 4"));
    assert_eq!(i.i32("direct", &[1]), 2);
}

#[test]
fn the_call_depth_is_bounded_by_the_options() {
    let wat = br#"(module
      (func $down (export "down") (param i32) (result i32)
        local.get 0 i32.eqz
        if (result i32) i32.const 0
        else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end))"#;
    let mut i =
        Instance::instantiate(Interp::default(), wat, &Options::new().max_call_depth(50)).unwrap();
    assert_eq!(i.i32("down", &[40]), 40);
    assert_eq!(i.trap("down", &[60]), TrapCode::StackOverflow);
    let mut i = Instance::from_bytes(Interp::default(), wat, None);
    assert_eq!(i.i32("down", &[900]), 900);
    // SAFETY: the context is alive in `i`.
    let v = unsafe { &*i.vmctx() };
    // SAFETY: the limits live as long as the instance.
    let limits = unsafe { &*v.limits };
    assert_eq!(
        (
            limits.max_call_depth,
            limits.stack_limit.load(Ordering::Relaxed)
        ),
        (1000, 0)
    );
    assert!(!v.instance.is_null());
}

#[test]
fn bad_modules_are_errors() {
    for bad in [
        &b"(module (func (result i32)))"[..],
        b"(module (func",
        b"\0asm\x01\0\0\0\x01",
        b"(module (memory 2 1))",
    ] {
        let e = Instance::instantiate(Interp::default(), bad, &Options::new()).unwrap_err();
        assert!(matches!(e, Error::Module(_)), "{e}");
    }
}
