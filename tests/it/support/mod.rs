//! Test support: run the helper exactly as Bazel does, and judge its answer
//! as strictly as Bazel parses it.
//!
//! Not every test uses every helper here.
#![allow(dead_code)]

pub mod http_server;
pub mod registry;
pub mod schema;
pub mod secret_service;
pub mod sigv4;
pub mod tools;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Bazel's default `--credential_helper_timeout`.
const DEADLINE: Duration = Duration::from_secs(10);

/// Bazel reads the helper's output only after it exits, so anything larger
/// than a pipe buffer would block the helper until Bazel's timeout.
const PIPE_BUFFER: usize = 64 * 1024;

/// Standard base64, as docker's `auth` fields and Basic headers use it.
pub fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A docker `config.json` (or podman `auth.json`) with one `auth` entry for `host`:
/// `{"auths":{"<host>":{"auth":"<base64 of user:password>"}}}`.
pub fn docker_auths(host: &str, user_password: &str) -> String {
    serde_json::json!({"auths": {host: {"auth": b64(user_password)}}}).to_string()
}

/// The binary under test: the one cargo built for this run, or the file named by
/// `CREDENTIAL_HELPER_TEST_BINARY` (CI runs the suite again against the statically linked
/// release build of `scripts/build-release`, the binary the README tells users to install).
pub fn binary() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| match std::env::var_os("CREDENTIAL_HELPER_TEST_BINARY") {
        // Absolute: the helper runs with the test's workspace as its working directory.
        Some(path) => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(path)
            .canonicalize()
            .expect("CREDENTIAL_HELPER_TEST_BINARY names an existing file")
            .to_str()
            .expect("a UTF-8 path")
            .to_owned(),
        None => env!("CARGO_BIN_EXE_credential-helper").to_owned(),
    })
}

/// The status the registry gives `repo`'s `v1` manifest when fetched with the headers `get`
/// answered for it (and, on 200, that the body is the manifest).
pub fn pull_status(bazel: &Bazel, registry: &registry::Registry, repo: &str) -> u16 {
    let uri = registry.manifest_uri(repo, "v1");
    let answer = bazel.get(&uri).success();
    let fetched = registry.fetch(&uri, &answer.headers);
    if fetched.status == 200 {
        assert_eq!(registry::sha256(&fetched.body).len(), 71);
    }
    fetched.status
}

/// A sandbox that runs the helper the way Bazel does: argv `[path, "get"]`,
/// the workspace as working directory, a cleared environment, the request on
/// stdin, and a deadline.
///
/// Layout of the temporary root: `workspace/`, `home/` (`HOME`),
/// `home/.config` (`XDG_CONFIG_HOME`), `home/.cache` (`XDG_CACHE_HOME`),
/// `runtime/` (`XDG_RUNTIME_DIR`), `bin/` (first on `PATH`).
pub struct Bazel {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    /// Run the helper as this user (and group) instead of the test's.
    user: Option<u32>,
}

impl Default for Bazel {
    fn default() -> Self {
        Self::new()
    }
}

