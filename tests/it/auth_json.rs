//! podman/skopeo `auth.json` through the binary, resolved as containers/image resolves it:
//! namespaced keys only for their own namespace with the most specific first, Docker Hub's
//! keys as podman writes them, and every file location (root's `/run/containers/0/` among
//! them).
//!
//! The registry is a stand-in whose `/v2/` asks for Basic auth, so the answer's
//! `Authorization` shows exactly which entry was chosen. Docker Hub is reached over plain http
//! through `HTTP_PROXY` (its entries say `"insecure": true`).

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use crate::support::http_server::{Response, TestServer};
use crate::support::{Bazel, b64};

/// A registry that answers `/v2/` (also as a proxy's absolute URL) with a Basic challenge.
fn basic_registry() -> TestServer {
    TestServer::start(|req| {
        if req.path_only().ends_with("/v2/") {
            Response::new(401).header("WWW-Authenticate", r#"Basic realm="fake""#)
        } else {
            Response::new(404)
        }
    })
}

/// An `auth.json` with one `auth` entry per `(key, user)`, each user's password `pw`.
fn auth_json(entries: &[(&str, &str)]) -> String {
    let auths: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(key, user)| {
            (
                key.to_string(),
                serde_json::json!({"auth": b64(&format!("{user}:pw"))}),
            )
        })
        .collect();
    serde_json::json!({ "auths": auths }).to_string()
}

/// The user whose credential the answer for `uri` carries, or `None` for no `Authorization`.
fn chosen(bazel: &Bazel, uri: &str) -> Option<String> {
    let out = bazel.get(uri);
    let authorization = out.success().header("Authorization").map(str::to_owned)?;
    let encoded = authorization
        .strip_prefix("Basic ")
        .unwrap_or_else(|| panic!("not Basic: {authorization}\n{out}"));
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
        .expect("base64");
    let decoded = String::from_utf8(decoded).unwrap();
    Some(decoded.strip_suffix(":pw").expect("password pw").to_owned())
}

/// A sandbox with an oci entry for 127.0.0.1 and no token cache.
fn local_sandbox() -> Bazel {
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#)
        .env("CREDENTIAL_HELPER_CACHE", "off");
    bazel
}

/// Issue 1: with only `host/foo`, `host/bar/...` gets nothing; the most specific key wins,
/// whatever else the file holds; `http(s)://` keys are the registry's.
#[test]
fn namespaced_keys_serve_only_their_namespace_most_specific_first() {
    let registry = basic_registry();
    let host = registry.addr().to_string();
    let uri = |repo: &str| format!("http://{host}/v2/{repo}/manifests/v1");
    let bazel = local_sandbox();
    let file = "runtime/containers/auth.json";

    bazel.write(file, auth_json(&[(&format!("{host}/foo"), "foo")]));
    assert_eq!(chosen(&bazel, &uri("foo/app")).as_deref(), Some("foo"));
    assert_eq!(chosen(&bazel, &uri("foo")).as_deref(), Some("foo"));
    assert_eq!(chosen(&bazel, &uri("bar/app")), None, "not foo's namespace");
    assert_eq!(
        chosen(&bazel, &uri("foobar/app")),
        None,
        "a prefix is not a namespace"
    );

    bazel.write(
        file,
        auth_json(&[
            (&host, "host"),
            (&format!("{host}/a"), "a"),
            (&format!("{host}/a/b"), "ab"),
            (&format!("{host}/a/b/c"), "abc"),
            (&format!("{host}/x"), "x"),
        ]),
    );
    for (repo, user) in [
        ("a/b/c/img", "abc"),
        ("a/b/c", "abc"),
        ("a/b/img", "ab"),
        ("a/bc/img", "a"),
        ("a/img", "a"),
        ("x/y/z", "x"),
        ("other/img", "host"),
    ] {
        assert_eq!(chosen(&bazel, &uri(repo)).as_deref(), Some(user), "{repo}");
    }

    // The legacy URL form is the whole registry's, after every exact key.
    bazel.write(
        file,
        auth_json(&[
            (&format!("https://{host}/v1/"), "legacy"),
            (&format!("{host}/ns"), "ns"),
        ]),
    );
    assert_eq!(chosen(&bazel, &uri("ns/app")).as_deref(), Some("ns"));
    assert_eq!(chosen(&bazel, &uri("other/app")).as_deref(), Some("legacy"));
    bazel.write(
        file,
        auth_json(&[(&format!("http://{host}"), "legacy"), (&host, "host")]),
    );
    assert_eq!(chosen(&bazel, &uri("other/app")).as_deref(), Some("host"));

    // In ~/.dockercfg (the legacy format) every key is a host.
    std::fs::remove_file(bazel.root().join(file)).unwrap();
    bazel.write(
        "home/.dockercfg",
        serde_json::json!({ format!("{host}/foo"): {"auth": b64("cfg:pw")} }).to_string(),
    );
    assert_eq!(chosen(&bazel, &uri("bar/app")).as_deref(), Some("cfg"));
}

