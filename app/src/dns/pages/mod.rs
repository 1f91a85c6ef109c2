//! The DNS pages: the zones list (`zones`: create forward and reverse
//! zones, apply all), a zone's page (`zone`: records as a table that
//! becomes cards on a phone, the record form with each server message by
//! its field; `panels`: import with preview, export, history with
//! revert, delete) and the DNS servers page (`servers`: entries, nsd.conf
//! per server, the TSIG key). Built from [`crate::ui`].

mod panels;
mod servers;
mod zone;
mod zones;

use crate::auth::Role;
use leptos::prelude::*;

/// Operators and admins change zones; viewers read them.
fn can_edit() -> bool {
    crate::ui::at_least(Role::Operator)
}

/// Only admins delete zones and manage servers and the key.
fn is_admin() -> bool {
    crate::ui::at_least(Role::Admin)
}

#[component]
pub fn DnsPage() -> impl IntoView {
    view! {
            <zones::ZonesContent/>
    }
    .into_any()
}

#[component]
pub fn ZonePage() -> impl IntoView {
    view! {
            <zone::ZoneContent/>
    }
    .into_any()
}

#[component]
pub fn DnsServersPage() -> impl IntoView {
    view! {
            <servers::ServersContent/>
    }
    .into_any()
}
