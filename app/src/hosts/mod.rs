//! Hypervisor hosts and their VMs through libvirt, for as many hosts as the
//! organisation has.
//!
//! This file holds what the browser and the server share: the page DTOs
//! ([`HostSummary`], [`HostDetail`], [`VmAction`]; libvirt's own in
//! [`types`]) and the server functions, each one [`api::call`](crate::api)
//! into the server-only `service` (the libvirt layer: a worker thread per
//! host owning the connection, a cache of each host's state fed by
//! lifecycle events, the registry running one worker per host row, and the
//! operations on hosts and VMs), which reads and writes the database
//! through `store` and `entity`. `pages` shows hosts live.

#[cfg(feature = "ssr")]
pub mod entity;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

/// The registry's former path, kept for the server crate and the tests.
#[cfg(feature = "ssr")]
pub use service::registry;
#[cfg(feature = "ssr")]
pub use service::DomainError;

use crate::api;
use crate::auth::{Access, Role};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
pub use types::{HostCapacity, VmInfo, VmState};

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
    /// The VMs only an admin may act on, by name.
    pub protected: Vec<String>,
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

// Server-sent events: one `host` event (data: the host id) per change.
crate::route_access!("/events/hosts", Access::Role(Role::Viewer));

#[cfg(feature = "ssr")]
impl From<DomainError> for AppError {
    /// The one place a hosts error picks its status and form field.
    fn from(e: DomainError) -> Self {
        use DomainError as E;
        match e {
            E::NameMissing | E::NameTooLong | E::NameCharacter(_) | E::NameTaken(_) => {
                AppError::invalid("name", e.to_string())
            }
            E::UriMissing | E::UriNotAllowed(_) | E::UriRefused(_) | E::UriTimeout => {
                AppError::invalid("uri", e.to_string())
            }
            E::UnknownAction(_) => AppError::invalid("action", e.to_string()),
            E::Protected(_) => AppError::Forbidden(e.to_string()),
            E::NoSuchHost(id) => AppError::NotFound(format!("Host {id}")),
            E::Host(busy @ service::HostError::Busy { .. }) => AppError::TooMany(busy.to_string()),
            // libvirt's own words reach the user; they say what is wrong.
            E::Host(host) => AppError::Refused(host.to_string()),
            E::ConnectAttempt(_) => AppError::Failed(e.to_string()),
            E::Database(db) => AppError::from(db),
        }
    }
}

api::access!(ListHosts, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "hosts/list")]
pub async fn list_hosts() -> Result<Vec<HostSummary>, AppError> {
    api::call::<ListHosts>()
        .run(|c| async move { service::list(c.db(), &c.state.hosts).await })
        .await
}

api::access!(GetHost, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "hosts/get")]
pub async fn get_host(id: i32) -> Result<HostDetail, AppError> {
    api::call::<GetHost>()
        .run(|c| async move { service::detail(c.db(), &c.state.hosts, id).await })
        .await
}

api::access!(AddHost, Access::Role(Role::Admin));
/// Adds a host after connecting to it once; nothing is saved when that fails.
#[server(prefix = "/api", endpoint = "hosts/add")]
pub async fn add_host(
    name: String,
    uri: String,
    confirm_password: String,
) -> Result<HostSummary, AppError> {
    api::call::<AddHost>()
        .audit("hosts.add", name.trim())
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary(format!("uri {}", uri.trim()));
            service::add(c.db(), &c.state.hosts, &c.state.policy.libvirt, &name, &uri).await
        })
        .await
}

api::access!(EditHost, Access::Role(Role::Admin));
/// Renames a host or points it at another URI (connecting once first);
/// nothing changes when the new URI does not answer.
#[server(prefix = "/api", endpoint = "hosts/edit")]
pub async fn edit_host(
    id: i32,
    name: String,
    uri: String,
    confirm_password: String,
) -> Result<HostSummary, AppError> {
    api::call::<EditHost>()
        .audit("hosts.edit", name.trim())
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary(format!("host {id}"));
            let (row, _) = service::host(&c.state.hosts, id)?;
            let before = format!("{} {}", row.name, row.uri);
            c.summary(before.clone());
            let after = service::edit(
                c.db(),
                &c.state.hosts,
                &c.state.policy.libvirt,
                row,
                &name,
                &uri,
            )
            .await?;
            c.summary(format!("{before} → {} {}", after.name, after.uri));
            Ok::<_, DomainError>(after)
        })
        .await
}

