//! `/layouts`: the layouts, a new one, import from a file, and the
//! templates below them.

use super::templates::TemplatesPanel;
use crate::auth::Role;
use crate::layouts::{
    list_layouts, preview_import, CreateLayout, DeleteLayout, ImportLayout, LayoutSummary,
};
use crate::ui::format::mib;
use crate::ui::{at_least, field_error, Confirm, FieldError, FormError, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

#[component]
pub fn LayoutsPage() -> impl IntoView {
    view! {
            <LayoutsContent/>
    }
}

#[component]
fn LayoutsContent() -> impl IntoView {
    let create = ServerAction::<CreateLayout>::new();
    let delete = ServerAction::<DeleteLayout>::new();
    let layouts = crate::ui::resource(
        move || (create.version().get(), delete.version().get()),
        |_| list_layouts(),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/layouts/{id}"), Default::default());
        }
    });
    let can_edit = move || at_least(Role::Operator);
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
            <FormError value=delete.value()/>
            <Show when=can_edit>
                <article class="panel">
                    <h2>"New layout"</h2>
                    <ActionForm action=create attr:class="form" attr:aria-label="New layout">
                        <label for="layout-name">"Name"</label>
                        <input id="layout-name" name="name" required maxlength="100"
                            placeholder="paper-datacenter" aria-describedby="layout-name-error"/>
                        <FieldError id="layout-name-error" message=field_error(create.value(), "name")/>
                        <label for="layout-description">"Description"</label>
                        <input id="layout-description" name="description"
                            placeholder="The services of Table 2 on one server"/>
                        <FormError value=create.value() fields=&["name"]/>
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

/// Import a layout from a TOML or JSON file, chosen or pasted. The server
/// reads the text as it changes (the reader the import uses, which stays out
/// of the browser's code), so problems show, with their line and field,
/// before anything is saved.
#[component]
fn ImportPanel() -> impl IntoView {
    let import = ServerAction::<ImportLayout>::new();
    let text = RwSignal::new(String::new());
    let file_name = RwSignal::new(String::new());
    let preview = LocalResource::new(move || {
        let (name, t) = (file_name.get(), text.get());
        async move {
            if t.trim().is_empty() {
                None
            } else {
                Some(preview_import(name, t).await)
            }
        }
    });
    // `None` while there is nothing to read (or the answer is on its way).
    let check = move || {
        preview.get().flatten().map(|answer| {
            answer
                .map(|p| (p.name, p.vms))
                .map_err(|e| e.for_field("text").unwrap_or_else(|| e.to_string()))
        })
    };
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
                    {move || match check() {
                        Some(Err(m)) => m,
                        _ => import.value().get().and_then(|r| r.err()).and_then(|e| e.for_field("text").or_else(|| e.for_field("name").map(|m| format!("name: {m}")))).unwrap_or_default(),
                    }}
                </p>
                {move || check().and_then(|c| c.ok()).map(|(name, vms)| view! {
                    <p class="form-ok" role="status">{format!("Reads well: layout {name} with {vms} VMs.")}</p>
                })}
                <FormError value=import.value() fields=&["text", "name"]/>
                <button type="button" class="button" on:click=on_import
                    disabled=move || import.pending().get() || !matches!(check(), Some(Ok(_)))>"Import layout"</button>
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

#[component]
fn LayoutItem(layout: LayoutSummary, delete: ServerAction<DeleteLayout>) -> impl IntoView {
    let can_edit = move || at_least(Role::Operator);
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
                <div class="record-actions">
                    <Confirm
                        label="Delete…"
                        warning=format!("Delete layout {}? VMs already created stay on their hosts.", name.get_value())>
                        <ActionForm action=delete attr:class="inline-form">
                            <input type="hidden" name="id" value=id.to_string()/>
                            <button type="submit" class="button danger">"Delete layout"</button>
                        </ActionForm>
                    </Confirm>
                </div>
            </Show>
        </li>
    }
}
