//! Installing a zone file so that NSD never sees a bad or half-written one.
//!
//! The sequence, for `zonesdir/example.test.zone`:
//!
//! 1. render the zone and write it to a new temporary file *in the same
//!    directory* (`.example.test.zone.<pid>.<n>.tmp`, created exclusively),
//!    then fsync it;
//! 2. run the [`ZoneChecker`] (`nsd-checkzone`) on the temporary file;
//! 3. only if it passes, `rename` it over the old file and fsync the
//!    directory. Rename within one filesystem is atomic, so NSD (or a
//!    crash) sees either the complete old file or the complete new one;
//!    the fsyncs make the new contents and the new directory entry durable
//!    before NSD is told to reload;
//! 4. on any failure the temporary file is removed and the old file is left
//!    exactly as it was, so the running zone and the next reload are
//!    unaffected. The checker's message is returned for the console.
//!
//! Callers serialise applies of the same zone (the web app holds a
//! per-zone lock): two concurrent applies never corrupt the file, but the
//! last rename wins.

use crate::dns::nsd::check::{CheckFailure, ZoneChecker};
use crate::dns::nsd::config::{zone_file_name, ConfigError};
use crate::dns::nsd::reload::{reload, ReloadError, ReloadOutcome};
use crate::dns::nsd::server::ReloadMethod;
use crate::dns::zone::{parse_zone, render_zone, serial_gt, Name, ParseOptions, Zone};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Zone files are not secret and NSD may run as another user than the
/// console, so they are world-readable (subject to the umask).
const ZONE_FILE_MODE: u32 = 0o644;

/// Distinguishes temporary files of concurrent applies in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// The installed zone file.
    pub path: PathBuf,
    /// Serial of the installed zone (`None` if raw text had no readable SOA).
    pub serial: Option<u32>,
    /// Serial of the file it replaced, if there was one and it could be read.
    pub previous_serial: Option<u32>,
    /// The reload, for [`apply_and_reload`].
    pub reload: Option<ReloadOutcome>,
}

impl ApplyOutcome {
    /// Whether the serial moved forward (RFC 1982): secondaries only
    /// transfer a zone whose serial increased, so `Some(false)` means the
    /// change will stay on the primary. `None` when either is unknown.
    pub fn serial_advanced(&self) -> Option<bool> {
        Some(serial_gt(self.serial?, self.previous_serial?))
    }
}

/// Renders `zone` and installs it as `zonesdir/<origin>.zone` after the
/// checker accepted it (see the module documentation). Does not reload.
///
/// The zone is not run through [`crate::dns::zone::validate_zone`] here: the console
/// validates while editing, and the checker is the final authority on what
/// NSD accepts.
pub fn apply_zone(
    zonesdir: &Path,
    zone: &Zone,
    checker: &dyn ZoneChecker,
) -> Result<ApplyOutcome, ApplyError> {
    let text = render_zone(zone);
    let mut outcome = install(zonesdir, &zone.origin, &text, checker)?;
    outcome.serial = Some(zone.soa.serial);
    Ok(outcome)
}

/// Like [`apply_zone`] for master-file text that did not come from the
/// zone model (an imported file kept verbatim, or a file built by hand).
pub fn apply_zone_text(
    zonesdir: &Path,
    origin: &Name,
    text: &str,
    checker: &dyn ZoneChecker,
) -> Result<ApplyOutcome, ApplyError> {
    let mut outcome = install(zonesdir, origin, text, checker)?;
    outcome.serial = serial_of(origin, text);
    Ok(outcome)
}

/// [`apply_zone`], then [`reload()`] of that zone with `method`.
///
/// A reload failure is [`ApplyError::Reload`]: the new file *is* installed
/// (it passed the checker), NSD just has not loaded it yet, and will on
/// its next successful reload.
pub fn apply_and_reload(
    zonesdir: &Path,
    zone: &Zone,
    checker: &dyn ZoneChecker,
    method: &ReloadMethod,
) -> Result<ApplyOutcome, ApplyError> {
    let mut outcome = apply_zone(zonesdir, zone, checker)?;
    match reload(method, Some(&zone.origin)) {
        Ok(r) => {
            outcome.reload = Some(r);
            Ok(outcome)
        }
        Err(error) => Err(ApplyError::Reload {
            path: outcome.path,
            error,
        }),
    }
}

