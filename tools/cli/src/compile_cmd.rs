//! `tierup compile`: compiles every function of a module with one tier, on all cores, and
//! reports the compile speed (no file is written). Each body is validated by its compile,
//! so the speed includes validation.

use std::path::PathBuf;

use clap::Args;
use tierup::{Config, Engine, Module, Tier, TierMode};

use crate::EXIT_USAGE;

/// The options and operands of `tierup compile`.
#[derive(Args, Debug)]
pub struct CompileCommand {
    /// The tier to compile with: interp, baseline or optimizing
    #[arg(long, value_name = "TIER", default_value = "optimizing")]
    tier: TierMode,

    /// Compile for memories without guard regions (every access checked)
    #[arg(long)]
    no_guard_regions: bool,

    /// The threads to compile on (default: one per core)
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,

    /// The module (binary or text)
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

impl CompileCommand {
    /// Compiles and prints the report; returns the exit status.
    pub fn execute(self) -> u8 {
        match self.compile() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_USAGE
            }
        }
    }

    fn compile(&self) -> tierup::Result<()> {
        let tier = match self.tier {
            TierMode::Interp => Tier::Interp,
            TierMode::Baseline => Tier::Baseline,
            TierMode::Optimizing => Tier::Optimizing,
            other => anyhow::bail!("`tierup compile` compiles with one tier, not `{other}`"),
        };
        let mut config = Config::new();
        // Every body is validated by its compile (the baseline tier does both in one read
        // of the body), not in a pass of its own when the module is made.
        config
            .tier(self.tier)
            .guard_regions(!self.no_guard_regions)
            .lazy_validation(true);
        let engine = Engine::new(&config)?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.file.display()))?;
        let module = Module::new(&engine, bytes)?;
        let s = module.precompile(tier, self.threads)?;
        let mb = s.wasm_bytes as f64 / 1e6;
        let cpu = s.cpu.as_secs_f64();
        println!("{}: {} tier", self.file.display(), tier.name());
        println!("  functions       {}", s.functions);
        println!("  wasm code       {} bytes", s.wasm_bytes);
        println!("  machine code    {} bytes", s.machine_bytes);
        if s.refused > 0 {
            println!(
                "  not compiled    {} functions (not yet in this tier; they run in another)",
                s.refused
            );
        }
        println!(
            "  wall time       {:.3} s on {} threads",
            s.wall.as_secs_f64(),
            s.threads
        );
        println!("  cpu time        {cpu:.3} s");
        if cpu > 0.0 {
            println!(
                "  speed           {:.2} MB/s of wasm code per core",
                mb / cpu
            );
        }
        Ok(())
    }
}
