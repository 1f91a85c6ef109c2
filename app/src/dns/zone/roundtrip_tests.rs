//! Whole-model tests: parse → render → parse round trips (fixed and
//! property-based), and agreement with NSD's own `nsd-checkzone` when it is
//! installed.

use crate::dns::zone::name::Name;
use crate::dns::zone::parser::{parse_zone, ParseOptions};
use crate::dns::zone::record::{record_sort_key, RData, Record, Soa, Ttl, Zone};
use crate::dns::zone::render::render_zone;
use crate::dns::zone::txt::txt_from_input;
use crate::dns::zone::validate::validate_zone;
use proptest::prelude::*;
use std::path::PathBuf;
use std::process::Command;

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// Records in the renderer's order, so zones can be compared regardless of
/// the order their records were built or parsed in.
fn normalized(mut z: Zone) -> Zone {
    z.records.sort_by_cached_key(record_sort_key);
    z
}

fn round_trip(z: &Zone) -> Zone {
    let text = render_zone(z);
    match parse_zone(&z.origin, &text, ParseOptions::default()) {
        Ok(back) => back,
        Err(e) => panic!("rendered zone does not parse: {e:?}\n{text}"),
    }
}

/// A realistic zone with the records from the Stackyard paper.
fn paper_zone() -> Zone {
    let dkim = crate::dns::zone::txt::tests::DKIM_2048;
    let text = r#"$ORIGIN example.com.
$TTL 1h
@ IN SOA ns1 hostmaster (
        2024051501 ; serial
        2h 1h 2w
        5m )
  IN NS ns1
  IN NS ns2.example.net.
  IN MX 10 mail
  IN A 192.0.2.1
  IN AAAA 2001:db8::1
  IN TXT "v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all"
  IN TXT google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U
  IN CAA 0 issue "letsencrypt.org"
ns1 IN A 192.0.2.53
mail 300 IN A 192.0.2.25
www IN CNAME @
_dmarc IN TXT "v=DMARC1; p=none"
_xmpp-server._tcp IN SRV 5 0 5269 mail
odd\.name\032x IN TXT "quote \" backslash \\ nul \000 high \255"
"#;
    let mut z = parse_zone(&n("example.com."), text, ParseOptions::default()).unwrap();
    // The DKIM key goes through the form helper, which splits it.
    z.records.push(Record {
        owner: n("default._domainkey.example.com."),
        ttl: Ttl(3600),
        rdata: RData::Txt(txt_from_input(dkim).unwrap()),
    });
    z
}

#[test]
fn paper_zone_is_valid_and_round_trips() {
    let z = paper_zone();
    assert_eq!(validate_zone(&z), vec![]);
    let RData::Txt(parts) = &z.records.last().unwrap().rdata else {
        panic!("DKIM record is not TXT")
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].len(), 255);
    let text = render_zone(&z);
    assert!(text.contains("_dmarc\t\tIN\tTXT\t\"v=DMARC1; p=none\"\n"));
    assert!(text.contains(
        "@\t\tIN\tTXT\t\"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all\"\n"
    ));
    assert!(text.contains(
        "@\t\tIN\tTXT\t\"google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U\"\n"
    ));
    assert!(text.contains("\"quote \\\" backslash \\\\ nul \\000 high \\255\""));
    let back = round_trip(&z);
    assert_eq!(normalized(back.clone()), normalized(z));
    // Rendering is a fixed point after one trip.
    assert_eq!(render_zone(&back), text);
}

/// NSD's checker; `make test` installs it (Debian package `nsd`). Missing, the
/// tests fail rather than pass without having checked anything.
fn nsd_checkzone() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("nsd-checkzone"))
        .find(|p| p.is_file());
    found.expect("nsd-checkzone not found: apt-get install nsd (make test installs it)")
}

#[test]
fn nsd_checkzone_accepts_rendered_zone() {
    let bin = nsd_checkzone();
    let z = paper_zone();
    let file = std::env::temp_dir().join(format!("dnszone-nsd-{}.zone", std::process::id()));
    std::fs::write(&file, render_zone(&z)).unwrap();
    let out = Command::new(&bin)
        .arg("-p")
        .arg("example.com")
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "nsd-checkzone refused the zone:\n{}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("zone example.com is ok"));
    // NSD prints the zone back in its own layout (its own $ORIGIN lines,
    // omitted owners, explicit TTLs); reading that must give the same zone,
    // which shows NSD understood every record exactly as we meant it.
    let reread = parse_zone(&z.origin, &stdout, ParseOptions::default()).unwrap();
    let mut expected = normalized(z);
    let reread = normalized(reread);
    // NSD's printout has no $TTL line, so only the default TTL may differ.
    expected.default_ttl = reread.default_ttl;
    assert_eq!(reread, expected);
}

#[test]
fn nsd_checkzone_rejects_what_we_reject() {
    // Sanity check that the NSD test above would notice a broken file.
    let bin = nsd_checkzone();
    let file = std::env::temp_dir().join(format!("dnszone-nsd-bad-{}.zone", std::process::id()));
    std::fs::write(&file, "$TTL 1h\nwww IN A 192.0.2.1\n").unwrap();
    let out = Command::new(&bin)
        .arg("example.com")
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(!out.status.success());
}

// ---------------------------------------------------------------------------
// Property test: any zone we can represent renders to text that parses back
// to the same zone.

