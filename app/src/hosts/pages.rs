//! The hosts page (every host with its memory and VMs; admins add and remove
//! hosts) and a host's page (capacity, pools, networks and the VM list with
//! its actions). Both follow the server's event stream and refetch what
//! changed, so a VM started elsewhere shows as running without a reload.
//!
//! That rebuild shapes the components: which card or VM is asking a
//! question (remove, edit, a destructive action, delete) lives in the page,
//! above the list a change rebuilds, so an open question survives it. That
//! is why the confirm rows are written here rather than with `ui::Confirm`,
//! which keeps its question in its own state. `HostCard` and `VmRow` hold
//! plain cloned values only, so a click that lands while the row is being
//! disposed reads nothing that is gone.

use super::{
    get_host, list_hosts, local_hypervisor, AddHost, DeleteVm, EditHost, HostDetail, HostSummary,
    ProtectVm, RemoveHost, RunVmAction, VmAction, VmInfo, VmState,
};
use crate::auth::Role;
use crate::ui::format::{bytes, mib_short};
use crate::ui::{at_least, field_error, ConfirmPassword, Field, FormError, MemoryBar, PageHeader};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

/// Counts the server's change notices for `host` (any host when `None`);
/// pages refetch whenever it moves. Only the browser listens.
pub fn use_host_changes(host: Option<i32>) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::{closure::Closure, JsCast};
        let Ok(source) = web_sys::EventSource::new("/events/hosts") else {
            return;
        };
        let on_host =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let data = ev.data().as_string().unwrap_or_default();
                if host.is_none() || data == "all" || data.parse::<i32>().ok() == host {
                    set_tick.update(|n| *n += 1);
                }
            });
        let _ = source.add_event_listener_with_callback("host", on_host.as_ref().unchecked_ref());
        let kept = StoredValue::new_local((source, on_host));
        on_cleanup(move || kept.with_value(|(source, _)| source.close()));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (host, set_tick);
    tick
}

#[component]
pub fn HostsPage() -> impl IntoView {
    view! {
            <HostsContent/>
    }
}

