//! Splitting TXT values into DNS character-strings.
//!
//! A TXT record's RDATA is a sequence of character-strings, each prefixed by
//! a one-octet length, so no single string may exceed 255 octets (RFC 1035
//! §3.3). SPF (RFC 7208 §3.3) and DKIM (RFC 6376 §3.6.2.2) both say the
//! strings of one record are concatenated without separators before parsing,
//! so a long value is published by cutting it anywhere — the cut position has
//! no meaning to receivers. A 2048-bit RSA DKIM key (about 410 characters)
//! always needs this.

/// Longest character-string a TXT record can carry.
pub const MAX_TXT_STRING: usize = 255;

/// Splits `value` into strings of at most 255 octets each.
///
/// Cuts never fall inside a UTF-8 sequence, so each piece is itself valid
/// text (records are ASCII in practice, but a stray non-ASCII character must
/// not make this function lossy). An empty value yields one empty string,
/// because a TXT record always holds at least one character-string.
pub fn split_txt(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = value;
    while rest.len() > MAX_TXT_STRING {
        let mut cut = MAX_TXT_STRING;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head.to_string());
        rest = tail;
    }
    parts.push(rest.to_string());
    parts
}

/// Renders `value` as zone-file presentation: quoted strings of at most 255
/// octets, separated by spaces, e.g. `"v=DKIM1; k=rsa; p=MIIB..." "...IDAQAB"`.
///
/// `"` and `\` are backslash-escaped and octets outside printable ASCII are
/// written as `\DDD` (RFC 1035 §5.1) so the output can be pasted into any
/// zone file. The 255-octet limit applies to the decoded octets, which is why
/// splitting happens before escaping.
pub fn to_zone_txt(value: &str) -> String {
    split_txt(value)
        .iter()
        .map(|part| {
            let mut quoted = String::with_capacity(part.len() + 2);
            quoted.push('"');
            for &byte in part.as_bytes() {
                match byte {
                    b'"' | b'\\' => {
                        quoted.push('\\');
                        quoted.push(char::from(byte));
                    }
                    0x20..=0x7e => quoted.push(char::from(byte)),
                    _ => quoted.push_str(&format!("\\{byte:03}")),
                }
            }
            quoted.push('"');
            quoted
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_value_is_one_string() {
        assert_eq!(split_txt("v=spf1 -all"), vec!["v=spf1 -all".to_string()]);
    }

    #[test]
    fn empty_value_is_one_empty_string() {
        assert_eq!(split_txt(""), vec![String::new()]);
    }

    #[test]
    fn exactly_255_is_not_split_and_256_is() {
        let v255 = "a".repeat(255);
        assert_eq!(split_txt(&v255).len(), 1);
        let v256 = "a".repeat(256);
        let parts = split_txt(&v256);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 255);
        assert_eq!(parts[1], "a");
    }

    #[test]
    fn multibyte_character_is_not_cut() {
        // 254 ASCII octets then a 2-octet 'é': the é would straddle octet 255.
        let value = format!("{}é", "a".repeat(254));
        let parts = split_txt(&value);
        assert_eq!(parts, vec!["a".repeat(254), "é".to_string()]);
    }

    #[test]
    fn zone_rendering_quotes_and_escapes() {
        assert_eq!(to_zone_txt(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(to_zone_txt("tab\there"), r#""tab\009here""#);
        let long = "x".repeat(300);
        assert_eq!(
            to_zone_txt(&long),
            format!("\"{}\" \"{}\"", "x".repeat(255), "x".repeat(45))
        );
    }

    proptest! {
        #[test]
        fn split_is_lossless_and_bounded(s in "\\PC{0,900}") {
            let parts = split_txt(&s);
            prop_assert_eq!(parts.concat(), s);
            prop_assert!(parts.iter().all(|p| p.len() <= MAX_TXT_STRING));
            // No piece but the last may be empty or needlessly short (more
            // than 3 octets under the limit would mean a wasted string).
            for p in &parts[..parts.len() - 1] {
                prop_assert!(p.len() > MAX_TXT_STRING - 4);
            }
        }
    }
}
