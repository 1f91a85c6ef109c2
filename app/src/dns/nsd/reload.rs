//! Making a running NSD pick up changed zone files.
//!
//! Three ways, chosen per server ([`ReloadMethod`]): `nsd-control reload`,
//! an arbitrary command (for `systemctl reload nsd`, sudo wrappers, ssh…),
//! or SIGHUP to the pid in NSD's pidfile. Failures carry the command's
//! stderr so the console can show why NSD did not reload.

use crate::dns::nsd::process::{self, RunError};
use crate::dns::nsd::server::ReloadMethod;
use crate::dns::zone::Name;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Time allowed for a reload command. `nsd-control reload` only queues the
/// reload and answers at once; the margin is for wrapper commands.
pub const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Placeholder argument of [`ReloadMethod::Command`] replaced by the zone.
pub const ZONE_PLACEHOLDER: &str = "{zone}";

/// The reload commands the server's configuration allows
/// (`--dns-reload-command`): a DNS server entry names one of them, and a
/// web form never names a program of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadCommands(Vec<Vec<String>>);

impl Default for ReloadCommands {
    /// Debian's: `systemctl reload nsd`.
    fn default() -> Self {
        ReloadCommands::new(["systemctl reload nsd"])
    }
}

impl ReloadCommands {
    /// Command lines, split at white space (`{zone}` stands for the zone).
    pub fn new<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> ReloadCommands {
        ReloadCommands(
            lines
                .into_iter()
                .map(|l| l.as_ref().split_whitespace().map(str::to_owned).collect())
                .filter(|args: &Vec<String>| !args.is_empty())
                .collect(),
        )
    }

    /// The allowed command that `typed` writes (white space aside).
    pub fn find(&self, typed: &str) -> Option<&[String]> {
        let typed: Vec<&str> = typed.split_whitespace().collect();
        self.0
            .iter()
            .find(|args| args.iter().map(String::as_str).eq(typed.iter().copied()))
            .map(Vec::as_slice)
    }

    /// The allowed commands, for a message.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|args| args.join(" "))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a successful reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// The command run or signal sent, for the audit log.
    pub action: String,
    /// The command's standard output (`ok` for nsd-control), if any.
    pub output: String,
}

/// Asks the server to reload `zone`, or every zone when `None`.
///
/// With [`ReloadMethod::Signal`] NSD always rescans all zone files (by
/// modification time); the other methods can target one zone.
pub fn reload(method: &ReloadMethod, zone: Option<&Name>) -> Result<ReloadOutcome, ReloadError> {
    reload_within(method, zone, RELOAD_TIMEOUT)
}

/// [`reload`], stopping a command (and every process it started) that runs
/// longer than `timeout`.
pub fn reload_within(
    method: &ReloadMethod,
    zone: Option<&Name>,
    timeout: Duration,
) -> Result<ReloadOutcome, ReloadError> {
    match method {
        ReloadMethod::NsdControl { config } => {
            let mut cmd = Command::new("nsd-control");
            // `--` ends the options: GNU getopt would otherwise take a zone
            // name that starts with `-` for one.
            cmd.arg("-c").arg(config).arg("--").arg("reload");
            if let Some(z) = zone {
                cmd.arg(z.as_str());
            }
            run_reload(cmd, timeout)
        }
        ReloadMethod::Command(argv) => {
            let mut args = argv.iter().filter_map(|a| {
                if a == ZONE_PLACEHOLDER {
                    zone.map(|z| z.as_str().to_string())
                } else {
                    Some(a.clone())
                }
            });
            let program = args.next().ok_or(ReloadError::EmptyCommand)?;
            let mut cmd = Command::new(program);
            cmd.args(args);
            run_reload(cmd, timeout)
        }
        ReloadMethod::Signal(pidfile) => signal_reload(pidfile),
    }
}

