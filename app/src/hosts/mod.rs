//! Hypervisor hosts and their VMs through libvirt, for as many hosts as the
//! organisation has. `service` (server only) is the libvirt layer: a worker
//! thread per host owning the connection, a cache of each host's state fed
//! by lifecycle events, and every VM action; `registry` runs one worker per
//! host row; `pages` shows them, live.

pub mod pages;
#[cfg(feature = "ssr")]
pub mod registry;
#[cfg(feature = "ssr")]
pub mod service;
pub mod types;

use crate::auth::{Access, Role};
use crate::error::AppError;
use crate::{endpoint_access, page_access};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
pub use types::{HostCapacity, VmInfo, VmState};

#[cfg(feature = "ssr")]
pub mod entity {
    pub mod host {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "host")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub name: String,
            pub uri: String,
            pub label: String,
            /// The host's OS reserve `y_os` in MiB; `None` = the default policy
            /// (see `capacity::OsReserve`). Set on the layouts pages.
            pub y_os_mib: Option<i64>,
            /// Guests may run under software emulation when the CPU lacks
            /// hardware virtualization (the paper's `x`, relaxed by the admin).
            pub allow_emulation: bool,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

/// A host on the hosts page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSummary {
    pub id: i32,
    pub name: String,
    pub uri: String,
    pub label: String,
    pub reachable: bool,
    pub last_error: Option<String>,
    pub memory_total_mib: u64,
    pub memory_free_mib: u64,
    pub cpus: u32,
    pub hw_virt: bool,
    pub vms_total: usize,
    pub vms_running: usize,
    /// `y_os`: the host's own setting, or the default reserve for its memory.
    pub os_reserve_mib: u64,
    /// What the VMs defined on the host ask for, running or not (eq. 1).
    pub vms_memory_mib: u64,
}

impl HostSummary {
    /// The host's memory bar (nothing planned).
    pub fn memory_use(&self) -> crate::ui::MemoryUse {
        crate::ui::MemoryUse {
            total: self.memory_total_mib,
            os: self.os_reserve_mib,
            existing: self.vms_memory_mib,
            planned: 0,
        }
    }
}

/// A host's page: its capacity and its VMs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostDetail {
    pub summary: HostSummary,
    pub capacity: Option<HostCapacity>,
    pub vms: Vec<VmInfo>,
}

/// What an operator can do to a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmAction {
    Start,
    Shutdown,
    Reboot,
    ForceOff,
    Pause,
    Resume,
    AutostartOn,
    AutostartOff,
}

impl VmAction {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "start" => Self::Start,
            "shutdown" => Self::Shutdown,
            "reboot" => Self::Reboot,
            "force_off" => Self::ForceOff,
            "pause" => Self::Pause,
            "resume" => Self::Resume,
            "autostart_on" => Self::AutostartOn,
            "autostart_off" => Self::AutostartOff,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Shutdown => "shutdown",
            Self::Reboot => "reboot",
            Self::ForceOff => "force_off",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::AutostartOn => "autostart_on",
            Self::AutostartOff => "autostart_off",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Start => "Start",
            Self::Shutdown => "Shut down",
            Self::Reboot => "Reboot",
            Self::ForceOff => "Force off",
            Self::Pause => "Pause",
            Self::Resume => "Resume",
            Self::AutostartOn => "Autostart on",
            Self::AutostartOff => "Autostart off",
        }
    }

    /// Whether the page asks before doing it (data may be lost).
    pub fn destructive(self) -> bool {
        matches!(self, Self::ForceOff | Self::Reboot)
    }

    /// The actions that make sense for a VM as it is now.
    pub fn available(vm: &VmInfo) -> Vec<VmAction> {
        let mut actions = match vm.state {
            VmState::Running => vec![Self::Shutdown, Self::Reboot, Self::Pause, Self::ForceOff],
            VmState::Paused => vec![Self::Resume, Self::ForceOff],
            VmState::ShuttingDown => vec![Self::ForceOff],
            VmState::ShutOff | VmState::Crashed => vec![Self::Start],
            VmState::Suspended | VmState::Other => vec![Self::ForceOff],
        };
        if vm.persistent {
            actions.push(if vm.autostart {
                Self::AutostartOff
            } else {
                Self::AutostartOn
            });
        }
        actions
    }
}

