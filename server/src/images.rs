//! `POST /images/upload?host=…&pool=…&name=…&kind=…&sha256=…`: an image's
//! bytes as the request body (`Content-Length` required), streamed into a
//! new volume of the host's pool (see `app::images::service`). The gate has
//! let an operator's same-origin request through, and the body limit does
//! not apply to this path: the body is never held, only passed on, a few
//! chunks at a time. It answers `201` with the image (JSON), or the error
//! with its status and, for a form value, its field.

use app::auth::service::{audit_best_effort, AuditEntry, RequestAuth};
use app::error::AppError;
use app::images::service::{self as images, UploadRequest};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// The longest a chunk of the body may keep the upload waiting.
pub const STALL: Duration = Duration::from_secs(60);

fn answer(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(e: &AppError) -> Response {
    answer(e.status(), serde_json::to_string(e).unwrap_or_default())
}

/// The upload of one image.
pub async fn upload(
    State(state): State<AppState>,
    caller: Option<axum::Extension<RequestAuth>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let caller = caller.map(|c| c.0).unwrap_or_else(|| RequestAuth {
        user: None,
        session_hash: None,
        client_addr: String::new(),
    });
    let param = |k: &str| query.get(k).cloned().unwrap_or_default();
    let Ok(host_id) = param("host").parse::<i32>() else {
        return error(&AppError::invalid("host", "Choose a host."));
    };
    let request = UploadRequest {
        host_id,
        pool: param("pool"),
        name: param("name"),
        kind: param("kind"),
        sha256: param("sha256"),
        length: headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()),
        username: caller.username().to_owned(),
    };
    let target = format!("host {host_id} image {}", request.name.trim());
    let result = receive(&state, request, body).await;
    let entry = AuditEntry::by(&caller, "image.upload", target).outcome_of(&result);
    let entry = match &result {
        Ok(image) => entry.summary(format!(
            "{} ({}, {} bytes, sha256 {}) into pool {} as {}",
            image.name,
            image.kind.as_str(),
            image.size_bytes,
            image.sha256,
            image.pool,
            image.volume
        )),
        Err(_) => entry,
    };
    audit_best_effort(&state.db, entry).await;
    match result {
        Ok(image) => answer(
            StatusCode::CREATED,
            serde_json::to_string(&image).unwrap_or_default(),
        ),
        Err(e) => error(&e),
    }
}

async fn receive(
    state: &AppState,
    request: UploadRequest,
    body: Body,
) -> Result<app::images::ImageInfo, AppError> {
    let mut upload = images::begin(&state.db, &state.hosts, request).await?;
    let mut stream = body.into_data_stream();
    loop {
        let next = match tokio::time::timeout(STALL, stream.next()).await {
            Ok(next) => next,
            Err(_) => {
                let stalled = AppError::invalid(
                    "file",
                    format!(
                        "No data arrived for {} s; the upload was stopped and nothing was kept.",
                        STALL.as_secs()
                    ),
                );
                return Err(upload.fail(stalled).await);
            }
        };
        match next {
            None => return upload.finish().await,
            Some(Ok(chunk)) => {
                if upload.write(chunk).await.is_err() {
                    let failed = AppError::Failed("the upload stopped".to_owned());
                    return Err(upload.fail(failed).await);
                }
            }
            Some(Err(_)) => {
                let broke = AppError::invalid(
                    "file",
                    "The upload broke off (the connection closed); nothing was kept.",
                );
                return Err(upload.fail(broke).await);
            }
        }
    }
}
