//! Tests for the SPF module: RFC 7208 Appendix A, the paper's Table 1
//! record, broken inputs with the exact messages users see, lookup counting
//! and `check_host()` through the in-memory resolver.

use super::*;
use crate::mail::check::StaticDns;
use crate::mail::records::Severity;
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn messages(record: &str) -> Vec<(Severity, String)> {
    validate_spf(record)
        .into_iter()
        .map(|d| (d.severity, d.message))
        .collect()
}

fn one_error(record: &str) -> String {
    let diags = validate_spf(record);
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{record}: {diags:?}");
    // parse() must agree with validate_spf() on the first error.
    assert_eq!(
        SpfRecord::parse(record).unwrap_err().to_string(),
        errors[0].message
    );
    errors[0].message.clone()
}

// --- RFC 7208 Appendix A -------------------------------------------------

/// The zone of RFC 7208 Appendix A.
fn rfc_zone() -> StaticDns {
    StaticDns::new()
        .with_mx("example.com", 10, "mail-a.example.com")
        .with_mx("example.com", 10, "mail-b.example.com")
        .with_addr("example.com", ip("192.0.2.10"))
        .with_addr("example.com", ip("192.0.2.11"))
        .with_addr("amy.example.com", ip("192.0.2.65"))
        .with_addr("bob.example.com", ip("192.0.2.66"))
        .with_addr("mail-a.example.com", ip("192.0.2.129"))
        .with_addr("mail-b.example.com", ip("192.0.2.130"))
        .with_addr("www.example.com", ip("192.0.2.10"))
        .with_addr("www.example.com", ip("192.0.2.11"))
        .with_mx("example.org", 10, "mail-c.example.org")
        .with_addr("mail-c.example.org", ip("192.0.2.140"))
        .with_ptr(ip("192.0.2.10"), "example.com")
        .with_ptr(ip("192.0.2.11"), "example.com")
        .with_ptr(ip("192.0.2.65"), "amy.example.com")
        .with_ptr(ip("192.0.2.66"), "bob.example.com")
        .with_ptr(ip("192.0.2.129"), "mail-a.example.com")
        .with_ptr(ip("192.0.2.130"), "mail-b.example.com")
        .with_ptr(ip("192.0.2.140"), "mail-c.example.org")
        .with_ptr(ip("10.0.0.4"), "bob.example.com")
}

async fn outcome(record: &str, addr: &str) -> SpfOutcome {
    authorises_ip(record, ip(addr), "example.com", &rfc_zone())
        .await
        .outcome
}

/// Asserts which of the given addresses pass; all others must fail.
async fn assert_passes(record: &str, pass: &[&str], fail: &[&str]) {
    for a in pass {
        assert_eq!(
            outcome(record, a).await,
            SpfOutcome::Pass,
            "{record} with {a}"
        );
    }
    for a in fail {
        assert_eq!(
            outcome(record, a).await,
            SpfOutcome::Fail,
            "{record} with {a}"
        );
    }
}

#[tokio::test]
async fn rfc7208_a1_simple_examples() {
    let r = authorises_ip("v=spf1 +all", ip("203.0.113.9"), "example.com", &rfc_zone()).await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("all"))
    );

    assert_passes(
        "v=spf1 a -all",
        &["192.0.2.10", "192.0.2.11"],
        &["192.0.2.65", "192.0.2.129"],
    )
    .await;
    assert_passes(
        "v=spf1 a:example.org -all",
        &[],
        &["192.0.2.10", "192.0.2.140"],
    )
    .await;
    assert_passes(
        "v=spf1 mx -all",
        &["192.0.2.129", "192.0.2.130"],
        &["192.0.2.10", "192.0.2.140"],
    )
    .await;
    assert_passes(
        "v=spf1 mx:example.org -all",
        &["192.0.2.140"],
        &["192.0.2.129"],
    )
    .await;
    assert_passes(
        "v=spf1 mx mx:example.org -all",
        &["192.0.2.129", "192.0.2.130", "192.0.2.140"],
        &["192.0.2.10"],
    )
    .await;
    assert_passes(
        "v=spf1 mx/30 mx:example.org/30 -all",
        &["192.0.2.128", "192.0.2.131", "192.0.2.141", "192.0.2.143"],
        &["192.0.2.127", "192.0.2.132", "192.0.2.144"],
    )
    .await;
    assert_passes(
        "v=spf1 ptr -all",
        &[
            "192.0.2.10",
            "192.0.2.11",
            "192.0.2.65",
            "192.0.2.66",
            "192.0.2.129",
            "192.0.2.130",
        ],
        // .140's name is outside example.com; bob.example.com does not
        // resolve back to 10.0.0.4.
        &["192.0.2.140", "10.0.0.4"],
    )
    .await;
    assert_passes(
        "v=spf1 ip4:192.0.2.128/28 -all",
        &["192.0.2.128", "192.0.2.143"],
        &["192.0.2.127", "192.0.2.144"],
    )
    .await;
}

