//! The app crate's integration tests, in one binary (one link of the whole
//! ssr app instead of one per file): each module is one area, its tests
//! named `module::test`. The fixtures they share (real NSD, the demo host
//! and a real libvirtd) are in [`app::testing`]; the tests that need a
//! daemon are `#[ignore]`d, run them with `--include-ignored`.
//!
//! `cargo test -p app --features testing --test it -- dns_service::`

mod consoles_real;
mod dashboard_dns;
mod dns_service;
mod hosts_real_libvirtd;
mod hosts_test_driver;
mod hosts_worker;
mod layouts_apply;
mod layouts_names;
mod mail_mailserver;
mod mail_nsd_check;
mod nsd_nsd;
