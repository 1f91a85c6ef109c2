//! The console's areas that later work fills in. Each page already lives in
//! the shell so that navigation, titles and the phone menu are complete; it
//! says plainly what the area is for and that it is not yet available, rather
//! than showing empty tables that suggest there is nothing to manage.

use crate::auth::{pages::Protected, Access, Role};
use crate::page_access;
use crate::ui::PageHeader;
use leptos::prelude::*;

#[component]
fn Upcoming(
    title: &'static str,
    summary: &'static str,
    points: &'static [&'static str],
) -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
        <section class="page">
            <PageHeader title=title summary=summary/>
            <div class="panel notice" role="status">
                <h2>"Not available in this version yet"</h2>
                <ul class="plain-list">
                    {points.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}
                </ul>
            </div>
        </section>
        </Protected>
    }
}

page_access!("/dns", Access::Role(Role::Viewer));
#[component]
pub fn DnsPage() -> impl IntoView {
    view! {
        <Upcoming
            title="DNS"
            summary="Authoritative zones served by NSD, primary and secondary with TSIG."
            points=&[
                "Forward and reverse zones; A, AAAA, CNAME, MX, NS, PTR, TXT, SRV and CAA records by form.",
                "Zone files checked with nsd-checkzone before NSD reloads them.",
            ]
        />
    }
}

page_access!("/mail", Access::Role(Role::Viewer));
#[component]
pub fn MailPage() -> impl IntoView {
    view! {
        <Upcoming
            title="Mail"
            summary="SPF, DKIM and DMARC records and the mail readiness check."
            points=&[
                "Build SPF from choices, generate DKIM keys, publish DMARC into the domain's zone.",
                "Check forward-confirmed reverse DNS, SPF, DKIM, DMARC and blocklists for the mail host.",
            ]
        />
    }
}
