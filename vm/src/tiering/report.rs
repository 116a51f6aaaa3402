//! The tier report: which functions left the interpreter, when each reached which tier and
//! what its compiles cost, gathered from the `tierup::tiering` events by a
//! `tracing-subscriber` layer ([`TierReport`]) and given as data ([`Report`]), as a table
//! for an 80-column terminal ([`Report::table`], `tierup run --tier-report`) or as a
//! self-contained SVG picture of the timeline ([`Report::svg`], `--tier-report=FILE.svg`,
//! or `.html` for the picture in a page).
//!
//! With a [`TierProfile`] added ([`TierReport::add_profile`], `tierup run` adds its
//! store's), the report also has each function's calls and the share of the sampled
//! time it ran in each tier, and the table is sorted by that time.
//!
//! A function *reaches* a tier at the first publication of its code of that tier into a
//! slot, or the first time an activation of it enters an OSR entry of that tier, whichever
//! comes first. Compile time and code size per tier add the function's code and its OSR
//! entries. Times are since the layer was made.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tierup_abi::Tier;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::fields::Fields;
use super::profile::TierProfile;

/// A layer that gathers the tier report from the `tierup::tiering` events; see the
/// module docs. [`TierReport::report`] gives what it has gathered so far.
#[derive(Clone)]
pub struct TierReport {
    start: Instant,
    gathered: Arc<Mutex<Gathered>>,
}

#[derive(Default)]
struct Gathered {
    functions: HashMap<(String, u32), FunctionReport>,
    compiles: Vec<CompileReport>,
    profile: Option<TierProfile>,
}

/// What the report says of one function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionReport {
    /// The module's name (`<unknown>` for a module without one).
    pub module: String,
    /// The function's index in its module.
    pub func_index: u32,
    /// Its name (from the name section, else `func[N]`).
    pub name: String,
    /// When it reached each tier (indexed by [`tier_index`]): the interpreter at its
    /// first call, the others at their first publication or OSR entry.
    pub reached: [Option<Duration>; 3],
    /// The time its compiles by each tier took (its code and its OSR entries).
    pub compile_time: [Duration; 3],
    /// The bytes of code each tier made for it.
    pub code_bytes: [usize; 3],
    /// Compiles of it that failed.
    pub failed: u32,
    /// Activations of it that moved into an OSR entry.
    pub osr_entered: u32,
    /// Its calls, from the profile (0 without one).
    pub calls: u64,
    /// The sampled CPU time it ran in each tier (indexed by [`tier_index`]), from the
    /// profile.
    pub time: [Duration; 3],
}

impl FunctionReport {
    /// When it first left the interpreter.
    pub fn left_interpreter(&self) -> Option<Duration> {
        self.reached[1..].iter().flatten().min().copied()
    }

    /// The highest tier it reached.
    pub fn top_tier(&self) -> Tier {
        match self.reached {
            [_, _, Some(_)] => Tier::Optimizing,
            [_, Some(_), None] => Tier::Baseline,
            _ => Tier::Interp,
        }
    }
}

/// One compile.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileReport {
    /// The thread that compiled (a worker's name, or the program's thread).
    pub thread: String,
    pub module: String,
    pub func_index: u32,
    pub name: String,
    pub tier: Tier,
    /// The point of an OSR entry (a module offset), `None` for the function's code.
    pub osr_at: Option<u32>,
    /// When it started, and how long it took.
    pub start: Duration,
    pub duration: Duration,
    pub wasm_bytes: usize,
    /// The bytes of code made (0 for a compile that failed).
    pub code_bytes: usize,
    pub failed: bool,
}

/// The tier report at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// How long the run had gone on.
    pub elapsed: Duration,
    /// The functions that left the interpreter, in the order they did.
    pub functions: Vec<FunctionReport>,
    /// How many functions ran in the interpreter only.
    pub interpreted_only: usize,
    /// Every compile, in the order they started.
    pub compiles: Vec<CompileReport>,
    /// Where the sampled time went, from the profile (`None` without one).
    pub time: Option<TimeShare>,
    /// Whether the profile has the functions' calls (`FunctionReport::calls`).
    pub calls_counted: bool,
}

