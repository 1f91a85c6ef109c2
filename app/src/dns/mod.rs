//! Authoritative DNS: zones and their records, as the paper's figure 1 runs
//! them (an authoritative-only NSD primary keeping a secondary current).
//!
//! This file holds the DTOs the browser and the server share, the domain's
//! error ([`DomainError`], server only) with the one place it becomes an
//! [`AppError`], and the `#[server]` functions under `/api/dns/…`, each a
//! few lines through [`crate::api::call`]: viewers read, operators edit
//! zones and apply them, admins manage DNS servers and the TSIG key and may
//! see its secret. Around it:
//!
//! * [`zone`] – the pure model: names, records, validation, master files,
//!   reverse names;
//! * [`nsd`] (server only) – checked zone files, nsd.conf and TSIG keys, the
//!   reload of a running NSD;
//! * [`store`] and [`entity`] (server only) – zones, records and their
//!   history in the database;
//! * [`service`] (server only) – what the server functions call: forms
//!   become typed records, PTRs follow their address records, imports are
//!   previewed, zones are applied;
//! * [`pages`] – the zones list, a zone's page and the DNS servers page.

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod nsd;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
pub mod zone;

use crate::api;
use crate::auth::{Access, Role};
use crate::error::AppError;
use leptos::prelude::*;

use serde::{Deserialize, Serialize};
use zone::Name;

/// A managed zone, as lists and other areas (mail) need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSummary {
    pub id: i32,
    pub origin: Name,
    /// Under `in-addr.arpa.` or `ip6.arpa.`.
    pub reverse: bool,
    /// The SOA serial of the stored zone.
    pub serial: u32,
}

/// One entry of a zone's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub id: i32,
    /// The zone's serial after this change.
    pub serial: u32,
    /// Who made the change.
    pub actor: String,
    pub at: crate::ui::Timestamp,
    /// What changed, in a few words.
    pub summary: String,
}

/// A version with its diff (`+ record` / `- record` lines) and the whole
/// master file as it was after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDetail {
    pub summary: VersionSummary,
    pub diff: String,
    pub content: String,
}

/// A zone in the zones list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneListItem {
    pub zone: ZoneSummary,
    pub records: usize,
    /// Serial installed on the primary by the last apply, if any.
    pub applied_serial: Option<u32>,
}

/// The record form's fields, as typed. Which ones are used depends on the
/// type: `address` (A, AAAA), `target` (CNAME, NS, PTR, SRV), `exchange`
/// and `preference` (MX), `value` (TXT, CAA), `priority`/`weight`/`port`
/// (SRV), `flags`/`tag` (CAA). The record form posts these flat
/// (`owner=…&rtype=…`), each missing one empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordForm {
    pub owner: String,
    pub rtype: String,
    pub ttl: String,
    pub address: String,
    pub target: String,
    pub exchange: String,
    pub preference: String,
    pub priority: String,
    pub weight: String,
    pub port: String,
    pub value: String,
    pub flags: String,
    pub tag: String,
}

/// One record on the zone page, with what the edit form starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    /// Identifies the record for edit and delete (its JSON).
    pub key: String,
    /// Owner relative to the zone (`@`, `www`).
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    /// The RDATA as a zone file writes it.
    pub data: String,
    /// The edit form's starting values.
    pub form: RecordForm,
    /// For A/AAAA: a PTR for this address points back at this name.
    pub has_ptr: bool,
}

/// A zone's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneDetail {
    pub zone: ZoneSummary,
    pub applied_serial: Option<u32>,
    pub default_ttl: u32,
    pub soa: String,
    pub records: Vec<RecordRow>,
}

/// What saving a record did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOutcome {
    pub zone: ZoneSummary,
    /// The PTR written or removed, in words.
    pub ptr: Option<String>,
}

/// What an import would do (nothing is saved by a preview).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportPreview {
    /// Line-numbered problems; when any, the import is refused.
    pub errors: Vec<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Notes (the file's SOA is not taken over, …).
    pub notes: Vec<String>,
}

/// A zone file to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneExport {
    pub file_name: String,
    pub text: String,
}

/// The outcome of installing one zone on the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneApplied {
    pub origin: String,
    pub serial: u32,
    pub installed: bool,
    /// The checker's message when refused; the file path when installed.
    pub message: String,
}

/// The outcome of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub zones: Vec<ZoneApplied>,
    /// What the reload did, or why it failed.
    pub reload: Option<Result<String, String>>,
}

impl ApplyReport {
    /// The report in one line, for the audit log.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .zones
            .iter()
            .map(|z| {
                if z.installed {
                    format!("{} serial {} installed", z.origin, z.serial)
                } else {
                    format!("{} refused: {}", z.origin, z.message)
                }
            })
            .collect();
        if let Some(reload) = &self.reload {
            parts.push(match reload {
                Ok(m) => format!("reload: {m}"),
                Err(m) => format!("reload failed: {m}"),
            });
        }
        parts.join("; ")
    }
}

