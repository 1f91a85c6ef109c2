//! The zone store: zones, their records and every version of them in the
//! database, on SQLite or PostgreSQL.
//!
//! Every change goes through one function, `commit`, inside one
//! transaction: it validates the whole resulting zone with the pure rules of
//! [`crate::dns::zone::validate_zone`], bumps the SOA serial (YYYYMMDDnn on
//! the RFC 1982 circle), writes only the RRsets that changed, and records a
//! version with who, when, the RRset diff and the complete master file, so
//! any version can be shown and reverted to. A change that fails validation
//! leaves nothing behind. The serial doubles as an optimistic lock: the zone
//! row is only updated while it still has the serial the change was computed
//! from, so two editors of one zone never silently overwrite each other.
//!
//! Functions taking `&DatabaseConnection` open their own transaction; the
//! `_in` variants take any connection (a transaction) so a caller can put
//! several changes – an A record and its PTR in another zone – into one.
//! Refusals come back as [`DomainError::Invalid`] naming the field they are
//! about (`origin`, `owner`, `type`, `rdata`); the service moves `rdata` to
//! the record form's value field.

use crate::dns::entity::{record, server as server_row, version, zone as zone_row};
use crate::dns::zone::{
    diff, next_serial, parse_zone, render_zone, validate_zone, Name, ParseOptions, RData, Record,
    RecordSet, RecordType, Soa, Ttl, Zone,
};
use crate::dns::DomainError;
use crate::dns::{VersionDetail, VersionSummary, ZoneSummary};
use chrono::{Datelike, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

/// `$TTL` of new zones: an hour, the common default.
pub const DEFAULT_TTL: Ttl = Ttl(3600);
/// SOA timers of new zones (RIPE-203 recommendations, minimum for negative
/// caching kept short so a newly added name shows up quickly).
const REFRESH: u32 = 7200;
const RETRY: u32 = 3600;
const EXPIRE: u32 = 1_209_600;
const MINIMUM: u32 = 300;
/// Rows per INSERT: well under SQLite's limit on bound variables.
const INSERT_CHUNK: usize = 500;

/// True for names under `in-addr.arpa.` or `ip6.arpa.`.
pub fn is_reverse(origin: &Name) -> bool {
    let s = origin.as_str();
    s.ends_with("in-addr.arpa.") || s.ends_with("ip6.arpa.")
}

/// Today as (year, month, day) for [`next_serial`].
fn today() -> (u32, u32, u32) {
    let d = Utc::now().date_naive();
    (u32::try_from(d.year()).unwrap_or(0), d.month(), d.day())
}

/// Stored data that does not read back: logged here, and reported to the
/// browser without the internals.
fn corrupt(what: impl std::fmt::Display) -> DomainError {
    tracing::error!("dns store: unreadable stored data: {what}");
    DomainError::Corrupt(what.to_string())
}

fn as_u32(v: i64, what: &str) -> Result<u32, DomainError> {
    u32::try_from(v).map_err(|_| corrupt(format!("{what} {v} out of range")))
}

fn summary_of(row: &zone_row::Model) -> Result<ZoneSummary, DomainError> {
    Ok(ZoneSummary {
        id: row.id,
        origin: Name::parse(&row.origin).map_err(corrupt)?,
        reverse: row.reverse,
        serial: as_u32(row.serial, "serial")?,
    })
}

async fn zone_row_by_id<C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<zone_row::Model, DomainError> {
    zone_row::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Zone {id}")))
}

/// Every zone, forward zones first, each group in DNS order.
pub async fn list_zones<C: ConnectionTrait>(db: &C) -> Result<Vec<ZoneSummary>, DomainError> {
    let rows = zone_row::Entity::find().all(db).await?;
    let mut out = rows.iter().map(summary_of).collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| {
        a.reverse
            .cmp(&b.reverse)
            .then_with(|| a.origin.canonical_cmp(&b.origin))
    });
    Ok(out)
}

/// One zone's summary, or `NotFound`.
pub async fn get_zone<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
) -> Result<ZoneSummary, DomainError> {
    summary_of(&zone_row_by_id(db, zone_id).await?)
}

