//! Sessions and their cookies, logins with their throttle, and the
//! first start's setup token.

use super::{
    audit_best_effort, create_account, dummy_hash, throttle_delay, to_user, verify_password,
    AuditEntry, AuthConfig, HashCost, RequestAuth, LAST_SEEN_GRANULARITY,
};
use crate::auth::entity::account;
use crate::auth::{store, CurrentUser, DomainError, Role, SetupForm};
use crate::error::{AppError, Invalid};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use sha2::{Digest, Sha256};

// --- sessions ------------------------------------------------------------------

/// 256 random bits, URL-safe: the cookie's value.
pub fn new_token() -> String {
    let bytes = crate::secret::random_bytes::<32>();
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
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        config.cookie_name(),
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
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        config.cookie_name(),
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
pub fn token_from_headers(headers: &http::HeaderMap, config: &AuthConfig) -> Option<String> {
    let cookie = config.cookie_name();
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
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

pub use store::record_attempt;

/// Why a login failed. The browser only ever sees the message ([`WRONG_LOGIN`](super::WRONG_LOGIN)
/// or the throttle's); the audit log keeps the [`reason`](LoginFailure::reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    #[error("Too many failed logins. Try again in {0} seconds.")]
    Throttled(i64),
    /// The same name is being checked for the same address, or every
    /// password check is busy: refused at once, not counted as a failure.
    #[error("Another sign-in is being checked right now. Try again in a few seconds.")]
    Busy,
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
            LoginFailure::Busy => "busy",
            LoginFailure::UnknownName => "unknown name",
            LoginFailure::WrongPassword => "wrong password",
            LoginFailure::Disabled => "account disabled",
        }
    }
}

/// Checks a name and password; constant work whether the name exists or
/// not. The throttle's read, the check and the attempt's record run as one
/// for each name and address (see [`LoginGate`](super::LoginGate)).
pub async fn authenticate(
    db: &DatabaseConnection,
    config: &AuthConfig,
    username: &str,
    password: &str,
    client_addr: &str,
) -> Result<Result<account::Model, LoginFailure>, DbErr> {
    let name = username.trim().to_ascii_lowercase();
    let Some(_claim) = config.logins.claim(&name, client_addr).await else {
        return Ok(Err(LoginFailure::Busy));
    };
    // Refused attempts are not recorded: only real failures extend a delay.
    if let Some(wait) = throttle_delay(db, &name, client_addr, Utc::now()).await? {
        return Ok(Err(LoginFailure::Throttled(wait)));
    }
    let Some(verifier) = config.logins.verifier() else {
        return Ok(Err(LoginFailure::Busy));
    };
    let found = store::account_by_name(db, &name).await?;
    let hash = match &found {
        Some(a) => a.password_hash.clone(),
        None => dummy_hash(config.hash_cost).await,
    };
    let matches = verify_password(hash, password.to_owned()).await;
    drop(verifier);
    let outcome = match found {
        None => Err(LoginFailure::UnknownName),
        Some(_) if !matches => Err(LoginFailure::WrongPassword),
        Some(a) if !a.enabled => Err(LoginFailure::Disabled),
        Some(a) => Ok(a),
    };
    store::record_attempt(db, &name, client_addr, outcome.is_ok()).await?;
    Ok(outcome)
}

/// The field of the forms that ask for the caller's password again.
pub const CONFIRM_FIELD: &str = "confirm_password";

/// The caller's password again, before a change that hands out or points
/// at secrets (hosts, DNS servers, the TSIG key, DKIM private keys): a
/// session left open on a desk is not enough for those. A wrong password
/// counts against the login throttle like a failed sign-in, so a stolen
/// session cannot guess the password here either.
pub async fn confirm_password(
    db: &DatabaseConnection,
    config: &AuthConfig,
    caller: &RequestAuth,
    password: &str,
) -> Result<(), DomainError> {
    let user = caller.user.as_ref().ok_or(DomainError::SignedOut)?;
    if password.is_empty() {
        return Err(Invalid::new(CONFIRM_FIELD, "Enter your password to confirm this.").into());
    }
    let wrong = || Invalid::new(CONFIRM_FIELD, "That is not your password.").into();
    match authenticate(db, config, &user.username, password, &caller.client_addr).await? {
        Ok(account) if account.id == user.id => Ok(()),
        Ok(_) => Err(wrong()),
        Err(busy @ (LoginFailure::Throttled(_) | LoginFailure::Busy)) => {
            Err(DomainError::Login(busy))
        }
        Err(_) => Err(wrong()),
    }
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

/// How long a setup link works: long enough to open it after an install,
/// short enough that a link found later in an old log or backup is dead.
/// A restart with no account yet issues a fresh one.
pub const SETUP_LINK_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// With no account yet, makes a fresh one-time setup token (valid until an
/// admin is created with it, for [`SETUP_LINK_LIFETIME`]) and returns it;
/// otherwise `None`.
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
    let valid = store::setup_token(&txn).await?.is_some_and(|issued| {
        issued.value == token_hash(token)
            && chrono::Utc::now() - issued.updated_at < SETUP_LINK_LIFETIME
    });
    if !valid || store::account_count(&txn).await? > 0 {
        return Err(DomainError::SetupLinkUsed);
    }
    let model = create_account(&txn, username, password, Role::Admin, cost).await?;
    store::delete_setup_token(&txn).await?;
    txn.commit().await?;
    Ok(model)
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
        // Until the first admin exists, anyone who reaches the console
        // with a leaked link could claim it: only a browser on the server.
        let local = caller
            .client_addr
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        if !local {
            return Err(DomainError::SetupNotLocal);
        }
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
