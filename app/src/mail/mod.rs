//! Mail: the authentication records a mail domain publishes (the paper's
//! Table 1), the checks a receiving server makes (figure 3), and the mail
//! domains, mailboxes and aliases Postfix and Dovecot read.
//!
//! - [`records`]: the pure record logic (SPF, DKIM, DMARC, verification
//!   tokens, DNSBL names), tested without a network;
//! - `check` (server only): the readiness check over DNS, the mailbox rows,
//!   Dovecot hashes and the Postfix/Dovecot configuration files;
//! - `service` (server only): typed form input and the domain's logic,
//!   answering [`DomainError`]; its `zone` part publishes records through
//!   the DNS zone store;
//! - `store`, `entity` (server only): the tables of migrations 000006 and
//!   000009;
//! - [`pages`]: `/mail` and a mail domain's page.
//!
//! This file holds the DTOs the browser shares and the server functions,
//! each one [`api::call`](crate::api) around a service function.

pub mod check;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod mirror;
pub mod pages;
pub mod records;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

use crate::api;
use crate::auth::{Access, Role};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::error::Invalid;
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
    /// `LAYOUT_ID/VM` when the mail host is a layout's VM (its name and
    /// address then come from the layout), else empty.
    #[serde(default)]
    pub mail_vm: String,
    pub dnsbl_zones: Vec<String>,
    pub resolver: String,
}

/// The settings form as typed; [`service::input::check_settings`] reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsFields {
    pub mail_host: String,
    pub mail_ip: String,
    /// A layout's VM (`LAYOUT_ID/VM`) as the mail host; empty: as typed.
    #[serde(default)]
    pub mail_vm: String,
    /// One blocklist zone per line, or separated by spaces or commas.
    pub dnsbl_zones: String,
    /// `IP`, `IP:PORT` or `[IPv6]:PORT`; empty for the system's resolver.
    pub resolver: String,
}

/// The new-mailbox form as typed. Its `Debug` leaves the password out.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxFields {
    /// The part before `@`, or the whole address in the domain.
    pub address: String,
    pub password: String,
    /// Empty or 0 for no limit.
    pub quota_mib: String,
}

impl std::fmt::Debug for MailboxFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxFields")
            .field("address", &self.address)
            .field("password", &"<hidden>")
            .field("quota_mib", &self.quota_mib)
            .finish()
    }
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
    pub created_at: crate::ui::Timestamp,
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
    /// The layouts' VMs with a name and an address, which the check
    /// settings offer as the mail host.
    #[serde(default)]
    pub mail_hosts: Vec<crate::layouts::NamedVm>,
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

/// How the last readiness check of a domain ended, and when it ran
/// (each run is stored; the dashboard shows the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    pub ran_at: crate::ui::Timestamp,
    pub passed: u32,
    pub failed: u32,
    pub warned: u32,
}

impl LastCheck {
    /// Tallies a checklist's items by status; skipped items are not counted.
    pub fn of_statuses<'a>(
        ran_at: crate::ui::Timestamp,
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

/// What a record change did: the zone and its new serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub owner: String,
    pub zone: String,
    pub serial: u32,
    pub record: String,
}

// --- forms -------------------------------------------------------------------

/// The SPF builder's choices, as the form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfChoices {
    #[serde(default)]
    pub a: String,
    #[serde(default)]
    pub mx: String,
    #[serde(default)]
    pub ip4: String,
    #[serde(default)]
    pub ip6: String,
    #[serde(default)]
    pub include: String,
    /// `-`, `~`, `?` (the qualifier of `all`).
    #[serde(default)]
    pub all: String,
}

/// The DMARC builder's fields, as the form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcChoices {
    #[serde(default)]
    pub p: String,
    #[serde(default)]
    pub sp: String,
    #[serde(default)]
    pub pct: String,
    #[serde(default)]
    pub rua: String,
    #[serde(default)]
    pub ruf: String,
    #[serde(default)]
    pub adkim: String,
    #[serde(default)]
    pub aspf: String,
    /// Any of `0`, `1`, `d`, `s`, separated by spaces, commas or colons.
    #[serde(default)]
    pub fo: String,
}

