//! The hosts domain's server side: what the server functions ask for
//! (list, add, edit and remove hosts; act on VMs), over the libvirt layer
//! that keeps each host's state.
//!
//! * [`Hypervisor`]: the blocking operations on one host, implemented by
//!   [`LibvirtHost`] on the `virt` crate;
//! * [`HostWorker`] / [`HostHandle`]: one thread per host owning the
//!   connection, async calls with timeouts, a cached [`HostSnapshot`] kept
//!   current by libvirt lifecycle events, a broadcast of [`HostEvent`]s and
//!   reconnection with exponential backoff;
//! * [`HostRegistry`]: one worker per host row, and one stream of their
//!   changes for open pages;
//! * [`demo_uri`]: the test-driver URI of a node description such as the
//!   bundled `demo-node.xml` (the paper's HP ProLiant DL380 G8).
//!
//! The functions here answer [`DomainError`]; the plain data they trade in
//! lives in [`types`] (shared with the browser). `unsafe` is confined to the
//! private `events` module (libvirt's event callbacks have no safe wrapper
//! in `virt`).

pub mod error;
mod events;
pub mod hypervisor;
pub mod libvirt;
pub mod registry;
#[cfg(feature = "testing")]
pub mod slowed;
pub use crate::hosts::types;
pub mod uri;
pub mod worker;
pub mod xml;

pub use error::{DomainError, HostError};
pub use hypervisor::Hypervisor;
pub use libvirt::LibvirtHost;
pub use registry::HostRegistry;
pub use types::{
    CdRom, DeleteReport, DiskInfo, DomainType, HostCapacity, HostEvent, HostSnapshot, NetInfo,
    NetworkAttach, PoolInfo, VmEventKind, VmInfo, VmSpec, VmState, VolumeInfo,
};
pub use worker::{HostHandle, HostWorker, WorkerConfig};

use super::entity::host;
use super::{store, HostDetail, HostSummary, VmAction};
use crate::capacity::{CapacityPolicy, MiB};
use sea_orm::DatabaseConnection;
use std::time::Duration;

/// The URI of a libvirt daemon on this machine.
const LOCAL: &str = "qemu:///system";
/// How long an added or edited host may take to answer before its summary
/// is sent (unreachable then; the page follows when it connects).
const FIRST_ANSWER: Duration = Duration::from_secs(5);
/// How long connecting to a new URI may take before it counts as no answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A host's summary from its row and what libvirt last said; the
/// reserve `y_os` is the row's, else `policy`'s default for its memory.
pub fn summarize(row: &host::Model, snap: &HostSnapshot, policy: &CapacityPolicy) -> HostSummary {
    let cap = snap.capacity.as_ref();
    HostSummary {
        id: row.id,
        name: row.name.clone(),
        uri: row.uri.clone(),
        label: row.label.clone(),
        reachable: snap.reachable,
        last_error: snap.last_error.clone(),
        memory_total_mib: cap.map_or(0, |c| c.memory_total_mib),
        memory_free_mib: cap.map_or(0, |c| c.memory_free_mib),
        cpus: cap.map_or(0, |c| c.cpus),
        hw_virt: cap.is_some_and(|c| c.hw_virt),
        vms_total: snap.vms.len(),
        vms_running: snap
            .vms
            .values()
            .filter(|v| v.state == VmState::Running)
            .count(),
        os_reserve_mib: policy
            .os_reserve(
                row.y_os_mib.map(|y| MiB(u64::try_from(y).unwrap_or(0))),
                MiB(cap.map_or(0, |c| c.memory_total_mib)),
            )
            .get(),
        vms_memory_mib: snap.vms.values().map(|v| v.memory_mib).sum(),
    }
}

/// [`summarize`] with the default policy, from the host's worker.
fn summary(row: &host::Model, handle: &HostHandle) -> HostSummary {
    summarize(row, &handle.snapshot(), &CapacityPolicy::default())
}

/// A running host: its row as started and its worker.
pub fn host(hosts: &HostRegistry, id: i32) -> Result<(host::Model, HostHandle), DomainError> {
    hosts.get(id).ok_or(DomainError::NoSuchHost(id))
}

