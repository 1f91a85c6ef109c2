//! Every query of the hosts domain: the `host` rows and the one setting
//! that records the demo host was offered. Each function's only failure
//! is the database's, so each returns [`DbErr`]; the services lift it into
//! [`DomainError::Database`](super::service::DomainError::Database).

use super::entity::{host, vm_protection};
use crate::auth::entity::setting;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::BTreeMap;

/// The setting that is present once the demo host has been added.
const DEMO_ADDED_KEY: &str = "demo_host_added";

/// Every host, in the order they were added.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<host::Model>, DbErr> {
    host::Entity::find()
        .order_by_asc(host::Column::Id)
        .all(db)
        .await
}

/// The host rows as stored now, by id: the registry keeps the row each host
/// was started with, so settings edited since (`y_os`) are read from here.
pub async fn by_id(db: &DatabaseConnection) -> Result<BTreeMap<i32, host::Model>, DbErr> {
    Ok(host::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}

/// Whether a host other than `except` is called `name`.
pub async fn name_taken(
    db: &DatabaseConnection,
    name: &str,
    except: Option<i32>,
) -> Result<bool, DbErr> {
    let mut query = host::Entity::find().filter(host::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(host::Column::Id.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}

pub async fn count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    host::Entity::find().count(db).await
}

/// Saves a new host.
pub async fn insert(
    db: &DatabaseConnection,
    name: String,
    uri: String,
    label: String,
) -> Result<host::Model, DbErr> {
    let now = chrono::Utc::now();
    host::ActiveModel {
        name: Set(name),
        uri: Set(uri),
        label: Set(label),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Renames `row` and points it at `uri`; its other columns stay as stored.
pub async fn rename(
    db: &DatabaseConnection,
    row: host::Model,
    name: String,
    uri: String,
) -> Result<host::Model, DbErr> {
    let mut active: host::ActiveModel = row.into();
    active.name = Set(name);
    active.uri = Set(uri);
    active.updated_at = Set(chrono::Utc::now());
    active.update(db).await
}

/// The protected VMs of host `id`, by name.
pub async fn protected_vms<C: ConnectionTrait>(db: &C, id: i32) -> Result<Vec<String>, DbErr> {
    Ok(vm_protection::Entity::find()
        .filter(vm_protection::Column::HostId.eq(id))
        .order_by_asc(vm_protection::Column::Vm)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.vm)
        .collect())
}

/// Whether VM `vm` of host `id` is protected.
pub async fn is_protected<C: ConnectionTrait>(db: &C, id: i32, vm: &str) -> Result<bool, DbErr> {
    Ok(vm_protection::Entity::find_by_id((id, vm.to_owned()))
        .one(db)
        .await?
        .is_some())
}

/// Protects VM `vm` of host `id` (by `actor`), or lifts its protection.
pub async fn set_protected<C: ConnectionTrait>(
    db: &C,
    id: i32,
    vm: &str,
    protected: bool,
    actor: &str,
) -> Result<(), DbErr> {
    vm_protection::Entity::delete_by_id((id, vm.to_owned()))
        .exec(db)
        .await?;
    if protected {
        vm_protection::ActiveModel {
            host_id: Set(id),
            vm: Set(vm.to_owned()),
            protected_by: Set(actor.to_owned()),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<(), DbErr> {
    // SQLite enforces the foreign key's cascade only when asked.
    vm_protection::Entity::delete_many()
        .filter(vm_protection::Column::HostId.eq(id))
        .exec(db)
        .await?;
    host::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Whether the demo host was ever added (it is offered once, not again
/// after an admin removed it).
pub async fn demo_added(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(setting::Entity::find_by_id(DEMO_ADDED_KEY.to_owned())
        .one(db)
        .await?
        .is_some())
}

pub async fn mark_demo_added(db: &DatabaseConnection) -> Result<(), DbErr> {
    setting::ActiveModel {
        key: Set(DEMO_ADDED_KEY.into()),
        value: Set("true".into()),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}
