//! Layouts: a named plan of VMs checked against host memory with the
//! paper's equations before anything is created, then applied through
//! libvirt.
//!
//! The area has the one shape every domain has. This module holds the DTOs
//! the browser shares and the server functions, each one call through
//! [`crate::api::call`]; [`DomainError`] is the area's one error, turned
//! into the browser's [`AppError`] below, once. `service` (server only) reads
//! the forms and does the work, `service::apply` plans and applies through
//! libvirt; `store` and `entity` (server only) are the database; `pages`
//! draws `/layouts` and the editor. The pure core compiles for the browser
//! too: `model` is the layout's one shape (editor, database, files, command
//! line, plan/apply), `file` reads and writes it as TOML or JSON, `plan`
//! resolves it against the hosts with [`crate::capacity`], and `evaluate`
//! answers eq. (3) for the editor.
//!
//! Viewers read layouts, templates, plans and runs; operators create, save,
//! delete, import and apply layouts; admins edit templates, hosts' capacity
//! settings and the thin-disk fill.

pub mod addressing;
pub mod evaluate;
pub mod file;
pub mod model;
pub mod names;
pub mod pages;
pub mod plan;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

pub use model::{AddressChoice, HostChoice, LayoutProblem, LayoutSpec, LayoutVm, Nic};

use crate::api;
use crate::auth::{Access, Role};
use crate::capacity::{self, Bytes, CapacityPolicy, HostSpec, MiB, VcpuCount};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The template form as typed: numbers stay text until the service reads
/// them ([`TemplateFields::read`]), so a wrong one is refused by its field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateFields {
    pub name: String,
    /// One service per line.
    pub services: String,
    pub memory_mib: String,
    pub vcpus: String,
    pub disk_gib: String,
    /// Present when the box "thin-provisioned disk" was ticked.
    #[serde(default)]
    pub thin: Option<String>,
    /// An image's name; empty for none.
    #[serde(default)]
    pub image: String,
    /// Debian packages, separated by spaces or lines.
    #[serde(default)]
    pub packages: String,
}

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
    /// What its VMs are made from: an image of each host's library, by
    /// name (`None`: a blank disk).
    #[serde(default)]
    pub image: Option<String>,
    /// Debian packages cloud-init installs on its VMs when they are made
    /// from a cloud image (the paper's Table 2 services as packages, for
    /// its templates).
    #[serde(default)]
    pub packages: Vec<String>,
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
        if let Some(image) = &self.image {
            if let Err(e) = crate::images::check_name(image) {
                push("image", e.to_string());
            }
        }
        if let Some(p) = self.packages.iter().find(|p| !model::is_package_name(p)) {
            push(
                "packages",
                format!("\"{p}\" is not a Debian package name (lowercase letters, digits, + - .)"),
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
    /// Reachable hosts (see `store::host_specs` for how each is described).
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

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Done now.
    Done,
    /// Already done by an earlier apply; nothing created.
    Skipped,
    /// Failed: the apply stopped here.
    Failed,
}

impl StepStatus {
    /// The stored and displayed word.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> StepStatus {
        match s {
            "done" => StepStatus::Done,
            "skipped" => StepStatus::Skipped,
            _ => StepStatus::Failed,
        }
    }
}

/// One step of an apply run, as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyStep {
    /// Order within the run, from 1.
    pub seq: i32,
    /// When.
    pub at: crate::ui::Timestamp,
    /// Host name (empty for the run as a whole).
    pub host: String,
    /// VM name (empty for the run as a whole).
    pub vm: String,
    /// `check`, `remove`, `volume`, `define`, `resize`, `start`.
    pub step: String,
    /// How it went.
    pub status: StepStatus,
    /// What happened, or libvirt's message on failure.
    pub message: String,
}

impl ApplyStep {
    /// "dns-1 on demo: volume: created default/dns-1.qcow2 (4 GiB, thin qcow2)".
    pub fn line(&self) -> String {
        if self.vm.is_empty() {
            format!("{}: {}", self.step, self.message)
        } else {
            format!(
                "{} on {}: {}: {}",
                self.vm, self.host, self.step, self.message
            )
        }
    }
}

/// Where an apply run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Still going.
    Running,
    /// Everything done.
    Succeeded,
    /// Stopped at a failed step.
    Failed,
}

