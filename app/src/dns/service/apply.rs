//! Apply: checked zone files installed on the primary, then one reload.

use super::servers::nsd_server;
use crate::dns::entity::server as server_row;
use crate::dns::nsd::{apply_zone, reload_within, ApplyError, ZoneChecker, RELOAD_TIMEOUT};
use crate::dns::store;
use crate::dns::{ApplyReport, DomainError, ZoneApplied};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Statement, TransactionTrait,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Applies run one at a time: two concurrent applies of one zone would not
/// corrupt a file (renames are atomic) but the last one would win. The lock
/// is held by the apply's own task, not by the request that started it.
static APPLY_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---- apply -------------------------------------------------------------------

/// Installs every zone (or only `zone_id`) on the primary: each file is
/// written beside the old one, checked by `checker` (nsd-checkzone) and only
/// then renamed over it; a refused zone keeps the old file and its message
/// is reported. Then the primary is reloaded once, if anything was
/// installed; NSD's NOTIFY brings the secondaries along.
///
/// The work runs as a task of its own, holding the lock: a request that
/// goes away (the browser closed, the request's time limit) leaves it to
/// finish, and no other apply starts before it has.
pub async fn apply(
    db: &DatabaseConnection,
    zone_id: Option<i32>,
    checker: Arc<dyn ZoneChecker>,
) -> Result<ApplyReport, DomainError> {
    apply_within(db, zone_id, checker, RELOAD_TIMEOUT).await
}

/// [`apply`], with a reload that may run at most `reload_timeout`.
pub async fn apply_within(
    db: &DatabaseConnection,
    zone_id: Option<i32>,
    checker: Arc<dyn ZoneChecker>,
    reload_timeout: Duration,
) -> Result<ApplyReport, DomainError> {
    let db = db.clone();
    tokio::spawn(async move {
        let _one_at_a_time = APPLY_LOCK.lock().await;
        let across_instances = instance_lock(&db).await?;
        let report = apply_now(&db, zone_id, checker, reload_timeout).await;
        if let Some(lock) = across_instances {
            lock.commit().await?;
        }
        report
    })
    .await
    .map_err(|e| DomainError::Failed(format!("the apply task failed: {e}")))?
}

/// The key of the PostgreSQL advisory lock that DNS applies take.
const APPLY_LOCK_KEY: i64 = 0x5354_4143_4b44_4e53; // "STACKDNS"

/// On PostgreSQL, where several instances may share the database, a
/// transaction holding the DNS apply's advisory lock (released when it
/// ends, also if the instance dies); waits while another instance applies.
/// `None` on SQLite, which one instance uses.
pub(crate) async fn instance_lock(
    db: &DatabaseConnection,
) -> Result<Option<DatabaseTransaction>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let txn = db.begin().await?;
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [APPLY_LOCK_KEY.into()],
    ))
    .await?;
    Ok(Some(txn))
}

