//! Mail: the authentication records a mail domain publishes (the paper's
//! Table 1), the checks a receiving server makes (figure 3), and the mail
//! domains, mailboxes and aliases Postfix and Dovecot read.
//!
//! - `auth`: the pure record logic (SPF, DKIM, DMARC, verification, DNSBL);
//! - `check` (server only): the readiness check over DNS, the mailbox rows,
//!   Dovecot hashes and the Postfix/Dovecot configuration files;
//! - `entity`, `store`, `forms` (server only): the tables of migration
//!   000006 and the service over them;
//! - `pages`: `/mail` and a mail domain's page.
//!
//! The server functions below are thin: check the role, call `store` (and
//! the DNS zone store for records), audit what changed.

#[cfg(feature = "ssr")]
pub mod check;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod forms;
pub mod pages;
pub mod records;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod zone;

use crate::auth::{Access, Role};
use crate::error::AppError;
use crate::{endpoint_access, page_access};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub use check::Report;

/// A mail domain in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDomainSummary {
    pub name: String,
    pub active: bool,
    pub mailboxes: u64,
    pub aliases: u64,
    pub dkim_selectors: Vec<String>,
}

/// What the readiness check is told; empty strings mean "not set" (the
/// best MX, its address, the system's resolver).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    pub mail_host: String,
    pub mail_ip: String,
    pub dnsbl_zones: Vec<String>,
    pub resolver: String,
}

/// A mailbox, never its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxRow {
    pub address: String,
    /// 0 = no limit.
    pub quota_bytes: u64,
    pub active: bool,
    pub maildir: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRow {
    pub id: i32,
    pub source: String,
    pub destination: String,
    pub active: bool,
}

/// A DKIM key's public side; the private key stays on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimKeyInfo {
    pub selector: String,
    pub algorithm: String,
    pub bits: Option<u32>,
    /// `selector._domainkey.domain`.
    pub owner: String,
    pub public_record: String,
    /// The record as published: strings of at most 255 octets.
    pub txt_strings: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Everything a mail domain's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDomainDetail {
    pub name: String,
    pub active: bool,
    pub settings: MailSettings,
    pub mailboxes: Vec<MailboxRow>,
    pub aliases: Vec<AliasRow>,
    pub dkim: Vec<DkimKeyInfo>,
    pub zone: ZoneState,
}

/// The mail records in the domain's zone, as Stackyard holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneState {
    /// The zone holding the domain, when Stackyard serves one.
    pub zone: Option<String>,
    pub serial: Option<u32>,
    /// `preference exchange`.
    pub mx: Vec<String>,
    pub spf: Option<String>,
    pub dmarc: Option<String>,
    pub verification: Vec<String>,
}

/// A built record before it is published: the value, how it is split into
/// strings, and every finding about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPreview {
    pub owner: String,
    pub record: String,
    pub txt_strings: Vec<String>,
    /// `error: …` / `warning: …` / `info: …`.
    pub findings: Vec<String>,
    /// For SPF: the lookup count through includes.
    pub lookups: Option<String>,
    pub valid: bool,
}

/// One item of the readiness checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    pub id: String,
    pub title: String,
    /// `pass`, `fail`, `warn`, `skipped`.
    pub status: String,
    pub detail: String,
    pub fix: Option<String>,
}

/// The readiness check's result for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub domain: String,
    pub mail_host: Option<String>,
    pub mail_ip: Option<String>,
    pub resolver: String,
    pub all_passed: bool,
    pub items: Vec<CheckLine>,
}

