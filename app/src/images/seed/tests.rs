//! The seed's documents: their exact text, that no value can change their
//! structure, every refusal of `validate` with its field, and the
//! instance-id.

use std::net::IpAddr;

use base64::Engine as _;
use proptest::prelude::*;

use super::render::quote;
use super::*;

pub(super) const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdA7iy3DNZFD3zGEElv1FMJF2MLj2pNpW/84HZtwOGo admin@example.org";
pub(super) const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBANyMrWHjzrmgMUz48rHcajAmSE3xNpd4O1YAUkvWD1AwpNEfdr4XQP5vAmwzrKD0wyYDK/F0sUVmisHdGhQxyo= ops";

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A key line of type `kind` whose blob starts with `blob_kind`.
fn key_of(kind: &str, blob_kind: &str) -> String {
    let mut blob = (blob_kind.len() as u32).to_be_bytes().to_vec();
    blob.extend_from_slice(blob_kind.as_bytes());
    blob.extend_from_slice(&[0, 0, 0, 32]);
    blob.extend_from_slice(&[7; 32]);
    format!(
        "{kind} {} someone@example.org",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

pub(super) fn network() -> StaticNetwork {
    StaticNetwork {
        mac: "52:54:00:12:34:56".into(),
        address: ip("192.0.2.10"),
        prefix: 24,
        gateway: Some(ip("192.0.2.1")),
        resolvers: vec![ip("192.0.2.53"), ip("2001:db8::53")],
        search: vec!["example.org".into()],
    }
}

pub(super) fn spec() -> SeedSpec {
    SeedSpec {
        hostname: "web1".into(),
        fqdn: Some("web1.example.org".into()),
        admin: AdminAccount {
            name: "admin".into(),
            ssh_authorized_keys: vec![ED25519.into()],
        },
        packages: vec!["nginx".into(), "python3-yaml".into()],
        commands: vec!["systemctl enable --now nginx".into()],
        raw_user_data: None,
        network: Some(network()),
    }
}

pub(super) fn minimal() -> SeedSpec {
    SeedSpec {
        hostname: "db2".into(),
        fqdn: None,
        admin: AdminAccount {
            name: "ops".into(),
            ssh_authorized_keys: vec![ECDSA.into()],
        },
        packages: vec![],
        commands: vec![],
        raw_user_data: None,
        network: None,
    }
}

#[test]
fn meta_data_exactly() {
    let id = InstanceId("sy-0123456789abcdef".into());
    assert_eq!(
        spec().meta_data(&id),
        "instance-id: \"sy-0123456789abcdef\"\nlocal-hostname: \"web1\"\n"
    );
}

#[test]
fn user_data_exactly() {
    let expected = format!(
        r##"#cloud-config
hostname: "web1"
fqdn: "web1.example.org"
prefer_fqdn_over_hostname: false
manage_etc_hosts: true
users:
  - name: "admin"
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    shell: "/bin/bash"
    lock_passwd: true
    ssh_authorized_keys:
      - "{ED25519}"
ssh_pwauth: false
package_update: true
packages:
  - "nginx"
  - "python3-yaml"
runcmd:
  - "systemctl enable --now nginx"
"##
    );
    assert_eq!(spec().user_data(), expected);
}

#[test]
fn user_data_without_the_optional_parts() {
    // No fqdn, no packages (so no apt-get update), no commands; a key
    // pasted with its file's newline is written without it.
    let mut s = minimal();
    s.admin.ssh_authorized_keys = vec![format!("{ECDSA}\n")];
    let expected = format!(
        r##"#cloud-config
hostname: "db2"
prefer_fqdn_over_hostname: false
manage_etc_hosts: true
users:
  - name: "ops"
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    shell: "/bin/bash"
    lock_passwd: true
    ssh_authorized_keys:
      - "{ECDSA}"
ssh_pwauth: false
"##
    );
    assert_eq!(s.user_data(), expected);
    assert_eq!(s.network_config(), None);
}

#[test]
fn network_config_exactly() {
    assert_eq!(
        spec().network_config().unwrap(),
        r#"version: 2
ethernets:
  primary:
    match:
      macaddress: "52:54:00:12:34:56"
    dhcp4: false
    dhcp6: false
    addresses:
      - "192.0.2.10/24"
    gateway4: "192.0.2.1"
    nameservers:
      addresses:
        - "192.0.2.53"
        - "2001:db8::53"
      search:
        - "example.org"
"#
    );
}

#[test]
fn network_config_for_ipv6_without_resolvers() {
    let net = StaticNetwork {
        mac: "52:54:00:AB:CD:EF".into(),
        address: ip("2001:db8:1::10"),
        prefix: 64,
        gateway: Some(ip("fe80::1")),
        resolvers: vec![],
        search: vec![],
    };
    let s = SeedSpec {
        network: Some(net),
        ..minimal()
    };
    s.validate().unwrap();
    assert_eq!(
        s.network_config().unwrap(),
        r#"version: 2
ethernets:
  primary:
    match:
      macaddress: "52:54:00:ab:cd:ef"
    dhcp4: false
    dhcp6: false
    addresses:
      - "2001:db8:1::10/64"
    gateway6: "fe80::1"
"#
    );
    // Without a gateway: no route at all.
    let mut no_gw = s.clone();
    if let Some(n) = no_gw.network.as_mut() {
        n.gateway = None;
    }
    assert!(!no_gw.network_config().unwrap().contains("gateway"));
}

#[test]
fn raw_user_data_is_used_as_it_is() {
    let raw = "#!/bin/sh\necho 'hello: world' > /etc/motd\n";
    let s = SeedSpec {
        raw_user_data: Some(raw.into()),
        packages: vec![],
        commands: vec![],
        admin: AdminAccount {
            // Not used, so not checked.
            name: "root".into(),
            ssh_authorized_keys: vec![],
        },
        ..spec()
    };
    s.validate().unwrap();
    assert_eq!(s.user_data(), raw);
    let files = s.files().unwrap();
    assert_eq!(files[1], ("user-data", raw.as_bytes().to_vec()));
}

#[test]
fn files_are_checked_and_named_for_nocloud() {
    let files = spec().files().unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["meta-data", "user-data", "network-config"]);
    let id = spec().instance_id();
    assert_eq!(files[0].1, spec().meta_data(&id).into_bytes());
    assert_eq!(files[1].1, spec().user_data().into_bytes());
    assert_eq!(files[2].1, spec().network_config().unwrap().into_bytes());

    let names: Vec<&str> = minimal().files().unwrap().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["meta-data", "user-data"]);

    let mut bad = spec();
    bad.hostname = "web_1".into();
    assert_eq!(bad.files().unwrap_err().field(), "hostname");
}