/// Issue 2: Docker Hub's namespaced keys are used for their repositories (`busybox` is
/// `library/busybox`), and `docker.io` (what `podman login docker.io` writes) comes before
/// `index.docker.io`, on every Hub host name.
#[test]
fn docker_hub_keys_resolve_as_podman_writes_them() {
    let hub = basic_registry();
    let mut bazel = Bazel::new();
    bazel
        .config(
            r#"{"urls":[
              {"host":"index.docker.io","helper":"oci","config":{"insecure":true}},
              {"host":"registry-1.docker.io","helper":"oci","config":{"insecure":true}},
              {"host":"docker.io","helper":"oci","config":{"insecure":true}}]}"#,
        )
        .env("CREDENTIAL_HELPER_CACHE", "off")
        .env("HTTP_PROXY", hub.url())
        .env("NO_PROXY", "127.0.0.1");
    let file = "home/.config/containers/auth.json";
    bazel.write(
        file,
        auth_json(&[
            ("index.docker.io", "index"),
            ("docker.io", "top"),
            ("docker.io/library", "library"),
            ("docker.io/library/busybox", "busybox"),
            ("docker.io/vendor", "vendor"),
        ]),
    );
    for host in ["index.docker.io", "registry-1.docker.io", "docker.io"] {
        let uri = |repo: &str| format!("http://{host}/v2/{repo}/manifests/latest");
        for (repo, user) in [
            ("library/busybox", "busybox"),
            ("library/alpine", "library"),
            ("vendor/product", "vendor"),
            ("vendor/sub/product", "vendor"),
            ("other/product", "top"),
        ] {
            assert_eq!(
                chosen(&bazel, &uri(repo)).as_deref(),
                Some(user),
                "{host}/{repo}"
            );
        }
    }
    // The proxy saw the Hub host names: the requests were Docker Hub's.
    assert!(
        hub.requests()
            .iter()
            .any(|r| r.path == "http://registry-1.docker.io/v2/"),
        "{:?}",
        hub.requests()
    );

    // Without docker.io, a key naming the Hub in another form is the whole registry's;
    // namespaces under index.docker.io are not docker.io's.
    let uri = "http://index.docker.io/v2/library/alpine/manifests/latest";
    for (entries, want) in [
        (&[("index.docker.io", "index")][..], Some("index")),
        (
            &[("https://index.docker.io/v1/", "legacy")][..],
            Some("legacy"),
        ),
        (&[("registry-1.docker.io", "r1")][..], Some("r1")),
        (&[("index.docker.io/library", "nested")][..], None),
    ] {
        bazel.write(file, auth_json(entries));
        assert_eq!(chosen(&bazel, uri).as_deref(), want, "{entries:?}");
    }
}

/// `/run/containers/<uid>/` for a uid nobody else uses, claimed by creating the directory
/// (so parallel tests and other test processes never share one, and an existing directory,
/// podman's own, is never touched); removed with its contents when dropped.
struct RunContainersDir {
    uid: u32,
    dir: PathBuf,
    created_parent: bool,
}

impl RunContainersDir {
    const PARENT: &str = "/run/containers";

    fn claim() -> RunContainersDir {
        let parent = Path::new(Self::PARENT);
        let created_parent = !parent.exists();
        let start = 3_100_000 + std::process::id() % 100_000 * 10;
        for uid in start..start + 1000 {
            let dir = parent.join(uid.to_string());
            let mut made = std::fs::create_dir(&dir);
            if matches!(&made, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
                std::fs::create_dir_all(parent).expect("create /run/containers");
                made = std::fs::create_dir(&dir);
            }
            match made {
                Ok(()) => {
                    chown(&dir, Some(uid), Some(uid)).unwrap();
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
                    return RunContainersDir {
                        uid,
                        dir,
                        created_parent,
                    };
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("create {}: {e}", dir.display()),
            }
        }
        panic!("no free uid for {}", Self::PARENT)
    }

    /// Writes `auth.json` as `podman login` leaves it: the user's, mode 0600.
    fn write_auth_json(&self, contents: &str) -> PathBuf {
        let path = self.dir.join("auth.json");
        std::fs::write(&path, contents).unwrap();
        chown(&path, Some(self.uid), Some(self.uid)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

impl Drop for RunContainersDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.created_parent {
            // Fails, harmlessly, while another test still has its directory there.
            let _ = std::fs::remove_dir(Self::PARENT);
        }
    }
}

/// Issue 3: with `XDG_RUNTIME_DIR` unset (root in a CI container), podman's file is
/// `/run/containers/<uid>/auth.json`, read before `~/.config/containers/auth.json`; with it
/// set, only `$XDG_RUNTIME_DIR/containers/auth.json` is.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn without_xdg_runtime_dir_the_per_uid_file_under_run_is_read() {
    let registry = basic_registry();
    let host = registry.addr().to_string();
    let uri = format!("http://{host}/v2/team/app/manifests/v1");
    let run = RunContainersDir::claim();
    let path = run.write_auth_json(&auth_json(&[(&host, "run")]));

    let mut bazel = local_sandbox();
    bazel.as_user(run.uid).env_remove("XDG_RUNTIME_DIR");
    bazel.write(
        "home/.config/containers/auth.json",
        auth_json(&[(&host, "config")]),
    );
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(&uri);
    assert!(
        out.stderr
            .contains(&format!("{} auths[\"{host}\"]", path.display())),
        "names the file: {out}"
    );
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("run"));