/// How many records (SOA excluded) the zone holds.
pub async fn record_count<C: ConnectionTrait>(db: &C, zone_id: i32) -> Result<usize, DomainError> {
    use sea_orm::PaginatorTrait;
    let n = record::Entity::find()
        .filter(record::Column::ZoneId.eq(zone_id))
        .count(db)
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The serial installed on the primary by the last apply, if any.
pub async fn applied_serial<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
) -> Result<Option<u32>, DomainError> {
    zone_row_by_id(db, zone_id)
        .await?
        .applied_serial
        .map(|s| as_u32(s, "applied serial"))
        .transpose()
}

/// The zone whose origin is exactly `origin`.
pub async fn find_zone<C: ConnectionTrait>(
    db: &C,
    origin: &Name,
) -> Result<Option<ZoneSummary>, DomainError> {
    zone_row::Entity::find()
        .filter(zone_row::Column::Origin.eq(origin.as_str()))
        .one(db)
        .await?
        .as_ref()
        .map(summary_of)
        .transpose()
}

/// The managed zone that holds `name`: the one with the longest origin that
/// `name` equals or lies below.
pub async fn zone_containing<C: ConnectionTrait>(
    db: &C,
    name: &Name,
) -> Result<Option<ZoneSummary>, DomainError> {
    let labels: Vec<Vec<u8>> = name.labels().map(<[u8]>::to_vec).collect();
    let suffixes: Vec<String> = (0..labels.len())
        .filter_map(|i| Name::from_labels(labels.get(i..)?.to_vec()).ok())
        .map(|n| n.as_str().to_owned())
        .collect();
    if suffixes.is_empty() {
        return Ok(None);
    }
    let rows = zone_row::Entity::find()
        .filter(zone_row::Column::Origin.is_in(suffixes))
        .all(db)
        .await?;
    let mut best: Option<ZoneSummary> = None;
    for row in &rows {
        let z = summary_of(row)?;
        if best
            .as_ref()
            .is_none_or(|b| z.origin.label_count() > b.origin.label_count())
        {
            best = Some(z);
        }
    }
    Ok(best)
}

/// Creates a zone with a managed SOA (primary name server from the
/// configured primary, else `ns1.<origin>`; `hostmaster.<origin>`; serial
/// YYYYMMDD00) and an NS record for every configured DNS server.
pub async fn create_zone(
    db: &DatabaseConnection,
    actor: &str,
    origin: &Name,
) -> Result<ZoneSummary, DomainError> {
    let txn = db.begin().await?;
    let out = create_zone_in(&txn, actor, origin).await?;
    txn.commit().await?;
    Ok(out)
}

