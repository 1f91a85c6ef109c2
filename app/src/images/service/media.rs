//! The discs in a VM's CD drives: an installer ISO of the library put in,
//! taken out (eject), or a drive added to a VM that has none. A running VM
//! gets the change at once and keeps it in its definition; a drive is
//! only added while the VM is shut off.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{capitalise, find, host, on_host};
use crate::error::AppError;
use crate::hosts::registry::HostRegistry;
use crate::images::entity::image;
use crate::images::{ImageKind, ImageState, MediaDrive, VmMedia};

/// VM `vm`'s drives, each with the library's name for its disc.
pub async fn media(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    host_id: i32,
    vm: &str,
) -> Result<VmMedia, AppError> {
    let uri = host(hosts, host_id)?.0.uri;
    let name = vm.to_owned();
    let (drives, running) = on_host(&uri, move |h| h.cd_drives(&name)).await?;
    let images = image::Entity::find()
        .filter(image::Column::HostId.eq(host_id))
        .filter(image::Column::State.eq(ImageState::Ready.as_str()))
        .order_by_asc(image::Column::Name)
        .all(db)
        .await?;
    let drives = drives
        .into_iter()
        .map(|d| MediaDrive {
            image: d
                .path
                .as_deref()
                .and_then(|p| images.iter().find(|i| i.path == p))
                .map(|i| i.name.clone()),
            target: d.target,
            path: d.path,
        })
        .collect();
    Ok(VmMedia {
        drives,
        running,
        isos: images
            .into_iter()
            .filter(|i| i.kind == ImageKind::Installer.as_str())
            .map(|i| (i.id, i.name))
            .collect(),
    })
}

/// Puts image `image_id` (0: nothing) in drive `target` of VM `vm`
/// (empty: a new drive); answers what the audit says and the drives.
pub async fn change(
    db: &DatabaseConnection,
    hosts: &HostRegistry,
    host_id: i32,
    vm: &str,
    target: &str,
    image_id: i32,
) -> Result<(String, VmMedia), AppError> {
    let uri = host(hosts, host_id)?.0.uri;
    let disc = if image_id == 0 {
        None
    } else {
        let row = find(db, host_id, image_id)
            .await
            .map_err(|_| AppError::invalid("image", "Choose an ISO of this host's library."))?;
        if row.state != ImageState::Ready.as_str() {
            return Err(AppError::invalid(
                "image",
                format!("{} is not complete yet.", row.name),
            ));
        }
        if row.kind != ImageKind::Installer.as_str() {
            return Err(AppError::invalid(
                "image",
                format!(
                    "{} is a cloud image: it is a VM's disk, not a disc for its CD drive.",
                    row.name
                ),
            ));
        }
        Some(row)
    };
    let target = target.trim();
    if target.is_empty() && disc.is_none() {
        return Err(AppError::invalid(
            "image",
            "Choose the ISO the new drive holds.",
        ));
    }
    let (name, path) = (vm.to_owned(), disc.as_ref().map(|d| d.path.clone()));
    let given = (!target.is_empty()).then(|| target.to_owned());
    let drive = on_host(&uri, move |h| {
        h.set_cd_media(&name, given.as_deref(), path.as_deref())
    })
    .await
    .map_err(|e| match e {
        AppError::Refused(m) => AppError::Refused(capitalise(m.trim_end_matches('.'))),
        e => e,
    })?;
    let said = match (&disc, target.is_empty()) {
        (Some(d), true) => format!("new CD drive {drive} with {}", d.name),
        (Some(d), false) => format!("{drive}: {}", d.name),
        (None, _) => format!("{drive}: ejected"),
    };
    Ok((said, media(db, hosts, host_id, vm).await?))
}
