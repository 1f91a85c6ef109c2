//! An upload's contact with libvirt's C API: a blocking stream into
//! `virStorageVolUpload`. The `virt` crate's `Stream` panics in `Drop`
//! when libvirt reports an error (one whose connection died does), so the
//! stream is driven through `virt::sys`, every error returned instead (as
//! `consoles::service::raw` does for the console's stream).
#![allow(unsafe_code)]

use std::ffi::c_char;

use virt::connect::Connect;
use virt::storage_vol::StorageVol;
use virt::sys;

/// What libvirt said when a call failed.
fn last_error() -> String {
    virt::error::Error::last_error().message().to_string()
}

/// The most one `virStreamSend` is given.
const PIECE: usize = 256 * 1024;

/// A blocking stream writing into one volume. Dropping it without
/// [`UploadStream::finish`] aborts the upload.
pub struct UploadStream {
    ptr: sys::virStreamPtr,
    finished: bool,
}

// SAFETY: a virStreamPtr may be used from any thread (libvirt locks it);
// UploadStream is only ever used by one thread at a time (no Sync).
unsafe impl Send for UploadStream {}

impl UploadStream {
    /// Starts writing `length` bytes into `vol` from its first byte.
    pub fn open(conn: &Connect, vol: &StorageVol, length: u64) -> Result<Self, String> {
        // SAFETY: `conn` is live for the call; virStreamNew returns a new
        // reference we own, or null. Flags 0: a blocking stream.
        let ptr = unsafe { sys::virStreamNew(conn.as_ptr(), 0) };
        if ptr.is_null() {
            return Err(last_error());
        }
        let stream = UploadStream {
            ptr,
            finished: false,
        };
        // SAFETY: `vol` and the stream are live.
        let rc = unsafe { sys::virStorageVolUpload(vol.as_ptr(), stream.ptr, 0, length, 0) };
        if rc < 0 {
            return Err(last_error());
        }
        Ok(stream)
    }

    /// Writes all of `data` (a blocking stream takes what it can and
    /// says how much; the rest is sent again), in pieces libvirt's RPC
    /// carries (one message holds at most 32 MiB).
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), String> {
        for piece in data.chunks(PIECE) {
            self.send_piece(piece)?;
        }
        Ok(())
    }

    fn send_piece(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            // SAFETY: `data` is valid for `data.len()` bytes; the stream is live.
            let rc =
                unsafe { sys::virStreamSend(self.ptr, data.as_ptr() as *const c_char, data.len()) };
            match rc {
                n if n > 0 => data = &data[(n as usize).min(data.len())..],
                // -2 (EAGAIN) only happens on non-blocking streams; 0 would
                // loop for ever, so both count as failures here.
                -2 | 0 => return Err("the host stopped taking the upload".to_owned()),
                _ => return Err(last_error()),
            }
        }
        Ok(())
    }

    /// Ends the upload: libvirt confirms every byte was written.
    pub fn finish(mut self) -> Result<(), String> {
        self.finished = true;
        // SAFETY: the stream is live; after finish it is only freed.
        if unsafe { sys::virStreamFinish(self.ptr) } < 0 {
            let why = last_error();
            // SAFETY: as above; an abort after a failed finish releases
            // the daemon's side.
            unsafe { sys::virStreamAbort(self.ptr) };
            return Err(why);
        }
        Ok(())
    }
}

impl Drop for UploadStream {
    fn drop(&mut self) {
        // SAFETY: the stream is live until freed here, exactly once.
        unsafe {
            if !self.finished {
                sys::virStreamAbort(self.ptr);
            }
            sys::virStreamFree(self.ptr);
        }
    }
}