/// [`create_zone`] inside the caller's transaction.
pub async fn create_zone_in<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    origin: &Name,
) -> Result<ZoneSummary, DomainError> {
    if origin.is_root() || (origin.label_count() < 2 && !is_reverse(origin)) {
        return Err(DomainError::invalid(
            "origin",
            format!(
                "{origin} is a top-level domain; enter the organisation's domain, such as \
                 example.com"
            ),
        ));
    }
    // The zone's file name and nsd.conf entry are built from the origin;
    // names that would need escapes there are refused up front.
    if crate::dns::nsd::zone_file_name(origin).is_err() {
        return Err(DomainError::invalid(
            "origin",
            format!(
                "{origin} contains characters NSD's configuration cannot hold; use letters, \
                 digits, '-' and '_' (internationalised names are converted to punycode)"
            ),
        ));
    }
    if find_zone(db, origin).await?.is_some() {
        return Err(DomainError::invalid(
            "origin",
            format!("The zone {origin} already exists."),
        ));
    }
    let servers = server_row::Entity::find()
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await?;
    let mut ns_names: Vec<Name> = Vec::new();
    let mut primary_ns: Option<Name> = None;
    for s in &servers {
        let Ok(ns) = Name::parse(&s.ns_name) else {
            return Err(corrupt(format!("server {} NS name {:?}", s.id, s.ns_name)));
        };
        if s.role == "primary" && primary_ns.is_none() {
            primary_ns = Some(ns.clone());
        }
        if !ns_names.contains(&ns) {
            ns_names.push(ns);
        }
    }
    let named = |label: &str| {
        origin
            .prepend(label.as_bytes())
            .map_err(|e| DomainError::invalid("origin", e.to_string()))
    };
    let mname = match primary_ns {
        Some(ns) => ns,
        None => named("ns1")?,
    };
    let soa = Soa {
        mname,
        rname: named("hostmaster")?,
        serial: next_serial(0, today()),
        refresh: REFRESH,
        retry: RETRY,
        expire: EXPIRE,
        minimum: MINIMUM,
    };
    let mut zone = Zone::new(origin.clone(), DEFAULT_TTL, soa);
    zone.records = ns_names
        .into_iter()
        .map(|ns| Record {
            owner: origin.clone(),
            ttl: DEFAULT_TTL,
            rdata: RData::Ns(ns),
        })
        .collect();
    let now = Utc::now();
    let row = zone_row::ActiveModel {
        origin: Set(origin.as_str().to_owned()),
        reverse: Set(is_reverse(origin)),
        default_ttl: Set(i64::from(zone.default_ttl.0)),
        soa_ttl: Set(i64::from(zone.soa_ttl.0)),
        soa_mname: Set(zone.soa.mname.as_str().to_owned()),
        soa_rname: Set(zone.soa.rname.as_str().to_owned()),
        serial: Set(i64::from(zone.soa.serial)),
        refresh: Set(i64::from(zone.soa.refresh)),
        retry: Set(i64::from(zone.soa.retry)),
        expire: Set(i64::from(zone.soa.expire)),
        minimum: Set(i64::from(zone.soa.minimum)),
        applied_serial: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    insert_records(db, row.id, &zone.records).await?;
    let diff_text = zone
        .records
        .iter()
        .map(|r| format!("+ {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    write_version(db, row.id, &zone, actor, "zone created", &diff_text).await?;
    summary_of(&row)
}

/// Makes the transaction `txn` the zone's only writer until it ends: a
/// change reads the zone after this, so changes of one zone (from any
/// session or instance) queue rather than refuse each other. A no-op
/// update: a row lock on PostgreSQL, the write lock on SQLite (taken before
/// the read, so the transaction never has to upgrade a stale snapshot).
pub async fn lock_zone<C: ConnectionTrait>(txn: &C, zone_id: i32) -> Result<(), DomainError> {
    zone_row::Entity::update_many()
        .col_expr(zone_row::Column::Id, Expr::col(zone_row::Column::Id).into())
        .filter(zone_row::Column::Id.eq(zone_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The zone as the pure model has it, SOA included.
pub async fn load_zone<C: ConnectionTrait>(db: &C, zone_id: i32) -> Result<Zone, DomainError> {
    let row = zone_row_by_id(db, zone_id).await?;
    zone_of(db, &row).await
}

async fn zone_of<C: ConnectionTrait>(db: &C, row: &zone_row::Model) -> Result<Zone, DomainError> {
    let name = |s: &str| Name::parse(s).map_err(|e| corrupt(format!("name {s:?}: {e}")));
    let soa = Soa {
        mname: name(&row.soa_mname)?,
        rname: name(&row.soa_rname)?,
        serial: as_u32(row.serial, "serial")?,
        refresh: as_u32(row.refresh, "refresh")?,
        retry: as_u32(row.retry, "retry")?,
        expire: as_u32(row.expire, "expire")?,
        minimum: as_u32(row.minimum, "minimum")?,
    };
    let mut zone = Zone::new(
        name(&row.origin)?,
        Ttl(as_u32(row.default_ttl, "TTL")?),
        soa,
    );
    zone.soa_ttl = Ttl(as_u32(row.soa_ttl, "SOA TTL")?);
    let rows = record::Entity::find()
        .filter(record::Column::ZoneId.eq(row.id))
        .order_by_asc(record::Column::Id)
        .all(db)
        .await?;
    zone.records = rows
        .iter()
        .map(|r| {
            Ok(Record {
                owner: name(&r.owner)?,
                ttl: Ttl(as_u32(r.ttl, "TTL")?),
                rdata: serde_json::from_str(&r.rdata)
                    .map_err(|e| corrupt(format!("record {}: {e}", r.id)))?,
            })
        })
        .collect::<Result<_, DomainError>>()?;
    Ok(zone)
}

/// Replaces the RRset `owner`/`rtype` with `rdatas` (all with `ttl`); an
/// empty `rdatas` deletes it. The whole resulting zone is validated first.
pub async fn replace_rrset(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    owner: &Name,
    rtype: RecordType,
    ttl: Ttl,
    rdatas: Vec<RData>,
) -> Result<ZoneSummary, DomainError> {
    let txn = db.begin().await?;
    let out = replace_rrset_in(&txn, actor, zone_id, owner, rtype, ttl, rdatas).await?;
    txn.commit().await?;
    Ok(out)
}

/// [`replace_rrset`] inside the caller's transaction.
pub async fn replace_rrset_in<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    zone_id: i32,
    owner: &Name,
    rtype: RecordType,
    ttl: Ttl,
    rdatas: Vec<RData>,
) -> Result<ZoneSummary, DomainError> {
    if rtype == RecordType::Soa {
        return Err(DomainError::invalid(
            "type",
            "The SOA is managed by Stackyard: its serial moves with every change.",
        ));
    }
    if let Some(other) = rdatas.iter().find(|r| r.rtype() != rtype) {
        return Err(DomainError::invalid(
            "type",
            format!(
                "A {} value cannot go into the {rtype} records.",
                other.rtype()
            ),
        ));
    }
    let row = zone_row_by_id(db, zone_id).await?;
    let old = zone_of(db, &row).await?;
    let mut new = old.clone();
    new.records
        .retain(|r| !(r.rtype() == rtype && r.owner == *owner));
    let count = rdatas.len();
    new.records.extend(rdatas.into_iter().map(|rdata| Record {
        owner: owner.clone(),
        ttl,
        rdata,
    }));
    let what = if count == 0 {
        format!("{owner} {rtype} deleted")
    } else {
        format!(
            "{owner} {rtype} set ({count} record{})",
            if count == 1 { "" } else { "s" }
        )
    };
    commit(db, &row, &old, new, actor, &what).await
}

/// Replaces every record of the zone (and its `$TTL`) with those of `new`,
/// as an import does; the SOA stays managed. Validated like any change.
pub async fn replace_zone(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    new: &Zone,
    what: &str,
) -> Result<ZoneSummary, DomainError> {
    let txn = db.begin().await?;
    let out = replace_zone_in(&txn, actor, zone_id, new, what).await?;
    txn.commit().await?;
    Ok(out)
}

/// [`replace_zone`] inside the caller's transaction.
pub async fn replace_zone_in<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    zone_id: i32,
    new: &Zone,
    what: &str,
) -> Result<ZoneSummary, DomainError> {
    let row = zone_row_by_id(db, zone_id).await?;
    let old = zone_of(db, &row).await?;
    if new.origin != old.origin {
        return Err(DomainError::invalid(
            "origin",
            format!(
                "The file is for {}, this zone is {}.",
                new.origin, old.origin
            ),
        ));
    }
    let mut next = old.clone();
    next.default_ttl = new.default_ttl;
    next.records = new.records.clone();
    commit(db, &row, &old, next, actor, what).await
}

/// Makes the zone `new` (its records and `$TTL`), computed from `base` as
/// loaded earlier in the same change: the change is written only while the
/// zone still has `base`'s serial, and as the difference from `base`, so an
/// edit made meanwhile (by another session or another instance) is never
/// overwritten by a stale copy: the later change is refused instead.
pub async fn replace_zone_from<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    zone_id: i32,
    base: &Zone,
    new: &Zone,
    what: &str,
) -> Result<ZoneSummary, DomainError> {
    let row = zone_row_by_id(db, zone_id).await?;
    if i64::from(base.soa.serial) != row.serial {
        return Err(changed_meanwhile(&base.origin));
    }
    let mut next = base.clone();
    next.default_ttl = new.default_ttl;
    next.records = new.records.clone();
    commit(db, &row, base, next, actor, what).await
}

fn changed_meanwhile(origin: &Name) -> DomainError {
    DomainError::Refused(format!(
        "{origin} was changed by someone else meanwhile; reload the page and try again."
    ))
}

/// Makes the zone's records what they were in version `version_id` (as a
/// new version with a new serial: secondaries only move forward).
pub async fn revert(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    version_id: i32,
) -> Result<ZoneSummary, DomainError> {
    let v = version_row(db, zone_id, version_id).await?;
    let origin = get_zone(db, zone_id).await?.origin;
    let then = parse_zone(&origin, &v.content, ParseOptions::default()).map_err(|errs| {
        corrupt(format!(
            "version {version_id}: {}",
            errs.first().map(|e| e.to_string()).unwrap_or_default()
        ))
    })?;
    replace_zone(
        db,
        actor,
        zone_id,
        &then,
        &format!("reverted to serial {}", v.serial),
    )
    .await
}

/// Deletes a zone with its records and history.
pub async fn delete_zone(
    db: &DatabaseConnection,
    zone_id: i32,
) -> Result<ZoneSummary, DomainError> {
    let txn = db.begin().await?;
    let row = zone_row_by_id(&txn, zone_id).await?;
    // Children first: SQLite only cascades with foreign keys switched on.
    record::Entity::delete_many()
        .filter(record::Column::ZoneId.eq(zone_id))
        .exec(&txn)
        .await?;
    version::Entity::delete_many()
        .filter(version::Column::ZoneId.eq(zone_id))
        .exec(&txn)
        .await?;
    zone_row::Entity::delete_by_id(zone_id).exec(&txn).await?;
    txn.commit().await?;
    summary_of(&row)
}

/// Notes that `serial` is now installed on the primary.
pub async fn set_applied<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
    serial: u32,
) -> Result<(), DomainError> {
    zone_row::Entity::update_many()
        .col_expr(
            zone_row::Column::AppliedSerial,
            Expr::value(i64::from(serial)),
        )
        .filter(zone_row::Column::Id.eq(zone_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The zone's versions, newest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
) -> Result<Vec<VersionSummary>, DomainError> {
    zone_row_by_id(db, zone_id).await?;
    let rows = version::Entity::find()
        .filter(version::Column::ZoneId.eq(zone_id))
        .order_by_desc(version::Column::Id)
        .all(db)
        .await?;
    rows.iter()
        .map(|v| {
            Ok(VersionSummary {
                id: v.id,
                serial: as_u32(v.serial, "serial")?,
                actor: v.actor.clone(),
                at: v.at.into(),
                summary: v.summary.clone(),
            })
        })
        .collect()
}

async fn version_row<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
    version_id: i32,
) -> Result<version::Model, DomainError> {
    version::Entity::find_by_id(version_id)
        .filter(version::Column::ZoneId.eq(zone_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Version {version_id} of zone {zone_id}")))
}

/// One version with its diff and the master file as it was then.
pub async fn version_detail<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
    version_id: i32,
) -> Result<VersionDetail, DomainError> {
    let v = version_row(db, zone_id, version_id).await?;
    Ok(VersionDetail {
        summary: VersionSummary {
            id: v.id,
            serial: as_u32(v.serial, "serial")?,
            actor: v.actor.clone(),
            at: v.at.into(),
            summary: v.summary.clone(),
        },
        diff: v.diff,
        content: v.content,
    })
}

/// The single place a zone changes: validate, bump the serial, write the
/// changed RRsets and a version. `old` is the zone as stored in `row`.
async fn commit<C: ConnectionTrait>(
    db: &C,
    row: &zone_row::Model,
    old: &Zone,
    mut new: Zone,
    actor: &str,
    what: &str,
) -> Result<ZoneSummary, DomainError> {
    if let Some(p) = validate_zone(&new).into_iter().next() {
        return Err(DomainError::invalid(p.field, p.message));
    }
    let changes = diff(old, &new);
    if changes.is_empty() && new.default_ttl == old.default_ttl {
        return summary_of(row);
    }
    new.soa.serial = next_serial(old.soa.serial, today());
    let updated = zone_row::Entity::update_many()
        .col_expr(
            zone_row::Column::Serial,
            Expr::value(i64::from(new.soa.serial)),
        )
        .col_expr(
            zone_row::Column::DefaultTtl,
            Expr::value(i64::from(new.default_ttl.0)),
        )
        .col_expr(zone_row::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(zone_row::Column::Id.eq(row.id))
        .filter(zone_row::Column::Serial.eq(i64::from(old.soa.serial)))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(changed_meanwhile(&old.origin));
    }
    let mut lines = Vec::new();
    let mut gone: Vec<&RecordSet> = changes.removed.iter().collect();
    let mut added: Vec<&RecordSet> = changes.added.iter().collect();
    for c in &changes.changed {
        gone.push(&c.old);
        added.push(&c.new);
    }
    for set in gone.iter().filter(|s| s.rtype != RecordType::Soa) {
        record::Entity::delete_many()
            .filter(record::Column::ZoneId.eq(row.id))
            .filter(record::Column::Owner.eq(set.owner.as_str()))
            .filter(record::Column::Rtype.eq(set.rtype.as_str()))
            .exec(db)
            .await?;
        lines.extend(set.records.iter().map(|r| format!("- {r}")));
    }
    let mut fresh = Vec::new();
    for set in added.iter().filter(|s| s.rtype != RecordType::Soa) {
        fresh.extend(set.records.iter().cloned());
        lines.extend(set.records.iter().map(|r| format!("+ {r}")));
    }
    insert_records(db, row.id, &fresh).await?;
    if new.default_ttl != old.default_ttl {
        lines.push(format!(
            "$TTL {} → {}",
            old.default_ttl.0, new.default_ttl.0
        ));
    }
    write_version(db, row.id, &new, actor, what, &lines.join("\n")).await?;
    let mut out = summary_of(row)?;
    out.serial = new.soa.serial;
    Ok(out)
}

async fn insert_records<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
    records: &[Record],
) -> Result<(), DomainError> {
    for chunk in records.chunks(INSERT_CHUNK) {
        let rows = chunk
            .iter()
            .map(|r| {
                Ok(record::ActiveModel {
                    zone_id: Set(zone_id),
                    owner: Set(r.owner.as_str().to_owned()),
                    rtype: Set(r.rtype().as_str().to_owned()),
                    ttl: Set(i64::from(r.ttl.0)),
                    rdata: Set(serde_json::to_string(&r.rdata)
                        .map_err(|e| DomainError::Failed(format!("record not storable: {e}")))?),
                    ..Default::default()
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        record::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

async fn write_version<C: ConnectionTrait>(
    db: &C,
    zone_id: i32,
    zone: &Zone,
    actor: &str,
    what: &str,
    diff_text: &str,
) -> Result<(), DomainError> {
    version::ActiveModel {
        zone_id: Set(zone_id),
        serial: Set(i64::from(zone.soa.serial)),
        actor: Set(actor.to_owned()),
        at: Set(Utc::now()),
        summary: Set(what.to_owned()),
        diff: Set(diff_text.to_owned()),
        content: Set(render_zone(zone)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::dns::zone::txt_from_input;
    use crate::error::AppError;
    use sea_orm::Database;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    async fn sqlite() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Database::connect(url.as_str()).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        (dir, db)
    }

    fn a(s: &str) -> RData {
        RData::A(s.parse().unwrap())
    }

    /// The whole store contract, run on either database.
    async fn exercise(db: &DatabaseConnection) {
        let origin = n("example.com.");
        let z = create_zone(db, "alice", &origin).await.unwrap();
        assert!(!z.reverse);
        let (y, m, d) = today();
        assert_eq!(z.serial, y * 1_000_000 + m * 10_000 + d * 100);
        let e = create_zone(db, "alice", &n("EXAMPLE.com"))
            .await
            .unwrap_err();
        assert_eq!(
            e.for_field("origin").unwrap(),
            "The zone example.com. already exists."
        );

        let zone = load_zone(db, z.id).await.unwrap();
        assert_eq!(zone.soa.mname, n("ns1.example.com."));
        assert_eq!(zone.soa.rname, n("hostmaster.example.com."));
        assert_eq!(zone.soa.serial, z.serial);
        assert!(
            zone.records.is_empty(),
            "no DNS server configured, so no NS"
        );

        let www = n("www.example.com.");
        let s1 = replace_rrset(
            db,
            "alice",
            z.id,
            &www,
            RecordType::A,
            Ttl(300),
            vec![a("192.0.2.1"), a("192.0.2.2")],
        )
        .await
        .unwrap();
        assert_eq!(s1.serial, z.serial + 1);
        let spf = txt_from_input("v=spf1 mx ~all").unwrap();
        replace_rrset(
            db,
            "bob",
            z.id,
            &origin,
            RecordType::Txt,
            Ttl(3600),
            vec![RData::Txt(spf)],
        )
        .await
        .unwrap();

        // A CNAME where an A already is: refused, and nothing changes.
        let before = load_zone(db, z.id).await.unwrap();
        let e = replace_rrset(
            db,
            "bob",
            z.id,
            &www,
            RecordType::Cname,
            Ttl(300),
            vec![RData::Cname(n("other.example.net."))],
        )
        .await
        .unwrap_err();
        assert!(e
            .for_field("type")
            .unwrap()
            .contains("a CNAME must be the only record"));
        assert_eq!(load_zone(db, z.id).await.unwrap(), before);
        // Duplicates inside the set.
        let e = replace_rrset(
            db,
            "bob",
            z.id,
            &www,
            RecordType::A,
            Ttl(300),
            vec![a("192.0.2.9"), a("192.0.2.9")],
        )
        .await
        .unwrap_err();
        assert!(e
            .for_field("rdata")
            .unwrap()
            .starts_with("duplicate record"));
        // Wrong type for the set, and the SOA.
        assert!(replace_rrset(
            db,
            "bob",
            z.id,
            &www,
            RecordType::Mx,
            Ttl(1),
            vec![a("192.0.2.9")]
        )
        .await
        .unwrap_err()
        .for_field("type")
        .is_some());
        assert!(
            replace_rrset(db, "bob", z.id, &origin, RecordType::Soa, Ttl(1), vec![])
                .await
                .is_err()
        );
        // Outside the zone.
        let e = replace_rrset(
            db,
            "bob",
            z.id,
            &n("www.example.org."),
            RecordType::A,
            Ttl(1),
            vec![a("192.0.2.1")],
        )
        .await
        .unwrap_err();
        assert!(e.for_field("owner").is_some());
        assert_eq!(load_zone(db, z.id).await.unwrap(), before);

        // Delete bumps the serial too; an unchanged set does not.
        let s2 = replace_rrset(db, "carol", z.id, &www, RecordType::A, Ttl(300), vec![])
            .await
            .unwrap();
        assert_eq!(s2.serial, before.soa.serial + 1);
        let same = replace_rrset(db, "carol", z.id, &www, RecordType::A, Ttl(300), vec![])
            .await
            .unwrap();
        assert_eq!(same.serial, s2.serial);

        let h = history(db, z.id).await.unwrap();
        let summaries: Vec<&str> = h.iter().map(|v| v.summary.as_str()).collect();
        assert_eq!(
            summaries,
            vec![
                "www.example.com. A deleted",
                "example.com. TXT set (1 record)",
                "www.example.com. A set (2 records)",
                "zone created"
            ]
        );
        assert_eq!(h[0].actor, "carol");
        assert_eq!(h[0].serial, s2.serial);
        let detail = version_detail(db, z.id, h[2].id).await.unwrap();
        assert_eq!(
            detail.diff,
            "+ www.example.com. 300 IN A 192.0.2.1\n+ www.example.com. 300 IN A 192.0.2.2"
        );
        let deleted = version_detail(db, z.id, h[0].id).await.unwrap();
        assert!(deleted.diff.starts_with("- www.example.com. 300 IN A"));

        // Revert to the version with both A records: back, with a newer serial.
        let r = revert(db, "dave", z.id, h[1].id).await.unwrap();
        assert_eq!(r.serial, s2.serial + 1);
        let now = load_zone(db, z.id).await.unwrap();
        assert_eq!(now.records.iter().filter(|r| r.owner == www).count(), 2);
        assert_eq!(
            history(db, z.id).await.unwrap()[0].summary,
            format!("reverted to serial {}", h[1].serial)
        );

        // Lookups.
        assert_eq!(find_zone(db, &origin).await.unwrap().unwrap().id, z.id);
        assert!(find_zone(db, &n("example.org.")).await.unwrap().is_none());
        let sub = create_zone(db, "alice", &n("lab.example.com."))
            .await
            .unwrap();
        assert_eq!(
            zone_containing(db, &n("a.b.lab.example.com."))
                .await
                .unwrap()
                .unwrap()
                .id,
            sub.id
        );
        assert_eq!(zone_containing(db, &www).await.unwrap().unwrap().id, z.id);
        assert_eq!(
            zone_containing(db, &origin).await.unwrap().unwrap().id,
            z.id
        );
        assert!(zone_containing(db, &n("xexample.com."))
            .await
            .unwrap()
            .is_none());
        let rev = create_zone(db, "alice", &n("2.0.192.in-addr.arpa."))
            .await
            .unwrap();
        assert!(rev.reverse);
        let listed: Vec<String> = list_zones(db)
            .await
            .unwrap()
            .iter()
            .map(|z| z.origin.to_string())
            .collect();
        assert_eq!(
            listed,
            vec!["example.com.", "lab.example.com.", "2.0.192.in-addr.arpa."]
        );

        // Rendering of the stored zone passes the model's own parser.
        let text = render_zone(&load_zone(db, z.id).await.unwrap());
        let back = parse_zone(&origin, &text, ParseOptions::default()).unwrap();
        assert_eq!(back.records.len(), 3);

        delete_zone(db, sub.id).await.unwrap();
        assert!(matches!(
            load_zone(db, sub.id).await.map_err(AppError::from),
            Err(AppError::NotFound(_))
        ));
        assert!(history(db, sub.id).await.is_err());
    }

    #[tokio::test]
    async fn store_on_sqlite() {
        let (_dir, db) = sqlite().await;
        exercise(&db).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: `make test` starts it and sets STACKYARD_TEST_POSTGRES_URL"]
    async fn store_on_postgres() {
        let pg = migrations::testing::PostgresDb::create().await.unwrap();
        let db = Database::connect(pg.url.as_str()).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        exercise(&db).await;
        db.close().await.unwrap();
        pg.drop().await.unwrap();
    }

    #[tokio::test]
    async fn new_zones_get_ns_from_the_configured_servers() {
        let (_dir, db) = sqlite().await;
        let now = Utc::now();
        for (name, role, ns) in [
            ("ns2", "secondary", "ns2.example.net."),
            ("ns1", "primary", "ns1.example.net."),
        ] {
            server_row::ActiveModel {
                name: Set(name.into()),
                role: Set(role.into()),
                ns_name: Set(ns.into()),
                address: Set("127.0.0.1".into()),
                port: Set(53),
                zones_dir: Set("/tmp".into()),
                reload: Set("{}".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let z = create_zone(&db, "alice", &n("example.org")).await.unwrap();
        let zone = load_zone(&db, z.id).await.unwrap();
        assert_eq!(zone.soa.mname, n("ns1.example.net."));
        let ns: Vec<String> = zone.records.iter().map(|r| r.rdata.to_string()).collect();
        assert_eq!(ns, vec!["ns2.example.net.", "ns1.example.net."]);
        let e = create_zone(&db, "alice", &n("com")).await.unwrap_err();
        assert!(e.for_field("origin").unwrap().contains("top-level"));
    }

    #[tokio::test]
    async fn stale_serial_is_refused() {
        let (_dir, db) = sqlite().await;
        let z = create_zone(&db, "alice", &n("example.com.")).await.unwrap();
        let row = zone_row_by_id(&db, z.id).await.unwrap();
        let old = zone_of(&db, &row).await.unwrap();
        let mut new = old.clone();
        new.records.push(Record {
            owner: n("a.example.com."),
            ttl: Ttl(60),
            rdata: a("192.0.2.1"),
        });
        commit(&db, &row, &old, new.clone(), "x", "first")
            .await
            .unwrap();
        // Same base serial again: someone else got there first.
        let e = AppError::from(
            commit(&db, &row, &old, new, "y", "second")
                .await
                .unwrap_err(),
        );
        assert!(matches!(e, AppError::Refused(_)));
    }

    /// A change computed from a zone loaded before someone else's change is
    /// refused, not written over it (the lost update the load run found on
    /// PostgreSQL with two instances: a record acknowledged to one session
    /// was gone afterwards).
    #[tokio::test]
    async fn a_change_from_a_stale_copy_is_refused_and_loses_nothing() {
        let (_dir, db) = sqlite().await;
        let z = create_zone(&db, "alice", &n("example.com.")).await.unwrap();
        let base = load_zone(&db, z.id).await.unwrap();
        // Meanwhile, another session adds a record.
        replace_rrset(
            &db,
            "bob",
            z.id,
            &n("first.example.com."),
            RecordType::A,
            Ttl(60),
            vec![a("192.0.2.1")],
        )
        .await
        .unwrap();
        let mut mine = base.clone();
        mine.records.push(Record {
            owner: n("second.example.com."),
            ttl: Ttl(60),
            rdata: a("192.0.2.2"),
        });
        let e = replace_zone_from(&db, "alice", z.id, &base, &mine, "second added")
            .await
            .unwrap_err();
        assert!(matches!(AppError::from(e), AppError::Refused(_)));
        let now = load_zone(&db, z.id).await.unwrap();
        assert!(now
            .records
            .iter()
            .any(|r| r.owner == n("first.example.com.")));
        // From a fresh copy, it goes in beside the other.
        let mut mine = now.clone();
        mine.records.push(Record {
            owner: n("second.example.com."),
            ttl: Ttl(60),
            rdata: a("192.0.2.2"),
        });
        replace_zone_from(&db, "alice", z.id, &now, &mine, "second added")
            .await
            .unwrap();
        let after = load_zone(&db, z.id).await.unwrap();
        for owner in ["first.example.com.", "second.example.com."] {
            assert!(after.records.iter().any(|r| r.owner == n(owner)), "{owner}");
        }
    }
}