async fn apply_now(
    db: &DatabaseConnection,
    zone_id: Option<i32>,
    checker: Arc<dyn ZoneChecker>,
    reload_timeout: Duration,
) -> Result<ApplyReport, DomainError> {
    let primary = server_row::Entity::find()
        .filter(server_row::Column::Role.eq("primary"))
        .one(db)
        .await?
        .ok_or_else(|| {
            DomainError::Refused("Add the primary DNS server first (DNS servers page).".into())
        })?;
    let method = nsd_server(&primary)?.reload;
    let zonesdir = PathBuf::from(&primary.zones_dir);
    let zones = match zone_id {
        Some(id) => vec![store::get_zone(db, id).await?],
        None => store::list_zones(db).await?,
    };
    let mut report = ApplyReport {
        zones: Vec::new(),
        reload: None,
    };
    for summary in &zones {
        let zone = store::load_zone(db, summary.id).await?;
        let serial = zone.soa.serial;
        let dir = zonesdir.clone();
        let check = Arc::clone(&checker);
        let result = tokio::task::spawn_blocking(move || apply_zone(&dir, &zone, check.as_ref()))
            .await
            .map_err(|e| DomainError::Failed(format!("the apply task failed: {e}")))?;
        let (installed, message) = match result {
            Ok(outcome) => {
                store::set_applied(db, summary.id, serial).await?;
                (true, format!("installed {}", outcome.path.display()))
            }
            Err(ApplyError::Rejected { message }) => (false, message),
            Err(e) => (false, e.to_string()),
        };
        report.zones.push(ZoneApplied {
            origin: summary.origin.to_string(),
            serial,
            installed,
            message,
        });
    }
    if report.zones.iter().any(|z| z.installed) {
        let only = match zones.as_slice() {
            [one] => Some(one.origin.clone()),
            _ => None,
        };
        let done = tokio::task::spawn_blocking(move || {
            reload_within(&method, only.as_ref(), reload_timeout)
        })
        .await
        .map_err(|e| DomainError::Failed(format!("the reload task failed: {e}")))?;
        report.reload = Some(match done {
            Ok(o) => Ok(if o.output.trim().is_empty() {
                o.action
            } else {
                format!("{}: {}", o.action, o.output.trim())
            }),
            Err(e) => Err(e.to_string()),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::dns::service::testing::*;
    use crate::dns::service::{add_server, create_forward, save_record, PtrChoice};
    use crate::dns::store;
    use crate::dns::zone::Name;
    use crate::dns::ServerForm;
    use crate::error::AppError;

    /// A checker that refuses zones containing a marker, standing in for
    /// nsd-checkzone where NSD is not the point of the test.
    struct Refuse(&'static str);
    impl ZoneChecker for Refuse {
        fn check(
            &self,
            _: &Name,
            file: &std::path::Path,
        ) -> Result<(), crate::dns::nsd::CheckFailure> {
            let text = std::fs::read_to_string(file).unwrap();
            if text.contains(self.0) {
                Err(crate::dns::nsd::CheckFailure::Rejected(format!(
                    "refused: {}",
                    self.0
                )))
            } else {
                Ok(())
            }
        }
    }

    /// A primary whose zone files go to `zones`, reloaded by `true`.
    async fn add_primary(db: &DatabaseConnection, zones: &std::path::Path) {
        add_primary_reloaded_by(db, zones, "true").await;
    }

    /// A primary whose zone files go to `zones`, reloaded by `command`.
    async fn add_primary_reloaded_by(
        db: &DatabaseConnection,
        zones: &std::path::Path,
        command: &str,
    ) {
        add_server(
            db,
            crate::dns::service::Allowed {
                keys: &crate::sealed::SealingKey::generate(),
                commands: &crate::dns::nsd::ReloadCommands::new([command]),
            },
            &ServerForm {
                name: "ns1".into(),
                role: "primary".into(),
                ns_name: "ns1.example.com".into(),
                address: "127.0.0.1".into(),
                port: "5353".into(),
                zones_dir: zones.display().to_string(),
                reload_kind: "command".into(),
                reload_value: command.into(),
            },
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn apply_installs_checked_files_and_keeps_refused_ones() {
        let (dir, db) = sqlite().await;
        let zones = dir.path().join("zones");
        std::fs::create_dir(&zones).unwrap();
        let checker: Arc<dyn ZoneChecker> = Arc::new(Refuse("192.0.2.66"));
        assert!(matches!(
            apply(&db, None, Arc::clone(&checker))
                .await
                .map_err(AppError::from),
            Err(AppError::Refused(_))
        ));
        add_primary(&db, &zones).await;
        let z = create_forward(&db, "alice", "example.com").await.unwrap();
        save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("www", "192.0.2.1"),
            PtrChoice::default(),
        )
        .await
        .unwrap();
        let r = apply(&db, None, Arc::clone(&checker)).await.unwrap();
        assert!(r.zones[0].installed, "{r:?}");
        assert!(matches!(r.reload, Some(Ok(_))));
        let file = zones.join("example.com.zone");
        let good = std::fs::read_to_string(&file).unwrap();
        assert!(good.contains("192.0.2.1"));
        assert_eq!(
            store::applied_serial(&db, z.id).await.unwrap(),
            Some(store::get_zone(&db, z.id).await.unwrap().serial)
        );

        save_record(
            &db,
            "alice",
            z.id,
            None,
            &a_form("bad", "192.0.2.66"),
            PtrChoice::default(),
        )
        .await
        .unwrap();
        let r = apply(&db, Some(z.id), checker).await.unwrap();
        assert!(!r.zones[0].installed);
        assert_eq!(r.zones[0].message, "refused: 192.0.2.66");
        assert!(r.reload.is_none());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    }

    /// A checker that takes its time and counts how many checks overlap.
    #[derive(Default)]
    struct Slow {
        now: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }
    impl ZoneChecker for Slow {
        fn check(
            &self,
            _: &Name,
            _: &std::path::Path,
        ) -> Result<(), crate::dns::nsd::CheckFailure> {
            use std::sync::atomic::Ordering::SeqCst;
            let n = self.now.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(n, SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(400));
            self.now.fetch_sub(1, SeqCst);
            Ok(())
        }
    }

    /// The fault run of the hardening issue: the reload command hangs (a
    /// wrapper whose child never returns). The apply reports it after its
    /// timeout, the zone file is installed all the same, no process of the
    /// command is left, the lock is free, and the next apply works.
    #[tokio::test]
    async fn a_hanging_reload_fails_after_its_timeout_and_frees_the_lock() {
        use std::time::{Duration, Instant};
        let (dir, db) = sqlite().await;
        let zones = dir.path().join("zones");
        std::fs::create_dir(&zones).unwrap();
        // Hangs (through a child of its own) until `fixed` exists, writing
        // the child's pid for the test to look at.
        let script = dir.path().join("reload.sh");
        let fixed = dir.path().join("fixed");
        let child = dir.path().join("child.pid");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n[ -e {f} ] && exit 0\nsleep 600 &\necho $! > {c}\nwait\n",
                f = fixed.display(),
                c = child.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        add_primary_reloaded_by(&db, &zones, &script.display().to_string()).await;
        create_forward(&db, "alice", "example.com").await.unwrap();
        let checker: Arc<dyn ZoneChecker> = Arc::new(Refuse("never"));

        let t0 = Instant::now();
        let hung = apply_within(&db, None, Arc::clone(&checker), Duration::from_secs(1))
            .await
            .unwrap();
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(hung.zones[0].installed, "{hung:?}");
        let why = hung.reload.clone().unwrap().unwrap_err();
        assert!(
            why.contains("did not finish within 1 s and was stopped"),
            "{why}"
        );
        // What the user reads in the apply's summary.
        println!("{}", hung.summary());
        let pid = std::fs::read_to_string(&child).unwrap();
        let t1 = Instant::now();
        while std::path::Path::new(&format!("/proc/{}", pid.trim())).exists() {
            assert!(
                t1.elapsed() < Duration::from_secs(2),
                "the wrapper's child lives on"
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        // The reload is mended: the next apply starts at once and reloads.
        std::fs::write(&fixed, "").unwrap();
        let t2 = Instant::now();
        let next = apply_within(&db, None, checker, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(t2.elapsed() < Duration::from_secs(1), "{:?}", t2.elapsed());
        assert!(matches!(next.reload, Some(Ok(_))), "{next:?}");
    }

    #[tokio::test]
    async fn an_apply_whose_request_went_away_still_holds_the_lock() {
        let (dir, db) = sqlite().await;
        let zones = dir.path().join("zones");
        std::fs::create_dir(&zones).unwrap();
        add_primary(&db, &zones).await;
        create_forward(&db, "alice", "example.com").await.unwrap();
        let slow = Arc::new(Slow::default());
        let checker: Arc<dyn ZoneChecker> = slow.clone();
        // The browser goes away while the first apply checks its zone.
        let gone = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            apply(&db, None, Arc::clone(&checker)),
        )
        .await;
        assert!(gone.is_err(), "the first apply was still running");
        let second = apply(&db, None, checker).await.unwrap();
        assert!(second.zones[0].installed, "{second:?}");
        assert_eq!(
            slow.most.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "two applies ran at once"
        );
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: `make test` starts it and sets STACKYARD_TEST_POSTGRES_URL"]
    async fn two_instances_on_postgres_never_apply_at_once() {
        let pg = migrations::testing::PostgresDb::create().await.unwrap();
        // Two instances: two pools on one database.
        let a = sea_orm::Database::connect(pg.url.as_str()).await.unwrap();
        let b = sea_orm::Database::connect(pg.url.as_str()).await.unwrap();
        let held = instance_lock(&a)
            .await
            .unwrap()
            .expect("a lock on PostgreSQL");
        let waiting = tokio::spawn(async move {
            let lock = instance_lock(&b).await.unwrap();
            (lock, b)
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the second instance waits");
        held.commit().await.unwrap();
        let (lock, b) = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the second instance gets the lock once the first is done")
            .unwrap();
        lock.unwrap().commit().await.unwrap();
        a.close().await.unwrap();
        b.close().await.unwrap();
        pg.drop().await.unwrap();
    }
}
