//! `tierup run`: compiles a module (binary or text), links WASI preview 1, and runs it:
//! `_start` of a command program (its `proc_exit` status becomes ours), or the export
//! named by `--invoke` with arguments from the command line, printing its results.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tierup::tiering::{Sampler, TierReport};
use tierup::wasi::{I32Exit, WasiCtx, WasiCtxBuilder};
use tierup::{Config, Engine, Error, Func, Instance, Linker, Module, Store, Trap, Val};

use crate::tier_args::TierArgs;
use crate::values::{format_val, parse_arg};
use crate::{EXIT_TRAP, EXIT_USAGE};

/// The options and operands of `tierup run` (its help text is on `Command::Run`).
#[derive(Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    tiers: TierArgs,

    /// Validate each function body at its first call instead of before the program
    /// starts: a large module starts sooner, and an invalid function is reported (as a
    /// trap) only when it is called
    #[arg(long)]
    lazy_validation: bool,

    /// Keep linear memory in base pages: do not ask the kernel for transparent huge pages
    /// (which cut page faults and TLB misses of programs that use megabytes of memory, at
    /// the cost of resident memory growing in steps of up to 2 MiB)
    #[arg(long)]
    no_huge_pages: bool,

    /// With `--tier baseline` or `--tier optimizing`: compile every function on all cores
    /// before the program starts (as an ahead-of-time compiler would), instead of each at
    /// its first call; the compile's figures are a `tierup::tiering` event (`RUST_LOG=
    /// tierup::tiering=info`)
    #[arg(long)]
    precompile: bool,

    /// Write the tier timeline to FILE as a Chrome trace (JSON trace events), which
    /// Perfetto (ui.perfetto.dev) and chrome://tracing open: a slice per compile on each
    /// worker's track, the publications and OSR entries on the program's, and a counter
    /// of the functions in each tier
    #[arg(long, value_name = "FILE")]
    tier_log: Option<PathBuf>,

    /// Print the tier report on exit, to stderr: a table of the functions that left the
    /// interpreter, with when each reached the baseline and the optimizing tier, what its
    /// compiles took and made, and the share of the program's CPU time it ran in each
    /// tier (sampled); with =FILE.svg (or .html) draw it as a timeline there instead
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    tier_report: Option<String>,

    /// Count every function's calls for the tier report (its calls column): an increment
    /// at each function's entry, in every tier, which slows programs made of very short
    /// calls (1.5x on the benchmark `fib`, within 4% on the others)
    #[arg(long, requires = "tier_report")]
    count_calls: bool,

    /// Write the perf map /tmp/perf-PID.map, so that `perf report` names the samples in
    /// machine code by wasm function and tier
    #[arg(long)]
    perfmap: bool,

    /// Write a jitdump file jit-PID.dump in the working directory, for `perf record -k
    /// mono` and then `perf inject --jit`, which make the machine code itself visible to
    /// `perf report` and `perf annotate`
    #[arg(long)]
    jitdump: bool,

    /// Stop the program with the trap `interrupt` (exit status 1) when it has run this
    /// long: `500ms`, `10s`, `2m`, `1h`, or seconds (`1.5`). The interpreter then checks
    /// an epoch where it returns to its trampoline, and machine code is stopped by a
    /// signal (a few percent slower at most)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,

    /// The name of the exported function to run (default: `_start`)
    #[arg(long, value_name = "FUNCTION")]
    invoke: Option<String>,

    /// Grant access of a host directory to the guest: `HOST_DIR` alone is seen by the
    /// guest under the same path, `HOST_DIR::GUEST_DIR` under `GUEST_DIR`
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    dirs: Vec<String>,

    /// Pass an environment variable to the guest: `NAME=VAL`, or `NAME` to pass the
    /// host's value of it
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    envs: Vec<String>,

    /// Pass all of the host's environment variables to the guest
    #[arg(long)]
    inherit_env: bool,

    /// The WebAssembly module to run (binary `.wasm` or text `.wat`), then the arguments
    /// passed to the guest program (its `argv[1..]`; everything after the module goes to
    /// the guest, `--help` too). With `--invoke`, the function's arguments, one per
    /// parameter: integers in decimal or 0x hex; floats in decimal, hex, `inf`, `nan` or
    /// `nan:0x...`; a v128 as `0x` and 32 hex digits or as quoted lanes (`"i32x4 1 2 3 4"`,
    /// or four i32 lanes as results print them); `null` for references
    #[arg(
        value_name = "WASM",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    module_and_args: Vec<String>,

    /// The report that gets the run's profile (calls and sampled time), with
    /// `--tier-report`.
    #[arg(skip)]
    profile_to: Option<TierReport>,
}

/// How often the tier report's sampler interrupts the program: every 1 ms cost up to 8% on
/// the benchmark programs, every 2 ms up to 4% (`benches/README.md`).
const SAMPLE_INTERVAL: Duration = Duration::from_millis(2);

