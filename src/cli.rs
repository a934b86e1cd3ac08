//! The command line: parse arguments, run a command, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 an error (one line on stderr, nothing on stdout), 2 a usage error.

use std::io::{Read, Write};

use crate::config::Config;
use crate::docker_credential;
use crate::helpers;
use crate::kernel::cache::Cache;
use crate::kernel::context::Context;
use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::protocol::{Request, Response};
use crate::kernel::trace::Trace;
use crate::launcher;
use crate::login;
use crate::note;
use crate::plan::{self, Action};
use crate::registry_host::{self, Named};
use crate::setup;

const USAGE: &str = "\
credential-helper: a Bazel credential helper for container registries, remote caches and
artifact servers.

Usage:
  credential-helper get            read {\"uri\": \"...\"} on stdin, print the headers as JSON
  credential-helper explain <url>  show how `get` would answer a URL, secrets redacted
  credential-helper check-config [<file>]
                                   validate a config file, listing every problem
  credential-helper defaults       print the built-in defaults (JSON, a config of their own)
  credential-helper cache-clear    remove the token cache's files
  credential-helper docker-credential <get|store|erase|list|version>
                                   docker's credential-helper protocol (also when this
                                   program is installed as docker-credential-<name>)
  credential-helper login <host> [--username <u>] [--password-stdin] [--store keychain|file]
                                   save a secret for a host (prompted for, or read from stdin)
  credential-helper logout <host>  remove what `login` saved for a host
";

const USAGE_END: &str = "  credential-helper --help         show this help
  credential-helper --version      show the version

Set it up in .bazelrc:
  common --credential_helper=%workspace%/tools/credential-helper

Configuration: ./.credential-helper.json (or $CREDENTIAL_HELPER_CONFIG_FILE); without one,
built-in defaults cover well-known hosts. A config file replaces them unless it says
\"defaults\": \"extend\" (its own entries are then matched first). CREDENTIAL_HELPER_LOG=debug explains every decision
on stderr, with secrets redacted.
";

