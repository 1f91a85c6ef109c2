//! Layout apply: the journal of what an apply created (so a resumed apply
//! reuses its own volumes and never creates anything twice), and each apply
//! run with its steps (what the page shows while it streams and after).
//!
//! `layout_id` is not a foreign key: runs and the journal outlive a deleted
//! layout as history, and the volumes they name still exist on the hosts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutApplyJournal {
    Table,
    Id,
    LayoutId,
    Host,
    Vm,
    Step,
    Detail,
    DoneAt,
}

#[derive(DeriveIden)]
enum LayoutApplyRun {
    Table,
    Id,
    LayoutId,
    LayoutName,
    Username,
    StartedAt,
    FinishedAt,
    Outcome,
    Message,
}

#[derive(DeriveIden)]
enum LayoutApplyEvent {
    Table,
    Id,
    RunId,
    Seq,
    At,
    Host,
    Vm,
    Step,
    Status,
    Message,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LayoutApplyJournal::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LayoutApplyJournal::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyJournal::LayoutId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyJournal::Host)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyJournal::Vm)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyJournal::Step)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LayoutApplyJournal::Detail).text().not_null())
                    .col(
                        ColumnDef::new(LayoutApplyJournal::DoneAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("layout_apply_journal_step")
                    .table(LayoutApplyJournal::Table)
                    .col(LayoutApplyJournal::LayoutId)
                    .col(LayoutApplyJournal::Host)
                    .col(LayoutApplyJournal::Vm)
                    .col(LayoutApplyJournal::Step)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LayoutApplyRun::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LayoutApplyRun::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::LayoutId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::LayoutName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::Username)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyRun::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LayoutApplyRun::Message).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("layout_apply_run_layout")
                    .table(LayoutApplyRun::Table)
                    .col(LayoutApplyRun::LayoutId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LayoutApplyEvent::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LayoutApplyEvent::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LayoutApplyEvent::RunId).integer().not_null())
                    .col(ColumnDef::new(LayoutApplyEvent::Seq).integer().not_null())
                    .col(
                        ColumnDef::new(LayoutApplyEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyEvent::Host)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyEvent::Vm)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyEvent::Step)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LayoutApplyEvent::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LayoutApplyEvent::Message).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("layout_apply_event_run")
                            .from(LayoutApplyEvent::Table, LayoutApplyEvent::RunId)
                            .to(LayoutApplyRun::Table, LayoutApplyRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("layout_apply_event_run_seq")
                    .table(LayoutApplyEvent::Table)
                    .col(LayoutApplyEvent::RunId)
                    .col(LayoutApplyEvent::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LayoutApplyEvent::Table.into_iden(),
            LayoutApplyRun::Table.into_iden(),
            LayoutApplyJournal::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
