//! `/layouts/{id}`: the editor. The layout's name, its VMs as a table
//! (see [`super::table`]), export, save, the apply panel, and beside them
//! the hosts as the layout leaves them.

use super::apply::ApplyPanel;
use super::hosts::{host_names, CapacitySide, HostBars};
use super::networks::{NetRow, NetworksForm};
use super::read::LayoutRead;
use super::row::{default_nic, slug, Row};
use super::table::{focus_later, Column, Item, VmRow};
use crate::auth::Role;
use crate::error::AppError;
use crate::layouts::evaluate::Evaluation;
use crate::layouts::file::FileFormat;
use crate::layouts::model::{AddressChoice, LayoutNetwork};
use crate::layouts::{
    export_layout, layout_editor, read_layout, EditorView, HostChoice, HostsView, LayoutSpec,
    LayoutVm, SaveLayout, TemplateDto,
};
use crate::ui::{at_least, ChunkLoadError, FieldError, PageHeader};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

#[component]
pub fn LayoutPage() -> impl IntoView {
    view! {
            <LayoutContent/>
    }
}

#[component]
fn LayoutContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let data = crate::ui::resource(id, |id| async move {
        read_layout(id).await.map(|reading| (id, reading))
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((id, reading)) => view! { <LayoutRead id=id reading=reading/> }.into_any(),
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

/// What the editor's chunk hands back: the editor, or why the layout could
/// not be opened in it.
pub(super) type EditorArrival = Pin<Box<dyn Future<Output = Result<AnyView, AppError>>>>;

/// The editor: a chunk of its own, fetched when "Edit layout" is clicked
/// (the page opens with the layout to read, see [`super::read`]). It asks
/// for the layout, the hosts and the templates itself, so the code that
/// reads them comes with it rather than with the page.
#[leptos::wasm_split::wasm_split(LayoutRoute__Editor, wasm_split_path = ::leptos::wasm_split, fallible)]
pub(super) fn editor_body(id: i32) -> Result<EditorArrival, ChunkLoadError> {
    Ok(Box::pin(async move {
        let view = layout_editor(id).await?;
        Ok(view! { <Editor id=id view=view/> }.into_any())
    }))
}

#[component]
fn Editor(id: i32, view: EditorView) -> impl IntoView {
    let EditorView {
        spec,
        hosts,
        templates,
        evaluation,
    } = view;
    let can_edit = move || at_least(Role::Operator);
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
    // Set in a layout file; the editor keeps it as it is.
    let cloud_init = StoredValue::new(spec.cloud_init.clone());
    let zone = RwSignal::new(spec.zone.clone().unwrap_or_default());
    let nets = RwSignal::new(
        spec.networks
            .iter()
            .enumerate()
            .map(|(i, n)| NetRow::new(i as u64, Some(n)))
            .collect::<Vec<_>>(),
    );
    let zone_now = move || {
        let z = zone.get();
        let z = z.trim();
        (!z.is_empty()).then(|| z.to_owned())
    };
    // The networks as last typed correctly (a row being typed keeps the
    // last good set, so the layout's checks keep their row numbers).
    let networks = Memo::new(move |prev: Option<&Vec<LayoutNetwork>>| {
        let all: Option<Vec<LayoutNetwork>> =
            nets.with(|ns| ns.iter().map(|r| r.parsed.get().ok()).collect());
        all.unwrap_or_else(|| prev.cloned().unwrap_or_default())
    });
    let server_error = RwSignal::new(None::<AppError>);
    let saved = RwSignal::new(None::<String>);

    // The layout as last typed correctly, and where it lands.
    let good = Memo::new(move |_| LayoutSpec {
        zone: zone_now(),
        networks: networks.get(),
        cloud_init: cloud_init.get_value(),
        name: name.get(),
        description: description.get(),
        vms: rows.with(|rs| rs.iter().map(|r| r.good.get()).collect()),
    });
    let problems = Memo::new(move |_| good.with(LayoutSpec::problems));
    // Where it lands: the server's evaluation first, then each change
    // evaluated here (the code for it is fetched at the first change).
    let eval = RwSignal::new(evaluation);
    let eval_failed = RwSignal::new(false);
    let asked = StoredValue::new(0u64);
    // What was last evaluated: the layout and hosts as the editor opened.
    let evaluated = StoredValue::new(None::<(LayoutSpec, HostsView)>);
    Effect::new(move |_| {
        let spec = good.get();
        let view = hosts.get();
        let unchanged =
            evaluated.with_value(|e| e.as_ref().is_some_and(|(s, h)| *s == spec && *h == view));
        if evaluated.with_value(Option::is_none) || unchanged {
            evaluated.set_value(Some((spec, view)));
            return;
        }
        evaluated.set_value(Some((spec.clone(), view.clone())));
        let n = asked.get_value() + 1;
        asked.set_value(n);
        let templates = templates.get_value();
        leptos::task::spawn_local(async move {
            match evaluate_here(spec, view, templates).await {
                // Only the answer to the latest change is shown.
                Ok(e) if asked.try_get_value() == Some(n) => {
                    eval.try_set(e);
                    eval_failed.try_set(false);
                }
                Ok(_) => {}
                Err(ChunkLoadError) => {
                    eval_failed.try_set(true);
                }
            }
        });
    });

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
            // Packages only come with an image (a blank disk has no
            // cloud-init to install them).
            let image = template.as_ref().and_then(|t| t.image.clone());
            let packages = template
                .as_ref()
                .filter(|_| image.is_some())
                .map(|t| t.packages.clone())
                .unwrap_or_default();
            let vm = match &like {
                // Like it: "auto" stays (each VM gets its own address), a
                // typed address and a full name are the other VM's own.
                Some(l) => LayoutVm {
                    name: vm_name,
                    ip: l.ip.filter(|a| *a == AddressChoice::Auto),
                    fqdn: None,
                    ..l.clone()
                },
                None => LayoutVm {
                    image,
                    packages,
                    commands: Vec::new(),
                    user_data: None,
                    name: vm_name,
                    template: template.as_ref().map(|t| t.name.clone()),
                    vcpus: template.as_ref().map_or(1, |t| t.vcpus),
                    memory_mib: template.as_ref().map_or(1024, |t| t.memory_mib),
                    disk_gib: template.as_ref().map_or(20, |t| t.disk_gib),
                    host: HostChoice::Auto,
                    network: network.clone(),
                    ip: None,
                    fqdn: None,
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
                    .zip(&e.vms)
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
                    .vms
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
        let mut networks = Vec::new();
        for (i, r) in nets.get_untracked().iter().enumerate() {
            match r.parsed.get_untracked() {
                Ok(n) => networks.push(n),
                Err(p) => {
                    let (field, message) = p.into_iter().next().unwrap_or(("nic", String::new()));
                    server_error.set(Some(AppError::invalid(
                        format!("network[{i}].{field}"),
                        format!("{message} (fix the marked fields before saving)"),
                    )));
                    return;
                }
            }
        }
        server_error.set(None);
        save.dispatch(SaveLayout {
            id,
            spec: LayoutSpec {
                zone: zone.with_untracked(|z| Some(z.trim().to_owned()).filter(|z| !z.is_empty())),
                networks,
                cloud_init: cloud_init.get_value(),
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
    let host_names = host_names(hosts);
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
            <NetworksForm zone=zone nets=nets field_error=field_error can_edit=can_edit/>
            }.into_any()}
            {view! {
            <ExportRow export=move |format| export_layout(good.get_untracked(), format) name=name.into()/>
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
            <ApplyPanel layout_id=id saves=save.version().into()/>
            </div>
            }.into_any()}
            {view! {
            <CapacitySide eval=eval unreachable=Signal::derive(move || hosts.with(|h| h.unreachable.clone()))
                eval_failed=eval_failed>
                <HostBars hosts=hosts eval=eval/>
            </CapacitySide>
            }.into_any()}
            </div>
        </section>
    }
    .into_any()
}

/// The layout evaluated in the browser: a chunk of its own (the placement
/// search and the capacity model), fetched at the first change.
#[leptos::wasm_split::wasm_split(LayoutRoute__Evaluate, wasm_split_path = ::leptos::wasm_split, fallible)]
fn evaluate_here(
    spec: LayoutSpec,
    hosts: HostsView,
    templates: Vec<TemplateDto>,
) -> Result<Evaluation, ChunkLoadError> {
    Ok(Evaluation::of(&spec, &hosts, &templates))
}

/// The layout as evaluated, saved as a TOML or JSON file: `export` asks the
/// server for the text (the browser carries no TOML writer), the browser
/// saves it.
#[component]
pub(super) fn ExportRow<F, Fut>(export: F, name: Signal<String>) -> impl IntoView
where
    F: Fn(FileFormat) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, AppError>> + Send + 'static,
{
    let export = Action::new(move |format: &FileFormat| {
        let format = *format;
        let text = export(format);
        async move { (format, text.await) }
    });
    Effect::new(move |_| {
        if let Some((format, Ok(text))) = export.value().get() {
            let ext = format.extension();
            let mime = if ext == "json" {
                "application/json"
            } else {
                "application/toml"
            };
            save_as(
                &format!("{}.{ext}", slug(&name.get_untracked())),
                &data_url(mime, &text),
            );
        }
    });
    let failed = move || match export.value().get() {
        Some((_, Err(e))) => e.for_field("text").unwrap_or_else(|| e.to_string()),
        _ => String::new(),
    };
    view! {
        <div class="export-row" role="group" aria-label="Export">
            <span class="muted">"Export as evaluated:"</span>
            {[FileFormat::Toml, FileFormat::Json].into_iter().map(|format| view! {
                <button type="button" class="button secondary" disabled=move || export.pending().get()
                    on:click=move |_| { export.dispatch(format); }>
                    {format!("Export {}", format.extension().to_ascii_uppercase())}
                </button>
            }).collect_view()}
            <span class="field-error" role="alert">{failed}</span>
        </div>
    }
}

/// Saves `href` (a `data:` URL) under `file_name`, as a download link would.
fn save_as(file_name: &str, href: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Ok(link) = document().create_element("a") {
            let link: web_sys::HtmlAnchorElement = link.unchecked_into();
            link.set_href(href);
            link.set_download(file_name);
            link.click();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (file_name, href);
}

/// A `data:` URL holding `text`, for download links.
pub(super) fn data_url(mime: &str, text: &str) -> String {
    crate::ui::download::data_url_of(mime, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_escape_everything_but_unreserved() {
        assert_eq!(
            data_url("application/toml", "name = \"a b\"\n"),
            "data:application/toml;charset=utf-8,name%20%3D%20%22a%20b%22%0A"
        );
    }
}