impl RunOutcome {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> RunOutcome {
        match s {
            "running" => RunOutcome::Running,
            "succeeded" => RunOutcome::Succeeded,
            _ => RunOutcome::Failed,
        }
    }
}

/// An apply run with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRun {
    /// Run id.
    pub id: i32,
    /// Layout applied.
    pub layout_id: i32,
    /// Who applied it.
    pub username: String,
    /// When it started.
    pub started_at: crate::ui::Timestamp,
    /// When it ended (`None` while running).
    pub finished_at: Option<crate::ui::Timestamp>,
    /// Where it stands.
    pub outcome: RunOutcome,
    /// The summary, or libvirt's message when it failed.
    pub message: String,
    /// Steps in order.
    pub steps: Vec<ApplyStep>,
}

impl ApplyRun {
    /// The steps that changed something or confirmed earlier work.
    pub fn steps_done(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.status != StepStatus::Failed && !s.vm.is_empty())
            .map(ApplyStep::line)
            .collect()
    }

    /// Steps that created a volume or a VM in this run.
    pub fn created(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.status == StepStatus::Done && (s.step == "volume" || s.step == "define"))
            .count()
    }
}

/// The plan as the apply panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// The plan.
    pub plan: Plan,
    /// Hosts that did not answer (left out of the plan), with the reason.
    pub unreachable: Vec<String>,
    /// VMs to create from an image their host's library does not hold, in
    /// words: the apply would stop at each one's image step.
    #[serde(default)]
    pub missing_images: Vec<String>,
    /// Each VM's address as the apply gives it (`auto` ones resolved), by
    /// VM name.
    #[serde(default)]
    pub addresses: std::collections::BTreeMap<String, String>,
    /// What stops the apply at its check: `auto` VMs without a free
    /// address, records that conflict, each in words.
    #[serde(default)]
    pub refusals: Vec<String>,
    /// The VMs' records in Stackyard's zones.
    #[serde(default)]
    pub names: names::NamePlan,
    /// The zones the apply installs on the NSD primary.
    #[serde(default)]
    pub publish: Vec<String>,
    /// No NSD primary is set up: the records are kept in Stackyard's zones
    /// until there is one.
    #[serde(default)]
    pub no_primary: bool,
    /// The caller may apply (operator or admin).
    pub can_apply: bool,
    /// Each host's id by name, for links to the VMs' pages.
    #[serde(default)]
    pub host_ids: std::collections::BTreeMap<String, i32>,
}

/// A layout's VM with a name in DNS and an address, as a mail domain's
/// settings offer it for the mail host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedVm {
    /// `LAYOUT_ID/VM`.
    pub key: String,
    /// "mail of Paper, Table 2 · mail.example.org · 192.0.2.25".
    pub label: String,
    pub fqdn: String,
    pub ip: String,
}

/// What goes wrong in the layouts area on the server. Services and the
/// store answer with it; the server functions turn it into [`AppError`]
/// through the one `From` below, which decides status and form field.
#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A form value that is wrong, with its field (a number that does not
    /// read, a value out of range, a removal that is not `HOST/VM`).
    #[error(transparent)]
    Invalid(#[from] crate::error::Invalid),
    /// The first problem of a layout or template, with its field
    /// (`name`, `vm[2].memory_mib`).
    #[error(transparent)]
    Problem(#[from] LayoutProblem),
    /// A layout file that does not read: every problem (line, field) on
    /// its own line.
    #[error("{0}")]
    File(String),
    /// Another layout or template already has this name.
    #[error("Another {kind} is already called {name}.")]
    NameTaken { kind: &'static str, name: String },
    /// What was not found: `Layout 5`, `Template 2`, `Host 3`, `Apply run 9`.
    #[error("{0} was not found.")]
    NotFound(String),
    /// Another apply of the layout is going (who, since when).
    #[error("{0}")]
    Busy(String),
    /// A stored row that does not read back.
    #[error("{0}")]
    Corrupt(String),
    /// The VMs' records could not be written or published (a conflict,
    /// a zone NSD refused, NSD not answering): the message says which.
    #[error("{0}")]
    Dns(String),
    #[error("The database did not answer; try again, and check /healthz.")]
    Database(#[from] sea_orm::DbErr),
}

#[cfg(feature = "ssr")]
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(invalid) => invalid.into(),
            DomainError::Problem(p) => AppError::invalid(p.field, p.message),
            DomainError::File(problems) => AppError::invalid("text", problems),
            e @ DomainError::NameTaken { .. } => AppError::invalid("name", e.to_string()),
            DomainError::NotFound(what) => AppError::NotFound(what),
            DomainError::Busy(why) => AppError::Refused(why),
            DomainError::Corrupt(what) | DomainError::Dns(what) => AppError::Failed(what),
            DomainError::Database(db) => db.into(),
        }
    }
}

