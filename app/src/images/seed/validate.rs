//! The rules a [`SeedSpec`] must meet, each failure a [`SeedError`] naming
//! its field.
//!
//! The rules are those of the programs that read the values in the guest
//! (the kernel's host name, `useradd`, `sshd`, `apt`, `sh`, the network
//! renderer), checked here so that a mistake is shown on the form rather
//! than found in a VM that boots without its admin or its network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;

use super::{Field, SeedError, SeedSpec, StaticNetwork};

/// Longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;
/// Longest domain name in text form without the trailing dot.
const MAX_NAME: usize = 253;
/// Longest Linux user name `useradd` accepts.
const MAX_USER: usize = 32;
/// Longest SSH key line we take: a 16384-bit RSA key is under 3,000 characters.
const MAX_KEY: usize = 16 * 1024;
/// glibc's resolver reads at most three `nameserver` lines (MAXNS).
const MAX_RESOLVERS: usize = 3;

/// The SSH key types OpenSSH's `sshd` accepts in `authorized_keys` by default.
const KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Accounts that Debian's base system and a cloud image's packages own:
/// cloud-init would add keys and `sudo` to the existing account.
const SYSTEM_USERS: [&str; 25] = [
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "_apt",
    "messagebus",
    "sshd",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "polkitd",
];

/// Checks a whole spec, field by field in the form's order.
pub(crate) fn spec(spec: &SeedSpec) -> Result<(), SeedError> {
    hostname(&spec.hostname)?;
    if let Some(fqdn_text) = &spec.fqdn {
        fqdn(fqdn_text, &spec.hostname)?;
    }
    match &spec.raw_user_data {
        None => {
            admin(&spec.admin.name)?;
            ssh_keys(&spec.admin.ssh_authorized_keys)?;
            packages(&spec.packages)?;
            commands(&spec.commands)?;
        }
        Some(raw) => {
            let unused = |field, what: &str| {
                SeedError::new(
                    field,
                    format!(
                        "The custom user-data replaces the generated one, so these {what} \
                         would be ignored: put them into the custom user-data, or remove \
                         them here."
                    ),
                )
            };
            if !spec.admin.ssh_authorized_keys.is_empty() {
                return Err(unused(Field::SshKeys, "SSH keys"));
            }
            if !spec.packages.is_empty() {
                return Err(unused(Field::Packages, "packages"));
            }
            if !spec.commands.is_empty() {
                return Err(unused(Field::Commands, "commands"));
            }
            raw_user_data(raw)?;
        }
    }
    if let Some(net) = &spec.network {
        network(net)?;
    }
    Ok(())
}

/// A value quoted for a message: at most 40 characters, control
/// characters escaped, so a pasted blob cannot flood or garble the form.
fn shown(value: &str) -> String {
    let mut short: String = value.chars().take(40).collect();
    if value.chars().nth(40).is_some() {
        short.push('…');
    }
    format!("\"{}\"", short.escape_debug())
}

/// 1-based position in a list, for messages.
fn nth(index: usize) -> String {
    format!("#{}", index + 1)
}

