//! Layouts: a named plan of VMs checked against host memory with the
//! paper's equations before anything is created, then applied through
//! libvirt. `model` is the layout's one shape (editor, database, files,
//! command line, plan/apply).

#[cfg(feature = "ssr")]
pub mod apply;
pub mod apply_api;
pub mod file;
pub mod model;
pub mod plan;

pub use model::{HostChoice, LayoutProblem, LayoutSpec, LayoutVm, Nic};
