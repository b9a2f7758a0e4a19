//! Address ranges: CIDR blocks for the allow-list, and the ranges a download must not
//! reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP address or a CIDR block (`10.0.0.0/8`, `::1/128`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// Whether `ip` lies in this block (an IPv4 block never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                u32::from(ip) & v4_mask(self.prefix) == u32::from(network)
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                u128::from(ip) & v6_mask(self.prefix) == u128::from(network)
            }
            _ => false,
        }
    }
}

impl FromStr for IpBlock {
    type Err = String;

    /// Parses `address` or `address/prefix`; host bits after the prefix must be zero.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |why: &str| format!("'{text}' is not an IP address or CIDR block ({why})");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| invalid("bad address"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits
                    .parse::<u8>()
                    .ok()
                    .filter(|prefix| *prefix <= bits)
                    .ok_or_else(|| invalid(&format!("prefix longer than {bits}")))?
            }
            Some(_) => return Err(invalid("bad prefix length")),
        };
        let block = IpBlock { network, prefix };
        if !block.contains(network) {
            return Err(invalid("address bits set after the prefix"));
        }
        Ok(block)
    }
}

fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// Whether `ip` is in `network/prefix`, for the fixed tables below.
fn v4_in(ip: Ipv4Addr, network: [u8; 4], prefix: u8) -> bool {
    u32::from(ip) & v4_mask(prefix) == u32::from(Ipv4Addr::from(network))
}

fn v6_in(ip: Ipv6Addr, network: [u16; 8], prefix: u8) -> bool {
    let [a, b, c, d, e, f, g, h] = network;
    u128::from(ip) & v6_mask(prefix) == u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h))
}

/// IPv4 ranges that are not the public internet, most specific first.
const BLOCKED_V4: &[([u8; 4], u8, &str)] = &[
    ([255, 255, 255, 255], 32, "broadcast"),
    ([0, 0, 0, 0], 32, "unspecified"),
    ([0, 0, 0, 0], 8, "this network"),
    ([10, 0, 0, 0], 8, "private network"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 169, 254], 32, "cloud metadata"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private network"),
    ([192, 0, 0, 0], 24, "IETF protocol assignments"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay"),
    ([192, 168, 0, 0], 16, "private network"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

/// IPv6 ranges inside 2000::/3 (global unicast) that are not the public internet; all
/// of IPv6 outside 2000::/3 is refused except the forms that embed an IPv4 address.
const BLOCKED_V6_GLOBAL: &[([u16; 8], u8, &str)] = &[
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments",
    ),
];

/// The range `ip` is in when it must not be fetched from, `None` for a public address.
pub(super) fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => blocked_v4(ip),
        IpAddr::V6(ip) => blocked_v6(ip),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    BLOCKED_V4
        .iter()
        .find(|(network, prefix, _)| v4_in(ip, *network, *prefix))
        .map(|(_, _, reason)| *reason)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let bits = u128::from(ip);
    // The IPv4 address in the low 32 bits (NAT64) or in bits 16..48 (6to4).
    let low_v4 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let sixto4_v4 = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if v6_in(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        blocked_v4(low_v4)
    } else if v6_in(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        blocked_v4(sixto4_v4)
    } else if v6_in(ip, [0xff00, 0, 0, 0, 0, 0, 0, 0], 8) {
        Some("multicast")
    } else if v6_in(ip, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10) {
        Some("link-local")
    } else if v6_in(ip, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7) {
        Some("unique local")
    } else if !v6_in(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        Some("reserved")
    } else {
        BLOCKED_V6_GLOBAL
            .iter()
            .find(|(network, prefix, _)| v6_in(ip, *network, *prefix))
            .map(|(_, _, reason)| *reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        blocked_reason(ip.parse().unwrap())
    }

    #[test]
    fn classifies_ipv4_addresses() {
        for (ip, expected) in [
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.254", Some("loopback")),
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("this network")),
            ("10.0.0.5", Some("private network")),
            ("172.16.0.1", Some("private network")),
            ("172.31.255.255", Some("private network")),
            ("192.168.1.1", Some("private network")),
            ("100.64.0.1", Some("carrier-grade NAT")),
            ("100.127.255.255", Some("carrier-grade NAT")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("192.0.0.8", Some("IETF protocol assignments")),
            ("192.0.2.1", Some("documentation")),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("198.18.0.1", Some("benchmarking")),
            ("192.88.99.1", Some("6to4 relay")),
            ("224.0.0.1", Some("multicast")),
            ("239.255.255.250", Some("multicast")),
            ("240.0.0.1", Some("reserved")),
            ("255.255.255.255", Some("broadcast")),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("192.169.0.1", None),
            ("223.255.255.255", None),
        ] {
            assert_eq!(reason(ip), expected, "{ip}");
        }
    }

    #[test]
    fn classifies_ipv6_addresses_and_embedded_ipv4() {
        for (ip, expected) in [
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private network")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::10.0.0.1", Some("private network")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some("reserved")),
            ("2002:7f00:1::", Some("loopback")),
            ("2002:a9fe:a9fe::1", Some("cloud metadata")),
            ("2002:c0a8:0101::", Some("private network")),
            ("2002:0808:0808::1", None),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("fc00::1", Some("unique local")),
            ("fd12:3456::1", Some("unique local")),
            ("ff02::1", Some("multicast")),
            ("2001:db8::1", Some("documentation")),
            ("3fff::1", Some("documentation")),
            ("2001::1", Some("IETF protocol assignments")),
            ("::127.0.0.1", Some("reserved")),
            ("100::1", Some("reserved")),
            ("fec0::1", Some("reserved")),
            ("2606:4700:4700::1111", None),
            ("2001:4860:4860::8888", None),
        ] {
            assert_eq!(reason(ip), expected, "{ip}");
        }
    }

    #[test]
    fn parses_cidr_blocks() {
        let block: IpBlock = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains("10.255.0.1".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        assert!(!block.contains("::ffff:10.0.0.1".parse().unwrap()));
        let single: IpBlock = " 127.0.0.1 ".parse().unwrap();
        assert_eq!(single, "127.0.0.1/32".parse().unwrap());
        assert!(single.contains("127.0.0.1".parse().unwrap()));
        assert!(!single.contains("127.0.0.2".parse().unwrap()));
        let v6: IpBlock = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!("::1/128"
            .parse::<IpBlock>()
            .unwrap()
            .contains("::1".parse().unwrap()));
        let everything: IpBlock = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains("203.0.113.1".parse().unwrap()));
        assert!("::/0"
            .parse::<IpBlock>()
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.1/8",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "localhost",
            "",
            "fe80::1%eth0",
        ] {
            let error = bad.parse::<IpBlock>().unwrap_err();
            assert!(error.contains(&format!("'{bad}'")), "{bad}: {error}");
        }
    }
}