// ------------------------------------------------------------- layouts

api::access!(ListLayouts, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "layouts/list")]
pub async fn list_layouts() -> Result<Vec<LayoutSummary>, AppError> {
    api::call::<ListLayouts>()
        .run(|c| async move { service::list(c.db()).await })
        .await
}

api::access!(GetLayout, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "layouts/get")]
pub async fn get_layout(id: i32) -> Result<LayoutSpec, AppError> {
    api::call::<GetLayout>()
        .run(|c| async move { service::get(c.db(), id).await })
        .await
}

/// What the layout editor opens with: the layout, the hosts and templates
/// it is weighed against, and its evaluation made on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorView {
    pub spec: LayoutSpec,
    pub hosts: HostsView,
    pub templates: Vec<TemplateDto>,
    pub evaluation: evaluate::Evaluation,
}

/// A layout as its page opens, to read: drawn from the server's evaluation
/// (see [`EditorView`]) in words and numbers, so the page carries no code to
/// read a layout, its hosts or its templates; the editor fetches those when
/// "Edit layout" is clicked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutReading {
    pub name: String,
    pub description: String,
    /// One line per VM, in layout order.
    pub vms: Vec<VmReading>,
    pub evaluation: evaluate::Evaluation,
    /// The hosts' settings, in host order.
    pub hosts: Vec<HostReading>,
    /// Registered hosts that did not answer.
    pub unreachable: Vec<UnreachableHost>,
    /// The zone the VMs are named in and each network described for their
    /// addresses, a line each.
    #[serde(default)]
    pub addressing: Vec<String>,
}

/// One VM of a layout, as its line in the table reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmReading {
    pub name: String,
    /// Its template, or "custom size", and the image it is made from
    /// ("Web Server · image debian-12").
    pub template: String,
    /// "2 vCPUs · 2048 MiB · 20 GiB".
    pub size: String,
    /// "auto · network:default · 192.0.2.10 · not started".
    pub host_and_network: String,
    /// Where it goes, in words ([`evaluate::VmPlace::verdict`]).
    pub placement: String,
    /// A condition is broken because of it, or it fits nowhere.
    pub bad: bool,
}

/// A host's settings, as its form opens with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReading {
    pub name: String,
    /// `None`: not registered (the embedded demo host of a test run).
    pub id: Option<i32>,
    pub settings: HostSettingsNow,
}

/// What the host settings form shows before it is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostSettingsNow {
    /// `y_os` set by the admin, MiB.
    pub os_reserve: Option<u64>,
    pub allow_emulation: bool,
    /// `y_os` when none is set, MiB.
    pub default_reserve: u64,
}

impl HostSettingsNow {
    pub fn of(host: &HostSpec, policy: &CapacityPolicy) -> Self {
        Self {
            os_reserve: host.os_reserve.map(|m| m.get()),
            allow_emulation: host.allow_emulation,
            default_reserve: policy.default_os_reserve.for_memory(host.memory).get(),
        }
    }
}

impl VmReading {
    /// `vm`'s line, with where it goes.
    /// `fqdn`: its name in DNS, if the layout gives it one.
    pub fn of(vm: &LayoutVm, fqdn: Option<String>, place: Option<&evaluate::VmPlace>) -> Self {
        let mut where_ = vec![match &vm.host {
            HostChoice::Auto => "auto".to_owned(),
            HostChoice::Host(h) => h.clone(),
        }];
        where_.push(vm.network.to_string());
        where_.extend(vm.ip.map(|ip| match ip {
            AddressChoice::Auto => "address auto".to_owned(),
            AddressChoice::Fixed(ip) => ip.to_string(),
        }));
        where_.extend(fqdn);
        if !vm.start {
            where_.push("not started".into());
        }
        Self {
            name: vm.name.clone(),
            template: {
                let template = vm.template.as_deref().unwrap_or("custom size");
                let own = if vm.user_data.is_some() {
                    " · its own user-data"
                } else {
                    ""
                };
                match &vm.image {
                    Some(image) => format!("{template} · image {image}{own}"),
                    None => template.to_owned(),
                }
            },
            size: format!(
                "{} vCPU{} · {} MiB · {} GiB",
                vm.vcpus,
                if vm.vcpus == 1 { "" } else { "s" },
                vm.memory_mib,
                vm.disk_gib
            ),
            host_and_network: where_.join(" · "),
            placement: place.map(evaluate::VmPlace::verdict).unwrap_or_default(),
            bad: place.is_some_and(evaluate::VmPlace::is_bad),
        }
    }
}

