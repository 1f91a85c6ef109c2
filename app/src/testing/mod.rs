//! Fixtures for the integration tests of both crates (`app/tests/it` and
//! `server/tests/it`), compiled only with the `testing` feature, which the
//! tests turn on: [`database`] is a migrated SQLite database, [`nsd`] runs
//! real NSD instances, [`libvirt`] gives the demo host (libvirt's test
//! driver) and a real `libvirtd`. The server's
//! `TestApp` (a router on a throwaway database) lives in its own tests, as
//! it needs the server crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod libvirt;
pub mod nsd;

/// A fresh SQLite database `stackyard.db` in `dir`, migrated.
pub async fn database(dir: &std::path::Path) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join("stackyard.db").display());
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    migrations::migrate(&db).await.unwrap();
    db
}
