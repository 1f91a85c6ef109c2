//! Authoritative DNS: zones and their records, as the paper's figure 1 runs
//! them (an authoritative-only NSD primary keeping a secondary current).
//! `zone` is the pure model: names, records, validation, master files;
//! `nsd` (server only) writes checked zone files, nsd.conf and TSIG keys;
//! `store` (server only) keeps zones, records and their history in the
//! database; `service` (server only) is what the server functions in `api`
//! call; `pages` shows it all.

pub mod api;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod nsd;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
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

/// A zone in the zones list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneListItem {
    pub zone: ZoneSummary,
    pub records: usize,
    /// Serial installed on the primary by the last apply, if any.
    pub applied_serial: Option<u32>,
}

/// The record form's fields, as typed. Which ones are used depends on the
/// type: `address` (A, AAAA), `target` (CNAME, NS, PTR, SRV), `exchange`
/// and `preference` (MX), `value` (TXT, CAA), `priority`/`weight`/`port`
/// (SRV), `flags`/`tag` (CAA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordForm {
    pub owner: String,
    pub rtype: String,
    pub ttl: String,
    pub address: String,
    pub target: String,
    pub exchange: String,
    pub preference: String,
    pub priority: String,
    pub weight: String,
    pub port: String,
    pub value: String,
    pub flags: String,
    pub tag: String,
}

/// One record on the zone page, with what the edit form starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    /// Identifies the record for edit and delete (its JSON).
    pub key: String,
    /// Owner relative to the zone (`@`, `www`).
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    /// The RDATA as a zone file writes it.
    pub data: String,
    /// The edit form's starting values.
    pub form: RecordForm,
    /// For A/AAAA: a PTR for this address points back at this name.
    pub has_ptr: bool,
}

/// A zone's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneDetail {
    pub zone: ZoneSummary,
    pub applied_serial: Option<u32>,
    pub default_ttl: u32,
    pub soa: String,
    pub records: Vec<RecordRow>,
}

/// What saving a record did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOutcome {
    pub zone: ZoneSummary,
    /// The PTR written or removed, in words.
    pub ptr: Option<String>,
}

/// What an import would do (nothing is saved by a preview).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportPreview {
    /// Line-numbered problems; when any, the import is refused.
    pub errors: Vec<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Notes (the file's SOA is not taken over, …).
    pub notes: Vec<String>,
}

/// A zone file to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneExport {
    pub file_name: String,
    pub text: String,
}

/// The outcome of installing one zone on the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneApplied {
    pub origin: String,
    pub serial: u32,
    pub installed: bool,
    /// The checker's message when refused; the file path when installed.
    pub message: String,
}

/// The outcome of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub zones: Vec<ZoneApplied>,
    /// What the reload did, or why it failed.
    pub reload: Option<Result<String, String>>,
}

/// A DNS server entry (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub id: i32,
    pub name: String,
    /// `primary` or `secondary`.
    pub role: String,
    pub ns_name: String,
    pub address: String,
    pub port: u16,
    pub zones_dir: String,
    /// The reload method in words.
    pub reload: String,
    /// The form's fields for the reload method (`nsd_control`, `command`
    /// or `signal`, and its path or command line), to edit it.
    pub reload_kind: String,
    pub reload_value: String,
}

/// The TSIG key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub name: String,
    pub algorithm: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The DNS servers page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersView {
    pub servers: Vec<ServerInfo>,
    pub key: Option<KeyInfo>,
}
