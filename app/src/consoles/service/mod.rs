//! Where a console's bytes come from. Each console has a libvirt connection
//! of its own (the host's worker is never held by a console), opened on a
//! thread of its own, since libvirt calls block:
//!
//! - the serial line: `virDomainOpenConsole` on a non-blocking stream
//!   (`raw::ConsoleStream`), which works on every transport (over
//!   `qemu+ssh://` inside the libvirt connection);
//! - the screen: `virDomainOpenGraphicsFD`, libvirt passing a socket
//!   connected to the VM's VNC server (no TCP port, no VNC password). File
//!   descriptors only travel over libvirt's local UNIX socket, so this is
//!   for local hosts (`qemu:///system`, `qemu+unix://`).

mod raw;
pub mod tickets;

use std::sync::mpsc;
use std::time::Duration;

use crate::consoles::ConsoleKind;
use crate::error::AppError;
use crate::hosts::service::{HostError, Hypervisor, LibvirtHost};

/// Why a console cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0:?} is not a console: use screen or serial.")]
    UnknownKind(String),
    #[error("There is no VM named {0} on {1}.")]
    NoSuchVm(String, String),
    #[error("{0} is not running: start it to see its console.")]
    NotRunning(String),
    #[error("A console needs a signed-in session.")]
    NoSession,
    #[error("{0} has no serial port: only its screen can be shown.")]
    NoSerial(String),
    #[error("{0} has no graphical screen (no VNC device): use its serial console.")]
    NoScreen(String),
    /// The host's transport cannot carry the screen.
    #[error("{0}")]
    ScreenTransport(String),
    #[error("{0}")]
    Host(#[from] crate::hosts::DomainError),
    #[error("libvirt: {0}")]
    Libvirt(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

impl From<HostError> for ConsoleError {
    fn from(e: HostError) -> Self {
        ConsoleError::Host(e.into())
    }
}

impl From<ConsoleError> for AppError {
    fn from(e: ConsoleError) -> Self {
        use ConsoleError as E;
        match e {
            E::UnknownKind(_) => AppError::invalid("kind", e.to_string()),
            E::NoSuchVm(..) => AppError::NotFound(e.to_string()),
            E::NoSession => AppError::Unauthorized,
            E::Host(h) => AppError::from(h),
            E::Database(db) => AppError::from(db),
            E::NotRunning(_)
            | E::NoSerial(_)
            | E::NoScreen(_)
            | E::ScreenTransport(_)
            | E::Libvirt(_) => AppError::Refused(e.to_string()),
        }
    }
}

/// How the screen of a host at `uri` can be reached, or why not.
pub fn screen_route(uri: &str) -> Result<(), ConsoleError> {
    let scheme = uri.split("://").next().unwrap_or_default();
    let transport = scheme.split_once('+').map(|(_, t)| t);
    match (scheme, transport) {
        (s, None | Some("unix")) if s.starts_with("qemu") => Ok(()),
        (s, _) if s.starts_with("test") => Err(ConsoleError::ScreenTransport(
            "The demo host (libvirt's test driver) runs nothing: its VMs have no screen.".into(),
        )),
        (_, Some("ssh")) => Err(ConsoleError::ScreenTransport(
            "The screen of a VM on a qemu+ssh:// host is not available yet; its serial console is."
                .into(),
        )),
        (_, Some(t)) => Err(ConsoleError::ScreenTransport(format!(
            "libvirt cannot hand over the screen of a VM on a qemu+{t}:// host (it has no API \
             to tunnel VNC over that transport). Add the host as qemu+ssh:// to see its screens \
             here, or use `virt-viewer --connect {uri}`; the serial console works over any \
             transport."
        ))),
        _ => Err(ConsoleError::ScreenTransport(format!(
            "The screen of a VM on {uri} cannot be reached."
        ))),
    }
}

/// Opens a connection of the console's own to `uri` and finds VM `vm`,
/// running.
fn running_vm(uri: &str, vm: &str) -> Result<(LibvirtHost, virt::domain::Domain), ConsoleError> {
    let host = LibvirtHost::connect(uri)?;
    let dom = host.domain(vm)?;
    if !dom
        .is_active()
        .map_err(|e| ConsoleError::Libvirt(e.message().into()))?
    {
        return Err(ConsoleError::NotRunning(vm.into()));
    }
    Ok((host, dom))
}

/// A socket connected to VM `vm`'s VNC server on the host at `uri`.
pub async fn open_screen(uri: &str, vm: &str) -> Result<tokio::net::UnixStream, ConsoleError> {
    screen_route(uri)?;
    let (uri, vm) = (uri.to_owned(), vm.to_owned());
    let socket = tokio::task::spawn_blocking(move || {
        let (host, dom) = running_vm(&uri, &vm)?;
        let xml = dom
            .xml_desc(0)
            .map_err(|e| ConsoleError::Libvirt(e.message().into()))?;
        if !crate::hosts::service::xml::parse_consoles(&xml).screen {
            return Err(ConsoleError::NoScreen(vm.clone()));
        }
        let socket = raw::open_graphics(&dom).map_err(ConsoleError::Libvirt);
        drop(dom);
        let _ = host.close();
        socket
    })
    .await
    .map_err(|e| ConsoleError::Libvirt(format!("the console task failed: {e}")))??;
    socket
        .set_nonblocking(true)
        .map_err(|e| ConsoleError::Libvirt(e.to_string()))?;
    tokio::net::UnixStream::from_std(socket).map_err(|e| ConsoleError::Libvirt(e.to_string()))
}

/// What the serial console's thread hands the WebSocket.
#[derive(Debug, PartialEq, Eq)]
pub enum SerialOutput {
    /// Bytes the VM wrote.
    Data(Vec<u8>),
    /// The console ended, and why.
    Closed(String),
}

/// What wakes the serial console's thread.
enum Wake {
    Readable,
    Input(Vec<u8>),
}

/// An open serial console: write the user's keys with [`SerialConsole::send`],
/// read the VM's output from `output`. Dropping it closes the console.
pub struct SerialConsole {
    input: mpsc::Sender<Wake>,
    pub output: tokio::sync::mpsc::Receiver<SerialOutput>,
}

impl SerialConsole {
    /// Queues the user's input for the VM; false once the console ended.
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        self.input.send(Wake::Input(bytes)).is_ok()
    }
}

/// Input waiting for the VM beyond this is dropped (a runaway paste).
const MAX_PENDING: usize = 1 << 20;

/// Opens VM `vm`'s serial console on the host at `uri`.
pub async fn open_serial(uri: &str, vm: &str) -> Result<SerialConsole, ConsoleError> {
    let (wake_tx, wake_rx) = mpsc::channel::<Wake>();
    let (out_tx, out_rx) = tokio::sync::mpsc::channel::<SerialOutput>(256);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), ConsoleError>>();
    let (uri, vm) = (uri.to_owned(), vm.to_owned());
    let notify = wake_tx.clone();
    std::thread::Builder::new()
        .name(format!("console-{vm}"))
        .spawn(move || {
            let opened = running_vm(&uri, &vm).and_then(|(host, dom)| {
                let xml = dom
                    .xml_desc(0)
                    .map_err(|e| ConsoleError::Libvirt(e.message().into()))?;
                if !crate::hosts::service::xml::parse_consoles(&xml).serial {
                    return Err(ConsoleError::NoSerial(vm.clone()));
                }
                let conn = host.connection()?;
                let stream = raw::ConsoleStream::open(
                    conn,
                    &dom,
                    Box::new(move || {
                        let _ = notify.send(Wake::Readable);
                    }),
                )
                .map_err(ConsoleError::Libvirt)?;
                Ok((host, dom, stream))
            });
            let (host, dom, stream) = match opened {
                Ok(o) => o,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            let why = pump(&stream, &wake_rx, &out_tx);
            drop(stream);
            drop(dom);
            let _ = host.close();
            let _ = out_tx.blocking_send(SerialOutput::Closed(why));
        })
        .map_err(|e| ConsoleError::Libvirt(format!("cannot start the console's thread: {e}")))?;
    ready_rx
        .await
        .map_err(|_| ConsoleError::Libvirt("the console's thread ended".into()))??;
    Ok(SerialConsole {
        input: wake_tx,
        output: out_rx,
    })
}

/// Moves bytes between the stream and the channels until one side ends;
/// returns why.
fn pump(
    stream: &raw::ConsoleStream,
    wake: &mpsc::Receiver<Wake>,
    out: &tokio::sync::mpsc::Sender<SerialOutput>,
) -> String {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Waiting input that the stream would not take is retried soon;
        // otherwise the wake-ups come from libvirt and the user.
        let wait = if pending.is_empty() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(10)
        };
        match wake.recv_timeout(wait) {
            Ok(Wake::Input(bytes)) => {
                if pending.len() + bytes.len() <= MAX_PENDING {
                    pending.extend_from_slice(&bytes);
                }
                while let Ok(more) = wake.try_recv() {
                    if let Wake::Input(bytes) = more {
                        if pending.len() + bytes.len() <= MAX_PENDING {
                            pending.extend_from_slice(&bytes);
                        }
                    }
                }
            }
            Ok(Wake::Readable) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return "closed".into(),
        }
        if out.is_closed() {
            return "closed".into();
        }
        loop {
            match stream.recv(&mut buf) {
                Ok(raw::Io::Done(n)) => {
                    if out
                        .blocking_send(SerialOutput::Data(buf[..n].to_vec()))
                        .is_err()
                    {
                        return "closed".into();
                    }
                }
                Ok(raw::Io::Again) => break,
                Ok(raw::Io::Closed) => {
                    return "the serial console closed (the VM stopped, or another \
                            console took it over)"
                        .into()
                }
                Err(e) => return format!("the serial console failed: {e}"),
            }
        }
        while !pending.is_empty() {
            match stream.send(&pending) {
                Ok(raw::Io::Done(n)) => {
                    pending.drain(..n.min(pending.len()));
                }
                Ok(raw::Io::Again) => break,
                Ok(raw::Io::Closed) => return "the serial console closed".into(),
                Err(e) => return format!("the serial console failed: {e}"),
            }
        }
    }
}

/// Opens `kind` of VM `vm` on the host at `uri`: what the WebSocket pipes.
pub enum Console {
    Screen(tokio::net::UnixStream),
    Serial(SerialConsole),
}

/// Opens the console a ticket was for.
pub async fn open(uri: &str, vm: &str, kind: ConsoleKind) -> Result<Console, ConsoleError> {
    Ok(match kind {
        ConsoleKind::Screen => Console::Screen(open_screen(uri, vm).await?),
        ConsoleKind::Serial => Console::Serial(open_serial(uri, vm).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_travels_over_local_transports_only() {
        assert!(screen_route("qemu:///system").is_ok());
        assert!(screen_route("qemu+unix:///system").is_ok());
        let tls = screen_route("qemu+tls://h1/system")
            .unwrap_err()
            .to_string();
        assert!(tls.contains("no API"), "{tls}");
        assert!(tls.contains("serial console works"), "{tls}");
        let demo = screen_route("test:///default").unwrap_err().to_string();
        assert!(demo.contains("runs nothing"), "{demo}");
        assert!(screen_route("qemu+ssh://root@h1/system").is_err());
    }
}