fn label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-z0-9_-]{1,12}".prop_map(String::into_bytes),
        1 => Just(b"*".to_vec()),
        // Arbitrary octets exercise every escape (\., \\, \DDD, \@, \$ …).
        1 => prop::collection::vec(any::<u8>(), 1..8),
    ]
}

fn name_under(origin: Name) -> impl Strategy<Value = Name> {
    prop::collection::vec(label(), 0..3).prop_filter_map("name too long", move |labels| {
        let mut all = labels;
        all.extend(origin.labels().map(<[u8]>::to_vec));
        Name::from_labels(all).ok()
    })
}

fn any_name() -> impl Strategy<Value = Name> {
    prop::collection::vec(label(), 0..4)
        .prop_filter_map("name too long", |l| Name::from_labels(l).ok())
}

fn ttl() -> impl Strategy<Value = Ttl> {
    prop_oneof![
        Just(Ttl(3600)),
        Just(Ttl(300)),
        (0..=Ttl::MAX).prop_map(Ttl)
    ]
}

fn rdata() -> impl Strategy<Value = RData> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| RData::A(o.into())),
        any::<[u8; 16]>().prop_map(|o| RData::Aaaa(o.into())),
        any_name().prop_map(RData::Cname),
        any_name().prop_map(RData::Ns),
        any_name().prop_map(RData::Ptr),
        (any::<u16>(), any_name()).prop_map(|(preference, exchange)| RData::Mx {
            preference,
            exchange
        }),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..=255), 1..4)
            .prop_map(RData::Txt),
        (any::<u16>(), any::<u16>(), any::<u16>(), any_name()).prop_map(
            |(priority, weight, port, target)| RData::Srv {
                priority,
                weight,
                port,
                target
            }
        ),
        (
            any::<u8>(),
            "[a-z0-9]{1,15}",
            prop::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(flags, tag, value)| RData::Caa { flags, tag, value }),
    ]
}

fn zone() -> impl Strategy<Value = Zone> {
    let origins = prop_oneof![
        Just(n("example.com.")),
        Just(n("2.0.192.in-addr.arpa.")),
        Just(n("xn--bcher-kva.example.")),
    ];
    origins.prop_flat_map(|origin| {
        let records =
            prop::collection::vec(
                (name_under(origin.clone()), ttl(), rdata())
                    .prop_map(|(owner, ttl, rdata)| Record { owner, ttl, rdata }),
                0..25,
            );
        let soa = (
            any_name(),
            any_name(),
            any::<u32>(),
            [0..=Ttl::MAX, 0..=Ttl::MAX, 0..=Ttl::MAX, 0..=Ttl::MAX],
        )
            .prop_map(|(mname, rname, serial, t)| Soa {
                mname,
                rname,
                serial,
                refresh: t[0],
                retry: t[1],
                expire: t[2],
                minimum: t[3],
            });
        (Just(origin), ttl(), ttl(), soa, records).prop_map(
            |(origin, default_ttl, soa_ttl, soa, records)| Zone {
                origin,
                default_ttl,
                soa_ttl,
                soa,
                records,
            },
        )
    })
}

proptest! {
    // Bounded so the suite stays quick on a shared 2-core machine.
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn render_parse_round_trip(z in zone()) {
        let back = round_trip(&z);
        prop_assert_eq!(normalized(back), normalized(z));
    }

    #[test]
    fn names_survive_presentation(name in any_name()) {
        prop_assert_eq!(Name::parse(name.as_str()).unwrap(), name);
    }

    #[test]
    fn canonical_key_matches_order(a in any_name(), b in any_name()) {
        prop_assert_eq!(a.canonical_key().cmp(&b.canonical_key()), a.cmp(&b));
    }

    #[test]
    fn txt_input_never_exceeds_255(s in ".{0,700}") {
        if let Ok(strings) = txt_from_input(&s) {
            prop_assert!(strings.iter().all(|x| x.len() <= 255));
        }
    }
}

proptest! {
    // Each case starts a process, so keep the count small.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Generated zones that pass our validation are accepted by NSD, and
    /// NSD reads every record exactly as we do.
    #[test]
    fn nsd_agrees_on_generated_zones(z in zone()) {
        let bin = nsd_checkzone();
        prop_assume!(validate_zone(&z).is_empty());
        let file = std::env::temp_dir().join(format!(
            "dnszone-nsd-prop-{}-{:?}.zone",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&file, render_zone(&z)).unwrap();
        let origin = z.origin.to_string();
        let out = Command::new(&bin).arg("-p").arg(&origin).arg(&file).output().unwrap();
        std::fs::remove_file(&file).unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        prop_assert!(
            out.status.success(),
            "nsd-checkzone refused:\n{}{}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr),
            render_zone(&z)
        );
        let reread = parse_zone(&z.origin, &stdout, ParseOptions::default());
        prop_assert!(reread.is_ok(), "cannot read NSD's output: {:?}\n{}", reread, stdout);
        let Ok(reread) = reread else { return Ok(()) };
        let mut expected = normalized(z);
        let mut reread = normalized(reread);
        expected.default_ttl = Ttl(0);
        reread.default_ttl = Ttl(0);
        // NSD collapses exact duplicate records, which validation refuses
        // anyway, so compare after removing them.
        expected.records.dedup_by(|a, b| a.owner == b.owner && a.rdata == b.rdata);
        prop_assert_eq!(reread, expected);
    }
}