/// Runs the program; returns the exit code.
pub fn main(
    args: &[String],
    env: Env,
    stdin: impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    // The call's clock starts with the process, before stdin is read.
    let deadline = Deadline::start();
    let argv0 = args.first().map_or("", String::as_str);
    if let Some(name) = docker_credential::invoked_as(argv0, env.platform()) {
        let verbs = args.get(1..).unwrap_or_default();
        return docker_credential::main(&name, verbs, env, deadline, stdin, stdout);
    }
    let command = args.get(1).map(String::as_str);
    let rest = args.get(2..).unwrap_or_default();
    match command {
        None => {
            let _ = write!(
                stderr,
                "{USAGE}{}{}{USAGE_END}",
                setup::USAGE,
                launcher::USAGE
            );
            2
        }
        Some("-h" | "--help" | "help") => {
            let _ = write!(
                stdout,
                "{USAGE}{}{}{USAGE_END}",
                setup::USAGE,
                launcher::USAGE
            );
            0
        }
        Some("-V" | "--version" | "version") => {
            let _ = write!(stdout, "{}", version());
            0
        }
        Some("get") => {
            if let Some(extra) = rest.first() {
                return usage_error(stderr, &format!("`get` takes no arguments, got {extra:?}"));
            }
            let trace = Trace::from_log_setting(env.var(vars::LOG), stderr);
            let ctx = Context::within(env, trace, deadline);
            match get(&ctx, stdin) {
                Ok(response) => {
                    for line in response.redacted_lines() {
                        note!(ctx.trace, "answer header {line}");
                    }
                    // One write of the whole answer: never a half-written object.
                    let mut line = response.to_json();
                    line.push('\n');
                    if stdout
                        .write_all(line.as_bytes())
                        .and_then(|_| stdout.flush())
                        .is_err()
                    {
                        return 1;
                    }
                    0
                }
                Err(e) => report(stderr, &e),
            }
        }
        Some("explain") => match rest {
            [uri] => explain(env, deadline, uri, stdout),
            _ => usage_error(stderr, "`explain` takes one URL"),
        },
        Some("check-config") => match rest {
            [] => crate::check::run(&env, None, stdout),
            [path] => crate::check::run(&env, Some(path), stdout),
            _ => usage_error(stderr, "`check-config` takes at most one file"),
        },
        Some("defaults") => {
            if let Some(extra) = rest.first() {
                return usage_error(
                    stderr,
                    &format!("`defaults` takes no arguments, got {extra:?}"),
                );
            }
            let _ = write!(stdout, "{}", crate::config::DEFAULTS);
            0
        }
        Some("cache-clear") => {
            if let Some(extra) = rest.first() {
                return usage_error(
                    stderr,
                    &format!("`cache-clear` takes no arguments, got {extra:?}"),
                );
            }
            let Some(dir) = Cache::dir(&env) else {
                return report(stderr, &Error::new("no cache directory (HOME is not set)"));
            };
            match Cache::clear(&dir) {
                Ok(n) => {
                    let _ = writeln!(stdout, "removed {n} cache files from {}", dir.display());
                    0
                }
                Err(e) => report(stderr, &e),
            }
        }
        Some(docker_credential::SUBCOMMAND) => {
            let name = format!("credential-helper {}", docker_credential::SUBCOMMAND);
            docker_credential::main(&name, rest, env, deadline, stdin, stdout)
        }
        Some("setup") => match setup::parse(rest) {
            Err(usage) => usage_error(stderr, &usage),
            Ok(options) => match setup::run(&env, &options, stdout) {
                Err(e) => report(stderr, &e),
                Ok(done) => {
                    // Each URL with its own deadline, as Bazel would run `get` for it.
                    for uri in &done.explain {
                        let _ = writeln!(stdout);
                        explain(done.env.clone(), Deadline::start(), uri, stdout);
                    }
                    0
                }
            },
        },
        Some("login") => match login::parse_login(rest) {
            Err(usage) => usage_error(stderr, &usage),
            Ok(request) => match login::login(&env, &request, stdin) {
                Ok(line) => done(stderr, &line),
                Err(e) => report(stderr, &e),
            },
        },
        Some("logout") => match rest {
            [host] => match login::logout(&env, deadline, host) {
                Ok(line) => done(stderr, &line),
                Err(e) => report(stderr, &e),
            },
            _ => usage_error(stderr, "`logout` takes one host"),
        },
        Some("launcher") => match launcher::parse(rest) {
            Err(usage) => usage_error(stderr, &usage),
            Ok(request) => match launcher::render(&env, &request) {
                Ok(text) => match stdout.write_all(text.as_bytes()) {
                    Ok(()) => 0,
                    Err(_) => 1,
                },
                Err(e) => report(stderr, &e),
            },
        },
        Some(other) => usage_error(stderr, &format!("unknown command {other:?}")),
    }
}

/// What was built: version, commit, cargo features, link mode and target (from build.rs).
fn version() -> String {
    let features = match env!("CREDENTIAL_HELPER_FEATURES") {
        "" => "none",
        list => list,
    };
    format!(
        "credential-helper {}\ncommit: {}\nfeatures: {features}\nlink: {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        env!("CREDENTIAL_HELPER_COMMIT"),
        env!("CREDENTIAL_HELPER_LINK"),
        env!("CREDENTIAL_HELPER_TARGET"),
    )
}

fn usage_error(stderr: &mut dyn Write, what: &str) -> i32 {
    let _ = writeln!(
        stderr,
        "credential-helper: {what} (run `credential-helper --help` for usage)"
    );
    2
}

/// A command's one line of success on stderr (stdout stays for answers).
fn done(stderr: &mut dyn Write, line: &str) -> i32 {
    let _ = writeln!(stderr, "credential-helper: {line}");
    0
}

