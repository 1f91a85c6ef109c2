//! The layouts pages: `/layouts` (layouts, templates) and `/layouts/{id}`,
//! the editor.
//!
//! The editor evaluates the layout in the browser on every keystroke with
//! [`super::evaluate::resolve`] over the hosts the server described once
//! ([`super::api::layout_hosts`]). Each field of each VM is its own signal,
//! so typing re-renders only that field's error, the VM's placement line
//! and the host bars, never the form; rows are keyed, so adding or removing
//! a VM leaves the others alone. A value that does not parse (or breaks a
//! VM's own limits) shows its message by the field while the evaluation
//! keeps that VM's last good value: nothing typed is lost or overwritten.

use super::api::*;
use super::apply_view::ApplyPanel;
use super::evaluate::more_of;
use super::file::{render_layout, FileFormat};
use super::plan::{resolve, Resolved};
use super::{HostChoice, HostsView, LayoutSpec, LayoutSummary, LayoutVm, Nic, TemplateDto};
use crate::auth::pages::{use_session, Protected};
use crate::auth::{Access, Role};
use crate::capacity::{HostVerdict, MiB};
use crate::error::AppError;
use crate::page_access;
use crate::ui::{FieldError, MemoryBar, MemoryUse, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use std::collections::BTreeMap;

page_access!("/layouts", Access::Role(Role::Viewer));
page_access!("/layouts/{id}", Access::Role(Role::Viewer));

/// The caller's role, once the session is known.
fn role() -> Option<Role> {
    use_session()
        .and_then(|s| s.0.get())
        .and_then(|r| r.ok())
        .flatten()
        .map(|u| u.role)
}

fn at_least(min: Role) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    move || role().is_some_and(|r| r >= min)
}

fn mib(n: u64) -> String {
    format!("{n} MiB")
}

fn gib_of_bytes(b: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    format!("{:.1} GiB", b as f64 / GIB)
}

fn error_of<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

/// A form-wide error (one that is not about a field).
fn general_error<T, S>(value: S) -> impl Fn() -> Option<AnyView>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) if !matches!(e, AppError::Invalid { .. }) => {
            Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any())
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- /layouts

#[component]
pub fn LayoutsPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <LayoutsContent/>
        </Protected>
    }
}