#[cfg(feature = "ssr")]
impl CheckResult {
    pub fn from_report(report: &check::Report, resolver: String) -> Self {
        Self {
            domain: report.domain.clone(),
            mail_host: report.mail_host.clone(),
            mail_ip: report.mail_ip.map(|ip| ip.to_string()),
            resolver,
            all_passed: report.all_passed(),
            items: report
                .items
                .iter()
                .map(|i| CheckLine {
                    id: i.id.clone(),
                    title: i.title.clone(),
                    status: match i.status {
                        check::Status::Pass => "pass",
                        check::Status::Fail => "fail",
                        check::Status::Warn => "warn",
                        check::Status::Skipped => "skipped",
                    }
                    .to_owned(),
                    detail: i.detail.clone(),
                    fix: i.fix.clone(),
                })
                .collect(),
        }
    }
}

/// How the last readiness check of a domain ended, and when it ran
/// (each run is stored; the dashboard shows the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    pub ran_at: chrono::DateTime<chrono::Utc>,
    pub passed: u32,
    pub failed: u32,
    pub warned: u32,
}

impl LastCheck {
    /// Tallies a checklist's items by status; skipped items are not counted.
    pub fn of_statuses<'a>(
        ran_at: chrono::DateTime<chrono::Utc>,
        statuses: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut run = Self {
            ran_at,
            passed: 0,
            failed: 0,
            warned: 0,
        };
        for status in statuses {
            let slot = match status {
                "pass" => &mut run.passed,
                "fail" => &mut run.failed,
                "warn" => &mut run.warned,
                _ => continue,
            };
            *slot = slot.saturating_add(1);
        }
        run
    }
}

/// A configuration file to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    pub name: String,
    pub contents: String,
}

/// What the server-configuration form starts with: how the daemons reach
/// this very database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigDefaults {
    /// `sqlite` or `pgsql`.
    pub backend: String,
    pub sqlite_path: String,
    pub pg_host: String,
    pub pg_port: String,
    pub pg_dbname: String,
}

page_access!("/mail", Access::Role(Role::Viewer));
page_access!("/mail/{domain}", Access::Role(Role::Viewer));

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::server::{self as auth, AuditEntry, RequestAuth};
    use crate::state::AppState;

    pub fn state() -> Result<AppState, AppError> {
        AppState::from_context()
    }

    /// Audits the outcome and sets the response status of `result`.
    pub async fn audited<T>(
        state: &AppState,
        auth: &RequestAuth,
        action: &str,
        target: &str,
        summary: String,
        result: Result<T, AppError>,
    ) -> Result<T, AppError> {
        let entry = AuditEntry::by(auth, action, target)
            .outcome_of(&result)
            .summary(summary);
        auth::audit_best_effort(&state.db, entry).await;
        auth::with_status(result)
    }

    pub fn guard<T: leptos::server_fn::ServerFn>() -> Result<RequestAuth, AppError> {
        auth::with_status(auth::guard::<T>())
    }
}

// --- reading ---------------------------------------------------------------

endpoint_access!(ListMailDomains, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "mail/list")]
pub async fn list_mail_domains() -> Result<Vec<MailDomainSummary>, AppError> {
    ssr::guard::<ListMailDomains>()?;
    let state = ssr::state()?;
    crate::auth::server::with_status(store::list_domains(&state.db).await)
}

endpoint_access!(GetMailDomain, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "mail/get")]
pub async fn get_mail_domain(domain: String) -> Result<MailDomainDetail, AppError> {
    ssr::guard::<GetMailDomain>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        Ok(MailDomainDetail {
            settings: store::settings_of(&row),
            mailboxes: store::mailboxes(&state.db, &row.name).await?,
            aliases: store::aliases(&state.db, &row.name).await?,
            dkim: store::dkim_keys(&state.db, &row.name).await?,
            zone: zone::zone_state(&state.db, &row.name).await?,
            name: row.name,
            active: row.active,
        })
    }
    .await;
    crate::auth::server::with_status(result)
}

// --- mail domains ------------------------------------------------------------