/// Every host. The registry keeps the row each host was started with;
/// `y_os` may have been set since (the layout page's host settings), so
/// the rows are read again.
pub async fn list(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
) -> Result<Vec<HostSummary>, DomainError> {
    let stored = store::by_id(db).await?;
    Ok(hosts
        .all()
        .iter()
        .map(|(row, handle)| summary(stored.get(&row.id).unwrap_or(row), handle))
        .collect())
}

/// A host's summary, capacity and VMs.
pub async fn detail(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    id: i32,
) -> Result<HostDetail, DomainError> {
    let (row, handle) = host(hosts, id)?;
    let stored = store::by_id(db).await?;
    let snap = handle.snapshot();
    Ok(HostDetail {
        summary: summary(stored.get(&row.id).unwrap_or(&row), &handle),
        capacity: snap.capacity.clone(),
        vms: snap.vms.into_values().collect(),
        protected: store::protected_vms(db, row.id).await?,
    })
}

/// Adds a host after connecting to it once; nothing is saved when that fails.
pub async fn add(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    policy: &uri::UriPolicy,
    name: &str,
    uri: &str,
) -> Result<HostSummary, DomainError> {
    let name = check_name(name)?;
    if store::name_taken(db, &name, None).await? {
        return Err(DomainError::NameTaken(name));
    }
    let uri = uri.trim();
    allowed(policy, uri)?;
    try_connect(uri).await?;
    let row = store::insert(db, name, uri.to_owned(), String::new()).await?;
    started(hosts, row).await
}

/// Renames `row` or points it at another URI (connecting once first);
/// nothing changes when the new URI does not answer.
pub async fn edit(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    policy: &uri::UriPolicy,
    row: host::Model,
    name: &str,
    uri: &str,
) -> Result<HostSummary, DomainError> {
    let name = check_name(name)?;
    if store::name_taken(db, &name, Some(row.id)).await? {
        return Err(DomainError::NameTaken(name));
    }
    let uri = uri.trim().to_owned();
    // The demo host keeps its test-driver URI; a new one must be allowed.
    if uri != row.uri {
        allowed(policy, &uri)?;
        try_connect(&uri).await?;
    }
    let row = store::rename(db, row, name, uri).await?;
    started(hosts, row).await
}

/// (Re)starts `row`'s worker and gives it a moment to answer.
async fn started(hosts: &HostRegistry, row: host::Model) -> Result<HostSummary, DomainError> {
    hosts.start(row.clone());
    let (row, handle) = host(hosts, row.id)?;
    handle.wait_reachable(FIRST_ANSWER).await;
    Ok(summary(&row, &handle))
}

/// Forgets a host; its VMs keep running, Stackyard only stops watching.
/// Answers the row it was.
pub async fn remove(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    id: i32,
) -> Result<host::Model, DomainError> {
    let (row, _) = host(hosts, id)?;
    store::delete(db, id).await?;
    hosts.stop(id);
    Ok(row)
}

/// `qemu:///system` when a local libvirtd answers and no host uses it yet.
pub async fn local_hypervisor(hosts: &HostRegistry) -> Option<String> {
    if hosts.all().iter().any(|(row, _)| row.uri == LOCAL) {
        return None;
    }
    // A local daemon listens on its socket; without it, do not even try.
    if !std::path::Path::new("/var/run/libvirt/libvirt-sock").exists() {
        return None;
    }
    try_connect(LOCAL).await.ok().map(|()| LOCAL.to_owned())
}

/// What a VM action did: the VM's state before and after, as cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionDone {
    pub action: VmAction,
    pub before: Option<VmState>,
    pub after: Option<VmState>,
}

impl std::fmt::Display for ActionDone {
    /// The audit line: `start: shut off → running`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = |s: Option<VmState>| s.map_or("?", VmState::label);
        write!(
            f,
            "{}: {} → {}",
            self.action.as_str(),
            label(self.before),
            label(self.after)
        )
    }
}

