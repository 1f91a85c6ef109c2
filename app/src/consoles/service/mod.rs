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
//!   for local hosts (`qemu:///system`, `qemu+unix://`); a `qemu+ssh://`
//!   host's screen comes through `ssh -W` to the VM's VNC port, with the
//!   user, port, key and known hosts the URI already names.

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

/// How the screen of a host's VM is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenRoute {
    /// libvirt hands over a socket (`virDomainOpenGraphicsFD`).
    Local,
    /// `ssh -W` to the VNC port, with the trust the URI already uses.
    Ssh(SshTarget),
}

/// The SSH side of a `qemu+ssh://` URI: whom to log in as, where, with
/// which key and known hosts (the URI's `keyfile`, `known_hosts` and
/// `no_verify` parameters, as libvirt reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub keyfile: Option<String>,
    pub known_hosts: Option<String>,
    pub no_verify: bool,
}

impl SshTarget {
    /// Reads the target of a `qemu+ssh://[user@]host[:port]/path?query` URI.
    pub fn parse(uri: &str) -> Option<SshTarget> {
        let rest = uri.strip_prefix("qemu+ssh://")?;
        let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let query = tail.split_once('?').map_or("", |(_, q)| q);
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            (
                h.to_owned(),
                after.strip_prefix(':').and_then(|p| p.parse().ok()),
            )
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p.parse().ok()?)),
                None => (hostport.to_owned(), None),
            }
        };
        if host.is_empty() || host.starts_with('-') {
            return None;
        }
        let mut target = SshTarget {
            user: user.filter(|u| !u.is_empty() && !u.starts_with('-')),
            host,
            port,
            keyfile: None,
            known_hosts: None,
            no_verify: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "keyfile" => target.keyfile = Some(v.to_owned()),
                "known_hosts" => target.known_hosts = Some(v.to_owned()),
                "no_verify" => target.no_verify = v == "1",
                _ => {}
            }
        }
        Some(target)
    }

    /// `ssh -W LISTEN:PORT …`: a pipe to the VNC server at `listen:port`
    /// on the host.
    fn command(&self, listen: &str, port: u16) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.arg("-W").arg(format!("{listen}:{port}")).args([
            "-o",
            "BatchMode=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-T",
        ]);
        if let Some(p) = self.port {
            cmd.arg("-p").arg(p.to_string());
        }
        if let Some(u) = &self.user {
            cmd.arg("-l").arg(u);
        }
        if let Some(k) = &self.keyfile {
            cmd.arg("-i").arg(k);
        }
        if let Some(k) = &self.known_hosts {
            cmd.arg("-o").arg(format!("UserKnownHostsFile={k}"));
        }
        if self.no_verify {
            cmd.args(["-o", "StrictHostKeyChecking=no"]);
        }
        cmd.arg("--").arg(&self.host);
        cmd
    }
}

