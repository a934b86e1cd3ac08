//! docker's external credential helpers: `docker-credential-<name> get`, server URL on stdin,
//! `{"ServerURL","Username","Secret"}` on stdout.

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

pub fn get(ctx: &Context, name: &str, server_url: &str) -> Outcome<Credential> {
    let program_name = format!("docker-credential-{name}");
    if name.is_empty() || name.contains(['/', '\\']) {
        return Outcome::Failed(Error::new(format!(
            "invalid credential helper name {name:?}"
        )));
    }
    let Some(program) = ctx.env.which(&program_name) else {
        return Outcome::Failed(
            Error::new(format!("{program_name} is not on PATH"))
                .hint("install it, or remove the entry from docker's config.json"),
        );
    };
    let out = match process::run(
        &ctx.env,
        &program,
        &["get"],
        server_url.as_bytes(),
        process::DEFAULT_TIMEOUT,
    ) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.success {
        // The protocol puts the error message on stdout.
        if stdout.contains("credentials not found") {
            return Outcome::Missing(format!(
                "{program_name} has no credentials for {server_url}"
            ));
        }
        let first_line = stdout
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Outcome::Failed(Error::new(format!(
            "{program_name} get failed (exit {}): {first_line}",
            out.code.map_or("signal".into(), |c| c.to_string())
        )));
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
