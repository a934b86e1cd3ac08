//! A warm `get` whose credential comes from a `docker-credential-*` helper runs nothing and
//! sends nothing: the token is found by the helper's identity before the helper is asked.
//! Helpers here count their runs in a file; the fake token server counts token requests.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::{Fake, cache_dir};
use crate::support::{Bazel, docker_auths};

const CONFIG: &str = r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#;

/// A sandbox whose docker config names `docker-credential-<name>` for the fake registry in
/// `field` (`credHelpers` or `credsStore`).
fn sandbox(fake: &Fake, field: &str, name: &str) -> Bazel {
    let mut bazel = Bazel::new();
    bazel.config(CONFIG);
    use_helper(&bazel, fake, field, name);
    bazel
}

fn use_helper(bazel: &Bazel, fake: &Fake, field: &str, name: &str) {
    let config = match field {
        "credHelpers" => format!(r#"{{"credHelpers":{{"{}":"{name}"}}}}"#, fake.host()),
        _ => format!(
            r#"{{"credsStore":"{name}","auths":{{"{}":{{}}}}}}"#,
            fake.host()
        ),
    };
    bazel.write("home/.docker/config.json", config);
}

/// `docker-credential-<name>`: logs each run, answers `u` and the password in `<name>.pw`
/// (after `delay` seconds), or "not found" when that file is missing.
fn counting_helper(bazel: &Bazel, name: &str, password: &str, delay: &str) {
    set_password(bazel, name, password);
    bazel.script(
        &format!("docker-credential-{name}"),
        &format!(
            r#"[ "$1" = get ] || exit 3
read server; echo "$server" >> "{log}"
sleep {delay}
[ -f "{pw}" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
printf '{{"ServerURL":"%s","Username":"u","Secret":"%s"}}' "$server" "$(cat "{pw}")""#,
            log = runs_log(bazel, name).display(),
            pw = bazel.root().join(format!("{name}.pw")).display(),
        ),
    );
}

fn set_password(bazel: &Bazel, name: &str, password: &str) {
    bazel.write(format!("{name}.pw"), password);
}

fn runs_log(bazel: &Bazel, name: &str) -> PathBuf {
    bazel.root().join(format!("{name}.runs"))
}

fn runs(bazel: &Bazel, name: &str) -> usize {
    std::fs::read_to_string(runs_log(bazel, name))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn blob(fake: &Fake, i: usize) -> String {
    format!("{}/v2/team/app/blobs/sha256:{i:064x}", fake.registry.url())
}

/// 30 gets for blobs of one repository, all started at once or one after another; every
/// answer is checked.
fn thirty_gets(bazel: &Bazel, fake: &Fake, concurrent: bool, want: &str) {
    let answers: Vec<_> = if concurrent {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..30)
                .map(|i| {
                    let uri = blob(fake, i);
                    s.spawn(move || bazel.get(&uri))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    } else {
        (0..30).map(|i| bazel.get(&blob(fake, i))).collect()
    };
    for answer in answers {
        assert_eq!(
            answer.success().header("Authorization"),
            Some(want),
            "{answer}"
        );
    }
}

fn thirty_and_thirty_more(concurrent: bool, field: &str) {
    let fake = Fake::start(300, Duration::from_millis(100));
    let bazel = sandbox(&fake, field, "counting");
    counting_helper(&bazel, "counting", "pw", "0.2");

    thirty_gets(&bazel, &fake, concurrent, "Bearer tok-1");
    assert_eq!(runs(&bazel, "counting"), 1, "cold: one helper run");
    assert_eq!(fake.counts(), (1, 1), "cold: one ping, one token request");
    let sent = fake.tokens.requests().pop().unwrap();
    assert_eq!(sent.basic_auth(), Some(("u".into(), "pw".into())));

    thirty_gets(&bazel, &fake, concurrent, "Bearer tok-1");
    assert_eq!(runs(&bazel, "counting"), 1, "warm: no helper run");
    assert_eq!(fake.counts(), (1, 1), "warm: no request at all");
}

#[test]
fn thirty_concurrent_gets_run_the_helper_once_and_the_next_thirty_never() {
    thirty_and_thirty_more(true, "credHelpers");
}

#[test]
fn thirty_sequential_gets_run_the_helper_once_and_the_next_thirty_never() {
    thirty_and_thirty_more(false, "credsStore");
}

#[test]
fn a_warm_get_says_where_its_token_came_from_and_runs_nothing() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = sandbox(&fake, "credHelpers", "counting");
    counting_helper(&bazel, "counting", "pw", "0");
    bazel.get(&blob(&fake, 0)).success();
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let warm = bazel.get(&blob(&fake, 1));
    assert!(warm.stderr.contains("cache: hit by source"), "{warm}");
    assert!(
        warm.stderr.contains("network: 0 request(s)"),
        "no request: {warm}"
    );
    assert!(!warm.stderr.contains("docker-credential"), "{warm}");
    // Only the token is kept: never the helper's password.
    for entry in std::fs::read_dir(cache_dir(&bazel)).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!text.contains("\"pw\""), "{text}");
    }
}

#[test]
fn a_changed_credential_in_the_helper_gets_a_new_token_once_the_old_one_is_gone() {
    // A 4 s lifetime keeps half as margin: the token is served for 2 s.
    let fake = Fake::start(4, Duration::ZERO);
    let bazel = sandbox(&fake, "credHelpers", "counting");
    counting_helper(&bazel, "counting", "old-pw", "0");
    let auth = |i| {
        bazel
            .get(&blob(&fake, i))
            .success()
            .header("Authorization")
            .map(str::to_string)
    };
    assert_eq!(auth(0).as_deref(), Some("Bearer tok-1"));

    // The secret changes inside the helper: the cached token lives until it expires.
    set_password(&bazel, "counting", "new-pw");
    assert_eq!(auth(1).as_deref(), Some("Bearer tok-1"));
    assert_eq!(runs(&bazel, "counting"), 1);

    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(auth(2).as_deref(), Some("Bearer tok-2"), "expired");
    assert_eq!(runs(&bazel, "counting"), 2, "the helper is asked again");
    let sent = fake.tokens.requests().pop().unwrap();
    assert_eq!(sent.basic_auth(), Some(("u".into(), "new-pw".into())));

    // Removed from the cache (`credential-helper cache-clear`, or by hand): the same.
    set_password(&bazel, "counting", "newer-pw");
    std::fs::remove_dir_all(cache_dir(&bazel)).unwrap();
    assert_eq!(auth(3).as_deref(), Some("Bearer tok-3"), "removed");
    let sent = fake.tokens.requests().pop().unwrap();
    assert_eq!(sent.basic_auth(), Some(("u".into(), "newer-pw".into())));
    assert_eq!(runs(&bazel, "counting"), 3);
}

#[test]
fn another_helper_in_the_config_is_another_source() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = sandbox(&fake, "credHelpers", "one");
    counting_helper(&bazel, "one", "pw-one", "0");
    counting_helper(&bazel, "two", "pw-two", "0");
    let auth = |i| {
        bazel
            .get(&blob(&fake, i))
            .success()
            .header("Authorization")
            .map(str::to_string)
    };
    assert_eq!(auth(0).as_deref(), Some("Bearer tok-1"));
    assert_eq!(auth(1).as_deref(), Some("Bearer tok-1"));
    assert_eq!((runs(&bazel, "one"), runs(&bazel, "two")), (1, 0));

    use_helper(&bazel, &fake, "credHelpers", "two");
    assert_eq!(auth(2).as_deref(), Some("Bearer tok-2"));
    assert_eq!(auth(3).as_deref(), Some("Bearer tok-2"));
    assert_eq!((runs(&bazel, "one"), runs(&bazel, "two")), (1, 1));
    let sent = fake.tokens.requests().pop().unwrap();
    assert_eq!(sent.basic_auth(), Some(("u".into(), "pw-two".into())));

    // Back to the first: the config file changed, so the helper is asked again, and its
    // credential's token is still cached under its fingerprint: no token request.
    use_helper(&bazel, &fake, "credHelpers", "one");
    assert_eq!(auth(4).as_deref(), Some("Bearer tok-1"));
    assert_eq!((runs(&bazel, "one"), runs(&bazel, "two")), (2, 1));
    assert_eq!(fake.tokens.count(), 2);
}