/// The server-configuration form. The PostgreSQL password is the mail
/// daemons' read-only role's, typed there and never stored.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfigForm {
    /// `sqlite` or `pgsql`.
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub sqlite_path: String,
    #[serde(default)]
    pub pg_host: String,
    #[serde(default)]
    pub pg_port: String,
    #[serde(default)]
    pub pg_dbname: String,
    #[serde(default)]
    pub pg_user: String,
    #[serde(default)]
    pub pg_password: String,
    #[serde(default)]
    pub mail_root: String,
}

/// Never prints the password (server functions log their arguments).
impl std::fmt::Debug for ServerConfigForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfigForm")
            .field("backend", &self.backend)
            .field("sqlite_path", &self.sqlite_path)
            .field("pg_host", &self.pg_host)
            .field("pg_port", &self.pg_port)
            .field("pg_dbname", &self.pg_dbname)
            .field("pg_user", &self.pg_user)
            .field("pg_password", &"<not shown>")
            .field("mail_root", &self.mail_root)
            .finish()
    }
}

// --- errors ------------------------------------------------------------------

/// What the mail service and store answer when they cannot do what was
/// asked. [`AppError`]'s `From` below decides, once, the status and the
/// form field each becomes.
#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A form value is wrong; the error names its field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The SPF builder refused the choices: an include's domain or the
    /// lookups the includes cost (the `include` field), else the addresses.
    #[error(transparent)]
    SpfBuild(crate::mail::records::spf::SpfError),
    /// The DMARC builder refused the fields (shown under the policy).
    #[error(transparent)]
    DmarcBuild(crate::mail::records::dmarc::DmarcError),
    /// `what` was not found ("Mail domain example.org").
    #[error("{0} was not found.")]
    NotFound(String),
    /// Cannot be done as things stand (no zone holds the domain).
    #[error("{0}")]
    Refused(String),
    /// Something failed on the server; the message says what, not how.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    /// What the DNS zone store answered about the domain's zone.
    #[error(transparent)]
    Dns(#[from] crate::dns::DomainError),
}

#[cfg(feature = "ssr")]
impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(field, message))
    }
}

#[cfg(feature = "ssr")]
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        use crate::mail::records::spf::SpfError;
        match e {
            DomainError::Invalid(e) => e.into(),
            DomainError::SpfBuild(e) => {
                // The builder writes domains only for includes, and only
                // includes can push the lookups over the limit.
                let field = match e {
                    SpfError::MissingDomain { .. }
                    | SpfError::BadDomain { .. }
                    | SpfError::TooManyLookups { .. } => "include",
                    _ => "ip4",
                };
                AppError::invalid(field, e.to_string())
            }
            DomainError::DmarcBuild(e) => AppError::invalid("p", e.to_string()),
            DomainError::NotFound(what) => AppError::NotFound(what),
            DomainError::Refused(m) => AppError::Refused(m),
            DomainError::Failed(m) => AppError::Failed(m),
            DomainError::Database(e) => e.into(),
            DomainError::Dns(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
use service::input;

// --- reading -----------------------------------------------------------------

api::access!(ListMailDomains, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "mail/list")]
pub async fn list_mail_domains() -> Result<Vec<MailDomainSummary>, AppError> {
    api::call::<ListMailDomains>()
        .run(|c| async move { store::list_domains(c.db()).await })
        .await
}

api::access!(GetMailDomain, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "mail/get")]
pub async fn get_mail_domain(domain: String) -> Result<MailDomainDetail, AppError> {
    api::call::<GetMailDomain>()
        .run(|c| async move { service::detail(c.db(), &domain).await })
        .await
}

// --- mail domains ------------------------------------------------------------

