//! The documentation, kept true by tests: the environment reference (docs/environment.md) is
//! generated from the documented constants of `src/kernel/env/vars.rs`'s `pub mod vars`, and every
//! `CREDENTIAL_HELPER_*` variable the docs mention is one the code knows.
//!
//! Regenerate with `CREDENTIAL_HELPER_BLESS=1 cargo test --test it docs`.

use std::path::{Path, PathBuf};

/// A test knob, not a user setting (the helper never reads it): set to `1`, the generator test
/// rewrites docs/environment.md instead of failing when it is out of date.
const BLESS: &str = "CREDENTIAL_HELPER_BLESS";

/// Variables the docs may name that are not the binary's: knobs of this test suite.
const TEST_KNOBS: &[&str] = &[
    BLESS,
    "CREDENTIAL_HELPER_TEST_BINARY",
    "CREDENTIAL_HELPER_TEST_TOOLS_PATH",
    // Read by build.rs for `--version` when there is no git checkout, not by the binary.
    "CREDENTIAL_HELPER_BUILD_COMMIT",
    // Read by build.rs in the release workflow: the default download location of `launcher`.
    "CREDENTIAL_HELPER_RELEASE_REPOSITORY",
];
/// tweag/credential-helper's variables, which its migration page names to say they are not
/// read here; anywhere else they would be stale docs.
const TWEAG_ONLY: (&str, &[&str]) = (
    "docs/migrating-from-tweag.md",
    &[
        "CREDENTIAL_HELPER_AGENT_PID",
        "CREDENTIAL_HELPER_AGENT_SOCKET",
        "CREDENTIAL_HELPER_BIN",
        "CREDENTIAL_HELPER_IDLE_TIMEOUT",
        "CREDENTIAL_HELPER_LOGGING",
        "CREDENTIAL_HELPER_PRUNE_INTERVAL",
        "CREDENTIAL_HELPER_STANDALONE",
        "CREDENTIAL_HELPER_WORKDIR",
        "CREDENTIAL_HELPER_WORKSPACE_DIRECTORY",
    ],
);

const BEGIN: &str =
    "<!-- BEGIN GENERATED from src/kernel/env/vars.rs by tests/it/docs.rs: do not edit by hand -->";
const END: &str = "<!-- END GENERATED -->";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One documented group: the constants (their values) that share one doc comment.
#[derive(Debug, PartialEq)]
struct Group {
    names: Vec<String>,
    doc: String,
}

/// The groups of `pub mod vars`, in source order. A `///` comment documents the constants that
/// follow it up to a blank line or the next comment; a constant without one is an error.
fn parse_vars(source: &str) -> Result<Vec<Group>, String> {
    // The whole file is the module; skip its `//!` header.
    let start = source
        .lines()
        .position(|l| !l.starts_with("//!") && !l.trim().is_empty())
        .ok_or("src/kernel/env/vars.rs is empty")?
        .saturating_sub(1);
    let mut groups: Vec<Group> = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    // Whether the last item was a constant, so an undocumented one joins its group.
    let mut in_group = false;
    let mut lines = source.lines().skip(start + 1);
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line == "}" {
            break;
        }
        if let Some(text) = line.strip_prefix("///") {
            if in_group {
                doc.clear();
                in_group = false;
            }
            doc.push(text.trim().to_string());
        } else if line.is_empty() {
            in_group = false;
        } else if line.starts_with("pub const ") {
            let mut decl = line.to_string();
            while !decl.ends_with(';') {
                let next = lines.next().ok_or("a `pub const` without its `;`")?;
                decl.push(' ');
                decl.push_str(next.trim());
            }
            let name = decl["pub const ".len()..]
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            let value = decl
                .split('"')
                .nth(1)
                .ok_or_else(|| format!("{name}: expected `pub const {name}: &str = \"...\";`"))?
                .to_string();
            if in_group {
                groups.last_mut().unwrap().names.push(value);
            } else if doc.is_empty() {
                return Err(format!(
                    "vars::{name} has no doc comment: say what the variable does (it is the user's documentation)"
                ));
            } else {
                groups.push(Group {
                    names: vec![value],
                    doc: doc.join(" "),
                });
                doc.clear();
                in_group = true;
            }
        }
        // `//` comments and attributes (`#[allow(dead_code)]`) are neither docs nor constants.
    }
    Ok(groups)
}

/// The Markdown table of every variable, one row per documented group.
fn render(groups: &[Group]) -> String {
    let mut out = String::from("| variable | meaning |\n|---|---|\n");
    for group in groups {
        let names: Vec<String> = group
            .names
            .iter()
            .map(|n| {
                // A prefix (the environment keychain's) stands for a family of names.
                let shown = if n.ends_with('_') {
                    format!("{n}*")
                } else {
                    n.clone()
                };
                format!("`{shown}`")
            })
            .collect();
        let doc = group.doc.replace('|', "\\|");
        out.push_str(&format!("| {} | {doc} |\n", names.join(", ")));
    }
    out
}

fn env_rs() -> String {
    std::fs::read_to_string(root().join("src/kernel/env/vars.rs")).unwrap()
}

/// `text` with the generated section replaced by `table`.
fn regenerate(text: &str, table: &str) -> Result<String, String> {
    let (before, rest) = text
        .split_once(BEGIN)
        .ok_or_else(|| format!("docs/environment.md lacks the marker line {BEGIN}"))?;
    let (_, after) = rest
        .split_once(END)
        .ok_or_else(|| format!("docs/environment.md lacks the marker line {END}"))?;
    Ok(format!("{before}{BEGIN}\n{table}{END}{after}"))
}

