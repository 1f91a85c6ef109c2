//! Stackyard's user interface: the HTML shell, the routes, and every page's
//! components and server functions. The same crate is compiled twice: with
//! `ssr` into the server (rendering and server functions) and with `hydrate`
//! into the wasm bundle that makes the rendered page interactive.
//!
//! Code is organised by domain (`auth`, `dashboard`, `hosts`, `layouts`,
//! `dns`, `mail`), each holding its shared types, its `#[server]` functions
//! and its components; `routes` is the table of pages, `api` the path every
//! server function takes, and `ui` holds what every page shares.

// Deeply nested views (the layout editor with its apply panel) need more
// than the default 128 when rustc computes the layout of their hydration futures.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod capacity;
pub mod consoles;
pub mod dashboard;
pub mod dns;
pub mod error;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod hosts;
pub mod images;
pub mod layouts;
pub mod mail;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod sealed;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::Router;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    state::provide_csp_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="description" content="Stackyard: the console for a small organisation's virtual machines, DNS and mail"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: shell chrome around the routed pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::pages::provide_session();
    let (is_routing, set_is_routing) = signal(false);
    provide_context(ui::Routing(is_routing));

    view! {
        <Stylesheet id="stackyard-css" href="/pkg/stackyard.css"/>
        <Title formatter=|page: String| {
            if page.is_empty() { "Stackyard".to_owned() } else { format!("{page} · Stackyard") }
        }/>
        <Router set_is_routing>
            <ui::Layout>
                <routes::PageRoutes/>
            </ui::Layout>
        </Router>
    }
}
