//! Embedding-API tests that need no interpreted code: linking, host functions, memories,
//! tables, globals, segment initialisation and traps raised during instantiation.

use tierup::{
    Config, Engine, Extern, Func, FuncType, Global, GlobalType, Instance, Linker, Memory,
    MemoryType, Module, Mutability, Store, Table, TableType, Trap, TrapCode, Val, ValType,
};

fn engine() -> Engine {
    Engine::default()
}

#[test]
fn unknown_import_names_module_name_and_index() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "f" (func))
             (import "env" "g" (func (param i32))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", || {}).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("unknown import"), "{msg}");
    assert!(msg.contains("`env::g`"), "{msg}");
    assert!(msg.contains("import #1"), "{msg}");
    assert!(err.downcast_ref::<tierup::LinkError>().is_some());
}

#[test]
fn incompatible_import_types() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |x: i64| x).unwrap();
    let mem = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&mut store, "env", "mem", mem).unwrap();

    let m = Module::new(&engine, r#"(module (import "env" "f" (func (param i32))))"#).unwrap();
    let msg = linker.instantiate(&mut store, &m).unwrap_err().to_string();
    assert!(msg.contains("incompatible import type"), "{msg}");
    assert!(msg.contains("`env::f`"), "{msg}");

    // A memory import with a maximum needs an actual maximum.
    let m = Module::new(&engine, r#"(module (import "env" "mem" (memory 1 2)))"#).unwrap();
    let msg = linker.instantiate(&mut store, &m).unwrap_err().to_string();
    assert!(msg.contains("incompatible import type"), "{msg}");

    // Kind mismatch.
    let m = Module::new(&engine, r#"(module (import "env" "mem" (func)))"#).unwrap();
    let msg = linker.instantiate(&mut store, &m).unwrap_err().to_string();
    assert!(msg.contains("incompatible import type"), "{msg}");

    // The matching one links.
    let m = Module::new(&engine, r#"(module (import "env" "mem" (memory 1)))"#).unwrap();
    linker.instantiate(&mut store, &m).unwrap();
}

#[test]
fn invalid_and_malformed_modules_are_rejected() {
    let engine = engine();
    let err = Module::new(&engine, r#"(module (func (result i32)))"#).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    assert!(Module::from_binary(&engine, b"\0asm\x02\0\0\0").is_err());
    assert!(Module::new(&engine, "(module (func $f (i32.bogus)))").is_err());
}

#[test]
fn host_function_reexported_and_called() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "add" (func $add (param i32 i32) (result i32)))
             (export "add" (func $add)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "add",
            |mut caller: tierup::Caller<'_, u32>, a: i32, b: i32| {
                *caller.data_mut() += 1;
                a.wrapping_add(b)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42);
    let f = instance.get_func(&mut store, "add").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 3);
    assert_eq!(*store.data(), 2);
    // Wrong argument types are rejected before the call.
    assert!(
        f.call(&mut store, &[Val::I64(1), Val::I32(2)], &mut out)
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<i32, i32>(&mut store, "add")
            .is_err()
    );
    assert_eq!(
        f.ty(&store),
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32])
    );
}

#[derive(Debug)]
struct MyError(u32);

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error {}", self.0)
    }
}
impl std::error::Error for MyError {}

#[test]
fn host_errors_come_back_unchanged() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let f = Func::wrap(&mut store, || -> tierup::Result<()> {
        Err(MyError(7).into())
    });
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(7));

    // A failing start function fails the instantiation with the host's error.
    let module = Module::new(&engine, r#"(module (import "" "f" (func $f)) (start $f))"#).unwrap();
    let err = Instance::new(&mut store, &module, &[f.into()]).unwrap_err();
    assert!(err.downcast_ref::<MyError>().is_some(), "{err}");

    // A panicking host function becomes an error, not a crash.
    let p = Func::wrap(&mut store, || -> i32 { panic!("boom") });
    let err = p.call(&mut store, &[], &mut [Val::I32(0)]).unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
}

#[test]
fn dynamic_host_function() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::I64], [ValType::I64, ValType::F32]);
    let f = Func::new(&mut store, ty, |_caller, params, results| {
        results[0] = Val::I64(params[0].unwrap_i64() * 3);
        results[1] = Val::from(1.5f32);
        Ok(())
    });
    let typed = f.typed::<i64, (i64, f32)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, 5).unwrap(), (15, 1.5));
}

#[test]
fn memory_limits_from_config() {
    let mut config = Config::new();
    config.max_memory_pages(2);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    assert!(Memory::new(&mut store, MemoryType::new(3, None)).is_err());
    let mem = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 1);
    assert!(mem.grow(&mut store, 1).is_err());
    assert_eq!(mem.size(&store), 2);
    assert_eq!(mem.data(&store).len(), 2 * 65536);
    mem.data_mut(&mut store)[131071] = 9;
    assert_eq!(mem.data(&store)[131071], 9);

    let module = Module::new(&engine, "(module (memory 3))").unwrap();
    assert!(Instance::new(&mut store, &module, &[]).is_err());

    let mem = Memory::new(&mut store, MemoryType::new(0, Some(1))).unwrap();
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 0);
    assert!(mem.grow(&mut store, 1).is_err());
}

