//! The hosts domain's errors, one per layer: [`HostError`] for the libvirt
//! layer (the worker and [`Hypervisor`](super::Hypervisor)), and
//! [`DomainError`] for what the domain's services answer, which wraps it.
//!
//! libvirt's own `Display` adds `[code=…, domain=…]` noise that means
//! nothing to the person looking at the console, so every [`HostError`]
//! variant carries libvirt's plain message plus, where we can tell, what
//! to do about it. The variants also let callers react without parsing
//! strings: the worker reconnects on `Unreachable`, and
//! `From<DomainError> for AppError` (in the domain's `mod.rs`) picks the
//! form field from the variant alone.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use virt::error::{Error as VirtError, ErrorDomain, ErrorNumber};

/// Everything that can go wrong talking to a hypervisor host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum HostError {
    /// The host cannot be reached: wrong URI, daemon not running, socket
    /// gone, connection dropped. The worker retries with backoff.
    #[error("cannot reach host {uri}: {reason}")]
    Unreachable {
        /// The connection URI we tried.
        uri: String,
        /// libvirt's message plus a hint.
        reason: String,
    },
    /// No VM of that name exists on the host.
    #[error("there is no VM named '{0}' on this host")]
    NoSuchVm(String),
    /// No storage pool of that name exists on the host.
    #[error("there is no storage pool named '{0}' on this host")]
    NoSuchPool(String),
    /// The storage volume does not exist.
    #[error("there is no storage volume '{volume}' in pool '{pool}'")]
    NoSuchVolume {
        /// Pool searched.
        pool: String,
        /// Volume asked for.
        volume: String,
    },
    /// Something with that name already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The action does not fit the VM's current state (e.g. pausing a VM
    /// that is shut off).
    #[error("{0}")]
    InvalidState(String),
    /// The request itself is malformed (bad name, bad MAC, zero memory…).
    #[error("{0}")]
    InvalidInput(String),
    /// The worker did not answer in time (host hung or very slow).
    #[error("host {host} did not answer within {after:?}; it may be overloaded or hung")]
    Timeout {
        /// Host name as given to the worker.
        host: String,
        /// How long we waited.
        after: Duration,
    },
    /// The host already has as many calls waiting as it may queue; the
    /// call was not queued (nothing was done).
    #[error("host {host} has {waiting} requests waiting already; try again in a moment")]
    Busy {
        /// Host name as given to the worker.
        host: String,
        /// Calls waiting or running on its worker.
        waiting: usize,
    },
    /// The host's worker thread has stopped (should not happen while a
    /// handle exists, unless its thread could not be started).
    #[error("the worker for host {0} is not running")]
    WorkerGone(String),
    /// Any other libvirt failure, with libvirt's own message.
    #[error("libvirt: {message}")]
    Libvirt {
        /// libvirt's plain message.
        message: String,
        /// libvirt's numeric error code (virErrorNumber), for logs.
        code: i32,
    },
}

impl HostError {
    /// True when the error means the connection itself is gone, so the
    /// caller should drop it and reconnect.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, HostError::Unreachable { .. })
    }

    /// True when the call may still have acted on the host: no answer came
    /// in time, or the connection or worker went away around it. A
    /// creating call that failed so must be reconciled with the host later,
    /// not taken as undone.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            HostError::Timeout { .. } | HostError::WorkerGone(_) | HostError::Unreachable { .. }
        )
    }

    /// Converts a libvirt error raised while talking over an open
    /// connection to `uri`.
    pub(crate) fn from_virt(uri: &str, e: &VirtError) -> HostError {
        if is_transport_error(e) {
            return HostError::Unreachable {
                uri: uri.to_string(),
                reason: with_hint(e.message()),
            };
        }
        HostError::Libvirt {
            message: e.message().to_string(),
            code: e.code().to_raw() as i32,
        }
    }

    /// Converts a failure of `virConnectOpen`: every such failure means the
    /// host is not usable, so it is always `Unreachable`, with a hint that
    /// tells a wrong URI from a dead daemon.
    pub(crate) fn from_connect(uri: &str, e: &VirtError) -> HostError {
        HostError::Unreachable {
            uri: uri.to_string(),
            reason: with_hint(e.message()),
        }
    }
}

