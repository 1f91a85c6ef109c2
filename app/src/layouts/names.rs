//! Each VM's name and address in DNS: the A/AAAA record of its full name
//! and the PTR back, in Stackyard's zones. The plan compares what the
//! layout wants with what the zones hold and what earlier applies of the
//! layout wrote (the journal), and says per record: create, change,
//! remove, unchanged, or conflict. A record the layout did not write, or
//! wrote and someone changed by hand since, is a conflict: it is shown,
//! never overwritten.

use crate::dns::zone::{reverse_name, Name, RData, RecordType, Zone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What the apply does with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DnsAction {
    /// Written anew.
    Create,
    /// The layout's earlier value replaced (the VM's address changed).
    Change,
    /// The layout's record of a VM that is gone from it (or renamed).
    Remove,
    /// Already as wanted.
    Unchanged,
    /// Something else is there: not written; the apply's DNS step stops.
    Conflict,
}

impl DnsAction {
    /// The word the plan shows.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsAction::Create => "create",
            DnsAction::Change => "change",
            DnsAction::Remove => "remove",
            DnsAction::Unchanged => "unchanged",
            DnsAction::Conflict => "conflict",
        }
    }
}

/// One record of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsChange {
    /// The VM it names.
    pub vm: String,
    /// The zone it is in (`example.org.`).
    pub zone: String,
    /// Its owner (`web1.example.org.`).
    pub owner: String,
    /// `A`, `AAAA` or `PTR`.
    pub rtype: String,
    /// The value the layout wants (for a removal: the one removed).
    pub value: String,
    /// The values the zone holds there now, if any.
    pub now: Vec<String>,
    /// What the apply does.
    pub action: DnsAction,
}

impl DnsChange {
    /// The change in words, as the plan and the run show it.
    pub fn line(&self) -> String {
        let now = self.now.join(", ");
        match self.action {
            DnsAction::Create => format!("{} {} {} (new)", self.owner, self.rtype, self.value),
            DnsAction::Change => {
                format!("{} {} {} (was {now})", self.owner, self.rtype, self.value)
            }
            DnsAction::Remove => format!(
                "{} {} {} removed ({} is no longer in the layout with this name)",
                self.owner, self.rtype, self.value, self.vm
            ),
            DnsAction::Unchanged => format!("{} {} {}", self.owner, self.rtype, self.value),
            DnsAction::Conflict => format!(
                "{} {} is {now}, which this layout did not write: {} wants {}. Change or delete \
                 that record on the zone's page (or give the VM another name or address); it is \
                 not overwritten",
                self.owner, self.rtype, self.vm, self.value
            ),
        }
    }
}

/// A record an apply of the layout wrote (journaled per VM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The zone (`example.org.`).
    pub zone: String,
    /// The owner.
    pub owner: String,
    /// `A`, `AAAA` or `PTR`.
    pub rtype: String,
    /// The value written.
    pub value: String,
}

/// A VM to publish: its full name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The VM.
    pub vm: String,
    /// Its full name, `web1.example.org`.
    pub fqdn: String,
    /// Its address.
    pub ip: IpAddr,
}

/// The DNS part of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamePlan {
    /// Each record, VM by VM in the layout's order, removals last.
    pub changes: Vec<DnsChange>,
    /// What is not written and why (a name in no zone of Stackyard, an
    /// address without a reverse zone).
    pub notes: Vec<String>,
}

impl NamePlan {
    /// The conflicts, in words.
    pub fn conflicts(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.action == DnsAction::Conflict)
            .map(DnsChange::line)
            .collect()
    }

    /// Whether the apply writes anything.
    pub fn writes(&self) -> bool {
        self.changes.iter().any(|c| {
            matches!(
                c.action,
                DnsAction::Create | DnsAction::Change | DnsAction::Remove
            )
        })
    }
}

