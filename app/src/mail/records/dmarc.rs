//! DMARC policy records (RFC 7489), published at `_dmarc.<domain>`.
//!
//! [`DmarcRecord::parse`] fails on the first error; [`validate_dmarc`]
//! lists every error plus warnings (unknown tags, which receivers ignore)
//! and hints. [`DmarcRecord::build`] goes the other way, from typed fields to
//! the record string, and re-parses its own output so that it can never hand
//! the console a record receivers would reject.

use crate::dns::zone::host::normalise;
use crate::mail::records::Diagnostic;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What receivers should do with mail that fails DMARC (`p=`, `sp=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
}

impl fmt::Display for DmarcPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        })
    }
}

/// Identifier alignment mode (`adkim=`, `aspf=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alignment {
    /// `r`: organisational domains must match (the default).
    Relaxed,
    /// `s`: domains must match exactly.
    Strict,
}

impl fmt::Display for Alignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alignment::Relaxed => "r",
            Alignment::Strict => "s",
        })
    }
}

/// When to send failure reports (`fo=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureOption {
    /// `0`: when all mechanisms fail to give an aligned pass (default).
    All,
    /// `1`: when any mechanism fails to give an aligned pass.
    Any,
    /// `d`: when DKIM fails, aligned or not.
    Dkim,
    /// `s`: when SPF fails, aligned or not.
    Spf,
}

impl fmt::Display for FailureOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureOption::All => "0",
            FailureOption::Any => "1",
            FailureOption::Dkim => "d",
            FailureOption::Spf => "s",
        })
    }
}

/// Unit of a report size limit (`!10m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SizeUnit {
    K,
    M,
    G,
    T,
}

/// A report size limit as written after `!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReportSize {
    pub amount: u64,
    /// `None` means bytes.
    pub unit: Option<SizeUnit>,
}

impl ReportSize {
    /// The limit in bytes (units are binary: RFC 7489 §6.4 defines k as
    /// 2^10), saturating rather than overflowing.
    pub fn bytes(&self) -> u64 {
        let shift = match self.unit {
            None => 0,
            Some(SizeUnit::K) => 10,
            Some(SizeUnit::M) => 20,
            Some(SizeUnit::G) => 30,
            Some(SizeUnit::T) => 40,
        };
        self.amount.saturating_mul(1u64 << shift)
    }
}

impl fmt::Display for ReportSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.amount)?;
        match self.unit {
            None => Ok(()),
            Some(SizeUnit::K) => f.write_str("k"),
            Some(SizeUnit::M) => f.write_str("m"),
            Some(SizeUnit::G) => f.write_str("g"),
            Some(SizeUnit::T) => f.write_str("t"),
        }
    }
}

/// One report destination in `rua=`/`ruf=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DmarcUri {
    /// The URI, e.g. `mailto:dmarc@example.com`.
    pub uri: String,
    pub max_size: Option<ReportSize>,
}

impl DmarcUri {
    /// A `mailto:` destination without a size limit.
    pub fn mailto(address: &str) -> Self {
        Self {
            uri: format!("mailto:{address}"),
            max_size: None,
        }
    }

    /// The mailbox's domain, lower-cased.
    pub fn domain(&self) -> Option<String> {
        self.uri.rsplit_once('@').map(|(_, d)| normalise(d))
    }
}

impl fmt::Display for DmarcUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)?;
        if let Some(s) = &self.max_size {
            write!(f, "!{s}")?;
        }
        Ok(())
    }
}

/// A DMARC record. Optional tags left as `None`/empty are omitted and take
/// their RFC defaults at the receiver (pct 100, adkim/aspf r, fo 0, rf afrf,
/// ri 86400, sp = p).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcRecord {
    pub policy: DmarcPolicy,
    pub subdomain_policy: Option<DmarcPolicy>,
    pub pct: Option<u8>,
    pub rua: Vec<DmarcUri>,
    pub ruf: Vec<DmarcUri>,
    pub adkim: Option<Alignment>,
    pub aspf: Option<Alignment>,
    pub fo: Vec<FailureOption>,
    pub rf: Option<String>,
    pub ri: Option<u32>,
}

