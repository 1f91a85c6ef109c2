//! `/mail` (the mail domains) and a mail domain's page: its records in the
//! zone (MX, SPF and DMARC builders, DKIM keys, verification tokens), the
//! readiness check as a checklist with a fix per failure, mailboxes,
//! aliases and the Postfix/Dovecot configuration downloads.
//!
//! Every form posts to a server function; messages appear next to the
//! field they belong to (`AppError::Invalid`), others under the form.
//! Sections are panels that stack on a phone; lists are cards, never
//! tables wider than the screen. The panels live in submodules: `records`
//! (MX, SPF, DKIM, DMARC, tokens), `readiness`, `mailboxes` (and aliases)
//! and `admin` (configuration files, removing the domain).

mod admin;
mod mailboxes;
mod readiness;
mod records;

use super::*;
use crate::ui::{
    at_least, field_error, Confirm, ConfirmPassword, FieldError, FormError, PageHeader,
};
use admin::{ConfigPanel, RemoveDomainPanel};
use leptos::form::ActionForm;
use leptos_router::{components::A, hooks::use_params_map};
use mailboxes::{AliasesPanel, MailboxesPanel};
use readiness::ReadinessPanel;
use records::{DkimPanel, DmarcPanel, MxPanel, SpfPanel, VerificationPanel};

// --- /mail ---------------------------------------------------------------------

#[component]
pub fn MailPage() -> impl IntoView {
    view! {
            <MailContent/>
    }
}

