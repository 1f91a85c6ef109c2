//! One apply at a time per layout, kept by the database: a unique index over
//! the runs still `running`, per layout. Two apply requests arriving at the
//! same instant (two tabs, two console instances on one PostgreSQL) both
//! passed the "is one running?" look before; now the second insert fails
//! and is refused by name.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LayoutApplyRun {
    Table,
    Id,
    LayoutId,
    FinishedAt,
    Outcome,
    Message,
}

const INDEX: &str = "layout_apply_run_one_running";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Runs that the race left running side by side: the newest stays,
        // the others end as abandoned (the index could not be built over
        // them).
        let newest = Query::select()
            .expr(Expr::col(LayoutApplyRun::Id).max())
            .from(LayoutApplyRun::Table)
            .and_where(Expr::col(LayoutApplyRun::Outcome).eq("running"))
            .group_by_col(LayoutApplyRun::LayoutId)
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(LayoutApplyRun::Table)
                    .values([
                        (LayoutApplyRun::Outcome, "failed".into()),
                        (LayoutApplyRun::FinishedAt, chrono::Utc::now().into()),
                        (
                            LayoutApplyRun::Message,
                            "abandoned: another apply of this layout ran at the same time".into(),
                        ),
                    ])
                    .and_where(Expr::col(LayoutApplyRun::Outcome).eq("running"))
                    .and_where(Expr::col(LayoutApplyRun::Id).not_in_subquery(newest))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(LayoutApplyRun::Table)
                    .col(LayoutApplyRun::LayoutId)
                    .unique()
                    .and_where(Expr::col(LayoutApplyRun::Outcome).eq("running"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(LayoutApplyRun::Table)
                    .to_owned(),
            )
            .await
    }
}