fn report(stderr: &mut dyn Write, e: &Error) -> i32 {
    let _ = writeln!(stderr, "credential-helper: {e}");
    1
}

/// `get`: the request on stdin, the answer returned.
pub fn get(ctx: &Context, stdin: impl Read) -> Result<Response> {
    answer_request(ctx, &Request::read_from(stdin)?)
}

/// A request's answer: for a URL, or for a registry named by its host alone.
fn answer_request(ctx: &Context, request: &Request) -> Result<Response> {
    // rules_img asks about a registry by its host alone, for its pushes.
    if let Some(named) = Named::bare(&request.uri) {
        note!(ctx.trace, "request for the registry {}", named.authority);
        let config = Config::load(&ctx.env)?;
        note!(ctx.trace, "config: {}", config.describe());
        return registry_host::bazel_answer(ctx, &config, &named);
    }
    let url = request.url()?;
    note!(
        ctx.trace,
        "request for {}",
        crate::kernel::http::redact_url(&url)
    );
    answer(ctx, &url, request.raw_path())
}

/// Loads the config, plans, and runs the helper for one URL; `raw_path` is its path as sent.
pub fn answer(ctx: &Context, url: &url::Url, raw_path: &str) -> Result<Response> {
    let config = Config::load(&ctx.env)?;
    note!(ctx.trace, "config: {}", config.describe());
    let guessed = helpers::oci::Config::default();
    // Read only for a URL no entry matches.
    let logins = |host: &str| plan::has_login(&ctx.env, host);
    let plan = plan::plan(url, raw_path, &config, &guessed, &ctx.env, &logins)?;
    match plan.entry {
        Some(entry) => note!(ctx.trace, "matched {}", entry.describe()),
        None => note!(ctx.trace, "no entry matched"),
    }
    let result = match plan.action {
        Action::NoHeaders(why) => {
            note!(ctx.trace, "no headers: {why}");
            Ok(Response::empty())
        }
        Action::Run(helper) => helpers::run(ctx, helper, url),
        Action::Oci(p) => helpers::oci::run(ctx, &p),
        Action::Login(host) => helpers::login::run(ctx, &host),
    };
    note!(
        ctx.trace,
        "network: {} request(s); HTTP client {}",
        ctx.http.requests_sent(),
        match (ctx.http.client_built(), ctx.http.tls_roots_loaded()) {
            (false, _) => "not built (no TLS roots loaded)",
            (true, false) => "built for plain http only (no TLS roots loaded)",
            (true, true) => "built, TLS roots loaded",
        }
    );
    result
}

/// `explain <url>`: runs what `get` would, recording every decision, and prints them for a
/// person with secrets redacted. Exit 0 exactly when `get` would succeed.
fn explain(env: Env, deadline: Deadline, uri: &str, stdout: &mut dyn Write) -> i32 {
    let (env, root) = crate::kernel::workspace::at_root(env);
    let ctx = Context::within(env, Trace::recording(), deadline);
    let request = Request {
        uri: uri.to_string(),
    };
    let result = answer_request(&ctx, &request);
    let mut out = format!("explain {uri}\n");
    if let Some(root) = root {
        out.push_str(&format!("  {root}\n"));
    }
    for line in ctx.trace.take() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&format!("{}\n", Cache::describe(&ctx.env)));
    let code = match result {
        Ok(response) => {
            out.push_str("result: `get` would succeed and answer:\n");
            if response.headers.is_empty() {
                out.push_str("  no headers ({\"headers\":{}})\n");
            }
            for line in response.redacted_lines() {
                out.push_str(&format!("  {line}\n"));
            }
            if let Some(t) = response.expires {
                out.push_str(&format!(
                    "  expires {}\n",
                    crate::kernel::token::format_rfc3339(t)
                ));
            }
            0
        }
        Err(e) => {
            out.push_str(&format!("result: `get` would fail: {e}\n"));
            1
        }
    };
    let _ = stdout.write_all(out.as_bytes());
    code
}
