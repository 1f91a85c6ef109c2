//! The login throttle and the bound on password checks.
//!
//! Three rules, over the attempts recorded in the database (so they hold
//! across restarts and across instances sharing a database):
//!
//! * one name from one address: 5 failures within 15 minutes are free,
//!   then 30 s, doubling with every further failure, up to 15 minutes;
//! * one name from anywhere, and one address for any name: 20 free, then
//!   30 s doubling up to 2 minutes. Gentler and capped, so that nobody can
//!   keep an account (`admin`) or a shared address locked out for long,
//!   while guessing from many addresses stays slow.
//!
//! Only real failures count: an attempt refused by the throttle, or because
//! the same name is already being checked for the same address, is not
//! recorded, so a trickle of refused attempts never extends a delay.
//!
//! And [`LoginGate`], in memory: checks for one name from one address run
//! one after the other, the throttle read and the attempt recorded inside
//! (so a burst gets no more verifications than the throttle allows); a few
//! wait their turn (two people signing in as `admin` from one office), the
//! rest of a burst are refused at once. At most as many Argon2
//! verifications run at once as the machine has cores; a login that finds
//! them all busy is refused at once instead of queueing 19 MiB of work.

use super::store::{self, Attempts};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How far back failures count.
pub const THROTTLE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// One throttle rule: failures after which attempts wait, and how long.
#[derive(Clone, Copy, Debug)]
struct Rule {
    free_failures: u64,
    max_delay_secs: i64,
}

/// One name from one address.
const PAIR: Rule = Rule {
    free_failures: 5,
    max_delay_secs: 15 * 60,
};

/// One name from anywhere, or one address for any name.
const WIDE: Rule = Rule {
    free_failures: 20,
    max_delay_secs: 2 * 60,
};

/// The first delay; it doubles with every failure past the free ones.
const FIRST_DELAY_SECS: i64 = 30;

/// Seconds to wait before the next attempt for `username` from
/// `client_addr`, when one of the three rules (see the module) applies.
pub async fn throttle_delay<C: ConnectionTrait>(
    db: &C,
    username: &str,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut wait = None;
    for (which, rule) in [
        (Attempts::ForNameFromAddr(username, client_addr), PAIR),
        (Attempts::ForName(username), WIDE),
        (Attempts::FromAddr(client_addr), WIDE),
    ] {
        // Failures since the last success among the same attempts.
        let window = now - THROTTLE_WINDOW;
        let since = store::last_success(db, which, window)
            .await?
            .unwrap_or(window);
        let failures = store::failures_since(db, which, since, 64).await?;
        let count = failures.len() as u64;
        let Some(last) = failures.first() else {
            continue;
        };
        if count < rule.free_failures {
            continue;
        }
        let doublings = (count - rule.free_failures).min(10) as u32;
        let delay = (FIRST_DELAY_SECS << doublings).min(rule.max_delay_secs);
        let remaining = (*last + chrono::Duration::seconds(delay) - now).num_seconds();
        if remaining > 0 {
            wait = Some(wait.map_or(remaining, |w: i64| w.max(remaining)));
        }
    }
    Ok(wait)
}

/// How many checks of one name from one address may wait behind the
/// running one before further attempts are refused at once.
const QUEUE: usize = 3;

/// The checks of one name from one address: a one-permit semaphore and
/// how many checks hold or wait for it.
#[derive(Debug)]
struct Pair {
    turn: Arc<Semaphore>,
    users: usize,
}

/// The in-memory half of the throttle (see the module): one check at a
/// time per name and address, and a bound on concurrent Argon2 work.
#[derive(Debug)]
pub struct LoginGate {
    checking: Mutex<HashMap<(String, String), Pair>>,
    argon: Arc<Semaphore>,
    verifications: AtomicU64,
}