/// `Config::huge_pages` marks each memory's reservation for transparent huge pages, or
/// leaves it alone; either way the memory reads and writes the same across 2 MiB
/// boundaries, before and after it grows.
#[test]
fn memories_take_huge_pages_as_configured() {
    const PAGE: usize = 65536;
    for on in [true, false] {
        let mut config = Config::new();
        config.huge_pages(on);
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, ());
        let mem = Memory::new(&mut store, MemoryType::new(40, None)).unwrap();
        let fill = |data: &mut [u8], from: usize| {
            for i in (from..data.len()).step_by(4096) {
                data[i] = (i / 4096) as u8;
            }
        };
        fill(mem.data_mut(&mut store), 0);
        assert_eq!(mem.grow(&mut store, 40).unwrap(), 40);
        fill(mem.data_mut(&mut store), 40 * PAGE);
        let data = mem.data(&store);
        assert_eq!(data.len(), 80 * PAGE);
        for i in (0..data.len()).step_by(4096) {
            assert_eq!(data[i], (i / 4096) as u8, "byte {i}");
            assert_eq!(data[i + 1], 0, "byte {}", i + 1);
        }
        #[cfg(target_os = "linux")]
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            let flags = mapping_flags(data.as_ptr() as usize);
            let advised = flags.split_whitespace().any(|f| f == "hg");
            assert_eq!(advised, on, "huge_pages({on}): VmFlags {flags}");
        }
    }
}

/// The `VmFlags` of the mapping of this process that contains `addr`.
#[cfg(target_os = "linux")]
fn mapping_flags(addr: usize) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    for line in smaps.lines() {
        let range = line
            .split_whitespace()
            .next()
            .and_then(|r| r.split_once('-'));
        if let Some((start, end)) = range
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&addr);
        } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return flags.trim().to_string();
        }
    }
    panic!("no mapping contains {addr:#x}");
}

#[test]
fn every_tier_mode_runs_a_function() {
    for name in ["interp", "baseline", "optimizing", "eager", "tiered"] {
        let mut config = Config::new();
        let mode: tierup::TierMode = name.parse().unwrap();
        assert_eq!(mode.name(), name);
        config.tier(mode);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(
            &engine,
            r#"(module (func (export "add") (param i32 i32) (result i32)
                 (i32.add (local.get 0) (local.get 1))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let add = inst
            .get_typed_func::<(i32, i32), i32>(&mut store, "add")
            .unwrap();
        assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42, "{name}");
    }
    assert!("bogus".parse::<tierup::TierMode>().is_err());
}

#[test]
fn shared_memory_between_instances() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let a = Module::new(
        &engine,
        r#"(module (memory (export "mem") 1 3) (data (i32.const 0) "abc"))"#,
    )
    .unwrap();
    let b = Module::new(
        &engine,
        r#"(module (import "a" "mem" (memory 1)) (memory (export "m") 0)
             (data (memory 0) (i32.const 3) "def"))"#,
    );
    // Multi-memory is not in 2.0: the second module is invalid.
    assert!(b.is_err());
    let b = Module::new(
        &engine,
        r#"(module (import "a" "mem" (memory 1)) (export "mem2" (memory 0))
             (data (i32.const 3) "def"))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    let ia = linker.instantiate(&mut store, &a).unwrap();
    linker.instance(&mut store, "a", ia).unwrap();
    let ib = linker.instantiate(&mut store, &b).unwrap();
    let ma = ia.get_memory(&mut store, "mem").unwrap();
    let mb = ib.get_memory(&mut store, "mem2").unwrap();
    assert_eq!(ma, mb);
    assert_eq!(&ma.data(&store)[..6], b"abcdef");
    mb.grow(&mut store, 2).unwrap();
    assert_eq!(ma.size(&store), 3);
    match ia.get_export(&mut store, "mem").unwrap().ty(&store) {
        tierup::ExternType::Memory(t) => assert_eq!(t, MemoryType::new(3, Some(3))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn segments_trap_but_keep_earlier_writes() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let tab = Table::new(
        &mut store,
        TableType::new(ValType::FuncRef, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    linker.define(&mut store, "t", "tab", tab).unwrap();
    let m = Module::new(
        &engine,
        r#"(module
             (import "t" "tab" (table 2 funcref))
             (func $f)
             (elem (i32.const 0) $f)
             (elem (i32.const 1) $f $f))"#,
    )
    .unwrap();
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::TableOutOfBounds));
    assert_eq!(err.to_string(), "out of bounds table access");
    assert!(matches!(
        tab.get(&mut store, 0),
        Some(Val::FuncRef(Some(_)))
    ));
    assert!(matches!(tab.get(&mut store, 1), Some(Val::FuncRef(None))));

    let m = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
    )
    .unwrap();
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(Trap::code),
        Some(TrapCode::MemoryOutOfBounds)
    );
}

