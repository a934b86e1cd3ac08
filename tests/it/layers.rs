//! The crate's shape, kept by a test: imports go only down the layers, no two files import
//! each other (directly or in a circle), and no production file grows past one sitting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first; a file may import only from its own layer or one listed before it.
const LAYERS: &[(&str, &[&str])] = &[
    ("kernel", &["kernel"]),
    ("lookup", &["lookup"]),
    ("cloud", &["cloud"]),
    ("registry", &["registry"]),
    ("helpers", &["helpers"]),
    (
        "top",
        &[
            "config",
            "plan",
            "registry_host",
            "cli",
            "check",
            "docker_credential",
            "launcher",
            "setup",
            "login",
            "lib",
            "main",
        ],
    ),
];

/// Longest production file, in lines (tests included: they live beside the code).
const MAX_LINES: usize = 450;

struct File {
    /// Module path, e.g. `["registry", "stores", "docker_config"]`.
    module: Vec<String>,
    /// The code before its `#[cfg(test)] mod tests`, if any.
    code: String,
    lines: usize,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files() -> BTreeMap<String, File> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src()).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_string(),
                None => text.clone(),
            };
            let key = path
                .strip_prefix(src())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(
                key,
                File {
                    module,
                    code,
                    lines: text.lines().count(),
                },
            );
        }
    }
    out
}

fn layer_of(module: &[String]) -> usize {
    let first = module.first().map(String::as_str).unwrap_or("lib");
    LAYERS
        .iter()
        .position(|(_, tops)| tops.contains(&first))
        .unwrap_or_else(|| panic!("module {first} is in no layer: add it to LAYERS"))
}

/// Every module path a file names: `crate::a::b`, `super::x`, `self::y`, and the paths inside
/// `use a::{b, c::{d}}` groups, as absolute module paths.
fn imports(file: &File) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code = &file.code;
    let bytes = code.as_bytes();
    // A parent naming a child module it declares (`mod sts;` ... `sts::fetch`).
    for line in code.lines() {
        let decl = line
            .trim()
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ");
        if let Some(child) = decl.strip_prefix("mod ").and_then(|m| m.strip_suffix(';')) {
            let needle = format!("{child}::");
            let used = code.match_indices(&needle).any(|(at, _)| {
                at == 0
                    || !(bytes[at - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[at - 1]))
            });
            if used {
                let mut m = file.module.clone();
                m.push(child.to_string());
                out.push(m);
            }
        }
    }
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let base: Vec<String> = match start {
                "crate::" => Vec::new(),
                "self::" => file.module.clone(),
                _ => {
                    let mut m = file.module.clone();
                    m.pop();
                    m
                }
            };
            for path in expand(&code[from..]) {
                let mut full = base.clone();
                full.extend(path);
                out.push(full);
            }
        }
    }
    out
}

/// The paths of `a::b::{c, d::e}` (what follows a `crate::`), segment lists.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let ident: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut items = Vec::new();
            let mut current = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(std::mem::take(&mut current));
                        continue;
                    }
                    _ => {}
                }
                current.push(c);
            }
            items.push(current);
            return items
                .iter()
                .map(|i| i.trim())
                .filter(|i| !i.is_empty())
                .flat_map(expand)
                .collect();
        }
        return vec![Vec::new()];
    }
    let after = &rest[ident.len()..];
    if ident == "self" {
        return vec![Vec::new()];
    }
    match after.strip_prefix("::") {
        Some(more) => expand(more)
            .into_iter()
            .map(|mut p| {
                p.insert(0, ident.clone());
                p
            })
            .collect(),
        None => vec![vec![ident]],
    }
}

/// The file a module path lands in: its longest prefix that is a file of the crate.
fn resolve<'a>(path: &[String], by_module: &'a BTreeMap<Vec<String>, String>) -> Option<&'a str> {
    (1..=path.len())
        .rev()
        .find_map(|n| by_module.get(&path[..n]).map(String::as_str))
}

fn graph() -> (BTreeMap<String, File>, BTreeMap<String, BTreeSet<String>>) {
    let files = files();
    let by_module: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|(_, f)| !f.module.is_empty())
        .map(|(k, f)| (f.module.clone(), k.clone()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in &files {
        let set = edges.entry(name.clone()).or_default();
        for path in imports(file) {
            if let Some(to) = resolve(&path, &by_module)
                && to != name
            {
                set.insert(to.to_string());
            }
        }
    }
    (files, edges)
}

#[test]
fn imports_only_go_down_the_layers() {
    let (files, edges) = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        let own = layer_of(&files[from].module);
        for to in tos {
            let theirs = layer_of(&files[to].module);
            if theirs > own {
                wrong.push(format!(
                    "{from} ({}) imports {to} ({})",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports up a layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_is_part_of_an_import_circle() {
    let (_, edges) = graph();
    // Tarjan's strongly connected components: any component of two or more files is a circle.
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        circles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.edges[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.circles.push(component);
            }
        }
    }
    let mut state = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    let shown: Vec<String> = state.circles.iter().map(|c| c.join(" <-> ")).collect();
    assert!(shown.is_empty(), "import circles:\n{}", shown.join("\n"));
}

#[test]
fn production_files_fit_in_one_sitting() {
    let long: Vec<String> = files()
        .iter()
        .filter(|(_, f)| f.lines > MAX_LINES)
        .map(|(name, f)| format!("{name}: {} lines", f.lines))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split by concern):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_layer_test_sees_imports() {
    // A guard against a checker that cannot fail: it must see this crate's known edges.
    let (_, edges) = graph();
    assert!(edges["helpers/oci.rs"].contains("registry/token.rs"));
    assert!(edges["kernel/context.rs"].contains("kernel/cache.rs"));
    let group = expand("a::{b, c::{d, e}}");
    assert_eq!(
        group,
        [vec!["a", "b"], vec!["a", "c", "d"], vec!["a", "c", "e"]]
    );
}