/// How the screen of a host at `uri` can be reached, or why not.
pub fn screen_route(uri: &str) -> Result<ScreenRoute, ConsoleError> {
    let scheme = uri.split("://").next().unwrap_or_default();
    let transport = scheme.split_once('+').map(|(_, t)| t);
    match (scheme, transport) {
        (s, None | Some("unix")) if s.starts_with("qemu") => Ok(ScreenRoute::Local),
        (s, _) if s.starts_with("test") => Err(ConsoleError::ScreenTransport(
            "The demo host (libvirt's test driver) runs nothing: its VMs have no screen.".into(),
        )),
        ("qemu+ssh", _) => SshTarget::parse(uri).map(ScreenRoute::Ssh).ok_or_else(|| {
            ConsoleError::ScreenTransport(format!("The SSH address of {uri} cannot be read."))
        }),
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

/// A byte pipe to a VM's VNC server: libvirt's socket, or an SSH tunnel
/// (the `ssh` process ends with it).
pub struct ScreenIo {
    pub reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    pub writer: Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
    tunnel: Option<tokio::process::Child>,
    said: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ScreenIo {
    /// What the SSH tunnel said on its way out (why it failed), if anything.
    pub fn tunnel_said(&self) -> Option<String> {
        let said = self
            .said
            .lock()
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        (self.tunnel.is_some() && !said.is_empty()).then_some(said)
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

/// A pipe to VM `vm`'s VNC server on the host at `uri`.
pub async fn open_screen(uri: &str, vm: &str) -> Result<ScreenIo, ConsoleError> {
    let route = screen_route(uri)?;
    let (uri, vm) = (uri.to_owned(), vm.to_owned());
    let local = route == ScreenRoute::Local;
    // The VM's definition (live), and, on a local host, libvirt's socket.
    let (xml, socket) = tokio::task::spawn_blocking(move || {
        let (host, dom) = running_vm(&uri, &vm)?;
        let xml = dom
            .xml_desc(0)
            .map_err(|e| ConsoleError::Libvirt(e.message().into()))?;
        if !crate::hosts::service::xml::parse_consoles(&xml).screen {
            return Err(ConsoleError::NoScreen(vm.clone()));
        }
        let socket = if local {
            Some(raw::open_graphics(&dom).map_err(ConsoleError::Libvirt)?)
        } else {
            None
        };
        drop(dom);
        let _ = host.close();
        Ok((xml, socket))
    })
    .await
    .map_err(|e| ConsoleError::Libvirt(format!("the console task failed: {e}")))??;
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    match (route, socket) {
        (ScreenRoute::Local, Some(socket)) => {
            socket
                .set_nonblocking(true)
                .map_err(|e| ConsoleError::Libvirt(e.to_string()))?;
            let socket = tokio::net::UnixStream::from_std(socket)
                .map_err(|e| ConsoleError::Libvirt(e.to_string()))?;
            let (reader, writer) = socket.into_split();
            Ok(ScreenIo {
                reader: Box::new(reader),
                writer: Box::new(writer),
                tunnel: None,
                said,
            })
        }
        (ScreenRoute::Ssh(target), _) => {
            let (listen, port) =
                crate::hosts::service::xml::parse_vnc_listen(&xml).ok_or_else(|| {
                    ConsoleError::ScreenTransport("The VM's VNC server has no port yet.".into())
                })?;
            let mut child = target
                .command(&listen, port)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| ConsoleError::ScreenTransport(format!("cannot run ssh: {e}")))?;
            let (Some(stdout), Some(stdin), Some(mut stderr)) =
                (child.stdout.take(), child.stdin.take(), child.stderr.take())
            else {
                return Err(ConsoleError::ScreenTransport("ssh gave no pipes".into()));
            };
            let keep = std::sync::Arc::clone(&said);
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text).await;
                if let Ok(mut s) = keep.lock() {
                    *s = text;
                }
            });
            Ok(ScreenIo {
                reader: Box::new(stdout),
                writer: Box::new(stdin),
                tunnel: Some(child),
                said,
            })
        }
        (ScreenRoute::Local, None) => Err(ConsoleError::Libvirt("no socket from libvirt".into())),
    }
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
    Screen(Box<ScreenIo>),
    Serial(SerialConsole),
}

/// Opens the console a ticket was for.
pub async fn open(uri: &str, vm: &str, kind: ConsoleKind) -> Result<Console, ConsoleError> {
    Ok(match kind {
        ConsoleKind::Screen => Console::Screen(Box::new(open_screen(uri, vm).await?)),
        ConsoleKind::Serial => Console::Serial(open_serial(uri, vm).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_travels_over_local_transports_and_ssh() {
        assert_eq!(screen_route("qemu:///system").unwrap(), ScreenRoute::Local);
        assert_eq!(
            screen_route("qemu+unix:///system").unwrap(),
            ScreenRoute::Local
        );
        let tls = screen_route("qemu+tls://h1/system")
            .unwrap_err()
            .to_string();
        assert!(tls.contains("no API"), "{tls}");
        assert!(tls.contains("serial console works"), "{tls}");
        let demo = screen_route("test:///default").unwrap_err().to_string();
        assert!(demo.contains("runs nothing"), "{demo}");
        let ScreenRoute::Ssh(t) =
            screen_route("qemu+ssh://root@h1.example:2222/system?keyfile=/k&no_verify=1&no_tty=1")
                .unwrap()
        else {
            panic!("not ssh")
        };
        assert_eq!(
            (
                t.user.as_deref(),
                t.host.as_str(),
                t.port,
                t.keyfile.as_deref(),
                t.no_verify
            ),
            (Some("root"), "h1.example", Some(2222), Some("/k"), true)
        );
        let t = SshTarget::parse("qemu+ssh://[fd00::5]/system?known_hosts=/kh").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user), ("fd00::5", None, None));
        assert_eq!(t.known_hosts.as_deref(), Some("/kh"));
        // A host that ssh would read as an option is refused.
        assert!(SshTarget::parse("qemu+ssh://-oProxyCommand=x/system").is_none());
        let cmd = SshTarget::parse("qemu+ssh://root@h1:2222/system?keyfile=/k")
            .unwrap()
            .command("127.0.0.1", 5901);
        let args: Vec<String> = cmd
            .as_std()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[..2], ["-W".to_owned(), "127.0.0.1:5901".to_owned()]);
        assert!(
            args.ends_with(&["--".to_owned(), "h1".to_owned()]),
            "{args:?}"
        );
    }
}
