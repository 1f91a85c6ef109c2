//! The apply panel of a layout's page: the plan as a checklist (create,
//! change, unchanged, and VMs the layout does not name, removed only when
//! ticked), the Apply button for operators, the steps as they happen (the
//! page polls `layouts/apply_status` while a run is going) and the result:
//! libvirt's message and the steps done when it stopped, with "Apply again"
//! to resume. Under the VMs, the records the apply writes for their names
//! and addresses (and what conflicts with them, which stops the apply). Opened on demand ([`OnDemand`]): the plan, the run and their
//! code (a chunk of its own) are fetched on the first click.

use crate::layouts::names::{DnsAction, NamePlan};
use crate::layouts::plan::{resize_summary, PlanAction, PlanItem};
use crate::layouts::{
    apply_layout, apply_status, plan_layout, ApplyRun, ApplyStep, PlanView, RunOutcome, StepStatus,
};
use crate::ui::{ChunkLoadError, OnDemand};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// How often the page asks for progress while an apply runs.
#[cfg(feature = "hydrate")]
const POLL: std::time::Duration = std::time::Duration::from_millis(600);

/// Fetches the latest run into `run` until it is no longer running; then
/// bumps `finished` (the plan is fetched again).
#[cfg(feature = "hydrate")]
fn poll(layout_id: i32, run: RwSignal<Option<ApplyRun>>, finished: RwSignal<u32>) {
    leptos::task::spawn_local(async move {
        let running = match apply_status(layout_id).await {
            Ok(latest) => {
                let running = latest
                    .as_ref()
                    .is_some_and(|r| r.outcome == RunOutcome::Running);
                if run.try_set(latest).is_some() {
                    // The panel is gone.
                    return;
                }
                running
            }
            // A dropped request: keep asking.
            Err(_) => true,
        };
        if running {
            set_timeout(move || poll(layout_id, run, finished), POLL);
        } else {
            finished.try_update(|n| *n += 1);
        }
    });
}

/// The apply panel of a layout's page: closed until asked for. `saves`
/// counts the editor's saves: the plan is asked for again after each.
#[component]
pub fn ApplyPanel(layout_id: i32, saves: Signal<usize>) -> impl IntoView {
    view! {
        <OnDemand
            title="Apply"
            hint="Applying works on the saved layout (save first). The plan lists what would be created, changed or left alone on the hosts before anything runs."
            open_label="Review the plan…"
            class="apply-panel"
            load=move || apply_body(layout_id, saves)
        />
    }
}

/// The apply panel's body: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(LayoutRoute__Apply, wasm_split_path = ::leptos::wasm_split, fallible)]
fn apply_body(layout_id: i32, saves: Signal<usize>) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <ApplyBody layout_id=layout_id saves=saves/> }.into_any())
}

