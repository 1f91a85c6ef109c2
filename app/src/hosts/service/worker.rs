//! One worker thread per host, and the async handle the web server uses.
//!
//! libvirt calls block (sometimes for seconds on a sick host), so no
//! request handler may make them. Each host gets a thread that owns the
//! connection and executes commands from a channel one at a time; callers
//! await a `oneshot` reply with a timeout so a hung host never stalls a
//! page. The worker also keeps a [`HostSnapshot`] in a `tokio::sync::watch`
//! channel: pages read it without any libvirt round trip, and can await
//! its changes. libvirt lifecycle events (from the event-loop thread) come
//! in over the same channel, update the snapshot and are re-broadcast as
//! [`HostEvent`]s. A lost connection marks the host unreachable (keeping
//! the last known VMs) and is retried with exponential backoff.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{broadcast, oneshot, watch};

use crate::hosts::service::error::HostError;
use crate::hosts::service::events::{RawEvent, Sink};
use crate::hosts::service::hypervisor::Hypervisor;
use crate::hosts::service::libvirt::LibvirtHost;
use crate::hosts::service::types::{
    DeleteReport, HostCapacity, HostEvent, HostSnapshot, VmInfo, VmSpec, VolumeInfo,
};

/// Tuning of a worker. The defaults suit a LAN of a few hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// How long an async call waits for the worker's answer.
    pub call_timeout: Duration,
    /// First reconnect delay after the connection is lost.
    pub backoff_initial: Duration,
    /// Upper bound of the doubling reconnect delay.
    pub backoff_max: Duration,
    /// How often the connection's liveness is checked when idle.
    pub liveness_interval: Duration,
    /// How often all VMs are re-read (events can be missed, e.g. across a
    /// daemon restart).
    pub full_refresh_interval: Duration,
    /// How often capacity (free memory, pools) is re-read.
    pub capacity_interval: Duration,
    /// Events buffered per subscriber before a slow one starts losing them.
    pub event_buffer: usize,
    /// Calls that may wait for (or run on) the worker at once; more are
    /// refused at once with [`HostError::Busy`] instead of piling up behind
    /// a slow host.
    pub queue_limit: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            call_timeout: Duration::from_secs(15),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            liveness_interval: Duration::from_secs(1),
            full_refresh_interval: Duration::from_secs(30),
            capacity_interval: Duration::from_secs(10),
            event_buffer: 1024,
            queue_limit: 64,
        }
    }
}

/// What the worker needs beyond [`Hypervisor`]: liveness and events.
pub(crate) trait Backend: Hypervisor {
    /// Whether the connection is still usable (no round trip).
    fn alive(&self) -> bool;
    /// Starts delivering events to `sink`.
    fn watch(&mut self, sink: &Sink) -> Result<(), HostError>;
    /// The VM's current domain XML.
    fn domain_xml(&self, name: &str) -> Result<String, HostError>;
    /// Upcast for jobs that only need [`Hypervisor`].
    fn as_hypervisor(&self) -> &dyn Hypervisor;
}

impl Backend for LibvirtHost {
    fn alive(&self) -> bool {
        self.is_alive()
    }
    fn watch(&mut self, sink: &Sink) -> Result<(), HostError> {
        LibvirtHost::watch(self, sink)
    }
    fn domain_xml(&self, name: &str) -> Result<String, HostError> {
        self.vm_xml(name)
    }
    fn as_hypervisor(&self) -> &dyn Hypervisor {
        self
    }
}

/// Opens a backend; the worker calls it on start and on every reconnect.
pub(crate) type Connector = Box<dyn FnMut(&str) -> Result<Box<dyn Backend>, HostError> + Send>;

/// How the cache should change after a job.
enum CacheUpdate {
    None,
    /// Re-read one VM (removed from the cache if it no longer exists).
    Vm(String),
    /// Re-read one VM and the capacity (disk or memory figures changed).
    VmAndCapacity(String),
    /// Re-read the capacity.
    Capacity,
    /// The job already has the fresh VM.
    PutVm(VmInfo),
    /// The job found the VM gone.
    RemoveVm(String),
    /// The job already has the fresh list.
    ReplaceVms(Vec<VmInfo>),
    /// The job already has the fresh capacity.
    SetCapacity(HostCapacity),
    /// Re-read everything.
    All,
}

