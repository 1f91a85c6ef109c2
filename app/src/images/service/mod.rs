//! The image library's server side: rows in the database, volumes on the
//! hosts. Every libvirt call here runs on a connection of its own, on a
//! thread of its own (an upload may take minutes; the host's worker is
//! never held by it).
//!
//! An upload ([`begin`], [`Upload`]) runs in this order, so that nothing is
//! half-written:
//! 1. the form's values are checked and the name is taken by a row in
//!    state `uploading`;
//! 2. a raw volume of exactly the announced size is made in the pool;
//! 3. the bytes stream into it (`virStorageVolUpload`), hashed on the way,
//!    their format checked against the kind as soon as the first
//!    [`ImageFormat::HEAD`] bytes are there;
//! 4. when every byte arrived and the SHA-256 is the one given (if any),
//!    the row becomes `ready`. Any failure deletes the volume and the row.

mod fetch;
pub mod media;
mod raw;

pub use fetch::{fetch, recover_stopped, FetchRequest};

use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::entity::image;
use super::{check_name, ImageFormat, ImageInfo, ImageKind, ImageLibrary, ImageState};
use crate::error::AppError;
use crate::hosts::entity::host;
use crate::hosts::registry::HostRegistry;
use crate::hosts::service::{HostError, HostHandle, Hypervisor, LibvirtHost};

/// How long making the volume may take before the upload is refused.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(60);
/// Chunks of the body waiting for the host at most (memory stays at a
/// few of them, whatever the file's size).
const QUEUE: usize = 8;
/// What is handed to libvirt at once.
const BATCH: usize = 1024 * 1024;

fn to_info(row: image::Model) -> ImageInfo {
    ImageInfo {
        id: row.id,
        host_id: row.host_id,
        name: row.name,
        kind: ImageKind::parse(&row.kind).unwrap_or(ImageKind::Installer),
        format: ImageFormat::parse(&row.format).unwrap_or(ImageFormat::Raw),
        pool: row.pool,
        volume: row.volume,
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        sha256: row.sha256,
        state: ImageState::parse(&row.state).unwrap_or(ImageState::Uploading),
        created_by: row.created_by,
        created_at: row.created_at.timestamp(),
        source_url: row.source_url,
        received_bytes: u64::try_from(row.received_bytes).unwrap_or(0),
        error: row.error,
    }
}

fn host_error(e: HostError) -> AppError {
    AppError::Refused(e.to_string())
}

/// Host `host_id` of the registry: its row and its worker.
fn host(hosts: &HostRegistry, host_id: i32) -> Result<(host::Model, HostHandle), AppError> {
    hosts
        .get(host_id)
        .ok_or_else(|| AppError::NotFound(format!("Host {host_id}")))
}

/// Runs `f` on a fresh connection to `uri`, on a blocking thread.
async fn on_host<T, F>(uri: &str, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&LibvirtHost) -> Result<T, HostError> + Send + 'static,
{
    let uri = uri.to_owned();
    tokio::task::spawn_blocking(move || {
        let host = LibvirtHost::connect(&uri)?;
        let out = f(&host);
        let _ = host.close();
        out
    })
    .await
    .map_err(|e| AppError::Failed(format!("the host's task failed: {e}")))?
    .map_err(host_error)
}

/// The images of host `host_id`, newest first.
pub async fn list(db: &DatabaseConnection, host_id: i32) -> Result<Vec<ImageInfo>, AppError> {
    Ok(image::Entity::find()
        .filter(image::Column::HostId.eq(host_id))
        .order_by_desc(image::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_info)
        .collect())
}

