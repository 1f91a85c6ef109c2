//! An image fetched by the server from an address: what an administrator
//! gives for Debian's generic cloud image, instead of downloading it to
//! their own computer and uploading it again.
//!
//! [`fetch`] answers once the address answered with the file's length and
//! the volume is made (so a wrong address, a 404 or a full pool is refused
//! by its field, with nothing made); the body then streams in the
//! background through the upload's path ([`super::Upload`]: hashed, its
//! format checked, into the volume a few chunks at a time). The row's
//! `received_bytes` says how far it is; removing the row stops it. A fetch
//! that fails after it started leaves its row in state `failed` with the
//! reason, and no volume.

use std::time::{Duration, Instant};

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{begin_from, check_form, to_info, Upload, UploadRequest};
use crate::error::AppError;
use crate::hosts::registry::HostRegistry;
use crate::images::entity::image;
use crate::images::{ImageInfo, ImageState};

/// How long the address may take to answer with its headers.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest the body may stall before the fetch is given up.
const STALL: Duration = Duration::from_secs(60);
/// How often the row's progress is written.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// The longest address kept.
const URL_MAX: usize = 2048;

/// What the fetch form says.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// `http://` or `https://` address of the file.
    pub url: String,
    /// The image's name, kind, pool and SHA-256 (its `length` is the
    /// address's `Content-Length`).
    pub upload: UploadRequest,
}

