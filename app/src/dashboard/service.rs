//! Gathers the dashboard's overview on the server: hosts from their workers'
//! caches (no libvirt call), zones and DNS servers from the database plus
//! one SOA question per secondary and applied zone, mail domains with their
//! last readiness-check run, and the audit log for callers who may read it.
//! The four parts are gathered at once, so the view waits for the slowest
//! (the secondaries, two seconds at most), not for their sum.

use super::{
    apply_issue, secondary_issue, soa, sort_hosts, store, DnsOverview, DomainError, HostRow,
    MailRow, Overview, ZoneAttention, ZoneIssue, RECENT_CHANGES,
};
use crate::api::Endpoint as _;
use crate::auth::{AuditRow, ListAudit, Role};
use crate::capacity::CapacityPolicy;
use crate::hosts::entity::host;
use crate::hosts::types::HostSnapshot;
use crate::state::AppState;
use sea_orm::DatabaseConnection;
use std::net::{IpAddr, SocketAddr};

/// The overview as `caller` may see it.
pub async fn overview(state: &AppState, caller: Option<Role>) -> Result<Overview, DomainError> {
    let (hosts, dns, mail, recent_changes) = tokio::join!(
        hosts(state),
        dns(&state.db, &soa::SHARED),
        mail(&state.db),
        recent_changes(&state.db, caller),
    );
    Ok(Overview {
        hosts: hosts?,
        dns: dns?,
        mail: mail?,
        recent_changes: recent_changes?,
    })
}

/// Every host the registry runs, with the `y_os` stored now (the registry
/// keeps the row it was started with).
async fn hosts(state: &AppState) -> Result<Vec<HostRow>, DomainError> {
    let policy = crate::layouts::store::policy(&state.db).await?;
    let rows = crate::hosts::store::by_id(&state.db).await?;
    let mut out: Vec<HostRow> = state
        .hosts
        .all()
        .iter()
        .map(|(cached, handle)| {
            let row = rows.get(&cached.id).unwrap_or(cached);
            host_row(row, &handle.snapshot(), &policy)
        })
        .collect();
    sort_hosts(&mut out);
    Ok(out)
}

/// The dashboard's row of a host: the hosts page's summary, cut down.
fn host_row(row: &host::Model, snap: &HostSnapshot, policy: &CapacityPolicy) -> HostRow {
    HostRow::from(crate::hosts::service::summarize(row, snap, policy))
}

/// Zones not applied as stored, and zones a secondary serves behind the
/// primary or not at all; `serials` asks the secondaries.
pub async fn dns(
    db: &DatabaseConnection,
    serials: &soa::Serials,
) -> Result<DnsOverview, DomainError> {
    let zones = crate::dns::store::list_zones(db).await?;
    let applied = store::applied_serials(db).await?;
    let applied_of = |id: i32| applied.get(&id).copied().flatten();

    // The history of the zones whose stored serial is not the applied one.
    let waiting: Vec<i32> = zones
        .iter()
        .filter(|z| applied_of(z.id).is_some_and(|a| a != z.serial))
        .map(|z| z.id)
        .collect();
    let versions = store::version_serials(db, waiting).await?;

    let secondaries = store::secondaries(db).await?;
    // One question per secondary and zone the primary serves.
    let mut asked: Vec<(usize, String, u32)> = Vec::new();
    let mut targets: Vec<soa::Target> = Vec::new();
    let mut unreadable: Vec<(String, String)> = Vec::new();
    for server in &secondaries {
        let addr = server
            .address
            .trim()
            .parse::<IpAddr>()
            .ok()
            .zip(u16::try_from(server.port).ok())
            .map(|(ip, port)| SocketAddr::new(ip, port));
        let Some(addr) = addr else {
            unreadable.push((
                server.name.clone(),
                format!(
                    "its address {}:{} cannot be asked",
                    server.address, server.port
                ),
            ));
            continue;
        };
        for (i, zone) in zones.iter().enumerate() {
            if let Some(primary) = applied_of(zone.id) {
                asked.push((i, server.name.clone(), primary));
                targets.push((addr, zone.origin.to_string()));
            }
        }
    }
    let answers = serials.ask(&targets).await;

    let mut issues: Vec<Vec<ZoneIssue>> = zones
        .iter()
        .map(|z| {
            let history = versions.get(&z.id).map_or(&[][..], Vec::as_slice);
            apply_issue(z.serial, applied_of(z.id), history)
                .into_iter()
                .collect()
        })
        .collect();
    for ((i, server, primary), answer) in asked.iter().zip(&answers) {
        if let (Some(list), Some(issue)) = (
            issues.get_mut(*i),
            secondary_issue(server, *primary, answer),
        ) {
            list.push(issue);
        }
    }
    for (i, zone) in zones.iter().enumerate() {
        if applied_of(zone.id).is_none() {
            continue;
        }
        if let Some(list) = issues.get_mut(i) {
            list.extend(
                unreadable
                    .iter()
                    .map(|(server, reason)| ZoneIssue::SecondaryFailing {
                        server: server.clone(),
                        reason: reason.clone(),
                    }),
            );
        }
    }

    Ok(DnsOverview {
        zones: zones.len(),
        secondaries: secondaries.len(),
        attention: zones
            .iter()
            .zip(issues)
            .filter(|(_, issues)| !issues.is_empty())
            .map(|(z, issues)| ZoneAttention {
                id: z.id,
                origin: z.origin.to_string(),
                issues,
            })
            .collect(),
    })
}