/// What the hosts domain's services answer when they cannot do what was
/// asked. Each variant says which form field it belongs to through its
/// kind, never through its text.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The host's name is empty.
    #[error("Enter a name, such as proliant-1.")]
    NameMissing,
    #[error("Use at most 64 characters.")]
    NameTooLong,
    /// A character a host name may not hold.
    #[error("{0:?} is not allowed: use letters, digits, '-', '_' and '.'.")]
    NameCharacter(char),
    #[error("A host is already called {0}.")]
    NameTaken(String),
    /// The libvirt URI is empty.
    #[error("Enter a libvirt URI, such as qemu:///system.")]
    UriMissing,
    /// The VM is protected and the caller is not an admin.
    #[error("{0} is protected: only an admin may start, stop or delete it.")]
    Protected(String),
    /// The server's configuration does not allow the URI.
    #[error("{0}")]
    UriNotAllowed(super::uri::UriNotAllowed),
    /// Connecting to the URI failed: libvirt's words, with a hint.
    #[error("{0}")]
    UriRefused(HostError),
    #[error("No answer within 15 seconds: is the host up and the URI right?")]
    UriTimeout,
    /// The connection attempt itself could not run (its task failed).
    #[error("the connection attempt failed: {0}")]
    ConnectAttempt(String),
    /// Not one of the `VmAction`s.
    #[error("{0:?} is not a VM action.")]
    UnknownAction(String),
    #[error("host {0} was not found")]
    NoSuchHost(i32),
    /// The host refused or failed a request (libvirt's words reach the
    /// user: they say what is wrong).
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Errors that mean the transport (socket, daemon) is gone rather than the
/// request being refused.
fn is_transport_error(e: &VirtError) -> bool {
    let code = e.code();
    code.is(ErrorNumber::NoConnect)
        || code.is(ErrorNumber::InvalidConn)
        || code.is(ErrorNumber::Rpc)
        || e.domain().is(ErrorDomain::Rpc)
        // The remote driver reports "client socket is closed" etc. as
        // internal errors in its own domain.
        || (e.domain().is(ErrorDomain::Remote) && code.is(ErrorNumber::InternalError))
}

/// libvirt's message plus what a person can do about it.
fn with_hint(message: &str) -> String {
    let msg = message.trim();
    let lower = msg.to_lowercase();
    let hint = if lower.contains("no connection driver available")
        || lower.contains("invalid uri")
        || lower.contains("unable to parse uri")
    {
        " — check the connection URI (e.g. qemu:///system or qemu+ssh://root@host/system)"
    } else if lower.contains("failed to connect socket")
        || lower.contains("connection refused")
        || lower.contains("no such file or directory")
    {
        " — is libvirtd (or virtqemud) running on that host?"
    } else if lower.contains("permission denied") || lower.contains("authentication") {
        " — the console's user may not manage this host (check the libvirt group, polkit or SSH keys)"
    } else if lower.contains("end of file") || lower.contains("socket is closed") {
        " — the connection was dropped; the daemon may have been restarted"
    } else {
        ""
    };
    format!("{msg}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain() {
        let e = HostError::NoSuchVm("web".into());
        assert_eq!(e.to_string(), "there is no VM named 'web' on this host");
        let e = HostError::Unreachable {
            uri: "qemu:///system".into(),
            reason: "gone".into(),
        };
        assert!(e.is_connection_lost());
        assert!(e.to_string().contains("qemu:///system"));
    }

    #[test]
    fn hints() {
        assert!(with_hint("no connection driver available for foo:///x")
            .contains("check the connection URI"));
        assert!(with_hint(
            "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"
        )
        .contains("is libvirtd"));
    }
}
