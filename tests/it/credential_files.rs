//! `credential_files`: pulls from the real registry with credentials that come only from the
//! files container platforms write — a `kubectl --dry-run -o yaml` Secret, a secret volume as
//! kubelet mounts it, rkt `auth.d` files, a Marathon-style docker archive — and the one-line
//! errors for each kind of malformed file.

use std::io::Write;
use std::path::Path;

use crate::support::registry::{self, Image, Registry, TokenServerConfig};
use crate::support::{Bazel, Parsed, b64, docker_auths};

/// An oci entry for the test registries (on 127.0.0.1) with these `credential_files`.
fn config(files: &str) -> String {
    format!(
        r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{"credential_files":{files}}}}}]}}"#
    )
}

/// Pulls the manifest and both blobs with one helper call per URL, as Bazel's downloader does.
fn pull(bazel: &Bazel, registry: &Registry, image: &Image) -> Parsed {
    let uri = registry.manifest_uri(&image.repo, &image.tag);
    let answer = bazel.get(&uri).success();
    let fetched = registry.fetch(&uri, &answer.headers);
    assert_eq!(fetched.status, 200, "manifest: {fetched:?}");
    assert_eq!(registry::sha256(&fetched.body), image.manifest_digest);
    for digest in [&image.config_digest, &image.layer_digest] {
        let uri = registry.blob_uri(&image.repo, digest);
        let blob_answer = bazel.get(&uri).success();
        let fetched = registry.fetch(&uri, &blob_answer.headers);
        assert_eq!(fetched.status, 200, "blob: {fetched:?}");
    }
    answer
}

/// The credential source the helper reports in its debug log.
fn source_of(bazel: &mut Bazel, uri: &str) -> String {
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let answer = bazel.get(uri);
    bazel.env_remove("CREDENTIAL_HELPER_LOG");
    answer.success();
    answer
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("credential-helper: debug: credential: "))
        .unwrap_or_else(|| panic!("no credential line\n{answer}"))
        .to_owned()
}

fn token_registry() -> (Registry, Image) {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    (registry, image)
}

/// `.dockerconfigjson` exactly as `kubectl create secret docker-registry` builds it (Go's
/// struct order, empty email omitted, `auth` = base64 of `user:password`).
fn kubectl_dockerconfigjson(server: &str, user: &str, password: &str) -> String {
    format!(
        r#"{{"auths":{{"{server}":{{"username":"{user}","password":"{password}","auth":"{}"}}}}}}"#,
        b64(&format!("{user}:{password}"))
    )
}

/// `kubectl create secret docker-registry regcred --docker-server=... --docker-username=...
/// --docker-password=... --dry-run=client -o yaml`, byte for byte.
fn kubectl_dry_run_yaml(server: &str, user: &str, password: &str) -> String {
    format!(
        "apiVersion: v1\ndata:\n  .dockerconfigjson: {}\nkind: Secret\nmetadata:\n  \
         creationTimestamp: null\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\n",
        b64(&kubectl_dockerconfigjson(server, user, password))
    )
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn kubectl_dry_run_secret_manifest() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&config(
        r#"[{"format":"kubernetes","path":"%workspace%/k8s/regcred.yaml"}]"#,
    ));
    let manifest = bazel.write(
        "workspace/k8s/regcred.yaml",
        kubectl_dry_run_yaml(registry.host(), "bob", "bob-pw"),
    );
    let answer = pull(&bazel, &registry, &image);
    assert!(
        answer
            .header("Authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    let first = &registry.token_server().requests()[0];
    assert_eq!(first.basic_auth(), Some(("bob".into(), "bob-pw".into())));
    let source = source_of(&mut bazel, &registry.manifest_uri("team/app", "v1"));
    assert_eq!(
        source,
        format!(
            "username/password from kubernetes secret manifest {} data[\".dockerconfigjson\"] auths[\"{}\"]",
            manifest.display(),
            registry.host()
        )
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn kubectl_json_secret_of_the_legacy_dockercfg_type() {
    let registry = Registry::basic("alice", "alice-pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&config(
        r#"[{"format":"kubernetes","path":"regcred.json"}]"#,
    ));
    // `kubectl get secret regcred -o json` of a kubernetes.io/dockercfg secret.
    let dockercfg = format!(
        r#"{{"https://{}":{{"username":"alice","password":"alice-pw","email":"a@example.com","auth":"{}"}}}}"#,
        registry.host(),
        b64("alice:alice-pw")
    );
    bazel.write(
        "workspace/regcred.json",
        format!(
            r#"{{
    "apiVersion": "v1",
    "data": {{
        ".dockercfg": "{}"
    }},
    "kind": "Secret",
    "metadata": {{
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "name": "regcred",
        "namespace": "default",
        "resourceVersion": "4711",
        "uid": "6f1c2b1e-0000-4000-8000-000000000000"
    }},
    "type": "kubernetes.io/dockercfg"
}}
"#,
            b64(&dockercfg)
        ),
    );
    let answer = pull(&bazel, &registry, &image);
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Basic {}", b64("alice:alice-pw")).as_str())
    );
}

