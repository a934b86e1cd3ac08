//! What every helper is handed: the environment, the trace, the call's deadline and the
//! (lazy) HTTP client.

use std::rc::Rc;

use crate::kernel::cache::{Cache, CacheRef};
use crate::kernel::deadline::Deadline;
use crate::kernel::env::Env;
use crate::kernel::http::Http;
use crate::kernel::trace::Trace;

pub struct Context {
    pub env: Env,
    /// Shared with `http`, which notes its retries.
    pub trace: Rc<Trace>,
    /// The whole call's; every child process and request is cut to it.
    pub deadline: Deadline,
    pub http: Http,
    /// `None` when disabled.
    pub cache: Option<Cache>,
}

impl Context {
    /// A call whose deadline starts now.
    pub fn new(env: Env, trace: Trace) -> Context {
        Context::within(env, trace, Deadline::start())
    }

    /// A call bounded by `deadline`, created when the command started.
    pub fn within(env: Env, trace: Trace, deadline: Deadline) -> Context {
        let trace = Rc::new(trace);
        let http = Http::new(&env, deadline, Rc::clone(&trace));
        let cache = Cache::from_env(&env);
        Context {
            env,
            trace,
            deadline,
            http,
            cache,
        }
    }

    /// The cache for this call (off when disabled or not trusted), with the trace for notes.
    pub fn cache(&self) -> CacheRef<'_> {
        CacheRef::new(self.cache.as_ref(), &self.trace, self.deadline)
    }
}
