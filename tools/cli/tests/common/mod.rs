#![allow(dead_code)] // each test file uses a part of it

//! What the tests of the profiling outputs share: a module whose functions climb the
//! chain, a directory per test, and the fields of the tier events on stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A loop that calls a small function: both get hot, climb the chain to optimized code,
/// and the loop moves by on-stack replacement (with a tier-up threshold of 0).
pub const SPINS: &str = r#"
(module $spins
  (func $square (export "square") (param i32) (result i32)
    (i32.mul (local.get 0) (local.get 0)))
  (func $spin (export "spin") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (call $square (local.get 0))))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1)))
"#;

/// The function names of `SPINS` by index.
pub const SPINS_NAMES: [&str; 2] = ["square", "spin"];

/// A fresh directory `name` for one test, with `SPINS` in it as `spins.wat`.
pub fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    std::fs::write(dir.join("spins.wat"), SPINS).expect("write the module");
    dir
}

/// The value of `field=` in a tier event's line (quotes removed).
pub fn field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {field}="))? + field.len() + 2;
    let rest = &line[start..];
    let end = rest.find(' ').unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}

/// Runs `tierup run ARGS --invoke spin spins.wat N` in `dir` (with the tier events on
/// stderr where `events`) and checks that it succeeded.
pub fn run_spins(dir: &Path, args: &[&str], n: u32, events: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tierup"));
    command.current_dir(dir).arg("run").args(args);
    if events {
        command.env("RUST_LOG", "tierup::tiering=debug");
    }
    let out = command
        .args(["--invoke", "spin", "spins.wat", &n.to_string()])
        .output()
        .expect("run tierup");
    assert!(
        out.status.success(),
        "tierup run {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