/// A DNS server entry (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub id: i32,
    pub name: String,
    /// `primary` or `secondary`.
    pub role: String,
    pub ns_name: String,
    pub address: String,
    pub port: u16,
    pub zones_dir: String,
    /// The reload method in words.
    pub reload: String,
    /// The form's fields for the reload method (`nsd_control`, `command`
    /// or `signal`, and its path or command line), to edit it.
    pub reload_kind: String,
    pub reload_value: String,
}

/// A DNS server entry as typed in the add and edit forms, posted flat
/// (`name=…&role=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerForm {
    pub name: String,
    /// `primary` or `secondary`.
    pub role: String,
    pub ns_name: String,
    pub address: String,
    pub port: String,
    pub zones_dir: String,
    /// `nsd_control`, `command` or `signal`.
    pub reload_kind: String,
    /// nsd.conf path, command line, or pidfile.
    pub reload_value: String,
}

impl ServerForm {
    /// What the audit log says of this entry: role, address and NS name.
    pub fn audit_summary(&self) -> String {
        format!(
            "{} {}:{} ({})",
            self.role,
            self.address.trim(),
            self.port.trim(),
            self.ns_name.trim()
        )
    }
}

/// The TSIG key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub name: String,
    pub algorithm: String,
    pub created_at: crate::ui::Timestamp,
}

/// The DNS servers page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersView {
    pub servers: Vec<ServerInfo>,
    pub key: Option<KeyInfo>,
}

// ---- server functions -----------------------------------------------------