endpoint_access!(AddMailDomain, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/add_domain")]
pub async fn add_mail_domain(name: String) -> Result<String, AppError> {
    let auth = ssr::guard::<AddMailDomain>()?;
    let state = ssr::state()?;
    let result = store::add_domain(&state.db, &name).await.map(|d| d.name);
    let target = result.clone().unwrap_or_else(|_| name.trim().to_owned());
    ssr::audited(
        &state,
        &auth,
        "mail.add_domain",
        &target,
        String::new(),
        result,
    )
    .await
}

endpoint_access!(RemoveMailDomain, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/remove_domain")]
pub async fn remove_mail_domain(domain: String) -> Result<(), AppError> {
    let auth = ssr::guard::<RemoveMailDomain>()?;
    let state = ssr::state()?;
    let result = store::remove_domain(&state.db, &domain).await;
    ssr::audited(
        &state,
        &auth,
        "mail.remove_domain",
        domain.trim(),
        "with its mailboxes, aliases and DKIM keys".into(),
        result,
    )
    .await
}

endpoint_access!(SaveMailSettings, Access::Role(Role::Operator));
/// The mail host, its address, the blocklists and the resolver the
/// readiness check uses.
#[server(prefix = "/api", endpoint = "mail/settings")]
pub async fn save_mail_settings(
    domain: String,
    mail_host: String,
    mail_ip: String,
    dnsbl_zones: String,
    resolver: String,
) -> Result<MailSettings, AppError> {
    let auth = ssr::guard::<SaveMailSettings>()?;
    let state = ssr::state()?;
    let result = async {
        let settings = forms::check_settings(&mail_host, &mail_ip, &dnsbl_zones, &resolver)?;
        store::save_settings(&state.db, &domain, &settings).await
    }
    .await;
    let summary = format!(
        "host {:?}, ip {:?}, dnsbl {:?}, resolver {:?}",
        mail_host.trim(),
        mail_ip.trim(),
        dnsbl_zones.trim(),
        resolver.trim()
    );
    ssr::audited(
        &state,
        &auth,
        "mail.settings",
        domain.trim(),
        summary,
        result,
    )
    .await
}

// --- mailboxes (admin: they hold passwords) ------------------------------------

endpoint_access!(AddMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/add_mailbox")]
pub async fn add_mailbox(
    domain: String,
    address: String,
    password: String,
    quota_mib: String,
) -> Result<MailboxRow, AppError> {
    let auth = ssr::guard::<AddMailbox>()?;
    let state = ssr::state()?;
    let result = async {
        let quota = forms::quota_mib(&quota_mib)?;
        store::add_mailbox(
            &state.db,
            &domain,
            &address,
            password,
            quota,
            state.auth.hash_cost,
        )
        .await
    }
    .await;
    let target = match &result {
        Ok(m) => m.address.clone(),
        Err(_) => format!("{}@{}", address.trim(), domain.trim()),
    };
    ssr::audited(
        &state,
        &auth,
        "mail.add_mailbox",
        &target,
        format!("quota {} MiB", quota_mib.trim()),
        result,
    )
    .await
}

endpoint_access!(SetMailboxPassword, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/set_password")]
pub async fn set_mailbox_password(address: String, password: String) -> Result<(), AppError> {
    let auth = ssr::guard::<SetMailboxPassword>()?;
    let state = ssr::state()?;
    let result =
        store::set_mailbox_password(&state.db, &address, password, state.auth.hash_cost).await;
    ssr::audited(
        &state,
        &auth,
        "mail.set_password",
        address.trim(),
        String::new(),
        result,
    )
    .await
}

endpoint_access!(UpdateMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/update_mailbox")]
pub async fn update_mailbox(
    address: String,
    quota_mib: String,
    active: String,
) -> Result<MailboxRow, AppError> {
    let auth = ssr::guard::<UpdateMailbox>()?;
    let state = ssr::state()?;
    let result = async {
        let quota = forms::quota_mib(&quota_mib)?;
        store::update_mailbox(&state.db, &address, quota, forms::flag(&active)).await
    }
    .await;
    let summary = format!(
        "quota {} MiB, active {}",
        quota_mib.trim(),
        forms::flag(&active)
    );
    ssr::audited(
        &state,
        &auth,
        "mail.update_mailbox",
        address.trim(),
        summary,
        result,
    )
    .await
}

endpoint_access!(RemoveMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/remove_mailbox")]
pub async fn remove_mailbox(address: String) -> Result<String, AppError> {
    let auth = ssr::guard::<RemoveMailbox>()?;
    let state = ssr::state()?;
    let result = store::remove_mailbox(&state.db, &address).await;
    ssr::audited(
        &state,
        &auth,
        "mail.remove_mailbox",
        address.trim(),
        String::new(),
        result,
    )
    .await
}

// --- aliases -------------------------------------------------------------------

endpoint_access!(AddAlias, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/add_alias")]
pub async fn add_alias(
    domain: String,
    source: String,
    destination: String,
) -> Result<AliasRow, AppError> {
    let auth = ssr::guard::<AddAlias>()?;
    let state = ssr::state()?;
    let result = store::add_alias(&state.db, &domain, &source, &destination).await;
    let target = match &result {
        Ok(a) => a.source.clone(),
        Err(_) => source.trim().to_owned(),
    };
    ssr::audited(
        &state,
        &auth,
        "mail.add_alias",
        &target,
        format!("→ {}", destination.trim()),
        result,
    )
    .await
}

endpoint_access!(RemoveAlias, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/remove_alias")]
pub async fn remove_alias(id: i32) -> Result<(), AppError> {
    let auth = ssr::guard::<RemoveAlias>()?;
    let state = ssr::state()?;
    let result = store::remove_alias(&state.db, id).await;
    let (target, summary) = match &result {
        Ok(a) => (a.source.clone(), format!("→ {}", a.destination)),
        Err(_) => (format!("alias {id}"), String::new()),
    };
    ssr::audited(
        &state,
        &auth,
        "mail.remove_alias",
        &target,
        summary,
        result.map(|_| ()),
    )
    .await
}

// --- the readiness check ---------------------------------------------------------

endpoint_access!(RunMailCheck, Access::Role(Role::Operator));
/// Figure 3's path for this domain, over the configured resolver.
#[server(prefix = "/api", endpoint = "mail/check")]
pub async fn run_mail_check(domain: String) -> Result<CheckResult, AppError> {
    let auth = ssr::guard::<RunMailCheck>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let resolver = if row.resolver.is_empty() {
            "the system's resolver".to_owned()
        } else {
            row.resolver.clone()
        };
        let report = store::run_check(&state.db, &row.name).await?;
        let result = CheckResult::from_report(&report, resolver);
        // The dashboard shows the last run; failing to note it does not
        // take the answer away from the person who asked.
        let run = LastCheck::of_statuses(
            chrono::Utc::now(),
            result.items.iter().map(|i| i.status.as_str()),
        );
        if let Err(e) = store::record_check_run(&state.db, &row.name, &run).await {
            tracing::warn!("mail check of {}: the run was not recorded: {e}", row.name);
        }
        Ok(result)
    }
    .await;
    let summary = match &result {
        Ok(r) => {
            let failed: Vec<&str> = r
                .items
                .iter()
                .filter(|i| i.status == "fail" || i.status == "warn")
                .map(|i| i.id.as_str())
                .collect();
            if failed.is_empty() {
                "all passed".to_owned()
            } else {
                format!("problems: {}", failed.join(", "))
            }
        }
        Err(_) => String::new(),
    };
    ssr::audited(&state, &auth, "mail.check", domain.trim(), summary, result).await
}

// --- secrets and configuration files (admin) ---------------------------------------

endpoint_access!(DkimPrivateKey, Access::Role(Role::Admin));
/// The PEM private key for the signer. Every download is audited.
#[server(prefix = "/api", endpoint = "mail/dkim_private_key")]
pub async fn dkim_private_key(domain: String, selector: String) -> Result<ConfigFile, AppError> {
    let auth = ssr::guard::<DkimPrivateKey>()?;
    let state = ssr::state()?;
    let result = store::dkim_private_key(&state.db, &domain, &selector)
        .await
        .map(|pem| ConfigFile {
            name: format!("{}.{}.private.pem", selector.trim(), domain.trim()),
            contents: pem,
        });
    ssr::audited(
        &state,
        &auth,
        "mail.dkim_private_key",
        &format!("{}._domainkey.{}", selector.trim(), domain.trim()),
        "private key downloaded".into(),
        result,
    )
    .await
}

endpoint_access!(MailConfigDefaults, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/config_defaults")]
pub async fn mail_config_defaults() -> Result<ConfigDefaults, AppError> {
    ssr::guard::<MailConfigDefaults>()?;
    let state = ssr::state()?;
    Ok(store::config_defaults(&state.db))
}

// --- records in the domain's zone (operators) ---------------------------------------

/// What a record change did: the zone and its new serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub owner: String,
    pub zone: String,
    pub serial: u32,
    pub record: String,
}

#[cfg(feature = "ssr")]
fn published(owner: &str, record: &str, z: &crate::dns::ZoneSummary) -> Published {
    Published {
        owner: owner.to_owned(),
        zone: z.origin.as_str().to_owned(),
        serial: z.serial,
        record: record.to_owned(),
    }
}

#[cfg(feature = "ssr")]
async fn domain_resolver(
    db: &sea_orm::DatabaseConnection,
    domain: &str,
) -> Result<(String, Option<std::net::SocketAddr>), AppError> {
    let row = store::find_domain(db, domain).await?;
    let settings = store::check_settings_of(&row)?;
    Ok((row.name, settings.resolver))
}

endpoint_access!(CreateMailZone, Access::Role(Role::Operator));
/// Creates the DNS zone for a mail domain Stackyard does not serve yet.
#[server(prefix = "/api", endpoint = "mail/create_zone")]
pub async fn create_mail_zone(domain: String) -> Result<String, AppError> {
    let auth = ssr::guard::<CreateMailZone>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let origin = crate::dns::zone::Name::parse(&row.name)
            .map_err(|e| AppError::invalid("domain", e.to_string()))?;
        let z = crate::dns::store::create_zone(&state.db, auth.username(), &origin).await?;
        Ok(z.origin.as_str().to_owned())
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "dns.create_zone",
        domain.trim(),
        "for mail".into(),
        result,
    )
    .await
}

endpoint_access!(PublishSpf, Access::Role(Role::Operator));
/// Publishes an SPF record at the domain's apex (replacing the old SPF
/// record, keeping other TXT values), after validating it again.
#[server(prefix = "/api", endpoint = "mail/publish_spf")]
pub async fn publish_spf(domain: String, record: String) -> Result<Published, AppError> {
    let auth = ssr::guard::<PublishSpf>()?;
    let state = ssr::state()?;
    let result = async {
        let (name, resolver) = domain_resolver(&state.db, &domain).await?;
        let (p, z) =
            zone::publish_spf(&state.db, auth.username(), &name, &record, resolver).await?;
        Ok(published(&p.owner, &p.record, &z))
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.publish_spf",
        domain.trim(),
        record.trim().to_owned(),
        result,
    )
    .await
}

endpoint_access!(PublishDmarc, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/publish_dmarc")]
pub async fn publish_dmarc(domain: String, record: String) -> Result<Published, AppError> {
    let auth = ssr::guard::<PublishDmarc>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let (p, z) = zone::publish_dmarc(&state.db, auth.username(), &row.name, &record).await?;
        Ok(published(&p.owner, &p.record, &z))
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.publish_dmarc",
        domain.trim(),
        record.trim().to_owned(),
        result,
    )
    .await
}

endpoint_access!(PublishVerification, Access::Role(Role::Operator));
/// Adds a verification token (google-site-verification=…) at the apex.
#[server(prefix = "/api", endpoint = "mail/publish_verification")]
pub async fn publish_verification(domain: String, value: String) -> Result<Published, AppError> {
    let auth = ssr::guard::<PublishVerification>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let z = zone::publish_verification(&state.db, auth.username(), &row.name, &value).await?;
        Ok(published(&format!("{}.", row.name), value.trim(), &z))
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.publish_verification",
        domain.trim(),
        value.trim().to_owned(),
        result,
    )
    .await
}

endpoint_access!(RemoveVerification, Access::Role(Role::Operator));
/// Removes one verification token from the apex.
#[server(prefix = "/api", endpoint = "mail/remove_verification")]
pub async fn remove_verification(domain: String, value: String) -> Result<(), AppError> {
    let auth = ssr::guard::<RemoveVerification>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        zone::remove_verification(&state.db, auth.username(), &row.name, &value).await?;
        Ok(())
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.remove_verification",
        domain.trim(),
        value.trim().to_owned(),
        result,
    )
    .await
}

endpoint_access!(PublishMx, Access::Role(Role::Operator));
/// Sets the domain's MX records: one `PREFERENCE HOST` per line.
#[server(prefix = "/api", endpoint = "mail/publish_mx")]
pub async fn publish_mx(domain: String, mx: String) -> Result<Published, AppError> {
    let auth = ssr::guard::<PublishMx>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let z = zone::publish_mx(&state.db, auth.username(), &row.name, &mx).await?;
        Ok(published(&format!("{}.", row.name), mx.trim(), &z))
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.publish_mx",
        domain.trim(),
        mx.trim().to_owned(),
        result,
    )
    .await
}

endpoint_access!(GenerateDkim, Access::Role(Role::Operator));
/// Generates a DKIM key (RSA 2048 by default, or Ed25519) under a selector,
/// keeps the private key on the server and publishes the public key.
#[server(prefix = "/api", endpoint = "mail/generate_dkim")]
pub async fn generate_dkim(
    domain: String,
    selector: String,
    #[server(default)] algorithm: String,
) -> Result<DkimKeyInfo, AppError> {
    let auth = ssr::guard::<GenerateDkim>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        let selector = forms::selector(&selector)?;
        zone::generate_and_publish_dkim(
            &state.db,
            auth.username(),
            &row.name,
            &selector,
            &algorithm,
        )
        .await
    }
    .await;
    let summary = match &result {
        Ok(k) => format!(
            "{} {}",
            k.algorithm,
            k.bits.map(|b| b.to_string()).unwrap_or_default()
        ),
        Err(_) => algorithm.clone(),
    };
    ssr::audited(
        &state,
        &auth,
        "mail.generate_dkim",
        &format!("{}._domainkey.{}", selector.trim(), domain.trim()),
        summary,
        result,
    )
    .await
}

endpoint_access!(RemoveDkim, Access::Role(Role::Operator));
/// Removes a DKIM key and unpublishes its `selector._domainkey` record.
#[server(prefix = "/api", endpoint = "mail/remove_dkim")]
pub async fn remove_dkim(domain: String, selector: String) -> Result<(), AppError> {
    let auth = ssr::guard::<RemoveDkim>()?;
    let state = ssr::state()?;
    let result = async {
        let row = store::find_domain(&state.db, &domain).await?;
        zone::remove_dkim(&state.db, auth.username(), &row.name, &selector).await?;
        Ok(())
    }
    .await;
    ssr::audited(
        &state,
        &auth,
        "mail.remove_dkim",
        &format!("{}._domainkey.{}", selector.trim(), domain.trim()),
        "key removed and its record unpublished".into(),
        result,
    )
    .await
}

/// Server functions whose arguments mirror their form field by field (the
/// SPF and DMARC builders, the configuration form): more than clippy's
/// seven, on purpose, so each input has its own name and its own message.
#[allow(clippy::too_many_arguments)]
mod wide {
    use super::*;

    endpoint_access!(MailServerConfig, Access::Role(Role::Admin));
    /// The Postfix lookup tables and `dovecot-sql.conf.ext` for this database.
    /// The PostgreSQL password is the mail daemons' read-only role's, typed here
    /// and never stored.
    #[server(prefix = "/api", endpoint = "mail/server_config")]
    pub async fn mail_server_config(
        backend: String,
        sqlite_path: String,
        pg_host: String,
        pg_port: String,
        pg_dbname: String,
        pg_user: String,
        pg_password: String,
        mail_root: String,
    ) -> Result<Vec<ConfigFile>, AppError> {
        let auth = super::ssr::guard::<MailServerConfig>()?;
        let state = super::ssr::state()?;
        let result = super::store::server_config(&super::store::ConfigRequest {
            backend,
            sqlite_path,
            pg_host,
            pg_port,
            pg_dbname,
            pg_user,
            pg_password,
            mail_root,
        });
        super::ssr::audited(
            &state,
            &auth,
            "mail.server_config",
            "postfix+dovecot",
            String::new(),
            result,
        )
        .await
    }

    endpoint_access!(BuildSpf, Access::Role(Role::Operator));
    /// Builds an SPF record from choices, or checks a pasted one (when `pasted`
    /// is not empty), and counts its lookups through includes.
    #[server(prefix = "/api", endpoint = "mail/spf_build")]
    pub async fn build_spf(
        domain: String,
        #[server(default)] a: String,
        #[server(default)] mx: String,
        #[server(default)] ip4: String,
        #[server(default)] ip6: String,
        #[server(default)] include: String,
        #[server(default)] all: String,
        #[server(default)] pasted: String,
    ) -> Result<RecordPreview, AppError> {
        super::ssr::guard::<BuildSpf>()?;
        let state = super::ssr::state()?;
        let result = async {
            let (name, resolver) = super::domain_resolver(&state.db, &domain).await?;
            let record = if pasted.trim().is_empty() {
                let choices = super::forms::SpfChoices {
                    a,
                    mx,
                    ip4,
                    ip6,
                    include,
                    all,
                };
                super::forms::spf_builder(&choices)?.build().map_err(|e| {
                    let field = if e.to_string().contains("include") {
                        "include"
                    } else {
                        "ip4"
                    };
                    AppError::invalid(field, e.to_string())
                })?
            } else {
                pasted.trim().to_owned()
            };
            super::zone::spf_preview(&state.db, &name, &record, resolver).await
        }
        .await;
        crate::auth::server::with_status(result)
    }

    endpoint_access!(BuildDmarc, Access::Role(Role::Operator));
    /// Builds a DMARC record (RFC 7489) from its fields, or checks a pasted one.
    #[server(prefix = "/api", endpoint = "mail/dmarc_build")]
    pub async fn build_dmarc(
        domain: String,
        #[server(default)] p: String,
        #[server(default)] sp: String,
        #[server(default)] pct: String,
        #[server(default)] rua: String,
        #[server(default)] ruf: String,
        #[server(default)] adkim: String,
        #[server(default)] aspf: String,
        #[server(default)] fo: String,
        #[server(default)] pasted: String,
    ) -> Result<RecordPreview, AppError> {
        super::ssr::guard::<BuildDmarc>()?;
        let state = super::ssr::state()?;
        let result = async {
            let row = super::store::find_domain(&state.db, &domain).await?;
            let record = if pasted.trim().is_empty() {
                let choices = super::forms::DmarcChoices {
                    p,
                    sp,
                    pct,
                    rua,
                    ruf,
                    adkim,
                    aspf,
                    fo,
                };
                super::forms::dmarc_record(&choices)?
                    .build()
                    .map_err(|e| AppError::invalid("p", e.to_string()))?
            } else {
                pasted.trim().to_owned()
            };
            super::zone::dmarc_preview(&row.name, &record)
        }
        .await;
        crate::auth::server::with_status(result)
    }
}
pub use wide::*;