#[test]
fn a_helper_with_nothing_for_the_registry_never_stands_for_the_next_source() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = Bazel::new();
    bazel.config(CONFIG);
    counting_helper(&bazel, "empty", "unused", "0");
    std::fs::remove_file(bazel.root().join("empty.pw")).unwrap();
    // docker's helper has the last word for docker's file, so the credential comes from the
    // next source, podman's auth.json.
    bazel.write(
        "home/.docker/config.json",
        r#"{"credsStore":"empty","auths":{}}"#,
    );
    let login = |password: &str| {
        let auths = docker_auths(&fake.host(), &format!("u:{password}"));
        bazel.write("home/.config/containers/auth.json", auths);
    };
    login("pw");
    let auth = |i| {
        bazel
            .get(&blob(&fake, i))
            .success()
            .header("Authorization")
            .map(str::to_string)
    };
    assert_eq!(auth(0).as_deref(), Some("Bearer tok-1"));
    assert_eq!(auth(1).as_deref(), Some("Bearer tok-1"));
    assert_eq!(runs(&bazel, "empty"), 2, "asked each time, as before");

    login("pw2");
    assert_eq!(auth(2).as_deref(), Some("Bearer tok-2"));
    let sent = fake.tokens.requests().pop().unwrap();
    assert_eq!(sent.basic_auth(), Some(("u".into(), "pw2".into())));
}
