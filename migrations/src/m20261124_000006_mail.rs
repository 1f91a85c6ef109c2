//! Mail domains, mailboxes and aliases in the tables Postfix and Dovecot read
//! directly (the queries are in `app::mail::check::serverconf`), plus each
//! mail domain's DKIM keys and readiness-check settings.
//!
//! The daemons' columns keep the names and meaning of
//! `app::mail::check::mailstore`: `mail_domain(name, active)`,
//! `mailbox(address, domain, password, quota_bytes, active, maildir)` and
//! `mail_alias(source, destination, active)`. Booleans are the schema
//! builder's `boolean`, which SQLite stores as 0/1 and PostgreSQL as
//! `BOOLEAN`: exactly the `active = 1` / `active = TRUE` the generated
//! queries use. Extra columns (timestamps, settings, an alias id) are
//! invisible to the daemons.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MailDomain {
    Table,
    Name,
    Active,
    MailHost,
    MailIp,
    DnsblZones,
    Resolver,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Mailbox {
    Table,
    Address,
    Domain,
    Password,
    QuotaBytes,
    Active,
    Maildir,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailAlias {
    Table,
    Id,
    Domain,
    Source,
    Destination,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailDkimKey {
    Table,
    Id,
    Domain,
    Selector,
    Algorithm,
    Bits,
    PrivateKey,
    PublicRecord,
    CreatedAt,
}

fn domain_fk(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    name: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(MailDomain::Table, MailDomain::Name)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

/// `col = lower(col)`: both daemons look up lower-cased keys.
fn lower_case(col: impl IntoIden + Copy + 'static) -> SimpleExpr {
    Expr::col(col).eq(Func::lower(Expr::col(col)))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailDomain::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailDomain::Name)
                            .string_len(253)
                            .not_null()
                            .primary_key()
                            .check(lower_case(MailDomain::Name)),
                    )
                    .col(
                        ColumnDef::new(MailDomain::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    // Readiness-check settings; empty means "not set".
                    .col(
                        ColumnDef::new(MailDomain::MailHost)
                            .string_len(253)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(MailDomain::MailIp)
                            .string_len(45)
                            .not_null()
                            .default(""),
                    )
                    // Space-separated blocklist zones.
                    .col(ColumnDef::new(MailDomain::DnsblZones).text().not_null())
                    // IP:PORT of the resolver to ask; empty = the system's.
                    .col(
                        ColumnDef::new(MailDomain::Resolver)
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(MailDomain::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailDomain::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Mailbox::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Mailbox::Address)
                            .string_len(320)
                            .not_null()
                            .primary_key()
                            .check(lower_case(Mailbox::Address)),
                    )
                    .col(ColumnDef::new(Mailbox::Domain).string_len(253).not_null())
                    // A Dovecot scheme-prefixed hash: {ARGON2ID}$argon2id$...
                    .col(
                        ColumnDef::new(Mailbox::Password)
                            .text()
                            .not_null()
                            .check(Expr::col(Mailbox::Password).like("{%}%")),
                    )
                    // 0 = no limit.
                    .col(
                        ColumnDef::new(Mailbox::QuotaBytes)
                            .big_integer()
                            .not_null()
                            .default(0)
                            .check(Expr::col(Mailbox::QuotaBytes).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Mailbox::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    // Relative to the mail root: example.org/alice/
                    .col(
                        ColumnDef::new(Mailbox::Maildir)
                            .string_len(400)
                            .not_null()
                            .unique_key()
                            .check(Expr::col(Mailbox::Maildir).like("%/")),
                    )
                    .col(
                        ColumnDef::new(Mailbox::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Mailbox::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut domain_fk(
                        (Mailbox::Table, Mailbox::Domain),
                        "fk_mailbox_domain",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mailbox_domain")
                    .table(Mailbox::Table)
                    .col(Mailbox::Domain)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailAlias::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailAlias::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MailAlias::Domain).string_len(253).not_null())
                    // user@example.org, or @example.org for a catch-all.
                    .col(
                        ColumnDef::new(MailAlias::Source)
                            .string_len(320)
                            .not_null()
                            .check(lower_case(MailAlias::Source)),
                    )
                    .col(
                        ColumnDef::new(MailAlias::Destination)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailAlias::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(MailAlias::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut domain_fk(
                        (MailAlias::Table, MailAlias::Domain),
                        "fk_mail_alias_domain",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_alias_source_destination")
                    .table(MailAlias::Table)
                    .col(MailAlias::Source)
                    .col(MailAlias::Destination)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailDkimKey::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailDkimKey::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailDkimKey::Domain)
                            .string_len(253)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailDkimKey::Selector)
                            .string_len(63)
                            .not_null(),
                    )
                    // rsa | ed25519
                    .col(
                        ColumnDef::new(MailDkimKey::Algorithm)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailDkimKey::Bits).integer().null())
                    // PKCS#8 PEM; never leaves the server except to an admin
                    // who asks for it (audited).
                    .col(ColumnDef::new(MailDkimKey::PrivateKey).text().not_null())
                    .col(ColumnDef::new(MailDkimKey::PublicRecord).text().not_null())
                    .col(
                        ColumnDef::new(MailDkimKey::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut domain_fk(
                        (MailDkimKey::Table, MailDkimKey::Domain),
                        "fk_mail_dkim_key_domain",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_dkim_key_domain_selector")
                    .table(MailDkimKey::Table)
                    .col(MailDkimKey::Domain)
                    .col(MailDkimKey::Selector)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MailDkimKey::Table.into_iden(),
            MailAlias::Table.into_iden(),
            Mailbox::Table.into_iden(),
            MailDomain::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
