//! `tierup run`: compiles a module (binary or text), instantiates it without imports,
//! calls one export with arguments from the command line and prints its results.

use std::path::{Path, PathBuf};

use clap::Args;
use tierup::{Config, Engine, Error, Func, Instance, Linker, Module, Store, TierMode, Trap, Val};

use crate::values::{format_val, parse_arg};
use crate::{EXIT_TRAP, EXIT_USAGE};

/// Runs a WebAssembly module
#[derive(Args, Debug)]
pub struct RunCommand {
    /// The execution tier(s): interp, baseline, optimizing, tiered or eager
    #[arg(long, value_name = "MODE", default_value = "interp")]
    tier: TierMode,

    /// The name of the exported function to call (default: `_start`)
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// The WebAssembly module to run (binary `.wasm` or text `.wat`)
    #[arg(value_name = "WASM")]
    file: PathBuf,

    /// Arguments of the called function, one per parameter, parsed according to its
    /// type: integers in decimal or 0x hex; floats in decimal, hex, `inf`, `nan` or
    /// `nan:0x...`; `null` for references
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

/// A failure with its exit status (the message is printed already).
struct Exit(u8);

impl RunCommand {
    /// Runs the command and returns the exit status.
    pub fn execute(self) -> u8 {
        match self.run() {
            Ok(()) => 0,
            Err(Exit(code)) => code,
        }
    }

    fn run(&self) -> Result<(), Exit> {
        let file = self.file.display().to_string();
        let bytes = load(&self.file)?;

        let mut config = Config::new();
        config.tier(self.tier);
        let engine = Engine::new(&config).map_err(|e| usage(format!("{e:#}")))?;
        let module = Module::new(&engine, &bytes)
            .map_err(|e| usage(format!("cannot compile `{file}`: {e:#}")))?;
        let mut store = Store::new(&engine, ());
        let linker = Linker::new(&engine);

        let missing = missing_imports(&module, &linker, &mut store);
        if !missing.is_empty() {
            for m in &missing {
                eprintln!("error: cannot instantiate `{file}`: {m}");
            }
            return Err(Exit(EXIT_USAGE));
        }
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(|e| runtime_error(&format!("cannot instantiate `{file}`"), e))?;

        let (name, func) = self.target(&instance, &mut store)?;
        let ty = func.ty(&store);
        if ty.params().len() != self.args.len() {
            return Err(usage(format!(
                "`{name}` takes {} argument(s) ({}), {} given",
                ty.params().len(),
                join(ty.params()),
                self.args.len()
            )));
        }
        let mut args = Vec::with_capacity(self.args.len());
        for (text, ty) in self.args.iter().zip(ty.params()) {
            args.push(parse_arg(text, *ty).map_err(usage)?);
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut store, &args, &mut results)
            .map_err(|e| runtime_error(&format!("failed to call `{name}`"), e))?;
        for r in &results {
            println!("{}", format_val(r));
        }
        Ok(())
    }

    /// The export to call: `--invoke NAME`, else `_start`.
    fn target(&self, instance: &Instance, store: &mut Store<()>) -> Result<(String, Func), Exit> {
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
fn missing_imports(module: &Module, linker: &Linker<()>, store: &mut Store<()>) -> Vec<String> {
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

fn join(tys: &[tierup::ValType]) -> String {
    tys.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
