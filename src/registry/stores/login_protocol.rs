//! The docker credential-helper protocol's `store`, `erase` and `list` on the login store, so
//! `credential-helper` installed as `docker-credential-<name>` is a credential store docker
//! (`credsStore`) can write to: `docker login` saves into it, `docker logout` erases.
//!
//! - `store`: `{"ServerURL": "...", "Username": "...", "Secret": "..."}` on stdin; saved under
//!   the server's host (`login::host_key`), where `CREDENTIAL_HELPER_STORE` says.
//! - `erase`: the server URL on stdin; an error when nothing was saved for it (as docker's own
//!   helpers answer "credentials not found").
//! - `list`: a JSON object from server URL to username on stdout (Docker Hub as docker names
//!   it, `https://index.docker.io/v1/`).

use std::io::Write;

use serde::Deserialize;

use crate::kernel::deadline::Deadline;
use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};
use crate::kernel::login_store::LoginStore;
use crate::kernel::secret::Secret;
use crate::registry::reference::{DOCKER_HUB, DOCKER_HUB_CONFIG_KEY};
use crate::registry::stores::login::host_key;

#[derive(Deserialize)]
struct Credentials {
    #[serde(rename = "ServerURL")]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret")]
    secret: Secret,
}

/// `store`: saves the credentials read from `stdin`.
pub fn store(env: &Env, deadline: Deadline, stdin: &str) -> Result<()> {
    // serde's message could quote the secret: say only what shape was expected.
    let credentials: Credentials = serde_json::from_str(stdin).map_err(|_| {
        Error::new("store: stdin is not {\"ServerURL\", \"Username\", \"Secret\"} JSON")
    })?;
    if credentials.secret.is_empty() {
        return Err(Error::new("store: the Secret is empty"));
    }
    let host = host_key(&credentials.server_url)?;
    let store = LoginStore::from_env(env)?;
    let username = Some(credentials.username.as_str()).filter(|u| !u.is_empty());
    store.save(
        deadline,
        &host,
        username,
        &credentials.secret,
        store.backend(),
    )
}

/// `erase`: removes what was saved for the server URL on `stdin`.
pub fn erase(env: &Env, deadline: Deadline, stdin: &str) -> Result<()> {
    let host = host_key(stdin)?;
    match LoginStore::from_env(env)?.remove(deadline, &host)? {
        Some(_) => Ok(()),
        None => Err(Error::new(format!("credentials not found for {host}"))),
    }
}

/// `list`: every saved server and its username (empty when there is none), as one JSON object.
pub fn list(env: &Env, stdout: &mut dyn Write) -> Result<()> {
    let listed: serde_json::Map<String, serde_json::Value> = LoginStore::from_env(env)?
        .list()?
        .into_iter()
        .map(|(host, username)| {
            let server = if host == DOCKER_HUB {
                DOCKER_HUB_CONFIG_KEY.to_string()
            } else {
                host
            };
            (server, username.unwrap_or_default().into())
        })
        .collect();
    let mut text = serde_json::Value::Object(listed).to_string();
    text.push('\n');
    stdout
        .write_all(text.as_bytes())
        .map_err(|e| Error::new(format!("list: cannot write the answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::{Env, test_env_on};
    use crate::kernel::platform::Platform;

    fn env(dir: &std::path::Path) -> Env {
        test_env_on(
            Platform::current(),
            &[
                ("HOME", dir.to_str().unwrap()),
                ("APPDATA", dir.to_str().unwrap()),
                ("CREDENTIAL_HELPER_STORE", "file"),
            ],
        )
    }

    fn listed(env: &Env) -> serde_json::Value {
        let mut out = Vec::new();
        list(env, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn store_list_erase_on_the_file_store() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env(tmp.path());
        let deadline = Deadline::start();
        assert_eq!(listed(&env), serde_json::json!({}));
        let hub =
            r#"{"ServerURL":"https://index.docker.io/v1/","Username":"me","Secret":"hunter2"}"#;
        store(&env, deadline, hub).unwrap();
        let token = r#"{"ServerURL":"ghcr.io","Username":"","Secret":"ghp_x"}"#;
        store(&env, deadline, token).unwrap();
        assert_eq!(
            listed(&env),
            serde_json::json!({"https://index.docker.io/v1/": "me", "ghcr.io": ""})
        );
        let saved = LoginStore::from_env(&env)
            .unwrap()
            .lookup(deadline, "index.docker.io")
            .unwrap()
            .unwrap();
        assert_eq!(
            (saved.username.as_deref(), saved.secret.expose()),
            (Some("me"), "hunter2")
        );
        erase(&env, deadline, "docker.io\n").unwrap();
        assert_eq!(listed(&env), serde_json::json!({"ghcr.io": ""}));
        let err = erase(&env, deadline, "docker.io").unwrap_err().to_string();
        assert!(err.contains("credentials not found"), "{err}");
        // Malformed input never echoes the secret.
        for bad in [
            r#"{"ServerURL":"ghcr.io","Secret":"hunter2","#,
            r#"{"Username":"u","Secret":"hunter2"}"#,
        ] {
            let err = store(&env, deadline, bad).unwrap_err().to_string();
            assert!(err.contains("is not") && !err.contains("hunter2"), "{err}");
        }
        let err = store(&env, deadline, r#"{"ServerURL":"h","Secret":""}"#).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
