//! No input makes the host panic: every module of the spec suite, mutated many times over
//! (bytes flipped, inserted, removed, the module cut short), goes through decoding,
//! validation and the translation of every function, and must come out as a module or as
//! an error, never as a panic.
//!
//! The mutations are deterministic (a fixed-seed generator), so a failure reproduces.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tierup::{Engine, ExternType, Module, Tier};

/// Mutants made from each seed module.
const MUTANTS_PER_SEED: usize = 100;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The binary of every module in the wasm-2.0 scripts that is meant to be valid.
fn seed_modules() -> Vec<Vec<u8>> {
    let files = tierup_tests::wast_files(&tierup_tests::testsuite_dir(), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut seeds = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lexer = wast::lexer::Lexer::new(&text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for directive in script.directives {
            if let wast::WastDirective::Module(mut module) = directive
                && let Ok(bytes) = module.encode()
            {
                seeds.push(bytes);
            }
        }
    }
    seeds
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            // Flip one bit, skipping the 8-byte header most of the time.
            0 | 1 if !m.is_empty() => {
                let at = if m.len() > 8 && rng.below(8) != 0 {
                    8 + rng.below(m.len() - 8)
                } else {
                    rng.below(m.len())
                };
                m[at] ^= 1 << rng.below(8);
            }
            // Overwrite a byte with an interesting value.
            2 if !m.is_empty() => {
                let at = rng.below(m.len());
                m[at] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x41][rng.below(8)];
            }
            // Insert a byte.
            3 => {
                let at = rng.below(m.len() + 1);
                m.insert(at, rng.next() as u8);
            }
            // Remove a run of bytes.
            4 if !m.is_empty() => {
                let at = rng.below(m.len());
                let len = 1 + rng.below(4.min(m.len() - at));
                m.drain(at..at + len);
            }
            // Cut the module short.
            _ if !m.is_empty() => m.truncate(rng.below(m.len())),
            _ => {}
        }
    }
    m
}

/// Decodes, validates and translates every defined function; returns whether the module
/// was valid.
fn exercise(engine: &Engine, bytes: &[u8]) -> bool {
    let Ok(module) = Module::from_binary(engine, bytes) else {
        return false;
    };
    let imported = module
        .imports()
        .filter(|i| matches!(i.ty(), ExternType::Func(_)))
        .count() as u32;
    // Defined functions follow the imported ones; the first index past them is an error.
    (imported..)
        .take_while(|&f| module.compile_fresh(f, Tier::Interp).is_ok())
        .for_each(drop);
    true
}

#[test]
fn mutated_modules_never_panic() {
    let engine = Engine::default();
    let seeds = seed_modules();
    assert!(seeds.len() > 500, "only {} seed modules found", seeds.len());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut valid, mut total) = (0usize, 0usize);
    for (i, seed) in seeds.iter().enumerate() {
        for j in 0..MUTANTS_PER_SEED {
            let mutant = mutate(&mut rng, seed);
            let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&engine, &mutant)));
            match outcome {
                Ok(was_valid) => valid += was_valid as usize,
                Err(_) => panic!(
                    "panic on mutant {j} of seed module {i}; bytes: {:02x?}",
                    mutant
                ),
            }
            total += 1;
        }
    }
    // Some mutants stay valid, so translation is exercised too.
    assert!(
        valid > total / 50,
        "only {valid} of {total} mutants were valid"
    );
    eprintln!(
        "{total} mutants of {} seed modules, {valid} of them valid",
        seeds.len()
    );
}

/// The code section's bytes in `module`, if it has one.
fn code_section(module: &[u8]) -> Option<std::ops::Range<usize>> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(wasmparser::Payload::CodeSectionStart {
            unchecked_range, ..
        }) = payload
        {
            let (start, end) = (unchecked_range.start as usize, unchecked_range.end as usize);
            return (end <= module.len()).then_some(start..end);
        }
    }
    None
}

/// A mutant whose changes are all inside the function bodies and keep their sizes (bits
/// flipped, bytes overwritten with values that mean something to the decoder: the
/// continuation bit, `end`, `if`, `else`, `block`, `call`, `i32.const`), so that the
/// sections stay well formed and the bodies are what is read.
fn mutate_bodies(rng: &mut Rng, seed: &[u8], code: &std::ops::Range<usize>) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = code.start + rng.below(code.len());
        if rng.below(2) == 0 {
            m[at] ^= 1 << rng.below(8);
        } else {
            m[at] = [0x80, 0xff, 0x0b, 0x04, 0x05, 0x02, 0x10, 0x41, 0x00, 0x7f][rng.below(10)];
        }
    }
    m
}

/// The baseline tier reads a body once, validating and compiling it, with a decoder of
/// its own for the common operators in front of `wasmparser`'s: a module whose bodies
/// are read that way under lazy validation (`Module::precompile`) must get the verdict
/// full validation gives it, on every mutant of the spec suite's modules, without a
/// panic.
#[test]
fn the_baseline_tier_reading_mutated_bodies_agrees_with_full_validation() {
    let eager = Engine::default();
    let lazy = Engine::new(tierup::Config::new().lazy_validation(true)).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut valid, mut total) = (0usize, 0usize);
    for (i, seed) in seed_modules().iter().enumerate() {
        let Some(code) = code_section(seed).filter(|r| r.len() > 4) else {
            continue;
        };
        for j in 0..20 {
            let mutant = mutate_bodies(&mut rng, seed, &code);
            let verdicts = catch_unwind(AssertUnwindSafe(|| {
                let full = Module::from_binary(&eager, &mutant).map(drop);
                let read = Module::from_binary(&lazy, &mutant)
                    .and_then(|m| m.precompile(Tier::Baseline, 1).map(drop));
                (full, read)
            }));
            let Ok((full, read)) = verdicts else {
                panic!("panic on mutant {j} of seed module {i}; bytes: {mutant:02x?}");
            };
            assert_eq!(
                full.is_ok(),
                read.is_ok(),
                "mutant {j} of seed module {i}: full validation says {:?}, the baseline \
                 tier's read {:?}; bytes: {mutant:02x?}",
                full.err(),
                read.err()
            );
            valid += full.is_ok() as usize;
            total += 1;
        }
    }
    assert!(total > 5_000, "only {total} mutants");
    assert!(
        valid > total / 50,
        "only {valid} of {total} mutants were valid"
    );
    eprintln!("{total} mutants, {valid} of them valid");
}
