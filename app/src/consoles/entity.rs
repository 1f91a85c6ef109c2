//! The console tickets: one row per ticket not yet used, keyed by the
//! ticket's hash (the ticket itself is never stored).

pub mod console_ticket {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "console_ticket")]
    pub struct Model {
        /// SHA-256 of the ticket, hex.
        #[sea_orm(primary_key, auto_increment = false)]
        pub ticket_hash: String,
        /// The hash of the session that asked for it.
        pub session_hash: String,
        pub username: String,
        pub host_id: i32,
        pub vm: String,
        /// `screen` or `serial`.
        pub kind: String,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
