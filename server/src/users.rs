//! `stackyard user add`: accounts from the command line, for the first admin
//! on a headless machine or for scripts. The password never goes through the
//! arguments (they show in `ps` and shell history): it is read from standard
//! input, with a hidden prompt on a terminal.

use crate::{config::DbArgs, ServerError};
use app::auth::{service as auth, Role};
use std::io::{BufRead as _, IsTerminal as _};

pub fn read_password() -> Result<String, ServerError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")
            .map_err(|e| ServerError::Config(format!("cannot read the password: {e}")))?;
        let second = rpassword::prompt_password("Password again: ")
            .map_err(|e| ServerError::Config(format!("cannot read the password: {e}")))?;
        if first != second {
            return Err(ServerError::Config("the two passwords differ".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| ServerError::Config(format!("cannot read the password: {e}")))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

/// Creates an account; the message says what to fix when it cannot.
pub async fn add(
    db_args: &DbArgs,
    name: &str,
    role: Role,
    password: &str,
) -> Result<String, ServerError> {
    let db = crate::db::open(db_args).await?;
    let created = auth::create_account(&db, name, password, role, auth::HashCost::PRODUCTION)
        .await
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let entry = auth::AuditEntry {
        account_id: None,
        username: "cli".into(),
        client_addr: "local".into(),
        action: "users.create".into(),
        target: created.username.clone(),
        outcome: auth::Outcome::Success,
        reason: String::new(),
        summary: format!("created with role {role} from the command line"),
    };
    auth::audit(&db, entry).await?;
    // The setup link is useless once an account exists.
    let _ = auth::issue_setup_token(&db).await;
    let _ = std::fs::remove_file(db_args.data_dir.join("setup-url.txt"));
    if let Err(e) = db.close().await {
        tracing::warn!("closing the database: {e}");
    }
    Ok(created.username)
}