/// Where the sampled time of a profile went, for the report's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeShare {
    /// The samples taken.
    pub samples: u64,
    /// The CPU time they stand for.
    pub sampled: Duration,
    /// The time in wasm code of each tier (indexed by [`tier_index`]), all functions.
    pub tiers: [Duration; 3],
    /// The time and calls of the functions that stayed in the interpreter.
    pub interpreted_only_time: Duration,
    pub interpreted_only_calls: u64,
    /// The time in host functions, in the runtime, and in wasm it cannot name.
    pub host: Duration,
    pub runtime: Duration,
    pub unnamed: Duration,
}

impl TimeShare {
    /// `time` as a share of the sampled time, in percent.
    pub fn percent(&self, time: Duration) -> f64 {
        if self.sampled.is_zero() {
            0.0
        } else {
            time.as_secs_f64() * 100.0 / self.sampled.as_secs_f64()
        }
    }
}

/// The index of `tier` in the arrays of [`FunctionReport`] (`None` for the records that
/// are no tier's code: the lazy entry, host functions).
pub fn tier_index(tier: Tier) -> Option<usize> {
    match tier {
        Tier::Interp => Some(0),
        Tier::Baseline => Some(1),
        Tier::Optimizing => Some(2),
        Tier::Lazy | Tier::Host => None,
    }
}

impl core::fmt::Debug for TierReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TierReport")
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl Default for TierReport {
    fn default() -> Self {
        TierReport::new()
    }
}

impl TierReport {
    /// A layer that starts its clock now.
    pub fn new() -> TierReport {
        TierReport {
            start: Instant::now(),
            gathered: Arc::default(),
        }
    }

    /// Adds the calls and sampled time of `profile` to the report (replacing a profile
    /// added before). `tierup run --tier-report` adds its store's when the program ends.
    pub fn add_profile(&self, profile: TierProfile) {
        self.gathered.lock().profile = Some(profile);
    }

    /// The report of what the events (and the profile) said so far.
    pub fn report(&self) -> Report {
        let elapsed = self.start.elapsed();
        let g = self.gathered.lock();
        let mut functions: Vec<FunctionReport> = g
            .functions
            .values()
            .filter(|f| f.left_interpreter().is_some())
            .cloned()
            .collect();
        let mut interpreted_only = g.functions.len() - functions.len();
        let mut time = None;
        let calls_counted = g.profile.as_ref().is_some_and(|p| p.calls_counted);
        if let Some(profile) = &g.profile {
            let mut share = TimeShare {
                samples: profile.samples,
                sampled: profile.sampled,
                host: profile.host,
                runtime: profile.runtime,
                unnamed: profile.unnamed,
                ..TimeShare::default()
            };
            let index: HashMap<(String, u32), usize> = functions
                .iter()
                .enumerate()
                .map(|(i, f)| ((f.module.clone(), f.func_index), i))
                .collect();
            let mut unreported = 0;
            for p in &profile.functions {
                for (t, d) in p.time.iter().enumerate() {
                    share.tiers[t] += *d;
                }
                let key = (p.module.clone(), p.func_index);
                match index.get(&key) {
                    Some(&i) => {
                        functions[i].calls = p.calls;
                        functions[i].time = p.time;
                    }
                    None => {
                        share.interpreted_only_calls += p.calls;
                        share.interpreted_only_time += p.total_time();
                        unreported += usize::from(!g.functions.contains_key(&key));
                    }
                }
            }
            interpreted_only += unreported;
            time = Some(share);
        }
        if time.as_ref().is_some_and(|t| t.samples > 0) {
            functions.sort_by_key(|f| {
                (
                    core::cmp::Reverse(f.time.iter().sum::<Duration>()),
                    f.left_interpreter(),
                    f.module.clone(),
                    f.func_index,
                )
            });
        } else {
            functions.sort_by_key(|f| (f.left_interpreter(), f.module.clone(), f.func_index));
        }
        let mut compiles = g.compiles.clone();
        compiles.sort_by_key(|c| c.start);
        Report {
            elapsed,
            interpreted_only,
            functions,
            compiles,
            time,
            calls_counted,
        }
    }