api::access!(AddMailDomain, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/add_domain")]
pub async fn add_mail_domain(name: String) -> Result<String, AppError> {
    api::call::<AddMailDomain>()
        .audit("mail.add_domain", name.trim())
        .run(|c| async move {
            let d = store::add_domain(c.db(), &name).await?;
            mirror::changed(&c.state).await;
            c.target(d.name.clone());
            Ok::<_, DomainError>(d.name)
        })
        .await
}

api::access!(RemoveMailDomain, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/remove_domain")]
pub async fn remove_mail_domain(domain: String) -> Result<(), AppError> {
    api::call::<RemoveMailDomain>()
        .audit("mail.remove_domain", domain.trim())
        .run(|c| async move {
            c.summary("with its mailboxes, aliases and DKIM keys");
            store::remove_domain(c.db(), &domain).await?;
            mirror::changed(&c.state).await;
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(SaveMailSettings, Access::Role(Role::Operator));
/// The mail host, its address, the blocklists and the resolver the
/// readiness check uses.
#[server(prefix = "/api", endpoint = "mail/settings")]
pub async fn save_mail_settings(
    domain: String,
    #[server(flatten)] form: SettingsFields,
) -> Result<MailSettings, AppError> {
    api::call::<SaveMailSettings>()
        .audit("mail.settings", domain.trim())
        .run(|c| async move {
            c.summary(format!(
                "host {:?}, ip {:?}, dnsbl {:?}, resolver {:?}",
                form.mail_host.trim(),
                form.mail_ip.trim(),
                form.dnsbl_zones.trim(),
                form.resolver.trim()
            ));
            // A layout's VM: its full name and address, as the layout has them.
            let vm = form.mail_vm.trim();
            let (host, ip) = if vm.is_empty() {
                (form.mail_host.clone(), form.mail_ip.clone())
            } else {
                let (fqdn, ip) = mail_vm(c.db(), vm)
                    .await
                    .map_err(|m| DomainError::invalid("mail_vm", m))?;
                (fqdn, ip.to_string())
            };
            let settings = input::check_settings(&host, &ip, &form.dnsbl_zones, &form.resolver)?;
            // Whom the check asks is an admin's choice, within what the
            // server's configuration allows.
            if let Some(resolver) = settings.resolver {
                input::resolver_allowed(resolver, c.state.policy.mail_resolver_any)?;
                let stored = store::find_domain(c.db(), &domain).await?.resolver;
                let unchanged = input::parse_nameserver(&stored).ok() == Some(resolver);
                if !unchanged && c.auth.role() < Some(Role::Admin) {
                    return Err(DomainError::invalid(
                        "resolver",
                        "Only an admin may choose the resolver the check asks; leave it as it \
                         was, or empty for the system's.",
                    ));
                }
            }
            store::save_settings(c.db(), &domain, &settings, vm).await
        })
        .await
}

/// The full name and address of the layout VM `key` (`LAYOUT_ID/VM`), or
/// why it has none.
#[cfg(feature = "ssr")]
pub async fn mail_vm(
    db: &sea_orm::DatabaseConnection,
    key: &str,
) -> Result<(String, std::net::IpAddr), String> {
    let Some((layout, vm)) = crate::layouts::service::names::parse_vm_key(key) else {
        return Err(format!("\"{key}\" is not a layout's VM (LAYOUT_ID/VM)."));
    };
    crate::layouts::service::names::named_vm(db, layout, vm)
        .await
        .map_err(|e| e.to_string())
}

// --- mailboxes (admin: they hold passwords) ----------------------------------

api::access!(AddMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/add_mailbox")]
pub async fn add_mailbox(
    domain: String,
    #[server(flatten)] form: MailboxFields,
) -> Result<MailboxRow, AppError> {
    api::call::<AddMailbox>()
        .audit(
            "mail.add_mailbox",
            format!("{}@{}", form.address.trim(), domain.trim()),
        )
        .run(|c| async move {
            c.summary(format!("quota {} MiB", form.quota_mib.trim()));
            let quota = input::quota_mib(&form.quota_mib)?;
            let cost = c.state.auth.hash_cost;
            let MailboxFields {
                address, password, ..
            } = form;
            let m = store::add_mailbox(c.db(), &domain, &address, password, quota, cost).await?;
            mirror::changed(&c.state).await;
            c.target(m.address.clone());
            Ok::<_, DomainError>(m)
        })
        .await
}

api::access!(SetMailboxPassword, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/set_password")]
pub async fn set_mailbox_password(address: String, password: String) -> Result<(), AppError> {
    api::call::<SetMailboxPassword>()
        .audit("mail.set_password", address.trim())
        .run(|c| async move {
            let cost = c.state.auth.hash_cost;
            store::set_mailbox_password(c.db(), &address, password, cost).await?;
            mirror::changed(&c.state).await;
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(UpdateMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/update_mailbox")]
pub async fn update_mailbox(
    address: String,
    quota_mib: String,
    active: String,
) -> Result<MailboxRow, AppError> {
    api::call::<UpdateMailbox>()
        .audit("mail.update_mailbox", address.trim())
        .run(|c| async move {
            let active = input::flag(&active);
            c.summary(format!("quota {} MiB, active {active}", quota_mib.trim()));
            let quota = input::quota_mib(&quota_mib)?;
            let m = store::update_mailbox(c.db(), &address, quota, active).await?;
            mirror::changed(&c.state).await;
            Ok::<_, DomainError>(m)
        })
        .await
}

api::access!(RemoveMailbox, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/remove_mailbox")]
pub async fn remove_mailbox(address: String) -> Result<String, AppError> {
    api::call::<RemoveMailbox>()
        .audit("mail.remove_mailbox", address.trim())
        .run(|c| async move {
            let gone = store::remove_mailbox(c.db(), &address).await?;
            mirror::changed(&c.state).await;
            Ok::<_, DomainError>(gone)
        })
        .await
}

// --- aliases -----------------------------------------------------------------

api::access!(AddAlias, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/add_alias")]
pub async fn add_alias(
    domain: String,
    source: String,
    destination: String,
) -> Result<AliasRow, AppError> {
    api::call::<AddAlias>()
        .audit("mail.add_alias", source.trim())
        .run(|c| async move {
            c.summary(format!("→ {}", destination.trim()));
            let a = store::add_alias(c.db(), &domain, &source, &destination).await?;
            mirror::changed(&c.state).await;
            c.target(a.source.clone());
            Ok::<_, DomainError>(a)
        })
        .await
}

api::access!(RemoveAlias, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/remove_alias")]
pub async fn remove_alias(id: i32) -> Result<(), AppError> {
    api::call::<RemoveAlias>()
        .audit("mail.remove_alias", format!("alias {id}"))
        .run(|c| async move {
            let a = store::remove_alias(c.db(), id).await?;
            mirror::changed(&c.state).await;
            c.target(a.source);
            c.summary(format!("→ {}", a.destination));
            Ok::<_, DomainError>(())
        })
        .await
}

// --- the readiness check -----------------------------------------------------

api::access!(RunMailCheck, Access::Role(Role::Operator));
/// Figure 3's path for this domain, over the configured resolver.
#[server(prefix = "/api", endpoint = "mail/check")]
pub async fn run_mail_check(domain: String) -> Result<CheckResult, AppError> {
    api::call::<RunMailCheck>()
        .audit("mail.check", domain.trim())
        .run(|c| async move {
            let result = service::check::run(c.db(), c.keys(), &domain).await?;
            c.summary(service::check::summary(&result));
            Ok::<_, DomainError>(result)
        })
        .await
}

// --- secrets and configuration files (admin) ---------------------------------

api::access!(DkimPrivateKey, Access::Role(Role::Admin));
/// The PEM private key for the signer. Every download is audited.
#[server(prefix = "/api", endpoint = "mail/dkim_private_key")]
pub async fn dkim_private_key(
    domain: String,
    selector: String,
    confirm_password: String,
) -> Result<ConfigFile, AppError> {
    api::call::<DkimPrivateKey>()
        .audit("mail.dkim_private_key", dkim_owner(&domain, &selector))
        .confirm_password(confirm_password)
        .run(|c| async move {
            c.summary("private key downloaded");
            service::dkim_private_key(c.db(), c.keys(), &domain, &selector).await
        })
        .await
}

api::access!(MailConfigDefaults, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "mail/config_defaults")]
pub async fn mail_config_defaults() -> Result<ConfigDefaults, AppError> {
    api::call::<MailConfigDefaults>()
        .run(|c| async move {
            let mail_db = c.state.mail_db.as_ref().map(mirror::MailDb::path);
            Ok::<_, DomainError>(store::config_defaults(c.db(), mail_db))
        })
        .await
}

api::access!(MailServerConfig, Access::Role(Role::Admin));
/// The Postfix lookup tables and `dovecot-sql.conf.ext` for this database.
#[server(prefix = "/api", endpoint = "mail/server_config")]
pub async fn mail_server_config(
    #[server(flatten)] form: ServerConfigForm,
) -> Result<Vec<ConfigFile>, AppError> {
    api::call::<MailServerConfig>()
        .audit("mail.server_config", "postfix+dovecot")
        .run(|c| async move {
            let own = store::config_defaults(c.db(), None).sqlite_path;
            service::config::files(&form, Some(own.as_str()).filter(|p| !p.is_empty()))
        })
        .await
}

// --- records in the domain's zone (operators) --------------------------------

#[cfg(feature = "ssr")]
/// `selector._domainkey.domain`, as the audit log names a DKIM key.
fn dkim_owner(domain: &str, selector: &str) -> String {
    format!("{}._domainkey.{}", selector.trim(), domain.trim())
}

api::access!(CreateMailZone, Access::Role(Role::Operator));
/// Creates the DNS zone for a mail domain Stackyard does not serve yet.
#[server(prefix = "/api", endpoint = "mail/create_zone")]
pub async fn create_mail_zone(domain: String) -> Result<String, AppError> {
    api::call::<CreateMailZone>()
        .audit("dns.create_zone", domain.trim())
        .run(|c| async move {
            c.summary("for mail");
            service::create_zone(c.db(), c.username(), &domain).await
        })
        .await
}

api::access!(PublishSpf, Access::Role(Role::Operator));
/// Publishes an SPF record at the domain's apex (replacing the old SPF
/// record, keeping other TXT values), after validating it again.
#[server(prefix = "/api", endpoint = "mail/publish_spf")]
pub async fn publish_spf(domain: String, record: String) -> Result<Published, AppError> {
    api::call::<PublishSpf>()
        .audit("mail.publish_spf", domain.trim())
        .run(|c| async move {
            c.summary(record.trim());
            service::publish_spf(c.db(), c.username(), &domain, &record).await
        })
        .await
}

api::access!(PublishDmarc, Access::Role(Role::Operator));
#[server(prefix = "/api", endpoint = "mail/publish_dmarc")]
pub async fn publish_dmarc(domain: String, record: String) -> Result<Published, AppError> {
    api::call::<PublishDmarc>()
        .audit("mail.publish_dmarc", domain.trim())
        .run(|c| async move {
            c.summary(record.trim());
            service::publish_dmarc(c.db(), c.username(), &domain, &record).await
        })
        .await
}

api::access!(PublishVerification, Access::Role(Role::Operator));
/// Adds a verification token (google-site-verification=…) at the apex.
#[server(prefix = "/api", endpoint = "mail/publish_verification")]
pub async fn publish_verification(domain: String, value: String) -> Result<Published, AppError> {
    api::call::<PublishVerification>()
        .audit("mail.publish_verification", domain.trim())
        .run(|c| async move {
            c.summary(value.trim());
            service::publish_verification(c.db(), c.username(), &domain, &value).await
        })
        .await
}

api::access!(RemoveVerification, Access::Role(Role::Operator));
/// Removes one verification token from the apex.
#[server(prefix = "/api", endpoint = "mail/remove_verification")]
pub async fn remove_verification(domain: String, value: String) -> Result<(), AppError> {
    api::call::<RemoveVerification>()
        .audit("mail.remove_verification", domain.trim())
        .run(|c| async move {
            c.summary(value.trim());
            service::remove_verification(c.db(), c.username(), &domain, &value).await
        })
        .await
}

api::access!(PublishMx, Access::Role(Role::Operator));
/// Sets the domain's MX records: one `PREFERENCE HOST` per line.
#[server(prefix = "/api", endpoint = "mail/publish_mx")]
pub async fn publish_mx(domain: String, mx: String) -> Result<Published, AppError> {
    api::call::<PublishMx>()
        .audit("mail.publish_mx", domain.trim())
        .run(|c| async move {
            c.summary(mx.trim());
            service::publish_mx(c.db(), c.username(), &domain, &mx).await
        })
        .await
}

api::access!(GenerateDkim, Access::Role(Role::Operator));
/// Generates a DKIM key (RSA 2048 by default, or Ed25519) under a selector,
/// keeps the private key on the server and publishes the public key.
#[server(prefix = "/api", endpoint = "mail/generate_dkim")]
pub async fn generate_dkim(
    domain: String,
    selector: String,
    #[server(default)] algorithm: String,
) -> Result<DkimKeyInfo, AppError> {
    api::call::<GenerateDkim>()
        .audit("mail.generate_dkim", dkim_owner(&domain, &selector))
        .run(|c| async move {
            c.summary(algorithm.clone());
            let k = service::generate_dkim_key(
                c.db(),
                c.keys(),
                c.username(),
                &domain,
                &selector,
                &algorithm,
            )
            .await?;
            c.summary(format!(
                "{} {}",
                k.algorithm,
                k.bits.map(|b| b.to_string()).unwrap_or_default()
            ));
            Ok::<_, DomainError>(k)
        })
        .await
}

api::access!(RemoveDkim, Access::Role(Role::Operator));
/// Removes a DKIM key and unpublishes its `selector._domainkey` record.
#[server(prefix = "/api", endpoint = "mail/remove_dkim")]
pub async fn remove_dkim(domain: String, selector: String) -> Result<(), AppError> {
    api::call::<RemoveDkim>()
        .audit("mail.remove_dkim", dkim_owner(&domain, &selector))
        .run(|c| async move {
            c.summary("key removed and its record unpublished");
            service::remove_dkim(c.db(), c.username(), &domain, &selector).await
        })
        .await
}

api::access!(BuildSpf, Access::Role(Role::Operator));
/// Builds an SPF record from choices, or checks a pasted one (when `pasted`
/// is not empty), and counts its lookups through includes.
#[server(prefix = "/api", endpoint = "mail/spf_build")]
pub async fn build_spf(
    domain: String,
    #[server(flatten)] choices: SpfChoices,
    #[server(default)] pasted: String,
) -> Result<RecordPreview, AppError> {
    api::call::<BuildSpf>()
        .run(|c| async move { service::build_spf(c.db(), &domain, &choices, &pasted).await })
        .await
}

api::access!(BuildDmarc, Access::Role(Role::Operator));
/// Builds a DMARC record (RFC 7489) from its fields, or checks a pasted one.
#[server(prefix = "/api", endpoint = "mail/dmarc_build")]
pub async fn build_dmarc(
    domain: String,
    #[server(flatten)] choices: DmarcChoices,
    #[server(default)] pasted: String,
) -> Result<RecordPreview, AppError> {
    api::call::<BuildDmarc>()
        .run(|c| async move { service::build_dmarc(c.db(), &domain, &choices, &pasted).await })
        .await
}
