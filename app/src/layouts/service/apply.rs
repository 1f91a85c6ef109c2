//! Applying a layout through libvirt, step by step, resumable.
//!
//! An apply computes the plan afresh from what the hosts report (so a
//! resumed apply starts from where the hosts are, not from a stale plan),
//! refuses a layout that does not fit, then, in order:
//!
//! 1. removes the extra VMs the operator ticked (nothing else is removed);
//! 2. per VM to create: a thin qcow2 volume `<vm>.qcow2` in the host's pool,
//!    the domain (virtio disk, NIC with a stable MAC, VNC on localhost, a
//!    serial console: [`HostHandle::define_vm`]), then a start if asked;
//! 3. per VM to change: its memory and vCPUs in the persistent definition
//!    (a running VM takes them when next started from off);
//! 4. per VM that should run and does not: a start;
//! 5. the VMs' records in Stackyard's zones (`records`), then those zones
//!    installed on the NSD primary (`dns`): see [`super::names`].
//!
//! Before step 1 the check also gives each `auto` VM its address (kept in
//! the journal, so later applies give the same one) and stops when one has
//! none left or a record conflicts; a cloud image's seed carries the
//! address and the VM's full name.
//!
//! Every step is recorded as it happens (`layout_apply_event`, what the page
//! streams), and what was created is journaled per layout/host/VM/step
//! (`layout_apply_journal`). The first failure stops the run with libvirt's
//! message. Applying again recomputes the plan, so defined VMs are not
//! defined twice, and a volume the journal says this layout created is
//! reused; a volume of that name the journal does not know belongs to
//! someone else and is refused with a message saying so.

use crate::auth::service::{audit_best_effort, AuditEntry, RequestAuth};
use crate::auth::Role;
use crate::capacity::{units::GIB, CapacityPolicy, HostSpec};
use crate::error::Invalid;
use crate::hosts::entity::host;
use crate::hosts::registry::HostRegistry;
use crate::hosts::service::{CdRom, HostError, HostHandle, NetworkAttach, VmSpec};
use crate::hosts::types::VmInfo;
use crate::images::{ImageInfo, ImageKind};
use crate::layouts::model::{check_name, LayoutSpec, Nic};
use crate::layouts::names::DnsAction;
use crate::layouts::plan::{self, Plan, PlanAction};
use crate::layouts::service::names;
pub use crate::layouts::store::Freshness;
use crate::layouts::{store, ApplyRun, ApplyStep, DomainError, PlanView, RunOutcome, StepStatus};
use crate::state::AppState;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use std::collections::{BTreeMap, BTreeSet};

use crate::layouts::entity::{apply_event as event, apply_journal as journal, apply_run as run};

/// A run whose last step is older than this is taken as abandoned (the
/// server stopped during it): every libvirt call times out well before.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// The hosts as they are now: capacity, VMs, and the workers to act on.
#[derive(Debug, Default)]
pub struct LiveHosts {
    /// Capacity model view of each reachable host.
    pub specs: Vec<HostSpec>,
    /// VMs per host name.
    pub vms: BTreeMap<String, Vec<VmInfo>>,
    /// The pool layout volumes go to, per host name (`None`: no started pool).
    pub pools: BTreeMap<String, Option<String>>,
    /// Workers by host name.
    pub handles: BTreeMap<String, HostHandle>,
    /// Hosts that did not answer: (name, why).
    pub unreachable: Vec<(String, String)>,
    /// The capacity policy (thin fill) of the console.
    pub policy: CapacityPolicy,
}

impl LiveHosts {
    /// The plan for `spec` on these hosts.
    pub fn plan(&self, spec: &LayoutSpec) -> Plan {
        plan::plan(spec, &self.specs, &self.vms, &self.policy)
    }

    /// "proliant-2: cannot reach host …" lines.
    pub fn unreachable_lines(&self) -> Vec<String> {
        self.unreachable
            .iter()
            .map(|(h, why)| format!("{h}: {why}"))
            .collect()
    }
}

/// Every host of `registry`, with its capacity and VMs, described as the
/// editor describes them ([`store::host_spec`]: the host row's `y_os` and
/// emulation setting, the database's thin-fill policy). The hosts are asked
/// at once, not one after another, so a hung host costs its own timeout,
/// not one per host. `pool` puts every volume in that pool instead of the
/// default choice, and counts its space.
pub async fn live_hosts(
    db: &DatabaseConnection,
    registry: &HostRegistry,
    pool: Option<&str>,
    freshness: Freshness,
) -> LiveHosts {
    let mut live = LiveHosts {
        policy: store::policy(db).await.unwrap_or_default(),
        ..LiveHosts::default()
    };
    let rows: BTreeMap<i32, host::Model> = host::Entity::find()
        .all(db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let hosts = registry.all();
    let mut answers = store::ask_hosts(&hosts, freshness).await;
    for ((cached, handle), answer) in hosts.into_iter().zip(answers.drain(..)) {
        let row = rows.get(&cached.id).unwrap_or(&cached);
        match answer {
            Ok((capacity, vms)) => {
                // The test driver runs nothing, so "emulation" costs nothing
                // there; real hosts need hardware virtualization or the
                // admin's consent to emulation.
                let emulation = row.allow_emulation || row.uri.starts_with("test:");
                let mut spec =
                    store::host_spec(&row.name, &capacity, &vms, row.y_os_mib, emulation);
                if let Some(p) = pool {
                    spec.pool_available = plan::pool_space(&capacity, &vms, Some(p));
                }
                live.specs.push(spec);
                live.pools.insert(
                    row.name.clone(),
                    plan::pick_pool(&capacity, pool).map(|p| p.name.clone()),
                );
                live.vms.insert(row.name.clone(), vms);
                live.handles.insert(row.name.clone(), handle);
            }
            Err(why) => live.unreachable.push((row.name.clone(), why)),
        }
    }
    live
}

/// [`LiveHosts::plan`], with the running VMs this layout already resized
/// marked as waiting for a restart rather than still to change.
pub async fn plan_for(
    db: &DatabaseConnection,
    layout_id: i32,
    live: &LiveHosts,
    spec: &LayoutSpec,
) -> Result<Plan, DbErr> {
    let mut plan = live.plan(spec);
    let resized: BTreeMap<(String, String), (u64, u32)> = journal::Entity::find()
        .filter(journal::Column::LayoutId.eq(layout_id))
        .filter(journal::Column::Step.eq("resize"))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            let (m, v) = row.detail.split_once('/')?;
            Some(((row.host, row.vm), (m.parse().ok()?, v.parse().ok()?)))
        })
        .collect();
    plan.mark_pending(|h, vm| resized.get(&(h.to_string(), vm.to_string())).copied());
    Ok(plan)
}

