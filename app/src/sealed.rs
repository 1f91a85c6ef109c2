//! Secrets at rest. The TSIG secret and the DKIM private keys are kept in
//! the database sealed with XChaCha20-Poly1305, under a key that is not in
//! the database: a file of mode 0600 (by default `DATA_DIR/secret.key`, its
//! path set by `--secret-key-file`). A copy of the database alone (a backup,
//! a replica, a daemon that may read it) gives none of them away.
//!
//! A sealed value is text: `sealed:v1:` and the base64 of a random 24-byte
//! nonce, the ciphertext and its tag. What the value is (its column) is bound
//! in as associated data, so a sealed value moved to another column does
//! not open.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PREFIX: &str = "sealed:v1:";
const NONCE: usize = 24;

/// The key that seals and opens the secrets kept in the database.
#[derive(Clone)]
pub struct SealingKey(Arc<[u8; 32]>);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the secret key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the secret key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the secret key file {path} does not hold a Stackyard key (one line: the base64 of 32 bytes)"
    )]
    Malformed { path: PathBuf },
}

/// Why a stored value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the stored secret is not sealed")]
    NotSealed,
    #[error(
        "the stored secret does not open with this key: it was sealed with another key file, or altered"
    )]
    WrongKey,
    #[error("the stored secret is damaged (not a sealed value)")]
    Malformed,
}

/// Whether a key file was found or made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFile {
    Found,
    Created,
}

impl SealingKey {
    /// A new random key.
    pub fn generate() -> SealingKey {
        SealingKey(Arc::new(crate::secret::random_bytes::<32>()))
    }

    /// Reads the key at `path`, or makes a new one there (mode 0600) when
    /// there is no file. A file that others may read is made owner-only.
    pub fn load_or_create(path: &Path) -> Result<(SealingKey, KeyFile), KeyFileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                tighten(path);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| KeyFileError::Malformed {
                        path: path.to_owned(),
                    })?;
                Ok((SealingKey(Arc::new(bytes)), KeyFile::Found))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SealingKey::generate();
                let create = |source| KeyFileError::Create {
                    path: path.to_owned(),
                    source,
                };
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(create)?;
                let line = base64::engine::general_purpose::STANDARD.encode(key.0.as_ref());
                file.write_all(format!("{line}\n").as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(create)?;
                Ok((key, KeyFile::Created))
            }
            Err(source) => Err(KeyFileError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// `plain` sealed for the column `purpose` (such as `dns_tsig_key.secret`).
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        let nonce = crate::secret::random_bytes::<NONCE>();
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: purpose.as_bytes(),
                },
            )
            // Encryption fails only for messages of over 256 GiB.
            .unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// The text of a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, SealError> {
        let body = stored.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

/// Whether a stored value is sealed (a database from before sealing keeps
/// its secrets in clear until the server first starts with a key).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Makes `path` readable by its owner only, when it is not already.
pub fn tighten(path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    let owner_only = if meta.is_dir() { 0o700 } else { 0o600 };
    if mode & 0o077 != 0 {
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(owner_only)) {
            Ok(()) => tracing::warn!(
                "{} was readable by others (mode {mode:o}); it is now {owner_only:o}",
                path.display()
            ),
            Err(e) => tracing::warn!(
                "{} is readable by others (mode {mode:o}) and cannot be changed: {e}",
                path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let key = SealingKey::generate();
        let sealed = key.seal("dns_tsig_key.secret", b"c2VjcmV0");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("c2VjcmV0"), "{sealed}");
        assert_eq!(
            key.open("dns_tsig_key.secret", &sealed).unwrap(),
            "c2VjcmV0"
        );
        // A fresh nonce each time.
        assert_ne!(sealed, key.seal("dns_tsig_key.secret", b"c2VjcmV0"));
        assert_eq!(
            key.open("mail_dkim_key.private_key", &sealed),
            Err(SealError::WrongKey)
        );
        assert_eq!(
            SealingKey::generate().open("dns_tsig_key.secret", &sealed),
            Err(SealError::WrongKey)
        );
        assert_eq!(key.open("x", "c2VjcmV0"), Err(SealError::NotSealed));
        assert_eq!(key.open("x", "sealed:v1:AAAA"), Err(SealError::Malformed));
        let mut altered = sealed.clone();
        altered.replace_range(20..21, if &sealed[20..21] == "A" { "B" } else { "A" });
        assert_eq!(
            key.open("dns_tsig_key.secret", &altered),
            Err(SealError::WrongKey)
        );
    }

    #[test]
    fn the_key_file_is_made_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let (made, how) = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(how, KeyFile::Created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (read, how) = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(how, KeyFile::Found);
        let sealed = made.seal("p", b"pem");
        assert_eq!(read.open("p", &sealed).unwrap(), "pem");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        SealingKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a key others could read is tightened");

        std::fs::write(&path, "not a key\n").unwrap();
        assert!(matches!(
            SealingKey::load_or_create(&path),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
