//! DKIM public-key records (RFC 6376 §3.6.1, RFC 8463 for Ed25519) and key
//! generation.
//!
//! Key records live at `<selector>._domainkey.<domain>` and look like
//! `v=DKIM1; k=rsa; p=MIIBIjANBgkq...`. [`DkimKeyRecord::parse`] decodes
//! `p=` and checks it really is a key of the declared type, because the
//! most common DKIM failure in practice is a key mangled while copying it
//! into a DNS panel; [`validate_dkim`] adds warnings (weak keys, SHA-1,
//! testing mode, revoked keys).
//!
//! [`generate_rsa`] and [`generate_ed25519`] return the private key as
//! PKCS#8 PEM for the mail server's signer together with the TXT value to
//! publish. The private key type is deliberately not `Serialize`, `Clone`
//! or comparable, its `Debug` output is redacted and its memory is zeroed
//! on drop, so it cannot leak into API responses, logs or copies by
//! accident.

use crate::mail::records::Diagnostic;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, RsaPublicKey as Pkcs1PublicKey};
use rsa::pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs8::der::Decode as _;
// One pkcs8 crate serves both key types, so these traits cover RSA and
// Ed25519 alike.
use rsa::pkcs8::{
    DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding,
    SubjectPublicKeyInfoRef,
};
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use crate::dns::zone::txt::split_txt;

/// Accepts `p=` with or without trailing `=` padding: some DNS panels and
/// copy-paste paths drop it, and the key is still unambiguous.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// RSA key sizes [`generate_rsa`] offers.
pub const RSA_KEY_SIZES: [usize; 3] = [2048, 3072, 4096];

/// The `k=` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DkimKeyType {
    Rsa,
    Ed25519,
}

impl fmt::Display for DkimKeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DkimKeyType::Rsa => "rsa",
            DkimKeyType::Ed25519 => "ed25519",
        })
    }
}

/// What `p=` turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DkimPublicKey {
    /// Empty `p=`: the key has been withdrawn (§3.6.1).
    Revoked,
    /// `pkcs1` is true when `p=` holds a bare RSAPublicKey instead of the
    /// usual SubjectPublicKeyInfo.
    Rsa {
        bits: usize,
        pkcs1: bool,
    },
    Ed25519,
}

/// A parsed DKIM key record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimKeyRecord {
    /// Whether `v=DKIM1` was present (it is optional).
    pub has_version: bool,
    pub key_type: DkimKeyType,
    /// `p=` with whitespace removed; empty for a revoked key.
    pub public_key: String,
    pub key: DkimPublicKey,
    /// `h=`: acceptable hash algorithms; empty means any.
    pub hash_algorithms: Vec<String>,
    /// `s=`: service types; empty means `*`.
    pub service_types: Vec<String>,
    /// `t=`: flags such as `y` (testing) and `s` (strict).
    pub flags: Vec<String>,
    /// `n=`: notes for humans.
    pub notes: Option<String>,
}

/// Problems with a DKIM key record or key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DkimError {
    #[error("the record is empty; a DKIM key record looks like v=DKIM1; k=rsa; p=<key>")]
    Empty,
    #[error(
        "v=DKIM1 must be the first tag when present (RFC 6376 §3.6.1); move it to the \
         front"
    )]
    VersionNotFirst,
    #[error("v={value} is not a DKIM key record version; use v=DKIM1 or leave v= out")]
    BadVersion { value: String },
    #[error(
        "\"{part}\" is not a tag=value pair; separate tags with semicolons, e.g. \
         v=DKIM1; k=rsa; p=..."
    )]
    NotTagValue { part: String },
    #[error(
        "the tag {tag}= appears more than once, which makes the whole record invalid \
         (RFC 6376 §3.2); keep only one"
    )]
    DuplicateTag { tag: String },
    #[error("the required tag p= is missing; add the public key in base64 after p=")]
    MissingKey,
    #[error("k={value} is not a DKIM key type; use k=rsa or k=ed25519")]
    UnknownKeyType { value: String },
    #[error(
        "s={value} does not include email or *, so receivers will not use this key \
         for mail; use s=email or remove s="
    )]
    NotForEmail { value: String },
    #[error("p= is not valid base64: {reason}; copy the key again in one piece")]
    BadBase64 { reason: String },
    #[error("{}", not_rsa_key(*len))]
    NotRsaKey { len: usize },
    #[error(
        "k=ed25519 needs p= to be the raw 32-byte public key (RFC 8463), but it \
         decodes to {len} bytes"
    )]
    BadEd25519Length { len: usize },
    #[error("p= is 32 bytes but not a valid Ed25519 public key")]
    BadEd25519Point,
    #[error(
        "the RSA key is {bits} bits; RFC 8301 requires at least 1024 and receivers \
         ignore smaller keys; generate a 2048-bit key"
    )]
    RsaTooSmall { bits: usize },
    #[error("RSA keys of {bits} bits are not offered; choose 2048, 3072 or 4096")]
    UnsupportedKeySize { bits: usize },
    #[error(
        "the private key is not a PEM-encoded RSA (PKCS#8 or PKCS#1) or Ed25519 \
         (PKCS#8) key"
    )]
    UnreadablePrivateKey,
    #[error("key generation failed: {message}")]
    KeyGeneration { message: String },
}

