//! Host names: the [`Name`]s that mail domains, DKIM selectors and server
//! names must be.
//!
//! A zone may hold any octets in a label (`_dmarc`, `\032`), but a mail
//! domain or a server's name is a *host name* (RFC 952, RFC 1123 §2.1):
//! letters, digits and inner hyphens. Mail uses these names without the
//! trailing dot (`alice@example.org`), the zone with it; both are the same
//! [`Name`], so there is one model of a DNS name in Stackyard, and one
//! spelling for comparing names that arrive as text ([`normalise`]).

use crate::dns::zone::name::{Name, NameError};

/// Why a piece of text is not a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostNameError {
    /// Not a domain name at all.
    #[error("{0}")]
    Name(#[from] NameError),
    /// Fewer labels than the use needs (a mail domain needs two).
    #[error("it needs at least two labels, e.g. example.org")]
    TooFewLabels,
    /// A label with a character other than a letter, digit or hyphen.
    #[error(
        "\"{0}\": labels may contain only letters, digits and hyphens (write \
         internationalised names in their xn-- form)"
    )]
    NotLdh(String),
    /// A label that starts or ends with a hyphen.
    #[error("\"{0}\": a label cannot start or end with a hyphen")]
    EdgeHyphen(String),
}

impl Name {
    /// Parses a host name of at least `min_labels` labels. Surrounding
    /// space and a trailing dot are ignored; internationalised labels are
    /// converted to their `xn--` form like every other [`Name`].
    pub fn host(input: &str, min_labels: usize) -> Result<Name, HostNameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(NameError::Empty.into());
        }
        let name = Name::parse(trimmed)?;
        if name.label_count() < min_labels {
            return Err(HostNameError::TooFewLabels);
        }
        for label in name.labels() {
            let text = || String::from_utf8_lossy(label).into_owned();
            if !label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            {
                return Err(HostNameError::NotLdh(text()));
            }
            if label.first() == Some(&b'-') || label.last() == Some(&b'-') {
                return Err(HostNameError::EdgeHyphen(text()));
            }
        }
        Ok(name)
    }

    /// The presentation form without the trailing dot (`example.org`), as
    /// mail addresses and host names are written; empty for the root.
    pub fn without_dot(&self) -> &str {
        let text = self.as_str();
        text.strip_suffix('.').unwrap_or(text)
    }
}

/// Lower case, no surrounding space, no trailing dot: the one spelling of a
/// name that arrives as text (a DNS answer, a stored row, a URL segment)
/// used for map keys and comparisons, because DNS names are
/// case-insensitive. Unlike [`Name::parse`] it never fails, so it suits
/// names that are looked up rather than stored.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_is_letters_digits_and_inner_hyphens() {
        let name = Name::host(" Mail.Example.ORG. ", 2).unwrap();
        assert_eq!(name.as_str(), "mail.example.org.");
        assert_eq!(name.without_dot(), "mail.example.org");
        assert_eq!(Name::host("localhost", 2), Err(HostNameError::TooFewLabels));
        assert_eq!(
            Name::host("localhost", 1).unwrap().without_dot(),
            "localhost"
        );
        assert_eq!(
            Name::host("-bad.example", 2),
            Err(HostNameError::EdgeHyphen("-bad".into()))
        );
        assert_eq!(
            Name::host("bad-.example", 2),
            Err(HostNameError::EdgeHyphen("bad-".into()))
        );
        assert_eq!(
            Name::host("_dmarc.example", 2),
            Err(HostNameError::NotLdh("_dmarc".into()))
        );
        assert_eq!(
            Name::host("a\\.b.example", 2),
            Err(HostNameError::NotLdh("a.b".into()))
        );
        assert_eq!(
            Name::host("a..example", 2),
            Err(HostNameError::Name(NameError::EmptyLabel))
        );
        assert_eq!(
            Name::host("  ", 2),
            Err(HostNameError::Name(NameError::Empty))
        );
        assert_eq!(
            Name::host("bücher.example", 2).unwrap().without_dot(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn the_root_without_its_dot_is_empty() {
        assert_eq!(Name::root().without_dot(), "");
    }

    #[test]
    fn normalised_names_compare_case_and_dot_insensitively() {
        assert_eq!(normalise(" Example.ORG. "), "example.org");
        assert_eq!(normalise("example.org"), normalise("EXAMPLE.org."));
    }
}
