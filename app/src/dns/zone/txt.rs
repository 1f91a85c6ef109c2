//! TXT character-strings: pasted input, escapes and quoting.
//!
//! People paste TXT values from many places: a provider's instructions
//! (`google-site-verification=…`, unquoted), another zone file (one or more
//! quoted strings, possibly in parentheses), or a DKIM generator (a single
//! string far longer than the 255-octet limit of one character-string).
//! [`txt_from_input`] accepts all of them and splits long strings so the
//! person never has to count octets.

use crate::dns::zone::error::FieldError;

/// Maximum length of one character-string (RFC 1035 §3.3).
pub const MAX_STRING_LEN: usize = 255;

/// Turns pasted TXT input into character-strings of at most 255 octets.
///
/// * Input starting with `"` is read as one or more quoted strings as in a
///   zone file (`\"`, `\\` and `\DDD` escapes, optional surrounding
///   parentheses, line breaks between strings).
/// * Anything else is taken literally as one string (no escape processing,
///   because a pasted verification token is never escaped).
///
/// Every string longer than 255 octets is split into 255-octet pieces;
/// resolvers concatenate them again (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
pub fn txt_from_input(input: &str) -> Result<Vec<Vec<u8>>, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            "value",
            "enter the TXT value, e.g. v=spf1 mx ~all",
        ));
    }
    let inner = match trimmed.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(s) if s.trim_start().starts_with('"') => s.trim(),
        _ => trimmed,
    };
    let strings = if inner.starts_with('"') {
        parse_quoted_sequence(inner).map_err(|m| FieldError::new("value", m))?
    } else {
        vec![inner.as_bytes().to_vec()]
    };
    Ok(split_long(strings))
}

/// Splits each string into pieces of at most 255 octets. An empty string is
/// kept (a TXT record may legitimately hold `""`).
pub fn split_long(strings: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(strings.len());
    for s in strings {
        if s.len() <= MAX_STRING_LEN {
            out.push(s);
        } else {
            out.extend(s.chunks(MAX_STRING_LEN).map(<[u8]>::to_vec));
        }
    }
    out
}

fn parse_quoted_sequence(s: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some('"') => {}
            Some(_) => {
                let rest: String = std::iter::once('…').chain(chars.take(20)).collect();
                return Err(format!(
                    "text after a closing quote must be another quoted string; put quotes \
                     around it or remove it (near \"{rest}\")"
                ));
            }
        }
        let mut raw = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    closed = true;
                    break;
                }
                '\\' => {
                    raw.push('\\');
                    if let Some(n) = chars.next() {
                        raw.push(n);
                    }
                }
                c => raw.push(c),
            }
        }
        if !closed {
            return Err("a quoted string is not closed: add the missing \" at the end".to_string());
        }
        out.push(decode_escapes(&raw)?);
    }
    Ok(out)
}

