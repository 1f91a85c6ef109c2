//! TSIG keys shared by the primary and its secondaries.
//!
//! NOTIFY and AXFR between Stackyard's servers are signed with one
//! HMAC-SHA256 key (RFC 8945). The key's secret is the one piece of data in
//! the DNS domain that must not leak, so [`Secret`]:
//!
//! * does not implement `Serialize` (it cannot end up in a JSON API answer
//!   or a log by accident through a derived impl),
//! * prints `Secret(<redacted>)` in `Debug` and has no `Display`,
//! * is only readable through [`Secret::reveal_base64`], a name that is easy
//!   to grep for in review (the admin "show key" page and the `nsd.conf`
//!   generator are the intended callers),
//! * overwrites its bytes when dropped (best effort, see [`Secret`]'s `Drop`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::fmt;

/// Octets of randomness in a generated secret: 32 octets = 256 bits, the
/// output size of SHA-256, which RFC 8945 §6 recommends as the key size.
pub const GENERATED_SECRET_LEN: usize = 32;

/// Longest key name accepted (a key name is a domain name, RFC 8945 §4.2).
const MAX_KEY_NAME_LEN: usize = 253;

/// TSIG MAC algorithms Stackyard uses.
///
/// Only HMAC-SHA256 for now: it is mandatory to implement (RFC 8945 §6)
/// and NSD, BIND and Knot all support it. An enum rather than a string so
/// a typo can never reach `nsd.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TsigAlgorithm {
    /// `hmac-sha256`.
    #[default]
    HmacSha256,
}

impl TsigAlgorithm {
    /// The name NSD's `nsd.conf` and `dig -y` use.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Secret key material.
///
/// Deliberately not `Serialize`, not `Display`, and redacted in `Debug`;
/// see the module documentation.
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// `GENERATED_SECRET_LEN` octets from the operating system's CSPRNG.
    pub fn generate() -> Result<Secret, KeyError> {
        let mut bytes = vec![0u8; GENERATED_SECRET_LEN];
        crate::secret::fill_random(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Secret { bytes })
    }

    /// Loads a secret kept elsewhere (the console's secret store) from its
    /// base64 form. Empty secrets are refused: NSD would accept them and
    /// every signature would then be forgeable.
    pub fn from_base64(text: &str) -> Result<Secret, KeyError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| KeyError::BadSecret)?;
        if bytes.is_empty() {
            return Err(KeyError::BadSecret);
        }
        Ok(Secret { bytes })
    }

    /// The secret in base64, as `nsd.conf` and `dig -y` want it.
    ///
    /// This is the only way to read the secret; call it only to show the
    /// key to an administrator or to write a server's configuration.
    pub fn reveal_base64(&self) -> String {
        BASE64.encode(&self.bytes)
    }

    /// Length of the key material in octets (safe to show).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false for a constructed secret (empty ones are refused).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    /// Overwrites the key material so it does not linger in freed memory.
    /// Best effort: without `unsafe` volatile writes the compiler could in
    /// theory drop the stores; `black_box` makes that very unlikely.
    fn drop(&mut self) {
        self.bytes.fill(0);
        std::hint::black_box(&self.bytes);
    }
}

/// A named TSIG key.
///
/// Fields are private so that every key in existence has a name that is
/// safe to write into `nsd.conf` (checked by [`TsigKey::new`]).
#[derive(Debug, Clone)]
pub struct TsigKey {
    name: String,
    algorithm: TsigAlgorithm,
    secret: Secret,
}

impl TsigKey {
    /// Builds a key from stored parts, checking the name.
    pub fn new(name: &str, algorithm: TsigAlgorithm, secret: Secret) -> Result<TsigKey, KeyError> {
        check_key_name(name)?;
        Ok(TsigKey {
            name: name.to_string(),
            algorithm,
            secret,
        })
    }

    /// A new HMAC-SHA256 key with a fresh random secret.
    pub fn generate(name: &str) -> Result<TsigKey, KeyError> {
        TsigKey::new(name, TsigAlgorithm::HmacSha256, Secret::generate()?)
    }

    /// The key's name, as referenced in ACLs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MAC algorithm.
    pub fn algorithm(&self) -> TsigAlgorithm {
        self.algorithm
    }