#[tokio::test]
async fn rfc7208_a2_multiple_domains_with_redirect() {
    let zone = rfc_zone()
        .with_txt(
            "example.org",
            "v=spf1 include:example.com include:example.net -all",
        )
        .with_txt("la.example.org", "v=spf1 redirect=example.org")
        .with_txt("example.com", "v=spf1 a mx -all")
        .with_txt("example.net", "v=spf1 ip4:198.51.100.0/24 -all");
    let la = "v=spf1 redirect=example.org";
    let r = authorises_ip(la, ip("198.51.100.7"), "la.example.org", &zone).await;
    assert_eq!(r.outcome, SpfOutcome::Pass);
    assert_eq!(r.term.as_deref(), Some("include:example.net"));
    assert_eq!(r.domain, "example.org");
    // redirect, include:example.com (whose a and mx are evaluated too),
    // include:example.net.
    assert_eq!(r.lookups, 5);

    let r = authorises_ip(la, ip("192.0.2.129"), "la.example.org", &zone).await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("include:example.com"))
    );

    let r = authorises_ip(la, ip("203.0.113.1"), "la.example.org", &zone).await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Fail, Some("-all"))
    );
    assert_eq!(
        r.reason,
        "203.0.113.1 matched \"-all\" in the SPF record of example.org: fail"
    );
}

#[test]
fn rfc7208_a_records_validate_cleanly() {
    for r in [
        "v=spf1 a -all",
        "v=spf1 a:example.org -all",
        "v=spf1 mx -all",
        "v=spf1 mx:example.org -all",
        "v=spf1 mx mx:example.org -all",
        "v=spf1 mx/30 mx:example.org/30 -all",
        "v=spf1 ip4:192.0.2.128/28 -all",
        "v=spf1 include:example.com include:example.net -all",
        "v=spf1 redirect=example.org",
        "v=spf1 mx -all exp=explain._spf.%{d}",
        "v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
    ] {
        let diags = validate_spf(r);
        assert!(
            diags.iter().all(|d| d.severity != Severity::Error),
            "{r}: {diags:?}"
        );
    }
}