#[test]
fn globals_and_tables() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(7),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
             (import "" "g" (global $g i32))
             (global (export "copy") i32 (global.get $g))
             (global (export "mut") (mut i64) (i64.const -1))
             (func $f (export "f"))
             (table (export "tab") 3 funcref)
             (elem (i32.const 1) $f))"#,
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[g.into()]).unwrap();
    let copy = inst.get_global(&mut store, "copy").unwrap();
    assert_eq!(copy.get(&store).unwrap_i32(), 7);
    assert!(copy.set(&mut store, Val::I32(1)).is_err());
    let m = inst.get_global(&mut store, "mut").unwrap();
    assert_eq!(m.get(&store).unwrap_i64(), -1);
    m.set(&mut store, Val::I64(5)).unwrap();
    assert_eq!(m.get(&store).unwrap_i64(), 5);
    assert!(m.set(&mut store, Val::I32(5)).is_err());

    let tab = inst.get_table(&mut store, "tab").unwrap();
    let f = inst.get_func(&mut store, "f").unwrap();
    match tab.get(&mut store, 1) {
        Some(Val::FuncRef(Some(e))) => assert_eq!(e, f),
        other => panic!("{other:?}"),
    }
    assert!(tab.get(&mut store, 3).is_none());
    assert_eq!(tab.grow(&mut store, 2, Val::FuncRef(Some(f))).unwrap(), 3);
    assert_eq!(tab.size(&store), 5);
    assert!(matches!(
        tab.get(&mut store, 4),
        Some(Val::FuncRef(Some(_)))
    ));
    assert!(tab.set(&mut store, 0, Val::I32(0)).is_err());

    let exports: Vec<String> = inst
        .exports(&mut store)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(exports, ["copy", "mut", "f", "tab"]);
    assert!(matches!(
        inst.get_export(&mut store, "f"),
        Some(Extern::Func(_))
    ));
}

#[test]
fn module_metadata() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module $m
             (import "a" "b" (func $imp (param i32)))
             (func $named (export "e"))
             (@custom "hello" "world"))"#,
    )
    .unwrap();
    assert_eq!(module.name(), Some("m"));
    assert_eq!(module.func_name(1), Some("named"));
    let imports: Vec<_> = module
        .imports()
        .map(|i| (i.module().to_string(), i.name().to_string(), i.ty()))
        .collect();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, "a");
    assert_eq!(
        imports[0].2,
        tierup::ExternType::Func(FuncType::new([ValType::I32], []))
    );
    let exports: Vec<_> = module.exports().map(|e| e.name().to_string()).collect();
    assert_eq!(exports, ["e"]);
    let custom: Vec<_> = module.custom_sections("hello").collect();
    assert_eq!(custom, [b"world".as_slice()]);
}

#[test]
fn externrefs_round_trip() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let r = tierup::ExternRef::new(&mut store, 42u64);
    assert_eq!(r.data(&store).downcast_ref::<u64>(), Some(&42));
    let f = Func::wrap(&mut store, |r: Option<tierup::ExternRef>| r);
    let typed = f
        .typed::<Option<tierup::ExternRef>, Option<tierup::ExternRef>>(&store)
        .unwrap();
    assert_eq!(typed.call(&mut store, Some(r)).unwrap(), Some(r));
    assert_eq!(typed.call(&mut store, None).unwrap(), None);
}

#[test]
fn large_modules_validate_in_parallel_and_report_the_first_invalid_body() {
    // Enough code (over 256 KiB) that the bodies are validated on several threads. Two
    // bodies are invalid; the error must be the first one's, as sequential validation
    // reports it, however the threads interleave.
    let body = "i32.const 1 i32.const 2 i32.add drop ".repeat(16);
    let funcs = |bad: &[(usize, &str)]| {
        (0..6000)
            .map(|i| match bad.iter().find(|(at, _)| *at == i) {
                Some((_, code)) => format!("(func {code})\n"),
                None => format!("(func {body})\n"),
            })
            .collect::<String>()
    };
    let engine = engine();
    let good = wat::parse_str(format!("(module {})", funcs(&[]))).unwrap();
    assert!(good.len() > 256 << 10);
    Module::new(&engine, &good).unwrap();
    let bad = [
        (2500, "i32.const 1 i64.const 2 i64.add drop"),
        (4000, "local.get 7 drop"),
    ];
    let wasm = wat::parse_str(format!("(module {})", funcs(&bad))).unwrap();
    for _ in 0..5 {
        let err = Module::new(&engine, &wasm).unwrap_err().to_string();
        assert!(err.contains("type mismatch"), "{err}");
    }
}
