//! Who may do what. Every server function declares the least access it
//! needs beside its definition ([`crate::api::access!`]), every page in the
//! route table ([`crate::routes`]), every plain HTTP route with
//! [`route_access!`](crate::route_access); the server refuses anything
//! without a declaration, and a test walks Leptos' own registries to prove
//! that each one has one.

use serde::{Deserialize, Serialize};

/// Roles, weakest first: each includes everything the one before may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything except accounts and the audit log.
    Viewer,
    /// Also runs VMs, applies layouts, edits DNS and mail records; reads the audit log.
    Operator,
    /// Also manages accounts.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Operator => "Operator",
            Role::Admin => "Admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The least a caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// Anyone, signed in or not (the login and setup pages).
    Public,
    /// A signed-in account with at least this role.
    Role(Role),
}

/// What [`Access::decide`] concluded for one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in: 401.
    SignIn,
    /// Signed in without the role: 403.
    Deny,
}

impl Access {
    pub fn decide(self, caller: Option<Role>) -> Decision {
        match (self, caller) {
            (Access::Public, _) => Decision::Allow,
            (Access::Role(_), None) => Decision::SignIn,
            (Access::Role(needed), Some(role)) if role >= needed => Decision::Allow,
            (Access::Role(_), Some(_)) => Decision::Deny,
        }
    }

    pub fn allows(self, caller: Option<Role>) -> bool {
        self.decide(caller) == Decision::Allow
    }
}

/// A server function's declared access, keyed by its URL.
#[cfg(feature = "ssr")]
#[derive(Debug)]
pub struct EndpointPolicy {
    pub path: &'static str,
    pub access: Access,
}

/// The declared access of a plain HTTP route the server adds beside Leptos
/// (the live event stream).
#[cfg(feature = "ssr")]
#[derive(Debug)]
pub struct RoutePolicy {
    pub path: &'static str,
    pub access: Access,
}

#[cfg(feature = "ssr")]
inventory::collect!(RoutePolicy);
#[cfg(feature = "ssr")]
inventory::collect!(EndpointPolicy);

/// Declares the access a server function needs: `endpoint_access!(Login, Access::Public);`
/// The path comes from the function's own type, so it cannot drift.
#[macro_export]
macro_rules! endpoint_access {
    ($server_fn:ty, $access:expr) => {
        #[cfg(feature = "ssr")]
        ::inventory::submit! {
            $crate::auth::policy::EndpointPolicy {
                path: <$server_fn as ::leptos::server_fn::ServerFn>::PATH,
                access: $access,
            }
        }
    };
}

/// Declares the access of a plain HTTP route: `route_access!("/events/hosts", …);`
#[macro_export]
macro_rules! route_access {
    ($path:literal, $access:expr) => {
        #[cfg(feature = "ssr")]
        ::inventory::submit! {
            $crate::auth::policy::RoutePolicy { path: $path, access: $access }
        }
    };
}

/// Every plain route with its declared access.
#[cfg(feature = "ssr")]
pub fn routes() -> impl Iterator<Item = &'static RoutePolicy> {
    inventory::iter::<RoutePolicy>.into_iter()
}

/// The declared access of the server function at `path`; `None` means no
/// declaration, which the server treats as "refuse".
#[cfg(feature = "ssr")]
pub fn endpoint(path: &str) -> Option<Access> {
    inventory::iter::<EndpointPolicy>
        .into_iter()
        .find(|p| p.path == path)
        .map(|p| p.access)
}

/// The declared access of the page whose route, as axum writes it
/// (`/hosts/{id}`), is `route`: its line in [`crate::routes::PAGES`].
pub fn page(route: &str) -> Option<Access> {
    crate::routes::page_access(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_weaker_ones() {
        let op = Access::Role(Role::Operator);
        assert_eq!(op.decide(None), Decision::SignIn);
        assert_eq!(op.decide(Some(Role::Viewer)), Decision::Deny);
        assert_eq!(op.decide(Some(Role::Operator)), Decision::Allow);
        assert_eq!(op.decide(Some(Role::Admin)), Decision::Allow);
        assert_eq!(Access::Public.decide(None), Decision::Allow);
    }

    #[test]
    fn roles_parse_and_print() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
