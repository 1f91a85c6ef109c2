//! Addresses and names on the server: which `auto` address each VM gets
//! (what is taken is read from the zones, the other layouts and the
//! journal), the DNS part of the plan, and the apply's two DNS steps:
//! writing the records in Stackyard's zones (one transaction, journaled per
//! VM) and publishing the zones they are in to NSD.
//!
//! Journal rows (host `""`): `address` per VM (the address an `auto` VM was
//! given, kept across applies), `dns` per VM (JSON of the records written
//! for it, [`Written`]), and one `publish` row per layout, pending while
//! written records have not reached NSD.

use crate::dns::nsd::ZoneChecker;
use crate::dns::zone::{Name, RecordType, Zone};
use crate::layouts::addressing::{allocate, AddressChoice, Unallocated};
use crate::layouts::entity::{apply_journal as journal, layout_vm};
use crate::layouts::names::{plan_names, rdata_of, DnsAction, NamePlan, Wanted, Written};
use crate::layouts::{DomainError, LayoutSpec};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The journal step of an `auto` VM's address.
pub const ADDRESS: &str = "address";
/// The journal step of a VM's records.
pub const DNS: &str = "dns";
/// The journal step of publishing the layout's zones.
pub const PUBLISH: &str = "publish";

fn dns_error(e: crate::dns::DomainError) -> DomainError {
    match e {
        crate::dns::DomainError::Database(db) => DomainError::Database(db),
        other => DomainError::Dns(other.to_string()),
    }
}

/// The addresses and names of a layout as things stand.
#[derive(Debug, Default)]
pub struct Addressing {
    /// Each VM's address (typed or given), by VM name.
    pub addresses: BTreeMap<String, IpAddr>,
    /// `auto` VMs without a free address.
    pub unallocated: Vec<Unallocated>,
    /// The records to write.
    pub names: NamePlan,
    /// Zones (origin → id) holding this layout's records that NSD has not
    /// been given since they were written.
    pub publish: BTreeMap<String, i32>,
    /// No NSD primary is set up (DNS servers page): the records are kept
    /// in Stackyard's zones, published by the first apply after one is.
    pub no_primary: bool,
}

impl Addressing {
    /// What stops an apply at its check, in words: `auto` VMs without a
    /// free address, then records that conflict.
    pub fn refusals(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .unallocated
            .iter()
            .map(|u| format!("{}: {}", u.vm, u.reason))
            .collect();
        out.extend(self.names.conflicts());
        out
    }
}

/// Every zone Stackyard holds, with its id.
async fn zones(db: &DatabaseConnection) -> Result<Vec<(i32, Zone)>, DomainError> {
    let mut out = Vec::new();
    for z in crate::dns::store::list_zones(db).await.map_err(dns_error)? {
        out.push((
            z.id,
            crate::dns::store::load_zone(db, z.id)
                .await
                .map_err(dns_error)?,
        ));
    }
    Ok(out)
}

/// The journal rows of `step` of every layout.
async fn rows(db: &impl ConnectionTrait, step: &str) -> Result<Vec<journal::Model>, DomainError> {
    Ok(journal::Entity::find()
        .filter(journal::Column::Step.eq(step))
        .order_by_asc(journal::Column::Id)
        .all(db)
        .await?)
}

fn written_of(row: &journal::Model) -> Vec<Written> {
    serde_json::from_str(&row.detail).unwrap_or_default()
}

