//! `stackyard zone check` as a user runs it: the real binary, its output and
//! its exit status. A rule that concerns the whole zone names the line of
//! the record that breaks it, as nsd-checkzone does (`:7: CNAME and other
//! data at the same name`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn zone_check(origin: &str, text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zone.db");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stackyard"))
        .args(["zone", "check", origin])
        .arg(&file)
        .output()
        .unwrap();
    let file = file.display().to_string();
    // The file's path is the same on every line: keep only what follows.
    let strip = |s: &[u8]| String::from_utf8_lossy(s).replace(&file, "FILE");
    (
        out.status.code().unwrap_or(-1),
        strip(&out.stdout),
        strip(&out.stderr),
    )
}

const HEAD: &str = "$ORIGIN anydomain.com.\n\
                    $TTL 3600\n\
                    @ IN SOA ns1 hostmaster ( 2026112401 7200 3600 1209600 3600 )\n\
                    \x20 IN NS ns1\n\
                    ns1 IN A 192.0.2.53\n";

#[test]
fn a_valid_zone_passes() {
    let (code, stdout, stderr) = zone_check("anydomain.com", HEAD);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "FILE: zone anydomain.com is valid\n");
}

#[test]
fn whole_zone_errors_name_their_line() {
    let text = format!(
        "{HEAD}www IN A 192.0.2.1\n\
         www IN CNAME web.example.net.\n\
         mail IN CNAME ns1\n\
         @ IN MX 10 mail\n\
         ns1 IN A 192.0.2.53\n"
    );
    let (code, stdout, stderr) = zone_check("anydomain.com", &text);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "FILE:7: www.anydomain.com. has a CNAME and also A records; a CNAME must be the \
             only record at its name — remove the other records or the CNAME",
            "FILE:9: MX target mail.anydomain.com. is an alias (CNAME) in this zone; MX, NS \
             and SRV targets must name the host directly — use the CNAME's target instead",
            "FILE:10: duplicate record: ns1.anydomain.com. A 192.0.2.53 is already in the \
             zone (record #1)",
            "3 problems",
        ]
    );
}

#[test]
fn a_file_larger_than_one_read_keeps_its_lines() {
    // The file is read 64 KiB at a time: records and problems after the
    // first piece keep their lines, and an entry in parentheses may span
    // the cut.
    let mut text = HEAD.to_string();
    let mut line = HEAD.lines().count();
    for i in 0..4000 {
        text.push_str(&format!(
            "h{i} IN TXT ( \"first half\"\n  \"second half\" )\n"
        ));
        line += 2;
    }
    text.push_str("h7 IN CNAME ns1\nh3999 IN MX 10 h7\n");
    let (code, _, stderr) = zone_check("anydomain.com", &text);
    assert!(text.len() > 2 * 64 * 1024);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "FILE:{}: h7.anydomain.com. has a CNAME and also TXT",
            line + 1
        )),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "FILE:{}: MX target h7.anydomain.com. is an alias",
            line + 2
        )),
        "{stderr}"
    );
}
