//! Master-file (zone file) parser, RFC 1035 §5 with the RFC 2308 `$TTL`.
//!
//! Uploaded files come from other DNS providers and hand edits, so the
//! parser is built to *report*, not to stop: every entry is parsed on its
//! own and every problem is collected with its line number. An entry with an
//! error is left out of the result, and the whole parse fails if there was
//! any error, so a half-understood zone can never be imported.
//!
//! The work is split in two stages: a lexer turns text into entries (one
//! logical line each, parentheses joined, comments dropped, quoted strings
//! kept as single tokens), then each entry is interpreted as a directive or
//! a record.

use crate::dns::zone::error::{ParseError, ZoneProblem};
use crate::dns::zone::name::Name;
use crate::dns::zone::record::{
    address_rdata, parse_duration, soa_timer_too_large, RData, Record, RecordType, Soa, Ttl, Zone,
};
use crate::dns::zone::txt::{decode_escapes, MAX_STRING_LEN};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// Deepest `$INCLUDE` nesting followed before giving up (guards loops).
const MAX_INCLUDE_DEPTH: usize = 8;

/// Options for [`parse_zone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParseOptions {
    /// Follow `$INCLUDE` directives (reading files from disk). Always false
    /// for uploads: an uploaded file must never make the server read local
    /// files.
    pub allow_include: bool,
}

/// One lexical token: a slice of the file's text.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    /// Raw text; escapes are *not* resolved yet because `\.` means something
    /// different in a name than in a TXT string. A quoted string's text is
    /// what lies between its quotes.
    text: &'a str,
    /// Came from a `"…"` string.
    quoted: bool,
    /// 1-based line the token is on.
    line: usize,
}

/// One logical entry: a directive or a record, possibly spanning lines.
#[derive(Debug)]
struct Entry<'e> {
    line: usize,
    /// The entry's first line started with blank space: the owner is omitted
    /// and the previous owner is repeated (RFC 1035 §5.1).
    blank_owner: bool,
    tokens: &'e [Token<'e>],
}

/// Splits text into entries, one at a time (one logical line each,
/// parentheses joined, comments dropped, quoted strings kept as single
/// tokens). Tokens borrow the text; nothing is copied.
///
/// The text may be one piece of a longer file (see [`Parser::run`]): a
/// piece that is not the `last` ends with a line break, and an entry whose
/// parentheses are still open at its end is left for the next piece.
struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next octet to read.
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
    /// The text runs to the end of the file.
    last: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer over `text`, whose first line is line `line` of the file.
    fn new(text: &'a str, line: usize, last: bool) -> Self {
        Lexer {
            text,
            pos: 0,
            line,
            last,
        }
    }

    /// Reads the next well-formed entry's tokens into `tokens` (cleared
    /// first) and returns its first line and whether its owner is blank;
    /// `None` at the end of the text. Lexical errors are pushed to `errors`
    /// and the affected entries are skipped. An entry cut by the end of a
    /// piece that is not the last is not read: `pos` and `line` are left at
    /// its start.
    fn next_entry(
        &mut self,
        tokens: &mut Vec<Token<'a>>,
        errors: &mut Vec<ParseError>,
    ) -> Option<(usize, bool)> {
        let text = self.text;
        let bytes = text.as_bytes();
        tokens.clear();
        // Entries start at the start of a line: the previous one ended with
        // its line break.
        let mut entry: Option<(usize, bool)> = None;
        let mut depth = 0usize;
        let mut bad = false;
        let mut line_starts_blank = false;
        let mut at_line_start = true;
        // Where the entry being read starts, to leave it for the next piece.
        let mut start = (self.pos, self.line, errors.len());
        while let Some(&c) = bytes.get(self.pos) {
            let was_line_start = at_line_start;
            at_line_start = false;
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    at_line_start = true;
                    line_starts_blank = false;
                    if depth == 0 {
                        start = (self.pos, self.line, errors.len());
                        let was_bad = std::mem::take(&mut bad);
                        if let Some(found) = entry.take() {
                            if !was_bad {
                                return Some(found);
                            }
                            tokens.clear();
                        }
                    }
                }
                b';' => {
                    // The comment runs to the line break, which ends the entry.
                    self.pos = bytes
                        .get(self.pos..)
                        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                        .map_or(bytes.len(), |i| self.pos + i);
                }
                b' ' | b'\t' | b'\r' => {
                    if was_line_start {
                        line_starts_blank = c != b'\r';
                    }
                    self.pos += 1;
                }
                b'(' => {
                    self.pos += 1;
                    entry.get_or_insert((self.line, line_starts_blank));
                    depth += 1;
                }
                b')' => {
                    self.pos += 1;
                    if depth == 0 {
                        errors.push(ParseError {
                            line: self.line,
                            message: "\")\" without a matching \"(\"; remove it or add the \
                                      opening parenthesis"
                                .to_string(),
                        });
                        bad = true;
                    } else {
                        depth -= 1;
                    }
                }
                b'"' => {
                    let start = self.pos + 1;
                    let mut end = start;
                    let mut closed = false;
                    while let Some(&n) = bytes.get(end) {
                        match n {
                            b'\n' => break,
                            b'"' => {
                                closed = true;
                                break;
                            }
                            b'\\' if bytes.get(end + 1).is_some_and(|&e| e != b'\n') => end += 2,
                            _ => end += 1,
                        }
                    }
                    // Past the closing quote; an unclosed string stops
                    // before the line break.
                    self.pos = if closed { end + 1 } else { end };
                    if !closed {
                        errors.push(ParseError {
                            line: self.line,
                            message: "quoted string is not closed on this line; add the missing \
                                      \" (a string cannot span lines — use several strings \
                                      inside parentheses)"
                                .to_string(),
                        });
                        bad = true;
                    }
                    entry.get_or_insert((self.line, line_starts_blank));
                    tokens.push(Token {
                        text: text.get(start..end).unwrap_or(""),
                        quoted: true,
                        line: self.line,
                    });
                }
                _ => {
                    let start = self.pos;
                    let mut end = start;
                    while let Some(&n) = bytes.get(end) {
                        match n {
                            b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                            b'\\' if bytes.get(end + 1).is_some_and(|&e| e != b'\n') => end += 2,
                            _ => end += 1,
                        }
                    }
                    self.pos = end;
                    entry.get_or_insert((self.line, line_starts_blank));
                    tokens.push(Token {
                        text: text.get(start..end).unwrap_or(""),
                        quoted: false,
                        line: self.line,
                    });
                }
            }
        }
        let found = entry?;
        if depth > 0 && !self.last {
            (self.pos, self.line) = (start.0, start.1);
            errors.truncate(start.2);
            tokens.clear();
            None
        } else if depth > 0 {
            errors.push(ParseError {
                line: found.0,
                message: "\"(\" opened in this entry is never closed; add the matching \")\""
                    .to_string(),
            });
            None
        } else if bad {
            None
        } else {
            Some(found)
        }
    }
}

