//! A layout page's side column, in the read view and in the editor: each
//! host as the layout leaves it (memory bar, verdict, eq. (3), the admin's
//! host settings) and where the auto VMs went.

use crate::auth::Role;
use crate::layouts::evaluate::{Evaluation, HostEval};
use crate::layouts::{layout_hosts, HostSettingsNow, HostsView, SetHostCapacity, UnreachableHost};
use crate::ui::at_least;
use crate::ui::format::mib;
use crate::ui::{field_error, ChunkLoadError, FieldError, FormError, MemoryBar, MemoryUse, Opener};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The names of the hosts, in their order.
pub(super) fn host_names(hosts: RwSignal<HostsView>) -> Memo<Vec<String>> {
    Memo::new(move |_| hosts.with(|h| h.hosts.iter().map(|h| h.name.clone()).collect()))
}

/// The side column: whether the layout fits, each host as it leaves it
/// (`children`: a [`HostCard`] each), where the auto VMs went.
/// `eval_failed`: a change could not be evaluated. Drawn from signals, so
/// the read view and the editor share one copy of it.
#[component]
pub(super) fn CapacitySide(
    #[prop(into)] eval: Signal<Evaluation>,
    #[prop(into)] unreachable: Signal<Vec<UnreachableHost>>,
    #[prop(into)] eval_failed: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let fits = move || eval.with(|e| e.fits);
    view! {
        <aside class="editor-side" aria-label="Capacity">
            <h2 class="section-title">"Hosts"</h2>
            <p class=move || if fits() { "verdict verdict-ok" } else { "verdict verdict-bad" } role="status" data-testid="layout-verdict">
                {move || if fits() {
                    "✓ The layout fits: no condition of eq. (1) is broken."
                } else {
                    "✗ The layout does not fit: see the marked hosts and VMs."
                }}
            </p>
            {move || eval_failed.get().then(|| view! {
                <div class="form-error" role="alert">
                    <p>
                        "Changes cannot be evaluated: the code for it could not be loaded "
                        "(the connection may have dropped, or Stackyard was updated since this tab opened). "
                        "What you typed is kept; save it, then reload."
                    </p>
                    <button type="button" class="button secondary" on:click=|_| crate::ui::reload()>"Reload"</button>
                </div>
            })}
            {move || unreachable.with(|u| u.iter().map(|u| view! {
                <p class="form-error">{format!("{} is unreachable and left out: {}", u.name, u.error)}</p>
            }).collect_view())}
            {children()}
            <Placement eval=eval/>
        </aside>
    }
    .into_any()
}

/// The editor's hosts: a [`HostCard`] each, following the hosts and the
/// evaluation as they change; saved host settings fetch the hosts again.
#[component]
pub(super) fn HostBars(hosts: RwSignal<HostsView>, eval: RwSignal<Evaluation>) -> impl IntoView {
    let host_names = host_names(hosts);
    let saved = Callback::new(move |()| {
        leptos::task::spawn_local(async move {
            if let Ok(view) = layout_hosts().await {
                hosts.set(view);
            }
        });
    });
    view! {
        <For each=move || host_names.get() key=|n| n.clone() let:host>
            {
                let h = host.clone();
                let figures = Memo::new(move |_| eval.with(|e| e.hosts.iter().find(|v| v.host == h).cloned()));
                let h = host.clone();
                let settings = Signal::derive(move || hosts.with(|v| {
                    v.hosts.iter().find(|s| s.name == h).map(|s| HostSettingsNow::of(s, &v.policy))
                }));
                let id = hosts.with_untracked(|v| v.ids.get(&host).copied());
                view! { <HostCard host=host figures=figures id=id settings=settings saved=saved/> }
            }
        </For>
    }
}

