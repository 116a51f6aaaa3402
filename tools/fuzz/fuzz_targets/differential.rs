//! `cargo fuzz run differential`: a module generated from the input, every export run in
//! every tier mode and in wasmi; any difference is a crash (see `tierup_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(report) = tierup_fuzz::differential(data) {
        panic!("{report}");
    }
});
