//! The directive interpreter: parses a script and runs its directives one by one in one
//! `Store`, keeping the named instances, the `register`ed names (through the `Linker`) and
//! the `ref.extern` objects of the script. A panic inside a directive becomes a failure.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tierup::{Engine, Error, Instance, Linker, Module, Store, Tier, Val};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, QuoteWatTest, Wast, WastDirective, WastExecute, WastInvoke, Wat};

use crate::value::{self, ExternRefs};
use crate::{Failure, FileReport, RunOptions};

/// Why a directive failed: what it expected and what happened instead.
struct Mismatch {
    expected: String,
    got: String,
}

impl Mismatch {
    fn new(expected: impl Into<String>, got: impl Into<String>) -> Mismatch {
        Mismatch {
            expected: expected.into(),
            got: got.into(),
        }
    }
}

/// How running a piece of wasm went wrong.
enum ExecError {
    /// The directive itself could not be carried out (unknown instance or export, bad
    /// argument, module that does not compile): always a failure.
    Setup(String),
    /// The wasm ran and failed (trap, link error, instantiation error): what assertions test.
    Runtime(Error),
}

/// Parses and runs a whole script.
pub fn run(name: &str, text: &str, opts: &RunOptions) -> FileReport {
    let mut report = FileReport {
        name: name.to_string(),
        ..FileReport::default()
    };
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => return parse_failure(name, e, text),
    };
    let directives = match parser::parse::<Wast>(&buf) {
        Ok(w) => w.directives,
        Err(e) => return parse_failure(name, e, text),
    };
    let mut runner = match catch_unwind(AssertUnwindSafe(|| Runner::new(opts))) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return FileReport::single_failure(
                name.to_string(),
                "setup",
                "an engine and the spectest module",
                format!("{e:#}"),
            );
        }
        Err(p) => {
            return FileReport::single_failure(
                name.to_string(),
                "setup",
                "an engine and the spectest module",
                format!("panic: {}", panic_message(&*p)),
            );
        }
    };
    let lines = LineIndex::new(text);
    for directive in directives {
        let (line, col) = lines.line_col(directive.span().offset());
        let kind = directive_kind(&directive);
        let outcome = catch_unwind(AssertUnwindSafe(|| runner.directive(directive)));
        let mismatch = match outcome {
            Ok(Ok(())) => {
                report.directives_passed += 1;
                continue;
            }
            Ok(Err(m)) => m,
            Err(p) => Mismatch::new("no panic", format!("panic: {}", panic_message(&*p))),
        };
        report.directives_failed += 1;
        report.failures.push(Failure {
            line,
            col,
            kind: kind.to_string(),
            expected: mismatch.expected,
            got: mismatch.got,
        });
    }
    report
}

/// Byte offsets of line starts, to turn a span into a 1-based line and column quickly.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line and column (in bytes) of `offset`.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        (line, offset - self.starts[line - 1] + 1)
    }
}

/// The report of a script that does not parse.
fn parse_failure(name: &str, mut e: wast::Error, text: &str) -> FileReport {
    e.set_text(text);
    FileReport::single_failure(name.to_string(), "parse", "a valid script", e.to_string())
}

