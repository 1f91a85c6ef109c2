//! Who may use the console: accounts with a role, server-side sessions,
//! login throttling, CSRF checks (in the server's middleware) and the audit
//! log. `policy` holds the roles and the access declarations; `server` (ssr
//! only) the database work; `pages` the login, setup, users, profile and
//! audit pages.

#[cfg(feature = "ssr")]
pub mod entities;
pub mod pages;
pub mod policy;
#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
use crate::{endpoint_access, page_access};
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
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One audit log line, as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
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

page_access!("/login", Access::Public);
page_access!("/setup", Access::Public);

// --- server functions ----------------------------------------------------------

endpoint_access!(Me, Access::Public);
/// The caller's account, or `None` when not signed in.
#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    let auth = server::guard::<Me>()?;
    Ok(auth.user)
}

endpoint_access!(Login, Access::Public);
/// Signs in with form fields `username` and `password`; sets the session
/// cookie (a new session id every time).
#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
    use server::{AuditEntry, LoginFailure};
    let auth = server::guard::<Login>()?;
    let state = crate::state::AppState::from_context()?;
    let result = async {
        let outcome = server::authenticate(
            &state.db,
            &state.auth,
            &username,
            &password,
            &auth.client_addr,
        )
        .await?;
        let target = username.trim().to_ascii_lowercase();
        let account = match outcome {
            Ok(account) => account,
            Err(failure) => {
                let (reason, message) = match failure {
                    LoginFailure::Throttled(secs) => (
                        "throttled".to_owned(),
                        format!("Too many failed logins. Try again in {secs} seconds."),
                    ),
                    LoginFailure::UnknownName => {
                        ("unknown name".into(), server::WRONG_LOGIN.into())
                    }
                    LoginFailure::WrongPassword => {
                        ("wrong password".into(), server::WRONG_LOGIN.into())
                    }
                    LoginFailure::Disabled => {
                        ("account disabled".into(), server::WRONG_LOGIN.into())
                    }
                };
                server::audit_best_effort(
                    &state.db,
                    AuditEntry::by(&auth, "auth.login", target).failed(reason),
                )
                .await;
                return Err(AppError::Refused(message));
            }
        };
        // A new session id at every login; the one the browser came with ends.
        if let Some(old) = &auth.session_hash {
            server::end_session(&state.db, old).await?;
        }
        let token =
            server::create_session(&state.db, account.id, &auth.client_addr, &state.auth).await?;
        server::send_cookie(&server::session_cookie(&token, &state.auth));
        let user = server::to_user(&account);
        let signed_in = server::RequestAuth {
            user: Some(user.clone()),
            ..auth.clone()
        };
        server::audit_best_effort(
            &state.db,
            AuditEntry::by(&signed_in, "auth.login", &user.username),
        )
        .await;
        Ok(user)
    }
    .await;
    server::with_status(result)
}

endpoint_access!(Logout, Access::Role(Role::Viewer));
/// Ends the caller's session and clears the cookie.
#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let auth = server::with_status(server::guard::<Logout>())?;
    let state = crate::state::AppState::from_context()?;
    if let Some(hash) = &auth.session_hash {
        server::end_session(&state.db, hash).await?;
    }
    server::send_cookie(&server::clearing_cookie(&state.auth));
    server::audit_best_effort(
        &state.db,
        server::AuditEntry::by(&auth, "auth.logout", auth.username()),
    )
    .await;
    Ok(())
}

endpoint_access!(Setup, Access::Public);
/// Creates the first admin with the one-time setup token, and signs in.
#[server(prefix = "/api", endpoint = "auth/setup")]
pub async fn setup(
    token: String,
    username: String,
    password: String,
    confirm: String,
) -> Result<CurrentUser, AppError> {
    let auth = server::guard::<Setup>()?;
    let state = crate::state::AppState::from_context()?;
    let result = async {
        if password != confirm {
            return Err(AppError::invalid("confirm", "The two passwords differ."));
        }
        let account = server::complete_setup(
            &state.db,
            &token,
            &username,
            &password,
            state.auth.hash_cost,
        )
        .await?;
        let session =
            server::create_session(&state.db, account.id, &auth.client_addr, &state.auth).await?;
        server::send_cookie(&server::session_cookie(&session, &state.auth));
        Ok(server::to_user(&account))
    }
    .await;
    // Once created, the new admin is the one who acted.
    let actor = server::RequestAuth {
        user: result.as_ref().ok().cloned(),
        ..auth.clone()
    };
    let entry = server::AuditEntry::by(&actor, "auth.setup", username.trim().to_ascii_lowercase())
        .outcome_of(&result)
        .summary("first admin account");
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result)
}

endpoint_access!(ChangePassword, Access::Role(Role::Viewer));
/// Changes the caller's own password (the current one is required) and ends
/// the account's other sessions.
#[server(prefix = "/api", endpoint = "auth/password")]
pub async fn change_password(
    current: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    let auth = server::with_status(server::guard::<ChangePassword>())?;
    let state = crate::state::AppState::from_context()?;
    let Some(user) = auth.user.clone() else {
        return server::with_status(Err(AppError::Unauthorized));
    };
    let result = async {
        let account = server::find_account(&state.db, user.id).await?;
        if !server::verify_password(account.password_hash, current).await {
            return Err(AppError::invalid(
                "current",
                "That is not your current password.",
            ));
        }
        if password != confirm {
            return Err(AppError::invalid("confirm", "The two passwords differ."));
        }
        server::set_password(
            &state.db,
            user.id,
            &password,
            "password",
            state.auth.hash_cost,
            auth.session_hash.as_deref(),
        )
        .await
    }
    .await;
    let entry = server::AuditEntry::by(&auth, "auth.password", &user.username)
        .outcome_of(&result)
        .summary("own password changed; other sessions ended");
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result)
}

