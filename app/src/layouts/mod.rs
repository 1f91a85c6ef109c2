//! Layouts: a named plan of VMs checked against host memory with the
//! paper's equations before anything is created, then applied through
//! libvirt. `model` is the layout's one shape (editor, database, files,
//! command line, plan/apply); `store` (server only) keeps layouts and
//! templates in the database and describes the hosts for the capacity
//! model; the pages evaluate a layout in the browser as the admin types.

pub mod api;
#[cfg(feature = "ssr")]
pub mod apply;
pub mod apply_api;
pub mod apply_view;
pub mod evaluate;
pub mod file;
pub mod model;
pub mod pages;
pub mod plan;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod store;

pub use model::{HostChoice, LayoutProblem, LayoutSpec, LayoutVm, Nic};

use crate::capacity::{self, Bytes, CapacityPolicy, HostSpec, MiB, VcpuCount};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A VM template as pages and server functions see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDto {
    /// Database id; 0 for one not saved yet.
    pub id: i32,
    pub name: String,
    /// The services the VM holds, in order.
    pub services: Vec<String>,
    pub memory_mib: u64,
    pub vcpus: u32,
    pub disk_gib: u64,
    /// The disk is thin-provisioned (counted at the expected fill).
    pub thin: bool,
}

/// Most services a template lists.
pub const MAX_SERVICES: usize = 50;

impl TemplateDto {
    /// The capacity model's view of the template (for eq. 3).
    pub fn to_template(&self) -> capacity::Template {
        capacity::Template {
            name: self.name.clone(),
            services: self.services.clone(),
            memory: MiB(self.memory_mib),
            vcpus: VcpuCount(self.vcpus),
            disk: Bytes::from_gib(self.disk_gib),
            thin: self.thin,
            paper_count: 0,
            sized_by_paper: false,
        }
    }

    /// Every problem with the template, each with its form field. Empty = valid.
    pub fn problems(&self) -> Vec<LayoutProblem> {
        let mut out = Vec::new();
        let mut push = |field: &str, message: String| {
            out.push(LayoutProblem {
                field: field.into(),
                message,
            })
        };
        let name = self.name.trim();
        if name.is_empty() {
            push("name", "a template needs a name".into());
        } else if name.chars().count() > 64 {
            push(
                "name",
                format!("{} characters; at most 64", name.chars().count()),
            );
        } else if name.chars().any(char::is_control) {
            push("name", "no control characters or line breaks".into());
        }
        if self.services.len() > MAX_SERVICES {
            push(
                "services",
                format!("{} services; at most {MAX_SERVICES}", self.services.len()),
            );
        } else if let Some(bad) = self
            .services
            .iter()
            .find(|s| s.trim().is_empty() || s.chars().count() > 100 || s.contains('\n'))
        {
            push(
                "services",
                format!("\"{bad}\": one service per line, 1 to 100 characters"),
            );
        }
        if self.vcpus == 0 || self.vcpus > model::MAX_VCPUS {
            push(
                "vcpus",
                format!("{} vCPUs; between 1 and {}", self.vcpus, model::MAX_VCPUS),
            );
        }
        if self.memory_mib < 16 || self.memory_mib > model::MAX_MEMORY_MIB {
            push(
                "memory_mib",
                format!(
                    "{} MiB; between 16 MiB and {} MiB",
                    self.memory_mib,
                    model::MAX_MEMORY_MIB
                ),
            );
        }
        if self.disk_gib > model::MAX_DISK_GIB {
            push(
                "disk_gib",
                format!("{} GiB; at most {} GiB", self.disk_gib, model::MAX_DISK_GIB),
            );
        }
        out
    }
}

/// A layout in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutSummary {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub vms: usize,
    /// Σ memory of its VMs, MiB.
    pub memory_mib: u64,
    /// RFC 3339.
    pub updated_at: String,
}

/// The hosts as the capacity model sees them, for the editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HostsView {
    /// Reachable hosts (see [`store::host_specs`] for how each is described).
    pub hosts: Vec<HostSpec>,
    /// Registered hosts that did not answer: left out of the checks.
    pub unreachable: Vec<UnreachableHost>,
    /// Ids of the hosts by name, for links and the host settings form.
    pub ids: BTreeMap<String, i32>,
    /// Networks and bridges each host offers (`network:NAME`, `bridge:NAME`).
    pub networks: BTreeMap<String, Vec<String>>,
    pub policy: CapacityPolicy,
}

/// A host left out of the checks, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreachableHost {
    pub name: String,
    pub error: String,
}
