//! Running helper programs (`nsd-checkzone`, `nsd-control`, reload
//! commands) with a deadline.
//!
//! A web request must never hang on a stuck child, so each run has a
//! timeout after which the child is killed. stdout and stderr are drained
//! on their own threads while the main thread waits: reading them one after
//! the other could deadlock when the child fills the other pipe.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Most output kept per stream; the rest is read and discarded so the
/// child never blocks on a full pipe, while error messages stay bounded.
const MAX_KEPT: usize = 64 * 1024;

/// How often the exit status is polled.
const POLL: Duration = Duration::from_millis(10);

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

/// Runs `cmd` with stdin closed, capturing output, killing it after
/// `timeout`.
pub(crate) fn run(mut cmd: Command, timeout: Duration) -> Result<Finished, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let status = wait_until(&mut child, Instant::now() + timeout);
    // The pipes close when the child exits (or is killed), so the readers
    // finish; a grandchild that kept them open would only delay this until
    // it exits, which is the same trade-off `Command::output` makes.
    let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Finished {
        status: status?,
        stdout,
        stderr,
    })
}

fn wait_until(child: &mut Child, deadline: Instant) -> Result<ExitStatus, RunError> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // Kill and reap so no zombie is left; errors here mean the
                // child is already gone, which is what we want anyway.
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::TimedOut);
            }
            Ok(None) => thread::sleep(POLL),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Wait(e));
            }
        }
    }
}

fn drain<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_KEPT.saturating_sub(kept.len());
                    kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or(&[]));
                }
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
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
    fn missing_program() {
        let c = Command::new("/nonexistent/program");
        assert!(matches!(
            run(c, Duration::from_secs(1)),
            Err(RunError::Spawn(_))
        ));
    }
}