#[test]
fn rfc7208_section_7_4_macro_examples() {
    let zone = StaticDns::new();
    let ev = |addr: &str| Evaluator {
        resolver: &zone,
        ip: ip(addr),
        sender_local: "strong-bad".into(),
        sender_domain: "email.example.com".into(),
        lookups: 0,
        void_lookups: 0,
    };
    let v4 = ev("192.0.2.3");
    let d = "email.example.com";
    let cases = [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        (
            "%{ir}.%{v}._spf.%{d2}",
            "3.2.0.192.in-addr._spf.example.com",
        ),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        (
            "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
        ),
        (
            "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
            "3.2.0.192.in-addr.strong.lp._spf.example.com",
        ),
        (
            "%{d2}.trusted-domains.example.net",
            "example.com.trusted-domains.example.net",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(v4.expand(d, spec).unwrap(), want, "{spec}");
    }
    let v6 = ev("2001:db8::cb01");
    assert_eq!(
        v6.expand(d, "%{ir}.%{v}._spf.%{d2}").unwrap(),
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    );
}

#[tokio::test]
async fn exists_with_macros_matches_through_a_lookup() {
    let zone = StaticDns::new().with_addr("3.2.0.192.in-addr._spf.example.com", ip("127.0.0.2"));
    let rec = "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all";
    let r = authorises_ip(rec, ip("192.0.2.3"), "email.example.com", &zone).await;
    assert_eq!(r.outcome, SpfOutcome::Pass);
    assert_eq!(r.term.as_deref(), Some("exists:%{ir}.%{v}._spf.%{d2}"));
    let r = authorises_ip(rec, ip("192.0.2.4"), "email.example.com", &zone).await;
    assert_eq!(r.outcome, SpfOutcome::Fail);
}

// --- The paper's Table 1 record ------------------------------------------

const PAPER_SPF: &str = "v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all";

fn anydomain_zone() -> StaticDns {
    StaticDns::new()
        .with_txt("anydomain.com", PAPER_SPF)
        .with_addr("anydomain.com", ip("1.2.3.4"))
        .with_mx("anydomain.com", 10, "mail.anydomain.com")
        .with_addr("mail.anydomain.com", ip("1.2.3.5"))
        .with_txt("mail.anydomain.com", "v=spf1 ip4:1.2.3.7 -all")
}

#[test]
fn paper_record_parses_and_round_trips_canonically() {
    let rec = SpfRecord::parse(PAPER_SPF).unwrap();
    assert_eq!(rec.terms.len(), 6);
    assert_eq!(
        rec.terms[3],
        Term::Directive(Directive {
            qualifier: Qualifier::Pass,
            mechanism: Mechanism::Ip4 {
                network: Ip4Net::host(Ipv4Addr::new(1, 2, 3, 6))
            }
        })
    );
    assert_eq!(
        rec.to_string(),
        "v=spf1 a mx ptr ip4:1.2.3.6 include:mail.anydomain.com ~all"
    );
    assert_eq!(rec.direct_lookups(), 4);
}

#[test]
fn paper_record_only_warns_about_ptr() {
    assert_eq!(
        messages(PAPER_SPF),
        vec![(
            Severity::Warning,
            "\"+ptr\": RFC 7208 §5.5 says the ptr mechanism SHOULD NOT be used (it is slow, \
             unreliable and some receivers skip it); list your sending servers with ip4:, ip6:, \
             a or mx instead"
                .to_string()
        )]
    );
}

#[tokio::test]
async fn paper_record_check_host() {
    let zone = anydomain_zone();
    let check = |addr: &str| authorises_ip(PAPER_SPF, ip(addr), "anydomain.com", &zone);
    let r = check("1.2.3.4").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("a"))
    );
    let r = check("1.2.3.5").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("mx"))
    );
    let r = check("1.2.3.6").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("ip4:1.2.3.6"))
    );
    // a, mx and ptr were each evaluated (and counted) before ip4 matched.
    assert_eq!(r.lookups, 3);
    let r = check("1.2.3.7").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("include:mail.anydomain.com"))
    );
    let r = check("9.9.9.9").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::SoftFail, Some("~all"))
    );
    assert_eq!(
        r.reason,
        "9.9.9.9 matched \"~all\" in the SPF record of anydomain.com: softfail"
    );
    assert_eq!(r.lookups, 4);
}

#[tokio::test]
async fn paper_record_lookup_count() {
    let count = count_lookups(PAPER_SPF, &anydomain_zone()).await.unwrap();
    assert_eq!(count.total, 4);
    assert!(count.within_limit());
    assert_eq!(count.summary(), "4 lookups, within the limit of 10");
    // A full resolver can be handed to count_lookups as-is.
    fn full<R: SpfResolver>(resolver: R) -> R {
        resolver
    }
    let zone = full(anydomain_zone());
    assert_eq!(count_lookups(PAPER_SPF, &zone).await.unwrap().total, 4);
}

// --- Broken inputs: the exact messages -----------------------------------

#[test]
fn version_errors() {
    assert_eq!(
        one_error("v=spf2.0/pra ip4:192.0.2.1 -all"),
        "the record must start with \"v=spf1\" but starts with \"v=spf2.0/pra\""
    );
    assert_eq!(
        one_error("\"v=spf1 -all\""),
        "the record must start with \"v=spf1\" but starts with \"\"v=spf1\"; remove the \
         quotation marks, they belong to the zone file, not the record"
    );
    assert_eq!(
        one_error(""),
        "the record is empty; an SPF record starts with \"v=spf1\""
    );
    // "v=spf10" is not version 1 followed by a term.
    assert!(SpfRecord::parse("v=spf10 -all").is_err());
    // Version matching is case-insensitive, like all ABNF literals.
    assert!(SpfRecord::parse("V=SPF1 -ALL").is_ok());
}

