//! The SSRF guard: refuses to connect to loopback, private, link-local and other non-public
//! addresses. Names are resolved first and every resolved address is checked (in the HTTP
//! client's own resolver, so the checked address is the one connected to: no DNS-rebinding
//! window); URLs with a literal IP are checked before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether connecting to `ip` is refused by the guard. An IPv6 address that embeds an IPv4
/// address (see [`embedded_v4`]) is judged by the IPv4 address as well.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6) || embedded_v4(v6).is_some_and(forbidden_v4),
    }
}

/// The IPv4 address embedded in an IPv6 address that reaches it by translation or
/// tunnelling, when there is one:
///
/// - IPv4-mapped `::ffff:0:0/96` and IPv4-compatible `::/96` (deprecated, still routed by
///   some stacks): the last 32 bits;
/// - IPv4-translated `::ffff:0:0:0/96` (SIIT): the last 32 bits;
/// - NAT64 `64:ff9b::/96` (well-known) and `64:ff9b:1::/48` (local use): the last 32 bits;
/// - 6to4 `2002::/16`: bits 16..48;
/// - Teredo `2001::/32`: the client address, the last 32 bits inverted (obfuscated).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::/96 IPv4-compatible (:: and ::1 are judged as IPv6 too; this adds ::a.b.c.d)
        [0, 0, 0, 0, 0, 0, _, _] => Some(last),
        // ::ffff:0:0/96 IPv4-mapped
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(last),
        // ::ffff:0:0:0/96 IPv4-translated
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(last),
        // 64:ff9b::/96 NAT64 well-known prefix
        [0x0064, 0xff9b, 0, 0, 0, 0, _, _] => Some(last),
        // 64:ff9b:1::/48 NAT64 local-use prefix (the IPv4 address may sit at any RFC 6052
        // offset; the last 32 bits is where /96 puts it, the common deployment)
        [0x0064, 0xff9b, 0x0001, ..] => Some(last),
        // 2002::/16 6to4
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        // 2001::/32 Teredo: the client's IPv4 address, every bit inverted
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(last))),
        _ => None,
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 carrier-grade NAT
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24 IETF protocol assignments
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        // 198.18.0.0/15 benchmarking
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4 reserved
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local
        || (first & 0xfe00) == 0xfc00
        // fe80::/10 link-local
        || (first & 0xffc0) == 0xfe80
        // fec0::/10 site-local (deprecated, still routed by some stacks)
        || (first & 0xffc0) == 0xfec0
        // 2001:db8::/32 documentation
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // 100::/64 discard-only
        || (first == 0x0100 && ip.segments()[1..4] == [0, 0, 0])
}

/// A resolver that drops forbidden addresses and fails when none is left.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses, \
                     which the SSRF guard refuses (start the server with \
                     --webhook-allow-private to allow them)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Checks a URL whose host is a literal IP address (the resolver never sees those).
pub fn check_literal_host(url: &reqwest::Url) -> Result<(), String> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_forbidden(ip) {
        return Err(format!(
            "{ip} is a private, loopback or link-local address, which the SSRF guard refuses \
             (start the server with --webhook-allow-private to allow them)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn classifies_addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::",
            "::1",
            "fe80::1",
            "fec0::1",
            "fd00::1",
            "100::1",
        ] {
            assert!(is_forbidden(ip(bad)), "{bad}");
        }
        for good in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_forbidden(ip(good)), "{good}");
        }
    }

    /// Every IPv6 form that embeds an IPv4 address, with a forbidden and an allowed IPv4 inside.
    #[test]
    fn ipv6_forms_embedding_ipv4_are_judged_by_it() {
        let table = [
            // (form, embeds 127.0.0.1 / 10.0.0.1 / 169.254.169.254, embeds 93.184.216.34)
            ("IPv4-mapped", "::ffff:127.0.0.1", "::ffff:93.184.216.34"),
            ("IPv4-mapped hex", "::ffff:7f00:1", "::ffff:5db8:d822"),
            ("IPv4-compatible", "::7f00:1", "::5db8:d822"),
            (
                "IPv4-compatible dotted",
                "::169.254.169.254",
                "::93.184.216.34",
            ),
            ("IPv4-translated", "::ffff:0:7f00:1", "::ffff:0:5db8:d822"),
            (
                "IPv4-translated private",
                "::ffff:0:a00:1",
                "::ffff:0:5db8:d822",
            ),
            ("NAT64", "64:ff9b::7f00:1", "64:ff9b::5db8:d822"),
            (
                "NAT64 dotted",
                "64:ff9b::169.254.169.254",
                "64:ff9b::93.184.216.34",
            ),
            (
                "NAT64 local-use",
                "64:ff9b:1::a00:1",
                "64:ff9b:1::5db8:d822",
            ),
            ("6to4", "2002:7f00:1::1", "2002:5db8:d822::1"),
            ("6to4 metadata", "2002:a9fe:a9fe::", "2002:5db8:d822::"),
            // Teredo: server 65.54.227.120, client bits inverted: !127.0.0.1 = 80ff:fffe
            (
                "Teredo",
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                "2001:0:4136:e378:8000:63bf:a247:27dd",
            ),
        ];
        for (form, bad, good) in table {
            assert!(is_forbidden(ip(bad)), "{form}: {bad} must be refused");
            assert!(!is_forbidden(ip(good)), "{form}: {good} must be allowed");
        }
        assert_eq!(
            embedded_v4("2001:0:4136:e378:8000:63bf:80ff:fffe".parse().expect("ip")),
            Some(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(embedded_v4("2606:4700::1111".parse().expect("ip")), None);
    }

    /// URLs with a literal address go through the same classification.
    #[test]
    fn literal_hosts_are_checked() {
        for bad in [
            "http://[::7f00:1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "http://[64:ff9b:1::a00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        ] {
            let url = reqwest::Url::parse(bad).expect("url");
            assert!(check_literal_host(&url).is_err(), "{bad}");
        }
        let ok = reqwest::Url::parse("http://[2606:4700:4700::1111]/").expect("url");
        assert!(check_literal_host(&ok).is_ok());
    }
}
