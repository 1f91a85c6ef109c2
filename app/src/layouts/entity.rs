//! Database rows of the layouts area: templates, layouts and their VM
//! entries, and the apply runs with their steps and journal. They never
//! leave the server; `store` and `service::apply` map them to
//! [`crate::layouts::LayoutSpec`], [`crate::layouts::TemplateDto`] and
//! [`crate::layouts::ApplyRun`].

pub mod vm_template {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vm_template")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        /// One service per line.
        pub services: String,
        pub memory_mib: i64,
        pub vcpus: i32,
        pub disk_gib: i64,
        pub thin: bool,
        pub position: i32,
        pub updated_at: DateTimeUtc,
        /// The image its VMs are made from, by name in each host's library.
        pub image: Option<String>,
        /// Debian packages (a JSON array) its VMs get from a cloud image.
        pub packages: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod layout {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "layout")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub description: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// JSON of the layout's `CloudInit`; empty for the default.
        pub cloud_init: String,
        /// The zone VMs are named in by default.
        pub zone: Option<String>,
        /// JSON array of the layout's `LayoutNetwork`s.
        pub networks: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::layout_vm::Entity")]
        Vm,
    }

    impl Related<super::layout_vm::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Vm.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod layout_vm {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "layout_vm")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub layout_id: i32,
        /// Order in the layout, from 0.
        pub position: i32,
        pub name: String,
        pub template: Option<String>,
        pub vcpus: i32,
        pub memory_mib: i64,
        pub disk_gib: i64,
        /// A host name or `auto`.
        pub host: String,
        /// `network:NAME`, `bridge:NAME` or `none`.
        pub network: String,
        /// An address or `auto`.
        pub ip: Option<String>,
        /// Its full name in DNS, when not `<name>.<zone>`.
        pub fqdn: Option<String>,
        pub start: bool,
        /// The library image it is made from, by name.
        pub image: Option<String>,
        /// JSON array of package names.
        pub packages: String,
        /// JSON array of command lines.
        pub commands: String,
        /// Its own cloud-init user-data, written to its seed as it is.
        pub user_data: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::layout::Entity",
            from = "Column::LayoutId",
            to = "super::layout::Column::Id",
            on_delete = "Cascade"
        )]
        Layout,
    }

    impl Related<super::layout::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Layout.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

// The apply tables (migrations `m20261124_000007_layout_apply`, and `000008`
// for one running run per layout).

/// What an apply created, one row per layout/host/VM/step.
pub mod apply_journal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "layout_apply_journal")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub layout_id: i32,
        pub host: String,
        pub vm: String,
        pub step: String,
        pub detail: String,
        pub done_at: DateTimeUtc,
        /// An intent written before the call: the call has not answered
        /// (yet), so what it asked for may or may not exist on the host.
        pub pending: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One apply of a layout.
pub mod apply_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "layout_apply_run")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub layout_id: i32,
        pub layout_name: String,
        pub username: String,
        pub started_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
        pub outcome: String,
        pub message: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One step of a run.
pub mod apply_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "layout_apply_event")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub run_id: i32,
        pub seq: i32,
        pub at: DateTimeUtc,
        pub host: String,
        pub vm: String,
        pub step: String,
        pub status: String,
        pub message: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