    /// The secret (still redacted until [`Secret::reveal_base64`]).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

/// Key names become both a DNS name on the wire and an unquoted token in
/// `nsd.conf` ACL lines (`provide-xfr: 192.0.2.1 NAME`), so they are kept to
/// letters, digits, `-` and `_` in dot-separated labels; that also rules out
/// anything that could break out of the configuration syntax.
fn check_key_name(name: &str) -> Result<(), KeyError> {
    let bad = || KeyError::BadName(name.to_string());
    if name.is_empty() || name.len() > MAX_KEY_NAME_LEN {
        return Err(bad());
    }
    // NOKEY and BLOCKED are keywords in NSD's ACL syntax.
    if name.eq_ignore_ascii_case("NOKEY") || name.eq_ignore_ascii_case("BLOCKED") {
        return Err(bad());
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

/// Why a key could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key name is not usable.
    #[error(
        "\"{0}\" cannot be used as a TSIG key name: use letters, digits, '-' and '_' \
         in labels separated by dots (for example stackyard-xfr), at most 253 \
         characters, not NOKEY or BLOCKED"
    )]
    BadName(String),
    /// The secret is not valid, non-empty base64.
    #[error(
        "the TSIG secret must be non-empty base64 (for example 32 random octets \
         encoded as 44 characters)"
    )]
    BadSecret,
    /// The operating system's random source failed.
    #[error("could not get random bytes for a new key: {0}")]
    Random(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_random_hmac_sha256() {
        let a = TsigKey::generate("stackyard-xfr").unwrap();
        let b = TsigKey::generate("stackyard-xfr").unwrap();
        assert_eq!(a.algorithm(), TsigAlgorithm::HmacSha256);
        assert_eq!(a.algorithm().to_string(), "hmac-sha256");
        assert_eq!(a.name(), "stackyard-xfr");
        assert_eq!(a.secret().len(), 32);
        let text = a.secret().reveal_base64();
        // 32 octets are 44 base64 characters with one '=' of padding.
        assert_eq!(text.len(), 44);
        assert!(text.ends_with('='));
        assert_ne!(text, b.secret().reveal_base64());
        assert_eq!(BASE64.decode(&text).unwrap().len(), 32);
    }

    #[test]
    fn base64_round_trip() {
        let s = Secret::from_base64("K2tf3TRjvQkVCmJF3/Z9vA==").unwrap();
        assert_eq!(s.len(), 16);
        assert_eq!(s.reveal_base64(), "K2tf3TRjvQkVCmJF3/Z9vA==");
        assert_eq!(
            Secret::from_base64("not base64!").unwrap_err(),
            KeyError::BadSecret
        );
        assert_eq!(Secret::from_base64("").unwrap_err(), KeyError::BadSecret);
    }

    #[test]
    fn debug_is_redacted() {
        let key = TsigKey::new(
            "k",
            TsigAlgorithm::HmacSha256,
            Secret::from_base64("K2tf3TRjvQkVCmJF3/Z9vA==").unwrap(),
        )
        .unwrap();
        let shown = format!("{key:?} {:?} {key:#?}", key.secret());
        assert!(!shown.contains("K2tf3"), "{shown}");
        assert!(shown.contains("Secret(<redacted>)"), "{shown}");
        assert!(shown.contains("\"k\""), "{shown}");
    }

    /// Compile-time proof that `Secret` (and so `TsigKey`) does not
    /// implement `Serialize`: if it did, the call below would have two
    /// candidate impls and the test would not compile (the technique of
    /// `static_assertions::assert_not_impl_any!`).
    #[test]
    fn secret_is_not_serialize() {
        trait AmbiguousIfSerialize<A> {
            fn marker() {}
        }
        impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
        struct IsSerialize;
        impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<IsSerialize> for T {}
        <Secret as AmbiguousIfSerialize<_>>::marker();
        <TsigKey as AmbiguousIfSerialize<_>>::marker();
    }

    #[test]
    fn key_names_are_checked() {
        for good in ["stackyard-xfr", "xfr.example.test", "a_b-1"] {
            assert!(TsigKey::generate(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "two words",
            "quote\"",
            "line\nbreak",
            "a..b",
            ".lead",
            "trail.",
            "NOKEY",
            "blocked",
            "semi;colon",
            "#comment",
        ] {
            assert_eq!(
                TsigKey::generate(bad).unwrap_err(),
                KeyError::BadName(bad.to_string()),
                "{bad:?}"
            );
        }
        assert!(TsigKey::generate(&"a".repeat(64)).is_err());
    }
}
