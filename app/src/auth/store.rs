//! The auth tables: accounts, sessions, login attempts, the setup token
//! (a row of `setting`) and the audit log. Plain queries over the entities
//! in [`super::entity`]; the rules (password policy, the last admin, when a
//! session ends) are the service's.

use super::entity::{account, audit_log, login_attempt, session, setting};
use super::service::AuditEntry;
use super::{AuditRow, DomainError, Role};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

/// The key of the setup token's hash in the `setting` table.
const SETUP_TOKEN_KEY: &str = "setup_token_sha256";

// --- accounts ------------------------------------------------------------------

pub async fn account_count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    account::Entity::find().count(db).await
}

/// Every account, by name.
pub async fn accounts<C: ConnectionTrait>(db: &C) -> Result<Vec<account::Model>, DbErr> {
    account::Entity::find()
        .order_by_asc(account::Column::Username)
        .all(db)
        .await
}

pub async fn find_account<C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<account::Model, DomainError> {
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NoAccount(id))
}

pub async fn account_by_name<C: ConnectionTrait>(
    db: &C,
    username: &str,
) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find()
        .filter(account::Column::Username.eq(username))
        .one(db)
        .await
}

/// An account's name for the audit log, or `account {id}` when it has none.
pub async fn account_name<C: ConnectionTrait>(db: &C, id: i32) -> String {
    find_account(db, id)
        .await
        .map(|a| a.username)
        .unwrap_or_else(|_| format!("account {id}"))
}

