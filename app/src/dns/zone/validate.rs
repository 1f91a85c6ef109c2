//! Validation of records and whole zones.
//!
//! Typed RDATA already rules out malformed addresses and names, so what is
//! left are the rules that involve ranges the types cannot express (TTL),
//! the zone origin, or several records at once (CNAME exclusivity, targets
//! that are aliases, duplicates). Every problem is collected – never just
//! the first – so the console can show them all at once.

use crate::dns::zone::error::{FieldError, ZoneProblem};
use crate::dns::zone::name::Name;
use crate::dns::zone::record::{
    soa_timer_too_large, ttl_too_large, RData, Record, RecordType, Soa, Ttl, Zone,
};
use crate::dns::zone::txt::MAX_STRING_LEN;
use foldhash::fast::RandomState;
use hashbrown::hash_table::{Entry, HashTable};
use std::hash::{BuildHasher, Hash, Hasher};

/// A 96-bit key standing for a name or a record: a 64-bit hash and 32 bits
/// of a second one, under independent random seeds. The checks keep keys,
/// not names, so that a zone streamed from a file is checked without
/// holding its records; two different names or records share a key with a
/// chance of about n² / 2⁹⁷ (below 10⁻¹⁶ for a million records). Three
/// `u32`s keep the tables' entries small: memory is what bounds the size
/// of a zone `stackyard zone check` takes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key([u32; 3]);

impl Key {
    /// The 64-bit hash the tables place the key by.
    fn hash(self) -> u64 {
        let [hi, lo, _] = self.0;
        u64::from(hi) << 32 | u64::from(lo)
    }

    fn new(hash: u64, check: u64) -> Key {
        // Truncations on purpose: the key is made of these bits.
        #[allow(clippy::cast_possible_truncation)]
        Key([(hash >> 32) as u32, hash as u32, check as u32])
    }
}

/// The seeded hashers behind [`Key`]s: zones are uploaded by people, so
/// the hash must not be predictable.
struct Hashers([RandomState; 2]);

impl Hashers {
    fn name(&self, name: &Name) -> Key {
        let [a, b] = &self.0;
        Key::new(a.hash_one(name.wire()), b.hash_one(name.wire()))
    }

    /// The key of the duplicate check: the owner's key and the RDATA.
    fn record(&self, owner: Key, rdata: &RData) -> Key {
        let [a, b] = &self.0;
        let one = |state: &RandomState| {
            let mut hasher = state.build_hasher();
            owner.0.hash(&mut hasher);
            rdata.hash(&mut hasher);
            hasher.finish()
        };
        Key::new(one(a), one(b))
    }
}

/// What one owner name holds, for the CNAME rules: 24 bytes.
#[derive(Clone, Copy)]
struct AtName {
    key: Key,
    /// Index into [`ZoneCheck::cnames`] when the name has a CNAME.
    cname: u32,
    /// The name's first record of another type.
    first_other: u32,
    /// Bit set of the other record types, see [`type_bit`].
    others: u16,
}

/// A name with a CNAME: kept in full, since the messages of both CNAME
/// rules and of targets that are aliases name it.
struct CnameOwner {
    owner: Name,
    /// The name's first and second CNAME records.
    first: u32,
    second: u32,
    count: u32,
}

/// The first record with one key, for the duplicate check: 16 bytes.
#[derive(Clone, Copy)]
struct Seen {
    key: Key,
    first: u32,
}

/// An MX, NS or SRV record's target, checked against the CNAMEs at the end.
#[derive(Clone, Copy)]
struct Target {
    key: Key,
    record: u32,
    rtype: RecordType,
}

/// No record, in [`AtName`].
const NONE: u32 = u32::MAX;

/// A record index as stored in [`AtName`] and the duplicate table.
fn idx(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NONE)
}

/// The index stored by [`idx`], `None` for [`NONE`].
fn unidx(i: u32) -> Option<usize> {
    (i != NONE).then(|| usize::try_from(i).ok()).flatten()
}

/// One bit per [`RecordType`] (ten types fit in a `u16`).
fn type_bit(t: RecordType) -> u16 {
    1 << (t as u16)
}

/// Checks a TTL against RFC 2181 §8.
pub fn validate_ttl(ttl: Ttl) -> Result<(), FieldError> {
    if ttl.is_valid() {
        Ok(())
    } else {
        Err(FieldError::new("ttl", ttl_too_large(u64::from(ttl.0))))
    }
}

