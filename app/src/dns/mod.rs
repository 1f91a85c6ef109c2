//! Authoritative DNS: zones and their records, as the paper's figure 1 runs
//! them (an authoritative-only NSD primary keeping a secondary current).
//! `zone` is the pure model: names, records, validation, master files;
//! `nsd` (server only) writes checked zone files, nsd.conf and TSIG keys;
//! `store` (server only) keeps zones, records and their history in the
//! database.

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod nsd;
#[cfg(feature = "ssr")]
pub mod store;
pub mod zone;

use serde::{Deserialize, Serialize};
use zone::Name;

/// A managed zone, as lists and other areas (mail) need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSummary {
    pub id: i32,
    pub origin: Name,
    /// Under `in-addr.arpa.` or `ip6.arpa.`.
    pub reverse: bool,
    /// The SOA serial of the stored zone.
    pub serial: u32,
}

/// One entry of a zone's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub id: i32,
    /// The zone's serial after this change.
    pub serial: u32,
    /// Who made the change.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// What changed, in a few words.
    pub summary: String,
}

/// A version with its diff (`+ record` / `- record` lines) and the whole
/// master file as it was after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDetail {
    pub summary: VersionSummary,
    pub diff: String,
    pub content: String,
}
