//! libvirt event plumbing: the process-wide event loop, the per-connection
//! lifecycle and close callbacks, and closing a connection without the
//! wrapper's panicking `Drop`.
//!
//! The `virt` crate has no safe wrapper for domain events, so this is the
//! one module that talks to `virt::sys` directly and the only place with
//! `unsafe` in the `app` crate (the workspace denies it elsewhere).
//! Callbacks run on the event-loop thread; they only copy the data out and
//! hand it to a Rust closure (the worker forwards it over a channel), so no
//! libvirt call is made from inside a callback.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use virt::connect::Connect;
use virt::sys;

use crate::hosts::service::types::VmEventKind;

/// What a callback reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawEvent {
    /// A domain lifecycle event.
    Lifecycle {
        /// Domain name.
        vm: String,
        /// Event type.
        kind: VmEventKind,
        /// libvirt's detail code (meaning depends on `kind`).
        detail: i32,
        /// When the callback ran.
        at: SystemTime,
    },
    /// The connection was closed under us (daemon died, keepalive timeout).
    Closed {
        /// virConnectCloseReason.
        reason: i32,
    },
}

/// Receives events; called on the event-loop thread, so it must be quick.
pub(crate) type Sink = Arc<dyn Fn(RawEvent) + Send + Sync>;

/// Registers libvirt's default event loop once per process and runs it on
/// a dedicated thread. Must happen before the first connection is opened,
/// because remote connections hook their socket into the loop at open time.
pub(crate) fn ensure_event_loop() -> Result<(), String> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        virt::event::event_register_default_impl()
            .map_err(|e| format!("cannot start libvirt's event loop: {}", e.message()))?;
        std::thread::Builder::new()
            .name("libvirt-events".into())
            .spawn(|| loop {
                if let Err(e) = virt::event::event_run_default_impl() {
                    // Never spin: an error here is rare and usually transient.
                    tracing::warn!("libvirt event loop iteration failed: {}", e.message());
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
            .map_err(|e| format!("cannot start libvirt's event loop thread: {e}"))?;
        Ok(())
    })
    .clone()
}

fn kind_of(event: c_int) -> VmEventKind {
    match event as u32 {
        sys::VIR_DOMAIN_EVENT_DEFINED => VmEventKind::Defined,
        sys::VIR_DOMAIN_EVENT_UNDEFINED => VmEventKind::Undefined,
        sys::VIR_DOMAIN_EVENT_STARTED => VmEventKind::Started,
        sys::VIR_DOMAIN_EVENT_SUSPENDED => VmEventKind::Suspended,
        sys::VIR_DOMAIN_EVENT_RESUMED => VmEventKind::Resumed,
        sys::VIR_DOMAIN_EVENT_STOPPED => VmEventKind::Stopped,
        sys::VIR_DOMAIN_EVENT_SHUTDOWN => VmEventKind::Shutdown,
        sys::VIR_DOMAIN_EVENT_PMSUSPENDED => VmEventKind::PmSuspended,
        sys::VIR_DOMAIN_EVENT_CRASHED => VmEventKind::Crashed,
        _ => VmEventKind::Other,
    }
}

/// The lifecycle callback (virConnectDomainEventCallback signature).
unsafe extern "C" fn lifecycle_cb(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    if opaque.is_null() || dom.is_null() {
        return 0;
    }
    // SAFETY: `opaque` is the `Box<Sink>` leaked in `register`; libvirt
    // keeps it until it calls `free_sink`, which cannot run while a
    // callback using it is executing. We only borrow it.
    let sink = unsafe { &*(opaque as *const Sink) };
    // SAFETY: `dom` is valid for the duration of the callback; the name
    // pointer is owned by the domain object and we copy it at once.
    let name_ptr = unsafe { sys::virDomainGetName(dom) };
    if name_ptr.is_null() {
        return 0;
    }
    // SAFETY: non-null, NUL-terminated string owned by `dom` (see above).
    let vm = unsafe { CStr::from_ptr(name_ptr) }
        .to_string_lossy()
        .into_owned();
    let ev = RawEvent::Lifecycle {
        vm,
        kind: kind_of(event),
        detail,
        at: SystemTime::now(),
    };
    // A panic must not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| sink(ev)));
    0
}

/// The close callback (virConnectCloseFunc).
unsafe extern "C" fn close_cb(_conn: sys::virConnectPtr, reason: c_int, opaque: *mut c_void) {
    if opaque.is_null() {
        return;
    }
    // SAFETY: as in `lifecycle_cb`: our leaked `Box<Sink>`, alive until `free_sink`.
    let sink = unsafe { &*(opaque as *const Sink) };
    let _ = catch_unwind(AssertUnwindSafe(|| sink(RawEvent::Closed { reason })));
}

