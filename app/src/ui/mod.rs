//! What every page shares: the header with the product name, the navigation
//! (a menu button below 700 px), the content frame, and the pages shown for
//! a missing route or a failed request.

pub mod confirm;
pub mod download;
pub mod form;
pub mod format;
pub mod loaded;
pub mod memory_bar;
pub mod session;
pub mod table;

pub use confirm::Confirm;
pub use download::{data_url, DownloadLink};
pub use form::{field_error, ConfirmPassword, Field, FieldError, FormError};
pub use loaded::{Empty, Loaded};
pub use memory_bar::{MemoryBar, MemoryUse};
pub use session::{at_least, role};
pub use table::{Column, DataTable};

use crate::auth::pages::{use_session, AccountMenu};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_location};

/// Header, navigation and the content frame around a routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    // Set once the wasm bundle has taken over the server-rendered page, so
    // that tests (and curious people) can tell a hydrated page from a dead one.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <a class="skip-link" href="#content">"Skip to content"</a>
            <header class="topbar">
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