impl LayoutReading {
    /// What a reader of `view`'s layout sees.
    pub fn of(view: &EditorView) -> Self {
        let EditorView {
            spec,
            hosts,
            evaluation,
            ..
        } = view;
        Self {
            name: spec.name.clone(),
            description: spec.description.clone(),
            vms: spec
                .vms
                .iter()
                .enumerate()
                .map(|(i, vm)| {
                    let place = evaluation.vms.get(i).filter(|p| p.vm == vm.name);
                    VmReading::of(vm, spec.fqdn_of(vm), place)
                })
                .collect(),
            addressing: spec
                .zone
                .iter()
                .map(|z| format!("Names in the zone {z}: <vm>.{z} unless a VM names its own"))
                .chain(spec.networks.iter().map(|n| {
                    let mut parts = vec![n.nic.to_string(), n.subnet.to_string()];
                    parts.extend(n.gateway.map(|g| format!("gateway {g}")));
                    if !n.resolvers.is_empty() {
                        let r: Vec<String> = n.resolvers.iter().map(ToString::to_string).collect();
                        parts.push(format!("resolvers {}", r.join(", ")));
                    }
                    let (first, last) = n.pool();
                    parts.push(format!("auto from {first}-{last}"));
                    parts.join(" · ")
                }))
                .collect(),
            evaluation: evaluation.clone(),
            hosts: hosts
                .hosts
                .iter()
                .map(|h| HostReading {
                    name: h.name.clone(),
                    id: hosts.ids.get(&h.name).copied(),
                    settings: HostSettingsNow::of(h, &hosts.policy),
                })
                .collect(),
            unreachable: hosts.unreachable.clone(),
        }
    }
}

api::access!(ReadLayout, Access::Role(Role::Viewer));
/// Layout `id` as its page opens, to read.
#[server(prefix = "/api", endpoint = "layouts/read")]
pub async fn read_layout(id: i32) -> Result<LayoutReading, AppError> {
    api::call::<ReadLayout>()
        .run(|c| async move { service::reading(&c.state, id).await })
        .await
}

api::access!(ExportSavedLayout, Access::Role(Role::Viewer));
/// Layout `id` as saved, as a layout file in `format`.
#[server(prefix = "/api", endpoint = "layouts/export-saved")]
pub async fn export_saved_layout(id: i32, format: file::FileFormat) -> Result<String, AppError> {
    api::call::<ExportSavedLayout>()
        .run(|c| async move {
            let spec = service::get(c.db(), id).await?;
            file::render_layout(&spec, format).map_err(|e| DomainError::File(e.to_string()))
        })
        .await
}

api::access!(LayoutEditor, Access::Role(Role::Viewer));
/// Layout `id` with everything its editor shows at first, in one answer.
#[server(prefix = "/api", endpoint = "layouts/editor")]
pub async fn layout_editor(id: i32) -> Result<EditorView, AppError> {
    api::call::<LayoutEditor>()
        .run(|c| async move { service::editor(&c.state, id).await })
        .await
}

api::access!(LayoutHosts, Access::Role(Role::Viewer));
/// The hosts as the capacity model sees them, for evaluating in the browser.
#[server(prefix = "/api", endpoint = "layouts/hosts")]
pub async fn layout_hosts() -> Result<HostsView, AppError> {
    api::call::<LayoutHosts>()
        .run(|c| async move { service::hosts(&c.state).await })
        .await
}

api::access!(CreateLayout, Access::Role(Role::Operator));
/// Creates an empty layout; returns its id.
#[server(prefix = "/api", endpoint = "layouts/create")]
pub async fn create_layout(name: String, description: String) -> Result<i32, AppError> {
    api::call::<CreateLayout>()
        .audit("layouts.create", name.trim())
        .run(|c| async move { service::create(c.db(), &name, description).await })
        .await
}

