//! Google site-verification TXT records.
//!
//! Google Workspace asks a domain owner to publish
//! `google-site-verification=<token>` at the domain apex, where the token is
//! 43 characters of the base64url alphabet, 68 characters in all (Table 1 of
//! the project's reference paper). The checks here catch the usual paste
//! mistakes — quotes, a missing prefix, a truncated token, a stray space —
//! before the record is published and Google's check silently fails.

use serde::{Deserialize, Serialize};

/// What every verification value starts with.
pub const GOOGLE_PREFIX: &str = "google-site-verification=";
/// Characters in a token after the prefix.
pub const GOOGLE_TOKEN_LEN: usize = 43;

/// Why a value is not a usable verification record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GoogleVerificationError {
    #[error("remove the quotation marks: they belong to the zone file, not the value")]
    Quoted,
    #[error("this looks like the token alone; the value must be {GOOGLE_PREFIX}<token>")]
    TokenWithoutPrefix,
    #[error(
        "the value must start with \"{GOOGLE_PREFIX}\"; copy the whole value from the \
         Google Admin console"
    )]
    MissingPrefix,
    #[error(
        "the token contains {ch:?} at position {position}; tokens use only letters, \
         digits, - and _"
    )]
    BadCharacter { ch: char, position: usize },
    #[error(
        "the token after \"{GOOGLE_PREFIX}\" is {len} characters long, but Google's \
         tokens are {GOOGLE_TOKEN_LEN} (68 characters in all); copy it again"
    )]
    WrongLength { len: usize },
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Checks a TXT value and returns the token on success.
///
/// Characters are checked before the length so that a stray space or quote
/// is named rather than reported as a length mismatch.
pub fn validate_google_site_verification(txt: &str) -> Result<&str, GoogleVerificationError> {
    if txt.len() >= 2 && txt.starts_with('"') && txt.ends_with('"') {
        return Err(GoogleVerificationError::Quoted);
    }
    let Some(token) = txt.strip_prefix(GOOGLE_PREFIX) else {
        if txt.chars().count() == GOOGLE_TOKEN_LEN && txt.chars().all(is_token_char) {
            return Err(GoogleVerificationError::TokenWithoutPrefix);
        }
        return Err(GoogleVerificationError::MissingPrefix);
    };
    if let Some((i, ch)) = token.chars().enumerate().find(|(_, c)| !is_token_char(*c)) {
        return Err(GoogleVerificationError::BadCharacter {
            ch,
            position: i + 1,
        });
    }
    if token.len() != GOOGLE_TOKEN_LEN {
        return Err(GoogleVerificationError::WrongLength { len: token.len() });
    }
    Ok(token)
}

/// True when `txt` is meant as a Google verification value (valid or not),
/// so the console can pick it out of the TXT records at a name.
pub fn is_google_site_verification(txt: &str) -> bool {
    txt.trim_matches('"').starts_with(GOOGLE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: &str = "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U";

    fn message(txt: &str) -> String {
        validate_google_site_verification(txt)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn paper_table1_token_is_valid() {
        assert_eq!(PAPER.len(), 68);
        assert_eq!(
            validate_google_site_verification(PAPER),
            Ok("-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U")
        );
        assert!(is_google_site_verification(PAPER));
        assert!(!is_google_site_verification("v=spf1 -all"));
    }

    #[test]
    fn broken_values() {
        assert_eq!(
            message(&format!("\"{PAPER}\"")),
            "remove the quotation marks: they belong to the zone file, not the value"
        );
        assert_eq!(
            message("-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U"),
            "this looks like the token alone; the value must be \
             google-site-verification=<token>"
        );
        assert_eq!(
            message("google-site-verify=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U"),
            "the value must start with \"google-site-verification=\"; copy the whole value \
             from the Google Admin console"
        );
        assert_eq!(
            message(&PAPER[..67]),
            "the token after \"google-site-verification=\" is 42 characters long, but Google's \
             tokens are 43 (68 characters in all); copy it again"
        );
        assert_eq!(
            message(&format!("{PAPER}U")),
            "the token after \"google-site-verification=\" is 44 characters long, but Google's \
             tokens are 43 (68 characters in all); copy it again"
        );
        assert_eq!(
            message(&format!("{PAPER} ")),
            "the token contains ' ' at position 44; tokens use only letters, digits, - and _"
        );
        // '+' and '/' are standard base64, not base64url.
        assert_eq!(
            message(&PAPER.replace("-cQ5", "+cQ5")),
            "the token contains '+' at position 18; tokens use only letters, digits, - and _"
        );
        assert_eq!(
            message("google-site-verification="),
            "the token after \"google-site-verification=\" is 0 characters long, but Google's \
             tokens are 43 (68 characters in all); copy it again"
        );
    }
}
