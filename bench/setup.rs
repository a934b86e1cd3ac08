//! What the benchmark sets up: the helper's sandbox, the registries, and uv.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::measure::Program;
use crate::proxy::CountingProxy;
use crate::support::registry::{Auth, Registry, TokenServerConfig};

/// The Basic registry's user; the same credential is stored in uv.
pub const BASIC_USER: (&str, &str) = ("alice", "secret");
/// The token server's user.
pub const TOKEN_USER: (&str, &str) = ("bob", "pw");

/// The directories Bazel's client would hand a helper, all under the benchmark's temporary
/// directory: the real home, docker config and caches are never read.
pub struct Sandbox {
    root: PathBuf,
    env: BTreeMap<String, String>,
}

impl Sandbox {
    pub fn new(root: &Path) -> Sandbox {
        for sub in [
            "workspace",
            "home/.config",
            "home/.cache",
            "home/.local/share",
            "runtime",
            "docker",
            "cache",
        ] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        // XDG_RUNTIME_DIR must be private to its user.
        std::fs::set_permissions(root.join("runtime"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let path = |sub: &str| root.join(sub).to_str().expect("UTF-8 temp dir").to_owned();
        let env = BTreeMap::from([
            ("HOME".to_owned(), path("home")),
            ("XDG_CONFIG_HOME".to_owned(), path("home/.config")),
            ("XDG_CACHE_HOME".to_owned(), path("home/.cache")),
            ("XDG_DATA_HOME".to_owned(), path("home/.local/share")),
            ("XDG_RUNTIME_DIR".to_owned(), path("runtime")),
            ("DOCKER_CONFIG".to_owned(), path("docker")),
            ("CREDENTIAL_HELPER_CACHE_DIR".to_owned(), path("cache/kept")),
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ]);
        Sandbox {
            root: root.to_owned(),
            env,
        }
    }

    /// Writes a file relative to the sandbox root.
    pub fn write(&self, path: &str, contents: &str) {
        std::fs::write(self.root.join(path), contents).unwrap();
    }

    /// `path args...` run as Bazel runs a helper: the workspace as working directory and
    /// exactly the sandbox's environment.
    pub fn program(&self, path: &Path, args: &[&str]) -> Program {
        Program {
            path: path.to_owned(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: self.env.clone(),
            cwd: self.root.join("workspace"),
        }
    }

    /// A new cache directory, empty or with copies of `seed`'s files.
    pub fn fresh_cache(&self, seed: Option<&Path>) -> PathBuf {
        let dir = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(self.root.join("cache"))
            .unwrap()
            .keep();
        let seeds = seed.map(|s| std::fs::read_dir(s).unwrap());
        for entry in seeds.into_iter().flatten() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        dir
    }
}

/// The registries, each behind a counting proxy that the helper is pointed at.
pub struct Servers {
    pub basic: Registry,
    pub basic_proxy: CountingProxy,
    pub token: Registry,
    pub token_proxy: CountingProxy,
    /// The token registry's setup again, over https (its token realm stays plain http).
    pub tls: Registry,
    pub tls_proxy: CountingProxy,
}

/// Requests the servers saw: registries (the `/v2/` ping) and the token server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requests {
    pub registry: usize,
    pub token: usize,
}

impl Requests {
    pub fn total(self) -> usize {
        self.registry + self.token
    }

    pub fn since(self, before: Requests) -> Requests {
        Requests {
            registry: self.registry - before.registry,
            token: self.token - before.token,
        }
    }
}

impl Servers {
    /// The real `docker-registry` with Basic auth, and another with token auth and the token
    /// server of the integration tests.
    pub fn start() -> Servers {
        let basic = Registry::basic(BASIC_USER.0, BASIC_USER.1);
        let token_config = || TokenServerConfig::new().user(TOKEN_USER.0, TOKEN_USER.1);
        let token = Registry::token(token_config());
        let tls = Registry::tls(Auth::Token(token_config()));
        Servers {
            basic_proxy: CountingProxy::start(basic.host()),
            token_proxy: CountingProxy::start(token.host()),
            tls_proxy: CountingProxy::start_tls(tls.host()),
            basic,
            token,
            tls,
        }
    }

    /// Exact once a helper has exited: the proxies and the token server count a request
    /// before answering it.
    pub fn requests(&self) -> Requests {
        Requests {
            registry: self.basic_proxy.count() + self.token_proxy.count() + self.tls_proxy.count(),
            token: self.token.token_server().count() + self.tls.token_server().count(),
        }
    }

    /// `http://<proxy>/v2/<repo>` on the Basic registry.
    pub fn basic_repo(&self, repo: &str) -> String {
        format!("http://{}/v2/{repo}", self.basic_proxy.host())
    }

    /// `http://<proxy>/v2/<repo>` on the token registry.
    pub fn token_repo(&self, repo: &str) -> String {
        format!("http://{}/v2/{repo}", self.token_proxy.host())
    }

    /// `https://<proxy>/v2/<repo>` on the token registry over https.
    pub fn tls_repo(&self, repo: &str) -> String {
        format!("https://{}/v2/{repo}", self.tls_proxy.host())
    }
}

/// Builds the binary users install, with `scripts/build-release`; returns its path.
pub fn build_release() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(root.join("scripts/build-release"))
        .status()
        .unwrap_or_else(|e| panic!("run scripts/build-release: {e}"));
    assert!(status.success(), "scripts/build-release failed");
    root.join("target/dist/credential-helper")
}

/// uv from PyPI in a new virtualenv under `dir`; `Err` says why it cannot be had.
pub fn install_uv(dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv), "")?;
    let pip = ["install", "--quiet", "--disable-pip-version-check", "uv"];
    run(Command::new(venv.join("bin/pip")).args(pip), "")?;
    Ok(venv.join("bin/uv"))
}

/// Stores the Basic registry's credential in uv (inside the sandbox) and checks that this uv
/// has the Bazel helper and answers `uri` with it. Returns the program to measure and uv's
/// version.
pub fn uv_helper(
    sandbox: &Sandbox,
    uv: &Path,
    service: &str,
    uri: &str,
) -> Result<(Program, String), String> {
    let in_sandbox = |args: &[&str], stdin: &str| {
        let program = sandbox.program(uv, args);
        let mut command = Command::new(&program.path);
        command
            .args(&program.args)
            .env_clear()
            .envs(&program.env)
            .current_dir(&program.cwd);
        run(&mut command, stdin)
    };
    let version = in_sandbox(&["--version"], "")?;
    let (user, password) = BASIC_USER;
    let login = [
        "auth",
        "login",
        service,
        "--username",
        user,
        "--password",
        password,
    ];
    in_sandbox(&login, "")?;
    let helper = ["auth", "helper", "--protocol=bazel", "get"];
    let answer = in_sandbox(&helper, &crate::support::bazel_request(uri))?;
    if !answer.contains("Basic ") {
        return Err(format!("`uv auth helper` answered {answer:?}"));
    }
    // Silences the "experimental" warning on stderr, as a user of the helper would.
    let program = sandbox
        .program(uv, &helper)
        .env("UV_PREVIEW_FEATURES", "auth-helper");
    Ok((program, version.trim().to_owned()))
}

/// Runs a setup step with `stdin`; its stdout, or the last line of its stderr as the error.
fn run(command: &mut Command, stdin: &str) -> Result<String, String> {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let output = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(stdin.as_bytes())?;
            child.wait_with_output()
        })
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    Err(format!(
        "{program} failed ({}): {}",
        output.status,
        last.unwrap_or("no output")
    ))
}