/// A failure with its exit status (the message is printed already).
struct Exit(u8);

/// The store's data: the program's WASI state.
struct Host {
    wasi: WasiCtx,
}

impl RunCommand {
    /// Where the tier timeline goes (`--tier-log`).
    pub fn tier_log(&self) -> Option<PathBuf> {
        self.tier_log.clone()
    }

    /// Where the tier report goes (`--tier-report`): `Some(None)` for stderr.
    pub fn tier_report(&self) -> Option<Option<PathBuf>> {
        self.tier_report
            .as_ref()
            .map(|f| (!f.is_empty()).then(|| PathBuf::from(f)))
    }

    /// Makes the run add its profile to `report` when it ends.
    pub fn profile_into(&mut self, report: TierReport) {
        self.profile_to = Some(report);
    }

    /// Runs the command and returns the exit status.
    pub fn execute(self) -> u8 {
        match self.run() {
            Ok(code) => code,
            Err(Exit(code)) => code,
        }
    }

    /// The module path.
    fn file(&self) -> &str {
        self.module_and_args.first().map_or("", String::as_str)
    }

    /// The arguments after the module path.
    fn args(&self) -> &[String] {
        self.module_and_args.get(1..).unwrap_or(&[])
    }

    fn run(&self) -> Result<u8, Exit> {
        let file = self.file().to_string();
        let bytes = load(Path::new(&file))?;

        let mut config = Config::new();
        self.tiers.apply(&mut config);
        config.lazy_validation(self.lazy_validation);
        config
            .huge_pages(!self.no_huge_pages)
            .perf_map(self.perfmap)
            .jitdump(self.jitdump)
            .count_calls(self.count_calls)
            .epoch_interruption(self.timeout.is_some());
        let engine = Engine::new(&config).map_err(|e| usage(format!("{e:#}")))?;
        let module = Module::new(&engine, &bytes)
            .map_err(|e| usage(format!("cannot compile `{file}`: {e:#}")))?;
        if self.precompile {
            let tier = match self.tiers.tier {
                tierup::TierMode::Baseline => tierup::Tier::Baseline,
                tierup::TierMode::Optimizing => tierup::Tier::Optimizing,
                other => {
                    return Err(usage(format!(
                        "--precompile needs --tier baseline or optimizing, not `{other}`"
                    )));
                }
            };
            let s = module
                .precompile(tier, 0)
                .map_err(|e| usage(format!("cannot compile `{file}`: {e:#}")))?;
            tracing::info!(
                target: "tierup::tiering",
                tier = tier.name(),
                functions = s.functions,
                refused = s.refused,
                wasm_bytes = s.wasm_bytes,
                machine_bytes = s.machine_bytes,
                micros = s.wall.as_micros() as u64,
                threads = s.threads,
                "precompiled"
            );
        }
        let wasi = self.wasi_ctx(&file)?;
        let mut store = Store::new(&engine, Host { wasi });
        if let Some(timeout) = self.timeout {
            // One tick of the epoch ends the run, from a thread that sleeps until then
            // (and ends with the process if the program finishes first).
            store.set_epoch_deadline(1);
            let engine = engine.clone();
            std::thread::Builder::new()
                .name("timeout".into())
                .spawn(move || {
                    std::thread::sleep(timeout);
                    engine.increment_epoch();
                })
                .map_err(|e| usage(format!("cannot start the timeout thread: {e}")))?;
        }
        let Some(report) = &self.profile_to else {
            return self.instantiate_and_call(&file, &engine, &module, &mut store);
        };
        let sampler = Sampler::start(SAMPLE_INTERVAL)
            .map_err(|e| eprintln!("warning: the tier report has no time shares: {e}"))
            .ok();
        let status = self.instantiate_and_call(&file, &engine, &module, &mut store);
        report.add_profile(store.tier_profile(sampler.as_ref()));
        status
    }

    /// Instantiates `module` in `store` and calls the target export.
    fn instantiate_and_call(
        &self,
        file: &str,
        engine: &Engine,
        module: &Module,
        store: &mut Store<Host>,
    ) -> Result<u8, Exit> {
        let mut linker = Linker::new(engine);
        tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)
            .map_err(|e| usage(format!("{e:#}")))?;

        let missing = missing_imports(module, &linker, &mut *store);
        if !missing.is_empty() {
            for m in &missing {
                eprintln!("error: cannot instantiate `{file}`: {m}");
            }
            return Err(Exit(EXIT_USAGE));
        }
        let instance = match linker.instantiate(&mut *store, module) {
            Ok(i) => i,
            Err(e) => {
                return finish(&mut *store, e, &format!("cannot instantiate `{file}`"));
            }
        };

