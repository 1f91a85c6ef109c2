//! A VM's page: what it is, and its consoles. The screen (noVNC) and the
//! serial line (xterm.js) are drawn by `js/console.js`, which loads those
//! libraries only when a console is opened. The consoles sit outside the
//! part of the page that refetches on every change of the host, so a VM
//! event never tears an open console down.

use crate::auth::Role;
use crate::consoles::ConsoleKind;
use crate::hosts::pages::use_host_changes;
use crate::hosts::{get_host, VmInfo, VmState};
use crate::ui::format::mib_short;
use crate::ui::{at_least, PageHeader};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

/// The path of VM `vm`'s page on host `host`.
pub fn vm_path(host: i32, vm: &str) -> String {
    format!("/hosts/{host}/vms/{vm}")
}

#[component]
pub fn VmPage() -> impl IntoView {
    let params = use_params_map();
    let host =
        params.with_untracked(|p| p.get("id").and_then(|s| s.parse::<i32>().ok()).unwrap_or(0));
    let name = params.with_untracked(|p| p.get("name").unwrap_or_default());
    let tick = use_host_changes(Some(host));
    let detail = crate::ui::resource(move || tick.get(), move |_| get_host(host));
    // What the consoles need of the host's answer, copied out by an effect:
    // effects run after hydration, so the server's page and the browser's
    // first render agree (the resource, read outside its Transition, would
    // be pending on the server and ready in the browser). The consoles
    // stay outside the Transition, which rebuilds on every host change.
    let vm = RwSignal::new(None::<VmInfo>);
    let host_name = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    let vm_name = name.clone();
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            host_name.set(Some(d.summary.name.clone()));
            vm.set(d.vms.into_iter().find(|v| v.name == vm_name));
            loaded.set(true);
        }
    });
    let missing = Memo::new(move |_| loaded.get() && vm.with(Option::is_none));
    let (facts_name, panel_name) = (name.clone(), StoredValue::new(name.clone()));
    view! {
        <section class="page">
            <PageHeader title=name.clone() summary="Virtual machine"/>
            <p class="breadcrumb">
                <A href=format!("/hosts/{host}")>
                    {move || format!("← {}", host_name.get().unwrap_or_else(|| "Host".into()))}
                </A>
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {
                    move || {
                        let name = facts_name.clone();
                        Suspend::new(async move {
                            match detail.await {
                                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                                Ok(d) => {
                                    let found = d.vms.into_iter().find(|v| v.name == name);
                                    view! { <VmFacts vm=found/> }.into_any()
                                }
                            }
                        })
                    }
                }
            </Transition>
            <Show when=move || !missing.get()>
                // The console first: on a phone it is what the page is
                // opened for (and xterm draws only what is in view).
                <ConsolePanel host=host vm=panel_name.get_value() info=vm loaded=loaded/>
                <crate::images::pages::MediaPanel host=host vm=panel_name.get_value()
                    running=Memo::new(move |_| vm.with(|v| v.as_ref().map(|v| v.state == VmState::Running)))/>
            </Show>
        </section>
    }
}

#[component]
fn VmFacts(vm: Option<VmInfo>) -> impl IntoView {
    match vm {
        None => {
            view! { <p class="form-error" role="alert">"This host has no VM of that name."</p> }
                .into_any()
        }
        Some(vm) => {
            let state_class = format!("state state-{:?}", vm.state).to_ascii_lowercase();
            view! {
                <dl class="facts compact">
                    <dt>"State"</dt><dd><span class=state_class data-testid="vm-state">{vm.state.label()}</span></dd>
                    <dt>"vCPUs"</dt><dd>{vm.vcpus}</dd>
                    <dt>"Memory"</dt><dd>{mib_short(vm.memory_mib)}</dd>
                    {(!vm.addresses.is_empty()).then(|| view! { <dt>"Addresses"</dt><dd>{vm.addresses.join(", ")}</dd> })}
                </dl>
            }.into_any()
        }
    }
}

/// Where a console stands, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
// Connected comes from the browser's console only.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Link {
    Idle,
    Connecting,
    Connected,
    Closed(String),
}

