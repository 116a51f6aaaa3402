//! The tier timeline as a Chrome trace: the JSON trace-event format that Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open, written from the `tierup::tiering`
//! events by a `tracing-subscriber` layer ([`ChromeTrace`], `tierup run --tier-log
//! FILE.json`).
//!
//! What the file shows:
//!
//! * a track per thread that compiles (each worker, and the program's thread where it
//!   compiles itself), with a slice per compile: the function, the tier (and the point of
//!   an OSR entry), the wasm bytes compiled and the bytes of code made, the time taken; a
//!   compile that failed says why;
//! * the program's track (the thread that runs wasm), with an instant event for each
//!   publication of code into a function's slot and each activation that entered an OSR
//!   entry;
//! * a counter, `functions per tier`, of how many functions run in each tier (counted
//!   from the publications: the interpreter's lazy translation publishes too).
//!
//! Timestamps are microseconds since the layer was made. Events are written as they
//! happen (a lock around a buffered file), so a trace ends where the run ended; the
//! guard closes the JSON array when dropped. No existing layer writes counters (the
//! maintained `tracing-chrome` writes spans and instants only), hence a writer of our own,
//! fed by the same events as every other subscriber.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Instant;

use parking_lot::Mutex;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::fields::{Fields, json_str};
use super::report::tier_index;

/// The track of the program's thread.
const PROGRAM_TID: u64 = 1;

/// A layer that writes the `tierup::tiering` events as a Chrome trace (see the module
/// docs). Install it with `tracing_subscriber`'s registry, and keep the
/// [`ChromeTraceGuard`] until the run is over.
#[derive(Clone)]
pub struct ChromeTrace {
    shared: Arc<Shared>,
}

/// Finishes the trace file when dropped (or by [`ChromeTraceGuard::finish`]).
pub struct ChromeTraceGuard {
    shared: Arc<Shared>,
}

struct Shared {
    start: Instant,
    pid: u32,
    /// The name of the program's thread, whose events go to the program's track.
    program: Option<String>,
    state: Mutex<State>,
}

struct State {
    out: BufWriter<File>,
    /// Set once the file is finished, or could not be written: later events are dropped.
    closed: bool,
    /// The track of each thread seen so far.
    tids: HashMap<ThreadId, u64>,
    next_tid: u64,
    /// The tier each function runs in, by module name and function index, and how many
    /// run in each tier.
    tiers: HashMap<(String, u32), usize>,
    /// By `tier_index`: the interpreter, baseline, optimizing (the counter's series).
    counts: [u64; 3],
}

impl ChromeTrace {
    /// A layer writing to `path`, and its guard. The program's track is the thread named
    /// `program_thread` (the one that runs wasm), or the thread that calls this where no
    /// name is given.
    pub fn create(
        path: impl AsRef<Path>,
        program_thread: Option<&str>,
    ) -> io::Result<(ChromeTrace, ChromeTraceGuard)> {
        let path = path.as_ref();
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut state = State {
            out: BufWriter::new(file),
            closed: false,
            tids: HashMap::new(),
            next_tid: PROGRAM_TID + 1,
            tiers: HashMap::new(),
            counts: [0; 3],
        };
        let pid = std::process::id();
        let program = program_thread.map(str::to_string);
        if program.is_none() {
            state.tids.insert(std::thread::current().id(), PROGRAM_TID);
        }
        let name = program.clone().unwrap_or_else(|| {
            std::thread::current()
                .name()
                .unwrap_or("program")
                .to_string()
        });
        let mut head = String::from("[\n");
        meta(&mut head, pid, 0, "process_name", "tierup");
        head.push_str(",\n");
        meta(&mut head, pid, PROGRAM_TID, "thread_name", &name);
        head.push_str(",\n");
        meta_sort(&mut head, pid, PROGRAM_TID, 0);
        head.push_str(",\n");
        state.out.write_all(head.as_bytes())?;
        let shared = Arc::new(Shared {
            start: Instant::now(),
            pid,
            program,
            state: Mutex::new(state),
        });
        Ok((
            ChromeTrace {
                shared: shared.clone(),
            },
            ChromeTraceGuard { shared },
        ))
    }
}

impl ChromeTraceGuard {
    /// Closes the JSON array and flushes the file; later events are dropped.
    pub fn finish(&self) -> io::Result<()> {
        let mut state = self.shared.state.lock();
        if state.closed {
            return Ok(());
        }
        state.closed = true;
        // The last element has no comma after it.
        let mut tail = String::new();
        meta(&mut tail, self.shared.pid, 0, "trace_end", "tierup");
        tail.push_str("\n]\n");
        state.out.write_all(tail.as_bytes())?;
        state.out.flush()
    }
}

impl Drop for ChromeTraceGuard {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            eprintln!("warning: the tier log is incomplete: {e}");
        }
    }
}