#[component]
fn HostsContent() -> impl IntoView {
    let add = ServerAction::<AddHost>::new();
    let remove = ServerAction::<RemoveHost>::new();
    let edit = ServerAction::<EditHost>::new();
    let tick = use_host_changes(None);
    // Which card is asking or editing lives here, above the list that
    // each change rebuilds.
    let asking = HostsAsking {
        remove: RwSignal::new(None),
        edit: RwSignal::new(None),
    };
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        // A refused edit keeps its form open, with what was typed.
        if let Some(Ok(_)) = edit.value().get() {
            asking.edit.set(None);
            saved.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        remove.version().track();
        asking.remove.set(None);
    });
    // While an edit form is open, changes elsewhere wait: rebuilding the
    // list would take what the admin typed. They show once it closes.
    let changes = Memo::new(
        move |shown: Option<&u32>| match (asking.edit.get(), shown) {
            (Some(_), Some(shown)) => *shown,
            _ => tick.get(),
        },
    );
    let hosts = crate::ui::resource(
        move || {
            (
                changes.get(),
                add.version().get(),
                remove.version().get(),
                saved.get(),
            )
        },
        |_| list_hosts(),
    );
    let is_admin = move || at_least(Role::Admin);
    view! {
        <section class="page">
            <PageHeader title="Hosts" summary="Physical servers and their virtual machines, through libvirt."/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match hosts.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No host yet. An admin adds one below."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="cards host-cards" aria-label="Hosts">
                                {list.into_iter().map(|h| view! { <HostCard host=h remove=remove edit=edit asking=asking/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=is_admin>
                <AddHostForm add=add/>
            </Show>
        </section>
    }
}

/// The host card asking to confirm a removal, and the one being edited.
#[derive(Clone, Copy)]
struct HostsAsking {
    remove: RwSignal<Option<i32>>,
    edit: RwSignal<Option<i32>>,
}

#[component]
fn HostCard(
    host: HostSummary,
    remove: ServerAction<RemoveHost>,
    edit: ServerAction<EditHost>,
    asking: HostsAsking,
) -> impl IntoView {
    let is_admin = move || at_least(Role::Admin);
    let id = host.id;
    let confirming = move || asking.remove.get() == Some(id);
    let editing = move || asking.edit.get() == Some(id);
    // Plain values, not reactive ones this card would own: see `VmRow`.
    let uri = host.uri.clone();
    let name = host.name.clone();
    let usage = host.memory_use();
    let (card_label, bar_name) = (format!("Host {name}"), format!("Memory of {name}"));
    view! {
        <li class="panel host-card" aria-label=card_label>
            <div class="panel-head">
                <h2><A href=format!("/hosts/{}", host.id)>{host.name.clone()}</A></h2>
                {if host.reachable {
                    view! { <span class="badge ok-badge">"Reachable"</span> }.into_any()
                } else {
                    view! { <span class="badge bad">"Unreachable"</span> }.into_any()
                }}
            </div>
            {(!host.label.is_empty()).then(|| view! { <p class="muted">{host.label.clone()}</p> })}
            <p class="uri"><code>{host.uri.clone()}</code></p>
            {host.last_error.clone().filter(|_| !host.reachable).map(|e| view! { <p class="form-error">{e}</p> })}
            <MemoryBar usage=usage name=bar_name/>
            <p>{host.vms_running} " of " {host.vms_total} " VMs running · " {host.cpus} " CPUs"
                {if host.hw_virt { " · hardware virtualization" } else { " · no hardware virtualization" }}</p>
            {move || {
                let (name, uri) = (name.clone(), uri.clone());
                is_admin().then(move || view! {
                {
                    let name = name.clone();
                    move || {
                    // The confirmation form owns a copy of its own.
                    let name = name.clone();
                    if confirming() {
                        view! {
                            <ActionForm action=remove attr:class="confirm-row">
                                <input type="hidden" name="id" value=id.to_string()/>
                                <span>{format!("Stop watching {name}? Its VMs keep running.")}</span>
                                <button type="submit" class="button danger">"Remove host"</button>
                                <button type="button" class="button secondary" on:click=move |_| asking.remove.set(None)>"Cancel"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <div class="record-actions">
                                <button type="button" class="button secondary" on:click=move |_| asking.edit.update(|e| *e = if *e == Some(id) { None } else { Some(id) })>"Edit…"</button>
                                <button type="button" class="button secondary" on:click=move |_| asking.remove.set(Some(id))>"Remove…"</button>
                            </div>
                        }.into_any()
                    }
                    }
                }
                <Show when=editing>
                    {
                    let (name, uri) = (name.clone(), uri.clone());
                    let form_label = format!("Edit host {name}");
                    view! {
                    <ActionForm action=edit attr:class="form" attr:aria-label=form_label>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <Field id=format!("edit-name-{id}") label="Name" error=field_error(edit.value(), "name")>
                            <input id=format!("edit-name-{id}") name="name" value=name.clone() required/>
                        </Field>
                        <Field id=format!("edit-uri-{id}") label="libvirt URI" error=field_error(edit.value(), "uri")>
                            <input id=format!("edit-uri-{id}") name="uri" value=uri.clone() required/>
                        </Field>
                        <ConfirmPassword id=format!("edit-password-{id}") error=field_error(edit.value(), "confirm_password")/>
                        <FormError value=edit.value() fields=&["name", "uri", "confirm_password"]/>
                        <button type="submit" class="button">"Save"</button>
                    </ActionForm>
                    }
                    }
                </Show>
                })
            }}
        </li>
    }
}

#[component]
fn AddHostForm(add: ServerAction<AddHost>) -> impl IntoView {
    let local = crate::ui::resource(|| (), |_| local_hypervisor());
    view! {
        <article class="panel add-host">
            <h2>"Add a host"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    local.await.ok().flatten().map(|uri| view! {
                        <ActionForm action=add attr:class="offer form" attr:aria-label="Add this machine">
                            <input type="hidden" name="name" value="local"/>
                            <input type="hidden" name="uri" value=uri.clone()/>
                            <p>"A libvirt daemon answers on this machine (" <code>{uri.clone()}</code> ")."</p>
                            <ConfirmPassword id="local-password" error=field_error(add.value(), "confirm_password")/>
                            <button type="submit" class="button secondary">"Add this machine"</button>
                        </ActionForm>
                    })
                })}
            </Transition>
            <ActionForm action=add attr:class="form" attr:aria-label="Add a host">
                <Field id="host-name" label="Name" error=field_error(add.value(), "name")>
                    <input id="host-name" name="name" required placeholder="proliant-1" autocapitalize="none"
                        spellcheck="false" aria-describedby="host-name-error"/>
                </Field>
                // The hint carries an id the input names, so it is one of
                // the field's children rather than `Field`'s own hint.
                <Field id="host-uri" label="libvirt URI" error=field_error(add.value(), "uri")>
                    <input id="host-uri" name="uri" required placeholder="qemu+ssh://root@proliant-1/system"
                        autocapitalize="none" spellcheck="false" aria-describedby="host-uri-hint host-uri-error"/>
                    <p class="hint" id="host-uri-hint">
                        "qemu:///system on this machine, qemu+ssh://user@host/system or qemu+tls://host/system for others. Stackyard connects once before saving."
                    </p>
                </Field>
                {move || add.value().get().and_then(Result::ok).map(|h| view! {
                    <p class="form-ok" role="status">"Added " {h.name} "."</p>
                })}
                <ConfirmPassword id="host-password" error=field_error(add.value(), "confirm_password")/>
                <FormError value=add.value() fields=&["name", "uri", "confirm_password"]/>
                <button type="submit" class="button" disabled=move || add.pending().get()>
                    {move || if add.pending().get() { "Connecting…" } else { "Add host" }}
                </button>
            </ActionForm>
        </article>
    }
}