impl LoginGate {
    /// A gate letting `parallel` password verifications run at once.
    pub fn new(parallel: usize) -> Self {
        LoginGate {
            checking: Mutex::new(HashMap::new()),
            argon: Arc::new(Semaphore::new(parallel.max(1))),
            verifications: AtomicU64::new(0),
        }
    }

    /// As many verifications at once as the machine has cores.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// Waits for the turn to check `username` from `client_addr`; `None`,
    /// at once, when three checks of the pair already wait. The turn
    /// ends when the claim is dropped.
    pub async fn claim(self: &Arc<Self>, username: &str, client_addr: &str) -> Option<Claim> {
        let key = (username.to_owned(), client_addr.to_owned());
        let turn = {
            let mut checking = self.checking.lock().unwrap_or_else(|e| e.into_inner());
            let pair = checking.entry(key.clone()).or_insert_with(|| Pair {
                turn: Arc::new(Semaphore::new(1)),
                users: 0,
            });
            if pair.users > QUEUE {
                return None;
            }
            pair.users += 1;
            Arc::clone(&pair.turn)
        };
        // From here the claim exists, so that dropping it (also while it
        // waits) gives its place back.
        let mut claim = Claim {
            gate: Arc::clone(self),
            key,
            _turn: None,
        };
        claim._turn = turn.acquire_owned().await.ok();
        Some(claim)
    }

    /// A slot for one Argon2 verification, or `None` when all are busy.
    pub fn verifier(&self) -> Option<OwnedSemaphorePermit> {
        let permit = Arc::clone(&self.argon).try_acquire_owned().ok()?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Some(permit)
    }

    /// Waits for a slot, for work that must not be refused (hashing a
    /// new password for a signed-in admin).
    pub async fn verifier_wait(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.argon).acquire_owned().await.ok()
    }

    /// How many login verifications have started, for tests and benches.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

impl Default for LoginGate {
    fn default() -> Self {
        Self::per_core()
    }
}

/// A claimed (name, address) check, see [`LoginGate::claim`].
#[derive(Debug)]
pub struct Claim {
    gate: Arc<LoginGate>,
    key: (String, String),
    _turn: Option<OwnedSemaphorePermit>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut checking = self.gate.checking.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pair) = checking.get_mut(&self.key) {
            pair.users = pair.users.saturating_sub(1);
            if pair.users == 0 {
                checking.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_check_per_name_and_address_at_a_time_and_a_short_queue() {
        let gate = Arc::new(LoginGate::new(2));
        let first = gate.claim("admin", "192.0.2.1").await;
        assert!(first.is_some());
        // Three more wait their turn; the next is refused at once.
        let mut waiting: Vec<_> = (0..QUEUE)
            .map(|_| Box::pin(gate.claim("admin", "192.0.2.1")))
            .collect();
        for w in &mut waiting {
            let wait = std::time::Duration::from_millis(20);
            assert!(
                tokio::time::timeout(wait, w.as_mut()).await.is_err(),
                "waits"
            );
        }
        assert!(gate.claim("admin", "192.0.2.1").await.is_none());
        // Another address, or another name, is another check.
        assert!(gate.claim("admin", "192.0.2.2").await.is_some());
        assert!(gate.claim("alice", "192.0.2.1").await.is_some());
        // The first ending lets the next in.
        drop(first);
        let next = waiting.remove(0).await;
        assert!(next.is_some());
        drop(next);
        drop(waiting);
        let checking = gate.checking.lock().unwrap();
        assert!(checking.is_empty(), "every claim gave its place back");
    }

    #[test]
    fn verifications_are_bounded_and_refused_beyond() {
        let gate = LoginGate::new(2);
        let a = gate.verifier();
        let b = gate.verifier();
        assert!(a.is_some() && b.is_some());
        assert!(gate.verifier().is_none(), "a third waits for none");
        drop(a);
        assert!(gate.verifier().is_some());
        assert_eq!(gate.verifications(), 3);
    }
}