fn serial_of(origin: &Name, text: &str) -> Option<u32> {
    parse_zone(origin, text, ParseOptions::default())
        .ok()
        .map(|z| z.soa.serial)
}

fn install(
    zonesdir: &Path,
    origin: &Name,
    text: &str,
    checker: &dyn ZoneChecker,
) -> Result<ApplyOutcome, ApplyError> {
    let file_name = zone_file_name(origin).map_err(ApplyError::Name)?;
    let path = zonesdir.join(&file_name);
    let previous_serial = match fs::read_to_string(&path) {
        Ok(old) => serial_of(origin, &old),
        Err(_) => None,
    };

    let mut temp = TempFile::create(zonesdir, &file_name)?;
    temp.write_synced(text.as_bytes())?;

    if let Err(failure) = checker.check(origin, &temp.path) {
        // `temp` is removed when it goes out of scope; the old file was
        // never touched.
        return Err(match failure {
            CheckFailure::Rejected(m) => ApplyError::Rejected {
                message: temp.rename_in_message(&m, &file_name),
            },
            CheckFailure::Unavailable(m) => ApplyError::CheckUnavailable { message: m },
        });
    }

    temp.persist(&path)?;
    // The rename is only durable once the directory entry is on disk.
    sync_dir(zonesdir).map_err(|e| ApplyError::io("sync the zones directory", zonesdir, e))?;
    Ok(ApplyOutcome {
        path,
        serial: None,
        previous_serial,
        reload: None,
    })
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A temporary file that removes itself unless persisted, so every early
/// return (checker refusal, write error) cleans up.
struct TempFile {
    path: PathBuf,
    /// The handle from the exclusive create, written through directly so
    /// the path is never opened a second time (it could have been swapped
    /// for a symlink in between).
    file: File,
    /// Set once renamed: nothing left to remove.
    persisted: bool,
}

impl TempFile {
    /// Creates `.<name>.<pid>.<n>.tmp` next to the target. `create_new`
    /// (O_EXCL) never follows or reuses an existing file, so a stale or
    /// planted file cannot redirect the write. The leading dot keeps the
    /// file out of globs like `*.zone`.
    fn create(dir: &Path, file_name: &str) -> Result<TempFile, ApplyError> {
        let pid = std::process::id();
        let mut last_err = None;
        for _ in 0..16 {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{file_name}.{pid}.{n}.tmp"));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(ZONE_FILE_MODE)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file,
                        persisted: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => return Err(ApplyError::io("create a temporary zone file", &path, e)),
            }
        }
        let e = last_err.unwrap_or_else(|| io::Error::other("no free temporary name"));
        Err(ApplyError::io("create a temporary zone file", dir, e))
    }

    fn write_synced(&mut self, bytes: &[u8]) -> Result<(), ApplyError> {
        let path = &self.path;
        let fail = |e| ApplyError::io("write the temporary zone file", path, e);
        self.file.write_all(bytes).map_err(fail)?;
        // Data must be on disk before the rename makes it the live file,
        // or a crash could leave an empty file under the real name.
        self.file.sync_all().map_err(fail)
    }

    fn persist(mut self, target: &Path) -> Result<(), ApplyError> {
        fs::rename(&self.path, target)
            .map_err(|e| ApplyError::io("install the zone file", target, e))?;
        self.persisted = true;
        Ok(())
    }

    /// The checker names the temporary file; the person editing the zone
    /// knows it by its real name.
    fn rename_in_message(&self, message: &str, file_name: &str) -> String {
        let full = self.path.to_string_lossy();
        let mut m = message.replace(full.as_ref(), file_name);
        if let Some(base) = self.path.file_name() {
            m = m.replace(base.to_string_lossy().as_ref(), file_name);
        }
        m
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            // Nothing sensible to do if removal fails; the dot-name keeps a
            // leftover out of NSD's way.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Why a zone was not installed or not reloaded.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The zone name cannot be mapped to a file name.
    #[error("{0}")]
    Name(#[source] ConfigError),
    /// A file operation failed; the old zone file is unchanged unless
    /// `action` is about the zones directory sync after installing.
    #[error("could not {action} ({}): {source}{}", path.display(), io_hint(source))]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The checker refused the zone; the old file is unchanged.
    #[error("NSD would not load this zone, so it was not published:\n{message}")]
    Rejected {
        /// The checker's message, naming the zone file rather than the
        /// temporary file.
        message: String,
    },
    /// The checker could not run; nothing was installed.
    #[error("the zone was not published because it could not be checked: {message}")]
    CheckUnavailable {
        /// Why.
        message: String,
    },
    /// The file was installed but NSD could not be told to reload.
    #[error(
        "the zone file {} was updated but NSD was not reloaded: {error}",
        path.display()
    )]
    Reload {
        /// The installed file.
        path: PathBuf,
        /// The reload failure (with the command's stderr).
        #[source]
        error: ReloadError,
    },
}

