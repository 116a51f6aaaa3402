//! `tierup run --perfmap` and `--jitdump`: the files name every piece of machine code a run
//! published, agree with each other, and, where Linux `perf` is installed and allowed to
//! profile, make `perf report` name the samples in JIT code by wasm function (through the
//! map, and through `perf inject --jit` of the jitdump file).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::{SPINS_NAMES as NAMES, field, test_dir};

/// Runs `tierup run ARGS` in `dir` with the tiering events on stderr; its output and pid.
fn run(dir: &Path, args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .current_dir(dir)
        .env("RUST_LOG", "tierup::tiering=debug")
        .arg("run")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tierup");
    let pid = child.id();
    let out = child.wait_with_output().expect("run tierup");
    assert!(
        out.status.success(),
        "tierup {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, pid)
}

/// The machine code a run published: (function name, tier) from its `published` events.
fn published(stderr: &[u8]) -> BTreeSet<(String, String)> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(" published "))
        .filter_map(|l| {
            let index: usize = field(l, "func_index")?.parse().ok()?;
            let tier = field(l, "tier")?;
            (tier != "interp").then(|| (NAMES[index].to_string(), tier.to_string()))
        })
        .collect()
}

/// The entries of a perf map: (start, size, name), checked for form and overlaps.
fn read_perf_map(path: &Path) -> Vec<(u64, u64, String)> {
    let text = std::fs::read_to_string(path).expect("the perf map");
    let mut entries: Vec<(u64, u64, String)> = text
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let mut hex = || u64::from_str_radix(parts.next().unwrap_or(""), 16);
            let (start, size) = (hex(), hex());
            let name = parts.next().unwrap_or("").to_string();
            match (start, size) {
                (Ok(start), Ok(size)) if size > 0 && !name.is_empty() => (start, size, name),
                _ => panic!("a malformed perf map line: {line:?}"),
            }
        })
        .collect();
    entries.sort();
    for pair in entries.windows(2) {
        assert!(
            pair[0].0 + pair[0].1 <= pair[1].0,
            "overlapping code: {pair:?}"
        );
    }
    entries
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The code-load records of a jitdump file (start, size, name), its header checked.
fn read_jitdump(path: &Path, pid: u32) -> Vec<(u64, u64, String)> {
    let b = std::fs::read(path).expect("the jitdump file");
    assert_eq!(u32_at(&b, 0), 0x4A69_5444, "magic");
    assert_eq!(u32_at(&b, 4), 1, "version");
    let header = u32_at(&b, 8) as usize;
    assert_eq!(header, 40, "header size");
    assert_eq!(u32_at(&b, 12), 62, "EM_X86_64");
    assert_eq!(u32_at(&b, 20), pid, "pid");
    let mut at = header;
    let mut loads = Vec::new();
    let mut last_time = 0;
    while at < b.len() {
        let (id, size, time) = (
            u32_at(&b, at),
            u32_at(&b, at + 4) as usize,
            u64_at(&b, at + 8),
        );
        assert!(
            size >= 16 && at + size <= b.len(),
            "a record beyond the file"
        );
        assert!(time >= last_time, "timestamps go back");
        last_time = time;
        if id == 0 {
            let body = at + 16;
            assert_eq!(u32_at(&b, body), pid, "record pid");
            let (vma, addr, code_size) = (
                u64_at(&b, body + 8),
                u64_at(&b, body + 16),
                u64_at(&b, body + 24),
            );
            assert_eq!(vma, addr);
            let name_at = body + 40;
            let nul = b[name_at..at + size]
                .iter()
                .position(|&c| c == 0)
                .expect("a NUL-terminated name");
            let name = String::from_utf8(b[name_at..name_at + nul].to_vec()).expect("UTF-8");
            let code = at + size - (name_at + nul + 1);
            assert_eq!(code as u64, code_size, "the code bytes of {name}");
            loads.push((addr, code_size, name));
        }
        at += size;
    }
    loads.sort();
    loads
}

