//! The networks a layout's VMs are addressed on, and the address each VM
//! gets: typed by hand or `auto`, the next free one of its network's range.
//!
//! A layout describes each network its VMs attach to (`[[network]]` in a
//! layout file): the libvirt network or bridge, its subnet, gateway,
//! resolvers and the range Stackyard may take addresses from. The checks
//! here are pure (the editor runs them as the admin types); which addresses
//! are free is the server's to say ([`allocate`] takes what it found taken).

use super::model::{LayoutSpec, Nic};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// A VM's address: typed, or the next free one of its network's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AddressChoice {
    /// Stackyard picks the next free address of the network's range.
    Auto,
    /// This address.
    Fixed(IpAddr),
}

impl std::str::FromStr for AddressChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(AddressChoice::Auto);
        }
        t.parse().map(AddressChoice::Fixed).map_err(|_| {
            format!("\"{t}\" is not an address: write an IPv4 or IPv6 address, or auto")
        })
    }
}

impl TryFrom<String> for AddressChoice {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AddressChoice> for String {
    fn from(a: AddressChoice) -> Self {
        a.to_string()
    }
}

impl fmt::Display for AddressChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressChoice::Auto => f.write_str("auto"),
            AddressChoice::Fixed(ip) => write!(f, "{ip}"),
        }
    }
}

/// A subnet, `192.0.2.0/24` or `2001:db8:1::/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    /// The network's address (host bits zero).
    pub network: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn width(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

fn from_bits(like: IpAddr, n: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(u32::try_from(n).unwrap_or(u32::MAX).into()),
        IpAddr::V6(_) => IpAddr::V6(n.into()),
    }
}

impl Subnet {
    /// The host part's mask.
    fn host_mask(&self) -> u128 {
        let host_bits = u32::from(width(self.network) - self.prefix);
        if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    /// Whether `ip` is inside (same family, same network bits).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && bits(ip) & !self.host_mask() == bits(self.network)
    }

    /// The first and last address a VM may have: IPv4 leaves out the
    /// network and broadcast addresses (a /31 or /32 has none to leave).
    pub fn hosts(&self) -> (IpAddr, IpAddr) {
        let base = bits(self.network);
        let last = base | self.host_mask();
        if self.network.is_ipv4() && self.prefix < 31 {
            (
                from_bits(self.network, base + 1),
                from_bits(self.network, last - 1),
            )
        } else if self.network.is_ipv6() && self.prefix < 127 {
            // The subnet-router anycast address (host part zero) is left out.
            (
                from_bits(self.network, base + 1),
                from_bits(self.network, last),
            )
        } else {
            (self.network, from_bits(self.network, last))
        }
    }
}

impl std::str::FromStr for Subnet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let Some((addr, prefix)) = t.split_once('/') else {
            return Err(format!(
                "\"{t}\" is not a subnet: write the network and its prefix length, such as 192.0.2.0/24"
            ));
        };
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("\"{addr}\" is not an IPv4 or IPv6 address"))?;
        let prefix: u8 = prefix
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= width(network))
            .ok_or_else(|| {
                format!(
                    "\"/{prefix}\" is not a prefix length: 0 to {} for this address",
                    width(network)
                )
            })?;
        let subnet = Subnet { network, prefix };
        if bits(network) & subnet.host_mask() != 0 {
            let fixed = from_bits(network, bits(network) & !subnet.host_mask());
            return Err(format!(
                "{t} has host bits set: the subnet is {fixed}/{prefix}"
            ));
        }
        Ok(subnet)
    }
}

impl TryFrom<String> for Subnet {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> Self {
        s.to_string()
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The addresses Stackyard may give out, `192.0.2.10-192.0.2.99`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AddressRange {
    /// The first address.
    pub first: IpAddr,
    /// The last address (not before the first).
    pub last: IpAddr,
}

impl std::str::FromStr for AddressRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (a, b) = t.split_once('-').ok_or_else(|| {
            format!("\"{t}\" is not a range: write FIRST-LAST, such as 192.0.2.10-192.0.2.99")
        })?;
        let read = |x: &str| -> Result<IpAddr, String> {
            x.trim()
                .parse()
                .map_err(|_| format!("\"{}\" is not an IPv4 or IPv6 address", x.trim()))
        };
        let (first, last) = (read(a)?, read(b)?);
        if first.is_ipv4() != last.is_ipv4() || bits(first) > bits(last) {
            return Err(format!(
                "{first}-{last}: the first address must come before the last, in one family"
            ));
        }
        Ok(AddressRange { first, last })
    }
}