api::access!(RemoveHost, Access::Role(Role::Admin));
/// Forgets a host; its VMs keep running, Stackyard only stops watching.
#[server(prefix = "/api", endpoint = "hosts/remove")]
pub async fn remove_host(id: i32) -> Result<(), AppError> {
    api::call::<RemoveHost>()
        .audit("hosts.remove", format!("host {id}"))
        .run(|c| async move {
            let row = service::remove(c.db(), &c.state.hosts, id).await?;
            c.target(row.name);
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(LocalHypervisor, Access::Role(Role::Admin));
/// `qemu:///system` when a local libvirtd answers and no host uses it yet.
#[server(prefix = "/api", endpoint = "hosts/local")]
pub async fn local_hypervisor() -> Result<Option<String>, AppError> {
    api::call::<LocalHypervisor>()
        .run(|c| async move {
            Ok::<_, DomainError>(service::local_hypervisor(&c.state.hosts).await)
        })
        .await
}

api::access!(RunVmAction, Access::Role(Role::Operator));
/// Starts, stops, pauses, resumes or reboots a VM, or sets its autostart.
#[server(prefix = "/api", endpoint = "hosts/vm_action")]
pub async fn run_vm_action(host: i32, vm: String, action: String) -> Result<(), AppError> {
    api::call::<RunVmAction>()
        .audit("vm.action", format!("host {host}/{vm}"))
        .run(|c| async move {
            c.summary(action.clone());
            let action = VmAction::parse(&action).ok_or(DomainError::UnknownAction(action))?;
            let (row, handle) = service::host(&c.state.hosts, host)?;
            c.target(format!("{}/{vm}", row.name));
            admin_if_protected(&c, host, &vm).await?;
            let done = service::run_action(&handle, &vm, action).await?;
            c.summary(done.to_string());
            Ok::<_, DomainError>(())
        })
        .await
}

#[cfg(feature = "ssr")]
/// Refuses a caller below admin when the VM is protected.
pub(crate) async fn admin_if_protected(
    c: &api::Ctx,
    host: i32,
    vm: &str,
) -> Result<(), DomainError> {
    if c.auth.role() < Some(Role::Admin) && store::is_protected(c.db(), host, vm).await? {
        return Err(DomainError::Protected(vm.to_owned()));
    }
    Ok(())
}

api::access!(ProtectVm, Access::Role(Role::Admin));
/// Protects a VM (only admins may then act on it), or lifts that.
#[server(prefix = "/api", endpoint = "hosts/vm_protect")]
pub async fn protect_vm(host: i32, vm: String, protected: bool) -> Result<(), AppError> {
    api::call::<ProtectVm>()
        .audit("vm.protect", format!("host {host}/{vm}"))
        .run(|c| async move {
            c.summary(if protected {
                "protected"
            } else {
                "unprotected"
            });
            let (row, handle) = service::host(&c.state.hosts, host)?;
            c.target(format!("{}/{vm}", row.name));
            if !handle.snapshot().vms.contains_key(&vm) {
                return Err(AppError::NotFound(format!("VM {vm} on {}", row.name)));
            }
            store::set_protected(c.db(), host, &vm, protected, c.username()).await?;
            Ok::<_, AppError>(())
        })
        .await
}

api::access!(DeleteVm, Access::Role(Role::Operator));
/// Removes a shut-off VM's definition, and its volumes when asked.
#[server(prefix = "/api", endpoint = "hosts/vm_delete")]
pub async fn delete_vm(host: i32, vm: String, delete_volumes: bool) -> Result<(), AppError> {
    api::call::<DeleteVm>()
        .audit("vm.delete", format!("host {host}/{vm}"))
        .run(|c| async move {
            c.summary(format!("delete (volumes too: {delete_volumes})"));
            let (row, handle) = service::host(&c.state.hosts, host)?;
            c.target(format!("{}/{vm}", row.name));
            admin_if_protected(&c, host, &vm).await?;
            c.summary(service::delete_vm(&handle, &vm, delete_volumes).await?);
            // A VM of the same name made later starts unprotected.
            store::set_protected(c.db(), host, &vm, false, c.username()).await?;
            Ok::<_, DomainError>(())
        })
        .await
}