/// The owner that a line starting with blank space repeats.
enum PrevOwner {
    /// No record yet.
    None,
    /// The previous owner had an error (already reported).
    Failed,
    /// The previous entry's owner.
    Owned(Name),
}

/// Parse state carried across entries (and into `$INCLUDE`d files).
struct Parser<'s> {
    zone_origin: Name,
    opts: ParseOptions,
    /// Value of the most recent `$TTL`.
    dollar_ttl: Option<Ttl>,
    /// First `$TTL` of the file, which becomes the zone's default.
    first_dollar_ttl: Option<Ttl>,
    /// Last TTL written explicitly on a record (RFC 1035 default).
    last_explicit_ttl: Option<Ttl>,
    /// Owner repeated by lines starting with blank space.
    prev_owner: PrevOwner,
    soa: Option<(Soa, Ttl, usize)>,
    /// An SOA entry was seen, even one with errors; then "no SOA" would
    /// only repeat the error already reported for it.
    soa_attempted: bool,
    /// Takes each record without an error, with its line.
    each: &'s mut dyn FnMut(Record, u32),
    /// While reading an `$INCLUDE`d file: the line of the outermost
    /// `$INCLUDE`, which its records are reported on.
    include_line: Option<u32>,
    errors: Vec<ParseError>,
}

type Fail = (usize, String);

