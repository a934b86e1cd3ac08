//! Starts the measured processes, times them and reads their peak RSS.
//!
//! Why a separate small process: Linux folds the address space a process had before `exec`
//! into its `ru_maxrss`, and a child spawned straight from the benchmark (tens of MiB, with its
//! servers and HTTP clients) would report the benchmark's size. Started from this launcher, a
//! child reports at most the launcher's own ~2 MiB or its own peak, whichever is larger.
//!
//! Usage: `launcher PROGRAM [ARGS...]`, with one request per line on stdin. Every request gets
//! its own process, all started before any is waited for, each with the request on a piped
//! stdin (no trailing newline, then closed) as Bazel does; environment and working directory
//! are the launcher's own. Reports on stdout, for each process in order, one line
//!
//! `<exit code or -1> <signal or 0> <peak RSS KiB> <minor faults> <wall ns> <out len> <err len>`
//!
//! followed by that many bytes of its stdout and stderr; then `burst <wall ns>` for the whole
//! batch, from the first start to the last exit.

use std::ffi::{c_int, c_long};
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

/// `struct rusage` on 64-bit Linux: two `timeval`s, then 14 `long`s starting with `ru_maxrss`.
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: [c_long; 2],
    stime: [c_long; 2],
    maxrss_kib: c_long,
    /// `ru_ixrss`, `ru_idrss`, `ru_isrss`: unused on Linux.
    unused: [c_long; 3],
    minor_faults: c_long,
    rest: [c_long; 9],
}

unsafe extern "C" {
    fn wait4(pid: c_int, status: *mut c_int, options: c_int, rusage: *mut Rusage) -> c_int;
}

/// Reaps `pid`: its exit status and the resources it used (std's `wait` drops the latter).
fn reap(pid: u32) -> (ExitStatus, Rusage) {
    let pid = c_int::try_from(pid).expect("a pid fits a C int");
    let mut status: c_int = 0;
    let mut usage = Rusage::default();
    loop {
        // SAFETY: both pointers are valid for writes for the duration of the call.
        let r = unsafe { wait4(pid, &raw mut status, 0, &raw mut usage) };
        if r == pid {
            return (ExitStatus::from_raw(status), usage);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            fail(&format!("wait4({pid}): {e}"));
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("launcher: {message}");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((program, args)) = args.split_first() else {
        fail("usage: launcher PROGRAM [ARGS...] < requests");
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        fail(&format!("reading requests: {e}"));
    }
    let requests: Vec<&str> = input.lines().filter(|l| !l.is_empty()).collect();

    let burst = Instant::now();
    let mut running = Vec::with_capacity(requests.len());
    for request in &requests {
        let started = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot start {program}: {e}")));
        if let Some(mut stdin) = child.stdin.take() {
            // A request fits in the pipe buffer, so this never waits for the child. A child
            // that exits without reading is not our concern here: its answer is checked.
            let _ = stdin.write_all(request.as_bytes());
        }
        running.push((child, started));
    }

    let mut report = Vec::new();
    for (mut child, started) in running {
        // Answers are small: reading stdout, then stderr, cannot deadlock.
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_end(&mut out);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_end(&mut err);
        }
        let (status, usage) = reap(child.id());
        let wall = started.elapsed();
        // Reaped by wait4 above: `child` must not be waited for again, and dropping it does not.
        drop(child);
        let _ = writeln!(
            report,
            "{} {} {} {} {} {} {}",
            status.code().unwrap_or(-1),
            status.signal().unwrap_or(0),
            usage.maxrss_kib,
            usage.minor_faults,
            wall.as_nanos(),
            out.len(),
            err.len()
        );
        report.extend_from_slice(&out);
        report.extend_from_slice(&err);
    }
    let _ = writeln!(report, "burst {}", burst.elapsed().as_nanos());
    if let Err(e) = std::io::stdout().lock().write_all(&report) {
        fail(&format!("writing the report: {e}"));
    }
}