page_access!("/hosts", Access::Role(Role::Viewer));
page_access!("/hosts/{id}", Access::Role(Role::Viewer));
// Server-sent events: one `host` event (data: the host id) per change.
crate::route_access!("/events/hosts", Access::Role(Role::Viewer));

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use crate::auth::server::{self as auth, AuditEntry};
    use crate::state::AppState;
    use service::{HostError, HostHandle};

    pub fn summary(row: &entity::host::Model, handle: &HostHandle) -> HostSummary {
        summarize(
            row,
            &handle.snapshot(),
            &crate::capacity::CapacityPolicy::default(),
        )
    }

    /// A host's summary from its row and what libvirt last said; the
    /// reserve `y_os` is the row's, else `policy`'s default for its memory.
    pub fn summarize(
        row: &entity::host::Model,
        snap: &types::HostSnapshot,
        policy: &crate::capacity::CapacityPolicy,
    ) -> HostSummary {
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
                    row.y_os_mib
                        .map(|y| crate::capacity::MiB(u64::try_from(y).unwrap_or(0))),
                    crate::capacity::MiB(cap.map_or(0, |c| c.memory_total_mib)),
                )
                .get(),
            vms_memory_mib: snap.vms.values().map(|v| v.memory_mib).sum(),
        }
    }

    pub fn host(state: &AppState, id: i32) -> Result<(entity::host::Model, HostHandle), AppError> {
        state
            .hosts
            .get(id)
            .ok_or_else(|| AppError::NotFound(format!("Host {id}")))
    }

    /// libvirt's own words reach the user; they say what is wrong.
    pub fn host_error(e: HostError) -> AppError {
        AppError::Refused(e.to_string())
    }

    /// Names are what people call the machine: letters, digits, '-', '_', '.'.
    pub fn check_name(input: &str) -> Result<String, AppError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                "Enter a name, such as proliant-1.",
            ));
        }
        if name.len() > 64 {
            return Err(AppError::invalid("name", "Use at most 64 characters."));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(AppError::invalid(
                "name",
                format!("{bad:?} is not allowed: use letters, digits, '-', '_' and '.'."),
            ));
        }
        Ok(name.to_owned())
    }

    /// Connects once to prove the URI works, off the async runtime.
    pub async fn try_connect(uri: &str) -> Result<(), AppError> {
        use service::Hypervisor as _;
        let uri = uri.trim().to_owned();
        if uri.is_empty() {
            return Err(AppError::invalid(
                "uri",
                "Enter a libvirt URI, such as qemu:///system.",
            ));
        }
        let attempt = tokio::task::spawn_blocking(move || {
            service::LibvirtHost::connect(&uri).and_then(|host| host.close())
        });
        match tokio::time::timeout(std::time::Duration::from_secs(15), attempt).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(AppError::invalid("uri", e.to_string())),
            Ok(Err(e)) => Err(AppError::Failed(format!(
                "the connection attempt failed: {e}"
            ))),
            Err(_) => Err(AppError::invalid(
                "uri",
                "No answer within 15 seconds: is the host up and the URI right?",
            )),
        }
    }

    pub async fn audit(state: &AppState, entry: AuditEntry) {
        auth::audit_best_effort(&state.db, entry).await;
    }
}

endpoint_access!(ListHosts, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "hosts/list")]
pub async fn list_hosts() -> Result<Vec<HostSummary>, AppError> {
    crate::auth::server::with_status(crate::auth::server::guard::<ListHosts>())?;
    let state = crate::state::AppState::from_context()?;
    // The registry keeps the row each host was started with; `y_os` may
    // have been set since (the layout page's host settings).
    let stored = crate::auth::server::with_status(
        crate::layouts::store::stored_hosts(&state.db)
            .await
            .map_err(AppError::from),
    )?;
    Ok(state
        .hosts
        .all()
        .iter()
        .map(|(row, handle)| ssr::summary(stored.get(&row.id).unwrap_or(row), handle))
        .collect())
}

endpoint_access!(GetHost, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "hosts/get")]
pub async fn get_host(id: i32) -> Result<HostDetail, AppError> {
    crate::auth::server::with_status(crate::auth::server::guard::<GetHost>())?;
    let state = crate::state::AppState::from_context()?;
    let (row, handle) = crate::auth::server::with_status(ssr::host(&state, id))?;
    let stored = crate::auth::server::with_status(
        crate::layouts::store::stored_hosts(&state.db)
            .await
            .map_err(AppError::from),
    )?;
    let snap = handle.snapshot();
    Ok(HostDetail {
        summary: ssr::summary(stored.get(&row.id).unwrap_or(&row), &handle),
        capacity: snap.capacity.clone(),
        vms: snap.vms.into_values().collect(),
    })
}

