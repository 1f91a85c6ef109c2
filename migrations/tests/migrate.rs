//! The schema migrates on SQLite and PostgreSQL alike, a second start is a
//! no-op, and a database from a newer Stackyard is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrations::{migrate, testing::PostgresDb, SchemaError};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::SchemaManager;

async fn sqlite(dir: &tempfile::TempDir) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    Database::connect(url.as_str()).await.unwrap()
}

async fn migrates_and_refuses_newer(db: &DatabaseConnection) {
    migrate(db).await.unwrap();
    assert!(SchemaManager::new(db).has_table("setting").await.unwrap());
    assert_eq!(
        migrations::current_version(db).await.unwrap().as_deref(),
        migrations::known_migrations().last().map(String::as_str)
    );

    // Starting again changes nothing and does not fail.
    migrate(db).await.unwrap();

    // A newer Stackyard has been here.
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_future', 0)",
    )
    .await
    .unwrap();
    let err = migrate(db).await.unwrap_err();
    assert!(
        matches!(err, SchemaError::NewerSchema { ref unknown, .. } if unknown == &["m29990101_000001_future"])
    );
    let message = err.to_string();
    assert!(
        message.contains("migrated by a newer Stackyard"),
        "{message}"
    );
    assert!(message.contains("m29990101_000001_future"), "{message}");
}

#[tokio::test]
async fn sqlite_migrates_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(&dir).await;
    migrates_and_refuses_newer(&db).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test` starts it and sets STACKYARD_TEST_POSTGRES_URL"]
async fn postgres_migrates_and_refuses_a_newer_schema() {
    let pg = PostgresDb::create().await.unwrap();
    let db = Database::connect(pg.url.as_str()).await.unwrap();
    migrates_and_refuses_newer(&db).await;
    db.close().await.unwrap();
    pg.drop().await.unwrap();
}

#[tokio::test]
async fn down_migrations_undo_everything() {
    use sea_orm_migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(&dir).await;
    migrate(&db).await.unwrap();
    migrations::Migrator::down(&db, None).await.unwrap();
    assert!(!SchemaManager::new(&db).has_table("setting").await.unwrap());
}