/// A line number as stored in [`ParsedZone::lines`].
fn line_u32(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// How much of a file is read at a time.
const PIECE: usize = 64 * 1024;

/// Reads until `buf` is full or the source ends; the number of octets read.
fn read_full(source: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match source.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Parser<'_> {
    fn err(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(ParseError {
            line,
            message: message.into(),
        });
    }

    /// Parses one file with `origin` as the initial `$ORIGIN`, a piece at a
    /// time: each entry is parsed as soon as the lexer has read it, and only
    /// the piece being read is held in memory. A read error is returned;
    /// text that is not UTF-8 is reported on its line.
    fn run(&mut self, source: &mut dyn Read, origin: &Name, depth: usize) -> std::io::Result<()> {
        let mut origin = origin.clone();
        // Lexical errors come first in the list, as when the whole file was
        // split into entries before any was parsed.
        let first_error = self.errors.len();
        let mut lex_errors = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut line = 1;
        let mut last = false;
        while !last {
            let old = buf.len();
            buf.resize(old + PIECE, 0);
            let read = read_full(source, buf.get_mut(old..).unwrap_or_default())?;
            buf.truncate(old + read);
            last = read < PIECE;
            // A piece ends with a line break, except the last.
            let end = if last {
                buf.len()
            } else {
                match buf.iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None => continue,
                }
            };
            let piece = buf.get(..end).unwrap_or_default();
            // Text that is not UTF-8 ends the file, after the lines before it.
            let (text, not_utf8) = match std::str::from_utf8(piece) {
                Ok(text) => (text, None),
                Err(e) => {
                    let valid = piece.get(..e.valid_up_to()).unwrap_or_default();
                    let breaks = valid.iter().filter(|&&b| b == b'\n').count();
                    let keep = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    let text = valid.get(..keep).and_then(|v| std::str::from_utf8(v).ok());
                    (text.unwrap_or_default(), Some(line + breaks))
                }
            };
            let mut lexer = Lexer::new(text, line, last && not_utf8.is_none());
            let mut tokens = Vec::with_capacity(16);
            while let Some((line, blank_owner)) = lexer.next_entry(&mut tokens, &mut lex_errors) {
                let entry = Entry {
                    line,
                    blank_owner,
                    tokens: &tokens,
                };
                let directive = !entry.blank_owner
                    && entry
                        .tokens
                        .first()
                        .is_some_and(|t| !t.quoted && t.text.starts_with('$'));
                if directive {
                    self.directive(&entry, &mut origin, depth);
                } else {
                    self.record(&entry, &origin);
                }
            }
            let (used, next_line) = (lexer.pos, lexer.line);
            drop(tokens);
            if let Some(at) = not_utf8 {
                self.err(
                    at,
                    "this line is not UTF-8 text; save the zone file as UTF-8 (names outside \
                     ASCII are written as xn-- or with \\DDD escapes)",
                );
                break;
            }
            buf.drain(..used);
            line = next_line;
        }
        if !lex_errors.is_empty() {
            let at = first_error.min(self.errors.len());
            self.errors.splice(at..at, lex_errors);
        }
        Ok(())
    }

    fn directive(&mut self, entry: &Entry, origin: &mut Name, depth: usize) {
        let line = entry.line;
        let Some((head, args)) = entry.tokens.split_first() else {
            return;
        };
        let keyword = head.text.to_ascii_uppercase();
        match keyword.as_str() {
            "$ORIGIN" => {
                let [arg] = args else {
                    self.err(
                        line,
                        "$ORIGIN needs exactly one domain name, e.g. $ORIGIN example.com.",
                    );
                    return;
                };
                match Name::parse_relative(arg.text, origin) {
                    Ok(n) => *origin = n,
                    Err(e) => self.err(line, format!("$ORIGIN: {e}")),
                }
            }
            "$TTL" => {
                let [arg] = args else {
                    self.err(line, "$TTL needs exactly one value, e.g. $TTL 1h");
                    return;
                };
                match Ttl::parse(arg.text) {
                    Ok(t) => {
                        self.dollar_ttl = Some(t);
                        self.first_dollar_ttl.get_or_insert(t);
                    }
                    Err(e) => self.err(line, format!("$TTL: {}", e.message)),
                }
            }
            "$INCLUDE" => self.include(line, args, origin, depth),
            "$GENERATE" => self.err(
                line,
                "$GENERATE is not supported; write the generated records out in full",
            ),
            _ => self.err(
                line,
                format!(
                    "unknown directive {}; only $ORIGIN, $TTL and $INCLUDE are understood",
                    head.text
                ),
            ),
        }
    }

    fn include(&mut self, line: usize, args: &[Token], origin: &Name, depth: usize) {
        if !self.opts.allow_include {
            self.err(
                line,
                "$INCLUDE is not allowed here: an uploaded zone file must be self-contained — \
                 paste the records of the included file in its place",
            );
            return;
        }
        let (file, new_origin) = match args {
            [file] => (file, origin.clone()),
            [file, o] => match Name::parse_relative(o.text, origin) {
                Ok(n) => (file, n),
                Err(e) => {
                    self.err(line, format!("$INCLUDE origin: {e}"));
                    return;
                }
            },
            _ => {
                self.err(line, "$INCLUDE needs a file name and optionally an origin");
                return;
            }
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.err(
                line,
                format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} deep; is a file including itself?"),
            );
            return;
        }
        // Errors inside the included file are reported on the $INCLUDE line
        // of this file, naming the included file's own line; so are its
        // records.
        let before = std::mem::take(&mut self.errors);
        let outer = self.include_line;
        self.include_line = Some(outer.unwrap_or(line_u32(line)));
        let read = std::fs::File::open(file.text)
            .and_then(|mut f| self.run(&mut f, &new_origin, depth + 1));
        self.include_line = outer;
        let inner = std::mem::replace(&mut self.errors, before);
        if let Err(e) = read {
            self.err(
                line,
                format!("$INCLUDE {}: cannot read the file ({e})", file.text),
            );
        }
        for e in inner {
            let message = format!(
                "in included file {} line {}: {}",
                file.text, e.line, e.message
            );
            self.err(line, message);
        }
    }

    fn record(&mut self, entry: &Entry, origin: &Name) {
        let line = entry.line;
        let mut toks = entry.tokens;
        // `owner` is None when its text was wrong (already reported): the
        // rest of the entry is still checked so that its errors show too.
        let owner: Option<Name> = if entry.blank_owner {
            match &self.prev_owner {
                PrevOwner::Owned(n) => Some(n.clone()),
                PrevOwner::Failed => None,
                PrevOwner::None => {
                    self.err(
                        line,
                        "this line starts with a space or tab, which repeats the previous \
                         owner name, but there is none yet; write the owner name at the start \
                         of the line",
                    );
                    None
                }
            }
        } else {
            let Some((first, rest)) = toks.split_first() else {
                return;
            };
            toks = rest;
            if first.quoted {
                self.err(line, "the owner name must not be in quotes");
                None
            } else {
                match Name::parse_relative(first.text, origin) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        self.err(line, format!("owner \"{}\": {e}", first.text));
                        None
                    }
                }
            }
        };
        let data = self.record_data(line, toks, owner.as_ref(), origin);
        let kept = match (owner, data) {
            (Some(owner), Some((ttl, rdata))) => {
                let kept = PrevOwner::Owned(owner.clone());
                let line = self.include_line.unwrap_or(line_u32(line));
                (self.each)(Record { owner, ttl, rdata }, line);
                kept
            }
            (Some(owner), None) => PrevOwner::Owned(owner),
            (None, _) => PrevOwner::Failed,
        };
        if !entry.blank_owner {
            self.prev_owner = kept;
        }
    }

    /// The rest of a record after its owner: TTL, class, type and RDATA,
    /// checked against the zone. `None` when the record is not to be kept:
    /// it has an error (reported) or it is the SOA (stored apart).
    fn record_data(
        &mut self,
        line: usize,
        mut toks: &[Token],
        owner: Option<&Name>,
        origin: &Name,
    ) -> Option<(Ttl, RData)> {
        let mut explicit_ttl: Option<Ttl> = None;
        let mut class_seen = false;
        let mut failed = false;
        let rtype = loop {
            let Some((tok, rest)) = toks.split_first() else {
                self.err(
                    line,
                    "the record has no type; expected e.g. \"www 3600 IN A 192.0.2.1\"",
                );
                return None;
            };
            if tok.quoted {
                self.err(
                    tok.line,
                    format!(
                        "expected a record type, found the quoted string \"{}\"",
                        tok.text
                    ),
                );
                return None;
            }
            let t = tok.text;
            if t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                if explicit_ttl.is_some() {
                    self.err(
                        tok.line,
                        format!("a second TTL \"{t}\"; give the TTL only once"),
                    );
                    failed = true;
                }
                match Ttl::parse(t) {
                    Ok(v) => explicit_ttl = Some(v),
                    Err(e) => {
                        self.err(tok.line, e.message);
                        failed = true;
                    }
                }
                toks = rest;
                continue;
            }
            if is_class(t) {
                if class_seen {
                    self.err(tok.line, "the class is given twice; write IN once");
                    failed = true;
                }
                if !t.eq_ignore_ascii_case("IN") {
                    self.err(
                        tok.line,
                        format!("class {t} is not supported; Stackyard serves only class IN"),
                    );
                    failed = true;
                }
                class_seen = true;
                toks = rest;
                continue;
            }
            toks = rest;
            match t.parse::<RecordType>() {
                Ok(rt) => break rt,
                Err(_) => {
                    let upper = t.to_ascii_uppercase();
                    let message = if upper
                        .strip_prefix("TYPE")
                        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    {
                        format!(
                            "generic type syntax {t} (RFC 3597) is not supported; write the \
                             record with its type name (A, AAAA, CNAME, MX, NS, PTR, TXT, SRV, \
                             CAA, SOA)"
                        )
                    } else {
                        format!(
                            "record type {t} is not supported; Stackyard manages A, AAAA, \
                             CNAME, MX, NS, PTR, TXT, SRV, CAA and SOA records"
                        )
                    };
                    self.err(tok.line, message);
                    return None;
                }
            }
        };

        if rtype == RecordType::Soa {
            self.soa_attempted = true;
        }
        if toks.first().is_some_and(|t| !t.quoted && t.text == "\\#") {
            self.err(
                line,
                format!(
                    "generic RDATA (\\# length hex, RFC 3597) is not supported; write the {rtype} \
                     data in its usual text form"
                ),
            );
            return None;
        }
        let rdata = match parse_rdata(rtype, toks, origin, line) {
            Ok(r) => r,
            Err((l, m)) => {
                self.err(l, m);
                return None;
            }
        };
        let owner = owner?;
        if failed {
            return None;
        }

        let ttl = if let Some(t) = explicit_ttl {
            self.last_explicit_ttl = Some(t);
            t
        } else if let Some(t) = self.dollar_ttl.or(self.last_explicit_ttl) {
            t
        } else if let RData::Soa(s) = &rdata {
            // Pre-RFC 2308 files: BIND takes the SOA minimum when nothing
            // else gives a TTL.
            match Ttl::new(s.minimum) {
                Ok(t) => t,
                Err(e) => {
                    self.err(line, e.message);
                    return None;
                }
            }
        } else {
            self.err(
                line,
                "this record has no TTL and no $TTL line precedes it; give the record a TTL or \
                 add \"$TTL 3600\" at the top of the file",
            );
            return None;
        };

        if !owner.is_subdomain_of(&self.zone_origin) {
            self.err(
                line,
                format!(
                    "{owner} is outside the zone {}; check the $ORIGIN line and trailing dots",
                    self.zone_origin
                ),
            );
            return None;
        }

        if let RData::Soa(soa) = rdata {
            if *owner != self.zone_origin {
                self.err(
                    line,
                    format!(
                        "the SOA record must be at the zone apex {}, not at {owner}",
                        self.zone_origin
                    ),
                );
            } else if let Some((_, _, first)) = &self.soa {
                let first = *first;
                self.err(
                    line,
                    format!("a second SOA record; a zone has exactly one (the first is on line {first})"),
                );
            } else {
                self.soa = Some((soa, ttl, line));
            }
            return None;
        }
        Some((ttl, rdata))
    }
}