endpoint_access!(AddHost, Access::Role(Role::Admin));
/// Adds a host after connecting to it once; nothing is saved when that fails.
#[server(prefix = "/api", endpoint = "hosts/add")]
pub async fn add_host(name: String, uri: String) -> Result<HostSummary, AppError> {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let auth = crate::auth::server::with_status(crate::auth::server::guard::<AddHost>())?;
    let state = crate::state::AppState::from_context()?;
    let result = async {
        let name = ssr::check_name(&name)?;
        if entity::host::Entity::find()
            .filter(entity::host::Column::Name.eq(&name))
            .one(&state.db)
            .await?
            .is_some()
        {
            return Err(AppError::invalid(
                "name",
                format!("A host is already called {name}."),
            ));
        }
        ssr::try_connect(&uri).await?;
        let now = chrono::Utc::now();
        let row = entity::host::ActiveModel {
            name: Set(name),
            uri: Set(uri.trim().to_owned()),
            label: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
        state.hosts.start(row.clone());
        let (row, handle) = ssr::host(&state, row.id)?;
        handle
            .wait_reachable(std::time::Duration::from_secs(5))
            .await;
        Ok(ssr::summary(&row, &handle))
    }
    .await;
    let entry = crate::auth::server::AuditEntry::by(&auth, "hosts.add", name.trim())
        .outcome_of(&result)
        .summary(format!("uri {}", uri.trim()));
    ssr::audit(&state, entry).await;
    crate::auth::server::with_status(result)
}

endpoint_access!(EditHost, Access::Role(Role::Admin));
/// Renames a host or points it at another URI (connecting once first);
/// nothing changes when the new URI does not answer.
#[server(prefix = "/api", endpoint = "hosts/edit")]
pub async fn edit_host(id: i32, name: String, uri: String) -> Result<HostSummary, AppError> {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let auth = crate::auth::server::with_status(crate::auth::server::guard::<EditHost>())?;
    let state = crate::state::AppState::from_context()?;
    let mut before = format!("host {id}");
    let result = async {
        let (row, _) = ssr::host(&state, id)?;
        before = format!("{} {}", row.name, row.uri);
        let name = ssr::check_name(&name)?;
        if entity::host::Entity::find()
            .filter(entity::host::Column::Name.eq(&name))
            .filter(entity::host::Column::Id.ne(id))
            .one(&state.db)
            .await?
            .is_some()
        {
            return Err(AppError::invalid(
                "name",
                format!("A host is already called {name}."),
            ));
        }
        let uri = uri.trim().to_owned();
        if uri != row.uri {
            ssr::try_connect(&uri).await?;
        }
        let mut active: entity::host::ActiveModel = row.into();
        active.name = Set(name);
        active.uri = Set(uri);
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&state.db).await?;
        state.hosts.start(row.clone());
        let (row, handle) = ssr::host(&state, row.id)?;
        handle
            .wait_reachable(std::time::Duration::from_secs(5))
            .await;
        Ok(ssr::summary(&row, &handle))
    }
    .await;
    let summary = match &result {
        Ok(h) => format!("{before} → {} {}", h.name, h.uri),
        Err(_) => before.clone(),
    };
    let entry = crate::auth::server::AuditEntry::by(&auth, "hosts.edit", name.trim())
        .outcome_of(&result)
        .summary(summary);
    ssr::audit(&state, entry).await;
    crate::auth::server::with_status(result)
}

endpoint_access!(RemoveHost, Access::Role(Role::Admin));
/// Forgets a host; its VMs keep running, Stackyard only stops watching.
#[server(prefix = "/api", endpoint = "hosts/remove")]
pub async fn remove_host(id: i32) -> Result<(), AppError> {
    use sea_orm::EntityTrait;
    let auth = crate::auth::server::with_status(crate::auth::server::guard::<RemoveHost>())?;
    let state = crate::state::AppState::from_context()?;
    let result = async {
        let (row, _) = ssr::host(&state, id)?;
        entity::host::Entity::delete_by_id(id)
            .exec(&state.db)
            .await?;
        state.hosts.stop(id);
        Ok(row)
    }
    .await;
    let target = match &result {
        Ok(row) => row.name.clone(),
        Err(_) => format!("host {id}"),
    };
    let entry =
        crate::auth::server::AuditEntry::by(&auth, "hosts.remove", target).outcome_of(&result);
    ssr::audit(&state, entry).await;
    crate::auth::server::with_status(result.map(|_| ()))
}