    fn function<'a>(g: &'a mut Gathered, f: &Fields) -> &'a mut FunctionReport {
        let key = (f.text("module").to_string(), f.num("func_index") as u32);
        g.functions
            .entry(key)
            .or_insert_with_key(|(module, func_index)| FunctionReport {
                module: module.clone(),
                func_index: *func_index,
                name: f.text("func").to_string(),
                reached: [None; 3],
                compile_time: [Duration::ZERO; 3],
                code_bytes: [0; 3],
                failed: 0,
                osr_entered: 0,
                calls: 0,
                time: [Duration::ZERO; 3],
            })
    }
}

impl<S: Subscriber> Layer<S> for TierReport {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "tierup::tiering" {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let now = self.start.elapsed();
        let Some((tier, t)) = f.tier().and_then(|tier| Some((tier, tier_index(tier)?))) else {
            return;
        };
        let mut g = self.gathered.lock();
        let message = f.message.as_str();
        let failed = message.starts_with("compile failed");
        match message {
            m if m == "compile finish" || failed => {
                let duration = Duration::from_micros(f.num("micros"));
                let code_bytes = f.num("code_bytes") as usize;
                let compile = CompileReport {
                    thread: std::thread::current()
                        .name()
                        .unwrap_or("unnamed")
                        .to_string(),
                    module: f.text("module").to_string(),
                    func_index: f.num("func_index") as u32,
                    name: f.text("func").to_string(),
                    tier,
                    osr_at: f.get("at").and_then(|a| a.parse().ok()),
                    start: now.saturating_sub(duration),
                    duration,
                    wasm_bytes: f.num("wasm_bytes") as usize,
                    code_bytes,
                    failed,
                };
                let func = Self::function(&mut g, &f);
                func.compile_time[t] += duration;
                func.code_bytes[t] += code_bytes;
                func.failed += u32::from(failed);
                g.compiles.push(compile);
            }
            "published" => {
                let func = Self::function(&mut g, &f);
                func.reached[t].get_or_insert(now);
            }
            "OSR entered" => {
                let func = Self::function(&mut g, &f);
                func.reached[t].get_or_insert(now);
                func.osr_entered += 1;
            }
            _ => {}
        }
    }
}