#[test]
fn mechanism_errors() {
    assert_eq!(
        one_error("v=spf1 ipv4:192.0.2.1 -all"),
        "unknown mechanism \"ipv4:192.0.2.1\"; SPF understands all, include, a, mx, ptr, ip4, \
         ip6 and exists"
    );
    assert_eq!(
        one_error("v=spf1 ip4:192.0.2.256 -all"),
        "\"ip4:192.0.2.256\": \"192.0.2.256\" is not a valid IPv4 address; write e.g. \
         ip4:192.0.2.10 or ip4:192.0.2.0/24"
    );
    assert_eq!(
        one_error("v=spf1 ip4:2001:db8::1 -all"),
        "\"ip4:2001:db8::1\": \"2001:db8::1\" is not a valid IPv4 address; write e.g. \
         ip4:192.0.2.10 or ip4:192.0.2.0/24"
    );
    assert_eq!(
        one_error("v=spf1 ip4:192.0.2.0/33 -all"),
        "\"ip4:192.0.2.0/33\": /33 is not a valid IPv4 prefix length; use /0 to /32 without \
         leading zeros"
    );
    assert_eq!(
        one_error("v=spf1 ip4:192.0.2.0/024 -all"),
        "\"ip4:192.0.2.0/024\": /024 is not a valid IPv4 prefix length; use /0 to /32 without \
         leading zeros"
    );
    assert_eq!(
        one_error("v=spf1 ip6:2001:db8::/129 -all"),
        "\"ip6:2001:db8::/129\": /129 is not a valid IPv6 prefix length; use /0 to /128 \
         without leading zeros"
    );
    assert_eq!(
        one_error("v=spf1 mx//129 -all"),
        "\"mx//129\": /129 is not a valid IPv6 prefix length; use /0 to /128 without leading \
         zeros"
    );
    assert_eq!(
        one_error("v=spf1 ip4 -all"),
        "\"ip4\" needs an IPv4 address, e.g. ip4:192.0.2.10 or ip4:192.0.2.0/24"
    );
    assert_eq!(
        one_error("v=spf1 include: -all"),
        "\"include:\" needs a domain, e.g. include:_spf.example.com"
    );
    assert_eq!(
        one_error("v=spf1 redirect="),
        "\"redirect=\" needs a domain, e.g. redirect=_spf.example.com"
    );
    assert_eq!(
        one_error("v=spf1 include:localhost -all"),
        "\"include:localhost\": \"localhost\" is not a fully qualified domain name; write the \
         whole name, e.g. localhost.example.com"
    );
    assert_eq!(
        one_error("v=spf1 a:mail..example.com -all"),
        "\"a:mail..example.com\": \"mail..example.com\" has an empty label (two dots in a row \
         or a leading dot)"
    );
    assert_eq!(
        one_error("v=spf1 exists:%{x}.example.com -all"),
        "\"exists:%{x}.example.com\": \"%{x}\" is not a valid macro; macros look like %{d} or \
         %{ir}, and a literal % is written %%"
    );
    assert_eq!(
        one_error("v=spf1 all:example.com"),
        "\"all:example.com\": all takes no domain or prefix length; write just all"
    );
    assert_eq!(
        one_error("v=spf1 +redirect=example.com"),
        "\"+redirect=example.com\": a modifier cannot take a + - ~ ? qualifier; remove it"
    );
}

#[test]
fn duplicate_modifiers_are_errors() {
    assert_eq!(
        one_error("v=spf1 redirect=a.example.com redirect=b.example.com"),
        "the redirect= modifier appears more than once; RFC 7208 §6 allows it only once, so \
         keep a single redirect="
    );
    assert_eq!(
        one_error("v=spf1 -all exp=a.example.com exp=b.example.com"),
        "the exp= modifier appears more than once; RFC 7208 §6 allows it only once, so keep a \
         single exp="
    );
}

#[test]
fn every_error_is_reported_in_record_order() {
    let diags = messages("v=spf1 foo ip4:1.2.3.4/40 -all");
    assert_eq!(diags.len(), 2);
    assert!(diags[0].1.starts_with("unknown mechanism \"foo\""));
    assert!(diags[1].1.starts_with("\"ip4:1.2.3.4/40\": /40"));
}

#[test]
fn terms_after_all_are_flagged() {
    assert_eq!(
        messages("v=spf1 -all mx ip4:192.0.2.1"),
        vec![(
            Severity::Warning,
            "\"mx\", \"ip4:192.0.2.1\" after \"-all\" are never evaluated; move them before \
             \"-all\""
                .to_string()
        )]
    );
    assert_eq!(
        messages("v=spf1 ~all a"),
        vec![(
            Severity::Warning,
            "\"a\" after \"~all\" is never evaluated; move it before \"~all\"".to_string()
        )]
    );
    // A modifier after all is fine (exp= is conventionally last).
    assert_eq!(messages("v=spf1 mx -all exp=explain.example.com"), vec![]);
}

