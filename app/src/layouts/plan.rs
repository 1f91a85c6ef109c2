//! The plan: what applying a layout would do, computed from the layout and
//! what libvirt reports, before anything is touched.
//!
//! Two steps, both pure and deterministic:
//!
//! 1. [`resolve`] puts every VM on a host: pinned VMs where pinned, "auto"
//!    VMs that already exist on a host where they are (so a second apply does
//!    not create them again elsewhere), the rest by [`capacity::place`].
//!    A layout VM that already exists is counted once, with the layout's
//!    sizes (the VM as libvirt reports it is taken out of the host's
//!    existing VMs). Each host used gets its eq. (1) verdict.
//! 2. [`plan`] compares each placed VM with the host's VM of that name:
//!    create, change (memory, vCPUs), unchanged; and lists the host's VMs
//!    the layout does not name ("extra"), which are only ever removed when
//!    the admin ticks them.

use crate::capacity::{
    self, evaluate, Bytes, CapacityPolicy, HostSpec, HostVerdict, PlacementRequest, VmDemand,
};
use crate::hosts::types::{HostCapacity, PoolInfo, VmInfo, VmState};
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
    /// Hosts holding any VM once the layout is placed (layout VMs or others).
    pub hosts_in_use: usize,
    /// No placement of the VMs placed uses fewer hosts (see
    /// [`capacity::Placement::lower_bound_hosts`]).
    pub lower_bound_hosts: usize,
    /// The placement is proven to use the fewest hosts possible (see
    /// [`capacity::Placement::proven_optimal`]).
    pub proven_optimal: bool,
}

impl Resolved {
    /// The hosts in use and how far that may be from the fewest possible, e.g.
    /// "3, the fewest possible (proven)" or "5, at least 4 needed (not proven the
    /// fewest)".
    pub fn hosts_summary(&self) -> String {
        if self.proven_optimal {
            format!("{}, the fewest possible (proven)", self.hosts_in_use)
        } else {
            format!(
                "{}, at least {} needed (not proven the fewest)",
                self.hosts_in_use, self.lower_bound_hosts
            )
        }
    }
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
        hosts_in_use: placed.hosts_used.len(),
        lower_bound_hosts: placed.lower_bound_hosts,
        proven_optimal: placed.proven_optimal,
    }
}

/// The pool layout volumes go to: `preferred` when given (started or not:
/// apply then says it is not started), else `default` when it is started,
/// else the first started pool.
pub fn pick_pool<'a>(capacity: &'a HostCapacity, preferred: Option<&str>) -> Option<&'a PoolInfo> {
    if let Some(name) = preferred {
        return capacity.pools.iter().find(|p| p.name == name);
    }
    capacity
        .pools
        .iter()
        .find(|p| p.active && p.name == "default")
        .or_else(|| capacity.pools.iter().find(|p| p.active))
}

/// The space of `pool` (see [`pick_pool`]) for VM disks: its free bytes
/// plus what the VMs' disks already hold there, at most its capacity (as
/// `store::host_spec` counts it for the default pool), since existing VMs
/// are counted against it again.
pub fn pool_space(capacity: &HostCapacity, vms: &[VmInfo], pool: Option<&str>) -> Bytes {
    pick_pool(capacity, pool).map_or(Bytes::ZERO, |p| {
        let vm_alloc: u64 = vms
            .iter()
            .flat_map(|v| &v.disks)
            .filter_map(|d| d.allocation)
            .fold(0, u64::saturating_add);
        Bytes(p.available.saturating_add(vm_alloc).min(p.capacity))
    })
}

/// What applying does to one VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanAction {
    /// Not on the host: create its volume, define it.
    Create {
        /// Volume to create (`<vm>.qcow2`), `None` without a disk.
        volume: Option<String>,
    },
    /// On the host with other sizes: redefine its persistent configuration.
    Change {
        /// Memory now, MiB.
        memory_from: u64,
        /// vCPUs now.
        vcpus_from: u32,
        /// It runs: the new sizes take effect when it is next started.
        running: bool,
    },
    /// Running with its old sizes, but its definition already has the
    /// planned ones (an earlier apply changed it): they take effect when it
    /// is next started from off. Nothing to do.
    Pending {
        /// Memory it runs with, MiB.
        memory_from: u64,
        /// vCPUs it runs with.
        vcpus_from: u32,
    },
    /// On the host as planned.
    Unchanged,
}

