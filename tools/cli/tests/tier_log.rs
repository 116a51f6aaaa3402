//! `tierup run --tier-log FILE.json`: the file is a Chrome trace whose structure matches
//! the run's `tierup::tiering` events, read back with a JSON parser.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

mod common;

use common::{field, run_spins, test_dir};

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

#[test]
fn the_tier_log_is_a_chrome_trace_of_the_runs_events() {
    let dir = test_dir("tier-log");
    // Long enough that the loop is still running when the workers' OSR entries are ready,
    // however loaded the machine.
    let args = ["--tier-up-threshold", "0", "--tier-log", "log.json"];
    let out = run_spins(&dir, &args, 20_000_000, true);
    let events = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines = |what: &str| -> Vec<&str> {
        events
            .lines()
            .filter(|l| l.contains(&format!("tierup::tiering: {what} ")))
            .collect()
    };
    let text = std::fs::read_to_string(dir.join("log.json")).expect("the tier log");
    let trace: Vec<Value> = serde_json::from_str(&text).expect("a JSON array of events");
    for e in &trace {
        assert!(e["ph"].is_string() && e["name"].is_string(), "{e}");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
    }
    let of = |ph: &str, cat: Option<&str>| -> Vec<&Value> {
        trace
            .iter()
            .filter(|e| str_of(e, "ph") == ph && cat.is_none_or(|c| e["cat"] == c))
            .collect()
    };

    // Every track is named; the program's is the thread that runs wasm.
    let names: BTreeMap<u64, &str> = of("M", None)
        .into_iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| (e["tid"].as_u64().unwrap(), str_of(&e["args"], "name")))
        .collect();
    assert_eq!(names.get(&1), Some(&"tierup-main"), "{names:?}");

    // A slice per finished compile, on the compiling thread's track, with its figures.
    let finished = lines("compile finish");
    let slices = of("X", Some("compile"));
    assert_eq!(
        slices.len(),
        finished.len(),
        "slices against compile finish events"
    );
    let mut on_workers = 0;
    for s in &slices {
        let args = &s["args"];
        let track = names[&s["tid"].as_u64().unwrap()];
        assert_eq!(
            str_of(args, "worker"),
            track,
            "a slice on another thread's track: {s}"
        );
        on_workers += usize::from(track.starts_with("tierup-worker"));
        assert!(s["dur"].as_f64().unwrap() >= 0.0 && s["ts"].as_f64().unwrap() >= 0.0);
        assert!(args["wasm_bytes"].as_u64().unwrap() > 0, "{s}");
        assert!(args["code_bytes"].as_u64().unwrap() > 0, "{s}");
        let func = str_of(args, "func");
        let tier = str_of(args, "tier");
        assert!(
            finished
                .iter()
                .any(|l| field(l, "func") == Some(func) && field(l, "tier") == Some(tier)),
            "no compile finish event for {s}"
        );
    }
    assert!(on_workers > 0, "no compile ran on a worker");
    assert!(
        slices.iter().any(|s| s["args"]["at"].is_u64()),
        "no OSR entry among the compiles"
    );

    // An instant per publication and per OSR entry, on the program's track.
    let published = of("i", Some("published"));
    let entered = of("i", Some("OSR entered"));
    assert_eq!(published.len(), lines("published").len());
    assert_eq!(entered.len(), lines("OSR entered").len());
    assert!(!entered.is_empty(), "the loop did not move by OSR");
    assert!(published.iter().chain(&entered).all(|e| e["tid"] == 1));

    // The counter follows the publications: each function counts in its last tier.
    let counters = of("C", None);
    assert_eq!(counters.len(), published.len());
    let mut last = BTreeMap::new();
    for p in &published {
        last.insert(
            str_of(&p["args"], "func").to_string(),
            str_of(&p["args"], "tier").to_string(),
        );
    }
    let end = &counters.last().unwrap()["args"];
    for tier in ["interp", "baseline", "optimizing"] {
        let n = last.values().filter(|t| *t == tier).count() as u64;
        assert_eq!(
            end[tier].as_u64(),
            Some(n),
            "{tier} in {end} against {last:?}"
        );
    }
    let funcs: BTreeSet<&str> = last.keys().map(String::as_str).collect();
    assert_eq!(funcs, BTreeSet::from(["spin", "square"]));
    // Both left the interpreter (how far they got before the run ended is the workers').
    assert!(last.values().all(|t| t != "interp"), "{last:?}");
}

#[test]
fn a_tier_log_that_cannot_be_created_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args([
            "run",
            "--tier-log",
            "/nonexistent/dir/log.json",
            "--invoke",
            "f",
        ])
        .arg("nonexistent.wat")
        .output()
        .expect("run tierup");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot create the tier log"), "{stderr}");
}
