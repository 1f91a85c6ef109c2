//! Layouts describe the networks their VMs are addressed on and the zone
//! their names go in (`layout.zone`; `layout.networks`, a JSON array), and
//! each VM may name its full name in DNS (`layout_vm.fqdn`). A VM's
//! address (`layout_vm.ip`) may now read `auto`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutVm {
    Table,
    Fqdn,
}

#[derive(DeriveIden)]
enum Layout {
    Table,
    Zone,
    Networks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            (
                Layout::Table.into_iden(),
                ColumnDef::new(Layout::Zone)
                    .string_len(255)
                    .null()
                    .to_owned(),
            ),
            (
                Layout::Table.into_iden(),
                ColumnDef::new(Layout::Networks)
                    .text()
                    .not_null()
                    .default("[]")
                    .to_owned(),
            ),
            (
                LayoutVm::Table.into_iden(),
                ColumnDef::new(LayoutVm::Fqdn)
                    .string_len(255)
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LayoutVm::Table)
                    .drop_column(LayoutVm::Fqdn)
                    .to_owned(),
            )
            .await?;
        for column in [Layout::Zone, Layout::Networks] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Layout::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
