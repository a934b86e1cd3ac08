//! The one runner of child processes (docker-credential-*, gcloud, az, gh, AWS
//! credential_process).
//!
//! - A child runs in its own process group and is killed as a group, at its limit and, once it
//!   has exited, whatever it left behind in that group: nothing it starts outlives the call.
//! - Its limit is its own, cut to what is left of the call's deadline.
//! - Its stdout is read on a thread we stop listening to at the limit: a grandchild holding
//!   the pipe open cannot block us, and the process exits without waiting for that thread.
//! - Its stdout is bounded; its stderr is never read at all (`/dev/null`).
//! - Errors name the program and its exit status, never its output: a helper that printed its
//!   answer (or a `set -x` trace) before failing would otherwise put a secret in Bazel's error.
//!
//! On Windows there are no process groups: the direct child is killed, and what it started is
//! not. A `.bat`/`.cmd` program runs through `cmd.exe`, with a command line that
//! [`platform::launch`] builds or refuses.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::kernel::context::Context;
use crate::kernel::deadline::CALL_BUDGET;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::platform::{self, Args, Launch};

/// Default limit for a child process: well under Bazel's 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most stdout kept; a helper's answer is a few KiB.
pub const MAX_OUTPUT: usize = 1024 * 1024;
/// How often a running child is checked for exit between chunks of output.
const POLL: Duration = Duration::from_millis(5);
/// After the child exits, how long its stdout may take to reach end of file. Its own output is
/// already in the pipe; only a process that escaped its group can hold the pipe open longer.
const DRAIN: Duration = Duration::from_millis(250);

/// A child that finished in time. Its stdout is for parsing, never for messages.
pub struct Output {
    label: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The error for a child that failed: its name, its status and what to do. Callers with
    /// better advice replace the hint.
    pub fn failure(&self) -> Error {
        Error::new(format!(
            "{} failed with {}",
            self.label,
            status(&self.status)
        ))
        .hint(format!("run `{}` by hand to see why", self.label))
    }
}

fn status(s: &ExitStatus) -> String {
    if let Some(code) = s.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(s) {
        return format!("signal {signal}");
    }
    "an unknown status".into()
}

/// Runs `program args...` with exactly the context's environment and working directory, feeds
/// it `stdin`, and returns its exit status and stdout. `label` names it in messages (e.g.
/// `docker-credential-pass get`); it must not hold a config value. `limit` is cut to what is
/// left of the call's deadline.
pub fn run(
    ctx: &Context,
    label: &str,
    program: &Path,
    args: &[&str],
    stdin: &[u8],
    limit: Duration,
) -> Result<Output> {
    let launch = platform::launch(
        ctx.env.platform(),
        ctx.env.var(vars::SYSTEM_ROOT),
        program,
        args,
    )
    .map_err(|why| Error::new(format!("cannot run {label}: {why}")))?;
    start(ctx, label, &launch, stdin, limit)
}

/// [`run`] for a command string from the config (AWS `credential_process`), run by the
/// platform's shell: `/bin/sh -c`, on Windows `cmd.exe /c` ([`platform::shell`]).
pub fn run_shell(
    ctx: &Context,
    label: &str,
    command: &str,
    stdin: &[u8],
    limit: Duration,
) -> Result<Output> {
    let launch = platform::shell(ctx.env.platform(), ctx.env.var(vars::SYSTEM_ROOT), command);
    start(ctx, label, &launch, stdin, limit)
}

/// The program and its arguments as the standard library takes them.
fn command(launch: &Launch) -> std::io::Result<Command> {
    let mut command = Command::new(&launch.program);
    match &launch.args {
        Args::List(args) => {
            command.args(args);
        }
        #[cfg(windows)]
        Args::WindowsCommandLine(line) => {
            std::os::windows::process::CommandExt::raw_arg(&mut command, line);
        }
        #[cfg(not(windows))]
        Args::WindowsCommandLine(_) => {
            return Err(std::io::Error::other(
                "a Windows command line cannot be run on this system",
            ));
        }
    }
    Ok(command)
}

fn start(
    ctx: &Context,
    label: &str,
    launch: &Launch,
    stdin: &[u8],
    limit: Duration,
) -> Result<Output> {
    let cut = ctx.deadline.limit(limit);
    if cut.is_zero() {
        return Err(out_of_time(label));
    }
    let end = Instant::now() + cut;
    let mut command =
        command(launch).map_err(|e| Error::new(format!("cannot run {label}: {e}")))?;
    command
        .env_clear()
        .envs(ctx.env.vars())
        .current_dir(ctx.env.cwd())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {label}: {e}")))?;

    // Threads we never join: a child that does not read stdin, or a grandchild that keeps
    // stdout open, blocks only them.
    if let Some(mut input) = child.stdin.take() {
        let data = stdin.to_vec();
        // A child that exits without reading stdin is fine.
        std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
    }
    let chunks = child.stdout.take().map(reader);

    let mut stdout = Vec::new();
    let mut eof = chunks.is_none();
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(s)) => {
                    // The pid stays reserved while the group has members, so this reaches
                    // only what the child left behind.
                    kill_group(&mut child);
                    exited = Some((s, end.min(Instant::now() + DRAIN)));
                }
                Ok(None) => {}
                Err(e) => {
                    kill_group(&mut child);
                    return Err(Error::new(format!("waiting for {label} failed: {e}")));
                }
            }
        }
        if let (true, Some((s, _))) = (eof, exited) {
            return Ok(Output {
                label: label.to_string(),
                status: s,
                stdout,
            });
        }
        let until = exited.map_or(end, |(_, drained)| drained);
        let now = Instant::now();
        if now >= until {
            let Some((s, _)) = exited else {
                kill_group(&mut child);
                reap(&mut child);
                let mut e = Error::new(format!(
                    "{label} did not finish within {} ms and was stopped",
                    cut.as_millis()
                ));
                if cut < limit {
                    e = e.hint(format!(
                        "earlier steps used most of the call's {} ms",
                        CALL_BUDGET.as_millis()
                    ));
                }
                return Err(e);
            };
            // Held open by something outside the group: what the child printed is all there.
            return Ok(Output {
                label: label.to_string(),
                status: s,
                stdout,
            });
        }
        let wait = if exited.is_some() {
            until - now
        } else {
            POLL.min(until - now)
        };
        match chunks.as_ref().filter(|_| !eof) {
            None => std::thread::sleep(wait),
            Some(rx) => match rx.recv_timeout(wait) {
                Ok(chunk) => {
                    stdout.extend_from_slice(&chunk);
                    if stdout.len() > MAX_OUTPUT {
                        kill_group(&mut child);
                        reap(&mut child);
                        return Err(Error::new(format!(
                            "{label} printed more than {} KiB",
                            MAX_OUTPUT / 1024
                        )));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => eof = true,
            },
        }
    }
}

