//! Accounts, passwords, sessions, login throttling, the setup token and the
//! audit log: the rules of `auth`, over the tables in [`super::store`].
//!
//! The HTTP middleware in the `stackyard` crate resolves the session
//! ([`resolve_session`]) and enforces the declared access before any server
//! function runs; the functions here do the rest. Login and setup write
//! their own audit lines, because the one who acted is known only inside
//! (the account just signed in, the admin just created) and a refused login
//! keeps its real reason there while the browser sees one message.
//!
//! Here: passwords and accounts; `session`: sessions, cookies, logins and
//! the setup token; `audit`: the audit log's lines. All are re-exported
//! here, so callers name `service::…` only.

use super::entity::account;
use super::{store, CurrentUser, DomainError, Role};
use crate::error::Invalid;
use leptos::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use std::sync::OnceLock;

mod audit;
mod session;
mod throttle;
pub use audit::*;
pub use session::*;
pub use throttle::*;

pub const SESSION_COOKIE: &str = "stackyard_session";
/// The cookie's name when it is `Secure` (see [`AuthConfig::cookie_name`]).
pub const SECURE_SESSION_COOKIE: &str = "__Host-stackyard_session";
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The one message for every failed login, whatever the reason.
pub const WRONG_LOGIN: &str = "Wrong name or password.";
/// How stale `last_seen_at` may get before a request refreshes it: one write
/// a minute per session instead of one per request.
pub(super) const LAST_SEEN_GRANULARITY: chrono::Duration = chrono::Duration::seconds(60);
/// How many lines the audit page shows at most.
pub(super) const AUDIT_PAGE_LINES: u64 = 500;

/// Argon2id cost. Production follows OWASP's minimum (19 MiB, 2 passes);
/// tests use the cheapest legal parameters so suites stay fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl HashCost {
    pub const PRODUCTION: HashCost = HashCost {
        memory_kib: 19 * 1024,
        passes: 2,
        lanes: 1,
    };
    pub const TESTING: HashCost = HashCost {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };
}

/// Session and login settings, fixed at start.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// A session unused this long ends.
    pub idle_timeout: chrono::Duration,
    /// A session ends this long after login, used or not.
    pub lifetime: chrono::Duration,
    /// Mark the cookie `Secure` (served over https, or behind a TLS proxy).
    pub secure_cookies: bool,
    pub hash_cost: HashCost,
    /// The origin browsers see (`https://console.example.org`); when unset,
    /// requests must come from the origin of their own `Host` header.
    pub public_origin: Option<String>,
    /// One login check per name and address, and the bound on Argon2 work.
    pub logins: std::sync::Arc<LoginGate>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl AuthConfig {
    /// The session cookie's name: with `Secure`, the `__Host-` prefix makes
    /// browsers refuse it unless it is `Secure`, for this host only and for
    /// every path, so no other site or subdomain can plant one.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle_timeout: chrono::Duration::hours(1),
            lifetime: chrono::Duration::hours(12),
            secure_cookies: false,
            hash_cost: HashCost::PRODUCTION,
            public_origin: None,
            logins: std::sync::Arc::new(LoginGate::per_core()),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Who is calling, as the middleware found it; placed in the request's
/// extensions, so server functions and pages read it from the context.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth {
    pub user: Option<CurrentUser>,
    /// The hash of the session the request came with.
    pub session_hash: Option<String>,
    pub client_addr: String,
}

impl RequestAuth {
    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn username(&self) -> &str {
        self.user.as_ref().map_or("-", |u| u.username.as_str())
    }

    /// The same request, made by `user` (who just signed in).
    pub(super) fn as_user(&self, user: &CurrentUser) -> RequestAuth {
        RequestAuth {
            user: Some(user.clone()),
            ..self.clone()
        }
    }
}

/// The caller of the current request (anonymous when there is none).
pub fn request_auth() -> RequestAuth {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestAuth>().cloned())
        .unwrap_or_else(|| RequestAuth {
            client_addr: "unknown".into(),
            ..RequestAuth::default()
        })
}

