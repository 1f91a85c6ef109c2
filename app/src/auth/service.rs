//! Accounts, passwords, sessions, login throttling, the setup token and the
//! audit log: the rules of `auth`, over the tables in [`super::store`].
//!
//! The HTTP middleware in the `stackyard` crate resolves the session
//! ([`resolve_session`]) and enforces the declared access before any server
//! function runs; the functions here do the rest. Login and setup write
//! their own audit lines, because the one who acted is known only inside
//! (the account just signed in, the admin just created) and a refused login
//! keeps its real reason there while the browser sees one message.

use super::entity::account;
use super::{store, AuditFilter, AuditRow, CurrentUser, DomainError, Role};
use crate::error::{AppError, AppResult, Invalid};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use rand::RngCore as _;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "stackyard_session";
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The one message for every failed login, whatever the reason.
pub const WRONG_LOGIN: &str = "Wrong name or password.";
const THROTTLE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
const THROTTLE_FREE_FAILURES: u64 = 5;
const THROTTLE_MAX_DELAY_SECS: i64 = 15 * 60;
/// How stale `last_seen_at` may get before a request refreshes it: one write
/// a minute per session instead of one per request.
const LAST_SEEN_GRANULARITY: chrono::Duration = chrono::Duration::seconds(60);
/// How many lines the audit page shows at most.
const AUDIT_PAGE_LINES: u64 = 500;

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

    /// The same request, made by `user` (who just signed in).
    fn as_user(&self, user: &CurrentUser) -> RequestAuth {
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

fn hasher(cost: HashCost) -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An Argon2id PHC string, computed off the async runtime.
pub async fn hash_password(password: String, cost: HashCost) -> Result<String, DomainError> {
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
                DomainError::Hashing
            })
    })
    .await
    .map_err(|e| {
        tracing::error!("hashing task: {e}");
        DomainError::Hashing
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
        created_at: a.created_at,
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

// --- sessions ------------------------------------------------------------------

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
    store::insert_session(
        db,
        token_hash(&token),
        account_id,
        client_addr,
        now,
        now + config.lifetime,
    )
    .await?;
    Ok(token)
}

/// The account behind a session token, if the session is alive: not past
/// its lifetime, not idle too long, and its account enabled.
pub async fn resolve_session<C: ConnectionTrait>(
    db: &C,
    token: &str,
    config: &AuthConfig,
    now: DateTime<Utc>,
) -> Result<Option<(CurrentUser, String)>, DbErr> {
    let hash = token_hash(token);
    let Some(found) = store::find_session(db, &hash).await? else {
        return Ok(None);
    };
    let expired = now >= found.expires_at || now - found.last_seen_at >= config.idle_timeout;
    let account = match store::find_account(db, found.account_id).await {
        Ok(account) => Some(account),
        Err(DomainError::Database(e)) => return Err(e),
        Err(_) => None,
    };
    let Some(account) = account.filter(|a| a.enabled && !expired) else {
        store::end_session(db, &hash).await?;
        return Ok(None);
    };
    if now - found.last_seen_at >= LAST_SEEN_GRANULARITY {
        store::touch_session(db, &hash, now).await?;
    }
    Ok(Some((to_user(&account), hash)))
}

pub use store::{end_session, end_sessions_of};

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

/// A session just started: the account, and the token for its cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: CurrentUser,
    pub token: String,
}

/// Ends the caller's session; the cookie is the server function's to clear.
pub async fn logout(db: &DatabaseConnection, caller: &RequestAuth) -> Result<(), DomainError> {
    if let Some(hash) = &caller.session_hash {
        store::end_session(db, hash).await?;
    }
    Ok(())
}

// --- login ---------------------------------------------------------------------

/// Seconds to wait before the next attempt, when this name or this address
/// has failed too often: after 5 failures within 15 minutes, 30 s, doubling
/// with every further failure (refused attempts count), up to 15 minutes.
pub async fn throttle_delay<C: ConnectionTrait>(
    db: &C,
    username: &str,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut wait = None;
    for (by, value) in [
        (store::AttemptsBy::Username, username),
        (store::AttemptsBy::ClientAddr, client_addr),
    ] {
        // Failures since the last success by the same name (or address).
        let window = now - THROTTLE_WINDOW;
        let since = store::last_success(db, by, value, window)
            .await?
            .unwrap_or(window);
        let failures = store::failures_since(db, by, value, since, 64).await?;
        let count = failures.len() as u64;
        if count < THROTTLE_FREE_FAILURES {
            continue;
        }
        let Some(last) = failures.first() else {
            continue;
        };
        let doublings = (count - THROTTLE_FREE_FAILURES).min(10) as u32;
        let delay = (30i64 << doublings).min(THROTTLE_MAX_DELAY_SECS);
        let remaining = (*last + chrono::Duration::seconds(delay) - now).num_seconds();
        if remaining > 0 {
            wait = Some(wait.map_or(remaining, |w: i64| w.max(remaining)));
        }
    }
    Ok(wait)
}

pub use store::record_attempt;

/// Why a login failed. The browser only ever sees the message ([`WRONG_LOGIN`]
/// or the throttle's); the audit log keeps the [`reason`](LoginFailure::reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    #[error("Too many failed logins. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("Wrong name or password.")]
    UnknownName,
    #[error("Wrong name or password.")]
    WrongPassword,
    #[error("Wrong name or password.")]
    Disabled,
}