/// Milliseconds with a fraction, as the table shows them.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Report {
    /// The report as a table for an 80-column terminal: a line per function that left
    /// the interpreter, with its calls, when it reached the baseline and the optimizing
    /// tier, the time its compiles by each took, the code each made and the share of the
    /// sampled time it ran in each tier (interpreter, baseline, optimizing); most sampled
    /// first where there are samples, else in the order they left the interpreter. Then
    /// the functions that stayed in the interpreter, and where the rest of the time went.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "tier report: {} function{} left the interpreter in {:.1} ms; {} ran only in it",
            self.functions.len(),
            if self.functions.len() == 1 { "" } else { "s" },
            ms(self.elapsed),
            self.interpreted_only
        );
        let share = self.time.as_ref().filter(|t| t.samples > 0);
        if let Some(t) = share {
            let _ = writeln!(
                out,
                "sampled {:.0} ms of CPU time: interp {:.0}%, baseline {:.0}%, optimizing {:.0}%,",
                ms(t.sampled),
                t.percent(t.tiers[0]),
                t.percent(t.tiers[1]),
                t.percent(t.tiers[2]),
            );
            let _ = writeln!(
                out,
                "  host functions {:.0}%, runtime {:.0}%",
                t.percent(t.host),
                t.percent(t.runtime + t.unnamed),
            );
        }
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>15} {:>13} {:>13} {:>11}",
            "", "", "reached (ms)", "compile (ms)", "code (KiB)", "time (%)"
        );
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>3} {:>3} {:>3}",
            "function", "calls", "base", "opt", "base", "opt", "base", "opt", "int", "bas", "opt"
        );
        let dash = || "-".to_string();
        let at = |d: Option<Duration>| d.map_or_else(dash, |d| fixed(ms(d), 1, 7));
        let calls = |n: u64| if self.calls_counted { count(n) } else { dash() };
        let percent = |d: Duration| match share {
            Some(t) if !d.is_zero() => {
                let p = t.percent(d);
                if p < 1.0 {
                    "<1".to_string()
                } else {
                    format!("{p:.0}")
                }
            }
            _ => dash(),
        };
        for f in &self.functions {
            let mut name = f.name.clone();
            if f.failed > 0 {
                name.push_str(" (!)");
            }
            name = clip(&name, 16);
            let c = |t: usize| {
                if f.compile_time[t].is_zero() && f.code_bytes[t] == 0 {
                    dash()
                } else {
                    fixed(ms(f.compile_time[t]), 2, 6)
                }
            };
            let k = |t: usize| {
                if f.code_bytes[t] == 0 {
                    dash()
                } else {
                    fixed(f.code_bytes[t] as f64 / 1024.0, 1, 6)
                }
            };
            let _ = writeln!(
                out,
                "{name:<16} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>3} {:>3} {:>3}",
                calls(f.calls),
                at(f.reached[1]),
                at(f.reached[2]),
                c(1),
                c(2),
                k(1),
                k(2),
                percent(f.time[0]),
                percent(f.time[1]),
                percent(f.time[2]),
            );
        }
        if let Some(t) = self.time.as_ref().filter(|_| self.interpreted_only > 0) {
            let _ = writeln!(
                out,
                "{:<16} {:>6} {:>47}",
                clip(&format!("{} others", self.interpreted_only), 16),
                calls(t.interpreted_only_calls),
                percent(t.interpreted_only_time),
            );
        }
        let failed: u32 = self.functions.iter().map(|f| f.failed).sum();
        if failed > 0 {
            let _ = writeln!(
                out,
                "(!) {failed} compile(s) failed: the function stayed in its tier"
            );
        }
        out
    }

    /// The report as a self-contained SVG picture: a row per function that left the
    /// interpreter (at most [`SVG_MAX_FUNCTIONS`]: the optimized ones first, then those
    /// that left the interpreter first; a line says how many more there are), coloured by
    /// the tier it ran in over time, then a row per compiling thread with all its compiles
    /// as slices; each shape has a tooltip with its figures.
    pub fn svg(&self) -> String {
        let mut shown: Vec<&FunctionReport> = self.functions.iter().collect();
        shown.sort_by_key(|f| (f.reached[2].is_none(), f.left_interpreter()));
        shown.truncate(SVG_MAX_FUNCTIONS);
        shown.sort_by_key(|f| f.left_interpreter());
        let hidden = self.functions.len() - shown.len();
        const LEFT: f64 = 190.0;
        const WIDTH: f64 = 1000.0;
        const ROW: f64 = 18.0;
        const TOP: f64 = 46.0;
        let span = ms(self.elapsed).max(1e-3);
        let x = |d: Duration| LEFT + (ms(d) / span).min(1.0) * (WIDTH - LEFT - 40.0);
        let mut threads: Vec<&str> = self.compiles.iter().map(|c| c.thread.as_str()).collect();
        threads.sort();
        threads.dedup();
        let rows = shown.len() + usize::from(hidden > 0) + threads.len();
        let height = TOP + ROW * (rows as f64 + 1.5) + 30.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="10" y="18" font-size="14" font-weight="bold">Tier timeline: {} functions left the interpreter in {:.1} ms ({} ran only in it)</text>"#,
            self.functions.len(),
            span,
            self.interpreted_only
        );
        // The legend.
        for (i, (label, colour)) in [
            ("interpreter", COLOURS[0]),
            ("baseline", COLOURS[1]),
            ("optimizing", COLOURS[2]),
        ]
        .into_iter()
        .enumerate()
        {
            let lx = 10.0 + 110.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="26" width="12" height="10" fill="{colour}"/><text x="{}" y="35">{label}</text>"#,
                lx + 16.0
            );
        }
        // The time axis.
        let step = nice_step(span / 8.0);
        let axis_y = TOP + ROW * rows as f64 + 6.0;
        let mut t = 0.0;
        while t <= span + 1e-9 {
            let tx = LEFT + t / span * (WIDTH - LEFT - 40.0);
            let _ = writeln!(
                s,
                r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{axis_y}" stroke="#eee"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{} ms</text>"##,
                axis_y + 14.0,
                trim_float(t)
            );
            t += step;
        }
        for (row, f) in shown.iter().enumerate() {
            let y = TOP + ROW * row as f64;
            // With a profile, the name's tooltip has the calls and the time in each tier.
            let figures = match &self.time {
                Some(_) => format!(
                    "<title>{}: {}ran {:.1} ms interpreted, {:.1} ms baseline, {:.1} ms optimized</title>",
                    xml(&f.name),
                    if self.calls_counted {
                        format!("{} calls; ", f.calls)
                    } else {
                        String::new()
                    },
                    ms(f.time[0]),
                    ms(f.time[1]),
                    ms(f.time[2])
                ),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}{figures}</text>"#,
                LEFT - 6.0,
                y + 12.0,
                xml(&clip(&f.name, 28))
            );
            // Interpreter from the start, then each tier from when it was reached.
            let mut marks: Vec<(Duration, usize)> = vec![(f.reached[0].unwrap_or_default(), 0)];
            for t in 1..3 {
                if let Some(at) = f.reached[t] {
                    marks.push((at, t));
                }
            }
            marks.sort();
            for (i, &(from, tier)) in marks.iter().enumerate() {
                let to = marks.get(i + 1).map_or(self.elapsed, |m| m.0);
                let (x0, x1) = (x(from), x(to));
                let _ = writeln!(
                    s,
                    r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} in {} from {:.2} ms</title></rect>"#,
                    y + 2.0,
                    (x1 - x0).max(0.5),
                    ROW - 4.0,
                    COLOURS[tier],
                    xml(&f.name),
                    TIER_NAMES[tier],
                    ms(from)
                );
            }
        }
        if hidden > 0 {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="gray">and {hidden} more</text>"#,
                LEFT - 6.0,
                TOP + ROW * shown.len() as f64 + 12.0
            );
        }
        let first_thread = shown.len() + usize::from(hidden > 0);
        for (i, thread) in threads.iter().enumerate() {
            let y = TOP + ROW * (first_thread + i) as f64;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-style="italic">{}</text>"#,
                LEFT - 6.0,
                y + 12.0,
                xml(thread)
            );
            for c in self.compiles.iter().filter(|c| c.thread == *thread) {
                let (x0, x1) = (x(c.start), x(c.start + c.duration));
                let what = match c.osr_at {
                    Some(at) => format!("{} OSR entry at {at:#x}", c.tier.name()),
                    None => c.tier.name().to_string(),
                };
                let _ = writeln!(
                    s,
                    r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" stroke="{}"><title>{}: {what}, {:.3} ms, {} wasm bytes -> {} code bytes{}</title></rect>"#,
                    y + 2.0,
                    (x1 - x0).max(1.0),
                    ROW - 4.0,
                    COLOURS[tier_index(c.tier).unwrap_or(0)],
                    if c.failed { "red" } else { "none" },
                    xml(&c.name),
                    ms(c.duration),
                    c.wasm_bytes,
                    c.code_bytes,
                    if c.failed { ", failed" } else { "" }
                );
            }
        }
        s.push_str("</svg>\n");
        s
    }

    /// [`Report::svg`] in a page of its own, with the table below it.
    pub fn html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tierup tier report</title></head>\n<body>\n{}<pre>{}</pre>\n</body></html>\n",
            self.svg(),
            xml(&self.table())
        )
    }
}

