//! The cache trusts only what it owns: attacks of another local user on the cache directory
//! and its files, against the binary run as a non-root victim.

use std::io::Write;
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cache::{Fake, authorization, cache_dir};
use crate::support::Bazel;
use crate::support::http_server::{Response, TestServer};

/// The user the helper runs as (no passwd entry needed), and another local user.
const VICTIM: u32 = 4242;
const ATTACKER: u32 = 4343;
const FAR_FUTURE: i64 = 4_102_444_800; // 2100-01-01

fn victim(fake: &Fake) -> Bazel {
    let mut bazel = fake.bazel("pw");
    bazel.as_user(VICTIM);
    bazel
}

fn sha256_hex(data: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What the cache used to name entries: an unsalted hash anyone can compute (and so plant at,
/// or test password guesses against).
fn old_name(parts: &[&str]) -> String {
    sha256_hex(&parts.join("\0"))[..40].to_string()
}

/// The old names of the token and challenge entries for `u:pw` at `repo`.
fn old_names(fake: &Fake, repo: &str) -> (String, String) {
    let base = fake.registry.url();
    let fingerprint = &sha256_hex("basic\0u\0pw")[..16];
    let scope = format!("repository:{repo}:pull");
    (
        old_name(&["token", &base, &scope, fingerprint]),
        old_name(&["challenge", &base]),
    )
}

fn entry(version: u32, expires: i64, value: serde_json::Value) -> String {
    serde_json::json!({"version": version, "expires": expires, "value": value}).to_string()
}

/// A challenge sending the credential to `realm`.
fn challenge_to(realm: &str) -> serde_json::Value {
    serde_json::json!({"scheme": "bearer", "challenge": {"scheme": "bearer",
        "params": {"realm": realm, "service": "fake"}}})
}

/// A token server of the attacker, counting what it receives.
fn attacker_realm() -> TestServer {
    TestServer::start(|_| Response::json(200, &serde_json::json!({"token": "attacker"})))
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // Never open a FIFO or follow a link here: contents of regular files only.
            let kind = e.file_type().unwrap();
            let contents = match kind.is_file() {
                true => std::fs::read(e.path()).unwrap(),
                false => format!("{kind:?}").into_bytes(),
            };
            (name, contents)
        })
        .collect();
    files.sort();
    files
}

/// A directory another user prepared: every entry the old cache would have read, planted.
fn plant_everything(fake: &Fake, dir: &Path, realm: &str) {
    let (token, challenge) = old_names(fake, "a/b");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    for version in [1, 2] {
        let suffix = if version == 1 { "" } else { "-v2" };
        write(
            &format!("{challenge}{suffix}.json"),
            &entry(version, FAR_FUTURE, challenge_to(realm)),
        );
        let value = match version {
            1 => serde_json::json!({"token": "planted\r\nX-Evil: 1"}),
            _ => serde_json::json!("planted"),
        };
        write(
            &format!("{token}{suffix}.json"),
            &entry(version, FAR_FUTURE, value),
        );
    }
    // Temp-name guesses of the old `.<key>.<pid>.tmp`, pointing at a file of the victim.
    for pid in 1..64 {
        symlink("/dev/null", dir.join(format!(".{token}.{pid}.tmp"))).unwrap();
    }
    std::process::Command::new("mkfifo")
        .arg(dir.join(format!("{token}.lock")))
        .status()
        .unwrap();
}

