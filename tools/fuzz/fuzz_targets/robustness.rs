//! `cargo fuzz run robustness`: arbitrary bytes, and generated modules with bytes flipped,
//! through validation, instantiation and every tier's compiler; any panic is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tierup_fuzz::robustness(data);
});