impl TryFrom<String> for AddressRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AddressRange> for String {
    fn from(r: AddressRange) -> Self {
        r.to_string()
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// A network the layout's VMs attach to, as the admin describes it
/// (`[[network]]` in a layout file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutNetwork {
    /// The attachment it describes, as VMs name it: `network:NAME` (a
    /// libvirt network) or `bridge:NAME`.
    pub nic: Nic,
    /// Its subnet.
    pub subnet: Subnet,
    /// The default gateway (none: the VMs reach only their subnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// DNS resolvers the VMs use, at most three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolvers: Vec<IpAddr>,
    /// Where `auto` addresses come from; default: the whole subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<AddressRange>,
}

impl LayoutNetwork {
    /// The range `auto` takes from: the one given, or the subnet's hosts.
    pub fn pool(&self) -> (IpAddr, IpAddr) {
        match self.range {
            Some(r) => (r.first, r.last),
            None => self.subnet.hosts(),
        }
    }
}

impl LayoutSpec {
    /// The network described for a VM's attachment, if any.
    pub fn network_of(&self, nic: &Nic) -> Option<&LayoutNetwork> {
        self.networks.iter().find(|n| n.nic == *nic)
    }

    /// The problems of the networks, the zone, and each VM's address and
    /// name (part of [`LayoutSpec::problems`]).
    pub(super) fn addressing_problems(&self, push: &mut dyn FnMut(String, String)) {
        if let Some(zone) = &self.zone {
            if let Err(e) = check_dns_name(zone) {
                push("zone".into(), format!("\"{zone}\" is not a DNS name: {e}"));
            }
        }
        for (i, net) in self.networks.iter().enumerate() {
            let f = |field: &str| format!("network[{i}].{field}");
            if net.nic == Nic::None {
                push(
                    f("nic"),
                    "describe a libvirt network (network:NAME) or a bridge (bridge:NAME)".into(),
                );
            } else if let Some(j) = self.networks[..i].iter().position(|o| o.nic == net.nic) {
                push(
                    f("nic"),
                    format!("{} is already described as network {}", net.nic, j + 1),
                );
            }
            if let Some(g) = net.gateway {
                let link_local_v6 =
                    matches!(g, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80);
                if !net.subnet.contains(g) && !link_local_v6 {
                    push(f("gateway"), format!("{g} is outside {}", net.subnet));
                }
            }
            if net.resolvers.len() > 3 {
                push(
                    f("resolvers"),
                    format!(
                        "{} resolvers; a guest uses at most three",
                        net.resolvers.len()
                    ),
                );
            }
            if let Some(r) = net.range {
                if !net.subnet.contains(r.first) || !net.subnet.contains(r.last) {
                    push(f("range"), format!("{r} is not inside {}", net.subnet));
                }
            }
        }
        let mut seen = BTreeMap::<IpAddr, usize>::new();
        for (i, vm) in self.vms.iter().enumerate() {
            let f = |field: &str| format!("vm[{i}].{field}");
            if let Some(fqdn) = &vm.fqdn {
                match check_dns_name(fqdn) {
                    Err(e) => push(f("fqdn"), format!("\"{fqdn}\" is not a DNS name: {e}")),
                    Ok(labels) if labels < 2 => push(
                        f("fqdn"),
                        format!("\"{fqdn}\": a full name has the host and its domain, such as {}.example.org", vm.name),
                    ),
                    Ok(_) => {}
                }
            }
            let Some(choice) = vm.ip else { continue };
            let net = self.network_of(&vm.network);
            match (choice, net) {
                (AddressChoice::Auto, None) => push(
                    f("ip"),
                    match vm.network {
                        Nic::None => "auto needs a network card: this VM has none".into(),
                        ref nic => format!(
                            "auto takes the next free address of {nic}'s range: describe that network (its subnet) first"
                        ),
                    },
                ),
                (AddressChoice::Fixed(ip), net) => {
                    if let Some(net) = net {
                        let (first, last) = net.subnet.hosts();
                        if !net.subnet.contains(ip) {
                            push(f("ip"), format!("{ip} is outside {} ({})", net.subnet, net.nic));
                            continue;
                        } else if bits(ip) < bits(first) || bits(ip) > bits(last) {
                            push(
                                f("ip"),
                                format!("{ip} is the network's own address in {}, not a host's", net.subnet),
                            );
                            continue;
                        } else if net.gateway == Some(ip) {
                            push(f("ip"), format!("{ip} is {}'s gateway", net.nic));
                            continue;
                        }
                    }
                    if let Some(first) = seen.insert(ip, i) {
                        push(
                            f("ip"),
                            format!(
                                "{ip} is already the address of {} (VM {})",
                                self.vms[first].name,
                                first + 1
                            ),
                        );
                    }
                }
                (AddressChoice::Auto, Some(_)) => {}
            }
        }
    }

