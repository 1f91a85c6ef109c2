//! The HTTP server loop. hyper's own connection builder instead of
//! `axum::serve`, for the limits that one does not set: a client gets
//! [`Limits::header_read`] to send a request's headers (a slow or silent
//! connection is closed, not kept forever), at most
//! [`Limits::connections`] connections are served at once (more wait in the
//! kernel's backlog), and a shutdown lets requests in flight finish but
//! closes what is still open after [`Limits::shutdown_grace`].
//!
//! The limits per request (time, concurrency, body size, event streams)
//! are layers of the router: [`crate::web`].

use axum::{extract::ConnectInfo, Router};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use std::{future::Future, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

/// Limits of the connections themselves.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send the headers of a request once a connection is idle.
    pub header_read: Duration,
    /// Connections served at once.
    pub connections: usize,
    /// How long a shutdown waits for open connections before closing them.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits at
/// most `limits.shutdown_grace` for the connections still open.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) {
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.connections.max(1)));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&open).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause, not spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(
                "connections still open {} s after the shutdown began: closing them",
                limits.shutdown_grace.as_secs()
            );
        }
    }
}