api::access!(ListZones, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/zones")]
pub async fn list_zones() -> Result<Vec<ZoneListItem>, AppError> {
    api::call::<ListZones>()
        .run(|c| async move { service::list(c.db()).await })
        .await
}

api::access!(GetZone, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/zone")]
pub async fn get_zone(id: i32) -> Result<ZoneDetail, AppError> {
    api::call::<GetZone>()
        .run(|c| async move { service::detail(c.db(), id).await })
        .await
}

api::access!(ZoneHistory, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/history")]
pub async fn zone_history(id: i32) -> Result<Vec<VersionSummary>, AppError> {
    api::call::<ZoneHistory>()
        .run(|c| async move { store::history(c.db(), id).await })
        .await
}

api::access!(GetVersion, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/version")]
pub async fn get_version(zone_id: i32, version_id: i32) -> Result<VersionDetail, AppError> {
    api::call::<GetVersion>()
        .run(|c| async move { store::version_detail(c.db(), zone_id, version_id).await })
        .await
}

api::access!(ExportZone, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/export")]
pub async fn export_zone(id: i32) -> Result<ZoneExport, AppError> {
    api::call::<ExportZone>()
        .run(|c| async move { service::export(c.db(), id).await })
        .await
}

api::access!(CreateZone, Access::Role(Role::Operator));
/// `kind` is `forward` (with `origin`) or `reverse` (with `network`).
#[server(prefix = "/api", endpoint = "dns/create_zone")]
pub async fn create_zone(
    kind: String,
    #[server(default)] origin: String,
    #[server(default)] network: String,
) -> Result<ZoneSummary, AppError> {
    let new = service::NewZone::from_form(&kind, origin, network);
    api::call::<CreateZone>()
        .audit("dns.zone.create", new.as_typed())
        .run(|c| async move {
            let zone = service::create_zone(c.db(), c.username(), &new).await?;
            c.target(zone.origin.to_string());
            Ok::<_, DomainError>(zone)
        })
        .await
}

api::access!(DeleteZone, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "dns/delete_zone")]
pub async fn delete_zone(id: i32) -> Result<ZoneSummary, AppError> {
    api::call::<DeleteZone>()
        .audit("dns.zone.delete", format!("zone {id}"))
        .run(|c| async move {
            let zone = store::delete_zone(c.db(), id).await?;
            c.target(zone.origin.to_string());
            Ok::<_, DomainError>(zone)
        })
        .await
}

api::access!(SaveRecord, Access::Role(Role::Operator));
/// Adds a record, or replaces `original` (a record key from the zone page).
/// The form's fields arrive flat (`owner`, `rtype`, `ttl`, …); the ticked
/// boxes `also_ptr` and `create_reverse` keep the PTR.
#[server(prefix = "/api", endpoint = "dns/save_record")]
pub async fn save_record(
    zone_id: i32,
    #[server(default)] original: Option<String>,
    #[server(flatten)] form: RecordForm,
    #[server(default)] also_ptr: Option<String>,
    #[server(default)] create_reverse: Option<String>,
) -> Result<SaveOutcome, AppError> {
    let original = original.filter(|o| !o.is_empty());
    let ptr = service::PtrChoice::ticked(also_ptr.as_deref(), create_reverse.as_deref());
    api::call::<SaveRecord>()
        .audit("dns.record.save", format!("zone {zone_id}"))
        .run(|c| async move {
            let edited = original.is_some();
            c.summary(service::save_summary(&form, edited, None));
            let out = service::save_record(
                c.db(),
                c.username(),
                zone_id,
                original.as_deref(),
                &form,
                ptr,
            )
            .await?;
            c.target(out.zone.origin.to_string());
            c.summary(service::save_summary(&form, edited, out.ptr.as_deref()));
            Ok::<_, DomainError>(out)
        })
        .await
}

api::access!(DeleteRecord, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/delete_record")]
pub async fn delete_record(zone_id: i32, key: String) -> Result<SaveOutcome, AppError> {
    api::call::<DeleteRecord>()
        .audit("dns.record.delete", format!("zone {zone_id}"))
        .run(|c| async move {
            c.summary(service::record_in_words(&key));
            let out = service::delete_record(c.db(), c.username(), zone_id, &key).await?;
            c.target(out.zone.origin.to_string());
            Ok::<_, DomainError>(out)
        })
        .await
}

api::access!(PreviewImport, Access::Role(Role::Operator));
/// What importing `text` would change; saves nothing.
#[server(prefix = "/api", endpoint = "dns/import_preview")]
pub async fn preview_import(zone_id: i32, text: String) -> Result<ImportPreview, AppError> {
    api::call::<PreviewImport>()
        .run(|c| async move {
            let (preview, _) = service::preview_import(c.db(), zone_id, &text).await?;
            Ok::<_, DomainError>(preview)
        })
        .await
}

api::access!(ImportZone, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/import")]
pub async fn import_zone(zone_id: i32, text: String) -> Result<ZoneSummary, AppError> {
    api::call::<ImportZone>()
        .audit("dns.zone.import", format!("zone {zone_id}"))
        .run(|c| async move {
            let zone = service::import(c.db(), c.username(), zone_id, &text).await?;
            c.target(zone.origin.to_string());
            Ok::<_, DomainError>(zone)
        })
        .await
}

api::access!(RevertZone, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/revert")]
pub async fn revert_zone(zone_id: i32, version_id: i32) -> Result<ZoneSummary, AppError> {
    api::call::<RevertZone>()
        .audit("dns.zone.revert", format!("zone {zone_id}"))
        .run(|c| async move {
            c.summary(format!("version {version_id}"));
            let zone = store::revert(c.db(), c.username(), zone_id, version_id).await?;
            c.target(zone.origin.to_string());
            Ok::<_, DomainError>(zone)
        })
        .await
}

api::access!(ApplyZones, Access::Role(Role::Operator));
/// Installs one zone (or all when `zone_id` is absent) on the primary
/// after nsd-checkzone, then reloads it.
#[server(prefix = "/api", endpoint = "dns/apply")]
pub async fn apply_zones(#[server(default)] zone_id: Option<i32>) -> Result<ApplyReport, AppError> {
    let target = zone_id.map_or_else(|| "all zones".to_owned(), |id| format!("zone {id}"));
    api::call::<ApplyZones>()
        .audit("dns.apply", target)
        .run(|c| async move {
            let checker = std::sync::Arc::new(nsd::NsdCheckzone::default());
            let timeout = c.state.policy.dns_reload_timeout;
            let report = service::apply_within(c.db(), zone_id, checker, timeout).await?;
            c.summary(report.summary());
            Ok::<_, DomainError>(report)
        })
        .await
}

api::access!(ListServers, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/servers")]
pub async fn list_servers() -> Result<ServersView, AppError> {
    api::call::<ListServers>()
        .run(|c| async move { service::servers(c.db()).await })
        .await
}

#[cfg(feature = "ssr")]
/// The server's configuration, as saving a DNS server entry needs it.
fn allowed(c: &api::Ctx) -> service::Allowed<'_> {
    service::Allowed {
        keys: c.keys(),
        commands: &c.state.policy.reload_commands,
    }
}

api::access!(AddServer, Access::Role(Role::Admin));
/// The form's fields arrive flat (`name`, `role`, `ns_name`, …).
#[server(prefix = "/api", endpoint = "dns/add_server")]
pub async fn add_server(
    #[server(flatten)] form: ServerForm,
    confirm_password: String,
) -> Result<ServerInfo, AppError> {
    api::call::<AddServer>()
        .audit("dns.server.add", form.name.trim())
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary(form.audit_summary());
            service::add_server(c.db(), allowed(&c), &form).await
        })
        .await
}

api::access!(UpdateServer, Access::Role(Role::Admin));
/// Changes a server entry (address, port, role, reload method…).
#[server(prefix = "/api", endpoint = "dns/update_server")]
pub async fn update_server(
    id: i32,
    #[server(flatten)] form: ServerForm,
    confirm_password: String,
) -> Result<ServerInfo, AppError> {
    api::call::<UpdateServer>()
        .audit("dns.server.update", form.name.trim())
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary(form.audit_summary());
            service::update_server(c.db(), allowed(&c), id, &form).await
        })
        .await
}

api::access!(RemoveServer, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "dns/remove_server")]
pub async fn remove_server(id: i32) -> Result<ServerInfo, AppError> {
    api::call::<RemoveServer>()
        .audit("dns.server.remove", format!("server {id}"))
        .run(|c| async move {
            let server = service::remove_server(c.db(), id).await?;
            c.target(server.name.clone());
            Ok::<_, DomainError>(server)
        })
        .await
}

api::access!(ServerConf, Access::Role(Role::Admin));
/// The server's nsd.conf `key:` and `zone:` clauses. They hold the TSIG
/// secret, so only admins get them and every view is audited.
#[server(prefix = "/api", endpoint = "dns/server_conf")]
pub async fn server_conf(id: i32, confirm_password: String) -> Result<String, AppError> {
    api::call::<ServerConf>()
        .audit("dns.server.conf", format!("server {id}"))
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary("nsd.conf with the TSIG secret shown");
            service::server_conf(c.db(), c.keys(), id).await
        })
        .await
}