impl Bazel {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("credential-helper-it")
            .tempdir()
            .expect("create temp dir");
        let root = dir.path();
        for sub in ["workspace", "home/.config", "home/.cache", "runtime", "bin"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        // XDG_RUNTIME_DIR must be private to its user.
        std::fs::set_permissions(root.join("runtime"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let path = |sub: &str| root.join(sub).to_str().unwrap().to_owned();
        let env = BTreeMap::from([
            ("HOME".to_owned(), path("home")),
            ("XDG_CONFIG_HOME".to_owned(), path("home/.config")),
            ("XDG_CACHE_HOME".to_owned(), path("home/.cache")),
            ("XDG_RUNTIME_DIR".to_owned(), path("runtime")),
            ("PATH".to_owned(), format!("{}:/usr/bin:/bin", path("bin"))),
        ]);
        Bazel {
            dir,
            env,
            user: None,
        }
    }

    /// Runs the helper as `uid` (group `uid`, no supplementary groups), owning the sandbox as
    /// a user owns their home; files written later stay the test's, readable by all.
    pub fn as_user(&mut self, uid: u32) -> &mut Self {
        let status = Command::new("chown")
            .args(["-R", &format!("{uid}:{uid}")])
            .arg(self.root())
            .status()
            .expect("run chown");
        assert!(status.success(), "chown the sandbox to {uid}");
        self.user = Some(uid);
        self
    }

    /// The temporary root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn workspace(&self) -> PathBuf {
        self.root().join("workspace")
    }

    /// Sets (or overrides) one variable of the child's environment.
    pub fn env(&mut self, key: &str, value: impl AsRef<OsStr>) -> &mut Self {
        let value = value.as_ref().to_str().expect("UTF-8 env value").to_owned();
        self.env.insert(key.to_owned(), value);
        self
    }

    /// Removes a variable (e.g. `XDG_RUNTIME_DIR`) from the child's environment.
    pub fn env_remove(&mut self, key: &str) -> &mut Self {
        self.env.remove(key);
        self
    }

    /// Writes `workspace/.credential-helper.json`, which must be valid against the shipped
    /// JSON Schema: every config the tests use doubles as a schema test.
    pub fn config(&mut self, json: &str) -> &mut Self {
        if let Err(e) = schema::validate(json) {
            panic!("config does not match schema/credential-helper.schema.json: {e}\n{json}");
        }
        self.write("workspace/.credential-helper.json", json);
        self
    }

    /// Writes a config the binary must reject, skipping the schema check.
    pub fn bad_config(&mut self, json: &str) -> &mut Self {
        self.write("workspace/.credential-helper.json", json);
        self
    }

    /// Writes a file relative to the temporary root, creating its parents.
    pub fn write(&self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an executable `#!/bin/sh` script to `bin/` (first on `PATH`),
    /// e.g. a fake `docker-credential-<name>`.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.write(Path::new("bin").join(name), format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Runs `credential-helper get` with `{"uri":...}` on stdin, as Bazel does.
    pub fn get(&self, uri: &str) -> Answer {
        let answer = self.run(&["get"], Some(&bazel_request(uri)));
        // Bazel would block here until its timeout; fail loudly instead.
        assert!(
            answer.stdout.len() < PIPE_BUFFER && answer.stderr.len() < PIPE_BUFFER,
            "helper printed more than Bazel can read without deadlocking\n{answer}"
        );
        answer
    }

    /// Runs the helper with any arguments (`--help`, `explain`, ...), the same
    /// environment, working directory and deadline. `stdin: None` gives it an
    /// empty, closed stdin.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Answer {
        self.run_program(Path::new(binary()), args, stdin)
    }

    /// [`Bazel::run`] with another program in the helper's place (a launcher script).
    pub fn run_program(&self, program: &Path, args: &[&str], stdin: Option<&str>) -> Answer {
        let mut child = self
            .command_of(program, args)
            .spawn()
            .expect("spawn credential-helper");
        let pid = child.id();
        let input = stdin.unwrap_or("").to_owned();
        let mut child_stdin = child.stdin.take().unwrap();

        // Write, close stdin and collect output on a thread, so the deadline
        // below also covers a helper that never reads stdin or never exits.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // A helper may exit without reading stdin (EPIPE): not our error.
            let _ = child_stdin.write_all(input.as_bytes());
            drop(child_stdin);
            let _ = tx.send(child.wait_with_output());
        });

        let output = match rx.recv_timeout(DEADLINE) {
            Ok(output) => output.expect("wait for credential-helper"),
            Err(_) => {
                // The shell's builtin kill: signal the whole process group.
                let _ = Command::new("/bin/sh")
                    .args(["-c", &format!("kill -9 -{pid}")])
                    .status();
                let partial = rx
                    .recv_timeout(Duration::from_secs(2))
                    .ok()
                    .and_then(Result::ok)
                    .map(|o| Answer::from_output(args, o).to_string())
                    .unwrap_or_default();
                panic!(
                    "credential-helper {args:?} did not exit within {DEADLINE:?} \
                     (Bazel's default --credential_helper_timeout); killed it\n{partial}"
                );
            }
        };
        Answer::from_output(args, output)
    }
}

impl Bazel {
    /// The helper's command line as [`Bazel::run`] starts it, piped, for a test that needs the
    /// process itself (its pid, a signal).
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(Path::new(binary()), args)
    }

    fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.workspace())
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a timed-out helper is killed together
            // with anything it started (e.g. a hanging credential script).
            .process_group(0);
        if let Some(uid) = self.user {
            // As root, std also drops the supplementary groups.
            command.uid(uid).gid(uid);
        }
        command
    }
}

