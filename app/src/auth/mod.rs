//! Who may use the console: accounts with a role, server-side sessions,
//! login throttling, CSRF checks (in the server's middleware) and the audit
//! log.
//!
//! This file holds the types pages and server share and the server
//! functions, each one call through [`crate::api`]. `policy` holds the roles
//! and the access declarations; `service` (server only) the rules: password
//! policy, sessions, throttling, the setup token, the last admin; `store`
//! and `entity` (server only) the tables; `pages` the login, setup, users,
//! profile and audit pages.

#[cfg(feature = "ssr")]
pub mod entity;
pub mod pages;
pub mod policy;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

use crate::api;
use crate::error::{AppError, Invalid};
use leptos::prelude::*;
pub use policy::{Access, Decision, Role};
use serde::{Deserialize, Serialize};

/// The signed-in account, as pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub role: Role,
}

/// An account as the users page lists it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: i32,
    pub username: String,
    pub role: Role,
    pub enabled: bool,
    pub created_at: crate::ui::Timestamp,
}

/// One audit log line, as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: crate::ui::Timestamp,
    pub username: String,
    pub client_addr: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub reason: String,
    pub summary: String,
}

/// The audit page's filters; empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, UTC.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
}

/// Why an auth operation did not happen: the one error `service` and
/// `store` return; [`AppError`]'s `From` below picks status and field.
#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A form value is wrong.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A refused login; its message never says why.
    #[error(transparent)]
    Login(#[from] service::LoginFailure),
    #[error("{0} is the last enabled admin; make another account admin first.")]
    LastAdminDemoted(String),
    #[error("{0} is the last enabled admin and cannot be disabled.")]
    LastAdminDisabled(String),
    #[error("This setup link is not valid any more. Sign in, or restart Stackyard with no account to get a new one.")]
    SetupLinkUsed,
    #[error("The first admin can only be created on the server itself: open the setup link in a browser there (or through an SSH tunnel, ssh -L 3000:127.0.0.1:3000 SERVER), or run `stackyard user add NAME --role admin` on it.")]
    SetupNotLocal,
    #[error("Account {0} was not found.")]
    NoAccount(i32),
    #[error("The password could not be hashed.")]
    Hashing,
    /// The call needs a signed-in account.
    #[error("Sign in to continue.")]
    SignedOut,
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

#[cfg(feature = "ssr")]
impl From<&DomainError> for AppError {
    fn from(e: &DomainError) -> Self {
        match e {
            DomainError::Invalid(e) => AppError::from(e.clone()),
            DomainError::Login(
                failure @ (service::LoginFailure::Throttled(_) | service::LoginFailure::Busy),
            ) => AppError::TooMany(failure.to_string()),
            DomainError::Login(_)
            | DomainError::LastAdminDemoted(_)
            | DomainError::LastAdminDisabled(_)
            | DomainError::SetupLinkUsed => AppError::Refused(e.to_string()),
            DomainError::SetupNotLocal => AppError::Forbidden(e.to_string()),
            DomainError::NoAccount(id) => AppError::NotFound(format!("Account {id}")),
            DomainError::Hashing => AppError::Failed(e.to_string()),
            DomainError::SignedOut => AppError::Unauthorized,
            DomainError::Database(err) => {
                tracing::error!("database: {err}");
                AppError::Failed(
                    "The database did not answer; try again, and check /healthz.".into(),
                )
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::from(&e)
    }
}

// --- server functions ----------------------------------------------------------

api::access!(Me, Access::Public);
/// The caller's account, or `None` when not signed in.
#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    api::call::<Me>()
        .run(|c| async move { Ok::<_, AppError>(c.auth.user) })
        .await
}

api::access!(Login, Access::Public);
/// Signs in with form fields `username` and `password`; sets the session
/// cookie (a new session id every time).
#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
    api::call::<Login>()
        .run(|c| async move {
            let auth = &c.state.auth;
            let signed_in = service::login(c.db(), auth, &c.auth, &username, &password).await?;
            service::send_cookie(&service::session_cookie(&signed_in.token, auth));
            Ok::<_, DomainError>(signed_in.user)
        })
        .await
}

api::access!(Logout, Access::Role(Role::Viewer));
/// Ends the caller's session and clears the cookie.
#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    api::call::<Logout>()
        .audit_success("auth.logout", "")
        .run(|c| async move {
            c.target(c.username());
            service::logout(c.db(), &c.auth).await?;
            service::send_cookie(&service::clearing_cookie(&c.state.auth));
            Ok::<_, DomainError>(())
        })
        .await
}

