//! Layouts: VM templates (seeded from the paper's Table 2), named layouts
//! with their VM entries, and each host's capacity settings (its OS reserve
//! `y_os` and whether guests may run under emulation).
//!
//! The seed rows repeat `app::capacity::table2_templates()` because this
//! crate cannot depend on the app; a test in `app::layouts::store` checks
//! that the two agree.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VmTemplate {
    Table,
    Id,
    Name,
    Services,
    MemoryMib,
    Vcpus,
    DiskGib,
    Thin,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Layout {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LayoutVm {
    Table,
    Id,
    LayoutId,
    Position,
    Name,
    Template,
    Vcpus,
    MemoryMib,
    DiskGib,
    Host,
    Network,
    Ip,
    Start,
}

#[derive(DeriveIden)]
enum Host {
    Table,
    YOsMib,
    AllowEmulation,
}

/// Table 2: name, services (one per line), memory MiB, disk GiB.
const TABLE2: &[(&str, &str, i64, i64)] = &[
    ("Master DNS", "NSD", 512, 4),
    (
        "Mail Server",
        "Postfix\nDovecot IMAP/POP3\nMySQL\nSpamAssassin\namavis\nRoundcube\nApache 2\nPHP5",
        2000,
        100,
    ),
    ("Web Server", "Apache 2\nPHP5\nMySQL", 1024, 20),
    (
        "E-Learning Server",
        "Moodle\nApache 2\nPHP5\nMySQL",
        2000,
        100,
    ),
    ("Workflow", "Apache 2\nPHP5\nMySQL", 4000, 100),
    ("File Sharing and Data Storage", "ownCloud", 4000, 500),
];

fn timestamp(col: impl IntoIden) -> ColumnDef {
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
                    .table(VmTemplate::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(VmTemplate::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(VmTemplate::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(VmTemplate::Services).text().not_null())
                    .col(
                        ColumnDef::new(VmTemplate::MemoryMib)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(VmTemplate::Vcpus).integer().not_null())
                    .col(ColumnDef::new(VmTemplate::DiskGib).big_integer().not_null())
                    .col(ColumnDef::new(VmTemplate::Thin).boolean().not_null())
                    .col(ColumnDef::new(VmTemplate::Position).integer().not_null())
                    .col(timestamp(VmTemplate::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        let now = chrono::Utc::now();
        let mut seed = Query::insert()
            .into_table(VmTemplate::Table)
            .columns([
                VmTemplate::Name,
                VmTemplate::Services,
                VmTemplate::MemoryMib,
                VmTemplate::Vcpus,
                VmTemplate::DiskGib,
                VmTemplate::Thin,
                VmTemplate::Position,
                VmTemplate::UpdatedAt,
            ])
            .to_owned();
        for (position, (name, services, memory, disk)) in (0i32..).zip(TABLE2) {
            seed.values([
                (*name).into(),
                (*services).into(),
                (*memory).into(),
                1i32.into(),
                (*disk).into(),
                true.into(),
                position.into(),
                now.into(),
            ])
            .map_err(|e| DbErr::Custom(format!("seeding templates: {e}")))?;
        }
        manager.exec_stmt(seed).await?;

        manager
            .create_table(
                Table::create()
                    .table(Layout::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Layout::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Layout::Name)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Layout::Description).text().not_null())
                    .col(timestamp(Layout::CreatedAt))
                    .col(timestamp(Layout::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LayoutVm::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LayoutVm::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LayoutVm::LayoutId).integer().not_null())
                    .col(ColumnDef::new(LayoutVm::Position).integer().not_null())
                    .col(ColumnDef::new(LayoutVm::Name).string_len(64).not_null())
                    .col(ColumnDef::new(LayoutVm::Template).string_len(64).null())
                    .col(ColumnDef::new(LayoutVm::Vcpus).integer().not_null())
                    .col(ColumnDef::new(LayoutVm::MemoryMib).big_integer().not_null())
                    .col(ColumnDef::new(LayoutVm::DiskGib).big_integer().not_null())
                    .col(ColumnDef::new(LayoutVm::Host).string_len(64).not_null())
                    .col(ColumnDef::new(LayoutVm::Network).string_len(80).not_null())
                    .col(ColumnDef::new(LayoutVm::Ip).string_len(64).null())
                    .col(ColumnDef::new(LayoutVm::Start).boolean().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_layout_vm_layout")
                            .from(LayoutVm::Table, LayoutVm::LayoutId)
                            .to(Layout::Table, Layout::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_layout_vm_layout_position")
                    .table(LayoutVm::Table)
                    .col(LayoutVm::LayoutId)
                    .col(LayoutVm::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Host::Table)
                    .add_column(ColumnDef::new(Host::YOsMib).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Host::Table)
                    .add_column(
                        ColumnDef::new(Host::AllowEmulation)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Host::AllowEmulation, Host::YOsMib] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Host::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(LayoutVm::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Layout::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(VmTemplate::Table).to_owned())
            .await
    }
}