/// A secret volume as kubelet's atomic writer lays it out: the payload in a timestamped
/// directory, `..data` pointing at it, and each key a link through `..data`.
fn mount_secret(bazel: &Bazel, dir: &str, files: &[(&str, String)]) -> std::path::PathBuf {
    let volume = bazel.root().join(dir);
    let payload = "..2024_01_01_00_00_00.123";
    for (name, contents) in files {
        bazel.write(Path::new(dir).join(payload).join(name), contents);
        std::os::unix::fs::symlink(Path::new("..data").join(name), volume.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(payload, volume.join("..data")).unwrap();
    volume
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn mounted_secret_volume_most_specific_key_wins() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    let host = registry.host();
    let port = host.rsplit(':').next().unwrap();
    let entry = |user: &str, password: &str| {
        format!(
            r#"{{"username":"{user}","password":"{password}","auth":"{}"}}"#,
            b64(&format!("{user}:{password}"))
        )
    };
    // Only `{host}/team` is right: the host-only key is shorter, the glob loses to an exact
    // host, and `/other` does not cover team/app.
    let dockerconfigjson = format!(
        r#"{{"auths":{{"https://{host}/v1/":{},"{host}/team":{},"127.0.0.*:{port}/team/app":{},"{host}/other":{}}}}}"#,
        entry("bob", "short-path"),
        entry("bob", "bob-pw"),
        entry("bob", "glob"),
        entry("bob", "other")
    );
    let volume = mount_secret(
        &bazel,
        "var/run/secrets/regcred",
        &[(".dockerconfigjson", dockerconfigjson)],
    );
    assert!(volume.join(".dockerconfigjson").is_symlink());
    bazel.config(&config(&format!(
        r#"[{{"format":"kubernetes","path":"{}"}}]"#,
        volume.display()
    )));
    pull(&bazel, &registry, &image);
    let source = source_of(&mut bazel, &registry.manifest_uri("team/app", "v1"));
    assert!(
        source.ends_with(&format!(
            "kubernetes secret {}/.dockerconfigjson auths[\"{host}/team\"]",
            volume.display()
        )),
        "{source}"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn mounted_dockercfg_volume_with_a_glob_key() {
    let registry = Registry::basic("alice", "alice-pw");
    let image = registry.push_image("team/app", "v1");
    let port = registry.host().rsplit(':').next().unwrap().to_owned();
    let bazel = {
        let mut bazel = Bazel::new();
        let dockercfg = format!(
            r#"{{"127.0.0.*:{port}":{{"auth":"{}","email":"a@example.com"}},"*.0.0.1:{port}":{{"auth":"{}"}}}}"#,
            b64("alice:alice-pw"),
            b64("alice:wrong")
        );
        let volume = mount_secret(&bazel, "secret", &[(".dockercfg", dockercfg)]);
        bazel.config(&config(&format!(
            r#"[{{"format":"kubernetes","path":"{}"}}]"#,
            volume.display()
        )));
        bazel
    };
    // Both globs match and rank alike; Kubernetes' reverse key order picks `127.0.0.*`.
    pull(&bazel, &registry, &image);
}

/// rkt's documented layout: one tab-indented JSON document per file.
fn rkt_file(kind: &str, list: &str, names: &[&str], rest: &str) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        "{{\n\t\"rktKind\": \"{kind}\",\n\t\"rktVersion\": \"v1\",\n\t\"{list}\": [{}],\n{rest}\n}}\n",
        names.join(", ")
    )
}

fn rkt_basic(user: &str, password: &str) -> String {
    format!(
        "\t\"credentials\": {{\n\t\t\"user\": \"{user}\",\n\t\t\"password\": \"{password}\"\n\t}}"
    )
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn rkt_auth_d_docker_auth_and_basic_auth() {
    let basic = Registry::basic("alice", "alice-pw");
    let basic_image = basic.push_image("team/app", "v1");
    let (token, token_image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.write(
        "rkt/auth.d/registries.json",
        rkt_file(
            "dockerAuth",
            "registries",
            &[basic.host(), "quay.io"],
            &rkt_basic("alice", "alice-pw"),
        ),
    );
    bazel.write(
        "rkt/auth.d/token.json",
        rkt_file(
            "auth",
            "domains",
            &[token.host()],
            &format!("\t\"type\": \"basic\",\n{}", rkt_basic("bob", "bob-pw")),
        ),
    );
    bazel.write("rkt/auth.d/README", "not a config file: ignored");
    let dir = bazel.root().join("rkt/auth.d");
    bazel.config(&config(&format!(
        r#"[{{"format":"rkt","path":"{}"}}]"#,
        dir.display()
    )));
    let answer = pull(&bazel, &basic, &basic_image);
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Basic {}", b64("alice:alice-pw")).as_str())
    );
    pull(&bazel, &token, &token_image);
    assert_eq!(
        token.token_server().requests()[0].basic_auth(),
        Some(("bob".into(), "bob-pw".into()))
    );
    let source = source_of(&mut bazel, &token.manifest_uri("team/app", "v1"));
    assert!(
        source.ends_with(&format!(
            "rkt auth.d {}/token.json domains[\"{}\"]",
            dir.display(),
            token.host()
        )),
        "{source}"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn rkt_oauth_token_is_sent_as_bearer() {
    let (registry, image) = token_registry();
    let token = registry
        .token_server()
        .mint("bob", &["repository:team/app:pull"]);
    let mut bazel = Bazel::new();
    bazel.write(
        "rkt.d/oauth.json",
        rkt_file(
            "auth",
            "domains",
            &[&format!("https://{}", registry.host())],
            &format!(
                "\t\"type\": \"oauth\",\n\t\"credentials\": {{\n\t\t\"token\": \"{token}\"\n\t}}"
            ),
        ),
    );
    bazel.config(&config(&format!(
        r#"[{{"format":"rkt","path":"{}"}}]"#,
        bazel.root().join("rkt.d").display()
    )));
    let answer = pull(&bazel, &registry, &image);
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(
        registry.token_server().count(),
        0,
        "no exchange for a token"
    );
}

/// `cd ~ && tar czf docker.tar.gz .docker`, as Marathon's documentation has it: GNU tar, the
/// directory entry first, root-owned, the config private.
fn marathon_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o700);
    dir.set_size(0);
    dir.set_mtime(1_438_051_440);
    dir.set_username("root").unwrap();
    dir.set_groupname("root").unwrap();
    dir.set_cksum();
    builder
        .append_data(&mut dir, ".docker/", std::io::empty())
        .unwrap();
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(1_438_047_060);
        header.set_username("root").unwrap();
        header.set_groupname("root").unwrap();
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn mesos_docker_archive_like_marathon() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    let docker_config = format!(
        "{{\n\t\"auths\": {{\n\t\t\"https://{}\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
        registry.host(),
        b64("bob:bob-pw")
    );
    let archive = bazel.write(
        "sandbox/docker.tar.gz",
        marathon_archive(&[(".docker/config.json", docker_config.as_bytes())]),
    );
    bazel.config(&config(&format!(
        r#"[{{"format":"mesos","path":"{}"}}]"#,
        archive.display()
    )));
    pull(&bazel, &registry, &image);
    let source = source_of(&mut bazel, &registry.manifest_uri("team/app", "v1"));
    assert!(
        source.ends_with(&format!(
            "mesos docker archive {} .docker/config.json auths[\"https://{}\"]",
            archive.display(),
            registry.host()
        )),
        "{source}"
    );
    // Read in memory: nothing was unpacked beside it or in the workspace.
    let beside: Vec<_> = std::fs::read_dir(archive.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(beside.len(), 1);
    assert!(!bazel.workspace().join(".docker").exists());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn credential_files_order_and_precedence() {
    let (registry, image) = token_registry();
    let right = kubectl_dry_run_yaml(registry.host(), "bob", "bob-pw");
    let wrong = kubectl_dry_run_yaml(registry.host(), "bob", "wrong");
    let mut bazel = Bazel::new();
    bazel.write("workspace/right.yaml", &right);
    bazel.write("workspace/wrong.yaml", &wrong);
    // A path that does not exist moves on; the first file with an entry wins.
    bazel.config(&config(
        r#"[{"format":"kubernetes","path":"missing.yaml"},{"format":"kubernetes","path":"right.yaml"},{"format":"kubernetes","path":"wrong.yaml"}]"#,
    ));
    pull(&bazel, &registry, &image);

    // Before docker config.
    bazel.config(&config(r#"[{"format":"kubernetes","path":"right.yaml"}]"#));
    bazel.write(
        "home/.docker/config.json",
        docker_auths(registry.host(), "bob:wrong"),
    );
    pull(&bazel, &registry, &image);

    // After the lookup chain.
    bazel.config(
        r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{
            "lookup_chain":[{"source":"static","value":"bob","binding":"username"},
                            {"source":"static","value":"bob-pw","binding":"password"}],
            "credential_files":[{"format":"kubernetes","path":"wrong.yaml"}]}}]}"#,
    );
    pull(&bazel, &registry, &image);
}

/// Runs a `get` that must fail before any network, and checks the one-line error names
/// `file` and `want` and never the canary secret.
fn assert_file_error(bazel: &mut Bazel, files: &str, file: &Path, want: &str) {
    bazel.config(&config(files));
    let err = bazel
        .get("http://127.0.0.1:1/v2/team/app/manifests/v1")
        .failure();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains(want), "want {want:?}: {err}");
    assert!(!err.contains("canary"), "the secret leaked: {err}");
}

#[test]
fn malformed_kubernetes_secrets_are_clear_errors() {
    let mut bazel = Bazel::new();
    let files = r#"[{"format":"kubernetes","path":"secret"}]"#;
    let good = kubectl_dockerconfigjson("127.0.0.1:1", "bob", "pw-canary");
    let cases: Vec<(String, &str)> = vec![
        (
            r#"{"auths":{"127.0.0.1:1":{"auth":"pw-canary"}"#.to_string(),
            "truncated JSON at line 1",
        ),
        (
            r#"{"auths":{"127.0.0.1:1":{"auth":"pw-canary!"}}}"#.to_string(),
            "auths[\"127.0.0.1:1\"]: \"auth\" is not valid base64",
        ),
        (
            kubectl_dry_run_yaml("127.0.0.1:1", "bob", "pw-canary")
                .replace(".dockerconfigjson: ey", ".dockerconfigjson: $ey"),
            "data[\".dockerconfigjson\"] is not valid base64",
        ),
        (
            kubectl_dry_run_yaml("127.0.0.1:1", "bob", "pw-canary")
                .replace("type: kubernetes.io/dockerconfigjson", "type: Opaque"),
            "type \"Opaque\" is not a registry secret type",
        ),
        (
            format!(
                "apiVersion: v1\ndata:\n  .dockerconfigjson: {}\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\n",
                b64(&good[..good.len() - 2])
            ),
            "data[\".dockerconfigjson\"] is not valid: truncated JSON",
        ),
        (
            "apiVersion: v1\nkind: Secret\n  data: pw-canary\n".to_string(),
            "invalid YAML at line",
        ),
    ];
    for (contents, want) in cases {
        let file = bazel.write("workspace/secret", &contents);
        assert_file_error(&mut bazel, files, &file, want);
    }

    // A directory that is no registry secret volume.
    std::fs::remove_file(bazel.workspace().join("secret")).unwrap();
    let dir = bazel.workspace().join("secret");
    bazel.write("workspace/secret/username", "bob");
    assert_file_error(
        &mut bazel,
        files,
        &dir,
        "holds neither .dockerconfigjson nor .dockercfg",
    );
}

#[test]
fn malformed_rkt_files_are_clear_errors() {
    let mut bazel = Bazel::new();
    let dir = bazel.root().join("auth.d");
    let files = format!(r#"[{{"format":"rkt","path":"{}"}}]"#, dir.display());
    let oauth = |domain: &str| {
        rkt_file(
            "auth",
            "domains",
            &[domain],
            "\t\"type\": \"oauth\",\n\t\"credentials\": {\"token\": \"tok-canary\"}",
        )
    };
    // One domain in two files of one directory: both files are named.
    let a = bazel.write("auth.d/10-quay.json", oauth("127.0.0.1:1"));
    let b = bazel.write("auth.d/20-quay.json", oauth("https://127.0.0.1:1"));
    assert_file_error(&mut bazel, &files, &a, "is in both");
    assert_file_error(
        &mut bazel,
        &files,
        &b,
        "domains entry \"https://127.0.0.1:1\"",
    );
    std::fs::remove_file(&b).unwrap();

    for (contents, want) in [
        (
            oauth("127.0.0.1:1").replace("\"oauth\"", "\"kerberos\""),
            "auth type \"kerberos\" is unknown",
        ),
        (
            oauth("127.0.0.1:1").replace("\"v1\"", "\"v2\""),
            "rktVersion \"v2\"",
        ),
        (oauth("127.0.0.1:1")[..60].to_string(), "truncated JSON"),
        (
            rkt_file(
                "dockerAuth",
                "registries",
                &["127.0.0.1:1"],
                "\t\"credentials\": {\"password\": \"pw-canary\"}",
            ),
            "non-empty \"user\" and \"password\"",
        ),
    ] {
        let file = bazel.write("auth.d/10-quay.json", contents);
        assert_file_error(&mut bazel, &files, &file, want);
    }
}

#[test]
fn malformed_mesos_archives_are_clear_errors() {
    let mut bazel = Bazel::new();
    let files = r#"[{"format":"mesos","path":"docker.tar.gz"}]"#;
    let config_json = br#"{"auths":{"127.0.0.1:1":{"auth":"pw-canary"}}}"#;
    let tar_only = {
        let gz = marathon_archive(&[(".docker/config.json", config_json)]);
        let mut tar = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut tar)
            .unwrap();
        tar
    };
    for (contents, want) in [
        (tar_only, "not a gzip file"),
        (config_json.to_vec(), "not a gzip file"),
        (
            marathon_archive(&[("home/.docker/config.json", config_json)]),
            "holds neither .docker/config.json nor .dockercfg",
        ),
        (
            marathon_archive(&[(".docker/config.json", &config_json[..30])]),
            ".docker/config.json is not valid: truncated JSON",
        ),
        (gzip(b"pw-canary, not a tar archive"), "not a tar archive"),
    ] {
        let file = bazel.write("workspace/docker.tar.gz", contents);
        assert_file_error(&mut bazel, files, &file, want);
    }
}

#[test]
fn credential_files_config_errors() {
    for (files, want) in [
        (
            r#"[{"format":"nomad","path":"x"}]"#,
            "credential_files: unknown variant, expected one of",
        ),
        (
            r#"[{"format":"kubernetes"}]"#,
            "credential_files[0]: \"path\" is required",
        ),
        (
            r#"[{"format":"rkt"},{"format":"mesos","path":""}]"#,
            "credential_files[1]: \"path\" is empty",
        ),
        (
            r#"[{"format":"rkt","dir":"/x"}]"#,
            "credential_files: dir: unknown field (expected one of:",
        ),
    ] {
        let mut bazel = Bazel::new();
        bazel.bad_config(&config(files));
        let err = bazel.get("https://r.example/v2/a/manifests/1").failure();
        assert!(
            err.contains("entry 0 (host \"127.0.0.1\"): config") && err.contains(want),
            "{files}: {err}"
        );
    }
}