    /// The full name of VM `i` in DNS: its own `fqdn`, else
    /// `<name>.<the layout's zone>`; `None` without either.
    pub fn fqdn_of(&self, vm: &super::LayoutVm) -> Option<String> {
        if let Some(f) = &vm.fqdn {
            return Some(f.trim_end_matches('.').to_ascii_lowercase());
        }
        self.zone.as_ref().map(|z| {
            format!(
                "{}.{}",
                vm.name.to_ascii_lowercase(),
                z.trim_end_matches('.').to_ascii_lowercase()
            )
        })
    }
}

/// Checks a zone or a VM's full name as typed (a trailing dot allowed):
/// host-name labels of letters, digits and '-', neither first nor last,
/// 63 characters at most, 253 in all. Answers how many labels it has.
/// (Here rather than the DNS module's full parser, which the layout pages
/// would otherwise download with the editor.)
pub fn check_dns_name(name: &str) -> Result<usize, String> {
    let body = name.strip_suffix('.').unwrap_or(name);
    if body.is_empty() {
        return Err("a name is required".into());
    }
    if body.len() > 253 {
        return Err(format!("{} characters; at most 253", body.len()));
    }
    let mut labels = 0;
    for label in body.split('.') {
        if label.is_empty() {
            return Err("an empty label (two dots in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!(
                "the label \"{label}\" has {} characters; at most 63",
                label.len()
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!(
                "the label \"{label}\": use letters, digits and '-', not first or last"
            ));
        }
        labels += 1;
    }
    Ok(labels)
}

/// Why an `auto` address could not be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unallocated {
    /// The VM.
    pub vm: String,
    /// Why, in words.
    pub reason: String,
}