/// Why `label` is not a host name label (RFC 1123 §2.1: letters, digits
/// and inner hyphens, 1 to 63 characters), or `None` when it is one.
fn label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("it has an empty part (two dots in a row, or a dot at an end)".into());
    }
    if label.len() > MAX_LABEL {
        return Some(format!(
            "the part {} has {} characters; a part may have at most {MAX_LABEL}",
            shown(label),
            label.len()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        let hint = if c.is_ascii() {
            ""
        } else {
            " (write an internationalised name in its xn-- form)"
        };
        return Some(format!(
            "it contains {}: use only letters a-z, digits and hyphens{hint}",
            shown(&c.to_string())
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(format!(
            "the part {} starts or ends with a hyphen",
            shown(label)
        ));
    }
    None
}

/// Why `name` is not a domain name of host name labels, or `None`.
fn name_problem(name: &str) -> Option<String> {
    if name.ends_with('.') {
        return Some("write it without the final dot".into());
    }
    if name.len() > MAX_NAME {
        return Some(format!(
            "it has {} characters; a domain name may have at most {MAX_NAME}",
            name.len()
        ));
    }
    name.split('.').find_map(label_problem)
}

fn hostname(name: &str) -> Result<(), SeedError> {
    let err = |why: String| {
        SeedError::new(
            Field::Hostname,
            format!("The host name {} is not usable: {why}.", shown(name)),
        )
    };
    if name.is_empty() {
        return Err(SeedError::new(
            Field::Hostname,
            "Enter a host name: one word of letters, digits and hyphens, such as web1.",
        ));
    }
    if name.contains('.') {
        return Err(err(
            "it must be one word; put the domain into the full name (FQDN) instead".into(),
        ));
    }
    match label_problem(name) {
        Some(why) => Err(err(why)),
        None => Ok(()),
    }
}

fn fqdn(fqdn: &str, hostname: &str) -> Result<(), SeedError> {
    let err = |why: String| {
        SeedError::new(
            Field::Fqdn,
            format!("The full name {} is not usable: {why}.", shown(fqdn)),
        )
    };
    if let Some(why) = name_problem(fqdn) {
        return Err(err(why));
    }
    let Some((first, domain)) = fqdn.split_once('.') else {
        return Err(err(format!(
            "it needs a domain after the host name, such as {hostname}.example.org"
        )));
    };
    if !first.eq_ignore_ascii_case(hostname) {
        return Err(err(format!(
            "it must start with the host name, as in {hostname}.{domain}"
        )));
    }
    Ok(())
}

fn admin(name: &str) -> Result<(), SeedError> {
    let err = |why: &str| {
        SeedError::new(
            Field::Admin,
            format!("The admin user name {} is not usable: {why}.", shown(name)),
        )
    };
    if name.is_empty() {
        return Err(SeedError::new(
            Field::Admin,
            "Enter the admin's user name, such as admin.",
        ));
    }
    if name.len() > MAX_USER {
        return Err(err("use at most 32 characters"));
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !first_ok || !rest_ok {
        return Err(err(
            "use lower-case letters a-z, digits, '_' and '-', starting with a letter or '_'",
        ));
    }
    if SYSTEM_USERS.contains(&name) {
        return Err(err(
            "that account belongs to the system; choose a name of a person or a role, such as admin",
        ));
    }
    Ok(())
}

fn ssh_keys(keys: &[String]) -> Result<(), SeedError> {
    if keys.is_empty() {
        return Err(SeedError::new(
            Field::SshKeys,
            "Add at least one SSH public key for the admin: the password is locked, so a \
             key is the only way to log in.",
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        ssh_key(key.trim()).map_err(|why| {
            SeedError::new(
                Field::SshKeys,
                format!(
                    "SSH key {} ({}) is not usable: {why}.",
                    nth(i),
                    shown(key.trim())
                ),
            )
        })?;
    }
    Ok(())
}

/// Checks one `authorized_keys` line: `type base64 [comment]`, the base64
/// a key blob of that type.
fn ssh_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("it is empty; paste the whole line of the key's .pub file".into());
    }
    if key.len() > MAX_KEY {
        return Err(format!("it is longer than {MAX_KEY} characters"));
    }
    // Tabs may separate the fields; a line break would end the line in
    // `authorized_keys` and start another key there.
    if key.chars().any(|c| c != '\t' && c.is_control()) {
        return Err(
            "it spans several lines or holds control characters; paste one key per entry, \
             as one line"
                .into(),
        );
    }
    let mut parts = key.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    if !KEY_TYPES.contains(&kind) {
        let options = if kind.contains('=') || kind.contains('"') || kind.contains(',') {
            " (options before the key type are not supported)"
        } else {
            ""
        };
        return Err(format!(
            "it starts with {}, not a key type{options}; use a key of type {}, and paste the \
             whole line of its .pub file",
            shown(kind),
            KEY_TYPES.join(", ")
        ));
    }
    if blob.is_empty() {
        return Err("the key itself (the base64 after the type) is missing".into());
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(blob) else {
        return Err(
            "the key itself (the part after the type) is not valid base64; it may \
                    have been cut or changed when copied"
                .into(),
        );
    };
    // The blob starts with the key type as an SSH string (a 32-bit length,
    // then the name), which catches a blob pasted with the wrong type.
    let named = bytes
        .get(..4)
        .and_then(|len| <[u8; 4]>::try_from(len).ok())
        .map(|len| u32::from_be_bytes(len) as usize)
        .and_then(|len| bytes.get(4..4 + len));
    if named != Some(kind.as_bytes()) {
        return Err(format!(
            "the key's data is not a {kind} key; it may have been cut or pasted with the \
             wrong type"
        ));
    }
    Ok(())
}

fn packages(packages: &[String]) -> Result<(), SeedError> {
    for (i, name) in packages.iter().enumerate() {
        // Debian Policy §5.6.7: lower-case letters, digits, '+', '-', '.';
        // at least two characters, starting with a letter or digit.
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
        if name.len() < 2 || !first_ok || !rest_ok {
            return Err(SeedError::new(
                Field::Packages,
                format!(
                    "Package {} ({}) is not a Debian package name: use the name as apt knows \
                     it, such as nginx or python3-yaml (lower-case letters, digits, '+', '-' \
                     and '.'; at least two characters, no version or architecture).",
                    nth(i),
                    shown(name)
                ),
            ));
        }
    }
    Ok(())
}

fn commands(commands: &[String]) -> Result<(), SeedError> {
    for (i, command) in commands.iter().enumerate() {
        let err = |why: &str| {
            SeedError::new(
                Field::Commands,
                format!("Command {} ({}) {why}.", nth(i), shown(command)),
            )
        };
        if command.trim().is_empty() {
            return Err(err("is empty: remove it or write the command"));
        }
        if command.contains(['\n', '\r']) {
            return Err(err(
                "spans several lines: give each command as its own entry, or join them \
                 with && or ;",
            ));
        }
        if command.contains('\0') {
            return Err(err("contains a NUL character, which no shell can run"));
        }
    }
    Ok(())
}

fn raw_user_data(raw: &str) -> Result<(), SeedError> {
    if !(raw.starts_with("#cloud-config") || raw.starts_with("#!")) {
        return Err(SeedError::new(
            Field::UserData,
            "The custom user-data must start with #cloud-config (a cloud-config document) \
             or with #! (a script), on its very first line, with nothing before it.",
        ));
    }
    if raw.contains('\0') {
        return Err(SeedError::new(
            Field::UserData,
            "The custom user-data contains a NUL character; it must be text.",
        ));
    }
    Ok(())
}

fn network(net: &StaticNetwork) -> Result<(), SeedError> {
    mac(&net.mac)?;
    address(net.address, net.prefix)?;
    if let Some(gateway_ip) = net.gateway {
        gateway(gateway_ip, net.address, net.prefix)?;
    }
    resolvers(&net.resolvers)?;
    search(&net.search)
}

fn mac(mac: &str) -> Result<(), SeedError> {
    let parts: Vec<&str> = mac.split(':').collect();
    let well_formed = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if !well_formed {
        return Err(SeedError::new(
            Field::Mac,
            format!(
                "The MAC address {} is not in the form 52:54:00:12:34:56 (six pairs of hex \
                 digits separated by colons).",
                shown(mac)
            ),
        ));
    }
    let first = parts
        .first()
        .and_then(|p| u8::from_str_radix(p, 16).ok())
        .unwrap_or_default();
    if first & 1 == 1 {
        return Err(SeedError::new(
            Field::Mac,
            format!(
                "The MAC address {} is a multicast address, which no network card has; use \
                 the card's own address, as the VM's hardware shows it.",
                shown(mac)
            ),
        ));
    }
    Ok(())
}

/// The address with the host bits cleared, and the all-ones host address,
/// of `addr`'s subnet.
fn v4_bounds(addr: Ipv4Addr, prefix: u8) -> (u32, u32) {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    let network = u32::from(addr) & mask;
    (network, network | !mask)
}

fn v6_network(addr: Ipv6Addr, prefix: u8) -> u128 {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(addr) & mask
}

fn address(address: IpAddr, prefix: u8) -> Result<(), SeedError> {
    let err = |why: String| {
        SeedError::new(
            Field::Address,
            format!("The address {address}/{prefix} is not usable for a VM: {why}."),
        )
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    if prefix == 0 || prefix > max {
        return Err(SeedError::new(
            Field::Prefix,
            format!(
                "The prefix length {prefix} is not possible for an {} address: use 1 to {max}, \
                 such as {}.",
                if address.is_ipv4() { "IPv4" } else { "IPv6" },
                if address.is_ipv4() { 24 } else { 64 }
            ),
        ));
    }
    if address.is_unspecified() || address.is_loopback() || address.is_multicast() {
        return Err(err(
            "it is an unspecified, loopback or multicast address; use the VM's own address".into(),
        ));
    }
    if let IpAddr::V4(v4) = address {
        if prefix < 31 {
            let (network, broadcast) = v4_bounds(v4, prefix);
            let ip = u32::from(v4);
            if ip == network {
                return Err(err(format!(
                    "it is the subnet's own address; the first usable one is {}",
                    Ipv4Addr::from(network + 1)
                )));
            }
            if ip == broadcast {
                return Err(err(format!(
                    "it is the subnet's broadcast address; the last usable one is {}",
                    Ipv4Addr::from(broadcast - 1)
                )));
            }
        }
    }
    Ok(())
}

fn gateway(gateway: IpAddr, address: IpAddr, prefix: u8) -> Result<(), SeedError> {
    let err = |why: String| {
        SeedError::new(
            Field::Gateway,
            format!("The gateway {gateway} is not usable: {why}."),
        )
    };
    if gateway == address {
        return Err(err("it is the VM's own address".into()));
    }
    match (gateway, address) {
        (IpAddr::V4(gw), IpAddr::V4(ip)) => {
            let (network, broadcast) = v4_bounds(ip, prefix);
            let g = u32::from(gw);
            let subnet = format!("{}/{prefix}", Ipv4Addr::from(network));
            if v4_bounds(gw, prefix).0 != network {
                return Err(err(format!(
                    "it is outside the VM's subnet {subnet}, so the VM cannot reach it"
                )));
            }
            if prefix < 31 && (g == network || g == broadcast) {
                return Err(err(format!(
                    "it is the network or broadcast address of {subnet}"
                )));
            }
            Ok(())
        }
        (IpAddr::V6(gw), IpAddr::V6(ip)) => {
            // A router's link-local address is the usual IPv6 gateway.
            let link_local = gw.segments()[0] & 0xffc0 == 0xfe80;
            if link_local || v6_network(gw, prefix) == v6_network(ip, prefix) {
                Ok(())
            } else {
                Err(err(format!(
                    "it is outside the VM's subnet {}/{prefix} and not a link-local (fe80::) \
                     address, so the VM cannot reach it",
                    Ipv6Addr::from(v6_network(ip, prefix))
                )))
            }
        }
        _ => Err(err(format!(
            "the VM's address {address} is of the other IP version; give a gateway of the same \
             version"
        ))),
    }
}

fn resolvers(resolvers: &[IpAddr]) -> Result<(), SeedError> {
    if resolvers.len() > MAX_RESOLVERS {
        return Err(SeedError::new(
            Field::Resolvers,
            format!(
                "{} DNS resolvers are given, but the guest uses only the first {MAX_RESOLVERS}; \
                 remove the others.",
                resolvers.len()
            ),
        ));
    }
    if let Some(bad) = resolvers
        .iter()
        .find(|r| r.is_unspecified() || r.is_multicast())
    {
        return Err(SeedError::new(
            Field::Resolvers,
            format!("The DNS resolver {bad} is not an address a resolver can have."),
        ));
    }
    Ok(())
}

fn search(domains: &[String]) -> Result<(), SeedError> {
    for (i, domain) in domains.iter().enumerate() {
        if let Some(why) = name_problem(domain) {
            return Err(SeedError::new(
                Field::Search,
                format!(
                    "Search domain {} ({}) is not a domain name: {why}.",
                    nth(i),
                    shown(domain)
                ),
            ));
        }
    }
    Ok(())
}
