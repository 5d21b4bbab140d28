//! Which IP addresses the investigator's outgoing requests (package indexes, advisory
//! sources) may reach.
//!
//! An index URL comes from an operator, a Thoth message or the admin API, and an index's
//! answer decides where the next request goes (redirects). Left open, that lets whoever
//! controls one of those reach what only the investigator can: the cloud's metadata service
//! (`169.254.169.254`), services on its loopback, the cluster's private network. So the
//! addresses of [`SpecialRange`]s are refused unless a [`NetworkAllowance`] names them
//! (`INVESTIGATOR_ALLOW_PRIVATE_NETWORKS`). The check applies to the address actually
//! connected to: after name resolution, and inside IPv6 forms that carry an IPv4 address
//! (`::ffff:127.0.0.1`, NAT64, 6to4).
//!
//! Boundary: classification only, on values; resolving names and connecting is the caller's.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A range of addresses that outgoing requests do not reach unless allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecialRange {
    /// `127.0.0.0/8`, `::1`: this host.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), IPv6 unique local (`fc00::/7`) and the
    /// deprecated site-local (`fec0::/10`).
    Private,
    /// `169.254.0.0/16` (with the metadata service, `169.254.169.254`) and `fe80::/10`.
    LinkLocal,
    /// `100.64.0.0/10`, carrier-grade NAT (and some clusters' pod networks).
    Shared,
    /// `0.0.0.0/8` and `::` (Linux connects `0.0.0.0` to this host).
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// IETF assignments (`192.0.0.0/24`), documentation (`192.0.2.0/24`, `198.51.100.0/24`,
    /// `203.0.113.0/24`, `2001:db8::/32`), benchmarking (`198.18.0.0/15`), discard-only
    /// (`100::/64`), and `240.0.0.0/4` with the broadcast address.
    Reserved,
}

impl SpecialRange {
    /// Every range, in the order they are documented.
    pub const ALL: [SpecialRange; 7] = [
        SpecialRange::Loopback,
        SpecialRange::Private,
        SpecialRange::LinkLocal,
        SpecialRange::Shared,
        SpecialRange::Unspecified,
        SpecialRange::Multicast,
        SpecialRange::Reserved,
    ];

    /// The name used in settings and error messages.
    pub fn name(self) -> &'static str {
        match self {
            SpecialRange::Loopback => "loopback",
            SpecialRange::Private => "private",
            SpecialRange::LinkLocal => "link-local",
            SpecialRange::Shared => "shared",
            SpecialRange::Unspecified => "unspecified",
            SpecialRange::Multicast => "multicast",
            SpecialRange::Reserved => "reserved",
        }
    }

    /// The special range `address` is in, if any. IPv6 addresses that carry an IPv4 address
    /// (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by
    /// that IPv4 address too.
    pub fn of(address: IpAddr) -> Option<SpecialRange> {
        match address {
            IpAddr::V4(v4) => of_v4(v4),
            IpAddr::V6(v6) => of_v6(v6).or_else(|| embedded_v4(v6).and_then(of_v4)),
        }
    }
}

impl fmt::Display for SpecialRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

fn of_v4(address: Ipv4Addr) -> Option<SpecialRange> {
    let [a, b, c, _] = address.octets();
    let range = match (a, b, c) {
        (0, _, _) => SpecialRange::Unspecified,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => SpecialRange::Private,
        (100, 64..=127, _) => SpecialRange::Shared,
        (127, _, _) => SpecialRange::Loopback,
        (169, 254, _) => SpecialRange::LinkLocal,
        (192, 0, 0) | (192, 0, 2) | (198, 18..=19, _) | (198, 51, 100) | (203, 0, 113) | (240..=255, _, _) => {
            SpecialRange::Reserved
        }
        (224..=239, _, _) => SpecialRange::Multicast,
        _ => return None,
    };
    Some(range)
}

fn of_v6(address: Ipv6Addr) -> Option<SpecialRange> {
    let segments = address.segments();
    let range = if address.is_unspecified() {
        SpecialRange::Unspecified
    } else if address.is_loopback() {
        SpecialRange::Loopback
    } else if segments[0] & 0xfe00 == 0xfc00 || segments[0] & 0xffc0 == 0xfec0 {
        SpecialRange::Private
    } else if segments[0] & 0xffc0 == 0xfe80 {
        SpecialRange::LinkLocal
    } else if segments[0] & 0xff00 == 0xff00 {
        SpecialRange::Multicast
    } else if (segments[0], segments[1]) == (0x2001, 0x0db8) || segments[..4] == [0x0100, 0, 0, 0] {
        SpecialRange::Reserved
    } else {
        return None;
    };
    Some(range)
}