/// Splits a document made of our lines into its skeleton (each line with
/// its double-quoted scalar, if any, replaced by `"…"`) and the scalars'
/// values, decoded as JSON strings. A line whose quoted part is not exactly
/// one JSON string fails the test.
fn skeleton(doc: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut values = Vec::new();
    for line in doc.split('\n') {
        match line.find('"') {
            None => lines.push(line.to_owned()),
            Some(at) => {
                let (prefix, scalar) = line.split_at(at);
                let value: String = serde_json::from_str(scalar)
                    .unwrap_or_else(|e| panic!("not one JSON string: {scalar}: {e}"));
                lines.push(format!("{prefix}\"…\""));
                values.push(value);
            }
        }
    }
    (lines, values)
}

/// Values that would change a YAML document written without quoting:
/// special words, indicators, comments, line breaks of every kind, and
/// text that looks like a key, a list item or a new document.
pub(super) fn hostile() -> Vec<String> {
    [
        "yes",
        "null",
        "~",
        "no",
        "0777",
        "1e3",
        "-",
        "- x",
        "a: b",
        "# c",
        "x #y",
        "\"quoted\"",
        "'single'",
        "back\\slash",
        "line\nbreak",
        "cr\rlf",
        "nel\u{85}x",
        "ls\u{2028}ps\u{2029}",
        "\u{feff}bom",
        "del\u{7f}",
        "esc\u{1b}[31m csi\u{9b}31m",
        "nul\0",
        "tab\there",
        "{a: b}",
        "[x, y]",
        "&anchor *alias",
        "!!python/object/apply:os.system [reboot]",
        "%YAML 1.2",
        "---",
        "...",
        "@at `tick` | > ",
        "key:\n  - runcmd: [reboot]",
        "Grüße, 世界 😀",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// A spec with `v` in every string the documents carry.
pub(super) fn spec_with(v: &str) -> SeedSpec {
    SeedSpec {
        hostname: v.into(),
        fqdn: Some(v.into()),
        admin: AdminAccount {
            name: v.into(),
            ssh_authorized_keys: vec![format!("ssh-ed25519 AAAA {v}\nssh-rsa AAAA evil")],
        },
        packages: vec![v.into(), v.into()],
        commands: vec![v.into()],
        raw_user_data: None,
        network: Some(StaticNetwork {
            mac: v.into(),
            search: vec![v.into()],
            ..network()
        }),
    }
}

#[test]
fn no_value_changes_the_structure_of_a_document() {
    let (plain_user, _) = skeleton(&spec_with("plain").user_data());
    let (plain_net, _) = skeleton(&spec_with("plain").network_config().unwrap());
    let (plain_meta, _) = skeleton(&spec_with("plain").meta_data(&InstanceId("sy-x".into())));
    for v in hostile() {
        let s = spec_with(&v);
        let docs = [
            s.user_data(),
            s.network_config().unwrap(),
            s.meta_data(&InstanceId("sy-x".into())),
        ];
        for doc in &docs {
            // One line per line: nothing YAML would take as a line break,
            // nothing it refuses in a document.
            assert!(
                !doc.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{7f}', '\u{feff}', '\0']),
                "{v:?}: {doc}"
            );
        }
        let (user, user_values) = skeleton(&docs[0]);
        assert_eq!(user, plain_user, "{v:?}");
        let key = format!("ssh-ed25519 AAAA {v}\nssh-rsa AAAA evil");
        let key = key.trim();
        let (net, net_values) = skeleton(&docs[1]);
        assert_eq!(net, plain_net, "{v:?}");
        let (meta, meta_values) = skeleton(&docs[2]);
        assert_eq!(meta, plain_meta, "{v:?}");
        // Each value comes back exactly (the MAC in lower case).
        let mac = v.to_ascii_lowercase();
        assert_eq!(
            user_values,
            [
                v.as_str(),
                v.as_str(),
                v.as_str(),
                "ALL=(ALL) NOPASSWD:ALL",
                "/bin/bash",
                key,
                v.as_str(),
                v.as_str(),
                v.as_str()
            ],
            "{v:?}"
        );
        assert_eq!(
            net_values,
            [
                mac.as_str(),
                "192.0.2.10/24",
                "192.0.2.1",
                "192.0.2.53",
                "2001:db8::53",
                v.as_str()
            ],
            "{v:?}"
        );
        assert_eq!(meta_values, ["sy-x", v.as_str()], "{v:?}");
    }
}

proptest! {
    /// Any string quoted is one JSON string that decodes to it, on one
    /// line of characters YAML takes as they are.
    #[test]
    fn quote_round_trips_any_string(s in any::<String>()) {
        let q = quote(&s);
        let back: String = serde_json::from_str(&q).unwrap();
        prop_assert_eq!(back, s);
        let inner = &q[1..q.len() - 1];
        prop_assert!(q.starts_with('"') && q.ends_with('"'));
        let unsafe_char = |c: char| {
            c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
        };
        prop_assert!(!inner.chars().any(unsafe_char), "{}", q);
        // Every '"' inside is escaped: the scalar cannot end early.
        let mut escaped = false;
        for c in inner.chars() {
            prop_assert!(escaped || c != '"');
            escaped = !escaped && c == '\\';
        }
    }
}

/// A change made to a valid spec.
type Change = Box<dyn Fn(&mut SeedSpec)>;

/// Each refusal: a change to a valid spec, and the field it must name.
#[test]
fn every_refusal_names_its_field() {
    let net = |f: fn(&mut StaticNetwork)| -> Change {
        Box::new(move |s: &mut SeedSpec| {
            if let Some(n) = s.network.as_mut() {
                f(n)
            }
        })
    };
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "empty host name",
            Box::new(|s| s.hostname = String::new()),
            "hostname",
        ),
        (
            "host name with a dot",
            Box::new(|s| s.hostname = "web1.example.org".into()),
            "hostname",
        ),
        (
            "host name with _",
            Box::new(|s| s.hostname = "web_1".into()),
            "hostname",
        ),
        (
            "host name with a space",
            Box::new(|s| s.hostname = "web 1".into()),
            "hostname",
        ),
        (
            "host name with a leading hyphen",
            Box::new(|s| s.hostname = "-web".into()),
            "hostname",
        ),
        (
            "host name with a trailing hyphen",
            Box::new(|s| s.hostname = "web-".into()),
            "hostname",
        ),
        (
            "host name of 64",
            Box::new(|s| s.hostname = "a".repeat(64)),
            "hostname",
        ),
        (
            "non-ASCII host name",
            Box::new(|s| s.hostname = "bücher".into()),
            "hostname",
        ),
        (
            "fqdn with a final dot",
            Box::new(|s| s.fqdn = Some("web1.example.org.".into())),
            "fqdn",
        ),
        (
            "fqdn of one label",
            Box::new(|s| s.fqdn = Some("web1".into())),
            "fqdn",
        ),
        (
            "fqdn of another host",
            Box::new(|s| s.fqdn = Some("web2.example.org".into())),
            "fqdn",
        ),
        (
            "fqdn with an empty label",
            Box::new(|s| s.fqdn = Some("web1..org".into())),
            "fqdn",
        ),
        (
            "fqdn with _",
            Box::new(|s| s.fqdn = Some("web1.ex_ample.org".into())),
            "fqdn",
        ),
        (
            "fqdn too long",
            Box::new(|s| s.fqdn = Some(format!("web1{}", ".abcdefghi".repeat(25)))),
            "fqdn",
        ),
        (
            "empty admin",
            Box::new(|s| s.admin.name = String::new()),
            "admin",
        ),
        (
            "admin root",
            Box::new(|s| s.admin.name = "root".into()),
            "admin",
        ),
        (
            "admin of a system account",
            Box::new(|s| s.admin.name = "www-data".into()),
            "admin",
        ),
        (
            "admin in capitals",
            Box::new(|s| s.admin.name = "Admin".into()),
            "admin",
        ),
        (
            "admin starting with a digit",
            Box::new(|s| s.admin.name = "1admin".into()),
            "admin",
        ),
        (
            "admin starting with a hyphen",
            Box::new(|s| s.admin.name = "-admin".into()),
            "admin",
        ),
        (
            "admin with a dot",
            Box::new(|s| s.admin.name = "a.b".into()),
            "admin",
        ),
        (
            "admin of 33",
            Box::new(|s| s.admin.name = "a".repeat(33)),
            "admin",
        ),
        (
            "no SSH key",
            Box::new(|s| s.admin.ssh_authorized_keys.clear()),
            "ssh_keys",
        ),
        (
            "empty SSH key",
            Box::new(|s| s.admin.ssh_authorized_keys.push("  ".into())),
            "ssh_keys",
        ),
        (
            "DSA key",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push(key_of("ssh-dss", "ssh-dss"))
            }),
            "ssh_keys",
        ),
        (
            "key with options",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push(format!("from=\"10.0.0.1\" {ED25519}"))
            }),
            "ssh_keys",
        ),
        (
            "key without data",
            Box::new(|s| s.admin.ssh_authorized_keys.push("ssh-ed25519".into())),
            "ssh_keys",
        ),
        (
            "key with bad base64",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push("ssh-ed25519 AAAA!!!!".into())
            }),
            "ssh_keys",
        ),
        (
            "key cut short",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push("ssh-ed25519 AAAAC3NzaC1lZDI1".into())
            }),
            "ssh_keys",
        ),
        (
            "key of another type",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push(key_of("ssh-rsa", "ssh-ed25519"))
            }),
            "ssh_keys",
        ),
        (
            "key with a newline in its comment",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push(format!("{ED25519}\nssh-rsa AAAA evil"))
            }),
            "ssh_keys",
        ),
        (
            "key with a CR in its comment",
            Box::new(|s| s.admin.ssh_authorized_keys.push(format!("{ED25519}\r x"))),
            "ssh_keys",
        ),
        (
            "huge key",
            Box::new(|s| {
                s.admin
                    .ssh_authorized_keys
                    .push(format!("ssh-rsa {}", "A".repeat(20_000)))
            }),
            "ssh_keys",
        ),
        (
            "package in capitals",
            Box::new(|s| s.packages.push("Nginx".into())),
            "packages",
        ),
        (
            "package of one letter",
            Box::new(|s| s.packages.push("a".into())),
            "packages",
        ),
        (
            "package with a version",
            Box::new(|s| s.packages.push("nginx=1.22".into())),
            "packages",
        ),
        (
            "package with an architecture",
            Box::new(|s| s.packages.push("libc6:i386".into())),
            "packages",
        ),
        (
            "package starting with a hyphen",
            Box::new(|s| s.packages.push("-nginx".into())),
            "packages",
        ),
        (
            "package with a space",
            Box::new(|s| s.packages.push("nginx curl".into())),
            "packages",
        ),
        (
            "empty command",
            Box::new(|s| s.commands.push(" ".into())),
            "commands",
        ),
        (
            "command with a newline",
            Box::new(|s| s.commands.push("true\nreboot".into())),
            "commands",
        ),
        (
            "command with a CR",
            Box::new(|s| s.commands.push("true\r".into())),
            "commands",
        ),
        (
            "command with a NUL",
            Box::new(|s| s.commands.push("true\0".into())),
            "commands",
        ),
        (
            "raw user-data without a header",
            Box::new(|s| {
                s.packages.clear();
                s.commands.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some("packages: [nginx]\n".into())
            }),
            "user_data",
        ),
        (
            "raw user-data with space first",
            Box::new(|s| {
                s.packages.clear();
                s.commands.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some(" #cloud-config\n".into())
            }),
            "user_data",
        ),
        (
            "empty raw user-data",
            Box::new(|s| {
                s.packages.clear();
                s.commands.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some(String::new())
            }),
            "user_data",
        ),
        (
            "raw user-data with a NUL",
            Box::new(|s| {
                s.packages.clear();
                s.commands.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some("#cloud-config\n\0".into())
            }),
            "user_data",
        ),
        (
            "raw user-data and packages",
            Box::new(|s| {
                s.commands.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some("#cloud-config\n".into())
            }),
            "packages",
        ),
        (
            "raw user-data and commands",
            Box::new(|s| {
                s.packages.clear();
                s.admin.ssh_authorized_keys.clear();
                s.raw_user_data = Some("#cloud-config\n".into())
            }),
            "commands",
        ),
        (
            "raw user-data and SSH keys",
            Box::new(|s| {
                s.packages.clear();
                s.commands.clear();
                s.raw_user_data = Some("#cloud-config\n".into())
            }),
            "ssh_keys",
        ),
        (
            "MAC with dashes",
            net(|n| n.mac = "52-54-00-12-34-56".into()),
            "mac",
        ),
        (
            "MAC too short",
            net(|n| n.mac = "52:54:00:12:34".into()),
            "mac",
        ),
        (
            "MAC with a bad digit",
            net(|n| n.mac = "52:54:00:12:34:5g".into()),
            "mac",
        ),
        (
            "MAC without leading zeros",
            net(|n| n.mac = "52:54:0:12:34:56".into()),
            "mac",
        ),
        (
            "multicast MAC",
            net(|n| n.mac = "01:00:5e:00:00:01".into()),
            "mac",
        ),
        ("IPv4 prefix 33", net(|n| n.prefix = 33), "prefix"),
        ("prefix 0", net(|n| n.prefix = 0), "prefix"),
        (
            "IPv6 prefix 129",
            net(|n| {
                n.address = ip("2001:db8::10");
                n.gateway = None;
                n.prefix = 129
            }),
            "prefix",
        ),
        (
            "network address",
            net(|n| n.address = ip("192.0.2.0")),
            "address",
        ),
        (
            "broadcast address",
            net(|n| n.address = ip("192.0.2.255")),
            "address",
        ),
        (
            "network address of a /30",
            net(|n| {
                n.address = ip("192.0.2.8");
                n.prefix = 30;
                n.gateway = None
            }),
            "address",
        ),
        (
            "loopback address",
            net(|n| {
                n.address = ip("127.0.0.2");
                n.prefix = 8;
                n.gateway = None
            }),
            "address",
        ),
        (
            "unspecified address",
            net(|n| {
                n.address = ip("::");
                n.prefix = 64;
                n.gateway = None
            }),
            "address",
        ),
        (
            "multicast address",
            net(|n| {
                n.address = ip("224.0.0.5");
                n.gateway = None
            }),
            "address",
        ),
        (
            "gateway outside the subnet",
            net(|n| n.gateway = Some(ip("198.51.100.1"))),
            "gateway",
        ),
        (
            "gateway is the address",
            net(|n| n.gateway = Some(ip("192.0.2.10"))),
            "gateway",
        ),
        (
            "gateway is the broadcast",
            net(|n| n.gateway = Some(ip("192.0.2.255"))),
            "gateway",
        ),
        (
            "gateway is the network",
            net(|n| n.gateway = Some(ip("192.0.2.0"))),
            "gateway",
        ),
        (
            "gateway of the other version",
            net(|n| n.gateway = Some(ip("2001:db8::1"))),
            "gateway",
        ),
        (
            "gateway on a /32",
            net(|n| {
                n.prefix = 32;
                n.gateway = Some(ip("192.0.2.1"))
            }),
            "gateway",
        ),
        (
            "IPv6 gateway outside",
            net(|n| {
                n.address = ip("2001:db8:1::10");
                n.prefix = 64;
                n.gateway = Some(ip("2001:db8:2::1"))
            }),
            "gateway",
        ),
        (
            "four resolvers",
            net(|n| {
                n.resolvers = vec![
                    ip("192.0.2.1"),
                    ip("192.0.2.2"),
                    ip("192.0.2.3"),
                    ip("192.0.2.4"),
                ]
            }),
            "resolvers",
        ),
        (
            "unspecified resolver",
            net(|n| n.resolvers = vec![ip("0.0.0.0")]),
            "resolvers",
        ),
        (
            "search with a space",
            net(|n| n.search = vec!["example org".into()]),
            "search",
        ),
        (
            "empty search domain",
            net(|n| n.search = vec![String::new()]),
            "search",
        ),
        (
            "search with a final dot",
            net(|n| n.search = vec!["example.org.".into()]),
            "search",
        ),
    ];
    spec().validate().unwrap();
    for (what, change, field) in cases {
        let mut s = spec();
        change(&mut s);
        let err = s
            .validate()
            .expect_err(&format!("{what}: should be refused"));
        assert_eq!(err.field(), field, "{what}: {err}");
        // A sentence for a person, ending like one; a pasted value is
        // shown in short and on one line.
        let message = err.message();
        assert!(message.ends_with('.'), "{what}: {message}");
        assert!(
            !message.contains('\n') && message.len() < 500,
            "{what}: {message}"
        );
        assert_eq!(err.to_string(), format!("{field}: {message}"));
    }
}

