//! What the fuzzers feed to the readers of untrusted text (issue 16): one
//! function per fuzz target of `fuzz/` (cargo-afl), each handing one input
//! to every reader of its family, and the same functions run over the
//! committed corpora (`fuzz/corpus/<target>/`) as ordinary unit tests, so
//! `make test` replays exactly what the fuzzers ran. None of them may panic,
//! whatever the input.
//!
//! `scripts/fuzz.sh` builds and runs the fuzzers.

use crate::dns::zone::{
    parse_zone, parse_zone_records, parse_zone_with_lines, render_zone, validate_zone, Name,
    ParseOptions, ZoneCheck,
};
use crate::layouts::file::{
    check_file, parse_hosts, parse_layout, render_hosts, render_layout, FileFormat,
};
use crate::mail::records::{dmarc, spf};
use std::io::Read;

/// A fuzz target: the name of its binary and corpus directory, and what
/// it does with one input.
pub type Target = (&'static str, fn(&[u8]));

/// The fuzz targets.
#[cfg(feature = "ssr")]
pub const TARGETS: [Target; 4] = [
    ("zone", zone),
    ("layout_files", layout_files),
    ("mail_records", mail_records),
    ("libvirt_xml", libvirt_xml),
];

/// The fuzz targets of the build without the ssr stack (no DKIM, no libvirt).
#[cfg(not(feature = "ssr"))]
pub const TARGETS: [Target; 3] = [
    ("zone", zone),
    ("layout_files", layout_files),
    ("mail_records", mail_records),
];

/// A source that hands out at most `step` octets per read, so the
/// streaming zone parser sees its input cut at any place.
struct Pieces<'a> {
    rest: &'a [u8],
    step: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        if let Some(out) = buf.get_mut(..n) {
            out.copy_from_slice(head);
        }
        self.rest = tail;
        Ok(n)
    }
}

/// Zone files: the first octet is how many octets the streaming reader
/// gets per read (0: all at once), the rest the file. The file goes as
/// bytes through [`parse_zone_records`] into a [`ZoneCheck`] (what
/// `stackyard zone check` does), and, when it is UTF-8, through
/// [`parse_zone_with_lines`] and [`validate_zone`] (an import), and a valid
/// zone is rendered and read again.
pub fn zone(data: &[u8]) {
    let Some((&step, file)) = data.split_first() else {
        return;
    };
    let Ok(origin) = Name::parse("example.com.") else {
        return;
    };
    let opts = ParseOptions::default();

    let mut source = Pieces {
        rest: file,
        step: if step == 0 {
            usize::MAX
        } else {
            usize::from(step)
        },
    };
    let mut check = ZoneCheck::new(&origin);
    let mut lines = Vec::new();
    let head = parse_zone_records(&origin, &mut source, opts, &mut |record, line| {
        check.push(&record);
        lines.push(line);
    });
    if let Ok(Ok(head)) = head {
        for p in check.finish(head.default_ttl, head.soa_ttl, &head.soa) {
            let _ = p.record.and_then(|i| lines.get(i));
        }
    }

    let Ok(text) = std::str::from_utf8(file) else {
        return;
    };
    if let Ok(parsed) = parse_zone_with_lines(&origin, text, opts) {
        for p in validate_zone(&parsed.zone) {
            let _ = parsed.line_of(&p);
        }
        let rendered = render_zone(&parsed.zone);
        if let Ok(again) = parse_zone(&origin, &rendered, opts) {
            let _ = validate_zone(&again);
        }
    }
}

/// Layout and hosts files (TOML, or JSON by their content), each read as
/// a layout and as a hosts file; what is read is written in both formats
/// and read again.
pub fn layout_files(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let _ = check_file("layout.toml", text);
    if let Ok(spec) = parse_layout(None, text) {
        for format in [FileFormat::Toml, FileFormat::Json] {
            if let Ok(out) = render_layout(&spec, format) {
                let _ = parse_layout(Some(&format!("layout.{}", format.extension())), &out);
            }
        }
    }
    if let Ok(hosts) = parse_hosts(None, text) {
        let _ = hosts.host_specs();
        let _ = hosts.policy();
        for format in [FileFormat::Toml, FileFormat::Json] {
            if let Ok(out) = render_hosts(&hosts, format) {
                let _ = parse_hosts(Some(&format!("hosts.{}", format.extension())), &out);
            }
        }
    }
}

/// SPF, DKIM and DMARC records: the text is read as each of the three
/// (and its lines as the TXT records of one name for SPF); what is read is
/// written and read again.
pub fn mail_records(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let _ = spf::is_spf_record(text);
    let _ = spf::validate_spf(text);
    let txts: Vec<&str> = text.split('\n').collect();
    let _ = spf::select_spf_record(&txts);
    let _ = spf::validate_spf_records(&txts);
    if let Ok(record) = spf::SpfRecord::parse(text) {
        let _ = record.direct_lookups();
        let _ = record.redirect();
        let _ = record.exp();
        let _ = spf::SpfRecord::parse(&record.to_string());
    }

    let _ = dmarc::validate_dmarc(text);
    if let Ok(record) = dmarc::DmarcRecord::parse(text) {
        let _ = record.external_report_domains("example.com");
        let _ = record.build();
        let _ = dmarc::DmarcRecord::parse(&record.to_string());
    }

    #[cfg(feature = "ssr")]
    {
        use crate::mail::records::dkim;
        let _ = dkim::validate_dkim(text);
        if let Ok(record) = dkim::DkimKeyRecord::parse(text) {
            let _ = record.is_revoked();
            let _ = record.rsa_bits();
            let _ = dkim::DkimKeyRecord::parse(&record.to_string());
        }
    }
}

/// libvirt XML: the text goes to every reader of
/// [`crate::hosts::service::xml`] (capabilities, domains, volumes,
/// networks, sysinfo, test-driver node files).
#[cfg(feature = "ssr")]
pub fn libvirt_xml(data: &[u8]) {
    use crate::hosts::service::xml;
    use crate::hosts::types::DomainType;

    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    if let Ok(caps) = xml::parse_capabilities(text) {
        let _ = caps.has_kvm();
        let _ = caps.has_hw_virt();
        let _ = caps.arch_for(DomainType::Kvm);
        let _ = caps.arch_for(DomainType::Qemu);
    }
    let _ = xml::parse_domain_disks(text);
    let _ = xml::parse_backing_path(text);
    let _ = xml::parse_network(text);
    let _ = xml::parse_sysinfo_processor(text);
    let _ = xml::parse_volume_format(text);
    let _ = xml::declared_pool_capacities(text);
    let _ = xml::has_network_interface(text);
    if let Ok(resized) = xml::with_size(text, 2048, 2) {
        let _ = xml::parse_domain_disks(&resized);
    }
}

#[cfg(test)]
mod tests {
    use super::TARGETS;
    use std::path::Path;

    /// Every committed corpus file, fed to its target as the fuzzer did.
    #[test]
    fn the_fuzz_corpora_read_without_panic() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (target, feed) in TARGETS {
            let dir = root.join(target);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| entry.unwrap().path())
                .collect();
            files.sort();
            assert!(files.len() > 10, "{}: corpus too small", dir.display());
            for file in files {
                let data = std::fs::read(&file).unwrap();
                if std::panic::catch_unwind(|| feed(&data)).is_err() {
                    panic!("{target}: {} panics", file.display());
                }
            }
        }
    }
}