/// Rules that concern one record on its own, in the zone at `origin`.
pub fn validate_record(record: &Record, origin: &Name) -> Vec<FieldError> {
    let mut out = Vec::new();
    if let Err(e) = validate_ttl(record.ttl) {
        out.push(e);
    }
    if !record.owner.is_subdomain_of(origin) {
        out.push(FieldError::new(
            "owner",
            format!("{} is outside the zone {origin}", record.owner),
        ));
    }
    match &record.rdata {
        RData::Cname(_) if record.owner == *origin => out.push(FieldError::new(
            "type",
            format!(
                "a CNAME cannot be at the zone apex ({origin}): the apex holds the SOA and NS \
                 records, and a CNAME must be alone at its name; use A/AAAA records instead"
            ),
        )),
        RData::Txt(strings) => {
            if strings.is_empty() {
                out.push(FieldError::new(
                    "value",
                    "a TXT record needs at least one string",
                ));
            }
            for (i, s) in strings.iter().enumerate() {
                if s.len() > MAX_STRING_LEN {
                    out.push(FieldError::new(
                        "value",
                        format!(
                            "TXT string {} is {} octets long; each string may have at most \
                             {MAX_STRING_LEN} — enter the value through txt_from_input, which \
                             splits it",
                            i + 1,
                            s.len()
                        ),
                    ));
                }
            }
            // RDATA is at most 65535 octets on the wire: each string is its
            // length octet plus its bytes.
            let wire: usize = strings.iter().map(|s| s.len() + 1).sum();
            if wire > usize::from(u16::MAX) {
                out.push(FieldError::new(
                    "value",
                    format!(
                        "the TXT value takes {wire} octets on the wire; a record holds at most \
                         {} (about 64 KiB of text)",
                        u16::MAX
                    ),
                ));
            }
        }
        RData::Caa { tag, value, .. } => {
            if tag.is_empty() || tag.len() > 15 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                out.push(FieldError::new(
                    "tag",
                    format!(
                        "CAA tag \"{tag}\" must be 1 to 15 letters or digits, e.g. issue, \
                         issuewild or iodef"
                    ),
                ));
            }
            if tag.len() + value.len() + 2 > usize::from(u16::MAX) {
                out.push(FieldError::new("value", "the CAA value is too long"));
            }
        }
        RData::Soa(_) => out.push(FieldError::new(
            "type",
            "the SOA is kept in the zone settings, not among the records; a zone has exactly one",
        )),
        _ => {}
    }
    out
}

/// Checks a whole zone and returns every problem found.
///
/// Rules: TTL range (zone default, SOA, every record); owner inside the
/// origin; CNAME never at the apex and alone at its name (RFC 1034 §3.6.2,
/// RFC 2181 §10.1); MX, NS and SRV targets not aliases (RFC 2181 §10.3,
/// RFC 2782); no duplicate records; TXT string lengths; CAA tags.
pub fn validate_zone(zone: &Zone) -> Vec<ZoneProblem> {
    let mut check = ZoneCheck::new(&zone.origin);
    for r in &zone.records {
        check.push(r);
    }
    check.finish(zone.default_ttl, zone.soa_ttl, &zone.soa)
}

/// [`validate_zone`] a record at a time: [`ZoneCheck::push`] each record
/// in order (its index in the problems is its position), then
/// [`ZoneCheck::finish`]. It keeps per name and per record a fixed-size key
/// (a 96-bit hash pair), and in full only the names that have a CNAME, so a large
/// file can be checked while it is read.
pub struct ZoneCheck {
    origin: Name,
    hashers: Hashers,
    at_name: HashTable<AtName>,
    /// The first record of each (owner, RDATA).
    seen: HashTable<Seen>,
    cnames: Vec<CnameOwner>,
    targets: Vec<Target>,
    /// Problems of single records, in record order.
    records: Vec<ZoneProblem>,
    duplicates: Vec<ZoneProblem>,
    count: usize,
}

impl ZoneCheck {
    /// A check of the zone at `origin`, with no records yet.
    pub fn new(origin: &Name) -> Self {
        ZoneCheck {
            origin: origin.clone(),
            hashers: Hashers([RandomState::default(), RandomState::default()]),
            at_name: HashTable::new(),
            seen: HashTable::new(),
            cnames: Vec::new(),
            targets: Vec::new(),
            records: Vec::new(),
            duplicates: Vec::new(),
            count: 0,
        }
    }

