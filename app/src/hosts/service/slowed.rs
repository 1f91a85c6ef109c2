//! A host whose calls can be slowed on command, for the tests of what a
//! slow or hung hypervisor does to the console (a timed-out call that
//! completes afterwards, a page that must not wait for every host in turn).
//! It wraps a real connection (the test driver in practice) and sleeps
//! before the chosen calls; neither the test driver nor a real daemon can be
//! told to be slow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::events::Sink;
use super::worker::{spawn_inner, Backend, Connector};
use super::{HostError, HostHandle, Hypervisor, LibvirtHost, WorkerConfig};
use crate::hosts::types::{DeleteReport, HostCapacity, VmInfo, VmSpec, VolumeInfo};

/// How long each kind of call sleeps before it runs (0: not slowed).
/// Shared with the worker: change it while the host runs.
#[derive(Debug, Default)]
pub struct Delays {
    /// `create_volume`.
    pub create_volume: AtomicU64,
    /// `define_vm`.
    pub define_vm: AtomicU64,
    /// `capacity` and `list_vms` asked by a caller (not the worker's own
    /// refreshes, which go through the same calls: slowing them delays the
    /// cache too).
    pub reads: AtomicU64,
}

impl Delays {
    /// Sets a delay; `Duration::ZERO` removes it.
    pub fn set(field: &AtomicU64, delay: Duration) {
        field.store(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    fn sleep(field: &AtomicU64) {
        let ms = field.load(Ordering::SeqCst);
        if ms > 0 {
            thread::sleep(Duration::from_millis(ms));
        }
    }
}

/// Starts a worker on `uri` whose calls sleep as `delays` say.
pub fn spawn(name: &str, uri: &str, config: WorkerConfig, delays: Arc<Delays>) -> HostHandle {
    let connector: Connector = Box::new(move |uri: &str| {
        LibvirtHost::connect(uri).map(|inner| {
            Box::new(Slowed {
                inner,
                delays: delays.clone(),
            }) as Box<dyn Backend>
        })
    });
    spawn_inner(name, uri, config, connector)
}

struct Slowed {
    inner: LibvirtHost,
    delays: Arc<Delays>,
}

impl Hypervisor for Slowed {
    fn connect(_uri: &str) -> Result<Self, HostError> {
        Err(HostError::InvalidInput("use slowed::spawn".into()))
    }
    fn uri(&self) -> &str {
        self.inner.uri()
    }
    fn capacity(&self) -> Result<HostCapacity, HostError> {
        Delays::sleep(&self.delays.reads);
        self.inner.capacity()
    }
    fn list_vms(&self) -> Result<Vec<VmInfo>, HostError> {
        Delays::sleep(&self.delays.reads);
        self.inner.list_vms()
    }
    fn vm(&self, name: &str) -> Result<VmInfo, HostError> {
        self.inner.vm(name)
    }
    fn start(&self, name: &str) -> Result<(), HostError> {
        self.inner.start(name)
    }
    fn shutdown(&self, name: &str) -> Result<(), HostError> {
        self.inner.shutdown(name)
    }
    fn reboot(&self, name: &str) -> Result<(), HostError> {
        self.inner.reboot(name)
    }
    fn force_off(&self, name: &str) -> Result<(), HostError> {
        self.inner.force_off(name)
    }
    fn pause(&self, name: &str) -> Result<(), HostError> {
        self.inner.pause(name)
    }
    fn resume(&self, name: &str) -> Result<(), HostError> {
        self.inner.resume(name)
    }
    fn set_autostart(&self, name: &str, autostart: bool) -> Result<(), HostError> {
        self.inner.set_autostart(name, autostart)
    }
    fn delete(&self, name: &str, delete_volumes: bool) -> Result<DeleteReport, HostError> {
        self.inner.delete(name, delete_volumes)
    }
    fn create_volume(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
    ) -> Result<VolumeInfo, HostError> {
        Delays::sleep(&self.delays.create_volume);
        self.inner.create_volume(pool, name, capacity_bytes)
    }
    fn create_overlay(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
        backing_path: &str,
    ) -> Result<VolumeInfo, HostError> {
        Delays::sleep(&self.delays.create_volume);
        self.inner
            .create_overlay(pool, name, capacity_bytes, backing_path)
    }
    fn define_vm(&self, spec: &VmSpec) -> Result<VmInfo, HostError> {
        Delays::sleep(&self.delays.define_vm);
        self.inner.define_vm(spec)
    }
    fn set_size(&self, name: &str, memory_mib: u64, vcpus: u32) -> Result<(), HostError> {
        self.inner.set_size(name, memory_mib, vcpus)
    }
}

impl Backend for Slowed {
    fn alive(&self) -> bool {
        self.inner.is_alive()
    }
    fn watch(&mut self, sink: &Sink) -> Result<(), HostError> {
        self.inner.watch(sink)
    }
    fn domain_xml(&self, name: &str) -> Result<String, HostError> {
        self.inner.vm_xml(name)
    }
    fn as_hypervisor(&self) -> &dyn Hypervisor {
        self
    }
}