    // Another user's file is not this one's.
    let mut other = local_sandbox();
    other.as_user(run.uid + 1).env_remove("XDG_RUNTIME_DIR");
    assert_eq!(chosen(&other, &uri), None);

    // $XDG_RUNTIME_DIR replaces /run/containers/<uid>, even when it holds no auth.json.
    let runtime = bazel.root().join("runtime");
    bazel.env("XDG_RUNTIME_DIR", &runtime);
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("config"));
    bazel.write("runtime/containers/auth.json", auth_json(&[(&host, "xdg")]));
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("xdg"));
}

/// `$REGISTRY_AUTH_FILE` (the tools' `--authfile` default) is the only `auth.json` read.
#[test]
fn registry_auth_file_is_the_only_auth_file() {
    let registry = basic_registry();
    let host = registry.addr().to_string();
    let uri = format!("http://{host}/v2/team/app/manifests/v1");
    let mut bazel = local_sandbox();
    bazel.write(
        "runtime/containers/auth.json",
        auth_json(&[(&host, "runtime")]),
    );
    bazel.write(
        "home/.dockercfg",
        serde_json::json!({ &host: {"auth": b64("cfg:pw")} }).to_string(),
    );
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("runtime"));
    let file = bazel.write("elsewhere/auth.json", auth_json(&[("quay.io", "quay")]));
    bazel.env("REGISTRY_AUTH_FILE", &file);
    assert_eq!(chosen(&bazel, &uri), None);
    bazel.write("elsewhere/auth.json", auth_json(&[(&host, "authfile")]));
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("authfile"));
}

/// A file's `credHelpers[<registry>]` answers for that file: its `auths` are not looked at,
/// and the helper's "not found" moves on to the next file. Docker Hub's helper is asked for
/// `docker.io`.
#[test]
fn cred_helpers_in_auth_json_answer_for_their_file() {
    let registry = basic_registry();
    let host = registry.addr().to_string();
    let uri = format!("http://{host}/v2/team/app/manifests/v1");
    let bazel = local_sandbox();
    bazel.write(
        "runtime/containers/auth.json",
        serde_json::json!({
            "credHelpers": { &host: "fake" },
            "auths": { &host: {"auth": b64("shadowed:pw")} },
        })
        .to_string(),
    );
    bazel.write(
        "home/.config/containers/auth.json",
        auth_json(&[(&host, "next-file")]),
    );
    bazel.script(
        "docker-credential-fake",
        r#"read server; if [ "$server" = "$EXPECT" ]; then printf '{"Username":"helper","Secret":"pw"}'; else echo "credentials not found in native keychain"; exit 1; fi"#,
    );
    let mut bazel = bazel;
    bazel.env("EXPECT", &host);
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("helper"));
    bazel.env("EXPECT", "someone-else");
    assert_eq!(chosen(&bazel, &uri).as_deref(), Some("next-file"));

    // Docker Hub: the key and the server name are docker.io.
    let hub = basic_registry();
    bazel
        .config(
            r#"{"urls":[{"host":"index.docker.io","helper":"oci","config":{"insecure":true}}]}"#,
        )
        .env("HTTP_PROXY", hub.url())
        .env("NO_PROXY", "127.0.0.1")
        .env("EXPECT", "docker.io");
    bazel.write(
        "runtime/containers/auth.json",
        serde_json::json!({"credHelpers": {"docker.io": "fake"}}).to_string(),
    );
    assert_eq!(
        chosen(
            &bazel,
            "http://index.docker.io/v2/library/busybox/manifests/latest"
        )
        .as_deref(),
        Some("helper")
    );
}
