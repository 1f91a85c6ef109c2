//! Stackyard's hypervisor service layer.
//!
//! The web console manages VMs on a few physical hosts through libvirt.
//! This crate is everything between the console and libvirt:
//!
//! * [`types`]: plain, serialisable DTOs ([`HostCapacity`], [`VmInfo`], …);
//! * [`Hypervisor`]: the blocking operations on one host, implemented by
//!   [`LibvirtHost`] on the `virt` crate;
//! * [`HostWorker`] / [`HostHandle`]: one thread per host owning the
//!   connection, async calls with timeouts, a cached [`HostSnapshot`] kept
//!   current by libvirt lifecycle events, a broadcast of [`HostEvent`]s and
//!   reconnection with exponential backoff;
//! * [`demo_uri`]: the test-driver URI of a node description such as the
//!   bundled `demo-node.xml` (the paper's HP ProLiant DL380 G8).
//!
//! `unsafe` is confined to the private `events` module (libvirt's event
//! callbacks have no safe wrapper in `virt`).

pub mod error;
mod events;
pub mod hypervisor;
pub mod libvirt;
pub use crate::hosts::types;
pub mod worker;
pub mod xml;

pub use error::HostError;
pub use hypervisor::Hypervisor;
pub use libvirt::LibvirtHost;
pub use types::{
    DeleteReport, DiskInfo, DomainType, HostCapacity, HostEvent, HostSnapshot, NetInfo,
    NetworkAttach, PoolInfo, VmEventKind, VmInfo, VmSpec, VmState, VolumeInfo,
};
pub use worker::{HostHandle, HostWorker, WorkerConfig};

/// The test-driver URI for a node description file: `test://` followed by
/// the absolute path (so `test:///abs/path/node.xml`). Relative paths are
/// made absolute against the current directory, because libvirt rejects
/// them.
pub fn demo_uri(path_to_xml: impl AsRef<std::path::Path>) -> String {
    let p = path_to_xml.as_ref();
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    format!("test://{}", abs.display())
}

/// Path of the bundled `demo-node.xml` (in the crate's source tree).
pub fn demo_node_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hosts/demo-node.xml")
}
