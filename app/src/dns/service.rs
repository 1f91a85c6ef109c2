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

use crate::dns::entity::{server as server_row, tsig_key};
use crate::dns::nsd::{
    apply_zone, nsd_conf_zones, reload, zone_file_name, ApplyError, DnsServer, ReloadMethod,
    Secret, ServerRole, TsigAlgorithm, TsigKey, ZoneChecker,
};
use crate::dns::store;
use crate::dns::zone::{
    address_rdata, diff, parse_owner, parse_target, parse_zone, render_zone, reverse_name,
    reverse_zone_for, txt_from_input, Name, ParseOptions, RData, Record, RecordSet, RecordType,
    Ttl, Zone,
};
pub use crate::dns::ServerForm;
use crate::dns::{
    ApplyReport, DomainError, ImportPreview, KeyInfo, RecordForm, RecordRow, SaveOutcome,
    ServerInfo, ServersView, ZoneApplied, ZoneDetail, ZoneExport, ZoneListItem, ZoneSummary,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The name of the TSIG key Stackyard generates for its servers.
pub const KEY_NAME: &str = "stackyard-xfr";

/// Applies run one at a time: two concurrent applies of one zone would not
/// corrupt a file (renames are atomic) but the last one would win.
static APPLY_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---- record forms ----------------------------------------------------------

fn number<T: std::str::FromStr>(input: &str, name: &str, max: u64) -> Result<T, DomainError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DomainError::invalid(
            name,
            format!("Enter the {name}: a number from 0 to {max}."),
        ));
    }
    s.parse::<T>().map_err(|_| {
        DomainError::invalid(
            name,
            format!("\"{s}\" is not a {name}: enter a number from 0 to {max}."),
        )
    })
}

/// The form field an RDATA problem belongs to, for each type.
pub fn value_field(rtype: RecordType) -> &'static str {
    match rtype {
        RecordType::A | RecordType::Aaaa => "address",
        RecordType::Mx => "exchange",
        RecordType::Cname | RecordType::Ns | RecordType::Ptr | RecordType::Srv => "target",
        RecordType::Txt | RecordType::Caa | RecordType::Soa => "value",
    }
}

/// Builds the RDATA of a `rtype` record from the form, each problem named
/// by its field. Names may be relative to `origin` or absolute.
pub fn rdata_from_form(
    rtype: RecordType,
    form: &RecordForm,
    origin: &Name,
) -> Result<RData, DomainError> {
    Ok(match rtype {
        RecordType::A | RecordType::Aaaa => {
            address_rdata(rtype, &form.address).map_err(DomainError::from)?
        }
        RecordType::Cname => {
            RData::Cname(parse_target(&form.target, origin, "target").map_err(DomainError::from)?)
        }
        RecordType::Ns => {
            RData::Ns(parse_target(&form.target, origin, "target").map_err(DomainError::from)?)
        }
        RecordType::Ptr => {
            RData::Ptr(parse_target(&form.target, origin, "target").map_err(DomainError::from)?)
        }
        RecordType::Mx => RData::Mx {
            preference: number(&form.preference, "preference", 65535)?,
            exchange: parse_target(&form.exchange, origin, "exchange")
                .map_err(DomainError::from)?,
        },
        RecordType::Txt => RData::Txt(txt_from_input(&form.value).map_err(DomainError::from)?),
        RecordType::Srv => RData::Srv {
            priority: number(&form.priority, "priority", 65535)?,
            weight: number(&form.weight, "weight", 65535)?,
            port: number(&form.port, "port", 65535)?,
            target: parse_target(&form.target, origin, "target").map_err(DomainError::from)?,
        },
        RecordType::Caa => {
            let value = form.value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if value.is_empty() {
                return Err(DomainError::invalid(
                    "value",
                    "Enter the CA's domain, such as letsencrypt.org.",
                ));
            }
            RData::Caa {
                flags: number(&form.flags, "flags", 255)?,
                tag: form.tag.trim().to_ascii_lowercase(),
                value: value.as_bytes().to_vec(),
            }
        }
        RecordType::Soa => {
            return Err(DomainError::invalid(
                "type",
                "The SOA is managed by Stackyard: its serial moves with every change.",
            ))
        }
    })
}

/// The record the form describes, in the zone at `origin`; an empty TTL
/// means the zone's default.
pub fn record_from_form(
    form: &RecordForm,
    origin: &Name,
    default_ttl: Ttl,
) -> Result<Record, DomainError> {
    let rtype: RecordType = form.rtype.trim().parse().map_err(DomainError::from)?;
    let owner = parse_owner(&form.owner, origin).map_err(DomainError::from)?;
    let ttl = if form.ttl.trim().is_empty() {
        default_ttl
    } else {
        Ttl::parse(&form.ttl).map_err(DomainError::from)?
    };
    let rdata = rdata_from_form(rtype, form, origin)?;
    Ok(Record { owner, ttl, rdata })
}

/// The edit form's starting values for a stored record.
pub fn form_of(record: &Record, origin: &Name) -> RecordForm {
    let rel = |n: &Name| {
        n.relative_to(origin).map_or_else(
            || n.to_string(),
            |r| if r == "@" { n.to_string() } else { r },
        )
    };
    let mut f = RecordForm {
        owner: record
            .owner
            .relative_to(origin)
            .unwrap_or_else(|| record.owner.to_string()),
        rtype: record.rtype().as_str().to_owned(),
        ttl: record.ttl.0.to_string(),
        ..RecordForm::default()
    };
    match &record.rdata {
        RData::A(a) => f.address = a.to_string(),
        RData::Aaaa(a) => f.address = a.to_string(),
        RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => f.target = rel(n),
        RData::Mx {
            preference,
            exchange,
        } => {
            f.preference = preference.to_string();
            f.exchange = rel(exchange);
        }
        RData::Txt(_) => f.value = record.rdata.to_string(),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            f.priority = priority.to_string();
            f.weight = weight.to_string();
            f.port = port.to_string();
            f.target = rel(target);
        }
        RData::Caa { flags, tag, value } => {
            f.flags = flags.to_string();
            f.tag = tag.clone();
            f.value = String::from_utf8_lossy(value).into_owned();
        }
        RData::Soa(_) => {}
    }
    f
}