#[test]
fn messages_say_what_would_do() {
    let refused = |change: &dyn Fn(&mut SeedSpec)| {
        let mut s = spec();
        change(&mut s);
        s.validate().unwrap_err().message().to_owned()
    };
    let m = refused(&|s| s.hostname = "web1.example.org".into());
    assert!(m.contains("full name"), "{m}");
    let m = refused(&|s| s.fqdn = Some("web2.example.org".into()));
    assert!(m.contains("web1.example.org"), "{m}");
    let m = refused(&|s| {
        s.admin
            .ssh_authorized_keys
            .push(key_of("ssh-dss", "ssh-dss"))
    });
    assert!(m.contains("SSH key #2") && m.contains("ssh-ed25519"), "{m}");
    let m = refused(&|s| s.packages.push("nginx=1.22".into()));
    assert!(
        m.contains("Package #3") && m.contains("\"nginx=1.22\""),
        "{m}"
    );
    let m = refused(&|s| {
        if let Some(n) = s.network.as_mut() {
            n.address = ip("192.0.2.0");
        }
    });
    assert!(m.contains("192.0.2.1"), "first usable address: {m}");
    let m = refused(&|s| {
        if let Some(n) = s.network.as_mut() {
            n.gateway = Some(ip("198.51.100.1"));
        }
    });
    assert!(m.contains("192.0.2.0/24"), "{m}");
    // A long pasted value is cut short in the message.
    let m = refused(&|s| s.commands.push(format!("{}\n", "x".repeat(1000))));
    assert!(m.len() < 200 && m.contains('…'), "{m}");
}

