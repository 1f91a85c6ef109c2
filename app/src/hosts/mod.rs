//! Hypervisor hosts and their VMs through libvirt. `service` (server only)
//! is the libvirt layer: a worker thread per host owning the connection, a
//! cache of each host's state fed by lifecycle events, and every VM action.

#[cfg(feature = "ssr")]
pub mod service;
