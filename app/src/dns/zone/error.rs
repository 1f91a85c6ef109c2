//! Error and problem types shared by every part of the zone model.
//!
//! Stackyard shows these to people editing zones, so every message is a
//! complete sentence that says what is wrong *and* what would be accepted.
//! The `field` names match the form fields of the web console so that the UI
//! can put each message next to the input it concerns.

use serde::{Deserialize, Serialize};

/// A problem with one input field of a form (or one part of a record).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Form field the message belongs to, e.g. `"owner"`, `"ttl"`, `"target"`.
    pub field: String,
    /// Human-readable explanation, actionable by the person filling the form.
    pub message: String,
}

impl FieldError {
    /// Builds a field error; accepts `&'static str` or `String` for both parts.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A problem found when validating a whole zone.
///
/// `record` is the index into [`crate::dns::zone::Zone::records`] of the offending
/// record, or `None` when the problem concerns the zone itself (SOA, default
/// TTL), so the console can highlight the right row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ZoneProblem {
    /// Index into `Zone::records`, `None` for zone-level problems.
    pub record: Option<usize>,
    /// Field of the record (or zone) concerned.
    pub field: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ZoneProblem {
    fn describe(&self) -> String {
        match self.record {
            Some(i) => format!("record #{i} {}: {}", self.field, self.message),
            None => format!("zone {}: {}", self.field, self.message),
        }
    }
}

/// A problem in an uploaded master file, with its 1-based line number.
///
/// Line `0` is used for problems that concern the whole file (for example a
/// missing SOA record) rather than any single line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ParseError {
    /// 1-based line number where the offending entry starts; 0 = whole file.
    pub line: usize,
    /// Human-readable explanation.
    pub message: String,
}

impl ParseError {
    fn describe(&self) -> String {
        if self.line == 0 {
            self.message.clone()
        } else {
            format!("line {}: {}", self.line, self.message)
        }
    }
}