/// What a resize changes, naming only the sizes that differ: "memory 512 →
/// 768 MiB", "vCPUs 2 → 1", or both joined by a comma. The plan view and the
/// apply's step messages say it the same way.
pub fn resize_summary(memory_from: u64, memory_to: u64, vcpus_from: u32, vcpus_to: u32) -> String {
    let mut parts = Vec::new();
    if memory_from != memory_to {
        parts.push(format!("memory {memory_from} → {memory_to} MiB"));
    }
    if vcpus_from != vcpus_to {
        parts.push(format!("vCPUs {vcpus_from} → {vcpus_to}"));
    }
    if parts.is_empty() {
        // A change with equal sizes is not planned; say so rather than nothing.
        parts.push(format!("{memory_to} MiB, {vcpus_to} vCPUs as now"));
    }
    parts.join(", ")
}

/// One layout VM in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// VM name.
    pub vm: String,
    /// Host it goes to.
    pub host: String,
    /// Placed by "auto".
    pub auto: bool,
    /// What to do.
    pub action: PlanAction,
    /// Planned memory, MiB.
    pub memory_mib: u64,
    /// Planned vCPUs.
    pub vcpus: u32,
    /// Planned disk, GiB (0 = none).
    pub disk_gib: u64,
    /// NIC (`network:default`, `bridge:br0`, `none`).
    pub network: String,
    /// Start it after apply (asked by the layout and not running yet).
    pub start: bool,
}

/// A VM on one of the layout's hosts that the layout does not name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraVm {
    /// Host.
    pub host: String,
    /// VM name.
    pub vm: String,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// vCPUs.
    pub vcpus: u32,
    /// State now.
    pub state: VmState,
}

/// The difference between a layout and the hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Layout name.
    pub layout: String,
    /// Placed layout VMs, in layout order.
    pub items: Vec<PlanItem>,
    /// VMs on the layout's hosts not in the layout; kept unless ticked.
    pub extra: Vec<ExtraVm>,
    /// Placement and verdicts (apply refuses when it does not fit).
    pub resolved: Resolved,
}

impl Plan {
    /// Nothing to create, change or start.
    pub fn is_noop(&self) -> bool {
        self.items.iter().all(|i| {
            matches!(i.action, PlanAction::Unchanged | PlanAction::Pending { .. }) && !i.start
        })
    }

    /// Counts of (create, change, unchanged or pending a restart).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for i in &self.items {
            match i.action {
                PlanAction::Create { .. } => c.0 += 1,
                PlanAction::Change { .. } => c.1 += 1,
                PlanAction::Unchanged | PlanAction::Pending { .. } => c.2 += 1,
            }
        }
        c
    }
}

impl Plan {
    /// Marks as [`PlanAction::Pending`] the running VMs to change whose
    /// definition already holds the planned sizes: `resized(host, vm)` gives
    /// the (memory MiB, vCPUs) an earlier apply wrote, if any.
    pub fn mark_pending(&mut self, resized: impl Fn(&str, &str) -> Option<(u64, u32)>) {
        for item in &mut self.items {
            if let PlanAction::Change {
                memory_from,
                vcpus_from,
                running: true,
            } = item.action
            {
                if resized(&item.host, &item.vm) == Some((item.memory_mib, item.vcpus)) {
                    item.action = PlanAction::Pending {
                        memory_from,
                        vcpus_from,
                    };
                }
            }
        }
    }
}

