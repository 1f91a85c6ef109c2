//! Mail records in the domain's DNS zone, through the zone store
//! ([`crate::dns::store`]): one source of truth for MX, SPF, DKIM, DMARC and
//! verification tokens. Each write replaces one RRset with
//! [`replace_rrset`](crate::dns::store::replace_rrset) (validated, serial
//! bumped, history written, one transaction); TXT values that are not ours
//! at the same name (another verification token next to SPF) are kept.
//!
//! SPF's 10-lookup limit is counted through includes with
//! [`StoreFirstLookup`]: names inside a zone Stackyard serves are answered
//! from the store (what will be published, even before NSD has it), every
//! other name from live DNS.

use crate::dns::store;
use crate::dns::zone::txt::split_txt;
use crate::dns::zone::{parse_target, Name, RData, RecordType, Zone};
use crate::dns::ZoneSummary;
use crate::mail::check::{DnsResolver, HickoryDns, ResolverSettings};
use crate::mail::records::dmarc::validate_dmarc;
use crate::mail::records::google::{
    is_google_site_verification, validate_google_site_verification,
};
use crate::mail::records::spf::{
    count_lookups, is_spf_record, validate_spf, LookupError, SpfError, SpfLookup,
};
use crate::mail::records::{Diagnostic, Severity};
use crate::mail::{DomainError, RecordPreview, ZoneState};
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::Result;

fn name(field: &str, s: &str) -> Result<Name> {
    Name::parse(s).map_err(|e| DomainError::invalid(field, e.to_string()))
}

/// The joined value of each TXT record at `owner`.
pub fn txt_values(zone: &Zone, owner: &Name) -> Vec<String> {
    zone.records
        .iter()
        .filter(|r| r.owner == *owner)
        .filter_map(|r| match &r.rdata {
            RData::Txt(strings) => Some(String::from_utf8_lossy(&strings.concat()).into_owned()),
            _ => None,
        })
        .collect()
}

fn txt_rdata(value: &str) -> RData {
    RData::Txt(
        split_txt(value)
            .into_iter()
            .map(String::into_bytes)
            .collect(),
    )
}

/// The zone that holds `domain`, or `None` when Stackyard serves none.
pub async fn zone_of(db: &DatabaseConnection, domain: &str) -> Result<Option<ZoneSummary>> {
    Ok(store::zone_containing(db, &name("domain", domain)?).await?)
}

async fn require_zone(db: &DatabaseConnection, domain: &str) -> Result<ZoneSummary> {
    zone_of(db, domain).await?.ok_or_else(|| {
        DomainError::Refused(format!(
            "Stackyard serves no zone that holds {domain}; create the zone first (the button on \
             this page), or publish the record at the DNS provider that serves it."
        ))
    })
}

/// The mail records as the store holds them now.
pub async fn zone_state(db: &DatabaseConnection, domain: &str) -> Result<ZoneState> {
    let Some(summary) = zone_of(db, domain).await? else {
        return Ok(ZoneState::default());
    };
    let zone = store::load_zone(db, summary.id).await?;
    let apex = name("domain", domain)?;
    let dmarc = apex
        .prepend(b"_dmarc")
        .map_err(|e| DomainError::invalid("domain", e.to_string()))?;
    let apex_txt = txt_values(&zone, &apex);
    let mut mx: Vec<(u16, String)> = zone
        .records
        .iter()
        .filter(|r| r.owner == apex)
        .filter_map(|r| match &r.rdata {
            RData::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange.as_str().to_owned())),
            _ => None,
        })
        .collect();
    mx.sort();
    Ok(ZoneState {
        zone: Some(summary.origin.as_str().to_owned()),
        serial: Some(summary.serial),
        mx: mx.into_iter().map(|(p, e)| format!("{p} {e}")).collect(),
        spf: apex_txt.iter().find(|t| is_spf_record(t)).cloned(),
        dmarc: txt_values(&zone, &dmarc).into_iter().next(),
        verification: apex_txt
            .into_iter()
            .filter(|t| is_google_site_verification(t))
            .collect(),
    })
}

