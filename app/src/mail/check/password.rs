//! Mailbox password hashes in Dovecot's `{ARGON2ID}` scheme.
//!
//! Dovecot reads the `password` column itself (see [`crate::mail::check::serverconf`]),
//! so the stored value must be something Dovecot verifies without help:
//! its scheme prefix followed by the standard Argon2 PHC string, e.g.
//! `{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>`. Dovecot
//! checks it with libsodium, which reads the cost parameters from the
//! string, so old hashes keep working when the cost is raised later.
//!
//! The prefix is stored even though `default_pass_scheme = ARGON2ID` is
//! set, so that a later scheme change can coexist with existing hashes.

use crate::secret;

/// Why a password could not be hashed (the one Argon2 error of [`secret`]).
pub use crate::secret::HashError as PasswordError;

/// Dovecot's scheme name, as it appears in braces before the hash.
pub const ARGON2ID_PREFIX: &str = "{ARGON2ID}";

/// Argon2id cost. Memory is in KiB, as in the PHC string's `m=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    /// Lanes. Dovecot (libsodium) verifies any lane count, but computes
    /// the lanes one after another, so more than 1 only slows logins.
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    /// 64 MiB, 3 passes, 1 lane: libsodium's "moderate"-like cost that a
    /// small server verifies in a fraction of a second per login.
    fn default() -> Self {
        Self {
            memory_kib: 65536,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl Argon2Cost {
    /// The smallest cost Argon2 accepts. Only for tests: it protects
    /// nothing.
    pub const INSECURE_TEST: Self = Self {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
}

/// Hashes `password` with a fresh random salt into Dovecot's `{ARGON2ID}`
/// form.
pub fn hash_password(password: &str, cost: &Argon2Cost) -> Result<String, PasswordError> {
    let phc = secret::hash_password(
        password,
        secret::Cost {
            memory_kib: cost.memory_kib,
            passes: cost.iterations,
            lanes: cost.parallelism,
        },
    )?;
    Ok(format!("{ARGON2ID_PREFIX}{phc}"))
}

/// True when `stored` is an `{ARGON2ID}` hash of `password`. Anything
/// else (another scheme, a malformed string) is simply `false`.
pub fn verify_password(password: &str, stored: &str) -> bool {
    stored
        .strip_prefix(ARGON2ID_PREFIX)
        .filter(|phc| phc.starts_with("$argon2id$"))
        // Cost and salt come from the string, not from this instance.
        .is_some_and(|phc| secret::verify_password(password, phc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_has_dovecot_prefix_and_phc_cost() {
        let h = hash_password("correct horse", &Argon2Cost::INSECURE_TEST).unwrap();
        assert!(
            h.starts_with("{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$"),
            "{h}"
        );
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        // Salted: the same password hashes differently each time.
        assert_ne!(
            h,
            hash_password("correct horse", &Argon2Cost::INSECURE_TEST).unwrap()
        );
    }

    #[test]
    fn default_cost_is_the_documented_one() {
        let c = Argon2Cost::default();
        assert_eq!((c.memory_kib, c.iterations, c.parallelism), (65536, 3, 1));
    }

    #[test]
    fn rejections() {
        assert_eq!(
            hash_password("", &Argon2Cost::INSECURE_TEST),
            Err(PasswordError::Empty)
        );
        let p2 = Argon2Cost {
            memory_kib: 16,
            parallelism: 2,
            ..Argon2Cost::INSECURE_TEST
        };
        let h = hash_password("x", &p2).unwrap();
        assert!(
            h.contains("$m=16,t=1,p=2$") && verify_password("x", &h),
            "{h}"
        );
        let tiny = Argon2Cost {
            memory_kib: 1,
            ..Argon2Cost::INSECURE_TEST
        };
        assert!(matches!(
            hash_password("x", &tiny),
            Err(PasswordError::BadCost(_))
        ));
        assert!(!verify_password("x", "{SHA512-CRYPT}$6$abc"));
        assert!(!verify_password("x", "{ARGON2ID}garbage"));
        assert!(!verify_password(
            "x",
            "{ARGON2ID}$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }
}