/// The exact stdin Bazel writes: compact JSON with Gson's HTML escaping and
/// no trailing newline.
pub fn bazel_request(uri: &str) -> String {
    let json = serde_json::json!({ "uri": uri }).to_string();
    // After serde_json's escaping these characters can only be literal ones,
    // never part of an escape sequence, so plain replacement is exact.
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('=', "\\u003d")
        .replace('\'', "\\u0027")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// What one helper run produced.
#[derive(Clone)]
pub struct Answer {
    args: Vec<String>,
    /// Exit code; `None` if killed by a signal.
    pub status: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Answer {
    pub fn from_output(args: &[&str], output: std::process::Output) -> Self {
        Answer {
            args: args.iter().map(|a| a.to_string()).collect(),
            status: output.status.code(),
            signal: output.status.signal(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout (for commands other than `get`).
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, Some(0), "expected exit code 0\n{self}");
        &self.stdout
    }

    /// Asserts exit 0 and an answer Bazel accepts; returns it parsed.
    pub fn success(&self) -> Parsed {
        assert_eq!(self.status, Some(0), "expected exit code 0\n{self}");
        match parse_bazel_answer(&self.stdout) {
            Ok(parsed) => parsed,
            Err(why) => panic!("Bazel would reject this answer: {why}\n{self}"),
        }
    }

    /// Asserts a clean failure: non-zero exit, nothing on stdout, and exactly
    /// one line `credential-helper: ...` on stderr. Returns that line.
    pub fn failure(&self) -> String {
        assert!(
            matches!(self.status, Some(code) if code != 0),
            "expected a non-zero exit code\n{self}"
        );
        assert!(self.stdout.is_empty(), "expected empty stdout\n{self}");
        let line = self
            .stderr
            .strip_suffix('\n')
            .unwrap_or(&self.stderr)
            .to_owned();
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "expected exactly one line on stderr\n{self}"
        );
        assert!(
            line.starts_with("credential-helper: ") && line.len() > "credential-helper: ".len(),
            "expected stderr to start with `credential-helper: `\n{self}"
        );
        line
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- credential-helper {}", self.args.join(" "))?;
        match (self.status, self.signal) {
            (Some(code), _) => writeln!(f, "--- exit code: {code}")?,
            (None, signal) => writeln!(f, "--- killed by signal {signal:?}")?,
        }
        writeln!(f, "--- stdout:\n{}", self.stdout)?;
        write!(f, "--- stderr:\n{}", self.stderr)
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An answer Bazel accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub headers: BTreeMap<String, Vec<String>>,
    pub expires: Option<String>,
}

impl Parsed {
    /// First value of a header; names compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).first().map(String::as_str)
    }

    /// All values of a header; names compared case-insensitively.
    pub fn header_values(&self, name: &str) -> &[String] {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// `expires` as a time, if present.
    pub fn expires_at(&self) -> Option<time::OffsetDateTime> {
        let expires = self.expires.as_deref()?;
        let format = time::format_description::well_known::Rfc3339;
        Some(time::OffsetDateTime::parse(expires, &format).unwrap())
    }
}

/// Parses stdout as Bazel does (see the reference notes): one JSON object and
/// only whitespace after it; `headers` an object of string arrays; `expires`
/// a string `yyyy-MM-ddTHH:mm:ss` with `Z` or `±HH:MM`, no fraction, no null.
pub fn parse_bazel_answer(stdout: &str) -> Result<Parsed, String> {
    // serde_json rejects anything but whitespace after the value.
    let value: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("error parsing output: {e}"))?;
    let object = value
        .as_object()
        .ok_or("output is not a JSON object".to_owned())?;

    let mut parsed = Parsed::default();
    if let Some(headers) = object.get("headers") {
        let headers = headers
            .as_object()
            .ok_or("`headers` is not an object".to_owned())?;
        for (name, values) in headers {
            let values = values
                .as_array()
                .ok_or(format!("header `{name}` is not an array"))?;
            let values = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(format!("header `{name}` has a non-string value"))?;
            parsed.headers.insert(name.clone(), values);
        }
    }
    if let Some(expires) = object.get("expires") {
        let expires = expires
            .as_str()
            .ok_or(format!("`expires` is not a string: {expires}"))?;
        if !is_bazel_timestamp(expires) {
            return Err(format!("`expires` has a format Bazel rejects: {expires:?}"));
        }
        parsed.expires = Some(expires.to_owned());
    }
    Ok(parsed)
}

/// `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`, and a real date.
fn is_bazel_timestamp(s: &str) -> bool {
    // `d` is an ASCII digit, any other byte must match itself.
    let matches = |s: &str, pattern: &str| {
        s.len() == pattern.len()
            && s.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
                b'd' => c.is_ascii_digit(),
                b'+' => c == b'+' || c == b'-',
                _ => c == p,
            })
    };
    let Some((date_time, zone)) = s.split_at_checked(19) else {
        return false;
    };
    matches(date_time, "dddd-dd-ddTdd:dd:dd")
        && (zone == "Z" || matches(zone, "+dd:dd"))
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

#[test]
fn bazel_request_is_gson_escaped() {
    assert_eq!(
        bazel_request("https://h/x?a=1&b=<'>"),
        r#"{"uri":"https://h/x?a\u003d1\u0026b\u003d\u003c\u0027\u003e"}"#
    );
}

#[test]
fn bazel_answer_rules() {
    let ok = parse_bazel_answer(
        r#"{"headers":{"Authorization":["Bearer x"]},"expires":"2030-01-02T03:04:05Z"}  
"#,
    )
    .unwrap();
    assert_eq!(ok.header("authorization"), Some("Bearer x"));
    assert!(parse_bazel_answer(r#"{"expires":"2030-01-02T03:04:05+01:00"}"#).is_ok());
    assert!(parse_bazel_answer("{}").is_ok());
    for bad in [
        "",
        "[]",
        r#"{} {}"#,
        r#"{}x"#,
        r#"{"headers":{"a":"b"}}"#,
        r#"{"headers":{"a":[1]}}"#,
        r#"{"headers":[]}"#,
        r#"{"expires":null}"#,
        r#"{"expires":"2030-01-02T03:04:05.5Z"}"#,
        r#"{"expires":"2030-01-02 03:04:05Z"}"#,
        r#"{"expires":"2030-01-02T03:04:05"}"#,
        r#"{"expires":"2030-13-02T03:04:05Z"}"#,
        r#"{"expires":"2030-01-02T03:04:05+0100"}"#,
    ] {
        assert!(parse_bazel_answer(bad).is_err(), "accepted {bad:?}");
    }
}
