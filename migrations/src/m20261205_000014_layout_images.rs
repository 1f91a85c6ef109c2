//! Layouts name what each VM is made from: an image of the host's library
//! (`layout_vm.image`), the packages and first-boot commands cloud-init
//! gives it (JSON arrays), and the account cloud-init makes on every VM of
//! the layout (`layout.cloud_init`, JSON; empty for the default).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutVm {
    Table,
    Image,
    Packages,
    Commands,
}

#[derive(DeriveIden)]
enum Layout {
    Table,
    CloudInit,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(LayoutVm::Image)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(LayoutVm::Packages)
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
            ColumnDef::new(LayoutVm::Commands)
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(LayoutVm::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Layout::Table)
                    .add_column(
                        ColumnDef::new(Layout::CloudInit)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [LayoutVm::Image, LayoutVm::Packages, LayoutVm::Commands] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LayoutVm::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Layout::Table)
                    .drop_column(Layout::CloudInit)
                    .to_owned(),
            )
            .await
    }
}
