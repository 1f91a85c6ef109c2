//! The DNS server functions (stable URLs under `/api/dns/…`). Each checks
//! its caller's role itself, calls the service layer and audits what it
//! changed: viewers read, operators edit zones and apply them, admins
//! manage DNS servers and the TSIG key and may see its secret.

// The record and server forms post one argument per field.
#![allow(clippy::too_many_arguments)]

use super::*;
#[cfg_attr(not(feature = "ssr"), allow(unused_imports))]
use crate::auth::{Access, Role};
use crate::endpoint_access;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::server::{audit_best_effort, guard, with_status, AuditEntry};
    pub use crate::dns::service;
    pub use crate::state::AppState;

    /// Writes the audit row for a state-changing call and passes the
    /// result on with its HTTP status.
    pub async fn audited<T>(
        state: &AppState,
        entry: AuditEntry,
        result: Result<T, crate::error::AppError>,
    ) -> Result<T, crate::error::AppError> {
        audit_best_effort(&state.db, entry.outcome_of(&result)).await;
        with_status(result)
    }
}

endpoint_access!(ListZones, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/zones")]
pub async fn list_zones() -> Result<Vec<ZoneListItem>, AppError> {
    use ssr::*;
    with_status(guard::<ListZones>())?;
    let state = AppState::from_context()?;
    with_status(service::list(&state.db).await)
}

endpoint_access!(GetZone, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/zone")]
pub async fn get_zone(id: i32) -> Result<ZoneDetail, AppError> {
    use ssr::*;
    with_status(guard::<GetZone>())?;
    let state = AppState::from_context()?;
    with_status(service::detail(&state.db, id).await)
}

endpoint_access!(ZoneHistory, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/history")]
pub async fn zone_history(id: i32) -> Result<Vec<VersionSummary>, AppError> {
    use ssr::*;
    with_status(guard::<ZoneHistory>())?;
    let state = AppState::from_context()?;
    with_status(crate::dns::store::history(&state.db, id).await)
}

endpoint_access!(GetVersion, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/version")]
pub async fn get_version(zone_id: i32, version_id: i32) -> Result<VersionDetail, AppError> {
    use ssr::*;
    with_status(guard::<GetVersion>())?;
    let state = AppState::from_context()?;
    with_status(crate::dns::store::version_detail(&state.db, zone_id, version_id).await)
}

endpoint_access!(ExportZone, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/export")]
pub async fn export_zone(id: i32) -> Result<ZoneExport, AppError> {
    use ssr::*;
    with_status(guard::<ExportZone>())?;
    let state = AppState::from_context()?;
    with_status(service::export(&state.db, id).await)
}

endpoint_access!(CreateZone, Access::Role(Role::Operator));
/// `kind` is `forward` (with `origin`) or `reverse` (with `network`).
#[server(prefix = "/api", endpoint = "dns/create_zone")]
pub async fn create_zone(
    kind: String,
    #[server(default)] origin: String,
    #[server(default)] network: String,
) -> Result<ZoneSummary, AppError> {
    use ssr::*;
    let auth = with_status(guard::<CreateZone>())?;
    let state = AppState::from_context()?;
    let result = if kind == "reverse" {
        service::create_reverse(&state.db, auth.username(), &network).await
    } else {
        service::create_forward(&state.db, auth.username(), &origin).await
    };
    let target = match &result {
        Ok(z) => z.origin.to_string(),
        Err(_) if kind == "reverse" => network.trim().to_owned(),
        Err(_) => origin.trim().to_owned(),
    };
    audited(
        &state,
        AuditEntry::by(&auth, "dns.zone.create", target),
        result,
    )
    .await
}

endpoint_access!(DeleteZone, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "dns/delete_zone")]
pub async fn delete_zone(id: i32) -> Result<ZoneSummary, AppError> {
    use ssr::*;
    let auth = with_status(guard::<DeleteZone>())?;
    let state = AppState::from_context()?;
    let result = crate::dns::store::delete_zone(&state.db, id).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("zone {id}"), |z| z.origin.to_string());
    audited(
        &state,
        AuditEntry::by(&auth, "dns.zone.delete", target),
        result,
    )
    .await
}

endpoint_access!(SaveRecord, Access::Role(Role::Operator));
/// Adds a record, or replaces `original` (a record key from the zone page).
#[server(prefix = "/api", endpoint = "dns/save_record")]
pub async fn save_record(
    zone_id: i32,
    #[server(default)] original: Option<String>,
    #[server(default)] owner: String,
    #[server(default)] rtype: String,
    #[server(default)] ttl: String,
    #[server(default)] address: String,
    #[server(default)] target: String,
    #[server(default)] exchange: String,
    #[server(default)] preference: String,
    #[server(default)] priority: String,
    #[server(default)] weight: String,
    #[server(default)] port: String,
    #[server(default)] value: String,
    #[server(default)] flags: String,
    #[server(default)] tag: String,
    #[server(default)] also_ptr: Option<String>,
    #[server(default)] create_reverse: Option<String>,
) -> Result<SaveOutcome, AppError> {
    use ssr::*;
    let auth = with_status(guard::<SaveRecord>())?;
    let state = AppState::from_context()?;
    let form = RecordForm {
        owner,
        rtype,
        ttl,
        address,
        target,
        exchange,
        preference,
        priority,
        weight,
        port,
        value,
        flags,
        tag,
    };
    let ptr = service::PtrChoice {
        also_ptr: also_ptr.is_some_and(|v| v == "on" || v == "true"),
        create_reverse: create_reverse.is_some_and(|v| v == "on" || v == "true"),
    };
    let original = original.filter(|o| !o.is_empty());
    let result = service::save_record(
        &state.db,
        auth.username(),
        zone_id,
        original.as_deref(),
        &form,
        ptr,
    )
    .await;
    let target = match &result {
        Ok(o) => o.zone.origin.to_string(),
        Err(_) => format!("zone {zone_id}"),
    };
    let summary = format!(
        "{} {} {}{}",
        form.owner.trim(),
        form.rtype,
        if original.is_some() {
            "edited"
        } else {
            "added"
        },
        result
            .as_ref()
            .ok()
            .and_then(|o| o.ptr.clone())
            .map(|p| format!("; {p}"))
            .unwrap_or_default()
    );
    audited(
        &state,
        AuditEntry::by(&auth, "dns.record.save", target).summary(summary),
        result,
    )
    .await
}

endpoint_access!(DeleteRecord, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/delete_record")]
pub async fn delete_record(zone_id: i32, key: String) -> Result<SaveOutcome, AppError> {
    use ssr::*;
    let auth = with_status(guard::<DeleteRecord>())?;
    let state = AppState::from_context()?;
    let result = service::delete_record(&state.db, auth.username(), zone_id, &key).await;
    let target = match &result {
        Ok(o) => o.zone.origin.to_string(),
        Err(_) => format!("zone {zone_id}"),
    };
    let summary = serde_json::from_str::<crate::dns::zone::Record>(&key)
        .map(|r| r.to_string())
        .unwrap_or_default();
    audited(
        &state,
        AuditEntry::by(&auth, "dns.record.delete", target).summary(summary),
        result,
    )
    .await
}

endpoint_access!(PreviewImport, Access::Role(Role::Operator));
/// What importing `text` would change; saves nothing.
#[server(prefix = "/api", endpoint = "dns/import_preview")]
pub async fn preview_import(zone_id: i32, text: String) -> Result<ImportPreview, AppError> {
    use ssr::*;
    with_status(guard::<PreviewImport>())?;
    let state = AppState::from_context()?;
    with_status(
        service::preview_import(&state.db, zone_id, &text)
            .await
            .map(|(p, _)| p),
    )
}

endpoint_access!(ImportZone, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/import")]
pub async fn import_zone(zone_id: i32, text: String) -> Result<ZoneSummary, AppError> {
    use ssr::*;
    let auth = with_status(guard::<ImportZone>())?;
    let state = AppState::from_context()?;
    let result = service::import(&state.db, auth.username(), zone_id, &text).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("zone {zone_id}"), |z| z.origin.to_string());
    audited(
        &state,
        AuditEntry::by(&auth, "dns.zone.import", target),
        result,
    )
    .await
}

endpoint_access!(RevertZone, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "dns/revert")]
pub async fn revert_zone(zone_id: i32, version_id: i32) -> Result<ZoneSummary, AppError> {
    use ssr::*;
    let auth = with_status(guard::<RevertZone>())?;
    let state = AppState::from_context()?;
    let result = crate::dns::store::revert(&state.db, auth.username(), zone_id, version_id).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("zone {zone_id}"), |z| z.origin.to_string());
    audited(
        &state,
        AuditEntry::by(&auth, "dns.zone.revert", target).summary(format!("version {version_id}")),
        result,
    )
    .await
}

endpoint_access!(ApplyZones, Access::Role(Role::Operator));
/// Installs one zone (or all when `zone_id` is absent) on the primary
/// after nsd-checkzone, then reloads it.
#[server(prefix = "/api", endpoint = "dns/apply")]
pub async fn apply_zones(#[server(default)] zone_id: Option<i32>) -> Result<ApplyReport, AppError> {
    use ssr::*;
    let auth = with_status(guard::<ApplyZones>())?;
    let state = AppState::from_context()?;
    let checker: std::sync::Arc<dyn crate::dns::nsd::ZoneChecker> =
        std::sync::Arc::new(crate::dns::nsd::NsdCheckzone::default());
    let result = service::apply(&state.db, zone_id, checker).await;
    let summary = match &result {
        Ok(r) => {
            let mut parts: Vec<String> = r
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
            if let Some(reload) = &r.reload {
                parts.push(match reload {
                    Ok(m) => format!("reload: {m}"),
                    Err(m) => format!("reload failed: {m}"),
                });
            }
            parts.join("; ")
        }
        Err(_) => String::new(),
    };
    let target = zone_id.map_or_else(|| "all zones".to_owned(), |id| format!("zone {id}"));
    audited(
        &state,
        AuditEntry::by(&auth, "dns.apply", target).summary(summary),
        result,
    )
    .await
}

endpoint_access!(ListServers, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dns/servers")]
pub async fn list_servers() -> Result<ServersView, AppError> {
    use ssr::*;
    with_status(guard::<ListServers>())?;
    let state = AppState::from_context()?;
    with_status(service::servers(&state.db).await)
}

endpoint_access!(AddServer, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "dns/add_server")]
pub async fn add_server(
    #[server(default)] name: String,
    #[server(default)] role: String,
    #[server(default)] ns_name: String,
    #[server(default)] address: String,
    #[server(default)] port: String,
    #[server(default)] zones_dir: String,
    #[server(default)] reload_kind: String,
    #[server(default)] reload_value: String,
) -> Result<ServerInfo, AppError> {
    use ssr::*;
    let auth = with_status(guard::<AddServer>())?;
    let state = AppState::from_context()?;
    let form = service::ServerForm {
        name,
        role,
        ns_name,
        address,
        port,
        zones_dir,
        reload_kind,
        reload_value,
    };
    let result = service::add_server(&state.db, &form).await;
    let summary = form.audit_summary();
    audited(
        &state,
        AuditEntry::by(&auth, "dns.server.add", form.name.trim()).summary(summary),
        result,
    )
    .await
}

endpoint_access!(UpdateServer, Access::Role(Role::Admin));
/// Changes a server entry (address, port, role, reload method…).
#[server(prefix = "/api", endpoint = "dns/update_server")]
pub async fn update_server(
    id: i32,
    #[server(default)] name: String,
    #[server(default)] role: String,
    #[server(default)] ns_name: String,
    #[server(default)] address: String,
    #[server(default)] port: String,
    #[server(default)] zones_dir: String,
    #[server(default)] reload_kind: String,
    #[server(default)] reload_value: String,
) -> Result<ServerInfo, AppError> {
    use ssr::*;
    let auth = with_status(guard::<UpdateServer>())?;
    let state = AppState::from_context()?;
    let form = service::ServerForm {
        name,
        role,
        ns_name,
        address,
        port,
        zones_dir,
        reload_kind,
        reload_value,
    };
    let result = service::update_server(&state.db, id, &form).await;
    let summary = form.audit_summary();
    audited(
        &state,
        AuditEntry::by(&auth, "dns.server.update", form.name.trim()).summary(summary),
        result,
    )
    .await
}

endpoint_access!(RemoveServer, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "dns/remove_server")]
pub async fn remove_server(id: i32) -> Result<ServerInfo, AppError> {
    use ssr::*;
    let auth = with_status(guard::<RemoveServer>())?;
    let state = AppState::from_context()?;
    let result = service::remove_server(&state.db, id).await;
    let target = result
        .as_ref()
        .map_or_else(|_| format!("server {id}"), |s| s.name.clone());
    audited(
        &state,
        AuditEntry::by(&auth, "dns.server.remove", target),
        result,
    )
    .await
}

endpoint_access!(ServerConf, Access::Role(Role::Admin));
/// The server's nsd.conf `key:` and `zone:` clauses. They hold the TSIG
/// secret, so only admins get them and every view is audited.
#[server(prefix = "/api", endpoint = "dns/server_conf")]
pub async fn server_conf(id: i32) -> Result<String, AppError> {
    use ssr::*;
    let auth = with_status(guard::<ServerConf>())?;
    let state = AppState::from_context()?;
    let result = service::server_conf(&state.db, id).await;
    audited(
        &state,
        AuditEntry::by(&auth, "dns.server.conf", format!("server {id}"))
            .summary("nsd.conf with the TSIG secret shown"),
        result,
    )
    .await
}

endpoint_access!(RevealKey, Access::Role(Role::Admin));
/// The TSIG secret (base64), for an admin who asks; audited.
#[server(prefix = "/api", endpoint = "dns/reveal_key")]
pub async fn reveal_key() -> Result<String, AppError> {
    use ssr::*;
    let auth = with_status(guard::<RevealKey>())?;
    let state = AppState::from_context()?;
    let result = service::tsig(&state.db)
        .await
        .map(|k| k.secret().reveal_base64());
    audited(
        &state,
        AuditEntry::by(&auth, "dns.key.reveal", service::KEY_NAME),
        result,
    )
    .await
}

endpoint_access!(RotateKey, Access::Role(Role::Admin));
/// Replaces the TSIG key; every server's nsd.conf must then be updated.
#[server(prefix = "/api", endpoint = "dns/rotate_key")]
pub async fn rotate_key() -> Result<KeyInfo, AppError> {
    use ssr::*;
    let auth = with_status(guard::<RotateKey>())?;
    let state = AppState::from_context()?;
    let result = service::rotate_key(&state.db).await;
    audited(
        &state,
        AuditEntry::by(&auth, "dns.key.rotate", service::KEY_NAME),
        result,
    )
    .await
}
