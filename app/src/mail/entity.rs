//! sea-orm entities for the mail tables (migrations 000006 and 000009). They stay on the
//! server: pages get the DTOs in [`crate::mail`], and the two secret columns
//! (mailbox password hashes, DKIM private keys) never leave through them.

pub mod mail_domain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_domain")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub active: bool,
        pub mail_host: String,
        pub mail_ip: String,
        /// `LAYOUT_ID/VM` when the mail host is a layout's VM, else empty.
        pub mail_vm: String,
        pub dnsbl_zones: String,
        pub resolver: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mailbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mailbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub address: String,
        pub domain: String,
        /// Dovecot `{ARGON2ID}` hash.
        pub password: String,
        pub quota_bytes: i64,
        pub active: bool,
        pub maildir: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("mailbox::Model")
                .field("address", &self.address)
                .field("quota_bytes", &self.quota_bytes)
                .field("active", &self.active)
                .field("password", &"<hash>")
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail_alias {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_alias")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub domain: String,
        pub source: String,
        pub destination: String,
        pub active: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail_dkim_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_dkim_key")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub domain: String,
        pub selector: String,
        /// `rsa` or `ed25519`.
        pub algorithm: String,
        pub bits: Option<i32>,
        /// PKCS#8 PEM.
        pub private_key: String,
        pub public_record: String,
        pub created_at: DateTimeUtc,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("mail_dkim_key::Model")
                .field("domain", &self.domain)
                .field("selector", &self.selector)
                .field("algorithm", &self.algorithm)
                .field("private_key", &"<redacted>")
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail_check_run {
    use sea_orm::entity::prelude::*;

    /// One run of a domain's readiness check (migration 000009).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_check_run")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub domain: String,
        pub ran_at: DateTimeUtc,
        pub passed: i32,
        pub failed: i32,
        pub warned: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
