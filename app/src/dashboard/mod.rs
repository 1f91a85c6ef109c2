//! The dashboard: every host with its memory bar, the DNS zones that need
//! attention, the mail domains' last readiness check, the recent changes
//! (for those who may read the audit log) and this console instance.
//!
//! One server function gathers it all (`dashboard/overview`), so the page
//! costs one request and refetches as one whenever a host changes. What a
//! caller may see is decided there, on the server: a viewer's overview has
//! no audit lines at all, rather than lines the page hides. `service`
//! (server only) gathers it from the host workers and the other domains;
//! `store` (server only) holds the few reads of their tables it makes
//! itself (the dashboard has no table of its own); `soa` (server only) asks
//! the secondaries for their serials; `pages` draws it. The DTOs and the
//! pure judgements (host order, why a zone needs attention) live here,
//! tested without a database.

pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod soa;
#[cfg(feature = "ssr")]
pub mod store;

use crate::auth::{Access, AuditRow, Role};
use crate::dns::zone::serial_gt;
use crate::error::AppError;
use crate::mail::LastCheck;
use crate::ui::MemoryUse;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use pages::DashboardPage;

/// What the dashboard shows about this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub version: String,
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    /// The newest schema migration applied.
    pub schema: Option<String>,
    pub database_ok: bool,
    pub started_at: crate::ui::Timestamp,
    pub checked_at: crate::ui::Timestamp,
}

impl InstanceStatus {
    pub fn uptime(&self) -> String {
        let secs = (self.checked_at.0 - self.started_at.0).max(0);
        let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
        match (d, h, m) {
            (0, 0, 0) => format!("{s} s"),
            (0, 0, _) => format!("{m} min {s} s"),
            (0, _, _) => format!("{h} h {m} min"),
            _ => format!("{d} d {h} h"),
        }
    }
}

/// Everything the dashboard shows but the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Unreachable hosts first, then by name ([`sort_hosts`]).
    pub hosts: Vec<HostRow>,
    pub dns: DnsOverview,
    /// By domain name.
    pub mail: Vec<MailRow>,
    /// The newest audit lines, newest first; `None` when the caller may not
    /// read the audit log (viewers), so none is ever sent to them.
    pub recent_changes: Option<Vec<AuditRow>>,
}

/// How many audit lines the dashboard shows.
pub const RECENT_CHANGES: u64 = 10;

/// A host as the dashboard shows it: reachability, memory and VM counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRow {
    pub id: i32,
    pub name: String,
    pub reachable: bool,
    /// Why it is unreachable (libvirt's words); `None` while reachable.
    pub last_error: Option<String>,
    /// `y`: the host's memory in MiB as last reported (0 before the first
    /// answer).
    pub memory_mib: u64,
    /// `y_os` in MiB: the host's own reserve, else the capacity policy's
    /// default for its memory.
    pub os_mib: u64,
    /// The memory of every VM defined on the host, running or not, in MiB:
    /// the existing demand the capacity model and the layout editor count.
    pub vms_memory_mib: u64,
    pub vms_running: usize,
    pub vms_total: usize,
}

impl From<crate::hosts::HostSummary> for HostRow {
    /// The dashboard's part of the hosts page's summary; libvirt's message
    /// only while the host is unreachable.
    fn from(s: crate::hosts::HostSummary) -> Self {
        HostRow {
            id: s.id,
            name: s.name,
            reachable: s.reachable,
            last_error: s.last_error.filter(|_| !s.reachable),
            memory_mib: s.memory_total_mib,
            os_mib: s.os_reserve_mib,
            vms_memory_mib: s.vms_memory_mib,
            vms_running: s.vms_running,
            vms_total: s.vms_total,
        }
    }
}

impl HostRow {
    /// The memory bar's numbers: nothing is planned on the dashboard.
    pub fn memory(&self) -> MemoryUse {
        MemoryUse {
            total: self.memory_mib,
            os: self.os_mib,
            existing: self.vms_memory_mib,
            planned: 0,
        }
    }
}

