//! The hosts domain's table: one `host` row per hypervisor the console
//! watches. Rows never reach the browser; pages get a
//! [`HostSummary`](super::HostSummary) built from the row and the host's
//! cached libvirt state.

pub mod host {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "host")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub uri: String,
        pub label: String,
        /// The host's OS reserve `y_os` in MiB; `None` = the default policy
        /// (see `capacity::OsReserve`). Set on the layouts pages.
        pub y_os_mib: Option<i64>,
        /// Guests may run under software emulation when the CPU lacks
        /// hardware virtualization (the paper's `x`, relaxed by the admin).
        pub allow_emulation: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A VM only an admin may act on: by host and name (see `hosts/vm_protect`).
pub mod vm_protection {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vm_protection")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub host_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub vm: String,
        pub protected_by: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
