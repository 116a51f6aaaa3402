//! The tiers the runtime is built with, as `tierup_abi::Compiler`s. The rest of the
//! runtime knows no tier's types: it asks a compiler for code and loads what it gets.

use tierup_abi::Compiler;

use crate::Result;

/// The baseline tier for this host (an error where the CPU lacks what its code needs).
pub(crate) fn baseline() -> Result<Box<dyn Compiler>> {
    let tier = tierup_baseline::Baseline::new()
        .map_err(|e| anyhow::anyhow!("cannot set up the baseline tier for this host: {e}"))?;
    Ok(Box::new(tier))
}

/// The optimizing tier for this host.
pub(crate) fn optimizing() -> Result<Box<dyn Compiler>> {
    let tier = tierup_optimizing::Optimizing::new()
        .map_err(|e| anyhow::anyhow!("cannot set up the optimizing tier for this host: {e}"))?;
    Ok(Box::new(tier))
}
