//! A layout's VM may bring its own cloud-init user-data (`layout_vm.user_data`,
//! for experts): written to its seed as it is, instead of the one made from
//! the layout's admin account, the VM's packages and commands.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutVm {
    Table,
    UserData,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LayoutVm::Table)
                    .add_column(ColumnDef::new(LayoutVm::UserData).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LayoutVm::Table)
                    .drop_column(LayoutVm::UserData)
                    .to_owned(),
            )
            .await
    }
}