/// Problems that make receivers reject or misread a DMARC record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DmarcError {
    #[error("the record is empty; a DMARC record starts with v=DMARC1")]
    Empty,
    #[error("{}", version_not_first(found))]
    VersionNotFirst { found: String },
    #[error("v={value} is not a DMARC version; it must be exactly v=DMARC1 (upper case)")]
    BadVersion { value: String },
    #[error(
        "\"{part}\" is not a tag=value pair; separate tags with semicolons, e.g. \
         v=DMARC1; p=none"
    )]
    NotTagValue { part: String },
    #[error("\"{part}\" is missing a semicolon between tags; write \"{fixed}\"")]
    MissingSemicolon { part: String, fixed: String },
    #[error("the tag {tag}= appears more than once; keep only one")]
    DuplicateTag { tag: String },
    #[error("{tag}= has no value; give one or remove the tag")]
    EmptyValue { tag: String },
    #[error(
        "the required tag p= is missing; add p=none to only collect reports, or \
         p=quarantine / p=reject to act on failing mail"
    )]
    MissingPolicy,
    #[error("{tag}={value} is not a policy; use none, quarantine or reject")]
    BadPolicy { tag: String, value: String },
    #[error("pct={value} is out of range; use a whole number from 0 to 100")]
    BadPct { value: String },
    #[error("{tag}={value} is invalid; use r (relaxed) or s (strict)")]
    BadAlignment { tag: String, value: String },
    #[error(
        "fo={value}: \"{option}\" is not a failure-report option; use 0, 1, d or s, \
         separated by colons (e.g. fo=1:d)"
    )]
    BadFailureOption { value: String, option: String },
    #[error("ri={value} is not a number of seconds; e.g. ri=86400 for daily reports")]
    BadInterval { value: String },
    #[error("{tag}: \"{uri}\" {reason}")]
    BadUri {
        tag: String,
        uri: String,
        reason: String,
    },
}

/// A record that does not start with the version: when the version is
/// further in, the person most likely pasted the whole zone-file line.
fn version_not_first(found: &str) -> String {
    if found.contains("DMARC1") {
        format!(
            "the record must start with v=DMARC1 but starts with \"{found}\"; enter only \
             the TXT value, without quotes or the record's name, class and type"
        )
    } else {
        format!("the record must start with v=DMARC1 but starts with \"{found}\"")
    }
}

fn parse_policy(tag: &str, value: &str) -> Result<DmarcPolicy, DmarcError> {
    // ABNF literals are case-insensitive, so "Reject" is accepted.
    match value.to_ascii_lowercase().as_str() {
        "none" => Ok(DmarcPolicy::None),
        "quarantine" => Ok(DmarcPolicy::Quarantine),
        "reject" => Ok(DmarcPolicy::Reject),
        _ => Err(DmarcError::BadPolicy {
            tag: tag.to_string(),
            value: value.to_string(),
        }),
    }
}

fn parse_alignment(tag: &str, value: &str) -> Result<Alignment, DmarcError> {
    match value.to_ascii_lowercase().as_str() {
        "r" => Ok(Alignment::Relaxed),
        "s" => Ok(Alignment::Strict),
        _ => Err(DmarcError::BadAlignment {
            tag: tag.to_string(),
            value: value.to_string(),
        }),
    }
}

fn parse_size(text: &str) -> Option<ReportSize> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let amount = digits.parse().ok()?;
    let unit = match unit.to_ascii_lowercase().as_str() {
        "" => None,
        "k" => Some(SizeUnit::K),
        "m" => Some(SizeUnit::M),
        "g" => Some(SizeUnit::G),
        "t" => Some(SizeUnit::T),
        _ => return None,
    };
    Some(ReportSize { amount, unit })
}

fn parse_uri(tag: &str, text: &str) -> Result<DmarcUri, DmarcError> {
    let bad = |reason: &str| DmarcError::BadUri {
        tag: tag.to_string(),
        uri: text.to_string(),
        reason: reason.to_string(),
    };
    // '!' cannot appear unescaped in the URI itself (§6.4), so the last one
    // starts the size limit.
    let (uri, max_size) = match text.rsplit_once('!') {
        Some((u, size)) => (
            u,
            Some(parse_size(size).ok_or_else(|| {
                bad(&format!(
                    "has an invalid size limit \"!{size}\"; write e.g. !10m (k, m, g or t)"
                ))
            })?),
        ),
        None => (text, None),
    };
    // `get` rather than slicing: the input may hold multi-byte characters.
    let address = match (uri.get(..7), uri.get(7..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("mailto:") => rest,
        _ => {
            return Err(bad(
                "is not a mailto: URI; write it as mailto:dmarc-reports@example.com",
            ))
        }
    };
    let valid_address = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.contains('@')
        }
        None => false,
    };
    if !valid_address || address.chars().any(char::is_whitespace) {
        return Err(bad(
            "does not contain a valid mail address after mailto: (e.g. \
             mailto:dmarc-reports@example.com)",
        ));
    }
    Ok(DmarcUri {
        uri: uri.to_string(),
        max_size,
    })
}

