//! The DNS zone model behind Stackyard's zone editor.
//!
//! Stackyard manages authoritative zones that are served by NSD. This module
//! holds everything between the web forms and the zone files NSD reads, as
//! pure Rust (no database, no IO), so it is tested on its own:
//!
//! * [`name`] – validated domain names (IDNA, escapes, canonical order) and
//!   the form helper [`parse_owner`];
//! * [`host`] – host names (letters, digits, hyphens) as mail and servers
//!   use them, and [`host::normalise`] for names compared as text;
//! * [`record`] – TTLs, record types, typed RDATA, records and zones;
//! * [`txt`] – TXT input as people paste it ([`txt_from_input`]);
//! * [`validate`] – per-record and whole-zone rules ([`validate_zone`],
//!   or [`ZoneCheck`] a record at a time);
//! * [`serial`] – YYYYMMDDnn serials with RFC 1982 arithmetic;
//! * [`reverse`] – `in-addr.arpa` / `ip6.arpa` names and zones;
//! * [`parser`] – RFC 1035 master-file import ([`parse_zone`]) that reports
//!   every error with its line, also streamed ([`parse_zone_records`]);
//! * [`render`] – deterministic master-file output ([`render_zone`]);
//! * [`mod@diff`] – RRset-level comparison for the import preview.
//!
//! It never panics on input: its code may not use `unwrap`, `expect` or
//! `panic!` (enforced below through clippy).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]
#![warn(missing_docs)]

pub mod diff;
pub mod error;
pub mod host;
pub mod name;
pub mod parser;
pub mod record;
pub mod render;
pub mod reverse;
pub mod serial;
pub mod txt;
pub mod validate;

#[cfg(test)]
mod roundtrip_tests;

pub use diff::{diff, RecordSet, SetChange, ZoneDiff};
pub use error::{FieldError, ParseError, ZoneProblem};
pub use host::HostNameError;
pub use name::{parse_owner, parse_target, Name, NameError};
pub use parser::{
    parse_zone, parse_zone_records, parse_zone_with_lines, ParseOptions, ParsedZone, ZoneHead,
};
pub use record::{address_rdata, RData, Record, RecordType, Soa, Ttl, Zone};
pub use render::render_zone;
pub use reverse::{find_reverse_zone, reverse_name, reverse_zone_for};
pub use serial::{next_serial, serial_gt};
pub use txt::{decode_escapes, quote_character_string, split_long, txt_from_input};
pub use validate::{validate_record, validate_ttl, validate_zone, ZoneCheck};
