//! Command-line options and their environment variables.

use crate::ServerError;
use clap::Args;
use std::{net::SocketAddr, path::PathBuf};

/// Options of `stackyard serve` (also accepted without the subcommand).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STACKYARD_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Directory for Stackyard's own files (the SQLite database by default);
    /// created when missing.
    #[arg(long, env = "STACKYARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database to use: `sqlite://PATH` or `postgres://USER:PASS@HOST/DB`.
    /// Default: `sqlite://DATA_DIR/stackyard.db`.
    #[arg(long, env = "STACKYARD_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Log filter, e.g. `info`, `debug`, `stackyard_server=debug,info`.
    #[arg(long, env = "STACKYARD_LOG", default_value = "info")]
    pub log: String,

    /// Where the built site files (`pkg/`, the stylesheet, the wasm bundle)
    /// are. Default: `../site` beside the binary, else `target/site`.
    #[arg(long, env = "STACKYARD_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

impl ServeArgs {
    /// The database URL, creating the data directory for the SQLite default.
    pub fn database_url(&self) -> Result<String, ServerError> {
        if let Some(url) = &self.database_url {
            if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://")
            {
                return Ok(url.clone());
            }
            return Err(ServerError::Config(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                crate::db::redact_url(url)
            )));
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|source| ServerError::DataDir {
            path: self.data_dir.clone(),
            source,
        })?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("stackyard.db").display()
        ))
    }

    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        // cargo-leptos sets this when it runs the server itself.
        if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
            return PathBuf::from(root);
        }
        // target/release/stackyard → target/site, wherever it is started from.
        if let Some(beside) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("../site")))
        {
            if beside.join("pkg").is_dir() {
                return beside;
            }
        }
        PathBuf::from("target/site")
    }
}
