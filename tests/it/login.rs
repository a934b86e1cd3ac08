//! `login` and `logout`, and `get` answering with what they saved: on a real Secret Service
//! (gnome-keyring on a private D-Bus session bus, `support::secret_service`) and on the 0600
//! file store; registry logins fed to the token exchange of Debian's real registry; the
//! lookup chain's `keyring` source on the same keychain; and the bounds: a keychain that does
//! not answer, files the store must not trust, plain http.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::registry::{Registry, TokenServerConfig};
use crate::support::secret_service::SecretService;
use crate::support::{Bazel, b64, pull_status};

const URI: &str = "https://cache.example.com/ac/0123";

fn login(bazel: &Bazel, args: &[&str], secret: &str) -> String {
    let mut all = vec!["login"];
    all.extend_from_slice(args);
    all.push("--password-stdin");
    let answer = bazel.run(&all, Some(secret));
    answer.ok();
    assert!(!answer.stderr.contains(secret), "{answer}");
    answer.stderr
}

fn store_file(bazel: &Bazel) -> std::path::PathBuf {
    bazel
        .home()
        .join(".config/credential-helper/credentials.json")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A sandbox whose keychain is a fresh Secret Service.
fn with_keychain() -> (Bazel, SecretService) {
    let service = SecretService::start();
    let mut bazel = Bazel::new();
    bazel.env("DBUS_SESSION_BUS_ADDRESS", service.address());
    (bazel, service)
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs gnome-keyring on a private D-Bus session bus: Linux"
)]
fn login_get_logout_on_the_secret_service() {
    if !cfg!(feature = "keyring") {
        return;
    }
    let (mut bazel, _service) = with_keychain();
    let said = login(
        &bazel,
        &["https://Cache.Example.com/some/path"],
        "tok-123\n",
    );
    assert_eq!(
        said,
        "credential-helper: saved the secret for cache.example.com in the Secret Service keyring\n"
    );
    // The file lists the host; the secret is only in the keyring.
    let listed = std::fs::read_to_string(store_file(&bazel)).unwrap();
    assert!(
        listed.contains("cache.example.com") && !listed.contains("tok-123"),
        "{listed}"
    );
    let answer = bazel.get(URI).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer tok-123"));

    // With a username: Basic. A second login replaces the first.
    login(&bazel, &["cache.example.com", "--username", "ci"], "pw-456");
    let answer = bazel.get(URI).success();
    let basic = format!("Basic {}", b64("ci:pw-456"));
    assert_eq!(answer.header("Authorization"), Some(basic.as_str()));

    let out = bazel.run(&["logout", "cache.example.com"], None);
    assert_eq!(out.ok(), "", "logout prints to stderr only");
    assert_eq!(
        out.stderr,
        "credential-helper: removed the login for cache.example.com from the Secret Service keyring\n"
    );
    assert!(bazel.get(URI).success().headers.is_empty());
    // Gone from the keyring too, as the lookup source sees it.
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"keyring","service":"credential-helper","account":"cache.example.com"}]}}]}"#,
    );
    let err = bazel.get(URI).failure();
    assert!(err.contains("found (tried keyring service"), "{err}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs gnome-keyring and Debian's docker-registry: Linux"
)]
fn registry_login_feeds_the_token_exchange_and_warm_gets_skip_the_keychain() {
    if !cfg!(feature = "keyring") {
        return;
    }
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    registry.push_image("team/app", "v1");
    let (mut bazel, service) = with_keychain();
    // No config at all: the built-in defaults, which know nothing of this registry.
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 401);
    login(&bazel, &[registry.host(), "--username", "bob"], "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 200);
    let exchanges = registry.token_server().count();

    // The token cache answers by the login's identity: with the keyring gone, the next get
    // is still answered, without another exchange.
    drop(service);
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 200);
    assert_eq!(registry.token_server().count(), exchanges);

    // A new login is a new identity: the keyring is asked again (and is gone now).
    let service = SecretService::start();
    bazel.env("DBUS_SESSION_BUS_ADDRESS", service.address());
    login(&bazel, &[registry.host(), "--username", "bob"], "wrong");
    let err = bazel
        .get(&registry.manifest_uri("team/app", "v1"))
        .failure();
    assert!(!err.contains("wrong"), "{err}");
    login(&bazel, &[registry.host(), "--username", "bob"], "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 200);

    bazel.run(&["logout", registry.host()], None).ok();
    bazel.env("CREDENTIAL_HELPER_CACHE", "off");
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 401);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry: Linux"
)]
fn file_store_without_any_keychain() {
    let registry = Registry::basic("alice", "alice-pw");
    registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    // No D-Bus here at all: nothing may try it.
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    let said = login(&bazel, &["cache.example.com"], "tok-123");
    let path = store_file(&bazel);
    assert_eq!(
        said,
        format!(
            "credential-helper: saved the secret for cache.example.com in the file {}\n",
            path.display()
        )
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let run = bazel.get(URI);
    assert_eq!(
        run.success().header("Authorization"),
        Some("Bearer tok-123")
    );
    assert!(run.stderr.contains("login for cache.example.com"), "{run}");
    assert!(
        !run.stderr.contains("tok-123"),
        "the debug log shows the secret\n{run}"
    );
    bazel.env_remove("CREDENTIAL_HELPER_LOG");

    login(&bazel, &[registry.host(), "-u", "alice"], "alice-pw");
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 200);
    // `--store file` is the same without the variable.
    bazel.env_remove("CREDENTIAL_HELPER_STORE");
    login(
        &bazel,
        &["other.example.com", "--store", "file"],
        "other-secret",
    );
    assert_eq!(mode(&path), 0o600);

    let out = bazel.run(&["logout", "cache.example.com"], None);
    out.ok();
    assert!(
        out.stderr
            .contains("removed the login for cache.example.com from the file"),
        "{out}"
    );
    assert!(bazel.get(URI).success().headers.is_empty());
    // Only that host went.
    assert_eq!(pull_status(&bazel, &registry, "team/app"), 200);
}

