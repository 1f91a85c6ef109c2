//! The caller as pages see it: the role from the session resource that
//! [`provide_session`](crate::auth::pages::provide_session) placed in context.

use crate::auth::{pages::use_session, Role};
use leptos::prelude::*;

/// The caller's role, once the session is known (`None` while loading or
/// signed out). Reactive: read it inside a closure to follow sign-in changes.
pub fn role() -> Option<Role> {
    use_session()
        .and_then(|s| s.0.get())
        .and_then(|r| r.ok())
        .flatten()
        .map(|u| u.role)
}

/// Whether the caller has at least `needed`.
pub fn at_least(needed: Role) -> bool {
    role().is_some_and(|have| have >= needed)
}
