//! Running helper programs (`nsd-checkzone`, `nsd-control`, reload
//! commands) with a deadline.
//!
//! A web request must never hang on a stuck child, so each run has a
//! timeout after which the child is killed, with every process it started:
//! the child leads a process group of its own, and the whole group is
//! killed (a wrapper such as `sh -c`, `sudo` or `ssh` would otherwise leave
//! the real command running, holding the DNS apply lock through the pipes
//! it inherited). stdout and stderr are drained on their own threads while
//! the main thread waits: reading them one after the other could deadlock
//! when the child fills the other pipe. Their output is awaited at most
//! [`READ_GRACE`] after the child ended; a leftover process still holding
//! the pipes then is killed with its group.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::{self, Read};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Most output kept per stream; the rest is read and discarded so the
/// child never blocks on a full pipe, while error messages stay bounded.
const MAX_KEPT: usize = 64 * 1024;

/// How often the exit status is polled.
const POLL: Duration = Duration::from_millis(10);

/// How long the output is awaited once the child has ended.
const READ_GRACE: Duration = Duration::from_secs(2);

/// What a finished child produced.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Why a child could not be run to completion.
#[derive(Debug)]
pub(crate) enum RunError {
    /// It could not be started (missing program, permissions).
    Spawn(io::Error),
    /// It ran past the deadline and was killed.
    TimedOut,
    /// Waiting for it failed.
    Wait(io::Error),
}

/// Runs `cmd` with stdin closed, capturing output, killing it and its
/// process group after `timeout`.
pub(crate) fn run(mut cmd: Command, timeout: Duration) -> Result<Finished, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    let group = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let (done, finished) = mpsc::channel();
    let out = child.stdout.take().map(|r| drain(r, done.clone()));
    let err = child.stderr.take().map(|r| drain(r, done.clone()));
    drop(done);
    let status = wait_until(&mut child, group, Instant::now() + timeout);
    // The pipes close when every process holding them has ended. One the
    // child left behind (in its group) may hold them for ever: wait a
    // little, then kill the group, and take what was read either way.
    let readers = usize::from(out.is_some()) + usize::from(err.is_some());
    let grace = Instant::now() + READ_GRACE;
    let mut ended = 0;
    while ended < readers {
        let left = grace.saturating_duration_since(Instant::now());
        match finished.recv_timeout(left) {
            Ok(()) => ended += 1,
            Err(_) => {
                kill_group(group);
                break;
            }
        }
    }
    let text = |kept: Option<Arc<Mutex<Vec<u8>>>>| {
        kept.map(|k| {
            let bytes = k.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .unwrap_or_default()
    };
    Ok(Finished {
        status: status?,
        stdout: text(out),
        stderr: text(err),
    })
}

/// Kills every process of the group the child leads.
fn kill_group(group: Option<Pid>) {
    if let Some(group) = group {
        // ESRCH: the group is already gone, which is what we want.
        let _ = killpg(group, Signal::SIGKILL);
    }
}

fn wait_until(
    child: &mut Child,
    group: Option<Pid>,
    deadline: Instant,
) -> Result<ExitStatus, RunError> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // Kill and reap so no zombie is left; errors here mean the
                // child is already gone, which is what we want anyway.
                kill_group(group);
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::TimedOut);
            }
            Ok(None) => thread::sleep(POLL),
            Err(e) => {
                kill_group(group);
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Wait(e));
            }
        }
    }
}

/// Reads `r` to its end on a thread of its own, keeping at most
/// [`MAX_KEPT`] octets where the caller can take them at any time, and
/// says so on `done` when the stream has ended.
fn drain<R: Read + Send + 'static>(mut r: R, done: mpsc::Sender<()>) -> Arc<Mutex<Vec<u8>>> {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::clone(&kept);
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Ok(mut kept) = shared.lock() {
                        let room = MAX_KEPT.saturating_sub(kept.len());
                        kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or(&[]));
                    }
                }
            }
        }
        let _ = done.send(());
    });
    kept
}

/// `program arg1 arg2` for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_both_streams_and_status() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo out; echo err >&2; exit 3"]);
        let f = run(c, Duration::from_secs(10)).unwrap();
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
    }

    #[test]
    fn large_output_does_not_deadlock_and_is_capped() {
        let mut c = Command::new("sh");
        c.args([
            "-c",
            "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2",
        ]);
        let f = run(c, Duration::from_secs(10)).unwrap();
        assert!(f.status.success());
        assert_eq!(f.stdout.len(), MAX_KEPT);
        assert_eq!(f.stderr.len(), MAX_KEPT);
    }

    #[test]
    fn times_out() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let started = Instant::now();
        assert!(matches!(
            run(c, Duration::from_millis(200)),
            Err(RunError::TimedOut)
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_timeout_kills_what_a_wrapper_started() {
        // `sh` runs sleep as a child of its own: killing only `sh` would
        // leave sleep holding the pipes for 30 s.
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 30; echo never"]);
        let started = Instant::now();
        assert!(matches!(
            run(c, Duration::from_millis(200)),
            Err(RunError::TimedOut)
        ));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_process_left_behind_holding_the_output_does_not_hold_the_caller() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo reloaded; (sleep 30 &); exit 0"]);
        let started = Instant::now();
        let f = run(c, Duration::from_secs(10)).unwrap();
        assert!(f.status.success());
        assert_eq!(f.stdout, "reloaded\n");
        assert!(started.elapsed() < READ_GRACE + Duration::from_secs(2));
    }

    #[test]
    fn missing_program() {
        let c = Command::new("/nonexistent/program");
        assert!(matches!(
            run(c, Duration::from_secs(1)),
            Err(RunError::Spawn(_))
        ));
    }
}