#[test]
fn redirect_with_all_is_flagged() {
    assert_eq!(
        messages("v=spf1 mx -all redirect=_spf.example.com"),
        vec![(
            Severity::Warning,
            "redirect=_spf.example.com is ignored because the record has \"-all\" (RFC 7208 \
             §6.1); remove one of them"
                .to_string()
        )]
    );
}

#[test]
fn risky_and_incomplete_records_get_advice() {
    assert_eq!(
        messages("v=spf1 +all"),
        vec![(
            Severity::Warning,
            "\"+all\" lets every host on the internet send mail as this domain; use \"~all\" or \
             \"-all\""
                .to_string()
        )]
    );
    assert_eq!(
        messages("v=spf1 mx"),
        vec![(
            Severity::Info,
            "the record has no \"all\" and no redirect=, so mail from servers it does not list \
             gets \"neutral\"; end it with \"~all\" or \"-all\""
                .to_string()
        )]
    );
    let typo = messages("v=spf1 redirct=_spf.example.com");
    assert_eq!(typo.len(), 2);
    assert_eq!(
        typo[0],
        (
            Severity::Warning,
            "unknown modifier \"redirct=_spf.example.com\" is ignored by receivers; check the \
             spelling (SPF defines redirect= and exp=)"
                .to_string()
        )
    );
    assert_eq!(typo[1].0, Severity::Info);
    assert_eq!(
        messages("v=spf1 ip4:192.0.2.7/24 -all"),
        vec![(
            Severity::Info,
            "\"ip4:192.0.2.7/24\" has host bits set; it covers the whole network 192.0.2.0/24"
                .to_string()
        )]
    );
}

#[test]
fn long_record_needs_splitting() {
    let ips: Vec<String> = (1..=20).map(|i| format!("ip4:198.51.100.{i}")).collect();
    let record = format!("v=spf1 {} -all", ips.join(" "));
    assert_eq!(record.len(), 362);
    assert_eq!(
        messages(&record),
        vec![(
            Severity::Info,
            "the record is 362 octets; one TXT string holds at most 255, so publish it as 2 \
             quoted strings in one TXT record (receivers join them without spaces)"
                .to_string()
        )]
    );
}

#[test]
fn too_many_direct_lookups() {
    let includes: Vec<String> = (1..=11)
        .map(|i| format!("include:s{i}.example.com"))
        .collect();
    let record = format!("v=spf1 {} -all", includes.join(" "));
    assert_eq!(
        one_error_unparsed(&record),
        "the record needs 11 DNS lookups; the limit is 10 (RFC 7208 §4.6.4), so replace some \
         a/mx/include terms with ip4:/ip6:"
    );
}

/// For errors that only validation (not parsing) finds.
fn one_error_unparsed(record: &str) -> String {
    let errors: Vec<_> = validate_spf(record)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].message.clone()
}

#[test]
fn more_than_one_spf_record_at_a_name() {
    let txts = [
        "v=spf1 mx -all",
        "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U",
        "v=spf1 a -all",
    ];
    assert_eq!(
        validate_spf_records(&txts),
        vec![Diagnostic::error(
            "found 2 SPF records at this name; receivers treat more than one as a permanent \
             error (RFC 7208 §4.5), so merge them into a single v=spf1 record"
        )]
    );
    assert_eq!(
        select_spf_record(&txts[1..2]).unwrap(),
        None,
        "a verification token is not an SPF record"
    );
    assert_eq!(
        select_spf_record(&txts[..2]).unwrap(),
        Some("v=spf1 mx -all")
    );
    assert_eq!(
        validate_spf_records(&txts[1..2]),
        vec![Diagnostic::warning(
            "no SPF record (a TXT record starting with \"v=spf1\") is published at this name, \
             so receivers cannot tell which servers may send its mail"
        )]
    );
    assert_eq!(validate_spf_records(&[PAPER_SPF]).len(), 1);
}

#[test]
fn dual_cidr_and_macro_slashes() {
    let rec =
        SpfRecord::parse("v=spf1 a/24//64 mx:example.com//48 a:%{l/}.example.com -all").unwrap();
    assert_eq!(
        rec.terms[0],
        Term::Directive(Directive {
            qualifier: Qualifier::Pass,
            mechanism: Mechanism::A {
                domain: None,
                cidr4: Some(24),
                cidr6: Some(64)
            }
        })
    );
    assert_eq!(rec.terms[1].to_string(), "mx:example.com//48");
    assert_eq!(rec.terms[2].to_string(), "a:%{l/}.example.com");
}