/// The images of host `host_id`, newest first, with its pools.
pub async fn library(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    host_id: i32,
) -> Result<ImageLibrary, AppError> {
    let (row, handle) = host(hosts, host_id)?;
    let images = list(db, host_id).await?;
    let (pools, pools_error) = match handle.capacity().await {
        Ok(cap) => (
            cap.pools
                .into_iter()
                .filter(|p| p.active)
                .map(|p| (p.name, p.available))
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(ImageLibrary {
        host_id,
        host_name: row.name,
        pools,
        images,
        pools_error,
    })
}

async fn find(db: &DatabaseConnection, host_id: i32, id: i32) -> Result<image::Model, AppError> {
    image::Entity::find_by_id(id)
        .filter(image::Column::HostId.eq(host_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Image {id}")))
}

async fn name_taken(
    db: &DatabaseConnection,
    host_id: i32,
    name: &str,
    except: Option<i32>,
) -> Result<bool, AppError> {
    let mut q = image::Entity::find()
        .filter(image::Column::HostId.eq(host_id))
        .filter(image::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(image::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

fn taken(name: &str) -> AppError {
    AppError::invalid(
        "name",
        format!("This host already has an image called {name}."),
    )
}

/// Renames image `id`; answers the old name and the image.
pub async fn rename(
    db: &DatabaseConnection,
    host_id: i32,
    id: i32,
    name: &str,
) -> Result<(String, ImageInfo), AppError> {
    let name = check_name(name)?;
    let row = find(db, host_id, id).await?;
    if name_taken(db, host_id, &name, Some(id)).await? {
        return Err(taken(&name));
    }
    let before = row.name.clone();
    let mut active = row.into_active_model();
    active.name = Set(name.clone());
    let row = active.update(db).await.map_err(|e| unique_name(e, &name))?;
    Ok((before, to_info(row)))
}

/// Two requests taking one name at once: the index refuses the second.
fn unique_name(e: sea_orm::DbErr, name: &str) -> AppError {
    let text = e.to_string().to_lowercase();
    if text.contains("unique") || text.contains("duplicate") {
        taken(name)
    } else {
        AppError::from(e)
    }
}

/// Deletes image `id` with its volume, unless a VM uses it; answers the
/// row it was.
pub async fn delete(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    host_id: i32,
    id: i32,
) -> Result<image::Model, AppError> {
    let row = find(db, host_id, id).await?;
    let (host, _) = host(hosts, host_id)?;
    match ImageState::parse(&row.state) {
        // A failed fetch has no volume left.
        Some(ImageState::Failed) => {
            image::Entity::delete_by_id(row.id).exec(db).await?;
            return Ok(row);
        }
        // Arriving (or stopped arriving): no VM uses it yet. The row goes
        // first, which stops a fetch under way, then the volume (the
        // fetch's own cleanup may have taken it already).
        Some(ImageState::Uploading) | None => {
            image::Entity::delete_by_id(row.id).exec(db).await?;
            let (pool, volume) = (row.pool.clone(), row.volume.clone());
            if !volume.is_empty() {
                if let Err(e) = on_host(&host.uri, move |h| h.delete_volume(&pool, &volume)).await {
                    tracing::info!("image {}: its partial volume: {e}", row.id);
                }
            }
            return Ok(row);
        }
        Some(ImageState::Ready) => {}
    }
    let (pool, volume, path) = (row.pool.clone(), row.volume.clone(), row.path.clone());
    let users = on_host(&host.uri, move |h| {
        let users = h.volume_users(&path)?;
        if users.is_empty() {
            h.delete_volume(&pool, &volume)?;
        }
        Ok(users)
    })
    .await?;
    if !users.is_empty() {
        return Err(AppError::Refused(format!(
            "{} is in use by {}: detach it or delete {} first.",
            row.name,
            users.join(", "),
            if users.len() == 1 {
                "that VM"
            } else {
                "those VMs"
            }
        )));
    }
    image::Entity::delete_by_id(row.id).exec(db).await?;
    Ok(row)
}

/// The ready image called `name` in host `host_id`'s library, with its
/// volume's path on the host.
pub async fn ready_by_name(
    db: &DatabaseConnection,
    host_id: i32,
    name: &str,
) -> Result<Option<(ImageInfo, String)>, sea_orm::DbErr> {
    Ok(image::Entity::find()
        .filter(image::Column::HostId.eq(host_id))
        .filter(image::Column::Name.eq(name))
        .filter(image::Column::State.eq(ImageState::Ready.as_str()))
        .one(db)
        .await?
        .map(|row| {
            let path = row.path.clone();
            (to_info(row), path)
        }))
}

/// Writes `bytes` as volume `name` of `pool` on the host at `uri` (a VM's
/// cloud-init seed), replacing a volume of that name; answers its path.
pub async fn put_volume(
    uri: &str,
    pool: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<String, HostError> {
    let (uri, pool, name) = (uri.to_owned(), pool.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || {
        let host = LibvirtHost::connect(&uri)?;
        let out = (|| {
            host.delete_volume(&pool, &name)?;
            let length = bytes.len() as u64;
            let info = host.create_raw_volume(&pool, &name, length)?;
            let written = (|| {
                let vol = host.storage_vol(&pool, &name)?;
                let mut stream = raw::UploadStream::open(host.connection()?, &vol, length)
                    .map_err(HostError::InvalidState)?;
                stream.send_all(&bytes).map_err(HostError::InvalidState)?;
                stream.finish().map_err(HostError::InvalidState)
            })();
            if let Err(e) = written {
                let _ = host.delete_volume(&pool, &name);
                return Err(e);
            }
            Ok(info.path)
        })();
        let _ = host.close();
        out
    })
    .await
    .map_err(|e| HostError::InvalidState(format!("the upload's task failed: {e}")))?
}

/// What an upload's form says.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub host_id: i32,
    pub pool: String,
    pub name: String,
    pub kind: String,
    /// The SHA-256 the file must have, if one was given.
    pub sha256: String,
    /// The body's length, from `Content-Length`.
    pub length: Option<u64>,
    pub username: String,
}

/// The volume's name for an image: its name in lowercase ASCII letters,
/// digits and `-`, with the row's id (unique in the pool, and readable in
/// `virsh vol-list`).
fn volume_name(name: &str, id: i32, kind: ImageKind) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "image" } else { slug };
    let ext = match kind {
        ImageKind::Installer => "iso",
        ImageKind::Cloud => "img",
    };
    format!("stackyard-{}-{id}.{ext}", &slug[..slug.len().min(40)])
}

/// What the upload's thread reports when it has stopped.
struct Done {
    sha256: String,
    format: ImageFormat,
    received: u64,
}

/// An upload under way: feed it the body's chunks with [`Upload::write`],
/// then [`Upload::finish`]. Dropped without finishing, its volume and row
/// are removed.
pub struct Upload {
    db: DatabaseConnection,
    row: image::Model,
    expected_sha256: Option<String>,
    length: u64,
    chunks: Option<mpsc::Sender<bytes_chunk::Chunk>>,
    done: Option<oneshot::Receiver<Result<Done, AppError>>>,
    cleaned: bool,
    uri: String,
}

mod bytes_chunk {
    /// One piece of the body, as it came off the connection (not copied).
    pub type Chunk = axum::body::Bytes;
}

/// The form's values, checked.
struct Checked {
    host: host::Model,
    name: String,
    kind: ImageKind,
    expected_sha256: Option<String>,
}

/// Checks an upload's or a fetch's form against the host (its pool, with
/// room for `length` bytes when known) and the library (the name free; a
/// failed fetch holding it is cleared).
async fn check_form(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    req: &UploadRequest,
    length: Option<u64>,
) -> Result<Checked, AppError> {
    let (host, handle) = host(hosts, req.host_id)?;
    let name = check_name(&req.name)?;
    let kind = ImageKind::parse(&req.kind).ok_or_else(|| {
        AppError::invalid(
            "kind",
            "Choose what the image is: an installer ISO or a cloud image.",
        )
    })?;
    let expected_sha256 = super::check_sha256(&req.sha256)?;
    if req.pool.trim().is_empty() {
        return Err(AppError::invalid("pool", "Choose a storage pool."));
    }
    // The pool's free space, from the worker's cache: a full pool refuses
    // before a byte is sent (libvirt would fail at the end otherwise).
    if let Some(cap) = handle.snapshot().capacity {
        match cap.pools.iter().find(|p| p.name == req.pool) {
            None => {
                return Err(AppError::invalid(
                    "pool",
                    format!("{} has no storage pool called {}.", host.name, req.pool),
                ))
            }
            Some(p) if !p.active => {
                return Err(AppError::invalid(
                    "pool",
                    format!("Storage pool {} is not started.", p.name),
                ))
            }
            Some(p) if length.is_some_and(|n| p.available < n) => {
                return Err(AppError::invalid(
                    "pool",
                    format!(
                        "Storage pool {} has {} free; the file needs {}.",
                        p.name,
                        super::human_size(p.available),
                        super::human_size(length.unwrap_or(0))
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    // A failed fetch only says why it failed: taking its name again is
    // trying again.
    image::Entity::delete_many()
        .filter(image::Column::HostId.eq(req.host_id))
        .filter(image::Column::Name.eq(name.as_str()))
        .filter(image::Column::State.eq(ImageState::Failed.as_str()))
        .exec(db)
        .await?;
    if name_taken(db, req.host_id, &name, None).await? {
        return Err(taken(&name));
    }
    Ok(Checked {
        host,
        name,
        kind,
        expected_sha256,
    })
}

/// Checks the form and makes the volume; the body is read only after this
/// answers.
pub async fn begin(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    req: UploadRequest,
) -> Result<Upload, AppError> {
    begin_from(db, hosts, req, "").await
}

/// [`begin`] for bytes coming from `source_url` (empty: the request).
async fn begin_from(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    req: UploadRequest,
    source_url: &str,
) -> Result<Upload, AppError> {
    let length = match req.length {
        Some(0) => return Err(AppError::invalid("file", "The file is empty.")),
        Some(n) => n,
        None => {
            return Err(AppError::invalid(
                "file",
                "The upload must say its length (Content-Length).",
            ))
        }
    };
    let Checked {
        host,
        name,
        kind,
        expected_sha256,
    } = check_form(db, hosts, &req, Some(length)).await?;
    let now = chrono::Utc::now();
    let row = image::ActiveModel {
        host_id: Set(req.host_id),
        name: Set(name.clone()),
        kind: Set(kind.as_str().to_owned()),
        format: Set(match kind {
            ImageKind::Installer => ImageFormat::Iso,
            ImageKind::Cloud => ImageFormat::Raw,
        }
        .as_str()
        .to_owned()),
        pool: Set(req.pool.clone()),
        // Set below, from the id.
        volume: Set(String::new()),
        path: Set(String::new()),
        size_bytes: Set(i64::try_from(length).unwrap_or(i64::MAX)),
        sha256: Set(String::new()),
        state: Set(ImageState::Uploading.as_str().to_owned()),
        created_by: Set(req.username.clone()),
        created_at: Set(now),
        source_url: Set(source_url.to_owned()),
        received_bytes: Set(0),
        error: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| unique_name(e, &name))?;
    let volume = volume_name(&name, row.id, kind);
    let mut upload = Upload {
        db: db.clone(),
        row,
        expected_sha256,
        length,
        chunks: None,
        done: None,
        cleaned: false,
        uri: host.uri.clone(),
    };
    let (ready_tx, ready_rx) = oneshot::channel();
    let (chunk_tx, chunk_rx) = mpsc::channel(QUEUE);
    let (done_tx, done_rx) = oneshot::channel();
    let (uri, pool, vol) = (host.uri.clone(), req.pool.clone(), volume.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("upload {volume}"))
        .spawn(move || pump(&uri, &pool, &vol, length, kind, ready_tx, chunk_rx, done_tx));
    if let Err(e) = spawned {
        upload.remove_row().await;
        return Err(AppError::Failed(format!(
            "cannot start the upload's thread: {e}"
        )));
    }
    let path = match tokio::time::timeout(PREPARE_TIMEOUT, ready_rx).await {
        Ok(Ok(Ok(path))) => path,
        Ok(Ok(Err(e))) => {
            upload.remove_row().await;
            return Err(match e {
                HostError::InvalidState(m) => AppError::invalid("pool", format!("{m}.")),
                HostError::NoSuchPool(_) => AppError::invalid("pool", e.to_string()),
                e => host_error(e),
            });
        }
        Ok(Err(_)) | Err(_) => {
            upload.remove_row().await;
            return Err(AppError::Failed(format!(
                "{} did not make the volume within {} s.",
                host.name,
                PREPARE_TIMEOUT.as_secs()
            )));
        }
    };
    let mut active = upload.row.clone().into_active_model();
    active.volume = Set(volume);
    active.path = Set(path);
    upload.row = match active.update(db).await {
        Ok(row) => row,
        Err(e) => {
            drop(chunk_tx);
            upload.cleanup().await;
            return Err(e.into());
        }
    };
    upload.chunks = Some(chunk_tx);
    upload.done = Some(done_rx);
    Ok(upload)
}

/// The upload's thread: makes the volume, says where it is, then writes
/// what arrives until `length` bytes are in (or the sender goes away).
#[allow(clippy::too_many_arguments)]
fn pump(
    uri: &str,
    pool: &str,
    volume: &str,
    length: u64,
    kind: ImageKind,
    ready: oneshot::Sender<Result<String, HostError>>,
    mut chunks: mpsc::Receiver<bytes_chunk::Chunk>,
    done: oneshot::Sender<Result<Done, AppError>>,
) {
    let host = match LibvirtHost::connect(uri) {
        Ok(h) => h,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let vol = match host.create_raw_volume(pool, volume, length) {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e));
            let _ = host.close();
            return;
        }
    };
    if ready.send(Ok(vol.path)).is_err() {
        let _ = host.delete_volume(pool, volume);
        let _ = host.close();
        return;
    }
    let result = write_all(&host, pool, volume, length, kind, &mut chunks);
    if result.is_err() {
        // The stream is aborted by now; the volume goes with the failure.
        let _ = host.delete_volume(pool, volume);
    }
    let _ = host.close();
    let _ = done.send(result);
}

fn write_all(
    host: &LibvirtHost,
    pool: &str,
    volume: &str,
    length: u64,
    kind: ImageKind,
    chunks: &mut mpsc::Receiver<bytes_chunk::Chunk>,
) -> Result<Done, AppError> {
    let vol = host.storage_vol(pool, volume).map_err(host_error)?;
    let conn = host.connection().map_err(host_error)?;
    let mut stream = raw::UploadStream::open(conn, &vol, length)
        .map_err(|e| AppError::Refused(format!("the host refused the upload: {e}")))?;
    let mut hash = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(ImageFormat::HEAD);
    let mut format = None;
    let mut received: u64 = 0;
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH);
    while let Some(chunk) = chunks.blocking_recv() {
        received += chunk.len() as u64;
        if received > length {
            return Err(AppError::invalid(
                "file",
                format!("The upload sent more than the {length} bytes it announced."),
            ));
        }
        if format.is_none() {
            let want = ImageFormat::HEAD - head.len();
            head.extend_from_slice(&chunk[..chunk.len().min(want)]);
            if head.len() == ImageFormat::HEAD || received == length {
                let f = ImageFormat::detect(&head);
                f.fits(kind)
                    .map_err(|why| AppError::invalid("file", capitalise(&why)))?;
                format = Some(f);
            }
        }
        hash.update(&chunk);
        // The body arrives in pieces of a few KiB; libvirt is given them
        // a MiB at a time (one RPC message each, not hundreds).
        batch.extend_from_slice(&chunk);
        if batch.len() >= BATCH || received == length {
            stream
                .send_all(&batch)
                .map_err(|e| AppError::Refused(format!("the host stopped the upload: {e}")))?;
            batch.clear();
        }
        if received == length {
            break;
        }
    }
    if received < length {
        return Err(AppError::invalid(
            "file",
            format!("The upload broke off after {received} of {length} bytes; nothing was kept."),
        ));
    }
    stream
        .finish()
        .map_err(|e| AppError::Refused(format!("the host did not finish the upload: {e}")))?;
    // libvirt reads the volume's format and size again.
    let _ = host.refresh_pool(pool);
    Ok(Done {
        sha256: hex(&hash.finalize()),
        format: format.unwrap_or(ImageFormat::Raw),
        received,
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Upload {
    /// The image's row while it uploads.
    pub fn image_id(&self) -> i32 {
        self.row.id
    }

    /// Hands one chunk of the body to the host. An error means the upload
    /// failed: [`Upload::fail`] says why and cleans up.
    pub async fn write(&mut self, chunk: axum::body::Bytes) -> Result<(), ()> {
        match &self.chunks {
            Some(tx) => tx.send(chunk).await.map_err(|_| ()),
            None => Err(()),
        }
    }

    /// Waits for the host's side to stop and answers its error, or
    /// `broke_off` when it has none (the body, not the host, failed);
    /// removes the volume and the row.
    pub async fn fail(mut self, broke_off: AppError) -> AppError {
        self.chunks = None;
        let why = match self.done.take() {
            Some(rx) => match rx.await {
                Ok(Err(e)) => e,
                _ => broke_off,
            },
            None => broke_off,
        };
        self.cleanup().await;
        why
    }

    /// All of the body was handed over: waits for the host to confirm,
    /// checks the SHA-256 and marks the image ready.
    pub async fn finish(mut self) -> Result<ImageInfo, AppError> {
        self.chunks = None;
        let done = match self.done.take() {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(AppError::Failed("the upload's thread ended".to_owned()))),
            None => Err(AppError::Failed("the upload never started".to_owned())),
        };
        let done = match done {
            Ok(d) if d.received == self.length => d,
            Ok(d) => {
                let e = AppError::invalid(
                    "file",
                    format!(
                        "The upload broke off after {} of {} bytes; nothing was kept.",
                        d.received, self.length
                    ),
                );
                self.cleanup_with_volume().await;
                return Err(e);
            }
            Err(e) => {
                self.cleanup().await;
                return Err(e);
            }
        };
        if let Some(want) = self.expected_sha256.clone() {
            if want != done.sha256 {
                self.cleanup_with_volume().await;
                return Err(AppError::invalid(
                    "sha256",
                    format!(
                        "The file's SHA-256 is {}, not the {want} given: it was not kept. Check the file and upload it again.",
                        done.sha256
                    ),
                ));
            }
        }
        let mut active = self.row.clone().into_active_model();
        active.sha256 = Set(done.sha256);
        active.format = Set(done.format.as_str().to_owned());
        active.state = Set(ImageState::Ready.as_str().to_owned());
        active.received_bytes = Set(i64::try_from(done.received).unwrap_or(i64::MAX));
        match active.update(&self.db).await {
            Ok(row) => {
                self.cleaned = true;
                Ok(to_info(row))
            }
            Err(e) => {
                self.cleanup_with_volume().await;
                Err(e.into())
            }
        }
    }

    async fn remove_row(&mut self) {
        self.cleaned = true;
        if let Err(e) = image::Entity::delete_by_id(self.row.id)
            .exec(&self.db)
            .await
        {
            tracing::warn!("image {}: the failed upload's row stays: {e}", self.row.id);
        }
    }

    /// After the thread removed the volume itself (it does on failure).
    async fn cleanup(&mut self) {
        self.remove_row().await;
    }

    /// The volume was written completely but is refused: delete it too.
    async fn cleanup_with_volume(&mut self) {
        let (pool, volume) = (self.row.pool.clone(), self.row.volume.clone());
        if let Err(e) = on_host(&self.uri, move |h| h.delete_volume(&pool, &volume)).await {
            tracing::warn!("image {}: the refused volume stays: {e}", self.row.id);
        }
        self.remove_row().await;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        // Dropped mid-way (the request was cancelled): the thread sees the
        // sender go, aborts and deletes the volume; the row goes here.
        self.chunks = None;
        let db = self.db.clone();
        let id = self.row.id;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = image::Entity::delete_by_id(id).exec(&db).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_are_readable_and_unique_by_id() {
        assert_eq!(
            volume_name("Debian 12 (cloud)", 7, ImageKind::Cloud),
            "stackyard-debian-12-cloud-7.img"
        );
        assert_eq!(
            volume_name("ÄÖ", 3, ImageKind::Installer),
            "stackyard-image-3.iso"
        );
    }
}