/// Works out `spec`'s addresses and records (layout `layout_id`).
pub async fn addressing(
    db: &DatabaseConnection,
    layout_id: i32,
    spec: &LayoutSpec,
) -> Result<Addressing, DomainError> {
    let names_wanted = spec.vms.iter().any(|v| v.ip.is_some());
    let zones = zones(db).await?;
    let dns_rows = rows(db, DNS).await?;
    let ours: Vec<(String, Written)> = dns_rows
        .iter()
        .filter(|r| r.layout_id == layout_id)
        .flat_map(|r| written_of(r).into_iter().map(|w| (r.vm.clone(), w)))
        .collect();
    if !names_wanted && ours.is_empty() {
        return Ok(Addressing::default());
    }
    // What is taken: addresses in the zones (not this layout's own
    // records), other layouts' typed addresses and given ones.
    let own_owners: BTreeSet<&str> = ours.iter().map(|(_, w)| w.owner.as_str()).collect();
    let mut taken = BTreeMap::<IpAddr, String>::new();
    for (_, zone) in &zones {
        for r in &zone.records {
            let ip = match &r.rdata {
                crate::dns::zone::RData::A(a) => IpAddr::V4(*a),
                crate::dns::zone::RData::Aaaa(a) => IpAddr::V6(*a),
                _ => continue,
            };
            if !own_owners.contains(r.owner.as_str()) {
                taken.insert(ip, format!("{} {}", r.owner, r.rtype().as_str()));
            }
        }
    }
    let others = layout_vm::Entity::find()
        .filter(layout_vm::Column::LayoutId.ne(layout_id))
        .all(db)
        .await?;
    for vm in others {
        if let Some(Ok(AddressChoice::Fixed(ip))) = vm.ip.as_deref().map(str::parse) {
            taken.insert(ip, format!("VM {} of another layout", vm.name));
        }
    }
    let mut kept = BTreeMap::new();
    for row in rows(db, ADDRESS).await? {
        let Ok(ip) = row.detail.parse::<IpAddr>() else {
            continue;
        };
        if row.layout_id == layout_id {
            kept.insert(row.vm, ip);
        } else {
            taken.insert(ip, format!("VM {} of another layout", row.vm));
        }
    }
    let (addresses, unallocated) = allocate(spec, &kept, &taken);
    let wanted: Vec<Wanted> = spec
        .vms
        .iter()
        .filter_map(|vm| {
            Some(Wanted {
                vm: vm.name.clone(),
                fqdn: spec.fqdn_of(vm)?,
                ip: *addresses.get(&vm.name)?,
            })
        })
        .collect();
    let plain: Vec<Zone> = zones.iter().map(|(_, z)| z.clone()).collect();
    let names = plan_names(&wanted, &plain, &ours);
    // Zones to publish: those the plan writes, and those of an earlier
    // write NSD has not been given (its publish row still pending).
    let pending: BTreeSet<String> = rows(db, PUBLISH)
        .await?
        .into_iter()
        .filter(|r| r.layout_id == layout_id && r.pending)
        .flat_map(|r| serde_json::from_str::<Vec<String>>(&r.detail).unwrap_or_default())
        .collect();
    let mut publish = BTreeMap::new();
    for (id, zone) in &zones {
        let origin = zone.origin.to_string();
        let written = names.changes.iter().any(|c| {
            c.zone == origin && c.action != DnsAction::Unchanged && c.action != DnsAction::Conflict
        });
        if written || pending.contains(&origin) {
            publish.insert(origin, *id);
        }
    }
    let no_primary = crate::dns::entity::server::Entity::find()
        .filter(crate::dns::entity::server::Column::Role.eq("primary"))
        .one(db)
        .await?
        .is_none();
    Ok(Addressing {
        addresses,
        unallocated,
        names,
        publish,
        no_primary,
    })
}

/// Journals the address each `auto` VM was given (before anything is made
/// with it), so the next apply gives it the same one.
pub async fn keep_addresses(
    db: &DatabaseConnection,
    layout_id: i32,
    spec: &LayoutSpec,
    addresses: &BTreeMap<String, IpAddr>,
) -> Result<(), DomainError> {
    for vm in &spec.vms {
        if vm.ip != Some(AddressChoice::Auto) {
            continue;
        }
        let Some(ip) = addresses.get(&vm.name) else {
            continue;
        };
        put(db, layout_id, &vm.name, ADDRESS, &ip.to_string(), false).await?;
    }
    Ok(())
}