fn is_class(t: &str) -> bool {
    ["IN", "CH", "CS", "HS", "NONE", "ANY"]
        .iter()
        .any(|c| t.eq_ignore_ascii_case(c))
        || t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("CLASS"))
            && t.get(5..)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks the RDATA token count, naming the expected fields.
fn expect<'a, 't>(
    toks: &'a [Token<'t>],
    n: usize,
    rtype: RecordType,
    fields: &str,
    line: usize,
) -> Result<&'a [Token<'t>], Fail> {
    if toks.len() == n {
        Ok(toks)
    } else {
        let found = toks.len();
        Err((
            toks.get(n).map_or(line, |t| t.line),
            format!(
                "{rtype} needs {n} value{} ({fields}), found {found}",
                if n == 1 { "" } else { "s" }
            ),
        ))
    }
}

fn name_tok(tok: &Token, origin: &Name, what: &dyn std::fmt::Display) -> Result<Name, Fail> {
    if tok.quoted {
        return Err((
            tok.line,
            format!("{what} must be a domain name, not a quoted string"),
        ));
    }
    Name::parse_relative(tok.text, origin)
        .map_err(|e| (tok.line, format!("{what} \"{}\": {e}", tok.text)))
}

fn u16_tok(tok: &Token, what: &str) -> Result<u16, Fail> {
    tok.text.parse::<u16>().map_err(|_| {
        (
            tok.line,
            format!(
                "{what} must be a number from 0 to 65535, not \"{}\"",
                tok.text
            ),
        )
    })
}

fn timer_tok(tok: &Token, what: &str) -> Result<u32, Fail> {
    let v = parse_duration(tok.text).map_err(|m| (tok.line, format!("SOA {what}: {m}")))?;
    if v > u64::from(Ttl::MAX) {
        return Err((tok.line, soa_timer_too_large(what, v)));
    }
    u32::try_from(v).map_err(|_| (tok.line, soa_timer_too_large(what, v)))
}

fn parse_rdata(
    rtype: RecordType,
    toks: &[Token],
    origin: &Name,
    line: usize,
) -> Result<RData, Fail> {
    match rtype {
        RecordType::A | RecordType::Aaaa => {
            let [addr] = expect(toks, 1, rtype, "the address", line)? else {
                return Err((line, format!("{rtype} needs an address")));
            };
            address_rdata(rtype, addr.text).map_err(|e| (addr.line, e.message))
        }
        RecordType::Cname | RecordType::Ns | RecordType::Ptr => {
            let [target] = expect(toks, 1, rtype, "the target name", line)? else {
                return Err((line, format!("{rtype} needs a target name")));
            };
            let n = name_tok(target, origin, &format_args!("{rtype} target"))?;
            Ok(match rtype {
                RecordType::Cname => RData::Cname(n),
                RecordType::Ns => RData::Ns(n),
                _ => RData::Ptr(n),
            })
        }
        RecordType::Mx => {
            let [pref, exch] = expect(toks, 2, rtype, "preference and mail server", line)? else {
                return Err((line, "MX needs a preference and a mail server".to_string()));
            };
            Ok(RData::Mx {
                preference: u16_tok(pref, "MX preference")?,
                exchange: name_tok(exch, origin, &"MX mail server")?,
            })
        }
        RecordType::Srv => {
            let [pri, wei, port, target] =
                expect(toks, 4, rtype, "priority, weight, port and target", line)?
            else {
                return Err((
                    line,
                    "SRV needs priority, weight, port and target".to_string(),
                ));
            };
            Ok(RData::Srv {
                priority: u16_tok(pri, "SRV priority")?,
                weight: u16_tok(wei, "SRV weight")?,
                port: u16_tok(port, "SRV port")?,
                target: name_tok(target, origin, &"SRV target")?,
            })
        }
        RecordType::Caa => {
            let [flags, tag, value] = expect(toks, 3, rtype, "flags, tag and value", line)? else {
                return Err((line, "CAA needs flags, tag and value".to_string()));
            };
            let f = flags.text.parse::<u8>().map_err(|_| {
                (
                    flags.line,
                    format!(
                        "CAA flags must be a number from 0 to 255, not \"{}\"",
                        flags.text
                    ),
                )
            })?;
            if tag.quoted
                || tag.text.is_empty()
                || tag.text.len() > 15
                || !tag.text.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err((
                    tag.line,
                    format!(
                        "CAA tag \"{}\" must be 1 to 15 letters or digits, e.g. issue, \
                         issuewild or iodef",
                        tag.text
                    ),
                ));
            }
            let v = decode_escapes(value.text).map_err(|m| (value.line, m))?;
            Ok(RData::Caa {
                flags: f,
                tag: tag.text.to_ascii_lowercase(),
                value: v,
            })
        }
        RecordType::Txt => {
            if toks.is_empty() {
                return Err((
                    line,
                    "TXT needs at least one string, e.g. \"v=spf1 mx ~all\"".to_string(),
                ));
            }
            let mut strings = Vec::with_capacity(toks.len());
            for (i, t) in toks.iter().enumerate() {
                let bytes = decode_escapes(t.text).map_err(|m| (t.line, m))?;
                if bytes.len() > MAX_STRING_LEN {
                    return Err((
                        t.line,
                        format!(
                            "TXT string {} is {} octets long; a string in a zone file may have \
                             at most {MAX_STRING_LEN} — split it into several quoted strings",
                            i + 1,
                            bytes.len()
                        ),
                    ));
                }
                strings.push(bytes);
            }
            Ok(RData::Txt(strings))
        }
        RecordType::Soa => {
            let [mname, rname, serial, refresh, retry, expire, minimum] = expect(
                toks,
                7,
                rtype,
                "primary server, mailbox, serial, refresh, retry, expire, minimum",
                line,
            )?
            else {
                return Err((line, "SOA needs 7 values".to_string()));
            };
            let serial_v = serial.text.parse::<u32>().map_err(|_| {
                (
                    serial.line,
                    format!(
                        "SOA serial must be a number from 0 to 4294967295, not \"{}\"",
                        serial.text
                    ),
                )
            })?;
            Ok(RData::Soa(Soa {
                mname: name_tok(mname, origin, &"SOA primary server")?,
                rname: name_tok(rname, origin, &"SOA mailbox")?,
                serial: serial_v,
                refresh: timer_tok(refresh, "refresh")?,
                retry: timer_tok(retry, "retry")?,
                expire: timer_tok(expire, "expire")?,
                minimum: timer_tok(minimum, "minimum")?,
            }))
        }
    }
}