/// The plan for `spec` on `hosts`, whose VMs libvirt reports as `vms`
/// (host name → VMs). `hosts[].existing` should describe the same VMs.
pub fn plan(
    spec: &LayoutSpec,
    hosts: &[HostSpec],
    vms: &BTreeMap<String, Vec<VmInfo>>,
    policy: &CapacityPolicy,
) -> Plan {
    let resolved = resolve(spec, hosts, policy);
    let none: Vec<VmInfo> = Vec::new();
    let mut items = Vec::new();
    let mut named: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (vm, placed) in spec.vms.iter().zip(&resolved.placement) {
        let Some(host) = &placed.host else { continue };
        named.entry(host).or_default().insert(vm.name.as_str());
        let current = vms
            .get(host)
            .unwrap_or(&none)
            .iter()
            .find(|v| v.name == vm.name);
        let action = match current {
            None => PlanAction::Create {
                volume: (vm.disk_gib > 0).then(|| vm.volume_name()),
            },
            Some(c) if c.memory_mib != vm.memory_mib || c.vcpus != vm.vcpus => PlanAction::Change {
                memory_from: c.memory_mib,
                vcpus_from: c.vcpus,
                running: c.state == VmState::Running,
            },
            Some(_) => PlanAction::Unchanged,
        };
        let running = current.is_some_and(|c| c.state == VmState::Running);
        items.push(PlanItem {
            vm: vm.name.clone(),
            host: host.clone(),
            auto: placed.auto,
            action,
            memory_mib: vm.memory_mib,
            vcpus: vm.vcpus,
            disk_gib: vm.disk_gib,
            network: vm.network.to_string(),
            start: vm.start && !running,
        });
    }
    let mut extra = Vec::new();
    for h in hosts {
        let Some(names) = named.get(h.name.as_str()) else {
            continue;
        };
        for v in vms.get(&h.name).unwrap_or(&none) {
            if !names.contains(v.name.as_str()) {
                extra.push(ExtraVm {
                    host: h.name.clone(),
                    vm: v.name.clone(),
                    memory_mib: v.memory_mib,
                    vcpus: v.vcpus,
                    state: v.state,
                });
            }
        }
    }
    Plan {
        layout: spec.name.clone(),
        items,
        extra,
        resolved,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn resize_summary_names_only_what_changes() {
        use super::resize_summary;
        assert_eq!(resize_summary(2000, 2000, 2, 1), "vCPUs 2 → 1");
        assert_eq!(resize_summary(512, 768, 1, 1), "memory 512 → 768 MiB");
        assert_eq!(
            resize_summary(512, 768, 1, 2),
            "memory 512 → 768 MiB, vCPUs 1 → 2"
        );
    }

    use super::*;
    use crate::capacity::MiB;
    use crate::layouts::model::{LayoutVm, Nic};

    fn lvm(name: &str, mem: u64, host: &str) -> LayoutVm {
        LayoutVm {
            image: None,
            packages: Vec::new(),
            commands: Vec::new(),
            user_data: None,
            name: name.into(),
            template: None,
            vcpus: 1,
            memory_mib: mem,
            disk_gib: 4,
            host: host.to_string().into(),
            network: Nic::default(),
            ip: None,
            fqdn: None,
            start: true,
        }
    }

    fn info(name: &str, mem: u64, vcpus: u32, state: VmState) -> VmInfo {
        VmInfo {
            name: name.into(),
            uuid: String::new(),
            state,
            vcpus,
            memory_mib: mem,
            disks: vec![],
            autostart: false,
            persistent: true,
            addresses: vec![],
            consoles: Default::default(),
        }
    }

    fn host(name: &str, mem_gib: u64, vms: &[VmInfo]) -> HostSpec {
        let mut h = HostSpec::new(
            name,
            MiB::from_gib(mem_gib),
            16,
            true,
            Bytes::from_gib(1000),
        );
        h.existing = vms
            .iter()
            .map(|v| {
                VmDemand::new(
                    v.name.clone(),
                    MiB(v.memory_mib),
                    v.vcpus,
                    Bytes::ZERO,
                    true,
                )
            })
            .collect();
        h
    }

    fn layout(vms: Vec<LayoutVm>) -> LayoutSpec {
        LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: "t".into(),
            description: String::new(),
            vms,
        }
    }

    #[test]
    fn create_change_unchanged_and_extra() {
        let on_h1 = vec![
            info("same", 512, 1, VmState::Running),
            info("bigger", 512, 1, VmState::Running),
            info("stranger", 1024, 2, VmState::ShutOff),
        ];
        let hosts = vec![host("h1", 32, &on_h1), host("h2", 32, &[])];
        let vms = BTreeMap::from([("h1".to_string(), on_h1)]);
        let spec = layout(vec![
            lvm("same", 512, "h1"),
            lvm("bigger", 2000, "h1"),
            lvm("new", 1000, "h1"),
        ]);
        let p = plan(&spec, &hosts, &vms, &CapacityPolicy::default());
        assert!(p.resolved.fits);
        assert_eq!(p.items[0].action, PlanAction::Unchanged);
        assert!(!p.items[0].start, "already running");
        assert_eq!(
            p.items[1].action,
            PlanAction::Change {
                memory_from: 512,
                vcpus_from: 1,
                running: true
            }
        );
        assert_eq!(
            p.items[2].action,
            PlanAction::Create {
                volume: Some("new.qcow2".into())
            }
        );
        assert!(p.items[2].start);
        assert_eq!(p.counts(), (1, 1, 1));
        // Once the definition holds the new sizes, only a restart is left.
        let mut again = p.clone();
        again.mark_pending(|h, vm| (h == "h1" && vm == "bigger").then_some((2000, 1)));
        assert_eq!(
            again.items[1].action,
            PlanAction::Pending {
                memory_from: 512,
                vcpus_from: 1
            }
        );
        let mut other = p.clone();
        other.mark_pending(|_, _| Some((4000, 1)));
        assert!(matches!(other.items[1].action, PlanAction::Change { .. }));
        assert_eq!(p.extra.len(), 1);
        assert_eq!(p.extra[0].vm, "stranger");
        // Layout VMs are counted once, with the layout's sizes.
        let v = &p.resolved.verdicts[0];
        assert_eq!(v.used_existing, MiB(1024));
        assert_eq!(v.used_planned, MiB(512 + 2000 + 1000));
    }

    #[test]
    fn auto_vms_stay_where_they_already_are_so_reapply_is_a_noop() {
        let spec = layout(vec![lvm("a", 4096, "auto"), lvm("b", 4096, "auto")]);
        let hosts = vec![host("h1", 8, &[]), host("h2", 32, &[])];
        let first = plan(&spec, &hosts, &BTreeMap::new(), &CapacityPolicy::default());
        assert!(first.resolved.fits);
        // Pretend apply ran: each VM now exists where it was placed.
        let mut vms: BTreeMap<String, Vec<VmInfo>> = BTreeMap::new();
        for i in &first.items {
            vms.entry(i.host.clone()).or_default().push(info(
                &i.vm,
                i.memory_mib,
                i.vcpus,
                VmState::Running,
            ));
        }
        let after: Vec<HostSpec> = hosts
            .iter()
            .map(|h| {
                host(
                    &h.name,
                    h.memory.get() / 1024,
                    vms.get(&h.name).map_or(&[][..], |v| v),
                )
            })
            .collect();
        let second = plan(&spec, &after, &vms, &CapacityPolicy::default());
        assert!(second.resolved.fits, "{:?}", second.resolved);
        assert!(second.is_noop(), "{:?}", second.items);
        for (a, b) in first.items.iter().zip(&second.items) {
            assert_eq!(a.host, b.host);
        }
        assert!(second.resolved.placement.iter().all(|p| p.existing));
        assert!(second.extra.is_empty());
    }

    #[test]
    fn pinned_overcommit_is_named_with_numbers_and_auto_overflow_is_unplaced() {
        // 32 GiB host: y_a = 30720 MiB.
        let spec = layout(vec![
            lvm("big", 30000, "h1"),
            lvm("web-3", 2000, "h1"),
            lvm("web-9", 40000, "auto"),
        ]);
        let r = resolve(&spec, &[host("h1", 32, &[])], &CapacityPolicy::default());
        assert!(!r.fits);
        let v = &r.verdicts[0];
        assert_eq!(
            v.violations[0].to_string(),
            "web-3 needs 2000 MiB, 720 MiB left on h1"
        );
        assert_eq!(r.placement[1].host, None);
        let names: Vec<&str> = r.unplaced.iter().map(|u| u.vm.as_str()).collect();
        assert_eq!(names, ["web-3", "web-9"]);
        assert!(
            r.unplaced[1].reason.contains("fits nowhere"),
            "{}",
            r.unplaced[1].reason
        );
    }

    #[test]
    fn resolved_says_whether_the_hosts_in_use_are_the_fewest() {
        // 6+4, 5+3+2, 4+3+3 GiB fill three 10 GiB hosts exactly (no OS reserve);
        // first fit needs four, the exact search finds three and proves it.
        let sizes = [6, 5, 4, 4, 3, 3, 3, 2];
        let spec = layout(
            sizes
                .iter()
                .enumerate()
                .map(|(i, g)| lvm(&format!("v{i}"), g * 1024, "auto"))
                .collect(),
        );
        let hosts: Vec<HostSpec> = (0..4)
            .map(|i| {
                let mut h = host(&format!("h{i}"), 10, &[]);
                h.os_reserve = Some(MiB(0));
                h
            })
            .collect();
        let r = resolve(&spec, &hosts, &CapacityPolicy::default());
        assert!(r.fits);
        assert_eq!((r.hosts_in_use, r.lower_bound_hosts), (3, 3));
        assert!(r.proven_optimal);
        assert_eq!(r.hosts_summary(), "3, the fewest possible (proven)");
        let not_proven = Resolved {
            hosts_in_use: 5,
            lower_bound_hosts: 4,
            proven_optimal: false,
            ..r
        };
        assert_eq!(
            not_proven.hosts_summary(),
            "5, at least 4 needed (not proven the fewest)"
        );
    }

    #[test]
    fn pinned_to_a_missing_host_is_unplaced() {
        let spec = layout(vec![lvm("a", 512, "nowhere")]);
        let r = resolve(&spec, &[host("h1", 32, &[])], &CapacityPolicy::default());
        assert!(!r.fits);
        assert!(r.unplaced[0].reason.contains("does not exist"));
        assert_eq!(r.verdicts.len(), 1);
        assert_eq!(r.verdicts[0].used_planned, MiB(0));
    }

    #[test]
    fn same_input_same_plan() {
        let spec = layout(
            (0..40)
                .map(|i| lvm(&format!("vm-{i}"), 500 + 97 * (i % 7), "auto"))
                .collect(),
        );
        let hosts: Vec<HostSpec> = (0..6)
            .map(|i| host(&format!("h{i}"), 8 + 4 * i, &[]))
            .collect();
        let a = plan(&spec, &hosts, &BTreeMap::new(), &CapacityPolicy::default());
        let b = plan(&spec, &hosts, &BTreeMap::new(), &CapacityPolicy::default());
        assert_eq!(a, b);
        assert!(a.resolved.fits);
        for v in &a.resolved.verdicts {
            assert!(v.fits(), "{v:?}");
        }
    }

    #[test]
    fn pool_space_counts_free_space_and_vm_disks() {
        use crate::hosts::types::DiskInfo;
        let cap = HostCapacity {
            memory_total_mib: 32768,
            memory_free_mib: 0,
            cpu_model: String::new(),
            sockets: 1,
            cores: 1,
            threads: 1,
            cpus: 16,
            mhz: 0,
            hw_virt: true,
            pools: vec![
                PoolInfo {
                    name: "other".into(),
                    capacity: 10,
                    allocation: 0,
                    available: 10,
                    active: true,
                },
                PoolInfo {
                    name: "default".into(),
                    capacity: 1000,
                    allocation: 300,
                    available: 700,
                    active: true,
                },
            ],
            networks: vec![],
        };
        let mut v = info("a", 512, 1, VmState::Running);
        v.disks = vec![DiskInfo {
            target: "vda".into(),
            path: None,
            capacity: Some(400),
            allocation: Some(100),
        }];
        let vms = [v];
        assert_eq!(
            pick_pool(&cap, None).map(|p| p.name.as_str()),
            Some("default")
        );
        assert_eq!(pool_space(&cap, &vms, None), Bytes(800));
        assert_eq!(pool_space(&cap, &vms, Some("other")), Bytes(10));
        assert_eq!(pool_space(&cap, &vms, Some("missing")), Bytes::ZERO);
    }
}