struct JobOutcome {
    /// Set when the job failed because the connection is gone.
    lost: Option<HostError>,
    update: CacheUpdate,
    /// Sends the reply; run after the cache is updated so a caller that
    /// reads the snapshot right after its call sees the result.
    finish: Option<Box<dyn FnOnce() + Send>>,
}

type Job = Box<dyn FnOnce(Result<&dyn Backend, &HostError>) -> JobOutcome + Send>;

enum Msg {
    Call(Job),
    Event { generation: u64, event: RawEvent },
    Stop,
}

/// Starts host workers.
pub struct HostWorker;

impl HostWorker {
    /// Starts a worker for host `name` at libvirt `uri` with default tuning.
    /// Returns at once; the first connection is made on the worker thread
    /// (watch [`HostHandle::snapshot`]'s `reachable`).
    pub fn spawn(name: &str, uri: &str) -> HostHandle {
        Self::spawn_with(name, uri, WorkerConfig::default())
    }

    /// Like [`HostWorker::spawn`] with explicit tuning.
    pub fn spawn_with(name: &str, uri: &str, config: WorkerConfig) -> HostHandle {
        let connector: Connector = Box::new(|uri: &str| {
            LibvirtHost::connect(uri).map(|h| Box::new(h) as Box<dyn Backend>)
        });
        spawn_inner(name, uri, config, connector)
    }
}

pub(crate) fn spawn_inner(
    name: &str,
    uri: &str,
    config: WorkerConfig,
    connector: Connector,
) -> HostHandle {
    let (tx, rx) = mpsc::channel();
    let (snap_tx, snap_rx) = watch::channel(HostSnapshot::new(name, uri));
    let (ev_tx, _) = broadcast::channel(config.event_buffer.max(1));
    let now = Instant::now();
    let worker = Worker {
        name: name.to_string(),
        uri: uri.to_string(),
        backoff: config.backoff_initial,
        config: config.clone(),
        connector,
        host: None,
        tx: tx.clone(),
        rx,
        snapshot: snap_tx,
        events: ev_tx.clone(),
        generation: 0,
        next_attempt: now,
        last_liveness: now,
        last_full: now,
        last_capacity: now,
    };
    let spawned = thread::Builder::new()
        .name(format!("host-{name}"))
        .spawn(move || worker.run());
    if let Err(e) = &spawned {
        // Leave the handle usable: calls answer WorkerGone and the
        // snapshot says why.
        tracing::error!("cannot start the worker thread for host {name}: {e}");
    }
    let mut snap_rx = snap_rx;
    if spawned.is_err() {
        let (t, r) = watch::channel(HostSnapshot {
            last_error: Some("the worker thread could not be started".into()),
            ..HostSnapshot::new(name, uri)
        });
        drop(t);
        snap_rx = r;
    }
    HostHandle {
        inner: Arc::new(Inner {
            name: name.to_string(),
            uri: uri.to_string(),
            timeout: config.call_timeout,
            queued: Arc::new(AtomicUsize::new(0)),
            queue_limit: config.queue_limit.max(1),
            tx,
            snapshot: snap_rx,
            events: ev_tx,
        }),
    }
}

struct Worker {
    name: String,
    uri: String,
    config: WorkerConfig,
    connector: Connector,
    host: Option<Box<dyn Backend>>,
    /// For the event sinks of each new connection.
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    snapshot: watch::Sender<HostSnapshot>,
    events: broadcast::Sender<HostEvent>,
    /// Bumped on every connection so events of an old one are ignored.
    generation: u64,
    backoff: Duration,
    next_attempt: Instant,
    last_liveness: Instant,
    last_full: Instant,
    last_capacity: Instant,
}

