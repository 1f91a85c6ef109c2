//! The blocking, object-safe interface of one hypervisor host.
//!
//! The web layer never calls it directly (every call may block on the
//! network); it goes through [`HostHandle`](super::HostHandle), whose
//! worker thread owns the implementation. The trait exists so the console
//! can be tested against other implementations and so the operations are
//! listed in one place.

use crate::hosts::service::error::HostError;
use crate::hosts::service::types::{DeleteReport, HostCapacity, VmInfo, VmSpec, VolumeInfo};

/// Operations on one host. All calls block.
pub trait Hypervisor: Send {
    /// Opens a connection (`qemu:///system`, `qemu+ssh://root@h1/system`,
    /// `test:///default`, …).
    fn connect(uri: &str) -> Result<Self, HostError>
    where
        Self: Sized;

    /// The URI this host was opened with.
    fn uri(&self) -> &str;

    /// Memory, CPUs, storage pools and networks of the host.
    fn capacity(&self) -> Result<HostCapacity, HostError>;

    /// All VMs, running or not.
    fn list_vms(&self) -> Result<Vec<VmInfo>, HostError>;

    /// One VM.
    fn vm(&self, name: &str) -> Result<VmInfo, HostError>;

    /// Boots a shut-off VM.
    fn start(&self, name: &str) -> Result<(), HostError>;

    /// Asks the guest to shut down (ACPI power button); returns at once.
    fn shutdown(&self, name: &str) -> Result<(), HostError>;

    /// Asks the guest to reboot.
    fn reboot(&self, name: &str) -> Result<(), HostError>;

    /// Pulls the plug (libvirt "destroy"); the definition stays.
    fn force_off(&self, name: &str) -> Result<(), HostError>;

    /// Freezes the VM's CPUs.
    fn pause(&self, name: &str) -> Result<(), HostError>;

    /// Unfreezes a paused VM.
    fn resume(&self, name: &str) -> Result<(), HostError>;

    /// Whether the VM starts when the host boots.
    fn set_autostart(&self, name: &str, autostart: bool) -> Result<(), HostError>;

    /// Removes a shut-off VM's definition (with its managed-save image and
    /// snapshot/checkpoint metadata) and, if asked, the storage volumes its
    /// disks point to that no other VM uses.
    fn delete(&self, name: &str, delete_volumes: bool) -> Result<DeleteReport, HostError>;

    /// Creates a thin (allocation 0) qcow2 volume; refuses a taken name.
    fn create_volume(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
    ) -> Result<VolumeInfo, HostError>;

    /// Defines (does not start) a new VM.
    fn define_vm(&self, spec: &VmSpec) -> Result<VmInfo, HostError>;

    /// A thin qcow2 volume of (at least) `capacity_bytes` on the image at
    /// `backing_path`: a VM's disk made from a cloud image.
    fn create_overlay(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
        backing_path: &str,
    ) -> Result<VolumeInfo, HostError> {
        let _ = (pool, capacity_bytes, backing_path);
        Err(HostError::InvalidInput(format!(
            "this host cannot make {name} from an image"
        )))
    }

    /// Sets a VM's memory and vCPUs in its persistent definition. A running
    /// VM keeps its current sizes until it is next started from off.
    fn set_size(&self, name: &str, memory_mib: u64, vcpus: u32) -> Result<(), HostError> {
        let _ = (memory_mib, vcpus);
        Err(HostError::InvalidInput(format!(
            "this host cannot change the size of '{name}'"
        )))
    }
}
