//! Plan and apply as the browser sees them: the DTOs of an apply run and
//! its steps, and the server functions (`layouts/plan`, `layouts/apply`,
//! `layouts/apply_status`). Viewers may see the plan and the runs; only
//! operators apply. The work itself is in `apply` (server only).

#[cfg(feature = "ssr")]
use crate::auth::{Access, Role};
use crate::endpoint_access;
use crate::error::AppError;
use crate::layouts::plan::Plan;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Done now.
    Done,
    /// Already done by an earlier apply; nothing created.
    Skipped,
    /// Failed: the apply stopped here.
    Failed,
}

impl StepStatus {
    /// The stored and displayed word.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> StepStatus {
        match s {
            "done" => StepStatus::Done,
            "skipped" => StepStatus::Skipped,
            _ => StepStatus::Failed,
        }
    }
}

/// One step of an apply run, as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyStep {
    /// Order within the run, from 1.
    pub seq: i32,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Host name (empty for the run as a whole).
    pub host: String,
    /// VM name (empty for the run as a whole).
    pub vm: String,
    /// `check`, `remove`, `volume`, `define`, `resize`, `start`.
    pub step: String,
    /// How it went.
    pub status: StepStatus,
    /// What happened, or libvirt's message on failure.
    pub message: String,
}

impl ApplyStep {
    /// "dns-1 on demo: volume: created default/dns-1.qcow2 (4 GiB, thin qcow2)".
    pub fn line(&self) -> String {
        if self.vm.is_empty() {
            format!("{}: {}", self.step, self.message)
        } else {
            format!(
                "{} on {}: {}: {}",
                self.vm, self.host, self.step, self.message
            )
        }
    }
}

/// Where an apply run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Still going.
    Running,
    /// Everything done.
    Succeeded,
    /// Stopped at a failed step.
    Failed,
}

impl RunOutcome {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> RunOutcome {
        match s {
            "running" => RunOutcome::Running,
            "succeeded" => RunOutcome::Succeeded,
            _ => RunOutcome::Failed,
        }
    }
}

/// An apply run with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRun {
    /// Run id.
    pub id: i32,
    /// Layout applied.
    pub layout_id: i32,
    /// Who applied it.
    pub username: String,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// When it ended (`None` while running).
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where it stands.
    pub outcome: RunOutcome,
    /// The summary, or libvirt's message when it failed.
    pub message: String,
    /// Steps in order.
    pub steps: Vec<ApplyStep>,
}

impl ApplyRun {
    /// The steps that changed something or confirmed earlier work.
    pub fn steps_done(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.status != StepStatus::Failed && !s.vm.is_empty())
            .map(ApplyStep::line)
            .collect()
    }

    /// Steps that created a volume or a VM in this run.
    pub fn created(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.status == StepStatus::Done && (s.step == "volume" || s.step == "define"))
            .count()
    }
}

/// The plan as the apply panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// The plan.
    pub plan: Plan,
    /// Hosts that did not answer (left out of the plan), with the reason.
    pub unreachable: Vec<String>,
    /// The caller may apply (operator or admin).
    pub can_apply: bool,
}

endpoint_access!(PlanLayout, Access::Role(Role::Viewer));
/// What applying the layout would do, from what the hosts report now.
#[server(prefix = "/api", endpoint = "layouts/plan")]
pub async fn plan_layout(layout_id: i32) -> Result<PlanView, AppError> {
    use crate::auth::server::{guard, with_status};
    let auth = with_status(guard::<PlanLayout>())?;
    let state = crate::state::AppState::from_context()?;
    let spec = with_status(crate::layouts::store::load(&state.db, layout_id).await)?;
    let live = crate::layouts::apply::live_hosts(&state.db, &state.hosts, None).await;
    let plan = crate::layouts::apply::plan_for(&state.db, layout_id, &live, &spec).await;
    Ok(PlanView {
        plan: with_status(plan.map_err(AppError::from))?,
        unreachable: live.unreachable_lines(),
        can_apply: auth.role().is_some_and(|r| r >= Role::Operator),
    })
}

endpoint_access!(ApplyLayout, Access::Role(Role::Operator));
/// Starts applying the layout; returns the run id at once. Progress is read
/// with [`apply_status`]. `remove` lists extra VMs (`host/vm`) the operator
/// ticked for removal; nothing else is ever removed.
#[server(prefix = "/api", endpoint = "layouts/apply")]
pub async fn apply_layout(
    layout_id: i32,
    #[server(default)] remove: Vec<String>,
) -> Result<i32, AppError> {
    use crate::auth::server::{guard, with_status, AuditEntry};
    let auth = with_status(guard::<ApplyLayout>())?;
    let state = crate::state::AppState::from_context()?;
    let started = async {
        let spec = crate::layouts::store::load(&state.db, layout_id).await?;
        let remove = crate::layouts::apply::parse_removals(&remove)?;
        let run =
            crate::layouts::apply::begin(&state.db, layout_id, &spec.name, auth.username()).await?;
        Ok((spec, remove, run))
    }
    .await;
    let (spec, remove, run) = match started {
        Ok(s) => s,
        Err(e) => {
            let result: Result<(), AppError> = Err(e);
            let entry = AuditEntry::by(&auth, "layouts.apply", format!("layout {layout_id}"))
                .outcome_of(&result);
            crate::auth::server::audit_best_effort(&state.db, entry).await;
            return with_status(result.map(|()| 0));
        }
    };
    let task_state = state.clone();
    tokio::spawn(async move {
        let request = crate::layouts::apply::ApplyRequest {
            layout_id,
            spec,
            remove,
            pool: None,
        };
        let done =
            crate::layouts::apply::execute(&task_state.db, &task_state.hosts, run, &request).await;
        let entry = crate::layouts::apply::audit_entry(
            AuditEntry::by(&auth, "layouts.apply", request.spec.name.clone()),
            &done,
        );
        crate::auth::server::audit_best_effort(&task_state.db, entry).await;
    });
    Ok(run)
}

endpoint_access!(ApplyStatus, Access::Role(Role::Viewer));
/// The layout's latest apply run with its steps, if it was ever applied.
#[server(prefix = "/api", endpoint = "layouts/apply_status")]
pub async fn apply_status(layout_id: i32) -> Result<Option<ApplyRun>, AppError> {
    use crate::auth::server::{guard, with_status};
    with_status(guard::<ApplyStatus>())?;
    let state = crate::state::AppState::from_context()?;
    with_status(crate::layouts::apply::latest_run(&state.db, layout_id).await)
}