/// Writes (or replaces) the journal row `layout_id`/`""`/`vm`/`step`.
async fn put(
    db: &impl ConnectionTrait,
    layout_id: i32,
    vm: &str,
    step: &str,
    detail: &str,
    pending: bool,
) -> Result<(), DomainError> {
    let entry = super::apply::Entry {
        layout_id,
        host: "",
        vm,
        step,
    };
    let existing = entry.find(db).await?;
    Ok(entry.put(db, existing, Some(detail), pending).await?)
}

/// Writes the plan's records in Stackyard's zones, all in one transaction
/// (a refusal leaves every zone as it was), journals each VM's records and
/// marks the zones for publishing. Answers how many records changed.
/// Refuses when the plan has a conflict: nothing is written then.
pub async fn write_records(
    db: &DatabaseConnection,
    layout_id: i32,
    layout_name: &str,
    plan: &Addressing,
) -> Result<usize, DomainError> {
    let conflicts = plan.names.conflicts();
    if !conflicts.is_empty() {
        return Err(DomainError::Dns(conflicts.join("; ")));
    }
    let actor = format!("layout {layout_name}");
    let txn = db.begin().await?;
    // One rrset write per owner and type: the wanted value, or none.
    let mut written = 0;
    for c in &plan.names.changes {
        let rdatas = match c.action {
            DnsAction::Create | DnsAction::Change => {
                rdata_of(&c.rtype, &c.value).into_iter().collect::<Vec<_>>()
            }
            DnsAction::Remove => Vec::new(),
            DnsAction::Unchanged | DnsAction::Conflict => continue,
        };
        let (Some(&zone_id), Ok(owner), Some(rtype)) = (
            plan.publish.get(&c.zone),
            Name::parse(&c.owner),
            [RecordType::A, RecordType::Aaaa, RecordType::Ptr]
                .into_iter()
                .find(|t| t.as_str() == c.rtype),
        ) else {
            continue;
        };
        let ttl = crate::dns::store::load_zone(&txn, zone_id)
            .await
            .map_err(dns_error)?
            .default_ttl;
        crate::dns::store::replace_rrset_in(&txn, &actor, zone_id, &owner, rtype, ttl, rdatas)
            .await
            .map_err(dns_error)?;
        written += 1;
    }
    // Each VM's records as they now are (removed ones dropped).
    let mut per_vm: BTreeMap<&str, Vec<Written>> = BTreeMap::new();
    for c in &plan.names.changes {
        let entry = per_vm.entry(c.vm.as_str()).or_default();
        if c.action != DnsAction::Remove {
            entry.push(Written {
                zone: c.zone.clone(),
                owner: c.owner.clone(),
                rtype: c.rtype.clone(),
                value: c.value.clone(),
            });
        }
    }
    for (vm, records) in per_vm {
        if records.is_empty() {
            journal::Entity::delete_many()
                .filter(journal::Column::LayoutId.eq(layout_id))
                .filter(journal::Column::Host.eq(""))
                .filter(journal::Column::Vm.eq(vm))
                .filter(journal::Column::Step.eq(DNS))
                .exec(&txn)
                .await?;
        } else {
            let detail = serde_json::to_string(&records).unwrap_or_default();
            put(&txn, layout_id, vm, DNS, &detail, false).await?;
        }
    }
    let zones: Vec<&String> = plan.publish.keys().collect();
    if !zones.is_empty() {
        let detail = serde_json::to_string(&zones).unwrap_or_default();
        put(&txn, layout_id, "", PUBLISH, &detail, true).await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// Installs the zones of `plan.publish` on the NSD primary and reloads it;
/// answers what NSD said, or its refusal. The publish row stays pending
/// until every zone is installed and the reload succeeded.
pub async fn publish(
    db: &DatabaseConnection,
    layout_id: i32,
    plan: &Addressing,
    checker: Arc<dyn ZoneChecker>,
    reload_timeout: Duration,
) -> Result<String, DomainError> {
    let mut done = Vec::new();
    for (origin, &id) in &plan.publish {
        let report =
            crate::dns::service::apply_within(db, Some(id), Arc::clone(&checker), reload_timeout)
                .await
                .map_err(dns_error)?;
        if let Some(z) = report.zones.iter().find(|z| !z.installed) {
            return Err(DomainError::Dns(format!("{}: {}", z.origin, z.message)));
        }
        match report.reload {
            Some(Err(m)) => {
                return Err(DomainError::Dns(format!(
                    "{origin} installed, but NSD did not reload it: {m}"
                )))
            }
            Some(Ok(m)) => done.push(format!(
                "{origin} serial {} ({m})",
                report.zones.first().map_or(0, |z| z.serial)
            )),
            None => done.push(origin.clone()),
        }
    }
    let detail =
        serde_json::to_string(&plan.publish.keys().collect::<Vec<_>>()).unwrap_or_default();
    put(db, layout_id, "", PUBLISH, &detail, false).await?;
    Ok(done.join("; "))
}

/// A layout's VM with a name and an address, as a mail domain can name it
/// for its mail host.
pub async fn named_vm(
    db: &DatabaseConnection,
    layout_id: i32,
    vm: &str,
) -> Result<(String, IpAddr), DomainError> {
    let spec = crate::layouts::store::load(db, layout_id).await?;
    let entry = spec
        .vms
        .iter()
        .find(|v| v.name == vm)
        .ok_or_else(|| DomainError::NotFound(format!("VM {vm} of layout {}", spec.name)))?;
    let fqdn = spec.fqdn_of(entry).ok_or_else(|| {
        DomainError::Dns(format!(
            "{vm} of layout {} has no name in DNS: set the layout's zone or the VM's full name",
            spec.name
        ))
    })?;
    let ip = match entry.ip {
        Some(AddressChoice::Fixed(ip)) => Some(ip),
        Some(AddressChoice::Auto) => journal::Entity::find()
            .filter(journal::Column::LayoutId.eq(layout_id))
            .filter(journal::Column::Vm.eq(vm))
            .filter(journal::Column::Step.eq(ADDRESS))
            .one(db)
            .await?
            .and_then(|r| r.detail.parse().ok()),
        None => None,
    };
    let ip = ip.ok_or_else(|| {
        DomainError::Dns(format!(
            "{vm} of layout {} has no address yet: give it one (or auto) and apply the layout",
            spec.name
        ))
    })?;
    Ok((fqdn, ip))
}

/// Every layout VM with a name and an address (typed, or given by an
/// apply), for the mail domain's choice of its mail host.
pub async fn named_vms(
    db: &DatabaseConnection,
) -> Result<Vec<crate::layouts::NamedVm>, DomainError> {
    let given: BTreeMap<(i32, String), IpAddr> = rows(db, ADDRESS)
        .await?
        .into_iter()
        .filter_map(|r| Some(((r.layout_id, r.vm), r.detail.parse().ok()?)))
        .collect();
    let mut out = Vec::new();
    for summary in crate::layouts::store::list(db).await? {
        let spec = crate::layouts::store::load(db, summary.id).await?;
        for vm in &spec.vms {
            let ip = match vm.ip {
                Some(AddressChoice::Fixed(ip)) => Some(ip),
                Some(AddressChoice::Auto) => given.get(&(summary.id, vm.name.clone())).copied(),
                None => None,
            };
            if let (Some(fqdn), Some(ip)) = (spec.fqdn_of(vm), ip) {
                out.push(crate::layouts::NamedVm {
                    key: format!("{}/{}", summary.id, vm.name),
                    label: format!("{} of {} · {fqdn} · {ip}", vm.name, spec.name),
                    fqdn,
                    ip: ip.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Reads `LAYOUT_ID/VM` (a mail domain's `mail_vm`).
pub fn parse_vm_key(key: &str) -> Option<(i32, &str)> {
    let (id, vm) = key.trim().split_once('/')?;
    let id = id.parse().ok()?;
    (!vm.is_empty()).then_some((id, vm))
}
