//! The layout on the hosts, as the editor shows it: where every VM goes
//! and each host's eq. (1) verdict. Same rules as the plan (auto VMs that
//! already run somewhere stay there; a layout VM that already exists is
//! counted once, with the layout's sizes; pinned VMs count in their host's
//! verdict even when they do not fit, so the admin sees what breaks).
//! Pure and cheap: the editor runs it in the browser on every keystroke.

use crate::capacity::{
    self, evaluate, CapacityPolicy, HostSpec, HostVerdict, PlacementRequest, Template, VmDemand,
};

use crate::layouts::model::{HostChoice, LayoutSpec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where one layout VM goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedVm {
    /// VM name.
    pub vm: String,
    /// Host, or `None` when it fits nowhere (see [`Resolved::unplaced`]).
    pub host: Option<String>,
    /// The layout said "auto".
    pub auto: bool,
    /// "auto", but it already exists on `host`, so it stays there.
    pub existing: bool,
}

/// A VM that fits nowhere, with the reason in words and numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnplacedVm {
    /// VM name.
    pub vm: String,
    /// Why, e.g. "web-9 fits nowhere; closest is proliant-1: web-9 needs 2000 MiB, 1400 MiB left on proliant-1".
    pub reason: String,
    /// The structured reason.
    pub detail: capacity::UnplacedReason,
}

/// The layout on the hosts: where each VM goes and each host's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// One entry per layout VM, in layout order.
    pub placement: Vec<PlacedVm>,
    /// VMs that fit nowhere.
    pub unplaced: Vec<UnplacedVm>,
    /// Eq. (1) for every host, in host order (hosts without layout VMs too:
    /// their bars show what is left).
    pub verdicts: Vec<HostVerdict>,
    /// Everything placed and no condition broken anywhere.
    pub fits: bool,
}

/// Places the layout on `hosts` (see the module documentation).
pub fn resolve(spec: &LayoutSpec, hosts: &[HostSpec], policy: &CapacityPolicy) -> Resolved {
    let host_names: BTreeSet<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    // Effective target of each VM: pinned, already there, or free.
    let mut targets: Vec<(Option<String>, bool)> = Vec::with_capacity(spec.vms.len());
    for vm in &spec.vms {
        match &vm.host {
            HostChoice::Host(h) => targets.push((Some(h.clone()), false)),
            HostChoice::Auto => {
                let there = hosts
                    .iter()
                    .find(|h| h.existing.iter().any(|e| e.name == vm.name))
                    .map(|h| h.name.clone());
                let existing = there.is_some();
                targets.push((there, existing));
            }
        }
    }
    // The layout's own VMs are counted with the layout's sizes, not twice.
    let hosts: Vec<HostSpec> = hosts
        .iter()
        .map(|h| {
            let mut h = h.clone();
            h.existing.retain(|e| {
                !spec
                    .vms
                    .iter()
                    .zip(&targets)
                    .any(|(vm, (t, _))| vm.name == e.name && t.as_deref() == Some(&h.name))
            });
            h
        })
        .collect();
    let requests: Vec<PlacementRequest> = spec
        .vms
        .iter()
        .zip(&targets)
        .map(|(vm, (t, _))| match t {
            Some(h) => PlacementRequest::on(vm.demand(), h.clone()),
            None => PlacementRequest::auto(vm.demand()),
        })
        .collect();
    let placed = capacity::place(&hosts, &requests, policy);
    let mut host_of: Vec<Option<String>> = vec![None; spec.vms.len()];
    for a in &placed.assignments {
        if let Some(slot) = host_of.get_mut(a.request) {
            *slot = Some(a.host.clone());
        }
    }
    // Verdicts count pinned VMs even when they do not fit: that is what the
    // admin must see ("web-3 needs 2000 MiB, 1400 MiB left on proliant-1").
    let mut planned: BTreeMap<&str, Vec<VmDemand>> = BTreeMap::new();
    for (i, vm) in spec.vms.iter().enumerate() {
        let host = match (&targets[i].0, &host_of[i]) {
            (Some(h), _) if host_names.contains(h.as_str()) => Some(h.as_str()),
            (_, Some(h)) => Some(h.as_str()),
            _ => None,
        };
        if let Some(h) = host {
            planned.entry(h).or_default().push(vm.demand());
        }
    }
    let verdicts: Vec<HostVerdict> = hosts
        .iter()
        .map(|h| {
            let p = planned.get(h.name.as_str()).map_or(&[][..], Vec::as_slice);
            evaluate(h, p, policy)
        })
        .collect();
    let placement = spec
        .vms
        .iter()
        .enumerate()
        .map(|(i, vm)| PlacedVm {
            vm: vm.name.clone(),
            host: host_of[i].clone(),
            auto: vm.host == HostChoice::Auto,
            existing: targets[i].1,
        })
        .collect();
    let unplaced: Vec<UnplacedVm> = placed
        .unplaced
        .iter()
        .map(|u| UnplacedVm {
            vm: u.vm.clone(),
            reason: u.to_string(),
            detail: u.reason.clone(),
        })
        .collect();
    // A host the layout leaves alone does not make it fail, even when its
    // own VMs already break a condition.
    let fits = unplaced.is_empty()
        && verdicts
            .iter()
            .filter(|v| planned.contains_key(v.host.as_str()))
            .all(HostVerdict::fits);
    Resolved {
        placement,
        unplaced,
        verdicts,
        fits,
    }
}