// --- Builder -------------------------------------------------------------

#[test]
fn builder_produces_valid_record_in_evaluation_order() {
    let b = SpfBuilder {
        a: true,
        mx: true,
        ip4: vec![Ip4Net::host(Ipv4Addr::new(1, 2, 3, 6))],
        ip6: vec![Ip6Net::new("2001:db8::".parse().unwrap(), 32).unwrap()],
        include: vec!["mail.anydomain.com".into()],
        all: Qualifier::SoftFail,
    };
    let rec = b.build().unwrap();
    assert_eq!(
        rec,
        "v=spf1 ip4:1.2.3.6 ip6:2001:db8::/32 a mx include:mail.anydomain.com ~all"
    );
    assert_eq!(validate_spf(&rec), vec![]);
    assert_eq!(
        SpfBuilder::new(Qualifier::Fail).build().unwrap(),
        "v=spf1 -all"
    );
}

#[test]
fn builder_refuses_bad_input() {
    assert_eq!(
        SpfBuilder::new(Qualifier::Pass).build(),
        Err(SpfError::PassAll)
    );
    let mut b = SpfBuilder::new(Qualifier::Fail);
    b.include = vec!["not a domain".into()];
    assert_eq!(
        b.build().unwrap_err().to_string(),
        "\"include:not a domain\": the domain contains ' '; only visible ASCII is allowed (use \
         the punycode xn-- form for international names)"
    );
    let mut b = SpfBuilder::new(Qualifier::Fail);
    b.mx = true;
    b.include = (1..=10).map(|i| format!("s{i}.example.com")).collect();
    assert_eq!(b.build(), Err(SpfError::TooManyLookups { count: 11 }));
    // Public fields can hold an impossible prefix; build() must catch it.
    let mut b = SpfBuilder::new(Qualifier::Fail);
    b.ip4 = vec![Ip4Net {
        addr: Ipv4Addr::new(192, 0, 2, 0),
        prefix: 40,
    }];
    assert!(matches!(b.build(), Err(SpfError::BadCidr { .. })));
    assert!(Ip4Net::new(Ipv4Addr::LOCALHOST, 33).is_err());
    assert!(Ip6Net::new(Ipv6Addr::LOCALHOST, 129).is_err());
}

proptest! {
    #[test]
    fn built_records_always_parse_and_validate(
        a in any::<bool>(),
        mx in any::<bool>(),
        nets in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..30),
        all in prop_oneof![Just(Qualifier::Fail), Just(Qualifier::SoftFail), Just(Qualifier::Neutral)],
    ) {
        let mut b = SpfBuilder::new(all);
        b.a = a;
        b.mx = mx;
        b.ip4 = nets.iter().map(|(addr, p)| Ip4Net { addr: Ipv4Addr::from(*addr), prefix: *p }).collect();
        let rec = b.build().unwrap();
        let parsed = SpfRecord::parse(&rec).unwrap();
        prop_assert_eq!(parsed.to_string(), rec.clone());
        prop_assert!(crate::mail::records::is_valid(&validate_spf(&rec)));
    }

    #[test]
    fn ip4_contains_agrees_with_masking(addr in any::<u32>(), other in any::<u32>(), prefix in 0u8..=32) {
        let net = Ip4Net { addr: Ipv4Addr::from(addr), prefix };
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        prop_assert_eq!(net.contains(Ipv4Addr::from(other)), addr & mask == other & mask);
    }

    #[test]
    fn parser_never_panics(s in "v=spf1( [-+~?]?[a-z0-9:./%{}=_]{0,20}){0,6}") {
        let _ = SpfRecord::parse(&s);
        let _ = validate_spf(&s);
    }
}

// --- Lookup counting -----------------------------------------------------

fn chain_zone() -> StaticDns {
    let mut z = StaticDns::new()
        .with_txt(
            "_spf.example.com",
            "v=spf1 a mx include:_spf2.example.com -all",
        )
        .with_txt(
            "_spf2.example.com",
            "v=spf1 a:h1.example.com a:h2.example.com a:h3.example.com a:h4.example.com \
             a:h5.example.com a:h6.example.com -all",
        )
        .with_mx("example.com", 10, "mx.example.com")
        .with_mx("_spf.example.com", 10, "mx.example.com")
        .with_addr("_spf.example.com", ip("10.0.0.1"))
        .with_addr("mx.example.com", ip("10.0.0.2"));
    for i in 1..=6 {
        z = z.with_addr(&format!("h{i}.example.com"), ip("10.0.1.1"));
    }
    z
}

