//! Host names to addresses on Linux, without the C library.
//!
//! glibc's `getaddrinfo` follows `/etc/nsswitch.conf` and `dlopen`s its modules
//! (`libnss_systemd`, `libnss_mdns`, `libnss_sss`, ...) even into a statically linked binary,
//! where a module built against another glibc can crash the process. So every Linux build
//! resolves names the same way, itself, as glibc's `files dns` does:
//!
//! - `localhost` and `*.localhost` are the loopback addresses (RFC 6761), nothing read;
//! - a name in `/etc/hosts` gets the addresses listed there (either family), and DNS is not
//!   asked (a query for the other family could wait on a server that never answers);
//! - any other name is asked of the servers of `/etc/resolv.conf` (its `search`, `ndots`,
//!   `timeout` and `attempts` apply), A and AAAA together, by hickory-resolver on the request's
//!   runtime. Without a usable `resolv.conf`, a server on the machine itself, as glibc does.
//!
//! Nothing blocks a thread, so the request's timeouts, cut to the call's deadline, bound
//! resolution too. The two files are read on the first name that needs them: requests to IP
//! addresses and loopback names never read them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::system_conf::read_system_conf;
use hickory_resolver::{Hosts, Name as DnsName, TokioResolver};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::kernel::files;

const HOSTS_FILE: &str = "/etc/hosts";

/// The resolver handed to every HTTP client of one call; built on first use.
#[derive(Clone, Default)]
pub struct SystemResolver {
    state: Arc<OnceLock<State>>,
}

struct State {
    hosts: Hosts,
    dns: TokioResolver,
}

/// The loopback addresses for `host` if it is `localhost` or a name under it.
pub fn loopback(host: &str) -> Option<[IpAddr; 2]> {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    (host == "localhost" || host.ends_with(".localhost"))
        .then_some([Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()])
}

/// The addresses `hosts` lists for `host`, IPv4 first; `None` if it lists none.
pub fn from_hosts(hosts: &Hosts, host: &str) -> Option<Vec<IpAddr>> {
    let name = DnsName::from_str(host).ok()?;
    let ips: Vec<IpAddr> = [RecordType::A, RecordType::AAAA]
        .into_iter()
        .filter_map(|t| hosts.lookup_static_host(&Query::query(name.clone(), t)))
        .flat_map(|lookup| {
            lookup
                .iter()
                .filter_map(|r| r.ip_addr())
                .collect::<Vec<_>>()
        })
        .collect();
    (!ips.is_empty()).then_some(ips)
}

/// `/etc/hosts` in hickory's reading, read as every file the helper reads (never blocking on
/// a FIFO, bounded in size); missing or unreadable is empty, as for glibc.
fn read_hosts(path: &Path) -> Hosts {
    let mut hosts = Hosts::default();
    if let Ok(Some(text)) = files::read_capped(path) {
        let _ = hosts.read_hosts_conf(text.as_slice());
    }
    hosts
}

fn build_dns() -> TokioResolver {
    let (config, mut options) = read_system_conf().unwrap_or_else(|_| {
        let local = [Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
        let servers = NameServerConfigGroup::from_ips_clear(&local, 53, false);
        (
            ResolverConfig::from_parts(None, Vec::new(), servers),
            ResolverOpts::default(),
        )
    });
    // Both families at once, as getaddrinfo answers, for the connector's happy eyeballs.
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    // Read above, once.
    options.use_hosts_file = ResolveHosts::Never;
    // One process, one lookup or two: nothing worth caching.
    options.cache_size = 8;
    TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options)
        .build()
}

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        if let Some(ips) = loopback(&host) {
            return Box::pin(std::future::ready(Ok(addrs(ips.to_vec()))));
        }
        let state = self.state.get_or_init(|| State {
            hosts: read_hosts(Path::new(HOSTS_FILE)),
            dns: build_dns(),
        });
        if let Some(ips) = from_hosts(&state.hosts, &host) {
            return Box::pin(std::future::ready(Ok(addrs(ips))));
        }
        let dns = state.dns.clone();
        Box::pin(async move {
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

    #[test]
    fn hosts_entries_of_either_family_and_any_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(
            &path,
            "# comment\n127.0.0.1 localhost\n10.0.0.7 Registry.Corp registry # alias\n\
             fd00::7 registry.corp\n::1 v6only.test\n",
        )
        .unwrap();
        let hosts = read_hosts(&path);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let table: &[(&str, Option<Vec<IpAddr>>)] = &[
            ("registry.corp", Some(vec![ip("10.0.0.7"), ip("fd00::7")])),
            ("REGISTRY.corp.", Some(vec![ip("10.0.0.7"), ip("fd00::7")])),
            ("registry", Some(vec![ip("10.0.0.7")])),
            ("v6only.test", Some(vec![ip("::1")])),
            ("other.corp", None),
        ];
        for (host, want) in table {
            assert_eq!(from_hosts(&hosts, host).as_ref(), want.as_ref(), "{host}");
        }
        // Missing is empty, as for glibc.
        assert_eq!(
            from_hosts(&read_hosts(&dir.path().join("none")), "registry"),
            None
        );
    }
}
