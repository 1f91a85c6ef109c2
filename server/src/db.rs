//! Opening the database: SQLite by default, PostgreSQL for several console
//! instances sharing one database.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Connects to the configured database and brings its schema up to date.
pub async fn open(args: &crate::config::DbArgs) -> Result<DatabaseConnection, crate::ServerError> {
    let url = args.database_url()?;
    let db = connect(&url).await?;
    migrations::migrate(&db).await?;
    tracing::info!(database = %redact_url(&url), "database ready");
    Ok(db)
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        // A health check must answer within seconds even when the pool is
        // exhausted or the server is gone.
        .acquire_timeout(Duration::from_secs(3))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        // WAL lets readers (page views) proceed while a writer commits; the
        // setting is stored in the database file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// The URL with any password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://stackyard:s3cret@db.example.org/stackyard"),
            "postgres://stackyard:***@db.example.org/stackyard"
        );
        assert_eq!(
            redact_url("sqlite://data/stackyard.db?mode=rwc"),
            "sqlite://data/stackyard.db?mode=rwc"
        );
    }
}
