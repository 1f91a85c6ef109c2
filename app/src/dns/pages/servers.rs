//! `/dns/servers`: the NSD entries (an admin adds, edits and removes them
//! and gets each one's nsd.conf clauses) and the TSIG key.

use super::is_admin;
use crate::dns::*;
use crate::error::AppError;
use crate::ui::{
    field_error, ConfirmPassword, DownloadLink, Empty, Field, FieldError, FormError, Loaded,
    PageHeader,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

/// The fields the server forms show messages beside.
const SERVER_FIELDS: [&str; 9] = [
    "name",
    "role",
    "ns_name",
    "address",
    "port",
    "zones_dir",
    "reload_kind",
    "reload_value",
    "confirm_password",
];

#[component]
pub(super) fn ServersContent() -> impl IntoView {
    let add = ServerAction::<AddServer>::new();
    let update = ServerAction::<UpdateServer>::new();
    let editing = RwSignal::new(None::<ServerInfo>);
    let remove = ServerAction::<RemoveServer>::new();
    let rotate = ServerAction::<RotateKey>::new();
    let reveal = ServerAction::<RevealKey>::new();
    let conf = ServerAction::<ServerConf>::new();
    // The admin's password, typed once for the secret buttons (the key's
    // and each server's nsd.conf).
    let password = RwSignal::new(String::new());
    let view_data = crate::ui::resource(
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
            <Loaded resource=view_data title="Could not load the DNS servers" let:v>
                <ServersTable servers=v.servers editing=editing conf=conf remove=remove password=password/>
                <KeyPanel key=v.key reveal=reveal rotate=rotate conf=conf password=password/>
            </Loaded>
            <Show when=is_admin>
                // What the key and server buttons answer: the secret, the new
                // key's notice, a server's nsd.conf, a refused removal.
                <div class="dns-server-output" aria-live="polite">
                    {move || reveal.value().get().map(|r| match r {
                        Ok(secret) => view! { <p>"Secret (hmac-sha256, base64): " <code class="dns-secret">{secret}</code></p> }.into_any(),
                        Err(e) => unless_password(e),
                    })}
                    <FormError value=rotate.value() fields=&["confirm_password"]/>
                    {move || rotate.value().get().and_then(|r| r.ok()).map(|_| view! {
                        <p class="form-ok" role="status">"New key generated: update every server's nsd.conf."</p>
                    })}
                    {move || conf.value().get().map(|r| match r {
                        Ok(text) => view! {
                            <h3>"nsd.conf key and zone sections"</h3>
                            <DownloadLink file_name="stackyard.conf" text=text.clone()>"Download stackyard.conf"</DownloadLink>
                            <pre class="dns-file">{text}</pre>
                        }.into_any(),
                        Err(e) => unless_password(e),
                    })}
                    <FormError value=remove.value()/>
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

/// An error of a secret button, unless it is the password's (shown by the
/// password field).
fn unless_password(e: AppError) -> AnyView {
    if e.for_field("confirm_password").is_some() {
        return ().into_any();
    }
    view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
}

/// The server entries, with an admin's buttons.
#[component]
fn ServersTable(
    servers: Vec<ServerInfo>,
    editing: RwSignal<Option<ServerInfo>>,
    conf: ServerAction<ServerConf>,
    remove: ServerAction<RemoveServer>,
    password: RwSignal<String>,
) -> impl IntoView {
    if servers.is_empty() {
        return view! { <Empty>"No DNS server yet. An admin adds the primary first."</Empty> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
        <table class="data-table" aria-label="DNS servers">
            <thead><tr><th>"Name"</th><th>"Role"</th><th>"NS name"</th><th>"Address"</th><th>"Zones directory"</th><th>"Reload"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
            {servers.into_iter().map(|s| {
                let id = s.id;
                let edit = s.clone();
                let edit_label = format!("Edit {}", s.name);
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
                                    on:click=move |_| { conf.dispatch(ServerConf { id, confirm_password: password.get_untracked() }); }>"nsd.conf"</button>
                                <button type="button" class="button secondary small"
                                    aria-label=edit_label.clone()
                                    on:click={
                                        let edit = edit.clone();
                                        move |_| editing.set(Some(edit.clone()))
                                    }>"Edit"</button>
                                <ActionForm action=remove attr:class="inline-form">
                                    <input type="hidden" name="id" value=id.to_string()/>
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
    }
    .into_any()
}

/// The TSIG key's name and age; an admin may see its secret or replace it.
#[component]
fn KeyPanel(
    key: Option<KeyInfo>,
    reveal: ServerAction<RevealKey>,
    rotate: ServerAction<RotateKey>,
    conf: ServerAction<ServerConf>,
    password: RwSignal<String>,
) -> impl IntoView {
    // The message of whichever secret button was refused the password.
    let wrong = Signal::derive(move || {
        [reveal.value().get(), conf.value().get()]
            .into_iter()
            .chain([rotate.value().get().map(|r| r.map(|k| k.name))])
            .flatten()
            .find_map(|r| r.err().and_then(|e| e.for_field("confirm_password")))
    });
    let secret_password = move || {
        view! {
            <Field id="dns-secret-password" label="Your password, for the secret buttons" error=wrong
                hint="Showing the secret, a new key and each server's nsd.conf ask for it.">
                <input id="dns-secret-password" type="password" autocomplete="current-password"
                    aria-describedby="dns-secret-password-error"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
            </Field>
        }
    };
    view! {
        <article class="panel">
            <h2>"TSIG key"</h2>
            {match key {
                Some(k) => view! {
                    <p>{format!("{} ({}), created {}", k.name, k.algorithm, k.created_at.minutes())}</p>
                    <Show when=is_admin>
                        <div class="form">{secret_password}</div>
                        <div class="record-actions">
                            <button type="button" class="button secondary" on:click=move |_| { reveal.dispatch(RevealKey { confirm_password: password.get_untracked() }); }>"Show the TSIG secret"</button>
                            <button type="button" class="button secondary" on:click=move |_| { rotate.dispatch(RotateKey { confirm_password: password.get_untracked() }); }>"Generate a new key"</button>
                        </div>
                    </Show>
                }.into_any(),
                None => view! { <p class="muted">"Generated with the first server."</p> }.into_any(),
            }}
        </article>
    }
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
    let err = move |field: &'static str| field_error(update.value(), field);
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
                <ConfirmPassword id="edit-srv-password" error=err("confirm_password")/>
                <FormError value=update.value() fields=&SERVER_FIELDS/>
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
    let err = move |field: &'static str| field_error(add.value(), field);
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
                <ConfirmPassword id="srv-password" error=err("confirm_password")/>
                <FormError value=add.value() fields=&SERVER_FIELDS/>
                {move || add.value().get().and_then(|r| r.ok()).map(|s| view! {
                    <p class="form-ok" role="status">"Added " {s.name} "."</p>
                })}
                <button type="submit" class="button">"Add server"</button>
            </ActionForm>
        </article>
    }
    .into_any()
}