/// A key that is not RSA's: 32 bytes is most likely an Ed25519 key.
fn not_rsa_key(len: usize) -> String {
    if len == 32 {
        "p= decodes to 32 bytes, which is not an RSA public key but looks like an \
         Ed25519 key; add k=ed25519"
            .to_owned()
    } else {
        format!(
            "p= decodes to {len} bytes that are not an RSA public key; it should be the \
             SubjectPublicKeyInfo printed by openssl rsa -pubout, without the BEGIN/END \
             lines"
        )
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Decodes `p=` (whitespace already removed), naming the first bad
/// character so the person can find where the paste went wrong.
fn decode_base64(p: &str) -> Result<Vec<u8>, DkimError> {
    if let Some((i, c)) = p
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "+/=".contains(*c)))
    {
        return Err(DkimError::BadBase64 {
            reason: format!("it contains {c:?} at position {}", i + 1),
        });
    }
    LENIENT_BASE64.decode(p).map_err(|_| DkimError::BadBase64 {
        reason: "its length or padding is wrong (a character was probably lost when \
                     copying)"
            .to_string(),
    })
}

/// Modulus and exponent bytes (big-endian, no leading zeros) of an RSA
/// public key in SubjectPublicKeyInfo or bare PKCS#1 form. Parsed at the
/// ASN.1 level rather than with `RsaPublicKey` so keys of any size (the
/// rsa crate refuses over 4096 bits) can still be measured.
fn rsa_components(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>, bool)> {
    if let Ok(spki) = SubjectPublicKeyInfoRef::from_der(der) {
        if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
            return None;
        }
        let inner = spki.subject_public_key.as_bytes()?;
        let key = Pkcs1PublicKey::from_der(inner).ok()?;
        return Some((
            key.modulus.as_bytes().to_vec(),
            key.public_exponent.as_bytes().to_vec(),
            false,
        ));
    }
    let key = Pkcs1PublicKey::from_der(der).ok()?;
    Some((
        key.modulus.as_bytes().to_vec(),
        key.public_exponent.as_bytes().to_vec(),
        true,
    ))
}

fn bit_length(be: &[u8]) -> usize {
    match be.iter().position(|b| *b != 0) {
        Some(i) => (be.len() - i - 1) * 8 + (8 - be[i].leading_zeros() as usize),
        None => 0,
    }
}

/// Identifies the key in `p=` for the given `k=`.
fn inspect_key(key_type: DkimKeyType, p: &str) -> Result<DkimPublicKey, DkimError> {
    if p.is_empty() {
        return Ok(DkimPublicKey::Revoked);
    }
    let bytes = decode_base64(p)?;
    match key_type {
        DkimKeyType::Rsa => {
            let (modulus, _, pkcs1) =
                rsa_components(&bytes).ok_or(DkimError::NotRsaKey { len: bytes.len() })?;
            let bits = bit_length(&modulus);
            if bits < 1024 {
                return Err(DkimError::RsaTooSmall { bits });
            }
            Ok(DkimPublicKey::Rsa { bits, pkcs1 })
        }
        DkimKeyType::Ed25519 => {
            let raw: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| DkimError::BadEd25519Length { len: bytes.len() })?;
            VerifyingKey::from_bytes(&raw).map_err(|_| DkimError::BadEd25519Point)?;
            Ok(DkimPublicKey::Ed25519)
        }
    }
}

