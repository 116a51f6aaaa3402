//! WASI preview 1 through the embedding API: our own C programs (`programs/wasi/*.c`, built
//! to `.wasm`) exercise files, the sandbox, large directories, args and environment,
//! clocks, random, exit codes, traps, stdin and large outputs; hostile pointers from a
//! hand-written module get `EFAULT`; third-party programs run when installed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tierup::wasi::{I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
use tierup::{Engine, Linker, Module, Store, Trap};

struct Host {
    wasi: WasiCtx,
}

/// How a program ended.
struct Outcome {
    status: Result<i32, anyhow::Error>,
    stdout: String,
    stderr: String,
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("programs/wasi")
        .join(format!("{name}.wasm"))
}

/// A fresh, empty temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tierup-wasi-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `_start` of `wasm` with a context configured by `setup`, capturing its output.
fn run_module(wasm: &Path, setup: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    run_module_in(&Engine::default(), wasm, setup)
}

/// [`run_module`] in `engine`.
fn run_module_in(engine: &Engine, wasm: &Path, setup: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    let engine = engine.clone();
    let bytes = std::fs::read(wasm).expect("read program");
    let module = Module::new(&engine, bytes).expect("compile program");
    let mut linker = Linker::new(&engine);
    tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).expect("add wasi");
    let stdout = MemoryOutputPipe::new();
    let stderr = MemoryOutputPipe::new();
    let mut b = WasiCtxBuilder::new();
    b.arg(
        wasm.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("program"),
    );
    b.stdout(stdout.clone()).stderr(stderr.clone());
    setup(&mut b);
    let mut store = Store::new(&engine, Host { wasi: b.build() });
    let status = linker
        .instantiate(&mut store, &module)
        .and_then(|instance| {
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
            start.call(&mut store, ())
        })
        .map(|()| 0)
        .or_else(|e| match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(e),
        });
    let _ = store.data_mut().wasi.flush();
    Outcome {
        status,
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
    }
}

fn run(name: &str, setup: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    run_module(&program(name), setup)
}

/// Checks a self-checking program: exit 0, no FAIL line, the final summary.
fn assert_passes(o: &Outcome) {
    assert!(
        !o.stdout.contains("FAIL") && o.stdout.contains("done: 0 failure(s)"),
        "program failed:\n{}\n{}",
        o.stdout,
        o.stderr
    );
    assert_eq!(o.status.as_ref().ok(), Some(&0), "stderr: {}", o.stderr);
}