/// What a person can do about an I/O error while a zone is written.
fn io_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            ". The disk holding the zones directory is full: the zone was not published, and \
             NSD still serves the old file. Free space there, then apply again"
        }
        _ => "",
    }
}

impl ApplyError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> ApplyError {
        ApplyError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::zone::{RData, Record, Soa, Ttl};
    use std::sync::Mutex;

    /// A checker that records what it saw and answers as told.
    struct FakeChecker {
        answer: Result<(), CheckFailure>,
        seen: Mutex<Vec<(String, PathBuf, String)>>,
    }

    impl FakeChecker {
        fn new(answer: Result<(), CheckFailure>) -> FakeChecker {
            FakeChecker {
                answer,
                seen: Mutex::new(Vec::new()),
            }
        }
    }

    impl ZoneChecker for FakeChecker {
        fn check(&self, origin: &Name, file: &Path) -> Result<(), CheckFailure> {
            let content = fs::read_to_string(file).unwrap();
            self.seen
                .lock()
                .unwrap()
                .push((origin.to_string(), file.to_path_buf(), content));
            self.answer.clone()
        }
    }

    fn zone(serial: u32, addr: &str) -> Zone {
        let n = |s: &str| Name::parse(s).unwrap();
        let mut z = Zone::new(
            n("example.test."),
            Ttl(3600),
            Soa {
                mname: n("ns1.example.test."),
                rname: n("hostmaster.example.test."),
                serial,
                refresh: 7200,
                retry: 3600,
                expire: 1_209_600,
                minimum: 300,
            },
        );
        z.records.push(Record {
            owner: n("www.example.test."),
            ttl: Ttl(3600),
            rdata: RData::A(addr.parse().unwrap()),
        });
        z
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn accepted_zone_is_installed_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let ok = FakeChecker::new(Ok(()));
        let z = zone(1, "192.0.2.1");
        let out = apply_zone(dir.path(), &z, &ok).unwrap();
        assert_eq!(out.path, dir.path().join("example.test.zone"));
        assert_eq!(out.serial, Some(1));
        assert_eq!(out.previous_serial, None);
        assert_eq!(out.serial_advanced(), None);
        assert_eq!(fs::read_to_string(&out.path).unwrap(), render_zone(&z));
        // The checker saw a temporary file in the same directory, with the
        // final content, and it is gone now.
        let seen = ok.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, "example.test.");
        assert_eq!(seen[0].1.parent(), Some(dir.path()));
        assert_ne!(seen[0].1, out.path);
        assert_eq!(seen[0].2, render_zone(&z));
        assert_eq!(entries(dir.path()), vec!["example.test.zone"]);
        let mode = fs::metadata(&out.path).unwrap().permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o600, 0o600);

        // A second apply reports the serial it replaced.
        let out = apply_zone(dir.path(), &zone(2, "192.0.2.2"), &ok).unwrap();
        assert_eq!(out.previous_serial, Some(1));
        assert_eq!(out.serial_advanced(), Some(true));
        let out = apply_zone(dir.path(), &zone(2, "192.0.2.3"), &ok).unwrap();
        assert_eq!(out.serial_advanced(), Some(false));
    }

    #[test]
    fn rejected_zone_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = zone(1, "192.0.2.1");
        apply_zone(dir.path(), &good, &FakeChecker::new(Ok(()))).unwrap();
        let before = fs::read(dir.path().join("example.test.zone")).unwrap();

        // The fake checker names the temp file the way nsd-checkzone does.
        struct Refuser;
        impl ZoneChecker for Refuser {
            fn check(&self, _: &Name, file: &Path) -> Result<(), CheckFailure> {
                Err(CheckFailure::Rejected(format!(
                    "{}:7: CNAME and other data at the same name",
                    file.display()
                )))
            }
        }
        let e = apply_zone(dir.path(), &zone(2, "192.0.2.99"), &Refuser).unwrap_err();
        match &e {
            ApplyError::Rejected { message } => assert_eq!(
                message,
                "example.test.zone:7: CNAME and other data at the same name"
            ),
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().contains("not published"));
        assert_eq!(
            fs::read(dir.path().join("example.test.zone")).unwrap(),
            before
        );
        assert_eq!(entries(dir.path()), vec!["example.test.zone"]);

        // A checker that cannot run blocks the install just the same.
        let down = FakeChecker::new(Err(CheckFailure::Unavailable("not installed".into())));
        let e = apply_zone_text(dir.path(), &good.origin, "garbage", &down).unwrap_err();
        assert!(matches!(e, ApplyError::CheckUnavailable { .. }));
        assert_eq!(
            fs::read(dir.path().join("example.test.zone")).unwrap(),
            before
        );
        assert_eq!(entries(dir.path()), vec!["example.test.zone"]);
    }

    #[test]
    fn io_errors_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = apply_zone(&missing, &zone(1, "192.0.2.1"), &FakeChecker::new(Ok(()))).unwrap_err();
        assert!(
            matches!(
                e,
                ApplyError::Io {
                    action: "create a temporary zone file",
                    ..
                }
            ),
            "{e:?}"
        );
        let odd = Name::parse("a\\/b.example.").unwrap();
        let e = apply_zone_text(dir.path(), &odd, "", &FakeChecker::new(Ok(()))).unwrap_err();
        assert!(matches!(
            e,
            ApplyError::Name(ConfigError::UnsupportedZoneName(_))
        ));
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn raw_text_serial_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let origin = Name::parse("example.test.").unwrap();
        let text = "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 host 42 1 1 1 1\n@ NS ns1\n";
        let out = apply_zone_text(dir.path(), &origin, text, &FakeChecker::new(Ok(()))).unwrap();
        assert_eq!(out.serial, Some(42));
        assert_eq!(fs::read_to_string(out.path).unwrap(), text);
    }

    #[test]
    fn reload_failure_after_install_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let method = ReloadMethod::Command(vec![
            "sh".into(),
            "-c".into(),
            "echo 'error: connection refused' >&2; exit 1".into(),
        ]);
        let e = apply_and_reload(
            dir.path(),
            &zone(1, "192.0.2.1"),
            &FakeChecker::new(Ok(())),
            &method,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("was updated but NSD was not reloaded"),
            "{text}"
        );
        assert!(text.ends_with("error: connection refused"), "{text}");
        assert!(dir.path().join("example.test.zone").exists());
        let ok = ReloadMethod::Command(vec!["true".into()]);
        let out = apply_and_reload(
            dir.path(),
            &zone(2, "192.0.2.1"),
            &FakeChecker::new(Ok(())),
            &ok,
        )
        .unwrap();
        assert_eq!(out.reload.unwrap().action, "true");
    }
}
