//! Domain names: validation, IDNA conversion, escapes and canonical ordering.
//!
//! A [`Name`] is always *absolute* (fully qualified). It keeps two views of
//! the same value:
//!
//! * `text` – the presentation form with a trailing dot, lower-cased and with
//!   the canonical escapes, which is what the console shows and stores;
//! * `wire` – the uncompressed wire form (length-prefixed labels), which is
//!   what the size limits of RFC 1035 are defined on and what the canonical
//!   DNS ordering of RFC 4034 §6.1 works with.
//!
//! DNS compares names case-insensitively; we lower-case ASCII letters on the
//! way in so that the derived `Eq`/`Hash` give exactly that comparison and
//! two spellings of one name can never coexist in a zone.

use crate::dns::zone::error::FieldError;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest label allowed by RFC 1035 §2.3.4, in octets.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest name allowed by RFC 1035 §2.3.4, in octets of wire form.
pub const MAX_NAME_LEN: usize = 255;

/// A validated, absolute, lower-cased domain name.
///
/// Both views live in one allocation (the wire form, then the text), so a
/// name costs one `malloc` and 24 bytes inline: a 100,000-record zone holds
/// a few hundred thousand of them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name {
    /// The wire form (`wire_len` octets), then the presentation text (ASCII:
    /// every other octet is escaped, see [`escape_label`]).
    buf: Box<[u8]>,
    /// Length of the wire form, at most [`MAX_NAME_LEN`] = 255.
    wire_len: u8,
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Name").field(&self.as_str()).finish()
    }
}

/// True for the octets a name may hold unescaped in both its input and its
/// presentation form: printable ASCII other than the label separator and
/// the characters [`escape_label`] escapes.
fn is_plain(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$')
}

/// Why a piece of text is not a usable domain name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum NameError {
    /// Nothing was entered.
    #[error("the name is empty")]
    Empty,
    /// Two dots in a row, or a leading dot.
    #[error(
        "the name has an empty label (two dots in a row, or a dot at the start); \
         remove the extra dot"
    )]
    EmptyLabel,
    /// A label longer than 63 octets (after punycode conversion).
    #[error(
        "label \"{}\" is {len} octets long; a label may have at most {MAX_LABEL_LEN}",
        shorten(label)
    )]
    LabelTooLong {
        /// The label as entered (escaped presentation form).
        label: String,
        /// Its length in octets.
        len: usize,
    },
    /// The whole name is longer than 255 octets in wire form.
    #[error(
        "the name is {len} octets long in wire form; a domain name may have at most \
         {MAX_NAME_LEN}"
    )]
    NameTooLong {
        /// Wire length in octets.
        len: usize,
    },
    /// A malformed backslash escape.
    #[error("{0}")]
    BadEscape(String),
    /// Whitespace or a control character that was not escaped.
    #[error("the name contains {}, which is not allowed in a domain name", describe_char(*.0))]
    BadCharacter(char),
    /// Internationalised label that IDNA refuses.
    #[error(
        "label \"{}\" cannot be converted to punycode (IDNA): it contains characters \
         that are not allowed in internationalised domain names",
        shorten(.0)
    )]
    Idna(String),
}