#[test]
fn files_and_directories() {
    let dir = TempDir::new("files");
    let o = run("files", |b| {
        b.preopened_dir(&dir.0, ".").expect("preopen");
    });
    assert_passes(&o);
    assert!(o.stdout.lines().filter(|l| l.starts_with("ok ")).count() > 60);
    // Everything the program made it removed again.
    let left: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sandbox_escapes_are_refused() {
    let root = TempDir::new("sandbox");
    let boxed = root.0.join("box");
    std::fs::create_dir_all(boxed.join("sub")).unwrap();
    std::fs::write(boxed.join("inside.txt"), "inside\n").unwrap();
    std::fs::write(root.0.join("secret.txt"), "secret\n").unwrap();
    std::fs::create_dir(root.0.join("sandbox-victim")).unwrap();
    std::os::unix::fs::symlink("..", boxed.join("out")).unwrap();
    std::os::unix::fs::symlink("secret.txt", root.0.join("secret-link")).unwrap();
    let o = run("sandbox", |b| {
        b.preopened_dir(&boxed, ".").expect("preopen");
    });
    assert_passes(&o);
    // Nothing outside changed.
    assert_eq!(
        std::fs::read_to_string(root.0.join("secret.txt")).unwrap(),
        "secret\n"
    );
    assert!(root.0.join("sandbox-victim").is_dir());
    let mut outside: Vec<String> = std::fs::read_dir(&root.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    outside.sort();
    assert_eq!(
        outside,
        ["box", "sandbox-victim", "secret-link", "secret.txt"]
    );
    assert!(boxed.join("inside.txt").is_file());
    assert!(!boxed.join("stolen.txt").exists());
}

#[test]
fn large_directory_listing() {
    let dir = TempDir::new("dirs");
    let o = run("dirs", |b| {
        b.arg("2500");
        b.preopened_dir(&dir.0, ".").expect("preopen");
    });
    assert_passes(&o);
    assert!(o.stdout.contains("listed 2500 files"), "{}", o.stdout);
}

#[test]
fn arguments_and_environment() {
    let o = run("env", |b| {
        b.args(&["one", "two words", "GREETING", "EMPTY", "MISSING"]);
        b.env("GREETING", "hello").env("EMPTY", "");
    });
    assert_eq!(o.status.unwrap(), 0);
    assert_eq!(
        o.stdout,
        "argc=6\narg[1]=one\narg[2]=two words\narg[3]=GREETING\narg[4]=EMPTY\n\
         arg[5]=MISSING\none=(unset)\ntwo words=(unset)\nGREETING=hello\nEMPTY=\n\
         MISSING=(unset)\n"
    );
    let o = run("env", |b| {
        b.arg("--all");
        b.env("A", "1").env("B", "2").env("A", "3");
    });
    assert_eq!(o.stdout, "argc=2\narg[1]=--all\nenv B=2\nenv A=3\n");
}

#[test]
fn clocks_sleep_random_yield() {
    let o = run("clocks", |_| {});
    assert_passes(&o);
}

#[test]
fn exit_codes() {
    for code in [0, 1, 7, 113] {
        let o = run("exitcode", |b| {
            b.arg(code.to_string());
        });
        assert_eq!(o.status.unwrap(), code);
        assert_eq!(o.stdout, format!("before {code}\nafter stderr\n"));
        assert_eq!(o.stderr, "stderr line\n");
    }
}

#[test]
fn trap_keeps_output_and_has_a_backtrace() {
    let o = run("exitcode", |b| {
        b.arg("trap");
    });
    let err = o.status.expect_err("the program traps");
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert!(trap.to_string().contains("unreachable"), "{trap}");
    assert!(trap.frames().len() >= 5, "{trap}");
    let text = trap.to_string();
    assert!(text.contains("!crash") && text.contains("!main"), "{text}");
    // Whatever the guest's libc had flushed before the trap arrived.
    assert!(o.stdout.starts_with("before trap\n"), "{}", o.stdout);
    assert_eq!(o.stderr, "stderr line\n");
}

#[test]
fn stdin_is_read_to_the_end() {
    let input: String = (0..2000).map(|i| format!("line {i} of input\n")).collect();
    let bytes = input.clone().into_bytes();
    let o = run("cat", move |b| {
        b.stdin(std::io::Cursor::new(bytes));
    });
    assert_eq!(o.status.unwrap(), 0);
    assert_eq!(o.stdout, input.to_uppercase());
    assert_eq!(o.stderr, format!("{} bytes, 2000 lines\n", input.len()));
}

/// Counts what is written without keeping it.
struct Counter(Arc<AtomicU64>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn large_output_streams() {
    let count = Arc::new(AtomicU64::new(0));
    let sink = Counter(count.clone());
    let o = run("bigout", move |b| {
        b.arg("256").stdout(sink);
    });
    assert_eq!(o.status.unwrap(), 0);
    assert_eq!(count.load(Ordering::Relaxed), 256 << 20);
}

#[test]
fn sha256sum_of_a_file() {
    let dir = TempDir::new("sha");
    std::fs::write(dir.0.join("abc.txt"), "abc").unwrap();
    std::fs::write(dir.0.join("empty.txt"), "").unwrap();
    let o = run("sha256sum", |b| {
        b.args(&["abc.txt", "empty.txt", "missing.txt"]);
        b.preopened_dir(&dir.0, ".").expect("preopen");
    });
    assert_eq!(o.status.unwrap(), 1, "missing.txt fails");
    assert_eq!(
        o.stdout,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc.txt\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt\n"
    );
    assert!(o.stderr.starts_with("missing.txt: "), "{}", o.stderr);
}

#[test]
fn hostile_pointers_get_efault() {
    let wat = r#"
      (module
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "iovec_past_end") (result i32)
          (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 0)))
        (func (export "buffer_past_end") (result i32)
          (i32.store (i32.const 0) (i32.const 65000))
          (i32.store (i32.const 4) (i32.const 1000))
          (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (func (export "huge_count") (result i32)
          (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 8)))
        (func (export "random_wraps") (result i32)
          (call $random_get (i32.const -16) (i32.const 32)))
        (func (export "result_past_end") (result i32)
          (call $sizes (i32.const 65535) (i32.const 0)))
        (func (export "poll_huge") (result i32)
          (call $poll (i32.const 0) (i32.const 0) (i32.const 0x7fffffff) (i32.const 0)))
        (func (export "readdir_bad_fd") (result i32)
          (call $readdir (i32.const 77) (i32.const 0) (i32.const 10) (i64.const 0) (i32.const 0)))
        (func (export "_start")))
    "#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut linker = Linker::new(&engine);
    tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    let wasi = WasiCtxBuilder::new().build();
    let mut store = Store::new(&engine, Host { wasi });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    for (name, errno) in [
        ("iovec_past_end", 21),
        ("buffer_past_end", 21),
        ("huge_count", 28),
        ("random_wraps", 21),
        ("result_past_end", 21),
        ("poll_huge", 21),
        ("readdir_bad_fd", 8),
    ] {
        let f = instance
            .get_typed_func::<(), i32>(&mut store, name)
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), errno, "{name}");
    }
}

