//! docker's credential-helper protocol, which docker, podman, skopeo, crane, buildah and
//! rules_oci's pull speak: `docker-credential-<name> <get|store|erase|list|version>` (this
//! program under that name, a link or a copy), or `credential-helper docker-credential <verb>`.
//!
//! `get` reads the registry on stdin and answers `{"ServerURL","Username","Secret"}` from the
//! same config and sources as Bazel's requests for the `oci` helper. As docker-credential-helpers
//! does, every failure is one line on stdout and exit 1, and a registry without a credential is
//! exactly [`NOT_FOUND`], which the clients recognise and move on from.

use std::io::{Read, Write};

use crate::config::Config;
use crate::kernel::context::Context;
use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::platform::Platform;
use crate::kernel::protocol::MAX_REQUEST_BYTES;
use crate::kernel::trace::Trace;
use crate::note;
use crate::registry::stores::login_protocol;
use crate::registry_host::{self, Named};

/// docker-credential-helpers' "not found" text; clients compare the whole of stdout with it.
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// The subcommand that speaks the protocol under the program's own name.
pub const SUBCOMMAND: &str = "docker-credential";
const PREFIX: &str = "docker-credential-";

/// The name this program answers the protocol as, when its file name (argv\[0\]'s last
/// component, `.exe` stripped on Windows) is `docker-credential-<name>`.
pub fn invoked_as(argv0: &str, platform: Platform) -> Option<String> {
    let windows = platform == Platform::Windows;
    let file = argv0
        .rsplit(|c| c == '/' || (windows && c == '\\'))
        .next()
        .unwrap_or(argv0);
    let file = match file.len().checked_sub(4) {
        Some(at)
            if windows && file.is_char_boundary(at) && file[at..].eq_ignore_ascii_case(".exe") =>
        {
            &file[..at]
        }
        _ => file,
    };
    (file.len() > PREFIX.len() && file.starts_with(PREFIX)).then(|| file.to_string())
}

/// Runs one verb of the protocol (`args` are those after the program's name or the
/// subcommand); `name` is how this program was called. Returns the exit code.
pub fn main(
    name: &str,
    args: &[String],
    env: Env,
    deadline: Deadline,
    stdin: impl Read,
    stdout: &mut dyn Write,
) -> i32 {
    let [verb] = args else {
        let _ = writeln!(stdout, "Usage: {name} <store|get|erase|list|version>");
        return 1;
    };
    let trace = Trace::from_log_setting(env.var(vars::LOG), &mut std::io::stderr());
    // Started by this program answering the protocol (through a wrapper that leads back here)?
    let nested = env.var(vars::DOCKER_CREDENTIAL_CHILD).is_some();
    // Every program run for this call is told it runs under the protocol (the loop guard).
    let env = env.with_var(vars::DOCKER_CREDENTIAL_CHILD, "1");
    let ctx = Context::within(env, trace, deadline);
    let answered = match verb.as_str() {
        "get" => read_server(stdin).and_then(|server| get(&ctx, &server, nested)),
        verb => other(&ctx, name, verb, stdin).map(Some),
    };
    let (text, code) = match answered {
        Ok(Some(text)) => (text, 0),
        Ok(None) => (format!("{NOT_FOUND}\n"), 1),
        Err(e) => (format!("credential-helper: {e}\n"), 1),
    };
    // One write: never half an answer.
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(_) => 1,
    }
}

