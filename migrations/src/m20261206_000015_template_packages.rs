//! Templates name what their VMs are made from: an image of each host's
//! library (`vm_template.image`, by name) and the Debian packages
//! cloud-init installs (`vm_template.packages`, a JSON array). The paper's
//! Table 2 templates get the packages of their services as editable
//! defaults (left alone where an admin already set some).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VmTemplate {
    Table,
    Name,
    Image,
    Packages,
}

/// Table 2's services as Debian 12 packages. Moodle and ownCloud are not
/// packaged in Debian 12: their templates get the web stack and PHP
/// modules those applications require, the application itself is
/// installed by the admin (a first-boot command of the layout).
const TABLE2_PACKAGES: [(&str, &str); 6] = [
    ("Master DNS", r#"["nsd"]"#),
    (
        "Mail Server",
        r#"["postfix","dovecot-imapd","dovecot-pop3d","mariadb-server","spamassassin","amavisd-new","roundcube","apache2","libapache2-mod-php","php"]"#,
    ),
    (
        "Web Server",
        r#"["apache2","libapache2-mod-php","php","php-mysql","mariadb-server"]"#,
    ),
    (
        "E-Learning Server",
        r#"["apache2","libapache2-mod-php","php","php-mysql","php-xml","php-mbstring","php-curl","php-zip","php-gd","php-intl","php-soap","mariadb-server"]"#,
    ),
    (
        "Workflow",
        r#"["apache2","libapache2-mod-php","php","php-mysql","mariadb-server"]"#,
    ),
    (
        "File Sharing and Data Storage",
        r#"["apache2","libapache2-mod-php","php","php-mysql","php-xml","php-mbstring","php-curl","php-zip","php-gd","php-intl","mariadb-server"]"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(VmTemplate::Image)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(VmTemplate::Packages)
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(VmTemplate::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, packages) in TABLE2_PACKAGES {
            manager
                .exec_stmt(
                    Query::update()
                        .table(VmTemplate::Table)
                        .value(VmTemplate::Packages, packages)
                        .and_where(Expr::col(VmTemplate::Name).eq(name))
                        .and_where(Expr::col(VmTemplate::Packages).eq("[]"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [VmTemplate::Image, VmTemplate::Packages] {
            manager
                .alter_table(
                    Table::alter()
                        .table(VmTemplate::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
