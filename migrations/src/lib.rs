//! Stackyard's schema as an ordered list of sea-orm migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL
//! (several console instances sharing one database), so they use only the
//! schema builder, never backend-specific SQL.

use sea_orm::{DatabaseConnection, EntityTrait};
pub use sea_orm_migration::prelude::*;

mod m20261124_000001_settings;
mod m20261124_000002_auth;
mod m20261124_000003_hosts;
mod m20261124_000004_layouts;
mod m20261124_000005_dns;
mod m20261124_000006_mail;
mod m20261124_000007_layout_apply;
mod m20261124_000008_one_apply_per_layout;
mod m20261124_000009_mail_check_run;
mod m20261205_000010_vm_protection;
mod m20261205_000011_journal_intent;
mod m20261205_000012_console_ticket;
mod m20261205_000013_image;
mod m20261205_000014_layout_images;
mod m20261206_000015_template_packages;
mod m20261206_000016_layout_addresses;
mod m20261206_000017_mail_host_vm;
mod m20261206_000018_image_fetch;
mod m20261206_000019_vm_user_data;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_settings::Migration),
            Box::new(m20261124_000002_auth::Migration),
            Box::new(m20261124_000003_hosts::Migration),
            Box::new(m20261124_000004_layouts::Migration),
            Box::new(m20261124_000005_dns::Migration),
            Box::new(m20261124_000006_mail::Migration),
            Box::new(m20261124_000007_layout_apply::Migration),
            Box::new(m20261124_000008_one_apply_per_layout::Migration),
            Box::new(m20261124_000009_mail_check_run::Migration),
            Box::new(m20261205_000010_vm_protection::Migration),
            Box::new(m20261205_000011_journal_intent::Migration),
            Box::new(m20261205_000012_console_ticket::Migration),
            Box::new(m20261205_000013_image::Migration),
            Box::new(m20261205_000014_layout_images::Migration),
            Box::new(m20261206_000015_template_packages::Migration),
            Box::new(m20261206_000016_layout_addresses::Migration),
            Box::new(m20261206_000017_mail_host_vm::Migration),
            Box::new(m20261206_000018_image_fetch::Migration),
            Box::new(m20261206_000019_vm_user_data::Migration),
        ]
    }
}

/// Why a database cannot be brought up to this Stackyard's schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "this database was migrated by a newer Stackyard (it has migration{} {} that this \
         version {} does not know); upgrade Stackyard or point it at another database",
        if .unknown.len() == 1 { "" } else { "s" },
        .unknown.join(", "),
        .version
    )]
    NewerSchema {
        unknown: Vec<String>,
        version: &'static str,
    },
    #[error("database error while migrating: {0}")]
    Db(#[from] DbErr),
}

/// Names of the migrations this build knows, oldest first.
pub fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// Migrations recorded in the database that this build does not know.
pub async fn unknown_applied(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    // A fresh database has no migration table yet: nothing is unknown.
    if !SchemaManager::new(db).has_table("seaql_migrations").await? {
        return Ok(Vec::new());
    }
    let applied = sea_orm_migration::seaql_migrations::Entity::find()
        .all(db)
        .await?;
    let known = known_migrations();
    Ok(applied
        .into_iter()
        .map(|m| m.version)
        .filter(|v| !known.contains(v))
        .collect())
}

/// Brings the database up to this build's schema, refusing one that a newer
/// Stackyard has already migrated (running old code on a new schema would
/// silently lose data).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), SchemaError> {
    let unknown = unknown_applied(db).await?;
    if !unknown.is_empty() {
        return Err(SchemaError::NewerSchema {
            unknown,
            version: env!("CARGO_PKG_VERSION"),
        });
    }
    Migrator::up(db, None).await?;
    Ok(())
}

/// The newest migration applied, for the dashboard and `/healthz` callers.
pub async fn current_version(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    Ok(Migrator::get_applied_migrations(db)
        .await?
        .last()
        .map(|m| m.name().to_owned()))
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;