impl Link {
    fn words(&self) -> String {
        match self {
            Link::Idle => "Not connected.".into(),
            Link::Connecting => "Connecting…".into(),
            Link::Connected => "Connected.".into(),
            Link::Closed(why) if why.is_empty() => "Closed.".into(),
            Link::Closed(why) => format!("Closed: {why}."),
        }
    }
}

/// The keys of the toolbar: (label, key name for js/console.js).
const KEYS: &[(&str, &str)] = &[
    ("Esc", "Escape"),
    ("Tab", "Tab"),
    ("←", "Left"),
    ("↑", "Up"),
    ("↓", "Down"),
    ("→", "Right"),
    ("F2", "F2"),
    ("F10", "F10"),
    ("F12", "F12"),
];

#[component]
fn ConsolePanel(
    host: i32,
    vm: String,
    info: RwSignal<Option<VmInfo>>,
    loaded: RwSignal<bool>,
) -> impl IntoView {
    let consoles = Memo::new(move |_| info.get().map(|v| v.consoles).unwrap_or_default());
    let running = Memo::new(move |_| {
        info.get()
            .is_some_and(|v| matches!(v.state, VmState::Running | VmState::Paused))
    });
    let kind = RwSignal::new(None::<ConsoleKind>);
    let link = RwSignal::new(Link::Idle);
    let fit = RwSignal::new(true);
    let target = NodeRef::<leptos::html::Div>::new();
    let keys = NodeRef::<leptos::html::Textarea>::new();
    let frame = NodeRef::<leptos::html::Div>::new();
    // The first console the VM has, once it is known.
    Effect::new(move |_| {
        if kind.get_untracked().is_none() {
            let c = consoles.get();
            if c.screen {
                kind.set(Some(ConsoleKind::Screen));
            } else if c.serial {
                kind.set(Some(ConsoleKind::Serial));
            }
        }
    });
    let session = browser::Session::new(target, keys, link);
    let vm = StoredValue::new(vm);
    let connect = move |_| {
        if let Some(k) = kind.get_untracked() {
            session.open(host, vm.get_value(), k);
        }
    };
    let disconnect = move |_| session.close();
    let tab = move |k: ConsoleKind| {
        move |_| {
            if kind.get_untracked() != Some(k) {
                session.close();
                link.set(Link::Idle);
                kind.set(Some(k));
            }
        }
    };
    let operator = move || at_least(Role::Operator);
    let live = move || matches!(link.get(), Link::Connected | Link::Connecting);
    // A VM without a screen or a serial port has nothing to connect to:
    // the buttons and the frame are left out of sight.
    let none = move || {
        info.with(|v| {
            v.as_ref()
                .is_some_and(|v| !v.consoles.screen && !v.consoles.serial)
        })
    };
    view! {
        <article class="panel console" class:console-none=none aria-labelledby="console-title">
            <h2 id="console-title">"Console"</h2>
            {move || {
                let c = consoles.get();
                (c.screen || c.serial).then(|| view! {
                    <div class="tabs" role="group" aria-label="Console">
                        {c.screen.then(|| view! {
                            <button type="button" class="button secondary small"
                                aria-pressed=move || (kind.get() == Some(ConsoleKind::Screen)).to_string()
                                on:click=tab(ConsoleKind::Screen)>"Screen"</button>
                        })}
                        {c.serial.then(|| view! {
                            <button type="button" class="button secondary small"
                                aria-pressed=move || (kind.get() == Some(ConsoleKind::Serial)).to_string()
                                on:click=tab(ConsoleKind::Serial)>"Serial"</button>
                        })}
                    </div>
                })
            }}
            {move || {
                let c = consoles.get();
                (!c.screen && !c.serial && info.get().is_some()).then(|| view! {
                    <p class="muted">"This VM has neither a screen (VNC) nor a serial port."</p>
                })
            }}
            <p class="console-state" data-testid="console-state" role="status">
                {move || if !loaded.get() {
                    "Reading the VM…".to_owned()
                } else if running.get() || live() {
                    link.get().words()
                } else {
                    "The VM is not running: start it to see its console.".to_owned()
                }}
            </p>
            <Show when=operator fallback=|| view! { <p class="hint">"Consoles are for operators and admins."</p> }>
                <div class="console-actions">
                    <Show when=live fallback=move || view! {
                        <button type="button" class="button" on:click=connect
                            disabled=move || !running.get() || kind.get().is_none()>"Connect"</button>
                    }>
                        <button type="button" class="button secondary" on:click=disconnect>"Disconnect"</button>
                    </Show>
                </div>
                <div class="console-toolbar" role="toolbar" aria-label="Keys">
                    {move || (kind.get() == Some(ConsoleKind::Screen)).then(|| view! {
                        <button type="button" class="button secondary small" on:click=move |_| session.ctrl_alt_del()>"Ctrl+Alt+Del"</button>
                    })}
                    {KEYS.iter().map(|(label, key)| {
                        let key = *key;
                        view! {
                            <button type="button" class="button secondary small" on:click=move |_| session.key(key)>{*label}</button>
                        }
                    }).collect_view()}
                    {move || (kind.get() == Some(ConsoleKind::Serial)).then(|| view! {
                        <button type="button" class="button secondary small" on:click=move |_| session.key("CtrlC")>"Ctrl+C"</button>
                    })}
                    {move || (kind.get() == Some(ConsoleKind::Screen)).then(|| view! {
                        <button type="button" class="button secondary small" aria-pressed=move || fit.get().to_string()
                            on:click=move |_| { fit.update(|f| *f = !*f); session.fit(fit.get_untracked()); }>"Fit"</button>
                    })}
                    <button type="button" class="button secondary small" on:click=move |_| session.full_screen(frame)>"Full screen"</button>
                    <button type="button" class="button secondary small" on:click=move |_| session.keyboard()>"Keyboard"</button>
                </div>
            </Show>
            <div class="console-frame" node_ref=frame>
                <div class="console-screen" node_ref=target data-testid="console-screen"></div>
            </div>
            <textarea class="console-keys" node_ref=keys aria-label="Keys for the console"
                autocapitalize="off" autocomplete="off" spellcheck="false"></textarea>
        </article>
    }
}