#[test]
fn environment_reference_is_generated_from_env_rs() {
    let groups = parse_vars(&env_rs()).unwrap_or_else(|e| panic!("src/kernel/env/vars.rs: {e}"));
    let path = root().join("docs/environment.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let want = regenerate(&text, &render(&groups)).unwrap_or_else(|e| panic!("{e}"));
    if want == text {
        return;
    }
    if std::env::var(BLESS).as_deref() == Ok("1") {
        std::fs::write(&path, want).unwrap();
        return;
    }
    panic!(
        "docs/environment.md is out of date: run `CREDENTIAL_HELPER_BLESS=1 cargo test --test it docs` to regenerate"
    );
}

#[test]
fn the_parser_reads_groups_and_refuses_undocumented_constants() {
    let source = r#"
pub mod vars {
    /// One.
    pub const A: &str = "A";

    /// Two of them,
    /// on two lines.
    pub const B: &str =
        "B";
    // A plain comment.
    #[allow(dead_code)]
    pub const C: &str = "C_";
}
"#;
    let groups = parse_vars(source).unwrap();
    assert_eq!(
        groups,
        [
            Group {
                names: vec!["A".into()],
                doc: "One.".into()
            },
            Group {
                names: vec!["B".into(), "C_".into()],
                doc: "Two of them, on two lines.".into()
            },
        ]
    );
    assert!(render(&groups).contains("| `B`, `C_*` | Two of them, on two lines. |"));
    let undocumented = "pub mod vars {\n    /// A.\n    pub const A: &str = \"A\";\n\n    pub const B: &str = \"B\";\n}\n";
    let err = parse_vars(undocumented).unwrap_err();
    assert!(err.contains("vars::B has no doc comment"), "{err}");
}

fn markdown_files() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut stack = vec![root().join("docs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every `CREDENTIAL_HELPER_[A-Z0-9_]+` in `text`.
fn mentioned(text: &str) -> Vec<&str> {
    const PREFIX: &str = "CREDENTIAL_HELPER_";
    text.match_indices(PREFIX)
        .map(|(at, _)| {
            let len = text[at + PREFIX.len()..]
                .bytes()
                .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
                .count();
            &text[at..at + PREFIX.len() + len]
        })
        .collect()
}

#[test]
fn docs_name_only_variables_the_code_reads() {
    let groups = parse_vars(&env_rs()).unwrap();
    let known: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.names.iter().map(String::as_str))
        .collect();
    let is_known = |name: &str| {
        TEST_KNOBS.contains(&name)
            || known
                .iter()
                .any(|k| *k == name || (k.ends_with('_') && name.starts_with(k)))
    };
    let mut stale = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        for name in mentioned(&text) {
            let tweags = shown == TWEAG_ONLY.0 && TWEAG_ONLY.1.contains(&name);
            if !is_known(name) && !tweags {
                stale.push(format!("{shown}: {name}"));
            }
        }
    }
    stale.sort();
    stale.dedup();
    assert!(
        stale.is_empty(),
        "the docs name variables that are not constants in src/kernel/env/vars.rs `vars` (renamed or removed?):\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn ci_runs_the_readmes_quick_start_and_test_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    // .ci/run checks the quick start's answer: the command it runs is the README's, verbatim.
    let quick_start = ci
        .lines()
        .find_map(|l| l.strip_prefix("answer=$(")?.strip_suffix(')'))
        .expect(".ci/run checks the quick start's answer with answer=$(...)");
    assert!(
        readme.contains(&format!("```sh\n{quick_start}\n```")),
        "the README's quick start is not the command .ci/run checks: {quick_start}"
    );
    assert!(
        readme.contains("```sh\ncargo test\n```"),
        "the README's test command"
    );
    assert!(
        ci.lines().any(|l| l == "cargo test --locked"),
        ".ci/run runs it"
    );
}

/// Pages other branches of this round deliver; a link to one is checked once it exists.
/// Empty this list once they are all merged.
const ARRIVING: &[&str] = &[
    "docs/docker-credential-helper.md",
    "docs/login.md",
    "docs/migrating-from-tweag.md",
    "docs/setup.md",
    "docs/tls-and-dns.md",
];

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn relative_links_in_the_docs_resolve() {
    let mut broken = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = path.strip_prefix(root()).unwrap().display().to_string();
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let Some(link) = rest
                .split(')')
                .next()
                .filter(|l| !l.contains(char::is_whitespace))
            else {
                continue;
            };
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap().join(file)
            };
            let Ok(target) = target.canonicalize() else {
                let relative = path.parent().unwrap().join(file);
                let arriving = ARRIVING
                    .iter()
                    .any(|a| root().join(a) == normalize(&relative));
                if !arriving {
                    broken.push(format!("{shown}: {link} (no such file)"));
                }
                continue;
            };
            if !anchor.is_empty() && target.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&target).unwrap();
                if !anchors(&text).iter().any(|a| a == anchor) {
                    broken.push(format!("{shown}: {link} (no such heading)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken links:\n  {}",
        broken.join("\n  ")
    );
}

/// `a/b/../c` as `a/c`, for a path that does not exist (so cannot be canonicalized).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
