//! The panels under a zone's records: import with preview, export,
//! history with revert, and deleting the zone. Import, export and history
//! are opened on demand ([`OnDemand`]): their code is fetched on the first
//! click.

use super::can_edit;
use super::zone::ZoneActions;
use crate::dns::*;
use crate::ui::{
    field_error, ChunkLoadError, Confirm, DownloadLink, FieldError, FormError, OnDemand,
};
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub(super) fn ImportPanel(zone_id: i32, actions: ZoneActions) -> impl IntoView {
    view! {
        <OnDemand
            title="Import a zone file"
            hint="Paste a master file or choose one; a preview shows what would change before anything is saved."
            open_label="Import a zone file…"
            class="dns-import"
            load=move || import_body(zone_id, actions)
        >
            // Here, not in the body: an import refetches the page, which
            // draws this panel closed again.
            <FormError value=actions.import.value() fields=&["text"]/>
            {move || actions.import.value().get().and_then(|r| r.ok()).map(|z| view! {
                <p class="form-ok" role="status">"Imported; serial " {z.serial} "."</p>
            })}
        </OnDemand>
    }
}

/// The import panel's body: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(ZoneRoute__Import, wasm_split_path = ::leptos::wasm_split, fallible)]
fn import_body(zone_id: i32, actions: ZoneActions) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <ImportBody zone_id=zone_id actions=actions/> }.into_any())
}