const CHAIN: &str = "v=spf1 mx include:_spf.example.com ~all";

#[tokio::test]
async fn chain_exceeding_ten_names_the_path() {
    let count = count_lookups(CHAIN, &chain_zone()).await.unwrap();
    assert_eq!(count.total, 11);
    assert!(!count.within_limit());
    assert_eq!(
        count.over_limit_path,
        vec![
            "include:_spf.example.com",
            "include:_spf2.example.com",
            "a:h6.example.com"
        ]
    );
    assert_eq!(
        count.to_string(),
        "include:_spf.example.com → include:_spf2.example.com → a:h6.example.com: 11 lookups, \
         the limit is 10"
    );
}

#[tokio::test]
async fn chain_exceeding_ten_is_permerror_in_check_host() {
    let r = authorises_ip(CHAIN, ip("192.0.2.1"), "example.com", &chain_zone()).await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    assert_eq!(
        r.reason,
        "\"a:h6.example.com\" would be DNS lookup 11; the limit is 10 (RFC 7208 §4.6.4)"
    );
    assert_eq!(r.domain, "_spf2.example.com");
}

#[tokio::test]
async fn include_loop_is_detected() {
    let zone = StaticDns::new()
        .with_txt("a.example", "v=spf1 include:b.example -all")
        .with_txt("b.example", "v=spf1 ip4:192.0.2.1 include:a.example -all");
    let err = count_lookups("v=spf1 include:a.example -all", &zone)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "include loop: include:a.example → include:b.example → include:a.example; receivers \
         give up with permerror, so remove the include that points back"
    );
    // A receiver evaluating it runs into the lookup limit instead.
    let r = authorises_ip(
        "v=spf1 include:a.example -all",
        ip("203.0.113.5"),
        "x.example",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    // The ip4 inside the loop still matches before the limit is reached.
    let r = authorises_ip(
        "v=spf1 include:a.example -all",
        ip("192.0.2.1"),
        "x.example",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::Pass);
}

#[tokio::test]
async fn redirect_loop_is_detected() {
    let zone = StaticDns::new().with_txt("self.example", "v=spf1 redirect=Self.Example.");
    let err = count_lookups("v=spf1 redirect=self.example", &zone)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SpfError::IncludeLoop {
            path: vec![
                "redirect=self.example".into(),
                "redirect=Self.Example.".into()
            ]
        }
    );
}

#[tokio::test]
async fn diamond_includes_count_twice_without_a_loop() {
    let zone = StaticDns::new()
        .with_txt("x.example", "v=spf1 include:z.example -all")
        .with_txt("y.example", "v=spf1 include:z.example -all")
        .with_txt("z.example", "v=spf1 a mx -all");
    let count = count_lookups("v=spf1 include:x.example include:y.example -all", &zone)
        .await
        .unwrap();
    // x, z, a, mx, y, z, a, mx
    assert_eq!(count.total, 8);
    assert!(count.over_limit_path.is_empty());
}

#[tokio::test]
async fn counting_reports_broken_includes() {
    let zone = StaticDns::new()
        .with_txt("bad.example", "v=spf1 ip4:300.1.1.1 -all")
        .with_txt("two.example", "v=spf1 -all")
        .with_txt("two.example", "v=spf1 mx -all")
        .with_error("flaky.example", "SERVFAIL");
    assert_eq!(
        count_lookups("v=spf1 include:none.example -all", &zone)
            .await
            .unwrap_err()
            .to_string(),
        "\"include:none.example\": none.example has no SPF record, so receivers return \
         permerror whenever they reach this term"
    );
    assert_eq!(
        count_lookups("v=spf1 include:bad.example -all", &zone)
            .await
            .unwrap_err()
            .to_string(),
        "\"include:bad.example\": the SPF record at bad.example is invalid: \"ip4:300.1.1.1\": \
         \"300.1.1.1\" is not a valid IPv4 address; write e.g. ip4:192.0.2.10 or \
         ip4:192.0.2.0/24"
    );
    assert!(matches!(
        count_lookups("v=spf1 include:two.example -all", &zone).await,
        Err(SpfError::InvalidIncludedRecord { .. })
    ));
    assert_eq!(
        count_lookups("v=spf1 include:flaky.example -all", &zone)
            .await
            .unwrap_err()
            .to_string(),
        "DNS lookup of flaky.example failed: SERVFAIL; try again later"
    );
}

