//! An image may be fetched by the server from an address (`image.source_url`,
//! empty for an upload); while it arrives, `image.received_bytes` says how
//! far it is, and a fetch that failed keeps its row in state `failed` with
//! the reason in `image.error` until it is removed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Image {
    Table,
    SourceUrl,
    ReceivedBytes,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(Image::SourceUrl)
                .string_len(2048)
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(Image::ReceivedBytes)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Image::Error)
                .string_len(2000)
                .not_null()
                .default("")
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Image::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Image::SourceUrl, Image::ReceivedBytes, Image::Error] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Image::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
