//! Where a credential may travel. The one definition of: which hosts are loopback, which are
//! local (loopback, link-local, private networks), the secure-transport rule
//! ([`require_secure`]) and which URLs carry their own signature. The planning step applies
//! them for every helper that sends a credential; token realms and cloud endpoints use them
//! too. Redirects are never followed (see `http.rs`), so a URL checked here is the URL used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `host` from `host:port` or `[v6]:port`.
pub fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// A host name or IP literal (IPv6 with or without brackets) as an address, if it is one.
fn ip_of(host: &str) -> Option<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok()?;
    // `::ffff:127.0.0.1` reaches 127.0.0.1.
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: the hosts plain http may reach without
/// `"insecure": true`, since nothing on the network sees that traffic.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || ip_of(host).is_some_and(|ip| ip.is_loopback())
}

/// 169.254.0.0/16 and fe80::/10: where the clouds serve their metadata over plain http.
pub fn is_link_local_host(host: &str) -> bool {
    match ip_of(host) {
        Some(IpAddr::V4(ip)) => ip.is_link_local(),
        Some(IpAddr::V6(ip)) => ip.is_unicast_link_local(),
        None => false,
    }
}

/// Loopback, link-local, private-network and unspecified addresses, and `localhost` names:
/// hosts a server elsewhere must not be able to point us at (request forgery into the local
/// network). Only IP literals and names are judged; DNS is not consulted.
pub fn is_local_host(host: &str) -> bool {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match ip_of(&name) {
        Some(IpAddr::V4(ip)) => is_local_v4(ip),
        Some(IpAddr::V6(ip)) => is_local_v6(ip),
        None => false,
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    // 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 0.0.0.0 (which reaches this machine).
    ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    // ::1, fe80::/10, fc00::/7, ::.
    ip.is_loopback() || ip.is_unicast_link_local() || ip.is_unique_local() || ip.is_unspecified()
}

/// Two hosts (names or IP literals, brackets optional) are the same host.
pub fn same_host(a: &str, b: &str) -> bool {
    let norm = |h: &str| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    match (ip_of(a), ip_of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => norm(a) == norm(b),
    }
}

/// Why a URL may not carry a credential: its scheme, and (for `http`) that its host is
/// neither loopback nor marked insecure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSecure {
    pub scheme: String,
}

/// The secure-transport rule: `https`, or plain `http` to a loopback host or where the user
/// said `insecure`. Anything else (including other schemes) may not carry a credential.
pub fn require_secure(url: &url::Url, insecure: bool) -> Result<(), NotSecure> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if insecure || url.host_str().is_some_and(is_loopback_host) => Ok(()),
        other => Err(NotSecure {
            scheme: other.to_string(),
        }),
    }
}

