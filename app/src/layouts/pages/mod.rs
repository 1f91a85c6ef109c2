//! The layouts pages: `/layouts` (layouts, templates) and `/layouts/{id}`,
//! the editor.
//!
//! The editor evaluates the layout in the browser on every keystroke with
//! [`crate::layouts::plan::resolve`] over the hosts the server described once
//! ([`crate::layouts::layout_hosts`]). Each field of each VM is its own signal,
//! so typing re-renders only that field's error, the VM's placement line
//! and the host bars, never the form; rows are keyed, so adding or removing
//! a VM leaves the others alone. A value that does not parse (or breaks a
//! VM's own limits) shows its message by the field while the evaluation
//! keeps that VM's last good value: nothing typed is lost or overwritten.
//!
//! `list` is `/layouts` with its `templates` panel; `editor` is the layout's
//! page, built from `row` (one VM's signals), `table` (the VM table),
//! `hosts` (the side column) and `apply` (plan and apply).

mod apply;
mod editor;
mod hosts;
mod list;
mod row;
mod table;
mod templates;

pub use editor::LayoutPage;
pub use list::LayoutsPage;