/// The open console, in the browser. On the server it is inert.
mod browser {
    use super::*;

    /// The page's one console: opened with a ticket, driven by the
    /// toolbar, closed when the page goes.
    #[derive(Clone, Copy)]
    pub struct Session {
        #[cfg(feature = "hydrate")]
        handle: StoredValue<Option<glue::Handle>, LocalStorage>,
        #[cfg(feature = "hydrate")]
        target: NodeRef<leptos::html::Div>,
        #[cfg(feature = "hydrate")]
        keys: NodeRef<leptos::html::Textarea>,
        link: RwSignal<Link>,
    }

    impl Session {
        pub fn new(
            target: NodeRef<leptos::html::Div>,
            keys: NodeRef<leptos::html::Textarea>,
            link: RwSignal<Link>,
        ) -> Session {
            #[cfg(not(feature = "hydrate"))]
            let _ = (target, keys);
            let session = Session {
                #[cfg(feature = "hydrate")]
                handle: StoredValue::new_local(None),
                #[cfg(feature = "hydrate")]
                target,
                #[cfg(feature = "hydrate")]
                keys,
                link,
            };
            #[cfg(feature = "hydrate")]
            {
                // Reached by a link inside the app: this document's
                // security policy is another page's; load this page itself.
                if glue::loaded_elsewhere() {
                    let _ = window().location().reload();
                }
                on_cleanup(move || session.close());
            }
            session
        }

        /// Asks for a ticket and opens `kind` of `vm` on `host`.
        pub fn open(self, host: i32, vm: String, kind: ConsoleKind) {
            self.close();
            self.link.set(Link::Connecting);
            #[cfg(feature = "hydrate")]
            leptos::task::spawn_local(async move {
                let ticket = match open_console(host, vm, kind.as_str().to_owned()).await {
                    Ok(t) => t,
                    Err(e) => {
                        self.link
                            .set(Link::Closed(e.to_string().trim_end_matches('.').to_owned()));
                        return;
                    }
                };
                let Some(target) = self.target.get_untracked() else {
                    return;
                };
                match glue::open(kind.as_str(), &target, &ticket.path, self.link).await {
                    Ok(handle) => {
                        if let Some(keys) = self.keys.get_untracked() {
                            glue::attach_keyboard(&keys, &handle);
                        }
                        self.handle.set_value(Some(handle));
                    }
                    Err(why) => self.link.set(Link::Closed(why)),
                }
            });
            #[cfg(not(feature = "hydrate"))]
            let _ = (host, vm, kind);
        }

