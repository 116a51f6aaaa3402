//! The fields of a `tierup::tiering` event, as the layers that read them (the tier log,
//! the tier report) see them.

use std::fmt::Write as _;

use tierup_abi::Tier;
use tracing::field::{Field, Visit};

/// An event's fields, as text, and its message.
#[derive(Default)]
pub(super) struct Fields {
    pub message: String,
    /// (name, value, whether the value is a number).
    fields: Vec<(&'static str, String, bool)>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.as_str())
    }

    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("?")
    }

    /// The tier the event names (`tier`), if it is one of the chain's.
    pub fn tier(&self) -> Option<Tier> {
        let name = self.get("tier")?;
        [Tier::Interp, Tier::Baseline, Tier::Optimizing]
            .into_iter()
            .find(|t| t.name() == name)
    }

    pub fn num(&self, name: &str) -> u64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The fields named in `names` that the event has, as the members of a JSON object.
    pub fn args(&self, names: &[&str]) -> String {
        let mut out = String::new();
        for (name, value, number) in &self.fields {
            if !names.contains(name) {
                continue;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&json_str(name));
            out.push(':');
            if *number {
                out.push_str(value);
            } else {
                out.push_str(&json_str(value));
            }
        }
        out
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name(), text, false));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name(), value.to_string(), false));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), value.to_string(), true));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), value.to_string(), true));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), value.to_string(), true));
    }
}

/// `s` as a JSON string.
pub(super) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