/// The setup page's form; its fields arrive flat (`token`, `username`, …).
/// Its `Debug` leaves the secrets out.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupForm {
    /// The one-time token from the data directory.
    pub token: String,
    pub username: String,
    pub password: String,
    /// The password typed again.
    pub confirm: String,
}

impl std::fmt::Debug for SetupForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupForm")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

api::access!(Setup, Access::Public);
/// Creates the first admin with the one-time setup token, and signs in.
#[server(prefix = "/api", endpoint = "auth/setup")]
pub async fn setup(#[server(flatten)] form: SetupForm) -> Result<CurrentUser, AppError> {
    api::call::<Setup>()
        .run(|c| async move {
            let auth = &c.state.auth;
            let signed_in = service::setup(c.db(), auth, &c.auth, form).await?;
            service::send_cookie(&service::session_cookie(&signed_in.token, auth));
            Ok::<_, DomainError>(signed_in.user)
        })
        .await
}

api::access!(ChangePassword, Access::Role(Role::Viewer));
/// Changes the caller's own password (the current one is required) and ends
/// the account's other sessions.
#[server(prefix = "/api", endpoint = "auth/password")]
pub async fn change_password(
    current: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    api::call::<ChangePassword>()
        .audit("auth.password", "")
        .run(|c| async move {
            c.target(c.username());
            c.summary("own password changed; other sessions ended");
            let form = service::PasswordChange {
                current,
                password,
                confirm,
            };
            service::change_password(c.db(), c.state.auth.hash_cost, &c.auth, form).await
        })
        .await
}

api::access!(ListUsers, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<AccountRow>, AppError> {
    api::call::<ListUsers>()
        .run(|c| async move { service::list_users(c.db()).await })
        .await
}

api::access!(CreateUser, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<AccountRow, AppError> {
    api::call::<CreateUser>()
        .audit("users.create", username.trim().to_ascii_lowercase())
        .run(|c| async move {
            let form = service::NewAccount {
                username,
                password,
                role,
            };
            let row = service::create_user(c.db(), form, c.state.auth.hash_cost).await?;
            c.summary(format!("created with role {}", row.role));
            Ok::<_, DomainError>(row)
        })
        .await
}

api::access!(UpdateRole, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/role")]
pub async fn update_role(id: i32, role: String) -> Result<(), AppError> {
    api::call::<UpdateRole>()
        .audit("users.role", format!("account {id}"))
        .run(|c| async move {
            c.target(store::account_name(c.db(), id).await);
            c.summary(format!("role → {role}"));
            let (before, after) =
                service::set_role(c.db(), id, service::parse_role(&role)?).await?;
            c.summary(format!("role {before} → {after}"));
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(UpdateEnabled, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/enabled")]
pub async fn update_enabled(id: i32, enabled: bool) -> Result<(), AppError> {
    api::call::<UpdateEnabled>()
        .audit("users.enabled", format!("account {id}"))
        .run(|c| async move {
            c.target(store::account_name(c.db(), id).await);
            c.summary(format!("enabled → {enabled}"));
            let before = service::set_enabled(c.db(), id, enabled).await?;
            c.summary(format!("enabled {before} → {enabled}"));
            Ok::<_, DomainError>(())
        })
        .await
}

api::access!(ResetPassword, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/password")]
pub async fn reset_password(id: i32, password: String) -> Result<(), AppError> {
    api::call::<ResetPassword>()
        .audit("users.password", format!("account {id}"))
        .run(|c| async move {
            c.target(store::account_name(c.db(), id).await);
            c.summary("password reset; the account's sessions ended");
            let cost = c.state.auth.hash_cost;
            service::set_password(c.db(), id, &password, "password", cost, None).await
        })
        .await
}

api::access!(ListAudit, Access::Role(Role::Operator));
/// The newest 500 audit lines matching the filter.
#[server(prefix = "/api", endpoint = "audit/list")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditRow>, AppError> {
    api::call::<ListAudit>()
        .run(|c| async move { service::list_audit(c.db(), &filter).await })
        .await
}

/// A filter time: a date (the whole day, for `end_of_day`) or a date and
/// time, UTC. Pure, so the audit page checks its query with it too.
pub fn parse_time(
    field: &str,
    input: &str,
    end_of_day: bool,
) -> Result<chrono::DateTime<chrono::Utc>, Invalid> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    let s = input.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = t {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    Err(Invalid::new(
        field,
        format!("{s:?} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."),
    ))
}