fn run_reload(cmd: Command, timeout: Duration) -> Result<ReloadOutcome, ReloadError> {
    let command = process::describe(&cmd);
    let done = process::run(cmd, timeout).map_err(|e| match e {
        RunError::Spawn(e) | RunError::Wait(e) => ReloadError::Spawn {
            command: command.clone(),
            message: e.to_string(),
        },
        RunError::TimedOut => ReloadError::TimedOut {
            command: command.clone(),
            seconds: timeout.as_secs(),
        },
    })?;
    let stdout = done.stdout.trim().to_string();
    // nsd-control prints "error ..." for refused requests; treat that as a
    // failure even if a wrapper script lost the exit status.
    let said_error = stdout.starts_with("error");
    if done.status.success() && !said_error {
        return Ok(ReloadOutcome {
            action: command,
            output: stdout,
        });
    }
    let stderr = done.stderr.trim();
    Err(ReloadError::Failed {
        command,
        status: done.status.to_string(),
        // Prefer stderr; nsd-control reports on stdout, so fall back to it.
        message: if stderr.is_empty() {
            stdout
        } else {
            stderr.to_string()
        },
    })
}

fn signal_reload(pidfile: &Path) -> Result<ReloadOutcome, ReloadError> {
    let text = std::fs::read_to_string(pidfile).map_err(|e| ReloadError::Pidfile {
        path: pidfile.to_path_buf(),
        message: e.to_string(),
    })?;
    // What the file holds is not repeated: the path could name any file.
    let pid: i32 = text.trim().parse().map_err(|_| ReloadError::Pidfile {
        path: pidfile.to_path_buf(),
        message: "it does not hold a process id".to_owned(),
    })?;
    // kill(2) treats 0 and negative ids as process groups and -1 as "every
    // process we may signal"; 1 is init. A corrupted pidfile must never
    // turn a reload into a broadcast SIGHUP.
    if pid <= 1 {
        return Err(ReloadError::Pidfile {
            path: pidfile.to_path_buf(),
            message: format!("{pid} is not a usable process id"),
        });
    }
    // Only NSD gets the signal: a pidfile path typed into a form must not
    // become a way to send SIGHUP to any process.
    // NSD names its processes `nsd`, `nsd: xfrd`, `nsd: main` (the pidfile
    // holds xfrd's).
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let name = name.trim_end();
    if name != "nsd" && !name.starts_with("nsd: ") {
        return Err(ReloadError::Pidfile {
            path: pidfile.to_path_buf(),
            message: format!("process {pid} is not NSD (or no longer runs)"),
        });
    }
    kill(Pid::from_raw(pid), Signal::SIGHUP).map_err(|e| ReloadError::Signal {
        pid,
        message: e.desc().to_string(),
    })?;
    Ok(ReloadOutcome {
        action: format!("SIGHUP to process {pid} (from {})", pidfile.display()),
        output: String::new(),
    })
}