/// Keeps messages readable when someone pastes a very long label.
fn shorten(s: &str) -> String {
    const KEEP: usize = 20;
    if s.chars().count() <= KEEP {
        s.to_string()
    } else {
        let head: String = s.chars().take(KEEP).collect();
        format!("{head}…")
    }
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\n' | '\r' => "a line break".to_string(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name {
            buf: Box::new([0, b'.']),
            wire_len: 1,
        }
    }

    /// Joins a wire form and its text into a name (both already checked).
    fn from_parts(wire: &[u8], text: &str) -> Result<Name, NameError> {
        let wire_len =
            u8::try_from(wire.len()).map_err(|_| NameError::NameTooLong { len: wire.len() })?;
        let mut buf = Vec::with_capacity(wire.len() + text.len());
        buf.extend_from_slice(wire);
        buf.extend_from_slice(text.as_bytes());
        Ok(Name {
            buf: buf.into_boxed_slice(),
            wire_len,
        })
    }

    /// The fast path of [`Name::parse_relative`] for the common case: plain
    /// ASCII labels (no escapes, no IDNA) within the length limits. Builds
    /// the name in one allocation, appending `suffix` (the origin, already
    /// in wire and text form) to a relative name. `None` sends the input to
    /// the general path, which also produces the error messages.
    fn parse_plain(input: &str, suffix: Option<&Name>) -> Option<Name> {
        let bytes = input.as_bytes();
        let (body, absolute) = match bytes.split_last() {
            Some((b'.', body)) => (body, true),
            Some(_) => (bytes, false),
            None => return None,
        };
        // (wire octets of the labels, text octets) of the input's own part.
        let mut label_len = 0usize;
        for &b in body {
            if b == b'.' {
                if label_len == 0 {
                    return None;
                }
                label_len = 0;
            } else if is_plain(b) {
                label_len += 1;
                if label_len > MAX_LABEL_LEN {
                    return None;
                }
            } else {
                return None;
            }
        }
        if label_len == 0 {
            // Empty input, "." alone, a leading dot or ".." before the end.
            return None;
        }
        let suffix = if absolute { None } else { suffix };
        let (suffix_wire, suffix_text): (&[u8], &[u8]) = match suffix {
            Some(o) if !o.is_root() => (o.wire(), o.as_str().as_bytes()),
            _ => (&[0], &[]),
        };
        // One length octet per label: the dots inside plus the first label.
        let wire_len = body.len() + 1 + suffix_wire.len();
        if wire_len > MAX_NAME_LEN {
            return None;
        }
        let text_len = body.len() + 1 + suffix_text.len();
        let mut buf = Vec::with_capacity(wire_len + text_len);
        for label in body.split(|&b| b == b'.') {
            // At most 63: checked above.
            buf.push(label.len() as u8);
            buf.extend(label.iter().map(u8::to_ascii_lowercase));
        }
        buf.extend_from_slice(suffix_wire);
        buf.extend(body.iter().map(u8::to_ascii_lowercase));
        buf.push(b'.');
        buf.extend_from_slice(suffix_text);
        Some(Name {
            buf: buf.into_boxed_slice(),
            // At most 255: checked above.
            wire_len: wire_len as u8,
        })
    }

    /// Parses an absolute name. The trailing dot is optional here because a
    /// name given where only absolute names make sense (an origin, an API
    /// value) cannot be meant relatively.
    pub fn parse(input: &str) -> Result<Name, NameError> {
        if let Some(name) = Name::parse_plain(input, None) {
            return Ok(name);
        }
        let (labels, _) = split_labels(input)?;
        Name::from_labels(labels)
    }

    /// Parses a name the way a zone file does: `@` is `origin`, a trailing
    /// dot makes the name absolute, anything else is relative to `origin`.
    pub fn parse_relative(input: &str, origin: &Name) -> Result<Name, NameError> {
        if input == "@" {
            return Ok(origin.clone());
        }
        if let Some(name) = Name::parse_plain(input, Some(origin)) {
            return Ok(name);
        }
        let (mut labels, absolute) = split_labels(input)?;
        if !absolute {
            labels.extend(origin.labels().map(<[u8]>::to_vec));
        }
        Name::from_labels(labels)
    }

    /// Builds a name from raw label octets (left to right, without the root),
    /// applying the length limits and lower-casing.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> Result<Name, NameError> {
        let mut wire = Vec::with_capacity(labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1);
        let mut text = String::new();
        for mut label in labels {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            label.make_ascii_lowercase();
            let escaped = escape_label(&label);
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong {
                    label: escaped,
                    len: label.len(),
                });
            }
            // Label length fits in a u8 because it is at most 63.
            wire.push(label.len() as u8);
            wire.extend_from_slice(&label);
            text.push_str(&escaped);
            text.push('.');
        }
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong { len: wire.len() });
        }
        if text.is_empty() {
            text.push('.');
        }
        Name::from_parts(&wire, &text)
    }

    /// Presentation form, lower case, with trailing dot.
    pub fn as_str(&self) -> &str {
        // The text is ASCII by construction, so this never falls back.
        std::str::from_utf8(self.buf.get(usize::from(self.wire_len)..).unwrap_or(&[]))
            .unwrap_or(".")
    }

    /// Uncompressed wire form (lower case).
    pub fn wire(&self) -> &[u8] {
        self.buf.get(..usize::from(self.wire_len)).unwrap_or(&[0])
    }

    /// True for the root name `.`.
    pub fn is_root(&self) -> bool {
        self.wire_len == 1
    }

    /// Labels from left to right, excluding the empty root label.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            wire: self.wire(),
            pos: 0,
        }
    }

    /// Number of labels, excluding the root label.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// True when `self` equals `ancestor` or lies below it.
    pub fn is_subdomain_of(&self, ancestor: &Name) -> bool {
        let (wire, ancestor) = (self.wire(), ancestor.wire());
        let Some(offset) = wire.len().checked_sub(ancestor.len()) else {
            return false;
        };
        // The suffix must start on a label boundary, otherwise "xexample.com"
        // would wrongly count as inside "example.com".
        let mut pos = 0;
        while pos < offset {
            match wire.get(pos) {
                Some(&len) if len > 0 => pos += len as usize + 1,
                _ => return false,
            }
        }
        pos == offset && wire.get(offset..) == Some(ancestor)
    }

    /// The name written relative to `origin` as in a zone file: `@` for the
    /// origin itself, the leading labels for names inside it, `None` when the
    /// name is outside `origin` and must be written absolutely.
    pub fn relative_to(&self, origin: &Name) -> Option<String> {
        if self == origin {
            return Some("@".to_string());
        }
        if !self.is_subdomain_of(origin) {
            return None;
        }
        let text = self.as_str();
        let prefix = text.get(..text.len().checked_sub(origin.as_str().len())?)?;
        if origin.is_root() {
            // Root's text is just "." which we already removed from the end,
            // so the prefix has no separator dot left to strip.
            Some(prefix.to_string())
        } else {
            prefix.strip_suffix('.').map(str::to_string)
        }
    }

    /// Returns the name with `label` added in front (used to build reverse names).
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameError> {
        let mut labels = vec![label.to_vec()];
        labels.extend(self.labels().map(<[u8]>::to_vec));
        Name::from_labels(labels)
    }

    /// A byte string whose plain byte order equals [`Name::canonical_cmp`];
    /// lets callers sort large record lists with `sort_by_cached_key`
    /// instead of re-splitting labels on every comparison.
    pub fn canonical_key(&self) -> Vec<u8> {
        let labels: Vec<&[u8]> = self.labels().collect();
        let mut key = Vec::with_capacity(self.wire().len() * 2);
        for label in labels.iter().rev() {
            // Each octet becomes (1, octet) and each label ends with 0, so a
            // label sorts before any longer label it is a prefix of.
            for &b in *label {
                key.push(1);
                key.push(b);
            }
            key.push(0);
        }
        key
    }

    /// Canonical DNS name order (RFC 4034 §6.1): compare labels from the
    /// right, each as lower-case octet strings, absent labels first.
    pub fn canonical_cmp(&self, other: &Name) -> Ordering {
        let (wa, wb) = (self.wire(), other.wire());
        if wa == wb {
            return Ordering::Equal;
        }
        let (a, na) = self.label_offsets();
        let (b, nb) = other.label_offsets();
        let a = a.get(..na).unwrap_or(&[]);
        let b = b.get(..nb).unwrap_or(&[]);
        for (x, y) in a.iter().rev().zip(b.iter().rev()) {
            match label_at(wa, *x).cmp(label_at(wb, *y)) {
                Ordering::Equal => {}
                non_eq => return non_eq,
            }
        }
        na.cmp(&nb)
    }

    /// Start offsets of the labels in `wire`, on the stack: a name has at
    /// most 127 labels and 255 octets, so `u8` offsets always fit. Avoids an
    /// allocation per comparison when sorting large zones.
    fn label_offsets(&self) -> ([u8; 128], usize) {
        let mut offsets = [0u8; 128];
        let mut count = 0;
        let mut pos = 0usize;
        let wire = self.wire();
        while let Some(&len) = wire.get(pos) {
            if len == 0 || count == offsets.len() {
                break;
            }
            if let Some(slot) = offsets.get_mut(count) {
                *slot = u8::try_from(pos).unwrap_or(u8::MAX);
            }
            count += 1;
            pos += usize::from(len) + 1;
        }
        (offsets, count)
    }
}

