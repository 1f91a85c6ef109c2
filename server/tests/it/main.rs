//! The server's integration tests, in one binary (one link of the server
//! and the whole ssr app instead of one per file): each module is one area,
//! its tests named `module::test`. [`common::TestApp`] is the server on a
//! throwaway database; the NSD fixture is shared with the app crate's tests
//! ([`app::testing`]).
//!
//! `cargo test -p stackyard --test it -- mail::`

mod common;

mod auth;
mod consoles;
mod dashboard;
mod dns;
mod faults;
mod files;
mod hosts;
mod http;
mod image_fetch;
mod images;
mod layout_cli;
mod layout_editor;
mod layout_files;
mod layouts_apply;
mod limits;
mod mail;
mod zone_cli;
