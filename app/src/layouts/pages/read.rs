//! `/layouts/{id}` as it opens: the layout to read (its VMs, where each
//! goes, the hosts as it leaves them, export and apply), as the server
//! evaluated it. "Edit layout" fetches the editor (a chunk of its own, see
//! [`super::editor`]) and puts it in the read view's place, with the same
//! layout: most visits read a layout or apply it, and a phone should not
//! download the editor for that.

use super::apply::ApplyPanel;
use super::editor::{editor_body, ExportRow};
use super::hosts::CapacitySide;
use crate::auth::Role;
use crate::layouts::evaluate::VmPlace;
use crate::layouts::{EditorView, HostChoice, LayoutVm};
use crate::ui::{at_least, ChunkLoadError, Column, DataTable, PageHeader};
use leptos::prelude::*;
use leptos_router::components::A;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Reading,
    /// The editor's code is on its way.
    Loading,
    /// It could not be fetched.
    Failed,
    Editing,
}

/// The layout to read, replaced by the editor on "Edit layout".
#[component]
pub(super) fn LayoutRead(id: i32, view: EditorView) -> impl IntoView {
    let mode = RwSignal::new(Mode::Reading);
    // The editor, handed over once to the view below when it has arrived
    // (only ever filled in the browser).
    let editor = Arc::new(Mutex::new(None::<AnyView>));
    let layout = StoredValue::new(view);
    let arrived = Arc::clone(&editor);
    let edit = Callback::new(move |()| {
        if !matches!(mode.get_untracked(), Mode::Reading) {
            return;
        }
        mode.set(Mode::Loading);
        let arrived = Arc::clone(&arrived);
        leptos::task::spawn_local(async move {
            match editor_body(id, layout.get_value()).await {
                Ok(view) => {
                    if let Ok(mut slot) = arrived.lock() {
                        *slot = Some(view);
                    }
                    mode.set(Mode::Editing);
                }
                Err(ChunkLoadError) => mode.set(Mode::Failed),
            }
        });
    });
    let editing = Memo::new(move |_| mode.get() == Mode::Editing);
    move || {
        if editing.get() {
            editor
                .lock()
                .ok()
                .and_then(|mut slot| slot.take())
                .into_any()
        } else {
            view! { <ReadView id=id view=layout.get_value() mode=mode edit=edit/> }.into_any()
        }
    }
}

#[component]
fn ReadView(id: i32, view: EditorView, mode: RwSignal<Mode>, edit: Callback<()>) -> impl IntoView {
    let EditorView {
        spec,
        hosts,
        evaluation,
        ..
    } = view;
    let count = spec.vms.len();
    let rows: Vec<(LayoutVm, Option<VmPlace>)> = spec
        .vms
        .iter()
        .enumerate()
        .map(|(i, vm)| {
            let place = evaluation.vms.get(i).filter(|p| p.vm == vm.name).cloned();
            (vm.clone(), place)
        })
        .collect();
    let description = spec.description.clone();
    let good = Memo::new(move |_| spec.clone());
    let name = Signal::derive(move || good.with(|s| s.name.clone()));
    let hosts = RwSignal::new(hosts);
    let eval = RwSignal::new(evaluation);
    view! {
        <section class="page layout-editor">
            <PageHeader title=name.get_untracked() summary="Plan VMs against host memory (eqs. 1–3), then apply."/>
            <p class="layout-links">
                <A href="/layouts">"All layouts"</A>
                <Show when=move || at_least(Role::Operator)>
                    {move || match mode.get() {
                        Mode::Loading => view! {
                            <button type="button" class="button" disabled=true aria-busy="true">"Loading the editor…"</button>
                        }.into_any(),
                        Mode::Failed => view! {
                            <span class="form-error" role="alert">
                                "The editor could not be loaded: the connection may have dropped, or "
                                "Stackyard was updated since this tab opened. Nothing was changed. "
                            </span>
                            <button type="button" class="button" on:click=|_| crate::ui::reload()>"Reload"</button>
                        }.into_any(),
                        _ => view! {
                            <button type="button" class="button" on:click=move |_| edit.run(())>"Edit layout"</button>
                        }.into_any(),
                    }}
                </Show>
            </p>
            <div class="editor-grid">
                <div class="editor-main">
                    {(!description.is_empty()).then(|| view! { <p class="layout-description">{description}</p> })}
                    <ExportRow good=good name=name/>
                    <h2 class="section-title">{format!("Virtual machines ({count})")}</h2>
                    {if rows.is_empty() {
                        view! { <p class="muted">"No VM yet: edit the layout to add some from a template."</p> }.into_any()
                    } else {
                        view! {
                            <DataTable label="VMs of the layout" class="layout-vms" columns=columns() rows=rows/>
                        }.into_any()
                    }}
                    <ApplyPanel layout_id=id saves=Signal::stored(0)/>
                </div>
                <CapacitySide hosts=hosts eval=eval eval_failed=RwSignal::new(false)/>
            </div>
        </section>
    }
    .into_any()
}

type VmLine = (LayoutVm, Option<VmPlace>);

/// Four columns, so that a phone's card of a VM is four lines.
fn columns() -> Vec<Column<VmLine>> {
    vec![
        Column::new("VM", |(vm, _): &VmLine| {
            view! {
                <strong>{vm.name.clone()}</strong>
                " "
                <span class="muted">{vm.template.clone().unwrap_or_else(|| "custom size".into())}</span>
            }
        }),
        Column::new("Size", |(vm, _): &VmLine| {
            format!(
                "{} vCPU{} · {} MiB · {} GiB",
                vm.vcpus,
                if vm.vcpus == 1 { "" } else { "s" },
                vm.memory_mib,
                vm.disk_gib
            )
        }),
        Column::new("Host and network", |(vm, _): &VmLine| {
            let mut parts = vec![match &vm.host {
                HostChoice::Auto => "auto".to_owned(),
                HostChoice::Host(h) => h.clone(),
            }];
            parts.push(vm.network.to_string());
            parts.extend(vm.ip.map(|ip| ip.to_string()));
            if !vm.start {
                parts.push("not started".into());
            }
            parts.join(" · ")
        }),
        Column::new("Placement", |(_, place): &VmLine| {
            let bad = place.as_ref().is_some_and(VmPlace::is_bad);
            view! {
                <span class=if bad { "vm-placement bad" } else { "vm-placement" } data-testid="vm-placement">
                    {place.as_ref().map(VmPlace::verdict).unwrap_or_default()}
                </span>
            }
        }),
    ]
}
