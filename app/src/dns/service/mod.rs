//! The DNS service layer: what the server functions in [`crate::dns`] (and
//! the integration tests) call. Forms become typed records here, an A/AAAA
//! record and its PTR change in one transaction, imports are previewed
//! before they are saved, DNS server entries and the TSIG key are kept, and
//! apply installs checked zone files on the primary and reloads it.
//!
//! Nothing here knows about Leptos or sessions: the callers pass the actor's
//! name and have checked the role. Every function returns
//! [`DomainError`]; bad form values are [`DomainError::Invalid`] naming
//! the field the message belongs beside.

mod apply;
mod records;
mod servers;

pub use apply::{apply, apply_within};
pub use records::{
    delete_record, form_of, rdata_from_form, record_from_form, record_in_words, save_record,
    save_summary, value_field, PtrChoice,
};
pub use servers::{
    add_server, remove_server, reveal_secret, rotate_key, seal_stored_key, server_conf, servers,
    tsig, update_server, Allowed, KEY_NAME,
};

use crate::dns::nsd::zone_file_name;
use crate::dns::store;
use crate::dns::zone::{
    diff, parse_zone_with_lines, render_zone, reverse_zone_for, Name, ParseError, ParseOptions,
    RecordSet, RecordType, Zone,
};
pub use crate::dns::ServerForm;
use crate::dns::{
    DomainError, ImportPreview, RecordRow, ZoneDetail, ZoneExport, ZoneListItem, ZoneSummary,
};
use records::{address_of, key_of, ptr_exists, refused_as};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::net::IpAddr;

// ---- zones -----------------------------------------------------------------

/// Every zone with its record count and applied serial.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<ZoneListItem>, DomainError> {
    let zones = store::list_zones(db).await?;
    let mut out = Vec::with_capacity(zones.len());
    for zone in zones {
        let records = store::record_count(db, zone.id).await?;
        let applied_serial = store::applied_serial(db, zone.id).await?;
        out.push(ZoneListItem {
            zone,
            records,
            applied_serial,
        });
    }
    Ok(out)
}

/// A new zone as the create form asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewZone {
    /// A domain, such as `example.com`.
    Forward(String),
    /// A network, such as `192.0.2.0/24` or `2001:db8::/48`.
    Reverse(String),
}

impl NewZone {
    /// `kind` is `reverse` (with `network`) or anything else (forward, with
    /// `origin`), as the two create forms post it.
    pub fn from_form(kind: &str, origin: String, network: String) -> Self {
        if kind == "reverse" {
            Self::Reverse(network)
        } else {
            Self::Forward(origin)
        }
    }

    /// What was typed, trimmed (the audit target of a refused create).
    pub fn as_typed(&self) -> &str {
        match self {
            Self::Forward(s) | Self::Reverse(s) => s.trim(),
        }
    }
}

/// Creates the zone the form asks for.
pub async fn create_zone(
    db: &DatabaseConnection,
    actor: &str,
    new: &NewZone,
) -> Result<ZoneSummary, DomainError> {
    match new {
        NewZone::Forward(domain) => create_forward(db, actor, domain).await,
        NewZone::Reverse(network) => create_reverse(db, actor, network).await,
    }
}

/// Creates a forward zone from a domain name typed in a form.
pub async fn create_forward(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
) -> Result<ZoneSummary, DomainError> {
    let d = domain.trim().trim_end_matches('.');
    if d.is_empty() {
        return Err(DomainError::invalid(
            "origin",
            "Enter the domain, such as example.com.",
        ));
    }
    // A zone's name reaches nsd-checkzone, nsd-control and reload commands
    // as an argument: letters, digits and inner hyphens only, so it can
    // never be read as an option.
    let origin = Name::host(d, 1)
        .map_err(|e| DomainError::invalid("origin", format!("\"{d}\" cannot name a zone: {e}.")))?;
    if store::is_reverse(&origin) {
        return Err(DomainError::invalid(
            "origin",
            "That is a reverse zone: create it from its network below.",
        ));
    }
    store::create_zone(db, actor, &origin).await
}

/// Creates the reverse zone of a network typed as `192.0.2.0/24` or
/// `2001:db8::/48`.
pub async fn create_reverse(
    db: &DatabaseConnection,
    actor: &str,
    network: &str,
) -> Result<ZoneSummary, DomainError> {
    let n = network.trim();
    let Some((ip, len)) = n.split_once('/') else {
        return Err(DomainError::invalid(
            "network",
            format!(
                "\"{n}\" has no prefix length: write the network as 192.0.2.0/24 or 2001:db8::/48."
            ),
        ));
    };
    let ip: IpAddr = ip.trim().parse().map_err(|_| {
        DomainError::invalid(
            "network",
            format!("\"{}\" is not an IPv4 or IPv6 address.", ip.trim()),
        )
    })?;
    let len: u8 = len.trim().parse().map_err(|_| {
        DomainError::invalid(
            "network",
            format!("\"{}\" is not a prefix length.", len.trim()),
        )
    })?;
    let origin =
        reverse_zone_for(ip, len).map_err(|e| DomainError::invalid("network", e.message))?;
    store::create_zone(db, actor, &origin)
        .await
        .map_err(refused_as("network"))
}

