//! Outbound requests to addresses a tenant chose (an AI base URL today; audits and webhooks
//! later) must not reach the inside of our network: loopback, private ranges, link-local (and
//! the cloud metadata service at 169.254.169.254), CGNAT, multicast and the like are refused
//! after DNS resolution, before any connection, unless the host is on the operator's
//! allow-list (`OUTBOUND_ALLOWED_HOSTS`).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

/// Hosts (names or literal IPs) that may resolve to non-public addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundGuard {
    allowed_hosts: Vec<String>,
    /// Only loopback addresses, named literally (or `localhost`): nothing is resolved and
    /// nothing outside the machine is reached. For fuzzing and benchmarks on a machine that
    /// must never connect out (`OUTBOUND_LOOPBACK_ONLY`).
    loopback_only: bool,
}

impl OutboundGuard {
    pub fn new(allowed_hosts: impl IntoIterator<Item = String>) -> Self {
        Self {
            allowed_hosts: allowed_hosts.into_iter().map(|host| host.trim().to_lowercase()).collect(),
            loopback_only: false,
        }
    }

    /// A guard that lets requests reach only this machine.
    pub fn loopback_only() -> Self {
        Self { allowed_hosts: Vec::new(), loopback_only: true }
    }

    /// Reads a comma-separated list.
    pub fn from_list(list: &str) -> Self {
        Self::new(list.split(',').map(str::trim).filter(|host| !host.is_empty()).map(str::to_owned))
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_lowercase();
        self.allowed_hosts.contains(&host)
    }

    /// Refuses `url` at once when its host is a literal address we may not reach; names are
    /// checked when they resolve (`resolver`).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let host = if let Some(bracketed) = host_port.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or_default()
        } else {
            host_port.split(':').next().unwrap_or_default()
        };
        if host.is_empty() {
            return Err("the URL has no host".to_owned());
        }
        if self.loopback_only {
            return match is_loopback_name(host) {
                true => Ok(()),
                false => Err(format!("{host} is not a loopback address; only this machine may be reached")),
            };
        }
        match host.parse::<IpAddr>() {
            Ok(ip) if !is_public(ip) && !self.allows_host(host) => {
                Err(format!("{host} is not a public address; outbound requests to it are refused"))
            }
            _ => Ok(()),
        }
    }

    /// A DNS resolver for `reqwest` that drops every non-public address of a host that is
    /// not allowed, and fails when none is left: the request never connects.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { guard: self.clone() })
    }
}

#[derive(Debug)]
pub struct GuardedResolver {
    guard: OutboundGuard,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.guard.allows_host(&host);
        let loopback_only = self.guard.loopback_only;
        Box::pin(async move {
            if loopback_only && !is_loopback_name(&host) {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} is not a loopback address; only this machine may be reached").into();
                return Err(refused);
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> =
                found.into_iter().filter(|address| allowed || is_public(address.ip())).collect();
            if usable.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves only to non-public addresses; outbound requests to it are refused"
                )
                .into();
                return Err(refused);
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `localhost`, or a literal address in 127.0.0.0/8 or ::1.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(inside.parse().expect("ip")), "{inside}");
        }
        for outside in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(outside.parse().expect("ip")), "{outside}");
        }
    }

    #[test]
    fn literal_urls_are_checked_at_once() {
        let guard = OutboundGuard::from_list("127.0.0.1, localhost");
        assert!(guard.check_url("http://169.254.169.254/latest/meta-data").is_err());
        assert!(guard.check_url("http://user:pw@10.0.0.5:8080/v1").is_err());
        assert!(guard.check_url("http://[::1]:11434/v1").is_err());
        assert!(guard.check_url("http://127.0.0.1:9000/v1").is_ok());
        assert!(guard.check_url("https://api.openai.com/v1").is_ok());
        assert!(OutboundGuard::default().check_url("http://127.0.0.1/v1").is_err());
    }

    #[test]
    fn loopback_only_refuses_every_other_host_without_resolving_it() {
        let guard = OutboundGuard::loopback_only();
        assert!(guard.check_url("http://127.0.0.1:9000/v1").is_ok());
        assert!(guard.check_url("http://[::1]:9000/v1").is_ok());
        assert!(guard.check_url("http://localhost/v1").is_ok());
        for outside in
            ["https://api.openai.com/v1", "http://10.0.0.5/", "http://169.254.169.254/", "http://example.com"]
        {
            assert!(guard.check_url(outside).is_err(), "{outside}");
        }
    }
}