fn parse_uri_list(tag: &str, value: &str) -> Result<Vec<DmarcUri>, DmarcError> {
    value.split(',').map(|u| parse_uri(tag, u.trim())).collect()
}

/// Splits `v=DMARC1 p=none` (a forgotten `;`) into `["v=DMARC1", "p=none"]`
/// so the rest of the record can still be checked. A word starts a new tag
/// only if it looks like `name=`, which keeps `mailto:` lists with spaces
/// after commas, or URIs containing `?subject=`, in one piece. A part whose
/// first word is not a tag (a pasted zone line) is left alone.
fn split_run_on_tags(part: &str) -> Vec<String> {
    fn starts_tag(word: &str) -> bool {
        word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
        })
    }
    let words: Vec<&str> = part.split_whitespace().collect();
    if words.first().is_none_or(|w| !starts_tag(w)) {
        return vec![part.to_string()];
    }
    let mut groups: Vec<String> = Vec::new();
    for word in words {
        match groups.last_mut() {
            Some(group) if !starts_tag(word) || word.starts_with('=') => {
                group.push(' ');
                group.push_str(word);
            }
            _ => groups.push(word.to_string()),
        }
    }
    groups
}

/// Result of reading a record: the record if it is usable, every error,
/// and warnings/hints.
struct Analysis {
    record: Option<DmarcRecord>,
    errors: Vec<DmarcError>,
    notes: Vec<Diagnostic>,
}