/// The value of `rdata` as the plan writes it.
fn text(rdata: &RData) -> String {
    match rdata {
        RData::A(a) => a.to_string(),
        RData::Aaaa(a) => a.to_string(),
        RData::Ptr(n) | RData::Cname(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// The record data a [`Written`] or [`DnsChange`] value stands for.
pub fn rdata_of(rtype: &str, value: &str) -> Option<RData> {
    match rtype {
        "A" => value.parse().ok().map(RData::A),
        "AAAA" => value.parse().ok().map(RData::Aaaa),
        "PTR" => Name::parse(value).ok().map(RData::Ptr),
        _ => None,
    }
}

/// The most specific of `zones` that holds `name` (forward or reverse).
fn zone_for<'a>(zones: &'a [Zone], name: &Name, reverse: bool) -> Option<&'a Zone> {
    zones
        .iter()
        .filter(|z| {
            let o = z.origin.as_str();
            (o.ends_with("in-addr.arpa.") || o.ends_with("ip6.arpa.")) == reverse
        })
        .filter(|z| name.is_subdomain_of(&z.origin))
        .max_by_key(|z| z.origin.label_count())
}

/// The plan of the records: `wanted` (in the layout's order) against
/// `zones` (as Stackyard holds them) and `written` (what earlier applies
/// of this layout wrote, per VM).
pub fn plan_names(wanted: &[Wanted], zones: &[Zone], written: &[(String, Written)]) -> NamePlan {
    let mut plan = NamePlan::default();
    let mut wanted_keys = BTreeSet::new();
    for w in wanted {
        let Ok(fqdn) = Name::parse(&w.fqdn) else {
            continue;
        };
        let forward = match w.ip {
            IpAddr::V4(a) => (RecordType::A, RData::A(a)),
            IpAddr::V6(a) => (RecordType::Aaaa, RData::Aaaa(a)),
        };
        let records = [
            (fqdn.clone(), forward.0, forward.1, false),
            (
                reverse_name(w.ip),
                RecordType::Ptr,
                RData::Ptr(fqdn.clone()),
                true,
            ),
        ];
        for (owner, rtype, rdata, reverse) in records {
            let Some(zone) = zone_for(zones, &owner, reverse) else {
                plan.notes.push(if reverse {
                    format!(
                        "{}: no reverse zone of Stackyard holds {owner}; no PTR is written (add the reverse zone on the DNS page)",
                        w.vm
                    )
                } else {
                    format!(
                        "{}: no zone of Stackyard holds {fqdn}; no records are written (add the zone on the DNS page, or set the layout's zone)",
                        w.vm
                    )
                });
                if reverse {
                    continue;
                }
                break;
            };
            wanted_keys.insert((owner.to_string(), rtype.as_str().to_owned()));
            let now: Vec<&RData> = zone
                .records
                .iter()
                .filter(|r| {
                    r.owner == owner && (r.rtype() == rtype || r.rtype() == RecordType::Cname)
                })
                .map(|r| &r.rdata)
                .collect();
            let ours = written.iter().find(|(vm, x)| {
                *vm == w.vm && x.owner == owner.as_str() && x.rtype == rtype.as_str()
            });
            let ours_now = ours
                .is_some_and(|(_, x)| rdata_of(&x.rtype, &x.value).is_some_and(|r| now == [&r]));
            let action = if now == [&rdata] {
                DnsAction::Unchanged
            } else if now.is_empty() {
                DnsAction::Create
            } else if ours_now {
                DnsAction::Change
            } else {
                DnsAction::Conflict
            };
            plan.changes.push(DnsChange {
                vm: w.vm.clone(),
                zone: zone.origin.to_string(),
                owner: owner.to_string(),
                rtype: rtype.as_str().to_owned(),
                value: text(&rdata),
                now: now.into_iter().map(text).collect(),
                action,
            });
        }
    }
    for (vm, x) in written {
        if wanted_keys.contains(&(x.owner.clone(), x.rtype.clone())) {
            continue;
        }
        let Some(zone) = zones.iter().find(|z| z.origin.as_str() == x.zone) else {
            continue;
        };
        let Some(rdata) = rdata_of(&x.rtype, &x.value) else {
            continue;
        };
        let now: Vec<&RData> = zone
            .records
            .iter()
            .filter(|r| r.owner.as_str() == x.owner && r.rtype().as_str() == x.rtype)
            .map(|r| &r.rdata)
            .collect();
        // Gone already, or changed by hand since: nothing to remove (a
        // record someone changed is theirs now).
        if now == [&rdata] {
            plan.changes.push(DnsChange {
                vm: vm.clone(),
                zone: x.zone.clone(),
                owner: x.owner.clone(),
                rtype: x.rtype.clone(),
                value: x.value.clone(),
                now: vec![x.value.clone()],
                action: DnsAction::Remove,
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dns::zone::{Record, Soa, Ttl};

    fn zone(origin: &str, records: &[(&str, RData)]) -> Zone {
        let origin = Name::parse(origin).unwrap();
        let soa = Soa {
            mname: Name::parse("ns1.example.org").unwrap(),
            rname: Name::parse("hostmaster.example.org").unwrap(),
            serial: 1,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 300,
        };
        let mut z = Zone::new(origin, Ttl(3600), soa);
        z.records = records
            .iter()
            .map(|(o, r)| Record {
                owner: Name::parse(o).unwrap(),
                ttl: Ttl(3600),
                rdata: r.clone(),
            })
            .collect();
        z
    }

    fn want(vm: &str, ip: &str) -> Wanted {
        Wanted {
            vm: vm.into(),
            fqdn: format!("{vm}.example.org"),
            ip: ip.parse().unwrap(),
        }
    }

    fn a(ip: &str) -> RData {
        RData::A(ip.parse().unwrap())
    }

    fn ptr(name: &str) -> RData {
        RData::Ptr(Name::parse(name).unwrap())
    }

    fn actions(p: &NamePlan) -> Vec<(String, &'static str)> {
        p.changes
            .iter()
            .map(|c| (format!("{} {}", c.owner, c.rtype), c.action.as_str()))
            .collect()
    }

    fn written(vm: &str, zone: &str, owner: &str, rtype: &str, value: &str) -> (String, Written) {
        (
            vm.into(),
            Written {
                zone: zone.into(),
                owner: owner.into(),
                rtype: rtype.into(),
                value: value.into(),
            },
        )
    }

    #[test]
    fn new_names_are_created_with_their_ptr() {
        let zones = [
            zone("example.org", &[("www.example.org", a("192.0.2.80"))]),
            zone("2.0.192.in-addr.arpa", &[]),
        ];
        let p = plan_names(&[want("web1", "192.0.2.10")], &zones, &[]);
        assert_eq!(
            actions(&p),
            [
                ("web1.example.org. A".to_string(), "create"),
                ("10.2.0.192.in-addr.arpa. PTR".to_string(), "create")
            ]
        );
        assert_eq!(p.changes[1].value, "web1.example.org.");
        assert_eq!(p.changes[1].zone, "2.0.192.in-addr.arpa.");
        assert!(p.notes.is_empty() && p.writes() && p.conflicts().is_empty());
    }

    #[test]
    fn what_is_there_already_is_unchanged_and_a_hand_record_is_a_conflict() {
        let zones = [
            zone(
                "example.org",
                &[
                    ("web1.example.org", a("192.0.2.10")),
                    ("ns2.example.org", a("198.51.100.7")),
                ],
            ),
            zone(
                "2.0.192.in-addr.arpa",
                &[("10.2.0.192.in-addr.arpa", ptr("web1.example.org"))],
            ),
        ];
        let p = plan_names(
            &[want("web1", "192.0.2.10"), want("ns2", "192.0.2.11")],
            &zones,
            &[],
        );
        assert_eq!(
            actions(&p),
            [
                ("web1.example.org. A".to_string(), "unchanged"),
                ("10.2.0.192.in-addr.arpa. PTR".to_string(), "unchanged"),
                ("ns2.example.org. A".to_string(), "conflict"),
                ("11.2.0.192.in-addr.arpa. PTR".to_string(), "create"),
            ]
        );
        assert!(p.writes(), "the PTR of ns2 is created");
        let c = &p.conflicts()[0];
        assert!(
            c.contains("ns2.example.org. A is 198.51.100.7, which this layout did not write"),
            "{c}"
        );
        assert!(c.contains("ns2 wants 192.0.2.11"), "{c}");
    }

    #[test]
    fn the_layouts_own_records_change_and_go() {
        // web1 wrote 192.0.2.10 before and now has .20; old went from the layout.
        let zones = [
            zone(
                "example.org",
                &[
                    ("web1.example.org", a("192.0.2.10")),
                    ("old.example.org", a("192.0.2.30")),
                    ("hand.example.org", a("192.0.2.40")),
                ],
            ),
            zone(
                "2.0.192.in-addr.arpa",
                &[
                    ("10.2.0.192.in-addr.arpa", ptr("web1.example.org")),
                    ("30.2.0.192.in-addr.arpa", ptr("old.example.org")),
                ],
            ),
        ];
        let before = [
            written(
                "web1",
                "example.org.",
                "web1.example.org.",
                "A",
                "192.0.2.10",
            ),
            written(
                "web1",
                "2.0.192.in-addr.arpa.",
                "10.2.0.192.in-addr.arpa.",
                "PTR",
                "web1.example.org.",
            ),
            written("old", "example.org.", "old.example.org.", "A", "192.0.2.30"),
            written(
                "old",
                "2.0.192.in-addr.arpa.",
                "30.2.0.192.in-addr.arpa.",
                "PTR",
                "old.example.org.",
            ),
            // Written once, then changed by hand: left alone.
            written(
                "hand",
                "example.org.",
                "hand.example.org.",
                "A",
                "192.0.2.41",
            ),
        ];
        let p = plan_names(&[want("web1", "192.0.2.20")], &zones, &before);
        assert_eq!(
            actions(&p),
            [
                ("web1.example.org. A".to_string(), "change"),
                ("20.2.0.192.in-addr.arpa. PTR".to_string(), "create"),
                ("10.2.0.192.in-addr.arpa. PTR".to_string(), "remove"),
                ("old.example.org. A".to_string(), "remove"),
                ("30.2.0.192.in-addr.arpa. PTR".to_string(), "remove"),
            ]
        );
        assert_eq!(p.changes[0].now, ["192.0.2.10"]);
        assert!(p.changes[0].line().contains("(was 192.0.2.10)"));
    }

    #[test]
    fn names_outside_stackyards_zones_are_noted_not_written() {
        let zones = [zone("example.org", &[])];
        let mut other = want("mx", "192.0.2.25");
        other.fqdn = "mx.example.net".into();
        let p = plan_names(&[want("web1", "192.0.2.10"), other], &zones, &[]);
        assert_eq!(actions(&p), [("web1.example.org. A".to_string(), "create")]);
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
        assert!(p.notes[0].contains("no reverse zone"), "{:?}", p.notes);
        assert!(
            p.notes[1].contains("no zone of Stackyard holds mx.example.net."),
            "{:?}",
            p.notes
        );
    }
}