struct Analysis {
    record: Option<DkimKeyRecord>,
    errors: Vec<DkimError>,
    notes: Vec<Diagnostic>,
}

fn analyse(text: &str) -> Analysis {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let parts: Vec<&str> = text
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Analysis {
            record: None,
            errors: vec![DkimError::Empty],
            notes,
        };
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let Some((name, value)) = part.split_once('=') else {
            errors.push(DkimError::NotTagValue {
                part: part.to_string(),
            });
            continue;
        };
        // Tag names are case-sensitive in DKIM (RFC 6376 §3.2).
        let name = name.trim().to_string();
        let value = value.trim().to_string();
        if tags.iter().any(|(n, _)| *n == name) {
            errors.push(DkimError::DuplicateTag { tag: name });
            continue;
        }
        if name == "v" {
            if index != 0 {
                errors.push(DkimError::VersionNotFirst);
            } else if value != "DKIM1" {
                errors.push(DkimError::BadVersion {
                    value: value.clone(),
                });
            }
        }
        tags.push((name, value));
    }
    let get = |name: &str| {
        tags.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let list = |name: &str| -> Vec<String> {
        get(name)
            .map(|v| {
                v.split(':')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };

    let key_type = match get("k") {
        None | Some("rsa") => Some(DkimKeyType::Rsa),
        Some("ed25519") => Some(DkimKeyType::Ed25519),
        Some(other) => {
            errors.push(DkimError::UnknownKeyType {
                value: other.to_string(),
            });
            None
        }
    };
    let service_types = list("s");
    if !service_types.is_empty() && !service_types.iter().any(|s| s == "email" || s == "*") {
        errors.push(DkimError::NotForEmail {
            value: get("s").unwrap_or_default().to_string(),
        });
    }
    // Base64 in a tag value may be folded with whitespace (§3.6.1).
    let public_key: Option<String> =
        get("p").map(|p| p.chars().filter(|c| !c.is_whitespace()).collect());
    let key = match (&public_key, key_type) {
        (None, _) => {
            errors.push(DkimError::MissingKey);
            None
        }
        (Some(p), Some(kt)) => match inspect_key(kt, p) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        (Some(_), None) => None,
    };

    let hash_algorithms = list("h");
    let flags = list("t");
    for (name, value) in &tags {
        if !["v", "k", "p", "h", "s", "t", "n", "g"].contains(&name.as_str()) {
            let hint = if ["v", "k", "p", "h", "s", "t", "n"]
                .contains(&name.to_ascii_lowercase().as_str())
            {
                format!(
                    "; tag names are case-sensitive, write {}=",
                    name.to_ascii_lowercase()
                )
            } else {
                "; check the spelling".to_string()
            };
            notes.push(Diagnostic::warning(format!(
                "unknown tag \"{name}={value}\" is ignored by receivers{hint}"
            )));
        }
    }
    match key {
        Some(DkimPublicKey::Revoked) => notes.push(Diagnostic::warning(
            "p= is empty: this key is revoked, and mail signed with it fails verification; \
             publish a new key if this selector is still in use",
        )),
        Some(DkimPublicKey::Rsa { bits, .. }) if bits < 2048 => {
            notes.push(Diagnostic::warning(format!(
                "the RSA key is {bits} bits; RFC 8301 still accepts it but 2048 bits is the \
                 recommended minimum; generate a 2048-bit key"
            )))
        }
        _ => {}
    }
    if let Some(DkimPublicKey::Rsa { pkcs1: true, .. }) = key {
        notes.push(Diagnostic::warning(
            "p= holds a bare PKCS#1 RSAPublicKey; most verifiers expect a \
             SubjectPublicKeyInfo (openssl rsa -pubout), so republish it in that form",
        ));
    }
    if hash_algorithms.iter().any(|h| h == "sha1") {
        notes.push(Diagnostic::warning(
            "h= allows sha1, which RFC 8301 forbids for signing; use h=sha256 or remove h=",
        ));
    }
    if !hash_algorithms.is_empty() && !hash_algorithms.iter().any(|h| h == "sha256") {
        notes.push(Diagnostic::warning(format!(
            "h={} does not allow sha256, the only hash receivers must support; add sha256",
            get("h").unwrap_or_default()
        )));
    }
    if flags.iter().any(|t| t == "y") {
        notes.push(Diagnostic::info(
            "t=y marks DKIM as being tested: receivers must not treat signed mail differently \
             from unsigned mail; remove it once signatures verify",
        ));
    }

    let record = match (key_type, key, public_key) {
        (Some(key_type), Some(key), Some(public_key)) if errors.is_empty() => Some(DkimKeyRecord {
            has_version: get("v").is_some(),
            key_type,
            public_key,
            key,
            hash_algorithms,
            service_types,
            flags,
            notes: get("n").map(str::to_string),
        }),
        _ => None,
    };
    Analysis {
        record,
        errors,
        notes,
    }
}

impl DkimKeyRecord {
    /// Parses and checks a key record, failing on the first error.
    pub fn parse(text: &str) -> Result<Self, DkimError> {
        let a = analyse(text);
        if let Some(e) = a.errors.into_iter().next() {
            return Err(e);
        }
        a.record.ok_or(DkimError::MissingKey)
    }

    pub fn is_revoked(&self) -> bool {
        self.key == DkimPublicKey::Revoked
    }

    /// The RSA modulus size, if this is an RSA key.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self.key {
            DkimPublicKey::Rsa { bits, .. } => Some(bits),
            _ => None,
        }
    }
}