/// The text of the directive's keyword, for reports.
fn directive_kind(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// The message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// The state of one script run.
struct Runner {
    engine: Engine,
    precompile: Option<Tier>,
    store: Store<()>,
    linker: Linker<()>,
    /// Instances of modules defined with a `$name`.
    instances: HashMap<String, Instance>,
    /// The most recently instantiated module: the target of unnamed `invoke`s.
    current: Option<Instance>,
    externs: ExternRefs,
}

impl Runner {
    fn new(opts: &RunOptions) -> tierup::Result<Runner> {
        let engine = Engine::new(&opts.config)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        crate::spectest::define(&mut linker, &mut store, opts.print)?;
        Ok(Runner {
            engine,
            precompile: opts.precompile,
            store,
            linker,
            instances: HashMap::new(),
            current: None,
            externs: ExternRefs::default(),
        })
    }

    /// Runs one directive.
    fn directive(&mut self, d: WastDirective<'_>) -> Result<(), Mismatch> {
        match d {
            WastDirective::Module(mut module) => {
                let bytes = encode_quote(&mut module)
                    .map_err(|e| Mismatch::new("a module that parses", e))?;
                let name = module.name();
                let instance = self.instantiate(&bytes).map_err(|e| match e {
                    ExecError::Setup(s) => Mismatch::new("a module that compiles", s),
                    ExecError::Runtime(e) => {
                        Mismatch::new("a module that instantiates", format!("{e:#}"))
                    }
                })?;
                if let Some(name) = name {
                    self.instances.insert(name.name().to_string(), instance);
                }
                self.current = Some(instance);
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self
                    .instance(module)
                    .map_err(|e| Mismatch::new("a module to register", e))?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .map_err(|e| Mismatch::new("registration succeeds", format!("{e:#}")))?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Ok(()),
                Err(e) => Err(Mismatch::new("the call to succeed", self.describe_error(e))),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let got = match self.execute(exec) {
                    Ok(vals) => vals,
                    Err(e) => {
                        return Err(Mismatch::new(
                            value::describe_rets(&results),
                            self.describe_error(e),
                        ));
                    }
                };
                let ok = got.len() == results.len()
                    && results
                        .iter()
                        .zip(&got)
                        .all(|(r, v)| value::matches(r, v, &self.store));
                if ok {
                    Ok(())
                } else {
                    Err(Mismatch::new(
                        value::describe_rets(&results),
                        value::describe_vals(&got, &self.store),
                    ))
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let result = self.execute(exec);
                self.expect_error(result, message, "trap")
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = self.invoke(&call);
                self.expect_error(result, message, "exhaustion")
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => self.expect_rejected(
                &mut module,
                format!("an invalid module ({message})"),
                "the module validated",
            ),
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.expect_rejected(
                &mut module,
                format!("a malformed module ({message})"),
                "the module decoded and validated",
            ),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = encode_wat(&mut module)
                    .map_err(|e| Mismatch::new("a module that parses", e))?;
                let result = self.instantiate(&bytes).map(|_| Vec::new());
                self.expect_error(result, message, "link error")
            }
            other => Err(Mismatch::new(
                "a WebAssembly 2.0 directive",
                format!("unsupported directive `{}`", directive_kind(&other)),
            )),
        }
    }

    /// Checks that `module` is rejected: either its text does not parse or encode, or
    /// `Module::new` refuses the bytes. Only the failure counts, not its message (the
    /// decoder's wording differs from the specification's).
    fn expect_rejected(
        &self,
        module: &mut QuoteWat<'_>,
        expected: String,
        accepted: &str,
    ) -> Result<(), Mismatch> {
        let Ok(bytes) = encode_quote(module) else {
            return Ok(());
        };
        match self.module(&bytes) {
            Ok(_) => Err(Mismatch::new(expected, accepted)),
            Err(_) => Ok(()),
        }
    }

    /// Checks that `result` is a runtime error whose message contains `message`.
    fn expect_error(
        &self,
        result: Result<Vec<Val>, ExecError>,
        message: &str,
        what: &str,
    ) -> Result<(), Mismatch> {
        let expected = format!("{what} \"{message}\"");
        match result {
            Ok(vals) => Err(Mismatch::new(
                expected,
                format!("success {}", value::describe_vals(&vals, &self.store)),
            )),
            Err(ExecError::Setup(s)) => Err(Mismatch::new(expected, s)),
            Err(ExecError::Runtime(e)) => {
                let text = format!("{e:#}");
                if message_matches(&text, message) {
                    Ok(())
                } else {
                    Err(Mismatch::new(
                        expected,
                        format!("error: {}", first_line(&text)),
                    ))
                }
            }
        }
    }

    fn describe_error(&self, e: ExecError) -> String {
        match e {
            ExecError::Setup(s) => s,
            ExecError::Runtime(e) => format!("error: {}", first_line(&format!("{e:#}"))),
        }
    }

    /// The instance named `id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("no module named ${}", id.name())),
            None => self
                .current
                .ok_or_else(|| "no module instantiated yet".to_string()),
        }
    }

    /// The module of `bytes`, precompiled where the options say.
    fn module(&self, bytes: &[u8]) -> tierup::Result<Module> {
        let module = Module::new(&self.engine, bytes)?;
        if let Some(tier) = self.precompile {
            module.precompile(tier, 1)?;
        }
        Ok(module)
    }

    /// Compiles and instantiates a module with the script's linker.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<Instance, ExecError> {
        let module = self
            .module(bytes)
            .map_err(|e| ExecError::Setup(format!("compile error: {e:#}")))?;
        self.linker
            .instantiate(&mut self.store, &module)
            .map_err(ExecError::Runtime)
    }

    /// Runs an `invoke`, a `get` or a module instantiation, returning its values.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module).map_err(ExecError::Setup)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| ExecError::Setup(format!("no global export `{global}`")))?;
                Ok(vec![g.get(&mut self.store)])
            }
            WastExecute::Wat(mut wat) => {
                let bytes = encode_wat(&mut wat).map_err(ExecError::Setup)?;
                self.instantiate(&bytes).map(|_| Vec::new())
            }
        }
    }

    /// Calls an exported function with the directive's arguments.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module).map_err(ExecError::Setup)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| ExecError::Setup(format!("no function export `{}`", invoke.name)))?;
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            let v = value::arg_to_val(arg, &mut self.store, &mut self.externs)
                .map_err(ExecError::Setup)?;
            args.push(v);
        }
        let n_results = func.ty(&self.store).results().len();
        let mut results = vec![Val::I32(0); n_results];
        func.call(&mut self.store, &args, &mut results)
            .map_err(ExecError::Runtime)?;
        Ok(results)
    }
}

/// Whether an error's text satisfies the message a script expects: it contains it, or,
/// where the reference interpreter adds a detail engines do not report (the element index
/// in "uninitialized element 2"), it contains the message without that detail.
fn message_matches(text: &str, expected: &str) -> bool {
    if text.contains(expected) {
        return true;
    }
    const WITHOUT_DETAIL: &[&str] = &["uninitialized element"];
    WITHOUT_DETAIL
        .iter()
        .any(|prefix| expected.starts_with(prefix) && text.contains(prefix))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Encodes a module given as text, binary or quoted text. Quoted text is parsed with the
/// same lexer settings as the script.
fn encode_quote(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    if let QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) = module {
        return Err("unsupported: component".to_string());
    }
    match module.to_test().map_err(|e| e.to_string())? {
        QuoteWatTest::Binary(bytes) => Ok(bytes),
        QuoteWatTest::Text(text) => {
            let text = String::from_utf8(text).map_err(|_| "malformed UTF-8".to_string())?;
            let mut lexer = Lexer::new(&text);
            lexer.allow_confusing_unicode(true);
            let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
            let mut wat = parser::parse::<Wat>(&buf).map_err(|e| e.to_string())?;
            encode_wat(&mut wat)
        }
    }
}

fn encode_wat(wat: &mut Wat<'_>) -> Result<Vec<u8>, String> {
    if let Wat::Component(_) = wat {
        return Err("unsupported: component".to_string());
    }
    wat.encode().map_err(|e| e.to_string())
}
