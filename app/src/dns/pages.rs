//! The DNS pages: the zones list (create forward and reverse zones, apply
//! all), a zone's page (records as a table that becomes cards on a phone,
//! the record form with each server message by its field, import with
//! preview, export, history with revert, apply) and the DNS servers page
//! (entries, nsd.conf per server, the TSIG key).

use super::*;
use crate::auth::pages::{use_session, Protected};
use crate::auth::{Access, Role};
use crate::error::AppError;
use crate::page_access;
use crate::ui::{FieldError, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

page_access!("/dns", Access::Role(Role::Viewer));
page_access!("/dns/zone/{id}", Access::Role(Role::Viewer));
page_access!("/dns/servers", Access::Role(Role::Viewer));

/// The record types the form offers (the SOA is managed).
const TYPES: [&str; 9] = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "TXT", "SRV", "CAA"];

/// The fields the record form shows messages beside.
const RECORD_FIELDS: [&str; 14] = [
    "owner",
    "type",
    "ttl",
    "address",
    "also_ptr",
    "preference",
    "exchange",
    "priority",
    "weight",
    "port",
    "target",
    "flags",
    "tag",
    "value",
];

fn role() -> Option<Role> {
    use_session()
        .and_then(|s| s.0.get())
        .and_then(|r| r.ok())
        .flatten()
        .map(|u| u.role)
}

fn can_edit() -> bool {
    role().is_some_and(|r| r >= Role::Operator)
}

fn is_admin() -> bool {
    role() == Some(Role::Admin)
}

/// The error of an action for `field`, for a `FieldError` beside it.
fn field_err<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

/// An action's error that belongs to no field, as a page message.
fn general_err<T, S>(value: S) -> impl IntoView
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) if !matches!(e, AppError::Invalid { .. }) => {
            Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> })
        }
        _ => None,
    }
}

/// An action's `Invalid` error for a field the form has no input for, so
/// no message is ever lost.
fn other_field_err<T, S>(value: S, shown: &'static [&'static str]) -> impl IntoView
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(AppError::Invalid { field, message })) if !shown.contains(&field.as_str()) => {
            Some(view! { <p class="form-error" role="alert">{message}</p> })
        }
        _ => None,
    }
}

/// `data:` URL of a text file, for a download link.
fn data_url(text: &str) -> String {
    let mut out = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- /dns --------------------------------------------------------------------

#[component]
pub fn DnsPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <ZonesContent/>
        </Protected>
    }
    .into_any()
}

