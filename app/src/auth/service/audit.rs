//! The audit log's lines: what the service and the call pipeline write,
//! and what the audit page and the dashboard read.

use super::{RequestAuth, AUDIT_PAGE_LINES};
use crate::auth::{store, AuditFilter, AuditRow, DomainError};
use crate::error::{AppError, AppResult};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

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

/// Deletes the audit lines older than `days` days (none when `days` is 0);
/// how many went. The server runs it at start and then daily.
pub async fn apply_audit_retention(db: &DatabaseConnection, days: u32) -> Result<u64, DbErr> {
    if days == 0 {
        return Ok(0);
    }
    let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    store::prune_audit(db, before).await
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
            crate::auth::parse_time(field, input, end_of_day).map(Some)
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