#[test]
fn what_is_valid_is_accepted() {
    let ok = |change: &dyn Fn(&mut SeedSpec)| {
        let mut s = spec();
        change(&mut s);
        s.validate().map_err(|e| e.to_string())
    };
    ok(&|_| {}).unwrap();
    ok(&|s| {
        s.hostname = "a".repeat(63);
        s.fqdn = Some(format!("{}.example.org", "a".repeat(63)));
    })
    .unwrap();
    ok(&|s| {
        s.hostname = "Web-1".into();
        s.fqdn = Some("web-1.Example.ORG".into());
    })
    .unwrap();
    ok(&|s| s.fqdn = None).unwrap();
    ok(&|s| s.admin.name = "_svc-backup_2".into()).unwrap();
    ok(&|s| s.admin.name = "a".repeat(32)).unwrap();
    ok(&|s| {
        s.admin.ssh_authorized_keys = vec![
            format!("\n{ED25519}\n"),
            ECDSA.into(),
            ED25519.replace(' ', "\t"),
            key_of("ssh-rsa", "ssh-rsa"),
            key_of("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"),
            key_of("ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"),
            key_of("sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519@openssh.com"),
            key_of(
                "sk-ecdsa-sha2-nistp256@openssh.com",
                "sk-ecdsa-sha2-nistp256@openssh.com",
            ),
            // No comment at all.
            ED25519.rsplit_once(' ').unwrap().0.to_owned(),
        ]
    })
    .unwrap();
    ok(&|s| s.packages = vec!["g++".into(), "libc6.1".into(), "0ad".into()]).unwrap();
    ok(&|s| s.commands = vec!["echo 'a: b' | tee -a /etc/motd # x".into()]).unwrap();
    ok(&|s| s.network = None).unwrap();
    ok(&|s| {
        if let Some(n) = s.network.as_mut() {
            // A /31 has no network or broadcast address (RFC 3021).
            n.address = ip("192.0.2.0");
            n.prefix = 31;
            n.gateway = Some(ip("192.0.2.1"));
            n.resolvers.clear();
            n.search.clear();
        }
    })
    .unwrap();
    ok(&|s| {
        if let Some(n) = s.network.as_mut() {
            n.address = ip("192.0.2.7");
            n.prefix = 32;
            n.gateway = None;
            n.resolvers = vec![ip("127.0.0.53"), ip("192.0.2.53"), ip("::1")];
        }
    })
    .unwrap();
    ok(&|s| {
        if let Some(n) = s.network.as_mut() {
            n.address = ip("2001:db8::10");
            n.prefix = 64;
            n.gateway = Some(ip("2001:db8::1"));
            n.mac = "AA:BB:CC:DD:EE:FE".into();
        }
    })
    .unwrap();
}