impl FromStr for DkimKeyRecord {
    type Err = DkimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DkimKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=DKIM1; k={}", self.key_type)?;
        if !self.hash_algorithms.is_empty() {
            write!(f, "; h={}", self.hash_algorithms.join(":"))?;
        }
        if !self.service_types.is_empty() {
            write!(f, "; s={}", self.service_types.join(":"))?;
        }
        if !self.flags.is_empty() {
            write!(f, "; t={}", self.flags.join(":"))?;
        }
        if let Some(n) = &self.notes {
            write!(f, "; n={n}")?;
        }
        // p= last so a long key can be split without touching other tags.
        write!(f, "; p={}", self.public_key)
    }
}

/// Every finding about a DKIM key record: errors, then warnings and hints.
pub fn validate_dkim(text: &str) -> Vec<Diagnostic> {
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

// ---------------------------------------------------------------------------
// Private keys and generation
// ---------------------------------------------------------------------------

enum SecretKey {
    Rsa(RsaPrivateKey),
    Ed25519(SigningKey),
}

/// A DKIM signing key.
///
/// Not `Serialize`, `Clone` or `PartialEq` on purpose, and `Debug` prints
/// only the key type and size. The PEM text and the parsed key are zeroed
/// when dropped (both crates implement `ZeroizeOnDrop`).
pub struct DkimPrivateKey {
    pem: Zeroizing<String>,
    key: SecretKey,
}

impl fmt::Debug for DkimPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimPrivateKey")
            .field("key_type", &self.key_type())
            .field("rsa_bits", &self.rsa_bits())
            .field("pem", &"<redacted>")
            .finish()
    }
}

