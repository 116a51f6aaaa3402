//! Module statistics the benches report throughput against: the size of the code section
//! and the range of defined function indices (read with wasmparser).

use wasmparser::{Parser, Payload, TypeRef};

/// What a translation benchmark needs to know about a module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleStats {
    /// Bytes in the code section (function bodies).
    pub code_bytes: u64,
    /// Number of imported functions (the first defined function's index).
    pub imported_funcs: u32,
    /// Number of defined functions.
    pub defined_funcs: u32,
}

impl ModuleStats {
    /// The indices of the defined functions.
    pub fn defined(&self) -> std::ops::Range<u32> {
        self.imported_funcs..self.imported_funcs.saturating_add(self.defined_funcs)
    }
}

/// Reads the statistics of a binary module.
pub fn module_stats(bytes: &[u8]) -> anyhow::Result<ModuleStats> {
    let mut stats = ModuleStats::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_)) {
                        stats.imported_funcs += 1;
                    }
                }
            }
            Payload::CodeSectionStart { count, size, .. } => {
                stats.defined_funcs = count;
                stats.code_bytes = u64::from(size);
            }
            _ => {}
        }
    }
    Ok(stats)
}
