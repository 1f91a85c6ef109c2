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

page_access!("/layouts", Access::Role(Role::Viewer));
#[component]
pub fn LayoutsPage() -> impl IntoView {
    view! {
        <Upcoming
            title="Layouts"
            summary="Plan VMs against host memory before anything is created."
            points=&[
                "Templates from the paper's Table 2 (DNS, mail, web, e-learning, workflow, file sharing).",
                "Per-host memory bars and verdicts from equations (1)–(3), placement across hosts, then apply.",
            ]
        />
    }
}