impl DkimPrivateKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, RSA or
    /// Ed25519) or PKCS#1 (`BEGIN RSA PRIVATE KEY`, as written by
    /// `openssl genrsa` and opendkim-genkey).
    pub fn from_pem(pem: &str) -> Result<Self, DkimError> {
        let key = if let Ok(k) = RsaPrivateKey::from_pkcs8_pem(pem) {
            SecretKey::Rsa(k)
        } else if let Ok(k) = RsaPrivateKey::from_pkcs1_pem(pem) {
            SecretKey::Rsa(k)
        } else if let Ok(k) = SigningKey::from_pkcs8_pem(pem) {
            SecretKey::Ed25519(k)
        } else {
            return Err(DkimError::UnreadablePrivateKey);
        };
        Ok(Self {
            pem: Zeroizing::new(pem.to_string()),
            key,
        })
    }

    /// The PEM text, for writing to the signer's key file.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    pub fn key_type(&self) -> DkimKeyType {
        match self.key {
            SecretKey::Rsa(_) => DkimKeyType::Rsa,
            SecretKey::Ed25519(_) => DkimKeyType::Ed25519,
        }
    }

    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.key {
            SecretKey::Rsa(k) => Some(k.n().bits()),
            SecretKey::Ed25519(_) => None,
        }
    }

    /// The TXT value to publish for this key: `v=DKIM1; k=...; p=...`.
    pub fn public_record(&self) -> Result<String, DkimError> {
        let p = match &self.key {
            SecretKey::Rsa(k) => {
                let der = k.to_public_key().to_public_key_der().map_err(|e| {
                    DkimError::KeyGeneration {
                        message: e.to_string(),
                    }
                })?;
                STANDARD.encode(der.as_bytes())
            }
            SecretKey::Ed25519(k) => STANDARD.encode(k.verifying_key().as_bytes()),
        };
        Ok(format!("v=DKIM1; k={}; p={p}", self.key_type()))
    }

    /// Whether `record`'s public key belongs to this private key.
    fn matches(&self, record: &DkimKeyRecord) -> bool {
        let Ok(bytes) = decode_base64(&record.public_key) else {
            return false;
        };
        match (&self.key, record.key) {
            (SecretKey::Rsa(k), DkimPublicKey::Rsa { .. }) => match rsa_components(&bytes) {
                Some((n, e, _)) => n == k.n().to_bytes_be() && e == k.e().to_bytes_be(),
                None => false,
            },
            (SecretKey::Ed25519(k), DkimPublicKey::Ed25519) => {
                bytes.as_slice() == k.verifying_key().as_bytes()
            }
            _ => false,
        }
    }
}

/// A fresh key: the private half for the signer, the public TXT value for
/// DNS. `Debug` shows the record but not the private key.
#[derive(Debug)]
pub struct DkimKeyPair {
    pub private_key: DkimPrivateKey,
    /// The TXT value, e.g. `v=DKIM1; k=rsa; p=MIIBIjAN...`; publish it with
    /// [`split_txt`] / [`crate::mail::records::to_zone_txt`] since RSA keys exceed 255
    /// octets.
    pub record: String,
}

fn pair_from(key: SecretKey) -> Result<DkimKeyPair, DkimError> {
    let encode_err = |e: rsa::pkcs8::Error| DkimError::KeyGeneration {
        message: e.to_string(),
    };
    let pem = match &key {
        SecretKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF).map_err(encode_err)?,
        SecretKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF).map_err(encode_err)?,
    };
    let private_key = DkimPrivateKey { pem, key };
    let record = private_key.public_record()?;
    Ok(DkimKeyPair {
        private_key,
        record,
    })
}

/// Generates an RSA key of 2048, 3072 or 4096 bits.
///
/// Other sizes are refused: below 2048 is weak (RFC 8301), and above 4096
/// many verifiers (and DNS panels' TXT length limits) give up.
pub fn generate_rsa(bits: usize) -> Result<DkimKeyPair, DkimError> {
    if !RSA_KEY_SIZES.contains(&bits) {
        return Err(DkimError::UnsupportedKeySize { bits });
    }
    let key = RsaPrivateKey::new(&mut crate::secret::os_rng(), bits).map_err(|e| {
        DkimError::KeyGeneration {
            message: e.to_string(),
        }
    })?;
    pair_from(SecretKey::Rsa(key))
}

/// Generates an Ed25519 key (RFC 8463). Receivers that do not support
/// Ed25519 ignore such signatures, so publish it alongside an RSA key
/// under a second selector rather than instead of one.
pub fn generate_ed25519() -> Result<DkimKeyPair, DkimError> {
    pair_from(SecretKey::Ed25519(SigningKey::generate(
        &mut crate::secret::os_rng(),
    )))
}