api::access!(SaveLayout, Access::Role(Role::Operator));
/// Saves the whole layout; refuses it with the field of the first problem
/// (`vm[2].memory_mib`) and changes nothing then.
#[server(prefix = "/api", endpoint = "layouts/save", input = Json)]
pub async fn save_layout(id: i32, spec: LayoutSpec) -> Result<(), AppError> {
    api::call::<SaveLayout>()
        .audit("layouts.save", spec.name.trim())
        .run(|c| async move {
            let memory: u64 = spec.vms.iter().map(|v| v.memory_mib).sum();
            c.summary(format!(
                "layout {id}: {} VMs, {memory} MiB in all",
                spec.vms.len()
            ));
            service::save(c.db(), id, &spec).await
        })
        .await
}

api::access!(DeleteLayout, Access::Role(Role::Operator));
/// Deletes the layout (its VMs on the hosts stay).
#[server(prefix = "/api", endpoint = "layouts/delete")]
pub async fn delete_layout(id: i32) -> Result<(), AppError> {
    api::call::<DeleteLayout>()
        .audit("layouts.delete", format!("layout {id}"))
        .run(|c| async move {
            c.target(service::delete(c.db(), id).await?);
            Ok::<_, DomainError>(())
        })
        .await
}

/// What importing a file would create, read without saving anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    /// The layout's name.
    pub name: String,
    /// How many VMs it has.
    pub vms: usize,
}

api::access!(PreviewImport, Access::Role(Role::Operator));
/// Reads a layout file as [`import_layout`] would, and saves nothing: the
/// layout's name and VM count, or the problems with their line and field
/// (under `text`). The import panel asks as the text changes, so the
/// browser carries no TOML reader of its own.
#[server(prefix = "/api", endpoint = "layouts/import_preview")]
pub async fn preview_import(file_name: String, text: String) -> Result<ImportPreview, AppError> {
    api::call::<PreviewImport>()
        .run(|_| async move {
            let spec = service::read_import(&file_name, &text)?;
            Ok::<_, DomainError>(ImportPreview {
                vms: spec.vms.len(),
                name: spec.name,
            })
        })
        .await
}

api::access!(ExportLayout, Access::Role(Role::Viewer));
/// `spec` (the editor's layout as evaluated, saved or not) as a layout file
/// in `format`: the text a download of it holds.
#[server(prefix = "/api", endpoint = "layouts/export", input = Json)]
pub async fn export_layout(spec: LayoutSpec, format: file::FileFormat) -> Result<String, AppError> {
    api::call::<ExportLayout>()
        .run(|_| async move {
            file::render_layout(&spec, format).map_err(|e| DomainError::File(e.to_string()))
        })
        .await
}

api::access!(ImportLayout, Access::Role(Role::Operator));
/// Creates a layout from a TOML or JSON file (format by the file name's
/// extension, else by the content); returns its id. A file that does not
/// read is refused with its problems (line, field) under the field `text`.
#[server(prefix = "/api", endpoint = "layouts/import")]
pub async fn import_layout(file_name: String, text: String) -> Result<i32, AppError> {
    let file = file_name.trim().to_owned();
    api::call::<ImportLayout>()
        .audit("layouts.import", file.clone())
        .run(|c| async move {
            c.summary(format!("from {file}"));
            let spec = service::read_import(&file_name, &text)?;
            c.target(spec.name.clone());
            let id = service::import(c.db(), &spec).await?;
            c.summary(format!("layout {id} from {file}: {} VMs", spec.vms.len()));
            Ok::<_, DomainError>(id)
        })
        .await
}

// ----------------------------------------------------------- templates

api::access!(ListTemplates, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "layouts/templates")]
pub async fn list_templates() -> Result<Vec<TemplateDto>, AppError> {
    api::call::<ListTemplates>()
        .run(|c| async move { service::templates(c.db()).await })
        .await
}

api::access!(SaveTemplate, Access::Role(Role::Admin));
/// Adds (`id` 0) or changes a template. The form's fields arrive flat
/// (`name`, `memory_mib`, …); numbers come as typed so that a wrong one is
/// refused by its field.
#[server(prefix = "/api", endpoint = "layouts/template_save")]
pub async fn save_template(
    id: i32,
    #[server(flatten)] form: TemplateFields,
) -> Result<TemplateDto, AppError> {
    let action = if id == 0 {
        "templates.add"
    } else {
        "templates.edit"
    };
    api::call::<SaveTemplate>()
        .audit(action, form.name.trim())
        .run(|c| async move {
            let t = service::save_template(c.db(), id, form).await?;
            c.summary(format!(
                "{} MiB, {} vCPU, {} GiB{}",
                t.memory_mib,
                t.vcpus,
                t.disk_gib,
                if t.thin { " thin" } else { "" }
            ));
            Ok::<_, DomainError>(t)
        })
        .await
}