/// Resolves master-file escapes: `\DDD` (decimal octet) and `\X` (X itself).
pub fn decode_escapes(raw: &str) -> Result<Vec<u8>, String> {
    if !raw.contains('\\') {
        return Ok(raw.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            None => {
                return Err(
                    "a string ends with a lone backslash; write \\\\ for a backslash".to_string(),
                )
            }
            Some(d) if d.is_ascii_digit() => {
                let mut value = d.to_digit(10).unwrap_or(0);
                for _ in 0..2 {
                    match chars.next().and_then(|c| c.to_digit(10)) {
                        Some(v) => value = value * 10 + v,
                        None => {
                            return Err(
                                "a \\DDD escape needs exactly three decimal digits".to_string()
                            )
                        }
                    }
                }
                let b = u8::try_from(value).map_err(|_| {
                    format!("escape \\{value:03} is out of range; \\DDD must be 000 to 255")
                })?;
                out.push(b);
            }
            Some(other) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Ok(out)
}

/// Writes a character-string in double quotes: `"` and `\` are escaped with
/// a backslash, octets outside printable ASCII as `\DDD`, so any octets
/// survive the zone file unchanged.
pub fn quote_character_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// Splits a text value into strings of at most 255 octets each, as a record
/// built by the console is published (a DKIM key is about 410 characters).
///
/// Unlike [`split_long`], cuts never fall inside a UTF-8 sequence, so each
/// piece is itself valid text (records are ASCII in practice, but a stray
/// non-ASCII character must not make the split lossy). An empty value
/// yields one empty string, because a TXT record always holds at least one
/// character-string. Receivers concatenate the pieces without separators
/// (RFC 7208 §3.3, RFC 6376 §3.6.2.2), so the cut position has no meaning.
pub fn split_txt(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = value;
    while rest.len() > MAX_STRING_LEN {
        let mut cut = MAX_STRING_LEN;
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

/// Renders a text value as zone-file presentation: its [`split_txt`] pieces,
/// each [quoted](quote_character_string), separated by spaces, e.g.
/// `"v=DKIM1; k=rsa; p=MIIB..." "...IDAQAB"`. The 255-octet limit applies
/// to the decoded octets, which is why splitting happens before escaping.
pub fn to_zone_txt(value: &str) -> String {
    split_txt(value)
        .iter()
        .map(|part| quote_character_string(part.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A real 2048-bit RSA public key (generated with openssl, 392 base64
    /// characters) as published in a DKIM TXT record: 410 octets in all.
    pub(crate) const DKIM_2048: &str = concat!(
        "v=DKIM1; k=rsa; p=",
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvjQlWuLeFq1CNaSH1Ab7zWAl4vG3cESHoZyz",
        "UnlrYTQj+HzdKsXttssQ0v/DoIZTzsJi5i6lHBdFw5w8R614FUMVj+6v9JWG/zyJSUCj4DYe3BtBAwJS",
        "tnoHRFZ1P0KCbNZ65fO6eeFH5sJwYDqhcXaR+d+y0ymdwDvYRJpCmGpct/kyoUjLBRrL9oBI5KDNpfJt",
        "rxQzYyACRXdC2MWoyPOa2c61cNEOIV1gosYDlnmui/pwNHymEVGtxgBzVIko74ilfRQ4dozA4jL/KchX",
        "VEPtV+RRY/GdE9rwd7EYC0CFwHp+3Klp613SftAeFvLzkNgQl0F2MJxso454vKzRnQIDAQAB",
    );

    #[test]
    fn unquoted_spf_is_one_string() {
        let v = txt_from_input("v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all")
            .unwrap();
        assert_eq!(
            v,
            vec![b"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all".to_vec()]
        );
    }

    #[test]
    fn quoted_spf_as_in_zone_file() {
        let v =
            txt_from_input("\"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all\"")
                .unwrap();
        assert_eq!(
            v,
            vec![b"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all".to_vec()]
        );
    }

    #[test]
    fn google_site_verification() {
        let s = "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U";
        assert_eq!(txt_from_input(s).unwrap(), vec![s.as_bytes().to_vec()]);
        assert_eq!(
            txt_from_input(&format!("  \"{s}\"\n")).unwrap(),
            vec![s.as_bytes().to_vec()]
        );
    }

    #[test]
    fn dkim_is_split_at_255() {
        assert!(DKIM_2048.len() > 255);
        let v = txt_from_input(DKIM_2048).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].len(), 255);
        assert_eq!(v.concat(), DKIM_2048.as_bytes());
        // Same key pasted quoted, already split by a generator, in parentheses.
        let (a, b) = DKIM_2048.split_at(100);
        let pasted = format!("( \"{a}\"\n   \"{b}\" )");
        let w = txt_from_input(&pasted).unwrap();
        assert_eq!(w.len(), 3, "the 292-octet second string is split again");
        assert_eq!(w.concat(), DKIM_2048.as_bytes());
        assert!(w.iter().all(|s| s.len() <= 255));
    }

    #[test]
    fn dmarc_value() {
        assert_eq!(
            txt_from_input("\"v=DMARC1; p=none\"").unwrap(),
            vec![b"v=DMARC1; p=none".to_vec()]
        );
        assert_eq!(
            txt_from_input("v=DMARC1; p=none").unwrap(),
            vec![b"v=DMARC1; p=none".to_vec()]
        );
    }

    #[test]
    fn escapes_inside_quotes() {
        let v = txt_from_input(r#""say \"hi\"" "back\\slash" "\065\000""#).unwrap();
        assert_eq!(
            v,
            vec![
                b"say \"hi\"".to_vec(),
                b"back\\slash".to_vec(),
                b"A\0".to_vec()
            ]
        );
    }

    #[test]
    fn input_errors() {
        assert_eq!(
            txt_from_input("   ").unwrap_err().message,
            "enter the TXT value, e.g. v=spf1 mx ~all"
        );
        assert_eq!(
            txt_from_input("\"abc").unwrap_err().message,
            "a quoted string is not closed: add the missing \" at the end"
        );
        assert!(txt_from_input("\"abc\" def")
            .unwrap_err()
            .message
            .starts_with("text after a closing quote must be another quoted string"));
        assert!(txt_from_input(r#""\999""#)
            .unwrap_err()
            .message
            .contains("out of range"));
    }

    #[test]
    fn quoting_round_trips() {
        let raw = b"a\"b\\c\x01\xff d";
        let q = quote_character_string(raw);
        assert_eq!(q, "\"a\\\"b\\\\c\\001\\255 d\"");
        let inner = &q[1..q.len() - 1];
        assert_eq!(decode_escapes(inner).unwrap(), raw.to_vec());
    }

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

    proptest::proptest! {
        #[test]
        fn split_is_lossless_and_bounded(s in "\\PC{0,900}") {
            let parts = split_txt(&s);
            proptest::prop_assert_eq!(parts.concat(), s);
            proptest::prop_assert!(parts.iter().all(|p| p.len() <= MAX_STRING_LEN));
            // No piece but the last may be empty or needlessly short (more
            // than 3 octets under the limit would mean a wasted string).
            for p in &parts[..parts.len() - 1] {
                proptest::prop_assert!(p.len() > MAX_STRING_LEN - 4);
            }
        }
    }
}