/// How a directory came to be, and what `explain` says about it.
type Case = (&'static str, fn(&Path), &'static str);

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn a_cache_directory_the_victim_does_not_own_alone_is_not_used() {
    let fake = Fake::start(300, Duration::ZERO);
    let realm = attacker_realm();
    let cases: [Case; 4] = [
        (
            "pre-created by another user, open to all",
            |d| {
                chown(d, Some(ATTACKER), Some(ATTACKER)).unwrap();
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
            },
            "belongs to uid 4343, not to this user (uid 4242)",
        ),
        (
            "the victim's, but world-writable",
            |d| {
                chown(d, Some(VICTIM), Some(VICTIM)).unwrap();
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
            },
            "is writable by its group and all users (mode 0777)",
        ),
        (
            "the victim's, but group-writable",
            |d| {
                chown(d, Some(VICTIM), Some(ATTACKER)).unwrap();
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o770)).unwrap();
            },
            "is writable by its group (mode 0770)",
        ),
        (
            "a link to a private directory of the attacker's choosing",
            |d| {
                let real = d.with_extension("real");
                std::fs::rename(d, &real).unwrap();
                chown(&real, Some(VICTIM), Some(VICTIM)).unwrap();
                std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
                symlink(&real, d).unwrap();
            },
            "is a symbolic link",
        ),
    ];
    for (how, prepare, why) in cases {
        let mut bazel = victim(&fake);
        let shared = bazel.root().join("shared");
        std::fs::create_dir(&shared).unwrap();
        plant_everything(&fake, &shared, &format!("{}/token", realm.url()));
        prepare(&shared);
        bazel.env("CREDENTIAL_HELPER_CACHE_DIR", &shared);
        let before = listing(&shared);
        let (pings, tokens) = fake.counts();

        for n in 1..=2 {
            let answer = bazel.get(&fake.uri("a/b")).success();
            let token = answer.header("Authorization").unwrap().to_string();
            assert!(token.starts_with("Bearer tok-"), "{how}: {token}");
            assert_eq!(
                fake.counts(),
                (pings + n, tokens + n),
                "{how}: through the network, every time"
            );
        }
        assert_eq!(realm.count(), 0, "{how}: the planted realm got nothing");
        assert_eq!(
            listing(&shared),
            before,
            "{how}: nothing written or removed"
        );

        let explain = bazel.run(&["explain", &fake.uri("a/b")], None);
        let text = explain.ok();
        let line = format!("cache: not used (as if off): {}", shared.display());
        assert!(
            text.contains(&line) && text.contains(why),
            "{how}\n{explain}"
        );
        let check = bazel.run(&["check-config"], None);
        assert!(check.ok().contains(why), "{how}\n{check}");
        let clear = bazel.run(&["cache-clear"], None);
        assert!(clear.failure().contains(why), "{how}\n{clear}");
        assert_eq!(
            listing(&shared),
            before,
            "{how}: cache-clear deleted nothing"
        );
    }
}

/// The victim's own cache entry for `a/b` (holding `tok-<n>`) and its remembered challenge.
fn own_entries(bazel: &Bazel) -> (PathBuf, PathBuf) {
    let (mut token, mut challenge) = (None, None);
    for e in std::fs::read_dir(cache_dir(bazel)).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        if text.contains("\"realm\"") {
            challenge = Some(e.path());
        } else if text.contains("tok-") {
            token = Some(e.path());
        }
    }
    (
        token.expect("a token entry"),
        challenge.expect("a challenge"),
    )
}

