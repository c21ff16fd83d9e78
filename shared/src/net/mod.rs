//! Outbound requests to addresses a tenant chose (an AI base URL, an Odoo, a WordPress, a
//! social platform's base URL and the media it fetches, SEO audits) must not reach the inside
//! of our network: loopback, private ranges, link-local (and the cloud metadata service at
//! 169.254.169.254), CGNAT, multicast and the like (`classify`) are refused before any
//! connection, unless the host is on the operator's allow-list (`OUTBOUND_ALLOWED_HOSTS`).
//!
//! Every client sends through a [`GuardedClient`], which checks each request's *parsed* URL
//! ([`OutboundGuard::check_url`]) right before sending it: the host is what `url::Url` made of
//! it, which is what the HTTP client dials, so `http://2130706433/`, `http://127.1/`,
//! `http://0x7f000001/` and `http://0/` are the addresses 127.0.0.1 and 0.0.0.0, not names. A
//! name is checked when it resolves (the client's resolver is the guard's): every address it
//! resolves to must pass, or nothing is dialled.

mod classify;
mod client;

use std::{net::IpAddr, sync::Arc};

use url::{Host, Url};

pub use self::{
    classify::{Inside, Range, classify, is_public},
    client::{GuardedClient, SendError},
};

/// Why the guard refused a request; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

/// An allow-list entry: an address (however it was spelt) or a name.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    Address(IpAddr),
    Name(String),
}

/// Which non-public hosts may be reached. The default refuses every one of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundGuard {
    allowed: Vec<Allowed>,
    /// Only loopback addresses, named literally (or `localhost`): nothing outside the machine
    /// is reached. For fuzzing and benchmarks on a machine that must never connect out
    /// (`OUTBOUND_LOOPBACK_ONLY`).
    loopback_only: bool,
}

impl OutboundGuard {
    /// A guard that lets these hosts through although they are not public: names, or
    /// addresses in any spelling a URL accepts (`127.0.0.1`, `[::1]`, `::1`).
    pub fn new(allowed_hosts: impl IntoIterator<Item = String>) -> Self {
        let allowed = allowed_hosts.into_iter().filter_map(|host| allowed(&host)).collect();
        Self { allowed, loopback_only: false }
    }

    /// A guard that lets requests reach only this machine.
    pub fn loopback_only() -> Self {
        Self { allowed: Vec::new(), loopback_only: true }
    }

    /// Reads a comma-separated list.
    pub fn from_list(list: &str) -> Self {
        Self::new(list.split(',').map(str::to_owned))
    }

    /// Parses `raw` and checks it (see `check_url`); the parsed URL when it passes.
    pub fn check_str(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw.trim()).map_err(|error| Refused(format!("not a valid URL ({error})")))?;
        self.check_url(&url)?;
        Ok(url)
    }

    /// Refuses `url` when it is not http(s), or its host is an address we may not reach; a
    /// name passes here and is checked when it resolves (`check_resolved`). The one check
    /// every outbound request goes through (`GuardedClient`).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!("`{}` is not an http(s) URL", url.scheme())));
        }
        match url.host() {
            Some(Host::Ipv4(ip)) => self.check_address(ip.into()),
            Some(Host::Ipv6(ip)) => self.check_address(ip.into()),
            Some(Host::Domain(name)) if !name.is_empty() => self.check_name(name),
            _ => Err(Refused("the URL has no host".to_owned())),
        }
    }

    /// Refuses a literal address that is not public (unless allowed); `0.0.0.0/8` and `::`
    /// always.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.loopback_only {
            return match ip.is_loopback() {
                true => Ok(()),
                false => Err(not_loopback(&ip.to_string())),
            };
        }
        match classify(ip) {
            None => Ok(()),
            Some(inside)
                if inside.range != Range::ThisNetwork && self.allowed.contains(&Allowed::Address(ip)) =>
            {
                Ok(())
            }
            Some(inside) => Err(Refused(format!(
                "{ip} is not a public address: {inside}; outbound requests to it are refused"
            ))),
        }
    }

    /// Refuses `name` when every address it resolves to would be: in loopback-only mode,
    /// anything but `localhost`.
    fn check_name(&self, name: &str) -> Result<(), Refused> {
        match self.loopback_only && normalised(name) != "localhost" {
            true => Err(not_loopback(name)),
            false => Ok(()),
        }
    }

    /// Refuses `name` when any address it resolved to is not public (unless the name is
    /// allowed), or is `0.0.0.0/8` or `::`: a name that leads inside even once is not
    /// dialled at all. What the guard's resolver and the SEO fetcher's pre-check both use.
    pub fn check_resolved(
        &self,
        name: &str,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Result<(), Refused> {
        self.check_name(name)?;
        let allowed = self.allowed.contains(&Allowed::Name(normalised(name)));
        for ip in addresses {
            let refused = match classify(ip) {
                _ if self.loopback_only => (!ip.is_loopback()).then(|| "it is not loopback".to_owned()),
                Some(inside) if inside.range == Range::ThisNetwork || !allowed => {
                    Some(format!("which is not a public address: {inside}"))
                }
                _ => None,
            };
            if let Some(why) = refused {
                return Err(Refused(format!(
                    "{name} resolves to {ip}, {why}; outbound requests to it are refused"
                )));
            }
        }
        Ok(())
    }

    /// A DNS resolver for `reqwest` that fails for a name `check_resolved` refuses: the
    /// request never connects.
    fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { guard: self.clone() })
    }
}

/// The allow-list entry `host` stands for, parsed as a URL's host would be.
fn allowed(host: &str) -> Option<Allowed> {
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some(Allowed::Address(ip));
    }
    Some(match Host::parse(host) {
        Ok(Host::Ipv4(ip)) => Allowed::Address(ip.into()),
        Ok(Host::Ipv6(ip)) => Allowed::Address(ip.into()),
        Ok(Host::Domain(name)) => Allowed::Name(normalised(&name)),
        Err(_) => Allowed::Name(normalised(host)),
    })
}

/// A name as compared: lower case, without the root's trailing dot.
fn normalised(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn not_loopback(host: &str) -> Refused {
    Refused(format!("{host} is not a loopback address; only this machine may be reached"))
}

#[derive(Debug)]
struct GuardedResolver {
    guard: OutboundGuard,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let guard = self.guard.clone();
        Box::pin(async move {
            // Refused before anything is looked up.
            guard.check_name(&host)?;
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            guard.check_resolved(&host, found.iter().map(|address| address.ip()))?;
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests;