/// Each VM's address (VM name → address) for a valid layout: typed ones
/// as typed; an `auto` one keeps the address it was given before
/// (`kept`, from the journal of earlier applies) while that is still in
/// its network's subnet and not taken by something else, else takes the
/// lowest address of its network's range that no VM of the layout has and
/// that `taken` (addresses in use by other VMs and by DNS records, with
/// who holds them) does not hold; the gateway and resolvers are never
/// given. VMs are served in the layout's order, so the same inputs give
/// the same addresses.
pub fn allocate(
    spec: &LayoutSpec,
    kept: &BTreeMap<String, IpAddr>,
    taken: &BTreeMap<IpAddr, String>,
) -> (BTreeMap<String, IpAddr>, Vec<Unallocated>) {
    let mut out = BTreeMap::new();
    let mut used: BTreeMap<IpAddr, String> = BTreeMap::new();
    for vm in &spec.vms {
        if let Some(AddressChoice::Fixed(ip)) = vm.ip {
            out.insert(vm.name.clone(), ip);
            used.insert(ip, vm.name.clone());
        }
    }
    let autos: Vec<_> = spec
        .vms
        .iter()
        .filter(|v| v.ip == Some(AddressChoice::Auto))
        .filter_map(|v| spec.network_of(&v.network).map(|n| (v, n)))
        .collect();
    // First every VM that keeps its earlier address, so a new VM listed
    // before it cannot take that address away.
    for (vm, net) in &autos {
        if let Some(&ip) = kept.get(&vm.name) {
            let (first, last) = net.pool();
            let in_pool = bits(ip) >= bits(first) && bits(ip) <= bits(last);
            if net.subnet.contains(ip)
                && in_pool
                && !used.contains_key(&ip)
                && !taken.contains_key(&ip)
            {
                out.insert(vm.name.clone(), ip);
                used.insert(ip, vm.name.clone());
            }
        }
    }
    let mut unallocated = Vec::new();
    for (vm, net) in autos {
        if out.contains_key(&vm.name) {
            continue;
        }
        let (first, last) = net.pool();
        let reserved = |ip: IpAddr| net.gateway == Some(ip) || net.resolvers.contains(&ip);
        let mut n = bits(first);
        let found = loop {
            if n > bits(last) {
                break None;
            }
            let ip = from_bits(first, n);
            if !used.contains_key(&ip) && !taken.contains_key(&ip) && !reserved(ip) {
                break Some(ip);
            }
            n += 1;
        };
        match found {
            Some(ip) => {
                out.insert(vm.name.clone(), ip);
                used.insert(ip, vm.name.clone());
            }
            None => unallocated.push(Unallocated {
                vm: vm.name.clone(),
                reason: format!(
                    "no free address left in {}-{} ({}): widen the range or free an address",
                    first, last, net.nic
                ),
            }),
        }
    }
    (out, unallocated)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::layouts::model::{HostChoice, LayoutVm};

    fn vm(name: &str, ip: Option<&str>) -> LayoutVm {
        LayoutVm {
            image: None,
            packages: Vec::new(),
            commands: Vec::new(),
            user_data: None,
            name: name.into(),
            template: None,
            vcpus: 1,
            memory_mib: 512,
            disk_gib: 4,
            host: HostChoice::Auto,
            network: Nic::Network("test".into()),
            ip: ip.map(|s| s.parse().unwrap()),
            fqdn: None,
            start: true,
        }
    }

    fn spec(vms: Vec<LayoutVm>) -> LayoutSpec {
        LayoutSpec {
            name: "l".into(),
            description: String::new(),
            zone: Some("example.org".into()),
            networks: vec![LayoutNetwork {
                nic: Nic::Network("test".into()),
                subnet: "192.0.2.0/24".parse().unwrap(),
                gateway: Some("192.0.2.1".parse().unwrap()),
                resolvers: vec!["192.0.2.53".parse().unwrap()],
                range: Some("192.0.2.50-192.0.2.54".parse().unwrap()),
            }],
            cloud_init: Default::default(),
            vms,
        }
    }

    fn fields(s: &LayoutSpec) -> Vec<(String, String)> {
        s.problems()
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    }

    #[test]
    fn subnets_ranges_and_choices_read_and_refuse_in_words() {
        let s: Subnet = "192.0.2.0/24".parse().unwrap();
        assert!(s.contains("192.0.2.255".parse().unwrap()));
        assert!(!s.contains("192.0.3.1".parse().unwrap()));
        assert!(!s.contains("2001:db8::1".parse().unwrap()));
        assert_eq!(
            s.hosts(),
            ("192.0.2.1".parse().unwrap(), "192.0.2.254".parse().unwrap())
        );
        assert_eq!(
            "192.0.2.5/24".parse::<Subnet>().unwrap_err(),
            "192.0.2.5/24 has host bits set: the subnet is 192.0.2.0/24"
        );
        assert!("192.0.2.0/33"
            .parse::<Subnet>()
            .unwrap_err()
            .contains("0 to 32"));
        assert!("192.0.2.0"
            .parse::<Subnet>()
            .unwrap_err()
            .contains("prefix length"));
        let v6: Subnet = "2001:db8:1::/64".parse().unwrap();
        assert!(v6.contains("2001:db8:1::ff".parse().unwrap()));
        assert!("192.0.2.9-192.0.2.1"
            .parse::<AddressRange>()
            .unwrap_err()
            .contains("must come before"));
        assert_eq!("AUTO".parse::<AddressChoice>(), Ok(AddressChoice::Auto));
        assert!("web1"
            .parse::<AddressChoice>()
            .unwrap_err()
            .contains("or auto"));
        // Strings in files, both ways.
        let json = serde_json::to_string(&spec(vec![vm("a", Some("auto"))])).unwrap();
        assert!(json.contains(r#""subnet":"192.0.2.0/24""#), "{json}");
        assert!(
            json.contains(r#""range":"192.0.2.50-192.0.2.54""#),
            "{json}"
        );
        assert!(json.contains(r#""ip":"auto""#), "{json}");
    }

    #[test]
    fn addresses_are_refused_by_field() {
        let mut s = spec(vec![
            vm("ns2", Some("192.0.2.10")),
            vm("web1", Some("192.0.2.10")),
            vm("web2", Some("198.51.100.4")),
            vm("web3", Some("192.0.2.1")),
            vm("web4", Some("auto")),
            vm("web5", Some("192.0.2.255")),
        ]);
        s.vms[4].network = Nic::Network("other".into());
        s.vms[5].fqdn = Some("web5".into());
        assert_eq!(
            fields(&s),
            [
                ("vm[1].ip".into(), "192.0.2.10 is already the address of ns2 (VM 1)".into()),
                (
                    "vm[2].ip".into(),
                    "198.51.100.4 is outside 192.0.2.0/24 (network:test)".into()
                ),
                ("vm[3].ip".into(), "192.0.2.1 is network:test's gateway".into()),
                (
                    "vm[4].ip".into(),
                    "auto takes the next free address of network:other's range: describe that network (its subnet) first".into()
                ),
                (
                    "vm[5].fqdn".into(),
                    "\"web5\": a full name has the host and its domain, such as web5.example.org".into()
                ),
                (
                    "vm[5].ip".into(),
                    "192.0.2.255 is the network's own address in 192.0.2.0/24, not a host's".into()
                ),
            ]
        );
        let mut n = spec(Vec::new());
        n.networks[0].gateway = Some("198.51.100.1".parse().unwrap());
        n.networks[0].range = Some("192.0.2.250-192.0.3.4".parse().unwrap());
        n.networks.push(n.networks[0].clone());
        n.zone = Some("bad..zone".into());
        let got: Vec<String> = fields(&n).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            got,
            [
                "zone",
                "network[0].gateway",
                "network[0].range",
                "network[1].nic",
                "network[1].gateway",
                "network[1].range"
            ]
        );
    }

    #[test]
    fn auto_takes_the_next_free_address_and_keeps_it() {
        let s = spec(vec![
            vm("ns2", Some("auto")),
            vm("web1", Some("auto")),
            vm("fixed", Some("192.0.2.50")),
            vm("web2", Some("auto")),
        ]);
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        // .50 is typed, .51 a record's, .53 the resolver: ns2 .52, web1 .54.
        let taken = BTreeMap::from([("192.0.2.51".parse().unwrap(), "www A".to_string())]);
        let (got, short) = allocate(&s, &BTreeMap::new(), &taken);
        assert_eq!(got["ns2"].to_string(), "192.0.2.52");
        assert_eq!(got["web1"].to_string(), "192.0.2.54");
        assert_eq!(got["fixed"].to_string(), "192.0.2.50");
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].vm, "web2");
        assert!(short[0]
            .reason
            .contains("no free address left in 192.0.2.50-192.0.2.54"));
        // Earlier addresses are kept, whatever the order: web1 keeps .52
        // although ns2 comes first; ns2 takes the next free one.
        let kept = BTreeMap::from([("web1".to_string(), "192.0.2.52".parse().unwrap())]);
        let (got, _) = allocate(&s, &kept, &BTreeMap::new());
        assert_eq!(got["web1"].to_string(), "192.0.2.52");
        assert_eq!(got["ns2"].to_string(), "192.0.2.51");
        // The same inputs give the same addresses.
        assert_eq!(allocate(&s, &kept, &BTreeMap::new()).0, got);
        // A kept address someone else holds now is given up.
        let taken = BTreeMap::from([("192.0.2.52".parse().unwrap(), "a record".to_string())]);
        let (got, _) = allocate(&s, &kept, &taken);
        assert_eq!(got["web1"].to_string(), "192.0.2.54");
    }

    #[test]
    fn dns_names_are_checked_by_label() {
        assert_eq!(check_dns_name("web1.example.org."), Ok(3));
        assert!(check_dns_name("bad..zone")
            .unwrap_err()
            .contains("empty label"));
        assert!(check_dns_name("-web.example.org")
            .unwrap_err()
            .contains("not first or last"));
        assert!(check_dns_name("we_b.example.org").is_err());
        assert!(check_dns_name(&"a".repeat(64))
            .unwrap_err()
            .contains("at most 63"));
        assert!(check_dns_name("").is_err());
    }

    #[test]
    fn full_names_default_to_the_layouts_zone() {
        let mut s = spec(vec![vm("Web1", None), vm("mx", None)]);
        s.vms[1].fqdn = Some("Mail.Example.NET.".into());
        assert_eq!(s.fqdn_of(&s.vms[0]).unwrap(), "web1.example.org");
        assert_eq!(s.fqdn_of(&s.vms[1]).unwrap(), "mail.example.net");
        s.zone = None;
        assert_eq!(s.fqdn_of(&s.vms[0]), None);
    }
}