api::access!(RevealKey, Access::Role(Role::Admin));
/// The TSIG secret (base64), for an admin who asks; audited.
#[server(prefix = "/api", endpoint = "dns/reveal_key")]
pub async fn reveal_key(confirm_password: String) -> Result<String, AppError> {
    api::call::<RevealKey>()
        .audit("dns.key.reveal", service::KEY_NAME)
        .confirm_password(confirm_password)
        .run(|c| async move { service::reveal_secret(c.db(), c.keys()).await })
        .await
}

api::access!(RotateKey, Access::Role(Role::Admin));
/// Replaces the TSIG key; every server's nsd.conf must then be updated.
#[server(prefix = "/api", endpoint = "dns/rotate_key")]
pub async fn rotate_key(confirm_password: String) -> Result<KeyInfo, AppError> {
    api::call::<RotateKey>()
        .audit("dns.key.rotate", service::KEY_NAME)
        .confirm_password(confirm_password)
        .run(|c| async move { service::rotate_key(c.db(), c.keys()).await })
        .await
}

#[cfg(feature = "ssr")]
pub use ssr_error::*;

#[cfg(feature = "ssr")]
mod ssr_error {
    use super::nsd::ConfigError;
    use super::zone::FieldError;
    use crate::error::{AppError, Invalid};

    /// What the DNS service and store return. Bad input is [`Invalid`] with
    /// the form field it belongs to; [`From<DomainError> for AppError`]
    /// decides every status in one place.
    #[derive(Debug, thiserror::Error)]
    pub enum DomainError {
        /// A form value is wrong.
        #[error(transparent)]
        Invalid(#[from] Invalid),
        /// `"Zone 7"`, `"DNS server 3"`.
        #[error("{0} was not found.")]
        NotFound(String),
        /// Cannot be done as things stand (a stale edit, no primary yet).
        #[error("{0}")]
        Refused(String),
        /// Stored zone data that does not read back (logged where found).
        #[error("stored zone data is unreadable: {0}")]
        Corrupt(String),
        /// Something failed on the server; the message says what.
        #[error("{0}")]
        Failed(String),
        /// nsd.conf text could not be made for the servers and zones.
        #[error(transparent)]
        Config(#[from] ConfigError),
        #[error("database: {0}")]
        Database(#[from] sea_orm::DbErr),
    }

    impl DomainError {
        pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
            Self::Invalid(Invalid::new(field, message))
        }

        /// The message for `field`, when this error is about that field.
        pub fn for_field(&self, field: &str) -> Option<String> {
            match self {
                Self::Invalid(e) if e.field == field => Some(e.message.clone()),
                _ => None,
            }
        }
    }

    impl From<FieldError> for DomainError {
        fn from(e: FieldError) -> Self {
            Self::invalid(e.field, e.message)
        }
    }

    impl From<DomainError> for AppError {
        fn from(e: DomainError) -> Self {
            match e {
                DomainError::Invalid(e) => e.into(),
                DomainError::NotFound(what) => AppError::NotFound(what),
                DomainError::Refused(why) => AppError::Refused(why),
                DomainError::Failed(why) => AppError::Failed(why),
                DomainError::Config(e) => AppError::Refused(e.to_string()),
                DomainError::Corrupt(_) => AppError::Failed(
                    "Stored zone data could not be read; see the server log.".into(),
                ),
                DomainError::Database(e) => e.into(),
            }
        }
    }
}
