//! `check-config [<file>]`: every problem of the config `get` would use (or of `<file>`), one
//! line each, `<file>: entry N (<pattern>): <problem> (<what to do>)`; then the environment
//! keychain's problems as warnings. Exit 1 when there is an error; warnings alone exit 0.

use std::io::Write;

use crate::config::{self, Config, Origin};
use crate::kernel::cache::Cache;
use crate::kernel::env::{Env, vars};
use crate::kernel::files;
use crate::kernel::workspace;
use crate::registry::stores::env_keychain_check;

mod lint;

use lint::Severity;

/// Runs the command; returns the exit code.
pub fn run(env: &Env, file: Option<&String>, stdout: &mut dyn Write) -> i32 {
    let mut out = String::new();
    let errors = check_file(env, file, &mut out);
    let warnings = env_keychain_check::problems(env);
    for p in &warnings {
        out.push_str(&format!(
            "warning: environment: {}: {} ({})\n",
            p.variable, p.what, p.fix
        ));
    }
    if !warnings.is_empty() {
        out.push_str(&format!("{} environment warning(s)\n", warnings.len()));
    }
    out.push_str(&format!("{}\n", Cache::describe(env)));
    let _ = stdout.write_all(out.as_bytes());
    if errors > 0 { 1 } else { 0 }
}

/// Checks the config file, writing its report to `out`; returns the number of errors.
fn check_file(env: &Env, file: Option<&String>, out: &mut String) -> usize {
    // A file named on the command line is where the person typed it; the one `get` would use
    // is looked up from the workspace root, where Bazel runs `get`.
    let path = match file {
        Some(p) => Some(env.expand_path(p)),
        None => {
            let (at_root, note) = workspace::at_root(env.clone());
            if let Some(note) = note {
                out.push_str(&format!("{note}\n"));
            }
            Config::locate(&at_root)
        }
    };
    let Some(path) = path else {
        out.push_str(&format!(
            "no config file (./{} at the workspace root, or ${}): the built-in defaults are in use (`credential-helper defaults` prints them)\n",
            config::FILE_NAME,
            vars::CONFIG_FILE
        ));
        return 0;
    };
    let shown = path.display().to_string();
    let text = match files::read_text(&path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            out.push_str(&format!(
                "{shown}: cannot read: it does not exist (fix the path)\n"
            ));
            return 1;
        }
        Err(e) => {
            out.push_str(&format!("{e}\n"));
            return 1;
        }
    };
    let mut errors = Vec::new();
    let parsed = Config::parse(&text, Origin::File(path.clone()));
    if let Err(problems) = &parsed {
        errors.extend(problems.list.iter().cloned());
    }
    let mut warnings = Vec::new();
    if let Ok(doc) = serde_json::from_str(&text) {
        for found in lint::lint(&doc, cfg!(feature = "keyring")) {
            match found.severity {
                Severity::Error => errors.push(found.text),
                Severity::Warning => warnings.push(found.text),
            }
        }
    }
    // Entry by entry, the document's own problems first; the sort is stable.
    let entry_of = |p: &String| {
        p.strip_prefix("entry ")
            .and_then(|r| r.split([' ', ':']).next()?.parse::<usize>().ok())
    };
    errors.sort_by_key(entry_of);
    warnings.sort_by_key(entry_of);
    for e in &errors {
        out.push_str(&format!("{shown}: {e}\n"));
    }
    for w in &warnings {
        out.push_str(&format!("warning: {shown}: {w}\n"));
    }
    match &parsed {
        Ok(config) if errors.is_empty() => {
            let own = config.entries.iter().filter(|e| !e.builtin).count();
            out.push_str(&format!(
                "{shown}: ok ({own} entries)\n{}\n",
                config.describe()
            ));
        }
        _ => out.push_str(&format!("{} problem(s) found\n", errors.len())),
    }
    if !warnings.is_empty() {
        out.push_str(&format!("{} warning(s)\n", warnings.len()));
    }
    errors.len()
}