#[component]
fn ImportBody(zone_id: i32, actions: ZoneActions) -> impl IntoView {
    let preview = ServerAction::<PreviewImport>::new();
    let import = actions.import;
    let text = RwSignal::new(String::new());
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            leptos::task::spawn_local(async move {
                if let Ok(v) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    text.set(v.as_string().unwrap_or_default());
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, text);
    };
    view! {
        <p class="hint">"Paste a master file or choose one; the preview lists what would be added, changed and removed, with every error and its line, before anything is saved. $INCLUDE is refused. The SOA stays managed by Stackyard."</p>
        <div class="form">
            <label for="import-file">"File"</label>
            <input id="import-file" type="file" accept=".zone,.txt,.db,text/plain" on:change=on_file/>
            <label for="import-text">"Zone file"</label>
            <textarea id="import-text" rows="8" spellcheck="false" aria-describedby="import-text-error"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <FieldError id="import-text-error" message=field_error(import.value(), "text")/>
            <div class="record-actions">
                <button type="button" class="button secondary"
                    on:click=move |_| { preview.dispatch(PreviewImport { zone_id, text: text.get_untracked() }); }>"Preview"</button>
                <button type="button" class="button"
                    disabled=move || !matches!(preview.value().get(), Some(Ok(ref p)) if p.errors.is_empty())
                    on:click=move |_| { import.dispatch(ImportZone { zone_id, text: text.get_untracked() }); }>"Import"</button>
            </div>
        </div>
        {move || preview.value().get().map(|r| match r {
            Ok(p) => view! { <ImportPreviewView preview=p/> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
    .into_any()
}

#[component]
fn ImportPreviewView(preview: ImportPreview) -> impl IntoView {
    let list = |title: &'static str, items: Vec<String>, class: &'static str| {
        (!items.is_empty()).then(|| view! {
            <h3>{format!("{title} ({})", items.len())}</h3>
            <ul class=format!("plain-list {class}")>{items.into_iter().map(|i| view! { <li><code>{i}</code></li> }).collect_view()}</ul>
        })
    };
    view! {
        <div class="dns-preview" aria-label="Import preview">
            {(!preview.errors.is_empty()).then(|| view! {
                <div role="alert">
                    <h3 class="bad">{format!("Errors ({}): nothing can be imported", preview.errors.len())}</h3>
                    <ul class="plain-list">{preview.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
            {list("Added", preview.added.clone(), "ok")}
            {list("Changed", preview.changed.clone(), "")}
            {list("Removed", preview.removed.clone(), "bad")}
            <p>{format!("Unchanged: {} records.", preview.unchanged)}</p>
            <ul class="plain-list hint">{preview.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
        </div>
    }
    .into_any()
}

#[component]
pub(super) fn ExportPanel(zone_id: i32, changes: RwSignal<usize>) -> impl IntoView {
    view! {
        <OnDemand
            title="Export"
            hint="The zone as a master file, to download or read."
            open_label="Export the zone…"
            class="dns-export"
            load=move || export_body(zone_id, changes)
        />
    }
}

/// The export panel's body: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(ZoneRoute__Export, wasm_split_path = ::leptos::wasm_split, fallible)]
fn export_body(zone_id: i32, changes: RwSignal<usize>) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <ExportBody zone_id=zone_id changes=changes/> }.into_any())
}

#[component]
fn ExportBody(zone_id: i32, changes: RwSignal<usize>) -> impl IntoView {
    // Made when the panel opens (after hydration): only the browser asks.
    let export = LocalResource::new(move || {
        changes.track();
        export_zone(zone_id)
    });
    let shown = RwSignal::new(false);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match export.await {
                    Ok(e) => view! {
                        <div class="record-actions">
                            <DownloadLink file_name=e.file_name.clone() text=e.text.clone()>{format!("Download {}", e.file_name)}</DownloadLink>
                            <button type="button" class="button secondary" on:click=move |_| shown.update(|s| *s = !*s)>
                                {move || if shown.get() { "Hide the file" } else { "Show the file" }}
                            </button>
                        </div>
                        <Show when=move || shown.get()>
                            <pre class="dns-file">{e.text.clone()}</pre>
                        </Show>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub(super) fn HistoryPanel(
    zone_id: i32,
    actions: ZoneActions,
    changes: RwSignal<usize>,
) -> impl IntoView {
    view! {
        <OnDemand
            title="History"
            hint="Every saved version of the zone, with what changed; an earlier one can be restored."
            open_label="Show the history…"
            class="dns-history"
            load=move || history_body(zone_id, actions, changes)
        />
    }
}

/// The history panel's body: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(ZoneRoute__History, wasm_split_path = ::leptos::wasm_split, fallible)]
fn history_body(
    zone_id: i32,
    actions: ZoneActions,
    changes: RwSignal<usize>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <HistoryBody zone_id=zone_id actions=actions changes=changes/> }.into_any())
}

#[component]
fn HistoryBody(zone_id: i32, actions: ZoneActions, changes: RwSignal<usize>) -> impl IntoView {
    // Made when the panel opens (after hydration): only the browser asks.
    let history = LocalResource::new(move || {
        changes.track();
        zone_history(zone_id)
    });
    let show = ServerAction::<GetVersion>::new();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(list) => view! {
                        <ul class="record-list" aria-label="History">
                            {list.into_iter().enumerate().map(|(i, v)| {
                                view! {
                                    <li class="record">
                                        <div class="record-main">
                                            <strong>{format!("Serial {}", v.serial)}</strong>
                                            <span class="muted">{format!("{} · {}", v.at.seconds(), v.actor)}</span>
                                        </div>
                                        <p>{v.summary.clone()}</p>
                                        <div class="record-actions">
                                            <button type="button" class="button secondary small"
                                                on:click=move |_| { show.dispatch(GetVersion { zone_id, version_id: v.id }); }>"Show diff"</button>
                                            <Show when=move || can_edit() && i != 0>
                                                <Confirm label="Revert…" what=format!("Revert to serial {}", v.serial) small=true>
                                                    <ActionForm action=actions.revert attr:class="inline-form">
                                                        <input type="hidden" name="zone_id" value=zone_id.to_string()/>
                                                        <input type="hidden" name="version_id" value=v.id.to_string()/>
                                                        <button type="submit" class="button danger small">{format!("Revert to serial {}", v.serial)}</button>
                                                    </ActionForm>
                                                </Confirm>
                                            </Show>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <FormError value=actions.revert.value()/>
        {move || show.value().get().map(|r| match r {
            Ok(v) => view! {
                <h3>{format!("Serial {}: {}", v.summary.serial, v.summary.summary)}</h3>
                <pre class="dns-file dns-diff">{if v.diff.is_empty() { "(no record changes)".to_owned() } else { v.diff }}</pre>
            }.into_any(),
            Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
        })}
    }
    .into_any()
}

#[component]
pub(super) fn DeleteZonePanel(zone_id: i32, origin: String) -> impl IntoView {
    let delete = ServerAction::<DeleteZone>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            navigate("/dns", Default::default());
        }
    });
    view! {
        <article class="panel">
            <h2>"Delete the zone"</h2>
            <Confirm
                label="Delete zone…"
                what=format!("Delete {origin}")
                warning=format!("Delete {origin} with its records and history? Apply afterwards removes nothing from NSD: take it out of nsd.conf too.")
            >
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="id" value=zone_id.to_string()/>
                    <button type="submit" class="button danger">"Delete zone"</button>
                </ActionForm>
            </Confirm>
            <FormError value=delete.value()/>
        </article>
    }
    .into_any()
}