/// A zone parsed from a master file, with the line each record is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedZone {
    /// The zone.
    pub zone: Zone,
    /// The 1-based line of each of `zone.records` (same index). Records of
    /// an `$INCLUDE`d file are on the line of the `$INCLUDE`.
    pub lines: Vec<u32>,
}

impl ParsedZone {
    /// The line of the record `problem` concerns, as nsd-checkzone names
    /// it; 0 for problems of the zone itself (SOA timers, default TTL).
    pub fn line_of(&self, problem: &ZoneProblem) -> usize {
        problem
            .record
            .and_then(|i| self.lines.get(i))
            .map_or(0, |&l| usize::try_from(l).unwrap_or(usize::MAX))
    }
}

/// Parses a master file for the zone at `origin`.
///
/// Supports `$ORIGIN`, `$TTL`, `$INCLUDE` (only with
/// [`ParseOptions::allow_include`]), `@`, omitted owners, parentheses,
/// comments, quoted strings and escapes, TTL and class in either order, TTL
/// units, and the record types of [`RecordType`]. All errors are returned,
/// each with its line; no partial zone is returned when there are any.
pub fn parse_zone(origin: &Name, text: &str, opts: ParseOptions) -> Result<Zone, Vec<ParseError>> {
    parse_zone_with_lines(origin, text, opts).map(|p| p.zone)
}

/// [`parse_zone`], keeping the line of every record so that whole-zone
/// problems ([`crate::dns::zone::validate_zone`]) can name it too
/// ([`ParsedZone::line_of`]).
///
/// The file is read in one pass: each entry is parsed as soon as the lexer
/// has read it, and its tokens are slices of `text`.
pub fn parse_zone_with_lines(
    origin: &Name,
    text: &str,
    opts: ParseOptions,
) -> Result<ParsedZone, Vec<ParseError>> {
    // A record takes at least one line: room for all of them up front
    // spares the copies of a growing vector (pages never written cost no
    // memory).
    let max_records = text.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut records = Vec::with_capacity(max_records);
    let mut lines = Vec::with_capacity(max_records);
    let head = parse_zone_records(origin, &mut text.as_bytes(), opts, &mut |record, line| {
        records.push(record);
        lines.push(line);
    })
    // Reading from memory cannot fail.
    .unwrap_or_else(|e| {
        Err(vec![ParseError {
            line: 0,
            message: e.to_string(),
        }])
    })?;
    Ok(ParsedZone {
        zone: Zone {
            origin: origin.clone(),
            default_ttl: head.default_ttl,
            soa_ttl: head.soa_ttl,
            soa: head.soa,
            records,
        },
        lines,
    })
}

/// What a zone file says besides its records: the zone's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneHead {
    /// The first `$TTL`, or the SOA's TTL without one.
    pub default_ttl: Ttl,
    /// TTL of the SOA record.
    pub soa_ttl: Ttl,
    /// SOA data.
    pub soa: Soa,
}

