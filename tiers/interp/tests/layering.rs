//! The crate's modules form layers: no module imports one that imports it back, directly
//! or through others, and the data model (`regs`, `num`, `simd`, `isa`, `inst`, `func`,
//! `error`) imports nothing of the translator or the executor. Read from the sources: an
//! import is a `use` or a path through `crate::` or `super::` outside comments and
//! inline test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file of the crate with its module path (`""` for the crate root).
fn modules() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let join = |n: &str| {
                if prefix.is_empty() {
                    n.to_string()
                } else {
                    format!("{prefix}::{n}")
                }
            };
            if path.is_dir() {
                walk(&path, &join(&name), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "lib" | "mod" => prefix.to_string(),
                    _ => join(&name),
                };
                out.push((module, path));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut out,
    );
    out
}

/// The module `path` (segments after `crate`) names: its longest prefix that is a module.
fn resolve(path: &[&str], known: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| known.contains(m))
}

/// The parent of module `m`.
fn parent(m: &str) -> &str {
    m.rfind("::").map_or("", |i| &m[..i])
}

/// The modules each module imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let files = modules();
    let known: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut deps = BTreeSet::new();
        for line in text.lines() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break; // the inline test module, which imports its own module
            }
            let code = line.split("//").next().unwrap();
            let children: Vec<&str> = code
                .trim()
                .strip_prefix("use ")
                .or_else(|| code.trim().strip_prefix("pub(crate) use "))
                .or_else(|| code.trim().strip_prefix("pub use "))
                .into_iter()
                .collect();
            let mut paths: Vec<Vec<String>> = Vec::new();
            // `crate::a::b` and `super::a::{b, c}` anywhere in the code.
            for (start, _) in code
                .match_indices("crate::")
                .chain(code.match_indices("super::"))
            {
                if start > 0 && code.as_bytes()[start - 1] == b'$' {
                    continue; // `$crate::` in a macro names the crate, as `crate::` does
                }
                let rest = &code[start..];
                let (base, tail) = if let Some(t) = rest.strip_prefix("crate::") {
                    (String::new(), t)
                } else {
                    (parent(module).to_string(), &rest["super::".len()..])
                };
                let head: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut segs: Vec<String> = base
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                segs.extend(head.split("::").filter(|s| !s.is_empty()).map(String::from));
                let after = &tail[head.len()..];
                if let Some(group) = after.strip_prefix('{') {
                    for item in group.split('}').next().unwrap().split(',') {
                        let item = item.trim().split("::").next().unwrap().to_string();
                        let mut s = segs.clone();
                        s.push(item);
                        paths.push(s);
                    }
                } else {
                    paths.push(segs);
                }
            }
            // `use child::...` of a module declared in this file.
            for u in children {
                let first = u.split("::").next().unwrap();
                if first != "crate" && first != "super" && first != "self" {
                    let mut segs: Vec<String> = module
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                    segs.extend(
                        u.split("::")
                            .take_while(|s| !s.contains(['{', ';', '*']))
                            .map(String::from),
                    );
                    paths.push(segs);
                }
            }
            for segs in paths {
                let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
                if let Some(dep) = resolve(&segs, &known)
                    && &dep != module
                    && !dep.is_empty()
                {
                    deps.insert(dep);
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    // Depth-first search for a cycle, reporting it as a path.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let i = path.iter().position(|p| p == m).unwrap();
                let mut cycle = path[i..].to_vec();
                cycle.push(m.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut state, &mut Vec::new()) {
            panic!("a circle of imports: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_data_model_imports_neither_translator_nor_executor() {
    let graph = imports();
    let model = ["regs", "num", "simd", "isa", "inst", "func", "error"];
    for (m, deps) in &graph {
        let top = m.split("::").next().unwrap();
        if !model.contains(&top) {
            continue;
        }
        for d in deps {
            let dtop = d.split("::").next().unwrap();
            assert!(model.contains(&dtop), "{m} (data model) imports {d}");
        }
    }
    // The graph is not empty: the reader found the imports it checks.
    assert!(graph["translate"].contains("inst"), "{graph:#?}");
    assert!(graph["exec::ops"].contains("exec::dispatch"), "{graph:#?}");
}