// --- passwords -----------------------------------------------------------------

/// The password rules, checked on the server (the form's hints are courtesy).
pub fn check_new_password(field: &str, password: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Invalid::new(
            field,
            format!("Use at least {MIN_PASSWORD_CHARS} characters; this one has {chars}."),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Invalid::new(
            field,
            format!("Use at most {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    Ok(())
}

impl From<HashCost> for crate::secret::Cost {
    fn from(c: HashCost) -> Self {
        Self {
            memory_kib: c.memory_kib,
            passes: c.passes,
            lanes: c.lanes,
        }
    }
}

/// An Argon2id PHC string, computed off the async runtime.
pub async fn hash_password(password: String, cost: HashCost) -> Result<String, DomainError> {
    tokio::task::spawn_blocking(move || crate::secret::hash_password(&password, cost.into()))
        .await
        .map_err(|e| {
            tracing::error!("hashing task: {e}");
            DomainError::Hashing
        })?
        .map_err(|e| {
            tracing::error!("argon2: {e}");
            DomainError::Hashing
        })
}

/// Whether `password` matches the PHC string, computed off the runtime.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || crate::secret::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so an unknown
/// name costs as much time as a wrong password.
pub(super) async fn dummy_hash(cost: HashCost) -> String {
    static DUMMY: OnceLock<(HashCost, String)> = OnceLock::new();
    if let Some((c, h)) = DUMMY.get() {
        if *c == cost {
            return h.clone();
        }
    }
    let hash = hash_password("dummy password for timing".into(), cost)
        .await
        .unwrap_or_default();
    let _ = DUMMY.set((cost, hash.clone()));
    hash
}

// --- accounts ------------------------------------------------------------------

/// Names are lowercase ASCII letters, digits, `.`, `_` and `-`, 1 to 64
/// long, so they read the same in logs, mail and the shell.
pub fn normalize_username(field: &str, input: &str) -> Result<String, Invalid> {
    let name = input.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(Invalid::new(field, "Enter a name."));
    }
    if name.len() > 64 {
        return Err(Invalid::new(field, "Use at most 64 characters."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(Invalid::new(
            field,
            format!("{bad:?} is not allowed: use letters, digits, '.', '_' and '-'."),
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Invalid::new(
            field,
            "Start the name with a letter or a digit.",
        ));
    }
    Ok(name)
}

/// A role from a form's `role` field.
pub fn parse_role(input: &str) -> Result<Role, Invalid> {
    Role::parse(input).ok_or_else(|| Invalid::new("role", "Choose admin, operator or viewer."))
}

pub fn to_user(model: &account::Model) -> CurrentUser {
    CurrentUser {
        id: model.id,
        username: model.username.clone(),
        role: Role::parse(&model.role).unwrap_or(Role::Viewer),
    }
}

fn to_row(a: account::Model) -> super::AccountRow {
    super::AccountRow {
        id: a.id,
        role: Role::parse(&a.role).unwrap_or(Role::Viewer),
        username: a.username,
        enabled: a.enabled,
        created_at: a.created_at.into(),
    }
}

pub async fn account_count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    store::account_count(db).await
}

/// Every account, by name (never a password hash).
pub async fn list_users(db: &DatabaseConnection) -> Result<Vec<super::AccountRow>, DomainError> {
    Ok(store::accounts(db).await?.into_iter().map(to_row).collect())
}

/// The users page's new account, as the form sends it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub role: String,
}

/// Creates an account from the users page; the role is checked first, then
/// the name and the password.
pub async fn create_user(
    db: &DatabaseConnection,
    form: NewAccount,
    cost: HashCost,
) -> Result<super::AccountRow, DomainError> {
    let role = parse_role(&form.role)?;
    let account = create_account(db, &form.username, &form.password, role, cost).await?;
    Ok(to_row(account))
}

/// Creates an account after checking the name and the password rules.
pub async fn create_account<C: ConnectionTrait>(
    db: &C,
    username: &str,
    password: &str,
    role: Role,
    cost: HashCost,
) -> Result<account::Model, DomainError> {
    let username = normalize_username("username", username)?;
    check_new_password("password", password)?;
    if store::account_by_name(db, &username).await?.is_some() {
        return Err(Invalid::new("username", format!("The name {username:?} is taken.")).into());
    }
    let hash = hash_password(password.to_owned(), cost).await?;
    Ok(store::insert_account(db, username, hash, role).await?)
}

pub async fn find_account<C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<account::Model, DomainError> {
    store::find_account(db, id).await
}

/// Changes an account's role; returns (before, after) for the audit log.
/// The last enabled admin may not be demoted, or nobody could manage
/// accounts any more.
pub async fn set_role(
    db: &DatabaseConnection,
    id: i32,
    role: Role,
) -> Result<(Role, Role), DomainError> {
    let txn = db.begin().await?;
    let model = store::find_account(&txn, id).await?;
    let before = to_user(&model).role;
    if before == Role::Admin
        && role != Role::Admin
        && model.enabled
        && store::other_enabled_admins(&txn, id).await? == 0
    {
        return Err(DomainError::LastAdminDemoted(model.username));
    }
    store::update_account(&txn, model, |a| {
        a.role = sea_orm::Set(role.as_str().to_owned())
    })
    .await?;
    txn.commit().await?;
    Ok((before, role))
}

/// Enables or disables an account; disabling ends all its sessions, and
/// the last enabled admin stays enabled.
pub async fn set_enabled(
    db: &DatabaseConnection,
    id: i32,
    enabled: bool,
) -> Result<bool, DomainError> {
    let txn = db.begin().await?;
    let model = store::find_account(&txn, id).await?;
    let before = model.enabled;
    if !enabled
        && model.enabled
        && model.role == Role::Admin.as_str()
        && store::other_enabled_admins(&txn, id).await? == 0
    {
        return Err(DomainError::LastAdminDisabled(model.username));
    }
    store::update_account(&txn, model, |a| a.enabled = sea_orm::Set(enabled)).await?;
    if !enabled {
        store::end_sessions_of(&txn, id, None).await?;
    }
    txn.commit().await?;
    Ok(before)
}

/// Replaces an account's password (`field` names the form's input) and ends
/// its sessions except `keep`.
pub async fn set_password(
    db: &DatabaseConnection,
    id: i32,
    password: &str,
    field: &str,
    cost: HashCost,
    keep: Option<&str>,
) -> Result<(), DomainError> {
    check_new_password(field, password)?;
    let hash = hash_password(password.to_owned(), cost).await?;
    let txn = db.begin().await?;
    let model = store::find_account(&txn, id).await?;
    store::update_account(&txn, model, |a| a.password_hash = sea_orm::Set(hash)).await?;
    store::end_sessions_of(&txn, id, keep).await?;
    txn.commit().await?;
    Ok(())
}

/// The profile page's password change, as the form sends it.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current: String,
    pub password: String,
    pub confirm: String,
}

/// Changes the caller's own password (the current one is required) and
/// ends the account's other sessions.
pub async fn change_password(
    db: &DatabaseConnection,
    cost: HashCost,
    caller: &RequestAuth,
    form: PasswordChange,
) -> Result<(), DomainError> {
    let user = caller.user.as_ref().ok_or(DomainError::SignedOut)?;
    let account = store::find_account(db, user.id).await?;
    if !verify_password(account.password_hash, form.current).await {
        return Err(Invalid::new("current", "That is not your current password.").into());
    }
    if form.password != form.confirm {
        return Err(Invalid::new("confirm", "The two passwords differ.").into());
    }
    set_password(
        db,
        user.id,
        &form.password,
        "password",
        cost,
        caller.session_hash.as_deref(),
    )
    .await
}