/// A URL that carries its own signature in the query (S3 SigV4 / SigV2, Google Cloud Storage
/// V4 / V2, an Azure SAS): the storage backend refuses a second credential in a header.
pub fn is_presigned(url: &url::Url) -> bool {
    let has = |name: &str| url.query_pairs().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let sas = url.query_pairs().any(|(k, _)| k == "sig");
    has("X-Amz-Signature")
        || has("X-Goog-Signature")
        || (has("Signature") && (has("AWSAccessKeyId") || has("GoogleAccessId")))
        || sas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_local_hosts() {
        // (host, loopback, local)
        let table = [
            ("127.0.0.1", true, true),
            ("127.1.2.3", true, true),
            ("localhost", true, true),
            ("LOCALHOST", true, true),
            ("::1", true, true),
            ("[::1]", true, true),
            ("[::ffff:127.0.0.1]", true, true),
            ("localhost.", false, true),
            ("api.localhost", false, true),
            ("0.0.0.0", false, true),
            ("[::]", false, true),
            ("10.0.0.5", false, true),
            ("172.16.0.1", false, true),
            ("172.31.255.255", false, true),
            ("172.32.0.1", false, false),
            ("192.168.1.1", false, true),
            ("169.254.169.254", false, true),
            ("[fe80::1]", false, true),
            ("[febf::1]", false, true),
            ("[fc00::1]", false, true),
            ("[fd12:3456::1]", false, true),
            ("[::ffff:10.1.2.3]", false, true),
            ("[::ffff:8.8.8.8]", false, false),
            ("[2001:db8::1]", false, false),
            ("[fec0::1]", false, false),
            ("8.8.8.8", false, false),
            ("11.0.0.1", false, false),
            ("192.169.0.1", false, false),
            ("example.com", false, false),
            ("localhost.example.com", false, false),
            ("127.0.0.1.nip.io", false, false),
        ];
        for (host, link_local) in [
            ("169.254.169.254", true),
            ("[fe80::1]", true),
            ("127.0.0.1", false),
            ("10.0.0.1", false),
            ("metadata.example.com", false),
        ] {
            assert_eq!(is_link_local_host(host), link_local, "link-local {host}");
        }
        for (host, loopback, local) in table {
            assert_eq!(is_loopback_host(host), loopback, "loopback {host}");
            assert_eq!(is_local_host(host), local, "local {host}");
        }
    }

    #[test]
    fn same_host_compares_names_and_addresses() {
        assert!(same_host("Registry.Example", "registry.example"));
        assert!(same_host("[::1]", "::1"));
        assert!(same_host("[::ffff:127.0.0.1]", "127.0.0.1"));
        assert!(!same_host("localhost", "127.0.0.1"));
        assert!(!same_host("127.0.0.1", "127.0.0.2"));
        assert!(!same_host("a.example", "b.example"));
    }

    #[test]
    fn secure_transport_rule() {
        let check =
            |u: &str, insecure: bool| require_secure(&url::Url::parse(u).unwrap(), insecure);
        for ok in [
            "https://example.com/x",
            "https://10.0.0.5/x",
            "http://127.0.0.1:5000/x",
            "http://localhost:8080/x",
            "http://[::1]:5000/x",
        ] {
            assert_eq!(check(ok, false), Ok(()), "{ok}");
        }
        for refused in [
            "http://github.com/o/r",
            "http://10.0.0.5/x",
            "http://169.254.169.254/x",
            "http://[fe80::1]/x",
            "http://api.localhost/x",
            "http://127.0.0.1.nip.io/x",
        ] {
            assert_eq!(
                check(refused, false),
                Err(NotSecure {
                    scheme: "http".into()
                }),
                "{refused}"
            );
            assert_eq!(check(refused, true), Ok(()), "{refused} insecure");
        }
        assert!(check("ftp://127.0.0.1/x", true).is_err());
        assert!(check("file:///etc/passwd", true).is_err());
    }

    #[test]
    fn presigned_urls_are_recognised() {
        let presigned = |u: &str| is_presigned(&url::Url::parse(u).unwrap());
        for yes in [
            "https://b.s3.amazonaws.com/k?x-amz-signature=ab&X-Amz-Date=1",
            "https://b.s3.amazonaws.com/k?AWSAccessKeyId=A&Expires=1&Signature=s%3D",
            "https://storage.googleapis.com/b/o?X-Goog-Algorithm=x&X-Goog-Signature=ab",
            "https://storage.googleapis.com/b/o?GoogleAccessId=a&Expires=1&Signature=s",
            "https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2030-01-01&sp=r&sig=abc%3D",
            "https://github.com/o/r/releases/download/v1/x?X-Amz-Signature=abc",
        ] {
            assert!(presigned(yes), "{yes}");
        }
        for no in [
            "https://b.s3.amazonaws.com/k?versionId=1&Signature=x",
            "https://b.s3.amazonaws.com/k",
            "https://a.blob.core.windows.net/c/b",
            "https://a.blob.core.windows.net/c/b?comp=list&signature=x",
            "https://a.blob.core.windows.net/c/b?SIG=x",
        ] {
            assert!(!presigned(no), "{no}");
        }
    }
}