#[component]
pub fn HostPage() -> impl IntoView {
    view! {
            <HostContent/>
    }
}

#[component]
fn HostContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let tick =
        use_host_changes(params.with_untracked(|p| p.get("id").and_then(|s| s.parse().ok())));
    let act = ServerAction::<RunVmAction>::new();
    let delete = ServerAction::<DeleteVm>::new();
    // Which VM is asking for a confirmation lives here, above the view that
    // each change on the host rebuilds: a VM started elsewhere must not
    // close the question an admin is about to answer.
    let asking = Asking {
        action: RwSignal::new(None),
        delete: RwSignal::new(None),
        protect: ServerAction::<ProtectVm>::new(),
    };
    // An answered question closes (the submit itself must not clear it,
    // or the submission is dropped with its form).
    Effect::new(move |_| {
        act.version().track();
        asking.action.set(None);
    });
    Effect::new(move |_| {
        delete.version().track();
        asking.delete.set(None);
    });
    let detail = crate::ui::resource(
        move || {
            (
                id(),
                tick.get(),
                act.version().get(),
                delete.version().get(),
                asking.protect.version().get(),
            )
        },
        |(id, ..)| get_host(id),
    );
    let action_error = move || {
        [
            act.value().get().and_then(|r| r.err()),
            delete.value().get().and_then(|r| r.err()),
            asking.protect.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <HostView detail=d act=act delete=delete asking=asking/> }.into_any(),
                    Err(e) => view! {
                        <section class="page">
                            <PageHeader title="Host"/>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || action_error().map(|e| view! { <p class="form-error toast" role="alert">{e}</p> })}
    }
}

/// The confirmation open on the host page, if any: a destructive action
/// on a VM, or deleting one.
#[derive(Clone, Copy)]
struct Asking {
    action: RwSignal<Option<(String, VmAction)>>,
    /// The VM, and whether its volumes go too.
    delete: RwSignal<Option<(String, bool)>>,
    /// An admin's protect and unprotect buttons (page-owned like the rest).
    protect: ServerAction<ProtectVm>,
}

