//! The image library: installer ISOs and cloud images kept as volumes in a
//! host's storage pool, with what Stackyard knows about each (its name in
//! the console, its kind, its format and its SHA-256). A row is written
//! before an upload starts (`state` `uploading`), so that a name is taken
//! once and an upload cut off by a crash is still listed, and it becomes
//! `ready` only when every byte arrived and the checksum matched.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Image {
    Table,
    Id,
    HostId,
    Name,
    Kind,
    Format,
    Pool,
    Volume,
    Path,
    SizeBytes,
    Sha256,
    State,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Image::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Image::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Image::HostId).integer().not_null())
                    .col(ColumnDef::new(Image::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Image::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Image::Format).string_len(16).not_null())
                    .col(ColumnDef::new(Image::Pool).string_len(255).not_null())
                    .col(ColumnDef::new(Image::Volume).string_len(255).not_null())
                    .col(ColumnDef::new(Image::Path).string_len(4096).not_null())
                    .col(ColumnDef::new(Image::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(Image::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(Image::State).string_len(16).not_null())
                    .col(ColumnDef::new(Image::CreatedBy).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Image::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One name per host: the name is how a template or a layout VM
        // points at an image.
        manager
            .create_index(
                Index::create()
                    .name("image_host_name")
                    .table(Image::Table)
                    .col(Image::HostId)
                    .col(Image::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("image_host_pool_volume")
                    .table(Image::Table)
                    .col(Image::HostId)
                    .col(Image::Pool)
                    .col(Image::Volume)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Image::Table).if_exists().to_owned())
            .await
    }
}