    /// Checks the next record: its own rules now, the rules between
    /// records as far as they can be told yet.
    pub fn push(&mut self, r: &Record) {
        let i = self.count;
        self.count += 1;
        for e in validate_record(r, &self.origin) {
            self.records.push(ZoneProblem {
                record: Some(i),
                field: e.field,
                message: e.message,
            });
        }

        let key = self.hashers.name(&r.owner);
        let at = self
            .at_name
            .entry(key.hash(), |a| a.key == key, |a| a.key.hash())
            .or_insert(AtName {
                key,
                cname: NONE,
                first_other: NONE,
                others: 0,
            })
            .into_mut();
        let rtype = r.rtype();
        if rtype == RecordType::Cname {
            match unidx(at.cname).and_then(|c| self.cnames.get_mut(c)) {
                Some(c) => {
                    c.count = c.count.saturating_add(1);
                    if c.second == NONE {
                        c.second = idx(i);
                    }
                }
                None => {
                    at.cname = idx(self.cnames.len());
                    self.cnames.push(CnameOwner {
                        owner: r.owner.clone(),
                        first: idx(i),
                        second: NONE,
                        count: 1,
                    });
                }
            }
        } else {
            at.others |= type_bit(rtype);
            if at.first_other == NONE {
                at.first_other = idx(i);
            }
        }

        if let RData::Mx {
            exchange: target, ..
        }
        | RData::Ns(target)
        | RData::Srv { target, .. } = &r.rdata
        {
            self.targets.push(Target {
                key: self.hashers.name(target),
                record: idx(i),
                rtype,
            });
        }

        // Names are stored lower-cased and RDATA is typed, so equality of
        // (owner, RDATA) is exactly "same record" in the DNS sense (the
        // same as comparing canonical wire forms).
        let key = self.hashers.record(key, &r.rdata);
        match self
            .seen
            .entry(key.hash(), |s| s.key == key, |s| s.key.hash())
        {
            Entry::Occupied(first) => {
                let first = first.get().first;
                self.duplicates.push(ZoneProblem {
                    record: Some(i),
                    field: "rdata".to_string(),
                    message: format!(
                        "duplicate record: {} {} {} is already in the zone (record #{first})",
                        r.owner, rtype, r.rdata
                    ),
                });
            }
            Entry::Vacant(slot) => {
                slot.insert(Seen { key, first: idx(i) });
            }
        }
    }