/// Unreachable hosts first (they need someone), then by name, ignoring case.
pub fn sort_hosts(hosts: &mut [HostRow]) {
    hosts.sort_by(|a, b| {
        a.reachable
            .cmp(&b.reachable)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The DNS panel: the zones needing attention, and what was compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsOverview {
    /// How many zones there are.
    pub zones: usize,
    /// How many secondary servers were asked.
    pub secondaries: usize,
    /// In the zones list's order; only zones with at least one issue.
    pub attention: Vec<ZoneAttention>,
}

/// A zone that needs attention, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneAttention {
    pub id: i32,
    pub origin: String,
    pub issues: Vec<ZoneIssue>,
}

/// Why a zone needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZoneIssue {
    /// Never installed on the primary.
    NeverApplied,
    /// Changed since the last apply; `changes` versions wait.
    NotApplied { changes: u32 },
    /// A secondary serves an older serial than the one applied on the primary.
    SecondaryBehind {
        server: String,
        serial: u32,
        primary: u32,
    },
    /// A secondary gave no serial for the zone: no answer, or a refusal.
    SecondaryFailing { server: String, reason: String },
}

impl ZoneIssue {
    /// The issue in a sentence, for the page.
    pub fn describe(&self) -> String {
        match self {
            Self::NeverApplied => "never applied".to_owned(),
            Self::NotApplied { changes: 1 } => "1 change not applied".to_owned(),
            Self::NotApplied { changes } => format!("{changes} changes not applied"),
            Self::SecondaryBehind {
                server,
                serial,
                primary,
            } => format!("{server} serves serial {serial}; the primary has {primary}"),
            Self::SecondaryFailing { server, reason } => format!("{server}: {reason}"),
        }
    }
}

/// Whether the stored zone differs from what the primary serves:
/// `serial` is the stored zone's, `applied` the one installed by the last
/// apply, `versions` the serials of the zone's history. The changes waiting
/// are the versions after the applied serial (at least one, since the
/// serials differ).
pub fn apply_issue(serial: u32, applied: Option<u32>, versions: &[u32]) -> Option<ZoneIssue> {
    let applied = match applied {
        None => return Some(ZoneIssue::NeverApplied),
        Some(a) if a == serial => return None,
        Some(a) => a,
    };
    let waiting = versions.iter().filter(|&&v| serial_gt(v, applied)).count();
    Some(ZoneIssue::NotApplied {
        changes: u32::try_from(waiting).unwrap_or(u32::MAX).max(1),
    })
}

/// What a secondary's answer says about a zone whose applied serial on the
/// primary is `primary`: behind when its serial is lower on the RFC 1982
/// circle (the order secondaries transfer by), failing when it gave none.
pub fn secondary_issue(
    server: &str,
    primary: u32,
    answer: &Result<u32, String>,
) -> Option<ZoneIssue> {
    match answer {
        Ok(serial) if serial_gt(primary, *serial) => Some(ZoneIssue::SecondaryBehind {
            server: server.to_owned(),
            serial: *serial,
            primary,
        }),
        Ok(_) => None,
        Err(reason) => Some(ZoneIssue::SecondaryFailing {
            server: server.to_owned(),
            reason: reason.clone(),
        }),
    }
}

/// A mail domain with its last readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRow {
    pub domain: String,
    pub active: bool,
    /// `None`: never checked.
    pub last_check: Option<LastCheck>,
}

/// Why the overview could not be gathered.
#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    /// The audit log could not be read.
    #[error(transparent)]
    Audit(#[from] crate::auth::DomainError),
    /// The layouts store (the capacity policy) could not be read.
    #[error(transparent)]
    Layouts(#[from] crate::layouts::DomainError),
    /// The DNS store (zones and their servers) could not be read.
    #[error(transparent)]
    Dns(#[from] crate::dns::DomainError),
    /// The mail store (the last readiness checks) could not be read.
    #[error(transparent)]
    Mail(#[from] crate::mail::DomainError),
}

#[cfg(feature = "ssr")]
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Database(e) => AppError::from(e),
            DomainError::Audit(e) => AppError::from(e),
            DomainError::Layouts(e) => AppError::from(e),
            DomainError::Dns(e) => AppError::from(e),
            DomainError::Mail(e) => AppError::from(e),
        }
    }
}

