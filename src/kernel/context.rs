//! What every helper is handed: the environment, the trace and the (lazy) HTTP client.

use crate::kernel::cache::{Cache, CacheRef};
use crate::kernel::env::Env;
use crate::kernel::http::Http;
use crate::kernel::trace::Trace;

pub struct Context {
    pub env: Env,
    pub trace: Trace,
    pub http: Http,
    /// `None` when disabled.
    pub cache: Option<Cache>,
}

impl Context {
    pub fn new(env: Env, trace: Trace) -> Context {
        let http = Http::new(&env);
        let cache = Cache::from_env(&env);
        Context {
            env,
            trace,
            http,
            cache,
        }
    }

    /// The cache for this call (off when disabled or not trusted), with the trace for notes.
    pub fn cache(&self) -> CacheRef<'_> {
        CacheRef::new(self.cache.as_ref(), &self.trace)
    }
}
