//! The call's one deadline: created when the command starts, held by the `Context`, and
//! consulted by every child process and every network request, so a `get` ends (the process
//! exits) before Bazel's 10 s `--credential_helper_timeout` whatever its children, resolver
//! and servers do.

use std::time::{Duration, Instant};

/// All work of one call ends by then, leaving Bazel's 10 s (and the time to write the answer
/// and exit) untouched.
pub const CALL_BUDGET: Duration = Duration::from_millis(8500);

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    /// A call starting now, with the whole [`CALL_BUDGET`].
    pub fn start() -> Deadline {
        Deadline::after(CALL_BUDGET)
    }

    pub fn after(budget: Duration) -> Deadline {
        Deadline {
            end: Instant::now() + budget,
        }
    }

    /// Time left; zero once passed.
    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// A step's own limit, cut to the time left.
    pub fn limit(&self, own: Duration) -> Duration {
        own.min(self.remaining())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    pub fn instant(&self) -> Instant {
        self.end
    }

    /// Runs `work` on a thread of its own and waits for it until the deadline: `None` if it is
    /// still running then (a read stuck on a hung network file system). Such a thread is left
    /// behind; it holds nothing of the caller's, and the process exits soon after.
    pub fn run_within<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.spawn(work).wait()
    }

    /// Starts `work` on a thread of its own, to be waited for later (until this deadline):
    /// the caller goes on with other work meanwhile.
    pub fn spawn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Running<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        let started = !self.passed()
            && std::thread::Builder::new()
                .spawn(move || {
                    let _ = tx.send(work());
                })
                .is_ok();
        Running {
            result: started.then_some(rx),
            deadline: *self,
        }
    }
}

/// Work started by [`Deadline::spawn`].
#[derive(Debug)]
pub struct Running<T> {
    /// `None` if the thread could not start, or the deadline had passed.
    result: Option<std::sync::mpsc::Receiver<T>>,
    deadline: Deadline,
}

impl<T> Running<T> {
    /// Its result, or `None` if it is still running at the deadline.
    pub fn wait(self) -> Option<T> {
        self.result?.recv_timeout(self.deadline.remaining()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_cut_to_the_time_left() {
        let d = Deadline::after(Duration::from_millis(200));
        assert!(d.limit(Duration::from_secs(5)) <= Duration::from_millis(200));
        assert_eq!(
            d.limit(Duration::from_millis(10)),
            Duration::from_millis(10)
        );
        assert!(!d.passed());
        let gone = Deadline::after(Duration::ZERO);
        assert!(gone.passed());
        assert_eq!(gone.limit(Duration::from_secs(1)), Duration::ZERO);
    }

    #[test]
    fn work_past_the_deadline_is_not_waited_for() {
        let d = Deadline::after(Duration::from_millis(100));
        assert_eq!(d.run_within(|| 7), Some(7));
        let started = Instant::now();
        let stuck = d.run_within(|| std::thread::sleep(Duration::from_secs(5)));
        assert_eq!(stuck, None);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
