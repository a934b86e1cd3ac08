//! containers/image's own test cases for `pkg/docker/config`, as tables.

use super::*;
use crate::kernel::env::test_env;
use std::path::Path;

fn target(url: &str) -> Target {
    Target::from_url(&url::Url::parse(url).unwrap()).unwrap()
}

/// A file's `auths` from `"key=user:password key=user:password ..."`.
fn file(spec: &str) -> BTreeMap<String, String> {
    spec.split_whitespace()
        .map(|entry| entry.split_once('=').unwrap())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `user:password` containers/image's `GetCredentials(key)` returns from `auths`.
fn get<'a>(auths: &'a BTreeMap<String, String>, key: &str, legacy: bool) -> Option<&'a str> {
    find_key(auths, &Query::from_key(key), legacy).map(|(_, v)| v.as_str())
}

// containers/image's pkg/docker/config/testdata.
const EXAMPLE: &str = "example.org=example:org";
const IDENTITY_TOKEN: &str = "example.org=00000000-0000-0000-0000-000000000000:";
const FULL: &str = "example.org=example:org index.docker.io=index:docker.io docker.io=docker:io \
    localhost=local:host localhost:5000=local:host-5000 10.10.30.45=10.10:30.45 \
    10.10.30.45:5000=10.10:30.45-5000 https://normalize.example.org/v1=normalize:example";
const ABNORMAL: &str = "example.org=example:org https://index.docker.io/v1=index:docker.io \
    https://127.0.0.1:5000=127.0:0.1-5000 http://localhost=local:host \
    https://localhost:5001=local:host-5001 localhost:5000=local:host-5000";
const REFPATH: &str = "example.org/repo=example:org example.org=local:host \
    docker.io/vendor=first:level docker.io=top:level \
    docker.io/library/busybox=library:busybox docker.io/library=library:other";
const LEGACY: &str =
    "http://index.docker.io/v1=docker:io-legacy https://localhost/v1=local:host-legacy";

/// `TestAuthKeyLookupOrder`.
#[test]
fn lookup_order_walks_up_the_namespaces() {
    for (input, want) in [
        ("quay.io/image", "quay.io/image quay.io"),
        (
            "quay.io/user/image",
            "quay.io/user/image quay.io/user quay.io",
        ),
        (
            "quay.io/a/b/c/d/image",
            "quay.io/a/b/c/d/image quay.io/a/b/c/d quay.io/a/b/c quay.io/a/b quay.io/a quay.io",
        ),
        (
            "docker.io/library/busybox",
            "docker.io/library/busybox docker.io/library docker.io",
        ),
        (
            "docker.io/vendor/busybox",
            "docker.io/vendor/busybox docker.io/vendor docker.io",
        ),
    ] {
        let query = Query::from_key(input);
        let want: Vec<&str> = want.split(' ').collect();
        assert_eq!(lookup_order(&query, false), want, "{input}");
        assert_eq!(
            lookup_order(&query, true),
            [want[want.len() - 1]],
            "{input}"
        );
    }
}

