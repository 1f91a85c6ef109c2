//! Server functions of the layouts area. Thin: check the role, call
//! [`super::store`], audit what changed. Viewers read layouts and
//! templates; operators create, save and delete layouts; admins edit
//! templates, hosts' capacity settings and the thin-disk fill.

use super::{HostsView, LayoutSpec, LayoutSummary, TemplateDto};
use crate::endpoint_access;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::server::{guard, with_status, AuditEntry};
    pub use crate::state::AppState;

    pub async fn audit(state: &AppState, entry: AuditEntry) {
        crate::auth::server::audit_best_effort(&state.db, entry).await;
    }

    /// A whole number from a form field, or the field's error.
    pub fn number<T: std::str::FromStr>(
        field: &str,
        input: &str,
        what: &str,
    ) -> Result<T, crate::error::AppError> {
        input.trim().parse().map_err(|_| {
            crate::error::AppError::invalid(
                field,
                format!("\"{}\" is not a whole number of {what}.", input.trim()),
            )
        })
    }
}

endpoint_access!(
    ListLayouts,
    crate::auth::Access::Role(crate::auth::Role::Viewer)
);
#[server(prefix = "/api", endpoint = "layouts/list")]
pub async fn list_layouts() -> Result<Vec<LayoutSummary>, AppError> {
    ssr::with_status(ssr::guard::<ListLayouts>())?;
    let state = ssr::AppState::from_context()?;
    super::store::list(&state.db).await
}

endpoint_access!(
    GetLayout,
    crate::auth::Access::Role(crate::auth::Role::Viewer)
);
#[server(prefix = "/api", endpoint = "layouts/get")]
pub async fn get_layout(id: i32) -> Result<LayoutSpec, AppError> {
    ssr::with_status(ssr::guard::<GetLayout>())?;
    let state = ssr::AppState::from_context()?;
    ssr::with_status(super::store::load(&state.db, id).await)
}

endpoint_access!(
    LayoutHosts,
    crate::auth::Access::Role(crate::auth::Role::Viewer)
);
/// The hosts as the capacity model sees them, for evaluating in the browser.
#[server(prefix = "/api", endpoint = "layouts/hosts")]
pub async fn layout_hosts() -> Result<HostsView, AppError> {
    ssr::with_status(ssr::guard::<LayoutHosts>())?;
    let state = ssr::AppState::from_context()?;
    super::store::hosts_view(&state).await
}

endpoint_access!(
    ListTemplates,
    crate::auth::Access::Role(crate::auth::Role::Viewer)
);
#[server(prefix = "/api", endpoint = "layouts/templates")]
pub async fn list_templates() -> Result<Vec<TemplateDto>, AppError> {
    ssr::with_status(ssr::guard::<ListTemplates>())?;
    let state = ssr::AppState::from_context()?;
    super::store::templates(&state.db).await
}

endpoint_access!(
    CreateLayout,
    crate::auth::Access::Role(crate::auth::Role::Operator)
);
/// Creates an empty layout; returns its id.
#[server(prefix = "/api", endpoint = "layouts/create")]
pub async fn create_layout(name: String, description: String) -> Result<i32, AppError> {
    let auth = ssr::with_status(ssr::guard::<CreateLayout>())?;
    let state = ssr::AppState::from_context()?;
    let spec = LayoutSpec {
        name: name.trim().to_owned(),
        description,
        vms: Vec::new(),
    };
    let result = super::store::save(&state.db, None, &spec).await;
    let entry = ssr::AuditEntry::by(&auth, "layouts.create", spec.name.clone()).outcome_of(&result);
    ssr::audit(&state, entry).await;
    ssr::with_status(result)
}

