//! Zone comparison for the import preview.
//!
//! DNS data is published and cached per RRset (all records of one owner and
//! type), so the preview compares RRsets: a set is *changed* when it exists
//! on both sides with a different TTL or a different set of RDATA. Record
//! order and name case do not count as changes.

use crate::dns::zone::name::Name;
use crate::dns::zone::record::{Record, RecordType, Zone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// All records of one owner and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSet {
    /// Owner name.
    pub owner: Name,
    /// Record type.
    pub rtype: RecordType,
    /// The records, in canonical RDATA order.
    pub records: Vec<Record>,
}

/// An RRset present in both zones with different contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetChange {
    /// The set as it is now.
    pub old: RecordSet,
    /// The set as the import would make it.
    pub new: RecordSet,
}

/// Result of [`diff`]; every list is in canonical owner/type order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ZoneDiff {
    /// Sets only in the new zone.
    pub added: Vec<RecordSet>,
    /// Sets only in the old zone.
    pub removed: Vec<RecordSet>,
    /// Sets in both, with different TTL or RDATA.
    pub changed: Vec<SetChange>,
    /// Sets identical in both.
    pub unchanged: Vec<RecordSet>,
}

impl ZoneDiff {
    /// True when importing would change nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

type SetKey = (Vec<u8>, RecordType);
/// Sorted, de-duplicated (TTL, canonical RDATA) pairs of one RRset.
type Fingerprint = Vec<(u32, Vec<u8>)>;
type Grouped = BTreeMap<SetKey, (RecordSet, Fingerprint)>;

/// Groups a zone's records (SOA included) into RRsets with a comparison
/// fingerprint: the sorted, de-duplicated (TTL, canonical RDATA) pairs.
fn group(zone: &Zone) -> Grouped {
    let mut map = Grouped::new();
    let soa = zone.soa_record();
    for r in std::iter::once(&soa).chain(zone.records.iter()) {
        let entry = map
            .entry((r.owner.canonical_key(), r.rtype()))
            .or_insert_with(|| {
                (
                    RecordSet {
                        owner: r.owner.clone(),
                        rtype: r.rtype(),
                        records: Vec::new(),
                    },
                    Vec::new(),
                )
            });
        entry.0.records.push(r.clone());
        entry.1.push((r.ttl.0, r.rdata.canonical_wire()));
    }
    for (set, fingerprint) in map.values_mut() {
        set.records
            .sort_by_cached_key(|r| (r.rdata.canonical_wire(), r.ttl));
        fingerprint.sort();
        fingerprint.dedup();
    }
    map
}

/// Compares two versions of a zone set by set.
pub fn diff(old: &Zone, new: &Zone) -> ZoneDiff {
    let mut old_sets = group(old);
    let new_sets = group(new);
    let mut out = ZoneDiff::default();
    for (key, (new_set, new_fp)) in new_sets {
        match old_sets.remove(&key) {
            None => out.added.push(new_set),
            Some((old_set, old_fp)) => {
                if old_fp == new_fp {
                    out.unchanged.push(new_set);
                } else {
                    out.changed.push(SetChange {
                        old: old_set,
                        new: new_set,
                    });
                }
            }
        }
    }
    out.removed = old_sets.into_values().map(|(set, _)| set).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::zone::parser::{parse_zone, ParseOptions};
    use crate::dns::zone::record::RData;

    fn zone(body: &str) -> Zone {
        let origin = Name::parse("example.com.").unwrap();
        let text = format!("$TTL 3600\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n{body}");
        parse_zone(&origin, &text, ParseOptions::default()).unwrap()
    }

    #[test]
    fn classifies_sets() {
        let old = zone(
            "@ NS ns1\nwww A 192.0.2.1\nwww A 192.0.2.2\nmail A 192.0.2.25\n\
             old TXT \"bye\"\nttl 300 A 192.0.2.9\n",
        );
        // Same www set in another order and case, mail changed, old removed,
        // new added, TTL-only change on ttl.
        let new = zone(
            "@ NS ns1\nWWW A 192.0.2.2\nwww A 192.0.2.1\nmail A 192.0.2.26\n\
             new TXT \"hi\"\nttl 600 A 192.0.2.9\n",
        );
        let d = diff(&old, &new);
        let names = |sets: &[RecordSet]| -> Vec<String> {
            sets.iter()
                .map(|s| format!("{} {}", s.owner, s.rtype))
                .collect()
        };
        assert_eq!(names(&d.added), vec!["new.example.com. TXT"]);
        assert_eq!(names(&d.removed), vec!["old.example.com. TXT"]);
        assert_eq!(
            names(&d.unchanged),
            vec!["example.com. NS", "example.com. SOA", "www.example.com. A"]
        );
        let changed: Vec<String> = d
            .changed
            .iter()
            .map(|c| format!("{} {}", c.new.owner, c.new.rtype))
            .collect();
        assert_eq!(changed, vec!["mail.example.com. A", "ttl.example.com. A"]);
        assert_eq!(
            d.changed[0].old.records[0].rdata,
            RData::A("192.0.2.25".parse().unwrap())
        );
        assert_eq!(d.changed[1].new.records[0].ttl.0, 600);
        assert!(!d.is_empty());
    }

    #[test]
    fn identical_zones_and_soa_changes() {
        let a = zone("www A 192.0.2.1\n");
        assert!(diff(&a, &a).is_empty());
        let mut b = a.clone();
        b.soa.serial = 2;
        let d = diff(&a, &b);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].new.rtype, RecordType::Soa);
        assert_eq!(d.unchanged.len(), 1);
    }
}
