//! Accounts, passwords, sessions, login throttling, the setup token and the
//! audit log: the server half of `auth`. Server functions stay thin and call
//! into here; the HTTP middleware in the `stackyard` crate resolves the
//! session and enforces the declared access before any of them runs.

use super::{
    entities::{account, audit_log, login_attempt, session, setting},
    policy::{self, Decision, Role},
    CurrentUser,
};
use crate::error::{AppError, AppResult};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use rand::RngCore as _;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "stackyard_session";
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The one message for every failed login, whatever the reason.
pub const WRONG_LOGIN: &str = "Wrong name or password.";
const SETUP_TOKEN_KEY: &str = "setup_token_sha256";
const THROTTLE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
const THROTTLE_FREE_FAILURES: u64 = 5;
const THROTTLE_MAX_DELAY_SECS: i64 = 15 * 60;
/// How stale `last_seen_at` may get before a request refreshes it: one write
/// a minute per session instead of one per request.
const LAST_SEEN_GRANULARITY: chrono::Duration = chrono::Duration::seconds(60);

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
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle_timeout: chrono::Duration::hours(1),
            lifetime: chrono::Duration::hours(12),
            secure_cookies: false,
            hash_cost: HashCost::PRODUCTION,
            public_origin: None,
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

/// Checks the calling server function's declared access against the caller,
/// in the function itself (calls made during server rendering never pass
/// through the HTTP middleware). Start every server function with it.
pub fn guard<T: leptos::server_fn::ServerFn>() -> AppResult<RequestAuth> {
    let auth = request_auth();
    let Some(access) = policy::endpoint(T::PATH) else {
        return Err(AppError::Forbidden(format!(
            "{} has no access rule and is refused.",
            T::PATH
        )));
    };
    match access.decide(auth.role()) {
        Decision::Allow => Ok(auth),
        Decision::SignIn => Err(AppError::Unauthorized),
        Decision::Deny => Err(AppError::Forbidden(
            "Your role does not allow this.".to_owned(),
        )),
    }
}

/// Sets the response status for a server function's error, so scripts see
/// 401/403/422 rather than a blanket 500.
pub fn with_status<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(err) = &result {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(err.status());
        }
    }
    result
}

// --- passwords ---------------------------------------------------------------

/// The password rules, checked on the server (the form's hints are courtesy).
pub fn check_new_password(field: &str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            field,
            format!("Use at least {MIN_PASSWORD_CHARS} characters; this one has {chars}."),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid(
            field,
            format!("Use at most {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    Ok(())
}

fn hasher(cost: HashCost) -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An Argon2id PHC string, computed off the async runtime.
pub async fn hash_password(password: String, cost: HashCost) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher(cost)
            .and_then(|h| {
                h.hash_password(password.as_bytes(), &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|_| argon2::Error::AlgorithmInvalid)
            })
            .map_err(|e| {
                tracing::error!("argon2: {e}");
                AppError::Failed("The password could not be hashed.".into())
            })
    })
    .await
    .map_err(|e| {
        tracing::error!("hashing task: {e}");
        AppError::Failed("The password could not be hashed.".into())
    })?
}