        pub fn close(self) {
            #[cfg(feature = "hydrate")]
            if let Some(Some(handle)) = self.handle.try_update_value(Option::take) {
                handle.close();
            }
            if matches!(
                self.link.get_untracked(),
                Link::Connected | Link::Connecting
            ) {
                self.link.set(Link::Closed("disconnected".into()));
            }
        }

        pub fn key(self, name: &'static str) {
            #[cfg(feature = "hydrate")]
            self.handle.with_value(|h| {
                if let Some(h) = h {
                    h.key(name);
                    h.focus();
                }
            });
            #[cfg(not(feature = "hydrate"))]
            let _ = name;
        }

        pub fn ctrl_alt_del(self) {
            #[cfg(feature = "hydrate")]
            self.handle.with_value(|h| {
                if let Some(h) = h {
                    h.ctrl_alt_del();
                    h.focus();
                }
            });
        }

        pub fn fit(self, on: bool) {
            #[cfg(feature = "hydrate")]
            self.handle.with_value(|h| {
                if let Some(h) = h {
                    h.fit(on);
                }
            });
            #[cfg(not(feature = "hydrate"))]
            let _ = on;
        }

        /// Opens the phone's on-screen keyboard: its keys reach the
        /// console through the hidden textarea.
        pub fn keyboard(self) {
            #[cfg(feature = "hydrate")]
            if let Some(keys) = self.keys.get_untracked() {
                let _ = keys.focus();
            }
        }

        pub fn full_screen(self, frame: NodeRef<leptos::html::Div>) {
            #[cfg(feature = "hydrate")]
            if let Some(frame) = frame.get_untracked() {
                glue::full_screen(&frame);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = frame;
        }
    }

    #[cfg(feature = "hydrate")]
    use crate::consoles::open_console;
}

/// The bindings to `js/console.js`.
#[cfg(feature = "hydrate")]
mod glue {
    use super::Link;
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen(module = "/js/console.js")]
    extern "C" {
        /// A console opened by `openConsole`.
        pub type Handle;

        #[wasm_bindgen(js_name = loadedElsewhere)]
        pub fn loaded_elsewhere() -> bool;

        #[wasm_bindgen(js_name = openConsole)]
        fn open_console(
            kind: &str,
            target: &web_sys::HtmlElement,
            path: &str,
            on_state: &js_sys::Function,
        ) -> js_sys::Promise;

        #[wasm_bindgen(js_name = attachKeyboard)]
        fn attach_keyboard_js(area: &web_sys::HtmlTextAreaElement, handle: &Handle);

        #[wasm_bindgen(js_name = fullScreen)]
        fn full_screen_js(element: &web_sys::HtmlElement);

        #[wasm_bindgen(method)]
        pub fn key(this: &Handle, name: &str);
        #[wasm_bindgen(method)]
        pub fn focus(this: &Handle);
        #[wasm_bindgen(method, js_name = ctrlAltDel)]
        pub fn ctrl_alt_del(this: &Handle);
        #[wasm_bindgen(method)]
        pub fn fit(this: &Handle, on: bool);
        #[wasm_bindgen(method)]
        pub fn close(this: &Handle);
    }

    use web_sys::js_sys;

    /// Opens the console; its later state changes go to `link`.
    pub async fn open(
        kind: &str,
        target: &web_sys::HtmlDivElement,
        path: &str,
        link: RwSignal<Link>,
    ) -> Result<Handle, String> {
        let on_state = Closure::<dyn Fn(String, String)>::new(move |state: String, why: String| {
            let _ = link.try_set(match state.as_str() {
                "connected" => Link::Connected,
                _ => Link::Closed(why),
            });
        });
        let promise = open_console(kind, target, path, on_state.as_ref().unchecked_ref());
        // The callback lives as long as the console may call it.
        on_state.forget();
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(handle) => Ok(handle.unchecked_into()),
            Err(e) => Err(e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "the console could not be opened".into())),
        }
    }

    pub fn attach_keyboard(area: &web_sys::HtmlTextAreaElement, handle: &Handle) {
        attach_keyboard_js(area, handle);
    }

    pub fn full_screen(element: &web_sys::HtmlDivElement) {
        full_screen_js(element);
    }
}
