//! The console's own contact with libvirt's C API: a non-blocking stream on
//! a VM's serial console, and adopting the socket libvirt hands over for
//! its screen. The `virt` crate's `Stream` registers a pointer to itself
//! for callbacks and panics in `Drop` when libvirt reports an error (a
//! stream whose connection died does), so streams are driven here through
//! `virt::sys`, with every error returned instead. This and
//! `hosts::service::events` are the only modules with `unsafe` in the crate.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::os::fd::{FromRawFd, OwnedFd};

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;

/// What libvirt said when a call failed.
fn last_error() -> String {
    virt::error::Error::last_error().message().to_string()
}

/// Called (on libvirt's event-loop thread) when the stream is readable,
/// hung up or failed: it should only wake the console's own thread.
pub type Notify = Box<dyn Fn() + Send>;

/// A non-blocking stream connected to a VM's console, which notifies a
/// channel when there is something to read. Dropping it removes the
/// notification, aborts the stream and releases it, ignoring errors.
pub struct ConsoleStream {
    ptr: sys::virStreamPtr,
    notified: bool,
}

// SAFETY: a virStreamPtr may be used from any thread (libvirt locks it);
// ConsoleStream is only ever used by one thread at a time (no Sync).
unsafe impl Send for ConsoleStream {}

/// One call of [`ConsoleStream::recv`] or [`ConsoleStream::send`].
#[derive(Debug, PartialEq, Eq)]
pub enum Io {
    /// This many bytes were read or written.
    Done(usize),
    /// Nothing now (EAGAIN): wait for the next notification.
    Again,
    /// The console closed (the VM stopped, or another client took it).
    Closed,
}

impl ConsoleStream {
    /// Opens VM `dom`'s first console or serial port on `conn` as a
    /// non-blocking stream, taking it over from any other client
    /// (`VIR_DOMAIN_CONSOLE_FORCE`, as `virsh console --force` does), and
    /// calls `notify` whenever it has something to read.
    pub fn open(conn: &Connect, dom: &Domain, notify: Notify) -> Result<Self, String> {
        // SAFETY: `conn` is a live connection for the duration of the call;
        // virStreamNew returns a new reference we own, or null.
        let ptr = unsafe { sys::virStreamNew(conn.as_ptr(), sys::VIR_STREAM_NONBLOCK) };
        if ptr.is_null() {
            return Err(last_error());
        }
        let mut stream = ConsoleStream {
            ptr,
            notified: false,
        };
        // SAFETY: `dom` and `stream.ptr` are live; a null device name means
        // the VM's first console.
        let rc = unsafe {
            sys::virDomainOpenConsole(
                dom.as_ptr(),
                std::ptr::null::<c_char>(),
                stream.ptr,
                sys::VIR_DOMAIN_CONSOLE_FORCE,
            )
        };
        if rc < 0 {
            return Err(last_error());
        }
        let opaque = Box::into_raw(Box::new(notify)) as *mut c_void;
        let events = sys::VIR_STREAM_EVENT_READABLE
            | sys::VIR_STREAM_EVENT_ERROR
            | sys::VIR_STREAM_EVENT_HANGUP;
        // SAFETY: `opaque` is a leaked Box<Notify> that libvirt
        // hands back to `readable_cb` and frees through `free_notify`
        // exactly once, when the callback is removed (or the stream freed).
        let rc = unsafe {
            sys::virStreamEventAddCallback(
                stream.ptr,
                events as c_int,
                Some(readable_cb),
                opaque,
                Some(free_notify),
            )
        };
        if rc < 0 {
            // SAFETY: the registration failed, so libvirt will never call
            // `free_notify`: the Box is still ours to free.
            drop(unsafe { Box::from_raw(opaque as *mut Notify) });
            return Err(last_error());
        }
        stream.notified = true;
        Ok(stream)
    }

    /// Reads what is there into `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Io, String> {
        // SAFETY: `buf` is valid for `buf.len()` bytes; the stream is live.
        let rc =
            unsafe { sys::virStreamRecv(self.ptr, buf.as_mut_ptr() as *mut c_char, buf.len()) };
        match rc {
            -2 => Ok(Io::Again),
            0 => Ok(Io::Closed),
            n if n > 0 => Ok(Io::Done(n as usize)),
            _ => Err(last_error()),
        }
    }

    /// Writes as much of `data` as the stream takes now.
    pub fn send(&self, data: &[u8]) -> Result<Io, String> {
        if data.is_empty() {
            return Ok(Io::Done(0));
        }
        // SAFETY: `data` is valid for `data.len()` bytes; libvirt only
        // reads it (the binding's pointer is not const).
        let rc =
            unsafe { sys::virStreamSend(self.ptr, data.as_ptr() as *const c_char, data.len()) };
        match rc {
            -2 => Ok(Io::Again),
            n if n >= 0 => Ok(Io::Done(n as usize)),
            _ => Err(last_error()),
        }
    }
}

impl Drop for ConsoleStream {
    fn drop(&mut self) {
        // SAFETY: `ptr` is our reference, released exactly once, here; the
        // callback (if any) is removed first so it never runs on a freed
        // stream. Errors (a dead connection) are of no use at this point.
        unsafe {
            if self.notified {
                sys::virStreamEventRemoveCallback(self.ptr);
            }
            sys::virStreamAbort(self.ptr);
            sys::virStreamFree(self.ptr);
        }
    }
}

/// virStreamEventCallback: wakes the console's thread.
unsafe extern "C" fn readable_cb(_stream: sys::virStreamPtr, _events: c_int, opaque: *mut c_void) {
    if opaque.is_null() {
        return;
    }
    // SAFETY: `opaque` is our Box<Notify>, alive until `free_notify`.
    let notify = unsafe { &*(opaque as *const Notify) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(notify));
}

/// Frees the [`Notify`] given to [`readable_cb`].
unsafe extern "C" fn free_notify(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: from `Box::into_raw` in `open`; libvirt calls this once.
        drop(unsafe { Box::from_raw(opaque as *mut Notify) });
    }
}

/// A socket connected to the VM's screen (its first graphics device),
/// libvirt skipping the VNC password: `virDomainOpenGraphicsFD`, which
/// passes the file descriptor over libvirt's own UNIX socket (local hosts
/// and `qemu+unix`).
pub fn open_graphics(dom: &Domain) -> Result<std::os::unix::net::UnixStream, String> {
    let fd = dom
        .open_graphics_fd(0, sys::VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
        .map_err(|e| e.message().to_string())?;
    let fd = i32::try_from(fd).map_err(|_| format!("libvirt returned a bad descriptor {fd}"))?;
    // SAFETY: virDomainOpenGraphicsFD returns a new connected socket that
    // the caller owns and must close; nothing else holds it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(std::os::unix::net::UnixStream::from(owned))
}
