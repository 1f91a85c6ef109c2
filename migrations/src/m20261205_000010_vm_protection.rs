//! Protected VMs: those only an admin may start, stop, reboot or delete
//! (the DNS and mail servers an organisation cannot do without). A row per
//! protected VM, by host and VM name; a host's rows go with it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Host {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum VmProtection {
    Table,
    HostId,
    Vm,
    ProtectedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VmProtection::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(VmProtection::HostId).integer().not_null())
                    .col(ColumnDef::new(VmProtection::Vm).string_len(255).not_null())
                    .col(
                        ColumnDef::new(VmProtection::ProtectedBy)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(VmProtection::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(VmProtection::HostId)
                            .col(VmProtection::Vm),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vm_protection_host")
                            .from(VmProtection::Table, VmProtection::HostId)
                            .to(Host::Table, Host::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(VmProtection::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