/// The IPv4 address an IPv6 address stands for, in the forms that carry one.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let last_32 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match segments {
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, deprecated).
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0, 0, high, low] => Some(last_32(high, low)),
        // NAT64's well-known prefix.
        [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => Some(last_32(high, low)),
        // 6to4: 2002:AABB:CCDD::/48 stands for A.B.C.D.
        [0x2002, high, low, ..] => Some(last_32(high, low)),
        _ => None,
    }
}

/// A block of addresses: `10.1.0.0/16`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_length: u8,
}

impl Cidr {
    /// Whether `address` is in the block (an IPv4 block also holds the IPv6 forms that carry
    /// one of its addresses).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                same_prefix(u128::from(u32::from(network)), u128::from(u32::from(address)), self.prefix_length, 32)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                same_prefix(u128::from(network), u128::from(address), self.prefix_length, 128)
            }
            (IpAddr::V4(_), IpAddr::V6(address)) => {
                embedded_v4(address).is_some_and(|embedded| self.contains(IpAddr::V4(embedded)))
            }
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// Whether the first `prefix_length` of `width` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, prefix_length: u8, width: u8) -> bool {
    let ignored_bits = u32::from(width - prefix_length);
    a.checked_shr(ignored_bits).unwrap_or(0) == b.checked_shr(ignored_bits).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, length) = text.split_once('/').ok_or(())?;
        let network: IpAddr = address.parse().map_err(|_| ())?;
        let prefix_length: u8 = length.parse().map_err(|_| ())?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        if prefix_length > width {
            return Err(());
        }
        Ok(Cidr { network, prefix_length })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.network, self.prefix_length)
    }
}

/// The special ranges and blocks that outgoing requests may reach after all. The default
/// allows none: every [`SpecialRange`] is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkAllowance {
    ranges: Vec<SpecialRange>,
    blocks: Vec<Cidr>,
}

/// An address outgoing requests may not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{address} is a {range} address, which outgoing requests do not reach unless INVESTIGATOR_ALLOW_PRIVATE_NETWORKS allows it"
)]
pub struct DeniedAddress {
    pub address: IpAddr,
    pub range: SpecialRange,
}

/// Why an allowance cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{item}' is neither a range name ({names}) nor a block such as 10.1.0.0/16 or fd00::/8")]
pub struct AllowanceError {
    /// The item at fault (an excerpt).
    pub item: String,
    names: String,
}

impl NetworkAllowance {
    /// Allows nothing special: the default.
    pub fn none() -> Self {
        NetworkAllowance::default()
    }

    /// Allows the given ranges.
    pub fn ranges(ranges: &[SpecialRange]) -> Self {
        NetworkAllowance { ranges: ranges.to_vec(), blocks: Vec::new() }
    }

    /// Reads a comma-separated list of range names ([`SpecialRange::name`]) and blocks
    /// (`10.1.0.0/16`). Empty allows nothing.
    pub fn parse(text: &str) -> Result<Self, AllowanceError> {
        let mut allowance = NetworkAllowance::default();
        for item in text.split([',', '\n']).map(str::trim).filter(|item| !item.is_empty()) {
            if let Some(range) = SpecialRange::ALL.into_iter().find(|range| range.name().eq_ignore_ascii_case(item)) {
                allowance.ranges.push(range);
            } else if let Ok(block) = item.parse::<Cidr>() {
                allowance.blocks.push(block);
            } else {
                let names = SpecialRange::ALL.map(SpecialRange::name).join(", ");
                return Err(AllowanceError { item: investigator_events::excerpt::excerpt(item).to_string(), names });
            }
        }
        Ok(allowance)
    }

    /// Whether requests may connect to `address`: yes unless it is in a special range that
    /// the allowance names neither by name nor by a block holding it.
    pub fn check(&self, address: IpAddr) -> Result<(), DeniedAddress> {
        let Some(range) = SpecialRange::of(address) else {
            return Ok(());
        };
        if self.ranges.contains(&range) || self.blocks.iter().any(|block| block.contains(address)) {
            return Ok(());
        }
        Err(DeniedAddress { address, range })
    }

    /// Whether nothing special is allowed.
    pub fn is_none(&self) -> bool {
        self.ranges.is_empty() && self.blocks.is_empty()
    }
}

