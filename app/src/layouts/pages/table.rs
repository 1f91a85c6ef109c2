//! The editor's VM table: its columns (sorting), its lines (a VM, or a
//! host's heading when grouped by host) and one VM's row, every field
//! edited in place (a one-line card that opens on a phone).

use super::row::Row;
use crate::auth::Role;
use crate::error::AppError;
use crate::layouts::evaluate::{Evaluation, VmPlace};
use crate::layouts::{LayoutProblem, TemplateDto};
use crate::ui::{at_least, FieldError};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// A column of the VM table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
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
    pub(super) const ALL: [Column; 10] = [
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

    pub(super) fn title(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Template => "Template",
            Column::Vcpus => "vCPUs",
            Column::Memory => "Memory (MiB)",
            Column::Disk => "Disk (GiB)",
            Column::Host => "Host",
            Column::Network => "Network",
            Column::Ip => "Address",
            Column::Start => "Start",
            Column::Verdict => "Verdict",
        }
    }

    pub(super) fn class(self) -> &'static str {
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

    pub(super) fn sortable(self) -> bool {
        !matches!(self, Column::Start)
    }

    /// Orders two rows by this column; `placed` is where each row's VM
    /// lands (for "Verdict", by host then name).
    pub(super) fn compare(
        self,
        a: &Row,
        b: &Row,
        placed: &BTreeMap<u64, String>,
    ) -> std::cmp::Ordering {
        let text =
            |r: &Row, s: fn(&Row) -> RwSignal<String>| s(r).get_untracked().to_ascii_lowercase();
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
pub(super) enum Item {
    Group {
        host: String,
        count: usize,
        memory: u64,
    },
    Vm(Row),
}

impl Item {
    pub(super) fn key(&self) -> String {
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
pub(super) fn focus_later(id: String) {
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
pub(super) fn VmRow(
    row: Row,
    rows: RwSignal<Vec<Row>>,
    eval: RwSignal<Evaluation>,
    host_names: Memo<Vec<String>>,
    templates: StoredValue<Vec<TemplateDto>>,
    server_error: RwSignal<Option<AppError>>,
    problems: Memo<Vec<LayoutProblem>>,
    on_enter: impl Fn(u64, &'static str) + Copy + Send + Sync + 'static,
    remove: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let can_edit = move || at_least(Role::Operator);
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
        // The evaluation of the layout as last typed correctly (a change is
        // evaluated a moment later): only the entry of this VM counts.
        eval.with(|e| e.vms.get(i).filter(|p| p.vm == name).cloned())
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
    let bad = move || has_error() || placement.with(|p| p.as_ref().is_some_and(VmPlace::is_bad));
    let verdict = move || placement.with(|p| p.as_ref().map(VmPlace::verdict).unwrap_or_default());
    // The card's one line on a phone.
    let summary = move || {
        let host = placement.with(|p| {
            p.as_ref()
                .and_then(|p| p.host.clone())
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
            <td class="col-ip" data-label="Address">{cell("ip", "Address: auto or an IP (optional)", row.ip, false, Some("ip"))}</td>
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