/// Whether `password` matches the PHC string, computed off the runtime.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so an unknown
/// name costs as much time as a wrong password.
async fn dummy_hash(cost: HashCost) -> String {
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

// --- accounts ----------------------------------------------------------------

/// Names are lowercase ASCII letters, digits, `.`, `_` and `-`, 1 to 64
/// long, so they read the same in logs, mail and the shell.
pub fn normalize_username(field: &str, input: &str) -> AppResult<String> {
    let name = input.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(AppError::invalid(field, "Enter a name."));
    }
    if name.len() > 64 {
        return Err(AppError::invalid(field, "Use at most 64 characters."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(AppError::invalid(
            field,
            format!("{bad:?} is not allowed: use letters, digits, '.', '_' and '-'."),
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(
            field,
            "Start the name with a letter or a digit.",
        ));
    }
    Ok(name)
}

pub fn to_user(model: &account::Model) -> CurrentUser {
    CurrentUser {
        id: model.id,
        username: model.username.clone(),
        role: Role::parse(&model.role).unwrap_or(Role::Viewer),
    }
}

pub async fn account_count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    account::Entity::find().count(db).await
}

/// Creates an account after checking the name and the password rules.
pub async fn create_account<C: ConnectionTrait>(
    db: &C,
    username: &str,
    password: &str,
    role: Role,
    cost: HashCost,
) -> AppResult<account::Model> {
    let username = normalize_username("username", username)?;
    check_new_password("password", password)?;
    if account::Entity::find()
        .filter(account::Column::Username.eq(&username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "username",
            format!("The name {username:?} is taken."),
        ));
    }
    let hash = hash_password(password.to_owned(), cost).await?;
    let now = Utc::now();
    let model = account::ActiveModel {
        username: Set(username),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model)
}

pub async fn find_account<C: ConnectionTrait>(db: &C, id: i32) -> AppResult<account::Model> {
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Account {id}")))
}

/// Enabled admins other than `except`: the last one may be neither disabled
/// nor demoted, or nobody could manage accounts any more.
async fn other_enabled_admins<C: ConnectionTrait>(db: &C, except: i32) -> Result<u64, DbErr> {
    account::Entity::find()
        .filter(account::Column::Role.eq(Role::Admin.as_str()))
        .filter(account::Column::Enabled.eq(true))
        .filter(account::Column::Id.ne(except))
        .count(db)
        .await
}

/// Changes an account's role; returns (before, after) for the audit log.
pub async fn set_role(db: &DatabaseConnection, id: i32, role: Role) -> AppResult<(Role, Role)> {
    let txn = db.begin().await?;
    let model = find_account(&txn, id).await?;
    let before = to_user(&model).role;
    if before == Role::Admin
        && role != Role::Admin
        && model.enabled
        && other_enabled_admins(&txn, id).await? == 0
    {
        return Err(AppError::Refused(format!(
            "{} is the last enabled admin; make another account admin first.",
            model.username
        )));
    }
    let mut active: account::ActiveModel = model.into();
    active.role = Set(role.as_str().to_owned());
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    txn.commit().await?;
    Ok((before, role))
}

/// Enables or disables an account; disabling ends all its sessions.
pub async fn set_enabled(db: &DatabaseConnection, id: i32, enabled: bool) -> AppResult<bool> {
    let txn = db.begin().await?;
    let model = find_account(&txn, id).await?;
    let before = model.enabled;
    if !enabled
        && model.enabled
        && model.role == Role::Admin.as_str()
        && other_enabled_admins(&txn, id).await? == 0
    {
        return Err(AppError::Refused(format!(
            "{} is the last enabled admin and cannot be disabled.",
            model.username
        )));
    }
    let mut active: account::ActiveModel = model.into();
    active.enabled = Set(enabled);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    if !enabled {
        end_sessions_of(&txn, id, None).await?;
    }
    txn.commit().await?;
    Ok(before)
}

/// Replaces an account's password and ends its sessions except `keep`.
pub async fn set_password(
    db: &DatabaseConnection,
    id: i32,
    password: &str,
    field: &str,
    cost: HashCost,
    keep: Option<&str>,
) -> AppResult<()> {
    check_new_password(field, password)?;
    let hash = hash_password(password.to_owned(), cost).await?;
    let txn = db.begin().await?;
    let model = find_account(&txn, id).await?;
    let mut active: account::ActiveModel = model.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    end_sessions_of(&txn, id, keep).await?;
    txn.commit().await?;
    Ok(())
}

// --- sessions ----------------------------------------------------------------

/// 256 random bits, URL-safe: the cookie's value.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a session; returns the token for the cookie.
pub async fn create_session<C: ConnectionTrait>(
    db: &C,
    account_id: i32,
    client_addr: &str,
    config: &AuthConfig,
) -> Result<String, DbErr> {
    let token = new_token();
    let now = Utc::now();
    session::ActiveModel {
        id_hash: Set(token_hash(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + config.lifetime),
        client_addr: Set(client_addr.chars().take(64).collect()),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The account behind a session token, if the session is alive: not past
/// its lifetime, not idle too long, and its account enabled.
pub async fn resolve_session(
    db: &DatabaseConnection,
    token: &str,
    config: &AuthConfig,
    now: DateTime<Utc>,
) -> Result<Option<(CurrentUser, String)>, DbErr> {
    let hash = token_hash(token);
    let Some(found) = session::Entity::find_by_id(hash.clone()).one(db).await? else {
        return Ok(None);
    };
    let expired = now >= found.expires_at || now - found.last_seen_at >= config.idle_timeout;
    let account = account::Entity::find_by_id(found.account_id)
        .one(db)
        .await?;
    let Some(account) = account.filter(|a| a.enabled && !expired) else {
        session::Entity::delete_by_id(hash).exec(db).await?;
        return Ok(None);
    };
    if now - found.last_seen_at >= LAST_SEEN_GRANULARITY {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::IdHash.eq(&hash))
            .exec(db)
            .await?;
    }
    Ok(Some((to_user(&account), hash)))
}

pub async fn end_session<C: ConnectionTrait>(db: &C, hash: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(hash.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends every session of an account, except `keep` (the caller's own).
pub async fn end_sessions_of<C: ConnectionTrait>(
    db: &C,
    account_id: i32,
    keep: Option<&str>,
) -> Result<u64, DbErr> {
    let mut query =
        session::Entity::delete_many().filter(session::Column::AccountId.eq(account_id));
    if let Some(keep) = keep {
        query = query.filter(session::Column::IdHash.ne(keep));
    }
    Ok(query.exec(db).await?.rows_affected)
}

/// The `Set-Cookie` value for a new session. The only place cookies are built.
pub fn session_cookie(token: &str, config: &AuthConfig) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        config.lifetime.num_seconds(),
        if config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(config: &AuthConfig) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// Adds a `Set-Cookie` header (built by [`session_cookie`] or
/// [`clearing_cookie`]) to the current server function's response.
pub fn send_cookie(value: &str) {
    if let (Some(response), Ok(cookie)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
}

/// The session token in a request's `Cookie` headers.
pub fn token_from_headers(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

// --- login -------------------------------------------------------------------

/// Seconds to wait before the next attempt, when this name or this address
/// has failed too often: after 5 failures within 15 minutes, 30 s, doubling
/// with every further failure (refused attempts count), up to 15 minutes.
pub async fn throttle_delay(
    db: &DatabaseConnection,
    username: &str,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut wait = None;
    for (column, value) in [
        (login_attempt::Column::Username, username),
        (login_attempt::Column::ClientAddr, client_addr),
    ] {
        // Failures since the last success by the same name (or address).
        let last_success = login_attempt::Entity::find()
            .filter(column.eq(value))
            .filter(login_attempt::Column::Success.eq(true))
            .filter(login_attempt::Column::At.gt(now - THROTTLE_WINDOW))
            .order_by_desc(login_attempt::Column::At)
            .one(db)
            .await?
            .map(|a| a.at);
        let since = last_success.unwrap_or(now - THROTTLE_WINDOW);
        let failures = login_attempt::Entity::find()
            .filter(column.eq(value))
            .filter(login_attempt::Column::Success.eq(false))
            .filter(login_attempt::Column::At.gt(since))
            .order_by_desc(login_attempt::Column::At)
            .limit(64)
            .all(db)
            .await?;
        let count = failures.len() as u64;
        if count < THROTTLE_FREE_FAILURES {
            continue;
        }
        let Some(last) = failures.first().map(|a| a.at) else {
            continue;
        };
        let doublings = (count - THROTTLE_FREE_FAILURES).min(10) as u32;
        let delay = (30i64 << doublings).min(THROTTLE_MAX_DELAY_SECS);
        let remaining = (last + chrono::Duration::seconds(delay) - now).num_seconds();
        if remaining > 0 {
            wait = Some(wait.map_or(remaining, |w: i64| w.max(remaining)));
        }
    }
    Ok(wait)
}

pub async fn record_attempt(
    db: &DatabaseConnection,
    username: &str,
    client_addr: &str,
    success: bool,
) -> Result<(), DbErr> {
    login_attempt::ActiveModel {
        username: Set(username.chars().take(64).collect()),
        client_addr: Set(client_addr.chars().take(64).collect()),
        success: Set(success),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // Old attempts say nothing any more.
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::At.lt(Utc::now() - chrono::Duration::days(1)))
        .exec(db)
        .await?;
    Ok(())
}

/// Why a login failed: the browser only ever sees [`WRONG_LOGIN`] or the
/// throttle message; the audit log keeps the real reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    Throttled(i64),
    UnknownName,
    WrongPassword,
    Disabled,
}

/// Checks a name and password; constant work whether the name exists or not.
pub async fn authenticate(
    db: &DatabaseConnection,
    config: &AuthConfig,
    username: &str,
    password: &str,
    client_addr: &str,
) -> Result<Result<account::Model, LoginFailure>, DbErr> {
    let name = username.trim().to_ascii_lowercase();
    if let Some(wait) = throttle_delay(db, &name, client_addr, Utc::now()).await? {
        record_attempt(db, &name, client_addr, false).await?;
        return Ok(Err(LoginFailure::Throttled(wait)));
    }
    let found = account::Entity::find()
        .filter(account::Column::Username.eq(&name))
        .one(db)
        .await?;
    let hash = match &found {
        Some(a) => a.password_hash.clone(),
        None => dummy_hash(config.hash_cost).await,
    };
    let matches = verify_password(hash, password.to_owned()).await;
    let outcome = match found {
        None => Err(LoginFailure::UnknownName),
        Some(_) if !matches => Err(LoginFailure::WrongPassword),
        Some(a) if !a.enabled => Err(LoginFailure::Disabled),
        Some(a) => Ok(a),
    };
    record_attempt(db, &name, client_addr, outcome.is_ok()).await?;
    Ok(outcome)
}

// --- first start -------------------------------------------------------------

/// With no account yet, makes a fresh one-time setup token (valid until an
/// admin is created with it) and returns it; otherwise `None`.
pub async fn issue_setup_token(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if account_count(db).await? > 0 {
        setting::Entity::delete_by_id(SETUP_TOKEN_KEY.to_owned())
            .exec(db)
            .await?;
        return Ok(None);
    }
    let token = new_token();
    let row = setting::ActiveModel {
        key: Set(SETUP_TOKEN_KEY.to_owned()),
        value: Set(token_hash(&token)),
        updated_at: Set(Utc::now()),
    };
    setting::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(Some(token))
}

/// Creates the first admin with the setup token, in one transaction: the
/// token is gone once used, and only works while there is no account.
pub async fn complete_setup(
    db: &DatabaseConnection,
    token: &str,
    username: &str,
    password: &str,
    cost: HashCost,
) -> AppResult<account::Model> {
    let txn = db.begin().await?;
    let stored = setting::Entity::find_by_id(SETUP_TOKEN_KEY.to_owned())
        .one(&txn)
        .await?;
    let valid = stored.is_some_and(|s| s.value == token_hash(token));
    if !valid || account_count_in(&txn).await? > 0 {
        return Err(AppError::Refused(
            "This setup link is not valid any more. Sign in, or restart Stackyard with no account to get a new one.".into(),
        ));
    }
    let model = create_account(&txn, username, password, Role::Admin, cost).await?;
    setting::Entity::delete_by_id(SETUP_TOKEN_KEY.to_owned())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(model)
}

async fn account_count_in<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    account::Entity::find().count(db).await
}

// --- audit -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub account_id: Option<i32>,
    pub username: String,
    pub client_addr: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub reason: String,
    pub summary: String,
}

impl AuditEntry {
    /// An entry for the caller of the current request.
    pub fn by(auth: &RequestAuth, action: &str, target: impl Into<String>) -> Self {
        Self {
            account_id: auth.user.as_ref().map(|u| u.id),
            username: auth.username().to_owned(),
            client_addr: auth.client_addr.clone(),
            action: action.to_owned(),
            target: target.into(),
            outcome: Outcome::Success,
            reason: String::new(),
            summary: String::new(),
        }
    }

    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }

    /// The outcome taken from a result: failures keep their message.
    pub fn outcome_of<T>(mut self, result: &AppResult<T>) -> Self {
        match result {
            Ok(_) => self.outcome = Outcome::Success,
            Err(e @ (AppError::Unauthorized | AppError::Forbidden(_))) => {
                self.outcome = Outcome::Denied;
                self.reason = e.to_string();
            }
            Err(e) => {
                self.outcome = Outcome::Failed;
                self.reason = e.to_string();
            }
        }
        self
    }

    pub fn denied(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Denied;
        self.reason = reason.into();
        self
    }

    pub fn failed(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Failed;
        self.reason = reason.into();
        self
    }
}

/// Appends to the audit log. The application only ever inserts here.
pub async fn audit<C: ConnectionTrait>(db: &C, entry: AuditEntry) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        account_id: Set(entry.account_id),
        username: Set(entry.username.chars().take(64).collect()),
        client_addr: Set(entry.client_addr.chars().take(64).collect()),
        action: Set(entry.action.chars().take(64).collect()),
        target: Set(entry.target.chars().take(255).collect()),
        outcome: Set(entry.outcome.as_str().to_owned()),
        reason: Set(entry.reason),
        summary: Set(entry.summary),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// [`audit`], logging rather than failing when the log itself cannot be
/// written (the action has happened either way).
pub async fn audit_best_effort(db: &DatabaseConnection, entry: AuditEntry) {
    if let Err(e) = audit(db, entry).await {
        tracing::error!("audit log write failed: {e}");
    }
}

/// An audit line as pages show it.
pub fn audit_row(r: audit_log::Model) -> super::AuditRow {
    super::AuditRow {
        id: r.id,
        at: r.at,
        username: r.username,
        client_addr: r.client_addr,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        reason: r.reason,
        summary: r.summary,
    }
}

/// The newest `limit` audit lines, newest first (the dashboard's recent
/// changes; the audit page filters with [`super::list_audit`]).
pub async fn recent_audit<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> AppResult<Vec<super::AuditRow>> {
    Ok(audit_log::Entity::find()
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(audit_row)
        .collect())
}
