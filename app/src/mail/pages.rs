//! `/mail` and a mail domain's page.
use super::*;

#[component]
pub fn MailPage() -> impl IntoView {
    view! { <p>"mail"</p> }
}

#[component]
pub fn MailDomainPage() -> impl IntoView {
    view! { <p>"mail"</p> }
}
