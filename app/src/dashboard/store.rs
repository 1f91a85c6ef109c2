//! The dashboard's reads of other domains' tables that those domains'
//! stores do not offer: the serial each zone was last applied with, the
//! serials of zone histories, the secondary servers, and the mail domains.
//! The dashboard has no table of its own, hence no `entity`.

use crate::dns::entity::{server as server_row, version, zone as zone_row};
use crate::mail::entity::mail_domain;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::BTreeMap;

/// Each zone's serial as last applied on the primary (`None`: never).
pub async fn applied_serials<C: ConnectionTrait>(
    db: &C,
) -> Result<BTreeMap<i32, Option<u32>>, DbErr> {
    Ok(zone_row::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|z| (z.id, z.applied_serial.and_then(|s| u32::try_from(s).ok())))
        .collect())
}

/// The serials in the histories of `zones`.
pub async fn version_serials<C: ConnectionTrait>(
    db: &C,
    zones: Vec<i32>,
) -> Result<BTreeMap<i32, Vec<u32>>, DbErr> {
    let mut versions: BTreeMap<i32, Vec<u32>> = BTreeMap::new();
    if zones.is_empty() {
        return Ok(versions);
    }
    let rows: Vec<(i32, i64)> = version::Entity::find()
        .select_only()
        .column(version::Column::ZoneId)
        .column(version::Column::Serial)
        .filter(version::Column::ZoneId.is_in(zones))
        .into_tuple()
        .all(db)
        .await?;
    for (zone, serial) in rows {
        if let Ok(serial) = u32::try_from(serial) {
            versions.entry(zone).or_default().push(serial);
        }
    }
    Ok(versions)
}

/// The secondary DNS servers, in the order they were added.
pub async fn secondaries<C: ConnectionTrait>(db: &C) -> Result<Vec<server_row::Model>, DbErr> {
    server_row::Entity::find()
        .filter(server_row::Column::Role.eq("secondary"))
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await
}

/// Every mail domain, by name.
pub async fn mail_domains<C: ConnectionTrait>(db: &C) -> Result<Vec<mail_domain::Model>, DbErr> {
    mail_domain::Entity::find()
        .order_by_asc(mail_domain::Column::Name)
        .all(db)
        .await
}
