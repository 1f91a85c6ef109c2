//! The error every server function returns: expected outcomes a form can
//! show next to a field, and failures with a message a person can act on.
//! Internals (database or libvirt messages) are logged on the server and
//! never sent to the browser as they are.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session, or it expired: sign in.
    #[error("Sign in to continue.")]
    Unauthorized,
    /// Signed in, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// A form value is wrong; `field` names the input it belongs to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request cannot be done as things stand (shown as it is).
    #[error("{0}")]
    Refused(String),
    #[error("{0} was not found.")]
    NotFound(String),
    /// Too many requests of this kind now (a throttled or busy login):
    /// try again later, as the message says.
    #[error("{0}")]
    TooMany(String),
    /// Something failed on the server; the message says what, not how.
    #[error("{0}")]
    Failed(String),
    /// The request did not reach the function (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The message for `field`, when this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status a server function answers with for this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Failed(_) | Self::Request(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!("database: {err}");
        if err.to_string().contains("database is locked") {
            // SQLite: another program (a backup, an sqlite3 shell) holds
            // the write lock longer than the wait allows.
            return Self::Failed(
                "The database is locked by another program and did not take the change; try \
                 again in a moment."
                    .into(),
            );
        }
        Self::Failed("The database did not answer; try again, and check /healthz.".into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A form value that is wrong, with the input it belongs to: the one shape
/// bad input takes in every domain's service (a domain error wraps it), and
/// the edge turns it into [`AppError::Invalid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

/// A whole number from a form field (`what` names its unit: "MiB"), or the
/// field's error.
pub fn parse_number<T: std::str::FromStr>(
    field: &str,
    input: &str,
    what: &str,
) -> Result<T, Invalid> {
    input.trim().parse().map_err(|_| {
        Invalid::new(
            field,
            format!("\"{}\" is not a whole number of {what}.", input.trim()),
        )
    })
}
