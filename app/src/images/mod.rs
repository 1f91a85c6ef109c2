//! Images and what VMs are made from: each host's library of installer
//! ISOs and cloud images, kept as volumes of its storage pools.
//!
//! An image arrives by upload from the browser: `POST /images/upload`
//! (operators) streams the request body through the server into libvirt's
//! volume upload, so it works on a remote `qemu+ssh` host and needs nothing
//! there, and a body of several GB never sits in memory; the SHA-256 is
//! computed on the way and checked against the one given. Or the server
//! fetches it from an address (`http://` or `https://`, [`fetch_image`])
//! in the background, through the same path into the volume; the library
//! shows how far it is. The library is
//! listed, renamed and deleted with the server functions below; an image a
//! VM still uses (as its CD-ROM, its disk, or the backing file of its
//! disk) is not deleted.

#[cfg(feature = "ssr")]
pub mod entity;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod service;

use crate::api;
use crate::auth::{Access, Role};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What an image is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// An installer CD image: attached as a CD-ROM, booted first.
    Installer,
    /// A disk image with cloud-init: a VM's disk is an overlay on it,
    /// configured at first boot from a NoCloud seed.
    Cloud,
}

impl ImageKind {
    pub const ALL: [ImageKind; 2] = [ImageKind::Installer, ImageKind::Cloud];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Installer => "installer",
            ImageKind::Cloud => "cloud",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the library page says it.
    pub fn label(self) -> &'static str {
        match self {
            ImageKind::Installer => "Installer ISO",
            ImageKind::Cloud => "Cloud image (cloud-init)",
        }
    }
}

/// What the bytes of an image are, read from their first sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// An ISO 9660 CD image (`CD001` at byte 32,769).
    Iso,
    /// QEMU's copy-on-write disk format (`QFI\xfb` at byte 0).
    Qcow2,
    /// Anything else: a raw disk image.
    Raw,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Iso => "iso",
            ImageFormat::Qcow2 => "qcow2",
            ImageFormat::Raw => "raw",
        }
    }

    pub fn parse(s: &str) -> Option<ImageFormat> {
        [ImageFormat::Iso, ImageFormat::Qcow2, ImageFormat::Raw]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    /// The bytes [`ImageFormat::detect`] needs to tell an ISO.
    pub const HEAD: usize = 32_774;

    /// The format of an image whose first bytes are `head` (at least
    /// [`Self::HEAD`] of them, or the whole image when it is shorter).
    pub fn detect(head: &[u8]) -> ImageFormat {
        if head.starts_with(b"QFI\xfb") {
            ImageFormat::Qcow2
        } else if head.get(32_769..32_774) == Some(b"CD001") {
            ImageFormat::Iso
        } else {
            ImageFormat::Raw
        }
    }

    /// Whether an image of this format can be a `kind`; the message says
    /// why not.
    pub fn fits(self, kind: ImageKind) -> Result<(), String> {
        match (kind, self) {
            (ImageKind::Installer, ImageFormat::Iso) => Ok(()),
            (ImageKind::Installer, other) => Err(format!(
                "this file is not an ISO 9660 CD image (it reads as {}); an installer must be an ISO",
                other.as_str()
            )),
            (ImageKind::Cloud, ImageFormat::Qcow2 | ImageFormat::Raw) => Ok(()),
            (ImageKind::Cloud, ImageFormat::Iso) => Err(
                "this file is a CD image (ISO); a cloud image is a disk image (qcow2 or raw)"
                    .to_owned(),
            ),
        }
    }
}

/// Whether an image can be used yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageState {
    /// Its bytes are arriving (or stopped arriving: the server went down
    /// during the upload; delete it and upload again).
    Uploading,
    /// Complete and checked.
    Ready,
    /// A fetch that did not finish: its volume is gone, the row says why
    /// until it is removed (or its name is taken again).
    Failed,
}

impl ImageState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageState::Uploading => "uploading",
            ImageState::Ready => "ready",
            ImageState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ImageState> {
        match s {
            "uploading" => Some(ImageState::Uploading),
            "ready" => Some(ImageState::Ready),
            "failed" => Some(ImageState::Failed),
            _ => None,
        }
    }
}

/// One image of a host's library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub id: i32,
    pub host_id: i32,
    /// Its name in Stackyard (unique per host); the volume keeps its own.
    pub name: String,
    pub kind: ImageKind,
    pub format: ImageFormat,
    pub pool: String,
    pub volume: String,
    /// The file's size, bytes.
    pub size_bytes: u64,
    /// SHA-256 of the file as it arrived, lowercase hex.
    pub sha256: String,
    pub state: ImageState,
    pub created_by: String,
    /// When it was added, seconds since the Unix epoch.
    pub created_at: i64,
    /// The address the server fetched it from; empty for an upload.
    pub source_url: String,
    /// Bytes in so far while it is fetched.
    pub received_bytes: u64,
    /// Why its fetch failed (state [`ImageState::Failed`]).
    pub error: String,
}

