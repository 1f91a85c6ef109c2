//! `/layouts/{id}` as it opens: the layout to read (its VMs, where each
//! goes, the hosts as it leaves them, export and apply), as the server
//! evaluated it and put in words ([`LayoutReading`]). "Edit layout" fetches
//! the editor (a chunk of its own, see [`super::editor`]), which asks for
//! the layout itself and takes the read view's place: most visits read a
//! layout or apply it, and a phone should not download the editor, nor the
//! code that reads a layout, its hosts and templates, for that.

use super::apply::ApplyPanel;
use super::editor::{editor_body, ExportRow};
use super::hosts::{CapacitySide, HostCard};
use crate::auth::Role;
use crate::layouts::{export_saved_layout, read_layout, LayoutReading, VmReading};
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
pub(super) fn LayoutRead(id: i32, reading: LayoutReading) -> impl IntoView {
    let mode = RwSignal::new(Mode::Reading);
    // Why the editor could not open the layout (the chunk came, the layout
    // did not).
    let refused = RwSignal::new(None::<String>);
    // The editor, handed over once to the view below when it has arrived
    // (only ever filled in the browser).
    let editor = Arc::new(Mutex::new(None::<AnyView>));
    let arrived = Arc::clone(&editor);
    let edit = Callback::new(move |()| {
        if !matches!(mode.get_untracked(), Mode::Reading) {
            return;
        }
        mode.set(Mode::Loading);
        let arrived = Arc::clone(&arrived);
        leptos::task::spawn_local(async move {
            match editor_body(id).await {
                Ok(opening) => match opening.await {
                    Ok(view) => {
                        if let Ok(mut slot) = arrived.lock() {
                            *slot = Some(view);
                        }
                        mode.set(Mode::Editing);
                    }
                    Err(e) => {
                        refused.set(Some(e.to_string()));
                        mode.set(Mode::Reading);
                    }
                },
                Err(ChunkLoadError) => mode.set(Mode::Failed),
            }
        });
    });
    let reading = RwSignal::new(reading);
    let editing = Memo::new(move |_| mode.get() == Mode::Editing);
    move || {
        if editing.get() {
            editor
                .lock()
                .ok()
                .and_then(|mut slot| slot.take())
                .into_any()
        } else {
            view! { <ReadView id=id reading=reading mode=mode refused=refused edit=edit/> }
                .into_any()
        }
    }
}

#[component]
fn ReadView(
    id: i32,
    reading: RwSignal<LayoutReading>,
    mode: RwSignal<Mode>,
    refused: RwSignal<Option<String>>,
    edit: Callback<()>,
) -> impl IntoView {
    let (name, description, hosts) =
        reading.with_untracked(|r| (r.name.clone(), r.description.clone(), r.hosts.clone()));
    // The zone and networks, a line each (as the description: what the
    // page opened with; editing the layout reloads it).
    let addressing = reading.with_untracked(|r| r.addressing.join("\n"));
    // Host settings saved: the layout read again, weighed on the new figures.
    let reread = Callback::new(move |()| {
        leptos::task::spawn_local(async move {
            if let Ok(again) = read_layout(id).await {
                reading.try_set(again);
            }
        });
    });
    let file_name = name.clone();
    view! {
        <section class="page layout-editor">
            <PageHeader title=name summary="Plan VMs against host memory (eqs. 1–3), then apply."/>
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
                            {move || refused.get().map(|why| view! {
                                <span class="form-error" role="alert">{format!("The editor could not open the layout: {why}")}</span>
                            })}
                        }.into_any(),
                    }}
                </Show>
            </p>
            <div class="editor-grid">
                <div class="editor-main">
                    {(!description.is_empty()).then(|| view! { <p class="layout-description">{description}</p> })}
                    {(!addressing.is_empty()).then(|| view! { <p class="layout-addressing">{addressing}</p> })}
                    <ExportRow export=move |format| export_saved_layout(id, format) name=Signal::stored(file_name)/>
                    {move || reading.with(|r| {
                        let count = r.vms.len();
                        view! {
                            <h2 class="section-title">{format!("Virtual machines ({count})")}</h2>
                            {if count == 0 {
                                view! { <p class="muted">"No VM yet: edit the layout to add some from a template."</p> }.into_any()
                            } else {
                                view! {
                                    <DataTable label="VMs of the layout" class="layout-vms" columns=columns() rows=r.vms.clone()/>
                                }.into_any()
                            }}
                        }
                    })}
                    <ApplyPanel layout_id=id saves=Signal::stored(0)/>
                </div>
                <CapacitySide
                    eval=Signal::derive(move || reading.with(|r| r.evaluation.clone()))
                    unreachable=Signal::derive(move || reading.with(|r| r.unreachable.clone()))
                    eval_failed=false>
                    {hosts.into_iter().map(|host| {
                        let h = host.name.clone();
                        let figures = Signal::derive(move || reading.with(|r| {
                            r.evaluation.hosts.iter().find(|v| v.host == h).cloned()
                        }));
                        let h = host.name.clone();
                        let settings = Signal::derive(move || reading.with(|r| {
                            r.hosts.iter().find(|s| s.name == h).map(|s| s.settings)
                        }));
                        view! { <HostCard host=host.name figures=figures id=host.id settings=settings saved=reread/> }
                    }).collect_view()}
                </CapacitySide>
            </div>
        </section>
    }
    .into_any()
}

/// Four columns, so that a phone's card of a VM is four lines.
fn columns() -> Vec<Column<VmReading>> {
    vec![
        Column::new("VM", |vm: &VmReading| {
            view! {
                <strong>{vm.name.clone()}</strong>
                " "
                <span class="muted">{vm.template.clone()}</span>
            }
        }),
        Column::new("Size", |vm: &VmReading| vm.size.clone()),
        Column::new("Host and network", |vm: &VmReading| {
            vm.host_and_network.clone()
        }),
        Column::new("Placement", |vm: &VmReading| {
            view! {
                <span class=if vm.bad { "vm-placement bad" } else { "vm-placement" } data-testid="vm-placement">
                    {vm.placement.clone()}
                </span>
            }
        }),
    ]
}
