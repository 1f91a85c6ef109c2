//! Records: the record form becomes a typed record (each problem named by
//! its field), an A/AAAA record and its PTR change in one transaction, and
//! a record is deleted with the PTR that points at it.

use crate::dns::store;
use crate::dns::zone::{
    address_rdata, parse_owner, parse_target, reverse_name, reverse_zone_for, txt_from_input, Name,
    RData, Record, RecordType, Ttl, Zone,
};
use crate::dns::{DomainError, RecordForm, SaveOutcome};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::net::IpAddr;

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
pub(super) fn refused_as(field: &'static str) -> impl Fn(DomainError) -> DomainError {
    move |e| match e {
        DomainError::Invalid(e) => DomainError::invalid(field, e.message),
        other => other,
    }
}

/// Record key sent to the page: the record's JSON.
pub(super) fn key_of(r: &Record) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// The record a key names, in words (`www.example.com. 3600 IN A 192.0.2.1`),
/// for the audit log; empty when the key is not a record.
pub fn record_in_words(key: &str) -> String {
    serde_json::from_str::<Record>(key)
        .map(|r| r.to_string())
        .unwrap_or_default()
}

pub(super) fn record_of_key(key: &str) -> Result<Record, DomainError> {
    serde_json::from_str(key).map_err(|_| {
        DomainError::Refused("That record is no longer in the zone; reload the page.".into())
    })
}

pub(super) fn address_of(r: &Record) -> Option<IpAddr> {
    match r.rdata {
        RData::A(a) => Some(IpAddr::V4(a)),
        RData::Aaaa(a) => Some(IpAddr::V6(a)),
        _ => None,
    }
}

pub(super) fn ptr_exists(reverse: &[Zone], ip: IpAddr, owner: &Name) -> bool {
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
    store::lock_zone(&txn, zone_id).await?;
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
    let summary = store::replace_zone_from(&txn, actor, zone_id, &zone, &new, &what)
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
    store::lock_zone(&txn, zone_id).await?;
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
    let mut new = zone.clone();
    new.records
        .retain(|r| !(r.owner == record.owner && r.rdata == record.rdata));
    let what = format!("{} {} deleted", record.owner, record.rtype());
    let summary = store::replace_zone_from(&txn, actor, zone_id, &zone, &new, &what).await?;
    let ptr = match address_of(&record) {
        Some(ip) => remove_ptr(&txn, actor, ip, &record.owner).await?,
        None => None,
    };
    txn.commit().await?;
    Ok(SaveOutcome { zone: summary, ptr })
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
