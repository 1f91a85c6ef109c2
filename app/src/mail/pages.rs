//! `/mail` (the mail domains) and a mail domain's page: its records in the
//! zone (MX, SPF and DMARC builders, DKIM keys, verification tokens), the
//! readiness check as a checklist with a fix per failure, mailboxes,
//! aliases and the Postfix/Dovecot configuration downloads.
//!
//! Every form posts to a server function; messages appear next to the
//! field they belong to (`AppError::Invalid`), others under the form.
//! Sections are panels that stack on a phone; lists are cards, never
//! tables wider than the screen.

use super::*;
use crate::auth::pages::{use_session, Protected};
use crate::ui::{FieldError, PageHeader};
use leptos::form::ActionForm;
use leptos::server_fn::ServerFn;
use leptos_router::{components::A, hooks::use_params_map};

/// The caller's role, once the session is known.
fn role() -> Option<Role> {
    use_session()
        .and_then(|s| s.0.get())
        .and_then(|r| r.ok())
        .flatten()
        .map(|u| u.role)
}

fn at_least(r: Role) -> bool {
    role().is_some_and(|have| have >= r)
}

/// The message for `field` from the action's last result.
fn field_err<S>(action: ServerAction<S>, field: &'static str) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

/// Errors that belong to no field, shown under the form.
#[component]
fn FormError<S>(
    action: ServerAction<S>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .and_then(|e| match &e {
                AppError::Invalid { field, .. } if fields.contains(&field.as_str()) => None,
                _ => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }),
            })
    }
}

/// A `data:` link that downloads `contents` as `name`.
fn data_href(contents: &str) -> String {
    let mut out = String::from("data:text/plain;charset=utf-8,");
    for b in contents.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// --- /mail ---------------------------------------------------------------------

#[component]
pub fn MailPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <MailContent/>
        </Protected>
    }
}

#[component]
fn MailContent() -> impl IntoView {
    let add = ServerAction::<AddMailDomain>::new();
    let domains = Resource::new(move || add.version().get(), |_| list_mail_domains());
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
                        <FieldError id="mail-domain-name-error" message=field_err(add, "name")/>
                        <FormError action=add fields=&["name"]/>
                        {move || add.value().get().and_then(|r| r.ok()).map(|name| view! {
                            <p class="form-ok" role="status">"Added " <A href=format!("/mail/{name}")>{name.clone()}</A> "."</p>
                        })}
                        <button type="submit" class="button">"Add domain"</button>
                    </ActionForm>
                </article>
            </Show>
        </section>
    }
}

// --- a mail domain ---------------------------------------------------------------

#[component]
pub fn MailDomainPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <DomainContent/>
        </Protected>
    }
}

/// Every action on the page; the detail refetches when one succeeds.
#[derive(Clone, Copy)]
struct Actions {
    create_zone: ServerAction<CreateMailZone>,
    mx: ServerAction<PublishMx>,
    spf: ServerAction<PublishSpf>,
    dmarc: ServerAction<PublishDmarc>,
    verification: ServerAction<PublishVerification>,
    remove_verification: ServerAction<RemoveVerification>,
    dkim: ServerAction<GenerateDkim>,
    remove_dkim: ServerAction<RemoveDkim>,
    settings: ServerAction<SaveMailSettings>,
    add_mailbox: ServerAction<AddMailbox>,
    update_mailbox: ServerAction<UpdateMailbox>,
    password: ServerAction<SetMailboxPassword>,
    remove_mailbox: ServerAction<RemoveMailbox>,
    add_alias: ServerAction<AddAlias>,
    remove_alias: ServerAction<RemoveAlias>,
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
            add_mailbox: ServerAction::new(),
            update_mailbox: ServerAction::new(),
            password: ServerAction::new(),
            remove_mailbox: ServerAction::new(),
            add_alias: ServerAction::new(),
            remove_alias: ServerAction::new(),
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
            last_success!(self.add_mailbox),
            last_success!(self.update_mailbox),
            last_success!(self.remove_mailbox),
            last_success!(self.add_alias),
            last_success!(self.remove_alias),
        ];
        Memo::new(move |_| each.iter().map(|m| m.get()).sum())
    }
}

