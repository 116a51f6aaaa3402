//! Runs the fuzz targets over a range of seeds, without the fuzzing toolchain: each seed's
//! input is a deterministic stream of bytes (`tierup_tests::differential::seed_bytes`).
//!
//! `cargo run --release --bin seeds -- differential|robustness FIRST COUNT`
//!
//! `cargo run --release --bin seeds -- module SEED OUT.wasm` writes the module the
//! differential target makes of a seed (for `tierup compare`, or a regression test).
//!
//! Prints the modules run and every failing seed (whose input is written to
//! `crashes/TARGET-SEED`), and exits with 1 if one failed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use tierup_tests::differential::seed_bytes;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some("module"), Some(seed), Some(out)) = (
        args.get(1).map(String::as_str),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
        args.get(3),
    ) {
        match tierup_tests::differential::generate(&seed_bytes(seed, 8 << 10)) {
            Some(wasm) => std::fs::write(out, wasm).expect("write the module"),
            None => eprintln!("seed {seed} makes no module"),
        }
        return;
    }
    if let (Some("explain"), Some(seed)) = (
        args.get(1).map(String::as_str),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
    ) {
        print!("{}", tierup_fuzz::explain(&seed_bytes(seed, 8 << 10)));
        return;
    }
    let (Some(target), Some(first), Some(count)) = (
        args.get(1).cloned(),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
        args.get(3).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: seeds differential|robustness FIRST COUNT");
        std::process::exit(2);
    };
    let started = Instant::now();
    let mut failed = 0u64;
    let name = target.clone();
    let report = move |seed: u64, data: &[u8], what: String| {
        let _ = std::fs::create_dir_all("crashes");
        let _ = std::fs::write(format!("crashes/{name}-{seed}"), data);
        println!("seed {seed}: {what}");
    };
    let worker = std::thread::Builder::new()
        .stack_size(tierup_tests::TEST_STACK_SIZE)
        .spawn({
            let target = target.clone();
            move || {
                let mut failed = 0u64;
                for seed in first..first + count {
                    let data = seed_bytes(seed, 8 << 10);
                    let outcome = catch_unwind(AssertUnwindSafe(|| match target.as_str() {
                        "differential" => tierup_fuzz::differential(&data),
                        "robustness" => {
                            tierup_fuzz::robustness(&data);
                            Ok(())
                        }
                        other => Err(format!("no target `{other}`")),
                    }));
                    let what = match outcome {
                        Ok(Ok(())) => None,
                        Ok(Err(report)) => Some(report),
                        Err(_) => Some("panicked".to_string()),
                    };
                    if let Some(what) = what {
                        failed += 1;
                        report(seed, &data, what);
                    }
                    if (seed - first + 1) % 10_000 == 0 {
                        println!("{} seeds, {failed} failed", seed - first + 1);
                    }
                }
                failed
            }
        })
        .expect("spawn");
    failed += worker.join().unwrap_or(1);
    println!(
        "{target}: seeds {first}..{}, {failed} failed, {:.1} s",
        first + count,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
