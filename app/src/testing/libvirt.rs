//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use app::hosts::service::{HostEvent, VmEventKind};
use tokio::sync::broadcast;

pub const GIB: u64 = 1024 * 1024 * 1024;

/// The bundled demo node as a test-driver URI (a private instance per connection).
pub fn demo() -> String {
    app::hosts::service::demo_uri(app::hosts::service::demo_node_path())
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// Waits for the event `kind` of `vm`, skipping others; returns it and how
/// long it took.
pub async fn wait_event(
    rx: &mut broadcast::Receiver<HostEvent>,
    vm: &str,
    kind: VmEventKind,
    within: Duration,
) -> (HostEvent, Duration) {
    let t0 = Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(ev)) if ev.vm == vm && ev.kind == kind => return (ev, t0.elapsed()),
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(e)) => panic!("event channel closed: {e}"),
            Err(_) => panic!("no {kind:?} event for {vm} within {within:?}"),
        }
    }
}