/// Eq. (3) on a host as the layout leaves it: how many more VMs of
/// `template` fit, `min(free memory / y_s, free pool / counted z_s)`, from
/// the host's verdict; zero when the host already breaks a condition, cannot
/// virtualize, or has fewer CPUs than one such VM's vCPUs (the same rules
/// as [`capacity::how_many_more`]).
pub fn more_of(
    host: &HostSpec,
    verdict: &HostVerdict,
    template: &Template,
    policy: &CapacityPolicy,
) -> u64 {
    if !host.can_virtualize() || template.vcpus.get() > host.cpus || !verdict.fits() {
        return 0;
    }
    let by_memory = verdict
        .free
        .get()
        .checked_div(template.memory.get())
        .unwrap_or(u64::MAX);
    let disk = policy.counted_disk(&template.demand(""));
    let by_storage = verdict
        .storage_free
        .get()
        .checked_div(disk.get())
        .unwrap_or(u64::MAX);
    by_memory.min(by_storage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{how_many_more, table2_templates, Bytes, MiB};
    use crate::layouts::model::{LayoutVm, Nic};

    fn vm(name: &str, memory_mib: u64, host: HostChoice) -> LayoutVm {
        LayoutVm {
            name: name.into(),
            template: None,
            vcpus: 1,
            memory_mib,
            disk_gib: 20,
            host,
            network: Nic::default(),
            ip: None,
            start: true,
        }
    }

    fn paper_host() -> HostSpec {
        let mut h = HostSpec::new("proliant-1", MiB(32768), 16, true, Bytes::from_tib(2));
        h.existing
            .push(VmDemand::new("ns1", MiB(512), 1, Bytes::from_gib(4), true));
        h
    }

    #[test]
    fn pinned_vm_that_does_not_fit_is_named_with_its_numbers() {
        let policy = CapacityPolicy::default();
        let spec = LayoutSpec {
            name: "l".into(),
            description: String::new(),
            vms: vec![
                // Already on the host: counted once, with the layout's size.
                vm("ns1", 512, HostChoice::Auto),
                vm("big", 29_000, HostChoice::Host("proliant-1".into())),
                vm("web-3", 2000, HostChoice::Host("proliant-1".into())),
            ],
        };
        let r = resolve(&spec, &[paper_host()], &policy);
        assert!(!r.fits);
        let v = &r.verdicts[0];
        // y_a = 32768 - 2048 = 30720; big + ns1 = 29512, 1208 left.
        assert_eq!(
            v.violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["web-3 needs 2000 MiB, 1208 MiB left on proliant-1"]
        );
        assert_eq!(v.used_existing, MiB(0));
        assert_eq!(r.placement[0].host.as_deref(), Some("proliant-1"));
        assert!(r.placement[0].existing);
    }

    #[test]
    fn more_of_agrees_with_how_many_more() {
        let policy = CapacityPolicy::default();
        let host = paper_host();
        let spec = LayoutSpec {
            name: "l".into(),
            description: String::new(),
            vms: vec![vm("w1", 1024, HostChoice::Auto)],
        };
        let r = resolve(&spec, std::slice::from_ref(&host), &policy);
        let planned = [spec.vms[0].demand()];
        for t in table2_templates() {
            assert_eq!(
                more_of(&host, &r.verdicts[0], &t, &policy),
                how_many_more(&host, &planned, &t, &policy),
                "{}",
                t.name
            );
        }
    }
}
