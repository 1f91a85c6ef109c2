//! Checking one host: eq. (1) for a list of VMs, and eq. (3) for "how many more".
//!
//! Eq. (1) says a VM can be created while `y_a > y_s | x, z`: its memory fits in what
//! is left of `y_a` (eq. 2), *given* the CPU condition `x` and the storage condition
//! `z`. [`evaluate`] applies it to every VM on a host in order (existing ones first,
//! then the planned ones), keeping a running total, and records a [`Violation`] for
//! each condition that breaks.
//!
//! The paper writes eq. (1) with a strict `>` but calls it approximate (`≅` in eq. 2);
//! since `y_os` is already held back, a VM that uses exactly the memory left is
//! accepted here (`y_s ≤ y_a − used`), which is also what bin packing expects.

use crate::capacity::model::{CapacityPolicy, HostSpec, VmDemand};
use crate::capacity::templates::Template;
use crate::capacity::units::{Bytes, MiB, Ppm, VcpuCount};
use serde::{Deserialize, Serialize};

/// Whether the disks named in a storage violation are thin, thick or a mix; only
/// changes how the message explains the fill fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinMix {
    /// No thin disk: counted at full size.
    None,
    /// Some thin, some thick.
    Some,
    /// All thin.
    All,
}

impl ThinMix {
    /// How a storage violation explains the fill fraction `fill` for these disks.
    fn fill_note(self, fill: Ppm) -> String {
        match self {
            ThinMix::All => format!(" at {fill} expected fill"),
            ThinMix::Some => format!(" (thin disks at {fill} expected fill)"),
            ThinMix::None => String::new(),
        }
    }

    fn of<'a, I: IntoIterator<Item = &'a VmDemand>>(vms: I) -> ThinMix {
        let (mut thin, mut thick) = (false, false);
        for vm in vms {
            if vm.thin {
                thin = true;
            } else {
                thick = true;
            }
        }
        match (thin, thick) {
            (true, false) => ThinMix::All,
            (true, true) => ThinMix::Some,
            (false, _) => ThinMix::None,
        }
    }
}

/// One broken condition of eq. (1), in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// `x` fails: no hardware virtualization and emulation not allowed.
    #[error("{host} has no hardware virtualization and emulation is not allowed")]
    NoVirtualization {
        /// Host name.
        host: String,
    },
    /// `y_s` does not fit in what is left of `y_a`.
    #[error("{vm} needs {needs}, {left} left on {host}")]
    Memory {
        /// VM name.
        vm: String,
        /// Host name.
        host: String,
        /// The VM's `y_s`.
        needs: MiB,
        /// `y_a` minus everything counted before this VM (zero once exhausted).
        left: MiB,
    },
    /// A single VM has more vCPUs than the host has logical CPUs.
    #[error("{vm} needs {needs}, {host} has {host_cpus} CPUs")]
    Vcpus {
        /// VM name.
        vm: String,
        /// Host name.
        host: String,
        /// The VM's vCPUs.
        needs: VcpuCount,
        /// The host's logical CPUs.
        host_cpus: u32,
    },
    /// `z` fails: the disks of `vms` (the first VM whose disks no longer fit and every
    /// one after it) need more than the pool has left for them.
    #[error(
        "disks of {} need {needs}{}, pool has {available} available on {host}",
        vms.join(", "),
        thin.fill_note(*thin_fill)
    )]
    Storage {
        /// Host name.
        host: String,
        /// The VMs whose disks do not fit, in evaluation order.
        vms: Vec<String>,
        /// Their disks, as counted (thin ones at the expected fill).
        needs: Bytes,
        /// Pool space left once the VMs before them are counted.
        available: Bytes,
        /// The expected fill used for thin disks.
        thin_fill: Ppm,
        /// Which of the disks are thin.
        thin: ThinMix,
    },
}