/// Starts, stops, pauses, resumes or reboots a VM, or sets its autostart.
pub async fn run_action(
    handle: &HostHandle,
    vm: &str,
    action: VmAction,
) -> Result<ActionDone, DomainError> {
    let before = handle.cached_vm(vm).map(|v| v.state);
    match action {
        VmAction::Start => handle.start(vm).await,
        VmAction::Shutdown => handle.shutdown(vm).await,
        VmAction::Reboot => handle.reboot(vm).await,
        VmAction::ForceOff => handle.force_off(vm).await,
        VmAction::Pause => handle.pause(vm).await,
        VmAction::Resume => handle.resume(vm).await,
        VmAction::AutostartOn => handle.set_autostart(vm, true).await,
        VmAction::AutostartOff => handle.set_autostart(vm, false).await,
    }?;
    Ok(ActionDone {
        action,
        before,
        after: handle.cached_vm(vm).map(|v| v.state),
    })
}

/// Removes a shut-off VM's definition, and its volumes when asked; the
/// answer is the audit line saying what went and what stayed.
pub async fn delete_vm(
    handle: &HostHandle,
    vm: &str,
    delete_volumes: bool,
) -> Result<String, DomainError> {
    let report = handle.delete(vm, delete_volumes).await?;
    let list = |paths: &[String]| {
        if paths.is_empty() {
            "none".to_owned()
        } else {
            paths.join(", ")
        }
    };
    Ok(format!(
        "deleted; volumes removed: {}; kept: {}",
        list(&report.deleted_volumes),
        list(&report.kept)
    ))
}

/// Names are what people call the machine: letters, digits, '-', '_', '.'.
pub fn check_name(input: &str) -> Result<String, DomainError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(DomainError::NameMissing);
    }
    if name.len() > 64 {
        return Err(DomainError::NameTooLong);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(DomainError::NameCharacter(bad));
    }
    Ok(name.to_owned())
}

/// Connects once to prove the URI works, off the async runtime.
/// Whether the server's configuration allows `uri` (an empty one is
/// missing, not refused).
fn allowed(policy: &uri::UriPolicy, uri: &str) -> Result<(), DomainError> {
    if uri.trim().is_empty() {
        return Err(DomainError::UriMissing);
    }
    policy.check(uri).map_err(DomainError::UriNotAllowed)
}

pub async fn try_connect(uri: &str) -> Result<(), DomainError> {
    let uri = uri.trim().to_owned();
    if uri.is_empty() {
        return Err(DomainError::UriMissing);
    }
    let attempt =
        tokio::task::spawn_blocking(move || LibvirtHost::connect(&uri).and_then(|h| h.close()));
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(DomainError::UriRefused(e)),
        Ok(Err(e)) => Err(DomainError::ConnectAttempt(e.to_string())),
        Err(_) => Err(DomainError::UriTimeout),
    }
}

/// The test-driver URI for a node description file: `test://` followed by
/// the absolute path (so `test:///abs/path/node.xml`). Relative paths are
/// made absolute against the current directory, because libvirt rejects
/// them.
pub fn demo_uri(path_to_xml: impl AsRef<std::path::Path>) -> String {
    let p = path_to_xml.as_ref();
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    format!("test://{}", abs.display())
}

/// Path of the bundled `demo-node.xml` (in the crate's source tree).
pub fn demo_node_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hosts/demo-node.xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_say_what_is_wrong() {
        assert_eq!(
            check_name("  proliant-1.lan ").ok().as_deref(),
            Some("proliant-1.lan")
        );
        assert!(matches!(check_name("  "), Err(DomainError::NameMissing)));
        assert!(matches!(
            check_name(&"a".repeat(65)),
            Err(DomainError::NameTooLong)
        ));
        let err = check_name("bad name");
        assert!(matches!(err, Err(DomainError::NameCharacter(' '))));
        assert_eq!(
            err.map_err(|e| e.to_string()).err().as_deref(),
            Some("' ' is not allowed: use letters, digits, '-', '_' and '.'.")
        );
    }

    #[test]
    fn an_action_reads_as_its_audit_line() {
        let done = ActionDone {
            action: VmAction::Start,
            before: Some(VmState::ShutOff),
            after: Some(VmState::Running),
        };
        assert_eq!(done.to_string(), "start: shut off → running");
        let unknown = ActionDone {
            before: None,
            ..done
        };
        assert_eq!(unknown.to_string(), "start: ? → running");
    }
}