#[tokio::test]
async fn counting_skips_terms_after_all_and_ignored_redirect_but_notes_macros() {
    let zone = StaticDns::new();
    let count = count_lookups(
        "v=spf1 include:%{ir}.bl.example -all mx redirect=r.example",
        &zone,
    )
    .await
    .unwrap();
    assert_eq!(count.total, 1);
    assert_eq!(count.unexpanded, vec!["include:%{ir}.bl.example"]);
}

// --- check_host edge cases -----------------------------------------------

#[tokio::test]
async fn ipv6_and_mapped_addresses() {
    let zone = rfc_zone().with_addr("example.com", ip("2001:db8::10"));
    let rec = "v=spf1 ip6:2001:db8:1::/48 a -all";
    let check = |addr: &str| authorises_ip(rec, ip(addr), "example.com", &zone);
    let r = check("2001:db8:1::5").await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Pass, Some("ip6:2001:db8:1::/48"))
    );
    assert_eq!(check("2001:db8::10").await.term.as_deref(), Some("a"));
    assert_eq!(check("2001:db8::11").await.outcome, SpfOutcome::Fail);
    // An IPv4-mapped address is checked against A records.
    assert_eq!(check("::ffff:192.0.2.10").await.outcome, SpfOutcome::Pass);
}

#[tokio::test]
async fn none_neutral_and_errors() {
    let zone = rfc_zone()
        .with_error("flaky.example", "SERVFAIL")
        .with_txt("bad.example", "v=spf1 foo");
    let r = authorises_ip(
        "google-site-verification=x",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::None);
    let r = authorises_ip("v=spf1 mx", ip("192.0.2.1"), "example.com", &zone).await;
    assert_eq!((r.outcome, r.term), (SpfOutcome::Neutral, None));
    let r = authorises_ip("v=spf1 ?all", ip("192.0.2.1"), "example.com", &zone).await;
    assert_eq!(
        (r.outcome, r.term.as_deref()),
        (SpfOutcome::Neutral, Some("?all"))
    );
    let r = authorises_ip(
        "v=spf1 include:flaky.example -all",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::TempError);
    assert_eq!(r.reason, "DNS lookup of flaky.example failed: SERVFAIL");
    let r = authorises_ip(
        "v=spf1 include:bad.example -all",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    let r = authorises_ip(
        "v=spf1 include:nospf.example -all",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    assert_eq!(
        r.reason,
        "\"include:nospf.example\": nospf.example has no SPF record"
    );
    let r = authorises_ip(
        "v=spf1 redirect=nospf.example",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    let r = authorises_ip(
        "v=spf1 ip4:1.2.3.4/99 -all",
        ip("192.0.2.1"),
        "example.com",
        &zone,
    )
    .await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    assert_eq!(
        r.reason,
        "the SPF record of example.com is invalid: \"ip4:1.2.3.4/99\": /99 is not a valid IPv4 \
         prefix length; use /0 to /32 without leading zeros"
    );
}

#[tokio::test]
async fn void_lookup_limit() {
    let rec = "v=spf1 a:n1.example a:n2.example a:n3.example -all";
    let r = authorises_ip(rec, ip("192.0.2.1"), "example.com", &StaticDns::new()).await;
    assert_eq!(r.outcome, SpfOutcome::PermError);
    assert_eq!(
        r.reason,
        "more than 2 lookups found nothing (the last was n3.example); receivers stop there \
         (RFC 7208 §4.6.4)"
    );
    // Two void lookups are tolerated.
    let rec = "v=spf1 a:n1.example a:n2.example -all";
    let r = authorises_ip(rec, ip("192.0.2.1"), "example.com", &StaticDns::new()).await;
    assert_eq!(r.outcome, SpfOutcome::Fail);
}

#[tokio::test]
async fn results_serialise_for_the_console() {
    let r = authorises_ip(PAPER_SPF, ip("1.2.3.6"), "anydomain.com", &anydomain_zone()).await;
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["outcome"], "pass");
    assert_eq!(json["term"], "ip4:1.2.3.6");
    let rec = SpfRecord::parse(PAPER_SPF).unwrap();
    let back: SpfRecord = serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
    assert_eq!(back, rec);
}