/// The zone's page: records sorted as the zone file has them, and for each
/// address record whether its PTR exists.
pub async fn detail(db: &DatabaseConnection, zone_id: i32) -> Result<ZoneDetail, DomainError> {
    let summary = store::get_zone(db, zone_id).await?;
    let zone = store::load_zone(db, zone_id).await?;
    let reverse = reverse_zones(db).await?;
    let records = zone
        .sorted_records()
        .into_iter()
        .map(|r| RecordRow {
            key: key_of(r),
            name: r
                .owner
                .relative_to(&zone.origin)
                .unwrap_or_else(|| r.owner.to_string()),
            rtype: r.rtype().as_str().to_owned(),
            ttl: r.ttl.0,
            data: r.rdata.to_string(),
            form: form_of(r, &zone.origin),
            has_ptr: address_of(r).is_some_and(|ip| ptr_exists(&reverse, ip, &r.owner)),
        })
        .collect();
    let soa = &zone.soa;
    Ok(ZoneDetail {
        applied_serial: store::applied_serial(db, zone_id).await?,
        default_ttl: zone.default_ttl.0,
        soa: format!(
            "{} {} serial {} refresh {} retry {} expire {} minimum {}",
            soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
        ),
        zone: summary,
        records,
    })
}

pub(super) async fn reverse_zones<C: ConnectionTrait>(db: &C) -> Result<Vec<Zone>, DomainError> {
    let mut out = Vec::new();
    for z in store::list_zones(db)
        .await?
        .into_iter()
        .filter(|z| z.reverse)
    {
        out.push(store::load_zone(db, z.id).await?);
    }
    Ok(out)
}

// ---- import and export -----------------------------------------------------

fn describe(set: &RecordSet) -> Vec<String> {
    set.records.iter().map(|r| r.to_string()).collect()
}

/// Parses `text` as the zone's new contents and says what would change.
/// `$INCLUDE` is refused (an upload must not make the server read files).
/// Returns the parsed zone when there are no errors.
pub async fn preview_import(
    db: &DatabaseConnection,
    zone_id: i32,
    text: &str,
) -> Result<(ImportPreview, Option<Zone>), DomainError> {
    let current = store::load_zone(db, zone_id).await?;
    let mut preview = ImportPreview::default();
    let parsed = match parse_zone_with_lines(
        &current.origin,
        text,
        ParseOptions {
            allow_include: false,
        },
    ) {
        Ok(z) => z,
        Err(errors) => {
            preview.errors = errors.iter().map(|e| e.to_string()).collect();
            return Ok((preview, None));
        }
    };
    // Whole-zone problems name the line of the record that breaks the rule,
    // like the parser's own errors ("line 7: …").
    for p in crate::dns::zone::validate_zone(&parsed.zone) {
        let at = p
            .record
            .and_then(|i| parsed.zone.records.get(i))
            .map(|r| format!("{r}: "))
            .unwrap_or_default();
        let line = parsed.line_of(&p);
        preview.errors.push(
            ParseError {
                line,
                message: format!("{at}{}", p.message),
            }
            .to_string(),
        );
    }
    let parsed = parsed.zone;
    let d = diff(&current, &parsed);
    for set in d.added.iter().filter(|s| s.rtype != RecordType::Soa) {
        preview.added.extend(describe(set));
    }
    for set in d.removed.iter().filter(|s| s.rtype != RecordType::Soa) {
        preview.removed.extend(describe(set));
    }
    for c in d.changed.iter().filter(|c| c.new.rtype != RecordType::Soa) {
        preview.changed.push(format!(
            "{} → {}",
            describe(&c.old).join(", "),
            describe(&c.new).join(", ")
        ));
    }
    preview.unchanged = d
        .unchanged
        .iter()
        .filter(|s| s.rtype != RecordType::Soa)
        .map(|s| s.records.len())
        .sum();
    preview.notes.push(format!(
        "The file's SOA (serial {}) is not taken over: Stackyard manages the SOA and moves the serial forward from {}.",
        parsed.soa.serial, current.soa.serial
    ));
    if parsed.default_ttl != current.default_ttl {
        preview.notes.push(format!(
            "$TTL changes from {} to {}.",
            current.default_ttl, parsed.default_ttl
        ));
    }
    let ok = preview.errors.is_empty();
    Ok((preview, ok.then_some(parsed)))
}