/// Replaces the TXT values at `owner` that `ours` selects with `values`,
/// keeping the others.
async fn publish_txt(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    owner: &Name,
    ours: impl Fn(&str) -> bool,
    values: Vec<String>,
) -> Result<ZoneSummary> {
    let zone_summary = require_zone(db, domain).await?;
    let zone = store::load_zone(db, zone_summary.id).await?;
    let ttl = zone
        .records
        .iter()
        .find(|r| r.owner == *owner && r.rtype() == RecordType::Txt)
        .map_or(zone.default_ttl, |r| r.ttl);
    let mut keep: Vec<String> = txt_values(&zone, owner)
        .into_iter()
        .filter(|t| !ours(t))
        .collect();
    for v in values {
        if !keep.contains(&v) {
            keep.push(v);
        }
    }
    let rdatas = keep.iter().map(|v| txt_rdata(v)).collect();
    Ok(store::replace_rrset(
        db,
        actor,
        zone_summary.id,
        owner,
        RecordType::Txt,
        ttl,
        rdatas,
    )
    .await?)
}

/// Answers TXT questions from Stackyard's zones where it serves the name,
/// from live DNS otherwise.
pub struct StoreFirstLookup {
    db: DatabaseConnection,
    live: Option<HickoryDns>,
}

impl StoreFirstLookup {
    pub fn new(db: DatabaseConnection, resolver: Option<std::net::SocketAddr>) -> Self {
        let live = HickoryDns::new(&ResolverSettings {
            nameserver: resolver,
            ..ResolverSettings::default()
        })
        .ok();
        Self { db, live }
    }
}

impl SpfLookup for StoreFirstLookup {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let Ok(owner) = Name::parse(name) else {
            return Err(LookupError::NotFound);
        };
        let own = match store::zone_containing(&self.db, &owner).await {
            Ok(Some(z)) => store::load_zone(&self.db, z.id).await.map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match own {
            Ok(Some(zone)) => Ok(txt_values(&zone, &owner)),
            Ok(None) => match &self.live {
                Some(live) => DnsResolver::txt(live, name).await,
                None => Err(LookupError::Temporary(
                    "no resolver could be set up".to_owned(),
                )),
            },
            Err(e) => Err(LookupError::Temporary(e.to_string())),
        }
    }
}

fn preview(
    owner: &Name,
    record: &str,
    findings: Vec<Diagnostic>,
    lookups: Option<String>,
) -> RecordPreview {
    let valid = findings.iter().all(|d| d.severity != Severity::Error);
    RecordPreview {
        owner: owner.as_str().to_owned(),
        record: record.to_owned(),
        txt_strings: split_txt(record),
        findings: findings.iter().map(ToString::to_string).collect(),
        lookups,
        valid,
    }
}

/// Validates an SPF record (RFC 7208) and counts its DNS lookups through
/// includes and redirects.
pub async fn spf_preview(
    db: &DatabaseConnection,
    domain: &str,
    record: &str,
    resolver: Option<std::net::SocketAddr>,
) -> Result<RecordPreview> {
    let apex = name("domain", domain)?;
    let record = record.trim().trim_matches('"').to_owned();
    let mut findings = validate_spf(&record);
    let mut lookups = None;
    if crate::mail::records::is_valid(&findings) {
        let lookup = StoreFirstLookup::new(db.clone(), resolver);
        match count_lookups(&record, &lookup).await {
            Ok(count) => {
                if !count.within_limit() {
                    findings.push(Diagnostic::error(format!(
                        "too many DNS lookups: {}; receivers return permerror. Replace includes \
                         or mx/a with ip4:/ip6: ranges.",
                        count.summary()
                    )));
                } else {
                    for term in &count.unexpanded {
                        findings.push(Diagnostic::info(format!(
                            "{term} uses macros and was counted but not followed"
                        )));
                    }
                }
                lookups = Some(count.summary());
            }
            Err(e @ SpfError::Lookup { .. }) => findings.push(Diagnostic::warning(format!(
                "the lookups could not all be counted: {e}"
            ))),
            Err(e) => findings.push(Diagnostic::error(e.to_string())),
        }
    }
    findings.sort_by_key(|d| d.severity);
    Ok(preview(&apex, &record, findings, lookups))
}

