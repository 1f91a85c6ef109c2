//! Hosts, VM demands and the capacity policy: the inputs of eqs. (1)–(3).
//!
//! The paper describes a physical server by `(x, y, z)` and a VM by `(x_s, y_s, z_s)`.
//! Here:
//!
//! | paper | field |
//! |-------|-------|
//! | `x` (CPU "supports virtualization") | [`HostSpec::hw_virt`], relaxed by [`HostSpec::allow_emulation`] |
//! | `y` (dynamic memory) | [`HostSpec::memory`] |
//! | `y_os` (memory of the OS running virtualization) | [`HostSpec::os_reserve`] or [`CapacityPolicy::default_os_reserve`] |
//! | `z` (permanent storage, "dynamically allocated and adequate") | [`HostSpec::pool_available`] |
//! | `y_s` | [`VmDemand::memory`] |
//! | `z_s` | [`VmDemand::disk`], scaled by [`CapacityPolicy::thin_fill`] when [`VmDemand::thin`] |
//!
//! The paper's `x_s` is "processing speed"; the condition it actually states on `x` is
//! only that the CPU supports virtualization, so vCPUs are not pooled against cores
//! (KVM and VirtualBox both overcommit vCPUs routinely). The one vCPU rule kept is
//! that a single VM cannot have more vCPUs than the host has logical CPUs, which
//! hypervisors refuse or run very badly.

use crate::capacity::units::{Bytes, MiB, Ppm, VcpuCount};
use serde::{Deserialize, Serialize};

/// What one VM asks of a host: the paper's `(x_s, y_s, z_s)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmDemand {
    /// VM name, used in messages.
    pub name: String,
    /// `y_s`: guest memory.
    pub memory: MiB,
    /// Virtual CPUs.
    pub vcpus: VcpuCount,
    /// `z_s`: total virtual size of the VM's disks.
    pub disk: Bytes,
    /// Disks are thin-provisioned ("dynamic storage" in the paper's Table 2): only the
    /// expected fill fraction of `disk` is counted against the pool.
    pub thin: bool,
}

impl VmDemand {
    /// Convenience constructor.
    pub fn new(name: impl Into<String>, memory: MiB, vcpus: u32, disk: Bytes, thin: bool) -> Self {
        VmDemand {
            name: name.into(),
            memory,
            vcpus: VcpuCount(vcpus),
            disk,
            thin,
        }
    }
}

/// A physical host: the paper's `(x, y, z)` plus what already runs on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSpec {
    /// Host name; should be unique (fixed placements use the first host of a name).
    pub name: String,
    /// `y`: installed memory.
    pub memory: MiB,
    /// `y_os`: memory kept for the host OS and hypervisor. `None` means "use
    /// [`CapacityPolicy::default_os_reserve`]". An `Option` rather than a bare `MiB`
    /// because `0` is a legitimate (if unwise) explicit choice and must not be
    /// confused with "not set".
    #[serde(default)]
    pub os_reserve: Option<MiB>,
    /// Logical CPUs (the paper's server: 16).
    pub cpus: u32,
    /// `x`: the CPU has hardware virtualization (VT-x/AMD-V) enabled.
    pub hw_virt: bool,
    /// Without `hw_virt`, the admin accepts running guests under software emulation
    /// (QEMU TCG / VirtualBox software mode): slow, but it satisfies `x`.
    #[serde(default)]
    pub allow_emulation: bool,
    /// `z`: space of the host's storage pool for VM disks, *before* any of
    /// [`HostSpec::existing`] is counted (so, libvirt's pool capacity less whatever
    /// non-VM data lives on it). Existing VMs' disks are counted against it at the same
    /// expected fill as new ones, because thin disks keep growing towards that fill;
    /// using the pool's current free space would count them twice.
    pub pool_available: Bytes,
    /// VMs already defined on this host. They use memory and storage exactly as
    /// planned ones do and are counted first.
    #[serde(default)]
    pub existing: Vec<VmDemand>,
}

impl HostSpec {
    /// A host with no explicit OS reserve, no emulation and no existing VMs.
    pub fn new(
        name: impl Into<String>,
        memory: MiB,
        cpus: u32,
        hw_virt: bool,
        pool_available: Bytes,
    ) -> Self {
        HostSpec {
            name: name.into(),
            memory,
            os_reserve: None,
            cpus,
            hw_virt,
            allow_emulation: false,
            pool_available,
            existing: Vec::new(),
        }
    }

    /// `y_os` for this host under `policy`.
    pub fn os_reserve_under(&self, policy: &CapacityPolicy) -> MiB {
        policy.os_reserve(self.os_reserve, self.memory)
    }

    /// Eq. (2): `y_a = y − y_os` (zero when the reserve exceeds the memory).
    pub fn available_memory(&self, policy: &CapacityPolicy) -> MiB {
        self.memory.saturating_sub(self.os_reserve_under(policy))
    }

    /// The `x` condition of eq. (1): guests can run at all.
    pub fn can_virtualize(&self) -> bool {
        self.hw_virt || self.allow_emulation
    }
}