#[test]
fn file_store_refuses_files_others_may_read_or_own() {
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    login(&bazel, &["cache.example.com"], "tok-123");
    let path = store_file(&bazel);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = bazel.get(URI).failure();
    assert!(
        err.contains("is readable by other users (mode 0644"),
        "{err}"
    );
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains("tok-123"), "{err}");
    let err = bazel.run(&["logout", "cache.example.com"], None).failure();
    assert!(err.contains("readable by other users"), "{err}");

    // Planted by someone else (a file of another user, mode 0600): refused too.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&path, Some(54321), Some(54321)).unwrap();
    let err = bazel.get(URI).failure();
    assert!(err.contains("belongs to uid 54321"), "{err}");

    // A directory others may write.
    std::fs::remove_file(&path).unwrap();
    let dir = path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = bazel
        .run(&["login", "h.example", "--password-stdin"], Some("x"))
        .failure();
    assert!(err.contains("writable by"), "{err}");
}

#[test]
fn logout_of_a_host_never_saved_and_login_mistakes() {
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    let out = bazel.run(&["logout", "never.example.com"], None);
    out.ok();
    assert_eq!(
        out.stderr,
        "credential-helper: no login saved for never.example.com: nothing to remove\n"
    );
    // No terminal to prompt on, and no --password-stdin.
    let err = bazel.run(&["login", "h.example"], Some("secret")).failure();
    assert!(err.contains("--password-stdin"), "{err}");
    let err = bazel
        .run(&["login", "h.example", "--password-stdin"], Some(""))
        .failure();
    assert!(err.contains("the secret is empty"), "{err}");
    let err = bazel
        .run(&["login", "h.example", "--password-stdin"], Some("a\nb"))
        .failure();
    assert!(
        err.contains("control character") && !err.contains("a\nb"),
        "{err}"
    );
    let answer = bazel.run(&["login"], None);
    assert_eq!(answer.status, Some(2), "{answer}");
    assert!(answer.stderr.contains("needs a host"), "{answer}");
    bazel.env("CREDENTIAL_HELPER_STORE", "vault");
    let err = bazel
        .run(&["login", "h.example", "--password-stdin"], Some("x"))
        .failure();
    assert!(
        err.contains("CREDENTIAL_HELPER_STORE is \"vault\""),
        "{err}"
    );
    assert!(!store_file(&bazel).exists());
}

