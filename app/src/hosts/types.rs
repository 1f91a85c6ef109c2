//! What the libvirt layer reports and takes (capacity, VMs, events, a new
//! VM's spec), as plain data the pages share.
//!
//! They are deliberately free of libvirt types so the browser build can
//! use them without linking libvirt. Sizes are named by unit (`_mib`) or
//! documented as bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What a physical host offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostCapacity {
    /// Physical memory, MiB.
    pub memory_total_mib: u64,
    /// Free memory, MiB. When the driver cannot tell (the test driver),
    /// total minus the memory of running VMs.
    pub memory_free_mib: u64,
    /// CPU model as a person would name it, e.g. "Intel Xeon E5620 @ 2.40GHz".
    pub cpu_model: String,
    /// Total CPU sockets (all NUMA nodes).
    pub sockets: u32,
    /// Cores per socket.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
    /// Logical CPUs.
    pub cpus: u32,
    /// Nominal clock, MHz.
    pub mhz: u32,
    /// Hardware virtualisation usable: the capabilities offer a `kvm` domain type.
    pub hw_virt: bool,
    /// Storage pools.
    pub pools: Vec<PoolInfo>,
    /// Virtual networks.
    pub networks: Vec<NetInfo>,
}

/// A storage pool. Sizes in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolInfo {
    /// Pool name.
    pub name: String,
    /// Size, bytes.
    pub capacity: u64,
    /// Used, bytes.
    pub allocation: u64,
    /// Still free, bytes.
    pub available: u64,
    /// Whether the pool is started.
    pub active: bool,
}

/// A libvirt virtual network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetInfo {
    /// Network name.
    pub name: String,
    /// Whether it is started.
    pub active: bool,
    /// Host bridge it uses, if any.
    pub bridge: Option<String>,
    /// `<forward mode=…>`: "nat", "bridge", "route", …; `None` = isolated.
    pub forward_mode: Option<String>,
}

/// Lifecycle state of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    /// Running (or blocked on I/O, which is running for a person).
    Running,
    /// Paused by an administrator or by libvirt.
    Paused,
    /// Not running.
    ShutOff,
    /// Being shut down.
    ShuttingDown,
    /// The guest crashed.
    Crashed,
    /// Suspended by the guest's power management (S3/S4).
    Suspended,
    /// Anything libvirt reports that we do not know.
    Other,
}

impl VmState {
    /// Words for the console.
    pub fn label(self) -> &'static str {
        match self {
            VmState::Running => "running",
            VmState::Paused => "paused",
            VmState::ShutOff => "shut off",
            VmState::ShuttingDown => "shutting down",
            VmState::Crashed => "crashed",
            VmState::Suspended => "suspended",
            VmState::Other => "other",
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A disk of a VM. Sizes in bytes, `None` when libvirt cannot tell (e.g.
/// the image is missing); a missing figure never fails the listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    /// Guest device, e.g. "vda".
    pub target: String,
    /// Image file or block device on the host.
    pub path: Option<String>,
    /// Virtual size, bytes.
    pub capacity: Option<u64>,
    /// Space used on the host, bytes.
    pub allocation: Option<u64>,
}

/// One VM as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmInfo {
    /// Name (unique per host).
    pub name: String,
    /// libvirt UUID.
    pub uuid: String,
    /// Current state.
    pub state: VmState,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Disks (device="disk" only; CD-ROMs are left out).
    pub disks: Vec<DiskInfo>,
    /// Started when the host boots.
    pub autostart: bool,
    /// Has a stored definition (transient VMs vanish when stopped).
    pub persistent: bool,
    /// Guest IP addresses libvirt knows (DHCP leases, ARP); may be empty.
    pub addresses: Vec<String>,
    /// The consoles its definition has.
    #[serde(default)]
    pub consoles: Consoles,
}

/// The consoles a VM's definition gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consoles {
    /// A VNC screen (`<graphics type='vnc'>`).
    pub screen: bool,
    /// A serial port or console (`<serial>`, `<console>`).
    pub serial: bool,
}

/// Hypervisor type of a new VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainType {
    /// Hardware accelerated.
    Kvm,
    /// Pure emulation (slow; for hosts without VT-x/AMD-V).
    Qemu,
}

