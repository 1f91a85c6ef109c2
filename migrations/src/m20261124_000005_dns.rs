//! Authoritative DNS: zones with their managed SOA, records (one row per
//! record, RDATA kept as the zone model's JSON so it reads back exactly),
//! every version of each zone for history and revert, the NSD servers and
//! the TSIG key they share.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DnsZone {
    Table,
    Id,
    Origin,
    Reverse,
    DefaultTtl,
    SoaTtl,
    SoaMname,
    SoaRname,
    Serial,
    Refresh,
    Retry,
    Expire,
    Minimum,
    AppliedSerial,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DnsRecord {
    Table,
    Id,
    ZoneId,
    Owner,
    Rtype,
    Ttl,
    Rdata,
}

#[derive(DeriveIden)]
enum DnsZoneVersion {
    Table,
    Id,
    ZoneId,
    Serial,
    Actor,
    At,
    Summary,
    Diff,
    Content,
}

#[derive(DeriveIden)]
enum DnsServer {
    Table,
    Id,
    Name,
    Role,
    NsName,
    Address,
    Port,
    ZonesDir,
    Reload,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DnsTsigKey {
    Table,
    Id,
    Name,
    Algorithm,
    Secret,
    CreatedAt,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DnsZone::Table)
                    .if_not_exists()
                    .col(id(DnsZone::Id))
                    .col(
                        ColumnDef::new(DnsZone::Origin)
                            .string_len(512)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(DnsZone::Reverse).boolean().not_null())
                    .col(big(DnsZone::DefaultTtl))
                    .col(big(DnsZone::SoaTtl))
                    .col(ColumnDef::new(DnsZone::SoaMname).string_len(512).not_null())
                    .col(ColumnDef::new(DnsZone::SoaRname).string_len(512).not_null())
                    .col(big(DnsZone::Serial))
                    .col(big(DnsZone::Refresh))
                    .col(big(DnsZone::Retry))
                    .col(big(DnsZone::Expire))
                    .col(big(DnsZone::Minimum))
                    .col(ColumnDef::new(DnsZone::AppliedSerial).big_integer().null())
                    .col(at(DnsZone::CreatedAt))
                    .col(at(DnsZone::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DnsRecord::Table)
                    .if_not_exists()
                    .col(id(DnsRecord::Id))
                    .col(ColumnDef::new(DnsRecord::ZoneId).integer().not_null())
                    .col(ColumnDef::new(DnsRecord::Owner).string_len(512).not_null())
                    .col(ColumnDef::new(DnsRecord::Rtype).string_len(16).not_null())
                    .col(big(DnsRecord::Ttl))
                    .col(ColumnDef::new(DnsRecord::Rdata).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dns_record_zone")
                            .from(DnsRecord::Table, DnsRecord::ZoneId)
                            .to(DnsZone::Table, DnsZone::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dns_record_rrset")
                    .table(DnsRecord::Table)
                    .col(DnsRecord::ZoneId)
                    .col(DnsRecord::Owner)
                    .col(DnsRecord::Rtype)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DnsZoneVersion::Table)
                    .if_not_exists()
                    .col(id(DnsZoneVersion::Id))
                    .col(ColumnDef::new(DnsZoneVersion::ZoneId).integer().not_null())
                    .col(big(DnsZoneVersion::Serial))
                    .col(
                        ColumnDef::new(DnsZoneVersion::Actor)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(at(DnsZoneVersion::At))
                    .col(ColumnDef::new(DnsZoneVersion::Summary).text().not_null())
                    .col(ColumnDef::new(DnsZoneVersion::Diff).text().not_null())
                    .col(ColumnDef::new(DnsZoneVersion::Content).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dns_zone_version_zone")
                            .from(DnsZoneVersion::Table, DnsZoneVersion::ZoneId)
                            .to(DnsZone::Table, DnsZone::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dns_zone_version_zone")
                    .table(DnsZoneVersion::Table)
                    .col(DnsZoneVersion::ZoneId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DnsServer::Table)
                    .if_not_exists()
                    .col(id(DnsServer::Id))
                    .col(
                        ColumnDef::new(DnsServer::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(DnsServer::Role).string_len(16).not_null())
                    .col(ColumnDef::new(DnsServer::NsName).string_len(512).not_null())
                    .col(ColumnDef::new(DnsServer::Address).string_len(64).not_null())
                    .col(ColumnDef::new(DnsServer::Port).integer().not_null())
                    .col(ColumnDef::new(DnsServer::ZonesDir).text().not_null())
                    .col(ColumnDef::new(DnsServer::Reload).text().not_null())
                    .col(at(DnsServer::CreatedAt))
                    .col(at(DnsServer::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DnsTsigKey::Table)
                    .if_not_exists()
                    .col(id(DnsTsigKey::Id))
                    .col(
                        ColumnDef::new(DnsTsigKey::Name)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(DnsTsigKey::Algorithm)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(DnsTsigKey::Secret).text().not_null())
                    .col(at(DnsTsigKey::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DnsTsigKey::Table.into_iden(),
            DnsServer::Table.into_iden(),
            DnsZoneVersion::Table.into_iden(),
            DnsRecord::Table.into_iden(),
            DnsZone::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
