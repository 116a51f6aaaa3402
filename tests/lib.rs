//! Shared helpers of the integration tests: where the specification test suite lives,
//! which of its scripts run, and a way to run a test body on a thread with a large stack.

use std::path::{Path, PathBuf};

/// The stack size of the threads that run wasm in tests: deep (but bounded) recursion in
/// the scripts must hit the engine's call-depth limit, not the host stack.
pub const TEST_STACK_SIZE: usize = 64 << 20;

/// The directory of the WebAssembly 2.0 specification scripts.
pub fn testsuite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite/wasm-2.0")
}

/// The `.wast` scripts of `dir`, sorted by name, without those whose name starts with one
/// of `excluded_prefixes`. Fails if the directory cannot be read or holds no script.
pub fn wast_files(dir: &Path, excluded_prefixes: &[&str]) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read the test suite directory {}: {e}",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".wast") || excluded_prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        files.push(path);
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("no .wast files in {}", dir.display()));
    }
    Ok(files)
}

/// Runs `f` on a new thread with a [`TEST_STACK_SIZE`] stack and returns its result; a
/// panic becomes an `Err` with the panic message.
pub fn with_big_stack<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    let handle = std::thread::Builder::new()
        .stack_size(TEST_STACK_SIZE)
        .spawn(f)
        .map_err(|e| format!("cannot spawn a test thread: {e}"))?;
    handle.join().map_err(|p| {
        if let Some(s) = p.downcast_ref::<&str>() {
            format!("panic: {s}")
        } else if let Some(s) = p.downcast_ref::<String>() {
            format!("panic: {s}")
        } else {
            "panic".to_string()
        }
    })
}
