//! Canonical master-file output, as handed to NSD.
//!
//! The output is deterministic – the same zone always gives the same bytes –
//! so that files can be diffed, hashed and committed. Owners are written
//! relative to `$ORIGIN` for readability; RDATA names are always absolute so
//! that they mean the same thing regardless of `$ORIGIN`.

use crate::dns::zone::record::{RData, Record, Zone};

/// Renders `zone` as an RFC 1035 master file accepted by `nsd-checkzone`.
///
/// Layout: `$ORIGIN` and `$TTL` header, the SOA (multi-line, with field
/// comments), then every other record sorted by owner in canonical DNS
/// order, type code and canonical RDATA. A record's TTL is written only
/// when it differs from `$TTL`.
pub fn render_zone(zone: &Zone) -> String {
    let mut out = String::with_capacity(64 * (zone.records.len() + 8));
    out.push_str(&format!("$ORIGIN {}\n", zone.origin));
    out.push_str(&format!("$TTL {}\n", zone.default_ttl));
    let soa = &zone.soa;
    out.push_str(&format!(
        "@\t{}\tIN\tSOA\t{} {} (\n\t\t{:<10} ; serial\n\t\t{:<10} ; refresh\n\t\t{:<10} ; \
         retry\n\t\t{:<10} ; expire\n\t\t{:<10} ; minimum\n\t\t)\n",
        zone.soa_ttl,
        soa.mname,
        soa.rname,
        soa.serial,
        soa.refresh,
        soa.retry,
        soa.expire,
        soa.minimum
    ));
    for record in zone.sorted_records() {
        render_record(&mut out, record, zone);
    }
    out
}

fn render_record(out: &mut String, record: &Record, zone: &Zone) {
    if let RData::Soa(_) = record.rdata {
        // The SOA belongs in `zone.soa` and validation reports one found
        // among the records; a second SOA would make NSD refuse the file,
        // so it is kept visible only as a comment.
        out.push_str("; misplaced SOA not rendered: ");
        out.push_str(&record.to_string());
        out.push('\n');
        return;
    }
    let owner = record
        .owner
        .relative_to(&zone.origin)
        .unwrap_or_else(|| record.owner.to_string());
    out.push_str(&owner);
    out.push('\t');
    if record.ttl != zone.default_ttl {
        out.push_str(&record.ttl.to_string());
    }
    out.push_str("\tIN\t");
    out.push_str(record.rtype().as_str());
    out.push('\t');
    out.push_str(&record.rdata.to_string());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::zone::name::Name;
    use crate::dns::zone::record::{Soa, Ttl};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn canonical_layout() {
        let mut z = Zone::new(
            n("example.com."),
            Ttl(3600),
            Soa {
                mname: n("ns1.example.com."),
                rname: n("hostmaster.example.com."),
                serial: 2024010101,
                refresh: 7200,
                retry: 3600,
                expire: 1_209_600,
                minimum: 300,
            },
        );
        let rec = |owner: &str, ttl: u32, rdata: RData| Record {
            owner: n(owner),
            ttl: Ttl(ttl),
            rdata,
        };
        z.records = vec![
            rec(
                "www.example.com.",
                3600,
                RData::A("192.0.2.2".parse().unwrap()),
            ),
            rec(
                "b.example.com.",
                60,
                RData::Txt(vec![b"say \"hi\" \\ \x01".to_vec(), b"".to_vec()]),
            ),
            rec(
                "www.example.com.",
                3600,
                RData::A("192.0.2.1".parse().unwrap()),
            ),
            rec(
                "example.com.",
                3600,
                RData::Mx {
                    preference: 10,
                    exchange: n("mail.example.org."),
                },
            ),
            rec("example.com.", 3600, RData::Ns(n("ns1.example.com."))),
            rec(
                "a.www.example.com.",
                3600,
                RData::Cname(n("www.example.com.")),
            ),
            rec(
                "example.com.",
                3600,
                RData::Caa {
                    flags: 0,
                    tag: "issue".into(),
                    value: b"ca.example".to_vec(),
                },
            ),
            rec(
                "_sip._tcp.example.com.",
                3600,
                RData::Srv {
                    priority: 1,
                    weight: 2,
                    port: 5060,
                    target: n("."),
                },
            ),
        ];
        let expected = "$ORIGIN example.com.\n$TTL 3600\n\
@\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. (\n\
\t\t2024010101 ; serial\n\t\t7200       ; refresh\n\t\t3600       ; retry\n\
\t\t1209600    ; expire\n\t\t300        ; minimum\n\t\t)\n\
@\t\tIN\tNS\tns1.example.com.\n\
@\t\tIN\tMX\t10 mail.example.org.\n\
@\t\tIN\tCAA\t0 issue \"ca.example\"\n\
_sip._tcp\t\tIN\tSRV\t1 2 5060 .\n\
b\t60\tIN\tTXT\t\"say \\\"hi\\\" \\\\ \\001\" \"\"\n\
www\t\tIN\tA\t192.0.2.1\n\
www\t\tIN\tA\t192.0.2.2\n\
a.www\t\tIN\tCNAME\twww.example.com.\n";
        assert_eq!(render_zone(&z), expected);
        // Deterministic: input order does not matter.
        z.records.reverse();
        assert_eq!(render_zone(&z), expected);
    }
}