#[component]
fn HostView(
    detail: HostDetail,
    act: ServerAction<RunVmAction>,
    delete: ServerAction<DeleteVm>,
    asking: Asking,
) -> impl IntoView {
    let s = detail.summary.clone();
    let host_id = s.id;
    let summary = if s.label.is_empty() {
        s.uri.clone()
    } else {
        format!("{} · {}", s.label, s.uri)
    };
    view! {
        <section class="page">
            <PageHeader title=s.name.clone() summary=summary/>
            {(!s.reachable).then(|| view! {
                <div class="panel error-panel" role="alert">
                    <p>"Unreachable: " {s.last_error.clone().unwrap_or_else(|| "connecting…".into())}
                       " Stackyard retries on its own; what is shown below is the last known state."</p>
                </div>
            })}
            <div class="cards">
                <article class="panel" aria-labelledby="cap-title">
                    <h2 id="cap-title">"Capacity"</h2>
                    <MemoryBar usage=s.memory_use() name=format!("Memory of {}", s.name)/>
                    {detail.capacity.clone().map(|c| view! {
                        <dl class="facts">
                            <dt>"CPU"</dt><dd>{c.cpu_model.clone()}</dd>
                            <dt>"Topology"</dt>
                            <dd>{format!("{} sockets × {} cores × {} threads = {} CPUs", c.sockets, c.cores, c.threads, c.cpus)}</dd>
                            <dt>"Virtualization"</dt>
                            <dd>{if c.hw_virt { "hardware (VT-x / AMD-V)" } else { "none: VMs would be emulated" }}</dd>
                            <dt>"Networks"</dt>
                            <dd>{c.networks.iter().map(|n| format!("{}{}", n.name, if n.active { "" } else { " (inactive)" })).collect::<Vec<_>>().join(", ")}</dd>
                        </dl>
                        <h3>"Storage pools"</h3>
                        <p><A href=format!("/hosts/{host_id}/images")>"Image library"</A>" — installer ISOs and cloud images for new VMs"</p>
                        <ul class="plain-list">
                            {c.pools.iter().map(|p| view! {
                                <li>{format!("{}: {} available of {} ({} allocated){}", p.name,
                                    bytes(p.available),
                                    bytes(p.capacity),
                                    bytes(p.allocation),
                                    if p.active { "" } else { ", inactive" })}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </article>
            </div>
            <h2 class="section-title">"Virtual machines"</h2>
            {if detail.vms.is_empty() {
                view! { <p class="muted">"No VM on this host."</p> }.into_any()
            } else {
                view! {
                    <ul class="record-list" aria-label="Virtual machines">
                        {detail.vms.into_iter().map(|vm| {
                            let protected = detail.protected.contains(&vm.name);
                            view! { <VmRow host=host_id vm=vm protected=protected act=act delete=delete asking=asking/> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn VmRow(
    host: i32,
    vm: VmInfo,
    protected: bool,
    act: ServerAction<RunVmAction>,
    delete: ServerAction<DeleteVm>,
    asking: Asking,
) -> impl IntoView {
    // Each change on the host rebuilds the list, disposing this row while a
    // click on it may still be on its way (a VM started elsewhere as an admin
    // confirms "Force off" here). So the row keeps no reactive values of its
    // own, only plain ones its closures own: a late closure then reads
    // nothing that is gone. What outlives the row (`asking`, the actions,
    // the session) belongs to the page.
    // A protected VM's buttons are an admin's only.
    let can_operate = move || {
        at_least(if protected {
            Role::Admin
        } else {
            Role::Operator
        })
    };
    let is_admin = move || at_least(Role::Admin);
    let actions = VmAction::available(&vm);
    let shut_off = vm.state == VmState::ShutOff;
    // This row's question, while it still applies to the VM's state.
    let confirming = {
        let (vm, actions) = (vm.name.clone(), actions.clone());
        move || {
            asking
                .action
                .get()
                .filter(|(n, a)| *n == vm && actions.contains(a))
                .map(|(_, a)| a)
        }
    };
    let deleting = {
        let vm = vm.name.clone();
        move || {
            shut_off
                && asking
                    .delete
                    .with(|d| d.as_ref().is_some_and(|(n, _)| *n == vm))
        }
    };
    let state_class = format!("state state-{:?}", vm.state).to_ascii_lowercase();
    let disk = vm
        .disks
        .iter()
        .map(|d| {
            format!(
                "{}: {} / {}",
                d.target,
                d.allocation.map(bytes).unwrap_or_else(|| "?".into()),
                d.capacity.map(bytes).unwrap_or_else(|| "?".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let name = vm.name.clone();
    let delete_name = vm.name.clone();
    view! {
        <li class="record vm" aria-label=format!("VM {}", vm.name)>
            <div class="record-main">
                // A full load (rel=external): the VM's page has a security
                // policy of its own, for its consoles.
                <strong><a href=crate::consoles::pages::vm_path(host, &vm.name) rel="external">{vm.name.clone()}</a></strong>
                <span class=state_class data-testid="vm-state">{vm.state.label()}</span>
                {protected.then(|| view! {
                    <span class="badge" title="Only an admin may start, stop or delete it">"Protected"</span>
                })}
            </div>
            <dl class="facts compact">
                <dt>"vCPUs"</dt><dd>{vm.vcpus}</dd>
                <dt>"Memory"</dt><dd>{mib_short(vm.memory_mib)}</dd>
                <dt>"Disks"</dt><dd>{if disk.is_empty() { "none".to_owned() } else { disk }}</dd>
                <dt>"Autostart"</dt><dd>{if vm.autostart { "on" } else { "off" }}</dd>
                {(!vm.addresses.is_empty()).then(|| view! { <dt>"Addresses"</dt><dd>{vm.addresses.join(", ")}</dd> })}
            </dl>
            {(vm.state == VmState::Running && (vm.consoles.screen || vm.consoles.serial)).then(|| {
                let href = crate::consoles::pages::vm_path(host, &vm.name);
                move || can_operate().then(|| view! {
                    <a class="button secondary small" href=href.clone() rel="external">"Console"</a>
                })
            })}
            {
                let name = vm.name.clone();
                move || is_admin().then(|| {
                    let name = name.clone();
                    view! {
                        <ActionForm action=asking.protect attr:class="inline-form">
                            <input type="hidden" name="host" value=host.to_string()/>
                            <input type="hidden" name="vm" value=name.clone()/>
                            <input type="hidden" name="protected" value=(!protected).to_string()/>
                            <button type="submit" class="button secondary small">
                                {if protected { "Unprotect" } else { "Protect" }}
                            </button>
                        </ActionForm>
                    }
                })
            }
            {move || (protected && !is_admin() && at_least(Role::Operator)).then(|| view! {
                <p class="hint">"Protected: only an admin may start, stop or delete it."</p>
            })}
            {move || {
                let (name, actions, delete_name) = (name.clone(), actions.clone(), delete_name.clone());
                let (confirming, deleting) = (confirming.clone(), deleting.clone());
                can_operate().then(move || view! {
                {
                    move || {
                        let name = name.clone();
                        match confirming() {
                            Some(a) => view! {
                                <ActionForm action=act attr:class="confirm-row">
                                    <input type="hidden" name="host" value=host.to_string()/>
                                    <input type="hidden" name="vm" value=name.clone()/>
                                    <input type="hidden" name="action" value=a.as_str()/>
                                    <span>{format!("{} {name}? Unsaved work inside the VM is lost.", a.label())}</span>
                                    // No click handler here: clearing the row before the
                                    // submit event would drop the submission. The list
                                    // re-renders when the action completes.
                                    <button type="submit" class="button danger">
                                        {format!("Confirm {}", a.label().to_ascii_lowercase())}
                                    </button>
                                    <button type="button" class="button secondary" on:click=move |_| asking.action.set(None)>"Cancel"</button>
                                </ActionForm>
                            }.into_any(),
                            None => view! {
                                <div class="record-actions">
                                    {actions.iter().map(|a| {
                                        let a = *a;
                                        let name = name.clone();
                                        if a.destructive() {
                                            view! {
                                                <button type="button" class="button secondary"
                                                    on:click=move |_| asking.action.set(Some((name.clone(), a)))>{a.label()}</button>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=act attr:class="inline-form">
                                                    <input type="hidden" name="host" value=host.to_string()/>
                                                    <input type="hidden" name="vm" value=name.clone()/>
                                                    <input type="hidden" name="action" value=a.as_str()/>
                                                    <button type="submit" class="button secondary">{a.label()}</button>
                                                </ActionForm>
                                            }.into_any()
                                        }
                                    }).collect_view()}
                                    {shut_off.then(|| view! {
                                        <button type="button" class="button secondary" on:click=move |_| asking.delete.set(Some((name.clone(), false)))>"Delete…"</button>
                                    })}
                                </div>
                            }.into_any(),
                        }
                    }
                }
                <Show when=deleting>
                    {
                    // The form's children are moved into it: each showing
                    // gets its own copy.
                    let delete_name = delete_name.clone();
                    view! {
                    <ActionForm action=delete attr:class="confirm-row">
                        <input type="hidden" name="host" value=host.to_string()/>
                        <input type="hidden" name="vm" value=delete_name.clone()/>
                        <label for=format!("vols-{delete_name}")>{format!("Delete {delete_name} and:")}</label>
                        <select id=format!("vols-{delete_name}") name="delete_volumes"
                            on:change=move |ev| {
                                let too = event_target_value(&ev) == "true";
                                asking.delete.update(|d| if let Some((_, v)) = d { *v = too });
                            }>
                            <option value="false">"keep its disk volumes"</option>
                            <option value="true" selected=move || asking.delete.with(|d| d.as_ref().is_some_and(|(_, v)| *v))>
                                "delete its disk volumes too"
                            </option>
                        </select>
                        <button type="submit" class="button danger">"Delete VM"</button>
                        <button type="button" class="button secondary" on:click=move |_| asking.delete.set(None)>"Cancel"</button>
                    </ActionForm>
                    }
                    }
                </Show>
                })
            }}
        </li>
    }
}
