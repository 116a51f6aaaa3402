//! `tierup compare`: runs one program under every tier mode and reports the first
//! divergence (`tierup::compare`). Exit status 0 when all runs agree, 1 when one
//! differs, 2 for usage errors.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tierup::compare::{Program, Target, compare, default_modes};
use tierup::{Config, Engine, ExternType, Module, TierMode};

use crate::values::parse_arg;
use crate::{EXIT_TRAP, EXIT_USAGE};

/// The options and operands of `tierup compare`.
#[derive(Args, Debug)]
pub struct CompareCommand {
    /// Call this export with the arguments after the module (default: `_start` of a WASI
    /// command, which gets them as its arguments)
    #[arg(long, value_name = "FUNCTION", conflicts_with = "every_export")]
    invoke: Option<String>,

    /// Call every exported function in turn, each with zero arguments (as the
    /// differential tests run a generated module)
    #[arg(long)]
    every_export: bool,

    /// Also run under the tiered mode with random three-way tier masks of seeds 1..=N
    #[arg(long, value_name = "N", default_value_t = 3)]
    seeds: u64,

    /// Stop a run with the trap `interrupt` after this long (`500ms`, `10s`, `2m`)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::run::parse_duration)]
    timeout: Duration,

    /// Grant access of a host directory to the guest, as `tierup run --dir` (every run
    /// sees what earlier runs wrote there)
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    dirs: Vec<String>,

    /// Pass an environment variable to the guest: `NAME=VAL`
    #[arg(long = "env", value_name = "NAME=VAL")]
    envs: Vec<String>,

    /// Feed this file to every run's stdin (default: no input)
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,

    /// The module, then the program's arguments (or, with `--invoke`, the function's)
    #[arg(
        value_name = "WASM",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    module_and_args: Vec<String>,
}

impl CompareCommand {
    /// Runs the comparison, prints it, and returns the exit status.
    pub fn execute(self) -> u8 {
        match self.compare() {
            Ok(agree) => {
                if agree {
                    0
                } else {
                    EXIT_TRAP
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_USAGE
            }
        }
    }

    fn compare(&self) -> tierup::Result<bool> {
        let (file, args) = self
            .module_and_args
            .split_first()
            .ok_or_else(|| anyhow::anyhow!("no module given"))?;
        let wasm = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read `{file}`: {e}"))?;
        let target = match &self.invoke {
            None if self.every_export => Target::EveryExport,
            None => Target::Command(args.to_vec()),
            Some(name) => Target::Invoke(name.clone(), invoke_args(&wasm, name, args)?),
        };
        let mut program = Program::new(wasm, target);
        program.name = file.clone();
        program.timeout = self.timeout;
        for var in &self.envs {
            let (k, v) = var
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--env {var}: expected NAME=VAL"))?;
            program.env.push((k.into(), v.into()));
        }
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            program.dirs.push((PathBuf::from(host), guest.to_string()));
        }
        if let Some(path) = &self.stdin {
            let mut input = Vec::new();
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut input))
                .map_err(|e| anyhow::anyhow!("--stdin {}: {e}", path.display()))?;
            program.stdin = input;
        }
        let modes = default_modes(1..=self.seeds);
        let c = compare(&program, &modes)?;
        println!(
            "{:<20} {:>9}  {:>8} {:>8}  {:>16}  end",
            "mode", "wall (ms)", "stdout", "stderr", "memory hash"
        );
        for o in &c.outcomes {
            let end = o.end.to_string();
            let end: String = end.chars().take(60).collect();
            println!(
                "{:<20} {:>9.1}  {:>8} {:>8}  {:016x}  {end}",
                o.mode,
                o.wall.as_secs_f64() * 1e3,
                o.stdout.len(),
                o.stderr.len(),
                o.memory_hash(),
            );
        }
        match &c.divergence {
            None => println!("all {} runs agree", c.outcomes.len()),
            Some(d) => println!("divergence: {d}"),
        }
        Ok(c.agree())
    }
}

/// The arguments of export `name`, parsed by its parameter types.
fn invoke_args(wasm: &[u8], name: &str, args: &[String]) -> tierup::Result<Vec<tierup::Val>> {
    let engine = Engine::new(Config::new().tier(TierMode::Interp))?;
    let module = Module::new(&engine, wasm)?;
    let ty = module
        .exports()
        .find(|e| e.name() == name)
        .and_then(|e| match e.ty() {
            ExternType::Func(f) => Some(f),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no exported function `{name}`"))?;
    if ty.params().len() != args.len() {
        anyhow::bail!(
            "`{name}` takes {} argument(s), {} given",
            ty.params().len(),
            args.len()
        );
    }
    args.iter()
        .zip(ty.params())
        .map(|(a, t)| parse_arg(a, *t).map_err(|e| anyhow::anyhow!(e)))
        .collect()
}