#[component]
fn DomainContent() -> impl IntoView {
    let params = use_params_map();
    let domain = move || params.with(|p| p.get("domain").unwrap_or_default());
    let actions = Actions::new();
    let changes = actions.changes();
    let detail = Resource::new(
        move || (domain(), changes.get()),
        |(d, _)| get_mail_domain(d),
    );
    // Made here, not in the admin's panel drawn once `detail` has arrived: a
    // resource first created inside a resolved suspense hydrates
    // differently from the server's render (a cold load of this page
    // panicked in tachys' hydration). Only an admin asks for it.
    let config_defaults = Resource::new(
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
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <DomainView detail=d actions=actions config_defaults=config_defaults/> }.into_any(),
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
fn DomainView(
    detail: MailDomainDetail,
    actions: Actions,
    config_defaults: Resource<Option<ConfigDefaults>>,
) -> impl IntoView {
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
                <ReadinessPanel domain=name.clone() settings=detail.settings.clone() save=actions.settings/>
                <MxPanel domain=name.clone() current=detail.zone.mx.clone() action=actions.mx/>
                <SpfPanel domain=name.clone() current=detail.zone.spf.clone() publish=actions.spf/>
                <DkimPanel domain=name.clone() keys=detail.dkim.clone() generate=actions.dkim remove=actions.remove_dkim/>
                <DmarcPanel domain=name.clone() current=detail.zone.dmarc.clone() publish=actions.dmarc/>
                <VerificationPanel domain=name.clone() current=detail.zone.verification.clone() action=actions.verification remove=actions.remove_verification/>
                <MailboxesPanel domain=name.clone() mailboxes=detail.mailboxes.clone() actions=actions/>
                <AliasesPanel domain=name.clone() aliases=detail.aliases.clone() actions=actions/>
                <Show when=move || at_least(Role::Admin)>
                    <ConfigPanel defaults=config_defaults/>
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
                <FormError action=action/>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
fn Current(label: &'static str, values: Vec<String>) -> impl IntoView {
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

/// "Remove…", then the warning with the form (its "Remove" button) and
/// "Cancel": a removal that breaks something outside Stackyard is never one
/// tap away.
#[component]
fn ConfirmRemove(what: String, warning: &'static str, children: ChildrenFn) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let what = StoredValue::new(what);
    move || {
        if confirming.get() {
            view! {
                <div class="confirm-row" role="group" aria-label=format!("Remove {}", what.get_value())>
                    <p class="hint">{warning}</p>
                    {children()}
                    <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="button secondary small" aria-label=format!("Remove {}…", what.get_value())
                    on:click=move |_| confirming.set(true)>"Remove…"</button>
            }
            .into_any()
        }
    }
}

#[component]
fn MxPanel(domain: String, current: Vec<String>, action: ServerAction<PublishMx>) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let prefill = current
        .iter()
        .map(|m| m.trim_end_matches('.').to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let prefill = StoredValue::new(prefill);
    view! {
        <article class="panel" aria-labelledby="mx-title">
            <h2 id="mx-title">"MX"</h2>
            <Current label="Published in the zone:" values=current/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=action attr:class="form" attr:aria-label="MX records">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="mx-lines">"Mail servers"</label>
                    <textarea id="mx-lines" name="mx" rows="2" placeholder="10 mail" aria-describedby="mx-hint mx-error">{prefill.get_value()}</textarea>
                    <p class="hint" id="mx-hint">"One per line: preference and host, e.g. 10 mail (relative to the domain) or 20 mx.example.net. Empty removes the MX records."</p>
                    <FieldError id="mx-error" message=field_err(action, "mx")/>
                    <FormError action=action fields=&["mx"]/>
                    <button type="submit" class="button">"Publish MX"</button>
                </ActionForm>
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn Preview(preview: RecordPreview) -> impl IntoView {
    view! {
        <div class="mail-preview" aria-label="Record preview">
            <p><span class="hint">{format!("TXT at {}", preview.owner)}</span></p>
            <p><code class="mail-record" data-testid="record-value">{preview.record.clone()}</code></p>
            {(preview.txt_strings.len() > 1).then(|| view! {
                <p class="hint">{format!("Published as {} strings of at most 255 characters.", preview.txt_strings.len())}</p>
            })}
            {preview.lookups.clone().map(|l| view! { <p data-testid="spf-lookups">"DNS lookups: " {l}</p> })}
            {if preview.valid {
                view! { <p class="form-ok" role="status">"Valid."</p> }.into_any()
            } else {
                view! { <p class="form-error" role="alert">"Not valid: fix the errors below."</p> }.into_any()
            }}
            <ul class="plain-list mail-findings">
                {preview.findings.into_iter().map(|f| {
                    let class = if f.starts_with("error") { "bad" } else { "muted" };
                    view! { <li class=class>{f}</li> }
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

#[component]
fn SpfPanel(
    domain: String,
    current: Option<String>,
    publish: ServerAction<PublishSpf>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let build = ServerAction::<BuildSpf>::new();
    let check = ServerAction::<BuildSpf>::new();
    let preview = move || {
        // The newer of the two previews.
        let b = build.value().get().and_then(|r| r.ok());
        let c = check.value().get().and_then(|r| r.ok());
        if build.version().get() >= check.version().get() {
            b.or(c)
        } else {
            c.or(b)
        }
    };
    view! {
        <article class="panel" aria-labelledby="spf-title">
            <h2 id="spf-title">"SPF"</h2>
            <Current label="Published at the apex:" values=current.into_iter().collect()/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=build attr:class="form" attr:aria-label="Build an SPF record">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <fieldset class="mail-choices">
                        <legend>"Who may send mail for this domain"</legend>
                        <label class="check"><input type="checkbox" name="a" value="on"/>" a: the domain's own addresses"</label>
                        <label class="check"><input type="checkbox" name="mx" value="on"/>" mx: the domain's mail servers"</label>
                    </fieldset>
                    <label for="spf-ip4">"ip4 addresses or networks"</label>
                    <textarea id="spf-ip4" name="ip4" rows="2" placeholder="192.0.2.25" aria-describedby="spf-ip4-error"></textarea>
                    <FieldError id="spf-ip4-error" message=field_err(build, "ip4")/>
                    <label for="spf-ip6">"ip6 addresses or networks"</label>
                    <textarea id="spf-ip6" name="ip6" rows="1" placeholder="2001:db8::25" aria-describedby="spf-ip6-error"></textarea>
                    <FieldError id="spf-ip6-error" message=field_err(build, "ip6")/>
                    <label for="spf-include">"include (other senders' SPF records)"</label>
                    <textarea id="spf-include" name="include" rows="1" placeholder="_spf.google.com" aria-describedby="spf-include-error"></textarea>
                    <FieldError id="spf-include-error" message=field_err(build, "include")/>
                    <label for="spf-all">"Everyone else (all)"</label>
                    <select id="spf-all" name="all" aria-describedby="spf-all-error">
                        <option value="-">"-all: reject"</option>
                        <option value="~">"~all: accept but mark (soft fail)"</option>
                        <option value="?">"?all: neutral"</option>
                    </select>
                    <FieldError id="spf-all-error" message=field_err(build, "all")/>
                    <FormError action=build fields=&["ip4", "ip6", "include", "all"]/>
                    <button type="submit" class="button secondary">"Build SPF record"</button>
                </ActionForm>
                <ActionForm action=check attr:class="form" attr:aria-label="Check a pasted SPF record">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="spf-pasted">"Or paste a record"</label>
                    <textarea id="spf-pasted" name="pasted" rows="2" placeholder="v=spf1 mx -all" required></textarea>
                    <FormError action=check/>
                    <button type="submit" class="button secondary">"Check SPF record"</button>
                </ActionForm>
                {move || preview().map(|p| {
                    let record = p.record.clone();
                    let valid = p.valid;
                    view! {
                        <Preview preview=p/>
                        {valid.then(|| view! {
                            <ActionForm action=publish attr:class="inline-form">
                                <input type="hidden" name="domain" value=domain.get_value()/>
                                <input type="hidden" name="record" value=record.clone()/>
                                <button type="submit" class="button">"Publish this SPF record"</button>
                            </ActionForm>
                        })}
                    }
                })}
                <FieldError id="spf-record-error" message=field_err(publish, "record")/>
                <FormError action=publish fields=&["record"]/>
                {move || publish.value().get().and_then(|r| r.ok()).map(|p| view! {
                    <p class="form-ok" role="status">{format!("Published in {} (serial {}).", p.zone, p.serial)}</p>
                })}
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn DkimPanel(
    domain: String,
    keys: Vec<DkimKeyInfo>,
    generate: ServerAction<GenerateDkim>,
    remove: ServerAction<RemoveDkim>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let download = ServerAction::<DkimPrivateKey>::new();
    view! {
        <article class="panel" aria-labelledby="dkim-title">
            <h2 id="dkim-title">"DKIM"</h2>
            {if keys.is_empty() {
                view! { <p class="muted">"No key yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="record-list" aria-label="DKIM keys">
                        {keys.into_iter().map(|k| {
                            let selector = StoredValue::new(k.selector.clone());
                            view! {
                                <li class="record" aria-label=format!("DKIM key {}", k.selector)>
                                    <div class="record-main">
                                        <strong>{k.selector.clone()}</strong>
                                        <span class="badge">{match k.bits { Some(b) => format!("{} {b}", k.algorithm.to_uppercase()), None => k.algorithm.clone() }}</span>
                                    </div>
                                    <p class="hint">{format!("TXT at {}, {} string{}:", k.owner, k.txt_strings.len(), if k.txt_strings.len() == 1 { "" } else { "s" })}</p>
                                    <ol class="mail-strings">
                                        {k.txt_strings.iter().map(|s| view! { <li><code class="mail-record">{format!("\"{s}\"")}</code></li> }).collect_view()}
                                    </ol>
                                    <div class="record-actions">
                                        <Show when=move || at_least(Role::Admin)>
                                            <ActionForm action=download attr:class="inline-form">
                                                <input type="hidden" name="domain" value=domain.get_value()/>
                                                <input type="hidden" name="selector" value=selector.get_value()/>
                                                <button type="submit" class="button secondary small">"Private key…"</button>
                                            </ActionForm>
                                        </Show>
                                        <Show when=move || at_least(Role::Operator)>
                                            <ConfirmRemove
                                                what=format!("DKIM key {}", selector.get_value())
                                                warning="Mail signed with this key fails DKIM once receivers look the record up again: switch the signer to another selector first.">
                                                <ActionForm action=remove attr:class="inline-form">
                                                    <input type="hidden" name="domain" value=domain.get_value()/>
                                                    <input type="hidden" name="selector" value=selector.get_value()/>
                                                    <button type="submit" class="button danger small">"Remove"</button>
                                                </ActionForm>
                                            </ConfirmRemove>
                                        </Show>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError action=remove/>
            {move || download.value().get().map(|r| match r {
                Ok(file) => view! {
                    <p class="form-ok" role="status">
                        <a href=data_href(&file.contents) download=file.name.clone()>{format!("Download {}", file.name)}</a>
                        " (the download is in the audit log)"
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=generate attr:class="form" attr:aria-label="Generate a DKIM key">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="dkim-selector">"Selector"</label>
                    <input id="dkim-selector" name="selector" required placeholder="mail" autocapitalize="none"
                        spellcheck="false" aria-describedby="dkim-selector-error"/>
                    <FieldError id="dkim-selector-error" message=field_err(generate, "selector")/>
                    <label for="dkim-algorithm">"Key"</label>
                    <select id="dkim-algorithm" name="algorithm" aria-describedby="dkim-algorithm-error">
                        <option value="rsa2048" selected>"RSA 2048 (works everywhere)"</option>
                        <option value="rsa3072">"RSA 3072"</option>
                        <option value="rsa4096">"RSA 4096"</option>
                        <option value="ed25519">"Ed25519 (RFC 8463; add beside an RSA key)"</option>
                    </select>
                    <FieldError id="dkim-algorithm-error" message=field_err(generate, "algorithm")/>
                    <FormError action=generate fields=&["selector", "algorithm"]/>
                    {move || generate.value().get().and_then(|r| r.ok()).map(|k| view! {
                        <p class="form-ok" role="status">{format!("Generated and published {}.", k.owner)}</p>
                    })}
                    <button type="submit" class="button" disabled=move || generate.pending().get()>
                        {move || if generate.pending().get() { "Generating…" } else { "Generate and publish key" }}
                    </button>
                </ActionForm>
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn DmarcPanel(
    domain: String,
    current: Option<String>,
    publish: ServerAction<PublishDmarc>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let build = ServerAction::<BuildDmarc>::new();
    let policy_options = || {
        view! {
            <option value="none">"none: monitor only"</option>
            <option value="quarantine">"quarantine: to spam"</option>
            <option value="reject">"reject"</option>
        }
    };
    let align_options = || {
        view! {
            <option value="">"default (relaxed)"</option>
            <option value="r">"r: relaxed"</option>
            <option value="s">"s: strict"</option>
        }
    };
    view! {
        <article class="panel" aria-labelledby="dmarc-title">
            <h2 id="dmarc-title">"DMARC"</h2>
            <Current label="Published at _dmarc:" values=current.into_iter().collect()/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=build attr:class="form" attr:aria-label="Build a DMARC record">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="dmarc-p">"Policy (p)"</label>
                    <select id="dmarc-p" name="p" aria-describedby="dmarc-p-error">{policy_options()}</select>
                    <FieldError id="dmarc-p-error" message=field_err(build, "p")/>
                    <label for="dmarc-sp">"Subdomain policy (sp)"</label>
                    <select id="dmarc-sp" name="sp" aria-describedby="dmarc-sp-error">
                        <option value="">"same as p"</option>
                        {policy_options()}
                    </select>
                    <FieldError id="dmarc-sp-error" message=field_err(build, "sp")/>
                    <label for="dmarc-pct">"Percentage (pct)"</label>
                    <input id="dmarc-pct" name="pct" inputmode="numeric" placeholder="100" aria-describedby="dmarc-pct-error"/>
                    <FieldError id="dmarc-pct-error" message=field_err(build, "pct")/>
                    <label for="dmarc-rua">"Aggregate reports to (rua)"</label>
                    <input id="dmarc-rua" name="rua" placeholder="dmarc@example.org" autocapitalize="none" aria-describedby="dmarc-rua-error"/>
                    <FieldError id="dmarc-rua-error" message=field_err(build, "rua")/>
                    <label for="dmarc-ruf">"Failure reports to (ruf)"</label>
                    <input id="dmarc-ruf" name="ruf" autocapitalize="none" aria-describedby="dmarc-ruf-error"/>
                    <FieldError id="dmarc-ruf-error" message=field_err(build, "ruf")/>
                    <label for="dmarc-adkim">"DKIM alignment (adkim)"</label>
                    <select id="dmarc-adkim" name="adkim" aria-describedby="dmarc-adkim-error">{align_options()}</select>
                    <FieldError id="dmarc-adkim-error" message=field_err(build, "adkim")/>
                    <label for="dmarc-aspf">"SPF alignment (aspf)"</label>
                    <select id="dmarc-aspf" name="aspf" aria-describedby="dmarc-aspf-error">{align_options()}</select>
                    <FieldError id="dmarc-aspf-error" message=field_err(build, "aspf")/>
                    <label for="dmarc-fo">"Failure report options (fo)"</label>
                    <input id="dmarc-fo" name="fo" placeholder="1:d" aria-describedby="dmarc-fo-hint dmarc-fo-error"/>
                    <p class="hint" id="dmarc-fo-hint">"0: all fail (default), 1: any fails, d: DKIM fails, s: SPF fails. Needs ruf."</p>
                    <FieldError id="dmarc-fo-error" message=field_err(build, "fo")/>
                    <label for="dmarc-pasted">"Or paste a record"</label>
                    <textarea id="dmarc-pasted" name="pasted" rows="2" placeholder="v=DMARC1; p=none; rua=mailto:dmarc@example.org"></textarea>
                    <FormError action=build fields=&["p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo"]/>
                    <button type="submit" class="button secondary">"Build DMARC record"</button>
                </ActionForm>
                {move || build.value().get().and_then(|r| r.ok()).map(|p| {
                    let record = p.record.clone();
                    let valid = p.valid;
                    view! {
                        <Preview preview=p/>
                        {valid.then(|| view! {
                            <ActionForm action=publish attr:class="inline-form">
                                <input type="hidden" name="domain" value=domain.get_value()/>
                                <input type="hidden" name="record" value=record.clone()/>
                                <button type="submit" class="button">"Publish this DMARC record"</button>
                            </ActionForm>
                        })}
                    }
                })}
                <FieldError id="dmarc-record-error" message=field_err(publish, "record")/>
                <FormError action=publish fields=&["record"]/>
                {move || publish.value().get().and_then(|r| r.ok()).map(|p| view! {
                    <p class="form-ok" role="status">{format!("Published in {} (serial {}).", p.zone, p.serial)}</p>
                })}
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn VerificationPanel(
    domain: String,
    current: Vec<String>,
    action: ServerAction<PublishVerification>,
    remove: ServerAction<RemoveVerification>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    view! {
        <article class="panel" aria-labelledby="verify-title">
            <h2 id="verify-title">"Verification tokens"</h2>
            <p class="hint">"Published at the apex:"</p>
            {if current.is_empty() {
                view! { <p class="muted">"None published."</p> }.into_any()
            } else {
                view! {
                    <ul class="record-list" aria-label="Verification tokens">
                        {current.into_iter().map(|value| {
                            let token = StoredValue::new(value.clone());
                            view! {
                            <li class="record">
                                <div class="record-main"><code class="mail-record">{value}</code></div>
                                <Show when=move || at_least(Role::Operator)>
                                    <ConfirmRemove
                                        what=format!("token {}", token.get_value())
                                        warning="The service that asked for it may stop treating the domain as verified.">
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="domain" value=domain.get_value()/>
                                            <input type="hidden" name="value" value=token.get_value()/>
                                            <button type="submit" class="button danger small">"Remove"</button>
                                        </ActionForm>
                                    </ConfirmRemove>
                                </Show>
                            </li>
                        }}).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError action=remove/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=action attr:class="form" attr:aria-label="Add a verification token">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="verify-value">"Token"</label>
                    <input id="verify-value" name="value" required placeholder="google-site-verification=…"
                        autocapitalize="none" spellcheck="false" aria-describedby="verify-value-error"/>
                    <FieldError id="verify-value-error" message=field_err(action, "value")/>
                    <FormError action=action fields=&["value"]/>
                    <button type="submit" class="button">"Publish token"</button>
                </ActionForm>
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn ReadinessPanel(
    domain: String,
    settings: MailSettings,
    save: ServerAction<SaveMailSettings>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let run = ServerAction::<RunMailCheck>::new();
    let zones = StoredValue::new(settings.dnsbl_zones.join(" "));
    let settings = StoredValue::new(settings);
    view! {
        <article class="panel mail-readiness" aria-labelledby="check-title">
            <h2 id="check-title">"Readiness check"</h2>
            <p class="hint">"What a receiving server checks (figure 3): the host's address, reverse DNS confirmed forward, MX, SPF, DKIM, DMARC and blocklists."</p>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=save attr:class="form" attr:aria-label="Check settings">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="check-host">"Mail host"</label>
                    <input id="check-host" name="mail_host" value=settings.with_value(|s| s.mail_host.clone()) placeholder="the best MX"
                        autocapitalize="none" spellcheck="false" aria-describedby="check-host-error"/>
                    <FieldError id="check-host-error" message=field_err(save, "mail_host")/>
                    <label for="check-ip">"Mail IP"</label>
                    <input id="check-ip" name="mail_ip" value=settings.with_value(|s| s.mail_ip.clone()) placeholder="the host's address"
                        aria-describedby="check-ip-error"/>
                    <FieldError id="check-ip-error" message=field_err(save, "mail_ip")/>
                    <label for="check-dnsbl">"Blocklists (DNSBL zones)"</label>
                    <input id="check-dnsbl" name="dnsbl_zones" value=zones.get_value() autocapitalize="none"
                        spellcheck="false" aria-describedby="check-dnsbl-error"/>
                    <FieldError id="check-dnsbl-error" message=field_err(save, "dnsbl_zones")/>
                    <label for="check-resolver">"Resolver"</label>
                    <input id="check-resolver" name="resolver" value=settings.with_value(|s| s.resolver.clone()) placeholder="the system's"
                        aria-describedby="check-resolver-error"/>
                    <FieldError id="check-resolver-error" message=field_err(save, "resolver")/>
                    <FormError action=save fields=&["mail_host", "mail_ip", "dnsbl_zones", "resolver"]/>
                    {move || save.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="form-ok" role="status">"Settings saved."</p> })}
                    <button type="submit" class="button secondary">"Save settings"</button>
                </ActionForm>
                <ActionForm action=run attr:class="inline-form">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <button type="submit" class="button" disabled=move || run.pending().get()>
                        {move || if run.pending().get() { "Checking…" } else { "Run the check" }}
                    </button>
                </ActionForm>
            </Show>
            {move || run.value().get().map(|r| match r {
                Ok(result) => view! { <Checklist result=result/> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </article>
    }
    .into_any()
}

#[component]
fn Checklist(result: CheckResult) -> impl IntoView {
    let summary = format!(
        "{} · mail host {} · address {} · asked {}",
        if result.all_passed {
            "Every check passed"
        } else {
            "Some checks did not pass"
        },
        result.mail_host.clone().unwrap_or_else(|| "unknown".into()),
        result.mail_ip.clone().unwrap_or_else(|| "unknown".into()),
        result.resolver,
    );
    view! {
        <p class=if result.all_passed { "form-ok" } else { "form-error" } role="status">{summary}</p>
        <ol class="mail-checklist" aria-label="Readiness checklist">
            {result.items.into_iter().map(|i| {
                let label = match i.status.as_str() {
                    "pass" => "Pass",
                    "fail" => "Fail",
                    "warn" => "Warning",
                    _ => "Skipped",
                };
                view! {
                    <li class=format!("mail-check mail-check-{}", i.status) data-check=i.id.clone()>
                        <div class="record-main">
                            <span class=format!("badge mail-status-{}", i.status)>{label}</span>
                            <strong>{i.title.clone()}</strong>
                        </div>
                        <p>{i.detail.clone()}</p>
                        {i.fix.clone().map(|f| view! { <p class="mail-fix"><strong>"How to fix: "</strong>{f}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

fn mib(bytes: u64) -> String {
    if bytes == 0 {
        "no limit".to_owned()
    } else {
        format!("{} MiB", bytes / (1024 * 1024))
    }
}

#[component]
fn MailboxesPanel(domain: String, mailboxes: Vec<MailboxRow>, actions: Actions) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let add = actions.add_mailbox;
    view! {
        <article class="panel" aria-labelledby="mailboxes-title">
            <h2 id="mailboxes-title">"Mailboxes"</h2>
            {if mailboxes.is_empty() {
                view! { <p class="muted">"No mailbox."</p> }.into_any()
            } else {
                view! {
                    <ul class="record-list" aria-label="Mailboxes">
                        {mailboxes.into_iter().map(|m| view! { <MailboxRowView mailbox=m actions=actions/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError action=actions.update_mailbox/>
            <FormError action=actions.remove_mailbox/>
            <FormError action=actions.password/>
            {move || actions.password.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="form-ok" role="status">"Password changed."</p> })}
            <Show when=move || at_least(Role::Admin)>
                <ActionForm action=add attr:class="form" attr:aria-label="Add a mailbox">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="mb-address">"Address"</label>
                    <input id="mb-address" name="address" required placeholder=format!("alice (@{})", domain.get_value())
                        autocapitalize="none" spellcheck="false" aria-describedby="mb-address-error"/>
                    <FieldError id="mb-address-error" message=field_err(add, "address")/>
                    <label for="mb-password">"Password"</label>
                    <input id="mb-password" name="password" type="password" required autocomplete="new-password"
                        aria-describedby="mb-password-error"/>
                    <FieldError id="mb-password-error" message=field_err(add, "password")/>
                    <label for="mb-quota">"Quota (MiB)"</label>
                    <input id="mb-quota" name="quota_mib" inputmode="numeric" placeholder="0 = no limit"
                        aria-describedby="mb-quota-error"/>
                    <FieldError id="mb-quota-error" message=field_err(add, "quota_mib")/>
                    <FormError action=add fields=&["address", "password", "quota_mib"]/>
                    <button type="submit" class="button">"Add mailbox"</button>
                </ActionForm>
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn MailboxRowView(mailbox: MailboxRow, actions: Actions) -> impl IntoView {
    let address = StoredValue::new(mailbox.address.clone());
    let quota = StoredValue::new((mailbox.quota_bytes / (1024 * 1024)).to_string());
    let active = mailbox.active;
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    view! {
        <li class="record" aria-label=format!("Mailbox {}", mailbox.address)>
            <div class="record-main">
                <strong>{mailbox.address.clone()}</strong>
                {if active { view! { <span class="badge ok-badge">"Active"</span> }.into_any() } else { view! { <span class="badge bad">"Disabled"</span> }.into_any() }}
            </div>
            <p class="muted">{format!("Quota {} · maildir {}", mib(mailbox.quota_bytes), mailbox.maildir)}</p>
            <Show when=move || at_least(Role::Admin)>
                <div class="record-actions">
                    <button type="button" class="button secondary small" on:click=move |_| editing.update(|e| *e = !*e)>"Edit…"</button>
                    <button type="button" class="button secondary small" on:click=move |_| confirming.set(true)>"Remove…"</button>
                </div>
                <Show when=move || editing.get()>
                    <ActionForm action=actions.update_mailbox attr:class="form">
                        <input type="hidden" name="address" value=address.get_value()/>
                        <label for=format!("q-{}", address.get_value())>"Quota (MiB)"</label>
                        <input id=format!("q-{}", address.get_value()) name="quota_mib" value=quota.get_value() inputmode="numeric"/>
                        <label for=format!("a-{}", address.get_value())>"State"</label>
                        <select id=format!("a-{}", address.get_value()) name="active">
                            <option value="true" selected=active>"active"</option>
                            <option value="false" selected=!active>"disabled"</option>
                        </select>
                        <button type="submit" class="button secondary">"Save mailbox"</button>
                    </ActionForm>
                    <ActionForm action=actions.password attr:class="form">
                        <input type="hidden" name="address" value=address.get_value()/>
                        <label for=format!("p-{}", address.get_value())>"New password"</label>
                        <input id=format!("p-{}", address.get_value()) name="password" type="password" autocomplete="new-password" required/>
                        <FieldError id=format!("p-{}-error", address.get_value()) message=field_err(actions.password, "password")/>
                        <button type="submit" class="button secondary">"Set password"</button>
                    </ActionForm>
                </Show>
                <Show when=move || confirming.get()>
                    <ActionForm action=actions.remove_mailbox attr:class="confirm-row">
                        <input type="hidden" name="address" value=address.get_value()/>
                        <span>{format!("Remove {}? Its mail stays on disk.", address.get_value())}</span>
                        <button type="submit" class="button danger">"Remove mailbox"</button>
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </ActionForm>
                </Show>
            </Show>
        </li>
    }
    .into_any()
}

#[component]
fn AliasesPanel(domain: String, aliases: Vec<AliasRow>, actions: Actions) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let add = actions.add_alias;
    view! {
        <article class="panel" aria-labelledby="aliases-title">
            <h2 id="aliases-title">"Aliases"</h2>
            {if aliases.is_empty() {
                view! { <p class="muted">"No alias."</p> }.into_any()
            } else {
                view! {
                    <ul class="record-list" aria-label="Aliases">
                        {aliases.into_iter().map(|a| view! {
                            <li class="record">
                                <div class="record-main">
                                    <span><strong>{a.source.clone()}</strong>" → "{a.destination.clone()}</span>
                                </div>
                                <Show when=move || at_least(Role::Operator)>
                                    <ActionForm action=actions.remove_alias attr:class="inline-form">
                                        <input type="hidden" name="id" value=a.id.to_string()/>
                                        <button type="submit" class="button secondary small">"Remove"</button>
                                    </ActionForm>
                                </Show>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError action=actions.remove_alias/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=add attr:class="form" attr:aria-label="Add an alias">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="alias-source">"Alias"</label>
                    <input id="alias-source" name="source" placeholder="postmaster (empty: catch-all)"
                        autocapitalize="none" spellcheck="false" aria-describedby="alias-source-error"/>
                    <FieldError id="alias-source-error" message=field_err(add, "source")/>
                    <label for="alias-destination">"Delivers to"</label>
                    <input id="alias-destination" name="destination" required placeholder="alice@example.org"
                        autocapitalize="none" spellcheck="false" aria-describedby="alias-destination-error"/>
                    <FieldError id="alias-destination-error" message=field_err(add, "destination")/>
                    <FormError action=add fields=&["source", "destination"]/>
                    <button type="submit" class="button">"Add alias"</button>
                </ActionForm>
            </Show>
        </article>
    }
    .into_any()
}

#[component]
fn ConfigPanel(defaults: Resource<Option<ConfigDefaults>>) -> impl IntoView {
    let make = ServerAction::<MailServerConfig>::new();
    view! {
        <article class="panel" aria-labelledby="config-title">
            <h2 id="config-title">"Postfix and Dovecot"</h2>
            <p class="hint">"Both daemons read the mail tables in Stackyard's database directly: a mailbox added here works at once."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let d = defaults.await;
                    let d = d.unwrap_or(ConfigDefaults {
                        backend: "sqlite".into(),
                        sqlite_path: String::new(),
                        pg_host: String::new(),
                        pg_port: String::new(),
                        pg_dbname: String::new(),
                    });
                    let sqlite = d.backend == "sqlite";
                    view! {
                        <ActionForm action=make attr:class="form" attr:aria-label="Mail server configuration">
                            <label for="cfg-backend">"Database"</label>
                            <select id="cfg-backend" name="backend">
                                <option value="sqlite" selected=sqlite>"SQLite (sqlite: tables)"</option>
                                <option value="pgsql" selected=!sqlite>"PostgreSQL (pgsql: tables)"</option>
                            </select>
                            <label for="cfg-sqlite">"SQLite file, as the mail server sees it"</label>
                            <input id="cfg-sqlite" name="sqlite_path" value=d.sqlite_path.clone() aria-describedby="cfg-sqlite-error"/>
                            <FieldError id="cfg-sqlite-error" message=field_err(make, "sqlite_path")/>
                            <label for="cfg-pg-host">"PostgreSQL host"</label>
                            <input id="cfg-pg-host" name="pg_host" value=d.pg_host.clone() aria-describedby="cfg-pg-host-error"/>
                            <FieldError id="cfg-pg-host-error" message=field_err(make, "pg_host")/>
                            <label for="cfg-pg-port">"Port"</label>
                            <input id="cfg-pg-port" name="pg_port" value=d.pg_port.clone() inputmode="numeric" aria-describedby="cfg-pg-port-error"/>
                            <FieldError id="cfg-pg-port-error" message=field_err(make, "pg_port")/>
                            <label for="cfg-pg-db">"Database name"</label>
                            <input id="cfg-pg-db" name="pg_dbname" value=d.pg_dbname.clone() aria-describedby="cfg-pg-db-error"/>
                            <FieldError id="cfg-pg-db-error" message=field_err(make, "pg_dbname")/>
                            <label for="cfg-pg-user">"Read-only role"</label>
                            <input id="cfg-pg-user" name="pg_user" autocapitalize="none" aria-describedby="cfg-pg-user-error"/>
                            <FieldError id="cfg-pg-user-error" message=field_err(make, "pg_user")/>
                            <label for="cfg-pg-password">"Its password (not stored)"</label>
                            <input id="cfg-pg-password" name="pg_password" type="password" autocomplete="off" aria-describedby="cfg-pg-password-error"/>
                            <FieldError id="cfg-pg-password-error" message=field_err(make, "pg_password")/>
                            <label for="cfg-root">"Mail root"</label>
                            <input id="cfg-root" name="mail_root" value="/var/vmail" aria-describedby="cfg-root-error"/>
                            <FieldError id="cfg-root-error" message=field_err(make, "mail_root")/>
                            <FormError action=make fields=&["sqlite_path", "pg_host", "pg_port", "pg_dbname", "pg_user", "pg_password", "mail_root"]/>
                            <button type="submit" class="button secondary">"Make configuration files"</button>
                        </ActionForm>
                    }
                })}
            </Transition>
            {move || make.value().get().and_then(|r| r.ok()).map(|files| view! {
                <ul class="plain-list mail-files" aria-label="Configuration files">
                    {files.into_iter().map(|f| view! {
                        <li>
                            <a href=data_href(&f.contents) download=f.name.clone()>{format!("Download {}", f.name)}</a>
                            <pre class="mail-file">{f.contents.clone()}</pre>
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </article>
    }
    .into_any()
}

#[component]
fn RemoveDomainPanel(domain: String) -> impl IntoView {
    let remove = ServerAction::<RemoveMailDomain>::new();
    let confirming = RwSignal::new(false);
    let d = StoredValue::new(domain);
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/mail", Default::default());
        }
    });
    view! {
        <article class="panel" aria-labelledby="remove-title">
            <h2 id="remove-title">"Remove"</h2>
            {move || if confirming.get() {
                view! {
                    <ActionForm action=remove attr:class="confirm-row">
                        <input type="hidden" name="domain" value=d.get_value()/>
                        <span>{format!("Remove {} with its mailboxes, aliases and DKIM keys? DNS records and mail on disk stay.", d.get_value())}</span>
                        <button type="submit" class="button danger">"Remove mail domain"</button>
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <button type="button" class="button secondary" on:click=move |_| confirming.set(true)>"Remove mail domain…"</button> }.into_any()
            }}
            <FormError action=remove/>
        </article>
    }
    .into_any()
}
