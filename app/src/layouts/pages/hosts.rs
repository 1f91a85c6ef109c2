//! The editor's side column: each host as the layout leaves it (memory
//! bar, verdict, eq. (3), the admin's host settings) and where the auto VMs
//! went.

use crate::capacity::{HostSpec, HostVerdict, MiB};
use crate::layouts::evaluate::more_of;
use crate::layouts::plan::Resolved;
use crate::layouts::{layout_hosts, HostsView, SetHostCapacity, TemplateDto};
use crate::ui::format::{gib, mib};
use crate::ui::{field_error, FieldError, FormError, MemoryBar, MemoryUse};
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub(super) fn HostBar(
    host: String,
    hosts: RwSignal<HostsView>,
    eval: Memo<Resolved>,
    templates: StoredValue<Vec<TemplateDto>>,
    is_admin: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let h = host.clone();
    let verdict: Memo<Option<HostVerdict>> =
        Memo::new(move |_| eval.with(|e| e.verdicts.iter().find(|v| v.host == h).cloned()));
    let h = host.clone();
    let spec = Memo::new(move |_| hosts.with(|v| v.hosts.iter().find(|s| s.name == h).cloned()));
    let h = host.clone();
    let host_id = Memo::new(move |_| hosts.with(|v| v.ids.get(&h).copied()));
    let more = Memo::new(move |_| {
        let (Some(s), Some(v)) = (spec.get(), verdict.get()) else {
            return Vec::new();
        };
        let policy = hosts.with(|h| h.policy.clone());
        templates.with_value(|ts| {
            ts.iter()
                .map(|t| (t.name.clone(), more_of(&s, &v, &t.to_template(), &policy)))
                .collect::<Vec<_>>()
        })
    });
    let title = host.clone();
    view! {
        <article class="panel host-bar" aria-label=format!("Host {host}")>
            <h3>{title}</h3>
            {move || verdict.get().map(|v| {
                let over = v.over_by.get() > 0;
                let usage = MemoryUse {
                    total: v.memory.get(),
                    os: v.os_reserve.get(),
                    existing: v.used_existing.get(),
                    planned: v.used_planned.get(),
                };
                let fits = v.fits();
                view! {
                    <MemoryBar usage=usage name=format!("Memory of {}", v.host) show_planned=true/>
                    <p class=if fits { "verdict verdict-ok" } else { "verdict verdict-bad" } data-testid="host-verdict">
                        {if fits {
                            format!("✓ Fits: y_a = {} − {} = {}", mib(v.memory.get()), mib(v.os_reserve.get()), mib(v.available.get()))
                        } else if over {
                            format!("✗ Does not fit: {} over y_a = {}", mib(v.over_by.get()), mib(v.available.get()))
                        } else {
                            "✗ Does not fit".to_owned()
                        }}
                    </p>
                    {(!v.violations.is_empty()).then(|| view! {
                        <ul class="violations" aria-label=format!("Broken conditions on {}", v.host)>
                            {v.violations.iter().map(|x| view! { <li>{x.to_string()}</li> }).collect_view()}
                        </ul>
                    })}
                    <p class="muted">{format!(
                        "Pool: {} needed of {} ({} thin fill) · {} on {} CPUs{}",
                        gib(v.storage_needed.get()), gib(v.storage_available.get()),
                        v.thin_fill, v.vcpus, v.cpus,
                        if v.emulated { " · emulated" } else { "" }
                    )}</p>
                }
            })}
            <details class="more-fit">
                <summary>"How many more still fit (eq. 3)"</summary>
                <ul class="plain-list">
                    {move || more.get().into_iter().map(|(t, n)| view! {
                        <li>{format!("{t}: {}", if n == u64::MAX { "no limit".to_owned() } else { n.to_string() })}</li>
                    }).collect_view()}
                </ul>
            </details>
            <Show when=is_admin>
                {move || host_id.get().map(|id| view! { <HostSettings host_id=id spec=spec hosts=hosts/> })}
            </Show>
        </article>
    }
    .into_any()
}

/// The admin's settings for one host: its OS reserve and emulation.
#[component]
fn HostSettings(
    host_id: i32,
    spec: Memo<Option<HostSpec>>,
    hosts: RwSignal<HostsView>,
) -> impl IntoView {
    let action = ServerAction::<SetHostCapacity>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            leptos::task::spawn_local(async move {
                if let Ok(view) = layout_hosts().await {
                    hosts.set(view);
                }
            });
        }
    });
    let y_os = move || {
        spec.with(|s| {
            s.as_ref()
                .and_then(|s| s.os_reserve)
                .map(|m: MiB| m.get().to_string())
                .unwrap_or_default()
        })
    };
    let emulation = move || spec.with(|s| s.as_ref().is_some_and(|s| s.allow_emulation));
    let default_reserve = move || {
        let policy = hosts.with(|h| h.policy.clone());
        spec.with(|s| {
            s.as_ref()
                .map(|s| policy.default_os_reserve.for_memory(s.memory).to_string())
                .unwrap_or_default()
        })
    };
    let p = format!("host-{host_id}");
    view! {
        <details class="host-settings">
            <summary>"Host settings"</summary>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="host_id" value=host_id.to_string()/>
                <label for=format!("{p}-yos")>"OS reserve y_os (MiB; empty = default)"</label>
                <input id=format!("{p}-yos") name="y_os_mib" inputmode="numeric" prop:value=y_os
                    placeholder=default_reserve/>
                <FieldError id=format!("{p}-yos-error") message=field_error(action.value(), "y_os_mib")/>
                <label class="check">
                    <input type="checkbox" name="allow_emulation" value="on" prop:checked=emulation/>
                    " Allow emulation without hardware virtualization"
                </label>
                <FormError value=action.value() fields=&["y_os_mib"]/>
                <button type="submit" class="button secondary">"Save host settings"</button>
            </ActionForm>
        </details>
    }
}

#[component]
pub(super) fn Placement(eval: Memo<Resolved>) -> impl IntoView {
    view! {
        <article class="panel placement" aria-labelledby="placement-title">
            <h2 id="placement-title">"Placement of auto VMs"</h2>
            {move || eval.with(|e| {
                let auto: Vec<_> = e.placement.iter().filter(|p| p.auto).collect();
                if auto.is_empty() && e.unplaced.is_empty() {
                    return view! { <p class="muted">"No VM is left to placement."</p> }.into_any();
                }
                let used: std::collections::BTreeSet<&str> =
                    e.placement.iter().filter_map(|p| p.host.as_deref()).collect();
                view! {
                    <ul class="plain-list" aria-label="Placed VMs">
                        {auto.iter().filter_map(|p| p.host.as_ref().map(|h| view! {
                            <li>{format!("{} → {}{}", p.vm, h, if p.existing { " (already there)" } else { "" })}</li>
                        })).collect_view()}
                    </ul>
                    <p class="muted">{format!("{} host(s) used", used.len())}</p>
                    <p class="muted" data-testid="placement-bound">
                        {format!("Hosts holding any VM, the layout's or others: {}", e.hosts_summary())}
                    </p>
                    {(!e.unplaced.is_empty()).then(|| view! {
                        <h4>"Fit nowhere"</h4>
                        <ul class="violations" aria-label="VMs that fit nowhere">
                            {e.unplaced.iter().map(|u| view! { <li>{u.reason.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                }.into_any()
            })}
        </article>
    }
    .into_any()
}
