//! Writing the seed's YAML documents.
//!
//! cloud-init reads them with PyYAML (YAML 1.1). Every string scalar is
//! written by [`quote`] as a double-quoted scalar that is also a JSON
//! string: in YAML 1.1, unquoted `yes`, `no`, `on`, `null`, `~`, `1e3` or
//! `0777` are not strings, and `:`, `#`, `- ` or a line break in a value
//! could start a key, a comment or a list item. Numbers and booleans are
//! written only for values of our own.

use std::fmt::Write as _;

use super::{SeedSpec, StaticNetwork};

/// A string as a double-quoted YAML scalar that is also valid JSON, in one
/// line of printable characters.
///
/// JSON's escapes are a subset of YAML's, so `"`, `\` and the C0 controls
/// are escaped as JSON escapes them. Beyond JSON, the characters PyYAML
/// refuses in a document (DEL, the C1 controls, U+FFFE, U+FFFF), those
/// YAML treats as line breaks (U+0085, U+2028, U+2029), which would be
/// folded to spaces inside a quoted scalar, and the byte-order mark U+FEFF
/// are written as `\uXXXX` too.
/// Everything else, including non-ASCII letters, is written as it is.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => {
                // `write!` to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `key:` and a block list of quoted strings indented by `indent`
/// spaces, or `key: []` for an empty list.
fn list(out: &mut String, indent: usize, key: &str, items: &[String]) {
    let pad = " ".repeat(indent);
    if items.is_empty() {
        let _ = writeln!(out, "{pad}{key}: []");
        return;
    }
    let _ = writeln!(out, "{pad}{key}:");
    for item in items {
        let _ = writeln!(out, "{pad}  - {}", quote(item));
    }
}

/// The `meta-data` document.
pub(crate) fn meta_data(instance_id: &str, hostname: &str) -> String {
    format!(
        "instance-id: {}\nlocal-hostname: {}\n",
        quote(instance_id),
        quote(hostname)
    )
}

/// The generated `#cloud-config` user-data.
///
/// `users:` lists only the admin, so the image's default user (`debian`)
/// is not created; the admin's password is locked and SSH takes keys only.
/// `manage_etc_hosts` puts the VM's own names into `/etc/hosts` so `sudo`
/// and `hostname -f` work before DNS knows the VM.
pub(crate) fn cloud_config(spec: &SeedSpec) -> String {
    let mut out = String::from("#cloud-config\n");
    let _ = writeln!(out, "hostname: {}", quote(&spec.hostname));
    if let Some(fqdn) = &spec.fqdn {
        let _ = writeln!(out, "fqdn: {}", quote(fqdn));
    }
    out.push_str("prefer_fqdn_over_hostname: false\n");
    out.push_str("manage_etc_hosts: true\n");
    out.push_str("users:\n");
    let _ = writeln!(out, "  - name: {}", quote(&spec.admin.name));
    let _ = writeln!(out, "    sudo: {}", quote("ALL=(ALL) NOPASSWD:ALL"));
    let _ = writeln!(out, "    shell: {}", quote("/bin/bash"));
    out.push_str("    lock_passwd: true\n");
    // A key pasted with its file's final newline is the same key.
    let keys: Vec<String> = spec
        .admin
        .ssh_authorized_keys
        .iter()
        .map(|k| k.trim().to_owned())
        .collect();
    list(&mut out, 4, "ssh_authorized_keys", &keys);
    out.push_str("ssh_pwauth: false\n");
    if !spec.packages.is_empty() {
        out.push_str("package_update: true\n");
        list(&mut out, 0, "packages", &spec.packages);
    }
    if !spec.commands.is_empty() {
        list(&mut out, 0, "runcmd", &spec.commands);
    }
    out
}

/// The `network-config` document, version 2.
///
/// The card is matched by its MAC address and keeps the name the guest
/// gives it (no `set-name`): cloud-init finds the card by its MAC, and the
/// entry's own name (`primary`) is only a label.
///
/// The default route is `gateway4` (or `gateway6`), which cloud-init calls
/// deprecated since 22.4, rather than `routes:`, because only the former
/// works on every renderer of Debian 12's cloud-init (22.4): its ifupdown
/// renderer writes `routes:` as `post-up route add default gw … || true`,
/// which needs net-tools' `route`, absent from a minimal image, so the VM
/// silently comes up without a default route (seen booting a bookworm
/// image with this seed); `gateway4` becomes ifupdown's own `gateway`
/// line, networkd's `Gateway=` and netplan's (deprecated but working)
/// `gateway4`. (`routes: [{to: default}]` is worse still: 22.4 refuses
/// `default` outright.) From cloud-init 25.3 on, the ifupdown renderer
/// writes `ip route` and `to: default` is understood, so `routes:` can
/// replace this once the guests we make have that.
pub(crate) fn network_config(net: &StaticNetwork) -> String {
    let mut out = String::from("version: 2\nethernets:\n");
    out.push_str("  primary:\n");
    out.push_str("    match:\n");
    let _ = writeln!(
        out,
        "      macaddress: {}",
        quote(&net.mac.to_ascii_lowercase())
    );
    out.push_str("    dhcp4: false\n");
    out.push_str("    dhcp6: false\n");
    list(
        &mut out,
        4,
        "addresses",
        &[format!("{}/{}", net.address, net.prefix)],
    );
    if let Some(gateway) = net.gateway {
        let key = if gateway.is_ipv4() {
            "gateway4"
        } else {
            "gateway6"
        };
        let _ = writeln!(out, "    {key}: {}", quote(&gateway.to_string()));
    }
    if !net.resolvers.is_empty() || !net.search.is_empty() {
        out.push_str("    nameservers:\n");
        if !net.resolvers.is_empty() {
            let resolvers: Vec<String> = net.resolvers.iter().map(|r| r.to_string()).collect();
            list(&mut out, 6, "addresses", &resolvers);
        }
        if !net.search.is_empty() {
            list(&mut out, 6, "search", &net.search);
        }
    }
    out
}