fn analyse(text: &str) -> Analysis {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    // Whitespace around ';' and '=' is allowed (RFC 7489 §6.4), and so is a
    // trailing ';'.
    let mut parts: Vec<String> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let groups = split_run_on_tags(part);
        if groups.len() > 1 {
            errors.push(DmarcError::MissingSemicolon {
                part: part.to_string(),
                fixed: groups.join("; "),
            });
        }
        parts.extend(groups);
    }
    let Some(first) = parts.first() else {
        return Analysis {
            record: None,
            errors: vec![DmarcError::Empty],
            notes,
        };
    };
    match first.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("v") => {
            if value.trim() != "DMARC1" {
                errors.push(DmarcError::BadVersion {
                    value: value.trim().to_string(),
                });
            }
        }
        _ => {
            // Without v=DMARC1 first, receivers discard the record (§6.6.3):
            // nothing after it is worth reporting on.
            return Analysis {
                record: None,
                errors: vec![DmarcError::VersionNotFirst {
                    found: first.clone(),
                }],
                notes,
            };
        }
    }

    let mut seen: Vec<String> = vec!["v".to_string()];
    let mut policy = None;
    let mut rec = DmarcRecord::new(DmarcPolicy::None);
    for part in &parts[1..] {
        let Some((name, value)) = part.split_once('=') else {
            errors.push(DmarcError::NotTagValue {
                part: part.to_string(),
            });
            continue;
        };
        let tag = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if seen.contains(&tag) {
            errors.push(DmarcError::DuplicateTag { tag });
            continue;
        }
        seen.push(tag.clone());
        let known = matches!(
            tag.as_str(),
            "p" | "sp" | "pct" | "rua" | "ruf" | "adkim" | "aspf" | "fo" | "rf" | "ri"
        );
        if !known {
            // §6.3: unknown tags MUST be ignored, so they are not errors,
            // but a typo ("ruf" for "rua") silently loses reports.
            notes.push(Diagnostic::warning(format!(
                "unknown tag \"{part}\" is ignored by receivers; check the spelling"
            )));
            continue;
        }
        if value.is_empty() {
            errors.push(DmarcError::EmptyValue { tag });
            continue;
        }
        let result: Result<(), DmarcError> = (|| {
            match tag.as_str() {
                "p" => policy = Some(parse_policy("p", value)?),
                "sp" => rec.subdomain_policy = Some(parse_policy("sp", value)?),
                "pct" => {
                    let pct = value
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= 100 && value.chars().all(|c| c.is_ascii_digit()))
                        .ok_or_else(|| DmarcError::BadPct {
                            value: value.to_string(),
                        })?;
                    rec.pct = Some(pct);
                }
                "rua" => rec.rua = parse_uri_list("rua", value)?,
                "ruf" => rec.ruf = parse_uri_list("ruf", value)?,
                "adkim" => rec.adkim = Some(parse_alignment("adkim", value)?),
                "aspf" => rec.aspf = Some(parse_alignment("aspf", value)?),
                "fo" => {
                    rec.fo = value
                        .split(':')
                        .map(|o| match o.trim().to_ascii_lowercase().as_str() {
                            "0" => Ok(FailureOption::All),
                            "1" => Ok(FailureOption::Any),
                            "d" => Ok(FailureOption::Dkim),
                            "s" => Ok(FailureOption::Spf),
                            _ => Err(DmarcError::BadFailureOption {
                                value: value.to_string(),
                                option: o.trim().to_string(),
                            }),
                        })
                        .collect::<Result<_, _>>()?;
                }
                "rf" => {
                    if value
                        .split(':')
                        .any(|f| !f.trim().eq_ignore_ascii_case("afrf"))
                    {
                        notes.push(Diagnostic::warning(format!(
                            "rf={value}: afrf is the only failure-report format receivers \
                             know; use rf=afrf or remove the tag"
                        )));
                    }
                    rec.rf = Some(value.to_string());
                }
                "ri" => {
                    let ri = value
                        .parse::<u32>()
                        .ok()
                        .filter(|_| value.chars().all(|c| c.is_ascii_digit()))
                        .ok_or_else(|| DmarcError::BadInterval {
                            value: value.to_string(),
                        })?;
                    rec.ri = Some(ri);
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = result {
            errors.push(e);
        }
    }

    if !seen.iter().any(|t| t == "p") {
        errors.push(DmarcError::MissingPolicy);
    }
    let record = match policy {
        Some(p) if errors.is_empty() => {
            rec.policy = p;
            Some(rec)
        }
        _ => None,
    };
    if let Some(r) = &record {
        if r.policy == DmarcPolicy::None {
            notes.push(Diagnostic::info(
                "p=none asks receivers to take no action on failing mail (monitoring only); \
                 move to p=quarantine or p=reject once reports show all your mail passes",
            ));
        }
        if r.rua.is_empty() {
            notes.push(Diagnostic::info(
                "there is no rua= address, so no aggregate reports will be sent; add e.g. \
                 rua=mailto:dmarc-reports@example.com",
            ));
        }
    }
    Analysis {
        record,
        errors,
        notes,
    }
}

impl DmarcRecord {
    /// A record with policy `p` and every optional tag left out.
    pub fn new(policy: DmarcPolicy) -> Self {
        Self {
            policy,
            subdomain_policy: None,
            pct: None,
            rua: Vec::new(),
            ruf: Vec::new(),
            adkim: None,
            aspf: None,
            fo: Vec::new(),
            rf: None,
            ri: None,
        }
    }

    /// Parses a record, failing on the first error. Unknown tags are
    /// ignored, as receivers do.
    pub fn parse(text: &str) -> Result<Self, DmarcError> {
        let a = analyse(text);
        if let Some(e) = a.errors.into_iter().next() {
            return Err(e);
        }
        a.record.ok_or(DmarcError::MissingPolicy)
    }

    /// The record string, checked by parsing it back.
    pub fn build(&self) -> Result<String, DmarcError> {
        let text = self.to_string();
        Self::parse(&text)?;
        Ok(text)
    }

    /// Names that must publish `v=DMARC1` before receivers send reports to
    /// a mailbox outside `policy_domain` (RFC 7489 §7.1), e.g.
    /// `example.com._report._dmarc.thirdparty.example.net`.
    ///
    /// The comparison is by exact domain: a report address at a subdomain
    /// of the policy domain may not need this, but publishing the record is
    /// harmless, and exactness avoids needing the public suffix list.
    pub fn external_report_domains(&self, policy_domain: &str) -> Vec<String> {
        let own = normalise(policy_domain);
        let mut out: Vec<String> = Vec::new();
        for uri in self.rua.iter().chain(&self.ruf) {
            if let Some(d) = uri.domain() {
                let name = format!("{own}._report._dmarc.{d}");
                if d != own && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }
}

impl FromStr for DmarcRecord {
    type Err = DmarcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DmarcRecord {
    /// Writes tags in the order RFC 7489's ABNF lists them. Unchecked: use
    /// [`DmarcRecord::build`] for a validated string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(sep)
        }
        write!(f, "v=DMARC1; p={}", self.policy)?;
        if let Some(sp) = self.subdomain_policy {
            write!(f, "; sp={sp}")?;
        }
        if !self.rua.is_empty() {
            write!(f, "; rua={}", join(&self.rua, ","))?;
        }
        if !self.ruf.is_empty() {
            write!(f, "; ruf={}", join(&self.ruf, ","))?;
        }
        if let Some(a) = self.adkim {
            write!(f, "; adkim={a}")?;
        }
        if let Some(a) = self.aspf {
            write!(f, "; aspf={a}")?;
        }
        if let Some(ri) = self.ri {
            write!(f, "; ri={ri}")?;
        }
        if !self.fo.is_empty() {
            write!(f, "; fo={}", join(&self.fo, ":"))?;
        }
        if let Some(rf) = &self.rf {
            write!(f, "; rf={rf}")?;
        }
        if let Some(pct) = self.pct {
            write!(f, "; pct={pct}")?;
        }
        Ok(())
    }
}

/// Every finding about a DMARC record: errors in record order, then
/// warnings, then hints.
pub fn validate_dmarc(text: &str) -> Vec<Diagnostic> {
    let a = analyse(text);
    let mut out: Vec<Diagnostic> = a
        .errors
        .iter()
        .map(|e| Diagnostic::error(e.to_string()))
        .collect();
    out.extend(a.notes);
    out.sort_by_key(|d| d.severity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::records::Severity;
    use proptest::prelude::*;

    fn errors(text: &str) -> Vec<String> {
        validate_dmarc(text)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message)
            .collect()
    }

    fn one_error(text: &str) -> String {
        let e = errors(text);
        assert_eq!(e.len(), 1, "{text}: {e:?}");
        assert_eq!(DmarcRecord::parse(text).unwrap_err().to_string(), e[0]);
        e[0].clone()
    }

    const P_NONE_INFO: &str = "p=none asks receivers to take no action on failing mail \
        (monitoring only); move to p=quarantine or p=reject once reports show all your mail \
        passes";
    const NO_RUA_INFO: &str = "there is no rua= address, so no aggregate reports will be sent; \
        add e.g. rua=mailto:dmarc-reports@example.com";

    #[test]
    fn paper_table1_record() {
        let rec = DmarcRecord::parse("v=DMARC1; p=none").unwrap();
        assert_eq!(rec, DmarcRecord::new(DmarcPolicy::None));
        assert_eq!(
            validate_dmarc("v=DMARC1; p=none"),
            vec![Diagnostic::info(P_NONE_INFO), Diagnostic::info(NO_RUA_INFO)]
        );
        // The table prints the zone line; pasting all of it is a common slip.
        assert_eq!(
            one_error("_dmarc.anydomain.com IN TXT v=DMARC1; p=none"),
            "the record must start with v=DMARC1 but starts with \"_dmarc.anydomain.com IN TXT \
             v=DMARC1\"; enter only the TXT value, without quotes or the record's name, class \
             and type"
        );
    }

    #[test]
    fn rfc7489_b2_examples() {
        let r =
            DmarcRecord::parse("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com").unwrap();
        assert_eq!(r.rua, vec![DmarcUri::mailto("dmarc-feedback@example.com")]);
        assert_eq!(
            validate_dmarc("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com"),
            vec![Diagnostic::info(P_NONE_INFO)]
        );

        let r = DmarcRecord::parse(
            "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; \
             ruf=mailto:auth-reports@thirdparty.example.net",
        )
        .unwrap();
        assert_eq!(
            r.ruf,
            vec![DmarcUri::mailto("auth-reports@thirdparty.example.net")]
        );
        assert_eq!(
            r.external_report_domains("example.com"),
            vec!["example.com._report._dmarc.thirdparty.example.net"]
        );

        let text = "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,\
                    mailto:tld-test@thirdparty.example.net!10m; pct=25";
        let r = DmarcRecord::parse(text).unwrap();
        assert_eq!(r.policy, DmarcPolicy::Quarantine);
        assert_eq!(r.pct, Some(25));
        assert_eq!(r.rua.len(), 2);
        let size = r.rua[1].max_size.unwrap();
        assert_eq!(
            size,
            ReportSize {
                amount: 10,
                unit: Some(SizeUnit::M)
            }
        );
        assert_eq!(size.bytes(), 10 * 1024 * 1024);
        assert_eq!(r.rua[1].uri, "mailto:tld-test@thirdparty.example.net");
        assert_eq!(validate_dmarc(text), vec![]);
        // Canonical output keeps the ABNF order (pct last).
        assert_eq!(r.build().unwrap(), text);
    }

    #[test]
    fn all_tags_parse() {
        let r = DmarcRecord::parse(
            " v = DMARC1 ;P=Reject; sp=quarantine; adkim=s; aspf=r; fo=0:1:d:s; rf=afrf; \
             ri=3600; ruf=mailto:f@example.com!512k;",
        )
        .unwrap();
        assert_eq!(r.policy, DmarcPolicy::Reject);
        assert_eq!(r.subdomain_policy, Some(DmarcPolicy::Quarantine));
        assert_eq!(r.adkim, Some(Alignment::Strict));
        assert_eq!(r.aspf, Some(Alignment::Relaxed));
        assert_eq!(
            r.fo,
            vec![
                FailureOption::All,
                FailureOption::Any,
                FailureOption::Dkim,
                FailureOption::Spf
            ]
        );
        assert_eq!(r.rf.as_deref(), Some("afrf"));
        assert_eq!(r.ri, Some(3600));
        assert_eq!(r.ruf[0].max_size.map(|s| s.bytes()), Some(512 * 1024));
    }

    #[test]
    fn version_errors() {
        assert_eq!(
            one_error("p=none; v=DMARC1"),
            "the record must start with v=DMARC1 but starts with \"p=none\""
        );
        assert_eq!(
            one_error("v=DMARC2; p=none"),
            "v=DMARC2 is not a DMARC version; it must be exactly v=DMARC1 (upper case)"
        );
        assert_eq!(
            one_error("v=dmarc1; p=none"),
            "v=dmarc1 is not a DMARC version; it must be exactly v=DMARC1 (upper case)"
        );
        assert_eq!(
            one_error(""),
            "the record is empty; a DMARC record starts with v=DMARC1"
        );
    }

    #[test]
    fn tag_errors() {
        assert_eq!(
            one_error("v=DMARC1"),
            "the required tag p= is missing; add p=none to only collect reports, or \
             p=quarantine / p=reject to act on failing mail"
        );
        assert_eq!(
            one_error("v=DMARC1; p=block"),
            "p=block is not a policy; use none, quarantine or reject"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; sp=deny"),
            "sp=deny is not a policy; use none, quarantine or reject"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; pct=150"),
            "pct=150 is out of range; use a whole number from 0 to 100"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; pct=-5"),
            "pct=-5 is out of range; use a whole number from 0 to 100"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; adkim=relaxed"),
            "adkim=relaxed is invalid; use r (relaxed) or s (strict)"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; fo=1:x"),
            "fo=1:x: \"x\" is not a failure-report option; use 0, 1, d or s, separated by \
             colons (e.g. fo=1:d)"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; ri=daily"),
            "ri=daily is not a number of seconds; e.g. ri=86400 for daily reports"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; p=reject"),
            "the tag p= appears more than once; keep only one"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; pct="),
            "pct= has no value; give one or remove the tag"
        );
        assert_eq!(
            one_error("v=DMARC1 p=none"),
            "\"v=DMARC1 p=none\" is missing a semicolon between tags; write \"v=DMARC1; p=none\""
        );
        // A list with a space after the comma is not a missing semicolon.
        assert!(
            DmarcRecord::parse("v=DMARC1; p=none; rua=mailto:a@x.example, mailto:b@x.example")
                .is_ok()
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; rua"),
            "\"rua\" is not a tag=value pair; separate tags with semicolons, e.g. v=DMARC1; \
             p=none"
        );
    }

    #[test]
    fn uri_errors() {
        assert_eq!(
            one_error("v=DMARC1; p=none; rua=dmarc@example.com"),
            "rua: \"dmarc@example.com\" is not a mailto: URI; write it as \
             mailto:dmarc-reports@example.com"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; rua=mailto:dmarc"),
            "rua: \"mailto:dmarc\" does not contain a valid mail address after mailto: (e.g. \
             mailto:dmarc-reports@example.com)"
        );
        assert_eq!(
            one_error("v=DMARC1; p=none; ruf=mailto:a@example.com!10x"),
            "ruf: \"mailto:a@example.com!10x\" has an invalid size limit \"!10x\"; write e.g. \
             !10m (k, m, g or t)"
        );
        // Each URI in a list is checked.
        assert_eq!(
            errors("v=DMARC1; p=none; rua=mailto:a@example.com, https://x.example"),
            vec![
                "rua: \"https://x.example\" is not a mailto: URI; write it as \
                  mailto:dmarc-reports@example.com"
            ]
        );
    }

    #[test]
    fn several_errors_and_unknown_tags() {
        let d = validate_dmarc("v=DMARC1; p=maybe; pct=101; foo=bar");
        assert_eq!(
            d,
            vec![
                Diagnostic::error("p=maybe is not a policy; use none, quarantine or reject"),
                Diagnostic::error("pct=101 is out of range; use a whole number from 0 to 100"),
                Diagnostic::warning(
                    "unknown tag \"foo=bar\" is ignored by receivers; check the spelling"
                ),
            ]
        );
        // Unknown tags alone do not make the record invalid.
        assert!(
            DmarcRecord::parse("v=DMARC1; p=reject; rua=mailto:a@example.com; np=reject").is_ok()
        );
        assert_eq!(
            validate_dmarc("v=DMARC1; p=reject; rua=mailto:a@example.com; rf=iodef"),
            vec![Diagnostic::warning(
                "rf=iodef: afrf is the only failure-report format receivers know; use rf=afrf \
                 or remove the tag"
            )]
        );
    }

    #[test]
    fn builder_writes_typed_fields() {
        let mut r = DmarcRecord::new(DmarcPolicy::Reject);
        r.subdomain_policy = Some(DmarcPolicy::Quarantine);
        r.rua = vec![DmarcUri::mailto("dmarc@anydomain.com")];
        r.ruf = vec![DmarcUri {
            uri: "mailto:forensic@reports.example.net".into(),
            max_size: Some(ReportSize {
                amount: 1,
                unit: Some(SizeUnit::M),
            }),
        }];
        r.adkim = Some(Alignment::Strict);
        r.fo = vec![FailureOption::Any, FailureOption::Dkim];
        r.pct = Some(50);
        let text = r.build().unwrap();
        assert_eq!(
            text,
            "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@anydomain.com; \
             ruf=mailto:forensic@reports.example.net!1m; adkim=s; fo=1:d; pct=50"
        );
        assert_eq!(DmarcRecord::parse(&text).unwrap(), r);
        assert_eq!(
            r.external_report_domains("anydomain.com"),
            vec!["anydomain.com._report._dmarc.reports.example.net"]
        );
        assert_eq!(
            DmarcRecord::new(DmarcPolicy::None).build().unwrap(),
            "v=DMARC1; p=none"
        );

        r.pct = Some(101);
        assert_eq!(
            r.build(),
            Err(DmarcError::BadPct {
                value: "101".into()
            })
        );
        r.pct = None;
        r.rua = vec![DmarcUri::mailto("not-an-address")];
        assert!(matches!(r.build(), Err(DmarcError::BadUri { .. })));
    }

    proptest! {
        #[test]
        fn built_records_round_trip(
            p in 0usize..3, sp in proptest::option::of(0usize..3), pct in proptest::option::of(0u8..=100),
            strict in proptest::option::of(any::<bool>()), ri in proptest::option::of(any::<u32>()),
            size in proptest::option::of(0u64..100_000),
        ) {
            let pols = [DmarcPolicy::None, DmarcPolicy::Quarantine, DmarcPolicy::Reject];
            let mut r = DmarcRecord::new(pols[p]);
            r.subdomain_policy = sp.map(|i| pols[i]);
            r.pct = pct;
            r.aspf = strict.map(|s| if s { Alignment::Strict } else { Alignment::Relaxed });
            r.ri = ri;
            r.rua = vec![DmarcUri { uri: "mailto:d@example.org".into(), max_size: size.map(|amount| ReportSize { amount, unit: Some(SizeUnit::K) }) }];
            let text = r.build().unwrap();
            prop_assert_eq!(DmarcRecord::parse(&text).unwrap(), r);
        }

        #[test]
        fn parser_never_panics(s in "v=DMARC1(; ?[a-z]{1,5}=[a-zA-Z0-9:@.!,]{0,12}){0,6}") {
            let _ = validate_dmarc(&s);
        }
    }
}
