//! The console's pages, in one table: each line gives a page's path, the
//! least access it needs, its component and, for the areas of the
//! navigation, its label. Everything else is generated from it:
//!
//! - the router's `<Route>`s ([`PageRoutes`]), each page wrapped in
//!   [`Protected`] unless it is public, so a caller without the access sees
//!   the sign-in panel or the refusal in its place;
//! - one lazy route per page (the name after `as`): in the browser the
//!   page's code is a chunk of its own, fetched the first time the page is
//!   opened (before hydration when it is the page the browser loaded), so a
//!   phone that opens the sign-in page loads the shell and that page only;
//! - [`PAGES`], which the server reads: `policy::page` for the access of
//!   the route axum matched (answering 401/403 with the page), and
//!   `stackyard routes` for the list the browser tests open;
//! - the navigation's entries ([`nav`]), in table order.
//!
//! A new page is one line here. Paths are written as segments: `[hosts {id}]`
//! is `/hosts/{id}` in axum's spelling (the one [`PAGES`] and the server
//! use) and `/hosts/:id` to the Leptos router; `[]` is `/`.

use crate::auth::{pages::Protected, Access, Role};
use crate::{auth, consoles, dashboard, dns, hosts, images, layouts, mail, ui};
use leptos::children::ToChildren;
use leptos::prelude::*;
use leptos::tachys::view::iterators::StaticVec;
use leptos_router::any_nested_route::{AnyNestedRoute, IntoAnyNestedRoute};
use leptos_router::components::{Route, RouteChildren, RouteProps, Routes, RoutesProps};
use leptos_router::{Lazy, LazyRoute};
use ui::ChunkLoadError;

/// One page of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The route as axum writes it: `/hosts/{id}`.
    pub path: &'static str,
    /// The least a caller needs to see it.
    pub access: Access,
    /// Its label in the navigation, for the areas listed there.
    pub nav: Option<&'static str>,
}

macro_rules! pages {
    ($( [$($seg:tt)*] $access:expr => $view:path as $route:ident $(, nav $label:literal)? ; )*) => {
        /// Every page, in the router's order.
        pub const PAGES: &[Page] = &[$(
            Page {
                path: root_if_empty(concat!("" $(, pages!(@axum $seg))*)),
                access: $access,
                nav: pages!(@nav $($label)?),
            },
        )*];

        $(
            #[doc = concat!("`", stringify!($view), "` as a lazy route: its code is a chunk of its own.")]
            #[allow(non_snake_case)]
            mod $route {
                use super::*;

                /// The route's data: none (each page loads its own).
                pub struct Route {}

                #[doc = concat!("`", stringify!($view), "` behind its access. In the browser this is the \
                    chunk's entry: the first call fetches the chunk (as [`fetch`] does), or fails with \
                    [`ChunkLoadError`].")]
                #[leptos::wasm_split::wasm_split($route, wasm_split_path = ::leptos::wasm_split, fallible, preload(fetch))]
                pub fn page() -> Result<AnyView, ChunkLoadError> {
                    Ok(guarded($access, $view))
                }

                impl LazyRoute for Route {
                    fn data() -> Self {
                        Route {}
                    }

                    // The router awaits this before drawing the page, and
                    // hydration before hydrating it: the page's code must
                    // be there by then. A failure shows in `view`, which
                    // tries again.
                    async fn preload() {
                        let _ = fetch().await;
                    }

                    async fn view(_this: Self) -> AnyView {
                        // The server names the chunk in the page it renders,
                        // so the browser fetches it with the main module.
                        #[cfg(feature = "ssr")]
                        leptos::prefetch_lazy_fn_on_server(stringify!($route));
                        page().await.unwrap_or_else(|ChunkLoadError| view! { <ui::ChunkFailed/> }.into_any())
                    }
                }
            }
        )*

        /// The router's routes, one per line of the table.
        fn routes() -> StaticVec<AnyNestedRoute> {
            vec![$(
                Route(
                    RouteProps::builder()
                        .path(($(pages!(@leptos $seg),)*))
                        .view(Lazy::<$route::Route>::new())
                        .build(),
                )
                .into_any_nested_route(),
            )*]
            .into()
        }
    };
    (@axum {$param:ident}) => { concat!("/{", stringify!($param), "}") };
    (@axum $segment:ident) => { concat!("/", stringify!($segment)) };
    (@leptos {$param:ident}) => { leptos_router::ParamSegment(stringify!($param)) };
    (@leptos $segment:ident) => { leptos_router::StaticSegment(stringify!($segment)) };
    (@nav $label:literal) => { Some($label) };
    (@nav) => { None };
}

