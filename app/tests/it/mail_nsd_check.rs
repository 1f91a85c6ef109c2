#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "ssr")]
//! The readiness check against a real authoritative server (NSD on
//! 127.0.0.1, random high port) through the hickory resolver: proves the
//! live DNS path (UDP/TCP to a custom port, NXDOMAIN vs. data, multi-string
//! TXT joining, PTR) and not just the in-memory fake.
//!
//! Ignored by default; run with `cargo test -- --ignored` on a machine
//! with `nsd` installed (`apt-get install -y nsd`).

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use app::mail::check::{check, CheckOptions, DnsResolver, HickoryDns, ResolverSettings, Status};
use app::mail::records::dkim::{generate_rsa, DkimKeyPair};
use app::mail::records::to_zone_txt;

fn dkim_key() -> &'static DkimKeyPair {
    static KEY: OnceLock<DkimKeyPair> = OnceLock::new();
    // RSA-2048: its record is longer than one TXT string, so this also
    // checks that the resolver joins character-strings.
    KEY.get_or_init(|| generate_rsa(2048).expect("RSA key"))
}

fn soa(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 60\n@ IN SOA ns1.good.test. hostmaster.good.test. 1 3600 600 \
         86400 60\n@ IN NS ns1.good.test.\n"
    )
}

fn zones() -> Vec<(&'static str, String)> {
    let good = format!(
        "{}ns1 IN A 127.0.0.1\n\
         @ IN MX 10 mail.good.test.\n\
         mail IN A 192.0.2.10\n\
         @ IN TXT \"v=spf1 mx -all\"\n\
         @ IN TXT \"google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U\"\n\
         mail._domainkey IN TXT {}\n\
         _dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\"\n",
        soa("good.test"),
        to_zone_txt(&dkim_key().record)
    );
    // Everything figure 3 punishes: no PTR for the address, an SPF record
    // that leaves the server out, and a blocklisted address.
    let broken = format!(
        "{}@ IN MX 10 mail.broken.test.\n\
         mail IN A 192.0.2.66\n\
         @ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n\
         _dmarc IN TXT \"v=DMARC1; p=none\"\n",
        soa("broken.test")
    );
    let reverse = format!("{}10 IN PTR mail.good.test.\n", soa("2.0.192.in-addr.arpa"));
    let blocklist = format!(
        "{}66.2.0.192 IN A 127.0.0.2\n\
         66.2.0.192 IN TXT \"listed for testing\"\n\
         77.2.0.192 IN A 127.255.255.254\n",
        soa("bl.test")
    );
    vec![
        ("good.test", good),
        ("broken.test", broken),
        ("2.0.192.in-addr.arpa", reverse),
        ("bl.test", blocklist),
    ]
}

/// The shared NSD fixture serving [`zones`]; stopped (and its directory
/// removed) on drop, so a failing assertion never leaves a server behind.
struct Nsd(app::testing::nsd::Nsd);

impl Nsd {
    fn start() -> Nsd {
        let zones: Vec<(String, String)> = zones()
            .into_iter()
            .map(|(origin, text)| (origin.to_string(), text))
            .collect();
        Nsd(app::testing::nsd::Nsd::serving(&zones))
    }

    fn resolver(&self) -> HickoryDns {
        HickoryDns::new(&ResolverSettings {
            nameserver: Some(self.0.addr()),
            timeout: Duration::from_secs(2),
            attempts: 1,
        })
        .expect("resolver")
    }
}

fn options(nsd: &Nsd, dkim: bool) -> CheckOptions<HickoryDns> {
    let mut opts = CheckOptions::new(nsd.resolver());
    opts.dnsbl_zones = vec!["bl.test".to_string()];
    if dkim {
        opts.dkim = vec![(
            "mail".to_string(),
            Some(dkim_key().private_key.pem().to_string()),
        )];
    }
    opts
}

#[tokio::test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y nsd"]
async fn resolver_reads_live_records() {
    let nsd = Nsd::start();
    let dns = nsd.resolver();
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    assert_eq!(
        dns.ptr(ip).await.unwrap(),
        vec!["mail.good.test".to_string()]
    );
    let mx = dns.mx("good.test").await.unwrap();
    assert_eq!(
        (mx[0].preference, mx[0].exchange.as_str()),
        (10, "mail.good.test")
    );
    let dkim = dns.txt("mail._domainkey.good.test").await.unwrap();
    assert_eq!(
        dkim,
        vec![dkim_key().record.clone()],
        "TXT strings must be joined"
    );
    assert_eq!(
        dns.a("nothing.good.test").await,
        Err(app::mail::check::LookupError::NotFound)
    );
    // NODATA (name exists, no AAAA) is "nothing there" too.
    assert_eq!(
        dns.aaaa("mail.good.test").await,
        Err(app::mail::check::LookupError::NotFound)
    );
    assert_eq!(
        dns.a("66.2.0.192.bl.test").await.unwrap(),
        vec!["127.0.0.2".parse::<std::net::Ipv4Addr>().unwrap()]
    );
}

