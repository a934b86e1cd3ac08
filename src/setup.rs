//! `credential-helper setup [--dry-run]`: the `.bazelrc` lines for this workspace, and a
//! starter config for the registries found on this machine ([`detect`]) that the built-in
//! defaults do not route. It never overwrites a config, never adds a `.bazelrc` line twice,
//! and copies no credential anywhere: entries name hosts and helpers, the secrets stay where
//! they are. The CLI then explains one URL per registry found.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{Config, FILE_NAME, TWEAG_FILE_NAME};
use crate::helpers::HelperConfig;
use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};
use crate::kernel::transport::{host_of, is_loopback_host};
use crate::kernel::{files, workspace};

mod bazelrc;
mod detect;

pub const USAGE: &str = "  credential-helper setup [--dry-run]
                                   write the .bazelrc lines and a starter config for this
                                   workspace (--dry-run: print them instead)
";

#[derive(Debug, Default)]
pub struct Options {
    pub dry_run: bool,
}

pub fn parse(args: &[String]) -> std::result::Result<Options, String> {
    let mut options = Options::default();
    for arg in args {
        match arg.as_str() {
            "--dry-run" | "-n" => options.dry_run = true,
            other => return Err(format!("`setup` takes only --dry-run, got {other:?}")),
        }
    }
    Ok(options)
}

/// What the CLI does next: explain `explain` (URLs), seen from the workspace root (`env`).
pub struct Done {
    pub env: Env,
    pub explain: Vec<String>,
}

pub fn run(env: &Env, options: &Options, out: &mut dyn Write) -> Result<Done> {
    let root = workspace::root(env).ok_or_else(|| {
        Error::new(format!(
            "no Bazel workspace at or above {}",
            env.cwd().display()
        ))
        .hint("run `credential-helper setup` in your workspace: the directory with MODULE.bazel or WORKSPACE, or below it")
    })?;
    let env = env.with_cwd(root.clone());
    let mut report = Vec::new();
    report.push(format!("workspace {}", root.display()));
    let mut changed = Vec::new();
    setup_bazelrc(&root, options, &mut report, &mut changed)?;
    let found = detect::detect(&env);
    report_found(&found, &mut report);
    let registries: Vec<(String, bool)> = found
        .found
        .iter()
        .flat_map(|f| {
            f.registries
                .iter()
                .map(|r| (r.clone(), f.routed_without_entry))
        })
        .collect();
    setup_config(&env, &root, options, &registries, &mut report, &mut changed)?;
    let mut explain: Vec<String> = registries
        .iter()
        .filter_map(|(r, _)| probe_url(r))
        .collect();
    explain.sort();
    explain.dedup();
    report.push(match (options.dry_run, changed.is_empty()) {
        (true, _) if !explain.is_empty() => {
            "dry run: nothing written; the explanations below use the config in force now".into()
        }
        (true, _) => "dry run: nothing written".to_string(),
        (false, true) => "nothing changed: this workspace is set up already".to_string(),
        (false, false) => format!("changed: {}", changed.join(", ")),
    });
    let mut text = report.join("\n");
    text.push('\n');
    out.write_all(text.as_bytes())
        .map_err(|e| Error::new(format!("cannot write the report: {e}")))?;
    Ok(Done { env, explain })
}

fn setup_bazelrc(
    root: &Path,
    options: &Options,
    report: &mut Vec<String>,
    changed: &mut Vec<&'static str>,
) -> Result<()> {
    let path = root.join(".bazelrc");
    let existing = files::read_text(&path)?.unwrap_or_default();
    let merge = bazelrc::merge(&existing);
    if merge.missing.is_empty() {
        report.push(".bazelrc: has the credential-helper lines already, unchanged".into());
    } else {
        let verb = if options.dry_run {
            "would add"
        } else {
            let text = bazelrc::appended(&existing, &merge.missing);
            write_file(&path, &text, false)?;
            changed.push(".bazelrc");
            "added"
        };
        report.push(format!(".bazelrc: {verb} {} lines:", merge.missing.len()));
        report.extend(merge.missing.iter().map(|l| format!("  {l}")));
    }
    for line in &merge.other_helpers {
        report.push(format!(
            "note: .bazelrc also has `{line}`: for the hosts it names Bazel asks that helper instead (point it at {} or remove it)",
            bazelrc::LAUNCHER
        ));
    }
    let launcher = root.join(bazelrc::LAUNCHER);
    // A binary or an unreadable file is not tweag's shell stub.
    let text = files::read_text(&launcher).ok().flatten();
    if text.is_some_and(|t| t.contains("tweag-credential-helper")) {
        report.push(format!(
            "note: {} is tweag/credential-helper's stub: replace it with this project's launcher (docs/migrating-from-tweag.md)",
            bazelrc::LAUNCHER
        ));
    }
    if !launcher.is_file() {
        report.push(format!(
            "note: {launcher} is not there yet: check in the launcher (`credential-helper launcher --version <version> --checksums SHA256SUMS > {launcher}`), and on Windows put the release's .exe at {launcher}.exe",
            launcher = bazelrc::LAUNCHER
        ));
    }
    Ok(())
}

fn report_found(found: &detect::Detected, report: &mut Vec<String>) {
    if found.found.is_empty() {
        report.push("found: no credentials for the helper on this machine (log in first: `docker login`, `gh auth login`, `gcloud auth application-default login`, `aws configure`)".into());
    }
    for f in &found.found {
        let mut line = format!("found: {}", f.what);
        if !f.registries.is_empty() {
            line.push_str(&format!(": registries {}", f.registries.join(", ")));
        }
        if let Some(note) = &f.note {
            line.push_str(&format!(" ({note})"));
        }
        report.push(line);
    }
    for p in &found.problems {
        report.push(format!("problem: {p}"));
    }
}

