//! `credential-helper login <host>` and `logout <host>`: save a secret for a host in the login
//! store (`kernel::login_store`: the OS keychain, or the 0600 file store), and remove it.
//! `get` then answers that host's requests with it when no config entry covers the host, and
//! an `oci` entry takes it as the registry credential (`registry::sources`).
//!
//! The secret is read from a prompt without echo, or with `--password-stdin` from stdin (one
//! trailing line break dropped, as `docker login --password-stdin` does). Success is one line on
//! stderr saying where the secret went; the secret itself is never printed.

use std::io::{IsTerminal, Read};

use crate::kernel::deadline::Deadline;
use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};
use crate::kernel::login_store::{Backend, LoginStore};
use crate::kernel::secret::{Secret, has_control_character};
use crate::registry::stores::login::host_key;

/// Longer than any token; a stdin that goes on is not one.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// `login`'s arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct LoginRequest {
    pub host: String,
    pub username: Option<String>,
    pub password_stdin: bool,
    pub store: Option<Backend>,
}

/// `<host> [--username <u>] [--password-stdin] [--store keychain|file]`, in any order.
pub fn parse_login(args: &[String]) -> Result<LoginRequest, String> {
    let mut host = None;
    let mut request = LoginRequest {
        host: String::new(),
        username: None,
        password_stdin: false,
        store: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(format!("`login {name}` needs a value"))
        };
        match flag {
            "--username" | "-u" => request.username = Some(value("--username")?),
            "--password-stdin" if inline.is_none() => request.password_stdin = true,
            "--store" => {
                let v = value("--store")?;
                request.store = Some(
                    Backend::parse(&v)
                        .ok_or(format!("`login --store` is keychain or file, not {v:?}"))?,
                );
            }
            f if f.starts_with('-') => return Err(format!("`login` has no option {arg:?}")),
            _ if host.is_none() => host = Some(arg.clone()),
            _ => return Err(format!("`login` takes one host, got another: {arg:?}")),
        }
    }
    request.host = host.ok_or("`login` needs a host, e.g. `login ghcr.io`")?;
    Ok(request)
}

/// Saves the secret; answers the line to print.
pub fn login(env: &Env, request: &LoginRequest, stdin: impl Read) -> Result<String> {
    let host = host_key(&request.host)?;
    let store = LoginStore::from_env(env)?;
    let username = request.username.as_deref().filter(|u| !u.is_empty());
    if username.is_some_and(has_control_character) {
        return Err(Error::new("the username contains a control character"));
    }
    let secret = if request.password_stdin {
        read_stdin(stdin)?
    } else {
        prompt(&host)?
    };
    if secret.is_empty() {
        return Err(Error::new("the secret is empty").hint("nothing was saved"));
    }
    if has_control_character(secret.expose()) {
        return Err(Error::new("the secret contains a control character")
            .hint("remove the line break or other control character from it"));
    }
    let backend = request.store.unwrap_or(store.backend());
    // The budget starts after the prompt, which waits for a person.
    store.save(Deadline::start(), &host, username, &secret, backend)?;
    let who = username
        .map(|u| format!(" (username {u})"))
        .unwrap_or_default();
    Ok(format!(
        "saved the secret for {host}{who} in {}",
        store.describe(backend)
    ))
}

/// Removes what `login` saved; answers the line to print (also when nothing was saved).
pub fn logout(env: &Env, deadline: Deadline, host: &str) -> Result<String> {
    let host = host_key(host)?;
    let store = LoginStore::from_env(env)?;
    Ok(match store.remove(deadline, &host)? {
        Some(backend) => format!(
            "removed the login for {host} from {}",
            store.describe(backend)
        ),
        None => format!("no login saved for {host}: nothing to remove"),
    })
}

/// All of stdin, less one trailing line break.
fn read_stdin(stdin: impl Read) -> Result<Secret> {
    let mut bytes = Vec::new();
    stdin
        .take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(format!("cannot read the secret from stdin: {e}")))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(Error::new("the secret on stdin is longer than 64 KiB"));
    }
    let mut text =
        String::from_utf8(bytes).map_err(|_| Error::new("the secret on stdin is not UTF-8"))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(Secret::new(text))
}

/// Asks on the terminal, without echo.
fn prompt(host: &str) -> Result<Secret> {
    if !std::io::stdin().is_terminal() {
        return Err(
            Error::new("no secret: stdin is not a terminal to prompt on")
                .hint("pipe the secret in with --password-stdin"),
        );
    }
    rpassword::prompt_password(format!("Secret for {host}: "))
        .map(Secret::new)
        .map_err(|e| Error::new(format!("cannot read the secret from the terminal: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn login_arguments() {
        let parsed = parse_login(&args(&[
            "ghcr.io",
            "--username",
            "me",
            "--password-stdin",
            "--store=file",
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            LoginRequest {
                host: "ghcr.io".into(),
                username: Some("me".into()),
                password_stdin: true,
                store: Some(Backend::File),
            }
        );
        let bad = [
            (&[][..], "needs a host"),
            (&["a", "b"][..], "takes one host"),
            (&["a", "--username"][..], "needs a value"),
            (&["a", "--store", "vault"][..], "keychain or file"),
            (&["a", "--password"][..], "no option"),
            (&["a", "--password-stdin=x"][..], "no option"),
        ];
        for (list, want) in bad {
            let err = parse_login(&args(list)).unwrap_err();
            assert!(err.contains(want), "{list:?}: {err}");
        }
    }

    #[test]
    fn stdin_secrets_lose_one_line_break() {
        let read = |s: &str| read_stdin(s.as_bytes()).unwrap().expose().to_string();
        assert_eq!(read("tok\n"), "tok");
        assert_eq!(read("tok\r\n"), "tok");
        assert_eq!(read("tok"), "tok");
        assert_eq!(read("tok\n\n"), "tok\n");
    }
}
