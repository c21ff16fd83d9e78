//! Which addresses are on the public internet, and if not, which range they are in.
//!
//! Default deny: an IPv4 address is public unless it is in one of the special-purpose ranges
//! below; an IPv6 address only inside global unicast (`2000::/3`) and outside its special
//! ranges. An IPv6 address that carries an IPv4 one — IPv4-mapped (`::ffff:a.b.c.d`),
//! IPv4-compatible (`::a.b.c.d`), SIIT-translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`),
//! 6to4 (`2002::/16`), Teredo (`2001::/32`: its server and its client) — is judged by the IPv4
//! address it leads to, because the network stack or a translator on the way connects there:
//! `[::ffff:127.0.0.1]` is loopback, `[2002:a9fe:a9fe::]` is the metadata service.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

/// A range of addresses outside the public internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Range {
    /// `0.0.0.0/8` and `::`: "this host"; a connection to it reaches this machine. Never
    /// allowed, whatever the allow-list says.
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT.
    SharedAddressSpace,
    /// `169.254.0.0/16` (the cloud metadata service is 169.254.169.254), `fe80::/10`.
    LinkLocal,
    /// `192.0.0.0/24` and the rest of `2001::/23`.
    ProtocolAssignments,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240.0.0.0/4`, `192.88.99.0/24`, and IPv6 outside `2000::/3` not named otherwise.
    Reserved,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10` (deprecated, still routed inside some networks).
    SiteLocal,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Range::ThisNetwork => "this host (0.0.0.0/8, ::)",
            Range::Loopback => "loopback",
            Range::Private => "a private range",
            Range::SharedAddressSpace => "carrier-grade NAT (100.64.0.0/10)",
            Range::LinkLocal => "link-local (which includes the metadata service)",
            Range::ProtocolAssignments => "reserved for protocol assignments",
            Range::Documentation => "reserved for documentation",
            Range::Benchmarking => "reserved for benchmarking",
            Range::Multicast => "multicast",
            Range::Broadcast => "broadcast",
            Range::Reserved => "reserved",
            Range::UniqueLocal => "unique local (fc00::/7)",
            Range::SiteLocal => "site-local (fec0::/10)",
        })
    }
}

/// Why an address is not public: its range, and the IPv4 address it was judged by when it is
/// an IPv6 address that embeds one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inside {
    pub range: Range,
    pub embedded: Option<Ipv4Addr>,
}

impl fmt::Display for Inside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            Some(v4) => write!(f, "{} (it embeds {v4})", self.range),
            None => write!(f, "{}", self.range),
        }
    }
}

/// `None` for an address on the public internet; otherwise why it is not.
pub fn classify(ip: IpAddr) -> Option<Inside> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4).map(|range| Inside { range, embedded: None }),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    classify(ip).is_none()
}