impl ImageInfo {
    /// Whether the server is fetching it now.
    pub fn fetching(&self) -> bool {
        self.state == ImageState::Uploading && !self.source_url.is_empty()
    }
}

/// A host's library and where an upload can go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLibrary {
    pub host_id: i32,
    pub host_name: String,
    /// The host's active storage pools with their free bytes.
    pub pools: Vec<(String, u64)>,
    pub images: Vec<ImageInfo>,
    /// Why the pools could not be read (the host is unreachable), if so.
    pub pools_error: Option<String>,
}

/// A CD drive of a VM, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDrive {
    /// The guest's device, e.g. `hdc`.
    pub target: String,
    /// The file in it on the host; none: empty.
    pub path: Option<String>,
    /// The library's name for that file, when it is one of its images.
    pub image: Option<String>,
}

/// A VM's CD drives and the discs that can go in them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmMedia {
    pub drives: Vec<MediaDrive>,
    /// Running: a disc can be changed, a drive cannot be added.
    pub running: bool,
    /// The host's ready installer ISOs: (id, name).
    pub isos: Vec<(i32, String)>,
}

/// The longest image name.
pub const NAME_MAX: usize = 64;

/// An image's name: 1 to [`NAME_MAX`] letters, digits, spaces, `.`, `-`,
/// `_`, `+`, `(`, `)`; trimmed.
pub fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Give the image a name."));
    }
    if name.chars().count() > NAME_MAX {
        return Err(AppError::invalid(
            "name",
            format!("A name has at most {NAME_MAX} characters."),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || " .-_+()".contains(*c)))
    {
        return Err(AppError::invalid(
            "name",
            format!("'{c}' cannot be part of a name: use letters, digits, spaces and . - _ + ( )"),
        ));
    }
    Ok(name.to_owned())
}

/// A SHA-256 as given in a form: empty (none to check), or 64 hex digits
/// (lowercased; a `sha256sum` line's file name part is dropped).
pub fn check_sha256(given: &str) -> Result<Option<String>, AppError> {
    let hex = given.split_whitespace().next().unwrap_or("");
    if hex.is_empty() {
        return Ok(None);
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "sha256",
            "A SHA-256 is 64 hexadecimal digits (as sha256sum prints it).",
        ));
    }
    Ok(Some(hex.to_ascii_lowercase()))
}

/// A size in bytes for people: `4.8 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Where an upload goes: `POST` the file's bytes to this path with these
/// query parameters (see `server/src/images.rs`).
pub const UPLOAD_PATH: &str = "/images/upload";

api::access!(ImageLibraryOf, Access::Role(Role::Viewer));
api::access!(ImagesOf, Access::Role(Role::Viewer));
api::access!(RenameImage, Access::Role(Role::Operator));
api::access!(DeleteImage, Access::Role(Role::Operator));
api::access!(FetchImage, Access::Role(Role::Operator));
api::access!(VmMediaOf, Access::Role(Role::Viewer));
api::access!(ChangeMedia, Access::Role(Role::Operator));
crate::route_access!("/images/upload", Access::Role(Role::Operator));

/// Host `host_id`'s images and storage pools.
#[server(prefix = "/api", endpoint = "images/library")]
pub async fn image_library_of(host_id: i32) -> Result<ImageLibrary, AppError> {
    api::call::<ImageLibraryOf>()
        .run(|c| async move { service::library(c.db(), &c.state.hosts, host_id).await })
        .await
}

/// Has the server fetch an image from `url` into `pool`: answers once the
/// address answered with the file's length and the volume is made; the
/// bytes then arrive in the background ([`ImageInfo::received_bytes`]).
#[server(prefix = "/api", endpoint = "images/fetch")]
pub async fn fetch_image(
    host_id: i32,
    url: String,
    name: String,
    kind: String,
    pool: String,
    sha256: String,
) -> Result<ImageInfo, AppError> {
    api::call::<FetchImage>()
        .audit(
            "image.fetch",
            format!("host {host_id} image {}", name.trim()),
        )
        .run(|c| async move {
            let request = service::FetchRequest {
                url,
                upload: service::UploadRequest {
                    host_id,
                    pool,
                    name,
                    kind,
                    sha256,
                    length: None,
                    username: c.username().to_owned(),
                },
            };
            let image = service::fetch(c.db(), &c.state.hosts, request).await?;
            c.summary(format!(
                "{} ({} bytes) from {} into pool {} as {}",
                image.name, image.size_bytes, image.source_url, image.pool, image.volume
            ));
            Ok::<_, AppError>(image)
        })
        .await
}