endpoint_access!(
    SaveLayout,
    crate::auth::Access::Role(crate::auth::Role::Operator)
);
/// Saves the whole layout; refuses it with the field of the first problem
/// (`vm[2].memory_mib`) and changes nothing then.
#[server(prefix = "/api", endpoint = "layouts/save", input = Json)]
pub async fn save_layout(id: i32, spec: LayoutSpec) -> Result<(), AppError> {
    let auth = ssr::with_status(ssr::guard::<SaveLayout>())?;
    let state = ssr::AppState::from_context()?;
    let result = super::store::save(&state.db, Some(id), &spec).await;
    let memory: u64 = spec.vms.iter().map(|v| v.memory_mib).sum();
    let entry = ssr::AuditEntry::by(&auth, "layouts.save", spec.name.trim())
        .outcome_of(&result)
        .summary(format!(
            "layout {id}: {} VMs, {memory} MiB in all",
            spec.vms.len()
        ));
    ssr::audit(&state, entry).await;
    ssr::with_status(result.map(|_| ()))
}

endpoint_access!(
    DeleteLayout,
    crate::auth::Access::Role(crate::auth::Role::Operator)
);
/// Deletes the layout (its VMs on the hosts stay).
#[server(prefix = "/api", endpoint = "layouts/delete")]
pub async fn delete_layout(id: i32) -> Result<(), AppError> {
    let auth = ssr::with_status(ssr::guard::<DeleteLayout>())?;
    let state = ssr::AppState::from_context()?;
    let result = super::store::delete(&state.db, id).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("layout {id}"), Clone::clone);
    let entry = ssr::AuditEntry::by(&auth, "layouts.delete", target).outcome_of(&result);
    ssr::audit(&state, entry).await;
    ssr::with_status(result.map(|_| ()))
}

endpoint_access!(
    SaveTemplate,
    crate::auth::Access::Role(crate::auth::Role::Admin)
);
/// Adds (`id` 0) or changes a template. Numbers come as typed so that a
/// wrong one is refused by its field.
#[server(prefix = "/api", endpoint = "layouts/template_save")]
pub async fn save_template(
    id: i32,
    name: String,
    services: String,
    memory_mib: String,
    vcpus: String,
    disk_gib: String,
    thin: Option<String>,
) -> Result<TemplateDto, AppError> {
    let auth = ssr::with_status(ssr::guard::<SaveTemplate>())?;
    let state = ssr::AppState::from_context()?;
    let result = async {
        let t = TemplateDto {
            id,
            name: name.trim().to_owned(),
            services: services
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            memory_mib: ssr::number("memory_mib", &memory_mib, "MiB")?,
            vcpus: ssr::number("vcpus", &vcpus, "vCPUs")?,
            disk_gib: ssr::number("disk_gib", &disk_gib, "GiB")?,
            thin: thin.is_some(),
        };
        super::store::save_template(&state.db, &t).await
    }
    .await;
    let action = if id == 0 {
        "templates.add"
    } else {
        "templates.edit"
    };
    let summary = match &result {
        Ok(t) => format!(
            "{} MiB, {} vCPU, {} GiB{}",
            t.memory_mib,
            t.vcpus,
            t.disk_gib,
            if t.thin { " thin" } else { "" }
        ),
        Err(_) => String::new(),
    };
    let entry = ssr::AuditEntry::by(&auth, action, name.trim())
        .outcome_of(&result)
        .summary(summary);
    ssr::audit(&state, entry).await;
    ssr::with_status(result)
}

endpoint_access!(
    DeleteTemplate,
    crate::auth::Access::Role(crate::auth::Role::Admin)
);
/// Removes a template; layouts keep the sizes they copied from it.
#[server(prefix = "/api", endpoint = "layouts/template_delete")]
pub async fn delete_template(id: i32) -> Result<(), AppError> {
    let auth = ssr::with_status(ssr::guard::<DeleteTemplate>())?;
    let state = ssr::AppState::from_context()?;
    let result = super::store::delete_template(&state.db, id).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("template {id}"), Clone::clone);
    let entry = ssr::AuditEntry::by(&auth, "templates.remove", target).outcome_of(&result);
    ssr::audit(&state, entry).await;
    ssr::with_status(result.map(|_| ()))
}