endpoint_access!(ListUsers, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<AccountRow>, AppError> {
    use sea_orm::{EntityTrait, QueryOrder};
    server::with_status(server::guard::<ListUsers>())?;
    let state = crate::state::AppState::from_context()?;
    let rows = entities::account::Entity::find()
        .order_by_asc(entities::account::Column::Username)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|a| AccountRow {
            id: a.id,
            role: Role::parse(&a.role).unwrap_or(Role::Viewer),
            username: a.username,
            enabled: a.enabled,
            created_at: a.created_at,
        })
        .collect())
}

endpoint_access!(CreateUser, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<AccountRow, AppError> {
    let auth = server::with_status(server::guard::<CreateUser>())?;
    let state = crate::state::AppState::from_context()?;
    let result = async {
        let role = Role::parse(&role)
            .ok_or_else(|| AppError::invalid("role", "Choose admin, operator or viewer."))?;
        let a = server::create_account(&state.db, &username, &password, role, state.auth.hash_cost)
            .await?;
        Ok(AccountRow {
            id: a.id,
            username: a.username,
            role,
            enabled: a.enabled,
            created_at: a.created_at,
        })
    }
    .await;
    let summary = match &result {
        Ok(row) => format!("created with role {}", row.role),
        Err(_) => String::new(),
    };
    let entry = server::AuditEntry::by(&auth, "users.create", username.trim().to_ascii_lowercase())
        .outcome_of(&result)
        .summary(summary);
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result)
}

endpoint_access!(UpdateRole, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/role")]
pub async fn update_role(id: i32, role: String) -> Result<(), AppError> {
    let auth = server::with_status(server::guard::<UpdateRole>())?;
    let state = crate::state::AppState::from_context()?;
    let target = account_name(&state, id).await;
    let result = async {
        let role = Role::parse(&role)
            .ok_or_else(|| AppError::invalid("role", "Choose admin, operator or viewer."))?;
        server::set_role(&state.db, id, role).await
    }
    .await;
    let summary = match &result {
        Ok((before, after)) => format!("role {before} → {after}"),
        Err(_) => format!("role → {role}"),
    };
    let entry = server::AuditEntry::by(&auth, "users.role", target)
        .outcome_of(&result)
        .summary(summary);
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result.map(|_| ()))
}

endpoint_access!(UpdateEnabled, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/enabled")]
pub async fn update_enabled(id: i32, enabled: bool) -> Result<(), AppError> {
    let auth = server::with_status(server::guard::<UpdateEnabled>())?;
    let state = crate::state::AppState::from_context()?;
    let target = account_name(&state, id).await;
    let result = server::set_enabled(&state.db, id, enabled).await;
    let summary = match &result {
        Ok(before) => format!("enabled {before} → {enabled}"),
        Err(_) => format!("enabled → {enabled}"),
    };
    let entry = server::AuditEntry::by(&auth, "users.enabled", target)
        .outcome_of(&result)
        .summary(summary);
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result.map(|_| ()))
}

endpoint_access!(ResetPassword, Access::Role(Role::Admin));
#[server(prefix = "/api", endpoint = "users/password")]
pub async fn reset_password(id: i32, password: String) -> Result<(), AppError> {
    let auth = server::with_status(server::guard::<ResetPassword>())?;
    let state = crate::state::AppState::from_context()?;
    let target = account_name(&state, id).await;
    let result = server::set_password(
        &state.db,
        id,
        &password,
        "password",
        state.auth.hash_cost,
        None,
    )
    .await;
    let entry = server::AuditEntry::by(&auth, "users.password", target)
        .outcome_of(&result)
        .summary("password reset; the account's sessions ended");
    server::audit_best_effort(&state.db, entry).await;
    server::with_status(result)
}

#[cfg(feature = "ssr")]
async fn account_name(state: &crate::state::AppState, id: i32) -> String {
    server::find_account(&state.db, id)
        .await
        .map(|a| a.username)
        .unwrap_or_else(|_| format!("account {id}"))
}

endpoint_access!(ListAudit, Access::Role(Role::Operator));
/// The newest 500 audit lines matching the filter.
#[server(prefix = "/api", endpoint = "audit/list")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditRow>, AppError> {
    use entities::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    server::with_status(server::guard::<ListAudit>())?;
    let state = crate::state::AppState::from_context()?;
    let mut query = audit_log::Entity::find();
    if !filter.user.trim().is_empty() {
        query = query.filter(audit_log::Column::Username.contains(filter.user.trim()));
    }
    if !filter.action.trim().is_empty() {
        query = query.filter(audit_log::Column::Action.contains(filter.action.trim()));
    }
    if !filter.target.trim().is_empty() {
        query = query.filter(audit_log::Column::Target.contains(filter.target.trim()));
    }
    if !filter.from.trim().is_empty() {
        let from = parse_time("from", &filter.from, false);
        query = query.filter(audit_log::Column::At.gte(server::with_status(from)?));
    }
    if !filter.until.trim().is_empty() {
        let until = parse_time("until", &filter.until, true);
        query = query.filter(audit_log::Column::At.lte(server::with_status(until)?));
    }
    let rows = query
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(server::audit_row).collect())
}

/// A filter time: a date (the whole day, for `end_of_day`) or a date and time, UTC.
pub fn parse_time(
    field: &str,
    input: &str,
    end_of_day: bool,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
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
    Err(AppError::invalid(
        field,
        format!("{s:?} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."),
    ))
}