api::access!(DeleteTemplate, Access::Role(Role::Admin));
/// Removes a template; layouts keep the sizes they copied from it.
#[server(prefix = "/api", endpoint = "layouts/template_delete")]
pub async fn delete_template(id: i32) -> Result<(), AppError> {
    api::call::<DeleteTemplate>()
        .audit("templates.remove", format!("template {id}"))
        .run(|c| async move {
            c.target(service::delete_template(c.db(), id).await?);
            Ok::<_, DomainError>(())
        })
        .await
}

// ------------------------------------------------------ capacity settings

api::access!(SetHostCapacity, Access::Role(Role::Admin));
/// Sets a host's OS reserve `y_os` (empty = the default policy) and whether
/// guests may run under emulation.
#[server(prefix = "/api", endpoint = "layouts/host_capacity")]
pub async fn set_host_capacity(
    host_id: i32,
    y_os_mib: String,
    allow_emulation: Option<String>,
) -> Result<(), AppError> {
    let emulation = allow_emulation.is_some();
    api::call::<SetHostCapacity>()
        .audit("hosts.capacity", format!("host {host_id}"))
        .run(|c| async move {
            let y_os = y_os_mib.trim();
            c.summary(format!(
                "y_os {}; emulation {}",
                if y_os.is_empty() { "default" } else { y_os },
                if emulation { "allowed" } else { "not allowed" }
            ));
            c.target(service::set_host_capacity(c.db(), host_id, y_os, emulation).await?);
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(SetThinFill, Access::Role(Role::Admin));
/// Sets the expected fill of thin disks (a fraction, such as 0.5).
#[server(prefix = "/api", endpoint = "layouts/thin_fill")]
pub async fn set_thin_fill(thin_fill: String) -> Result<(), AppError> {
    api::call::<SetThinFill>()
        .audit("capacity.thin_fill", thin_fill.trim())
        .run(|c| async move { service::set_thin_fill(c.db(), &thin_fill).await })
        .await
}

// ------------------------------------------------------- plan and apply

api::access!(PlanLayout, Access::Role(Role::Viewer));
/// What applying the layout would do, from what the hosts report now.
#[server(prefix = "/api", endpoint = "layouts/plan")]
pub async fn plan_layout(layout_id: i32) -> Result<PlanView, AppError> {
    api::call::<PlanLayout>()
        .run(|c| async move { service::apply::plan_view(&c.state, layout_id, c.auth.role()).await })
        .await
}

api::access!(NamedVms, Access::Role(Role::Viewer));
/// Every layout VM with a name in DNS and an address, for a mail domain's
/// choice of its mail host.
#[server(prefix = "/api", endpoint = "layouts/named_vms")]
pub async fn named_vms() -> Result<Vec<NamedVm>, AppError> {
    api::call::<NamedVms>()
        .run(|c| async move { service::names::named_vms(c.db()).await })
        .await
}

api::access!(ApplyLayout, Access::Role(Role::Operator));
/// Starts applying the layout; returns the run id at once. Progress is read
/// with [`apply_status`]. `remove` lists extra VMs (`host/vm`) the operator
/// ticked for removal; nothing else is ever removed. The apply writes its
/// own audit entry when it ends (see `service::apply::start`).
#[server(prefix = "/api", endpoint = "layouts/apply")]
pub async fn apply_layout(
    layout_id: i32,
    #[server(default)] remove: Vec<String>,
) -> Result<i32, AppError> {
    api::call::<ApplyLayout>()
        .run(|c| async move { service::apply::start(&c.state, &c.auth, layout_id, &remove).await })
        .await
}

api::access!(ApplyStatus, Access::Role(Role::Viewer));
/// The layout's latest apply run with its steps, if it was ever applied.
#[server(prefix = "/api", endpoint = "layouts/apply_status")]
pub async fn apply_status(layout_id: i32) -> Result<Option<ApplyRun>, AppError> {
    api::call::<ApplyStatus>()
        .run(|c| async move { service::apply::latest_run(c.db(), layout_id).await })
        .await
}