endpoint_access!(
    SetHostCapacity,
    crate::auth::Access::Role(crate::auth::Role::Admin)
);
/// Sets a host's OS reserve `y_os` (empty = the default policy) and whether
/// guests may run under emulation.
#[server(prefix = "/api", endpoint = "layouts/host_capacity")]
pub async fn set_host_capacity(
    host_id: i32,
    y_os_mib: String,
    allow_emulation: Option<String>,
) -> Result<(), AppError> {
    let auth = ssr::with_status(ssr::guard::<SetHostCapacity>())?;
    let state = ssr::AppState::from_context()?;
    let y_os = y_os_mib.trim();
    let result = async {
        let y_os = if y_os.is_empty() {
            None
        } else {
            Some(ssr::number::<u64>("y_os_mib", y_os, "MiB")?)
        };
        super::store::set_host_capacity(&state.db, host_id, y_os, allow_emulation.is_some()).await
    }
    .await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("host {host_id}"), Clone::clone);
    let entry = ssr::AuditEntry::by(&auth, "hosts.capacity", target)
        .outcome_of(&result)
        .summary(format!(
            "y_os {}; emulation {}",
            if y_os.is_empty() { "default" } else { y_os },
            if allow_emulation.is_some() {
                "allowed"
            } else {
                "not allowed"
            }
        ));
    ssr::audit(&state, entry).await;
    ssr::with_status(result.map(|_| ()))
}

endpoint_access!(
    SetThinFill,
    crate::auth::Access::Role(crate::auth::Role::Admin)
);
/// Sets the expected fill of thin disks (a fraction, such as 0.5).
#[server(prefix = "/api", endpoint = "layouts/thin_fill")]
pub async fn set_thin_fill(thin_fill: String) -> Result<(), AppError> {
    let auth = ssr::with_status(ssr::guard::<SetThinFill>())?;
    let state = ssr::AppState::from_context()?;
    let result = async {
        let fill: f64 = thin_fill.trim().parse().map_err(|_| {
            AppError::invalid(
                "thin_fill",
                format!(
                    "\"{}\" is not a number: enter a fraction such as 0.5.",
                    thin_fill.trim()
                ),
            )
        })?;
        super::store::set_thin_fill(&state.db, fill).await
    }
    .await;
    let entry =
        ssr::AuditEntry::by(&auth, "capacity.thin_fill", thin_fill.trim()).outcome_of(&result);
    ssr::audit(&state, entry).await;
    ssr::with_status(result)
}

/// Largest layout file accepted (1 MiB: thousands of VMs).
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

endpoint_access!(
    ImportLayout,
    crate::auth::Access::Role(crate::auth::Role::Operator)
);
/// Creates a layout from a TOML or JSON file (format by the file name's
/// extension, else by the content); returns its id. A file that does not
/// read is refused with its problems (line, field) under the field `text`.
#[server(prefix = "/api", endpoint = "layouts/import")]
pub async fn import_layout(file_name: String, text: String) -> Result<i32, AppError> {
    let auth = ssr::with_status(ssr::guard::<ImportLayout>())?;
    let state = ssr::AppState::from_context()?;
    let mut target = file_name.trim().to_owned();
    let result = async {
        let spec = check_file(&file_name, &text).map_err(|m| AppError::invalid("text", m))?;
        target = spec.name.clone();
        let id = super::store::save(&state.db, None, &spec).await?;
        Ok((id, spec.vms.len()))
    }
    .await;
    let summary = match &result {
        Ok((id, vms)) => format!("layout {id} from {}: {vms} VMs", file_name.trim()),
        Err(_) => format!("from {}", file_name.trim()),
    };
    let entry = ssr::AuditEntry::by(&auth, "layouts.import", target)
        .outcome_of(&result)
        .summary(summary);
    ssr::audit(&state, entry).await;
    ssr::with_status(result.map(|(id, _)| id))
}

/// Reads a layout file as import does, in the browser too; the error lists
/// every problem (with line and field) on its own line.
pub fn check_file(file_name: &str, text: &str) -> Result<LayoutSpec, String> {
    if text.trim().is_empty() {
        return Err("Choose a file or paste a layout in TOML or JSON.".into());
    }
    if text.len() > MAX_FILE_BYTES {
        return Err(format!(
            "The file has {} bytes; at most {MAX_FILE_BYTES}.",
            text.len()
        ));
    }
    let name = Some(file_name.trim()).filter(|n| !n.is_empty());
    let spec = super::file::parse_layout(name, text).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    match spec.problems().first() {
        Some(p) => Err(p.to_string()),
        None => Ok(spec),
    }
}
