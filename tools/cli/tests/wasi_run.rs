//! End-to-end tests of `tierup run` on WASI programs (`tests/programs/wasi`): exit
//! statuses, traps with flushed output, `--dir`, `--env`, the `tierup FILE.wasm` shorthand,
//! guest `--help`, stdin, and a large output streamed in bounded memory.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

fn program(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/programs/wasi")
        .join(format!("{name}.wasm"))
        .display()
        .to_string()
}

fn tierup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(args)
        .output()
        .expect("run tierup")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tierup-cli-wasi-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn exit_status_is_the_guests() {
    let o = tierup(&["run", &program("exitcode"), "42"]);
    assert_eq!(o.status.code(), Some(42));
    assert_eq!(text(&o.stdout), "before 42\nafter stderr\n");
    assert_eq!(text(&o.stderr), "stderr line\n");
    let o = tierup(&[&program("exitcode"), "0"]);
    assert_eq!(o.status.code(), Some(0), "the shorthand without `run`");
}

#[test]
fn trap_prints_backtrace_and_keeps_output() {
    let o = tierup(&["run", &program("exitcode"), "trap"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).starts_with("before trap\n"));
    let err = text(&o.stderr);
    assert!(err.starts_with("stderr line\nerror: unreachable"), "{err}");
    assert!(err.contains("wasm backtrace:\n    0: 0x"), "{err}");
    assert!(err.contains("!crash\n") && err.contains("!main\n"), "{err}");
}

#[test]
fn dir_and_env_options() {
    let dir = TempDir::new();
    std::fs::write(dir.0.join("abc.txt"), "abc").unwrap();
    let spec = format!("{}::data", dir.0.display());
    let o = tierup(&["--dir", &spec, &program("sha256sum"), "data/abc.txt"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  data/abc.txt\n"
    );
    // Without a preopen the file is out of reach.
    let o = tierup(&["run", &program("sha256sum"), "data/abc.txt"]);
    assert_eq!(o.status.code(), Some(1));

    let o = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(["run", "--env", "A=1", "--env", "FROM_HOST"])
        .args([&program("env"), "A", "FROM_HOST", "HOME"])
        .env("FROM_HOST", "yes")
        .output()
        .unwrap();
    assert_eq!(
        text(&o.stdout),
        "argc=4\narg[1]=A\narg[2]=FROM_HOST\narg[3]=HOME\nA=1\nFROM_HOST=yes\nHOME=(unset)\n"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(["run", "--inherit-env", &program("env"), "FROM_HOST"])
        .env("FROM_HOST", "inherited")
        .output()
        .unwrap();
    assert!(text(&o.stdout).ends_with("FROM_HOST=inherited\n"));
}

#[test]
fn arguments_after_the_module_go_to_the_guest() {
    let o = tierup(&["run", &program("env"), "--help", "-x"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).starts_with("argc=3\narg[1]=--help\narg[2]=-x\n"));
    let help = tierup(&["run", "--help"]);
    let help = text(&help.stdout);
    assert!(help.contains("--dir <HOST_DIR[::GUEST_DIR]>"), "{help}");
    assert!(help.contains("--inherit-env"), "{help}");
}

#[test]
fn stdin_is_piped_through() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(["run", &program("cat")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"one\ntwo\n").unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), "ONE\nTWO\n");
    assert_eq!(text(&o.stderr), "8 bytes, 2 lines\n");
}

/// The resident set of process `pid` in KiB (Linux), if it can be read.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn large_output_streams_in_bounded_memory() {
    const MIB: u64 = 1024;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(["run", &program("bigout"), &MIB.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let (mut total, mut peak) = (0u64, 0u64);
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        if total % (64 << 20) < n as u64 {
            peak = peak.max(rss_kib(pid).unwrap_or(0));
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(total, MIB << 20);
    assert!(peak < 256 * 1024, "resident set grew to {peak} KiB");
}

#[test]
fn compare_runs_a_wasi_program_in_every_mode() {
    let dir = TempDir::new();
    std::fs::write(dir.0.join("abc.txt"), "abc").unwrap();
    let spec = format!("{}::data", dir.0.display());
    let o = tierup(&[
        "compare",
        "--dir",
        &spec,
        "--env",
        "A=1",
        &program("sha256sum"),
        "data/abc.txt",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("all 10 runs agree"), "{out}");
    // Each run printed the digest line (79 bytes) and ended by returning from `_start`.
    assert_eq!(out.matches("        79        0").count(), 10, "{out}");
    // The exit status is compared too: without the preopen every run fails alike.
    let o = tierup(&["compare", &program("sha256sum"), "data/abc.txt"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(out.matches("exit status 1").count(), 10, "{out}");
}