    /// Every problem: those of the zone itself (its default TTL, SOA TTL
    /// and timers), then those of single records, the CNAME rules, targets
    /// that are aliases and duplicates.
    pub fn finish(self, default_ttl: Ttl, soa_ttl: Ttl, soa: &Soa) -> Vec<ZoneProblem> {
        let mut out = Vec::new();
        for (field, ttl) in [("default_ttl", default_ttl), ("soa_ttl", soa_ttl)] {
            if let Err(e) = validate_ttl(ttl) {
                out.push(ZoneProblem {
                    record: None,
                    field: field.to_string(),
                    message: e.message,
                });
            }
        }
        for (what, v) in [
            ("refresh", soa.refresh),
            ("retry", soa.retry),
            ("expire", soa.expire),
            ("minimum", soa.minimum),
        ] {
            if v > Ttl::MAX {
                out.push(ZoneProblem {
                    record: None,
                    field: format!("soa.{what}"),
                    message: soa_timer_too_large(what, u64::from(v)),
                });
            }
        }
        out.extend(self.records);

        // Each CNAME rule is reported once per name, on the record that
        // breaks it (as nsd-checkzone does): the second CNAME, or whichever
        // of the first CNAME and the first other record comes later.
        // Sorting by that record keeps the order of the problems
        // independent of the hasher.
        let cname_of = |a: &AtName| unidx(a.cname).and_then(|c| self.cnames.get(c));
        let mut cname_problems: Vec<(usize, u8, ZoneProblem)> = Vec::new();
        for at in self.at_name.iter() {
            let Some(c) = cname_of(at) else {
                continue;
            };
            if let Some(i) = unidx(c.second) {
                cname_problems.push((
                    i,
                    0,
                    ZoneProblem {
                        record: Some(i),
                        field: "type".to_string(),
                        message: format!(
                            "{} has {} CNAME records; a name can be an alias for only one \
                             target",
                            c.owner, c.count
                        ),
                    },
                ));
            }
            if let (Some(first), Some(other)) = (unidx(c.first), unidx(at.first_other)) {
                let i = first.max(other);
                let list: Vec<&str> = RecordType::ALL
                    .iter()
                    .filter(|t| at.others & type_bit(**t) != 0)
                    .map(|t| t.as_str())
                    .collect();
                cname_problems.push((
                    i,
                    1,
                    ZoneProblem {
                        record: Some(i),
                        field: "type".to_string(),
                        message: format!(
                            "{} has a CNAME and also {} records; a CNAME must be the only \
                             record at its name — remove the other records or the CNAME",
                            c.owner,
                            list.join(", ")
                        ),
                    },
                ));
            }
        }
        cname_problems.sort_unstable_by_key(|(i, kind, _)| (*i, *kind));
        out.extend(cname_problems.into_iter().map(|(_, _, p)| p));

        if !self.cnames.is_empty() {
            for t in &self.targets {
                let Some(alias) = self
                    .at_name
                    .find(t.key.hash(), |a| a.key == t.key)
                    .and_then(cname_of)
                else {
                    continue;
                };
                let field = if t.rtype == RecordType::Mx {
                    "exchange"
                } else {
                    "target"
                };
                out.push(ZoneProblem {
                    record: unidx(t.record),
                    field: field.to_string(),
                    message: format!(
                        "{} target {} is an alias (CNAME) in this zone; MX, NS and SRV targets \
                         must name the host directly — use the CNAME's target instead",
                        t.rtype, alias.owner
                    ),
                });
            }
        }

        out.extend(self.duplicates);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::zone::record::Soa;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn zone() -> Zone {
        Zone::new(
            n("example.com."),
            Ttl(3600),
            Soa {
                mname: n("ns1.example.com."),
                rname: n("hostmaster.example.com."),
                serial: 2024010100,
                refresh: 7200,
                retry: 3600,
                expire: 1_209_600,
                minimum: 300,
            },
        )
    }

    fn rec(owner: &str, rdata: RData) -> Record {
        Record {
            owner: n(owner),
            ttl: Ttl(300),
            rdata,
        }
    }

    fn messages(z: &Zone) -> Vec<String> {
        validate_zone(z).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn clean_zone_has_no_problems() {
        let mut z = zone();
        z.records = vec![
            rec("example.com.", RData::Ns(n("ns1.example.com."))),
            rec("ns1.example.com.", RData::A(Ipv4Addr::new(192, 0, 2, 1))),
            rec("www.example.com.", RData::Aaaa(Ipv6Addr::LOCALHOST)),
            rec("ftp.example.com.", RData::Cname(n("www.example.com."))),
            rec(
                "example.com.",
                RData::Mx {
                    preference: 10,
                    exchange: n("www.example.com."),
                },
            ),
        ];
        assert_eq!(validate_zone(&z), vec![]);
    }

    #[test]
    fn ttl_range() {
        let mut z = zone();
        z.default_ttl = Ttl(u32::MAX);
        let mut r = rec("www.example.com.", RData::A(Ipv4Addr::LOCALHOST));
        r.ttl = Ttl(Ttl::MAX + 1);
        z.records.push(r);
        let p = validate_zone(&z);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].field, "default_ttl");
        assert_eq!(
            p[0].message,
            "TTL 4294967295 is larger than 2147483647 (2^31 − 1), the largest allowed by RFC 2181"
        );
        assert_eq!(p[1].record, Some(0));
        assert_eq!(p[1].field, "ttl");
        assert_eq!(
            p[1].message,
            "TTL 2147483648 is larger than 2147483647 (2^31 − 1), the largest allowed by RFC 2181"
        );
        assert!(validate_ttl(Ttl(Ttl::MAX)).is_ok());
    }