#[component]
fn LayoutsContent() -> impl IntoView {
    let create = ServerAction::<CreateLayout>::new();
    let delete = ServerAction::<DeleteLayout>::new();
    let layouts = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_layouts(),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/layouts/{id}"), Default::default());
        }
    });
    let can_edit = at_least(Role::Operator);
    view! {
        <section class="page layouts">
            <PageHeader title="Layouts" summary="Plan VMs against host memory with the paper's equations, then apply them."/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match layouts.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No layout yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="record-list" aria-label="Layouts">
                                {list.into_iter().map(|l| view! { <LayoutItem layout=l delete=delete/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {general_error(delete.value())}
            <Show when=can_edit>
                <article class="panel">
                    <h2>"New layout"</h2>
                    <ActionForm action=create attr:class="form" attr:aria-label="New layout">
                        <label for="layout-name">"Name"</label>
                        <input id="layout-name" name="name" required maxlength="100"
                            placeholder="paper-datacenter" aria-describedby="layout-name-error"/>
                        <FieldError id="layout-name-error" message=error_of(create.value(), "name")/>
                        <label for="layout-description">"Description"</label>
                        <input id="layout-description" name="description"
                            placeholder="The services of Table 2 on one server"/>
                        {general_error(create.value())}
                        <button type="submit" class="button" disabled=move || create.pending().get()>"Create layout"</button>
                    </ActionForm>
                </article>
                <ImportPanel/>
            </Show>
            <TemplatesPanel/>
        </section>
    }
    .into_any()
}

/// Import a layout from a TOML or JSON file, chosen or pasted. The text is
/// checked in the browser as it changes (the same reader the server uses),
/// so problems show, with their line and field, before anything is sent.
#[component]
fn ImportPanel() -> impl IntoView {
    let import = ServerAction::<ImportLayout>::new();
    let text = RwSignal::new(String::new());
    let file_name = RwSignal::new(String::new());
    let check = Memo::new(move |_| {
        let t = text.read();
        if t.trim().is_empty() {
            None
        } else {
            Some(check_file(&file_name.read(), &t).map(|s| (s.name.clone(), s.vms.len())))
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = import.value().get() {
            navigate(&format!("/layouts/{id}"), Default::default());
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_chosen_file(&ev, text, file_name);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_import = move |_| {
        import.dispatch(ImportLayout {
            file_name: file_name.get_untracked(),
            text: text.get_untracked(),
        });
    };
    view! {
        <article class="panel import-panel">
            <h2>"Import a layout"</h2>
            <div class="form" role="group" aria-label="Import a layout">
                <label for="import-file">"TOML or JSON file"</label>
                <input id="import-file" type="file" accept=".toml,.json,application/json,application/toml,text/plain"
                    on:change=on_file/>
                <label for="import-text">"Or paste it"</label>
                <textarea id="import-text" rows="6" spellcheck="false" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    aria-describedby="import-text-error"></textarea>
                <p id="import-text-error" class="field-error import-problems" role="alert" aria-live="polite">
                    {move || match check.get() {
                        Some(Err(m)) => m,
                        _ => import.value().get().and_then(|r| r.err()).and_then(|e| e.for_field("text").or_else(|| e.for_field("name").map(|m| format!("name: {m}")))).unwrap_or_default(),
                    }}
                </p>
                {move || check.get().and_then(|c| c.ok()).map(|(name, vms)| view! {
                    <p class="form-ok" role="status">{format!("Reads well: layout {name} with {vms} VMs.")}</p>
                })}
                {general_error(import.value())}
                <button type="button" class="button" on:click=on_import
                    disabled=move || import.pending().get() || !matches!(check.get(), Some(Ok(_)))>"Import layout"</button>
            </div>
        </article>
    }
}

#[cfg(feature = "hydrate")]
fn read_chosen_file(ev: &leptos::ev::Event, text: RwSignal<String>, file_name: RwSignal<String>) {
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
    file_name.set(file.name());
    let promise = file.text();
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(v) => text.set(v.as_string().unwrap_or_default()),
            Err(_) => text.set(String::new()),
        }
    });
}

/// A `data:` URL holding `text`, for download links.
fn data_url(mime: &str, text: &str) -> String {
    let mut out = format!("data:{mime};charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
fn LayoutItem(layout: LayoutSummary, delete: ServerAction<DeleteLayout>) -> impl IntoView {
    let can_edit = at_least(Role::Operator);
    let confirming = RwSignal::new(false);
    let id = layout.id;
    let name = StoredValue::new(layout.name.clone());
    let aria = format!("Layout {}", layout.name);
    view! {
        <li class="record" aria-label=aria>
            <div class="record-main">
                <strong><A href=format!("/layouts/{id}")>{layout.name.clone()}</A></strong>
                <span class="muted">{format!("{} VMs · {}", layout.vms, mib(layout.memory_mib))}</span>
            </div>
            {(!layout.description.is_empty()).then(|| view! { <p class="muted">{layout.description.clone()}</p> })}
            <Show when=can_edit>
                {move || if confirming.get() {
                    view! {
                        <ActionForm action=delete attr:class="confirm-row">
                            <input type="hidden" name="id" value=id.to_string()/>
                            <span>{format!("Delete layout {}? VMs already created stay on their hosts.", name.get_value())}</span>
                            <button type="submit" class="button danger">"Delete layout"</button>
                            <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <div class="record-actions">
                            <button type="button" class="button secondary" on:click=move |_| confirming.set(true)>"Delete…"</button>
                        </div>
                    }.into_any()
                }}
            </Show>
        </li>
    }
}

#[component]
fn TemplatesPanel() -> impl IntoView {
    let add = ServerAction::<SaveTemplate>::new();
    let remove = ServerAction::<DeleteTemplate>::new();
    let changed = RwSignal::new(0u32);
    let templates = Resource::new(
        move || (add.version().get(), remove.version().get(), changed.get()),
        |_| list_templates(),
    );
    let is_admin = at_least(Role::Admin);
    view! {
        <h2 class="section-title" id="templates">"Templates"</h2>
        <p class="muted">"VM sizes to build layouts from, seeded from the paper's Table 2. Disks are thin unless marked thick."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(list) => view! {
                        <ul class="record-list template-list" aria-label="Templates">
                            {list.into_iter().map(|t| view! { <TemplateItem template=t remove=remove changed=changed/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {general_error(remove.value())}
        <ThinFill/>
        <Show when=is_admin>
            <article class="panel">
                <h2>"Add a template"</h2>
                <TemplateForm action=add template=None/>
            </article>
        </Show>
    }
}

/// The expected fill of thin disks (the paper's `z` condition); admins set it.
#[component]
fn ThinFill() -> impl IntoView {
    let set = ServerAction::<SetThinFill>::new();
    let policy = Resource::new(move || set.version().get(), |_| layout_hosts());
    let is_admin = at_least(Role::Admin);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                policy.await.ok().map(|h| {
                    let fill = h.policy.thin_fill;
                    view! {
                        <p class="muted">{format!(
                            "Thin disks count against a pool at {:.0} % of their size (expected fill).",
                            fill * 100.0
                        )}</p>
                        <Show when=is_admin>
                            <ActionForm action=set attr:class="form inline-settings" attr:aria-label="Expected fill of thin disks">
                                <label for="thin-fill">"Expected fill of thin disks (0 to 1)"</label>
                                <div class="field-row">
                                    <input id="thin-fill" name="thin_fill" inputmode="decimal" value=fill.to_string()
                                        aria-describedby="thin-fill-error"/>
                                    <button type="submit" class="button secondary">"Save fill"</button>
                                </div>
                                <FieldError id="thin-fill-error" message=error_of(set.value(), "thin_fill")/>
                            </ActionForm>
                        </Show>
                    }
                })
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn TemplateItem(
    template: TemplateDto,
    remove: ServerAction<DeleteTemplate>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let is_admin = at_least(Role::Admin);
    let editing = RwSignal::new(false);
    let edit = ServerAction::<SaveTemplate>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = edit.value().get() {
            editing.set(false);
            changed.update(|n| *n += 1);
        }
    });
    let id = template.id;
    let t = StoredValue::new(template.clone());
    view! {
        <li class="record" aria-label=format!("Template {}", template.name)>
            <div class="record-main">
                <strong>{template.name.clone()}</strong>
                <span>{format!("{} · {} vCPU · {} GiB{}", mib(template.memory_mib), template.vcpus, template.disk_gib,
                    if template.thin { "" } else { " thick" })}</span>
            </div>
            <p class="muted">{template.services.join(", ")}</p>
            <Show when=is_admin>
                <div class="record-actions">
                    <button type="button" class="button secondary" on:click=move |_| editing.update(|e| *e = !*e)>"Edit…"</button>
                    <ActionForm action=remove attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="button secondary"
                            aria-label=format!("Remove template {}", t.with_value(|t| t.name.clone()))>"Remove"</button>
                    </ActionForm>
                </div>
                <Show when=move || editing.get()>
                    <TemplateForm action=edit template=Some(t.get_value())/>
                </Show>
            </Show>
        </li>
    }
}

#[component]
fn TemplateForm(
    action: ServerAction<SaveTemplate>,
    template: Option<TemplateDto>,
) -> impl IntoView {
    let id = template.as_ref().map_or(0, |t| t.id);
    let p = if id == 0 {
        "new-template".to_owned()
    } else {
        format!("template-{id}")
    };
    let t = template.unwrap_or(TemplateDto {
        id: 0,
        name: String::new(),
        services: Vec::new(),
        memory_mib: 1024,
        vcpus: 1,
        disk_gib: 20,
        thin: true,
    });
    let v = action.value();
    let label = if id == 0 {
        "Add a template".to_owned()
    } else {
        format!("Edit template {}", t.name)
    };
    view! {
        <ActionForm action=action attr:class="form" attr:aria-label=label>
            <input type="hidden" name="id" value=id.to_string()/>
            <label for=format!("{p}-name")>"Name"</label>
            <input id=format!("{p}-name") name="name" value=t.name.clone() required maxlength="64"/>
            <FieldError id=format!("{p}-name-error") message=error_of(v, "name")/>
            <label for=format!("{p}-services")>"Services (one per line)"</label>
            <textarea id=format!("{p}-services") name="services" rows="3">{t.services.join("\n")}</textarea>
            <FieldError id=format!("{p}-services-error") message=error_of(v, "services")/>
            <div class="field-row">
                <div>
                    <label for=format!("{p}-memory")>"Memory (MiB)"</label>
                    <input id=format!("{p}-memory") name="memory_mib" inputmode="numeric" value=t.memory_mib.to_string()/>
                    <FieldError id=format!("{p}-memory-error") message=error_of(v, "memory_mib")/>
                </div>
                <div>
                    <label for=format!("{p}-vcpus")>"vCPUs"</label>
                    <input id=format!("{p}-vcpus") name="vcpus" inputmode="numeric" value=t.vcpus.to_string()/>
                    <FieldError id=format!("{p}-vcpus-error") message=error_of(v, "vcpus")/>
                </div>
                <div>
                    <label for=format!("{p}-disk")>"Disk (GiB)"</label>
                    <input id=format!("{p}-disk") name="disk_gib" inputmode="numeric" value=t.disk_gib.to_string()/>
                    <FieldError id=format!("{p}-disk-error") message=error_of(v, "disk_gib")/>
                </div>
            </div>
            <label class="check">
                <input type="checkbox" name="thin" value="on" checked=t.thin/>
                " Thin-provisioned disk"
            </label>
            {general_error(v)}
            {move || matches!(v.get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Saved."</p> })}
            <button type="submit" class="button" disabled=move || action.pending().get()>
                {if id == 0 { "Add template" } else { "Save template" }}
            </button>
        </ActionForm>
    }
    .into_any()
}

// ----------------------------------------------------------- the editor

#[component]
pub fn LayoutPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <LayoutContent/>
        </Protected>
    }
}

#[component]
fn LayoutContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let data = Resource::new(id, |id| async move {
        let spec = get_layout(id).await?;
        let hosts = layout_hosts().await?;
        let templates = list_templates().await?;
        Ok::<_, AppError>((id, spec, hosts, templates))
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((id, spec, hosts, templates)) => view! {
                        <Editor id=id spec=spec hosts=hosts templates=templates/>
                    }.into_any(),
                    Err(e) => view! {
                        <section class="page">
                            <PageHeader title="Layout"/>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                            <p><A href="/layouts">"All layouts"</A></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a field's problem is, by field name (`memory_mib`).
type FieldProblems = Vec<(&'static str, String)>;

/// One VM of the editor: the text of each field as typed, what it parses to,
/// and the last value that parsed and passed the VM's own checks.
#[derive(Clone, Copy, PartialEq)]
struct Row {
    key: u64,
    name: RwSignal<String>,
    template: RwSignal<String>,
    vcpus: RwSignal<String>,
    memory: RwSignal<String>,
    disk: RwSignal<String>,
    host: RwSignal<String>,
    network: RwSignal<String>,
    ip: RwSignal<String>,
    start: RwSignal<bool>,
    parsed: Memo<Result<LayoutVm, FieldProblems>>,
    good: Memo<LayoutVm>,
    /// On a phone, whether the VM's card is open for editing.
    open: RwSignal<bool>,
}

#[allow(clippy::too_many_arguments)]
fn parse_vm(
    name: &str,
    template: &str,
    vcpus: &str,
    memory: &str,
    disk: &str,
    host: &str,
    network: &str,
    ip: &str,
    start: bool,
) -> Result<LayoutVm, FieldProblems> {
    let mut problems: FieldProblems = Vec::new();
    let mut num = |field: &'static str, text: &str, unit: &str| -> u64 {
        match text.trim().parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                problems.push((field, format!("enter a whole number of {unit}")));
                0
            }
        }
    };
    let vcpus = num("vcpus", vcpus, "vCPUs");
    let memory_mib = num("memory_mib", memory, "MiB");
    let disk_gib = num("disk_gib", disk, "GiB");
    let network = match network.parse::<Nic>() {
        Ok(n) => n,
        Err(m) => {
            problems.push(("network", m));
            Nic::default()
        }
    };
    let ip = match ip.trim() {
        "" => None,
        s => match s.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                problems.push(("ip", format!("\"{s}\" is not an IPv4 or IPv6 address")));
                None
            }
        },
    };
    let vm = LayoutVm {
        name: name.trim().to_owned(),
        template: Some(template.to_owned()).filter(|t| !t.is_empty()),
        vcpus: u32::try_from(vcpus).unwrap_or(u32::MAX),
        memory_mib,
        disk_gib,
        host: HostChoice::from(host.to_owned()),
        network,
        ip,
        start,
    };
    // The VM's own limits (names across VMs are checked on the whole layout).
    let one = LayoutSpec {
        name: "layout".into(),
        description: String::new(),
        vms: vec![vm.clone()],
    };
    for p in one.problems() {
        let field = p.field.trim_start_matches("vm[0].");
        let field = ["name", "vcpus", "memory_mib", "disk_gib", "host"]
            .into_iter()
            .find(|f| *f == field)
            .unwrap_or("name");
        if !problems.iter().any(|(f, _)| *f == field) {
            problems.push((field, p.message));
        }
    }
    if problems.is_empty() {
        Ok(vm)
    } else {
        Err(problems)
    }
}

impl Row {
    fn new(key: u64, vm: &LayoutVm) -> Self {
        let name = RwSignal::new(vm.name.clone());
        let template = RwSignal::new(vm.template.clone().unwrap_or_default());
        let vcpus = RwSignal::new(vm.vcpus.to_string());
        let memory = RwSignal::new(vm.memory_mib.to_string());
        let disk = RwSignal::new(vm.disk_gib.to_string());
        let host = RwSignal::new(vm.host.to_string());
        let network = RwSignal::new(vm.network.to_string());
        let ip = RwSignal::new(vm.ip.map(|i| i.to_string()).unwrap_or_default());
        let start = RwSignal::new(vm.start);
        let parsed = Memo::new(move |_| {
            parse_vm(
                &name.read(),
                &template.read(),
                &vcpus.read(),
                &memory.read(),
                &disk.read(),
                &host.read(),
                &network.read(),
                &ip.read(),
                start.get(),
            )
        });
        let initial = vm.clone();
        let good = Memo::new(move |prev: Option<&LayoutVm>| match parsed.get() {
            Ok(vm) => vm,
            Err(_) => prev.cloned().unwrap_or_else(|| initial.clone()),
        });
        Row {
            key,
            name,
            template,
            vcpus,
            memory,
            disk,
            host,
            network,
            ip,
            start,
            parsed,
            good,
            open: RwSignal::new(false),
        }
    }
}

/// `Web Server` → `web-server`.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s: String = s.trim_end_matches('-').chars().take(40).collect();
    if s.is_empty() {
        "vm".into()
    } else {
        s
    }
}

#[component]
fn Editor(
    id: i32,
    spec: LayoutSpec,
    hosts: HostsView,
    templates: Vec<TemplateDto>,
) -> impl IntoView {
    let can_edit = at_least(Role::Operator);
    let is_admin = at_least(Role::Admin);
    let hosts = RwSignal::new(hosts);
    let templates = StoredValue::new(templates);
    let next_key = StoredValue::new(spec.vms.len() as u64);
    let rows = RwSignal::new(
        spec.vms
            .iter()
            .enumerate()
            .map(|(i, vm)| Row::new(i as u64, vm))
            .collect::<Vec<_>>(),
    );
    let name = RwSignal::new(spec.name.clone());
    let description = RwSignal::new(spec.description.clone());
    let server_error = RwSignal::new(None::<AppError>);
    let saved = RwSignal::new(None::<String>);

    // The layout as last typed correctly, and where it lands.
    let good = Memo::new(move |_| LayoutSpec {
        name: name.get(),
        description: description.get(),
        vms: rows.with(|rs| rs.iter().map(|r| r.good.get()).collect()),
    });
    let problems = Memo::new(move |_| good.with(LayoutSpec::problems));
    let eval =
        Memo::new(move |_| hosts.with(|h| good.with(|spec| resolve(spec, &h.hosts, &h.policy))));

    let add_template = RwSignal::new(
        templates.with_value(|t| t.first().map(|t| t.name.clone()).unwrap_or_default()),
    );
    let add_count = RwSignal::new("1".to_owned());
    let add_error = RwSignal::new(None::<String>);
    // New rows from a template (or a custom size), named `<template>-N`
    // with the first free numbers.
    let make_rows = move |template: Option<TemplateDto>, like: Option<LayoutVm>, count: u32| {
        let prefix = template
            .as_ref()
            .map_or_else(|| "vm".to_owned(), |t| slug(&t.name));
        let mut taken: std::collections::BTreeSet<String> = rows.with_untracked(|rs| {
            rs.iter()
                .map(|r| r.name.get_untracked().to_ascii_lowercase())
                .collect()
        });
        let network = like
            .as_ref()
            .map_or_else(|| hosts.with_untracked(default_nic), |l| l.network.clone());
        let mut new_rows = Vec::new();
        let mut n = 1u32;
        for _ in 0..count {
            while taken.contains(&format!("{prefix}-{n}")) {
                n += 1;
            }
            let vm_name = format!("{prefix}-{n}");
            taken.insert(vm_name.clone());
            let vm = match &like {
                Some(l) => LayoutVm {
                    name: vm_name,
                    ip: None,
                    ..l.clone()
                },
                None => LayoutVm {
                    name: vm_name,
                    template: template.as_ref().map(|t| t.name.clone()),
                    vcpus: template.as_ref().map_or(1, |t| t.vcpus),
                    memory_mib: template.as_ref().map_or(1024, |t| t.memory_mib),
                    disk_gib: template.as_ref().map_or(20, |t| t.disk_gib),
                    host: HostChoice::Auto,
                    network: network.clone(),
                    ip: None,
                    start: true,
                },
            };
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            new_rows.push(Row::new(key, &vm));
        }
        new_rows
    };
    let add_vms = move |_| {
        let count = match add_count.get_untracked().trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                add_error.set(Some("enter how many, from 1 to 100".into()));
                return;
            }
        };
        add_error.set(None);
        let chosen = add_template.get_untracked();
        let t = templates.with_value(|ts| ts.iter().find(|t| t.name == chosen).cloned());
        let new_rows = make_rows(t, None, count);
        rows.update(|rs| rs.extend(new_rows));
    };
    // Enter on the last row adds one like it (a spreadsheet's habit) and
    // moves there; on another row it moves to the same field one row down.
    let on_enter = move |key: u64, field: &'static str| {
        let (pos, len) = rows.with_untracked(|rs| (rs.iter().position(|r| r.key == key), rs.len()));
        let Some(pos) = pos else { return };
        let target = if pos + 1 == len {
            let like = rows.with_untracked(|rs| rs.get(pos).map(|r| r.good.get_untracked()));
            let template = like.as_ref().and_then(|l| {
                let name = l.template.clone()?;
                templates.with_value(|ts| ts.iter().find(|t| t.name == name).cloned())
            });
            let new_rows = make_rows(template, like, 1);
            let first = new_rows.first().map(|r| r.key);
            rows.update(|rs| rs.extend(new_rows));
            first.map(|k| (k, "name"))
        } else {
            rows.with_untracked(|rs| rs.get(pos + 1).map(|r| (r.key, field)))
        };
        if let Some((k, f)) = target {
            focus_later(format!("vm-{k}-{f}"));
        }
    };
    // Removing asks nothing; each removal can be undone until the next save.
    let removed = RwSignal::new(Vec::<(usize, Row)>::new());
    let remove_row = move |key: u64| {
        let mut taken = None;
        rows.update(|rs| {
            if let Some(i) = rs.iter().position(|r| r.key == key) {
                taken = Some((i, rs.remove(i)));
            }
        });
        if let Some(t) = taken {
            removed.update(|r| r.push(t));
        }
    };
    let undo_remove = move |_| {
        if let Some((i, row)) = removed.try_update(Vec::pop).flatten() {
            rows.update(|rs| rs.insert(i.min(rs.len()), row));
        }
    };
    let sort = RwSignal::new(None::<(Column, bool)>);
    let group = RwSignal::new(false);
    let sort_by = move |col: Column| {
        let ascending = !matches!(sort.get_untracked(), Some((c, true)) if c == col);
        let placed: BTreeMap<u64, String> = eval.with_untracked(|e| {
            rows.with_untracked(|rs| {
                rs.iter()
                    .zip(&e.placement)
                    .map(|(r, p)| (r.key, p.host.clone().unwrap_or_default()))
                    .collect()
            })
        });
        rows.update(|rs| {
            rs.sort_by(|a, b| {
                let o = col.compare(a, b, &placed);
                if ascending {
                    o
                } else {
                    o.reverse()
                }
            })
        });
        sort.set(Some((col, ascending)));
    };
    // What the table shows: the rows, or the rows under a heading per host.
    let items = Memo::new(move |_| {
        let all = rows.get();
        if !group.get() {
            return all.into_iter().map(Item::Vm).collect::<Vec<_>>();
        }
        let mut by_host: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        eval.with(|e| {
            for (i, r) in all.iter().enumerate() {
                let host = e
                    .placement
                    .get(i)
                    .and_then(|p| p.host.clone())
                    .unwrap_or_else(|| "not placed".into());
                by_host.entry(host).or_default().push(*r);
            }
        });
        let mut out = Vec::new();
        for (host, rs) in by_host {
            let memory: u64 = rs.iter().map(|r| r.good.with(|g| g.memory_mib)).sum();
            out.push(Item::Group {
                host,
                count: rs.len(),
                memory,
            });
            out.extend(rs.into_iter().map(Item::Vm));
        }
        out
    });

    let save = ServerAction::<SaveLayout>::new();
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let do_save = move |_| {
        saved.set(None);
        let mut vms = Vec::new();
        let mut bad = None;
        rows.with_untracked(|rs| {
            for (i, r) in rs.iter().enumerate() {
                match r.parsed.get_untracked() {
                    Ok(vm) => vms.push(vm),
                    Err(p) => {
                        if bad.is_none() {
                            bad = Some((i, p));
                        }
                    }
                }
            }
        });
        if let Some((i, p)) = bad {
            let (field, message) = p.into_iter().next().unwrap_or(("name", String::new()));
            server_error.set(Some(AppError::invalid(
                format!("vm[{i}].{field}"),
                format!("{message} (fix the marked fields before saving)"),
            )));
            return;
        }
        server_error.set(None);
        save.dispatch(SaveLayout {
            id,
            spec: LayoutSpec {
                name: name.get_untracked(),
                description: description.get_untracked(),
                vms,
            },
        });
    };
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            server_error.set(None);
            removed.set(Vec::new());
            saved.set(Some("Saved.".into()));
        }
        Some(Err(e)) => server_error.set(Some(e)),
        None => {}
    });

    let field_error = move |field: String| {
        Signal::derive(move || {
            server_error
                .get()
                .and_then(|e| e.for_field(&field))
                .or_else(|| {
                    problems.with(|ps| {
                        ps.iter()
                            .find(|p| p.field == field)
                            .map(|p| p.message.clone())
                    })
                })
        })
    };
    let host_names = Memo::new(move |_| {
        hosts.with(|h| {
            h.hosts
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<String>>()
        })
    });
    let fits = move || eval.with(|e| e.fits);
    let vm_count = move || rows.with(Vec::len);

    view! {
        <section class="page layout-editor">
            <PageHeader title=spec.name.clone() summary="Plan VMs against host memory (eqs. 1–3), then apply."/>
            <p><A href="/layouts">"All layouts"</A></p>
            <div class="editor-grid">
            {view! {
            <div class="editor-main">
            {view! {
            <article class="panel layout-meta" aria-label="Layout">
                <div class="form">
                    <label for="layout-name">"Name"</label>
                    <input id="layout-name" prop:value=move || name.get() disabled=move || !can_edit()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                    <FieldError id="layout-name-error" message=field_error("name".into())/>
                </div>
                <div class="form">
                    <label for="layout-description">"Description"</label>
                    <input id="layout-description" prop:value=move || description.get() disabled=move || !can_edit()
                        on:input=move |ev| description.set(event_target_value(&ev))/>
                </div>
            </article>
            }.into_any()}
            {view! {
            <div class="export-row" role="group" aria-label="Export">
                <span class="muted">"Export as evaluated:"</span>
                {[FileFormat::Toml, FileFormat::Json].into_iter().map(|format| {
                    let ext = format.extension();
                    let mime = if ext == "json" { "application/json" } else { "application/toml" };
                    view! {
                        <a class="button secondary" download=move || format!("{}.{ext}", slug(&name.get()))
                            href=move || good.with(|spec| render_layout(spec, format)
                                .map(|t| data_url(mime, &t))
                                .unwrap_or_default())>
                            {format!("Export {}", ext.to_uppercase())}
                        </a>
                    }
                }).collect_view()}
            </div>
            }.into_any()}
            {view! {
            <h2 class="section-title">{move || format!("Virtual machines ({})", vm_count())}</h2>
            <datalist id="layout-networks">
                {move || hosts.with(|h| {
                    let mut all: Vec<String> = h.networks.values().flatten().cloned().collect();
                    all.sort();
                    all.dedup();
                    all.push("none".into());
                    all.into_iter().map(|n| view! { <option value=n/> }).collect_view()
                })}
            </datalist>
            <div class="vm-table-tools">
                <label class="check">
                    <input type="checkbox" prop:checked=move || group.get()
                        on:change=move |ev| group.set(event_target_checked(&ev))/>
                    " Group by host"
                </label>
                <span class="muted hint">"Tab moves along a row; Enter on the last row adds a VM like it."</span>
                {move || removed.with(|r| r.last().map(|(_, row)| {
                    let name = row.name.get_untracked();
                    view! {
                        <button type="button" class="button small secondary" on:click=undo_remove>
                            {format!("Undo removing {name}")}
                        </button>
                    }
                }))}
            </div>
            <div class="vm-table-wrap">
            <table class="vm-table" aria-label="Virtual machines of the layout">
                <thead>
                    <tr>
                        <th scope="col" class="col-summary">"VM"</th>
                        {Column::ALL.into_iter().map(|col| view! {
                            <th scope="col" class=col.class()
                                aria-sort=move || match sort.get() {
                                    Some((c, true)) if c == col => "ascending",
                                    Some((c, false)) if c == col => "descending",
                                    _ => "none",
                                }>
                                {if col.sortable() {
                                    view! {
                                        <button type="button" class="sort" on:click=move |_| sort_by(col)
                                            title=format!("Sort by {}", col.title())>
                                            {col.title()}
                                        </button>
                                    }.into_any()
                                } else {
                                    view! { <span>{col.title()}</span> }.into_any()
                                }}
                            </th>
                        }).collect_view()}
                        <th scope="col" class="col-remove"><span class="visually-hidden">"Remove"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || items.get() key=Item::key let:item>
                        {match item {
                            Item::Group { host, count, memory } => view! {
                                <tr class="group-row">
                                    <th colspan="12" scope="rowgroup">
                                        {format!("{host} · {count} VM{} · {memory} MiB", if count == 1 { "" } else { "s" })}
                                    </th>
                                </tr>
                            }.into_any(),
                            Item::Vm(row) => view! {
                                <VmRow row=row rows=rows eval=eval host_names=host_names
                                    templates=templates server_error=server_error problems=problems
                                    on_enter=on_enter remove=remove_row/>
                            }.into_any(),
                        }}
                    </For>
                </tbody>
            </table>
            </div>
            }.into_any()}
            {view! {
            <Show when=can_edit>
                <div class="panel add-vms" role="group" aria-label="Add VMs">
                    <label for="add-template">"Add VMs from template"</label>
                    <div class="field-row">
                        <select id="add-template" on:change=move |ev| add_template.set(event_target_value(&ev))
                            prop:value=move || add_template.get()>
                            {templates.with_value(|ts| ts.iter().map(|t| view! {
                                <option value=t.name.clone()>{format!("{} ({} MiB)", t.name, t.memory_mib)}</option>
                            }).collect_view())}
                            <option value="">"Custom size"</option>
                        </select>
                        <label for="add-count" class="visually-hidden">"How many"</label>
                        <input id="add-count" class="narrow" inputmode="numeric" prop:value=move || add_count.get()
                            on:input=move |ev| add_count.set(event_target_value(&ev))/>
                        <button type="button" class="button secondary" on:click=add_vms>"Add"</button>
                    </div>
                    <FieldError id="add-count-error" message=Signal::derive(move || add_error.get())/>
                </div>
                <div class="save-row">
                    <button type="button" class="button" on:click=do_save disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save layout" }}
                    </button>
                    {move || saved.get().map(|m| view! { <p class="form-ok" role="status">{m}</p> })}
                    {move || server_error.get().filter(|e| !matches!(e, AppError::Invalid { .. }))
                        .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                    {move || server_error.get().and_then(|e| match e {
                        AppError::Invalid { field, message } => Some(view! {
                            <p class="form-error" role="alert">{format!("Not saved: {field}: {message}")}</p>
                        }),
                        _ => None,
                    })}
                </div>
            </Show>
            }.into_any()}
            <p class="muted">"Apply works on the saved layout: save first."</p>
            {move || {
                // A fresh plan after every save. Rendered in the browser only:
                // hydrated inside the editor's own suspense, its buttons stayed
                // inert (see the Playwright flow), while built in the browser
                // it works.
                save.version().get();
                mounted.get().then(|| view! { <ApplyPanel layout_id=id/> }.into_any())
            }}
            </div>
            }.into_any()}
            {view! {
            <aside class="editor-side" aria-label="Capacity">
                <h2 class="section-title">"Hosts"</h2>
                <p class=move || if fits() { "verdict verdict-ok" } else { "verdict verdict-bad" } role="status" data-testid="layout-verdict">
                    {move || if fits() {
                        "✓ The layout fits: no condition of eq. (1) is broken."
                    } else {
                        "✗ The layout does not fit: see the marked hosts and VMs."
                    }}
                </p>
                {move || hosts.with(|h| h.unreachable.iter().map(|u| view! {
                    <p class="form-error">{format!("{} is unreachable and left out: {}", u.name, u.error)}</p>
                }).collect_view())}
                <For each=move || host_names.get() key=|n| n.clone() let:host>
                    <HostBar host=host hosts=hosts eval=eval templates=templates is_admin=is_admin/>
                </For>
                <Placement eval=eval/>
            </aside>
            }.into_any()}
            </div>
        </section>
    }
    .into_any()
}

/// A column of the VM table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Template,
    Vcpus,
    Memory,
    Disk,
    Host,
    Network,
    Ip,
    Start,
    Verdict,
}