/// The most functions [`Report::svg`] draws a row for.
pub const SVG_MAX_FUNCTIONS: usize = 48;

/// The colours of the tiers, by [`tier_index`].
const COLOURS: [&str; 3] = ["#b8b8b8", "#4a90d9", "#2ca02c"];
const TIER_NAMES: [&str; 3] = ["the interpreter", "baseline code", "optimized code"];

/// A round step near `raw` (1, 2 or 5 times a power of ten).
/// `v` with `decimals` decimals, or fewer where that would be wider than `width`.
fn fixed(v: f64, decimals: usize, width: usize) -> String {
    (0..=decimals)
        .rev()
        .map(|d| format!("{v:.d$}"))
        .find(|s| s.len() <= width)
        .unwrap_or_else(|| format!("{v:.0}"))
}

/// A count in at most six characters (`12345`, `123.4k`, `12.3M`, `1.2G`).
fn count(n: u64) -> String {
    if n < 100_000 {
        return n.to_string();
    }
    let (v, unit) = [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")]
        .into_iter()
        .map(|(scale, unit)| (n as f64 / scale, unit))
        .find(|(v, _)| *v < 1000.0)
        .unwrap_or((n as f64 / 1e15, "P"));
    format!("{}{unit}", fixed(v, 1, 5))
}

fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.max(1e-6).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p)
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n - 1).collect::<String>() + "~"
    } else {
        s.to_string()
    }
}

/// `s` with the characters XML gives a meaning escaped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