#[tokio::test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y nsd"]
async fn good_domain_passes_over_real_dns() {
    let nsd = Nsd::start();
    let report = check("good.test", None, None, &options(&nsd, true)).await;
    assert!(report.all_passed(), "{report:#?}");
    assert_eq!(report.mail_host.as_deref(), Some("mail.good.test"));
    assert_eq!(report.mail_ip, Some("192.0.2.10".parse().unwrap()));
    let dkim = report.item("dkim:mail").unwrap();
    assert_eq!(
        dkim.detail,
        "mail._domainkey.good.test publishes a valid 2048-bit RSA key, matching the stored \
         private key"
    );
    assert_eq!(
        report.item("dnsbl:bl.test").unwrap().detail,
        "192.0.2.10 is not listed on bl.test"
    );
}

#[tokio::test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y nsd"]
async fn broken_domain_names_each_failure() {
    let nsd = Nsd::start();
    let report = check("broken.test", None, None, &options(&nsd, false)).await;
    assert!(!report.all_passed());
    assert_eq!(report.mail_ip, Some("192.0.2.66".parse().unwrap()));
    let status = |id: &str| report.item(id).map(|i| i.status);
    assert_eq!(status("host-address"), Some(Status::Pass));
    assert_eq!(status("mx"), Some(Status::Pass));

    let ptr = report.item("ptr").unwrap();
    assert_eq!(ptr.status, Status::Fail);
    assert_eq!(
        ptr.detail,
        "192.0.2.66 has no PTR record; receiving servers trace the sending address back to a \
         name and reject or spam-file mail from addresses without one"
    );
    assert!(ptr.fix.as_deref().unwrap().contains(
        "ask them to set the PTR record `66.2.0.192.in-addr.arpa. IN PTR mail.broken.test.`"
    ));

    let spf = report.item("spf").unwrap();
    assert_eq!(spf.status, Status::Fail);
    assert!(
        spf.detail.starts_with(
            "`v=spf1 ip4:192.0.2.10 -all` does not authorise the mail server 192.0.2.66 \
             (result fail)"
        ),
        "{}",
        spf.detail
    );
    assert_eq!(
        spf.fix.as_deref(),
        Some(
            "Add ip4:192.0.2.66 to the record: `broken.test. IN TXT \"v=spf1 ip4:192.0.2.66 \
             ip4:192.0.2.10 -all\"`."
        )
    );

    let bl = report.item("dnsbl:bl.test").unwrap();
    assert_eq!(bl.status, Status::Fail);
    assert_eq!(
        bl.detail,
        "192.0.2.66 is listed on bl.test (return code 127.0.0.2)"
    );

    // p=none is valid: DMARC is not among the failures.
    assert_eq!(status("dmarc"), Some(Status::Pass));
    let failed: Vec<&str> = report.problems().map(|i| i.id.as_str()).collect();
    assert_eq!(failed, ["ptr", "spf", "dnsbl:bl.test"]);
}

#[tokio::test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y nsd"]
async fn blocklist_error_answer_over_real_dns() {
    let nsd = Nsd::start();
    let ip: IpAddr = "192.0.2.77".parse().unwrap();
    let report = check("good.test", None, Some(ip), &options(&nsd, false)).await;
    let bl = report.item("dnsbl:bl.test").unwrap();
    assert_eq!(bl.status, Status::Warn, "{bl:#?}");
    assert!(bl
        .detail
        .starts_with("bl.test answered 127.255.255.254, which is an error"));
    // The given address is not the host's: named, with the record to fix.
    assert_eq!(report.item("host-address").unwrap().status, Status::Fail);
}

#[tokio::test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y nsd"]
async fn json_report_for_the_console() {
    let nsd = Nsd::start();
    let report = check("broken.test", None, None, &options(&nsd, false)).await;
    let json = serde_json::to_string(&report).unwrap();
    let back: app::mail::check::Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(json.contains("\"status\":\"fail\""));
}