impl Worker {
    fn run(mut self) {
        loop {
            let now = Instant::now();
            if self.host.is_none() && now >= self.next_attempt {
                self.connect();
            }
            let wait = self.next_wakeup().saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(Msg::Call(job)) => self.run_job(job),
                Ok(Msg::Event { generation, event }) => {
                    if generation == self.generation {
                        self.on_event(event);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.periodic();
        }
        self.host = None;
        self.snapshot.send_modify(|s| {
            s.reachable = false;
            s.last_error = Some("the host worker has stopped".into());
        });
    }

    fn next_wakeup(&self) -> Instant {
        if self.host.is_none() {
            return self.next_attempt;
        }
        let c = &self.config;
        (self.last_liveness + c.liveness_interval)
            .min(self.last_full + c.full_refresh_interval)
            .min(self.last_capacity + c.capacity_interval)
    }

    fn connect(&mut self) {
        match (self.connector)(&self.uri) {
            Ok(mut host) => {
                self.generation += 1;
                let tx = self.tx.clone();
                let generation = self.generation;
                let sink: Sink = Arc::new(move |event| {
                    // The worker may be gone; nothing to do then.
                    let _ = tx.send(Msg::Event { generation, event });
                });
                if let Err(e) = host.watch(&sink) {
                    // Still usable; the periodic refresh covers for events.
                    tracing::warn!("host {}: no live events: {e}", self.name);
                }
                self.host = Some(host);
                self.backoff = self.config.backoff_initial;
                self.full_refresh();
            }
            Err(e) => self.lost(e),
        }
    }

    /// Drops the connection and schedules a retry.
    fn lost(&mut self, e: HostError) {
        tracing::warn!("host {}: {e}; retrying in {:?}", self.name, self.backoff);
        self.host = None;
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(self.config.backoff_max);
        let msg = e.to_string();
        self.snapshot.send_modify(|s| {
            s.reachable = false;
            s.last_error = Some(msg);
        });
    }

    fn periodic(&mut self) {
        let Some(host) = &self.host else { return };
        let now = Instant::now();
        if now >= self.last_liveness + self.config.liveness_interval {
            self.last_liveness = now;
            if !host.alive() {
                self.lost(HostError::Unreachable {
                    uri: self.uri.clone(),
                    reason: "the connection to libvirt was lost".into(),
                });
                return;
            }
        }
        if now >= self.last_full + self.config.full_refresh_interval {
            self.full_refresh();
        } else if now >= self.last_capacity + self.config.capacity_interval {
            self.refresh_capacity();
        }
    }

    fn full_refresh(&mut self) {
        let Some(host) = &self.host else { return };
        let now = Instant::now();
        self.last_full = now;
        self.last_capacity = now;
        let result = host
            .list_vms()
            .and_then(|vms| host.capacity().map(|cap| (vms, cap)));
        match result {
            Ok((vms, cap)) => self.snapshot.send_modify(|s| {
                s.vms = vms.into_iter().map(|v| (v.name.clone(), v)).collect();
                s.capacity = Some(cap);
                s.reachable = true;
                s.last_error = None;
                s.updated_at = Some(SystemTime::now());
            }),
            Err(e) => self.failed(e),
        }
    }

    fn refresh_capacity(&mut self) {
        let Some(host) = &self.host else { return };
        self.last_capacity = Instant::now();
        match host.capacity() {
            Ok(cap) => self.set_capacity(cap),
            Err(e) => self.failed(e),
        }
    }

    fn set_capacity(&self, cap: HostCapacity) {
        self.snapshot.send_modify(|s| {
            s.capacity = Some(cap);
            s.updated_at = Some(SystemTime::now());
        });
    }

    /// A refresh failed: reconnect if the connection is gone, otherwise
    /// just record the error for the console.
    fn failed(&mut self, e: HostError) {
        if e.is_connection_lost() {
            self.lost(e);
        } else {
            let msg = e.to_string();
            self.snapshot.send_modify(|s| s.last_error = Some(msg));
        }
    }

    /// Re-reads one VM into the cache; returns its state (`None` = gone).
    fn refresh_vm(&mut self, name: &str) -> Option<crate::hosts::service::types::VmState> {
        let host = self.host.as_ref()?;
        match host.vm(name) {
            Ok(info) => {
                let state = info.state;
                self.snapshot.send_modify(|s| {
                    s.vms.insert(name.to_string(), info);
                    s.updated_at = Some(SystemTime::now());
                });
                Some(state)
            }
            Err(HostError::NoSuchVm(_)) => {
                self.snapshot.send_modify(|s| {
                    s.vms.remove(name);
                    s.updated_at = Some(SystemTime::now());
                });
                None
            }
            Err(e) => {
                let old = self.snapshot.borrow().vms.get(name).map(|v| v.state);
                self.failed(e);
                old
            }
        }
    }

    fn run_job(&mut self, job: Job) {
        let outcome = match &self.host {
            Some(h) => job(Ok(h.as_ref())),
            None => {
                let reason = self
                    .snapshot
                    .borrow()
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "not connected yet".into());
                let e = HostError::Unreachable {
                    uri: self.uri.clone(),
                    reason,
                };
                job(Err(&e))
            }
        };
        if let Some(e) = outcome.lost {
            // Only a live connection can be lost; a call refused while
            // disconnected must not push the backoff further out.
            if self.host.is_some() {
                self.lost(e);
            }
        }
        if self.host.is_some() {
            match outcome.update {
                CacheUpdate::None => {}
                CacheUpdate::Vm(name) => {
                    self.refresh_vm(&name);
                }
                CacheUpdate::VmAndCapacity(name) => {
                    self.refresh_vm(&name);
                    self.refresh_capacity();
                }
                CacheUpdate::Capacity => self.refresh_capacity(),
                CacheUpdate::ReplaceVms(vms) => self.snapshot.send_modify(|s| {
                    s.vms = vms.into_iter().map(|v| (v.name.clone(), v)).collect();
                    s.updated_at = Some(SystemTime::now());
                }),
                CacheUpdate::SetCapacity(cap) => self.set_capacity(cap),
                CacheUpdate::PutVm(vm) => self.snapshot.send_modify(|s| {
                    s.vms.insert(vm.name.clone(), vm);
                    s.updated_at = Some(SystemTime::now());
                }),
                CacheUpdate::RemoveVm(name) => self.snapshot.send_modify(|s| {
                    s.vms.remove(&name);
                    s.updated_at = Some(SystemTime::now());
                }),
                CacheUpdate::All => self.full_refresh(),
            }
        }
        if let Some(finish) = outcome.finish {
            finish();
        }
    }

    fn on_event(&mut self, event: RawEvent) {
        match event {
            RawEvent::Lifecycle { vm, kind, at, .. } => {
                let state = self.refresh_vm(&vm);
                // Sending fails only when nobody subscribes; that is fine.
                let _ = self.events.send(HostEvent {
                    host: self.name.clone(),
                    vm,
                    kind,
                    state,
                    at,
                });
            }
            RawEvent::Closed { reason } => {
                if self.host.is_some() {
                    self.lost(HostError::Unreachable {
                        uri: self.uri.clone(),
                        reason: close_reason(reason).into(),
                    });
                }
            }
        }
    }
}

/// Words for libvirt's virConnectCloseReason.
fn close_reason(reason: i32) -> &'static str {
    match reason {
        1 => "the connection was closed by the other side (libvirtd stopped or restarted)",
        2 => "the host stopped answering keepalive probes",
        3 => "the connection was closed by this client",
        _ => "the connection failed",
    }
}