/// Frees an opaque `Box<Sink>` when libvirt drops a registration.
unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: `opaque` came from `Box::into_raw(Box<Sink>)` in
        // `register` and libvirt calls the free callback exactly once.
        drop(unsafe { Box::from_raw(opaque as *mut Sink) });
    }
}

fn leak_sink(sink: &Sink) -> *mut c_void {
    Box::into_raw(Box::new(sink.clone())) as *mut c_void
}

/// Live callback registrations on one connection.
#[derive(Debug)]
pub(crate) struct Registration {
    lifecycle_id: c_int,
    close_registered: bool,
}

/// Registers the lifecycle callback (all domains) and, where the driver
/// supports it, the close callback on `conn`.
pub(crate) fn register(conn: &Connect, sink: &Sink) -> Result<Registration, virt::error::Error> {
    // libvirt declares one generic callback type for all event IDs and
    // expects callers to cast the event-specific function to it
    // (VIR_DOMAIN_EVENT_CALLBACK in libvirt-domain.h); it calls it back
    // with the lifecycle signature for VIR_DOMAIN_EVENT_ID_LIFECYCLE.
    type Lifecycle = unsafe extern "C" fn(
        sys::virConnectPtr,
        sys::virDomainPtr,
        c_int,
        c_int,
        *mut c_void,
    ) -> c_int;
    type Generic = unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void);
    // SAFETY: both are `extern "C"` function pointers of the same size; the
    // C side calls it with the lifecycle argument list, as documented.
    let generic = unsafe { std::mem::transmute::<Lifecycle, Generic>(lifecycle_cb) };
    let opaque = leak_sink(sink);
    // SAFETY: `conn` is an open connection; a null domain means "all
    // domains"; `opaque` stays valid until libvirt calls `free_sink`.
    let id = unsafe {
        sys::virConnectDomainEventRegisterAny(
            conn.as_ptr(),
            ptr::null_mut(),
            sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
            Some(generic),
            opaque,
            Some(free_sink),
        )
    };
    if id < 0 {
        let err = virt::error::Error::last_error();
        // SAFETY: registration failed, so libvirt did not take ownership
        // of `opaque` and will never free it; we do.
        unsafe { free_sink(opaque) };
        return Err(err);
    }
    let close_opaque = leak_sink(sink);
    // SAFETY: as above; libvirt owns `close_opaque` on success.
    let rc = unsafe {
        sys::virConnectRegisterCloseCallback(
            conn.as_ptr(),
            Some(close_cb),
            close_opaque,
            Some(free_sink),
        )
    };
    let close_registered = rc >= 0;
    if !close_registered {
        // Drivers without a transport (test://) have no close callback;
        // the worker's periodic liveness check covers them.
        // SAFETY: registration failed, ownership stayed with us.
        unsafe { free_sink(close_opaque) };
    }
    Ok(Registration {
        lifecycle_id: id,
        close_registered,
    })
}

/// Removes the callbacks. Errors are only logged: the connection is about
/// to be closed anyway, and closing frees any leftover registration.
pub(crate) fn deregister(conn: &Connect, reg: Registration) {
    // SAFETY: `conn` is the connection the registration was made on and is
    // still open; the id came from virConnectDomainEventRegisterAny.
    let rc = unsafe { sys::virConnectDomainEventDeregisterAny(conn.as_ptr(), reg.lifecycle_id) };
    if rc < 0 {
        tracing::debug!(
            "deregistering lifecycle callback failed: {}",
            virt::error::Error::last_error().message()
        );
    }
    if reg.close_registered {
        // SAFETY: same connection, same function pointer as registered.
        let rc = unsafe { sys::virConnectUnregisterCloseCallback(conn.as_ptr(), Some(close_cb)) };
        if rc < 0 {
            tracing::debug!(
                "unregistering close callback failed: {}",
                virt::error::Error::last_error().message()
            );
        }
    }
}

/// Closes a connection and reports failure instead of panicking (the
/// `virt` wrapper's `Drop` panics when virConnectClose fails, e.g. on a
/// connection whose daemon died).
pub(crate) fn close_connection(conn: Connect) -> Result<(), String> {
    // SAFETY: we take the pointer and forget the wrapper, so its Drop never
    // runs and the one reference it owned is released exactly once, here.
    let ptr = unsafe { conn.as_ptr() };
    std::mem::forget(conn);
    // SAFETY: `ptr` is a connection reference we own (see above).
    let rc = unsafe { sys::virConnectClose(ptr) };
    if rc < 0 {
        Err(virt::error::Error::last_error().message().to_string())
    } else {
        Ok(())
    }
}