/// Imports `text` as the zone's records after the same checks as the preview.
pub async fn import(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    text: &str,
) -> Result<ZoneSummary, DomainError> {
    let (preview, parsed) = preview_import(db, zone_id, text).await?;
    let Some(parsed) = parsed else {
        return Err(DomainError::invalid("text", preview.errors.join("\n")));
    };
    store::replace_zone(
        db,
        actor,
        zone_id,
        &parsed,
        &format!(
            "imported: {} added, {} changed, {} removed",
            preview.added.len(),
            preview.changed.len(),
            preview.removed.len()
        ),
    )
    .await
}

/// The zone as a master file.
pub async fn export(db: &DatabaseConnection, zone_id: i32) -> Result<ZoneExport, DomainError> {
    let zone = store::load_zone(db, zone_id).await?;
    Ok(ZoneExport {
        file_name: zone_file_name(&zone.origin).unwrap_or_else(|_| "zone.txt".into()),
        text: render_zone(&zone),
    })
}

#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::dns::zone::Name;
    use crate::dns::RecordForm;
    use sea_orm::{Database, DatabaseConnection};

    pub fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    pub async fn sqlite() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Database::connect(url.as_str()).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        (dir, db)
    }

    pub fn a_form(owner: &str, address: &str) -> RecordForm {
        RecordForm {
            owner: owner.into(),
            rtype: "A".into(),
            address: address.into(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::dns::service::testing::*;
    use crate::dns::service::{save_record, PtrChoice};

    #[tokio::test]
    async fn a_zone_name_is_letters_digits_and_inner_hyphens() {
        let (_dir, db) = sqlite().await;
        for bad in ["-h.example", "a_b.example", "bad-.example"] {
            let e =
                crate::error::AppError::from(create_forward(&db, "alice", bad).await.unwrap_err());
            assert!(
                matches!(&e, crate::error::AppError::Invalid { field, message }
                    if field == "origin" && message.contains("cannot name a zone")),
                "{bad}: {e:?}"
            );
        }
        let z = create_forward(&db, "alice", "Branch-1.Example.com.")
            .await
            .unwrap();
        assert_eq!(z.origin.as_str(), "branch-1.example.com.");
    }

    #[tokio::test]
    async fn import_previews_then_saves() {
        let (_dir, db) = sqlite().await;
        let z = create_forward(&db, "alice", "example.com").await.unwrap();
        save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.1"),
            PtrChoice::default(),
        )
        .await
        .unwrap();
        save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("old", "192.0.2.2"),
            PtrChoice::default(),
        )
        .await
        .unwrap();
        let text = "$TTL 3600\n@ SOA ns1 hostmaster 5 7200 3600 1209600 300\nwww A 192.0.2.1\nmail A 192.0.2.3\n@ MX 10 mail\n";
        let (p, zone) = preview_import(&db, z.id, text).await.unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            p.added,
            vec![
                "example.com. 3600 IN MX 10 mail.example.com.",
                "mail.example.com. 3600 IN A 192.0.2.3"
            ]
        );
        assert_eq!(p.removed, vec!["old.example.com. 3600 IN A 192.0.2.2"]);
        assert_eq!(p.unchanged, 1);
        assert!(zone.is_some());
        // Preview saved nothing.
        assert_eq!(store::load_zone(&db, z.id).await.unwrap().records.len(), 2);

        let bad = "$TTL 3600\n@ SOA ns1 hostmaster 5 7200 3600 1209600 300\n$INCLUDE /etc/passwd\nwww A 192.0.2.999\n";
        let (p, zone) = preview_import(&db, z.id, bad).await.unwrap();
        assert!(zone.is_none());
        assert!(
            p.errors[0].starts_with("line 3: $INCLUDE is not allowed"),
            "{:?}",
            p.errors
        );
        assert!(p.errors[1].starts_with("line 4:"), "{:?}", p.errors);
        assert!(import(&db, "x", z.id, bad)
            .await
            .unwrap_err()
            .for_field("text")
            .is_some());
        let cname = "$TTL 3600\n@ SOA ns1 hostmaster 5 7200 3600 1209600 300\nwww A 192.0.2.1\nwww CNAME other\n";
        let (p, zone) = preview_import(&db, z.id, cname).await.unwrap();
        assert!(zone.is_none() && p.errors[0].contains("a CNAME must be the only record"));
        // The whole-zone rule names the line of the record that breaks it.
        assert!(
            p.errors[0].starts_with("line 4: www.example.com. 3600 IN CNAME other.example.com.: "),
            "{:?}",
            p.errors
        );

        let s = import(&db, "carol", z.id, text).await.unwrap();
        let zone = store::load_zone(&db, z.id).await.unwrap();
        assert_eq!(zone.records.len(), 3);
        assert_eq!(zone.soa.serial, s.serial);
        assert_ne!(zone.soa.serial, 5);
        let e = export(&db, z.id).await.unwrap();
        assert_eq!(e.file_name, "example.com.zone");
        assert!(e.text.contains("mail\t\tIN\tA\t192.0.2.3"));
    }
}