struct Inner {
    name: String,
    uri: String,
    timeout: Duration,
    /// Calls sent to the worker and not yet finished by it.
    queued: Arc<AtomicUsize>,
    queue_limit: usize,
    tx: mpsc::Sender<Msg>,
    snapshot: watch::Receiver<HostSnapshot>,
    events: broadcast::Sender<HostEvent>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Last handle gone: stop the worker (it also holds a sender for
        // its event sinks, so the channel alone would never close).
        let _ = self.tx.send(Msg::Stop);
    }
}

/// One call counted against its host's queue until dropped.
struct QueueSlot(Arc<AtomicUsize>);

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Cheap-to-clone async handle to one host's worker. Dropping the last
/// clone stops the worker and closes its connection.
#[derive(Clone)]
pub struct HostHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HostHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHandle")
            .field("name", &self.inner.name)
            .field("uri", &self.inner.uri)
            .finish()
    }
}

impl HostHandle {
    /// Host name given at spawn.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Connection URI.
    pub fn uri(&self) -> &str {
        &self.inner.uri
    }

    /// A copy of the cached host state (no libvirt call).
    pub fn snapshot(&self) -> HostSnapshot {
        self.inner.snapshot.borrow().clone()
    }

    /// One VM from the cache (no libvirt call).
    pub fn cached_vm(&self, name: &str) -> Option<VmInfo> {
        self.inner.snapshot.borrow().vms.get(name).cloned()
    }

