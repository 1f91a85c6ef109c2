//! Authoritative DNS: zones and their records, as the paper's figure 1 runs
//! them (an authoritative-only NSD primary keeping a secondary current).
//! `zone` is the pure model: names, records, validation, master files;
//! `nsd` (server only) writes checked zone files, nsd.conf and TSIG keys.

#[cfg(feature = "ssr")]
pub mod nsd;
pub mod zone;