impl<S: Subscriber> Layer<S> for ChromeTrace {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "tierup::tiering" {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let now = self.shared.start.elapsed().as_secs_f64() * 1e6;
        let mut state = self.shared.state.lock();
        if state.closed {
            return;
        }
        let mut out = String::new();
        let tid = self.thread_track(&mut state, &mut out);
        let pid = self.shared.pid;
        match f.message.as_str() {
            "compile finish" => slice(&mut out, pid, tid, now, &compile_name(&f), "compile", &f),
            m if m.starts_with("compile failed") => {
                let name = format!("{} failed", compile_name(&f));
                slice(&mut out, pid, tid, now, &name, "compile failed", &f);
            }
            "published" => {
                let name = format!("{} -> {}", f.text("func"), f.text("tier"));
                instant(&mut out, pid, &name, "published", now, &f);
                if let Some(tier) = f.tier().and_then(tier_index) {
                    let key = (f.text("module").to_string(), f.num("func_index") as u32);
                    if let Some(old) = state.tiers.insert(key, tier) {
                        state.counts[old] -= 1;
                    }
                    state.counts[tier] += 1;
                    let [i, b, o] = state.counts;
                    let _ = writeln!(
                        out,
                        r#"{{"name":"functions per tier","ph":"C","pid":{pid},"tid":{PROGRAM_TID},"ts":{now:.3},"args":{{"interp":{i},"baseline":{b},"optimizing":{o}}}}},"#
                    );
                }
            }
            "OSR entered" => {
                let name = format!(
                    "OSR {} -> {} @{:#x}",
                    f.text("func"),
                    f.text("tier"),
                    f.num("at")
                );
                instant(&mut out, pid, &name, "OSR entered", now, &f);
            }
            // Other events only name their thread's track, the first time.
            _ => {}
        }
        if !out.is_empty() && state.out.write_all(out.as_bytes()).is_err() {
            state.closed = true;
        }
    }
}

impl ChromeTrace {
    /// The track of the calling thread, named in the file the first time it is seen.
    fn thread_track(&self, state: &mut State, out: &mut String) -> u64 {
        let me = std::thread::current();
        if let Some(&tid) = state.tids.get(&me.id()) {
            return tid;
        }
        let name = me.name().unwrap_or("unnamed");
        let tid = if self.shared.program.as_deref() == Some(name) {
            PROGRAM_TID
        } else {
            let tid = state.next_tid;
            state.next_tid += 1;
            meta(out, self.shared.pid, tid, "thread_name", name);
            out.push_str(",\n");
            meta_sort(out, self.shared.pid, tid, tid as i64);
            out.push_str(",\n");
            tid
        };
        state.tids.insert(me.id(), tid);
        tid
    }
}

/// A compile's slice name: the function and the tier, and the point of an OSR entry.
fn compile_name(f: &Fields) -> String {
    match f.get("at") {
        Some(at) => format!(
            "{} ({} OSR @{:#x})",
            f.text("func"),
            f.text("tier"),
            at.parse::<u64>().unwrap_or(0)
        ),
        None => format!("{} ({})", f.text("func"), f.text("tier")),
    }
}

/// A compile's slice, on the track `tid`, ending `now` (its `micros` long).
fn slice(out: &mut String, pid: u32, tid: u64, now: f64, name: &str, cat: &str, f: &Fields) {
    let micros = f.num("micros") as f64;
    let _ = writeln!(
        out,
        r#"{{"name":{},"cat":{},"ph":"X","pid":{pid},"tid":{tid},"ts":{:.3},"dur":{micros:.3},"args":{{{}}}}},"#,
        json_str(name),
        json_str(cat),
        (now - micros).max(0.0),
        f.args(&[
            "func",
            "func_index",
            "module",
            "tier",
            "at",
            "worker",
            "wasm_bytes",
            "code_bytes",
            "error",
        ]),
    );
}

/// An instant event on the program's track.
fn instant(out: &mut String, pid: u32, name: &str, cat: &str, now: f64, f: &Fields) {
    let _ = writeln!(
        out,
        r#"{{"name":{},"cat":{},"ph":"i","s":"t","pid":{pid},"tid":{PROGRAM_TID},"ts":{now:.3},"args":{{{}}}}},"#,
        json_str(name),
        json_str(cat),
        f.args(&["func", "func_index", "module", "tier", "at"]),
    );
}

/// A metadata event naming the process or a thread (no trailing comma).
fn meta(out: &mut String, pid: u32, tid: u64, what: &str, name: &str) {
    let _ = write!(
        out,
        r#"{{"name":{},"ph":"M","pid":{pid},"tid":{tid},"args":{{"name":{}}}}}"#,
        json_str(what),
        json_str(name)
    );
}

/// A metadata event placing a thread's track among the others (no trailing comma).
fn meta_sort(out: &mut String, pid: u32, tid: u64, index: i64) {
    let _ = write!(
        out,
        r#"{{"name":"thread_sort_index","ph":"M","pid":{pid},"tid":{tid},"args":{{"sort_index":{index}}}}}"#
    );
}
