//! End-to-end tests of the `tierup` binary: `run --invoke` with arguments and results, a
//! trap's message and backtrace, `--timeout`, missing imports, and `wast` summaries and
//! exit codes.

use std::ops::Not;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Writes `contents` to a fresh file named `name` in a per-test temporary directory.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tierup-cli-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn tierup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(args)
        .output()
        .expect("run tierup")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const MATH: &str = r#"
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func (export "id_f32") (param f32) (result f32) local.get 0)
  (func (export "pair") (param i64 f64) (result i64 f64) local.get 0 local.get 1)
  (func (export "boom") (param i32) (result i32)
    local.get 0 call $inner)
  (func $inner (param i32) (result i32)
    i32.const 1 local.get 0 i32.div_u))
"#;

#[test]
fn run_invoke_prints_results() {
    let wat = temp_file("math.wat", MATH);
    let wat = wat.to_str().unwrap();
    let o = tierup(&["run", "--invoke", "add", wat, "2", "-5"]);
    assert_eq!(stdout(&o), "-3\n", "stderr: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));

    let o = tierup(&["run", "--invoke", "id_f32", wat, "nan:0x200000"]);
    assert_eq!(stdout(&o), "nan:0x200000\n", "stderr: {}", stderr(&o));
    let o = tierup(&["run", "--invoke", "id_f32", wat, "-inf"]);
    assert_eq!(stdout(&o), "-inf\n", "stderr: {}", stderr(&o));

    let o = tierup(&[
        "run", "--tier", "interp", "--invoke", "pair", wat, "0x10", "0.1",
    ]);
    assert_eq!(stdout(&o), "16\n0.1\n", "stderr: {}", stderr(&o));
}

#[test]
fn run_trap_reports_message_and_backtrace() {
    let wat = temp_file("math.wat", MATH);
    let o = tierup(&["run", "--invoke", "boom", wat.to_str().unwrap(), "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("integer divide by zero"), "stderr: {err}");
    assert!(err.contains("wasm backtrace"), "stderr: {err}");
}

#[test]
fn run_timeout_interrupts_an_endless_program_in_every_tier() {
    let wat = temp_file(
        "spin.wat",
        r#"(module
             (func $spin (export "spin") (loop $l (br $l)))
             (func (export "_start") (call $spin))
             (func (export "quick") (result i32) (i32.const 7)))"#,
    );
    let wat = wat.to_str().unwrap();
    for tier in ["interp", "baseline", "optimizing", "tiered"] {
        let started = std::time::Instant::now();
        let o = tierup(&["run", "--tier", tier, "--timeout", "200ms", wat]);
        let took = started.elapsed();
        assert_eq!(o.status.code(), Some(1), "{tier}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("error: interrupt"), "{tier}: {err}");
        assert!(err.contains("spin"), "{tier}: {err}");
        assert!(
            took >= std::time::Duration::from_millis(200),
            "{tier}: {took:?}"
        );
    }
    // A program that ends first is not disturbed.
    let o = tierup(&["run", "--timeout", "1m", "--invoke", "quick", wat]);
    assert_eq!(stdout(&o), "7\n", "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
    for bad in ["soon", "10x", "-1s"] {
        let o = tierup(&["run", "--timeout", bad, wat]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn compare_agrees_and_names_a_divergence() {
    let wat = temp_file(
        "cmp.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
             (memory (export "memory") 1)
             (global $g (mut i32) (i32.const 0))
             (func $fib (export "fib") (param i64) (result i64)
               (if (result i64) (i64.lt_u (local.get 0) (i64.const 2)) (then (local.get 0))
                 (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                                (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
             (func (export "fill") (param $n i32) (result i32) (local $i i32)
               (loop $l
                 (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (local.get $i)))
                 (global.set $g (i32.add (global.get $g) (local.get $i)))
                 (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
               (global.get $g))
             (func (export "deep") (param i32) (result i32)
               (i32.store (i32.const 0) (local.get 0))
               (call 3 (i32.add (local.get 0) (i32.const 1))))
             (func (export "noise") (drop (call $random (i32.const 64) (i32.const 16)))))"#,
    );
    let wat = wat.to_str().unwrap();
    for (export, arg, end) in [
        ("fib", Some("25"), "returned 75025:i64"),
        ("fill", Some("5000"), "returned 12497500:i32"),
        // Each tier exhausts the stack at its own depth, having stored its own last value.
        ("deep", Some("0"), "trap: call stack exhausted"),
    ] {
        let mut args = vec!["compare", "--invoke", export, wat];
        args.extend(arg);
        let o = tierup(&args);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{export}: {out}{}", stderr(&o));
        assert!(out.contains("all 10 runs agree"), "{export}: {out}");
        assert_eq!(out.matches(end).count(), 10, "{export}: {out}");
        for mode in [
            "interp",
            "baseline",
            "optimizing",
            "tiered-sync",
            "random-tiers-3",
        ] {
            assert!(out.contains(mode), "{mode}: {out}");
        }
    }
    // Random bytes differ from run to run: the first run after the interpreter's differs.
    let o = tierup(&["compare", "--seeds", "0", "--invoke", "noise", wat]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("divergence: baseline differs from interp: memory 0 (hash")
            && out.contains("first differs at address 0x4"),
        "{out}"
    );
    assert!(
        out.contains("all 7 runs").not() && out.lines().count() == 9,
        "{out}"
    );
    let o = tierup(&["compare", "--invoke", "fib", wat]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn run_bad_arguments_are_usage_errors() {
    let wat = temp_file("math.wat", MATH);
    let wat = wat.to_str().unwrap();
    let o = tierup(&["run", "--invoke", "add", wat, "1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tierup(&["run", "--invoke", "add", wat, "1", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid i32 argument"),
        "{}",
        stderr(&o)
    );
    let o = tierup(&["run", wat]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--invoke"), "{}", stderr(&o));
}

#[test]
fn run_missing_imports_are_named() {
    let wat = temp_file(
        "imports.wat",
        r#"(module
             (import "env" "foo" (func))
             (import "env" "mem" (memory 1))
             (func (export "_start")))"#,
    );
    let o = tierup(&["run", wat.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("unknown import `env::foo` (import #0, function) has not been defined"),
        "stderr: {err}"
    );
    assert!(
        err.contains("`env::mem` (import #1, memory)"),
        "stderr: {err}"
    );
}

#[test]
fn wast_passing_and_failing_scripts() {
    let good = temp_file(
        "good.wast",
        r#"(module (func (export "f") (result i32) i32.const 1))
           (assert_return (invoke "f") (i32.const 1))
           (assert_trap (module (func $s unreachable) (start $s)) "unreachable")"#,
    );
    let o = tierup(&["wast", good.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {out}");
    assert!(out.starts_with("ok   "), "stdout: {out}");
    assert!(out.ends_with("1 passed, 0 failed\n"), "stdout: {out}");

    let bad = temp_file(
        "bad.wast",
        r#"(module (func (export "f") (result i32) i32.const 1))
           (assert_return (invoke "f") (i32.const 2))"#,
    );
    let o = tierup(&["wast", good.to_str().unwrap(), bad.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "stdout: {out}");
    assert!(out.contains("FAIL "), "stdout: {out}");
    assert!(out.contains("(1 passed, 1 failed)"), "stdout: {out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "stdout: {out}");
}

#[test]
fn run_binary_module_with_start_export() {
    let bytes = wat::parse_str(r#"(module (func (export "_start") (result i64) i64.const -42))"#)
        .expect("valid wat");
    let path = temp_file("start.wasm", "");
    std::fs::write(&path, bytes).expect("write wasm");
    let o = tierup(&["run", path.to_str().unwrap()]);
    assert_eq!(stdout(&o), "-42\n", "stderr: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn run_lazy_validation_defers_invalid_bodies() {
    let wat = temp_file(
        "lazy.wat",
        r#"(module
  (func (export "ok") (result i32) i32.const 5)
  (func (export "broken") (result i32) i64.const 1))"#,
    );
    let wat = wat.to_str().unwrap();
    let o = tierup(&["run", "--invoke", "ok", wat]);
    assert_eq!(o.status.code(), Some(2), "stdout: {}", stdout(&o));
    assert!(
        stderr(&o).contains("type mismatch"),
        "stderr: {}",
        stderr(&o)
    );

    let o = tierup(&["run", "--lazy-validation", "--invoke", "ok", wat]);
    assert_eq!(stdout(&o), "5\n", "stderr: {}", stderr(&o));
    let o = tierup(&["run", "--lazy-validation", "--invoke", "broken", wat]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("type mismatch"),
        "stderr: {}",
        stderr(&o)
    );
}

#[test]
fn run_with_and_without_huge_pages_agrees() {
    // Writes and reads back a word in each 64 KiB page of a 3 MiB memory (which spans a
    // whole 2 MiB huge page), after growing it, and returns the checksum.
    let wat = temp_file(
        "huge.wat",
        r#"(module
  (memory 16)
  (func (export "sum") (result i32) (local $a i32) (local $s i32)
    (drop (memory.grow (i32.const 32)))
    (loop $w
      (i32.store (local.get $a) (i32.add (local.get $a) (i32.const 7)))
      (local.set $a (i32.add (local.get $a) (i32.const 65536)))
      (br_if $w (i32.lt_u (local.get $a) (i32.const 3145728))))
    (local.set $a (i32.const 0))
    (loop $r
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.const 65536)))
      (br_if $r (i32.lt_u (local.get $a) (i32.const 3145728))))
    (local.get $s)))"#,
    );
    let wat = wat.to_str().unwrap();
    // The sum of 65536 * k + 7 for k in 0..48.
    let expected = format!("{}\n", (0..48u32).map(|k| 65536 * k + 7).sum::<u32>());
    for flags in [&[][..], &["--no-huge-pages"][..]] {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--invoke", "sum", wat]);
        let o = tierup(&args);
        assert_eq!(stdout(&o), expected, "{flags:?} stderr: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0));
    }
}

#[test]
fn every_tier_runs_and_traps_alike() {
    let wat = temp_file("math.wat", MATH);
    let wat = wat.to_str().unwrap();
    for tier in ["interp", "optimizing", "eager"] {
        let o = tierup(&[
            "run", "--tier", tier, "--invoke", "pair", wat, "0x10", "0.1",
        ]);
        assert_eq!(stdout(&o), "16\n0.1\n", "{tier}: {}", stderr(&o));
        let o = tierup(&["run", "--tier", tier, "--invoke", "boom", wat, "0"]);
        assert_eq!(o.status.code(), Some(1), "{tier}");
        let err = stderr(&o);
        assert!(err.contains("integer divide by zero"), "{tier}: {err}");
        assert!(
            err.contains("boom") || err.contains("func[3]"),
            "{tier}: {err}"
        );
    }
}

#[test]
fn run_precompile_compiles_every_function_before_the_program_starts() {
    let wat = temp_file("math.wat", MATH);
    let wat = wat.to_str().unwrap();
    for tier in ["baseline", "optimizing"] {
        let o = Command::new(env!("CARGO_BIN_EXE_tierup"))
            .args([
                "run",
                "--tier",
                tier,
                "--precompile",
                "--invoke",
                "add",
                wat,
                "2",
                "3",
            ])
            .env("RUST_LOG", "tierup::tiering=info")
            .output()
            .unwrap();
        assert_eq!(stdout(&o), "5\n", "{tier}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("precompiled") && err.contains("functions=5"),
            "{tier}: {err}"
        );
        // A trap in precompiled code is the same trap.
        let o = tierup(&[
            "run",
            "--tier",
            tier,
            "--precompile",
            "--invoke",
            "boom",
            wat,
            "0",
        ]);
        assert_eq!(o.status.code(), Some(1), "{tier}");
        assert!(stderr(&o).contains("integer divide by zero"), "{tier}");
    }
    let o = tierup(&[
        "run",
        "--tier",
        "interp",
        "--precompile",
        "--invoke",
        "add",
        wat,
        "1",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--precompile needs"), "{}", stderr(&o));
}

#[test]
fn compile_reports_the_compile_speed() {
    let wat = temp_file("math.wat", MATH);
    let o = tierup(&["compile", "--tier", "optimizing", wat.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for field in [
        "functions       5",
        "machine code",
        "MB/s of wasm code per core",
    ] {
        assert!(out.contains(field), "{out}");
    }
}

#[test]
fn rust_log_shows_tier_events_and_a_bad_filter_is_a_usage_error() {
    let wat = temp_file("math.wat", MATH);
    let wat = wat.to_str().unwrap();
    // Every function optimized at its first call, on the running thread.
    let run = |filter: &str| {
        Command::new(env!("CARGO_BIN_EXE_tierup"))
            .args([
                "run",
                "--tier",
                "tiered",
                "--tier-up-threshold",
                "0",
                "--sync-tier-up",
                "--invoke",
                "add",
                wat,
                "1",
                "2",
            ])
            .env("RUST_LOG", filter)
            .output()
            .unwrap()
    };
    let o = run("tierup::tiering=debug");
    assert_eq!(stdout(&o), "3\n");
    let err = stderr(&o);
    for event in ["compile start", "compile finish", "published"] {
        assert!(
            err.lines()
                .any(|l| l.contains("tierup::tiering") && l.contains(event)),
            "no `{event}`: {err}"
        );
    }
    // One call with a threshold of 0 takes the function to the next tier of the chain.
    assert!(
        err.contains("tier=\"baseline\"") || err.contains("tier=\"optimizing\""),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no colours when stderr is not a terminal: {err}"
    );
    // Filtering: only warnings of the target, so none of these.
    let quiet = run("tierup::tiering=warn");
    assert_eq!(stdout(&quiet), "3\n");
    assert_eq!(stderr(&quiet), "");
    let o = run("a=b=c");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("RUST_LOG"), "{}", stderr(&o));
}