/// The parser of [`parse_zone_with_lines`] reading from `source` and
/// handing each record to `each` with its line as soon as it is read, so
/// that a large file can be checked without holding it or its records
/// (`stackyard zone check` streams it into a
/// [`crate::dns::zone::validate::ZoneCheck`]).
///
/// `each` also sees the records of a file that turns out to have errors:
/// the caller keeps nothing unless the result is `Ok`. The outer error is
/// a failure to read `source`.
pub fn parse_zone_records(
    origin: &Name,
    source: &mut dyn Read,
    opts: ParseOptions,
    each: &mut dyn FnMut(Record, u32),
) -> std::io::Result<Result<ZoneHead, Vec<ParseError>>> {
    let mut p = Parser {
        zone_origin: origin.clone(),
        opts,
        dollar_ttl: None,
        first_dollar_ttl: None,
        last_explicit_ttl: None,
        prev_owner: PrevOwner::None,
        soa: None,
        soa_attempted: false,
        each,
        include_line: None,
        errors: Vec::new(),
    };
    p.run(source, origin, 0)?;
    let Some((soa, soa_ttl, _)) = p.soa.take() else {
        if !p.soa_attempted {
            p.err(
                0,
                format!(
                    "the zone has no SOA record; add one at the apex, e.g. \"@ IN SOA ns1.{origin} \
                     hostmaster.{origin} ( 1 7200 3600 1209600 300 )\""
                ),
            );
        }
        return Ok(Err(p.errors));
    };
    if !p.errors.is_empty() {
        return Ok(Err(p.errors));
    }
    Ok(Ok(ZoneHead {
        default_ttl: p.first_dollar_ttl.unwrap_or(soa_ttl),
        soa_ttl,
        soa,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn origin() -> Name {
        n("example.com.")
    }

    fn parse(text: &str) -> Result<Zone, Vec<ParseError>> {
        parse_zone(&origin(), text, ParseOptions::default())
    }

    fn errors(text: &str) -> Vec<(usize, String)> {
        parse(text)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.message))
            .collect()
    }

    const SOA: &str = "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n";

    fn find<'a>(z: &'a Zone, owner: &str, t: RecordType) -> Vec<&'a RData> {
        let o = n(owner);
        z.records
            .iter()
            .filter(|r| r.owner == o && r.rtype() == t)
            .map(|r| &r.rdata)
            .collect()
    }

    #[test]
    fn full_featured_file() {
        let text = r#"; Example zone exported from another provider
$ORIGIN example.com.
$TTL 1h
@   IN  SOA ns1.example.com. hostmaster.example.com. (
            2024010101 ; serial
            2h         ; refresh
            1H         ; retry
            2w         ; expire
            5m )       ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.net.
    IN  MX  10 mail
    IN  MX  20 mail.backup.example.org.
@   300 IN  A   192.0.2.1
    IN 300  AAAA 2001:db8::1
www 1d  A   192.0.2.2
www IN  A   192.0.2.3
ftp     CNAME www
mail    A   192.0.2.25
ns1     A   192.0.2.53
_sip._tcp  SRV 10 60 5060 sip
@       CAA 0 issue "letsencrypt.org"
@       CAA 128 iodef "mailto:security@example.com"
esc     TXT "quote \" backslash \\ byte \007 end" unquoted\032word
a\.b    A   192.0.2.9
$ORIGIN sub.example.com.
host    A   192.0.2.10
$TTL 2d
later   A   192.0.2.11
"#;
        let z = parse(text).unwrap();
        assert_eq!(z.origin, origin());
        assert_eq!(z.default_ttl, Ttl(3600));
        assert_eq!(z.soa_ttl, Ttl(3600));
        assert_eq!(
            z.soa,
            Soa {
                mname: n("ns1.example.com."),
                rname: n("hostmaster.example.com."),
                serial: 2024010101,
                refresh: 7200,
                retry: 3600,
                expire: 1_209_600,
                minimum: 300,
            }
        );
        assert_eq!(
            find(&z, "example.com.", RecordType::Ns),
            vec![
                &RData::Ns(n("ns1.example.com.")),
                &RData::Ns(n("ns2.example.net."))
            ]
        );
        assert_eq!(find(&z, "example.com.", RecordType::Mx).len(), 2);
        let apex_a: Vec<&Record> = z
            .records
            .iter()
            .filter(|r| r.rtype() == RecordType::A && r.owner == origin())
            .collect();
        assert_eq!(apex_a[0].ttl, Ttl(300));
        let aaaa: Vec<&Record> = z
            .records
            .iter()
            .filter(|r| r.rtype() == RecordType::Aaaa)
            .collect();
        assert_eq!(aaaa[0].owner, origin(), "blank owner repeats @");
        assert_eq!(aaaa[0].ttl, Ttl(300), "TTL after class");
        assert_eq!(
            aaaa[0].rdata,
            RData::Aaaa("2001:db8::1".parse::<Ipv6Addr>().unwrap())
        );
        let www: Vec<Ttl> = z
            .records
            .iter()
            .filter(|r| r.owner == n("www.example.com."))
            .map(|r| r.ttl)
            .collect();
        assert_eq!(
            www,
            vec![Ttl(86_400), Ttl(3600)],
            "$TTL applies, not the last TTL"
        );
        assert_eq!(
            find(&z, "ftp.example.com.", RecordType::Cname),
            vec![&RData::Cname(n("www.example.com."))]
        );
        assert_eq!(
            find(&z, "_sip._tcp.example.com.", RecordType::Srv),
            vec![&RData::Srv {
                priority: 10,
                weight: 60,
                port: 5060,
                target: n("sip.example.com.")
            }]
        );
        assert_eq!(find(&z, "example.com.", RecordType::Caa).len(), 2);
        assert_eq!(
            find(&z, "esc.example.com.", RecordType::Txt),
            vec![&RData::Txt(vec![
                b"quote \" backslash \\ byte \x07 end".to_vec(),
                b"unquoted word".to_vec()
            ])]
        );
        assert_eq!(find(&z, "a\\.b.example.com.", RecordType::A).len(), 1);
        assert_eq!(
            find(&z, "host.sub.example.com.", RecordType::A),
            vec![&RData::A(Ipv4Addr::new(192, 0, 2, 10))]
        );
        let later = z
            .records
            .iter()
            .find(|r| r.owner == n("later.sub.example.com."))
            .unwrap();
        assert_eq!(later.ttl, Ttl(172_800));
        assert_eq!(z.records.len(), 18);
    }

    #[test]
    fn paper_records() {
        let dkim = crate::dns::zone::txt::tests::DKIM_2048;
        let (a, b) = dkim.split_at(255);
        let text = format!(
            "$TTL 3600\n{SOA}\
             @ IN TXT \"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all\"\n\
             @ IN TXT google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U\n\
             default._domainkey IN TXT ( \"{a}\"\n    \"{b}\" )\n\
             _dmarc IN TXT \"v=DMARC1; p=none\"\n"
        );
        let z = parse(&text).unwrap();
        let apex = find(&z, "example.com.", RecordType::Txt);
        assert_eq!(
            apex,
            vec![
                &RData::Txt(vec![
                    b"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all".to_vec()
                ]),
                &RData::Txt(vec![
                    b"google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U"
                        .to_vec()
                ]),
            ]
        );
        let key = find(&z, "default._domainkey.example.com.", RecordType::Txt);
        let RData::Txt(parts) = key[0] else {
            panic!("not TXT")
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(parts.concat(), dkim.as_bytes());
        assert_eq!(
            find(&z, "_dmarc.example.com.", RecordType::Txt),
            vec![&RData::Txt(vec![b"v=DMARC1; p=none".to_vec()])]
        );
    }

    #[test]
    fn all_errors_are_collected_with_lines() {
        let text = "$TTL 3600\n\
                    @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n\
                    www IN A 2001:db8::1\n\
                    ok IN A 192.0.2.1\n\
                    mx IN MX 70000 mail\n\
                    bad..name IN A 192.0.2.2\n\
                    ch CH TXT \"chaos\"\n\
                    gen IN TYPE65 \\# 0\n\
                    hinfo IN HINFO \"pc\" \"linux\"\n\
                    $INCLUDE other.zone\n\
                    srv IN SRV 1 2 mail\n\
                    ttl 99999999999 IN A 192.0.2.3\n";
        let e = errors(text);
        let lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![3, 5, 6, 7, 8, 9, 10, 11, 12], "{e:#?}");
        assert_eq!(
            e[0].1,
            "2001:db8::1 is an IPv6 address; an A record needs an IPv4 address such as \
             192.0.2.1 — use an AAAA record for IPv6"
        );
        assert_eq!(
            e[1].1,
            "MX preference must be a number from 0 to 65535, not \"70000\""
        );
        assert!(e[2]
            .1
            .starts_with("owner \"bad..name\": the name has an empty label"));
        assert_eq!(
            e[3].1,
            "class CH is not supported; Stackyard serves only class IN"
        );
        assert!(e[4]
            .1
            .starts_with("generic type syntax TYPE65 (RFC 3597) is not supported"));
        assert!(e[5].1.starts_with("record type HINFO is not supported"));
        assert_eq!(
            e[6].1,
            "$INCLUDE is not allowed here: an uploaded zone file must be self-contained — paste \
             the records of the included file in its place"
        );
        assert_eq!(
            e[7].1,
            "SRV needs 4 values (priority, weight, port and target), found 3"
        );
        assert!(e[8]
            .1
            .starts_with("TTL 99999999999 is larger than 2147483647"));
    }

    #[test]
    fn generic_rdata_refused() {
        let e = errors(&format!("$TTL 1h\n{SOA}x IN A \\# 4 C0000201\n"));
        assert_eq!(
            e,
            vec![(
                3,
                "generic RDATA (\\# length hex, RFC 3597) is not supported; write the A data in \
                 its usual text form"
                    .to_string()
            )]
        );
    }

    #[test]
    fn soa_fields_checked() {
        let e = errors("$TTL 1h\n@ IN SOA ns1 hostmaster (\n x 7200\n 3600 4000000000 300 )\n");
        assert_eq!(
            e,
            vec![(
                3,
                "SOA serial must be a number from 0 to 4294967295, not \"x\"".to_string()
            )]
        );
        let e = errors("$TTL 1h\n@ IN SOA ns1 hostmaster (\n 1 7200\n 3600 4000000000 300 )\n");
        assert_eq!(
            e,
            vec![(
                4,
                "SOA expire 4000000000 is larger than 2147483647 (2^31 − 1), the largest time \
                 value name servers accept"
                    .to_string()
            )]
        );
    }

    #[test]
    fn missing_and_duplicate_soa() {
        let e = errors("$TTL 1h\nwww A 192.0.2.1\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 0);
        assert!(e[0].1.starts_with("the zone has no SOA record"));
        let e = errors(&format!("$TTL 1h\n{SOA}{SOA}"));
        assert_eq!(
            e,
            vec![(
                3,
                "a second SOA record; a zone has exactly one (the first is on line 2)".to_string()
            )]
        );
        let e = errors(
            "$TTL 1h\nwww IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n",
        );
        assert_eq!(
            e,
            vec![(
                2,
                "the SOA record must be at the zone apex example.com., not at www.example.com."
                    .to_string()
            )]
        );
    }

    #[test]
    fn ttl_defaults() {
        // No $TTL: the SOA takes its minimum, later records the last explicit TTL.
        let z = parse(
            "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n\
                       a 600 A 192.0.2.1\nb A 192.0.2.2\n",
        )
        .unwrap();
        assert_eq!(z.soa_ttl, Ttl(300));
        assert_eq!(z.default_ttl, Ttl(300));
        assert_eq!(z.records[1].ttl, Ttl(600));
        let e = errors("a A 192.0.2.1\n@ 60 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n");
        assert_eq!(
            e,
            vec![(
                1,
                "this record has no TTL and no $TTL line precedes it; give the record a TTL or \
                 add \"$TTL 3600\" at the top of the file"
                    .to_string()
            )]
        );
    }

    #[test]
    fn lexical_errors() {
        let e = errors(&format!(
            "$TTL 1h\n{SOA}t TXT \"open\nu A 192.0.2.1 )\nv A (192.0.2.1\n"
        ));
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].0, 3);
        assert!(e[0]
            .1
            .starts_with("quoted string is not closed on this line"));
        assert_eq!(e[1].0, 4);
        assert!(e[1].1.starts_with("\")\" without a matching \"(\""));
        assert_eq!(
            e[2],
            (
                5,
                "\"(\" opened in this entry is never closed; add the matching \")\"".to_string()
            )
        );
    }

    #[test]
    fn blank_owner_without_previous() {
        let e = errors("$TTL 1h\n  A 192.0.2.1\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 2);
        assert!(e[0].1.starts_with("this line starts with a space or tab"));
    }

    #[test]
    fn long_txt_string_in_file() {
        let long = "x".repeat(300);
        let e = errors(&format!("$TTL 1h\n{SOA}t TXT \"{long}\"\n"));
        assert_eq!(
            e,
            vec![(
                3,
                "TXT string 1 is 300 octets long; a string in a zone file may have at most 255 \
                 — split it into several quoted strings"
                    .to_string()
            )]
        );
    }

    #[test]
    fn out_of_zone_and_wrong_counts() {
        let e = errors(&format!(
            "$TTL 1h\n{SOA}www.example.org. A 192.0.2.1\nx A 1.2.3.4 5.6.7.8\nx MX 10\n$ORIGIN\n$FOO bar\n"
        ));
        assert_eq!(
            e,
            vec![
                (3, "www.example.org. is outside the zone example.com.; check the $ORIGIN line and trailing dots".to_string()),
                (4, "A needs 1 value (the address), found 2".to_string()),
                (5, "MX needs 2 values (preference and mail server), found 1".to_string()),
                (6, "$ORIGIN needs exactly one domain name, e.g. $ORIGIN example.com.".to_string()),
                (7, "unknown directive $FOO; only $ORIGIN, $TTL and $INCLUDE are understood".to_string()),
            ]
        );
    }

    #[test]
    fn whole_zone_problems_name_the_breaking_records_line() {
        let text = "$TTL 1h\n\
                    @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n\
                    \x20 IN NS ns1\n\
                    ns1 A 192.0.2.53\n\
                    ; a comment line\n\
                    www A 192.0.2.1\n\
                    www CNAME web.example.net.\n\
                    alias CNAME www\n\
                    alias TXT ( \"spans\"\n\
                    \x20  \"lines\" )\n\
                    @ MX 10 alias\n\
                    ns1 A 192.0.2.53\n\
                    two CNAME a.example.net.\n\
                    two CNAME b.example.net.\n";
        let parsed = parse_zone_with_lines(&origin(), text, ParseOptions::default()).unwrap();
        assert_eq!(parsed.lines.len(), parsed.zone.records.len());
        let located: Vec<(usize, String)> = crate::dns::zone::validate_zone(&parsed.zone)
            .iter()
            .map(|p| (parsed.line_of(p), p.message.clone()))
            .collect();
        let lines: Vec<usize> = located.iter().map(|(l, _)| *l).collect();
        // The CNAME after the A (7), the TXT after the CNAME (9, where its
        // entry starts), the second CNAME (14), the MX whose target is an
        // alias (11), the duplicate A (12): always the record that breaks
        // the rule, never the first one seen.
        assert_eq!(lines, vec![7, 9, 14, 11, 12], "{located:#?}");
        assert!(located[0]
            .1
            .starts_with("www.example.com. has a CNAME and also A"));
        assert!(located[1]
            .1
            .starts_with("alias.example.com. has a CNAME and also TXT"));
        assert!(located[2]
            .1
            .starts_with("two.example.com. has 2 CNAME records"));
        assert!(located[3]
            .1
            .starts_with("MX target alias.example.com. is an alias"));
        assert!(located[4]
            .1
            .starts_with("duplicate record: ns1.example.com. A"));

        // A CNAME at the apex is found on its own line.
        let apex = format!("$TTL 1h\n{SOA}\n@ CNAME other.example.net.\n");
        let parsed = parse_zone_with_lines(&origin(), &apex, ParseOptions::default()).unwrap();
        let p = crate::dns::zone::validate_zone(&parsed.zone);
        assert!(p[0]
            .message
            .starts_with("a CNAME cannot be at the zone apex"));
        assert_eq!(parsed.line_of(&p[0]), 4);
    }

    /// A source that hands out at most `step` octets per read.
    struct Trickle<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.rest.len());
            let (head, tail) = self.rest.split_at(n);
            buf[..n].copy_from_slice(head);
            self.rest = tail;
            Ok(n)
        }
    }

    #[test]
    fn a_file_read_a_piece_at_a_time_gives_the_same_records_and_lines() {
        // Entries in parentheses over three lines, placed so that the end
        // of the first piece falls before, inside and after one of them.
        for shift in 0..40 {
            let mut text = format!("$TTL 1h\n{SOA}");
            let filler = "h IN A 192.0.2.1 ; filler\n";
            while text.len() + filler.len() < PIECE - shift * 3 {
                text.push_str(filler);
            }
            text.push_str(
                "t IN TXT ( \"one\"\n  \"two\" ; (\n  \"three\" )\nafter IN A 192.0.2.9\n",
            );
            let whole = parse_zone_with_lines(&origin(), &text, ParseOptions::default());
            let mut records = Vec::new();
            let mut source = Trickle {
                rest: text.as_bytes(),
                step: 1000 + shift,
            };
            let head = parse_zone_records(
                &origin(),
                &mut source,
                ParseOptions::default(),
                &mut |r, line| records.push((r, line)),
            )
            .unwrap();
            // The filler repeats one record: the duplicate check is not
            // the parser's, so both parses keep every copy.
            let whole = whole.unwrap();
            assert!(head.is_ok(), "{head:?}");
            let (streamed, lines): (Vec<Record>, Vec<u32>) = records.into_iter().unzip();
            assert_eq!(streamed, whole.zone.records, "shift {shift}");
            assert_eq!(lines, whole.lines, "shift {shift}");
            let n = lines.len();
            let txt = &streamed[n - 2];
            assert_eq!(
                txt.rdata,
                RData::Txt(vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()])
            );
            assert_eq!(lines[n - 1] - lines[n - 2], 3, "the TXT spans three lines");
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let mut bytes = format!("$TTL 1h\n{SOA}ok IN A 192.0.2.1\n").into_bytes();
        bytes.extend_from_slice(b"caf\xe9 IN A 192.0.2.2\n");
        let errors = parse_zone_records(
            &origin(),
            &mut bytes.as_slice(),
            ParseOptions::default(),
            &mut |_, _| {},
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].message.contains("not UTF-8"), "{errors:?}");
    }

    #[test]
    fn include_when_allowed() {
        let dir = std::env::temp_dir().join(format!("dnszone-inc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inc = dir.join("hosts.inc");
        std::fs::write(&inc, "h1 A 192.0.2.1\nh2 A 999.0.0.1\n").unwrap();
        let text = format!(
            "$TTL 1h\n{SOA}$INCLUDE {} sub.example.com.\nafter A 192.0.2.3\n",
            inc.display()
        );
        let opts = ParseOptions {
            allow_include: true,
        };
        let e = parse_zone(&origin(), &text, opts).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 3);
        assert!(
            e[0].message
                .contains("line 2: \"999.0.0.1\" is not an IPv4 address"),
            "{}",
            e[0].message
        );
        std::fs::write(&inc, "h1 A 192.0.2.1\n").unwrap();
        let z = parse_zone(&origin(), &text, opts).unwrap();
        assert_eq!(z.records[0].owner, n("h1.sub.example.com."));
        assert_eq!(
            z.records[1].owner,
            n("after.example.com."),
            "origin restored after include"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