/// How `y_os` is chosen for a host that does not set one: `max(floor, percent% of y)`.
///
/// The default, 2048 MiB or 5 % of the host's memory whichever is larger, is sized for
/// a KVM host such as the paper's (Ubuntu server + hypervisor):
/// * a minimal Ubuntu/Debian server with libvirtd, sshd and monitoring agents (the
///   paper runs Nagios and Amanda) sits around 0.5–1 GiB, and the page cache for the
///   storage pool and bursts from backups need another GiB: hence a 2 GiB floor;
/// * each QEMU process adds its own overhead (device emulation, page tables, vhost
///   buffers), roughly proportional to the memory it manages; 5 % covers that on large
///   hosts, where a fixed 2 GiB would be too little.
///
/// For the paper's 32 GB server this gives 2048 MiB (5 % would be 1638 MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsReserve {
    /// Never reserve less than this.
    pub floor: MiB,
    /// Share of the host's memory to reserve, in percent (values above 100 count as 100).
    pub percent: u8,
}

impl OsReserve {
    /// `max(floor, percent% of memory)`, rounding the percentage down.
    pub fn for_memory(&self, memory: MiB) -> MiB {
        let pct = u128::from(self.percent.min(100));
        let share = u128::from(memory.get()) * pct / 100;
        // share <= memory, so it fits in u64.
        let share = MiB(u64::try_from(share).unwrap_or(u64::MAX));
        share.max(self.floor)
    }
}

impl Default for OsReserve {
    fn default() -> Self {
        OsReserve {
            floor: MiB(2048),
            percent: 5,
        }
    }
}

/// Tunables of the capacity checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPolicy {
    /// Expected fill fraction (0..=1) of thin-provisioned disks: a thin disk of virtual
    /// size `d` counts as `ceil(d × thin_fill)` bytes against the pool.
    ///
    /// Default **0.5**. The paper only asks that storage be "dynamically allocated and
    /// adequate"; how full thin disks get is site knowledge. 0.5 (a 2:1 overcommit) is
    /// chosen over something like 0.25 because the two ways of being wrong are not
    /// symmetric: guessing too high only warns early, while guessing too low lets a
    /// pool run out, and a full pool pauses *every* guest writing to it (QEMU stops
    /// VMs on ENOSPC). Sites with measured fill rates should set their own value.
    ///
    /// Values outside 0..=1 are clamped; NaN counts as 1 (thick), the safe reading.
    pub thin_fill: f64,
    /// `y_os` for hosts that do not set [`HostSpec::os_reserve`].
    pub default_os_reserve: OsReserve,
}

impl Default for CapacityPolicy {
    fn default() -> Self {
        CapacityPolicy {
            thin_fill: 0.5,
            default_os_reserve: OsReserve::default(),
        }
    }
}

impl CapacityPolicy {
    /// `y_os` of a host with `memory`: its own setting, else the default
    /// reserve for that much memory.
    pub fn os_reserve(&self, setting: Option<MiB>, memory: MiB) -> MiB {
        setting.unwrap_or_else(|| self.default_os_reserve.for_memory(memory))
    }

    /// [`CapacityPolicy::thin_fill`] as the integer parts-per-million the checks use.
    /// Integer so that sums are exact and reproducible.
    pub fn thin_fill_ppm(&self) -> Ppm {
        let f = self.thin_fill;
        if f.is_nan() {
            return Ppm(1_000_000);
        }
        let clamped = f.clamp(0.0, 1.0);
        // In 0..=1_000_000 after clamping, so the cast cannot truncate.
        Ppm((clamped * 1_000_000.0).round() as u32)
    }

    /// The share of the pool a VM's disks are counted as needing (`z_s` after thin
    /// provisioning).
    pub fn counted_disk(&self, vm: &VmDemand) -> Bytes {
        if vm.thin {
            vm.disk.scale_ppm_ceil(self.thin_fill_ppm().0)
        } else {
            vm.disk
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_reserve_is_floor_on_paper_server_and_percent_on_big_hosts() {
        let p = CapacityPolicy::default();
        let paper = HostSpec::new("proliant-1", MiB(32768), 16, true, Bytes::ZERO);
        assert_eq!(paper.os_reserve_under(&p), MiB(2048));
        assert_eq!(paper.available_memory(&p), MiB(30720));
        let big = HostSpec::new("big", MiB::from_gib(256), 64, true, Bytes::ZERO);
        assert_eq!(big.os_reserve_under(&p), MiB(13107));
    }

    #[test]
    fn explicit_reserve_wins_even_when_zero_and_can_exceed_memory() {
        let p = CapacityPolicy::default();
        let mut h = HostSpec::new("h", MiB(4096), 4, true, Bytes::ZERO);
        h.os_reserve = Some(MiB(0));
        assert_eq!(h.available_memory(&p), MiB(4096));
        h.os_reserve = Some(MiB(8192));
        assert_eq!(h.available_memory(&p), MiB(0));
    }

    #[test]
    fn thin_fill_is_clamped_and_nan_is_thick() {
        let mut p = CapacityPolicy::default();
        let vm = VmDemand::new("v", MiB(1), 1, Bytes::from_gib(100), true);
        assert_eq!(p.counted_disk(&vm), Bytes::from_gib(50));
        p.thin_fill = f64::NAN;
        assert_eq!(p.counted_disk(&vm), Bytes::from_gib(100));
        p.thin_fill = -3.0;
        assert_eq!(p.counted_disk(&vm), Bytes::ZERO);
        p.thin_fill = 7.0;
        assert_eq!(p.counted_disk(&vm), Bytes::from_gib(100));
        p.thin_fill = 0.25;
        let thick = VmDemand { thin: false, ..vm };
        assert_eq!(p.counted_disk(&thick), Bytes::from_gib(100));
    }
}
