//! The running hosts: one libvirt worker per host row, started at boot and
//! when an admin adds a host, stopped when it is removed. Pages read the
//! workers' caches (no libvirt round trip per view); every cache change is
//! announced on one broadcast channel that the event stream forwards to
//! open pages.
//!
//! Starting (`load`, [`ensure_demo_host`]) happens at boot, before any
//! request, so those answer with the database's own error for the server
//! to report.

use super::{HostHandle, HostWorker};
use crate::hosts::entity::host;
use crate::hosts::store;
use sea_orm::{DatabaseConnection, DbErr};
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, RwLock},
};
use tokio::sync::broadcast;

/// The demo host's node description: the paper's HP ProLiant DL380 G8.
pub const DEMO_NODE_XML: &str = include_str!("../demo-node.xml");
pub const DEMO_LABEL: &str = "demo: libvirt test driver, nothing real runs";

/// Something changed on a host: pages showing it fetch it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostChange {
    pub host_id: i32,
}

struct Running {
    row: host::Model,
    handle: HostHandle,
    forwarder: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
pub struct HostRegistry {
    hosts: Arc<RwLock<BTreeMap<i32, Running>>>,
    changes: broadcast::Sender<HostChange>,
}

impl std::fmt::Debug for HostRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostRegistry").finish_non_exhaustive()
    }
}

impl Default for HostRegistry {
    fn default() -> Self {
        Self {
            hosts: Arc::default(),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl HostRegistry {
    /// Starts a worker for every host in the database.
    pub async fn load(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        for row in store::all(db).await? {
            self.start(row);
        }
        Ok(())
    }

    /// Starts (or restarts) the worker of one host.
    pub fn start(&self, row: host::Model) {
        let handle = HostWorker::spawn(&row.name, &row.uri);
        self.start_with(row, handle);
    }

    /// Runs `handle` as the worker of host `row` (replacing any running
    /// one): [`start`](Self::start) with a worker made elsewhere.
    pub fn start_with(&self, row: host::Model, handle: HostHandle) {
        let mut watch = handle.watch();
        let changes = self.changes.clone();
        let host_id = row.id;
        let forwarder = tokio::spawn(async move {
            while watch.changed().await.is_ok() {
                let _ = changes.send(HostChange { host_id });
            }
        });
        let old = self.write().insert(
            row.id,
            Running {
                row,
                handle,
                forwarder,
            },
        );
        if let Some(old) = old {
            old.forwarder.abort();
        }
    }

    /// Stops a host's worker (dropping its handle closes the connection).
    pub fn stop(&self, id: i32) {
        if let Some(old) = self.write().remove(&id) {
            old.forwarder.abort();
        }
    }

    pub fn get(&self, id: i32) -> Option<(host::Model, HostHandle)> {
        self.read()
            .get(&id)
            .map(|r| (r.row.clone(), r.handle.clone()))
    }

    pub fn all(&self) -> Vec<(host::Model, HostHandle)> {
        self.read()
            .values()
            .map(|r| (r.row.clone(), r.handle.clone()))
            .collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HostChange> {
        self.changes.subscribe()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i32, Running>> {
        self.hosts.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<i32, Running>> {
        self.hosts.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// On the very first start (no host, demo never added), adds the demo host
/// on libvirt's test driver and the layout of the paper's Table 2, so a
/// newcomer sees a working console without a hypervisor. Its node file is
/// (re)written into the data directory, since the test driver wants an
/// absolute path.
pub async fn ensure_demo_host(db: &DatabaseConnection, data_dir: &Path) -> Result<(), DbErr> {
    let file = std::fs::canonicalize(data_dir)
        .unwrap_or_else(|_| data_dir.to_path_buf())
        .join("demo-node.xml");
    if let Err(e) = std::fs::write(&file, DEMO_NODE_XML) {
        tracing::warn!(
            "cannot write the demo host's node file {}: {e}",
            file.display()
        );
        return Ok(());
    }
    if store::demo_added(db).await? || store::count(db).await? > 0 {
        return Ok(());
    }
    store::insert(db, "demo".into(), super::demo_uri(&file), DEMO_LABEL.into()).await?;
    store::mark_demo_added(db).await?;
    // The paper's own example, so a newcomer sees the designer fit it
    // before typing anything. The demo host's network is br0.
    let paper =
        crate::layouts::LayoutSpec::paper_table2(crate::layouts::Nic::Network("br0".into()));
    if let Err(e) = crate::layouts::store::save(db, None, &paper).await {
        tracing::warn!("cannot add the layout {:?}: {e}", paper.name);
    }
    Ok(())
}