fn out_of_time(label: &str) -> Error {
    Error::new(format!(
        "{label} was not run: the call's {} ms are used up",
        CALL_BUDGET.as_millis()
    ))
    .hint("earlier steps took the time; run `credential-helper explain <url>` to see them")
}

/// Chunks of `r` until end of file (the sender is dropped then).
fn reader<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    // Nobody listens any more: stop.
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    });
    rx
}

/// Kills the child's whole process group (Windows: the child alone).
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        return;
    }
    let _ = child.kill();
}

/// Reaps a killed child, waiting a little at most (one stuck in the kernel is left to init).
fn reap(child: &mut Child) {
    let until = Instant::now() + Duration::from_millis(100);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::kernel::deadline::Deadline;
    use crate::kernel::env::Env;
    use crate::kernel::trace::Trace;

    fn sh(ctx: &Context, script: &str, limit: Duration) -> Result<Output> {
        run(
            ctx,
            "test-child",
            Path::new("/bin/sh"),
            &["-c", script],
            b"in",
            limit,
        )
    }

    fn ctx() -> Context {
        let vars = [("PATH".to_string(), "/usr/bin:/bin".to_string())].into();
        Context::new(Env::new(vars, "/".into(), 1_800_000_000), Trace::silent())
    }

    #[test]
    fn output_status_and_stdin() {
        let out = sh(
            &ctx(),
            "read x; echo \"got $x\"; echo err >&2",
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, b"got in\n");
        let out = sh(&ctx(), "echo secret; exit 3", DEFAULT_TIMEOUT).unwrap();
        let e = out.failure().to_string();
        assert_eq!(
            e,
            "test-child failed with exit status 3 (run `test-child` by hand to see why)"
        );
    }

    #[test]
    fn a_grandchild_holding_stdout_does_not_block() {
        let started = Instant::now();
        let out = sh(&ctx(), "sleep 30 & echo done", DEFAULT_TIMEOUT).unwrap();
        assert_eq!(out.stdout, b"done\n");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn the_limit_and_the_call_deadline_stop_a_child() {
        let started = Instant::now();
        let e = sh(&ctx(), "sleep 30", Duration::from_millis(200))
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("did not finish within 200 ms"),
            "{e}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));

        let mut short = ctx();
        short.deadline = Deadline::after(Duration::from_millis(300));
        let e = sh(&short, "sleep 30", DEFAULT_TIMEOUT).err().unwrap();
        assert!(e.to_string().contains("earlier steps"), "{e}");
        let e = sh(&short, "true", DEFAULT_TIMEOUT).err().unwrap();
        assert!(e.to_string().contains("was not run"), "{e}");
    }

    #[test]
    fn output_is_bounded() {
        let e = sh(&ctx(), "yes", DEFAULT_TIMEOUT).err().unwrap();
        assert!(e.to_string().contains("more than 1024 KiB"), "{e}");
    }
}

// Windows itself (here, under Wine: `CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine cargo test
// --target x86_64-pc-windows-gnu --lib`): a `.cmd` found through `PATHEXT` runs through
// `cmd.exe`, and so do command strings.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;
    use crate::kernel::env::Env;
    use crate::kernel::trace::Trace;

    fn ctx(bin: &Path) -> Context {
        let mut vars: std::collections::BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("PATH"))
            .collect();
        let system = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\windows".into());
        let path = format!("{};{system}\\system32", bin.display());
        vars.insert("Path".into(), path);
        Context::new(Env::new(vars, bin.into(), 1_800_000_000), Trace::silent())
    }

    #[test]
    fn batch_files_and_command_strings_run_through_cmd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("fake.cmd"),
            "@echo off\r\necho got %1 %2\r\n",
        )
        .unwrap();
        let ctx = ctx(dir.path());
        let program = ctx.env.which("fake").expect("fake.cmd through PATHEXT");
        let args = ["a b", "--format=json(credential)"];
        let out = run(&ctx, "fake", &program, &args, b"", DEFAULT_TIMEOUT).unwrap();
        assert!(out.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim_end(),
            r#"got "a b" "--format=json(credential)""#
        );
        let e = run(&ctx, "fake", &program, &["a&b"], b"", DEFAULT_TIMEOUT)
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("cannot run fake: "), "{e}");

        let out = run_shell(
            &ctx,
            "shell",
            "echo one& echo \"two\"",
            b"",
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        assert_eq!(stdout, "one\n\"two\"\n");
        let out = run_shell(&ctx, "shell", "exit 3", b"", DEFAULT_TIMEOUT).unwrap();
        assert_eq!(out.status.code(), Some(3));
    }
}
