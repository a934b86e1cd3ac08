//! Host names to addresses, without the C library.
//!
//! glibc's `getaddrinfo` follows `/etc/nsswitch.conf` and `dlopen`s its modules
//! (`libnss_systemd`, `libnss_mdns`, `libnss_sss`, ...) even into a statically linked binary,
//! where a module built against another glibc can crash the process. So every build resolves
//! names the same way, itself: `localhost` and `*.localhost` are the loopback addresses
//! (RFC 6761) without reading anything; any other name is looked up in `/etc/hosts`, then
//! asked of the name servers of `/etc/resolv.conf` (with its `search`, `ndots`, `timeout` and
//! `attempts`), by hickory-resolver on the request's runtime. Nothing blocks a thread, so the
//! request's timeouts, cut to the call's deadline, bound resolution too.
//!
//! The resolver is built (reading those two files) on the first name that needs it: requests
//! to IP addresses and loopback names never read them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::LookupIpStrategy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The resolver handed to every client of one [`crate::kernel::http::Http`].
#[derive(Clone, Default)]
pub struct SystemResolver {
    dns: Arc<OnceLock<Result<TokioResolver, String>>>,
}

/// The loopback addresses for `host` if it is `localhost` or a name under it.
pub fn loopback(host: &str) -> Option<[IpAddr; 2]> {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    (host == "localhost" || host.ends_with(".localhost"))
        .then_some([Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()])
}

impl SystemResolver {
    fn dns(&self) -> Result<TokioResolver, String> {
        self.dns
            .get_or_init(|| {
                let mut builder = TokioResolver::builder_tokio()
                    .map_err(|e| format!("cannot read /etc/resolv.conf: {e}"))?;
                let options = builder.options_mut();
                // Both families at once, as getaddrinfo answers, for the connector's happy
                // eyeballs.
                options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
                // One process, one lookup or two: nothing worth caching.
                options.cache_size = 8;
                Ok(builder.build())
            })
            .clone()
    }
}

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        if let Some(ips) = loopback(&host) {
            return Box::pin(std::future::ready(Ok(addrs(ips.to_vec()))));
        }
        let dns = self.dns();
        Box::pin(async move {
            let dns = dns?;
            let lookup = dns.lookup_ip(host.as_str()).await.map_err(|e| {
                if e.is_no_records_found() || e.is_nx_domain() {
                    format!("{host} is not in /etc/hosts and DNS has no address for it")
                } else {
                    format!("cannot resolve {host}: {e}")
                }
            })?;
            Ok(addrs(lookup.iter().collect()))
        })
    }
}

/// Port 0: the connector puts in the URL's port.
fn addrs(ips: Vec<IpAddr>) -> Addrs {
    Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_names_are_loopback() {
        let table: &[(&str, bool)] = &[
            ("localhost", true),
            ("LOCALHOST.", true),
            ("registry.localhost", true),
            ("localhost.example.com", false),
            ("mylocalhost", false),
            ("example.com", false),
        ];
        for &(host, want) in table {
            assert_eq!(loopback(host).is_some(), want, "{host}");
        }
        let ips = loopback("localhost").unwrap();
        assert!(ips[0].is_ipv4() && ips.iter().all(IpAddr::is_loopback));
    }
}