#[component]
fn MailContent() -> impl IntoView {
    let add = ServerAction::<AddMailDomain>::new();
    let domains = crate::ui::resource(move || add.version().get(), |_| list_mail_domains());
    // Made here, not in the admin's panel drawn once the domains have arrived: a
    // resource first created inside a resolved suspense hydrates
    // differently from the server's render (a cold load of this page
    // panicked in tachys' hydration). Only an admin asks for it.
    let config_defaults = crate::ui::resource(
        move || at_least(Role::Admin),
        |admin| async move {
            if admin {
                mail_config_defaults().await.ok()
            } else {
                None
            }
        },
    );
    view! {
        <section class="page">
            <PageHeader title="Mail" summary="Mail domains: their records in DNS, the readiness check, mailboxes and aliases for Postfix and Dovecot."/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match domains.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No mail domain yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="record-list" aria-label="Mail domains">
                                {list.into_iter().map(|d| view! {
                                    <li class="record">
                                        <div class="record-main">
                                            <strong><A href=format!("/mail/{}", d.name)>{d.name.clone()}</A></strong>
                                            {(!d.active).then(|| view! { <span class="badge bad">"Inactive"</span> })}
                                        </div>
                                        <p class="muted">
                                            {format!("{} mailbox{} · {} alias{} · DKIM: {}",
                                                d.mailboxes, if d.mailboxes == 1 { "" } else { "es" },
                                                d.aliases, if d.aliases == 1 { "" } else { "es" },
                                                if d.dkim_selectors.is_empty() { "no key".to_owned() } else { d.dkim_selectors.join(", ") })}
                                        </p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || at_least(Role::Operator)>
                <article class="panel">
                    <h2>"Add a mail domain"</h2>
                    <ActionForm action=add attr:class="form" attr:aria-label="Add a mail domain">
                        <label for="mail-domain-name">"Domain"</label>
                        <input id="mail-domain-name" name="name" required placeholder="example.org"
                            autocapitalize="none" spellcheck="false" aria-describedby="mail-domain-name-error"/>
                        <FieldError id="mail-domain-name-error" message=field_error(add.value(), "name")/>
                        <FormError value=add.value() fields=&["name"]/>
                        {move || add.value().get().and_then(|r| r.ok()).map(|name| view! {
                            <p class="form-ok" role="status">"Added " <A href=format!("/mail/{name}")>{name.clone()}</A> "."</p>
                        })}
                        <button type="submit" class="button">"Add domain"</button>
                    </ActionForm>
                </article>
            </Show>
            // One mail server serves every domain: its configuration is made
            // here, not on each domain's page.
            <Show when=move || at_least(Role::Admin)>
                <ConfigPanel defaults=config_defaults/>
            </Show>
        </section>
    }
}

// --- a mail domain ---------------------------------------------------------------

#[component]
pub fn MailDomainPage() -> impl IntoView {
    view! {
            <DomainContent/>
    }
}

/// Every action on the page; the detail refetches when one succeeds.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    pub(super) create_zone: ServerAction<CreateMailZone>,
    pub(super) mx: ServerAction<PublishMx>,
    pub(super) spf: ServerAction<PublishSpf>,
    pub(super) dmarc: ServerAction<PublishDmarc>,
    pub(super) verification: ServerAction<PublishVerification>,
    pub(super) remove_verification: ServerAction<RemoveVerification>,
    pub(super) dkim: ServerAction<GenerateDkim>,
    pub(super) remove_dkim: ServerAction<RemoveDkim>,
    pub(super) settings: ServerAction<SaveMailSettings>,
    pub(super) remove_mailbox: ServerAction<RemoveMailbox>,
    pub(super) remove_alias: ServerAction<RemoveAlias>,
    /// Bumped by the forms fetched on demand (adding a mailbox or an
    /// alias, editing a mailbox), which make their own actions.
    pub(super) changed: RwSignal<usize>,
}

impl Actions {
    fn new() -> Self {
        Self {
            create_zone: ServerAction::new(),
            mx: ServerAction::new(),
            spf: ServerAction::new(),
            dmarc: ServerAction::new(),
            verification: ServerAction::new(),
            remove_verification: ServerAction::new(),
            dkim: ServerAction::new(),
            remove_dkim: ServerAction::new(),
            settings: ServerAction::new(),
            remove_mailbox: ServerAction::new(),
            remove_alias: ServerAction::new(),
            changed: RwSignal::new(0),
        }
    }

    /// Grows each time an action succeeds, never when one is refused: the
    /// detail refetches (and its forms render again) only after a change,
    /// so a refused form keeps what the admin typed while they correct it.
    fn changes(&self) -> Memo<usize> {
        macro_rules! last_success {
            ($action:expr) => {{
                let action = $action;
                Memo::new(move |prev: Option<&usize>| {
                    let version = action.version().get();
                    if action.value().with(|r| matches!(r, Some(Ok(_)))) {
                        version
                    } else {
                        prev.copied().unwrap_or(0)
                    }
                })
            }};
        }
        let each = [
            last_success!(self.create_zone),
            last_success!(self.mx),
            last_success!(self.spf),
            last_success!(self.dmarc),
            last_success!(self.verification),
            last_success!(self.remove_verification),
            last_success!(self.dkim),
            last_success!(self.remove_dkim),
            last_success!(self.settings),
            last_success!(self.remove_mailbox),
            last_success!(self.remove_alias),
        ];
        let changed = self.changed;
        Memo::new(move |_| each.iter().map(|m| m.get()).sum::<usize>() + changed.get())
    }
}

#[component]
fn DomainContent() -> impl IntoView {
    let params = use_params_map();
    let domain = move || params.with(|p| p.get("domain").unwrap_or_default());
    let actions = Actions::new();
    let changes = actions.changes();
    let detail = crate::ui::resource(
        move || (domain(), changes.get()),
        |(d, _)| get_mail_domain(d),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <DomainView detail=d actions=actions/> }.into_any(),
                    Err(e) => view! {
                        <section class="page">
                            <PageHeader title="Mail domain"/>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                            <p><A href="/mail">"All mail domains"</A></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DomainView(detail: MailDomainDetail, actions: Actions) -> impl IntoView {
    let name = detail.name.clone();
    let has_zone = detail.zone.zone.is_some();
    let zone_line = match (&detail.zone.zone, detail.zone.serial) {
        (Some(z), Some(s)) => format!("Records live in the zone {z} (serial {s})."),
        _ => String::new(),
    };
    view! {
        <section class="page mail-page">
            <PageHeader title=name.clone() summary="Mail domain: records, readiness, mailboxes and aliases."/>
            <p><A href="/mail">"← All mail domains"</A></p>
            {if has_zone {
                view! { <p class="muted">{zone_line}</p> }.into_any()
            } else {
                view! { <ZoneMissing domain=name.clone() action=actions.create_zone/> }.into_any()
            }}
            <div class="mail-sections">
                <ReadinessPanel domain=name.clone() settings=detail.settings.clone() hosts=detail.mail_hosts.clone() save=actions.settings/>
                <MxPanel domain=name.clone() current=detail.zone.mx.clone() action=actions.mx/>
                <SpfPanel domain=name.clone() current=detail.zone.spf.clone() publish=actions.spf/>
                <DkimPanel domain=name.clone() keys=detail.dkim.clone() generate=actions.dkim remove=actions.remove_dkim/>
                <DmarcPanel domain=name.clone() current=detail.zone.dmarc.clone() publish=actions.dmarc/>
                <VerificationPanel domain=name.clone() current=detail.zone.verification.clone() action=actions.verification remove=actions.remove_verification/>
                <MailboxesPanel domain=name.clone() mailboxes=detail.mailboxes.clone() actions=actions/>
                <AliasesPanel domain=name.clone() aliases=detail.aliases.clone() actions=actions/>
                <Show when=move || at_least(Role::Admin)>
                    <RemoveDomainPanel domain=name.clone()/>
                </Show>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn ZoneMissing(domain: String, action: ServerAction<CreateMailZone>) -> impl IntoView {
    let domain = StoredValue::new(domain);
    view! {
        <div class="panel notice" role="status">
            <p>{format!("Stackyard serves no DNS zone that holds {}, so the records below cannot be published yet.", domain.get_value())}</p>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=action attr:class="inline-form">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <button type="submit" class="button">{format!("Create the zone {}", domain.get_value())}</button>
                </ActionForm>
                <FormError value=action.value()/>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
pub(super) fn Current(label: &'static str, values: Vec<String>) -> impl IntoView {
    view! {
        <div class="mail-current">
            <p class="hint">{label}</p>
            {if values.is_empty() {
                view! { <p class="muted">"None published."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {values.into_iter().map(|v| view! { <li><code class="mail-record">{v}</code></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}