impl Column {
    const ALL: [Column; 10] = [
        Column::Name,
        Column::Template,
        Column::Vcpus,
        Column::Memory,
        Column::Disk,
        Column::Host,
        Column::Network,
        Column::Ip,
        Column::Start,
        Column::Verdict,
    ];

    fn title(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Template => "Template",
            Column::Vcpus => "vCPUs",
            Column::Memory => "Memory (MiB)",
            Column::Disk => "Disk (GiB)",
            Column::Host => "Host",
            Column::Network => "Network",
            Column::Ip => "Static IP",
            Column::Start => "Start",
            Column::Verdict => "Verdict",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Column::Name => "col-name",
            Column::Template => "col-template",
            Column::Vcpus => "col-num",
            Column::Memory => "col-num col-memory",
            Column::Disk => "col-num",
            Column::Host => "col-host",
            Column::Network => "col-network",
            Column::Ip => "col-ip",
            Column::Start => "col-start",
            Column::Verdict => "col-verdict",
        }
    }

    fn sortable(self) -> bool {
        !matches!(self, Column::Start)
    }

    /// Orders two rows by this column; `placed` is where each row's VM
    /// lands (for "Verdict", by host then name).
    fn compare(self, a: &Row, b: &Row, placed: &BTreeMap<u64, String>) -> std::cmp::Ordering {
        let text = |r: &Row, s: fn(&Row) -> RwSignal<String>| s(r).get_untracked().to_lowercase();
        let num = |r: &Row, s: fn(&Row) -> RwSignal<String>| {
            s(r).get_untracked()
                .trim()
                .parse::<u64>()
                .unwrap_or(u64::MAX)
        };
        let by_name = || text(a, |r| r.name).cmp(&text(b, |r| r.name));
        let o = match self {
            Column::Name => by_name(),
            Column::Template => text(a, |r| r.template).cmp(&text(b, |r| r.template)),
            Column::Vcpus => num(a, |r| r.vcpus).cmp(&num(b, |r| r.vcpus)),
            Column::Memory => num(a, |r| r.memory).cmp(&num(b, |r| r.memory)),
            Column::Disk => num(a, |r| r.disk).cmp(&num(b, |r| r.disk)),
            Column::Host => text(a, |r| r.host).cmp(&text(b, |r| r.host)),
            Column::Network => text(a, |r| r.network).cmp(&text(b, |r| r.network)),
            Column::Ip => text(a, |r| r.ip).cmp(&text(b, |r| r.ip)),
            Column::Start => a.start.get_untracked().cmp(&b.start.get_untracked()),
            Column::Verdict => placed.get(&a.key).cmp(&placed.get(&b.key)),
        };
        o.then_with(by_name)
    }
}