impl fmt::Display for NetworkAllowance {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .ranges
            .iter()
            .map(|range| range.name().to_owned())
            .chain(self.blocks.iter().map(Cidr::to_string))
            .collect();
        if items.is_empty() { formatter.write_str("none") } else { formatter.write_str(&items.join(",")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<SpecialRange> {
        SpecialRange::of(text.parse().expect("an address"))
    }

    #[test]
    fn the_metadata_service_loopback_and_private_networks_are_special() {
        assert_eq!(range("169.254.169.254"), Some(SpecialRange::LinkLocal));
        assert_eq!(range("fe80::1"), Some(SpecialRange::LinkLocal));
        assert_eq!(range("127.0.0.1"), Some(SpecialRange::Loopback));
        assert_eq!(range("127.255.0.9"), Some(SpecialRange::Loopback));
        assert_eq!(range("::1"), Some(SpecialRange::Loopback));
        for private in ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fd00::1", "fc12::3", "fec0::1"] {
            assert_eq!(range(private), Some(SpecialRange::Private), "{private}");
        }
        assert_eq!(range("100.64.0.1"), Some(SpecialRange::Shared));
        assert_eq!(range("0.0.0.0"), Some(SpecialRange::Unspecified));
        assert_eq!(range("::"), Some(SpecialRange::Unspecified));
        assert_eq!(range("224.0.0.1"), Some(SpecialRange::Multicast));
        assert_eq!(range("ff02::1"), Some(SpecialRange::Multicast));
        for reserved in ["255.255.255.255", "240.0.0.1", "192.0.2.7", "198.18.0.1", "2001:db8::1", "192.0.0.170"] {
            assert_eq!(range(reserved), Some(SpecialRange::Reserved), "{reserved}");
        }
    }

    #[test]
    fn public_addresses_are_not_special() {
        for public in ["151.101.0.223", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2a04:4e42::223", "2001:4860::8888"] {
            assert_eq!(range(public), None, "{public}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_an_ipv4_address_are_judged_by_it() {
        assert_eq!(range("::ffff:169.254.169.254"), Some(SpecialRange::LinkLocal));
        assert_eq!(range("::ffff:127.0.0.1"), Some(SpecialRange::Loopback));
        assert_eq!(range("64:ff9b::10.0.0.1"), Some(SpecialRange::Private));
        assert_eq!(range("2002:a9fe:a9fe::1"), Some(SpecialRange::LinkLocal), "6to4 of 169.254.169.254");
        assert_eq!(range("::ffff:8.8.8.8"), None);
    }

    #[test]
    fn nothing_special_is_allowed_by_default() {
        let allowance = NetworkAllowance::default();
        let denied = allowance.check("169.254.169.254".parse().expect("an address")).expect_err("denied");
        assert_eq!(denied.range, SpecialRange::LinkLocal);
        assert!(denied.to_string().contains("INVESTIGATOR_ALLOW_PRIVATE_NETWORKS"), "{denied}");
        assert!(allowance.check("151.101.0.223".parse().expect("an address")).is_ok());
    }

    #[test]
    fn an_allowance_names_ranges_or_blocks() {
        let allowance = NetworkAllowance::parse(" loopback, 10.1.0.0/16 ,fd00::/8").expect("valid");
        let check = |text: &str| allowance.check(text.parse().expect("an address")).is_ok();
        assert!(check("127.0.0.1") && check("::1") && check("::ffff:127.0.0.1"));
        assert!(check("10.1.2.3") && check("::ffff:10.1.2.3") && check("fd00::5"));
        assert!(!check("10.2.0.1"), "outside the block");
        assert!(!check("169.254.169.254") && !check("192.168.0.1") && !check("fc00::1"));
        assert_eq!(allowance.to_string(), "loopback,10.1.0.0/16,fd00::/8");
        assert!(NetworkAllowance::parse("").expect("empty is valid").is_none());
        assert!(
            NetworkAllowance::parse("0.0.0.0/0").expect("valid").check("169.254.169.254".parse().expect("ip")).is_ok()
        );
    }

    #[test]
    fn an_unknown_item_is_refused_with_an_excerpt() {
        for bad in ["everything", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "loopback\nINJECTED"] {
            let error = NetworkAllowance::parse(bad).expect_err("refused");
            assert!(error.to_string().contains("neither a range name"), "{error}");
            assert!(!error.to_string().contains('\n'), "{error}");
        }
    }
}
