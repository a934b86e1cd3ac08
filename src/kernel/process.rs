//! Child processes (credential helpers, keyring tools) with a hard deadline.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};

/// Default deadline for a child process: well under Bazel's 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `program args...` with exactly `env`'s variables, feeds `stdin`, and kills it at the
/// deadline. Output is read on threads so a chatty child never blocks on a full pipe.
pub fn run(
    env: &Env,
    program: &std::path::Path,
    args: &[&str],
    stdin: &[u8],
    timeout: Duration,
) -> Result<Output> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.vars())
        .current_dir(env.cwd())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {name}: {e}")))?;

    let mut input = child.stdin.take();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(input) = input.as_mut() {
            // A child that exits without reading stdin is fine.
            let _ = input.write_all(&data);
        }
    });
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::new(format!(
                    "{name} did not finish within {} ms and was stopped",
                    timeout.as_millis()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(Error::new(format!("waiting for {name} failed: {e}"))),
        }
    };
    let _ = writer.join();
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        success: status.success(),
        code: status.code(),
        stdout: collect(out),
        stderr: collect(err),
    })
}

fn reader<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        // Cap what we keep: a helper's answer is small.
        let _ = r.by_ref().take(1024 * 1024).read_to_end(&mut buf);
        buf
    })
}