/// Every mail domain with its newest readiness-check run.
async fn mail(db: &DatabaseConnection) -> Result<Vec<MailRow>, DomainError> {
    let mut last = crate::mail::store::last_checks(db).await?;
    Ok(store::mail_domains(db)
        .await?
        .into_iter()
        .map(|d| MailRow {
            last_check: last.remove(&d.name),
            domain: d.name,
            active: d.active,
        })
        .collect())
}

/// The last changes, for callers the audit page lets in; `None` for others.
async fn recent_changes(
    db: &DatabaseConnection,
    caller: Option<Role>,
) -> Result<Option<Vec<AuditRow>>, DomainError> {
    if !ListAudit::ACCESS.allows(caller) {
        return Ok(None);
    }
    let lines = crate::auth::service::recent_audit(db, RECENT_CHANGES).await?;
    Ok(Some(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::types::{VmInfo, VmState};

    fn vm(name: &str, memory_mib: u64, state: VmState) -> VmInfo {
        VmInfo {
            name: name.into(),
            uuid: String::new(),
            state,
            vcpus: 1,
            memory_mib,
            disks: Vec::new(),
            autostart: false,
            persistent: true,
            addresses: Vec::new(),
            consoles: Default::default(),
        }
    }

    fn row(y_os_mib: Option<i64>) -> host::Model {
        let now = chrono::Utc::now();
        host::Model {
            id: 3,
            name: "proliant-1".into(),
            uri: "test:///default".into(),
            label: String::new(),
            y_os_mib,
            allow_emulation: false,
            created_at: now,
            updated_at: now,
        }
    }

    fn snapshot(total: Option<u64>, reachable: bool) -> HostSnapshot {
        let mut snap = HostSnapshot::new("proliant-1", "test:///default");
        snap.reachable = reachable;
        snap.last_error = Some("connection reset".into());
        snap.capacity = total.map(|memory_total_mib| crate::hosts::HostCapacity {
            memory_total_mib,
            memory_free_mib: 0,
            cpu_model: String::new(),
            sockets: 1,
            cores: 1,
            threads: 1,
            cpus: 1,
            mhz: 0,
            hw_virt: true,
            pools: Vec::new(),
            networks: Vec::new(),
        });
        for v in [
            vm("web", 2048, VmState::Running),
            vm("db", 4096, VmState::ShutOff),
            vm("mail", 1024, VmState::Running),
        ] {
            snap.vms.insert(v.name.clone(), v);
        }
        snap
    }

    #[test]
    fn a_host_counts_every_vm_and_takes_the_default_reserve() {
        let h = host_row(
            &row(None),
            &snapshot(Some(65536), true),
            &CapacityPolicy::default(),
        );
        // Every defined VM asks for its memory, running or not.
        assert_eq!(h.vms_memory_mib, 7168);
        assert_eq!((h.vms_running, h.vms_total), (2, 3));
        // max(2048, 5 % of 64 GiB) = 3276 MiB.
        assert_eq!(h.os_mib, 3276);
        assert_eq!(h.memory_mib, 65536);
        // The last error only matters while the host is out of reach.
        assert_eq!(h.last_error, None);
    }

    #[test]
    fn a_host_with_its_own_reserve_keeps_it_and_an_unreachable_one_says_why() {
        let h = host_row(
            &row(Some(1024)),
            &snapshot(None, false),
            &CapacityPolicy::default(),
        );
        assert_eq!(h.os_mib, 1024);
        assert_eq!(h.memory_mib, 0);
        assert_eq!(h.last_error.as_deref(), Some("connection reset"));
    }
}