/// The outcome of [`evaluate`]: the paper's quantities for one host and what breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostVerdict {
    /// Host name.
    pub host: String,
    /// `y`.
    pub memory: MiB,
    /// `y_os`.
    pub os_reserve: MiB,
    /// `y_a = y − y_os` (eq. 2).
    pub available: MiB,
    /// Σ `y_s` of the host's existing VMs.
    pub used_existing: MiB,
    /// Σ `y_s` of the planned VMs.
    pub used_planned: MiB,
    /// `y_a − used`, or zero when overcommitted (then see `over_by`).
    pub free: MiB,
    /// `used − y_a` when overcommitted, else zero.
    pub over_by: MiB,
    /// Σ vCPUs (informational: vCPUs are overcommitted, see [`crate::capacity::model`]).
    pub vcpus: VcpuCount,
    /// Logical CPUs of the host.
    pub cpus: u32,
    /// Counted disk demand of existing VMs.
    pub storage_existing: Bytes,
    /// Counted disk demand of planned VMs.
    pub storage_planned: Bytes,
    /// `storage_existing + storage_planned`.
    pub storage_needed: Bytes,
    /// `z`: the pool space for VM disks.
    pub storage_available: Bytes,
    /// `z − needed`, or zero when short (then see `storage_over_by`).
    pub storage_free: Bytes,
    /// `needed − z` when short, else zero.
    pub storage_over_by: Bytes,
    /// Expected fill applied to thin disks.
    pub thin_fill: Ppm,
    /// The VMs will run under software emulation (no `hw_virt`, emulation allowed).
    pub emulated: bool,
    /// Broken conditions, in a fixed order: `x`, then memory and vCPU problems in VM
    /// order, then storage.
    pub violations: Vec<Violation>,
}