#[component]
fn ZonesContent() -> impl IntoView {
    let create = ServerAction::<CreateZone>::new();
    let apply = ServerAction::<ApplyZones>::new();
    let zones = Resource::new(
        move || (create.version().get(), apply.version().get()),
        |_| list_zones(),
    );
    view! {
        <section class="page">
            <PageHeader title="DNS" summary="Authoritative zones served by NSD: a primary and its secondaries, kept current by NOTIFY and TSIG-signed transfers."/>
            <p><A href="/dns/servers">"DNS servers and TSIG key"</A></p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match zones.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No zone yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap">
                            <table class="data-table dns-zones" aria-label="Zones">
                                <thead><tr><th>"Zone"</th><th>"Kind"</th><th>"Records"</th><th>"Serial"</th><th>"On the primary"</th></tr></thead>
                                <tbody>
                                {list.into_iter().map(|z| {
                                    let applied = match z.applied_serial {
                                        Some(s) if s == z.zone.serial => "current".to_owned(),
                                        Some(s) => format!("serial {s} (not applied yet)"),
                                        None => "never applied".to_owned(),
                                    };
                                    view! {
                                        <tr>
                                            <td data-label="Zone"><A href=format!("/dns/zone/{}", z.zone.id)>{z.zone.origin.to_string()}</A></td>
                                            <td data-label="Kind">{if z.zone.reverse { "reverse" } else { "forward" }}</td>
                                            <td data-label="Records">{z.records}</td>
                                            <td data-label="Serial">{z.zone.serial}</td>
                                            <td data-label="On the primary">{applied}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=can_edit>
                <ApplyPanel apply=apply zone_id=None/>
                <div class="cards">
                    <article class="panel">
                        <h2>"New forward zone"</h2>
                        <ActionForm action=create attr:class="form" attr:aria-label="New forward zone">
                            <input type="hidden" name="kind" value="forward"/>
                            <label for="zone-origin">"Domain"</label>
                            <input id="zone-origin" name="origin" placeholder="example.com" autocapitalize="none"
                                spellcheck="false" aria-describedby="zone-origin-error"/>
                            <FieldError id="zone-origin-error" message=field_err(create.value(), "origin")/>
                            <button type="submit" class="button">"Create zone"</button>
                        </ActionForm>
                    </article>
                    <article class="panel">
                        <h2>"New reverse zone"</h2>
                        <ActionForm action=create attr:class="form" attr:aria-label="New reverse zone">
                            <input type="hidden" name="kind" value="reverse"/>
                            <label for="zone-network">"Network"</label>
                            <input id="zone-network" name="network" placeholder="192.0.2.0/24 or 2001:db8::/48"
                                autocapitalize="none" spellcheck="false" aria-describedby="zone-network-hint zone-network-error"/>
                            <p class="hint" id="zone-network-hint">"IPv4 by octets (/8, /16, /24), IPv6 by nibbles (/48, /56, /64)."</p>
                            <FieldError id="zone-network-error" message=field_err(create.value(), "network")/>
                            <button type="submit" class="button">"Create reverse zone"</button>
                        </ActionForm>
                    </article>
                </div>
                {general_err(create.value())}
                {move || create.value().get().and_then(|r| r.ok()).map(|z| view! {
                    <p class="form-ok" role="status">"Created the zone " {z.origin.to_string()}</p>
                })}
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn ApplyPanel(apply: ServerAction<ApplyZones>, zone_id: Option<i32>) -> impl IntoView {
    view! {
        <article class="panel dns-apply">
            <h2>"Apply"</h2>
            <p class="hint">"Writes the zone files on the primary, checks each with nsd-checkzone before it replaces the old one, and reloads NSD. A zone that fails the check keeps the old file, which NSD keeps serving."</p>
            <ActionForm action=apply attr:class="inline-form">
                {zone_id.map(|id| view! { <input type="hidden" name="zone_id" value=id.to_string()/> })}
                <button type="submit" class="button" disabled=move || apply.pending().get()>
                    {move || if apply.pending().get() { "Applying…" } else if zone_id.is_some() { "Apply this zone" } else { "Apply all zones" }}
                </button>
            </ActionForm>
            {move || apply.value().get().map(|r| match r {
                Ok(report) => view! {
                    <ul class="plain-list dns-apply-report" aria-label="Apply result">
                        {report.zones.into_iter().map(|z| if z.installed {
                            view! { <li class="ok">{format!("{} serial {}: {}", z.origin, z.serial, z.message)}</li> }.into_any()
                        } else {
                            view! { <li class="bad" role="alert">{format!("{} serial {} was not installed: {}", z.origin, z.serial, z.message)}</li> }.into_any()
                        }).collect_view()}
                        {report.reload.map(|r| match r {
                            Ok(m) => view! { <li class="ok">"Reloaded: " {m}</li> }.into_any(),
                            Err(m) => view! { <li class="bad" role="alert">"Reload failed: " {m}</li> }.into_any(),
                        })}
                    </ul>
                }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </article>
    }
    .into_any()
}

// ---- /dns/zone/{id} ------------------------------------------------------------

#[component]
pub fn ZonePage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <ZoneContent/>
        </Protected>
    }
    .into_any()
}

/// Everything on a zone's page shares these actions, so any change
/// refreshes the records, the history and the export.
#[derive(Clone, Copy)]
struct ZoneActions {
    save: ServerAction<SaveRecord>,
    delete: ServerAction<DeleteRecord>,
    import: ServerAction<ImportZone>,
    revert: ServerAction<RevertZone>,
    apply: ServerAction<ApplyZones>,
}

/// Counts successful changes made from a zone's page; the page refetches
/// only then, so a refused form keeps what was typed into it.
fn bump_on_success<T, S>(value: S, changes: RwSignal<u32>)
where
    S: Get<Value = Option<Result<T, AppError>>> + 'static,
{
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_))) {
            changes.update(|n| *n += 1);
        }
    });
}

#[component]
fn ZoneContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let actions = ZoneActions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        import: ServerAction::new(),
        revert: ServerAction::new(),
        apply: ServerAction::new(),
    };
    let changes = RwSignal::new(0u32);
    bump_on_success(actions.save.value(), changes);
    bump_on_success(actions.delete.value(), changes);
    bump_on_success(actions.import.value(), changes);
    bump_on_success(actions.revert.value(), changes);
    bump_on_success(actions.apply.value(), changes);
    // Every resource of the page is made here, at the page's top, never in
    // a panel drawn once `detail` has arrived: a resource first created
    // inside a resolved suspense renders differently on the server and in
    // the browser, and the page dies while hydrating (a cold load panicked
    // in tachys' hydration before this).
    let detail = Resource::new(move || (id(), changes.get()), |(id, _)| get_zone(id));
    let export = Resource::new(move || (id(), changes.get()), |(id, _)| export_zone(id));
    let history = Resource::new(move || (id(), changes.get()), |(id, _)| zone_history(id));
    // The record being edited (None: the form adds a new one).
    let editing = RwSignal::new(None::<RecordRow>);
    Effect::new(move |_| {
        if matches!(actions.save.value().get(), Some(Ok(_))) {
            editing.set(None);
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <ZoneView detail=d actions=actions editing=editing export=export history=history/> }.into_any(),
                    Err(e) => view! {
                        <section class="page">
                            <PageHeader title="Zone"/>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn ZoneView(
    detail: ZoneDetail,
    actions: ZoneActions,
    editing: RwSignal<Option<RecordRow>>,
    export: Resource<Result<ZoneExport, AppError>>,
    history: Resource<Result<Vec<VersionSummary>, AppError>>,
) -> impl IntoView {
    let zone_id = detail.zone.id;
    let origin = detail.zone.origin.to_string();
    let reverse = detail.zone.reverse;
    let applied = match detail.applied_serial {
        Some(s) if s == detail.zone.serial => "on the primary".to_owned(),
        Some(s) => format!("the primary has serial {s}: apply to publish the changes"),
        None => "never applied".to_owned(),
    };
    let summary = format!(
        "{} zone · serial {} · {} · default TTL {}",
        if reverse { "Reverse" } else { "Forward" },
        detail.zone.serial,
        applied,
        detail.default_ttl
    );
    let records = detail.records.clone();
    view! {
        <section class="page">
            <PageHeader title=origin.clone() summary=summary/>
            <p><A href="/dns">"All zones"</A></p>
            <p class="muted dns-soa">"SOA: " {detail.soa.clone()}</p>
            <h2 class="section-title">"Records"</h2>
            {if records.is_empty() {
                view! { <p class="muted">"No records yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="data-table dns-records" aria-label="Records">
                        <thead><tr><th>"Name"</th><th>"Type"</th><th>"TTL"</th><th>"Data"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {records.into_iter().map(|r| view! { <RecordRowView zone_id=zone_id row=r actions=actions editing=editing/> }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            {general_err(actions.delete.value())}
            {move || actions.delete.value().get().and_then(|r| r.ok()).map(|o| view! {
                <p class="form-ok" role="status">"Deleted." {o.ptr.map(|p| format!(" {p}."))}</p>
            })}
            <Show when=can_edit>
                {move || {
                    let row = editing.get();
                    view! { <RecordFormView zone_id=zone_id reverse=reverse row=row actions=actions editing=editing/> }
                }}
                <ApplyPanel apply=actions.apply zone_id=Some(zone_id)/>
                <ImportPanel zone_id=zone_id actions=actions/>
            </Show>
            <ExportPanel export=export/>
            <HistoryPanel zone_id=zone_id actions=actions history=history/>
            <Show when=is_admin>
                <DeleteZonePanel zone_id=zone_id origin=origin.clone()/>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn RecordRowView(
    zone_id: i32,
    row: RecordRow,
    actions: ZoneActions,
    editing: RwSignal<Option<RecordRow>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let stored = StoredValue::new(row.clone());
    let label = format!("{} {} {}", row.name, row.rtype, row.data);
    view! {
        <tr aria-label=label.clone()>
            <td data-label="Name">{row.name.clone()}</td>
            <td data-label="Type">{row.rtype.clone()}</td>
            <td data-label="TTL">{row.ttl}</td>
            <td data-label="Data" class="dns-data">
                <code>{row.data.clone()}</code>
                {row.has_ptr.then(|| view! { <span class="badge ok-badge">"PTR"</span> })}
            </td>
            <td data-label="">
                <Show when=can_edit>
                    {move || if confirming.get() {
                        view! {
                            <ActionForm action=actions.delete attr:class="confirm-row">
                                <input type="hidden" name="zone_id" value=zone_id.to_string()/>
                                <input type="hidden" name="key" value=stored.with_value(|r| r.key.clone())/>
                                <button type="submit" class="button danger small">"Delete"</button>
                                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <div class="record-actions">
                                <button type="button" class="button secondary small"
                                    aria-label=format!("Edit {}", stored.with_value(|r| format!("{} {}", r.name, r.rtype)))
                                    on:click=move |_| editing.set(Some(stored.get_value()))>"Edit"</button>
                                <button type="button" class="button secondary small"
                                    aria-label=format!("Delete {}", stored.with_value(|r| format!("{} {}", r.name, r.rtype)))
                                    on:click=move |_| confirming.set(true)>"Delete…"</button>
                            </div>
                        }.into_any()
                    }}
                </Show>
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn RecordFormView(
    zone_id: i32,
    reverse: bool,
    row: Option<RecordRow>,
    actions: ZoneActions,
    editing: RwSignal<Option<RecordRow>>,
) -> impl IntoView {
    let save = actions.save;
    let f = row
        .as_ref()
        .map(|r| r.form.clone())
        .unwrap_or_else(|| RecordForm {
            rtype: if reverse { "PTR" } else { "A" }.to_owned(),
            ..RecordForm::default()
        });
    let rtype = RwSignal::new(f.rtype.clone());
    let shows = move |types: &'static [&'static str]| move || types.contains(&rtype.get().as_str());
    let is_edit = row.is_some();
    let key = row.as_ref().map(|r| r.key.clone()).unwrap_or_default();
    let had_ptr = row.as_ref().is_some_and(|r| r.has_ptr);
    let err = move |field: &'static str| field_err(save.value(), field);
    let input = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      value: String,
                      placeholder: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id name=name value=value placeholder=placeholder autocapitalize="none" spellcheck="false"
                aria-describedby=format!("{id}-error")
                aria-invalid=move || if err(name).get().is_some() { "true" } else { "false" }/>
            <FieldError id=format!("{id}-error") message=err(name)/>
        }
    };
    view! {
        <article class="panel dns-record-form">
            <h2>{if is_edit { "Edit record" } else { "Add a record" }}</h2>
            <ActionForm action=save attr:class="form" attr:aria-label=if is_edit { "Edit record" } else { "Add a record" }>
                <input type="hidden" name="zone_id" value=zone_id.to_string()/>
                <input type="hidden" name="original" value=key/>
                {input("rec-owner", "owner", "Name", f.owner.clone(), "www, @ for the zone itself, or a name ending in a dot")}
                <label for="rec-type">"Type"</label>
                <select id="rec-type" name="rtype" aria-describedby="rec-type-error"
                    on:change=move |ev| rtype.set(event_target_value(&ev))>
                    {TYPES.iter().map(|t| view! { <option value=*t selected=f.rtype == *t>{*t}</option> }).collect_view()}
                </select>
                <FieldError id="rec-type-error" message=err("type")/>
                {input("rec-ttl", "ttl", "TTL", f.ttl.clone(), "empty: the zone's default; 300, 1h, 1d")}
                <Show when=shows(&["A", "AAAA"])>
                    {input("rec-address", "address", "Address", f.address.clone(), "192.0.2.10 or 2001:db8::10")}
                    <label class="check">
                        <input type="checkbox" name="also_ptr" checked=had_ptr || !is_edit/>
                        " Also PTR: keep the reverse record in the matching reverse zone"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="create_reverse"/>
                        " Create the reverse zone (/24 or /64) if there is none"
                    </label>
                    <FieldError id="rec-also-ptr-error" message=err("also_ptr")/>
                </Show>
                <Show when=shows(&["MX"])>
                    {input("rec-preference", "preference", "Preference", f.preference.clone(), "10")}
                    {input("rec-exchange", "exchange", "Mail server", f.exchange.clone(), "mail or mail.example.com.")}
                </Show>
                <Show when=shows(&["SRV"])>
                    {input("rec-priority", "priority", "Priority", f.priority.clone(), "10")}
                    {input("rec-weight", "weight", "Weight", f.weight.clone(), "5")}
                    {input("rec-port", "port", "Port", f.port.clone(), "5060")}
                </Show>
                <Show when=shows(&["CNAME", "NS", "PTR", "SRV"])>
                    {input("rec-target", "target", "Target", f.target.clone(), "host, or host.example.com. (ending in a dot)")}
                </Show>
                <Show when=shows(&["CAA"])>
                    {input("rec-flags", "flags", "Flags", if f.flags.is_empty() { "0".to_owned() } else { f.flags.clone() }, "0")}
                    {input("rec-tag", "tag", "Tag", if f.tag.is_empty() { "issue".to_owned() } else { f.tag.clone() }, "issue")}
                </Show>
                <Show when=shows(&["TXT", "CAA"])>
                    <label for="rec-value">"Value"</label>
                    <textarea id="rec-value" name="value" rows="3" spellcheck="false" aria-describedby="rec-value-hint rec-value-error"
                        prop:value=f.value.clone()>{f.value.clone()}</textarea>
                    <p class="hint" id="rec-value-hint">"Paste TXT values as printed (v=spf1 …, google-site-verification=…); quotes and 255-octet splitting are done for you."</p>
                    <FieldError id="rec-value-error" message=err("value")/>
                </Show>
                {general_err(save.value())}
                {other_field_err(save.value(), &RECORD_FIELDS)}
                {move || save.value().get().and_then(|r| r.ok()).map(|o| view! {
                    <p class="form-ok" role="status">"Saved; serial " {o.zone.serial} "." {o.ptr.map(|p| format!(" {p}."))}</p>
                })}
                <div class="record-actions">
                    <button type="submit" class="button" disabled=move || save.pending().get()>
                        {if is_edit { "Save changes" } else { "Add record" }}
                    </button>
                    {is_edit.then(|| view! {
                        <button type="button" class="button secondary" on:click=move |_| editing.set(None)>"Cancel editing"</button>
                    })}
                </div>
            </ActionForm>
        </article>
    }
    .into_any()
}

#[component]
fn ImportPanel(zone_id: i32, actions: ZoneActions) -> impl IntoView {
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
        <article class="panel dns-import">
            <h2>"Import a zone file"</h2>
            <p class="hint">"Paste a master file or choose one; the preview lists what would be added, changed and removed, with every error and its line, before anything is saved. $INCLUDE is refused. The SOA stays managed by Stackyard."</p>
            <div class="form">
                <label for="import-file">"File"</label>
                <input id="import-file" type="file" accept=".zone,.txt,.db,text/plain" on:change=on_file/>
                <label for="import-text">"Zone file"</label>
                <textarea id="import-text" rows="8" spellcheck="false" aria-describedby="import-text-error"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <FieldError id="import-text-error" message=field_err(import.value(), "text")/>
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
            {general_err(import.value())}
            {move || import.value().get().and_then(|r| r.ok()).map(|z| view! {
                <p class="form-ok" role="status">"Imported; serial " {z.serial} "."</p>
            })}
        </article>
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
fn ExportPanel(export: Resource<Result<ZoneExport, AppError>>) -> impl IntoView {
    let shown = RwSignal::new(false);
    view! {
        <article class="panel dns-export">
            <h2>"Export"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match export.await {
                        Ok(e) => view! {
                            <div class="record-actions">
                                <a class="button secondary" href=data_url(&e.text) download=e.file_name.clone()>{format!("Download {}", e.file_name)}</a>
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
        </article>
    }
    .into_any()
}

#[component]
fn HistoryPanel(
    zone_id: i32,
    actions: ZoneActions,
    history: Resource<Result<Vec<VersionSummary>, AppError>>,
) -> impl IntoView {
    let show = ServerAction::<GetVersion>::new();
    view! {
        <article class="panel dns-history">
            <h2>"History"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(list) => view! {
                            <ul class="record-list" aria-label="History">
                                {list.into_iter().enumerate().map(|(i, v)| {
                                    let confirming = RwSignal::new(false);
                                    view! {
                                        <li class="record">
                                            <div class="record-main">
                                                <strong>{format!("Serial {}", v.serial)}</strong>
                                                <span class="muted">{format!("{} · {}", v.at.format("%Y-%m-%d %H:%M:%S UTC"), v.actor)}</span>
                                            </div>
                                            <p>{v.summary.clone()}</p>
                                            <div class="record-actions">
                                                <button type="button" class="button secondary small"
                                                    on:click=move |_| { show.dispatch(GetVersion { zone_id, version_id: v.id }); }>"Show diff"</button>
                                                <Show when=move || can_edit() && i != 0>
                                                    {move || if confirming.get() {
                                                        view! {
                                                            <ActionForm action=actions.revert attr:class="confirm-row">
                                                                <input type="hidden" name="zone_id" value=zone_id.to_string()/>
                                                                <input type="hidden" name="version_id" value=v.id.to_string()/>
                                                                <button type="submit" class="button danger small">{format!("Revert to serial {}", v.serial)}</button>
                                                                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                                            </ActionForm>
                                                        }.into_any()
                                                    } else {
                                                        view! {
                                                            <button type="button" class="button secondary small" on:click=move |_| confirming.set(true)>"Revert…"</button>
                                                        }.into_any()
                                                    }}
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
            {general_err(actions.revert.value())}
            {move || show.value().get().map(|r| match r {
                Ok(v) => view! {
                    <h3>{format!("Serial {}: {}", v.summary.serial, v.summary.summary)}</h3>
                    <pre class="dns-file dns-diff">{if v.diff.is_empty() { "(no record changes)".to_owned() } else { v.diff }}</pre>
                }.into_any(),
                Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
            })}
        </article>
    }
    .into_any()
}

#[component]
fn DeleteZonePanel(zone_id: i32, origin: String) -> impl IntoView {
    let delete = ServerAction::<DeleteZone>::new();
    let confirming = RwSignal::new(false);
    let origin = StoredValue::new(origin);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            navigate("/dns", Default::default());
        }
    });
    view! {
        <article class="panel">
            <h2>"Delete the zone"</h2>
            {move || if confirming.get() {
                view! {
                    <ActionForm action=delete attr:class="confirm-row">
                        <input type="hidden" name="id" value=zone_id.to_string()/>
                        <span>{format!("Delete {} with its records and history? Apply afterwards removes nothing from NSD: take it out of nsd.conf too.", origin.get_value())}</span>
                        <button type="submit" class="button danger">"Delete zone"</button>
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <button type="button" class="button secondary" on:click=move |_| confirming.set(true)>"Delete zone…"</button> }.into_any()
            }}
            {general_err(delete.value())}
        </article>
    }
    .into_any()
}

// ---- /dns/servers ----------------------------------------------------------------

#[component]
pub fn DnsServersPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <ServersContent/>
        </Protected>
    }
    .into_any()
}

#[component]
fn ServersContent() -> impl IntoView {
    let add = ServerAction::<AddServer>::new();
    let update = ServerAction::<UpdateServer>::new();
    let editing = RwSignal::new(None::<ServerInfo>);
    let remove = ServerAction::<RemoveServer>::new();
    let rotate = ServerAction::<RotateKey>::new();
    let reveal = ServerAction::<RevealKey>::new();
    let conf = ServerAction::<ServerConf>::new();
    let view_data = Resource::new(
        move || {
            (
                add.version().get(),
                update.version().get(),
                remove.version().get(),
                rotate.version().get(),
            )
        },
        |_| list_servers(),
    );
    view! {
        <section class="page">
            <PageHeader title="DNS servers" summary="The NSD primary that loads Stackyard's zone files and the secondaries that transfer them, signed with one TSIG key."/>
            <p><A href="/dns">"Zones"</A></p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(v) => view! {
                            {if v.servers.is_empty() {
                                view! { <p class="muted">"No DNS server yet. An admin adds the primary first."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                    <table class="data-table" aria-label="DNS servers">
                                        <thead><tr><th>"Name"</th><th>"Role"</th><th>"NS name"</th><th>"Address"</th><th>"Zones directory"</th><th>"Reload"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                        <tbody>
                                        {v.servers.into_iter().map(|s| {
                                            let stored = StoredValue::new(s.clone());
                                            view! {
                                            <tr aria-label=format!("DNS server {}", s.name)>
                                                <td data-label="Name">{s.name.clone()}</td>
                                                <td data-label="Role">{s.role.clone()}</td>
                                                <td data-label="NS name">{s.ns_name.clone()}</td>
                                                <td data-label="Address">{format!("{} port {}", s.address, s.port)}</td>
                                                <td data-label="Zones directory">{s.zones_dir.clone()}</td>
                                                <td data-label="Reload"><code>{s.reload.clone()}</code></td>
                                                <td data-label="">
                                                    <Show when=is_admin>
                                                        <div class="record-actions">
                                                            <button type="button" class="button secondary small"
                                                                on:click=move |_| { conf.dispatch(ServerConf { id: s.id }); }>"nsd.conf"</button>
                                                            <button type="button" class="button secondary small"
                                                                aria-label=stored.with_value(|s| format!("Edit {}", s.name))
                                                                on:click=move |_| editing.set(Some(stored.get_value()))>"Edit"</button>
                                                            <ActionForm action=remove attr:class="inline-form">
                                                                <input type="hidden" name="id" value=s.id.to_string()/>
                                                                <button type="submit" class="button secondary small">"Remove"</button>
                                                            </ActionForm>
                                                        </div>
                                                    </Show>
                                                </td>
                                            </tr>
                                        }}).collect_view()}
                                        </tbody>
                                    </table>
                                    </div>
                                }.into_any()
                            }}
                            <article class="panel">
                                <h2>"TSIG key"</h2>
                                {match v.key {
                                    Some(k) => view! {
                                        <p>{format!("{} ({}), created {}", k.name, k.algorithm, k.created_at.format("%Y-%m-%d %H:%M UTC"))}</p>
                                        <Show when=is_admin>
                                            <div class="record-actions">
                                                <button type="button" class="button secondary" on:click=move |_| { reveal.dispatch(RevealKey {}); }>"Show the TSIG secret"</button>
                                                <ActionForm action=rotate attr:class="inline-form">
                                                    <button type="submit" class="button secondary">"Generate a new key"</button>
                                                </ActionForm>
                                            </div>
                                        </Show>
                                    }.into_any(),
                                    None => view! { <p class="muted">"Generated with the first server."</p> }.into_any(),
                                }}
                            </article>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=is_admin>
                // What the key and server buttons answer: the secret, the new
                // key's notice, a server's nsd.conf, a refused removal.
                <div class="dns-server-output" aria-live="polite">
                    {move || reveal.value().get().map(|r| match r {
                        Ok(secret) => view! { <p>"Secret (hmac-sha256, base64): " <code class="dns-secret">{secret}</code></p> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    })}
                    {general_err(rotate.value())}
                    {move || rotate.value().get().and_then(|r| r.ok()).map(|_| view! {
                        <p class="form-ok" role="status">"New key generated: update every server's nsd.conf."</p>
                    })}
                    {move || conf.value().get().map(|r| match r {
                        Ok(text) => view! {
                            <h3>"nsd.conf key and zone sections"</h3>
                            <a class="button secondary" href=data_url(&text) download="stackyard.conf">"Download stackyard.conf"</a>
                            <pre class="dns-file">{text}</pre>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    })}
                    {general_err(remove.value())}
                </div>
                {move || editing.get().map(|server| view! {
                    <EditServerForm update=update server=server editing=editing/>
                })}
                <AddServerForm add=add/>
            </Show>
        </section>
    }
    .into_any()
}

/// One text field of the server forms, with its message.
fn server_field(
    id: String,
    name: &'static str,
    label: &'static str,
    placeholder: &'static str,
    value: String,
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <label for=id.clone()>{label}</label>
        <input id=id.clone() name=name placeholder=placeholder value=value autocapitalize="none" spellcheck="false"
            aria-describedby=format!("{id}-error")/>
        <FieldError id=format!("{id}-error") message=message/>
    }
}

/// The entry's fields, prefilled; "Save" changes it, "Cancel" closes the
/// form. A refused save keeps what was typed, with each message by its field.
#[component]
fn EditServerForm(
    update: ServerAction<UpdateServer>,
    server: ServerInfo,
    editing: RwSignal<Option<ServerInfo>>,
) -> impl IntoView {
    let err = move |field: &'static str| field_err(update.value(), field);
    // Closes once this form's save succeeds (not on an earlier form's
    // success still held by the action).
    let opened_at = update.version().get_untracked();
    Effect::new(move |_| {
        if update.version().get() > opened_at && update.value().with(|r| matches!(r, Some(Ok(_)))) {
            editing.set(None);
        }
    });
    let selected = |kind: &str, option: &str| kind == option;
    let title = format!("Edit {}", server.name);
    view! {
        <article class="panel">
            <h2>{title.clone()}</h2>
            <ActionForm action=update attr:class="form" attr:aria-label=title>
                <input type="hidden" name="id" value=server.id.to_string()/>
                {server_field("edit-srv-name".into(), "name", "Name", "ns1", server.name.clone(), err("name"))}
                <label for="edit-srv-role">"Role"</label>
                <select id="edit-srv-role" name="role">
                    <option value="primary" selected=selected(&server.role, "primary")>"primary"</option>
                    <option value="secondary" selected=selected(&server.role, "secondary")>"secondary"</option>
                </select>
                <FieldError id="edit-srv-role-error" message=err("role")/>
                {server_field("edit-srv-ns".into(), "ns_name", "Host name (NS records)", "ns1.example.com", server.ns_name.trim_end_matches('.').to_owned(), err("ns_name"))}
                {server_field("edit-srv-address".into(), "address", "Address", "192.0.2.53", server.address.clone(), err("address"))}
                {server_field("edit-srv-port".into(), "port", "Port", "53", server.port.to_string(), err("port"))}
                {server_field("edit-srv-zones".into(), "zones_dir", "Zones directory (primary)", "/etc/nsd/zones", server.zones_dir.clone(), err("zones_dir"))}
                <label for="edit-srv-reload-kind">"Reload with"</label>
                <select id="edit-srv-reload-kind" name="reload_kind">
                    <option value="nsd_control" selected=selected(&server.reload_kind, "nsd_control")>"nsd-control -c CONFIG reload"</option>
                    <option value="command" selected=selected(&server.reload_kind, "command")>"a command"</option>
                    <option value="signal" selected=selected(&server.reload_kind, "signal")>"SIGHUP to NSD's pidfile"</option>
                </select>
                <FieldError id="edit-srv-reload-kind-error" message=err("reload_kind")/>
                {server_field("edit-srv-reload-value".into(), "reload_value", "nsd.conf, command or pidfile", "/etc/nsd/nsd.conf", server.reload_value.clone(), err("reload_value"))}
                {general_err(update.value())}
                <div class="record-actions">
                    <button type="submit" class="button">"Save"</button>
                    <button type="button" class="button secondary" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </ActionForm>
        </article>
    }
}

#[component]
fn AddServerForm(add: ServerAction<AddServer>) -> impl IntoView {
    let err = move |field: &'static str| field_err(add.value(), field);
    let input = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      placeholder: &'static str| {
        server_field(
            id.into(),
            name,
            label,
            placeholder,
            String::new(),
            err(name),
        )
    };
    view! {
        <article class="panel">
            <h2>"Add a DNS server"</h2>
            <ActionForm action=add attr:class="form" attr:aria-label="Add a DNS server">
                {input("srv-name", "name", "Name", "ns1")}
                <label for="srv-role">"Role"</label>
                <select id="srv-role" name="role">
                    <option value="primary">"primary"</option>
                    <option value="secondary">"secondary"</option>
                </select>
                <FieldError id="srv-role-error" message=err("role")/>
                {input("srv-ns", "ns_name", "Host name (NS records)", "ns1.example.com")}
                {input("srv-address", "address", "Address", "192.0.2.53")}
                {input("srv-port", "port", "Port", "53")}
                {input("srv-zones", "zones_dir", "Zones directory (primary)", "/etc/nsd/zones")}
                <label for="srv-reload-kind">"Reload with"</label>
                <select id="srv-reload-kind" name="reload_kind">
                    <option value="nsd_control">"nsd-control -c CONFIG reload"</option>
                    <option value="command">"a command"</option>
                    <option value="signal">"SIGHUP to NSD's pidfile"</option>
                </select>
                <FieldError id="srv-reload-kind-error" message=err("reload_kind")/>
                {input("srv-reload-value", "reload_value", "nsd.conf, command or pidfile", "/etc/nsd/nsd.conf")}
                {general_err(add.value())}
                {move || add.value().get().and_then(|r| r.ok()).map(|s| view! {
                    <p class="form-ok" role="status">"Added " {s.name} "."</p>
                })}
                <button type="submit" class="button">"Add server"</button>
            </ActionForm>
        </article>
    }
    .into_any()
}