        let (name, func) = self.target(&instance, &mut *store)?;
        let ty = func.ty(&*store);
        let fn_args: &[String] = if self.invoke.is_some() {
            self.args()
        } else {
            &[]
        };
        if ty.params().len() != fn_args.len() {
            return Err(usage(format!(
                "`{name}` takes {} argument(s) ({}), {} given",
                ty.params().len(),
                join(ty.params()),
                fn_args.len()
            )));
        }
        let mut args = Vec::with_capacity(fn_args.len());
        for (text, ty) in fn_args.iter().zip(ty.params()) {
            args.push(parse_arg(text, *ty).map_err(usage)?);
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        if let Err(e) = func.call(&mut *store, &args, &mut results) {
            return finish(&mut *store, e, &format!("failed to call `{name}`"));
        }
        flush(&mut *store);
        for r in &results {
            println!("{}", format_val(r));
        }
        Ok(0)
    }

    /// The guest's WASI context: argv (the module path, then the arguments unless they
    /// are `--invoke` arguments), environment, stdio and preopened directories.
    fn wasi_ctx(&self, file: &str) -> Result<WasiCtx, Exit> {
        let mut b = WasiCtxBuilder::new();
        b.arg(file);
        if self.invoke.is_none() {
            b.args(self.args());
        }
        if self.inherit_env {
            b.inherit_env();
        }
        for var in &self.envs {
            match var.split_once('=') {
                Some((k, v)) => b.env(k, v),
                None => match std::env::var(var) {
                    Ok(v) => b.env(var, v),
                    Err(_) => &mut b,
                },
            };
        }
        b.inherit_stdio();
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            b.preopened_dir(host, guest)
                .map_err(|e| usage(format!("--dir {dir}: {e:#}")))?;
        }
        Ok(b.build())
    }

    /// The export to call: `--invoke NAME`, else `_start`.
    fn target(&self, instance: &Instance, store: &mut Store<Host>) -> Result<(String, Func), Exit> {
        let name = match &self.invoke {
            Some(name) => name.clone(),
            None if instance.get_func(&mut *store, "_start").is_some() => "_start".to_string(),
            None => return Err(usage("no export to run: pass --invoke NAME".to_string())),
        };
        match instance.get_func(&mut *store, &name) {
            Some(f) => Ok((name, f)),
            None => Err(usage(format!("no exported function `{name}`"))),
        }
    }
}

/// Flushes the guest's stdout and stderr.
fn flush(store: &mut Store<Host>) {
    let _ = store.data_mut().wasi.flush();
}

/// Ends a run that failed with `e`: the guest's `proc_exit` status, or the printed trap
/// (exit 1), or another error (exit 2). Output the guest wrote comes first.
fn finish(store: &mut Store<Host>, e: Error, context: &str) -> Result<u8, Exit> {
    flush(store);
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        // Like a native process: the status is the low 8 bits.
        return Ok((exit.0 & 0xff) as u8);
    }
    Err(runtime_error(context, e))
}

/// Reads the module file; text is converted to binary.
fn load(path: &Path) -> Result<Vec<u8>, Exit> {
    let file = path.display();
    let bytes = std::fs::read(path).map_err(|e| usage(format!("cannot read `{file}`: {e}")))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    wat::parse_bytes(&bytes)
        .map(|b| b.into_owned())
        .map_err(|mut e| {
            e.set_path(path);
            usage(format!("cannot parse `{file}`: {e}"))
        })
}

/// One line per import the linker cannot satisfy.
fn missing_imports<T: 'static>(
    module: &Module,
    linker: &Linker<T>,
    store: &mut Store<T>,
) -> Vec<String> {
    let mut missing = Vec::new();
    for (i, import) in module.imports().enumerate() {
        if linker
            .get(&mut *store, import.module(), import.name())
            .is_none()
        {
            let kind = match import.ty().kind_name() {
                "func" => "function",
                other => other,
            };
            missing.push(format!(
                "unknown import `{}::{}` (import #{i}, {kind}) has not been defined",
                import.module(),
                import.name()
            ));
        }
    }
    missing
}

fn usage(msg: String) -> Exit {
    eprintln!("error: {msg}");
    Exit(EXIT_USAGE)
}

/// Prints an error from running wasm: traps exit with 1, anything else with 2.
fn runtime_error(context: &str, e: Error) -> Exit {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        eprintln!("error: {trap}");
        Exit(EXIT_TRAP)
    } else {
        eprintln!("error: {context}: {e:#}");
        Exit(EXIT_USAGE)
    }
}

/// A `--timeout` duration: a number with the unit `ms`, `s`, `m` or `h`, or of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let seconds = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("unknown unit `{unit}` (ms, s, m or h)")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (like 500ms, 10s, 2m)"))?;
    Duration::try_from_secs_f64(value * seconds)
        .map_err(|_| format!("`{text}` is not a duration (like 500ms, 10s, 2m)"))
}

fn join(tys: &[tierup::ValType]) -> String {
    tys.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