fn classify_v4(ip: Ipv4Addr) -> Option<Range> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (0, ..) => Range::ThisNetwork,
        (10, ..) => Range::Private,
        (100, 64..=127, _) => Range::SharedAddressSpace,
        (127, ..) => Range::Loopback,
        (169, 254, _) => Range::LinkLocal,
        (172, 16..=31, _) => Range::Private,
        (192, 0, 0) => Range::ProtocolAssignments,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Range::Documentation,
        (192, 88, 99) => Range::Reserved,
        (192, 168, _) => Range::Private,
        (198, 18..=19, _) => Range::Benchmarking,
        (224..=239, ..) => Range::Multicast,
        _ if ip.is_broadcast() => Range::Broadcast,
        (240..=255, ..) => Range::Reserved,
        _ => return None,
    };
    Some(range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Inside> {
    let direct = |range| Some(Inside { range, embedded: None });
    if ip.is_unspecified() {
        return direct(Range::ThisNetwork);
    }
    if ip.is_loopback() {
        return direct(Range::Loopback);
    }
    if let Some(carried) = embedded_v4(ip) {
        return carried
            .into_iter()
            .flatten()
            .find_map(|v4| classify_v4(v4).map(|range| Inside { range, embedded: Some(v4) }));
    }
    let s = ip.segments();
    let range = match s[0] {
        0xfc00..=0xfdff => Range::UniqueLocal,
        0xfe80..=0xfebf => Range::LinkLocal,
        0xfec0..=0xfeff => Range::SiteLocal,
        0xff00..=0xffff => Range::Multicast,
        0x2001 if s[1] == 0x0db8 => Range::Documentation,
        0x3fff if s[1] < 0x1000 => Range::Documentation,
        0x2001 if s[1] == 0x0002 && s[2] == 0 => Range::Benchmarking,
        0x2001 if s[1] < 0x0200 => Range::ProtocolAssignments,
        0x2000..=0x3fff => return None,
        _ => Range::Reserved,
    };
    direct(range)
}

/// The IPv4 addresses an IPv6 address leads to, if it is one of the forms that carry them
/// (Teredo carries two: its server's and its client's; the client's is stored inverted).
fn embedded_v4(ip: Ipv6Addr) -> Option<[Option<Ipv4Addr>; 2]> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let tail = v4(s[6], s[7]);
    let one = |address| Some([Some(address), None]);
    match s {
        // IPv4-mapped, SIIT-translated, IPv4-compatible (`::` and `::1` are judged before).
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0xffff, 0, ..] | [0, 0, 0, 0, 0, 0, ..] => one(tail),
        // NAT64, the well-known prefix.
        [0x0064, 0xff9b, 0, 0, 0, 0, ..] => one(tail),
        // 6to4: the relay sends it to the IPv4 address after the prefix.
        [0x2002, high, low, ..] => one(v4(high, low)),
        // Teredo: the server, and the client behind its NAT.
        [0x2001, 0, server_high, server_low, ..] => {
            Some([Some(v4(server_high, server_low)), Some(v4(!s[6], !s[7]))])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(ip: &str) -> Option<Range> {
        classify(ip.parse().expect(ip)).map(|inside| inside.range)
    }

    #[test]
    fn every_special_ipv4_range_is_inside() {
        let table = [
            ("0.0.0.0", Range::ThisNetwork),
            ("0.255.255.255", Range::ThisNetwork),
            ("10.0.0.1", Range::Private),
            ("10.255.255.255", Range::Private),
            ("100.64.0.1", Range::SharedAddressSpace),
            ("100.127.255.255", Range::SharedAddressSpace),
            ("127.0.0.1", Range::Loopback),
            ("127.255.255.254", Range::Loopback),
            ("169.254.169.254", Range::LinkLocal),
            ("172.16.0.1", Range::Private),
            ("172.31.255.255", Range::Private),
            ("192.0.0.170", Range::ProtocolAssignments),
            ("192.0.2.1", Range::Documentation),
            ("198.51.100.7", Range::Documentation),
            ("203.0.113.9", Range::Documentation),
            ("192.88.99.1", Range::Reserved),
            ("192.168.1.1", Range::Private),
            ("198.18.0.1", Range::Benchmarking),
            ("198.19.255.255", Range::Benchmarking),
            ("224.0.0.1", Range::Multicast),
            ("239.255.255.250", Range::Multicast),
            ("240.0.0.1", Range::Reserved),
            ("255.255.255.254", Range::Reserved),
            ("255.255.255.255", Range::Broadcast),
        ];
        for (ip, range) in table {
            assert_eq!(range_of(ip), Some(range), "{ip}");
        }
    }

    #[test]
    fn the_edges_of_the_ranges_are_public() {
        for ip in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "93.184.216.34",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(range_of(ip), None, "{ip}");
        }
    }

    #[test]
    fn special_ipv6_ranges_are_inside() {
        let table = [
            ("::", Range::ThisNetwork),
            ("::1", Range::Loopback),
            ("fc00::1", Range::UniqueLocal),
            ("fd12:3456::1", Range::UniqueLocal),
            ("fe80::1", Range::LinkLocal),
            ("febf::1", Range::LinkLocal),
            ("fec0::1", Range::SiteLocal),
            ("ff02::1", Range::Multicast),
            ("ff0e::1", Range::Multicast),
            ("2001:db8::1", Range::Documentation),
            ("3fff::1", Range::Documentation),
            ("2001:2::1", Range::Benchmarking),
            ("2001:10::1", Range::ProtocolAssignments),
            ("100::1", Range::Reserved),
            ("64:ff9b:1::a00:1", Range::Reserved),
            ("4000::1", Range::Reserved),
            ("1::1", Range::Reserved),
        ];
        for (ip, range) in table {
            assert_eq!(range_of(ip), Some(range), "{ip}");
        }
    }

    #[test]
    fn ipv6_that_embeds_ipv4_is_judged_by_the_ipv4_address() {
        let table = [
            // IPv4-compatible: what `[::7f00:1]` is.
            ("::7f00:1", "127.0.0.1", Range::Loopback),
            ("::127.0.0.1", "127.0.0.1", Range::Loopback),
            ("::a9fe:a9fe", "169.254.169.254", Range::LinkLocal),
            ("::2", "0.0.0.2", Range::ThisNetwork),
            // IPv4-mapped.
            ("::ffff:127.0.0.1", "127.0.0.1", Range::Loopback),
            ("::ffff:7f00:1", "127.0.0.1", Range::Loopback),
            ("::ffff:10.0.0.1", "10.0.0.1", Range::Private),
            ("::ffff:0.0.0.0", "0.0.0.0", Range::ThisNetwork),
            ("::ffff:169.254.169.254", "169.254.169.254", Range::LinkLocal),
            // SIIT-translated.
            ("::ffff:0:127.0.0.1", "127.0.0.1", Range::Loopback),
            // NAT64.
            ("64:ff9b::7f00:1", "127.0.0.1", Range::Loopback),
            ("64:ff9b::169.254.169.254", "169.254.169.254", Range::LinkLocal),
            ("64:ff9b::a00:1", "10.0.0.1", Range::Private),
            // 6to4.
            ("2002:7f00:1::", "127.0.0.1", Range::Loopback),
            ("2002:a9fe:a9fe::1", "169.254.169.254", Range::LinkLocal),
            ("2002:c0a8:101::", "192.168.1.1", Range::Private),
            // Teredo: the server (here 10.0.0.1) or the client (inverted: 127.0.0.1).
            ("2001:0:a00:1::ffff:ffff", "10.0.0.1", Range::Private),
            ("2001:0:5ef5:79fb::80ff:fffe", "127.0.0.1", Range::Loopback),
        ];
        for (ip, embedded, range) in table {
            let inside = classify(ip.parse().expect(ip));
            let expected = Inside { range, embedded: Some(embedded.parse().expect(embedded)) };
            assert_eq!(inside, Some(expected), "{ip}");
        }
    }

    #[test]
    fn ipv6_that_embeds_a_public_ipv4_address_is_public() {
        for ip in [
            "::ffff:93.184.216.34",
            "::5db8:d822",
            "64:ff9b::93.184.216.34",
            "2002:5db8:d822::1",
            // Teredo: server 94.245.121.251, client 93.184.216.34 (inverted).
            "2001:0:5ef5:79fb::a247:27dd",
        ] {
            assert_eq!(range_of(ip), None, "{ip}");
        }
    }
}