impl HostVerdict {
    /// No condition of eq. (1) is broken.
    pub fn fits(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Index of the first element whose running total exceeds `cap`; every later element
/// exceeds it too, because the totals only grow.
fn first_over(amounts: &[u64], cap: u64) -> Option<usize> {
    let mut total = 0u64;
    amounts.iter().position(|a| {
        total = total.saturating_add(*a);
        total > cap
    })
}

/// Applies eq. (1) to `host.existing` followed by `planned`.
///
/// Memory: the running sum of `y_s` is compared with `y_a`; the first VM that takes it
/// over and every VM after it get a [`Violation::Memory`] (each with what was left
/// before it), so the admin sees exactly which VMs would not start.
/// Storage works the same way but yields one [`Violation::Storage`] naming all those
/// VMs. `x` yields one [`Violation::NoVirtualization`] when there is any VM to run.
pub fn evaluate(host: &HostSpec, planned: &[VmDemand], policy: &CapacityPolicy) -> HostVerdict {
    let all: Vec<&VmDemand> = host.existing.iter().chain(planned.iter()).collect();
    let os_reserve = host.os_reserve_under(policy);
    let available = host.memory.saturating_sub(os_reserve);
    let thin_fill = policy.thin_fill_ppm();
    let mut violations = Vec::new();

    if !all.is_empty() && !host.can_virtualize() {
        violations.push(Violation::NoVirtualization {
            host: host.name.clone(),
        });
    }

    let mem: Vec<u64> = all.iter().map(|v| v.memory.get()).collect();
    if let Some(first) = first_over(&mem, available.get()) {
        let mut used = MiB::sum(all[..first].iter().map(|v| v.memory));
        for vm in &all[first..] {
            violations.push(Violation::Memory {
                vm: vm.name.clone(),
                host: host.name.clone(),
                needs: vm.memory,
                left: available.saturating_sub(used),
            });
            used = used.saturating_add(vm.memory);
        }
    }

    for vm in &all {
        if vm.vcpus.get() > host.cpus {
            violations.push(Violation::Vcpus {
                vm: vm.name.clone(),
                host: host.name.clone(),
                needs: vm.vcpus,
                host_cpus: host.cpus,
            });
        }
    }

    let disks: Vec<u64> = all.iter().map(|v| policy.counted_disk(v).get()).collect();
    if let Some(first) = first_over(&disks, host.pool_available.get()) {
        let before = Bytes::sum(disks[..first].iter().map(|d| Bytes(*d)));
        violations.push(Violation::Storage {
            host: host.name.clone(),
            vms: all[first..].iter().map(|v| v.name.clone()).collect(),
            needs: Bytes::sum(disks[first..].iter().map(|d| Bytes(*d))),
            available: host.pool_available.saturating_sub(before),
            thin_fill,
            thin: ThinMix::of(all[first..].iter().copied()),
        });
    }

    let used_existing = MiB::sum(host.existing.iter().map(|v| v.memory));
    let used_planned = MiB::sum(planned.iter().map(|v| v.memory));
    let used = used_existing.saturating_add(used_planned);
    let storage_existing = Bytes::sum(host.existing.iter().map(|v| policy.counted_disk(v)));
    let storage_planned = Bytes::sum(planned.iter().map(|v| policy.counted_disk(v)));
    let storage_needed = storage_existing.saturating_add(storage_planned);
    let vcpus = all
        .iter()
        .fold(VcpuCount(0), |acc, v| acc.saturating_add(v.vcpus));

    HostVerdict {
        host: host.name.clone(),
        memory: host.memory,
        os_reserve,
        available,
        used_existing,
        used_planned,
        free: available.saturating_sub(used),
        over_by: used.saturating_sub(available),
        vcpus,
        cpus: host.cpus,
        storage_existing,
        storage_planned,
        storage_needed,
        storage_available: host.pool_available,
        storage_free: host.pool_available.saturating_sub(storage_needed),
        storage_over_by: storage_needed.saturating_sub(host.pool_available),
        thin_fill,
        emulated: !all.is_empty() && !host.hw_virt && host.allow_emulation,
        violations,
    }
}

/// Eq. (3): how many more VMs of `template` fit on `host` after its existing VMs and
/// `planned`: `min(free memory / y_s, free pool / counted z_s)`, and zero when `x`
/// fails, when the host is already over any limit, or when one such VM has more vCPUs
/// than the host has CPUs.
///
/// A template that needs neither memory nor disk would fit without end; that returns
/// `u64::MAX` rather than dividing by zero.
pub fn how_many_more(
    host: &HostSpec,
    planned: &[VmDemand],
    template: &Template,
    policy: &CapacityPolicy,
) -> u64 {
    how_many_more_given(host, &evaluate(host, planned, policy), template, policy)
}

/// [`how_many_more`] from the host's `verdict` already at hand (what [`evaluate`]
/// said about its existing and planned VMs), so a caller that has just evaluated
/// the host (the layout editor, on every keystroke) does not evaluate it again.
/// The one place eq. (3) is computed.
pub fn how_many_more_given(
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
    use crate::capacity::templates::table2_templates;

    #[test]
    fn storage_violations_explain_the_fill_as_their_disks_need() {
        let (needs, available, fill) = (Bytes::from_gib(30), Bytes::from_gib(10), Ppm(500_000));
        let storage = |thin| Violation::Storage {
            host: "h".into(),
            vms: vec!["a".into(), "b".into()],
            needs,
            available,
            thin_fill: fill,
            thin,
        };
        let tail = format!(", pool has {available} available on h");
        assert_eq!(
            storage(ThinMix::All).to_string(),
            format!("disks of a, b need {needs} at {fill} expected fill{tail}")
        );
        assert_eq!(
            storage(ThinMix::Some).to_string(),
            format!("disks of a, b need {needs} (thin disks at {fill} expected fill){tail}")
        );
        assert_eq!(
            storage(ThinMix::None).to_string(),
            format!("disks of a, b need {needs}{tail}")
        );
    }

    /// The paper's HP ProLiant DL380 G8: 32 GB, 16 cores, VT-x. The pool is not given
    /// in the paper; 2 TiB is a plausible DL380 array.
    fn proliant() -> HostSpec {
        HostSpec::new("proliant-1", MiB(32768), 16, true, Bytes::from_tib(2))
    }

    /// Table 2's VMs: one of each sized template and 10 web servers.
    fn table2_vms() -> Vec<VmDemand> {
        let mut vms = Vec::new();
        for t in table2_templates() {
            for i in 1..=t.paper_count {
                let name = if t.paper_count == 1 {
                    t.name.to_lowercase().replace(' ', "-")
                } else {
                    format!("web-{i}")
                };
                vms.push(t.demand(name));
            }
        }
        vms
    }

    #[test]
    fn paper_server_with_table2_vms() {
        let p = CapacityPolicy::default();
        let vms = table2_vms();
        assert_eq!(vms.len(), 15);
        let v = evaluate(&proliant(), &vms, &p);
        assert_eq!(v.memory, MiB(32768));
        assert_eq!(v.os_reserve, MiB(2048));
        assert_eq!(v.available, MiB(30720));
        // 512 + 2000 + 10×1024 + 2000 + 4000 + 4000
        assert_eq!(v.used_planned, MiB(22752));
        assert_eq!(v.used_existing, MiB(0));
        assert_eq!(v.free, MiB(7968));
        assert_eq!(v.over_by, MiB(0));
        // (4 + 100 + 200 + 100 + 100 + 500) GiB at 50 %
        assert_eq!(v.storage_needed, Bytes::from_gib(502));
        assert_eq!(v.vcpus, VcpuCount(15));
        assert!(!v.emulated);
        assert!(v.fits(), "{:?}", v.violations);

        // Eq. (3): 7968 / 512 = 15.56 → 15 more Master DNS VMs.
        let dns = &table2_templates()[0];
        assert_eq!(how_many_more(&proliant(), &vms, dns, &p), 15);
        // The 16th does not fit: evaluate agrees with how_many_more.
        let mut more = vms.clone();
        more.extend((0..15).map(|i| dns.demand(format!("dns-{i}"))));
        assert!(evaluate(&proliant(), &more, &p).fits());
        more.push(dns.demand("dns-15"));
        let v = evaluate(&proliant(), &more, &p);
        assert_eq!(
            v.violations,
            vec![Violation::Memory {
                vm: "dns-15".into(),
                host: "proliant-1".into(),
                needs: MiB(512),
                left: MiB(288),
            }]
        );
        assert_eq!(v.over_by, MiB(224));
    }

    #[test]
    fn how_many_more_is_bounded_by_storage_when_the_pool_is_small() {
        let p = CapacityPolicy::default();
        let mut h = proliant();
        h.pool_available = Bytes::from_gib(512);
        // 502 GiB counted, 10 GiB left; a file server counts 250 GiB → none; DNS 2 GiB → 5.
        let t = table2_templates();
        assert_eq!(how_many_more(&h, &table2_vms(), &t[5], &p), 0);
        assert_eq!(how_many_more(&h, &table2_vms(), &t[0], &p), 5);
    }

    #[test]
    fn memory_violations_start_at_first_misfit_and_include_all_after() {
        let p = CapacityPolicy::default();
        let mut h = proliant();
        h.os_reserve = Some(MiB(2768)); // y_a = 30000
        h.existing = vec![VmDemand::new("big", MiB(24600), 1, Bytes::ZERO, false)];
        let planned: Vec<VmDemand> = (1..=5)
            .map(|i| VmDemand::new(format!("web-{i}"), MiB(2000), 1, Bytes::ZERO, false))
            .collect();
        let v = evaluate(&h, &planned, &p);
        let msgs: Vec<String> = v.violations.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "web-3 needs 2000 MiB, 1400 MiB left on proliant-1",
                "web-4 needs 2000 MiB, 0 MiB left on proliant-1",
                "web-5 needs 2000 MiB, 0 MiB left on proliant-1",
            ]
        );
        assert_eq!(v.used_existing, MiB(24600));
        assert_eq!(v.over_by, MiB(4600));
        assert_eq!(v.free, MiB(0));
        assert_eq!(how_many_more(&h, &planned, &table2_templates()[0], &p), 0);
        // The existing VM counts: without it everything fits.
        h.existing.clear();
        assert!(evaluate(&h, &planned, &p).fits());
    }

