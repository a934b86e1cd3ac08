//! Linux: the helper asks NSS nothing. A statically linked glibc program still `dlopen`s the
//! modules `/etc/nsswitch.conf` names for user and host lookups, and a module built against
//! another glibc can crash it; so the home directory comes from `HOME` only and host names are
//! resolved by the helper itself (`/etc/hosts`, then the servers of `/etc/resolv.conf`).
//!
//! Each `nsswitch.conf` below is bind-mounted in a mount namespace (`unshare -m`) together with
//! an `/etc/hosts` of the test's own, and the helper, run under `strace`, reaches a real
//! registry over https through a name only that hosts file knows, and another over http as
//! `localhost` (which that file does not list): as root, and as a uid without a passwd entry
//! and without `HOME`. Every run gives the same answer, and no `libnss_*` file is opened. CI
//! runs this against the static release binary too (`CREDENTIAL_HELPER_TEST_BINARY`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::deadline::silent_dns;
use crate::support::registry::{Auth, Registry, TLS_HOST_NAME};
use crate::support::{Answer, Bazel, b64, bazel_request, binary};

/// The variants: what Debian, Fedora and enterprise machines configure, and a module that does
/// not exist.
const NSSWITCH: &[(&str, &str)] = &[
    (
        "systemd",
        "passwd: files systemd\ngroup: files systemd\nhosts: files systemd dns\n",
    ),
    (
        "mdns",
        "passwd: files\ngroup: files\nhosts: files mdns4_minimal [NOTFOUND=return] dns myhostname\n",
    ),
    (
        "sss",
        "passwd: sss files\ngroup: sss files\nhosts: sss files dns\n",
    ),
    (
        "missing modules",
        "passwd: nosuchmodule files\ngroup: nosuchmodule files\nhosts: nosuchmodule [UNAVAIL=return] files\n",
    ),
];

/// No passwd entry has it.
const UNKNOWN_UID: u32 = 4747;