#[test]
fn the_perf_map_and_the_jitdump_name_every_published_function_alike() {
    let dir = test_dir("perf-files");
    // Synchronous tier-up: every publication happens before the run ends.
    let args = [
        "--sync-tier-up",
        "--tier-up-threshold",
        "0",
        "--perfmap",
        "--jitdump",
        "--invoke",
        "spin",
        "spins.wat",
        "20000",
    ];
    let (out, pid) = run(&dir, &args);
    let sum = (1..=20000u32).fold(0u32, |s, i| s.wrapping_add(i.wrapping_mul(i)));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        (sum as i32).to_string()
    );
    let map_path = tierup::perf_map_path(pid);
    let map = read_perf_map(&map_path);
    let _ = std::fs::remove_file(&map_path);
    let published = published(&out.stderr);
    // Both functions go through both compiled tiers with a threshold of 0.
    assert_eq!(published.len(), 4, "published: {published:?}");
    for (func, tier) in &published {
        let name = format!("wasm[spins]::{func} ({tier})");
        assert!(
            map.iter().any(|(_, _, n)| *n == name),
            "{name} is missing from the perf map: {map:#?}"
        );
    }
    // The loop moved by OSR; its entries are named as such.
    assert!(
        map.iter()
            .any(|(_, _, n)| n.starts_with("wasm[spins]::spin (") && n.contains(" OSR @")),
        "no OSR entry in {map:#?}"
    );
    let dump = read_jitdump(&dir.join(tierup::jitdump_path(pid)), pid);
    assert_eq!(dump, map, "the jitdump file and the perf map disagree");
}

#[test]
fn the_files_cost_nothing_when_off() {
    let dir = test_dir("perf-off");
    let (_, pid) = run(&dir, &["--invoke", "square", "spins.wat", "7"]);
    assert!(!tierup::perf_map_path(pid).exists());
    assert!(!dir.join(tierup::jitdump_path(pid)).exists());
}

/// Whether `perf record` works here (installed, and allowed to sample this process).
fn perf_works(dir: &Path) -> bool {
    let probe = dir.join("probe.data");
    Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-o"])
        .arg(&probe)
        .args(["--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `perf report`'s symbols of `data`, as text.
fn perf_report(dir: &Path, data: &str) -> String {
    let out = Command::new("perf")
        .current_dir(dir)
        .args(["report", "--stdio", "--sort", "dso,sym", "-i", data])
        .output()
        .expect("perf report");
    assert!(
        out.status.success(),
        "perf report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn perf_names_the_samples_in_jit_code() {
    let dir = test_dir("perf-record");
    if !perf_works(&dir) {
        eprintln!("skipped: `perf record` is not installed or may not profile here");
        return;
    }
    let record = Command::new("perf")
        .current_dir(&dir)
        .args([
            "record",
            "-q",
            "-k",
            "mono",
            "-e",
            "cpu-clock",
            "-o",
            "perf.data",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_tierup"))
        .args([
            "run",
            "--tier",
            "optimizing",
            "--perfmap",
            "--jitdump",
            "--invoke",
            "spin",
        ])
        .args(["spins.wat", "300000000"])
        .output()
        .expect("perf record");
    assert!(
        record.status.success(),
        "perf record: {}",
        String::from_utf8_lossy(&record.stderr)
    );
    // The map names the samples of the recorded run.
    let report = perf_report(&dir, "perf.data");
    assert!(
        report.contains("wasm[spins]::spin (optimizing)"),
        "perf report does not name the JIT code:\n{report}"
    );
    let inject = Command::new("perf")
        .current_dir(&dir)
        .args(["inject", "--jit", "-i", "perf.data", "-o", "perf.jit.data"])
        .output()
        .expect("perf inject");
    assert!(
        inject.status.success(),
        "perf inject: {}",
        String::from_utf8_lossy(&inject.stderr)
    );
    // The jitdump file's code became ELF images that carry the names.
    let report = perf_report(&dir, "perf.jit.data");
    assert!(
        report
            .lines()
            .any(|l| l.contains("jitted-") && l.contains("wasm[spins]::spin (optimizing)")),
        "perf inject --jit did not make the code an image:\n{report}"
    );
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("jit-") {
            let pid = entry.file_name().to_string_lossy()[4..]
                .trim_end_matches(".dump")
                .to_string();
            let _ = std::fs::remove_file(format!("/tmp/perf-{pid}.map"));
        }
    }
}
