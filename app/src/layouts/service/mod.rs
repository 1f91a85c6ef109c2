//! The layouts area on the server, behind its server functions: layouts
//! and templates kept in the database ([`super::store`]), the hosts as the
//! capacity model sees them, the capacity settings, import, and (in
//! [`apply`]) plan and apply through libvirt.
//!
//! Inputs arrive typed: form text is read here, in the first lines, so a
//! wrong number is refused by its field before anything is stored. Every
//! function answers with [`DomainError`]; the server functions turn it into
//! the browser's error in one place.

pub mod apply;
pub mod names;

use super::evaluate::Evaluation;
use super::file::check_file;
use super::{
    store, DomainError, EditorView, HostsView, LayoutReading, LayoutSpec, LayoutSummary,
    TemplateDto, TemplateFields,
};
use crate::error::{parse_number, Invalid};
use crate::state::AppState;
use sea_orm::DatabaseConnection;

/// Every layout, by name.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<LayoutSummary>, DomainError> {
    store::list(db).await
}

/// The layout with this id.
pub async fn get(db: &DatabaseConnection, id: i32) -> Result<LayoutSpec, DomainError> {
    store::load(db, id).await
}

/// Layout `id`, the hosts, the templates, and the layout evaluated on them.
pub async fn editor(state: &AppState, id: i32) -> Result<EditorView, DomainError> {
    let spec = store::load(&state.db, id).await?;
    let hosts = store::hosts_view(state).await?;
    let templates = store::templates(&state.db).await?;
    let evaluation = Evaluation::of(&spec, &hosts, &templates);
    Ok(EditorView {
        spec,
        hosts,
        templates,
        evaluation,
    })
}

/// Layout `id` as its page opens, to read.
pub async fn reading(state: &AppState, id: i32) -> Result<LayoutReading, DomainError> {
    editor(state, id).await.map(|view| LayoutReading::of(&view))
}

/// The hosts as the capacity model sees them, for the editor.
pub async fn hosts(state: &AppState) -> Result<HostsView, DomainError> {
    store::hosts_view(state).await
}

/// Every template, in their order.
pub async fn templates(db: &DatabaseConnection) -> Result<Vec<TemplateDto>, DomainError> {
    store::templates(db).await
}

/// Creates an empty layout called `name`; returns its id.
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    description: String,
) -> Result<i32, DomainError> {
    let spec = LayoutSpec {
        zone: None,
        networks: Vec::new(),
        cloud_init: Default::default(),
        name: name.trim().to_owned(),
        description,
        vms: Vec::new(),
    };
    store::save(db, None, &spec).await
}

/// Saves the whole layout `id`; refuses it with the first problem's field
/// (`vm[2].memory_mib`) and changes nothing then.
pub async fn save(db: &DatabaseConnection, id: i32, spec: &LayoutSpec) -> Result<(), DomainError> {
    store::save(db, Some(id), spec).await.map(|_| ())
}

/// Deletes layout `id` (its VMs on the hosts stay); returns its name.
pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<String, DomainError> {
    store::delete(db, id).await
}

impl TemplateFields {
    /// Reads the typed fields as the template with `id` (0 for a new one).
    pub fn read(self, id: i32) -> Result<TemplateDto, Invalid> {
        Ok(TemplateDto {
            id,
            name: self.name.trim().to_owned(),
            services: self
                .services
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            memory_mib: parse_number("memory_mib", &self.memory_mib, "MiB")?,
            vcpus: parse_number("vcpus", &self.vcpus, "vCPUs")?,
            disk_gib: parse_number("disk_gib", &self.disk_gib, "GiB")?,
            thin: self.thin.is_some(),
            image: Some(self.image.trim().to_owned()).filter(|i| !i.is_empty()),
            packages: self
                .packages
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// Adds (`id` 0) or changes a template; returns it as saved.
pub async fn save_template(
    db: &DatabaseConnection,
    id: i32,
    form: TemplateFields,
) -> Result<TemplateDto, DomainError> {
    let template = form.read(id)?;
    store::save_template(db, &template).await
}

/// Removes a template (layouts keep the sizes they copied); returns its name.
pub async fn delete_template(db: &DatabaseConnection, id: i32) -> Result<String, DomainError> {
    store::delete_template(db, id).await
}

/// Sets host `host_id`'s OS reserve `y_os` from the form's text (empty =
/// the default policy) and whether guests may run emulated; returns the
/// host's name.
pub async fn set_host_capacity(
    db: &DatabaseConnection,
    host_id: i32,
    y_os_mib: &str,
    allow_emulation: bool,
) -> Result<String, DomainError> {
    let y_os = match y_os_mib.trim() {
        "" => None,
        y => Some(parse_number::<u64>("y_os_mib", y, "MiB")?),
    };
    store::set_host_capacity(db, host_id, y_os, allow_emulation).await
}

/// Sets the expected fill of thin disks from the form's text (a fraction,
/// such as 0.5).
pub async fn set_thin_fill(db: &DatabaseConnection, thin_fill: &str) -> Result<(), DomainError> {
    let fill: f64 = thin_fill.trim().parse().map_err(|_| {
        Invalid::new(
            "thin_fill",
            format!(
                "\"{}\" is not a number: enter a fraction such as 0.5.",
                thin_fill.trim()
            ),
        )
    })?;
    store::set_thin_fill(db, fill).await
}

/// Reads a layout file for import (TOML or JSON, see [`check_file`]): every
/// problem, with its line and field, under the form's `text`.
pub fn read_import(file_name: &str, text: &str) -> Result<LayoutSpec, DomainError> {
    check_file(file_name, text).map_err(DomainError::File)
}

/// Creates the layout read by [`read_import`]; returns its id.
pub async fn import(db: &DatabaseConnection, spec: &LayoutSpec) -> Result<i32, DomainError> {
    store::save(db, None, spec).await
}
