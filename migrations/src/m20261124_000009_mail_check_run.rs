//! Each run of a mail domain's readiness check, so the dashboard can say how
//! the last one ended and when, without running the check (which asks DNS
//! and blocklists, and takes seconds) on every view.
//!
//! A table of runs rather than "last run" columns on `mail_domain`: that
//! table is read by Postfix and Dovecot and is better left as they know it,
//! and a run is one insert with no update to race. Runs go with their
//! domain (the foreign key cascades, and `remove_domain` deletes them too,
//! since SQLite only enforces foreign keys when asked).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MailDomain {
    Table,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailCheckRun {
    Table,
    Id,
    Domain,
    RanAt,
    Passed,
    Failed,
    Warned,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let count = |col: MailCheckRun| {
            ColumnDef::new(col)
                .integer()
                .not_null()
                .default(0)
                .check(Expr::col(col).gte(0))
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(MailCheckRun::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailCheckRun::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailCheckRun::Domain)
                            .string_len(253)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailCheckRun::RanAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // Items of the checklist by outcome; skipped ones are
                    // not counted (their cause fails on its own).
                    .col(count(MailCheckRun::Passed))
                    .col(count(MailCheckRun::Failed))
                    .col(count(MailCheckRun::Warned))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mail_check_run_domain")
                            .from(MailCheckRun::Table, MailCheckRun::Domain)
                            .to(MailDomain::Table, MailDomain::Name)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The last run of a domain: newest first within the domain.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_check_run_domain_ran_at")
                    .table(MailCheckRun::Table)
                    .col(MailCheckRun::Domain)
                    .col(MailCheckRun::RanAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(MailCheckRun::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