/// The verbs besides `get`: their output, or the error to print.
fn other(ctx: &Context, name: &str, verb: &str, stdin: impl Read) -> Result<String> {
    match verb {
        "version" => Ok(format!(
            "{name} (credential-helper) {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        // `store`, `erase` and `list` keep to the login store (`credential-helper login`).
        "store" => read_all(stdin).and_then(|input| {
            let input = String::from_utf8(input)
                .map_err(|_| Error::new("store: stdin is not UTF-8 JSON"))?;
            login_protocol::store(&ctx.env, ctx.deadline, &input).map(|()| String::new())
        }),
        "erase" => read_server(stdin).and_then(|server| {
            login_protocol::erase(&ctx.env, ctx.deadline, &server).map(|()| String::new())
        }),
        "list" => {
            let mut out = Vec::new();
            login_protocol::list(&ctx.env, &mut out)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        other => Err(Error::new(format!("Unknown credential action `{other}`"))
            .hint(format!("usage: {name} <store|get|erase|list|version>"))),
    }
}

/// `get`: the answer's JSON line; `None` for "not found".
fn get(ctx: &Context, server: &str, nested: bool) -> Result<Option<String>> {
    if nested {
        // The parent answering the protocol has already looked everywhere this one would.
        note!(
            ctx.trace,
            "started by this program answering the protocol: not found"
        );
        return Ok(None);
    }
    let named = Named::parse(server).ok_or_else(|| {
        // Not quoted: a mistaken paste may hold a secret.
        Error::new("the server URL on stdin is not a registry")
            .hint("expected a host, host:port or https://host, as docker sends it")
    })?;
    let config = Config::load(&ctx.env)?;
    note!(ctx.trace, "config: {}", config.describe());
    let Some((username, secret)) = registry_host::docker_answer(ctx, &config, &named)? else {
        return Ok(None);
    };
    // The username is a value too: not in the trace.
    note!(
        ctx.trace,
        "answering with the credential found for {}",
        named.authority
    );
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        #[serde(rename = "ServerURL")]
        server_url: &'a str,
        #[serde(rename = "Username")]
        username: &'a str,
        #[serde(rename = "Secret")]
        secret: &'a str,
    }
    let answer = Answer {
        server_url: server,
        username: &username,
        secret: secret.expose(),
    };
    let mut line = serde_json::to_string(&answer)
        .map_err(|_| Error::new("cannot write the answer as JSON"))?;
    line.push('\n');
    Ok(Some(line))
}

fn read_all(stdin: impl Read) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    stdin
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::new(format!("cannot read stdin: {e}")))?;
    if buf.len() as u64 > MAX_REQUEST_BYTES {
        return Err(Error::new("the input on stdin is larger than 1 MiB"));
    }
    Ok(buf)
}

/// The server URL on stdin, trimmed (docker-credential-helpers' rule).
fn read_server(stdin: impl Read) -> Result<String> {
    let bytes = read_all(stdin)?;
    let server = String::from_utf8_lossy(&bytes).trim().to_string();
    if server.is_empty() {
        return Err(Error::new("no credentials server URL").hint(
            "the registry's host goes on stdin, e.g. `echo ghcr.io | docker-credential-<name> get`",
        ));
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_that_speak_the_protocol() {
        use Platform::{Linux, Windows};
        let table: &[(&str, Platform, Option<&str>)] = &[
            (
                "/usr/bin/docker-credential-credential-helper",
                Linux,
                Some("docker-credential-credential-helper"),
            ),
            (
                "docker-credential-self",
                Linux,
                Some("docker-credential-self"),
            ),
            (
                "./bin/docker-credential-ecr-login",
                Linux,
                Some("docker-credential-ecr-login"),
            ),
            ("/usr/bin/credential-helper", Linux, None),
            ("credential-helper", Linux, None),
            ("docker-credential-", Linux, None),
            ("/docker-credential-x/credential-helper", Linux, None),
            (
                "docker-credential-x.exe",
                Linux,
                Some("docker-credential-x.exe"),
            ),
            (
                r"C:\tools\docker-credential-mine.exe",
                Windows,
                Some("docker-credential-mine"),
            ),
            (
                r"C:\tools\docker-credential-mine.EXE",
                Windows,
                Some("docker-credential-mine"),
            ),
            (
                "C:/tools/docker-credential-mine",
                Windows,
                Some("docker-credential-mine"),
            ),
            (r"C:\tools\credential-helper.exe", Windows, None),
            (r"C:\tools\docker-credential-.exe", Windows, None),
            (r"docker-credential-x\credential-helper", Windows, None),
            ("", Linux, None),
        ];
        for (argv0, platform, want) in table {
            assert_eq!(
                invoked_as(argv0, *platform).as_deref(),
                *want,
                "{argv0} on {platform:?}"
            );
        }
    }
}