/// `TestGetAuth`, `TestSetGetCredentials`, `TestGetCredentialsInteroperability`, and the
/// issue's cases: (file, key asked for, the `user:password` containers/image returns).
#[test]
fn auth_json_keys_resolve_as_containers_image_resolves_them() {
    for (spec, key, want) in [
        // TestGetAuth
        ("", "index.docker.io", None),
        (EXAMPLE, "", None),
        (EXAMPLE, "example.org", Some("example:org")),
        (EXAMPLE, "registry.example.org", None),
        (FULL, "docker.io", Some("docker:io")),
        (ABNORMAL, "docker.io", Some("index:docker.io")),
        (FULL, "normalize.example.org", Some("normalize:example")),
        (FULL, "localhost", Some("local:host")),
        (FULL, "10.10.30.45:5000", Some("10.10:30.45-5000")),
        (ABNORMAL, "localhost:5000", Some("local:host-5000")),
        (
            IDENTITY_TOKEN,
            "example.org",
            Some("00000000-0000-0000-0000-000000000000:"),
        ),
        ("", "localhost:5000", None),
        (REFPATH, "example.org/repo/image", Some("example:org")),
        (REFPATH, "example.org/repo", Some("example:org")),
        (REFPATH, "example.org/image", Some("local:host")),
        (
            REFPATH,
            "docker.io/library/busybox",
            Some("library:busybox"),
        ),
        (
            REFPATH,
            "docker.io/library/notbusybox",
            Some("library:other"),
        ),
        // docker.io/vendor is not normalised to docker.io/library/vendor, in the file or in
        // the query.
        (REFPATH, "docker.io/vendor/product", Some("first:level")),
        (REFPATH, "docker.io/vendor", Some("first:level")),
        (
            REFPATH,
            "docker.io/other-vendor/other-product",
            Some("top:level"),
        ),
        // TestSetGetCredentials
        ("quay.io/foo=u:p", "quay.io/foo/a", Some("u:p")),
        ("quay.io=u:p", "quay.io/foo", Some("u:p")),
        ("quay.io/foo=u:p", "quay.io/bar", None),
        ("https://quay.io/v1/=u:p", "quay.io/foo", Some("u:p")),
        // TestGetCredentialsInteroperability: what docker login writes.
        (
            "https://index.docker.io/v1/=u:p",
            "docker.io/notlibrary/busybox",
            Some("u:p"),
        ),
        (
            "example.com:8000=u:p",
            "example.com:8000/ns/repo",
            Some("u:p"),
        ),
        // A namespaced key serves only its namespace, at a `/` boundary; the most specific
        // key wins; a URL key is the host's, after every exact key.
        ("quay.io/foo=foo:p", "quay.io/bar/app", None),
        (
            "quay.io=h:p quay.io/a=a:p quay.io/a/b=ab:p quay.io/a/b/c=abc:p",
            "quay.io/a/b/c/img",
            Some("abc:p"),
        ),
        (
            "quay.io/a=a:p quay.io/a/b=ab:p",
            "quay.io/a/bc/img",
            Some("a:p"),
        ),
        (
            "quay.io/a=a:p https://quay.io/b=url:p",
            "quay.io/c/img",
            Some("url:p"),
        ),
        (
            "https://quay.io=url:p quay.io=h:p",
            "quay.io/c/img",
            Some("h:p"),
        ),
        // docker.io before index.docker.io; Hub's other names are the whole Hub's; no
        // namespace under index.docker.io is docker.io's.
        (
            "index.docker.io=i:p docker.io=d:p",
            "docker.io/library/busybox",
            Some("d:p"),
        ),
        (
            "index.docker.io=i:p docker.io/library=l:p",
            "docker.io/vendor/x",
            Some("i:p"),
        ),
        (
            "registry-1.docker.io=r:p",
            "docker.io/library/busybox",
            Some("r:p"),
        ),
        (
            "index.docker.io/library=l:p",
            "docker.io/library/busybox",
            None,
        ),
        // Of several URL forms of one host, the first in byte order.
        (
            "https://quay.io/v1/=b:p http://quay.io=a:p",
            "quay.io/x",
            Some("a:p"),
        ),
        // No case folding.
        ("Quay.io=u:p", "quay.io/a", None),
    ] {
        assert_eq!(get(&file(spec), key, false), want, "{key} in {spec:?}");
    }
}

/// `TestGetAuthFromLegacyFile` and `TestSetGetCredentials`' legacy case: in `~/.dockercfg`
/// every key is a host.
#[test]
fn dockercfg_keys_are_hosts() {
    for (spec, key, want) in [
        (LEGACY, "localhost", Some("local:host-legacy")),
        (LEGACY, "docker.io", Some("docker:io-legacy")),
        ("https://quay.io/v1/=u:p", "quay.io", Some("u:p")),
        ("quay.io/foo=u:p", "quay.io", Some("u:p")),
        ("quay.io/foo=u:p", "quay.io/bar/x", Some("u:p")),
        ("docker.io/library=u:p", "docker.io/vendor/x", Some("u:p")),
    ] {
        assert_eq!(get(&file(spec), key, true), want, "{key} in {spec:?}");
    }
}

/// `TestSetCredentials`: every key `podman login` writes reads back as itself.
#[test]
fn every_written_key_reads_back_as_itself() {
    for keys in [
        &[
            "quay.io/a/b/c",
            "quay.io/a/b",
            "quay.io/a",
            "quay.io",
            "my-registry.local",
        ][..],
        &[
            "docker.io",
            "docker.io/vendor/product",
            "docker.io/vendor",
            "docker.io/library/busybox",
            "docker.io/library",
        ],
    ] {
        let auths = keys
            .iter()
            .map(|k| (k.to_string(), k.to_string()))
            .collect();
        for key in keys {
            assert_eq!(get(&auths, key, false), Some(*key));
        }
    }
}

#[test]
fn keys_normalise_as_normalize_auth_file_key() {
    for (key, legacy, want) in [
        ("docker.io", false, "index.docker.io"),
        ("registry-1.docker.io", false, "index.docker.io"),
        ("index.docker.io", false, "index.docker.io"),
        ("https://index.docker.io/v1/", false, "index.docker.io"),
        ("http://docker.io/v1/", false, "index.docker.io"),
        ("https://quay.io/v1/", false, "quay.io"),
        ("https://quay.io/foo", false, "quay.io"),
        ("http://localhost:5000", false, "localhost:5000"),
        ("quay.io/foo", false, "quay.io/foo"),
        ("quay.io/foo", true, "quay.io"),
        ("docker.io/library", false, "docker.io/library"),
        ("docker.io/library", true, "index.docker.io"),
        ("HTTPS://quay.io", false, "HTTPS://quay.io"),
    ] {
        assert_eq!(normalize_auth_file_key(key, legacy), want, "{key}");
    }
}