    #[test]
    fn emulation_rules() {
        let p = CapacityPolicy::default();
        let dns = &table2_templates()[0];
        let vm = vec![dns.demand("ns1")];
        let mut h = proliant();
        h.hw_virt = false;
        let v = evaluate(&h, &vm, &p);
        assert_eq!(
            v.violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>(),
            vec!["proliant-1 has no hardware virtualization and emulation is not allowed"]
        );
        assert_eq!(how_many_more(&h, &[], dns, &p), 0);
        // An empty host without virtualization is not itself a violation.
        assert!(evaluate(&h, &[], &p).fits());

        h.allow_emulation = true;
        let v = evaluate(&h, &vm, &p);
        assert!(v.fits());
        assert!(v.emulated);
        assert!(how_many_more(&h, &[], dns, &p) > 0);

        h.hw_virt = true;
        let v = evaluate(&h, &vm, &p);
        assert!(v.fits());
        assert!(!v.emulated);
    }

    #[test]
    fn thin_fill_changes_storage_and_message() {
        let mut p = CapacityPolicy {
            thin_fill: 0.25,
            ..CapacityPolicy::default()
        };
        let mut h = proliant();
        h.pool_available = Bytes::from_gib(100);
        h.existing = vec![VmDemand::new("ns1", MiB(512), 1, Bytes::from_gib(80), true)];
        // ns1 counts 20 GiB, leaving 80; two 240 GiB thin disks count 60 each.
        let planned = vec![
            VmDemand::new("files-1", MiB(512), 1, Bytes::from_gib(240), true),
            VmDemand::new("files-2", MiB(512), 1, Bytes::from_gib(240), true),
        ];
        let v = evaluate(&h, &planned, &p);
        assert_eq!(v.storage_existing, Bytes::from_gib(20));
        assert_eq!(v.storage_planned, Bytes::from_gib(120));
        assert_eq!(v.storage_over_by, Bytes::from_gib(40));
        assert_eq!(
            v.violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>(),
            vec![
                "disks of files-2 need 60 GiB at 25% expected fill, pool has 20 GiB available on proliant-1"
            ]
        );
        // Thick disks are counted in full; the message then omits the fill.
        let thick = vec![VmDemand::new("db", MiB(512), 1, Bytes::from_gib(90), false)];
        let v = evaluate(&h, &thick, &p);
        assert_eq!(
            v.violations[0].to_string(),
            "disks of db need 90 GiB, pool has 80 GiB available on proliant-1"
        );
        // Mixed thin/thick, all overflowing after the first.
        let mixed = vec![
            VmDemand::new("a", MiB(1), 1, Bytes::from_gib(400), true),
            VmDemand::new("b", MiB(1), 1, Bytes::from_gib(10), false),
        ];
        let v = evaluate(&h, &mixed, &p);
        assert_eq!(
            v.violations[0].to_string(),
            "disks of a, b need 110 GiB (thin disks at 25% expected fill), pool has 80 GiB available on proliant-1"
        );
        // The brief's example: nothing before them, both overflow.
        h.existing.clear();
        h.pool_available = Bytes::from_gib(80);
        let both = vec![
            VmDemand::new("files-1", MiB(512), 1, Bytes::from_gib(400), true),
            VmDemand::new("files-2", MiB(512), 1, Bytes::from_gib(80), true),
        ];
        assert_eq!(
            evaluate(&h, &both, &p).violations[0].to_string(),
            "disks of files-1, files-2 need 120 GiB at 25% expected fill, pool has 80 GiB available on proliant-1"
        );
        // A smaller fill makes them fit.
        p.thin_fill = 0.1;
        assert!(evaluate(&h, &planned, &p).fits());
    }