/// One host as the layout leaves it: its memory bar and verdict (eq. 1),
/// how many more of each template fit (eq. 3), and for an admin its
/// settings (`id`: registered hosts only), opened on demand; `saved` runs
/// after they are saved.
#[component]
pub(super) fn HostCard(
    host: String,
    #[prop(into)] figures: Signal<Option<HostEval>>,
    id: Option<i32>,
    #[prop(into)] settings: Signal<Option<HostSettingsNow>>,
    saved: Callback<()>,
) -> impl IntoView {
    let more = move || figures.with(|v| v.as_ref().map(|v| v.more.clone()).unwrap_or_default());
    let title = host.clone();
    view! {
        <article class="panel host-bar" aria-label=format!("Host {host}")>
            <h3>{title}</h3>
            {move || figures.get().map(|v| {
                let usage = MemoryUse {
                    total: v.memory,
                    os: v.os_reserve,
                    existing: v.used_existing,
                    planned: v.used_planned,
                };
                view! {
                    <MemoryBar usage=usage name=format!("Memory of {}", v.host) show_planned=true/>
                    <p class=if v.fits { "verdict verdict-ok" } else { "verdict verdict-bad" } data-testid="host-verdict">
                        {if v.fits {
                            format!("✓ Fits: y_a = {} − {} = {}", mib(v.memory), mib(v.os_reserve), mib(v.available))
                        } else if v.over_by > 0 {
                            format!("✗ Does not fit: {} over y_a = {}", mib(v.over_by), mib(v.available))
                        } else {
                            "✗ Does not fit".to_owned()
                        }}
                    </p>
                    {(!v.violations.is_empty()).then(|| view! {
                        <ul class="violations" aria-label=format!("Broken conditions on {}", v.host)>
                            {v.violations.iter().map(|x| view! { <li>{x.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                    <p class="muted">{v.resources.clone()}</p>
                }
            })}
            <details class="more-fit">
                <summary>"How many more still fit (eq. 3)"</summary>
                <ul class="plain-list">
                    {move || more().into_iter().map(|(t, n)| view! {
                        <li>{format!("{t}: {}", if n == u64::MAX { "no limit".to_owned() } else { n.to_string() })}</li>
                    }).collect_view()}
                </ul>
            </details>
            <Show when=move || at_least(Role::Admin)>
                {id.map(|id| view! {
                    <div class="host-settings">
                        <Opener hint="" open_label="Host settings…"
                            load=move || host_settings(id, settings.get_untracked().unwrap_or_default(), saved)/>
                    </div>
                })}
            </Show>
        </article>
    }
    .into_any()
}

/// The admin's settings for one host: a chunk of their own, fetched when
/// opened.
#[leptos::wasm_split::wasm_split(LayoutRoute__HostSettings, wasm_split_path = ::leptos::wasm_split, fallible)]
fn host_settings(
    host_id: i32,
    now: HostSettingsNow,
    saved: Callback<()>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <HostSettings host_id=host_id now=now saved=saved/> }.into_any())
}

/// The admin's settings for one host: its OS reserve and emulation, as
/// `now`; `saved` runs after each save.
#[component]
fn HostSettings(host_id: i32, now: HostSettingsNow, saved: Callback<()>) -> impl IntoView {
    let action = ServerAction::<SetHostCapacity>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            saved.run(());
        }
    });
    let y_os = now.os_reserve.map(|m| m.to_string()).unwrap_or_default();
    let p = format!("host-{host_id}");
    view! {
            <ActionForm action=action attr:class="form" attr:aria-label="Host settings">
                <input type="hidden" name="host_id" value=host_id.to_string()/>
                <label for=format!("{p}-yos")>"OS reserve y_os (MiB; empty = default)"</label>
                <input id=format!("{p}-yos") name="y_os_mib" inputmode="numeric" value=y_os
                    placeholder=now.default_reserve.to_string()/>
                <FieldError id=format!("{p}-yos-error") message=field_error(action.value(), "y_os_mib")/>
                <label class="check">
                    <input type="checkbox" name="allow_emulation" value="on" checked=now.allow_emulation/>
                    " Allow emulation without hardware virtualization"
                </label>
                <FormError value=action.value() fields=&["y_os_mib"]/>
                <button type="submit" class="button secondary">"Save host settings"</button>
            </ActionForm>
    }
}

#[component]
fn Placement(eval: Signal<Evaluation>) -> impl IntoView {
    view! {
        <article class="panel placement" aria-labelledby="placement-title">
            <h2 id="placement-title">"Placement of auto VMs"</h2>
            {move || eval.with(|e| {
                let auto: Vec<_> = e.vms.iter().filter(|p| p.auto).collect();
                if auto.is_empty() && e.unplaced.is_empty() {
                    return view! { <p class="muted">"No VM is left to placement."</p> }.into_any();
                }
                view! {
                    <ul class="plain-list" aria-label="Placed VMs">
                        {auto.iter().filter_map(|p| p.host.as_ref().map(|h| view! {
                            <li>{format!("{} → {}{}", p.vm, h, if p.existing { " (already there)" } else { "" })}</li>
                        })).collect_view()}
                    </ul>
                    <p class="muted">{format!("{} host(s) used", e.hosts_used)}</p>
                    <p class="muted" data-testid="placement-bound">
                        {format!("Hosts holding any VM, the layout's or others: {}", e.hosts_summary)}
                    </p>
                    {(!e.unplaced.is_empty()).then(|| view! {
                        <h4>"Fit nowhere"</h4>
                        <ul class="violations" aria-label="VMs that fit nowhere">
                            {e.unplaced.iter().map(|u| view! { <li>{u.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                }.into_any()
            })}
        </article>
    }
    .into_any()
}