#[test]
fn logins_never_go_over_plain_http_or_past_a_config_entry() {
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    login(&bazel, &["cache.example.com"], "tok-123");
    assert!(
        bazel
            .get("http://cache.example.com/ac/0123")
            .success()
            .headers
            .is_empty()
    );
    // Another host, and a path on the same host a config entry answers: not the login.
    assert!(
        bazel
            .get("https://other.example.com/x")
            .success()
            .headers
            .is_empty()
    );
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"static","value":"from-config"}]}}]}"#,
    );
    let answer = bazel.get(URI).success();
    assert_eq!(answer.header("x"), Some("from-config"));
    assert_eq!(answer.header("Authorization"), None);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs gnome-keyring on a private D-Bus session bus: Linux"
)]
fn keyring_lookup_source_reads_the_secret_service() {
    if !cfg!(feature = "keyring") {
        return;
    }
    let (mut bazel, _service) = with_keychain();
    login(
        &bazel,
        &["saved.example.com", "--username", "ci"],
        "from-keyring",
    );
    let config = |chain: &str| {
        format!(
            r#"{{"urls":[{{"host":"cache.example.com","helper":"header","config":{{"header_name":"x-api-key","lookup_chain":{chain}}}}}]}}"#
        )
    };
    bazel.config(&config(
        r#"[{"source":"keyring","service":"credential-helper","account":"saved.example.com"},{"source":"env","name":"FALLBACK"}]"#,
    ));
    let answer = bazel.get(URI).success();
    assert_eq!(answer.header("x-api-key"), Some("from-keyring"));
    // Without an account: the service's one item.
    bazel.config(&config(
        r#"[{"source":"keyring","service":"credential-helper"}]"#,
    ));
    let answer = bazel.get(URI).success();
    assert_eq!(answer.header("x-api-key"), Some("from-keyring"));

    // No such item: the chain moves on.
    bazel.config(&config(
        r#"[{"source":"keyring","service":"other"},{"source":"env","name":"FALLBACK"}]"#,
    ));
    bazel.env("FALLBACK", "from-env");
    let answer = bazel.get(URI).success();
    assert_eq!(answer.header("x-api-key"), Some("from-env"));

    // No Secret Service on the bus (none at this address): said, not hung.
    bazel.env_remove("FALLBACK");
    bazel.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    bazel.config(&config(r#"[{"source":"keyring","service":"other"}]"#));
    let err = bazel.get(URI).failure();
    assert!(err.contains("Secret Service keyring"), "{err}");
}

#[test]
fn a_keychain_that_does_not_answer_fails_the_get_in_time() {
    if !cfg!(feature = "keyring") {
        return;
    }
    // A bus that accepts the connection and then says nothing.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut bazel = Bazel::new();
    bazel.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", socket.display()),
    );
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"keyring","service":"s","account":"a"}]}}]}"#,
    );
    let start = Instant::now();
    let err = bazel.get(URI).failure();
    assert!(
        start.elapsed() < Duration::from_millis(8500),
        "{:?}",
        start.elapsed()
    );
    assert!(err.contains("did not answer in time"), "{err}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs util-linux's script(1) for a terminal"
)]
fn login_prompts_on_a_terminal_without_echo() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    let helper = bazel.command(&[]);
    let line = format!(
        "{} login h.example -u me",
        helper.get_program().to_str().unwrap()
    );
    let mut terminal = Command::new("script");
    terminal
        .args(["-qec", &line, "/dev/null"])
        .current_dir(bazel.workspace())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, v) in helper.get_envs() {
        terminal.env(k, v.unwrap());
    }
    let mut child = terminal.spawn().expect("run script(1)");
    let mut out = child.stdout.take().unwrap();
    // Type only once the prompt is up (echo is off from then on).
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("Secret for h.example: ") {
        assert_eq!(out.read(&mut byte).unwrap(), 1, "no prompt: {seen:?}");
        seen.push(byte[0]);
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"typed-secret\r")
        .unwrap();
    out.read_to_end(&mut seen).unwrap();
    assert!(child.wait().unwrap().success());
    let shown = String::from_utf8_lossy(&seen);
    assert!(!shown.contains("typed-secret"), "echoed: {shown}");
    assert!(
        shown.contains("saved the secret for h.example (username me) in the file"),
        "{shown}"
    );
    let saved = std::fs::read_to_string(store_file(&bazel)).unwrap();
    assert!(saved.contains("typed-secret"), "{saved}");
}

#[test]
fn without_a_home_there_is_no_login_and_gets_go_on() {
    let mut bazel = Bazel::new();
    bazel.env_remove("HOME").env_remove("XDG_CONFIG_HOME");
    assert!(bazel.get(URI).success().headers.is_empty());
    let err = bazel
        .run(
            &["login", "h.example", "--password-stdin"],
            Some("x-secret"),
        )
        .failure();
    assert!(err.contains("no directory for the login store"), "{err}");
}
