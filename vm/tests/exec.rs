//! Tests that run interpreted code through the runtime: calls in and out, traps with
//! backtraces, memory growth from wasm, call-depth exhaustion, lazy translation and tier
//! swaps through entry slots.

use tierup::{Caller, Config, Engine, Linker, Module, Store, Tier, Trap, TrapCode, Val};

#[test]
fn instantiate_and_call() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (func (export "add") (param i32 i32) (result i32)
               local.get 0 local.get 1 i32.add)
             (func (export "fac") (param i64) (result i64)
               local.get 0 i64.eqz
               if (result i64) i64.const 1
               else local.get 0 local.get 0 i64.const 1 i64.sub call 1 i64.mul end))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
    let fac = instance.get_func(&mut store, "fac").unwrap();
    let mut out = [Val::I64(0)];
    fac.call(&mut store, &[Val::I64(20)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i64(), 2_432_902_008_176_640_000);
    assert_eq!(fac.slot(&store).tier(), Tier::Interp);
}

#[test]
fn host_function_calls_back_into_wasm() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "call_back" (func $cb (param i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "double") (param i32) (result i32)
               local.get 0 i32.const 2 i32.mul)
             (func (export "run") (param i32) (result i32)
               i32.const 0 i32.const 99 i32.store8
               local.get 0 call $cb i32.const 1 i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::<u8>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "call_back",
            |mut caller: Caller<'_, Vec<u8>>, x: i32| -> tierup::Result<i32> {
                let mem = caller.get_export("memory").unwrap().into_memory().unwrap();
                let byte = mem.data(&caller)[0];
                caller.data_mut().push(byte);
                let double = caller.get_export("double").unwrap().into_func().unwrap();
                let double = double.typed::<i32, i32>(&caller)?;
                double.call(&mut caller, x)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 20).unwrap(), 41);
    assert_eq!(store.data(), &[99]);
}

#[test]
fn trap_with_backtrace_names() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $mod
             (func $inner (param i32) (result i32)
               i32.const 1 local.get 0 i32.div_u)
             (func $outer (export "outer") (param i32) (result i32)
               local.get 0 call $inner))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    assert_eq!(outer.call(&mut store, 1).unwrap(), 1);
    let err = outer.call(&mut store, 0).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::IntegerDivideByZero));
    let names: Vec<_> = trap
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["inner", "outer"]);
    assert_eq!(trap.frames()[0].module_name.as_deref(), Some("mod"));
    let text = err.to_string();
    assert!(
        text.starts_with("integer divide by zero\nwasm backtrace:"),
        "{text}"
    );
    assert!(text.contains("mod!inner"), "{text}");
}

#[test]
fn host_error_through_wasm_keeps_its_type() {
    #[derive(Debug)]
    struct Exit(i32);
    impl std::fmt::Display for Exit {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "exit {}", self.0)
        }
    }
    impl std::error::Error for Exit {}

    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "" "exit" (func $exit (param i32)))
             (func (export "main") i32.const 3 call $exit unreachable))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("", "exit", |code: i32| -> tierup::Result<()> {
            Err(Exit(code).into())
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let main = instance
        .get_typed_func::<(), ()>(&mut store, "main")
        .unwrap();
    let err = main.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Exit>().map(|e| e.0), Some(3));
}

#[test]
fn memory_grow_respects_config_limit() {
    let mut config = Config::new();
    config.max_memory_pages(3);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 1)
             (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
             (func (export "size") (result i32) memory.size))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let size = instance
        .get_typed_func::<(), i32>(&mut store, "size")
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
    let m = instance.get_memory(&mut store, "m").unwrap();
    assert_eq!(m.data(&store).len(), 3 * 65536);
}

#[test]
fn deep_recursion_is_a_trap() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (func $f (export "f") call $f))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::StackOverflow));
    assert!(err.to_string().starts_with("call stack exhausted"));
}

#[test]
fn tier_swap_through_the_slot() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let slot = f.func().slot(&store);
    assert_eq!(slot.tier(), Tier::Lazy);
    assert_eq!(f.call(&mut store, 1).unwrap(), 2);
    assert_eq!(slot.tier(), Tier::Interp);
    let old = slot.code();
    let fresh = module.compile_fresh(0, Tier::Interp).unwrap();
    assert_ne!(fresh, old);
    // SAFETY: same function of the same module; the module outlives the store.
    unsafe { slot.publish(fresh) };
    assert_eq!(slot.code(), fresh);
    assert_eq!(f.call(&mut store, 41).unwrap(), 42);
}

#[test]
fn recursion_through_the_host_is_bounded() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "" "again" (func $again))
             (func (export "f") call $again))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "",
            "again",
            |mut caller: Caller<'_, ()>| -> tierup::Result<()> {
                let f = caller.get_export("f").unwrap().into_func().unwrap();
                f.call(&mut caller, &[], &mut [])
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::StackOverflow));
}

#[test]
fn handles_are_thread_safe() {
    fn send_sync<X: Send + Sync>() {}
    fn send<X: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<tierup::Func>();
    send_sync::<tierup::Memory>();
    send_sync::<tierup::tiering::SlotHandle>();
    send_sync::<tierup::tiering::CodeHandle>();
    send::<Store<()>>();
}