/// Inserts an account whose name and password hash the service checked.
pub async fn insert_account<C: ConnectionTrait>(
    db: &C,
    username: String,
    password_hash: String,
    role: Role,
) -> Result<account::Model, DbErr> {
    let now = Utc::now();
    account::ActiveModel {
        username: Set(username),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_owned()),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Writes the changed columns of an account, stamping `updated_at`.
pub async fn update_account<C: ConnectionTrait>(
    db: &C,
    model: account::Model,
    change: impl FnOnce(&mut account::ActiveModel),
) -> Result<(), DbErr> {
    let mut active: account::ActiveModel = model.into();
    change(&mut active);
    active.updated_at = Set(Utc::now());
    active.update(db).await.map(|_| ())
}

/// Enabled admins other than `except`.
pub async fn other_enabled_admins<C: ConnectionTrait>(db: &C, except: i32) -> Result<u64, DbErr> {
    account::Entity::find()
        .filter(account::Column::Role.eq(Role::Admin.as_str()))
        .filter(account::Column::Enabled.eq(true))
        .filter(account::Column::Id.ne(except))
        .count(db)
        .await
}

// --- sessions ------------------------------------------------------------------

pub async fn insert_session<C: ConnectionTrait>(
    db: &C,
    id_hash: String,
    account_id: i32,
    client_addr: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::ActiveModel {
        id_hash: Set(id_hash),
        account_id: Set(account_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        client_addr: Set(client_addr.chars().take(64).collect()),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn find_session<C: ConnectionTrait>(
    db: &C,
    hash: &str,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(hash.to_owned()).one(db).await
}

pub async fn touch_session<C: ConnectionTrait>(
    db: &C,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::IdHash.eq(hash))
        .exec(db)
        .await
        .map(|_| ())
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

// --- login attempts ------------------------------------------------------------

/// Which attempts a throttle counts: those for one name, from one
/// address, or for one name from one address.
#[derive(Clone, Copy, Debug)]
pub enum Attempts<'a> {
    ForName(&'a str),
    FromAddr(&'a str),
    ForNameFromAddr(&'a str, &'a str),
}

impl Attempts<'_> {
    fn condition(self) -> Condition {
        let name = |n: &str| login_attempt::Column::Username.eq(n);
        let addr = |a: &str| login_attempt::Column::ClientAddr.eq(a);
        match self {
            Attempts::ForName(n) => Condition::all().add(name(n)),
            Attempts::FromAddr(a) => Condition::all().add(addr(a)),
            Attempts::ForNameFromAddr(n, a) => Condition::all().add(name(n)).add(addr(a)),
        }
    }
}

/// When the last successful login among `which` after `since` was.
pub async fn last_success<C: ConnectionTrait>(
    db: &C,
    which: Attempts<'_>,
    since: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(login_attempt::Entity::find()
        .filter(which.condition())
        .filter(login_attempt::Column::Success.eq(true))
        .filter(login_attempt::Column::At.gt(since))
        .order_by_desc(login_attempt::Column::At)
        .one(db)
        .await?
        .map(|a| a.at))
}

/// The times of the failed logins among `which` after `since`, newest
/// first (at most `limit`).
pub async fn failures_since<C: ConnectionTrait>(
    db: &C,
    which: Attempts<'_>,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    Ok(login_attempt::Entity::find()
        .filter(which.condition())
        .filter(login_attempt::Column::Success.eq(false))
        .filter(login_attempt::Column::At.gt(since))
        .order_by_desc(login_attempt::Column::At)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.at)
        .collect())
}

/// Records a login attempt, and forgets those older than a day (they say
/// nothing any more).
pub async fn record_attempt<C: ConnectionTrait>(
    db: &C,
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
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::At.lt(Utc::now() - chrono::Duration::days(1)))
        .exec(db)
        .await?;
    Ok(())
}

// --- the setup token -----------------------------------------------------------

/// The setup token's hash and when it was issued.
pub async fn setup_token<C: ConnectionTrait>(db: &C) -> Result<Option<setting::Model>, DbErr> {
    setting::Entity::find_by_id(SETUP_TOKEN_KEY.to_owned())
        .one(db)
        .await
}

pub async fn put_setup_token_hash<C: ConnectionTrait>(db: &C, hash: String) -> Result<(), DbErr> {
    let row = setting::ActiveModel {
        key: Set(SETUP_TOKEN_KEY.to_owned()),
        value: Set(hash),
        updated_at: Set(Utc::now()),
    };
    setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete_setup_token<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    setting::Entity::delete_by_id(SETUP_TOKEN_KEY.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

// --- the audit log -------------------------------------------------------------

/// Appends to the audit log. The application only ever inserts here.
pub async fn insert_audit<C: ConnectionTrait>(db: &C, entry: AuditEntry) -> Result<(), DbErr> {
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

/// Deletes the audit lines older than `before`; how many went. The only
/// deletion of audit lines: the retention the server runs daily.
pub async fn prune_audit<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(audit_log::Entity::delete_many()
        .filter(audit_log::Column::At.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// What the audit page asks for, its times parsed: text filters match
/// anywhere in the column, empty ones match everything.
#[derive(Debug, Default)]
pub struct AuditQuery<'a> {
    pub user: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The newest `limit` audit lines matching `query`, newest first.
pub async fn audit_lines<C: ConnectionTrait>(
    db: &C,
    query: &AuditQuery<'_>,
    limit: u64,
) -> Result<Vec<AuditRow>, DbErr> {
    let mut select = audit_log::Entity::find();
    for (column, text) in [
        (audit_log::Column::Username, query.user),
        (audit_log::Column::Action, query.action),
        (audit_log::Column::Target, query.target),
    ] {
        if !text.is_empty() {
            select = select.filter(column.contains(text));
        }
    }
    if let Some(from) = query.from {
        select = select.filter(audit_log::Column::At.gte(from));
    }
    if let Some(until) = query.until {
        select = select.filter(audit_log::Column::At.lte(until));
    }
    newest(select, limit, db).await
}

/// The newest `limit` audit lines, newest first (the dashboard's recent changes).
pub async fn recent_audit<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<AuditRow>, DbErr> {
    newest(audit_log::Entity::find(), limit, db).await
}

async fn newest<C: ConnectionTrait>(
    select: Select<audit_log::Entity>,
    limit: u64,
    db: &C,
) -> Result<Vec<AuditRow>, DbErr> {
    Ok(select
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(audit_row)
        .collect())
}

/// An audit line as pages show it.
pub fn audit_row(r: audit_log::Model) -> AuditRow {
    AuditRow {
        id: r.id,
        at: r.at.into(),
        username: r.username,
        client_addr: r.client_addr,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        reason: r.reason,
        summary: r.summary,
    }
}
