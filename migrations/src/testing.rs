//! Test fixtures shared by the crates' test suites: throwaway databases on
//! SQLite and on the PostgreSQL server the test command starts.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr};

/// The variable `scripts/test.sh` sets to a PostgreSQL URL whose role may
/// create databases.
pub const POSTGRES_ENV: &str = "STACKYARD_TEST_POSTGRES_URL";

/// A PostgreSQL database created for one test and dropped by [`drop`](Self::drop).
pub struct PostgresDb {
    admin: DatabaseConnection,
    pub name: String,
    pub url: String,
}

impl PostgresDb {
    /// Creates an empty database with a unique name. Fails with a message
    /// saying how to run the test when no server is configured.
    pub async fn create() -> Result<Self, DbErr> {
        let admin_url = std::env::var(POSTGRES_ENV).map_err(|_| {
            DbErr::Custom(format!(
                "{POSTGRES_ENV} is not set: run `make test`, which starts PostgreSQL and sets it"
            ))
        })?;
        let admin = Database::connect(admin_url.as_str()).await?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("stackyard_test_{}_{nanos}", std::process::id());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url.as_str());
        let url = format!("{base}/{name}");
        Ok(Self { admin, name, url })
    }

    /// Cuts every connection to the database and refuses new ones (`true`),
    /// as a database server that went away would look; `false` lets them in
    /// again.
    pub async fn refuse_connections(&self, refuse: bool) -> Result<(), DbErr> {
        self.admin
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS {}",
                self.name, !refuse
            ))
            .await?;
        if refuse {
            self.admin
                .execute_unprepared(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    self.name
                ))
                .await?;
        }
        Ok(())
    }

    /// Drops the database even while connections to it are open, as a
    /// database server that lost its data would look to Stackyard.
    pub async fn drop(&self) -> Result<(), DbErr> {
        self.admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .map(|_| ())
    }
}