    /// Whether the worker currently holds a working connection.
    pub fn is_reachable(&self) -> bool {
        self.inner.snapshot.borrow().reachable
    }

    /// A receiver of the cached state that can await changes (e.g. to
    /// push updates to a page).
    pub fn watch(&self) -> watch::Receiver<HostSnapshot> {
        self.inner.snapshot.clone()
    }

    /// Subscribes to VM events of this host.
    pub fn subscribe(&self) -> broadcast::Receiver<HostEvent> {
        self.inner.events.subscribe()
    }

    /// Waits until the host is reachable, at most `timeout`.
    pub async fn wait_reachable(&self, timeout: Duration) -> bool {
        let mut rx = self.watch();
        tokio::time::timeout(timeout, rx.wait_for(|s| s.reachable))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    async fn call<T, F, U>(&self, f: F, update: U) -> Result<T, HostError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Backend) -> Result<T, HostError> + Send + 'static,
        U: FnOnce(&Result<T, HostError>) -> CacheUpdate + Send + 'static,
    {
        let queued = self.inner.queued.clone();
        let waiting = queued.fetch_add(1, Ordering::SeqCst);
        if waiting >= self.inner.queue_limit {
            queued.fetch_sub(1, Ordering::SeqCst);
            return Err(HostError::Busy {
                host: self.inner.name.clone(),
                waiting,
            });
        }
        // Counted until the worker has finished the job, or dropped it
        // unrun (a stopped worker): whoever holds the guard last.
        let slot = QueueSlot(queued);
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |backend| {
            let _slot = slot;
            if tx.is_closed() {
                // The caller timed out and left: do not act on a stale
                // request (e.g. a start the user has given up on).
                return JobOutcome {
                    lost: None,
                    update: CacheUpdate::None,
                    finish: None,
                };
            }
            let result = match backend {
                Ok(b) => f(b),
                Err(e) => Err(e.clone()),
            };
            let (lost, update) = match &result {
                Err(e) if e.is_connection_lost() => (Some(e.clone()), CacheUpdate::None),
                other => (None, update(other)),
            };
            JobOutcome {
                lost,
                update,
                finish: Some(Box::new(move || {
                    let _ = tx.send(result);
                })),
            }
        });
        let name = self.inner.name.clone();
        self.inner
            .tx
            .send(Msg::Call(job))
            .map_err(|_| HostError::WorkerGone(name.clone()))?;
        match tokio::time::timeout(self.inner.timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(HostError::WorkerGone(name)),
            Err(_) => Err(HostError::Timeout {
                host: name,
                after: self.inner.timeout,
            }),
        }
    }

    /// An action on one VM; the VM is re-read into the cache whether the
    /// action worked or not (a failure often means the cache was stale).
    async fn vm_action<F>(&self, name: &str, f: F) -> Result<(), HostError>
    where
        F: FnOnce(&dyn Hypervisor, &str) -> Result<(), HostError> + Send + 'static,
    {
        let n = name.to_string();
        let n2 = n.clone();
        self.call(
            move |b| f(b.as_hypervisor(), &n),
            move |_| CacheUpdate::Vm(n2),
        )
        .await
    }

    /// Fresh capacity from the host (also updates the cache).
    pub async fn capacity(&self) -> Result<HostCapacity, HostError> {
        self.call(
            |b| b.capacity(),
            |r: &Result<HostCapacity, HostError>| match r {
                Ok(c) => CacheUpdate::SetCapacity(c.clone()),
                Err(_) => CacheUpdate::None,
            },
        )
        .await
    }

    /// Fresh VM list from the host (also replaces the cached one).
    pub async fn list_vms(&self) -> Result<Vec<VmInfo>, HostError> {
        self.call(
            |b| b.list_vms(),
            |r: &Result<Vec<VmInfo>, HostError>| match r {
                Ok(v) => CacheUpdate::ReplaceVms(v.clone()),
                Err(_) => CacheUpdate::None,
            },
        )
        .await
    }

    /// One VM, fresh from the host (also updates the cache).
    pub async fn vm(&self, name: &str) -> Result<VmInfo, HostError> {
        let n = name.to_string();
        self.call(
            move |b| b.vm(&n),
            |r: &Result<VmInfo, HostError>| match r {
                Ok(v) => CacheUpdate::PutVm(v.clone()),
                Err(HostError::NoSuchVm(n)) => CacheUpdate::RemoveVm(n.clone()),
                Err(_) => CacheUpdate::None,
            },
        )
        .await
    }

    /// The VM's current domain XML.
    pub async fn vm_xml(&self, name: &str) -> Result<String, HostError> {
        let n = name.to_string();
        self.call(move |b| b.domain_xml(&n), |_| CacheUpdate::None)
            .await
    }

    /// Re-reads everything into the cache now.
    pub async fn refresh(&self) -> Result<(), HostError> {
        self.call(|_| Ok(()), |_| CacheUpdate::All).await
    }

    /// Boots a VM.
    pub async fn start(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.start(n)).await
    }

    /// ACPI shutdown request.
    pub async fn shutdown(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.shutdown(n)).await
    }

    /// Reboot request.
    pub async fn reboot(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.reboot(n)).await
    }

    /// Hard power off.
    pub async fn force_off(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.force_off(n)).await
    }

    /// Pauses a VM.
    pub async fn pause(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.pause(n)).await
    }

    /// Resumes a paused VM.
    pub async fn resume(&self, name: &str) -> Result<(), HostError> {
        self.vm_action(name, |h, n| h.resume(n)).await
    }

    /// Sets autostart.
    pub async fn set_autostart(&self, name: &str, autostart: bool) -> Result<(), HostError> {
        self.vm_action(name, move |h, n| h.set_autostart(n, autostart))
            .await
    }

    /// Deletes a shut-off VM, optionally with its volumes.
    pub async fn delete(
        &self,
        name: &str,
        delete_volumes: bool,
    ) -> Result<DeleteReport, HostError> {
        let n = name.to_string();
        let n2 = n.clone();
        self.call(
            move |b| b.delete(&n, delete_volumes),
            move |_| CacheUpdate::VmAndCapacity(n2),
        )
        .await
    }

    /// Creates a thin qcow2 volume.
    pub async fn create_volume(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
    ) -> Result<VolumeInfo, HostError> {
        let (p, n) = (pool.to_string(), name.to_string());
        self.call(
            move |b| b.create_volume(&p, &n, capacity_bytes),
            |_| CacheUpdate::Capacity,
        )
        .await
    }

    /// Creates a thin qcow2 volume on a cloud image (see
    /// [`Hypervisor::create_overlay`]).
    pub async fn create_overlay(
        &self,
        pool: &str,
        name: &str,
        capacity_bytes: u64,
        backing_path: &str,
    ) -> Result<VolumeInfo, HostError> {
        let (p, n, b) = (pool.to_string(), name.to_string(), backing_path.to_string());
        self.call(
            move |b_| b_.create_overlay(&p, &n, capacity_bytes, &b),
            |_| CacheUpdate::Capacity,
        )
        .await
    }

    /// Sets a VM's memory and vCPUs in its persistent definition (a running
    /// VM takes them when next started from off).
    pub async fn set_size(&self, name: &str, memory_mib: u64, vcpus: u32) -> Result<(), HostError> {
        self.vm_action(name, move |h, n| h.set_size(n, memory_mib, vcpus))
            .await
    }

    /// Defines a new VM.
    pub async fn define_vm(&self, spec: VmSpec) -> Result<VmInfo, HostError> {
        self.call(
            move |b| b.define_vm(&spec),
            |r: &Result<VmInfo, HostError>| match r {
                Ok(v) => CacheUpdate::PutVm(v.clone()),
                Err(_) => CacheUpdate::None,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    //! Reconnection, backoff and timeouts need a host that fails on
    //! command, which neither the test driver nor a real daemon offers:
    //! a fake backend stands in.
    use super::*;
    use crate::hosts::service::types::{DeleteReport, VmSpec, VolumeInfo};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    struct Fake {
        alive: Arc<AtomicBool>,
        slow: Duration,
    }

    fn cap() -> HostCapacity {
        HostCapacity {
            memory_total_mib: 1024,
            memory_free_mib: 512,
            cpu_model: "fake".into(),
            sockets: 1,
            cores: 1,
            threads: 1,
            cpus: 1,
            mhz: 1000,
            hw_virt: false,
            pools: vec![],
            networks: vec![],
        }
    }

    impl Hypervisor for Fake {
        fn connect(_uri: &str) -> Result<Self, HostError> {
            Err(HostError::InvalidInput("use the connector".into()))
        }
        fn uri(&self) -> &str {
            "fake://"
        }
        fn capacity(&self) -> Result<HostCapacity, HostError> {
            Ok(cap())
        }
        fn list_vms(&self) -> Result<Vec<VmInfo>, HostError> {
            Ok(vec![])
        }
        fn vm(&self, name: &str) -> Result<VmInfo, HostError> {
            thread::sleep(self.slow);
            Err(HostError::NoSuchVm(name.into()))
        }
        fn start(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn shutdown(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn reboot(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn force_off(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn pause(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn resume(&self, _: &str) -> Result<(), HostError> {
            Ok(())
        }
        fn set_autostart(&self, _: &str, _: bool) -> Result<(), HostError> {
            Ok(())
        }
        fn delete(&self, _: &str, _: bool) -> Result<DeleteReport, HostError> {
            Ok(DeleteReport::default())
        }
        fn create_volume(&self, _: &str, _: &str, _: u64) -> Result<VolumeInfo, HostError> {
            Err(HostError::InvalidInput("no pools".into()))
        }
        fn define_vm(&self, spec: &VmSpec) -> Result<VmInfo, HostError> {
            Err(HostError::AlreadyExists(spec.name.clone()))
        }
    }

    impl Backend for Fake {
        fn alive(&self) -> bool {
            self.alive.load(Ordering::SeqCst)
        }
        fn watch(&mut self, _: &Sink) -> Result<(), HostError> {
            Ok(())
        }
        fn domain_xml(&self, _: &str) -> Result<String, HostError> {
            Ok(String::new())
        }
        fn as_hypervisor(&self) -> &dyn Hypervisor {
            self
        }
    }

    struct Switch {
        up: Arc<AtomicBool>,
        alive: Arc<AtomicBool>,
        attempts: Arc<Mutex<Vec<Instant>>>,
    }

    fn fake_host(cfg: WorkerConfig, slow: Duration) -> (HostHandle, Switch) {
        let sw = Switch {
            up: Arc::new(AtomicBool::new(false)),
            alive: Arc::new(AtomicBool::new(true)),
            attempts: Arc::new(Mutex::new(Vec::new())),
        };
        let (up, alive, attempts) = (sw.up.clone(), sw.alive.clone(), sw.attempts.clone());
        let connector: Connector = Box::new(move |uri: &str| {
            attempts.lock().map(|mut a| a.push(Instant::now())).ok();
            if up.load(Ordering::SeqCst) {
                Ok(Box::new(Fake {
                    alive: alive.clone(),
                    slow,
                }) as Box<dyn Backend>)
            } else {
                Err(HostError::Unreachable {
                    uri: uri.into(),
                    reason: "Connection refused".into(),
                })
            }
        });
        (spawn_inner("fake", "fake://", cfg, connector), sw)
    }

    fn quick() -> WorkerConfig {
        WorkerConfig {
            backoff_initial: Duration::from_millis(20),
            backoff_max: Duration::from_millis(80),
            liveness_interval: Duration::from_millis(10),
            ..WorkerConfig::default()
        }
    }

    #[tokio::test]
    async fn reconnects_with_doubling_backoff() {
        let (h, sw) = fake_host(quick(), Duration::ZERO);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert!(!h.is_reachable());
        assert!(h
            .snapshot()
            .last_error
            .unwrap()
            .contains("Connection refused"));
        let gaps: Vec<Duration> = {
            let a = sw.attempts.lock().unwrap();
            a.windows(2).map(|w| w[1] - w[0]).collect()
        };
        // 20, 40, 80, 80, … ms (capped).
        assert!(gaps.len() >= 4, "{gaps:?}");
        for (i, g) in gaps.iter().enumerate() {
            let want = Duration::from_millis((20u64 << i.min(2)).min(80));
            assert!(
                *g >= want - Duration::from_millis(2),
                "gap {i}: {g:?} < {want:?}"
            );
            assert!(
                *g < want + Duration::from_millis(60),
                "gap {i}: {g:?} ≫ {want:?}"
            );
        }

        // The host comes back: reachable again within one backoff period.
        sw.up.store(true, Ordering::SeqCst);
        assert!(h.wait_reachable(Duration::from_millis(200)).await);
        assert!(h.snapshot().last_error.is_none());

        // The connection dies: marked unreachable, kept data, then back.
        sw.up.store(false, Ordering::SeqCst);
        sw.alive.store(false, Ordering::SeqCst);
        let mut w = h.watch();
        tokio::time::timeout(Duration::from_millis(200), w.wait_for(|s| !s.reachable))
            .await
            .unwrap()
            .unwrap();
        assert!(h.snapshot().capacity.is_some(), "last known capacity kept");
        let e = h.start("x").await.unwrap_err();
        assert!(e.is_connection_lost());
        sw.alive.store(true, Ordering::SeqCst);
        sw.up.store(true, Ordering::SeqCst);
        assert!(h.wait_reachable(Duration::from_millis(200)).await);
        assert_eq!(h.start("x").await, Ok(()));
    }

    #[tokio::test]
    async fn a_slow_hosts_queue_is_bounded_and_drains() {
        let cfg = WorkerConfig {
            call_timeout: Duration::from_secs(5),
            queue_limit: 3,
            ..quick()
        };
        let (h, sw) = fake_host(cfg, Duration::from_millis(200));
        sw.up.store(true, Ordering::SeqCst);
        assert!(h.wait_reachable(Duration::from_secs(1)).await);
        let t0 = Instant::now();
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move { (h.vm(&format!("vm{i}")).await, t0.elapsed()) })
            })
            .collect();
        let mut busy = 0;
        let mut ran = 0;
        for c in calls {
            match c.await.unwrap() {
                (Err(HostError::Busy { host, waiting }), at) => {
                    busy += 1;
                    assert_eq!(host, "fake");
                    assert!(waiting >= 3, "{waiting}");
                    // Refused at once, not after waiting behind the others.
                    assert!(at < Duration::from_millis(150), "{at:?}");
                }
                (Err(HostError::NoSuchVm(_)), _) => ran += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((ran, busy), (3, 7));
        // Once those are done, the queue is free again.
        assert!(matches!(h.vm("again").await, Err(HostError::NoSuchVm(_))));
        assert_eq!(h.inner.queued.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_hung_host_times_out_instead_of_stalling() {
        let cfg = WorkerConfig {
            call_timeout: Duration::from_millis(50),
            ..quick()
        };
        let (h, sw) = fake_host(cfg, Duration::from_millis(300));
        sw.up.store(true, Ordering::SeqCst);
        assert!(h.wait_reachable(Duration::from_secs(1)).await);
        let t0 = Instant::now();
        let e = h.vm("slow").await.unwrap_err();
        assert!(matches!(e, HostError::Timeout { .. }), "{e:?}");
        assert!(t0.elapsed() < Duration::from_millis(200));
        // The cache stays readable meanwhile.
        assert!(h.snapshot().reachable);
        // Once the host answers again, calls work (one that does not
        // touch the fake's slow `vm`).
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(h.capacity().await.map(|c| c.cpus), Ok(1));
    }
}