/// A line of the VM table: a VM, or (grouped by host) a host's heading.
#[derive(Clone, PartialEq)]
enum Item {
    Group {
        host: String,
        count: usize,
        memory: u64,
    },
    Vm(Row),
}

impl Item {
    fn key(&self) -> String {
        match self {
            Item::Group {
                host,
                count,
                memory,
            } => format!("g:{host}:{count}:{memory}"),
            Item::Vm(r) => format!("v:{}", r.key),
        }
    }
}

/// A select's options: `names`, plus the current value when it is none of
/// them (a template or host that has gone keeps showing what is stored),
/// with the current one selected. `""` and `auto` are the selects' own
/// first options.
fn options(mut names: Vec<String>, current: String) -> impl IntoView {
    if !current.is_empty() && current != "auto" && !names.contains(&current) {
        names.push(current.clone());
    }
    names
        .into_iter()
        .map(|n| {
            let selected = n == current;
            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
        })
        .collect_view()
}

/// Focuses the element with `id` once the browser has drawn the change
/// that creates it.
fn focus_later(id: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// One VM as a table row: every field edited in place. On a phone the row
/// is a one-line card (name, memory, host, verdict) that opens to edit.
#[component]
fn VmRow(
    row: Row,
    rows: RwSignal<Vec<Row>>,
    eval: Memo<Resolved>,
    host_names: Memo<Vec<String>>,
    templates: StoredValue<Vec<TemplateDto>>,
    server_error: RwSignal<Option<AppError>>,
    problems: Memo<Vec<super::LayoutProblem>>,
    on_enter: impl Fn(u64, &'static str) + Copy + Send + Sync + 'static,
    remove: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let can_edit = at_least(Role::Operator);
    let key = row.key;
    let index = Memo::new(move |_| rows.with(|rs| rs.iter().position(|r| r.key == key)));
    let error = move |field: &'static str| {
        Signal::derive(move || {
            let local = row.parsed.with(|p| match p {
                Err(ps) => ps.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()),
                Ok(_) => None,
            });
            local.or_else(|| {
                let i = index.get()?;
                let full = format!("vm[{i}].{field}");
                server_error
                    .get()
                    .and_then(|e| e.for_field(&full))
                    .or_else(|| {
                        problems.with(|ps| {
                            ps.iter()
                                .find(|p| p.field == full)
                                .map(|p| p.message.clone())
                        })
                    })
            })
        })
    };
    let id = move |field: &str| format!("vm-{key}-{field}");
    // Where it goes, and whether its host breaks a condition because of it.
    let placement = Memo::new(move |_| {
        let i = index.get()?;
        let name = row.good.with(|g| g.name.clone());
        eval.with(|e| {
            let p = e.placement.get(i)?;
            let broken: Vec<String> = e
                .verdicts
                .iter()
                .flat_map(|v| v.violations.iter())
                .filter(|v| violation_names(v, &name))
                .map(ToString::to_string)
                .collect();
            let unplaced = e
                .unplaced
                .iter()
                .find(|u| u.vm == name)
                .map(|u| u.reason.clone());
            Some((p.host.clone(), p.auto, broken, unplaced))
        })
    });
    let on_template = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        if let Some(t) = templates.with_value(|ts| ts.iter().find(|t| t.name == chosen).cloned()) {
            row.vcpus.set(t.vcpus.to_string());
            row.memory.set(t.memory_mib.to_string());
            row.disk.set(t.disk_gib.to_string());
        }
        row.template.set(chosen);
    };
    let input =
        |signal: RwSignal<String>| move |ev: leptos::ev::Event| signal.set(event_target_value(&ev));
    let enter = move |field: &'static str| {
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.shift_key() {
                ev.prevent_default();
                on_enter(key, field);
            }
        }
    };
    let has_error = move || row.parsed.with(Result::is_err);
    let bad = move || {
        has_error()
            || placement.with(|p| {
                p.as_ref().is_some_and(|(_, _, broken, unplaced)| {
                    !broken.is_empty() || unplaced.is_some()
                })
            })
    };
    let verdict = move || {
        placement.with(|p| match p {
            None => String::new(),
            Some((_, _, _, Some(reason))) => format!("✗ {reason}"),
            Some((Some(h), auto, broken, None)) if broken.is_empty() => {
                if *auto {
                    format!("→ placed on {h}")
                } else {
                    format!("on {h}")
                }
            }
            Some((Some(h), _, broken, None)) => format!("✗ on {h}: {}", broken.join("; ")),
            Some((None, _, _, None)) => "not placed".into(),
        })
    };
    // The card's one line on a phone.
    let summary = move || {
        let host = placement.with(|p| {
            p.as_ref()
                .and_then(|(h, _, _, _)| h.clone())
                .unwrap_or_else(|| "not placed".into())
        });
        format!(
            "{} · {} MiB · {} · {}",
            row.name.get(),
            row.memory.get().trim(),
            host,
            if bad() { "✗" } else { "✓" }
        )
    };
    let cell = move |field: &'static str,
                     label: &'static str,
                     signal: RwSignal<String>,
                     numeric: bool,
                     err: Option<&'static str>| {
        view! {
            <input id=id(field) aria-label=label prop:value=move || signal.get() on:input=input(signal)
                on:keydown=enter(field) disabled=move || !can_edit()
                inputmode=if numeric { "numeric" } else { "text" }
                autocapitalize="none" spellcheck="false"
                aria-invalid=move || err.is_some_and(|f| error(f).get().is_some()).to_string()
                aria-describedby=format!("vm-{key}-{field}-error")/>
            <FieldError id=format!("vm-{key}-{field}-error") message=match err {
                Some(f) => error(f),
                None => Signal::derive(|| None),
            }/>
        }
    };
    view! {
        <tr class=move || {
                let mut c = String::from("vm-row");
                if bad() { c.push_str(" vm-bad"); }
                if row.open.get() { c.push_str(" open"); }
                c
            }
            aria-label=move || format!("VM {}", row.name.get())>
            <td class="col-summary">
                <button type="button" class="vm-summary" aria-expanded=move || row.open.get().to_string()
                    on:click=move |_| row.open.update(|o| *o = !*o)>
                    {summary}
                </button>
            </td>
            <td class="col-name" data-label="Name">{cell("name", "Name", row.name, false, Some("name"))}</td>
            <td class="col-template" data-label="Template">
                <select id=id("template") aria-label="Template" on:change=on_template on:keydown=enter("template")
                    prop:value=move || row.template.get() disabled=move || !can_edit()>
                    <option value="">"Custom"</option>
                    {move || options(
                        templates.with_value(|ts| ts.iter().map(|t| t.name.clone()).collect()),
                        row.template.get(),
                    )}
                </select>
            </td>
            <td class="col-num" data-label="vCPUs">{cell("vcpus", "vCPUs", row.vcpus, true, Some("vcpus"))}</td>
            <td class="col-num col-memory" data-label="Memory (MiB)">{cell("memory", "Memory (MiB)", row.memory, true, Some("memory_mib"))}</td>
            <td class="col-num" data-label="Disk (GiB)">{cell("disk", "Disk (GiB)", row.disk, true, Some("disk_gib"))}</td>
            <td class="col-host" data-label="Host">
                <select id=id("host") aria-label="Host" on:change=input(row.host) on:keydown=enter("host")
                    prop:value=move || row.host.get() disabled=move || !can_edit()
                    aria-describedby=format!("vm-{key}-host-error")>
                    <option value="auto">"auto"</option>
                    {move || options(host_names.get(), row.host.get())}
                </select>
                <FieldError id=format!("vm-{key}-host-error") message=error("host")/>
            </td>
            <td class="col-network" data-label="Network">
                <input id=id("network") aria-label="Network" list="layout-networks" prop:value=move || row.network.get()
                    on:input=input(row.network) on:keydown=enter("network") disabled=move || !can_edit()
                    autocapitalize="none" spellcheck="false" aria-describedby=format!("vm-{key}-network-error")/>
                <FieldError id=format!("vm-{key}-network-error") message=error("network")/>
            </td>
            <td class="col-ip" data-label="Static IP">{cell("ip", "Static IP (optional)", row.ip, false, Some("ip"))}</td>
            <td class="col-start" data-label="Start">
                <input type="checkbox" id=id("start") aria-label="Start after creating"
                    prop:checked=move || row.start.get() disabled=move || !can_edit()
                    on:keydown=enter("start")
                    on:change=move |ev| row.start.set(event_target_checked(&ev))/>
            </td>
            <td class="col-verdict" data-label="Verdict">
                <span class="vm-placement" data-testid="vm-placement">{verdict}</span>
            </td>
            <td class="col-remove">
                <button type="button" class="button small secondary remove-vm" on:click=move |_| remove(key)
                    disabled=move || !can_edit()
                    aria-label=move || format!("Remove VM {}", row.name.get())
                    title="Remove (undo until you save)">"✕"</button>
            </td>
        </tr>
    }
    .into_any()
}