endpoint_access!(LocalHypervisor, Access::Role(Role::Admin));
/// `qemu:///system` when a local libvirtd answers and no host uses it yet.
#[server(prefix = "/api", endpoint = "hosts/local")]
pub async fn local_hypervisor() -> Result<Option<String>, AppError> {
    crate::auth::server::with_status(crate::auth::server::guard::<LocalHypervisor>())?;
    let state = crate::state::AppState::from_context()?;
    const LOCAL: &str = "qemu:///system";
    if state.hosts.all().iter().any(|(row, _)| row.uri == LOCAL) {
        return Ok(None);
    }
    // A local daemon listens on its socket; without it, do not even try.
    if !std::path::Path::new("/var/run/libvirt/libvirt-sock").exists() {
        return Ok(None);
    }
    Ok(ssr::try_connect(LOCAL)
        .await
        .ok()
        .map(|()| LOCAL.to_owned()))
}

endpoint_access!(RunVmAction, Access::Role(Role::Operator));
/// Starts, stops, pauses, resumes or reboots a VM, or sets its autostart.
#[server(prefix = "/api", endpoint = "hosts/vm_action")]
pub async fn run_vm_action(host: i32, vm: String, action: String) -> Result<(), AppError> {
    let auth = crate::auth::server::with_status(crate::auth::server::guard::<RunVmAction>())?;
    let state = crate::state::AppState::from_context()?;
    let mut target = format!("host {host}/{vm}");
    let result = async {
        let action = VmAction::parse(&action).ok_or_else(|| {
            AppError::invalid("action", format!("{action:?} is not a VM action."))
        })?;
        let (row, handle) = ssr::host(&state, host)?;
        target = format!("{}/{vm}", row.name);
        let before = handle.cached_vm(&vm).map(|v| v.state.label());
        let done = match action {
            VmAction::Start => handle.start(&vm).await,
            VmAction::Shutdown => handle.shutdown(&vm).await,
            VmAction::Reboot => handle.reboot(&vm).await,
            VmAction::ForceOff => handle.force_off(&vm).await,
            VmAction::Pause => handle.pause(&vm).await,
            VmAction::Resume => handle.resume(&vm).await,
            VmAction::AutostartOn => handle.set_autostart(&vm, true).await,
            VmAction::AutostartOff => handle.set_autostart(&vm, false).await,
        };
        done.map_err(ssr::host_error)?;
        let after = handle.cached_vm(&vm).map(|v| v.state.label());
        Ok((action, before, after))
    }
    .await;
    let summary = match &result {
        Ok((a, before, after)) => format!(
            "{}: {} → {}",
            a.as_str(),
            before.unwrap_or("?"),
            after.unwrap_or("?")
        ),
        Err(_) => action.clone(),
    };
    let entry = crate::auth::server::AuditEntry::by(&auth, "vm.action", target)
        .outcome_of(&result)
        .summary(summary);
    ssr::audit(&state, entry).await;
    crate::auth::server::with_status(result.map(|_| ()))
}

endpoint_access!(DeleteVm, Access::Role(Role::Operator));
/// Removes a shut-off VM's definition, and its volumes when asked.
#[server(prefix = "/api", endpoint = "hosts/vm_delete")]
pub async fn delete_vm(host: i32, vm: String, delete_volumes: bool) -> Result<(), AppError> {
    let auth = crate::auth::server::with_status(crate::auth::server::guard::<DeleteVm>())?;
    let state = crate::state::AppState::from_context()?;
    let mut target = format!("host {host}/{vm}");
    let result = async {
        let (row, handle) = ssr::host(&state, host)?;
        target = format!("{}/{vm}", row.name);
        handle
            .delete(&vm, delete_volumes)
            .await
            .map_err(ssr::host_error)
    }
    .await;
    let summary = match &result {
        Ok(report) => format!(
            "deleted; volumes removed: {}; kept: {}",
            if report.deleted_volumes.is_empty() {
                "none".to_owned()
            } else {
                report.deleted_volumes.join(", ")
            },
            if report.kept.is_empty() {
                "none".to_owned()
            } else {
                report.kept.join(", ")
            }
        ),
        Err(_) => format!("delete (volumes too: {delete_volumes})"),
    };
    let entry = crate::auth::server::AuditEntry::by(&auth, "vm.delete", target)
        .outcome_of(&result)
        .summary(summary);
    ssr::audit(&state, entry).await;
    crate::auth::server::with_status(result.map(|_| ()))
}