pages! {
    [] Access::Role(Role::Viewer) => dashboard::DashboardPage as DashboardRoute, nav "Dashboard";
    [hosts] Access::Role(Role::Viewer) => hosts::pages::HostsPage as HostsRoute, nav "Hosts";
    [hosts {id}] Access::Role(Role::Viewer) => hosts::pages::HostPage as HostRoute;
    [hosts {id} vms {name}] Access::Role(Role::Viewer) => consoles::pages::VmPage as VmRoute;
    [hosts {id} images] Access::Role(Role::Viewer) => images::pages::ImagesPage as ImagesRoute;
    [layouts] Access::Role(Role::Viewer) => layouts::pages::LayoutsPage as LayoutsRoute, nav "Layouts";
    [layouts {id}] Access::Role(Role::Viewer) => layouts::pages::LayoutPage as LayoutRoute;
    [dns] Access::Role(Role::Viewer) => dns::pages::DnsPage as DnsRoute, nav "DNS";
    [dns zone {id}] Access::Role(Role::Viewer) => dns::pages::ZonePage as ZoneRoute;
    [dns servers] Access::Role(Role::Viewer) => dns::pages::DnsServersPage as DnsServersRoute;
    [mail] Access::Role(Role::Viewer) => mail::pages::MailPage as MailRoute, nav "Mail";
    [mail {domain}] Access::Role(Role::Viewer) => mail::pages::MailDomainPage as MailDomainRoute;
    [users] Access::Role(Role::Admin) => auth::pages::UsersPage as UsersRoute, nav "Users";
    [audit] Access::Role(Role::Operator) => auth::pages::AuditPage as AuditRoute, nav "Audit";
    [profile] Access::Role(Role::Viewer) => auth::pages::ProfilePage as ProfileRoute;
    [login] Access::Public => auth::pages::LoginPage as LoginRoute;
    [setup] Access::Public => auth::pages::SetupPage as SetupRoute;
}

/// `/` for the root, whose segment list is empty.
const fn root_if_empty(path: &'static str) -> &'static str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// A page behind its access: public pages as they are, the others in
/// [`Protected`], which shows the sign-in panel or the refusal instead.
fn guarded<V: IntoView + 'static>(access: Access, page: fn() -> V) -> AnyView {
    match access {
        Access::Public => page().into_any(),
        Access::Role(_) => view! { <Protected access=access>{page()}</Protected> }.into_any(),
    }
}

/// The declared access of the page whose route (as axum writes it) is `path`.
pub fn page_access(path: &str) -> Option<Access> {
    PAGES.iter().find(|p| p.path == path).map(|p| p.access)
}

/// The navigation's areas, in order: `(href, label, access)`.
pub fn nav() -> impl Iterator<Item = (&'static str, &'static str, Access)> {
    PAGES
        .iter()
        .filter_map(|p| p.nav.map(|label| (p.path, label, p.access)))
}

/// The routed pages, with the not-found page for any other path.
#[component]
pub fn PageRoutes() -> impl IntoView {
    // Built without `view!`, which takes a block child for a view rather
    // than for route definitions.
    Routes(
        RoutesProps::builder()
            .fallback(|| view! { <ui::NotFound/> })
            .children(RouteChildren::to_children(routes))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_as_axum_writes_them() {
        let paths: Vec<&str> = PAGES.iter().map(|p| p.path).collect();
        assert_eq!(paths[0], "/");
        assert!(paths.contains(&"/hosts/{id}"));
        assert!(paths.contains(&"/dns/zone/{id}"));
        assert!(paths.contains(&"/mail/{domain}"));
        assert_eq!(page_access("/users"), Some(Access::Role(Role::Admin)));
        assert_eq!(page_access("/login"), Some(Access::Public));
        assert_eq!(page_access("/nowhere"), None);
    }

    #[test]
    fn the_navigation_lists_the_areas_in_table_order() {
        let labels: Vec<&str> = nav().map(|(_, label, _)| label).collect();
        assert_eq!(
            labels,
            [
                "Dashboard",
                "Hosts",
                "Layouts",
                "DNS",
                "Mail",
                "Users",
                "Audit"
            ]
        );
    }
}
