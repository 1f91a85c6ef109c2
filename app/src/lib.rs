//! Stackyard's user interface: the HTML shell, the routes, and every page's
//! components and server functions. The same crate is compiled twice: with
//! `ssr` into the server (rendering and server functions) and with `hydrate`
//! into the wasm bundle that makes the rendered page interactive.
//!
//! Code is organised by domain (`dashboard`, later `hosts`, `dns`, …), each
//! holding its shared types, its `#[server]` functions and its components;
//! `ui` holds what every page shares.

// Deeply nested views (the layout editor with its apply panel) need more
// than the default 128 when rustc computes the layout of their hydration futures.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod capacity;
pub mod dashboard;
pub mod dns;
pub mod error;
pub mod hosts;
pub mod layouts;
pub mod mail;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

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

    view! {
        <Stylesheet id="stackyard-css" href="/pkg/stackyard.css"/>
        <Title formatter=|page: String| {
            if page.is_empty() { "Stackyard".to_owned() } else { format!("{page} · Stackyard") }
        }/>
        <Router>
            <ui::Layout>
                <Routes fallback=|| view! { <ui::NotFound/> }>
                    <Route path=path!("/") view=dashboard::DashboardPage/>
                    <Route path=path!("/hosts") view=hosts::pages::HostsPage/>
                    <Route path=path!("/hosts/:id") view=hosts::pages::HostPage/>
                    <Route path=path!("/layouts") view=layouts::pages::LayoutsPage/>
                    <Route path=path!("/layouts/:id") view=layouts::pages::LayoutPage/>
                    <Route path=path!("/dns") view=dns::pages::DnsPage/>
                    <Route path=path!("/dns/zone/:id") view=dns::pages::ZonePage/>
                    <Route path=path!("/dns/servers") view=dns::pages::DnsServersPage/>
                    <Route path=path!("/mail") view=mail::pages::MailPage/>
                    <Route path=path!("/mail/:domain") view=mail::pages::MailDomainPage/>
                    <Route path=path!("/users") view=auth::pages::UsersPage/>
                    <Route path=path!("/audit") view=auth::pages::AuditPage/>
                    <Route path=path!("/profile") view=auth::pages::ProfilePage/>
                    <Route path=path!("/login") view=auth::pages::LoginPage/>
                    <Route path=path!("/setup") view=auth::pages::SetupPage/>
                </Routes>
            </ui::Layout>
        </Router>
    }
}