/// Why a reload did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// [`ReloadMethod::Command`] with no program.
    #[error("the server's reload command is empty")]
    EmptyCommand,
    /// The command could not be started.
    #[error("could not run `{command}`: {message}")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating system's reason.
        message: String,
    },
    /// The command did not finish in time and was killed.
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    TimedOut {
        /// The command line.
        command: String,
        /// The limit.
        seconds: u64,
    },
    /// The command ran and reported failure.
    #[error("`{command}` failed ({status}): {message}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// Its stderr (or stdout when stderr was empty).
        message: String,
    },
    /// The pidfile is missing or does not hold a process id.
    #[error("cannot use pidfile {}: {message}", path.display())]
    Pidfile {
        /// The pidfile.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The signal could not be sent (no such process, permission).
    #[error(
        "could not send SIGHUP to NSD process {pid}: {message} (is NSD running, and is \
         the pidfile current?)"
    )]
    Signal {
        /// The process id from the pidfile.
        pid: i32,
        /// The operating system's reason.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> ReloadMethod {
        ReloadMethod::Command(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn command_success_and_zone_placeholder() {
        let zone = Name::parse("example.test.").unwrap();
        let out = reload(&cmd(&["echo", "reload", "{zone}"]), Some(&zone)).unwrap();
        assert_eq!(out.output, "reload example.test.");
        assert_eq!(out.action, "echo reload example.test.");
        let out = reload(&cmd(&["echo", "reload", "{zone}"]), None).unwrap();
        assert_eq!(out.output, "reload");
    }

    #[test]
    fn command_failure_reports_stderr() {
        let e = reload(&cmd(&["sh", "-c", "echo no such zone >&2; exit 2"]), None).unwrap_err();
        assert_eq!(
            e,
            ReloadError::Failed {
                command: "sh -c echo no such zone >&2; exit 2".into(),
                status: "exit status: 2".into(),
                message: "no such zone".into(),
            }
        );
        assert!(e
            .to_string()
            .ends_with("failed (exit status: 2): no such zone"));
        let e = reload(&cmd(&["echo", "error: zone not found"]), None).unwrap_err();
        assert!(
            matches!(e, ReloadError::Failed { ref message, .. } if message == "error: zone not found")
        );
        assert_eq!(
            reload(&cmd(&[]), None).unwrap_err(),
            ReloadError::EmptyCommand
        );
        assert!(matches!(
            reload(&cmd(&["/nonexistent/reloader"]), None).unwrap_err(),
            ReloadError::Spawn { .. }
        ));
    }

    #[test]
    fn bad_pidfiles_never_signal() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("nsd.pid");
        for content in ["", "abc", "0", "1", "-1", "-1234"] {
            std::fs::write(&pidfile, content).unwrap();
            let e = reload(&ReloadMethod::Signal(pidfile.clone()), None).unwrap_err();
            assert!(
                matches!(e, ReloadError::Pidfile { .. }),
                "{content:?}: {e:?}"
            );
        }
        let missing = ReloadMethod::Signal(dir.path().join("missing.pid"));
        assert!(matches!(
            reload(&missing, None).unwrap_err(),
            ReloadError::Pidfile { .. }
        ));
    }

    #[test]
    fn signal_reaches_the_process() {
        // A child that exits 0 only when it receives SIGHUP, and gives up by
        // itself after about 20 s so nothing outlives a failed test. Perl
        // (Essential in Debian) installs its handler even when the test runs
        // with SIGHUP ignored (under nohup), where a shell's `trap` cannot.
        // Named nsd (a link's name is the process's), as only NSD is signalled.
        let bin = tempfile::tempdir().unwrap();
        let nsd = bin.path().join("nsd");
        std::os::unix::fs::symlink("/usr/bin/perl", &nsd).unwrap();
        let mut child = std::process::Command::new(&nsd)
            .args([
                "-e",
                "$SIG{HUP} = sub { exit 0 }; for (1..200) { select(undef, undef, undef, 0.1) } exit 7",
            ])
            .spawn()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("nsd.pid");
        std::fs::write(&pidfile, format!("{}\n", child.id())).unwrap();
        // Give the shell time to install its trap.
        std::thread::sleep(Duration::from_millis(300));
        let out = reload(&ReloadMethod::Signal(pidfile), None).unwrap();
        assert!(out.action.starts_with("SIGHUP to process"));
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }

    #[test]
    fn only_nsd_is_signalled_and_the_pidfile_is_not_echoed() {
        let mut other = std::process::Command::new("sleep")
            .arg("20")
            .spawn()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("nsd.pid");
        std::fs::write(&pidfile, format!("{}\n", other.id())).unwrap();
        let e = reload(&ReloadMethod::Signal(pidfile.clone()), None).unwrap_err();
        assert!(e.to_string().contains("is not NSD"), "{e}");
        assert_eq!(other.try_wait().unwrap(), None, "the process got no signal");
        other.kill().unwrap();
        other.wait().unwrap();
        std::fs::write(&pidfile, "root:x:0:0:secret line\n").unwrap();
        let e = reload(&ReloadMethod::Signal(pidfile), None).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn reload_commands_are_the_configured_ones() {
        let allowed = ReloadCommands::new(["systemctl reload nsd", "  ", "nsd-reload {zone}"]);
        assert_eq!(
            allowed.find(" systemctl  reload nsd "),
            Some(
                &[
                    "systemctl".to_owned(),
                    "reload".to_owned(),
                    "nsd".to_owned()
                ][..]
            )
        );
        assert!(allowed.find("nsd-reload {zone}").is_some());
        assert_eq!(allowed.find("sh -c reboot"), None);
        assert_eq!(allowed.find("systemctl reload"), None);
        assert_eq!(
            allowed.describe(),
            "systemctl reload nsd; nsd-reload {zone}"
        );
        assert!(ReloadCommands::default()
            .find("systemctl reload nsd")
            .is_some());
    }
}
