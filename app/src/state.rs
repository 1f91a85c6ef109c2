//! Server-side state shared by every request: the database and the facts the
//! dashboard reports. Server functions take it from the Leptos context that
//! the server provides for each request.

use crate::dashboard::InstanceStatus;
use leptos::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use std::time::Duration;

/// How long a health probe waits for the database before calling it gone.
pub const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub auth: crate::auth::service::AuthConfig,
    /// One libvirt worker per host, and the stream of their changes.
    pub hosts: crate::hosts::registry::HostRegistry,
    /// Seals the secrets kept in the database (see [`crate::sealed`]).
    pub keys: crate::sealed::SealingKey,
    /// The mail database Postfix and Dovecot read (`--mail-db`), if any.
    pub mail_db: Option<crate::mail::mirror::MailDb>,
    /// What the server's configuration lets the web forms choose.
    pub policy: std::sync::Arc<Policy>,
}

/// What the server's own configuration (its flags) allows the web forms to
/// choose: a form picks within it, and never names a program or file itself.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The libvirt drivers, transports and URI parameters hosts may use.
    pub libvirt: crate::hosts::service::uri::UriPolicy,
    /// The commands a DNS server entry may reload NSD with.
    pub reload_commands: crate::dns::nsd::ReloadCommands,
    /// Whether the mail check may ask any resolver (loopback, link-local,
    /// any port): for tests and labs, not for a console on a network.
    pub mail_resolver_any: bool,
    /// How long a DNS reload may run before it is stopped (with every
    /// process it started) and the apply reports it.
    pub dns_reload_timeout: std::time::Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            libvirt: crate::hosts::service::uri::UriPolicy::default(),
            reload_commands: crate::dns::nsd::ReloadCommands::default(),
            mail_resolver_any: false,
            dns_reload_timeout: crate::dns::nsd::RELOAD_TIMEOUT,
        }
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        leptos_options: LeptosOptions,
        auth: crate::auth::service::AuthConfig,
        keys: crate::sealed::SealingKey,
    ) -> Self {
        Self {
            db,
            leptos_options,
            started_at: chrono::Utc::now(),
            auth,
            hosts: crate::hosts::registry::HostRegistry::default(),
            keys,
            mail_db: None,
            policy: std::sync::Arc::default(),
        }
    }

    /// The state the server placed in this request's context.
    pub fn from_context() -> Result<Self, crate::error::AppError> {
        use_context::<Self>().ok_or_else(|| {
            crate::error::AppError::Failed(
                "server state is missing from the request context".into(),
            )
        })
    }

    pub fn database_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => "SQLite",
            DatabaseBackend::Postgres => "PostgreSQL",
            DatabaseBackend::MySql => "MySQL",
        }
    }

    /// Whether the database answers within [`DB_PING_TIMEOUT`].
    pub async fn database_ok(&self) -> bool {
        matches!(
            tokio::time::timeout(DB_PING_TIMEOUT, self.db.ping()).await,
            Ok(Ok(()))
        )
    }

    pub async fn status(&self) -> InstanceStatus {
        let database_ok = self.database_ok().await;
        let schema = if database_ok {
            migrations::current_version(&self.db).await.unwrap_or(None)
        } else {
            None
        };
        InstanceStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            database: self.database_name().to_owned(),
            schema,
            database_ok,
            started_at: self.started_at.into(),
            checked_at: crate::ui::Timestamp::now(),
        }
    }
}

/// The Content-Security-Policy for a page whose inline scripts carry `nonce`.
///
/// No `unsafe-eval`: the only scripts are our module and the hydration
/// bootstrap (nonce'd); `wasm-unsafe-eval` lets the browser compile our wasm
/// and nothing else. Style attributes are allowed for computed widths (memory
/// bars), style elements are not.
///
/// A VM's page (its consoles) differs in two ways, for that page only:
/// xterm.js makes `<style>` elements, admitted when they carry the nonce
/// (`js/console.js` stamps it on them), and the console's WebSocket is named
/// with `ws:`/`wss:` and the console's own `host` (Safari does not take
/// `'self'` for WebSockets).
pub fn content_security_policy(nonce: &str, console_host: Option<&str>) -> String {
    let (style, connect) = match console_host {
        Some(host) => (
            format!("'self' 'nonce-{nonce}'"),
            format!("'self' ws://{host} wss://{host}"),
        ),
        None => ("'self'".to_owned(), "'self'".to_owned()),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src {style}; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The host a VM page was asked for by (its `Host` header), when the
/// request is for a VM's page: `/hosts/{id}/vms/{name}`. The gate has
/// already checked that name.
fn console_page_host(parts: &http::request::Parts) -> Option<String> {
    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let is_vm_page = matches!(segments.as_slice(), ["hosts", _, "vms", _]);
    if !is_vm_page {
        return None;
    }
    parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_owned)
}

/// Creates this response's nonce (Leptos adds it to every inline script it
/// renders) and sends the matching policy header.
pub fn provide_csp_nonce() {
    leptos::nonce::provide_nonce();
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let console_host = use_context::<http::request::Parts>()
            .as_ref()
            .and_then(console_page_host);
        let policy = content_security_policy(&nonce.to_string(), console_host.as_deref());
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}
