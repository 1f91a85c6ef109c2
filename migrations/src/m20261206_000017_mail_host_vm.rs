//! A mail domain may name its mail host as a layout's VM
//! (`mail_domain.mail_vm`, `LAYOUT_ID/VM`; empty when typed): the readiness
//! check then takes the VM's full name and address from its layout.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailDomain {
    Table,
    MailVm,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MailDomain::Table)
                    .add_column(
                        ColumnDef::new(MailDomain::MailVm)
                            .string_len(200)
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MailDomain::Table)
                    .drop_column(MailDomain::MailVm)
                    .to_owned(),
            )
            .await
    }
}