/// A third-party program run on a small input: the module (relative to the install
/// directory), its arguments, extra preopens (guest path, host path relative to the install
/// directory), and the files of `tools/wasi-programs/expected/` its stdout and one written
/// file must equal (recorded from the reference engine, wasmtime).
struct Case {
    name: &'static str,
    wasm: &'static str,
    args: &'static [&'static str],
    dirs: &'static [(&'static str, &'static str)],
    stdout: Option<&'static str>,
    file: Option<(&'static str, &'static str)>,
}

const CASES: &[Case] = &[
    Case {
        name: "quickjs",
        wasm: "quickjs.wasm",
        args: &["fib.js"],
        dirs: &[],
        stdout: Some("quickjs.out"),
        file: None,
    },
    Case {
        name: "python",
        wasm: "python.wasm",
        args: &["compress.py"],
        dirs: &[],
        stdout: Some("python.out"),
        file: None,
    },
    Case {
        name: "python-zip",
        wasm: "python.wasm",
        args: &["-m", "zipfile", "-c", "fib.zip", "fib.js", "counter.v"],
        dirs: &[],
        stdout: None,
        file: Some(("fib.zip", "fib.zip")),
    },
    Case {
        name: "yosys",
        wasm: "yosys/yosys.wasm",
        args: &[
            "-Q",
            "-T",
            "-p",
            "read_verilog counter.v; synth -top counter -noabc; stat",
        ],
        dirs: &[("/share", "yosys/share")],
        stdout: Some("yosys.out"),
        file: None,
    },
    Case {
        name: "cc1",
        wasm: "avr/cc1.wasm",
        args: &["-quiet", "-mmcu=avr5", "-O2", "fib.c", "-o", "fib.s"],
        dirs: &[],
        stdout: None,
        file: Some(("fib.s", "fib.s")),
    },
    Case {
        name: "avr-as",
        wasm: "avr/avr-as.wasm",
        args: &["-mmcu=avr5", "fib.s.in", "-o", "fib.o"],
        dirs: &[],
        stdout: None,
        file: Some(("fib.o", "fib.o")),
    },
];

/// Third-party WASI programs installed by `tools/wasi-programs/install` (not in the
/// repository): each runs on a small input when present, in the default mode, in the
/// optimizing tier and in the tiered mode with synchronous tier-up (where every function
/// and loop moves up at the same point of every run: it caught an OSR bug that the default
/// mode's timing hid), and must print (and write) what the reference engine did; a line
/// says when one is skipped.
#[test]
fn third_party_programs() {
    let mut optimizing = tierup::Config::new();
    optimizing.tier(tierup::TierMode::Optimizing);
    let mut sync = tierup::Config::new();
    sync.tier(tierup::TierMode::Tiered).sync_tier_up(true);
    for engine in [
        Engine::default(),
        Engine::new(&optimizing).unwrap(),
        Engine::new(&sync).unwrap(),
    ] {
        third_party_programs_in(&engine);
    }
}

fn third_party_programs_in(engine: &Engine) {
    let tier = engine.config().tier_mode();
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/wasi-programs");
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasi-programs");
    for case in CASES {
        let wasm = installed.join(case.wasm);
        if !wasm.is_file() {
            println!(
                "skipped {}: {} is not installed (run tools/wasi-programs/install)",
                case.name,
                wasm.display()
            );
            continue;
        }
        let work = TempDir::new(case.name);
        for entry in std::fs::read_dir(tools.join("inputs")).unwrap() {
            let entry = entry.unwrap();
            let to = work.0.join(entry.file_name());
            std::fs::copy(entry.path(), &to).unwrap();
            // A fixed time, which zip records for each member.
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
            let file = std::fs::File::options().write(true).open(&to).unwrap();
            file.set_times(
                std::fs::FileTimes::new()
                    .set_accessed(when)
                    .set_modified(when),
            )
            .unwrap();
        }
        std::fs::create_dir(work.0.join("tmp")).unwrap();
        let o = run_module_in(engine, &wasm, |b| {
            b.args(case.args);
            b.preopened_dir(&work.0, ".").expect("preopen");
            b.preopened_dir(work.0.join("tmp"), "/tmp")
                .expect("preopen");
            for (guest, host) in case.dirs {
                b.preopened_dir(installed.join(host), guest)
                    .expect("preopen");
            }
        });
        let status = o.status.as_ref().map_err(|e| format!("{e:#}"));
        assert_eq!(
            status,
            Ok(&0),
            "{} ({tier}): stderr:\n{}",
            case.name,
            o.stderr
        );
        let expected = |name: &str| std::fs::read(tools.join("expected").join(name)).unwrap();
        if let Some(out) = case.stdout {
            assert_eq!(
                o.stdout,
                String::from_utf8_lossy(&expected(out)),
                "{} ({tier}): stdout",
                case.name
            );
        }
        if let Some((written, want)) = case.file {
            let got = std::fs::read(work.0.join(written)).unwrap_or_default();
            assert!(
                got == expected(want),
                "{} ({tier}): {written} differs",
                case.name
            );
        }
        println!(
            "ran {} ({tier}): same output as the reference engine",
            case.name
        );
    }
}