/// What an attacker leaves at the name of an entry.
type Plant<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn planted_files_in_the_own_directory_are_not_followed_or_served() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = victim(&fake);
    assert_eq!(
        authorization(&bazel, &fake.uri("a/b")).as_deref(),
        Some("Bearer tok-1")
    );
    let (token, challenge) = own_entries(&bazel);
    let elsewhere = bazel.write(
        "home/elsewhere.json",
        entry(2, FAR_FUTURE / 2, "other".into()),
    );
    let big = entry(2, FAR_FUTURE / 2, "big".into()) + &" ".repeat(70_000);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let plants: [(&str, Plant); 7] = [
        (
            "a link to an entry elsewhere",
            Box::new(|p| symlink(&elsewhere, p).unwrap()),
        ),
        (
            "a link to /dev/zero",
            Box::new(|p| symlink("/dev/zero", p).unwrap()),
        ),
        ("a FIFO", Box::new(mkfifo)),
        (
            "a huge file",
            Box::new(|p| std::fs::write(p, &big).unwrap()),
        ),
        (
            "a token with a header in it",
            Box::new(|p| std::fs::write(p, entry(2, now + 60, "x\r\nX-Evil: 1".into())).unwrap()),
        ),
        (
            "a token until 2100",
            Box::new(|p| std::fs::write(p, entry(2, FAR_FUTURE, "forever".into())).unwrap()),
        ),
        (
            "another user's file",
            Box::new(|p| {
                std::fs::write(p, entry(2, now + 60, "theirs".into())).unwrap();
                chown(p, Some(ATTACKER), Some(ATTACKER)).unwrap();
            }),
        ),
    ];
    let mut n = 1;
    for (what, plant) in plants {
        std::fs::remove_file(&token).unwrap();
        plant(&token);
        let started = Instant::now();
        let answer = authorization(&bazel, &fake.uri("a/b"));
        n += 1;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: {:?}",
            started.elapsed()
        );
        assert_eq!(answer, Some(format!("Bearer tok-{n}")), "{what}");
        let meta = std::fs::symlink_metadata(&token).unwrap();
        assert!(meta.is_file(), "{what}: replaced by a real entry");
        let text = std::fs::read_to_string(&token).unwrap();
        assert!(text.contains(&format!("tok-{n}")), "{what}: {text}");
    }
    assert!(
        std::fs::read_to_string(&elsewhere)
            .unwrap()
            .contains("other")
    );

    // A remembered challenge must pass the realm rule a fresh one passes: a realm on another
    // host, or not http(s), is dropped and the registry pinged again.
    let realm = attacker_realm();
    for bad in [
        format!("http://localhost:{}/token", realm.addr().port()),
        format!("file:///{}", realm.addr().port()),
    ] {
        std::fs::write(&challenge, entry(2, now + 3600, challenge_to(&bad))).unwrap();
        std::fs::remove_file(&token).unwrap();
        let pings = fake.registry.count();
        assert!(authorization(&bazel, &fake.uri("a/b")).is_some(), "{bad}");
        assert_eq!(fake.registry.count(), pings + 1, "{bad}: pinged again");
        assert!(!std::fs::read_to_string(&challenge).unwrap().contains(&bad));
    }
    assert_eq!(realm.count(), 0);
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn the_temp_file_name_cannot_be_guessed() {
    let fake = Fake::start(300, Duration::ZERO);
    let bazel = victim(&fake);
    authorization(&bazel, &fake.uri("a/b")).unwrap();
    let (token, _) = own_entries(&bazel);
    let stem = token.file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::remove_file(&token).unwrap();
    let precious = bazel.write("home/.bashrc", "original\n");
    chown(&precious, Some(VICTIM), Some(VICTIM)).unwrap();

    // The old name was `.<key>.<pid>.tmp`: knowing the pid is enough to plant a link there.
    let mut child = bazel.command(&["get"]).spawn().unwrap();
    let guess = cache_dir(&bazel).join(format!(".{stem}.{}.tmp", child.id()));
    symlink(&precious, &guess).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(crate::support::bazel_request(&fake.uri("a/b")).as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "original\n");
    assert!(std::fs::read_to_string(&token).unwrap().contains("tok-2"));
    assert!(
        std::fs::symlink_metadata(&guess)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn cache_clear_deletes_nothing_in_a_directory_it_did_not_create() {
    let fake = Fake::start(300, Duration::ZERO);
    let mut bazel = victim(&fake);
    let name = "0123456789abcdef0123456789abcdef01234567";
    let workspace = bazel.workspace();
    for file in [
        "package.json",
        "MODULE.bazel.lock",
        "x.json",
        &format!("{name}.json"),
    ] {
        let path = bazel.write(Path::new("workspace").join(file), "keep");
        chown(&path, Some(VICTIM), Some(VICTIM)).unwrap();
    }
    bazel.env("CREDENTIAL_HELPER_CACHE_DIR", ".");
    let before = listing(&workspace);
    let out = bazel.run(&["cache-clear"], None);
    let line = out.failure();
    assert!(line.contains("has no CACHEDIR.TAG"), "{out}");
    assert_eq!(listing(&workspace), before, "nothing deleted");

    // The cache's own directory: only what it wrote goes, whatever else is there stays.
    bazel.env_remove("CREDENTIAL_HELPER_CACHE_DIR");
    authorization(&bazel, &fake.uri("a/b")).unwrap();
    let dir = cache_dir(&bazel);
    assert!(
        std::fs::read_to_string(dir.join("CACHEDIR.TAG"))
            .unwrap()
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55\n")
    );
    std::fs::write(dir.join("x.json"), "keep").unwrap();
    let out = bazel.run(&["cache-clear"], None);
    assert!(out.ok().starts_with("removed "), "{out}");
    let left: Vec<_> = listing(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(left, ["x.json"]);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn entry_names_reveal_nothing_about_the_credential() {
    let fake = Fake::start(300, Duration::ZERO);
    let (a, b) = (victim(&fake), victim(&fake));
    for bazel in [&a, &b] {
        authorization(bazel, &fake.uri("a/b")).unwrap();
    }
    let names = |bazel: &Bazel| -> Vec<String> {
        listing(&cache_dir(bazel))
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    };
    let (token, challenge) = old_names(&fake, "a/b");
    for name in names(&a) {
        assert!(
            !name.contains(&token) && !name.contains(&challenge),
            "{name}"
        );
    }
    let key = std::fs::metadata(cache_dir(&a).join("names.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let entries = |bazel| -> Vec<String> {
        names(bazel)
            .into_iter()
            .filter(|n| n.ends_with(".json"))
            .collect()
    };
    assert_eq!(entries(&a).len(), 2);
    for name in entries(&a) {
        assert!(
            !entries(&b).contains(&name),
            "the same name in two caches: {name}"
        );
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn processes_racing_to_create_the_cache_agree_on_one_key() {
    let fake = Fake::start(300, Duration::from_millis(200));
    let bazel = victim(&fake);
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let (bazel, uri) = (&bazel, fake.uri(&format!("r{}/x", i % 3)));
                s.spawn(move || authorization(bazel, &uri))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(Option::is_some));
    assert_eq!(fake.counts(), (1, 3), "one ping, one token per repository");
    let entries = listing(&cache_dir(&bazel))
        .into_iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .count();
    assert_eq!(
        entries, 4,
        "one challenge and three tokens, under one key's names"
    );
}