/// The plan, the Apply button and the progress of a layout's apply.
#[component]
fn ApplyBody(layout_id: i32, saves: Signal<usize>) -> impl IntoView {
    let finished = RwSignal::new(0u32);
    let plan = crate::ui::resource(
        move || (finished.get(), saves.get()),
        move |_| plan_layout(layout_id),
    );
    let run = RwSignal::new(None::<ApplyRun>);
    let ticks = RwSignal::new(BTreeSet::<String>::new());
    let start = Action::new(move |remove: &Vec<String>| {
        let remove = remove.clone();
        async move { apply_layout(layout_id, remove).await }
    });
    // The latest run when the panel opens (an apply may be going on).
    let first = crate::ui::resource(|| (), move |_| apply_status(layout_id));
    Effect::new(move |_| {
        if let Some(Ok(latest)) = first.get() {
            let running = latest
                .as_ref()
                .is_some_and(|r| r.outcome == RunOutcome::Running);
            run.set(latest);
            #[cfg(feature = "hydrate")]
            if running {
                poll(layout_id, run, finished);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = running;
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = start.value().get() {
            ticks.set(BTreeSet::new());
            #[cfg(feature = "hydrate")]
            poll(layout_id, run, finished);
        }
    });
    let running = move || {
        start.pending().get()
            || run.with(|r| r.as_ref().is_some_and(|r| r.outcome == RunOutcome::Running))
    };
    let last_failed =
        move || run.with(|r| r.as_ref().is_some_and(|r| r.outcome == RunOutcome::Failed));
    let on_apply = move |_| {
        start.dispatch(ticks.get_untracked().into_iter().collect());
    };

    view! {
            <Transition fallback=|| view! { <p class="muted">"Asking the hosts…"</p> }>
                {move || Suspend::new(async move {
                    match plan.await {
                        Ok(view) => view! {
                            <PlanChecklist view=view ticks=ticks running=Signal::derive(running)
                                last_failed=Signal::derive(last_failed) on_apply=on_apply/>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="form-error" role="alert">{e.to_string()}</p>
            })}
            {move || run.get().map(|r| view! { <RunView run=r/> })}
    }
}

fn item_detail(item: &PlanItem) -> String {
    let size = format!(
        "{} MiB, {} vCPU{}, {}",
        item.memory_mib,
        item.vcpus,
        if item.vcpus == 1 { "" } else { "s" },
        if item.disk_gib == 0 {
            "no disk".to_string()
        } else {
            format!("{} GiB thin disk", item.disk_gib)
        }
    );
    let mut out = match &item.action {
        PlanAction::Create { .. } => format!("{size}, {}", item.network),
        PlanAction::Change {
            memory_from,
            vcpus_from,
            running,
        } => format!(
            "{}; {}",
            resize_summary(*memory_from, item.memory_mib, *vcpus_from, item.vcpus),
            if *running {
                "takes effect when it is next started from off"
            } else {
                "takes effect at its next start"
            }
        ),
        PlanAction::Pending {
            memory_from,
            vcpus_from,
        } => format!(
            "{size}; runs with {memory_from} MiB and {vcpus_from} vCPU{} until it is next started from off",
            if *vcpus_from == 1 { "" } else { "s" }
        ),
        PlanAction::Unchanged => size,
    };
    if item.start {
        out.push_str("; will be started");
    }
    out
}

#[component]
fn PlanChecklist(
    view: PlanView,
    ticks: RwSignal<BTreeSet<String>>,
    running: Signal<bool>,
    last_failed: Signal<bool>,
    on_apply: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let plan = view.plan;
    let (create, change, unchanged) = plan.counts();
    let fits = plan.resolved.fits;
    let noop = plan.is_noop();
    let mut problems: Vec<String> = plan
        .resolved
        .unplaced
        .iter()
        .map(|u| u.reason.clone())
        .collect();
    for v in &plan.resolved.verdicts {
        problems.extend(v.violations.iter().map(ToString::to_string));
    }
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    let can_apply = view.can_apply;
    let refused = !view.refusals.is_empty();
    // Zones waiting for an NSD primary that is not there are no work.
    let noop = noop && !view.names.writes() && (view.publish.is_empty() || view.no_primary);
    let nothing_to_do = move || noop && ticks.with(BTreeSet::is_empty);
    view! {
        <p class="plan-summary">
            {format!("{create} to create · {change} to change · {unchanged} unchanged · {} not in the layout", plan.extra.len())}
        </p>
        {(!view.unreachable.is_empty()).then(|| view! {
            <div class="notice" role="status">
                <p>"Left out of the plan (not answering):"</p>
                <ul class="plain-list">{view.unreachable.iter().map(|u| view! { <li>{u.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        {(!view.missing_images.is_empty()).then(|| view! {
            <div class="notice" role="status" data-testid="missing-images">
                <p>"Images missing: the apply would stop at these VMs' image step."</p>
                <ul class="plain-list">{view.missing_images.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        {refused.then(|| view! {
            <div class="panel error-panel" role="alert" data-testid="plan-refusals">
                <p>"Addresses and names: the apply stops at its check until these are resolved:"</p>
                <ul class="plain-list">{view.refusals.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        {(!fits).then(|| view! {
            <div class="panel error-panel" role="alert">
                <p>"The layout does not fit; nothing can be applied until it does:"</p>
                <ul class="plain-list">{problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        <ul class="plan-list" aria-label="Plan">
            {plan.items.iter().map(|item| {
                let (kind, label) = match item.action {
                    PlanAction::Create { .. } => ("create", "Create"),
                    PlanAction::Change { .. } => ("change", "Change"),
                    PlanAction::Pending { .. } => ("unchanged", "Restart pending"),
                    PlanAction::Unchanged => ("unchanged", "Unchanged"),
                };
                view! {
                    <li class=format!("plan-item plan-{kind}")>
                        <span class=format!("badge plan-badge plan-badge-{kind}")>{label}</span>
                        <span class="plan-vm">
                            {
                                // A VM that exists links to its page (consoles
                                // included): a full load, for that page's policy.
                                let exists = !matches!(item.action, PlanAction::Create { .. });
                                match view.host_ids.get(&item.host).filter(|_| exists) {
                                    Some(id) => view! {
                                        <a href=crate::consoles::pages::vm_path(*id, &item.vm) rel="external"><strong>{item.vm.clone()}</strong></a>
                                    }.into_any(),
                                    None => view! { <strong>{item.vm.clone()}</strong> }.into_any(),
                                }
                            }
                            " on "{item.host.clone()}
                            {item.auto.then_some(" (auto)")}</span>
                        <span class="plan-detail muted">
                            {item_detail(item)}
                            {view.addresses.get(&item.vm).map(|ip| format!("; address {ip}"))}
                        </span>
                    </li>
                }
            }).collect_view()}
            {plan.extra.iter().map(|e| {
                let key = format!("{}/{}", e.host, e.vm);
                let id = format!("remove-{}-{}", e.host, e.vm);
                let k1 = key.clone();
                let k2 = key.clone();
                view! {
                    <li class="plan-item plan-extra">
                        <span class="badge plan-badge plan-badge-extra">"Not in layout"</span>
                        <span class="plan-vm"><strong>{e.vm.clone()}</strong>" on "{e.host.clone()}</span>
                        <span class="plan-detail muted">{format!("{} MiB, {} vCPU{}, {}; kept unless ticked", e.memory_mib, e.vcpus, if e.vcpus == 1 { "" } else { "s" }, e.state.label())}</span>
                        {can_apply.then(|| view! {
                            <span class="plan-remove">
                                <input type="checkbox" id=id.clone()
                                    prop:checked=move || ticks.with(|t| t.contains(&k1))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let k = k2.clone();
                                        ticks.update(|t| { if on { t.insert(k); } else { t.remove(&k); } });
                                    }/>
                                <label for=id>{format!("Remove {} and its disks", e.vm)}</label>
                            </span>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        <PlanNames names=view.names publish=view.publish no_primary=view.no_primary/>
        {if can_apply {
            view! {
                <div class="apply-actions">
                    <button type="button" class="button"
                        disabled=move || !fits || refused || running.get() || nothing_to_do()
                        on:click=on_apply>
                        {move || if running.get() {
                            "Applying…"
                        } else if last_failed.get() && !nothing_to_do() {
                            "Apply again"
                        } else if nothing_to_do() {
                            "Nothing to apply"
                        } else {
                            "Apply"
                        }}
                    </button>
                    {move || ticks.with(|t| (!t.is_empty()).then(|| view! {
                        <span class="muted">{format!("{} VM{} will be removed", t.len(), if t.len() == 1 { "" } else { "s" })}</span>
                    }))}
                </div>
            }.into_any()
        } else {
            view! { <p class="muted">"Operators apply layouts."</p> }.into_any()
        }}
    }
}

/// The VMs' records the apply writes in Stackyard's zones, and the zones
/// it gives NSD.
#[component]
fn PlanNames(names: NamePlan, publish: Vec<String>, no_primary: bool) -> impl IntoView {
    if names.changes.is_empty() && names.notes.is_empty() && publish.is_empty() {
        return None;
    }
    Some(view! {
        <section class="plan-names" data-testid="dns-plan" aria-label="Names in DNS">
            <h3>"Names in DNS"</h3>
            <ul class="plan-list">
                {names.changes.iter().map(|c| {
                    let kind = match c.action {
                        DnsAction::Create => "create",
                        DnsAction::Change => "change",
                        DnsAction::Unchanged => "unchanged",
                        DnsAction::Remove | DnsAction::Conflict => "extra",
                    };
                    let label = match c.action {
                        DnsAction::Create => "Create",
                        DnsAction::Change => "Change",
                        DnsAction::Unchanged => "Unchanged",
                        DnsAction::Remove => "Remove",
                        DnsAction::Conflict => "Conflict",
                    };
                    view! {
                        <li class=format!("plan-item plan-{kind}")>
                            <span class=format!("badge plan-badge plan-badge-{kind}")>{label}</span>
                            <span class="plan-vm"><strong>{c.owner.clone()}</strong>" "{c.rtype.clone()}" "{c.value.clone()}</span>
                            {(c.action != DnsAction::Unchanged).then(|| view! {
                                <span class="plan-detail muted">{c.line()}</span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {names.notes.iter().map(|n| view! { <p class="muted plan-note">{n.clone()}</p> }).collect_view()}
            {(!publish.is_empty()).then(|| view! {
                <p class="muted">{if no_primary {
                    format!("No NSD primary yet: the records are kept in {} until one is added on the DNS servers page.", publish.join(", "))
                } else {
                    format!("Installed on the NSD primary after the VM steps: {}", publish.join(", "))
                }}</p>
            })}
        </section>
    })
}

fn step_mark(s: &ApplyStep) -> &'static str {
    match s.status {
        StepStatus::Done => "✓",
        StepStatus::Skipped => "↺",
        StepStatus::Failed => "✗",
    }
}

#[component]
fn RunView(run: ApplyRun) -> impl IntoView {
    let done = run.steps_done();
    let outcome = run.outcome;
    view! {
        <div class="apply-run" aria-label="Apply progress">
            <h3>{format!("Apply by {} at {}", run.username, run.started_at.seconds())}</h3>
            <ol class="apply-steps" aria-live="polite">
                {run.steps.iter().map(|s| view! {
                    <li class=format!("apply-step step-{}", s.status.as_str())>
                        <span class="step-mark" aria-hidden="true">{step_mark(s)}</span>
                        <span class="step-text">{s.line()}</span>
                    </li>
                }).collect_view()}
            </ol>
            {match outcome {
                RunOutcome::Running => view! { <p class="muted" role="status">"Applying…"</p> }.into_any(),
                RunOutcome::Succeeded => view! { <p class="form-ok" role="status">{run.message.clone()}</p> }.into_any(),
                RunOutcome::Failed => view! {
                    <div class="panel error-panel" role="alert">
                        <p><strong>"Apply stopped: "</strong>{run.message.clone()}</p>
                        {if done.is_empty() {
                            view! { <p>"No step was done."</p> }.into_any()
                        } else {
                            view! {
                                <p>"Steps done before it stopped:"</p>
                                <ul class="plain-list">{done.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view()}</ul>
                            }.into_any()
                        }}
                        <p>"Fix the cause, then apply again: what was done is kept and nothing is created twice."</p>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}