/// Host `host_id`'s images alone (what the library page asks for while
/// a fetch is under way).
#[server(prefix = "/api", endpoint = "images/list")]
pub async fn images_of(host_id: i32) -> Result<Vec<ImageInfo>, AppError> {
    api::call::<ImagesOf>()
        .run(|c| async move { service::list(c.db(), host_id).await })
        .await
}

/// VM `vm`'s CD drives, and the installer ISOs of its host.
#[server(prefix = "/api", endpoint = "images/media")]
pub async fn vm_media_of(host_id: i32, vm: String) -> Result<VmMedia, AppError> {
    api::call::<VmMediaOf>()
        .run(|c| async move { service::media::media(c.db(), &c.state.hosts, host_id, &vm).await })
        .await
}

/// Puts installer ISO `image_id` (0: none, an eject) in VM `vm`'s CD
/// drive `target` (empty: a new drive, the VM shut off); answers the
/// drives as they are then.
#[server(prefix = "/api", endpoint = "images/media/change")]
pub async fn change_media(
    host_id: i32,
    vm: String,
    target: String,
    image_id: i32,
) -> Result<VmMedia, AppError> {
    api::call::<ChangeMedia>()
        .audit("vm.media", format!("host {host_id} {vm}"))
        .run(|c| async move {
            let (said, media) =
                service::media::change(c.db(), &c.state.hosts, host_id, &vm, &target, image_id)
                    .await?;
            c.summary(said);
            Ok::<_, AppError>(media)
        })
        .await
}

/// Renames an image (its volume keeps its name).
#[server(prefix = "/api", endpoint = "images/rename")]
pub async fn rename_image(host_id: i32, id: i32, name: String) -> Result<ImageInfo, AppError> {
    api::call::<RenameImage>()
        .audit("image.rename", format!("host {host_id} image {id}"))
        .run(|c| async move {
            let (before, after) = service::rename(c.db(), host_id, id, &name).await?;
            c.summary(format!("{before} → {}", after.name));
            Ok::<_, AppError>(after)
        })
        .await
}

/// Deletes an image and its volume; refused while a VM uses it.
#[server(prefix = "/api", endpoint = "images/delete")]
pub async fn delete_image(host_id: i32, id: i32) -> Result<(), AppError> {
    api::call::<DeleteImage>()
        .audit("image.delete", format!("host {host_id} image {id}"))
        .run(|c| async move {
            let gone = service::delete(c.db(), &c.state.hosts, host_id, id).await?;
            c.target(format!("host {host_id} image {}", gone.name));
            Ok::<_, AppError>(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_from_the_first_bytes() {
        let mut iso = vec![0u8; ImageFormat::HEAD];
        iso[32_769..32_774].copy_from_slice(b"CD001");
        assert_eq!(ImageFormat::detect(&iso), ImageFormat::Iso);
        assert_eq!(
            ImageFormat::detect(b"QFI\xfb\0\0\0\x03"),
            ImageFormat::Qcow2
        );
        assert_eq!(ImageFormat::detect(&[0u8; 512]), ImageFormat::Raw);
        assert_eq!(ImageFormat::detect(b""), ImageFormat::Raw);
        assert!(ImageFormat::Iso.fits(ImageKind::Installer).is_ok());
        assert!(ImageFormat::Qcow2.fits(ImageKind::Installer).is_err());
        assert!(ImageFormat::Iso.fits(ImageKind::Cloud).is_err());
        assert!(ImageFormat::Raw.fits(ImageKind::Cloud).is_ok());
    }

    #[test]
    fn names_and_checksums_are_checked_by_field() {
        assert_eq!(
            check_name("  Debian 12 (cloud) ").ok().as_deref(),
            Some("Debian 12 (cloud)")
        );
        assert!(check_name("").unwrap_err().for_field("name").is_some());
        assert!(check_name("a/b").unwrap_err().to_string().contains("'/'"));
        assert!(check_name(&"x".repeat(65)).is_err());
        let sum = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            check_sha256(&format!("{sum}  debian.qcow2"))
                .ok()
                .flatten()
                .as_deref(),
            Some(sum.to_ascii_lowercase().as_str())
        );
        assert_eq!(check_sha256("  ").ok(), Some(None));
        assert!(check_sha256("abc")
            .unwrap_err()
            .for_field("sha256")
            .is_some());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(5 * 1024 * 1024 - 1024 * 200), "4.8 MiB");
        assert_eq!(human_size(2 * 1024 * 1024 * 1024), "2.0 GiB");
    }
}
