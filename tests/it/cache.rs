//! The on-disk token cache shared by helper processes, against a fake registry and token
//! server that count every request.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::http_server::{Response, TestServer, fake_registry};
use crate::support::{Bazel, docker_auths};

/// A registry whose `/v2/` challenges for a token server that hands out `tok-<n>` tokens.
pub struct Fake {
    pub registry: TestServer,
    pub tokens: TestServer,
}

impl Fake {
    pub fn start(expires_in: u64, delay: Duration) -> Fake {
        let counter = Arc::new(AtomicUsize::new(0));
        let tokens = TestServer::start(move |_| {
            // A slow exchange widens the window in which concurrent processes race.
            std::thread::sleep(delay);
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            Response::json(
                200,
                &serde_json::json!({"token": format!("tok-{n}"), "expires_in": expires_in}),
            )
        });
        let realm = format!("{}/token", tokens.url());
        let registry = fake_registry(realm);
        Fake { registry, tokens }
    }

    pub fn uri(&self, repo: &str) -> String {
        format!("{}/v2/{repo}/manifests/v1", self.registry.url())
    }

    pub fn host(&self) -> String {
        self.registry
            .url()
            .trim_start_matches("http://")
            .to_string()
    }

    pub fn bazel(&self, password: &str) -> Bazel {
        let mut bazel = Bazel::new();
        bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
        self.login(&bazel, password);
        bazel
    }

    pub fn login(&self, bazel: &Bazel, password: &str) {
        bazel.write(
            "home/.docker/config.json",
            docker_auths(&self.host(), &format!("u:{password}")),
        );
    }

    /// (pings, token requests) seen so far.
    pub fn counts(&self) -> (usize, usize) {
        (self.registry.count(), self.tokens.count())
    }
}

/// The `Authorization` a `get` answers.
pub fn authorization(bazel: &Bazel, uri: &str) -> Option<String> {
    bazel
        .get(uri)
        .success()
        .header("Authorization")
        .map(str::to_string)
}

pub fn cache_dir(bazel: &Bazel) -> std::path::PathBuf {
    bazel.home().join(".cache/credential-helper")
}

#[test]
fn warm_hit_makes_no_request_and_keeps_the_entry_expiry() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = fake.bazel("pw");
    let cold = bazel.get(&fake.uri("a/b")).success();
    assert_eq!(cold.header("Authorization"), Some("Bearer tok-1"));
    assert_eq!(fake.counts(), (1, 1), "cold: ping + token");

    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let warm = bazel.get(&fake.uri("a/b"));
    assert!(warm.stderr.contains("cache: hit"), "{warm}");
    assert!(
        warm.stderr
            .contains("network: 0 request(s); HTTP client not built"),
        "{warm}"
    );
    let warm = warm.success();
    assert_eq!(warm.header("Authorization"), Some("Bearer tok-1"));
    assert_eq!(
        warm.expires, cold.expires,
        "a hit answers the entry's own expiry"
    );
    assert_eq!(fake.counts(), (1, 1), "warm: no request at all");

    // Another repository: the challenge is remembered, so only the token request is made.
    let other = bazel.get(&fake.uri("c/d"));
    assert!(other.stderr.contains("cache: miss"), "{other}");
    assert_eq!(
        other.success().header("Authorization"),
        Some("Bearer tok-2")
    );
    assert_eq!(fake.counts(), (1, 2), "remembered challenge: 1 request");
}

#[test]
fn expired_entries_are_not_served() {
    // A 4 s lifetime keeps half as margin: usable for 2 s.
    let fake = Fake::start(4, Duration::ZERO);
    let bazel = fake.bazel("pw");
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-1")
    );
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-1")
    );
    std::thread::sleep(Duration::from_millis(3100));
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2")
    );
}

#[test]
fn corrupt_entries_are_ignored_and_rewritten() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = fake.bazel("pw");
    bazel.get(&fake.uri("a/b")).success();
    let dir = cache_dir(&bazel);
    for (i, entry) in std::fs::read_dir(&dir).unwrap().flatten().enumerate() {
        if entry.path().extension().is_some_and(|e| e == "json") {
            let garbage: &[u8] = match i % 3 {
                0 => b"{\"version\":1,\"expi",
                1 => b"{\"version\":999,\"expires\":99999999999,\"value\":{}}",
                _ => b"\xff\xfe not json",
            };
            std::fs::write(entry.path(), garbage).unwrap();
        }
    }
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2")
    );
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2"),
        "rewritten"
    );
}

#[test]
fn permissions_are_private() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = fake.bazel("pw");
    bazel.get(&fake.uri("a/b")).success();
    let dir = cache_dir(&bazel);
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{entry:?}"
        );
        files += 1;
    }
    assert!(files >= 2, "a token entry and a remembered challenge");
    // Nothing read from the user's files is stored: the password is not in any entry.
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!text.contains("pw\"") && !text.contains("dTpwdw"), "{text}");
    }
}

#[test]
fn concurrent_processes_share_one_exchange() {
    let fake = Fake::start(300, Duration::from_millis(300));
    let bazel = fake.bazel("pw");
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|i| {
                let bazel = &bazel;
                let uri = format!("{}/v2/a/b/blobs/sha256:{i:064x}", fake.registry.url());
                s.spawn(move || bazel.get(&uri))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for answer in &answers {
        assert_eq!(
            answer.success().header("Authorization"),
            Some("Bearer tok-1"),
            "{answer}"
        );
    }
    assert_eq!(fake.tokens.count(), 1, "one token request for 32 processes");
}

#[test]
fn rotated_credentials_get_a_new_token() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = fake.bazel("old-password");
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-1")
    );
    fake.login(&bazel, "new-password");
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2")
    );
    let last = fake.tokens.requests().pop().unwrap();
    assert_eq!(last.basic_auth(), Some(("u".into(), "new-password".into())));
}

#[test]
fn cache_off_by_env_or_entry() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = fake.bazel("pw");
    bazel
        .env("CREDENTIAL_HELPER_CACHE", "off")
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let first = bazel.get(&fake.uri("a/b"));
    assert!(first.stderr.contains("cache: bypass"), "{first}");
    bazel.get(&fake.uri("a/b")).success();
    assert_eq!(fake.counts(), (2, 2), "every call pings and exchanges");
    assert!(!cache_dir(&bazel).exists());

    let mut bazel = fake.bazel("pw");
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"cache":false}}]}"#);
    bazel.get(&fake.uri("a/b")).success();
    bazel.get(&fake.uri("a/b")).success();
    assert_eq!(fake.counts(), (4, 4));
}

#[test]
fn cache_dir_override_and_cache_clear() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = fake.bazel("pw");
    let dir = bazel.root().join("my-cache");
    bazel.env("CREDENTIAL_HELPER_CACHE_DIR", &dir);
    bazel.get(&fake.uri("a/b")).success();
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 2);
    let out = bazel.run(&["cache-clear"], None);
    assert!(out.ok().starts_with("removed "), "{out}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2")
    );
}

#[test]
fn a_stale_remembered_challenge_is_forgotten() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = fake.bazel("pw");
    bazel.get(&fake.uri("a/b")).success();
    // The registry moved its realm: point the remembered challenge at a dead port.
    let dir = cache_dir(&bazel);
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if text.contains("\"realm\"") {
            let moved = text.replace(&fake.tokens.url(), &format!("http://{dead}"));
            std::fs::write(entry.path(), moved).unwrap();
        } else if text.contains("tok-1") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-2")
    );
    assert_eq!(fake.registry.count(), 2, "pinged again after the failure");
}