/// An extra VM the operator ticked for removal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Removal {
    /// Host name.
    pub host: String,
    /// VM name.
    pub vm: String,
}

/// `host/vm` strings from the form, checked.
pub fn parse_removals(items: &[String]) -> Result<Vec<Removal>, Invalid> {
    let mut out = BTreeSet::new();
    for item in items {
        let (host, vm) = item
            .split_once('/')
            .ok_or_else(|| Invalid::new("remove", format!("\"{item}\" is not HOST/VM")))?;
        check_name(host).map_err(|m| Invalid::new("remove", m))?;
        check_name(vm).map_err(|m| Invalid::new("remove", m))?;
        out.insert(Removal {
            host: host.to_string(),
            vm: vm.to_string(),
        });
    }
    Ok(out.into_iter().collect())
}

/// What to apply.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The layout's id (the journal's key).
    pub layout_id: i32,
    /// The layout.
    pub spec: LayoutSpec,
    /// Extra VMs to remove (each must be an extra of the plan).
    pub remove: Vec<Removal>,
    /// Pool for volumes on every host, instead of the default choice.
    pub pool: Option<String>,
    /// How the VMs' zones reach NSD.
    pub dns: DnsPublish,
}

/// How an apply gives NSD the zones its records are in: the check every
/// zone file passes first, and how long the reload may take.
#[derive(Clone)]
pub struct DnsPublish {
    /// `nsd-checkzone`, or a stand-in in tests.
    pub checker: std::sync::Arc<dyn crate::dns::nsd::ZoneChecker>,
    /// The reload's time limit.
    pub reload_timeout: std::time::Duration,
}

