//! NSD behind Stackyard's DNS console (server only).
//!
//! Stackyard serves its authoritative zones with NSD: one primary that
//! loads zone files written by the console, and secondaries that receive
//! the zones by TSIG-signed NOTIFY and AXFR. This module is everything
//! between the zone model ([`crate::dns::zone`]) and those running servers:
//!
//! * [`tsig`] – TSIG keys ([`TsigKey`]) whose secret ([`Secret`]) can be
//!   generated, is redacted in `Debug`, cannot be serialized and is only
//!   revealed through an explicit call;
//! * [`server`] – the server entries the console manages ([`DnsServer`],
//!   [`ServerRole`], [`ReloadMethod`]);
//! * [`config`] – `nsd.conf` text: the `key:`/`zone:` part for a server
//!   ([`nsd_conf_zones`]) and a complete standalone file
//!   ([`standalone_nsd_conf`]);
//! * [`check`] – the [`ZoneChecker`] gate, with [`NsdCheckzone`] running the
//!   real `nsd-checkzone`;
//! * [`apply`] – checked, atomic installation of a zone file
//!   ([`apply_zone`], [`apply_and_reload`]);
//! * [`mod@reload`] – telling NSD to pick up new files ([`reload()`]).
//!
//! # Blocking, not async
//!
//! This module uses plain `std` (files and `std::process`) rather than tokio.
//! Everything it does is short, local and bounded – an fsync, an
//! `nsd-checkzone` run, an `nsd-control reload` – and every child process
//! runs under a timeout, so the DNS service wraps each call in
//! `tokio::task::spawn_blocking`. Staying synchronous makes the
//! write/check/rename sequence easy to follow.
//!
//! Its code never panics: `unwrap`, `expect` and `panic!` are denied
//! outside tests (enforced below through clippy).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apply;
pub mod check;
pub mod config;
mod process;
pub mod reload;
pub mod server;
pub mod tsig;

pub use apply::{apply_and_reload, apply_zone, apply_zone_text, ApplyError, ApplyOutcome};
pub use check::{CheckFailure, NsdCheckzone, ZoneChecker};
pub use config::{
    nsd_conf_zones, standalone_nsd_conf, zone_file_name, ConfigError, NsdServerConfig,
};
pub use reload::{
    reload, reload_within, ReloadCommands, ReloadError, ReloadOutcome, RELOAD_TIMEOUT,
};
pub use server::{DnsServer, ReloadMethod, ServerRole};
pub use tsig::{KeyError, Secret, TsigAlgorithm, TsigKey};
