//! The layouts pages: `/layouts` (layouts, templates) and `/layouts/{id}`.
//!
//! A layout's page opens with the layout to read (`read`): its VMs, where
//! each goes and the hosts as it leaves them, as the server evaluated it
//! ([`crate::layouts::evaluate::Evaluation`]), with export and apply.
//! "Edit layout" fetches the editor (`editor`, a chunk of its own) and puts
//! it in place. The editor evaluates the layout in the browser on every
//! change with the same [`crate::layouts::evaluate::Evaluation::of`] the
//! server used, its code fetched at the first change. Each field of each VM
//! is its own signal, so typing re-renders only that field's error, the
//! VM's placement line and the host bars, never the form; rows are keyed,
//! so adding or removing a VM leaves the others alone. A value that does
//! not parse (or breaks a VM's own limits) shows its message by the field
//! while the evaluation keeps that VM's last good value: nothing typed is
//! lost or overwritten.
//!
//! `list` is `/layouts` with its `templates` panel; the layout's page is
//! built from `read`, `editor`, `row` (one VM's signals), `table` (the VM
//! table), `hosts` (the side column) and `apply` (plan and apply, opened
//! on demand).

mod apply;
mod editor;
mod hosts;
mod list;
mod networks;
mod read;
mod row;
mod table;
mod templates;

pub use editor::LayoutPage;
pub use list::LayoutsPage;
