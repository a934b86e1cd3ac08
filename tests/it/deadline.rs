//! Children and DNS against the call's one deadline, through the binary: a failing child's
//! output is never quoted, a child's leftovers are killed with it, several slow children share
//! one budget, and a resolver that never answers cannot hold the process past it.

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::http_server::{Response, TestServer};
use crate::support::{Bazel, bazel_request, binary};

/// `get` must have exited by then (Bazel kills it at 10 s).
const CALL_LIMIT: Duration = Duration::from_secs(9);

const CANARY: &str = "CANARY-deadline-5e1d-do-not-print";

/// A leaky helper: the canary on stdout and stderr (as a `set -x` trace would), then failure.
fn leaky(exit: u8) -> String {
    format!(
        "set -x\nsecret={CANARY}\necho \"$secret\"\n{{ set +x; }} 2>/dev/null\n\
         echo \"token: $secret\" >&2\nexit {exit}"
    )
}

fn assert_no_canary(what: &str, out: &crate::support::Answer) {
    assert!(
        !out.stderr.contains(CANARY),
        "{what}: canary on stderr\n{out}"
    );
    assert!(
        !out.stdout.contains(CANARY),
        "{what}: canary on stdout\n{out}"
    );
}

/// Whether `pid` has exited (gone, or a zombie waiting for init).
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn assert_killed(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).expect("the helper wrote its grandchild's pid");
    let pid = pid.trim();
    let until = Instant::now() + Duration::from_secs(1);
    while !dead(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let alive = !dead(pid);
    if alive {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    assert!(
        !alive,
        "the helper's background process {pid} outlived the call"
    );
}

const REGISTRY_URI: &str = "https://registry.example.test/v2/team/app/manifests/v1";
const REGISTRY_CONFIG: &str = r#"{"urls":[{"host":"registry.example.test","helper":"oci"}]}"#;

#[test]
fn a_failing_credential_helper_is_never_quoted() {
    let mut bazel = Bazel::new();
    bazel.config(REGISTRY_CONFIG);
    bazel.write("home/.docker/config.json", r#"{"credsStore":"leaky"}"#);
    bazel.script("docker-credential-leaky", &leaky(1));
    let out = bazel.get(REGISTRY_URI);
    let err = out.failure();
    assert_no_canary("get", &out);
    assert!(
        err.contains("docker-credential-leaky get failed with exit status 1")
            && err.contains("by hand"),
        "{err}"
    );
    let explained = bazel.run(&["explain", REGISTRY_URI], None);
    assert_eq!(explained.status, Some(1), "{explained}");
    assert_no_canary("explain", &explained);

    // Exit 0 with the canary where its JSON should be: not quoted either.
    bazel.script("docker-credential-leaky", &leaky(0));
    let out = bazel.get(REGISTRY_URI);
    out.failure();
    assert_no_canary("get, exit 0", &out);
}

#[test]
fn a_failing_gcloud_is_never_quoted() {
    let mut bazel = Bazel::new();
    // A closed port: no metadata server.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bazel.env(
        "GCE_METADATA_HOST",
        closed.local_addr().unwrap().to_string(),
    );
    drop(closed);
    let gcs = "https://storage.googleapis.com/bucket/object";
    for exit in [1, 0] {
        bazel.script("gcloud", &leaky(exit));
        let out = bazel.get(gcs);
        let err = out.failure();
        assert_no_canary("get", &out);
        if exit == 1 {
            assert!(
                err.contains("gcloud config config-helper failed with exit status 1"),
                "{err}"
            );
        }
        let explained = bazel.run(&["explain", gcs], None);
        assert_eq!(explained.status, Some(1), "{explained}");
        assert_no_canary("explain", &explained);
    }
}

#[test]
fn a_failing_credential_process_or_az_is_never_quoted() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let ecr = "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/team/app/manifests/v1";
    let blob = "https://acct.blob.core.windows.net/bazel-cache/ac/0123";
    for exit in [1, 0] {
        let mut bazel = Bazel::new();
        bazel.script("leaky", &leaky(exit));
        bazel.script("az", &leaky(exit));
        let aws_config = bazel.write("aws-config", "[default]\ncredential_process = leaky\n");
        bazel
            .env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "ecr")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", &aws_config)
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &closed_port);
        for uri in [ecr, blob] {
            let out = bazel.get(uri);
            out.failure();
            assert_no_canary(&format!("get {uri}, exit {exit}"), &out);
            let explained = bazel.run(&["explain", uri], None);
            assert_eq!(explained.status, Some(1), "{explained}");
            assert_no_canary(&format!("explain {uri}, exit {exit}"), &explained);
            let ran = if uri == ecr {
                "credential_process"
            } else {
                "az account"
            };
            assert!(explained.stdout.contains(ran), "{explained}");
        }
    }
}