/// The label whose length octet is at `off` in `wire`.
fn label_at(wire: &[u8], off: u8) -> &[u8] {
    let start = usize::from(off) + 1;
    let len = wire.get(usize::from(off)).map_or(0, |l| usize::from(*l));
    wire.get(start..start + len).unwrap_or(&[])
}

/// Iterator over the labels of a [`Name`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    wire: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.get(self.pos)? as usize;
        if len == 0 {
            return None;
        }
        let label = self.wire.get(self.pos + 1..self.pos + 1 + len)?;
        self.pos += len + 1;
        Some(label)
    }
}

impl std::hash::Hash for Name {
    /// Hashes the wire form only: `text` is derived from it one-to-one, so
    /// this agrees with the derived `Eq` at half the cost.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.wire().hash(state);
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    /// Names order canonically (RFC 4034 §6.1) so that sorted zones read
    /// naturally: the apex first, then each subtree together.
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical_cmp(other)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

impl TryFrom<String> for Name {
    type Error = NameError;
    fn try_from(s: String) -> Result<Name, NameError> {
        Name::parse(&s)
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.as_str().to_string()
    }
}

/// Writes one label in presentation form. Characters that have a meaning in
/// master files are escaped with a backslash; anything not printable ASCII
/// becomes `\DDD`, so the result always survives a trip through a zone file.
///
/// A backslash itself is written `\092`, not `\\`: NSD 4 reads `a\\.` as
/// the label `a.` continuing (it takes the dot as escaped), so `\\` before
/// a label separator would change the name on its way into NSD.
pub(crate) fn escape_label(label: &[u8]) -> String {
    let mut out = String::with_capacity(label.len());
    for &b in label {
        match b {
            b'\\' => out.push_str("\\092"),
            b'.' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(b as char);
            }
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out
}

/// Splits presentation text into raw labels, resolving escapes and IDNA.
/// Returns the labels and whether the text ended with a dot (absolute).
fn split_labels(input: &str) -> Result<(Vec<Vec<u8>>, bool), NameError> {
    if input.is_empty() {
        return Err(NameError::Empty);
    }
    if input == "." {
        return Ok((Vec::new(), true));
    }
    let mut labels = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    // Non-ASCII characters need IDNA; escaped octets must not go through it
    // (they are already wire octets), hence the separate flag.
    let mut needs_idna = false;
    let mut absolute = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if current.is_empty() {
                    return Err(NameError::EmptyLabel);
                }
                finish_label(&mut labels, std::mem::take(&mut current), needs_idna)?;
                needs_idna = false;
                if chars.peek().is_none() {
                    absolute = true;
                }
            }
            '\\' => match chars.next() {
                None => {
                    return Err(NameError::BadEscape(
                        "the name ends with a lone backslash; write \\\\ for a literal backslash"
                            .to_string(),
                    ))
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut value = d.to_digit(10).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.next().and_then(|c| c.to_digit(10)) {
                            Some(v) => value = value * 10 + v,
                            None => {
                                return Err(NameError::BadEscape(
                                    "a \\DDD escape needs exactly three decimal digits".to_string(),
                                ))
                            }
                        }
                    }
                    let byte = u8::try_from(value).map_err(|_| {
                        NameError::BadEscape(format!(
                            "escape \\{value:03} is out of range; \\DDD must be 000 to 255"
                        ))
                    })?;
                    current.push(byte);
                }
                Some(other) => {
                    let mut buf = [0u8; 4];
                    current.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                }
            },
            c if c.is_whitespace() || c.is_control() => return Err(NameError::BadCharacter(c)),
            c => {
                if !c.is_ascii() {
                    needs_idna = true;
                }
                let mut buf = [0u8; 4];
                current.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    if !current.is_empty() {
        finish_label(&mut labels, current, needs_idna)?;
    }
    Ok((labels, absolute))
}

fn finish_label(labels: &mut Vec<Vec<u8>>, label: Vec<u8>, idna: bool) -> Result<(), NameError> {
    if !idna {
        labels.push(label);
        return Ok(());
    }
    let text = String::from_utf8(label)
        .map_err(|e| NameError::Idna(String::from_utf8_lossy(e.as_bytes()).into_owned()))?;
    let ascii = domain_to_ascii(&text).ok_or_else(|| NameError::Idna(text.clone()))?;
    // UTS #46 maps ideographic full stops (U+3002 …) to '.', so one typed
    // label may become several.
    for part in ascii.split('.') {
        if part.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        labels.push(part.as_bytes().to_vec());
    }
    Ok(())
}

/// UTS #46 processing of one typed label (which may become several), as the
/// URL standard does it for a host: lowercase, mapped, punycode.
#[cfg(not(target_arch = "wasm32"))]
fn domain_to_ascii(text: &str) -> Option<String> {
    idna::domain_to_ascii(text).ok()
}

/// In the browser: its URL parser applies the same processing as
/// `idna::domain_to_ascii` (both are the URL standard's "domain to ASCII"),
/// so the wasm carries no mapping tables. The label is put before a last
/// label `x` so that an all-digit result is never read as an IPv4 address,
/// and the characters a host may not hold (which would end the host early)
/// are refused first, as `idna` refuses them.
#[cfg(target_arch = "wasm32")]
fn domain_to_ascii(text: &str) -> Option<String> {
    const FORBIDDEN: &str = " #/:<>?@[\\]^|%";
    if text
        .chars()
        .any(|c| c.is_ascii_control() || FORBIDDEN.contains(c))
    {
        return None;
    }
    let url = web_sys::Url::new(&format!("http://{text}.x/")).ok()?;
    url.hostname().strip_suffix(".x").map(str::to_owned)
}

/// Parses the owner field of a record form.
///
/// Accepts `@` (the zone apex), names relative to `origin` (`www`), and
/// absolute names with a trailing dot (`www.example.com.`); internationalised
/// labels are converted to punycode. The result must lie inside `origin`.
pub fn parse_owner(input: &str, origin: &Name) -> Result<Name, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            "owner",
            "enter a name, or @ for the zone apex itself",
        ));
    }
    let name = Name::parse_relative(trimmed, origin)
        .map_err(|e| FieldError::new("owner", e.to_string()))?;
    if !name.is_subdomain_of(origin) {
        return Err(FieldError::new(
            "owner",
            format!(
                "{name} is outside the zone {origin}; a name ending in a dot is absolute — \
                 leave the dot off to make it relative to the zone"
            ),
        ));
    }
    Ok(name)
}

