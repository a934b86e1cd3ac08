//! TLS trust on Linux, through the real binary and a real https registry: exactly one root
//! source (`SSL_CERT_FILE`, else `SSL_CERT_DIR`, else the distribution's bundle), and
//! `CREDENTIAL_HELPER_CA_CERT` trusted besides it.

use std::path::PathBuf;

use crate::nss::{strace_works, traced_get};
use crate::support::registry::{Auth, Registry};
use crate::support::{Bazel, b64, docker_auths};

/// The first distribution bundle this machine has (Debian's in CI).
const DEBIAN_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

struct Setup {
    registry: Registry,
    bazel: Bazel,
    uri: String,
    ca: PathBuf,
}

fn setup() -> Setup {
    let registry = Registry::tls(Auth::basic("carol", "carol-pw"));
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.write(
        "home/.docker/config.json",
        docker_auths(registry.host(), "carol:carol-pw"),
    );
    bazel.env("CREDENTIAL_HELPER_CACHE", "off");
    let ca = bazel.write("ca.pem", std::fs::read(registry.ca_pem_path()).unwrap());
    let uri = registry.manifest_uri("team/app", "v1");
    Setup {
        registry,
        bazel,
        uri,
        ca,
    }
}

fn basic() -> String {
    format!("Basic {}", b64("carol:carol-pw"))
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry; Linux's root sources"
)]
fn ssl_cert_file_and_ssl_cert_dir_replace_the_distribution_bundle() {
    let Setup {
        registry: _registry,
        mut bazel,
        uri,
        ca,
    } = setup();
    // The system's roots alone do not know the registry's CA.
    let err = bazel.get(&uri).failure();
    assert!(err.contains("UnknownIssuer"), "{err}");

    bazel.env("SSL_CERT_FILE", &ca);
    let answer = bazel.get(&uri);
    assert_eq!(answer.success().header("authorization"), Some(&*basic()));

    // A directory of PEM files without hash links, as a user may keep one.
    let dir = bazel.root().join("certs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&ca, dir.join("corp.pem")).unwrap();
    bazel.env_remove("SSL_CERT_FILE").env("SSL_CERT_DIR", &dir);
    let answer = bazel.get(&uri);
    assert_eq!(answer.success().header("authorization"), Some(&*basic()));

    // Never both: with a file named, the directory is not read.
    if std::path::Path::new(DEBIAN_BUNDLE).exists() {
        bazel.env("SSL_CERT_FILE", DEBIAN_BUNDLE);
        let err = bazel.get(&uri).failure();
        assert!(err.contains("UnknownIssuer"), "{err}");
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry; Linux's root sources"
)]
fn a_missing_named_bundle_is_one_clear_line() {
    let Setup {
        registry: _registry,
        mut bazel,
        uri,
        ..
    } = setup();
    let missing = bazel.root().join("no-such.pem");
    bazel.env("SSL_CERT_FILE", &missing);
    let err = bazel.get(&uri).failure();
    assert!(
        err.contains(&format!(
            "SSL_CERT_FILE names {}, which does not exist",
            missing.display()
        )) && err.contains("(point SSL_CERT_FILE at a PEM CA bundle, or unset it)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry, strace and `unshare -m`"
)]
fn a_cold_https_get_reads_one_bundle_and_the_extra_ca() {
    let Setup {
        registry: _registry,
        mut bazel,
        uri,
        ca,
    } = setup();
    bazel.env("CREDENTIAL_HELPER_CA_CERT", &ca);
    if !strace_works() || !crate::nss::namespaces_permitted() {
        eprintln!("SKIPPED: strace or `unshare -m` is not permitted here");
        let answer = bazel.get(&uri);
        assert_eq!(answer.success().header("authorization"), Some(&*basic()));
        return;
    }
    let (answer, opened) = traced_get(&bazel, &[], None, &uri);
    assert_eq!(answer.success().header("authorization"), Some(&*basic()));
    let roots: Vec<&String> = opened
        .iter()
        .filter(|p| p.starts_with("/etc/ssl") || p.starts_with("/etc/pki") || p.ends_with(".pem"))
        .collect();
    let first_bundle = credential_helper::facade::TLS_BUNDLES
        .iter()
        .find(|b| std::path::Path::new(b).exists());
    let mut want = vec![ca.display().to_string()];
    want.extend(first_bundle.map(|b| b.to_string()));
    assert_eq!(roots, want.iter().collect::<Vec<_>>());
}