#[test]
fn publishing_from_another_thread_while_calling() {
    // Only the test publishes: no tier manager racing it with code of its own.
    let mut config = Config::new();
    config.tier(tierup::TierMode::Interp);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32) (result i32)
             (local i32)
             loop
               local.get 1 i32.const 1 i32.add local.set 1
               local.get 1 local.get 0 i32.lt_u br_if 0
             end
             local.get 1))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let slot = f.func().slot(&store);
    let codes: Vec<_> = (0..8)
        .map(|_| module.compile_fresh(0, Tier::Interp).unwrap())
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publisher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: every record is a translation of the same function of the same
                // module, which outlives this thread (joined below).
                unsafe { slot.publish(codes[i % codes.len()]) };
                i += 1;
                std::thread::yield_now();
            }
        })
    };
    for n in 0..2000 {
        assert_eq!(f.call(&mut store, n % 50 + 1).unwrap(), n % 50 + 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    publisher.join().unwrap();
    assert_eq!(slot.tier(), Tier::Interp);
}

#[test]
fn shared_table_and_indirect_calls_across_instances() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module
             (table (export "tab") 2 funcref)
             (func $seven (result i32) i32.const 7)
             (elem (i32.const 0) $seven)
             (func (export "call") (param i32) (result i32)
               local.get 0 call_indirect (result i32))
             (func (export "grow") (result i32) ref.null func i32.const 3 table.grow))"#,
    )
    .unwrap();
    linker.module(&mut store, "a", &a).unwrap();
    let b = Module::new(
        &engine,
        r#"(module
             (import "a" "tab" (table 2 funcref))
             (func $eight (result i32) i32.const 8)
             (func $wrong (param i32))
             (elem (i32.const 1) $eight)
             (elem (i32.const 4) $wrong))"#,
    );
    let b = b.unwrap();
    // The table is too small for the second segment until it grows.
    let err = linker.instantiate(&mut store, &b).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(Trap::code),
        Some(TrapCode::TableOutOfBounds)
    );
    let call = linker
        .get(&mut store, "a", "call")
        .unwrap()
        .into_func()
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    // The first segment of the failed instantiation stays written.
    assert_eq!(call.call(&mut store, 1).unwrap(), 8);
    let grow = linker
        .get(&mut store, "a", "grow")
        .unwrap()
        .into_func()
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), 2);
    linker.instantiate(&mut store, &b).unwrap();
    assert_eq!(call.call(&mut store, 0).unwrap(), 7);
    let err = call.call(&mut store, 4).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(Trap::code),
        Some(TrapCode::IndirectCallTypeMismatch)
    );
    let err = call.call(&mut store, 3).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(Trap::code),
        Some(TrapCode::UninitializedElement)
    );
    let err = call.call(&mut store, 5).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(Trap::code),
        Some(TrapCode::UndefinedElement)
    );
}

#[test]
fn lazy_validation_reports_an_invalid_body_when_it_is_called() {
    let wat = r#"(module
         (func (export "good") (result i32) i32.const 7)
         (func (export "bad") (result i32) i32.const 1 i64.const 2 i64.add)
         (func (export "calls_bad") (result i32) call 1))"#;
    // By default the whole module is validated: it is rejected.
    let err = Module::new(&Engine::default(), wat).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");

    let mut config = Config::new();
    config.lazy_validation(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let good = instance
        .get_typed_func::<(), i32>(&mut store, "good")
        .unwrap();
    assert_eq!(good.call(&mut store, ()).unwrap(), 7);
    for name in ["bad", "calls_bad", "bad"] {
        let f = instance
            .get_typed_func::<(), i32>(&mut store, name)
            .unwrap();
        let err = f.call(&mut store, ()).unwrap_err();
        let trap = err.downcast_ref::<Trap>().expect("a trap");
        assert_eq!(trap.code(), Some(TrapCode::CompileError), "{name}");
        assert!(trap.message().contains("type mismatch"), "{name}: {trap}");
    }
    assert_eq!(good.call(&mut store, ()).unwrap(), 7);
}

#[test]
fn calls_setting_their_argument_survive_lazy_translation() {
    // A call that sets its argument itself (`f(x)`, `f(n - 1)`: the interpreter's form
    // `PRE`) runs again when its callee is translated at that call. Each callee here is
    // first called from such a call, and `h(g(x) + 1)` computes its argument from the
    // call slot (which the translator leaves to its own instruction). Regression: yosys
    // once trapped with an uninitialized table element after a doubled increment.
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (func $g (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
             (func $h (param i32) (result i32) local.get 0 i32.const 5 i32.mul)
             (func $k (param i32) (result i32) local.get 0 i32.const 7 i32.add)
             (func (export "nested") (param $x i32) (result i32)
               local.get $x call $g i32.const 1 i32.add call $h
               local.get $x i32.const -1 i32.add call $k
               i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let nested = instance
        .get_typed_func::<i32, i32>(&mut store, "nested")
        .unwrap();
    // h(g(5) + 1) + k(5 - 1) = 80 + 11, on the first call and after.
    assert_eq!(nested.call(&mut store, 5).unwrap(), 91);
    assert_eq!(nested.call(&mut store, 5).unwrap(), 91);
}
