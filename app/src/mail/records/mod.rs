//! The mail-authentication record logic behind Stackyard's DNS and mail
//! pages.
//!
//! A small organisation that runs its own mail server and authoritative DNS
//! has to publish a handful of TXT records before other providers will accept
//! its mail (SPF, DKIM, DMARC, and often a Google site-verification token).
//! This module parses, validates, builds and evaluates those records without
//! doing any network I/O itself: everything that needs DNS is async over a
//! resolver trait, so the console can plug in its own zone data or live DNS.
//!
//! Modules:
//! - [`spf`]: RFC 7208 parsing, validation, building, lookup counting and
//!   `check_host()` evaluation.
//! - [`dmarc`]: RFC 7489 policy records.
//! - `dkim` (server only: it links the RSA and Ed25519 crates): RFC 6376 /
//!   RFC 8463 key records and key generation.
//! - [`google`]: Google site-verification tokens.
//! - [`dnsbl`]: DNS blocklist query names and answer interpretation.
//! - TXT splitting and quoting come from [`crate::dns::zone::txt`] (re-exported here).
//!
//! Validators return [`Diagnostic`]s rather than stopping at the first
//! problem, because the console shows every issue with a record at once and
//! a person fixes them in one edit.

#[cfg(feature = "ssr")]
pub mod dkim;
pub mod dmarc;
pub mod dnsbl;
pub mod google;
pub mod spf;

use serde::{Deserialize, Serialize};
use std::fmt;

/// How serious a finding is.
///
/// Ordered so that sorting puts errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Receivers will reject or ignore the record: it must be fixed.
    Error,
    /// The record works but is risky, deprecated or partly ignored.
    Warning,
    /// Worth knowing; no change is strictly needed.
    Info,
}

/// One finding about a record, worded for the person who publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Info,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{label}: {}", self.message)
    }
}

/// True when none of the diagnostics is an error.
pub fn is_valid(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().all(|d| d.severity != Severity::Error)
}

pub use crate::dns::zone::txt::{split_txt, to_zone_txt};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn diagnostics_display_with_severity() {
        assert_eq!(Diagnostic::warning("w").to_string(), "warning: w");
        assert!(is_valid(&[Diagnostic::info("i"), Diagnostic::warning("w")]));
        assert!(!is_valid(&[Diagnostic::error("e")]));
    }

    proptest! {
        // Console input is arbitrary text: no validator may panic on it,
        // including multi-byte characters at any position.
        #[test]
        fn validators_never_panic(s in "\\PC{0,80}") {
            let _ = spf::validate_spf(&s);
            let spf_like = format!("v=spf1 {s}");
            let _ = spf::validate_spf(&spf_like);
            let nothing = crate::mail::check::StaticDns::new();
            let evaluation = spf::authorises_ip(&spf_like, "192.0.2.1".parse().unwrap(), "example.com", &nothing);
            let _ = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(evaluation);
            let _ = dmarc::validate_dmarc(&s);
            let _ = dmarc::validate_dmarc(&format!("v=DMARC1; p=none; rua={s}"));
            #[cfg(feature = "ssr")]
            let _ = dkim::validate_dkim(&s);
            #[cfg(feature = "ssr")]
            let _ = dkim::validate_dkim(&format!("v=DKIM1; p={s}"));
            let _ = google::validate_google_site_verification(&s);
            let _ = dnsbl::dnsbl_query_name("192.0.2.1".parse().unwrap(), &s);
        }
    }
}