/// Whether a violation is about the VM called `name`.
fn violation_names(v: &crate::capacity::Violation, name: &str) -> bool {
    use crate::capacity::Violation;
    match v {
        Violation::Memory { vm, .. } | Violation::Vcpus { vm, .. } => vm == name,
        Violation::Storage { vms, .. } => vms.iter().any(|v| v == name),
        Violation::NoVirtualization { .. } => false,
    }
}

#[component]
fn HostBar(
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
                        gib_of_bytes(v.storage_needed.get()), gib_of_bytes(v.storage_available.get()),
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
    spec: Memo<Option<crate::capacity::HostSpec>>,
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
                <FieldError id=format!("{p}-yos-error") message=error_of(action.value(), "y_os_mib")/>
                <label class="check">
                    <input type="checkbox" name="allow_emulation" value="on" prop:checked=emulation/>
                    " Allow emulation without hardware virtualization"
                </label>
                {general_error(action.value())}
                <button type="submit" class="button secondary">"Save host settings"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn Placement(eval: Memo<Resolved>) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layouts::model::check_name;

    #[test]
    fn data_urls_escape_everything_but_unreserved() {
        assert_eq!(
            data_url("application/toml", "name = \"a b\"\n"),
            "data:application/toml;charset=utf-8,name%20%3D%20%22a%20b%22%0A"
        );
    }

    #[test]
    fn slugs_make_vm_names() {
        assert_eq!(slug("Web Server"), "web-server");
        assert_eq!(
            slug("File Sharing and Data Storage"),
            "file-sharing-and-data-storage"
        );
        assert_eq!(slug("  "), "vm");
        assert!(check_name(&format!("{}-10", slug("Master DNS"))).is_ok());
    }

    #[test]
    fn a_bad_number_names_its_field_and_limits_count() {
        let ok = parse_vm(
            "web-1",
            "",
            "1",
            "1024",
            "20",
            "auto",
            "network:default",
            "",
            true,
        );
        assert!(ok.is_ok());
        let bad = parse_vm(
            "web-1",
            "",
            "x",
            "8",
            "20",
            "demo",
            "wifi:x",
            "300.1.1.1",
            true,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["vcpus", "network", "ip", "memory_mib"]);
    }
}

