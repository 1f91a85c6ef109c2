//! `stackyard zone check ORIGIN FILE` and `stackyard zone fmt ORIGIN FILE`:
//! the console's own zone-file parser and checks, without a server. `check`
//! lists every problem with its line (exit 1), `fmt` prints the canonical
//! rendering Stackyard would write for NSD.

use app::dns::zone::{
    parse_zone_records, parse_zone_with_lines, render_zone, validate_zone, Name, ParseError,
    ParseOptions, ParsedZone, ZoneCheck,
};
use std::path::Path;

/// Every problem in the file, as `FILE:LINE: message` lines; empty when valid.
/// Problems that concern the whole zone name the line of the record that
/// breaks the rule, as nsd-checkzone does; only those of the zone itself
/// (SOA timers, default TTL) have no line.
///
/// The file is streamed: each record is checked as it is read and then
/// dropped, so memory holds a fixed-size key per name and per record (see
/// [`ZoneCheck`]), not the file or its records.
pub fn check(origin: &str, file: &Path) -> Result<Vec<String>, String> {
    let origin = Name::parse(origin).map_err(|e| format!("origin {origin:?}: {e}"))?;
    let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", file.display());
    let mut source = std::io::BufReader::new(std::fs::File::open(file).map_err(cannot_read)?);
    let mut check = ZoneCheck::new(&origin);
    let mut lines = Vec::new();
    let head = parse_zone_records(&origin, &mut source, OPTIONS, &mut |record, line| {
        check.push(&record);
        lines.push(line);
    })
    .map_err(cannot_read)?;
    Ok(match head {
        Ok(head) => check
            .finish(head.default_ttl, head.soa_ttl, &head.soa)
            .into_iter()
            .map(|p| {
                let line = p.record.and_then(|i| lines.get(i)).copied().unwrap_or(0);
                at_line(file, line.try_into().unwrap_or(usize::MAX), &p.message)
            })
            .collect(),
        Err(errors) => located(file, errors),
    })
}

/// `FILE:LINE: message`, or `FILE: message` for line 0 (the whole file).
fn at_line(file: &Path, line: usize, message: &str) -> String {
    match line {
        0 => format!("{}: {message}", file.display()),
        line => format!("{}:{line}: {message}", file.display()),
    }
}

fn located(file: &Path, errors: Vec<ParseError>) -> Vec<String> {
    errors
        .iter()
        .map(|e| at_line(file, e.line, &e.message))
        .collect()
}

/// On the command line the file is the operator's own: $INCLUDE may read
/// beside it. Uploads through the console never may.
const OPTIONS: ParseOptions = ParseOptions {
    allow_include: true,
};

/// The canonical rendering, or every problem when the file is not valid.
pub fn fmt(origin: &str, file: &Path) -> Result<Result<String, Vec<String>>, String> {
    Ok(match load(origin, file)? {
        Ok(parsed) => {
            let problems = problems(&parsed, file);
            if problems.is_empty() {
                Ok(render_zone(&parsed.zone))
            } else {
                Err(problems)
            }
        }
        Err(errors) => Err(errors),
    })
}

/// The whole-zone problems of a parsed file, each on its line.
fn problems(parsed: &ParsedZone, file: &Path) -> Vec<String> {
    validate_zone(&parsed.zone)
        .iter()
        .map(|p| at_line(file, parsed.line_of(p), &p.message))
        .collect()
}

fn load(origin: &str, file: &Path) -> Result<Result<ParsedZone, Vec<String>>, String> {
    let origin = Name::parse(origin).map_err(|e| format!("origin {origin:?}: {e}"))?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    Ok(parse_zone_with_lines(&origin, &text, OPTIONS).map_err(|errors| located(file, errors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    const GOOD: &str = "$TTL 1h\n@ IN SOA ns1 hostmaster ( 2026112401 7200 3600 1209600 3600 )\n  IN NS ns1\nns1 IN A 192.0.2.53\n@ IN TXT \"v=spf1 +a +mx +ptr +ip4:1.2.3.6 include:mail.anydomain.com ~all\"\n";

    #[test]
    fn a_good_zone_checks_and_formats() {
        let f = file(GOOD);
        assert_eq!(
            check("anydomain.com.", f.path()).unwrap(),
            Vec::<String>::new()
        );
        let out = fmt("anydomain.com", f.path()).unwrap().unwrap();
        assert!(out.contains("$ORIGIN anydomain.com."), "{out}");
        assert!(out.contains("v=spf1 +a +mx +ptr +ip4:1.2.3.6"), "{out}");
        // The canonical form is a fixed point.
        let again = file(&out);
        assert_eq!(fmt("anydomain.com", again.path()).unwrap().unwrap(), out);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let f = file(&format!(
            "{GOOD}www IN A 300.1.1.1\nmail IN MX ten mail\nx IN CNAME www\nx IN A 192.0.2.1\n"
        ));
        let problems = check("anydomain.com", f.path()).unwrap();
        let name = f.path().display().to_string();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("{name}:6: "))),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("{name}:7: "))),
            "{problems:?}"
        );
        assert!(fmt("anydomain.com", f.path()).unwrap().is_err());
    }

    #[test]
    fn validation_problems_name_the_record() {
        let f = file(&format!("{GOOD}x IN CNAME ns1\nx IN A 192.0.2.1\n"));
        let problems = check("anydomain.com", f.path()).unwrap();
        assert!(!problems.is_empty());
        assert!(
            problems.iter().all(|p| p.contains("x.anydomain.com.")),
            "{problems:?}"
        );
    }
}
