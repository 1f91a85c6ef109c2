//! Console tickets: issued to a session by [`issue`], taken once by
//! [`redeem`] at the WebSocket upgrade.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

use super::ConsoleError;
use crate::api::Ctx;
use crate::auth::service::{new_token, token_hash};
use crate::consoles::entity::console_ticket as ticket;
use crate::consoles::{ConsoleKind, ConsoleTicket, TICKET_SECONDS};
use crate::hosts::service::xml::validate_name;
use crate::hosts::VmState;

/// A ticket for `kind` on VM `vm` of host `host_id`, for the caller's
/// session. The VM must exist and run (a console of a VM that is off shows
/// nothing), and a protected VM's console is an admin's.
pub async fn issue(
    c: &Ctx,
    host_id: i32,
    vm: &str,
    kind: &str,
) -> Result<ConsoleTicket, ConsoleError> {
    let kind = ConsoleKind::parse(kind).ok_or_else(|| ConsoleError::UnknownKind(kind.into()))?;
    validate_name("VM name", vm).map_err(|e| ConsoleError::Host(e.into()))?;
    let (row, handle) = crate::hosts::service::host(&c.state.hosts, host_id)?;
    c.target(format!("{}/{vm} {}", row.name, kind.as_str()));
    crate::hosts::admin_if_protected(c, host_id, vm).await?;
    let info = handle
        .cached_vm(vm)
        .ok_or_else(|| ConsoleError::NoSuchVm(vm.into(), row.name.clone()))?;
    if info.state != VmState::Running && info.state != VmState::Paused {
        return Err(ConsoleError::NotRunning(vm.into()));
    }
    let session_hash = c.auth.session_hash.clone().ok_or(ConsoleError::NoSession)?;
    let token = new_token();
    let now = Utc::now();
    purge(c.db(), now).await?;
    ticket::Entity::insert(ticket::ActiveModel {
        ticket_hash: Set(token_hash(&token)),
        session_hash: Set(session_hash),
        username: Set(c.username().chars().take(64).collect()),
        host_id: Set(host_id),
        vm: Set(vm.into()),
        kind: Set(kind.as_str().into()),
        expires_at: Set(now + chrono::Duration::seconds(TICKET_SECONDS)),
    })
    .exec_without_returning(c.db())
    .await?;
    Ok(ConsoleTicket {
        path: format!("/consoles/ws?ticket={token}"),
        kind,
    })
}

/// What a redeemed ticket is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub username: String,
    pub host_id: i32,
    pub vm: String,
    pub kind: ConsoleKind,
}

/// Why a ticket was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such ticket (or it was used already)")]
    Unknown,
    #[error("the ticket expired")]
    Expired,
    #[error("the ticket belongs to another session")]
    OtherSession,
}

/// Takes ticket `token` for the session `session_hash`, once: the row is
/// deleted whatever the outcome, so a ticket tried from another session or
/// too late is gone as well. Two instances racing for one ticket: only the
/// one whose delete removed the row gets it.
pub async fn redeem(
    db: &DatabaseConnection,
    token: &str,
    session_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Redeemed, Refused>, DbErr> {
    let hash = token_hash(token);
    let Some(row) = ticket::Entity::find_by_id(hash.clone()).one(db).await? else {
        return Ok(Err(Refused::Unknown));
    };
    let deleted = ticket::Entity::delete_by_id(hash).exec(db).await?;
    if deleted.rows_affected != 1 {
        return Ok(Err(Refused::Unknown));
    }
    if row.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    if session_hash != Some(row.session_hash.as_str()) {
        return Ok(Err(Refused::OtherSession));
    }
    let Some(kind) = ConsoleKind::parse(&row.kind) else {
        return Ok(Err(Refused::Unknown));
    };
    Ok(Ok(Redeemed {
        username: row.username,
        host_id: row.host_id,
        vm: row.vm,
        kind,
    }))
}

/// Removes the tickets that expired a while ago (never used).
async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    ticket::Entity::delete_many()
        .filter(ticket::Column::ExpiresAt.lt(now - chrono::Duration::minutes(1)))
        .exec(db)
        .await?;
    Ok(())
}
