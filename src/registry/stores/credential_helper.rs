//! docker's external credential helpers: `docker-credential-<name> get`, server URL on stdin,
//! `{"ServerURL","Username","Secret"}` on stdout.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::error::Error;
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::Secret;
use crate::registry::Credential;

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: Secret,
}

/// The program `docker-credential-<name>` on PATH, found without running it.
pub fn program(ctx: &Context, name: &str) -> Result<PathBuf, Error> {
    let program_name = format!("docker-credential-{name}");
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(Error::new(format!(
            "invalid credential helper name {name:?}"
        )));
    }
    ctx.env.which(&program_name).ok_or_else(|| {
        Error::new(format!("{program_name} is not on PATH"))
            .hint("install it, or remove the entry that names it")
    })
}

pub fn get(ctx: &Context, name: &str, server_url: &str) -> Outcome<Credential> {
    let program_name = format!("docker-credential-{name}");
    let program = match program(ctx, name) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e),
    };
    if is_this_program(ctx, &program) {
        // A link to (or copy of) this program, answering docker's protocol: asking it would
        // ask this program again, and again.
        return Outcome::Missing(format!(
            "{program_name} is this program itself; not asked, so it cannot loop"
        ));
    }
    let label = format!("{program_name} get");
    let out = match process::run(
        ctx,
        &label,
        &program,
        &["get"],
        server_url.as_bytes(),
        process::DEFAULT_TIMEOUT,
    ) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e),
    };
    if !out.success() {
        // The protocol's "not found" is a fixed text on stdout; any other failure is reported
        // by status only, since its output may hold a secret.
        if String::from_utf8_lossy(&out.stdout).contains("credentials not found") {
            return Outcome::Missing(format!(
                "{program_name} has no credentials for {server_url}"
            ));
        }
        return Outcome::Failed(out.failure());
    }
    let answer: HelperAnswer = match serde_json::from_slice(&out.stdout) {
        Ok(a) => a,
        Err(_) => {
            return Outcome::Failed(Error::new(format!(
                "{program_name} get answered something that is not its JSON format"
            )));
        }
    };
    // Some helpers (Debian's docker-credential-pass) answer an unknown server with exit 0 and
    // empty fields.
    if answer.secret.is_empty() {
        return Outcome::Missing(format!(
            "{program_name} has no credentials for {server_url}"
        ));
    }
    Outcome::Found(Credential::from_user_password(
        &answer.username,
        answer.secret,
    ))
}

/// Whether `program` is the file this process runs from (through any symlink or hard link).
fn is_this_program(ctx: &Context, program: &Path) -> bool {
    let Some(exe) = ctx.env.current_exe() else {
        return false;
    };
    match (std::fs::canonicalize(exe), std::fs::canonicalize(program)) {
        (Ok(a), Ok(b)) if a == b => true,
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            match (std::fs::metadata(a), std::fs::metadata(b)) {
                (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
                _ => false,
            }
        }
        _ => false,
    }
}