/// Whether this machine lets the tests bind-mount files over `/etc` in a mount namespace.
pub fn namespaces_permitted() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `strace` can trace a child here.
pub fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One run of `get` as Bazel runs it, in a mount namespace with `nsswitch` and `hosts` over
/// the system's, optionally as `uid`, under `strace -e trace=openat,open`. The answer and
/// every path the helper opened.
pub fn traced_get(
    bazel: &Bazel,
    mounts: &[(&Path, &str)],
    uid: Option<u32>,
    uri: &str,
) -> (Answer, Vec<String>) {
    let log = bazel.root().join(format!("strace-{}.log", rand_suffix()));
    let mut script = String::new();
    let mut args: Vec<String> = vec!["-m".into(), "sh".into(), "-c".into()];
    let mut positional = vec!["sh".to_string()];
    for (i, (file, over)) in mounts.iter().enumerate() {
        script.push_str(&format!("mount --bind \"${}\" {over} && ", i + 1));
        positional.push(file.display().to_string());
    }
    script.push_str(&format!("shift {} && exec \"$@\"", mounts.len()));
    args.push(script);
    args.extend(positional);
    if let Some(uid) = uid {
        args.extend(
            [
                "setpriv",
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
            ]
            .map(String::from),
        );
        args.push("--clear-groups".into());
    }
    args.extend(["strace", "-f", "-qq", "-e", "trace=openat,open", "-o"].map(String::from));
    args.push(log.display().to_string());
    args.extend([binary().to_string(), "get".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let answer = bazel.run_program(
        Path::new("/usr/bin/unshare"),
        &args,
        Some(&bazel_request(uri)),
    );
    let opened = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Some(l.split('"').nth(1)?.to_string()))
        .collect();
    (answer, opened)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The sandbox's copy of the registry's CA, readable by any uid.
fn copy_ca(bazel: &Bazel, registry: &Registry) -> PathBuf {
    bazel.write("ca.pem", std::fs::read(registry.ca_pem_path()).unwrap())
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs `unshare -m`, strace and Debian's docker-registry (Linux, as root)"
)]
fn every_nsswitch_conf_gives_the_same_answer_and_no_module_is_loaded() {
    if !namespaces_permitted() || !strace_works() {
        eprintln!("SKIPPED: `unshare -m` or strace is not permitted here");
        return;
    }
    let tls = Registry::tls(Auth::basic("carol", "carol-pw"));
    let plain = Registry::basic("alice", "alice-pw");
    let port = |r: &Registry| r.host().rsplit_once(':').unwrap().1.to_string();
    let tls_host = format!("{TLS_HOST_NAME}:{}", port(&tls));
    let local_host = format!("localhost:{}", port(&plain));

    let mut bazel = Bazel::new();
    bazel.config(&format!(
        r#"{{"urls":[{{"host":"{TLS_HOST_NAME}","helper":"oci"}},{{"host":"localhost","helper":"oci"}}]}}"#
    ));
    let ca = copy_ca(&bazel, &tls);
    let docker = bazel.write(
        "docker/config.json",
        serde_json::json!({"auths": {
            &tls_host: {"auth": b64("carol:carol-pw")},
            &local_host: {"auth": b64("alice:alice-pw")},
        }})
        .to_string(),
    );
    // Only the test's hosts file knows the TLS registry's name; it does not list localhost,
    // nor an IPv6 address for the name: a query for one would wait on a server that never
    // answers, and the runs are timed.
    let hosts = bazel.write("etc/hosts", format!("127.0.0.1 {TLS_HOST_NAME}\n"));
    let dns = silent_dns().expect("no loopback address with a free UDP port 53");
    let resolv = bazel.write(
        "etc/resolv.conf",
        format!("nameserver {}\n", dns.local_addr().unwrap().ip()),
    );
    bazel
        .env("DOCKER_CONFIG", docker.parent().unwrap())
        .env("CREDENTIAL_HELPER_CA_CERT", &ca)
        // Every run resolves and connects: nothing remembered from the one before.
        .env("CREDENTIAL_HELPER_CACHE", "off")
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let uris = [
        (
            format!("https://{tls_host}/v2/team/app/manifests/v1"),
            format!("Basic {}", b64("carol:carol-pw")),
        ),
        (
            format!("http://{local_host}/v2/team/app/manifests/v1"),
            format!("Basic {}", b64("alice:alice-pw")),
        ),
    ];
    let nsswitch: Vec<(&str, PathBuf)> = NSSWITCH
        .iter()
        .map(|(name, text)| (*name, bazel.write(format!("etc/nsswitch-{name}"), text)))
        .collect();
    // The unknown uid owns the sandbox, and has no HOME or XDG directories.
    let status = Command::new("chown")
        .args(["-R", &format!("{UNKNOWN_UID}:{UNKNOWN_UID}")])
        .arg(bazel.root())
        .status()
        .unwrap();
    assert!(status.success());
    let mut runs = 0;
    let home = bazel.home();
    let runtime = bazel.root().join("runtime");
    for (name, file) in &nsswitch {
        for uid in [None, Some(UNKNOWN_UID)] {
            match uid {
                Some(_) => {
                    for var in [
                        "HOME",
                        "XDG_CONFIG_HOME",
                        "XDG_CACHE_HOME",
                        "XDG_RUNTIME_DIR",
                    ] {
                        bazel.env_remove(var);
                    }
                }
                None => {
                    bazel
                        .env("HOME", &home)
                        .env("XDG_CONFIG_HOME", home.join(".config"))
                        .env("XDG_CACHE_HOME", home.join(".cache"))
                        .env("XDG_RUNTIME_DIR", &runtime);
                }
            }
            for (uri, want) in &uris {
                let mounts = [
                    (file.as_path(), "/etc/nsswitch.conf"),
                    (&hosts, "/etc/hosts"),
                    (&resolv, "/etc/resolv.conf"),
                ];
                let started = Instant::now();
                let (answer, opened) = traced_get(&bazel, &mounts, uid, uri);
                let took = started.elapsed();
                let case = format!("nsswitch {name}, uid {uid:?}, {uri}");
                assert_eq!(answer.signal, None, "{case}: killed by a signal\n{answer}");
                assert_eq!(
                    answer.success().header("authorization"),
                    Some(want.as_str()),
                    "{case}\n{answer}"
                );
                assert!(
                    answer.stderr.contains("network: 1 request(s)"),
                    "{case}: the name was resolved and the registry asked\n{answer}"
                );
                assert!(took < Duration::from_secs(2), "{case}: asked DNS? {took:?}");
                let modules: Vec<&String> =
                    opened.iter().filter(|p| p.contains("libnss_")).collect();
                assert!(modules.is_empty(), "{case}: opened {modules:?}");
                let etc: Vec<&String> = opened.iter().filter(|p| p.starts_with("/etc/")).collect();
                assert!(
                    !etc.iter()
                        .any(|p| *p == "/etc/nsswitch.conf" || *p == "/etc/passwd"),
                    "{case}: asked NSS; opened under /etc: {etc:?}"
                );
                runs += 1;
            }
        }
    }
    assert_eq!(runs, NSSWITCH.len() * 2 * uris.len());
}
