//! The gate every zone file passes before NSD may see it.
//!
//! The zone model's validation ([`crate::dns::zone::validate_zone`])
//! encodes the console's rules, but the authority on what NSD will load is
//! NSD's own parser. [`NsdCheckzone`]
//! runs `nsd-checkzone ORIGIN FILE` on the candidate file; the trait lets
//! the web app configure the program path and lets unit tests substitute a
//! checker without NSD installed.

use crate::dns::nsd::process::{self, RunError};
use crate::dns::zone::Name;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Checks a candidate zone file.
///
/// `Send + Sync` so one checker can be shared by all request handlers.
pub trait ZoneChecker: Send + Sync {
    /// `Ok(())` when `file` is a loadable zone for `origin`.
    fn check(&self, origin: &Name, file: &Path) -> Result<(), CheckFailure>;
}

/// Why a file did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckFailure {
    /// The checker ran and refused the file; the text is its message.
    #[error("{0}")]
    Rejected(String),
    /// The checker could not give an answer (not installed, timed out).
    /// The file is treated as not checked, so it is not installed either.
    #[error("the zone check could not run: {0}")]
    Unavailable(String),
}

/// Runs NSD's `nsd-checkzone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsdCheckzone {
    /// Program to run; a bare name is looked up in `PATH`.
    pub program: PathBuf,
    /// Time allowed; large zones take a few seconds to parse.
    pub timeout: Duration,
}

impl Default for NsdCheckzone {
    fn default() -> Self {
        NsdCheckzone {
            program: PathBuf::from("nsd-checkzone"),
            timeout: Duration::from_secs(60),
        }
    }
}

impl ZoneChecker for NsdCheckzone {
    fn check(&self, origin: &Name, file: &Path) -> Result<(), CheckFailure> {
        let mut cmd = Command::new(&self.program);
        // `--` first: a name is never read as an option (nsd-checkzone
        // answers `-h.example` with its usage and exit status 0).
        cmd.arg("--").arg(origin.as_str()).arg(file);
        let described = process::describe(&cmd);
        let done = process::run(cmd, self.timeout).map_err(|e| {
            CheckFailure::Unavailable(match e {
                RunError::Spawn(e) => format!("cannot run {}: {e}", self.program.display()),
                RunError::TimedOut => format!(
                    "{described} did not finish within {} s",
                    self.timeout.as_secs()
                ),
                RunError::Wait(e) => format!("waiting for {described} failed: {e}"),
            })
        })?;
        if done.status.success() && says_ok(&done.stdout, origin) {
            return Ok(());
        }
        Err(CheckFailure::Rejected(checkzone_message(
            &done.stdout,
            &done.stderr,
            &done.status.to_string(),
        )))
    }
}

/// True when nsd-checkzone's output has its success line for `origin`
/// (`zone example.com. is ok`): an exit status of 0 alone is not a check,
/// since a usage message exits 0 too.
fn says_ok(stdout: &str, origin: &Name) -> bool {
    let expected = format!("zone {} is ok", origin.as_str());
    stdout.lines().any(|line| line.trim() == expected)
}

/// Turns nsd-checkzone's output into a message for the console.
///
/// Its errors go to stderr as log lines
/// (`[2024-01-01 10:00:00.000] nsd-checkzone[123]: error: FILE:7: CNAME and
/// other data at the same name`); the timestamp and program prefix mean
/// nothing to a person editing a zone and are removed. stdout holds the
/// summary (`zone example.test file FILE has 1 errors`), used when stderr
/// is empty.
fn checkzone_message(stdout: &str, stderr: &str, status: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(strip_log_prefix)
        .filter(|l| !l.is_empty())
        .collect();
    if !lines.is_empty() {
        return lines.join("\n");
    }
    let out = stdout.trim();
    if !out.is_empty() {
        return out.to_string();
    }
    format!("nsd-checkzone refused the zone ({status})")
}

fn strip_log_prefix(line: &str) -> &str {
    let rest = match line.find("]: ") {
        Some(i) if line.starts_with('[') => line.get(i + 3..).unwrap_or(line),
        _ => line,
    };
    rest.strip_prefix("error: ").unwrap_or(rest).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_prefix_is_removed() {
        let stderr = "[2026-11-24 05:40:50.166] nsd-checkzone[20824]: error: a.zone:7: CNAME and \
                      other data at the same name\n\
                      [2026-11-24 05:40:50.171] nsd-checkzone[20825]: warning: something\n";
        assert_eq!(
            checkzone_message("zone x has 1 errors\n", stderr, "exit status: 1"),
            "a.zone:7: CNAME and other data at the same name\nwarning: something"
        );
        assert_eq!(
            checkzone_message("zone x has 1 errors\n", "", "exit status: 1"),
            "zone x has 1 errors"
        );
        assert_eq!(
            checkzone_message("", "", "exit status: 1"),
            "nsd-checkzone refused the zone (exit status: 1)"
        );
    }

    #[test]
    fn missing_program_is_unavailable() {
        let c = NsdCheckzone {
            program: "/nonexistent/nsd-checkzone".into(),
            ..NsdCheckzone::default()
        };
        let origin = Name::parse("example.test.").unwrap();
        let e = c.check(&origin, Path::new("/dev/null")).unwrap_err();
        assert!(
            matches!(e, CheckFailure::Unavailable(ref m) if m.starts_with("cannot run /nonexistent/nsd-checkzone")),
            "{e:?}"
        );
    }

    /// A usage message with exit status 0 (what nsd-checkzone prints for a
    /// name it takes for an option) is not a check that passed.
    #[test]
    fn exit_status_zero_without_the_success_line_is_a_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("checkzone");
        std::fs::write(
            &program,
            "#!/bin/sh\necho 'Usage: nsd-checkzone [-p] <zone name> <zone file>' >&2\nexit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(
            &program,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let c = NsdCheckzone {
            program,
            ..NsdCheckzone::default()
        };
        let origin = Name::parse("example.test.").unwrap();
        let e = c.check(&origin, Path::new("/dev/null")).unwrap_err();
        assert!(
            matches!(e, CheckFailure::Rejected(ref m) if m.starts_with("Usage:")),
            "{e:?}"
        );
    }

    /// With the real nsd-checkzone: a name that starts with `-` reaches it
    /// as a name, after `--`, and the zone is really checked.
    #[test]
    fn a_name_that_looks_like_an_option_is_checked_as_a_name() {
        if std::process::Command::new("nsd-checkzone")
            .arg("-h")
            .output()
            .is_err()
        {
            eprintln!("skipped: nsd-checkzone is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zone");
        std::fs::write(
            &file,
            "$TTL 300\n@ IN SOA ns hm 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\nns IN CNAME x\n",
        )
        .unwrap();
        let origin = Name::parse("-h.example.").unwrap();
        let e = NsdCheckzone::default().check(&origin, &file).unwrap_err();
        assert!(
            matches!(e, CheckFailure::Rejected(ref m) if m.contains("CNAME")),
            "{e:?}"
        );
    }
}
