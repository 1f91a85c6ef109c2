//! Database rows of the DNS area (migration `m20261124_000005_dns`).
//! They stay on the server: pages get the DTOs of `dns` and the zone model.

pub mod zone {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_zone")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub origin: String,
        pub reverse: bool,
        pub default_ttl: i64,
        pub soa_ttl: i64,
        pub soa_mname: String,
        pub soa_rname: String,
        pub serial: i64,
        pub refresh: i64,
        pub retry: i64,
        pub expire: i64,
        pub minimum: i64,
        /// Serial of the last version installed on the primary.
        pub applied_serial: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_record")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub zone_id: i32,
        /// Absolute, lower-case presentation form.
        pub owner: String,
        pub rtype: String,
        pub ttl: i64,
        /// `dns::zone::RData` as JSON: typed, so it reads back exactly.
        pub rdata: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_zone_version")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub zone_id: i32,
        pub serial: i64,
        pub actor: String,
        pub at: DateTimeUtc,
        pub summary: String,
        pub diff: String,
        /// The whole zone as a master file after this change (for revert).
        pub content: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod server {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_server")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        /// `primary` or `secondary`.
        pub role: String,
        /// The server's host name in NS records (`ns1.example.com.`).
        pub ns_name: String,
        pub address: String,
        pub port: i32,
        pub zones_dir: String,
        /// `dns::nsd::ReloadMethod` as JSON.
        pub reload: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tsig_key {
    use sea_orm::entity::prelude::*;

    /// Never leaves the server: no `Serialize`, and the secret is only read
    /// into a `dns::nsd::Secret`, which redacts itself.
    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dns_tsig_key")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub algorithm: String,
        pub secret: String,
        pub created_at: DateTimeUtc,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("TsigKeyRow")
                .field("id", &self.id)
                .field("name", &self.name)
                .field("algorithm", &self.algorithm)
                .field("secret", &"<redacted>")
                .finish()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