/// The NIC new VMs start with: `network:default` when every host offers it
/// (libvirt's usual NAT network), otherwise the first network all hosts
/// share, so that a VM added to a layout can be applied as it is.
fn default_nic(view: &HostsView) -> Nic {
    let mut offered = view.networks.values();
    let Some(first) = offered.next() else {
        return Nic::default();
    };
    let common: Vec<&String> = first
        .iter()
        .filter(|n| view.networks.values().all(|all| all.contains(n)))
        .collect();
    let preferred = Nic::default().to_string();
    if common.iter().any(|n| **n == preferred) {
        return Nic::default();
    }
    common
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod default_nic_tests {
    use super::*;

    fn view(hosts: &[(&str, &[&str])]) -> HostsView {
        HostsView {
            networks: hosts
                .iter()
                .map(|(h, ns)| (h.to_string(), ns.iter().map(|n| n.to_string()).collect()))
                .collect(),
            ..HostsView::default()
        }
    }

    #[test]
    fn prefers_default_then_the_first_shared_network() {
        assert_eq!(default_nic(&view(&[])), Nic::default());
        assert_eq!(
            default_nic(&view(&[("demo", &["network:br0"])])),
            Nic::Network("br0".into())
        );
        assert_eq!(
            default_nic(&view(&[
                ("a", &["network:br0", "network:default"]),
                ("b", &["network:default"])
            ])),
            Nic::default()
        );
        assert_eq!(
            default_nic(&view(&[("a", &["network:lan"]), ("b", &["network:dmz"])])),
            Nic::default(),
            "nothing shared: libvirt's usual network"
        );
    }
}
