//! `tierup run --tier-report`: the table on stderr, and the timeline picture with
//! `--tier-report=FILE.svg` or `.html` (rendered in headless Chromium where it is
//! installed).

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{run_spins, test_dir};

/// Runs the module with `report`, with synchronous tier-up: every function reaches every
/// tier before the run ends, compiled on the program's thread.
fn run(dir: &Path, report: &str) -> Output {
    run_spins(
        dir,
        &["--sync-tier-up", "--tier-up-threshold", "0", report],
        50_000,
        false,
    )
}

#[test]
fn the_table_names_each_function_that_left_the_interpreter() {
    let dir = test_dir("tier-report-table");
    // Long enough for the sampler to see it (some tens of milliseconds).
    let out = run_spins(
        &dir,
        &[
            "--sync-tier-up",
            "--tier-up-threshold",
            "0",
            "--tier-report",
            "--count-calls",
        ],
        30_000_000,
        false,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("tier report: "))
        .collect();
    assert!(
        table
            .first()
            .is_some_and(|l| l.starts_with("tier report: 2 functions left")),
        "{stderr}"
    );
    for line in &table {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    for (func, calls) in [("spin", "1"), ("square", "30.0M")] {
        let row = table
            .iter()
            .find(|l| l.split_whitespace().next() == Some(func))
            .unwrap_or_else(|| panic!("no row for {func}:\n{stderr}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        // function, calls, reached baseline / optimizing, compile b / o, code b / o,
        // time % int / base / opt.
        assert_eq!(cells.len(), 11, "{row}");
        assert_eq!(cells[1], calls, "{row}");
        let (baseline, optimizing): (f64, f64) =
            (cells[2].parse().unwrap(), cells[3].parse().unwrap());
        assert!(baseline <= optimizing, "{row}");
        for cell in &cells[4..8] {
            assert!(cell.parse::<f64>().is_ok(), "{row}");
        }
        for cell in &cells[8..] {
            assert!(
                *cell == "-" || *cell == "<1" || cell.parse::<u32>().is_ok(),
                "{row}"
            );
        }
    }
    // The time shares: a line of the tiers' shares, then the functions' rows.
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("sampled ") && l.contains("optimizing")),
        "{stderr}"
    );
}

/// Checks that `text` is well-formed XML as far as the picture uses it: every tag closed
/// in order, attributes quoted.
fn check_xml(text: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let end = rest[at..].find('>').expect("an unclosed tag") + at;
        let tag = &rest[at + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes another element");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("");
            if !["meta"].contains(&name) {
                open.push(name);
            }
        }
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
}

#[test]
fn the_picture_draws_a_row_per_function_and_per_compiling_thread() {
    let dir = test_dir("tier-report-svg");
    run(&dir, "--tier-report=report.svg");
    let svg = std::fs::read_to_string(dir.join("report.svg")).expect("the picture");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    check_xml(&svg);
    for func in ["spin", "square"] {
        // The name, with a tooltip of its calls and its time in each tier.
        assert!(
            svg.contains(&format!(">{func}<title>{func}: ")),
            "no row for {func}"
        );
        assert!(
            svg.contains(&format!("<title>{func} in optimized code from")),
            "{func} never optimized"
        );
    }
    assert!(
        svg.contains(">tierup-main</text>"),
        "no row of the compiling thread"
    );
    assert!(svg.contains("OSR entry at 0x"), "no OSR compile");
}

/// Chromium, where it is installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_page_renders_in_headless_chromium() {
    let dir = test_dir("tier-report-html");
    run(&dir, "--tier-report=report.html");
    let page = std::fs::read_to_string(dir.join("report.html")).expect("the page");
    check_xml(page.trim_start_matches("<!DOCTYPE html>"));
    let Some(chromium) = chromium() else {
        eprintln!("skipped the rendering: Chromium is not installed");
        return;
    };
    let shot = dir.join("report.png");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,600")
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "an empty screenshot"
    );
}

#[test]
fn a_picture_must_be_svg_or_html() {
    let out = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .args(["run", "--tier-report=report.txt", "--invoke", "f", "x.wat"])
        .output()
        .expect("run tierup");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".svg or .html"));
}

#[test]
fn calls_are_counted_only_when_asked() {
    let dir = test_dir("tier-report-no-calls");
    let out = run(&dir, "--tier-report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let row = stderr
        .lines()
        .find(|l| l.split_whitespace().next() == Some("square"))
        .unwrap_or_else(|| panic!("no row for square:\n{stderr}"));
    assert_eq!(row.split_whitespace().nth(1), Some("-"), "{row}");
    // Counting is part of the report.
    let out = Command::new(env!("CARGO_BIN_EXE_tierup"))
        .current_dir(&dir)
        .args(["run", "--count-calls", "--invoke", "spin", "spins.wat", "1"])
        .output()
        .expect("run tierup");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
