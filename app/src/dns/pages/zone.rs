//! `/dns/zone/{id}`: the zone's records (a table that becomes cards on a
//! phone) and the record form with each server message by its field, with
//! the panels below (`panels`).

use super::panels::{DeleteZonePanel, ExportPanel, HistoryPanel, ImportPanel};
use super::zones::ApplyPanel;
use super::{can_edit, is_admin};
use crate::dns::*;
use crate::ui::{bump_on_success, field_error, Confirm, FieldError, FormError, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

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

/// Everything on a zone's page shares these actions, so any change
/// refreshes the records (and the history and export, when open).
#[derive(Clone, Copy)]
pub(super) struct ZoneActions {
    pub(super) save: ServerAction<SaveRecord>,
    pub(super) delete: ServerAction<DeleteRecord>,
    pub(super) import: ServerAction<ImportZone>,
    pub(super) revert: ServerAction<RevertZone>,
    pub(super) apply: ServerAction<ApplyZones>,
}

#[component]
pub(super) fn ZoneContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let actions = ZoneActions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        import: ServerAction::new(),
        revert: ServerAction::new(),
        apply: ServerAction::new(),
    };
    let changes = RwSignal::new(0usize);
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
    let detail = crate::ui::resource(move || (id(), changes.get()), |(id, _)| get_zone(id));
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
                    Ok(d) => view! { <ZoneView detail=d actions=actions editing=editing changes=changes/> }.into_any(),
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
    changes: RwSignal<usize>,
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
            <FormError value=actions.delete.value()/>
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
            <ExportPanel zone_id=zone_id changes=changes/>
            <HistoryPanel zone_id=zone_id actions=actions changes=changes/>
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
    let label = format!("{} {} {}", row.name, row.rtype, row.data);
    let own = row.clone();
    view! {
        <tr aria-label=label>
            <td data-label="Name">{row.name}</td>
            <td data-label="Type">{row.rtype}</td>
            <td data-label="TTL">{row.ttl}</td>
            <td data-label="Data" class="dns-data">
                <code>{row.data}</code>
                {row.has_ptr.then(|| view! { <span class="badge ok-badge">"PTR"</span> })}
            </td>
            <td data-label="">
                <Show when=can_edit>
                    <RecordActions zone_id=zone_id row=own.clone() actions=actions editing=editing/>
                </Show>
            </td>
        </tr>
    }
    .into_any()
}

/// "Edit" (fills the form below) and "Delete…" (after a confirm) for one
/// record. Holds plain values, so a refetch that rebuilds the row is safe.
#[component]
fn RecordActions(
    zone_id: i32,
    row: RecordRow,
    actions: ZoneActions,
    editing: RwSignal<Option<RecordRow>>,
) -> impl IntoView {
    let what = format!("{} {}", row.name, row.rtype);
    let key = row.key.clone();
    view! {
        <div class="record-actions">
            <button type="button" class="button secondary small"
                aria-label=format!("Edit {what}")
                on:click=move |_| editing.set(Some(row.clone()))>"Edit"</button>
            <Confirm label="Delete…" what=format!("Delete {what}") small=true>
                {
                    let key = key.clone();
                    view! {
                        <ActionForm action=actions.delete attr:class="inline-form">
                            <input type="hidden" name="zone_id" value=zone_id.to_string()/>
                            <input type="hidden" name="key" value=key/>
                            <button type="submit" class="button danger small">"Delete"</button>
                        </ActionForm>
                    }
                }
            </Confirm>
        </div>
    }
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
    let err = move |field: &'static str| field_error(save.value(), field);
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
                <FormError value=save.value() fields=&RECORD_FIELDS/>
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