/// Parses a target name field (CNAME, MX, NS, SRV, PTR …) of a record form.
/// Like [`parse_owner`], but the name may lie outside `origin`.
pub fn parse_target(input: &str, origin: &Name, field: &str) -> Result<Name, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            field,
            "enter a host name, e.g. mail or mail.example.com.",
        ));
    }
    Name::parse_relative(trimmed, origin).map_err(|e| FieldError::new(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn lower_cases_and_adds_trailing_dot() {
        let a = n("WWW.Example.COM");
        assert_eq!(a.as_str(), "www.example.com.");
        assert_eq!(a, n("www.example.com."));
        assert_eq!(a.wire(), b"\x03www\x07example\x03com\x00");
    }

    #[test]
    fn root_name() {
        assert_eq!(n(".").as_str(), ".");
        assert!(n(".").is_root());
        assert_eq!(n(".").label_count(), 0);
    }

    #[test]
    fn escapes_are_understood() {
        let a = n("a\\.b.example.");
        assert_eq!(a.label_count(), 2);
        assert_eq!(a.labels().next().unwrap(), b"a.b");
        assert_eq!(a.as_str(), "a\\.b.example.");
        let b = n("\\065\\066c.example.");
        assert_eq!(b.as_str(), "abc.example.");
        // A backslash is written \092 (NSD misreads "\\." before a dot).
        assert_eq!(n("a\\\\.example.").as_str(), "a\\092.example.");
        let c = n("x\\000y.example.");
        assert_eq!(c.as_str(), "x\\000y.example.");
        assert!(matches!(
            Name::parse("a\\256.example."),
            Err(NameError::BadEscape(_))
        ));
        assert!(matches!(Name::parse("a\\25"), Err(NameError::BadEscape(_))));
        assert!(matches!(Name::parse("a\\"), Err(NameError::BadEscape(_))));
    }

    #[test]
    fn label_too_long_message() {
        let long = "x".repeat(70);
        let err = Name::parse(&format!("{long}.example.")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label \"xxxxxxxxxxxxxxxxxxxx…\" is 70 octets long; a label may have at most 63"
        );
        assert!(Name::parse(&format!("{}.example.", "x".repeat(63))).is_ok());
    }

    #[test]
    fn name_too_long() {
        let label = "a".repeat(63);
        // 4 × 64 + 1 = 257 octets.
        let err = Name::parse(&format!("{label}.{label}.{label}.{label}.")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the name is 257 octets long in wire form; a domain name may have at most 255"
        );
        // 3 × 64 + 62 + 1 = 255 exactly is fine.
        let last = "a".repeat(61);
        assert!(Name::parse(&format!("{label}.{label}.{label}.{last}.")).is_ok());
    }

    #[test]
    fn empty_labels_and_spaces() {
        assert_eq!(Name::parse("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(Name::parse(".a"), Err(NameError::EmptyLabel));
        assert_eq!(Name::parse(""), Err(NameError::Empty));
        assert_eq!(
            Name::parse("my host").unwrap_err().to_string(),
            "the name contains a space, which is not allowed in a domain name"
        );
    }

    #[test]
    fn idn_becomes_punycode() {
        assert_eq!(n("bücher.example").as_str(), "xn--bcher-kva.example.");
        assert_eq!(n("BÜCHER.example").as_str(), "xn--bcher-kva.example.");
        assert_eq!(
            n("_dmarc.münchen.de.").as_str(),
            "_dmarc.xn--mnchen-3ya.de."
        );
        // Ideographic full stop separates labels under UTS #46.
        assert_eq!(n("例え。テスト").label_count(), 2);
    }

    #[test]
    fn subdomain_and_relative() {
        let origin = n("example.com.");
        assert!(n("a.b.example.com").is_subdomain_of(&origin));
        assert!(origin.is_subdomain_of(&origin));
        assert!(!n("xexample.com").is_subdomain_of(&origin));
        assert!(!n("com").is_subdomain_of(&origin));
        assert!(n("anything").is_subdomain_of(&Name::root()));
        assert_eq!(n("a.b.example.com").relative_to(&origin).unwrap(), "a.b");
        assert_eq!(origin.relative_to(&origin).unwrap(), "@");
        assert_eq!(n("other.org").relative_to(&origin), None);
        assert_eq!(n("a\\..b").relative_to(&Name::root()).unwrap(), "a\\..b");
    }

    #[test]
    fn canonical_order() {
        // Example from RFC 4034 §6.1.
        let mut names: Vec<Name> = [
            "z.example.",
            "\\001.z.example.",
            "example.",
            "*.z.example.",
            "a.example.",
            "\\200.z.example.",
            "yljkjljk.a.example.",
            "zabc.a.example.",
            "z.a.example.",
        ]
        .iter()
        .map(|s| n(s))
        .collect();
        let mut by_key = names.clone();
        by_key.sort_by_key(Name::canonical_key);
        names.sort();
        assert_eq!(names, by_key);
        let got: Vec<&str> = names.iter().map(Name::as_str).collect();
        assert_eq!(
            got,
            [
                "example.",
                "a.example.",
                "yljkjljk.a.example.",
                "z.a.example.",
                "zabc.a.example.",
                "z.example.",
                "\\001.z.example.",
                "*.z.example.",
                "\\200.z.example.",
            ]
        );
    }

    #[test]
    fn parse_owner_forms() {
        let origin = n("example.com.");
        assert_eq!(parse_owner("@", &origin).unwrap(), origin);
        assert_eq!(parse_owner(" www ", &origin).unwrap(), n("www.example.com"));
        assert_eq!(
            parse_owner("Mail.Example.com.", &origin).unwrap(),
            n("mail.example.com")
        );
        assert_eq!(
            parse_owner("bücher", &origin).unwrap().as_str(),
            "xn--bcher-kva.example.com."
        );
        assert_eq!(
            parse_owner("_dmarc", &origin).unwrap().as_str(),
            "_dmarc.example.com."
        );
        let e = parse_owner("www.other.org.", &origin).unwrap_err();
        assert_eq!(e.field, "owner");
        assert_eq!(
            e.message,
            "www.other.org. is outside the zone example.com.; a name ending in a dot is \
             absolute — leave the dot off to make it relative to the zone"
        );
        let e = parse_owner("", &origin).unwrap_err();
        assert_eq!(e.message, "enter a name, or @ for the zone apex itself");
        let e = parse_owner(&"y".repeat(70), &origin).unwrap_err();
        assert_eq!(
            e.message,
            "label \"yyyyyyyyyyyyyyyyyyyy…\" is 70 octets long; a label may have at most 63"
        );
    }

    #[test]
    fn serde_round_trip_validates() {
        let v: Result<Name, _> = Name::try_from("a..b".to_string());
        assert!(v.is_err());
        let name = n("Www.Example.com");
        assert_eq!(String::from(name.clone()), "www.example.com.");
    }
}
