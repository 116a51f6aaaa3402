//! The benchmark programs: their names, what size a quick run uses and what it must print.
//! Sources and built modules live in `benches/programs/` (rebuilt by its `build.sh`).

use std::path::PathBuf;

/// One benchmark program (a WASI command taking a size argument).
#[derive(Clone, Copy, Debug)]
pub struct Program {
    /// The file stem: `programs/<name>.wasm`.
    pub name: &'static str,
    /// What the program stresses.
    pub stresses: &'static str,
    /// A size for quick runs (criterion, tests): a few tens of milliseconds interpreted.
    pub small_size: u32,
    /// The checksum the program prints at `small_size` (from the native build).
    pub small_checksum: u32,
    /// Whether the module uses 128-bit SIMD instructions.
    pub simd: bool,
}

const fn program(
    name: &'static str,
    stresses: &'static str,
    small_size: u32,
    small_checksum: u32,
) -> Program {
    Program {
        name,
        stresses,
        small_size,
        small_checksum,
        simd: false,
    }
}

/// Every benchmark program except the large start-up module.
pub const PROGRAMS: &[Program] = &[
    program("fib", "recursive calls", 22, 3343437926),
    program("sieve", "tight integer loops over memory", 100, 1700711705),
    program("matmul", "f64 kernels", 60, 64308354),
    program("bits", "bit manipulation", 1, 3696762062),
    program("sort", "branchy sorting", 10, 1498603228),
    program(
        "dispatch",
        "switch-dispatch interpreter (br_table)",
        1,
        2624866321,
    ),
    program("hashmap", "hashing with a hash table", 20, 1522118908),
    program("lz", "an LZ77 compressor and decompressor", 64, 1993314506),
    program(
        "fnptr",
        "indirect calls through function pointers",
        1,
        1401572488,
    ),
    program(
        "sha256",
        "i32 rotate/xor/add rounds (SHA-256)",
        1,
        1696773937,
    ),
    program(
        "simd_scalar",
        "the SIMD kernel built without SIMD",
        30,
        3128750371,
    ),
    Program {
        simd: true,
        ..program("simd", "a 128-bit SIMD kernel (-msimd128)", 30, 3128750371)
    },
];

/// The large start-up module: thousands of functions, a run calls `small_size` of them.
pub const LARGE: Program = program(
    "large",
    "start-up: 6000 functions, one called",
    1,
    2168756689,
);

/// The folder holding the programs' sources and modules.
pub fn programs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs")
}

/// The bytes of `programs/<name>.wasm`.
pub fn load(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = programs_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}