/// True when `record` is a valid, non-revoked key record whose public key
/// belongs to the private key in `private_pem`. Any parse failure is
/// simply "no match": the console asks a yes/no question here.
pub fn record_matches_private_key(record: &str, private_pem: &str) -> bool {
    match (
        DkimKeyRecord::parse(record),
        DkimPrivateKey::from_pem(private_pem),
    ) {
        (Ok(rec), Ok(key)) => key.matches(&rec),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::records::Severity;
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    use std::sync::OnceLock;

    /// One RSA-2048 pair shared by the tests: generation is the slow part.
    fn rsa_pair() -> &'static DkimKeyPair {
        static PAIR: OnceLock<DkimKeyPair> = OnceLock::new();
        PAIR.get_or_init(|| generate_rsa(2048).unwrap())
    }

    fn one_error(text: &str) -> String {
        let errors: Vec<String> = validate_dkim(text)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message)
            .collect();
        assert_eq!(errors.len(), 1, "{text}: {errors:?}");
        assert_eq!(
            DkimKeyRecord::parse(text).unwrap_err().to_string(),
            errors[0]
        );
        errors[0].clone()
    }

    fn p_of(record: &str) -> &str {
        record.rsplit_once("p=").unwrap().1
    }

    #[test]
    fn rsa_generate_parse_match() {
        let pair = rsa_pair();
        assert!(pair
            .record
            .starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
        let rec = DkimKeyRecord::parse(&pair.record).unwrap();
        assert_eq!(
            rec.key,
            DkimPublicKey::Rsa {
                bits: 2048,
                pkcs1: false
            }
        );
        assert_eq!(rec.rsa_bits(), Some(2048));
        assert_eq!(validate_dkim(&pair.record), vec![]);
        let pem = pair.private_key.pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(record_matches_private_key(&pair.record, pem));
        assert_eq!(pair.private_key.rsa_bits(), Some(2048));
        // The same key read back from PEM gives the same record.
        assert_eq!(
            DkimPrivateKey::from_pem(pem)
                .unwrap()
                .public_record()
                .unwrap(),
            pair.record
        );
        // 2048-bit RSA needs two TXT strings.
        assert_eq!(split_txt(&pair.record).len(), 2);
        assert_eq!(split_txt(&pair.record).concat(), pair.record);
    }

    #[test]
    fn ed25519_generate_parse_match() {
        let pair = generate_ed25519().unwrap();
        let rec = DkimKeyRecord::parse(&pair.record).unwrap();
        assert_eq!(rec.key_type, DkimKeyType::Ed25519);
        assert_eq!(rec.key, DkimPublicKey::Ed25519);
        assert_eq!(p_of(&pair.record).len(), 44);
        assert!(pair
            .private_key
            .pem()
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(record_matches_private_key(
            &pair.record,
            pair.private_key.pem()
        ));
        assert_eq!(pair.private_key.key_type(), DkimKeyType::Ed25519);
    }

    #[test]
    fn keys_do_not_match_each_other() {
        let rsa = rsa_pair();
        let ed = generate_ed25519().unwrap();
        let ed2 = generate_ed25519().unwrap();
        assert!(!record_matches_private_key(
            &rsa.record,
            ed.private_key.pem()
        ));
        assert!(!record_matches_private_key(
            &ed.record,
            rsa.private_key.pem()
        ));
        assert!(!record_matches_private_key(
            &ed.record,
            ed2.private_key.pem()
        ));
        assert!(!record_matches_private_key(&rsa.record, "not a pem"));
        assert!(!record_matches_private_key(
            "v=DKIM1; p=",
            rsa.private_key.pem()
        ));
    }

    #[test]
    fn rsa_sizes_and_pkcs1_private_keys() {
        assert_eq!(
            generate_rsa(1024).unwrap_err().to_string(),
            "RSA keys of 1024 bits are not offered; choose 2048, 3072 or 4096"
        );
        // A PKCS#1 PEM (openssl genrsa, opendkim-genkey) is accepted too.
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let pkcs1 = rsa_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(record_matches_private_key(&rsa_pair().record, &pkcs1));
    }

    /// The shared RSA key as an `rsa` crate value, to re-encode it.
    fn rsa_key() -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(rsa_pair().private_key.pem()).unwrap()
    }

    #[test]
    fn private_key_is_redacted_in_debug() {
        let pair = rsa_pair();
        let shown = format!("{pair:?}");
        assert!(shown.contains("<redacted>"));
        assert!(shown.contains("rsa_bits: Some(2048)"));
        assert!(!shown.contains("PRIVATE KEY"));
        let body = pair.private_key.pem().lines().nth(1).unwrap();
        assert!(!shown.contains(body));
    }

    #[test]
    fn rfc8463_ed25519_example() {
        // RFC 8463 Appendix A: brisbane._domainkey.football.example.com and
        // the matching private key seed.
        let record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        assert_eq!(validate_dkim(record), vec![]);
        let seed: [u8; 32] = STANDARD
            .decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
            .unwrap()
            .try_into()
            .unwrap();
        let pem = SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        assert!(record_matches_private_key(record, &pem));
    }

    #[test]
    fn paper_table1_record() {
        // The paper prints a placeholder, which is what a person might paste.
        assert_eq!(
            one_error("v=DKIM1; p=<public key>"),
            "p= is not valid base64: it contains '<' at position 1; copy the key again in one \
             piece"
        );
        // With a real key, v and p alone are enough: k defaults to rsa.
        let record = format!("v=DKIM1; p={}", p_of(&rsa_pair().record));
        let rec = DkimKeyRecord::parse(&record).unwrap();
        assert_eq!(
            (rec.key_type, rec.rsa_bits()),
            (DkimKeyType::Rsa, Some(2048))
        );
        assert!(rec.has_version);
    }

    #[test]
    fn revoked_key() {
        let rec = DkimKeyRecord::parse("v=DKIM1; k=rsa; p=").unwrap();
        assert!(rec.is_revoked());
        assert_eq!(
            validate_dkim("v=DKIM1; k=rsa; p="),
            vec![Diagnostic::warning(
                "p= is empty: this key is revoked, and mail signed with it fails verification; \
                 publish a new key if this selector is still in use"
            )]
        );
    }

    #[test]
    fn garbage_keys() {
        assert_eq!(
            one_error("v=DKIM1; k=rsa; p=MIIBIj$ANBgkq"),
            "p= is not valid base64: it contains '$' at position 7; copy the key again in one \
             piece"
        );
        assert_eq!(
            one_error("v=DKIM1; k=rsa; p=MIIBIjANB"),
            "p= is not valid base64: its length or padding is wrong (a character was probably \
             lost when copying); copy the key again in one piece"
        );
        assert_eq!(
            one_error("v=DKIM1; k=rsa; p=SGVsbG8sIHdvcmxkIQ=="),
            "p= decodes to 13 bytes that are not an RSA public key; it should be the \
             SubjectPublicKeyInfo printed by openssl rsa -pubout, without the BEGIN/END lines"
        );
        let ed = generate_ed25519().unwrap();
        assert_eq!(
            one_error(&format!("v=DKIM1; p={}", p_of(&ed.record))),
            "p= decodes to 32 bytes, which is not an RSA public key but looks like an Ed25519 \
             key; add k=ed25519"
        );
        assert_eq!(
            one_error(&format!(
                "v=DKIM1; k=ed25519; p={}",
                p_of(&rsa_pair().record)
            )),
            "k=ed25519 needs p= to be the raw 32-byte public key (RFC 8463), but it decodes to \
             294 bytes"
        );
        // A truncated key (lost its last characters) is not a key.
        let p = p_of(&rsa_pair().record);
        let cut = format!("v=DKIM1; k=rsa; p={}", &p[..p.len() - 8]);
        assert!(matches!(
            DkimKeyRecord::parse(&cut),
            Err(DkimError::NotRsaKey { .. })
        ));
    }

    #[test]
    fn tag_errors() {
        let p = p_of(&rsa_pair().record);
        assert_eq!(
            one_error(&format!("k=rsa; v=DKIM1; p={p}")),
            "v=DKIM1 must be the first tag when present (RFC 6376 §3.6.1); move it to the front"
        );
        assert_eq!(
            one_error(&format!("v=DKIM2; p={p}")),
            "v=DKIM2 is not a DKIM key record version; use v=DKIM1 or leave v= out"
        );
        assert_eq!(
            one_error(&format!("v=DKIM1; k=dsa; p={p}")),
            "k=dsa is not a DKIM key type; use k=rsa or k=ed25519"
        );
        assert_eq!(
            one_error("v=DKIM1; k=rsa"),
            "the required tag p= is missing; add the public key in base64 after p="
        );
        assert_eq!(
            one_error(&format!("v=DKIM1; p={p}; p={p}")),
            "the tag p= appears more than once, which makes the whole record invalid (RFC 6376 \
             §3.2); keep only one"
        );
        assert_eq!(
            one_error(&format!("v=DKIM1; s=tlsrpt; p={p}")),
            "s=tlsrpt does not include email or *, so receivers will not use this key for \
             mail; use s=email or remove s="
        );
        assert_eq!(
            one_error(""),
            "the record is empty; a DKIM key record looks like v=DKIM1; k=rsa; p=<key>"
        );
    }

    #[test]
    fn warnings_and_flags() {
        let p = p_of(&rsa_pair().record);
        // Whitespace folded into p= (as zone files and panels do) is fine.
        let folded = format!(
            "v=DKIM1; h=sha1:sha256; t=y:s; K=rsa; p={} {}",
            &p[..100],
            &p[100..]
        );
        let rec = DkimKeyRecord::parse(&folded).unwrap();
        assert_eq!(rec.hash_algorithms, vec!["sha1", "sha256"]);
        assert_eq!(rec.flags, vec!["y", "s"]);
        assert_eq!(
            validate_dkim(&folded),
            vec![
                Diagnostic::warning(
                    "unknown tag \"K=rsa\" is ignored by receivers; tag names are \
                     case-sensitive, write k="
                ),
                Diagnostic::warning(
                    "h= allows sha1, which RFC 8301 forbids for signing; use h=sha256 or remove \
                     h="
                ),
                Diagnostic::info(
                    "t=y marks DKIM as being tested: receivers must not treat signed mail \
                     differently from unsigned mail; remove it once signatures verify"
                ),
            ]
        );
        // Display puts p= last and round-trips.
        assert_eq!(DkimKeyRecord::parse(&rec.to_string()).unwrap(), rec);
    }

    #[test]
    fn small_and_pkcs1_rsa_keys() {
        let mut rng = crate::secret::os_rng();
        let k1024 = RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let der = k1024.to_public_key().to_public_key_der().unwrap();
        let rec = format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(der.as_bytes()));
        assert_eq!(
            validate_dkim(&rec),
            vec![Diagnostic::warning(
                "the RSA key is 1024 bits; RFC 8301 still accepts it but 2048 bits is the \
                 recommended minimum; generate a 2048-bit key"
            )]
        );
        let k512 = RsaPrivateKey::new(&mut rng, 512).unwrap();
        let der = k512.to_public_key().to_public_key_der().unwrap();
        assert_eq!(
            one_error(&format!(
                "v=DKIM1; k=rsa; p={}",
                STANDARD.encode(der.as_bytes())
            )),
            "the RSA key is 512 bits; RFC 8301 requires at least 1024 and receivers ignore \
             smaller keys; generate a 2048-bit key"
        );
        let pkcs1 = rsa_key().to_public_key().to_pkcs1_der().unwrap();
        let rec = format!("v=DKIM1; p={}", STANDARD.encode(pkcs1.as_bytes()));
        assert_eq!(
            DkimKeyRecord::parse(&rec).unwrap().key,
            DkimPublicKey::Rsa {
                bits: 2048,
                pkcs1: true
            }
        );
        assert_eq!(
            validate_dkim(&rec),
            vec![Diagnostic::warning(
                "p= holds a bare PKCS#1 RSAPublicKey; most verifiers expect a \
                 SubjectPublicKeyInfo (openssl rsa -pubout), so republish it in that form"
            )]
        );
        assert!(record_matches_private_key(
            &rec,
            rsa_pair().private_key.pem()
        ));
    }

    #[test]
    fn records_serialise_without_secrets() {
        let rec = DkimKeyRecord::parse(&rsa_pair().record).unwrap();
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(json["key"]["kind"], "rsa");
        assert_eq!(json["key"]["bits"], 2048);
        assert_eq!(json["key_type"], "rsa");
    }
}