/// The first error of a preview, as the message under the record field.
fn refuse_invalid(p: &RecordPreview) -> Result<()> {
    if p.valid {
        return Ok(());
    }
    let message = p
        .findings
        .iter()
        .find(|f| f.starts_with("error: "))
        .map(|f| f.trim_start_matches("error: ").to_owned())
        .unwrap_or_else(|| "The record is not valid.".to_owned());
    Err(DomainError::invalid("record", message))
}

pub async fn publish_spf(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    record: &str,
    resolver: Option<std::net::SocketAddr>,
) -> Result<(RecordPreview, ZoneSummary)> {
    let p = spf_preview(db, domain, record, resolver).await?;
    refuse_invalid(&p)?;
    let apex = name("domain", domain)?;
    let z = publish_txt(
        db,
        actor,
        domain,
        &apex,
        is_spf_record,
        vec![p.record.clone()],
    )
    .await?;
    Ok((p, z))
}

pub fn dmarc_preview(domain: &str, record: &str) -> Result<RecordPreview> {
    let owner = name("domain", domain)?
        .prepend(b"_dmarc")
        .map_err(|e| DomainError::invalid("domain", e.to_string()))?;
    let record = record.trim().trim_matches('"').to_owned();
    let mut findings = validate_dmarc(&record);
    if let Ok(parsed) = crate::mail::records::dmarc::DmarcRecord::parse(&record) {
        for external in parsed.external_report_domains(domain) {
            findings.push(Diagnostic::info(format!(
                "reports go to another domain: it must publish \"v=DMARC1\" at {external} \
                 before receivers send them (RFC 7489 §7.1)"
            )));
        }
    }
    Ok(preview(&owner, &record, findings, None))
}

pub async fn publish_dmarc(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    record: &str,
) -> Result<(RecordPreview, ZoneSummary)> {
    let p = dmarc_preview(domain, record)?;
    refuse_invalid(&p)?;
    let owner = name("domain", domain)?
        .prepend(b"_dmarc")
        .map_err(|e| DomainError::invalid("domain", e.to_string()))?;
    // Only one DMARC record may exist at the name: it replaces all.
    let z = publish_txt(db, actor, domain, &owner, |_| true, vec![p.record.clone()]).await?;
    Ok((p, z))
}

pub async fn publish_verification(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    value: &str,
) -> Result<ZoneSummary> {
    let value = value.trim();
    validate_google_site_verification(value)
        .map_err(|e| DomainError::invalid("value", e.to_string()))?;
    let apex = name("domain", domain)?;
    publish_txt(db, actor, domain, &apex, |_| false, vec![value.to_owned()]).await
}

/// Removes one verification token from the apex, leaving every other TXT
/// value (SPF, other tokens) as it is.
pub async fn remove_verification(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    value: &str,
) -> Result<ZoneSummary> {
    let value = value.trim();
    let apex = name("domain", domain)?;
    let z = require_zone(db, domain).await?;
    let zone = store::load_zone(db, z.id).await?;
    if !txt_values(&zone, &apex).iter().any(|v| v == value) {
        return Err(DomainError::NotFound(format!(
            "the token {value} is not published at {apex}"
        )));
    }
    publish_txt(db, actor, domain, &apex, |v| v == value, vec![]).await
}

/// Removes a DKIM key and its `selector._domainkey` record in one
/// transaction: no key stays stored unpublished, no record stays published
/// without its key. Mail signed with the key fails DKIM from then on at
/// receivers that look it up again, so the page asks first.
pub async fn remove_dkim(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    selector: &str,
) -> Result<Option<ZoneSummary>> {
    let selector = selector.trim();
    let owner = name("selector", &format!("{selector}._domainkey.{domain}"))?;
    // The zone may have been deleted since the key was made, or the record
    // removed by hand: then only the key goes.
    let published = match zone_of(db, domain).await? {
        Some(z) => {
            let zone = store::load_zone(db, z.id).await?;
            (!txt_values(&zone, &owner).is_empty()).then_some((z.id, zone.default_ttl))
        }
        None => None,
    };
    let txn = db.begin().await?;
    crate::mail::store::remove_dkim_key(&txn, domain, selector).await?;
    let summary = match published {
        Some((zone_id, ttl)) => Some(
            store::replace_rrset_in(&txn, actor, zone_id, &owner, RecordType::Txt, ttl, vec![])
                .await?,
        ),
        None => None,
    };
    txn.commit().await?;
    Ok(summary)
}

