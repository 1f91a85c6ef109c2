#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Benchmark: parse + validate a generated 100,000-record zone file, and
//! compare with `nsd-checkzone` on the same file when it is installed.
//!
//! Plain `std::time` and best-of-N timing keep this free of extra
//! dependencies; run with `cargo bench --bench check`.

use app::dns::zone::{parse_zone, render_zone, validate_zone, Name, ParseOptions};
use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const RECORDS: usize = 100_000;
const RUNS: usize = 3;

/// A zone file resembling a large hosting zone: a mix of every record type.
fn generate() -> Result<String, std::fmt::Error> {
    let mut s = String::with_capacity(RECORDS * 60);
    writeln!(s, "$ORIGIN bench.example.")?;
    writeln!(s, "$TTL 3600")?;
    writeln!(
        s,
        "@ IN SOA ns1 hostmaster ( 2024051501 7200 3600 1209600 300 )"
    )?;
    writeln!(
        s,
        "  IN NS ns1\n  IN NS ns2\nns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2"
    )?;
    // SOA, two NS and two A records above count towards the total.
    let mut n = 5;
    let mut i = 0usize;
    while n < RECORDS {
        let (a, b) = (i / 250 % 250, i % 250);
        match i % 8 {
            0 | 1 => writeln!(s, "host{i} IN A 10.{}.{a}.{b}", i / 62_500 % 250)?,
            2 => writeln!(
                s,
                "host{i} 300 IN AAAA 2001:db8::{:x}:{:x}",
                i >> 16,
                i & 0xffff
            )?,
            3 => writeln!(s, "alias{i} IN CNAME host{}", i - 3)?,
            4 => writeln!(s, "host{} IN MX 10 mx{}.mail.example.", i - 4, i % 7)?,
            5 => writeln!(
                s,
                "host{} IN TXT \"v=spf1 +a +mx ip4:10.0.{a}.{b} ~all\" \"id={i}\"",
                i - 5
            )?,
            6 => writeln!(s, "_sip._tcp.host{} IN SRV 10 60 5060 host{}", i - 6, i - 6)?,
            _ => writeln!(s, "host{} IN CAA 0 issue \"letsencrypt.org\"", i - 7)?,
        }
        n += 1;
        i += 1;
    }
    Ok(s)
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn nsd_checkzone() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("nsd-checkzone"))
        .find(|p| p.is_file())
}

fn main() -> Result<(), Box<dyn Error>> {
    let origin = Name::parse("bench.example.")?;
    let text = generate()?;
    let file = std::env::temp_dir().join(format!("dnszone-bench-{}.zone", std::process::id()));
    std::fs::write(&file, &text)?;
    println!(
        "zone: {} records, {:.1} MiB, {}",
        RECORDS,
        text.len() as f64 / (1024.0 * 1024.0),
        file.display()
    );

    let mut parse_t = Vec::new();
    let mut validate_t = Vec::new();
    let mut render_t = Vec::new();
    let mut summary = (0, 0, 0);
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let zone = parse_zone(&origin, &text, ParseOptions::default())
            .map_err(|e| format!("parse failed: {:?}", e.first()))?;
        let t1 = Instant::now();
        let problems = validate_zone(&zone);
        let t2 = Instant::now();
        let rendered = render_zone(&zone);
        let t3 = Instant::now();
        parse_t.push(t1 - t0);
        validate_t.push(t2 - t1);
        render_t.push(t3 - t2);
        summary = (zone.records.len() + 1, problems.len(), rendered.len());
    }
    let ours = best(&parse_t) + best(&validate_t);
    println!(
        "dnszone: {} records parsed, {} problems, render {} bytes (best of {RUNS})",
        summary.0, summary.1, summary.2
    );
    println!("  parse          {:>8.1} ms", ms(best(&parse_t)));
    println!("  validate       {:>8.1} ms", ms(best(&validate_t)));
    println!("  parse+validate {:>8.1} ms", ms(ours));
    println!("  render         {:>8.1} ms", ms(best(&render_t)));

    match nsd_checkzone() {
        None => println!("nsd-checkzone: not installed, no comparison"),
        Some(bin) => {
            let mut nsd_t = Vec::new();
            let mut status = String::new();
            for _ in 0..RUNS {
                let t0 = Instant::now();
                let out = Command::new(&bin)
                    .arg("bench.example")
                    .arg(&file)
                    .output()?;
                nsd_t.push(t0.elapsed());
                status = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !out.status.success() {
                    status = format!("FAILED: {}", String::from_utf8_lossy(&out.stderr).trim());
                }
            }
            let nsd = best(&nsd_t);
            println!("nsd-checkzone:   {:>8.1} ms ({status})", ms(nsd));
            println!(
                "ratio nsd-checkzone / dnszone parse+validate = {:.2}",
                nsd.as_secs_f64() / ours.as_secs_f64()
            );
        }
    }
    std::fs::remove_file(&file)?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
