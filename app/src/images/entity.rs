//! The image library's rows (see the migration `m20261205_000013_image`).

pub mod image {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub host_id: i32,
        pub name: String,
        /// `installer` or `cloud`.
        pub kind: String,
        /// `iso`, `qcow2` or `raw`.
        pub format: String,
        pub pool: String,
        pub volume: String,
        /// The volume's path on the host.
        pub path: String,
        pub size_bytes: i64,
        /// Lowercase hex; empty while uploading.
        pub sha256: String,
        /// `uploading`, `ready` or `failed` (a fetch that did not finish).
        pub state: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        /// Where the server fetched it from; empty for an upload.
        pub source_url: String,
        /// Bytes in so far, while it is fetched.
        pub received_bytes: i64,
        /// Why its fetch failed (state `failed`).
        pub error: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