    #[test]
    fn vcpu_violation_and_message() {
        let p = CapacityPolicy::default();
        let vm = vec![VmDemand::new("hpc", MiB(1024), 32, Bytes::ZERO, false)];
        let v = evaluate(&proliant(), &vm, &p);
        assert_eq!(
            v.violations[0].to_string(),
            "hpc needs 32 vCPUs, proliant-1 has 16 CPUs"
        );
        let mut t = table2_templates()[0].clone();
        t.vcpus = VcpuCount(17);
        assert_eq!(how_many_more(&proliant(), &[], &t, &p), 0);
    }

    #[test]
    fn violations_are_ordered_x_memory_vcpu_storage() {
        let p = CapacityPolicy::default();
        let mut h = HostSpec::new("h", MiB(4096), 2, false, Bytes::from_gib(1));
        h.os_reserve = Some(MiB(0));
        let vms = vec![
            VmDemand::new("a", MiB(4000), 4, Bytes::from_gib(2), false),
            VmDemand::new("b", MiB(200), 1, Bytes::ZERO, false),
        ];
        let kinds: Vec<&str> = evaluate(&h, &vms, &p)
            .violations
            .iter()
            .map(|v| match v {
                Violation::NoVirtualization { .. } => "x",
                Violation::Memory { .. } => "mem",
                Violation::Vcpus { .. } => "cpu",
                Violation::Storage { .. } => "disk",
            })
            .collect();
        assert_eq!(kinds, vec!["x", "mem", "cpu", "disk"]);
    }

    #[test]
    fn zero_sized_template_is_unbounded() {
        let p = CapacityPolicy::default();
        let mut t = table2_templates()[0].clone();
        t.memory = MiB(0);
        t.disk = Bytes::ZERO;
        assert_eq!(how_many_more(&proliant(), &[], &t, &p), u64::MAX);
    }
}
