//! `/dns`: every zone with its serial and what the primary has, the forms
//! that create forward and reverse zones, and "Apply all zones".

use super::can_edit;
use crate::dns::{ApplyZones, CreateZone, ZoneListItem};
use crate::ui::{field_error, Empty, FieldError, FormError, Loaded, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub(super) fn ZonesContent() -> impl IntoView {
    let create = ServerAction::<CreateZone>::new();
    let apply = ServerAction::<ApplyZones>::new();
    let zones = crate::ui::resource(
        move || (create.version().get(), apply.version().get()),
        |_| crate::dns::list_zones(),
    );
    view! {
        <section class="page">
            <PageHeader title="DNS" summary="Authoritative zones served by NSD: a primary and its secondaries, kept current by NOTIFY and TSIG-signed transfers."/>
            <p><A href="/dns/servers">"DNS servers and TSIG key"</A></p>
            <Loaded resource=zones title="Could not load the zones" let:list>
                {if list.is_empty() {
                    view! { <Empty>"No zone yet."</Empty> }.into_any()
                } else {
                    view! { <ZonesTable list=list/> }.into_any()
                }}
            </Loaded>
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
                            <FieldError id="zone-origin-error" message=field_error(create.value(), "origin")/>
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
                            <FieldError id="zone-network-error" message=field_error(create.value(), "network")/>
                            <button type="submit" class="button">"Create reverse zone"</button>
                        </ActionForm>
                    </article>
                </div>
                <FormError value=create.value() fields=&["origin", "network"]/>
                {move || create.value().get().and_then(|r| r.ok()).map(|z| view! {
                    <p class="form-ok" role="status">"Created the zone " {z.origin.to_string()}</p>
                })}
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn ZonesTable(list: Vec<ZoneListItem>) -> impl IntoView {
    view! {
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
    }
}

/// "Apply" for all zones (`zone_id` none) or one, with the report.
#[component]
pub(super) fn ApplyPanel(apply: ServerAction<ApplyZones>, zone_id: Option<i32>) -> impl IntoView {
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
            {move || apply.value().get().and_then(|r| r.ok()).map(|report| view! {
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
            })}
            <FormError value=apply.value()/>
        </article>
    }
    .into_any()
}
