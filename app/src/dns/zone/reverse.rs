//! Reverse-mapping names (`in-addr.arpa` and `ip6.arpa`).
//!
//! When someone adds an A or AAAA record the console offers the matching
//! PTR; these helpers find the name of that PTR and which of the managed
//! reverse zones should hold it.

use crate::dns::zone::error::FieldError;
use crate::dns::zone::name::Name;
use std::net::IpAddr;

/// Builds a name from labels known to be within limits (at most 34 short
/// labels, 74 octets). Falling back to the root keeps the API free of
/// `Result` for a failure that cannot happen.
fn known_good(labels: Vec<Vec<u8>>) -> Name {
    Name::from_labels(labels).unwrap_or_else(|_| Name::root())
}

fn v4_labels(octets: &[u8]) -> Vec<Vec<u8>> {
    let mut labels: Vec<Vec<u8>> = octets
        .iter()
        .rev()
        .map(|o| o.to_string().into_bytes())
        .collect();
    labels.push(b"in-addr".to_vec());
    labels.push(b"arpa".to_vec());
    labels
}

fn v6_labels(octets: &[u8; 16], nibbles: usize) -> Vec<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let all: Vec<u8> = octets
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
        .collect();
    let mut labels: Vec<Vec<u8>> = all.iter().take(nibbles).rev().map(|c| vec![*c]).collect();
    labels.push(b"ip6".to_vec());
    labels.push(b"arpa".to_vec());
    labels
}

/// The PTR owner name for an address: `1.2.0.192.in-addr.arpa.` or the
/// 32-nibble `ip6.arpa.` form (RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> Name {
    match ip {
        IpAddr::V4(a) => known_good(v4_labels(&a.octets())),
        IpAddr::V6(a) => known_good(v6_labels(&a.octets(), 32)),
    }
}

/// The reverse zone for the network containing `ip` with `prefix_len` bits.
///
/// Reverse zones can only be cut at label boundaries: octets for IPv4
/// (/8, /16, /24) and nibbles for IPv6 (multiples of 4).
pub fn reverse_zone_for(ip: IpAddr, prefix_len: u8) -> Result<Name, FieldError> {
    match ip {
        IpAddr::V4(a) => match prefix_len {
            8 | 16 | 24 => {
                let octets = a.octets();
                let keep = usize::from(prefix_len / 8);
                Ok(known_good(v4_labels(octets.get(..keep).unwrap_or(&[]))))
            }
            n => Err(FieldError::new(
                "prefix",
                format!(
                    "IPv4 reverse zones follow octet boundaries: use /8, /16 or /24; a /{n} \
                     network needs RFC 2317 classless delegation inside its /24 zone"
                ),
            )),
        },
        IpAddr::V6(a) => {
            if prefix_len == 0 || prefix_len > 128 || !prefix_len.is_multiple_of(4) {
                return Err(FieldError::new(
                    "prefix",
                    format!(
                        "IPv6 reverse zones follow nibble boundaries: the prefix length must be \
                         a multiple of 4 between 4 and 128, such as /48, /56 or /64, not \
                         /{prefix_len}"
                    ),
                ));
            }
            Ok(known_good(v6_labels(
                &a.octets(),
                usize::from(prefix_len / 4),
            )))
        }
    }
}

/// Of the given reverse zones, the most specific one that contains the PTR
/// name of `ip`, if any.
pub fn find_reverse_zone(ip: IpAddr, zones: &[Name]) -> Option<Name> {
    let ptr = reverse_name(ip);
    zones
        .iter()
        .filter(|z| ptr.is_subdomain_of(z))
        .max_by_key(|z| z.label_count())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn v4_reverse_name() {
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(reverse_name(ip).as_str(), "1.2.0.192.in-addr.arpa.");
    }

    #[test]
    fn v6_reverse_name() {
        let ip: IpAddr = "2001:db8::567:89ab".parse().unwrap();
        assert_eq!(
            reverse_name(ip).as_str(),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }

    #[test]
    fn zones_for_prefixes() {
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(
            reverse_zone_for(ip, 24).unwrap().as_str(),
            "2.0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_zone_for(ip, 16).unwrap().as_str(),
            "0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_zone_for(ip, 8).unwrap().as_str(),
            "192.in-addr.arpa."
        );
        assert_eq!(
            reverse_zone_for(ip, 25).unwrap_err().message,
            "IPv4 reverse zones follow octet boundaries: use /8, /16 or /24; a /25 network \
             needs RFC 2317 classless delegation inside its /24 zone"
        );
        let ip6 = IpAddr::V6("2001:db8:abcd:12::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            reverse_zone_for(ip6, 48).unwrap().as_str(),
            "d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa."
        );
        assert_eq!(
            reverse_zone_for(ip6, 64).unwrap().as_str(),
            "2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa."
        );
        assert_eq!(reverse_zone_for(ip6, 4).unwrap().as_str(), "2.ip6.arpa.");
        assert!(reverse_zone_for(ip6, 128).is_ok());
        assert!(reverse_zone_for(ip6, 50)
            .unwrap_err()
            .message
            .ends_with("not /50"));
        assert!(reverse_zone_for(ip6, 0).is_err());
    }

    #[test]
    fn longest_match() {
        let zones = vec![
            n("192.in-addr.arpa."),
            n("2.0.192.in-addr.arpa."),
            n("0.192.in-addr.arpa."),
            n("8.b.d.0.1.0.0.2.ip6.arpa."),
            n("example.com."),
        ];
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
        assert_eq!(
            find_reverse_zone(ip, &zones),
            Some(n("2.0.192.in-addr.arpa."))
        );
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 3, 9));
        assert_eq!(
            find_reverse_zone(ip, &zones),
            Some(n("0.192.in-addr.arpa."))
        );
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(find_reverse_zone(ip, &zones), None);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            find_reverse_zone(ip, &zones),
            Some(n("8.b.d.0.1.0.0.2.ip6.arpa."))
        );
        // Reverse name must be inside the zone, not merely share a suffix string.
        let ip = IpAddr::V4(Ipv4Addr::new(92, 0, 2, 9));
        assert_eq!(find_reverse_zone(ip, &zones[..1]), None);
    }
}