impl Default for DnsPublish {
    fn default() -> Self {
        DnsPublish {
            checker: std::sync::Arc::new(crate::dns::nsd::NsdCheckzone::default()),
            reload_timeout: crate::dns::nsd::RELOAD_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for DnsPublish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsPublish")
            .field("reload_timeout", &self.reload_timeout)
            .finish_non_exhaustive()
    }
}

/// What applying layout `layout_id` would do, from what the hosts report
/// now; `role` is the caller's (operators and admins may apply).
pub async fn plan_view(
    state: &AppState,
    layout_id: i32,
    role: Option<Role>,
) -> Result<PlanView, DomainError> {
    let spec = store::load(&state.db, layout_id).await?;
    let live = live_hosts(&state.db, &state.hosts, None, Freshness::Cached).await;
    let plan = plan_for(&state.db, layout_id, &live, &spec).await?;
    let missing_images = missing_images(&state.db, &state.hosts, &spec, &plan).await?;
    let addressing = names::addressing(&state.db, layout_id, &spec).await?;
    Ok(PlanView {
        plan,
        missing_images,
        refusals: addressing.refusals(),
        addresses: addressing
            .addresses
            .iter()
            .map(|(vm, ip)| (vm.clone(), ip.to_string()))
            .collect(),
        publish: addressing.publish.keys().cloned().collect(),
        no_primary: addressing.no_primary,
        names: addressing.names,
        unreachable: live.unreachable_lines(),
        can_apply: role.is_some_and(|r| r >= Role::Operator),
        host_ids: state
            .hosts
            .all()
            .into_iter()
            .map(|(row, _)| (row.name, row.id))
            .collect(),
    })
}

/// Starts applying layout `layout_id` for `auth`'s caller and returns the
/// run id at once; the apply goes on in the background and writes its audit
/// entry (`layouts.apply`, every step) when it ends. A start refused (no
/// such layout, a bad removal, another apply running) is audited here.
pub async fn start(
    state: &AppState,
    auth: &RequestAuth,
    layout_id: i32,
    remove: &[String],
) -> Result<i32, DomainError> {
    let started = async {
        let spec = store::load(&state.db, layout_id).await?;
        let remove = parse_removals(remove)?;
        let run = begin(&state.db, layout_id, &spec.name, auth.username()).await?;
        Ok::<_, DomainError>((spec, remove, run))
    }
    .await;
    let (spec, remove, run) = match started {
        Ok(s) => s,
        Err(e) => {
            let entry = AuditEntry::by(auth, "layouts.apply", format!("layout {layout_id}"))
                .failed(e.to_string());
            audit_best_effort(&state.db, entry).await;
            return Err(e);
        }
    };
    let task_state = state.clone();
    let auth = auth.clone();
    tokio::spawn(async move {
        let request = ApplyRequest {
            layout_id,
            spec,
            remove,
            pool: None,
            dns: DnsPublish {
                reload_timeout: task_state.policy.dns_reload_timeout,
                ..DnsPublish::default()
            },
        };
        let done = execute(&task_state.db, &task_state.hosts, run, &request).await;
        let entry = audit_entry(
            AuditEntry::by(&auth, "layouts.apply", request.spec.name.clone()),
            &done,
        );
        audit_best_effort(&task_state.db, entry).await;
    });
    Ok(run)
}

/// Opens a run for the layout, refusing while another one is going.
pub async fn begin(
    db: &DatabaseConnection,
    layout_id: i32,
    layout_name: &str,
    username: &str,
) -> Result<i32, DomainError> {
    let running = run::Entity::find()
        .filter(run::Column::LayoutId.eq(layout_id))
        .filter(run::Column::Outcome.eq(RunOutcome::Running.as_str()))
        .all(db)
        .await?;
    for r in running {
        let last = event::Entity::find()
            .filter(event::Column::RunId.eq(r.id))
            .order_by_desc(event::Column::Seq)
            .one(db)
            .await?
            .map_or(r.started_at, |e| e.at);
        if Utc::now() - last < ABANDONED_AFTER {
            return Err(busy(&r));
        }
        let mut stale: run::ActiveModel = r.into();
        stale.outcome = Set(RunOutcome::Failed.as_str().into());
        stale.finished_at = Set(Some(Utc::now()));
        stale.message = Set("abandoned: the server stopped during this apply".into());
        stale.update(db).await?;
    }
    let row = run::ActiveModel {
        layout_id: Set(layout_id),
        layout_name: Set(layout_name.chars().take(100).collect()),
        username: Set(username.chars().take(64).collect()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        outcome: Set(RunOutcome::Running.as_str().into()),
        message: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match row {
        Ok(row) => Ok(row.id),
        // Another request opened its run between the look above and this
        // insert: the unique index over running runs (migration 000008)
        // lets only one through.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let other = run::Entity::find()
                .filter(run::Column::LayoutId.eq(layout_id))
                .filter(run::Column::Outcome.eq(RunOutcome::Running.as_str()))
                .one(db)
                .await?;
            Err(other.map_or_else(
                || {
                    DomainError::Busy(
                        "another apply of this layout started meanwhile; try again".into(),
                    )
                },
                |r| busy(&r),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn busy(r: &run::Model) -> DomainError {
    DomainError::Busy(format!(
        "{} is applying this layout right now (since {}); wait for it to finish",
        r.username,
        r.started_at.format("%H:%M:%S UTC")
    ))
}

/// The layout's latest run, with its steps.
pub async fn latest_run(
    db: &DatabaseConnection,
    layout_id: i32,
) -> Result<Option<ApplyRun>, DomainError> {
    let Some(r) = run::Entity::find()
        .filter(run::Column::LayoutId.eq(layout_id))
        .order_by_desc(run::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(load_run(db, r).await?))
}

/// A run by id, with its steps.
pub async fn get_run(db: &DatabaseConnection, id: i32) -> Result<ApplyRun, DomainError> {
    let r = run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Apply run {id}")))?;
    load_run(db, r).await
}

async fn load_run(db: &DatabaseConnection, r: run::Model) -> Result<ApplyRun, DomainError> {
    let steps = event::Entity::find()
        .filter(event::Column::RunId.eq(r.id))
        .order_by_asc(event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(|e| ApplyStep {
            seq: e.seq,
            at: e.at.into(),
            host: e.host,
            vm: e.vm,
            step: e.step,
            status: StepStatus::parse(&e.status),
            message: e.message,
        })
        .collect();
    Ok(ApplyRun {
        id: r.id,
        layout_id: r.layout_id,
        username: r.username,
        started_at: r.started_at.into(),
        finished_at: r.finished_at.map(Into::into),
        outcome: RunOutcome::parse(&r.outcome),
        message: r.message,
        steps,
    })
}

/// The audit row of a finished run: outcome, counts, and every step.
pub fn audit_entry(entry: AuditEntry, done: &Result<ApplyRun, DomainError>) -> AuditEntry {
    match done {
        Ok(run) => {
            let steps = run
                .steps
                .iter()
                .map(|s| format!("[{}] {}", s.status.as_str(), s.line()))
                .collect::<Vec<_>>()
                .join("\n");
            let summary = format!("run {}: {}\n{steps}", run.id, run.message);
            match run.outcome {
                RunOutcome::Succeeded => entry.summary(summary),
                _ => entry.failed(run.message.clone()).summary(summary),
            }
        }
        Err(e) => entry.failed(e.to_string()),
    }
}

/// Records steps as they happen.
struct Recorder<'a> {
    db: &'a DatabaseConnection,
    run_id: i32,
    seq: i32,
}

impl Recorder<'_> {
    async fn step(
        &mut self,
        host: &str,
        vm: &str,
        step: &str,
        status: StepStatus,
        message: impl Into<String>,
    ) -> Result<(), DbErr> {
        self.seq += 1;
        event::ActiveModel {
            run_id: Set(self.run_id),
            seq: Set(self.seq),
            at: Set(Utc::now()),
            host: Set(host.chars().take(64).collect()),
            vm: Set(vm.chars().take(64).collect()),
            step: Set(step.into()),
            status: Set(status.as_str().into()),
            message: Set(message.into()),
            ..Default::default()
        }
        .insert(self.db)
        .await
        .map(|_| ())
    }
}

/// A step failed: the message the operator reads.
struct Stop(String);

impl From<DbErr> for Stop {
    fn from(e: DbErr) -> Self {
        tracing::error!("layout apply: database: {e}");
        Stop("the database did not answer; apply again once it does".into())
    }
}

/// Runs the apply of `request` as run `run_id` (from [`begin`]) and returns
/// the finished run. `Err` only when the database itself fails.
pub async fn execute(
    db: &DatabaseConnection,
    registry: &HostRegistry,
    run_id: i32,
    request: &ApplyRequest,
) -> Result<ApplyRun, DomainError> {
    let mut rec = Recorder { db, run_id, seq: 0 };
    let result = steps(&mut rec, registry, request).await;
    let (outcome, message) = match result {
        Ok(summary) => (RunOutcome::Succeeded, summary),
        Err(Stop(message)) => (RunOutcome::Failed, message),
    };
    let row = run::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Apply run {run_id}")))?;
    let mut row: run::ActiveModel = row.into();
    row.outcome = Set(outcome.as_str().into());
    row.message = Set(message);
    row.finished_at = Set(Some(Utc::now()));
    row.update(db).await?;
    get_run(db, run_id).await
}

/// Counts for the summary.
#[derive(Default)]
struct Tally {
    volumes: usize,
    defined: usize,
    reused: usize,
    resized: usize,
    started: usize,
    removed: usize,
}

async fn steps(
    rec: &mut Recorder<'_>,
    registry: &HostRegistry,
    request: &ApplyRequest,
) -> Result<String, Stop> {
    let spec = &request.spec;
    if let Some(p) = spec.problems().first() {
        rec.step("", "", "check", StepStatus::Failed, p.to_string())
            .await?;
        return Err(Stop(format!("the layout is not valid: {p}")));
    }
    let live = live_hosts(rec.db, registry, request.pool.as_deref(), Freshness::Live).await;
    reconcile(rec, request.layout_id, &live).await?;
    let full = plan_for(rec.db, request.layout_id, &live, spec).await?;
    // Ticks must name extras of this very plan: never a layout VM.
    let extras: BTreeSet<(&str, &str)> = full
        .extra
        .iter()
        .map(|e| (e.host.as_str(), e.vm.as_str()))
        .collect();
    for r in &request.remove {
        if !extras.contains(&(r.host.as_str(), r.vm.as_str())) {
            let m = format!(
                "{} on {} is not a VM outside this layout on its hosts; it cannot be removed here",
                r.vm, r.host
            );
            rec.step(&r.host, &r.vm, "check", StepStatus::Failed, m.clone())
                .await?;
            return Err(Stop(m));
        }
    }
    // The fit check counts the ticked VMs as gone.
    let mut after_removal = live.specs.clone();
    for h in &mut after_removal {
        h.existing.retain(|v| {
            !request
                .remove
                .iter()
                .any(|r| r.host == h.name && r.vm == v.name)
        });
    }
    let resolved = plan::resolve(spec, &after_removal, &live.policy);
    if !resolved.fits {
        let mut why: Vec<String> = resolved.unplaced.iter().map(|u| u.reason.clone()).collect();
        for v in &resolved.verdicts {
            why.extend(v.violations.iter().map(ToString::to_string));
        }
        let mut seen = BTreeSet::new();
        why.retain(|w| seen.insert(w.clone()));
        why.extend(live.unreachable_lines());
        let m = format!("the layout does not fit: {}", why.join("; "));
        rec.step("", "", "check", StepStatus::Failed, m.clone())
            .await?;
        return Err(Stop(m));
    }
    let addressing = names::addressing(rec.db, request.layout_id, spec)
        .await
        .map_err(|e| Stop(e.to_string()))?;
    let refusals = addressing.refusals();
    if !refusals.is_empty() {
        let m = format!(
            "the layout's addresses and names cannot be given: {}",
            refusals.join("; ")
        );
        rec.step("", "", "check", StepStatus::Failed, m.clone())
            .await?;
        return Err(Stop(m));
    }
    let (c, ch, u) = full.counts();
    rec.step(
        "",
        "",
        "check",
        StepStatus::Done,
        format!(
            "fits; {c} to create, {ch} to change, {u} unchanged, {} to remove",
            request.remove.len()
        ),
    )
    .await?;
    names::keep_addresses(rec.db, request.layout_id, spec, &addressing.addresses)
        .await
        .map_err(|e| Stop(e.to_string()))?;

    let mut tally = Tally::default();
    let handle = |host: &str| -> Result<&HostHandle, Stop> {
        live.handles
            .get(host)
            .ok_or_else(|| Stop(format!("host {host} is not reachable")))
    };

    for r in &request.remove {
        let h = handle(&r.host)?;
        let running = live
            .vms
            .get(&r.host)
            .and_then(|vms| vms.iter().find(|v| v.name == r.vm))
            .is_some_and(|v| v.state != crate::hosts::types::VmState::ShutOff);
        if running {
            if let Err(e) = h.force_off(&r.vm).await {
                return fail(rec, &r.host, &r.vm, "remove", e).await;
            }
        }
        match h.delete(&r.vm, true).await {
            Ok(report) => {
                tally.removed += 1;
                let vols = if report.deleted_volumes.is_empty() {
                    "no volume".to_string()
                } else {
                    report.deleted_volumes.join(", ")
                };
                let kept = if report.kept.is_empty() {
                    String::new()
                } else {
                    format!("; kept {}", report.kept.join(", "))
                };
                rec.step(
                    &r.host,
                    &r.vm,
                    "remove",
                    StepStatus::Done,
                    format!("removed (it was not in the layout); deleted {vols}{kept}"),
                )
                .await?;
            }
            Err(e) => return fail(rec, &r.host, &r.vm, "remove", e).await,
        }
    }

    for (item, vm) in full.items.iter().zip(plan_vms(spec, &full)) {
        let h = handle(&item.host)?;
        match &item.action {
            PlanAction::Create { volume } => {
                let image = match &vm.image {
                    Some(name) => Some(
                        vm_image(rec, registry, request.layout_id, &item.host, &item.vm, name)
                            .await?,
                    ),
                    None => None,
                };
                let cloud = image.as_ref().filter(|i| i.info.kind == ImageKind::Cloud);
                if cloud.is_some() && volume.is_none() {
                    let m = format!(
                        "{} is made from the cloud image {}, which is its disk: give it a disk size above 0 GiB",
                        item.vm,
                        vm.image.clone().unwrap_or_default()
                    );
                    rec.step(&item.host, &item.vm, "image", StepStatus::Failed, m.clone())
                        .await?;
                    return Err(Stop(m));
                }
                let mut cdroms = Vec::new();
                let disk = match volume {
                    Some(volume) => {
                        let pool =
                            live.pools
                                .get(&item.host)
                                .cloned()
                                .flatten()
                                .ok_or_else(|| {
                                    Stop(format!(
                                        "host {} has no started storage pool for {volume}",
                                        item.host
                                    ))
                                })?;
                        create_volume(
                            rec,
                            h,
                            VolumeOf {
                                layout_id: request.layout_id,
                                host: &item.host,
                                vm: &item.vm,
                                pool: &pool,
                                volume,
                                disk_gib: item.disk_gib,
                                on_image: cloud.map(|i| (i.info.name.as_str(), i.path.as_str())),
                            },
                            &mut tally,
                        )
                        .await?;
                        if let Some(image) = cloud {
                            let seed = write_seed(
                                rec,
                                SeedOf {
                                    layout_id: request.layout_id,
                                    host: &item.host,
                                    uri: &image.uri,
                                    pool: &pool,
                                    spec,
                                    vm,
                                    address: addressing.addresses.get(&vm.name).copied(),
                                },
                            )
                            .await?;
                            cdroms.push(CdRom {
                                pool: pool.clone(),
                                volume: seed,
                                boot: false,
                            });
                        }
                        Some((pool, volume.clone()))
                    }
                    None => None,
                };
                if let Some(image) = image
                    .as_ref()
                    .filter(|i| i.info.kind == ImageKind::Installer)
                {
                    cdroms.push(CdRom {
                        pool: image.info.pool.clone(),
                        volume: image.info.volume.clone(),
                        boot: true,
                    });
                    rec.step(
                        &item.host,
                        &item.vm,
                        "image",
                        StepStatus::Done,
                        format!(
                            "installer {} in the CD drive, booted before the disk: install from the VM's screen",
                            image.info.name
                        ),
                    )
                    .await?;
                }
                let vm_spec = VmSpec {
                    name: item.vm.clone(),
                    memory_mib: item.memory_mib,
                    vcpus: item.vcpus,
                    disk,
                    network: match &vm.network {
                        Nic::Network(n) => NetworkAttach::Network(n.clone()),
                        Nic::Bridge(b) => NetworkAttach::Bridge(b.clone()),
                        Nic::None => NetworkAttach::None,
                    },
                    mac: None,
                    domain_type: None,
                    cdroms,
                };
                let before = intend(
                    rec.db,
                    request.layout_id,
                    &item.host,
                    &item.vm,
                    "define",
                    "",
                )
                .await?;
                match h.define_vm(vm_spec).await {
                    Ok(info) => {
                        tally.defined += 1;
                        journal(
                            rec.db,
                            request.layout_id,
                            &item.host,
                            &item.vm,
                            "define",
                            &info.uuid,
                        )
                        .await?;
                        rec.step(
                            &item.host,
                            &item.vm,
                            "define",
                            StepStatus::Done,
                            format!(
                                "defined: {} MiB, {} vCPU{}, {}{}, VNC on localhost, serial console",
                                item.memory_mib,
                                item.vcpus,
                                if item.vcpus == 1 { "" } else { "s" },
                                item.network,
                                addressing
                                    .addresses
                                    .get(&item.vm)
                                    .map(|ip| format!(" {ip}"))
                                    .unwrap_or_default()
                            ),
                        )
                        .await?;
                    }
                    Err(e) => {
                        settle(
                            rec.db,
                            request.layout_id,
                            &item.host,
                            &item.vm,
                            "define",
                            before,
                            &e,
                        )
                        .await?;
                        return fail(rec, &item.host, &item.vm, "define", e).await;
                    }
                }
            }
            PlanAction::Change {
                memory_from,
                vcpus_from,
                running,
            } => match h.set_size(&item.vm, item.memory_mib, item.vcpus).await {
                Ok(()) => {
                    tally.resized += 1;
                    journal(
                        rec.db,
                        request.layout_id,
                        &item.host,
                        &item.vm,
                        "resize",
                        &format!("{}/{}", item.memory_mib, item.vcpus),
                    )
                    .await?;
                    let when = if *running {
                        "takes effect when the VM is next started from off (it runs now)"
                    } else {
                        "takes effect at its next start"
                    };
                    rec.step(
                        &item.host,
                        &item.vm,
                        "resize",
                        StepStatus::Done,
                        format!(
                            "{}; {when}",
                            plan::resize_summary(
                                *memory_from,
                                item.memory_mib,
                                *vcpus_from,
                                item.vcpus
                            )
                        ),
                    )
                    .await?;
                }
                Err(e) => return fail(rec, &item.host, &item.vm, "resize", e).await,
            },
            PlanAction::Pending { .. } | PlanAction::Unchanged => {}
        }
        if item.start {
            match h.start(&item.vm).await {
                Ok(()) => {
                    tally.started += 1;
                    rec.step(&item.host, &item.vm, "start", StepStatus::Done, "started")
                        .await?;
                }
                Err(e) => return fail(rec, &item.host, &item.vm, "start", e).await,
            }
        }
    }
    let records = if addressing.names.writes() {
        match names::write_records(rec.db, request.layout_id, &spec.name, &addressing).await {
            Ok(n) => {
                let lines: Vec<String> = addressing
                    .names
                    .changes
                    .iter()
                    .filter(|c| c.action != DnsAction::Unchanged)
                    .map(|c| c.line())
                    .collect();
                rec.step(
                    "",
                    "",
                    "records",
                    StepStatus::Done,
                    format!(
                        "{n} record{} written in Stackyard's zones: {}",
                        if n == 1 { "" } else { "s" },
                        lines.join("; ")
                    ),
                )
                .await?;
                n
            }
            Err(e) => {
                let m = e.to_string();
                rec.step("", "", "records", StepStatus::Failed, m.clone())
                    .await?;
                return Err(Stop(format!("records failed: {m}")));
            }
        }
    } else {
        0
    };
    if !addressing.publish.is_empty() && addressing.no_primary {
        // Said once, when records were written; later applies wait quietly.
        if records > 0 {
            rec.step(
            "",
            "",
            "dns",
            StepStatus::Skipped,
            format!(
                "no NSD primary yet: the records are kept in Stackyard's zones ({}); add the primary on the DNS servers page, then apply again",
                addressing.publish.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
        .await?;
        }
    } else if !addressing.publish.is_empty() {
        match names::publish(
            rec.db,
            request.layout_id,
            &addressing,
            std::sync::Arc::clone(&request.dns.checker),
            request.dns.reload_timeout,
        )
        .await
        {
            Ok(m) => {
                rec.step(
                    "",
                    "",
                    "dns",
                    StepStatus::Done,
                    format!("installed on the NSD primary: {m}"),
                )
                .await?;
            }
            Err(e) => {
                let m = e.to_string();
                rec.step("", "", "dns", StepStatus::Failed, m.clone())
                    .await?;
                return Err(Stop(format!(
                    "dns failed: {m}; the records are saved in Stackyard's zones: apply again once the primary answers"
                )));
            }
        }
    }
    Ok(format!(
        "applied: {} volume{} and {} VM{} created, {} reused, {} resized, {} started, {} removed{}",
        tally.volumes,
        if tally.volumes == 1 { "" } else { "s" },
        tally.defined,
        if tally.defined == 1 { "" } else { "s" },
        tally.reused,
        tally.resized,
        tally.started,
        tally.removed,
        match records {
            0 => String::new(),
            1 => ", 1 record written".into(),
            n => format!(", {n} records written"),
        }
    ))
}

/// The layout VM of each plan item (items follow layout order, skipping
/// unplaced VMs, which a fitting plan has none of).
fn plan_vms<'a>(
    spec: &'a LayoutSpec,
    plan: &'a Plan,
) -> impl Iterator<Item = &'a crate::layouts::LayoutVm> {
    plan.items
        .iter()
        .filter_map(move |i| spec.vms.iter().find(|v| v.name == i.vm))
}

async fn fail<T>(
    rec: &mut Recorder<'_>,
    host: &str,
    vm: &str,
    step: &str,
    e: HostError,
) -> Result<T, Stop> {
    let mut m = e.to_string();
    if e.outcome_unknown() && (step == "volume" || step == "define") {
        m.push_str(
            "; the host may still complete it: applying again takes what appears as this \
             layout's",
        );
    }
    rec.step(host, vm, step, StepStatus::Failed, m.clone())
        .await?;
    Err(Stop(format!("{vm} on {host}: {step} failed: {m}")))
}

/// One journal row's key: a step of a layout's VM on a host (`""` for what
/// is not on a host: addresses and records, [`super::names`]).
#[derive(Clone, Copy)]
pub(super) struct Entry<'a> {
    pub(super) layout_id: i32,
    pub(super) host: &'a str,
    pub(super) vm: &'a str,
    pub(super) step: &'a str,
}

impl Entry<'_> {
    pub(super) async fn find(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<journal::Model>, DbErr> {
        journal::Entity::find()
            .filter(journal::Column::LayoutId.eq(self.layout_id))
            .filter(journal::Column::Host.eq(self.host))
            .filter(journal::Column::Vm.eq(self.vm))
            .filter(journal::Column::Step.eq(self.step))
            .one(db)
            .await
    }

    /// Writes the row over `existing` (or anew): its detail when `detail`
    /// is given, and whether it is a pending intent.
    pub(super) async fn put(
        self,
        db: &impl ConnectionTrait,
        existing: Option<journal::Model>,
        detail: Option<&str>,
        pending: bool,
    ) -> Result<(), DbErr> {
        match existing {
            Some(row) => {
                let mut row: journal::ActiveModel = row.into();
                if let Some(detail) = detail {
                    row.detail = Set(detail.into());
                }
                row.done_at = Set(Utc::now());
                row.pending = Set(pending);
                row.update(db).await?;
            }
            None => {
                journal::ActiveModel {
                    layout_id: Set(self.layout_id),
                    host: Set(self.host.into()),
                    vm: Set(self.vm.into()),
                    step: Set(self.step.into()),
                    detail: Set(detail.unwrap_or_default().into()),
                    done_at: Set(Utc::now()),
                    pending: Set(pending),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
        }
        Ok(())
    }
}

/// Journals a call that was done, with its detail.
async fn journal(
    db: &DatabaseConnection,
    layout_id: i32,
    host: &str,
    vm: &str,
    step: &str,
    detail: &str,
) -> Result<(), DbErr> {
    let entry = Entry {
        layout_id,
        host,
        vm,
        step,
    };
    let existing = entry.find(db).await?;
    entry.put(db, existing, Some(detail), false).await
}

/// Journals the intent of a creating call before it is made (the row is
/// marked pending; an existing row keeps its detail) and returns the row as
/// it was, for [`settle`].
async fn intend(
    db: &DatabaseConnection,
    layout_id: i32,
    host: &str,
    vm: &str,
    step: &str,
    detail: &str,
) -> Result<Option<journal::Model>, DbErr> {
    let entry = Entry {
        layout_id,
        host,
        vm,
        step,
    };
    let before = entry.find(db).await?;
    let detail = before.is_none().then_some(detail);
    entry.put(db, before.clone(), detail, true).await?;
    Ok(before)
}

/// After a creating call failed: an intent whose outcome is unknown stays
/// pending for the next apply to reconcile; one that failed for certain is
/// taken back (the row as it was `before` [`intend`], or none).
async fn settle(
    db: &DatabaseConnection,
    layout_id: i32,
    host: &str,
    vm: &str,
    step: &str,
    before: Option<journal::Model>,
    error: &HostError,
) -> Result<(), DbErr> {
    if error.outcome_unknown() {
        return Ok(());
    }
    let entry = Entry {
        layout_id,
        host,
        vm,
        step,
    };
    match before {
        Some(row) => {
            let pending = row.pending;
            let current = entry.find(db).await?;
            entry.put(db, current, Some(&row.detail), pending).await?;
        }
        None => {
            if let Some(row) = entry.find(db).await? {
                journal::Entity::delete_by_id(row.id).exec(db).await?;
            }
        }
    }
    Ok(())
}

/// Settles the pending defines an earlier run left (its call never
/// answered) with what the hosts report now: a VM that exists was defined
/// by that call and is recorded as this layout's; one that does not was
/// never defined, and the intent is dropped. Pending volumes settle when
/// their VM is created: one that exists is reused ([`create_volume`]).
/// Hosts that did not answer keep their intents for a later run.
async fn reconcile(rec: &mut Recorder<'_>, layout_id: i32, live: &LiveHosts) -> Result<(), Stop> {
    let pending = journal::Entity::find()
        .filter(journal::Column::LayoutId.eq(layout_id))
        .filter(journal::Column::Step.eq("define"))
        .filter(journal::Column::Pending.eq(true))
        .order_by_asc(journal::Column::Id)
        .all(rec.db)
        .await?;
    for row in pending {
        let Some(vms) = live.vms.get(&row.host) else {
            continue;
        };
        match vms.iter().find(|v| v.name == row.vm) {
            Some(found) => {
                journal(rec.db, layout_id, &row.host, &row.vm, "define", &found.uuid).await?;
                rec.step(
                    &row.host,
                    &row.vm,
                    "reconcile",
                    StepStatus::Done,
                    "an earlier apply stopped waiting for this VM's definition, which completed \
                     on the host afterwards: recorded as this layout's",
                )
                .await?;
            }
            None => {
                journal::Entity::delete_by_id(row.id).exec(rec.db).await?;
            }
        }
    }
    Ok(())
}

/// A library image as a layout VM uses it: the row, its volume's path, and
/// the URI of its host.
struct VmImage {
    info: ImageInfo,
    path: String,
    uri: String,
}

/// The image `name` of host `host`'s library, or the run stops: a layout
/// names images by name, and each host has its own library.
async fn vm_image(
    rec: &mut Recorder<'_>,
    registry: &HostRegistry,
    _layout_id: i32,
    host: &str,
    vm: &str,
    name: &str,
) -> Result<VmImage, Stop> {
    let row = registry
        .all()
        .into_iter()
        .map(|(row, _)| row)
        .find(|row| row.name == host);
    let found = match &row {
        Some(row) => crate::images::service::ready_by_name(rec.db, row.id, name).await?,
        None => None,
    };
    match (row, found) {
        (Some(row), Some((info, path))) => Ok(VmImage {
            info,
            path,
            uri: row.uri,
        }),
        _ => {
            let m = missing_image(vm, name, host);
            rec.step(host, vm, "image", StepStatus::Failed, m.clone())
                .await?;
            Err(Stop(m))
        }
    }
}

/// What the plan and the run say of a VM whose image its host's library
/// does not hold.
fn missing_image(vm: &str, image: &str, host: &str) -> String {
    format!(
        "{vm} is to be made from the image {image}, which {host}'s image library does not hold \
         (ready): upload it on the host's Images page, or choose another image or host"
    )
}

/// The VMs the plan creates from an image their host's library does not
/// hold (ready), each in words: the run would stop at each one's image step.
async fn missing_images(
    db: &DatabaseConnection,
    registry: &HostRegistry,
    spec: &LayoutSpec,
    plan: &Plan,
) -> Result<Vec<String>, DbErr> {
    let hosts: BTreeMap<String, i32> = registry
        .all()
        .into_iter()
        .map(|(row, _)| (row.name, row.id))
        .collect();
    let mut out = Vec::new();
    for item in &plan.items {
        if !matches!(item.action, PlanAction::Create { .. }) {
            continue;
        }
        let Some(image) = spec
            .vms
            .iter()
            .find(|v| v.name == item.vm)
            .and_then(|v| v.image.as_deref())
        else {
            continue;
        };
        let held = match hosts.get(&item.host) {
            Some(&id) => crate::images::service::ready_by_name(db, id, image)
                .await?
                .is_some(),
            None => false,
        };
        if !held {
            out.push(missing_image(&item.vm, image, &item.host));
        }
    }
    Ok(out)
}

/// Builds `vm`'s cloud-init seed and writes it as `<vm>-seed.iso` in
/// `pool`; answers the volume's name. The seed is made again at every
/// create (it holds nothing but what the layout says), so it is journaled
/// as done, never reused.
async fn write_seed(rec: &mut Recorder<'_>, of: SeedOf<'_>) -> Result<String, Stop> {
    use crate::images::seed::{iso::iso9660, AdminAccount, SeedSpec, StaticNetwork, VOLUME_LABEL};
    let SeedOf {
        layout_id,
        host,
        uri,
        pool,
        spec,
        vm,
        address,
    } = of;
    let cloud = &spec.cloud_init;
    let fqdn = spec.fqdn_of(vm);
    // The guest's host name is its DNS name's first label (the VM's name
    // unless a full name says otherwise).
    let hostname = fqdn
        .as_deref()
        .and_then(|f| f.split('.').next())
        .map_or_else(|| vm.name.clone(), str::to_owned);
    // A static address where the layout describes the VM's network;
    // otherwise the network's DHCP.
    let network = address.and_then(|ip| {
        spec.network_of(&vm.network).map(|net| StaticNetwork {
            mac: crate::hosts::service::xml::mac_for_name(&vm.name),
            address: ip,
            prefix: net.subnet.prefix,
            gateway: net.gateway,
            resolvers: net.resolvers.clone(),
            search: spec
                .zone
                .iter()
                .map(|z| z.trim_end_matches('.').to_owned())
                .collect(),
        })
    });
    let seed = SeedSpec {
        hostname: hostname.clone(),
        fqdn: fqdn.clone().filter(|f| f.contains('.')),
        admin: AdminAccount {
            name: cloud.admin.clone(),
            // A VM's own user-data replaces the layout's account and keys.
            ssh_authorized_keys: if vm.user_data.is_some() {
                Vec::new()
            } else {
                cloud.ssh_keys.clone()
            },
        },
        packages: vm.packages.clone(),
        commands: vm.commands.clone(),
        raw_user_data: vm.user_data.clone(),
        network,
    };
    let addressed = match &seed.network {
        Some(n) => format!(", address {}/{}", n.address, n.prefix),
        None => String::new(),
    };
    let volume = crate::images::seed::volume_name(&vm.name);
    let written = match seed.files() {
        Err(e) => Err(format!("{}: {}", e.field(), e.message())),
        Ok(files) => {
            let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            match iso9660(VOLUME_LABEL, &refs) {
                Err(e) => Err(e.to_string()),
                Ok(bytes) => crate::images::service::put_volume(uri, pool, &volume, bytes)
                    .await
                    .map_err(|e| e.to_string()),
            }
        }
    };
    match written {
        Ok(path) => {
            journal(rec.db, layout_id, host, &vm.name, "seed", &path).await?;
            let user = match &vm.user_data {
                Some(raw) => format!("its own user-data ({} bytes)", raw.len()),
                None => format!(
                    "account {}, {} package{}, {} command{}",
                    cloud.admin,
                    vm.packages.len(),
                    if vm.packages.len() == 1 { "" } else { "s" },
                    vm.commands.len(),
                    if vm.commands.len() == 1 { "" } else { "s" },
                ),
            };
            rec.step(
                host,
                &vm.name,
                "seed",
                StepStatus::Done,
                format!(
                    "cloud-init seed {pool}/{volume} (instance {}): host name {}{addressed}, {user}",
                    seed.instance_id().as_str(),
                    fqdn.unwrap_or(hostname),
                ),
            )
            .await?;
            Ok(volume)
        }
        Err(m) => {
            rec.step(host, &vm.name, "seed", StepStatus::Failed, m.clone())
                .await?;
            Err(Stop(format!("{} on {host}: seed failed: {m}", vm.name)))
        }
    }
}

/// Whose seed [`write_seed`] makes, and where.
struct SeedOf<'a> {
    layout_id: i32,
    host: &'a str,
    /// The host's libvirt URI.
    uri: &'a str,
    pool: &'a str,
    spec: &'a LayoutSpec,
    vm: &'a crate::layouts::LayoutVm,
    /// The VM's address, typed or given.
    address: Option<std::net::IpAddr>,
}

/// Which volume [`create_volume`] makes.
struct VolumeOf<'a> {
    layout_id: i32,
    host: &'a str,
    vm: &'a str,
    pool: &'a str,
    volume: &'a str,
    disk_gib: u64,
    /// A thin overlay on this cloud image (name, path), not a blank disk.
    on_image: Option<(&'a str, &'a str)>,
}

/// Creates the VM's volume, or reuses the one an earlier apply of this
/// layout created; a volume of that name made by anyone else stops the run.
async fn create_volume(
    rec: &mut Recorder<'_>,
    h: &HostHandle,
    of: VolumeOf<'_>,
    tally: &mut Tally,
) -> Result<(), Stop> {
    let VolumeOf {
        layout_id,
        host,
        vm,
        pool,
        volume,
        disk_gib,
        on_image,
    } = of;
    let ours = intend(
        rec.db,
        layout_id,
        host,
        vm,
        "volume",
        &format!("{pool}/{volume}"),
    )
    .await?;
    let bytes = disk_gib.saturating_mul(GIB);
    let made = match on_image {
        Some((_, backing)) => h.create_overlay(pool, volume, bytes, backing).await,
        None => h.create_volume(pool, volume, bytes).await,
    };
    match made {
        Ok(info) => {
            tally.volumes += 1;
            journal(rec.db, layout_id, host, vm, "volume", &info.path).await?;
            let what = match on_image {
                Some((image, _)) => format!(
                    "{} GiB, thin qcow2 on the cloud image {image}",
                    info.capacity.div_ceil(GIB)
                ),
                None => format!("{disk_gib} GiB, thin qcow2"),
            };
            rec.step(
                host,
                vm,
                "volume",
                StepStatus::Done,
                format!("created {pool}/{volume} ({what})"),
            )
            .await?;
            Ok(())
        }
        Err(HostError::AlreadyExists(_)) if ours.is_some() => {
            tally.reused += 1;
            let late = ours.as_ref().is_some_and(|row| row.pending);
            let detail = ours.map(|row| row.detail).unwrap_or_default();
            journal(rec.db, layout_id, host, vm, "volume", &detail).await?;
            let message = if late {
                format!(
                    "{pool}/{volume} was created by an earlier apply that stopped waiting for \
                     it; reused"
                )
            } else {
                format!("{pool}/{volume} was created by an earlier apply of this layout; reused")
            };
            rec.step(host, vm, "volume", StepStatus::Skipped, message)
                .await?;
            Ok(())
        }
        Err(e @ HostError::AlreadyExists(_)) => {
            settle(rec.db, layout_id, host, vm, "volume", None, &e).await?;
            let m = format!(
                "a volume named {volume} already exists in pool {pool} on {host}, and this layout did \
                 not create it: remove or rename that volume (or rename the VM), then apply again"
            );
            rec.step(host, vm, "volume", StepStatus::Failed, m.clone())
                .await?;
            Err(Stop(format!("{vm} on {host}: volume failed: {m}")))
        }
        Err(e) => {
            settle(rec.db, layout_id, host, vm, "volume", ours, &e).await?;
            fail(rec, host, vm, "volume", e).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_parse_host_slash_vm() {
        let r = parse_removals(&["demo/old".into(), "demo/old".into(), "h/a".into()]).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].host, "demo");
        assert!(parse_removals(&["nohost".into()]).is_err());
        assert!(parse_removals(&["h/bad name".into()]).is_err());
    }
}
