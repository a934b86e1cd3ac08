//! Building the two small programs of `bench/programs/`, starting measured processes through
//! the launcher, and the statistics of what it reports.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How a compiled program is linked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Linking {
    /// rustc's defaults: a position-independent executable loading libc and libgcc_s.
    Default,
    /// As `scripts/build-release` links the helper on Linux with glibc: static, fixed address.
    Static,
}

/// Whether this platform gets the statically linked helper (see `scripts/build-release`).
pub const STATIC_RELEASE: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// Compiles `bench/programs/<name>.rs` with the flags of the release profile that matter for
/// start-up (`panic = "abort"`, stripped), so the floor is a fair baseline.
pub fn compile(name: &str, linking: Linking, out_dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("bench/programs/{name}.rs"));
    let out = out_dir.join(match linking {
        Linking::Default => name.to_owned(),
        Linking::Static => format!("{name}-static"),
    });
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let mut command = Command::new(&rustc);
    command
        .args([
            "--edition",
            "2024",
            "-C",
            "opt-level=3",
            "-C",
            "panic=abort",
        ])
        .args(["-C", "strip=symbols", "-C", "codegen-units=1"]);
    if linking == Linking::Static {
        command.args([
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
        ]);
    }
    let status = command
        .arg("-o")
        .arg(&out)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("run {rustc}: {e}"));
    assert!(status.success(), "{rustc} {} failed", source.display());
    out
}

/// A program as Bazel runs a helper: exact environment (nothing inherited), working directory.
#[derive(Clone)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
}

impl Program {
    pub fn env(mut self, key: &str, value: impl AsRef<Path>) -> Program {
        let value = value.as_ref().to_str().expect("UTF-8 path").to_owned();
        self.env.insert(key.to_owned(), value);
        self
    }
}

/// What one measured process did.
pub struct Outcome {
    pub code: i32,
    pub signal: i32,
    pub rss_kib: u64,
    /// Minor page faults: most of a process's start-up cost is paid in these.
    pub minor_faults: u64,
    pub wall: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {} (signal {})\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code, self.signal, self.stdout, self.stderr
        )
    }
}

/// Processes started together, and the wall time from the first start to the last exit.
pub struct Burst {
    pub wall: Duration,
    pub runs: Vec<Outcome>,
}

impl Burst {
    pub fn max_rss_kib(&self) -> u64 {
        self.runs.iter().map(|r| r.rss_kib).max().unwrap_or(0)
    }
}

/// `bench/programs/launcher.rs`, compiled.
pub struct Launcher {
    path: PathBuf,
}

impl Launcher {
    pub fn new(path: PathBuf) -> Launcher {
        Launcher { path }
    }

    /// One process.
    pub fn run(&self, program: &Program, request: &str) -> Outcome {
        let mut burst = self.burst(program, &[request.to_owned()]);
        burst.runs.pop().unwrap()
    }

    /// One process per request, all started before any is waited for.
    pub fn burst(&self, program: &Program, requests: &[String]) -> Burst {
        let mut child = Command::new(&self.path)
            .arg(&program.path)
            .args(&program.args)
            .env_clear()
            .envs(&program.env)
            .current_dir(&program.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the launcher");
        let mut input = requests.join("\n");
        input.push('\n');
        // Requests are single lines (JSON escapes any newline), so lines frame them.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .expect("send requests to the launcher");
        let output = child.wait_with_output().expect("wait for the launcher");
        assert!(
            output.status.success(),
            "launcher failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let burst = parse_report(&output.stdout);
        assert_eq!(burst.runs.len(), requests.len(), "launcher report");
        burst
    }
}

fn parse_report(mut report: &[u8]) -> Burst {
    let mut runs = Vec::new();
    loop {
        let line = take_line(&mut report);
        if let Some(wall) = line.strip_prefix("burst ") {
            let wall = Duration::from_nanos(wall.parse().expect("burst wall time"));
            return Burst { wall, runs };
        }
        let fields: Vec<i64> = line
            .split(' ')
            .map(|f| f.parse().expect("launcher report number"))
            .collect();
        let [code, signal, rss_kib, minor_faults, wall, out, err] = fields[..] else {
            panic!("bad launcher report line {line:?}");
        };
        let (out, err) = (out as usize, err as usize);
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        runs.push(Outcome {
            code: code as i32,
            signal: signal as i32,
            rss_kib: rss_kib as u64,
            minor_faults: minor_faults as u64,
            wall: Duration::from_nanos(wall as u64),
            stdout: text(&report[..out]),
            stderr: text(&report[out..out + err]),
        });
        report = &report[out + err..];
    }
}

/// The next `\n`-terminated line, consumed.
fn take_line(report: &mut &[u8]) -> String {
    let end = report
        .iter()
        .position(|&b| b == b'\n')
        .expect("launcher report line");
    let line = String::from_utf8_lossy(&report[..end]).into_owned();
    *report = &report[end + 1..];
    line
}

/// Nearest-rank percentile of unsorted samples (`q` in 0..=1).
pub fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 0.5)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