/// The address as typed, checked: `http` or `https`, with a host.
pub fn check_url(given: &str) -> Result<reqwest::Url, AppError> {
    let given = given.trim();
    if given.is_empty() {
        return Err(AppError::invalid(
            "url",
            "Give the address of the image (https://…).",
        ));
    }
    if given.len() > URL_MAX {
        return Err(AppError::invalid(
            "url",
            format!("An address has at most {URL_MAX} characters."),
        ));
    }
    let url = reqwest::Url::parse(given).map_err(|e| {
        AppError::invalid(
            "url",
            format!("This is not an address ({e}): it reads like https://host/path/file.qcow2."),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::invalid(
            "url",
            format!(
                "Stackyard fetches over https:// or http://, not {}://.",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid("url", "The address names no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::invalid(
            "url",
            "Leave the user name and password out of the address: it is kept in the library and the audit log.",
        ));
    }
    Ok(url)
}

/// The client for fetches: redirects followed (a mirror's answer), the
/// proxy from the environment, Mozilla's root certificates.
fn client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .user_agent(concat!("Stackyard/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(ANSWER_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| AppError::Failed(format!("the HTTP client could not start: {e}")))
}

/// What the address answered, in words for the `url` field.
fn unreachable(url: &reqwest::Url, e: &reqwest::Error) -> AppError {
    let host = url.host_str().unwrap_or("the host");
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    AppError::invalid(
        "url",
        if e.is_timeout() {
            format!(
                "{host} did not answer within {} s.",
                ANSWER_TIMEOUT.as_secs()
            )
        } else {
            format!("Could not fetch from {host}: {why}.")
        },
    )
}

/// Starts fetching `req.url` into a new image; answers the image (state
/// `uploading`) once the bytes are on their way.
pub async fn fetch(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    req: FetchRequest,
) -> Result<ImageInfo, AppError> {
    let url = check_url(&req.url)?;
    // The form first: nothing is asked of the address for a form that is
    // refused anyway.
    check_form(db, hosts, &req.upload, None).await?;
    let response = tokio::time::timeout(ANSWER_TIMEOUT, client()?.get(url.clone()).send())
        .await
        .map_err(|_| {
            AppError::invalid(
                "url",
                format!(
                    "{} did not answer within {} s.",
                    url.host_str().unwrap_or("The host"),
                    ANSWER_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|e| unreachable(&url, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(AppError::invalid(
            "url",
            format!(
                "{} answered {status} for this address.",
                response.url().host_str().unwrap_or("The host")
            ),
        ));
    }
    let length = match response.content_length() {
        Some(0) => return Err(AppError::invalid("url", "The address answers an empty file.")),
        Some(n) => n,
        None => {
            return Err(AppError::invalid(
                "url",
                "The address does not say the file's length (Content-Length); Stackyard needs it to make the volume. Download it and upload it instead.",
            ))
        }
    };
    let mut upload_req = req.upload;
    upload_req.length = Some(length);
    let upload = begin_from(db, hosts, upload_req, url.as_str())
        .await
        // The upload's "file" is the address's file here.
        .map_err(|e| match e.for_field("file") {
            Some(m) => AppError::invalid("url", m),
            None => e,
        })?;
    let info = to_info(upload.row.clone());
    let db = db.clone();
    tokio::spawn(async move {
        let id = upload.image_id();
        let failed = upload.row.clone();
        match receive(&db, upload, response).await {
            Ok(image) => tracing::info!(
                "image {id}: fetched {} ({} bytes, sha256 {})",
                image.name,
                image.size_bytes,
                image.sha256
            ),
            Err(Stopped::Removed) => tracing::info!("image {id}: its fetch was stopped"),
            Err(Stopped::Failed(e)) => {
                tracing::warn!("image {id}: the fetch failed: {e}");
                keep_failure(&db, failed, &e).await;
            }
        }
    });
    Ok(info)
}

/// Why the background part ended without an image.
enum Stopped {
    /// Someone removed the row (the library's "Stop").
    Removed,
    Failed(AppError),
}

/// Streams the body into `upload`, writing the progress to its row.
async fn receive(
    db: &DatabaseConnection,
    mut upload: Upload,
    mut response: reqwest::Response,
) -> Result<ImageInfo, Stopped> {
    let id = upload.image_id();
    let mut received: u64 = 0;
    let mut written = Instant::now();
    loop {
        let next = match tokio::time::timeout(STALL, response.chunk()).await {
            Ok(next) => next,
            Err(_) => {
                let stalled = AppError::Refused(format!(
                    "No data arrived for {} s after {received} bytes; the fetch was stopped and nothing was kept.",
                    STALL.as_secs()
                ));
                return Err(Stopped::Failed(upload.fail(stalled).await));
            }
        };
        match next {
            Ok(None) => {
                if !progress(db, id, received).await {
                    let _ = upload.fail(AppError::Refused("stopped".to_owned())).await;
                    return Err(Stopped::Removed);
                }
                return upload.finish().await.map_err(Stopped::Failed);
            }
            Ok(Some(chunk)) => {
                received += chunk.len() as u64;
                if upload.write(chunk).await.is_err() {
                    // Removed under way (its volume went with the row)?
                    let removed = !progress(db, id, received).await;
                    let failed = AppError::Failed("the host stopped taking the image".to_owned());
                    let e = upload.fail(failed).await;
                    return Err(if removed {
                        Stopped::Removed
                    } else {
                        Stopped::Failed(e)
                    });
                }
                if written.elapsed() >= PROGRESS_EVERY {
                    written = Instant::now();
                    if !progress(db, id, received).await {
                        let _ = upload.fail(AppError::Refused("stopped".to_owned())).await;
                        return Err(Stopped::Removed);
                    }
                }
            }
            Err(e) => {
                let broke = AppError::Refused(format!(
                    "The fetch broke off after {received} bytes ({e}); nothing was kept."
                ));
                return Err(Stopped::Failed(upload.fail(broke).await));
            }
        }
    }
}

/// Writes the bytes in so far; `false` when the row is no longer an
/// image being fetched (removed: stop).
async fn progress(db: &DatabaseConnection, id: i32, received: u64) -> bool {
    match image::Entity::update_many()
        .col_expr(
            image::Column::ReceivedBytes,
            Expr::value(i64::try_from(received).unwrap_or(i64::MAX)),
        )
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::State.eq(ImageState::Uploading.as_str()))
        .exec(db)
        .await
    {
        Ok(r) => r.rows_affected > 0,
        // The database is away for a moment: the bytes go on.
        Err(e) => {
            tracing::warn!("image {id}: its progress was not written: {e}");
            true
        }
    }
}

/// Fetches cut off by a stop of the server (their task went with it): each
/// fetch row whose figures did not move during `pause` (a live fetch, of
/// this instance or another behind the same database, writes them twice a
/// second while bytes arrive) becomes a failed one, and what arrived of
/// its volume is deleted. Run once at start.
pub async fn recover_stopped(db: &DatabaseConnection, hosts: &HostRegistry, pause: Duration) {
    let fetching = || async {
        image::Entity::find()
            .filter(image::Column::State.eq(ImageState::Uploading.as_str()))
            .filter(image::Column::SourceUrl.ne(""))
            .all(db)
            .await
    };
    let Ok(before) = fetching().await else {
        return;
    };
    if before.is_empty() {
        return;
    }
    tokio::time::sleep(pause).await;
    let Ok(after) = fetching().await else {
        return;
    };
    for row in after {
        if !before
            .iter()
            .any(|b| b.id == row.id && b.received_bytes == row.received_bytes)
        {
            continue;
        }
        let marked = image::Entity::update_many()
            .col_expr(
                image::Column::State,
                Expr::value(ImageState::Failed.as_str()),
            )
            .col_expr(
                image::Column::Error,
                Expr::value(format!(
                    "Stackyard stopped during the fetch, after {} of {} bytes; nothing was kept. Fetch it again.",
                    row.received_bytes, row.size_bytes
                )),
            )
            .col_expr(image::Column::Volume, Expr::value(""))
            .col_expr(image::Column::Path, Expr::value(""))
            .filter(image::Column::Id.eq(row.id))
            .filter(image::Column::State.eq(ImageState::Uploading.as_str()))
            .filter(image::Column::ReceivedBytes.eq(row.received_bytes))
            .exec(db)
            .await;
        if !matches!(marked, Ok(r) if r.rows_affected == 1) {
            continue;
        }
        tracing::warn!(
            "image {}: its fetch was cut off by a stop of the server",
            row.id
        );
        if let Some((host, _)) = hosts.get(row.host_id) {
            let (pool, volume) = (row.pool.clone(), row.volume.clone());
            if let Err(e) =
                super::on_host(&host.uri, move |h| h.delete_volume(&pool, &volume)).await
            {
                tracing::warn!("image {}: its partial volume stays: {e}", row.id);
            }
        }
    }
}

/// Keeps a failed fetch in the library with its reason (its volume is
/// gone with the failure), unless its name was taken meanwhile.
async fn keep_failure(db: &DatabaseConnection, was: image::Model, e: &AppError) {
    let row = image::ActiveModel {
        host_id: Set(was.host_id),
        name: Set(was.name.clone()),
        kind: Set(was.kind),
        format: Set(was.format),
        pool: Set(was.pool),
        volume: Set(String::new()),
        path: Set(String::new()),
        size_bytes: Set(was.size_bytes),
        sha256: Set(String::new()),
        state: Set(ImageState::Failed.as_str().to_owned()),
        created_by: Set(was.created_by),
        created_at: Set(was.created_at),
        source_url: Set(was.source_url),
        received_bytes: Set(0),
        error: Set(e.to_string().chars().take(2000).collect()),
        ..Default::default()
    };
    if let Err(e) = row.insert(db).await {
        tracing::warn!("image {}: its failure was not kept: {e}", was.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_by_field() {
        assert!(check_url(
            "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2"
        )
        .is_ok());
        assert!(check_url("http://127.0.0.1:8080/grub.iso").is_ok());
        for (bad, says) in [
            ("", "Give the address"),
            ("cloud.debian.org/x.qcow2", "not an address"),
            ("ftp://example.org/x.iso", "not ftp://"),
            ("file:///etc/passwd", "not file://"),
            (
                "https://admin:secret@example.org/x.iso",
                "user name and password",
            ),
        ] {
            let e = check_url(bad).unwrap_err();
            let m = e.for_field("url").unwrap_or_default();
            assert!(m.contains(says), "{bad}: {m}");
        }
        assert!(check_url(&format!("https://example.org/{}", "a".repeat(URL_MAX))).is_err());
    }
}
