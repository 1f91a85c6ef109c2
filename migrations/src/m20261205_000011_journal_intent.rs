//! The apply journal records an intent before each libvirt call that
//! creates something, not only what was done after it: a call that times
//! out may still complete on the host, and the next apply must know that
//! what then exists is its own. `pending` marks such an intent; the next
//! apply reconciles it with what the host reports (and a finished call
//! clears it).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutApplyJournal {
    Table,
    Pending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LayoutApplyJournal::Table)
                    .add_column(
                        ColumnDef::new(LayoutApplyJournal::Pending)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LayoutApplyJournal::Table)
                    .drop_column(LayoutApplyJournal::Pending)
                    .to_owned(),
            )
            .await
    }
}