/// MX records from lines `PREFERENCE HOST` (an empty list deletes them).
pub fn parse_mx(domain: &Name, input: &str) -> Result<Vec<RData>> {
    let mut out = Vec::new();
    for line in input.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split_whitespace();
        let (pref, host) = match (parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(h), None) => (p, h),
            (Some(h), None, None) => ("10", h),
            _ => {
                return Err(DomainError::invalid(
                    "mx",
                    format!("\"{line}\": write one MX per line as PREFERENCE HOST, e.g. 10 mail.example.org."),
                ))
            }
        };
        let preference: u16 = pref.parse().map_err(|_| {
            DomainError::invalid(
                "mx",
                format!("\"{pref}\" is not a preference from 0 to 65535."),
            )
        })?;
        // A host without a dot is taken relative to the domain ("mail").
        let host = if host.contains('.') && !host.ends_with('.') {
            format!("{host}.")
        } else {
            host.to_owned()
        };
        let exchange =
            parse_target(&host, domain, "mx").map_err(|e| DomainError::invalid("mx", e.message))?;
        out.push(RData::Mx {
            preference,
            exchange,
        });
    }
    Ok(out)
}

pub async fn publish_mx(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    input: &str,
) -> Result<ZoneSummary> {
    let apex = name("domain", domain)?;
    let rdatas = parse_mx(&apex, input)?;
    let z = require_zone(db, domain).await?;
    let zone = store::load_zone(db, z.id).await?;
    store::replace_rrset(
        db,
        actor,
        z.id,
        &apex,
        RecordType::Mx,
        zone.default_ttl,
        rdatas,
    )
    .await
    .map_err(|e| match e {
        crate::dns::DomainError::Invalid(e) => DomainError::invalid("mx", e.message),
        other => DomainError::Dns(other),
    })
}

/// Generates a DKIM key, stores it and publishes `selector._domainkey` in one
/// transaction: a key is never stored unpublished or published unstored.
pub async fn generate_and_publish_dkim(
    db: &DatabaseConnection,
    keys: &crate::sealed::SealingKey,
    actor: &str,
    domain: &str,
    selector: &str,
    algorithm: &str,
) -> Result<crate::mail::DkimKeyInfo> {
    let z = require_zone(db, domain).await?;
    let owner = name("selector", &format!("{selector}._domainkey.{domain}"))?;
    let algorithm = algorithm.to_owned();
    // RSA generation takes a while: off the async workers.
    let pair = tokio::task::spawn_blocking(move || super::generate_dkim(&algorithm))
        .await
        .map_err(|e| DomainError::Failed(format!("key generation stopped: {e}")))??;
    let zone = store::load_zone(db, z.id).await?;
    let txn = db.begin().await?;
    let info = crate::mail::store::add_dkim_key(&txn, keys, domain, selector, &pair).await?;
    store::replace_rrset_in(
        &txn,
        actor,
        z.id,
        &owner,
        RecordType::Txt,
        zone.default_ttl,
        vec![txt_rdata(&pair.record)],
    )
    .await?;
    txn.commit().await?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mx_lines() {
        let d = Name::parse("example.org").unwrap();
        let mx = parse_mx(&d, "10 mail\n20 backup.example.net\n").unwrap();
        assert_eq!(
            mx,
            vec![
                RData::Mx {
                    preference: 10,
                    exchange: Name::parse("mail.example.org").unwrap()
                },
                RData::Mx {
                    preference: 20,
                    exchange: Name::parse("backup.example.net").unwrap()
                },
            ]
        );
        assert!(parse_mx(&d, "").unwrap().is_empty());
        for bad in ["ten mail", "10 mail extra", "99999 mail"] {
            match parse_mx(&d, bad) {
                Err(DomainError::Invalid(e)) => assert_eq!(e.field, "mx"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn long_txt_values_are_split_into_strings() {
        let long = "v=DKIM1; k=rsa; p=".to_owned() + &"A".repeat(400);
        let RData::Txt(strings) = txt_rdata(&long) else {
            panic!()
        };
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(strings.concat(), long.as_bytes());
    }
}