#[test]
fn requests_are_looked_up_by_podmans_image_name() {
    for (url, key) in [
        (
            "https://index.docker.io/v2/library/busybox/manifests/1",
            "docker.io/library/busybox",
        ),
        (
            "https://registry-1.docker.io/v2/library/busybox/blobs/sha256:0",
            "docker.io/library/busybox",
        ),
        (
            "https://docker.io/v2/vendor/product/manifests/1",
            "docker.io/vendor/product",
        ),
        (
            "https://index.docker.io/v2/busybox/manifests/1",
            "docker.io/library/busybox",
        ),
        ("https://quay.io/v2/a/b/c/manifests/1", "quay.io/a/b/c"),
        (
            "http://localhost:5000/v2/team/app/manifests/1",
            "localhost:5000/team/app",
        ),
        // A port makes it another registry than Docker Hub.
        (
            "https://docker.io:5000/v2/x/manifests/1",
            "docker.io:5000/x",
        ),
    ] {
        let query = Query::for_target(&target(url));
        assert_eq!(query.key, key, "{url}");
        assert_eq!(query.registry, key.split('/').next().unwrap(), "{url}");
    }
}

/// `TestGetPathToAuth` (the first file) and `getAuthFilePaths` (the rest): (variables, uid,
/// system, the files in order). A `config.json` is docker's and `.dockercfg` the legacy
/// format; every other file is an `auth.json`.
#[test]
fn files_are_containers_images_in_its_order() {
    const REST: &str = "/home/u/.config/containers/auth.json /home/u/.docker/config.json \
        /home/u/.dockercfg";
    let with = |first: &str| format!("{first} {REST}");
    for (vars, uid, os, want) in [
        // Default paths.
        (
            "HOME=/home/u",
            Some(1000),
            "linux",
            with("/run/containers/1000/auth.json"),
        ),
        (
            "HOME=/home/u",
            Some(0),
            "linux",
            with("/run/containers/0/auth.json"),
        ),
        // Elsewhere, ~/.config/containers/auth.json, listed once.
        ("HOME=/home/u", Some(501), "macos", REST.into()),
        ("HOME=/home/u", Some(1001), "freebsd", REST.into()),
        ("HOME=/home/u", None, "windows", REST.into()),
        // XDG_RUNTIME_DIR, on Linux only; empty is unset.
        (
            "HOME=/home/u XDG_RUNTIME_DIR=/run/user/1000",
            Some(1000),
            "linux",
            with("/run/user/1000/containers/auth.json"),
        ),
        (
            "HOME=/home/u XDG_RUNTIME_DIR=",
            Some(1000),
            "linux",
            with("/run/containers/1000/auth.json"),
        ),
        (
            "HOME=/home/u XDG_RUNTIME_DIR=/run/user/501",
            Some(501),
            "macos",
            REST.into(),
        ),
        // XDG_CONFIG_HOME and DOCKER_CONFIG.
        (
            "HOME=/home/u XDG_CONFIG_HOME=/cfg DOCKER_CONFIG=/dk",
            Some(1000),
            "linux",
            "/run/containers/1000/auth.json /cfg/containers/auth.json /dk/config.json \
                /home/u/.dockercfg"
                .into(),
        ),
        (
            "HOME=/home/u XDG_CONFIG_HOME=/cfg",
            Some(501),
            "macos",
            "/home/u/.config/containers/auth.json /cfg/containers/auth.json \
                /home/u/.docker/config.json /home/u/.dockercfg"
                .into(),
        ),
        // The user's own file is the only one, on every system.
        (
            "HOME=/home/u REGISTRY_AUTH_FILE=/absolute/path XDG_RUNTIME_DIR=/run/user/1000",
            Some(1000),
            "linux",
            "/absolute/path".into(),
        ),
        (
            "HOME=/home/u REGISTRY_AUTH_FILE=/absolute/path",
            Some(501),
            "macos",
            "/absolute/path".into(),
        ),
        // Relative to the working directory.
        (
            "REGISTRY_AUTH_FILE=auth.json",
            Some(0),
            "linux",
            "/workspace/auth.json".into(),
        ),
    ] {
        let vars: Vec<(&str, &str)> = vars
            .split(' ')
            .map(|pair| pair.split_once('=').unwrap())
            .collect();
        let want: Vec<(PathBuf, Format)> = want
            .split_whitespace()
            .map(|path| {
                let format = match Path::new(path).file_name().unwrap().to_str().unwrap() {
                    "config.json" => Format::DockerConfig,
                    ".dockercfg" => Format::Legacy,
                    _ => Format::AuthJson,
                };
                (PathBuf::from(path), format)
            })
            .collect();
        let got: Vec<(PathBuf, Format)> = auth_file_locations(&test_env(&vars), uid, os)
            .into_iter()
            .map(|f| (f.path, f.format))
            .collect();
        assert_eq!(got, want, "{vars:?} uid {uid:?} on {os}");
    }
}