/// A store refusal about the RDATA ("rdata", e.g. a duplicate) belongs next
/// to the type's value field on the form.
fn on_form(e: DomainError, rtype: RecordType) -> DomainError {
    match e {
        DomainError::Invalid(e) if e.field == "rdata" => {
            DomainError::invalid(value_field(rtype), e.message)
        }
        other => other,
    }
}

/// A store refusal, whatever field it named, belongs to `field` of the
/// form at hand (the network of a new reverse zone, the PTR box).
fn refused_as(field: &'static str) -> impl Fn(DomainError) -> DomainError {
    move |e| match e {
        DomainError::Invalid(e) => DomainError::invalid(field, e.message),
        other => other,
    }
}

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
    let origin = Name::parse(d).map_err(|e| DomainError::invalid("origin", e.to_string()))?;
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

/// Record key sent to the page: the record's JSON.
fn key_of(r: &Record) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// The record a key names, in words (`www.example.com. 3600 IN A 192.0.2.1`),
/// for the audit log; empty when the key is not a record.
pub fn record_in_words(key: &str) -> String {
    serde_json::from_str::<Record>(key)
        .map(|r| r.to_string())
        .unwrap_or_default()
}

fn record_of_key(key: &str) -> Result<Record, DomainError> {
    serde_json::from_str(key).map_err(|_| {
        DomainError::Refused("That record is no longer in the zone; reload the page.".into())
    })
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

async fn reverse_zones<C: ConnectionTrait>(db: &C) -> Result<Vec<Zone>, DomainError> {
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

fn address_of(r: &Record) -> Option<IpAddr> {
    match r.rdata {
        RData::A(a) => Some(IpAddr::V4(a)),
        RData::Aaaa(a) => Some(IpAddr::V6(a)),
        _ => None,
    }
}

fn ptr_exists(reverse: &[Zone], ip: IpAddr, owner: &Name) -> bool {
    let name = reverse_name(ip);
    reverse.iter().any(|z| {
        z.records
            .iter()
            .any(|r| r.owner == name && r.rdata == RData::Ptr(owner.clone()))
    })
}

/// Whether to keep a PTR with an A/AAAA record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PtrChoice {
    /// Create or update the PTR in the matching reverse zone.
    pub also_ptr: bool,
    /// Create the reverse zone (/24, /64) when none holds the address.
    pub create_reverse: bool,
}

impl PtrChoice {
    /// The record form's two checkboxes, as posted (`on`, or absent).
    pub fn ticked(also_ptr: Option<&str>, create_reverse: Option<&str>) -> Self {
        let on = |v: Option<&str>| v.is_some_and(|v| v == "on" || v == "true");
        Self {
            also_ptr: on(also_ptr),
            create_reverse: on(create_reverse),
        }
    }
}

/// What the audit log says of a record save: `www A added`, `www A edited;
/// PTR …` with the PTR note once it is known.
pub fn save_summary(form: &RecordForm, edited: bool, ptr: Option<&str>) -> String {
    format!(
        "{} {} {}{}",
        form.owner.trim(),
        form.rtype,
        if edited { "edited" } else { "added" },
        ptr.map(|p| format!("; {p}")).unwrap_or_default()
    )
}

/// Adds a record, or replaces `original` with it, in one transaction with
/// its PTR: the old address's PTR back to the old name is removed, and with
/// `ptr.also_ptr` the new address's PTR set to the record's name.
pub async fn save_record(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    original: Option<&str>,
    form: &RecordForm,
    ptr: PtrChoice,
) -> Result<SaveOutcome, DomainError> {
    let txn = db.begin().await?;
    let zone = store::load_zone(&txn, zone_id).await?;
    let record = record_from_form(form, &zone.origin, zone.default_ttl)?;
    let rtype = record.rtype();
    if ptr.also_ptr && address_of(&record).is_none() {
        return Err(DomainError::invalid(
            "also_ptr",
            "Only A and AAAA records have a PTR.",
        ));
    }
    let original = original.map(record_of_key).transpose()?;
    let mut new = zone.clone();
    if let Some(old) = &original {
        let before = new.records.len();
        new.records
            .retain(|r| !(r.owner == old.owner && r.rdata == old.rdata));
        if new.records.len() == before {
            return Err(DomainError::Refused(
                "That record was changed or deleted meanwhile; reload the page.".into(),
            ));
        }
    }
    // One TTL per RRset (RFC 2181 §5.2): the saved TTL applies to the set.
    for r in new
        .records
        .iter_mut()
        .filter(|r| r.owner == record.owner && r.rtype() == rtype)
    {
        r.ttl = record.ttl;
    }
    new.records.push(record.clone());
    let what = match &original {
        Some(old) => format!(
            "{} {} edited: {} → {}",
            record.owner, rtype, old.rdata, record.rdata
        ),
        None => format!("{} {} {} added", record.owner, rtype, record.rdata),
    };
    let summary = store::replace_zone_in(&txn, actor, zone_id, &new, &what)
        .await
        .map_err(|e| on_form(e, rtype))?;
    let mut notes = Vec::new();
    if let Some(old) = &original {
        if let Some(ip) = address_of(old) {
            if address_of(&record) != Some(ip) || old.owner != record.owner || !ptr.also_ptr {
                if let Some(n) = remove_ptr(&txn, actor, ip, &old.owner).await? {
                    notes.push(n);
                }
            }
        }
    }
    if ptr.also_ptr {
        if let Some(ip) = address_of(&record) {
            notes.push(set_ptr(&txn, actor, ip, &record.owner, ptr.create_reverse).await?);
        }
    }
    txn.commit().await?;
    Ok(SaveOutcome {
        zone: summary,
        ptr: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

async fn set_ptr<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    ip: IpAddr,
    owner: &Name,
    create: bool,
) -> Result<String, DomainError> {
    let name = reverse_name(ip);
    let zone = match store::zone_containing(db, &name).await? {
        Some(z) => z,
        None if create => {
            let prefix = if ip.is_ipv4() { 24 } else { 64 };
            let origin = reverse_zone_for(ip, prefix)
                .map_err(|e| DomainError::invalid("also_ptr", e.message))?;
            store::create_zone_in(db, actor, &origin).await?
        }
        None => {
            return Err(DomainError::invalid(
                "also_ptr",
                format!(
                    "No reverse zone holds {ip} ({name}); tick \"create the reverse zone\" or create it on the DNS page first."
                ),
            ))
        }
    };
    let ttl = store::load_zone(db, zone.id).await?.default_ttl;
    store::replace_rrset_in(
        db,
        actor,
        zone.id,
        &name,
        RecordType::Ptr,
        ttl,
        vec![RData::Ptr(owner.clone())],
    )
    .await
    .map_err(refused_as("also_ptr"))?;
    Ok(format!("PTR {name} → {owner} in {}", zone.origin))
}

/// Removes the PTR of `ip` that points at `owner`, if there is one.
async fn remove_ptr<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    ip: IpAddr,
    owner: &Name,
) -> Result<Option<String>, DomainError> {
    let name = reverse_name(ip);
    let Some(zone) = store::zone_containing(db, &name).await? else {
        return Ok(None);
    };
    let z = store::load_zone(db, zone.id).await?;
    let set: Vec<&Record> = z
        .records
        .iter()
        .filter(|r| r.owner == name && r.rtype() == RecordType::Ptr)
        .collect();
    let target = RData::Ptr(owner.clone());
    if !set.iter().any(|r| r.rdata == target) {
        return Ok(None);
    }
    let ttl = set.first().map_or(z.default_ttl, |r| r.ttl);
    let rest: Vec<RData> = set
        .iter()
        .map(|r| r.rdata.clone())
        .filter(|d| *d != target)
        .collect();
    store::replace_rrset_in(db, actor, zone.id, &name, RecordType::Ptr, ttl, rest).await?;
    Ok(Some(format!(
        "PTR {name} → {owner} removed from {}",
        zone.origin
    )))
}

/// Deletes one record, and the PTR of an address record that points at it.
pub async fn delete_record(
    db: &DatabaseConnection,
    actor: &str,
    zone_id: i32,
    key: &str,
) -> Result<SaveOutcome, DomainError> {
    let record = record_of_key(key)?;
    let txn = db.begin().await?;
    let zone = store::load_zone(&txn, zone_id).await?;
    let set: Vec<RData> = zone
        .records
        .iter()
        .filter(|r| r.owner == record.owner && r.rtype() == record.rtype())
        .map(|r| r.rdata.clone())
        .collect();
    if !set.contains(&record.rdata) {
        return Err(DomainError::Refused(
            "That record was changed or deleted meanwhile; reload the page.".into(),
        ));
    }
    let ttl = zone
        .records
        .iter()
        .find(|r| r.owner == record.owner && r.rtype() == record.rtype())
        .map_or(record.ttl, |r| r.ttl);
    let rest: Vec<RData> = set.into_iter().filter(|d| *d != record.rdata).collect();
    let summary = store::replace_rrset_in(
        &txn,
        actor,
        zone_id,
        &record.owner,
        record.rtype(),
        ttl,
        rest,
    )
    .await?;
    let ptr = match address_of(&record) {
        Some(ip) => remove_ptr(&txn, actor, ip, &record.owner).await?,
        None => None,
    };
    txn.commit().await?;
    Ok(SaveOutcome { zone: summary, ptr })
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
    let parsed = match parse_zone(
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
    for p in crate::dns::zone::validate_zone(&parsed) {
        let at = p
            .record
            .and_then(|i| parsed.records.get(i))
            .map(|r| format!("{r}: "))
            .unwrap_or_default();
        preview.errors.push(format!("{at}{}", p.message));
    }
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

// ---- servers and the TSIG key ----------------------------------------------

fn reload_in_words(m: &ReloadMethod) -> String {
    match m {
        ReloadMethod::NsdControl { config } => {
            format!("nsd-control -c {} reload", config.display())
        }
        ReloadMethod::Command(args) => args.join(" "),
        ReloadMethod::Signal(pid) => format!("SIGHUP to the pid in {}", pid.display()),
    }
}

fn parse_reload(kind: &str, value: &str) -> Result<ReloadMethod, DomainError> {
    let v = value.trim();
    match kind {
        "nsd_control" => {
            if !v.starts_with('/') {
                return Err(DomainError::invalid(
                    "reload_value",
                    "Enter the absolute path of the server's nsd.conf, such as /etc/nsd/nsd.conf.",
                ));
            }
            Ok(ReloadMethod::NsdControl {
                config: PathBuf::from(v),
            })
        }
        "command" => {
            let args: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
            if args.is_empty() {
                return Err(DomainError::invalid(
                    "reload_value",
                    "Enter the command, such as systemctl reload nsd.",
                ));
            }
            Ok(ReloadMethod::Command(args))
        }
        "signal" => {
            if !v.starts_with('/') {
                return Err(DomainError::invalid(
                    "reload_value",
                    "Enter the absolute path of NSD's pidfile, such as /run/nsd/nsd.pid.",
                ));
            }
            Ok(ReloadMethod::Signal(PathBuf::from(v)))
        }
        other => Err(DomainError::invalid(
            "reload_kind",
            format!("\"{other}\" is not a reload method."),
        )),
    }
}

/// The form's `reload_kind` and `reload_value` for a stored method.
fn reload_fields(m: &ReloadMethod) -> (String, String) {
    match m {
        ReloadMethod::NsdControl { config } => ("nsd_control".into(), config.display().to_string()),
        ReloadMethod::Command(args) => ("command".into(), args.join(" ")),
        ReloadMethod::Signal(pid) => ("signal".into(), pid.display().to_string()),
    }
}

fn info_of(row: &server_row::Model) -> ServerInfo {
    let method = serde_json::from_str::<ReloadMethod>(&row.reload).ok();
    let reload = method
        .as_ref()
        .map_or_else(|| "unreadable".into(), reload_in_words);
    let (reload_kind, reload_value) = method.as_ref().map(reload_fields).unwrap_or_default();
    ServerInfo {
        reload_kind,
        reload_value,
        id: row.id,
        name: row.name.clone(),
        role: row.role.clone(),
        ns_name: row.ns_name.clone(),
        address: row.address.clone(),
        port: u16::try_from(row.port).unwrap_or(0),
        zones_dir: row.zones_dir.clone(),
        reload,
    }
}

fn nsd_server(row: &server_row::Model) -> Result<DnsServer, DomainError> {
    let bad = |what: &str| {
        tracing::error!("dns server {}: unreadable {what}", row.id);
        DomainError::Failed(format!(
            "The entry of DNS server {} cannot be read ({what}).",
            row.name
        ))
    };
    Ok(DnsServer {
        name: row.name.clone(),
        role: if row.role == "primary" {
            ServerRole::Primary
        } else {
            ServerRole::Secondary
        },
        address: row.address.parse().map_err(|_| bad("address"))?,
        port: u16::try_from(row.port).map_err(|_| bad("port"))?,
        reload: serde_json::from_str(&row.reload).map_err(|_| bad("reload method"))?,
    })
}

/// The servers and the key (without its secret).
pub async fn servers(db: &DatabaseConnection) -> Result<ServersView, DomainError> {
    let rows = server_row::Entity::find()
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await?;
    let key = tsig_key::Entity::find().one(db).await?.map(|k| KeyInfo {
        name: k.name.clone(),
        algorithm: k.algorithm.clone(),
        created_at: k.created_at,
    });
    Ok(ServersView {
        servers: rows.iter().map(info_of).collect(),
        key,
    })
}

/// Adds a server entry; the first one also generates the TSIG key.
pub async fn add_server(
    db: &DatabaseConnection,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    save_server(db, None, form).await
}

/// Changes a server entry: the same checks as [`add_server`], the entry
/// itself aside. The TSIG key stays; the nsd.conf clauses of every server
/// change with the addresses, so the page offers them again.
pub async fn update_server(
    db: &DatabaseConnection,
    id: i32,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    save_server(db, Some(id), form).await
}

async fn save_server(
    db: &DatabaseConnection,
    id: Option<i32>,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    let name = form.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(DomainError::invalid(
            "name",
            "Enter a name of at most 64 characters, such as ns1.",
        ));
    }
    let role = match form.role.as_str() {
        "primary" | "secondary" => form.role.as_str(),
        other => {
            return Err(DomainError::invalid(
                "role",
                format!("\"{other}\" is not a role: primary or secondary."),
            ))
        }
    };
    let ns_name = Name::parse(form.ns_name.trim().trim_end_matches('.'))
        .map_err(|e| DomainError::invalid("ns_name", e.to_string()))?;
    if ns_name.label_count() < 2 {
        return Err(DomainError::invalid(
            "ns_name",
            "Enter the server's host name, such as ns1.example.com.",
        ));
    }
    let address: IpAddr = form.address.trim().parse().map_err(|_| {
        DomainError::invalid(
            "address",
            format!(
                "\"{}\" is not an IPv4 or IPv6 address.",
                form.address.trim()
            ),
        )
    })?;
    let port: u16 = match form.port.trim() {
        "" => 53,
        p => p.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
            DomainError::invalid(
                "port",
                format!("\"{p}\" is not a port: enter a number from 1 to 65535."),
            )
        })?,
    };
    let zones_dir = form.zones_dir.trim();
    if role == "primary" && !zones_dir.starts_with('/') {
        return Err(DomainError::invalid(
            "zones_dir",
            "Enter the absolute directory NSD reads the zone files from, such as /etc/nsd/zones.",
        ));
    }
    if zones_dir.contains(['"', '\n', '\r']) {
        return Err(DomainError::invalid(
            "zones_dir",
            "The directory may not contain quotes or line breaks.",
        ));
    }
    let reload = parse_reload(form.reload_kind.trim(), &form.reload_value)?;
    let txn = db.begin().await?;
    let all = server_row::Entity::find().all(&txn).await?;
    let existing = match id {
        Some(id) => Some(
            all.iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?,
        ),
        None => None,
    };
    let rows: Vec<_> = all.into_iter().filter(|r| Some(r.id) != id).collect();
    if rows.iter().any(|r| r.name == name) {
        return Err(DomainError::invalid(
            "name",
            format!("A DNS server is already called {name}."),
        ));
    }
    if role == "primary" {
        if let Some(p) = rows.iter().find(|r| r.role == "primary") {
            return Err(DomainError::invalid(
                "role",
                format!(
                    "{} is already the primary; Stackyard's zones have one primary.",
                    p.name
                ),
            ));
        }
    }
    if rows
        .iter()
        .any(|r| r.address == address.to_string() && r.port == i32::from(port))
    {
        return Err(DomainError::invalid(
            "address",
            format!("Another server already answers on {address} port {port}."),
        ));
    }
    let now = Utc::now();
    let reload = serde_json::to_string(&reload).map_err(|e| DomainError::Failed(e.to_string()))?;
    let row = match existing {
        Some(old) => {
            let mut row: server_row::ActiveModel = old.into();
            row.name = Set(name.to_owned());
            row.role = Set(role.to_owned());
            row.ns_name = Set(ns_name.as_str().to_owned());
            row.address = Set(address.to_string());
            row.port = Set(i32::from(port));
            row.zones_dir = Set(zones_dir.to_owned());
            row.reload = Set(reload);
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            server_row::ActiveModel {
                name: Set(name.to_owned()),
                role: Set(role.to_owned()),
                ns_name: Set(ns_name.as_str().to_owned()),
                address: Set(address.to_string()),
                port: Set(i32::from(port)),
                zones_dir: Set(zones_dir.to_owned()),
                reload: Set(reload),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    if tsig_key::Entity::find().one(&txn).await?.is_none() {
        store_new_key(&txn).await?;
    }
    txn.commit().await?;
    Ok(info_of(&row))
}

/// Removes a server entry.
pub async fn remove_server(db: &DatabaseConnection, id: i32) -> Result<ServerInfo, DomainError> {
    let row = server_row::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?;
    server_row::Entity::delete_by_id(id).exec(db).await?;
    Ok(info_of(&row))
}

async fn store_new_key<C: ConnectionTrait>(db: &C) -> Result<KeyInfo, DomainError> {
    let key = TsigKey::generate(KEY_NAME)
        .map_err(|e| DomainError::Failed(format!("no TSIG key: {e}")))?;
    tsig_key::Entity::delete_many().exec(db).await?;
    let row = tsig_key::ActiveModel {
        name: Set(key.name().to_owned()),
        algorithm: Set(key.algorithm().as_str().to_owned()),
        secret: Set(key.secret().reveal_base64()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(KeyInfo {
        name: row.name,
        algorithm: row.algorithm,
        created_at: row.created_at,
    })
}

/// Replaces the TSIG key with a newly generated one (every server's
/// nsd.conf must then be regenerated).
pub async fn rotate_key(db: &DatabaseConnection) -> Result<KeyInfo, DomainError> {
    let txn = db.begin().await?;
    let info = store_new_key(&txn).await?;
    txn.commit().await?;
    Ok(info)
}

/// The TSIG key with its secret, for nsd.conf and an admin who asks.
pub async fn tsig(db: &DatabaseConnection) -> Result<TsigKey, DomainError> {
    let row = tsig_key::Entity::find().one(db).await?.ok_or_else(|| {
        DomainError::Refused("There is no TSIG key yet: add a DNS server first.".into())
    })?;
    if row.algorithm != TsigAlgorithm::HmacSha256.as_str() {
        return Err(DomainError::Failed(format!(
            "unknown TSIG algorithm {}",
            row.algorithm
        )));
    }
    let secret = Secret::from_base64(&row.secret)
        .map_err(|e| DomainError::Failed(format!("stored TSIG secret unreadable: {e}")))?;
    TsigKey::new(&row.name, TsigAlgorithm::HmacSha256, secret)
        .map_err(|e| DomainError::Failed(e.to_string()))
}

/// The TSIG secret in base64, for an admin who asks.
pub async fn reveal_secret(db: &DatabaseConnection) -> Result<String, DomainError> {
    Ok(tsig(db).await?.secret().reveal_base64())
}

/// nsd.conf's `key:` and `zone:` clauses for server `id`, for every zone.
/// Contains the TSIG secret.
pub async fn server_conf(db: &DatabaseConnection, id: i32) -> Result<String, DomainError> {
    let rows = server_row::Entity::find()
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await?;
    let row = rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?;
    let all = rows.iter().map(nsd_server).collect::<Result<Vec<_>, _>>()?;
    let zones: Vec<Name> = store::list_zones(db)
        .await?
        .into_iter()
        .map(|z| z.origin)
        .collect();
    let key = tsig(db).await?;
    Ok(nsd_conf_zones(&nsd_server(row)?, &all, &zones, &key)?)
}

// ---- apply -------------------------------------------------------------------

/// Installs every zone (or only `zone_id`) on the primary: each file is
/// written beside the old one, checked by `checker` (nsd-checkzone) and only
/// then renamed over it; a refused zone keeps the old file and its message
/// is reported. Then the primary is reloaded once, if anything was
/// installed; NSD's NOTIFY brings the secondaries along.
pub async fn apply(
    db: &DatabaseConnection,
    zone_id: Option<i32>,
    checker: Arc<dyn ZoneChecker>,
) -> Result<ApplyReport, DomainError> {
    let _one_at_a_time = APPLY_LOCK.lock().await;
    let primary = server_row::Entity::find()
        .filter(server_row::Column::Role.eq("primary"))
        .one(db)
        .await?
        .ok_or_else(|| {
            DomainError::Refused("Add the primary DNS server first (DNS servers page).".into())
        })?;
    let method = nsd_server(&primary)?.reload;
    let zonesdir = PathBuf::from(&primary.zones_dir);
    let zones = match zone_id {
        Some(id) => vec![store::get_zone(db, id).await?],
        None => store::list_zones(db).await?,
    };
    let mut report = ApplyReport {
        zones: Vec::new(),
        reload: None,
    };
    for summary in &zones {
        let zone = store::load_zone(db, summary.id).await?;
        let serial = zone.soa.serial;
        let dir = zonesdir.clone();
        let check = Arc::clone(&checker);
        let result = tokio::task::spawn_blocking(move || apply_zone(&dir, &zone, check.as_ref()))
            .await
            .map_err(|e| DomainError::Failed(format!("the apply task failed: {e}")))?;
        let (installed, message) = match result {
            Ok(outcome) => {
                store::set_applied(db, summary.id, serial).await?;
                (true, format!("installed {}", outcome.path.display()))
            }
            Err(ApplyError::Rejected { message }) => (false, message),
            Err(e) => (false, e.to_string()),
        };
        report.zones.push(ZoneApplied {
            origin: summary.origin.to_string(),
            serial,
            installed,
            message,
        });
    }
    if report.zones.iter().any(|z| z.installed) {
        let only = match zones.as_slice() {
            [one] => Some(one.origin.clone()),
            _ => None,
        };
        let done = tokio::task::spawn_blocking(move || reload(&method, only.as_ref()))
            .await
            .map_err(|e| DomainError::Failed(format!("the reload task failed: {e}")))?;
        report.reload = Some(match done {
            Ok(o) => Ok(if o.output.trim().is_empty() {
                o.action
            } else {
                format!("{}: {}", o.action, o.output.trim())
            }),
            Err(e) => Err(e.to_string()),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
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

    fn a_form(owner: &str, address: &str) -> RecordForm {
        RecordForm {
            owner: owner.into(),
            rtype: "A".into(),
            address: address.into(),
            ..Default::default()
        }
    }

    #[test]
    fn forms_become_records_with_field_messages() {
        let origin = n("example.com.");
        let r = record_from_form(&a_form("www", "192.0.2.1"), &origin, Ttl(3600)).unwrap();
        assert_eq!(r.to_string(), "www.example.com. 3600 IN A 192.0.2.1");
        let e = record_from_form(&a_form("www", "192.0.2.300"), &origin, Ttl(3600)).unwrap_err();
        assert!(e
            .for_field("address")
            .unwrap()
            .contains("is not an IPv4 address"));
        let e = record_from_form(&a_form("www", "2001:db8::1"), &origin, Ttl(3600)).unwrap_err();
        assert!(e.for_field("address").unwrap().contains("IPv6"));
        let e = record_from_form(&a_form("www.example.org.", "192.0.2.1"), &origin, Ttl(1))
            .unwrap_err();
        assert!(e.for_field("owner").unwrap().contains("outside the zone"));
        let long = "a".repeat(64);
        assert!(
            record_from_form(&a_form(&long, "192.0.2.1"), &origin, Ttl(1))
                .unwrap_err()
                .for_field("owner")
                .is_some()
        );
        let mut f = a_form("bücher", "192.0.2.1");
        f.ttl = "2147483648".into();
        assert!(record_from_form(&f, &origin, Ttl(1))
            .unwrap_err()
            .for_field("ttl")
            .is_some());
        f.ttl = "1h".into();
        assert_eq!(
            record_from_form(&f, &origin, Ttl(1)).unwrap().owner,
            n("xn--bcher-kva.example.com.")
        );

        // The paper's TXT values (Table 1) pasted exactly as printed there.
        let spf = "v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all";
        let txt = RecordForm {
            owner: "@".into(),
            rtype: "TXT".into(),
            value: format!("\"{spf}\""),
            ..Default::default()
        };
        let r = record_from_form(&txt, &origin, Ttl(1)).unwrap();
        assert_eq!(r.rdata, RData::Txt(vec![spf.as_bytes().to_vec()]));
        assert_eq!(r.rdata.to_string(), format!("\"{spf}\""));
        let google = "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U";
        let txt = RecordForm {
            value: google.into(),
            ..txt
        };
        assert_eq!(
            record_from_form(&txt, &origin, Ttl(1)).unwrap().rdata,
            RData::Txt(vec![google.as_bytes().to_vec()])
        );
        let long_txt = RecordForm {
            value: "x".repeat(600),
            ..txt
        };
        match record_from_form(&long_txt, &origin, Ttl(1)).unwrap().rdata {
            RData::Txt(s) => assert_eq!(
                s.iter().map(Vec::len).collect::<Vec<_>>(),
                vec![255, 255, 90]
            ),
            other => panic!("{other:?}"),
        }

        let mx = RecordForm {
            owner: "@".into(),
            rtype: "MX".into(),
            exchange: "mail".into(),
            preference: "x".into(),
            ..Default::default()
        };
        assert!(record_from_form(&mx, &origin, Ttl(1))
            .unwrap_err()
            .for_field("preference")
            .is_some());
        let mx = RecordForm {
            preference: "10".into(),
            ..mx
        };
        assert_eq!(
            record_from_form(&mx, &origin, Ttl(1))
                .unwrap()
                .rdata
                .to_string(),
            "10 mail.example.com."
        );
        let srv = RecordForm {
            owner: "_sip._tcp".into(),
            rtype: "SRV".into(),
            priority: "1".into(),
            weight: "2".into(),
            port: "70000".into(),
            target: "sip".into(),
            ..Default::default()
        };
        assert!(record_from_form(&srv, &origin, Ttl(1))
            .unwrap_err()
            .for_field("port")
            .is_some());
        let bad = RecordForm {
            rtype: "HINFO".into(),
            owner: "x".into(),
            ..Default::default()
        };
        assert!(record_from_form(&bad, &origin, Ttl(1))
            .unwrap_err()
            .for_field("type")
            .is_some());
        // Round trip through the edit form.
        for r in [
            record_from_form(&mx, &origin, Ttl(1)).unwrap(),
            record_from_form(&a_form("www", "192.0.2.1"), &origin, Ttl(1)).unwrap(),
            record_from_form(
                &RecordForm {
                    value: "\"a b\" \"c\"".into(),
                    owner: "t".into(),
                    rtype: "TXT".into(),
                    ..Default::default()
                },
                &origin,
                Ttl(1),
            )
            .unwrap(),
        ] {
            assert_eq!(
                record_from_form(&form_of(&r, &origin), &origin, Ttl(9)).unwrap(),
                r
            );
        }
    }

    #[tokio::test]
    async fn a_record_with_ptr_creates_updates_and_removes_it() {
        let (_dir, db) = sqlite().await;
        let z = create_forward(&db, "alice", "example.com").await.unwrap();
        // No reverse zone and not asked to create one: refused, nothing saved.
        let e = save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.10"),
            PtrChoice {
                also_ptr: true,
                create_reverse: false,
            },
        )
        .await
        .unwrap_err();
        assert!(e
            .for_field("also_ptr")
            .unwrap()
            .contains("No reverse zone holds 192.0.2.10"));
        assert!(store::load_zone(&db, z.id)
            .await
            .unwrap()
            .records
            .is_empty());
        // A bad address: message by the field, nothing saved.
        let e = save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.300"),
            PtrChoice::default(),
        )
        .await
        .unwrap_err();
        assert!(e.for_field("address").is_some());

        let out = save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.10"),
            PtrChoice {
                also_ptr: true,
                create_reverse: true,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            out.ptr.unwrap(),
            "PTR 10.2.0.192.in-addr.arpa. → www.example.com. in 2.0.192.in-addr.arpa."
        );
        let rev = store::find_zone(&db, &n("2.0.192.in-addr.arpa."))
            .await
            .unwrap()
            .unwrap();
        let ptrs = |z: Zone| {
            z.records
                .iter()
                .filter(|r| r.rtype() == RecordType::Ptr)
                .map(|r| format!("{} {}", r.owner, r.rdata))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ptrs(store::load_zone(&db, rev.id).await.unwrap()),
            vec!["10.2.0.192.in-addr.arpa. www.example.com."]
        );
        let detail = detail(&db, z.id).await.unwrap();
        assert!(detail.records[0].has_ptr);

        // Duplicate: refused next to the address.
        let e = save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.10"),
            PtrChoice::default(),
        )
        .await
        .unwrap_err();
        assert!(e
            .for_field("address")
            .unwrap()
            .starts_with("duplicate record"));

        // Edit the address: the PTR moves.
        let key = detail.records[0].key.clone();
        save_record(
            &db,
            "bob",
            z.id,
            Some(&key),
            &a_form("www", "192.0.2.11"),
            PtrChoice {
                also_ptr: true,
                create_reverse: false,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            ptrs(store::load_zone(&db, rev.id).await.unwrap()),
            vec!["11.2.0.192.in-addr.arpa. www.example.com."]
        );
        // Delete: the PTR goes too.
        let key = detail_key(&db, z.id).await;
        let out = delete_record(&db, "bob", z.id, &key).await.unwrap();
        assert!(out.ptr.unwrap().contains("removed"));
        assert!(ptrs(store::load_zone(&db, rev.id).await.unwrap()).is_empty());
        assert!(store::load_zone(&db, z.id)
            .await
            .unwrap()
            .records
            .is_empty());
    }

    async fn detail_key(db: &DatabaseConnection, id: i32) -> String {
        detail(db, id).await.unwrap().records[0].key.clone()
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

        let s = import(&db, "carol", z.id, text).await.unwrap();
        let zone = store::load_zone(&db, z.id).await.unwrap();
        assert_eq!(zone.records.len(), 3);
        assert_eq!(zone.soa.serial, s.serial);
        assert_ne!(zone.soa.serial, 5);
        let e = export(&db, z.id).await.unwrap();
        assert_eq!(e.file_name, "example.com.zone");
        assert!(e.text.contains("mail\t\tIN\tA\t192.0.2.3"));
    }

    #[tokio::test]
    async fn servers_key_and_conf() {
        let (_dir, db) = sqlite().await;
        let form = ServerForm {
            name: "ns1".into(),
            role: "primary".into(),
            ns_name: "ns1.example.com".into(),
            address: "192.0.2.53".into(),
            port: "".into(),
            zones_dir: "relative".into(),
            reload_kind: "nsd_control".into(),
            reload_value: "/etc/nsd/nsd.conf".into(),
        };
        assert!(add_server(&db, &form)
            .await
            .unwrap_err()
            .for_field("zones_dir")
            .is_some());
        let form = ServerForm {
            zones_dir: "/etc/nsd/zones".into(),
            ..form
        };
        assert!(add_server(
            &db,
            &ServerForm {
                address: "192.0.2".into(),
                ..form.clone()
            }
        )
        .await
        .unwrap_err()
        .for_field("address")
        .is_some());
        let p = add_server(&db, &form).await.unwrap();
        assert_eq!(p.port, 53);
        let e = add_server(
            &db,
            &ServerForm {
                name: "ns9".into(),
                address: "192.0.2.99".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("role").unwrap().contains("already the primary"));
        let s = add_server(
            &db,
            &ServerForm {
                name: "ns2".into(),
                role: "secondary".into(),
                ns_name: "ns2.example.com".into(),
                address: "192.0.2.54".into(),
                zones_dir: "".into(),
                reload_kind: "command".into(),
                reload_value: "systemctl reload nsd".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap();
        let view = servers(&db).await.unwrap();
        assert_eq!(view.key.unwrap().algorithm, "hmac-sha256");
        let z = create_forward(&db, "alice", "example.com").await.unwrap();
        let zone = store::load_zone(&db, z.id).await.unwrap();
        assert_eq!(zone.soa.mname, n("ns1.example.com."));
        assert_eq!(zone.records.len(), 2);
        let conf = server_conf(&db, p.id).await.unwrap();
        let secret = tsig(&db).await.unwrap().secret().reveal_base64();
        assert!(conf.contains(&secret));
        assert!(
            conf.contains("notify: 192.0.2.54@53 stackyard-xfr"),
            "{conf}"
        );
        let conf2 = server_conf(&db, s.id).await.unwrap();
        assert!(
            conf2.contains("request-xfr: AXFR 192.0.2.53@53 stackyard-xfr"),
            "{conf2}"
        );
        rotate_key(&db).await.unwrap();
        assert_ne!(tsig(&db).await.unwrap().secret().reveal_base64(), secret);

        // Editing: the entry's own name, address and primary role are not
        // conflicts with itself; other entries' still are.
        let ns2 = servers(&db).await.unwrap().servers[1].clone();
        assert_eq!(
            (ns2.reload_kind.as_str(), ns2.reload_value.as_str()),
            ("command", "systemctl reload nsd")
        );
        let edit = ServerForm {
            name: ns2.name.clone(),
            role: ns2.role.clone(),
            ns_name: ns2.ns_name.clone(),
            address: "192.0.2.55".into(),
            port: "5353".into(),
            zones_dir: ns2.zones_dir.clone(),
            reload_kind: "signal".into(),
            reload_value: "/run/nsd/nsd.pid".into(),
        };
        let changed = update_server(&db, s.id, &edit).await.unwrap();
        assert_eq!(
            (changed.address.as_str(), changed.port),
            ("192.0.2.55", 5353)
        );
        assert_eq!(changed.reload, "SIGHUP to the pid in /run/nsd/nsd.pid");
        let conf = server_conf(&db, p.id).await.unwrap();
        assert!(
            conf.contains("notify: 192.0.2.55@5353 stackyard-xfr"),
            "{conf}"
        );
        let e = update_server(
            &db,
            s.id,
            &ServerForm {
                name: "ns1".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(
            e.for_field("name").unwrap().contains("already called ns1"),
            "{e}"
        );
        let e = update_server(
            &db,
            s.id,
            &ServerForm {
                role: "primary".into(),
                zones_dir: "/z".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(
            e.for_field("role")
                .unwrap()
                .contains("ns1 is already the primary"),
            "{e}"
        );
        let e = update_server(
            &db,
            s.id,
            &ServerForm {
                address: "192.0.2.53".into(),
                port: "".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("address").is_some(), "{e}");
        let e = update_server(
            &db,
            s.id,
            &ServerForm {
                port: "0".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("port").is_some(), "{e}");
        // Refused edits changed nothing.
        assert_eq!(servers(&db).await.unwrap().servers[1], changed);
        let primary = update_server(
            &db,
            p.id,
            &ServerForm {
                zones_dir: "/srv/zones".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (primary.zones_dir.as_str(), primary.id),
            ("/srv/zones", p.id)
        );
        assert!(matches!(
            update_server(&db, 9999, &edit)
                .await
                .map_err(AppError::from),
            Err(AppError::NotFound(_))
        ));
        remove_server(&db, s.id).await.unwrap();
        assert_eq!(servers(&db).await.unwrap().servers.len(), 1);
    }

    /// A checker that refuses zones containing a marker, standing in for
    /// nsd-checkzone where NSD is not the point of the test.
    struct Refuse(&'static str);
    impl ZoneChecker for Refuse {
        fn check(
            &self,
            _: &Name,
            file: &std::path::Path,
        ) -> Result<(), crate::dns::nsd::CheckFailure> {
            let text = std::fs::read_to_string(file).unwrap();
            if text.contains(self.0) {
                Err(crate::dns::nsd::CheckFailure::Rejected(format!(
                    "refused: {}",
                    self.0
                )))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn apply_installs_checked_files_and_keeps_refused_ones() {
        let (dir, db) = sqlite().await;
        let zones = dir.path().join("zones");
        std::fs::create_dir(&zones).unwrap();
        let checker: Arc<dyn ZoneChecker> = Arc::new(Refuse("192.0.2.66"));
        assert!(matches!(
            apply(&db, None, Arc::clone(&checker))
                .await
                .map_err(AppError::from),
            Err(AppError::Refused(_))
        ));
        add_server(
            &db,
            &ServerForm {
                name: "ns1".into(),
                role: "primary".into(),
                ns_name: "ns1.example.com".into(),
                address: "127.0.0.1".into(),
                port: "5353".into(),
                zones_dir: zones.display().to_string(),
                reload_kind: "command".into(),
                reload_value: "true".into(),
            },
        )
        .await
        .unwrap();
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
        let r = apply(&db, None, Arc::clone(&checker)).await.unwrap();
        assert!(r.zones[0].installed, "{r:?}");
        assert!(matches!(r.reload, Some(Ok(_))));
        let file = zones.join("example.com.zone");
        let good = std::fs::read_to_string(&file).unwrap();
        assert!(good.contains("192.0.2.1"));
        assert_eq!(
            store::applied_serial(&db, z.id).await.unwrap(),
            Some(store::get_zone(&db, z.id).await.unwrap().serial)
        );

        save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("bad", "192.0.2.66"),
            PtrChoice::default(),
        )
        .await
        .unwrap();
        let r = apply(&db, Some(z.id), checker).await.unwrap();
        assert!(!r.zones[0].installed);
        assert_eq!(r.zones[0].message, "refused: 192.0.2.66");
        assert!(r.reload.is_none());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    }
}
