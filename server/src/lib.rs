//! The Stackyard server: configuration, database start-up and the HTTP
//! router around the Leptos app. The binary in `main.rs` only parses the
//! command line and calls into here, so tests drive the same code.

pub mod config;
pub mod db;
pub mod web;

use std::path::PathBuf;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Schema(#[from] migrations::SchemaError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    Config(String),
}

/// Opens the database, migrates it, and serves until SIGINT or SIGTERM.
pub async fn serve(args: config::ServeArgs) -> Result<(), ServerError> {
    let database_url = args.database_url()?;
    let db = db::connect(&database_url).await?;
    migrations::migrate(&db).await?;
    tracing::info!(database = %db::redact_url(&database_url), "database ready");

    let site_root = args.site_root();
    if !site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %site_root.display(),
            "no built site files here: pages will render but not hydrate; build with `make run`"
        );
    }
    let state = app::state::AppState::new(db, web::leptos_options(&site_root, args.listen));
    let router = web::router(state.clone());

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: args.listen,
            source,
        })?;
    tracing::info!("Stackyard listening on http://{}", args.listen);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(web::shutdown_signal())
    .await
    .map_err(ServerError::Serve)?;

    if let Err(e) = state.db.close().await {
        tracing::warn!("closing the database: {e}");
    }
    tracing::info!("Stackyard stopped");
    Ok(())
}
