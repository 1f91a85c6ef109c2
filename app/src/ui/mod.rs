//! What every page shares: the header with the product name, the navigation
//! (a menu button below 700 px), the content frame, and the pages shown for
//! a missing route or a failed request.

pub mod confirm;
pub mod download;
pub mod form;
pub mod format;
pub mod loaded;
pub mod memory_bar;
pub mod on_demand;
pub mod resource;
pub mod session;
pub mod table;
pub mod time;

pub use confirm::Confirm;
pub use download::{data_url, DownloadLink};
pub use form::{bump_on_success, field_error, ConfirmPassword, Field, FieldError, FormError};
pub use loaded::{Empty, Loaded};
pub use memory_bar::{MemoryBar, MemoryUse};
pub use on_demand::{OnDemand, Opener};
pub use resource::{blocking_resource, resource, JsonResource};
pub use session::{at_least, role};
pub use table::{Column, DataTable};
pub use time::Timestamp;

use crate::auth::pages::{use_session, AccountMenu};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_location};

/// Whether the router is on its way to another page: set while the next
/// page's code (its chunk, the first time) and data load.
#[derive(Clone, Copy)]
pub struct Routing(pub ReadSignal<bool>);

/// Header, navigation and the content frame around a routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    let routing = use_context::<Routing>().map(|r| r.0);
    let busy = move || routing.is_some_and(|r| r.get());
    // Set once the wasm bundle has taken over the server-rendered page, so
    // that tests (and curious people) can tell a hydrated page from a dead one.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <a class="skip-link" href="#content">"Skip to content"</a>
            <header class="topbar">
                // The page in front stays until the next one can be drawn;
                // meanwhile a bar runs along the top edge.
                <div class="route-progress" role="progressbar" aria-label="Opening the page" hidden=move || !busy()></div>
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Stackyard"
                </A>
                <button
                    type="button"
                    class="menu-button"
                    aria-controls="main-nav"
                    aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span class="menu-icon" aria-hidden="true"></span>
                    "Menu"
                </button>
                <nav
                    id="main-nav"
                    class="main-nav"
                    class:open=move || menu_open.get()
                    aria-label="Main"
                    // Following a link closes the phone menu.
                    on:click=move |_| menu_open.set(false)
                >
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let role = match use_session() {
                                Some(s) => s.0.await.ok().flatten().map(|u| u.role),
                                None => None,
                            };
                            view! {
                                <ul>
                                    {crate::routes::nav()
                                        .filter(|(_, _, access)| access.allows(role))
                                        .map(|(href, label, _)| {
                                            view! {
                                                <li>
                                                    <A href=href exact=true>
                                                        {label}
                                                    </A>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })}
                    </Transition>
                </nav>
                <AccountMenu/>
            </header>
            <main id="content" class="content" tabindex="-1">
                {children()}
            </main>
            <footer class="footer">
                <span>"Stackyard " {env!("CARGO_PKG_VERSION")}</span>
            </footer>
        </div>
    }
}

/// Shown inside the shell for any path no route claims; answers 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let path = use_location().pathname;
    view! {
        <Title text="Page not found"/>
        <section class="page error-page" aria-labelledby="error-title">
            <h1 id="error-title">"Page not found"</h1>
            <p>"There is no page at " <code>{move || path.get()}</code> "."</p>
            <p><A href="/">"Back to the dashboard"</A></p>
        </section>
    }
}

/// A page's code (its chunk) could not be fetched: the connection dropped,
/// or the server was updated and the old chunk is gone.
#[derive(Debug, Clone, Copy)]
pub struct ChunkLoadError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkLoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkLoadError
    }
}

/// Shown in a page's place when its code could not be fetched; reloading
/// fetches the page (and the current code) again.
#[component]
pub fn ChunkFailed() -> impl IntoView {
    view! {
        <Title text="Page not loaded"/>
        <section class="page error-page" aria-labelledby="error-title">
            <h1 id="error-title">"This page could not be loaded"</h1>
            <p>
                "Its code did not arrive: the connection may have dropped, or Stackyard "
                "was updated since this tab opened. Nothing was changed."
            </p>
            <p>
                <button type="button" class="button primary" on:click=|_| reload()>
                    "Reload"
                </button>
            </p>
        </section>
    }
}

/// Loads the current address again.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}

/// Shown inside the shell when a page's data could not be loaded.
#[component]
pub fn ErrorPanel(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="panel error-panel" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
        </div>
    }
}

/// The page heading with an optional one-line summary under it.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] summary: Option<String>,
) -> impl IntoView {
    view! {
        <Title text=title.clone()/>
        <header class="page-header">
            <h1>{title}</h1>
            {summary.map(|s| view! { <p class="summary">{s}</p> })}
        </header>
    }
}