impl LoginFailure {
    /// The real reason, for the audit log.
    pub fn reason(&self) -> &'static str {
        match self {
            LoginFailure::Throttled(_) => "throttled",
            LoginFailure::UnknownName => "unknown name",
            LoginFailure::WrongPassword => "wrong password",
            LoginFailure::Disabled => "account disabled",
        }
    }
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
        store::record_attempt(db, &name, client_addr, false).await?;
        return Ok(Err(LoginFailure::Throttled(wait)));
    }
    let found = store::account_by_name(db, &name).await?;
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
    store::record_attempt(db, &name, client_addr, outcome.is_ok()).await?;
    Ok(outcome)
}

/// Signs in: a new session every time (the one the browser came with
/// ends), and an audit line either way, a refusal with its real reason.
pub async fn login(
    db: &DatabaseConnection,
    config: &AuthConfig,
    caller: &RequestAuth,
    username: &str,
    password: &str,
) -> Result<SignedIn, DomainError> {
    let outcome = authenticate(db, config, username, password, &caller.client_addr).await?;
    let account = match outcome {
        Ok(account) => account,
        Err(failure) => {
            let target = username.trim().to_ascii_lowercase();
            let entry = AuditEntry::by(caller, "auth.login", target).failed(failure.reason());
            audit_best_effort(db, entry).await;
            return Err(failure.into());
        }
    };
    if let Some(old) = &caller.session_hash {
        store::end_session(db, old).await?;
    }
    let token = create_session(db, account.id, &caller.client_addr, config).await?;
    let user = to_user(&account);
    let entry = AuditEntry::by(&caller.as_user(&user), "auth.login", &user.username);
    audit_best_effort(db, entry).await;
    Ok(SignedIn { user, token })
}

// --- first start ---------------------------------------------------------------

/// With no account yet, makes a fresh one-time setup token (valid until an
/// admin is created with it) and returns it; otherwise `None`.
pub async fn issue_setup_token(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if store::account_count(db).await? > 0 {
        store::delete_setup_token(db).await?;
        return Ok(None);
    }
    let token = new_token();
    store::put_setup_token_hash(db, token_hash(&token)).await?;
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
) -> Result<account::Model, DomainError> {
    let txn = db.begin().await?;
    let valid = store::setup_token_hash(&txn)
        .await?
        .is_some_and(|hash| hash == token_hash(token));
    if !valid || store::account_count(&txn).await? > 0 {
        return Err(DomainError::SetupLinkUsed);
    }
    let model = create_account(&txn, username, password, Role::Admin, cost).await?;
    store::delete_setup_token(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

/// The setup page's form.
#[derive(Debug, Clone)]
pub struct SetupForm {
    pub token: String,
    pub username: String,
    pub password: String,
    pub confirm: String,
}

/// Creates the first admin and signs in; the audit line names the new
/// admin as the one who acted.
pub async fn setup(
    db: &DatabaseConnection,
    config: &AuthConfig,
    caller: &RequestAuth,
    form: SetupForm,
) -> Result<SignedIn, DomainError> {
    let result = async {
        if form.password != form.confirm {
            return Err(Invalid::new("confirm", "The two passwords differ.").into());
        }
        let account = complete_setup(
            db,
            &form.token,
            &form.username,
            &form.password,
            config.hash_cost,
        )
        .await?;
        let token = create_session(db, account.id, &caller.client_addr, config).await?;
        Ok(SignedIn {
            user: to_user(&account),
            token,
        })
    }
    .await;
    let actor = match &result {
        Ok(signed_in) => caller.as_user(&signed_in.user),
        Err(_) => caller.clone(),
    };
    let target = form.username.trim().to_ascii_lowercase();
    let entry = AuditEntry::by(&actor, "auth.setup", target)
        .outcome_of(&result.as_ref().map_err(AppError::from))
        .summary("first admin account");
    audit_best_effort(db, entry).await;
    result
}

// --- audit ---------------------------------------------------------------------

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

/// Appends to the audit log.
pub async fn audit<C: ConnectionTrait>(db: &C, entry: AuditEntry) -> Result<(), DbErr> {
    store::insert_audit(db, entry).await
}

/// [`audit`], logging rather than failing when the log itself cannot be
/// written (the action has happened either way).
pub async fn audit_best_effort(db: &DatabaseConnection, entry: AuditEntry) {
    if let Err(e) = audit(db, entry).await {
        tracing::error!("audit log write failed: {e}");
    }
}

/// The newest audit lines matching the audit page's filter.
pub async fn list_audit(
    db: &DatabaseConnection,
    filter: &AuditFilter,
) -> Result<Vec<AuditRow>, DomainError> {
    let time = |field: &str, input: &str, end_of_day: bool| {
        let input = input.trim();
        if input.is_empty() {
            Ok(None)
        } else {
            super::parse_time(field, input, end_of_day).map(Some)
        }
    };
    let query = store::AuditQuery {
        user: filter.user.trim(),
        action: filter.action.trim(),
        target: filter.target.trim(),
        from: time("from", &filter.from, false)?,
        until: time("until", &filter.until, true)?,
    };
    Ok(store::audit_lines(db, &query, AUDIT_PAGE_LINES).await?)
}

/// The newest `limit` audit lines, newest first (the dashboard's recent
/// changes).
pub async fn recent_audit<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> Result<Vec<AuditRow>, DomainError> {
    Ok(store::recent_audit(db, limit).await?)
}