/// The config: written when there is none and the registries found need entries.
fn setup_config(
    env: &Env,
    root: &Path,
    options: &Options,
    registries: &[(String, bool)],
    report: &mut Vec<String>,
    changed: &mut Vec<&'static str>,
) -> Result<()> {
    if let Some(path) = Config::locate(env) {
        if path.file_name().is_some_and(|n| n == TWEAG_FILE_NAME) {
            report.push(format!(
                "note: {} is tweag/credential-helper's file, read while ./{FILE_NAME} is absent: rename it to keep it",
                path.display()
            ));
        }
        let config = match Config::load_file(&path) {
            Ok(c) => c,
            Err(e) => {
                report.push(format!("config {}: left as it is: {e}", path.display()));
                return Ok(());
            }
        };
        let missing = unrouted(&config, registries);
        if missing.is_empty() {
            report.push(format!(
                "config {}: routes every registry found, left as it is",
                path.display()
            ));
        } else {
            report.push(format!(
                "config {}: left as it is; to route {} too, add to its \"urls\":",
                path.display(),
                missing.join(", ")
            ));
            report.extend(missing.iter().map(|h| format!("  {},", entry(h))));
        }
        return Ok(());
    }
    let defaults = Config::defaults()?;
    let needed = unrouted(&defaults, registries);
    if needed.is_empty() {
        report.push(format!(
            "config: none needed, the built-in defaults route everything found (no ./{FILE_NAME} written; `credential-helper defaults` prints them)"
        ));
        return Ok(());
    }
    let text = starter(&needed);
    let path = root.join(FILE_NAME);
    if options.dry_run {
        report.push(format!("config: would write {}:", path.display()));
        report.extend(text.lines().map(|l| format!("  {l}")));
    } else {
        write_file(&path, &text, true)?;
        changed.push(FILE_NAME);
        report.push(format!(
            "config: wrote {} ({} entries, then the built-in defaults)",
            path.display(),
            needed.len()
        ));
    }
    Ok(())
}

/// The registries `config` sends to no oci entry, sorted, each once. Those the environment
/// keychain answers need none while the built-in defaults are in force.
fn unrouted(config: &Config, registries: &[(String, bool)]) -> Vec<String> {
    let mut out: Vec<String> = registries
        .iter()
        .filter(|(_, keychain)| !(*keychain && config.builtin_in_force()))
        .filter_map(|(host, _)| {
            let url = url::Url::parse(&probe_url(host)?).ok()?;
            let routed = config
                .find(&url, url.path())
                .is_some_and(|e| matches!(e.helper, HelperConfig::Oci(_)));
            (!routed).then(|| host.clone())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A manifest URL on the registry (plain http for a loopback one, as docker allows); `None`
/// for a pattern.
fn probe_url(registry: &str) -> Option<String> {
    let host = registry.split('/').next().unwrap_or(registry);
    if host.is_empty() || host.contains('*') {
        return None;
    }
    let scheme = if is_loopback_host(host_of(host)) {
        "http"
    } else {
        "https"
    };
    Some(format!(
        "{scheme}://{host}/v2/library/hello-world/manifests/latest"
    ))
}

fn entry(host: &str) -> String {
    format!(
        "{{\"host\": {}, \"helper\": \"oci\"}}",
        serde_json::Value::from(host)
    )
}

/// A config with one oci entry per registry, keeping the built-in defaults after them.
fn starter(hosts: &[String]) -> String {
    let entries: Vec<String> = hosts.iter().map(|h| format!("    {}", entry(h))).collect();
    format!(
        "{{\n  \"defaults\": \"extend\",\n  \"urls\": [\n{}\n  ]\n}}\n",
        entries.join(",\n")
    )
}

fn write_file(path: &PathBuf, text: &str, create_new: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            Error::new(format!("cannot write {}: {}", path.display(), e.kind()))
                .hint("check the workspace is writable, or use --dry-run and copy the lines")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    #[test]
    fn starter_config_parses_and_routes_each_host() {
        let hosts = ["registry.corp.example".to_string(), "127.0.0.1:5000".into()];
        let text = starter(&hosts);
        let config = Config::parse(&text, Origin::File("c.json".into())).unwrap();
        let pairs: Vec<_> = hosts.iter().map(|h| (h.clone(), false)).collect();
        assert!(unrouted(&config, &pairs).is_empty(), "{text}");
        let defaults = Config::defaults().unwrap();
        let found = [
            ("ghcr.io".to_string(), false),
            ("index.docker.io".into(), false),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com".into(), false),
            ("registry.corp.example".into(), false),
            ("imgpkg.corp.example".into(), true),
        ];
        assert_eq!(unrouted(&defaults, &found), ["registry.corp.example"]);
    }

    #[test]
    fn probe_urls() {
        let table = [
            (
                "quay.io",
                Some("https://quay.io/v2/library/hello-world/manifests/latest"),
            ),
            (
                "localhost:5000",
                Some("http://localhost:5000/v2/library/hello-world/manifests/latest"),
            ),
            (
                "127.0.0.1:1/team",
                Some("http://127.0.0.1:1/v2/library/hello-world/manifests/latest"),
            ),
            ("*.corp.example", None),
        ];
        for (registry, want) in table {
            assert_eq!(probe_url(registry).as_deref(), want, "{registry}");
        }
    }
}
