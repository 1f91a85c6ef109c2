//! The templates panel of `/layouts`: VM sizes to build layouts from, the
//! thin-disk fill, and (for admins) adding and editing templates.

use crate::auth::Role;
use crate::layouts::{
    layout_hosts, list_templates, DeleteTemplate, SaveTemplate, SetThinFill, TemplateDto,
};
use crate::ui::format::mib;
use crate::ui::{at_least, field_error, FieldError, FormError};
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub(super) fn TemplatesPanel() -> impl IntoView {
    let add = ServerAction::<SaveTemplate>::new();
    let remove = ServerAction::<DeleteTemplate>::new();
    let changed = RwSignal::new(0u32);
    let templates = crate::ui::resource(
        move || (add.version().get(), remove.version().get(), changed.get()),
        |_| list_templates(),
    );
    let is_admin = move || at_least(Role::Admin);
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
        <FormError value=remove.value()/>
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
    let policy = crate::ui::resource(move || set.version().get(), |_| layout_hosts());
    let is_admin = move || at_least(Role::Admin);
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
                                <FieldError id="thin-fill-error" message=field_error(set.value(), "thin_fill")/>
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
    let is_admin = move || at_least(Role::Admin);
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
            <p class="muted template-made-from">{made_from(&template)}</p>
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
        image: None,
        packages: Vec::new(),
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
            <FieldError id=format!("{p}-name-error") message=field_error(v, "name")/>
            <label for=format!("{p}-services")>"Services (one per line)"</label>
            <textarea id=format!("{p}-services") name="services" rows="3">{t.services.join("\n")}</textarea>
            <FieldError id=format!("{p}-services-error") message=field_error(v, "services")/>
            <div class="field-row">
                <div>
                    <label for=format!("{p}-memory")>"Memory (MiB)"</label>
                    <input id=format!("{p}-memory") name="memory_mib" inputmode="numeric" value=t.memory_mib.to_string()/>
                    <FieldError id=format!("{p}-memory-error") message=field_error(v, "memory_mib")/>
                </div>
                <div>
                    <label for=format!("{p}-vcpus")>"vCPUs"</label>
                    <input id=format!("{p}-vcpus") name="vcpus" inputmode="numeric" value=t.vcpus.to_string()/>
                    <FieldError id=format!("{p}-vcpus-error") message=field_error(v, "vcpus")/>
                </div>
                <div>
                    <label for=format!("{p}-disk")>"Disk (GiB)"</label>
                    <input id=format!("{p}-disk") name="disk_gib" inputmode="numeric" value=t.disk_gib.to_string()/>
                    <FieldError id=format!("{p}-disk-error") message=field_error(v, "disk_gib")/>
                </div>
            </div>
            <label class="check">
                <input type="checkbox" name="thin" value="on" checked=t.thin/>
                " Thin-provisioned disk"
            </label>
            <label for=format!("{p}-image")>"Image (its name in each host's library; empty: a blank disk)"</label>
            <input id=format!("{p}-image") name="image" value=t.image.clone().unwrap_or_default() maxlength="64"/>
            <FieldError id=format!("{p}-image-error") message=field_error(v, "image")/>
            <label for=format!("{p}-packages")>"Packages (Debian, separated by spaces; installed from a cloud image)"</label>
            <textarea id=format!("{p}-packages") name="packages" rows="2">{t.packages.join(" ")}</textarea>
            <FieldError id=format!("{p}-packages-error") message=field_error(v, "packages")/>
            <FormError value=v fields=&["name", "services", "memory_mib", "vcpus", "disk_gib", "image", "packages"]/>
            {move || matches!(v.get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Saved."</p> })}
            <button type="submit" class="button" disabled=move || action.pending().get()>
                {if id == 0 { "Add template" } else { "Save template" }}
            </button>
        </ActionForm>
    }
    .into_any()
}

/// What a template's VMs are made from, in a line.
fn made_from(t: &TemplateDto) -> String {
    let image = t.image.as_deref().map_or_else(
        || "Blank disk".to_owned(),
        |i| format!("Made from the image {i}"),
    );
    if t.packages.is_empty() {
        image
    } else {
        format!("{image} · packages: {}", t.packages.join(" "))
    }
}