/// A helper that leaves `sleep 30` holding its stdout, then answers and exits: the answer is
/// used at once and the leftover is killed.
#[test]
fn a_helpers_background_process_neither_blocks_nor_survives_the_call() {
    let registry = TestServer::start(|_| Response::new(200));
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.write("home/.docker/config.json", r#"{"credsStore":"bg"}"#);
    let pid_file = bazel.root().join("grandchild.pid");
    bazel.script(
        "docker-credential-bg",
        &format!(
            "read server\nsleep 30 &\necho $! > '{}'\nprintf '{{\"Username\":\"bob\",\"Secret\":\"pw\"}}'",
            pid_file.display()
        ),
    );
    let uri = format!("{}/v2/team/app/manifests/v1", registry.url());
    let started = Instant::now();
    bazel.get(&uri).success();
    let took = started.elapsed();
    eprintln!("helper with a background process, exit 0: {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_killed(&pid_file);

    // The same, but the helper itself hangs: stopped at its limit, with its group.
    let _ = std::fs::remove_file(&pid_file);
    bazel.script(
        "docker-credential-bg",
        &format!("sleep 30 &\necho $! > '{}'\nwait", pid_file.display()),
    );
    let started = Instant::now();
    let err = bazel.get(&uri).failure();
    let took = started.elapsed();
    eprintln!("hanging helper with a background process: {took:?}");
    assert!(err.contains("did not finish within"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert_killed(&pid_file);
}

/// Two children in one `get` that together outlast the deadline (a 4 s AWS credential_process
/// for the ECR keychain, then config.json's credsStore, 6 s) share it: the second is cut to
/// what is left, not given its own 5 s. (`$DOCKER_AUTH_CONFIG` names no helpers in docker's
/// format, so a third child cannot come from there.)
#[test]
fn slow_helpers_share_one_deadline() {
    let ecr_uri = "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/team/app/manifests/v1";
    let mut bazel = Bazel::new();
    let log = bazel.root().join("runs.log");
    let slow = |name: &str, seconds: u32, then: &str| {
        format!(
            "echo {name} >> '{}'\nsleep {seconds}\n{then}",
            log.display()
        )
    };
    bazel.script("slow-process", &slow("process", 4, "exit 1"));
    bazel.script("docker-credential-slowb", &slow("slowb", 6, "exit 1"));
    let aws_config = bazel.write(
        "aws-config",
        "[default]\ncredential_process = slow-process\n",
    );
    bazel.write("home/.docker/config.json", r#"{"credsStore":"slowb"}"#);
    bazel
        .env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "ecr")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &aws_config);
    let started = Instant::now();
    let err = bazel.get(ecr_uri).failure();
    let took = started.elapsed();
    eprintln!("slow helpers: {took:?}: {err}");
    let runs = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(runs.lines().collect::<Vec<_>>(), ["process", "slowb"]);
    assert!(took < CALL_LIMIT, "{took:?}");
}

/// A UDP socket on port 53 of a loopback address that reads queries and never answers.
pub fn silent_dns() -> Option<UdpSocket> {
    (1..=20).find_map(|last| {
        let socket = UdpSocket::bind(("127.0.0.".to_string() + &last.to_string(), 53)).ok()?;
        let reader = socket.try_clone().ok()?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while reader.recv_from(&mut buf).is_ok() {}
        });
        Some(socket)
    })
}

/// Runs `get` in a mount namespace whose /etc/resolv.conf names `dns`; the wall time until the
/// process has EXITED (and closed its pipes), and its stderr with the debug trace. `None` when
/// `unshare -m` is not permitted.
fn get_with_resolver(bazel: &Bazel, dns: &UdpSocket, uri: &str) -> Option<(Duration, String)> {
    let resolv = bazel.write(
        "resolv.conf",
        format!("nameserver {}\n", dns.local_addr().unwrap().ip()),
    );
    let permitted = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf"])
        .arg(&resolv)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !permitted {
        return None;
    }
    let mut child = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" get",
        ])
        .arg(&resolv)
        .arg(binary())
        .current_dir(bazel.workspace())
        .env_clear()
        .env("HOME", bazel.home())
        .env("XDG_CACHE_HOME", bazel.home().join(".cache"))
        .env("CREDENTIAL_HELPER_LOG", "debug")
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bazel.root().join("bin").display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bazel_request(uri).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(!out.status.success(), "nothing can be found without DNS");
    Some((took, String::from_utf8_lossy(&out.stderr).into_owned()))
}

fn last(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or_default()
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs `unshare -m` and port 53 on loopback (Linux, as root)"
)]
fn a_resolver_that_never_answers_cannot_outlive_the_deadline() {
    let Some(dns) = silent_dns() else {
        panic!("no loopback address with a free UDP port 53");
    };
    // A registry whose name must be resolved, with a static credential.
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"registry.example.test","helper":"oci","config":{"lookup_chain":[{"source":"static","value":"pw","binding":"password"},{"source":"static","value":"bob","binding":"username"}]}}]}"#,
    );
    let Some((took, err)) = get_with_resolver(&bazel, &dns, REGISTRY_URI) else {
        eprintln!("SKIPPED: `unshare -m` is not permitted here");
        return;
    };
    eprintln!(
        "registry behind a silent resolver: exited after {took:?}: {}",
        last(&err)
    );
    assert!(took < CALL_LIMIT, "{took:?}: {err}");

    // The GCE metadata probe (metadata.google.internal, no GCE_METADATA_HOST), promised at most
    // 1 s; gcloud fails at once.
    let bazel = Bazel::new();
    bazel.script("gcloud", "exit 1");
    let (took, err) = get_with_resolver(&bazel, &dns, "https://storage.googleapis.com/b/o")
        .expect("permitted above");
    eprintln!(
        "GCE metadata probe behind a silent resolver: exited after {took:?}: {}",
        last(&err)
    );
    assert!(
        err.contains("metadata.google.internal"),
        "the probe ran\n{err}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}: {err}");
}