impl DomainType {
    /// The value of `<domain type=…>`.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainType::Kvm => "kvm",
            DomainType::Qemu => "qemu",
        }
    }
}

/// How a new VM's NIC is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkAttach {
    /// A libvirt virtual network (`<interface type='network'>`).
    Network(String),
    /// A host bridge such as "br0" (`<interface type='bridge'>`).
    Bridge(String),
    /// No NIC at all (appliances, lifecycle tests).
    None,
}

/// What to create with [`crate::hosts::service::Hypervisor::define_vm`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmSpec {
    /// VM name: letters, digits, '-', '_', '.'.
    pub name: String,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Boot disk: (pool, volume) of an existing volume.
    pub disk: Option<(String, String)>,
    /// NIC attachment.
    pub network: NetworkAttach,
    /// MAC address; derived from the name when `None` so it stays the same
    /// if the VM is deleted and defined again (DHCP reservations survive).
    pub mac: Option<String>,
    /// `None`: kvm when the host offers it, otherwise qemu.
    pub domain_type: Option<DomainType>,
    /// CD-ROMs (read-only, on SATA): an installer ISO to boot from, a
    /// cloud-init seed to read.
    #[serde(default)]
    pub cdroms: Vec<CdRom>,
}

/// A CD image of a pool in a VM's CD drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdRom {
    pub pool: String,
    pub volume: String,
    /// Boot from it before the disk (an installer).
    pub boot: bool,
}

/// A storage volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// Pool it lives in.
    pub pool: String,
    /// Volume name.
    pub name: String,
    /// Path on the host (what a domain's `<source file=…>` points to).
    pub path: String,
    /// Virtual size, bytes.
    pub capacity: u64,
    /// Space used on the host, bytes.
    pub allocation: u64,
}

/// What [`crate::hosts::service::Hypervisor::delete`] did with the VM's disks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    /// Paths of the storage volumes that were deleted.
    pub deleted_volumes: Vec<String>,
    /// Disk paths left in place: not asked to delete, or not a libvirt
    /// volume (a raw path outside every pool), or deletion failed (reason given).
    pub kept: Vec<String>,
}

/// The libvirt lifecycle event kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmEventKind {
    /// Defined or redefined.
    Defined,
    /// Definition removed.
    Undefined,
    /// Started.
    Started,
    /// Paused.
    Suspended,
    /// Unpaused.
    Resumed,
    /// Stopped (shut off, destroyed, crashed and stopped…).
    Stopped,
    /// Guest shutdown sequence.
    Shutdown,
    /// Guest suspended itself (S3/S4).
    PmSuspended,
    /// The guest crashed.
    Crashed,
    /// An event libvirt added after this code was written.
    Other,
}

/// A VM changed on a host; broadcast by the worker after its cache is updated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostEvent {
    /// Host name given to the worker.
    pub host: String,
    /// VM name.
    pub vm: String,
    /// What libvirt reported.
    pub kind: VmEventKind,
    /// The VM's state after the event as now in the cache; `None` when the
    /// VM no longer exists on the host.
    pub state: Option<VmState>,
    /// When the event reached us.
    pub at: SystemTime,
}

/// The worker's cached view of a host, readable without a libvirt call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSnapshot {
    /// Host name given to the worker.
    pub host: String,
    /// Connection URI.
    pub uri: String,
    /// Whether the worker holds a working connection right now.
    pub reachable: bool,
    /// Last connection or refresh error, for the console to show.
    pub last_error: Option<String>,
    /// Last known capacity (kept while unreachable, marked by `reachable`).
    pub capacity: Option<HostCapacity>,
    /// VMs by name.
    pub vms: BTreeMap<String, VmInfo>,
    /// When the cache last changed from a successful libvirt answer.
    pub updated_at: Option<SystemTime>,
}

impl HostSnapshot {
    /// An empty, not yet reachable snapshot.
    pub fn new(host: &str, uri: &str) -> Self {
        HostSnapshot {
            host: host.to_string(),
            uri: uri.to_string(),
            reachable: false,
            last_error: None,
            capacity: None,
            vms: BTreeMap::new(),
            updated_at: None,
        }
    }
}
