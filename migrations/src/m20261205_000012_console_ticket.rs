//! Console tickets: what a page asked for before opening a VM's console,
//! used once, within seconds, by the session that asked. In the database
//! (not in one instance's memory) so that any instance behind one
//! PostgreSQL can take the WebSocket.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleTicket {
    Table,
    TicketHash,
    SessionHash,
    Username,
    HostId,
    Vm,
    Kind,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleTicket::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ConsoleTicket::TicketHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ConsoleTicket::SessionHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsoleTicket::Username)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ConsoleTicket::HostId).integer().not_null())
                    .col(ColumnDef::new(ConsoleTicket::Vm).string_len(255).not_null())
                    .col(
                        ColumnDef::new(ConsoleTicket::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsoleTicket::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConsoleTicket::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