crate::api::access!(SystemStatus, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dashboard/status")]
pub async fn system_status() -> Result<InstanceStatus, AppError> {
    crate::api::call::<SystemStatus>()
        .run(|c| async move { Ok::<_, AppError>(c.state.status().await) })
        .await
}

crate::api::access!(DashboardOverview, Access::Role(Role::Viewer));
/// Hosts, DNS zones needing attention, mail checks and, for callers who may
/// read the audit log, the last changes.
#[server(prefix = "/api", endpoint = "dashboard/overview")]
pub async fn dashboard_overview() -> Result<Overview, AppError> {
    crate::api::call::<DashboardOverview>()
        .run(|c| async move { service::overview(&c.state, c.auth.role()).await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(id: i32, name: &str, reachable: bool) -> HostRow {
        HostRow {
            id,
            name: name.to_owned(),
            reachable,
            last_error: (!reachable).then(|| "no route to host".to_owned()),
            memory_mib: 32768,
            os_mib: 2048,
            vms_memory_mib: 0,
            vms_running: 0,
            vms_total: 0,
        }
    }

    #[test]
    fn unreachable_hosts_come_first_then_names_in_order() {
        let mut hosts = vec![
            host(1, "proliant-2", true),
            host(2, "Zeta", false),
            host(3, "alpha", true),
            host(4, "beta", false),
            host(5, "Proliant-1", true),
        ];
        sort_hosts(&mut hosts);
        let order: Vec<(&str, bool)> = hosts
            .iter()
            .map(|h| (h.name.as_str(), h.reachable))
            .collect();
        assert_eq!(
            order,
            [
                ("beta", false),
                ("Zeta", false),
                ("alpha", true),
                ("Proliant-1", true),
                ("proliant-2", true),
            ]
        );
    }

    #[test]
    fn memory_bar_numbers_plan_nothing() {
        let mut h = host(1, "demo", true);
        h.vms_memory_mib = 3536;
        assert_eq!(
            h.memory(),
            MemoryUse {
                total: 32768,
                os: 2048,
                existing: 3536,
                planned: 0
            }
        );
    }

    #[test]
    fn a_check_run_counts_what_passed_failed_and_warned_but_not_what_was_skipped() {
        let at = crate::ui::Timestamp::EPOCH;
        let run = LastCheck::of_statuses(
            at,
            ["pass", "fail", "warn", "skipped", "pass", "warn", "pass"],
        );
        assert_eq!(
            (run.passed, run.failed, run.warned, run.ran_at),
            (3, 1, 2, at)
        );
    }

    #[test]
    fn a_zone_applied_as_stored_needs_nothing() {
        assert_eq!(
            apply_issue(2026120402, Some(2026120402), &[2026120401]),
            None
        );
    }

    #[test]
    fn a_zone_never_applied_says_so() {
        assert_eq!(
            apply_issue(2026120401, None, &[2026120401]),
            Some(ZoneIssue::NeverApplied)
        );
        assert_eq!(ZoneIssue::NeverApplied.describe(), "never applied");
    }

    #[test]
    fn changes_waiting_are_the_versions_after_the_applied_serial() {
        let versions = [2026120100, 2026120101, 2026120400, 2026120401, 2026120402];
        let issue = apply_issue(2026120402, Some(2026120101), &versions);
        assert_eq!(issue, Some(ZoneIssue::NotApplied { changes: 3 }));
        assert_eq!(
            issue.map(|i| i.describe()).as_deref(),
            Some("3 changes not applied")
        );
        let one = apply_issue(2026120402, Some(2026120401), &versions);
        assert_eq!(
            one.map(|i| i.describe()).as_deref(),
            Some("1 change not applied")
        );
    }

    #[test]
    fn changes_are_counted_on_the_serial_circle() {
        // The serial wrapped past 2^32 after the apply: still one change.
        let issue = apply_issue(5, Some(u32::MAX - 1), &[u32::MAX - 1, 5]);
        assert_eq!(issue, Some(ZoneIssue::NotApplied { changes: 1 }));
    }

    #[test]
    fn a_serial_that_differs_without_history_is_still_one_change() {
        // A history pruned or a database restored: the serials differ all the same.
        assert_eq!(
            apply_issue(2026120402, Some(2026120500), &[]),
            Some(ZoneIssue::NotApplied { changes: 1 })
        );
    }

    #[test]
    fn a_secondary_behind_the_primary_lags() {
        let issue = secondary_issue("ns2", 2026120402, &Ok(2026120401));
        assert_eq!(
            issue,
            Some(ZoneIssue::SecondaryBehind {
                server: "ns2".into(),
                serial: 2026120401,
                primary: 2026120402
            })
        );
        assert_eq!(
            issue.map(|i| i.describe()).as_deref(),
            Some("ns2 serves serial 2026120401; the primary has 2026120402")
        );
    }

    #[test]
    fn a_secondary_in_step_or_ahead_is_fine() {
        assert_eq!(secondary_issue("ns2", 2026120402, &Ok(2026120402)), None);
        // Ahead (the primary's serial was rolled back): nothing to transfer,
        // and not this panel's business.
        assert_eq!(secondary_issue("ns2", 2026120402, &Ok(2026120403)), None);
        // Across the wrap: 3 is after 2^32 - 2.
        assert_eq!(secondary_issue("ns2", u32::MAX - 1, &Ok(3)), None);
        assert!(secondary_issue("ns2", 3, &Ok(u32::MAX - 1)).is_some());
    }

    #[test]
    fn a_secondary_without_an_answer_is_named_with_the_reason() {
        let issue = secondary_issue("ns2", 1, &Err("no answer within 2 s".into()));
        assert_eq!(
            issue.map(|i| i.describe()).as_deref(),
            Some("ns2: no answer within 2 s")
        );
    }
}
