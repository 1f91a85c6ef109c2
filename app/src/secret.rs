//! The one place Stackyard makes secrets: random bytes (the operating
//! system's generator, through `rand`'s `OsRng`) and Argon2id password
//! hashes (the `argon2` crate, one version). Console accounts and Dovecot
//! mailboxes both hash here; they differ only in cost and in the `{ARGON2ID}`
//! prefix Dovecot wants.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use rand::RngCore as _;

/// The operating system's generator did not answer (no entropy source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the system's random generator failed: {0}")]
pub struct RandomError(String);

/// Fills `bytes` from the operating system's random generator.
pub fn fill_random(bytes: &mut [u8]) -> Result<(), RandomError> {
    rand::rngs::OsRng
        .try_fill_bytes(bytes)
        .map_err(|e| RandomError(e.to_string()))
}

/// `N` random bytes from the operating system, for callers that cannot go
/// on without them (a session token): like every user of `OsRng`, this
/// panics only when the system has no entropy source at all.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    os_rng().fill_bytes(&mut bytes);
    bytes
}

/// The operating system's generator, for APIs that take an RNG (key generation).
pub fn os_rng() -> rand::rngs::OsRng {
    rand::rngs::OsRng
}

/// Argon2id cost, as the PHC string's `m=`, `t=`, `p=` write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("the password is empty")]
    Empty,
    /// Rejected by the argon2 crate (e.g. memory below 8 KiB per lane).
    #[error("invalid Argon2 cost: {0}")]
    BadCost(String),
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// An Argon2id (v=19) PHC string of `password` with a fresh random salt:
/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. Blocking: call it off the async
/// runtime for real costs.
pub fn hash_password(password: &str, cost: Cost) -> Result<String, HashError> {
    if password.is_empty() {
        return Err(HashError::Empty);
    }
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, None)
        .map_err(|e| HashError::BadCost(e.to_string()))?;
    let salt = SaltString::generate(&mut os_rng());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Hashing(e.to_string()))
}

/// Whether `phc` is an Argon2 hash of `password`; cost and salt come from
/// the string. A malformed string is simply `false`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Cost = Cost {
        memory_kib: 8,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn hashes_are_salted_argon2id_phc_strings_that_verify() {
        let h = hash_password("correct horse", CHEAP).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert_ne!(h, hash_password("correct horse", CHEAP).unwrap());
        assert!(!verify_password("x", "garbage"));
    }

    #[test]
    fn bad_costs_and_empty_passwords_are_refused() {
        assert_eq!(hash_password("", CHEAP), Err(HashError::Empty));
        let tiny = Cost {
            memory_kib: 1,
            ..CHEAP
        };
        assert!(matches!(
            hash_password("x", tiny),
            Err(HashError::BadCost(_))
        ));
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(random_bytes::<32>(), random_bytes::<32>());
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
