//! The Stackyard server: configuration, database start-up and the HTTP
//! router around the Leptos app. The binary in `main.rs` only parses the
//! command line and calls into here, so tests drive the same code.

pub mod access;
pub mod config;
pub mod consoles;
pub mod db;
pub mod images;
pub mod layout_cli;
pub mod listen;
pub mod mail_cli;
pub mod users;
pub mod web;
pub mod zone_cli;

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
    #[error("{0}")]
    Config(String),
}

/// Opens the database, migrates it, and serves until SIGINT or SIGTERM.
pub async fn serve(args: config::ServeArgs) -> Result<(), ServerError> {
    let auth = args.auth_config()?;
    let db = db::open(&args.db).await?;
    let keys = sealing_key(&db, &args).await?;
    announce_setup(&db, &args).await?;

    let site_root = args.site_root();
    if !site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %site_root.display(),
            "no built site files here: pages will render but not hydrate; build with `make run`"
        );
    }
    app::hosts::registry::ensure_demo_host(&db, &args.db.data_dir).await?;
    let mut state =
        app::state::AppState::new(db, web::leptos_options(&site_root, args.listen), auth, keys);
    state.policy = std::sync::Arc::new(args.policy());
    if let Some(path) = &args.mail_db {
        let mail_db = app::mail::mirror::MailDb::new(
            std::path::absolute(path)
                .map_err(|e| ServerError::Config(format!("--mail-db {}: {e}", path.display())))?,
        );
        let synced = mail_db
            .sync(&state.db)
            .await
            .map_err(|e| ServerError::Config(e.to_string()))?;
        tracing::info!(
            "mail database {}: {} domains, {} mailboxes, {} aliases",
            mail_db.path().display(),
            synced.domains,
            synced.mailboxes,
            synced.aliases
        );
        tokio::spawn(app::mail::mirror::keep_in_step(
            mail_db.clone(),
            state.db.clone(),
        ));
        state.mail_db = Some(mail_db);
    }
    state.hosts.load(&state.db).await?;
    {
        // Fetches the last run of the server left under way.
        let (db, hosts) = (state.db.clone(), state.hosts.clone());
        tokio::spawn(async move {
            app::images::service::recover_stopped(&db, &hosts, std::time::Duration::from_secs(5))
                .await;
        });
    }
    let router = web::router(state.clone());
    tokio::spawn(audit_retention(state.db.clone(), args.audit_retention_days));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: args.listen,
            source,
        })?;
    tracing::info!("Stackyard listening on http://{}", args.listen);
    // Open event streams end when the shutdown begins, so that it need
    // not wait for the browsers to go.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let router = router.layer(axum::Extension(web::ShuttingDown(stop)));
    let shutdown = async move {
        web::shutdown_signal().await;
        let _ = stopping.send(true);
    };
    listen::serve(listener, router, shutdown, listen::Limits::default()).await;

    if let Err(e) = state.db.close().await {
        tracing::warn!("closing the database: {e}");
    }
    tracing::info!("Stackyard stopped");
    Ok(())
}

/// The key that seals the secrets in the database, read from its file or
/// made at the first start; secrets from before sealing are sealed now. A
/// key that does not open the stored secrets stops the start, with what to
/// do: nothing is sealed twice or lost.
pub async fn sealing_key(
    db: &sea_orm::DatabaseConnection,
    args: &config::ServeArgs,
) -> Result<app::sealed::SealingKey, ServerError> {
    use app::sealed::{KeyFile, SealingKey};
    args.db.prepare_data_dir()?;
    let path = args.secret_key_path();
    let (keys, how) =
        SealingKey::load_or_create(&path).map_err(|e| ServerError::Config(e.to_string()))?;
    if how == KeyFile::Created {
        tracing::warn!(
            "made the secret key file {}: back it up apart from the database; without it the TSIG and DKIM secrets cannot be read",
            path.display()
        );
    }
    let sealed = async {
        let tsig = app::dns::service::seal_stored_key(db, &keys).await?;
        let dkim = app::mail::store::seal_stored_keys(db, &keys).await?;
        Ok::<_, app::error::AppError>(usize::from(tsig) + dkim)
    };
    match sealed.await {
        Ok(0) => Ok(keys),
        Ok(n) => {
            tracing::info!("{n} secrets kept in clear in the database are now sealed");
            Ok(keys)
        }
        Err(e) => {
            if how == KeyFile::Created {
                // The new key is of no use: the stored secrets need the old one.
                let _ = std::fs::remove_file(&path);
            }
            Err(ServerError::Config(format!(
                "{e}. The secrets in the database were sealed with the key file of the first start; \
                 give its path with --secret-key-file (or restore {} from a backup).",
                path.display()
            )))
        }
    }
}

/// Deletes audit lines older than the retention, at start and then daily.
async fn audit_retention(db: sea_orm::DatabaseConnection, days: u32) {
    if days == 0 {
        return;
    }
    let mut daily = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
    loop {
        daily.tick().await;
        match app::auth::service::apply_audit_retention(&db, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("audit log: {n} lines older than {days} days deleted"),
            Err(e) => tracing::warn!("audit log retention: {e}"),
        }
    }
}

/// On a console with no account yet, writes the one-time setup link to
/// `DATA_DIR/setup-url.txt`, readable by its owner only, and says in the
/// log where it is (never the link: logs travel further than the data
/// directory). The link works once, for a day.
async fn announce_setup(
    db: &sea_orm::DatabaseConnection,
    args: &config::ServeArgs,
) -> Result<(), ServerError> {
    let file = args.db.data_dir.join("setup-url.txt");
    let Some(token) = app::auth::service::issue_setup_token(db).await? else {
        // Accounts exist: an old link is useless, so it goes.
        let _ = std::fs::remove_file(&file);
        return Ok(());
    };
    let url = format!("{}/setup?token={token}", args.base_url());
    // The link itself stays out of the log: logs are shipped and kept where
    // the data directory's owner-only file is not.
    tracing::warn!(
        "No account yet. The one-time link to create the first admin is in {} (it works once, for 24 hours), or run `stackyard user add NAME --role admin`.",
        file.display()
    );
    let written = std::fs::create_dir_all(&args.db.data_dir).and_then(|()| {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&file)?;
        writeln!(f, "{url}")
    });
    if let Err(e) = written {
        tracing::warn!("cannot write {}: {e}", file.display());
    }
    Ok(())
}