    #[test]
    fn soa_timers_limited() {
        let mut z = zone();
        z.soa.expire = 3_379_631_598;
        let p = validate_zone(&z);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "soa.expire");
        assert_eq!(
            p[0].message,
            "SOA expire 3379631598 is larger than 2147483647 (2^31 − 1), the largest time value \
             name servers accept"
        );
    }

    #[test]
    fn owner_outside_origin() {
        let mut z = zone();
        z.records
            .push(rec("www.example.org.", RData::A(Ipv4Addr::LOCALHOST)));
        assert_eq!(
            messages(&z),
            vec!["www.example.org. is outside the zone example.com."]
        );
    }

    #[test]
    fn cname_at_apex() {
        let mut z = zone();
        z.records
            .push(rec("example.com.", RData::Cname(n("other.net."))));
        assert_eq!(
            messages(&z),
            vec![
                "a CNAME cannot be at the zone apex (example.com.): the apex holds the SOA and \
                 NS records, and a CNAME must be alone at its name; use A/AAAA records instead"
            ]
        );
    }

    #[test]
    fn cname_not_alone() {
        let mut z = zone();
        z.records = vec![
            rec("www.example.com.", RData::A(Ipv4Addr::LOCALHOST)),
            rec("www.example.com.", RData::Cname(n("web.example.net."))),
            rec("www.example.com.", RData::Txt(vec![b"x".to_vec()])),
        ];
        let p = validate_zone(&z);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].record, Some(1));
        assert_eq!(
            p[0].message,
            "www.example.com. has a CNAME and also A, TXT records; a CNAME must be the only \
             record at its name — remove the other records or the CNAME"
        );
    }

    #[test]
    fn two_cnames() {
        let mut z = zone();
        z.records = vec![
            rec("www.example.com.", RData::Cname(n("a.example.net."))),
            rec("www.example.com.", RData::Cname(n("b.example.net."))),
        ];
        assert_eq!(
            messages(&z),
            vec![
                "www.example.com. has 2 CNAME records; a name can be an alias for only one target"
            ]
        );
    }

    #[test]
    fn targets_must_not_be_aliases() {
        let mut z = zone();
        z.records = vec![
            rec("mail.example.com.", RData::Cname(n("host.example.net."))),
            rec(
                "example.com.",
                RData::Mx {
                    preference: 10,
                    exchange: n("mail.example.com."),
                },
            ),
            rec("sub.example.com.", RData::Ns(n("mail.example.com."))),
            rec(
                "_imap._tcp.example.com.",
                RData::Srv {
                    priority: 0,
                    weight: 0,
                    port: 143,
                    target: n("mail.example.com."),
                },
            ),
        ];
        let p = validate_zone(&z);
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].record, p[0].field.as_str()), (Some(1), "exchange"));
        assert_eq!(
            p[0].message,
            "MX target mail.example.com. is an alias (CNAME) in this zone; MX, NS and SRV \
             targets must name the host directly — use the CNAME's target instead"
        );
        assert!(p[1]
            .message
            .starts_with("NS target mail.example.com. is an alias"));
        assert!(p[2]
            .message
            .starts_with("SRV target mail.example.com. is an alias"));
    }

    #[test]
    fn duplicates_refused_even_with_other_ttl_or_case() {
        let mut z = zone();
        let mut second = rec("WWW.example.com.", RData::A(Ipv4Addr::new(192, 0, 2, 7)));
        second.ttl = Ttl(60);
        z.records = vec![
            rec("www.example.com.", RData::A(Ipv4Addr::new(192, 0, 2, 7))),
            second,
            rec("www.example.com.", RData::A(Ipv4Addr::new(192, 0, 2, 8))),
        ];
        let p = validate_zone(&z);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].record, Some(1));
        assert_eq!(
            p[0].message,
            "duplicate record: www.example.com. A 192.0.2.7 is already in the zone (record #0)"
        );
    }

    #[test]
    fn txt_and_caa_rules() {
        let o = n("example.com.");
        let long = rec("t.example.com.", RData::Txt(vec![vec![b'a'; 300]]));
        assert_eq!(
            validate_record(&long, &o)[0].message,
            "TXT string 1 is 300 octets long; each string may have at most 255 — enter the \
             value through txt_from_input, which splits it"
        );
        let huge = rec("t.example.com.", RData::Txt(vec![vec![b'a'; 255]; 300]));
        assert_eq!(
            validate_record(&huge, &o)[0].message,
            "the TXT value takes 76800 octets on the wire; a record holds at most 65535 (about \
             64 KiB of text)"
        );
        let most = rec("t.example.com.", RData::Txt(vec![vec![b'a'; 255]; 255]));
        assert!(validate_record(&most, &o).is_empty(), "65280 octets fit");
        let empty = rec("t.example.com.", RData::Txt(vec![]));
        assert_eq!(
            validate_record(&empty, &o)[0].message,
            "a TXT record needs at least one string"
        );
        let caa = rec(
            "example.com.",
            RData::Caa {
                flags: 0,
                tag: "is sue".to_string(),
                value: b"letsencrypt.org".to_vec(),
            },
        );
        let e = validate_record(&caa, &o);
        assert_eq!(e[0].field, "tag");
        assert_eq!(
            e[0].message,
            "CAA tag \"is sue\" must be 1 to 15 letters or digits, e.g. issue, issuewild or iodef"
        );
        let soa = zone().soa_record();
        assert_eq!(
            validate_record(&soa, &o)[0].message,
            "the SOA is kept in the zone settings, not among the records; a zone has exactly one"
        );
    }
}