#[test]
fn the_instance_id_follows_the_documents() {
    let id = spec().instance_id();
    assert_eq!(id, spec().instance_id(), "same inputs, same id");
    let text = id.as_str();
    assert_eq!(text.len(), 19, "{text}");
    assert!(text.starts_with("sy-"));
    assert!(text[3..]
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(id.to_string(), text);
    assert!(spec().meta_data(&id).contains(text));

    let changes: Vec<(&str, Change)> = vec![
        ("hostname", Box::new(|s| s.hostname = "web2".into())),
        (
            "fqdn",
            Box::new(|s| s.fqdn = Some("web1.example.net".into())),
        ),
        ("no fqdn", Box::new(|s| s.fqdn = None)),
        ("admin", Box::new(|s| s.admin.name = "ops".into())),
        (
            "key",
            Box::new(|s| s.admin.ssh_authorized_keys.push(ECDSA.into())),
        ),
        ("package", Box::new(|s| s.packages.push("curl".into()))),
        ("package order", Box::new(|s| s.packages.reverse())),
        ("command", Box::new(|s| s.commands[0].push_str(" && true"))),
        (
            "raw",
            Box::new(|s| s.raw_user_data = Some("#cloud-config\n".into())),
        ),
        ("no network", Box::new(|s| s.network = None)),
        (
            "mac",
            Box::new(|s| s.network.as_mut().unwrap().mac = "52:54:00:12:34:57".into()),
        ),
        (
            "address",
            Box::new(|s| s.network.as_mut().unwrap().address = ip("192.0.2.11")),
        ),
        (
            "prefix",
            Box::new(|s| s.network.as_mut().unwrap().prefix = 25),
        ),
        (
            "gateway",
            Box::new(|s| s.network.as_mut().unwrap().gateway = None),
        ),
        (
            "resolvers",
            Box::new(|s| {
                s.network
                    .as_mut()
                    .unwrap()
                    .resolvers
                    .pop()
                    .map(|_| ())
                    .unwrap_or(())
            }),
        ),
        (
            "search",
            Box::new(|s| s.network.as_mut().unwrap().search.clear()),
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    seen.insert(id.clone());
    for (what, change) in changes {
        let mut s = spec();
        change(&mut s);
        assert!(seen.insert(s.instance_id()), "{what} did not make a new id");
    }
}

#[test]
fn a_network_with_nothing_optional_is_still_a_new_instance() {
    let bare_network = SeedSpec {
        network: Some(StaticNetwork {
            resolvers: vec![],
            search: vec![],
            gateway: None,
            ..network()
        }),
        ..minimal()
    };
    assert_ne!(bare_network.instance_id(), minimal().instance_id());
}
