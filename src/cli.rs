//! The command line: parse arguments, run a command, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 an error (one line on stderr, nothing on stdout), 2 a usage error.

use std::io::{Read, Write};

use crate::config::Config;
use crate::context::Context;
use crate::env::{Env, vars};
use crate::error::{Error, Result};
use crate::helpers;
use crate::note;
use crate::plan::{self, Action};
use crate::protocol::{Request, Response};
use crate::trace::Trace;

const USAGE: &str = "\
credential-helper: a Bazel credential helper for container registries, remote caches and
artifact servers.

Usage:
  credential-helper get            read {\"uri\": \"...\"} on stdin, print the headers as JSON
  credential-helper cache-clear    empty the token cache
  credential-helper --help         show this help
  credential-helper --version      show the version

Set it up in .bazelrc:
  common --credential_helper=%workspace%/tools/credential-helper

Configuration: ./.credential-helper.json (or $CREDENTIAL_HELPER_CONFIG_FILE); without one,
built-in defaults cover well-known hosts. CREDENTIAL_HELPER_LOG=debug explains every decision
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
    let command = args.get(1).map(String::as_str);
    let rest = args.get(2..).unwrap_or_default();
    match command {
        None => {
            let _ = write!(stderr, "{USAGE}");
            2
        }
        Some("-h" | "--help" | "help") => {
            let _ = write!(stdout, "{USAGE}");
            0
        }
        Some("-V" | "--version" | "version") => {
            let _ = writeln!(stdout, "credential-helper {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some("get") => {
            if let Some(extra) = rest.first() {
                return usage_error(stderr, &format!("`get` takes no arguments, got {extra:?}"));
            }
            let trace = if env.var(vars::LOG) == Some("debug") {
                Trace::live()
            } else {
                Trace::silent()
            };
            let ctx = Context::new(env, trace);
            match get(&ctx, stdin) {
                Ok(response) => {
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
        Some("cache-clear") => {
            if let Some(extra) = rest.first() {
                return usage_error(
                    stderr,
                    &format!("`cache-clear` takes no arguments, got {extra:?}"),
                );
            }
            let Some(dir) = crate::cache::Cache::dir(&env) else {
                return report(stderr, &Error::new("no cache directory (HOME is not set)"));
            };
            match crate::cache::Cache::clear(&dir) {
                Ok(n) => {
                    let _ = writeln!(stdout, "removed {n} cache files from {}", dir.display());
                    0
                }
                Err(e) => report(stderr, &e),
            }
        }
        Some(other) => usage_error(stderr, &format!("unknown command {other:?}")),
    }
}

fn usage_error(stderr: &mut dyn Write, what: &str) -> i32 {
    let _ = writeln!(
        stderr,
        "credential-helper: {what} (run `credential-helper --help` for usage)"
    );
    2
}

fn report(stderr: &mut dyn Write, e: &Error) -> i32 {
    let _ = writeln!(stderr, "credential-helper: {e}");
    1
}

/// `get`: the request on stdin, the answer returned.
pub fn get(ctx: &Context, stdin: impl Read) -> Result<Response> {
    let request = Request::read_from(stdin)?;
    let url = request.url()?;
    note!(ctx.trace, "request for {}", crate::http::redact_url(&url));
    answer(ctx, &url)
}

/// Loads the config, plans, and runs the helper for one URL.
pub fn answer(ctx: &Context, url: &url::Url) -> Result<Response> {
    let config = Config::load(&ctx.env)?;
    note!(ctx.trace, "config: {}", config.origin);
    let guessed = helpers::oci::Config::default();
    let plan = plan::plan(url, &config, &guessed, &ctx.env)?;
    match plan.entry {
        Some(entry) => note!(ctx.trace, "matched {}", entry.describe()),
        None => note!(ctx.trace, "no entry matched"),
    }
    let response = match plan.action {
        Action::NoHeaders(why) => {
            note!(ctx.trace, "no headers: {why}");
            Response::empty()
        }
        Action::Header(c) => helpers::header::run(ctx, c)?,
        Action::Oci(p) => helpers::oci::run(ctx, &p)?,
    };
    for line in response.redacted_lines() {
        note!(ctx.trace, "answer header {line}");
    }
    Ok(response)
}
