//! Mailboxes (admins: they hold passwords) and aliases. The forms that
//! add one or edit a mailbox are fetched when opened ([`Opener`]): each
//! makes its own action, and a change refetches the page.

use super::*;
use crate::ui::{bump_on_success, format, ChunkLoadError, Opener};

#[component]
pub(super) fn MailboxesPanel(
    domain: String,
    mailboxes: Vec<MailboxRow>,
    actions: Actions,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
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
            <FormError value=actions.remove_mailbox.value()/>
            <Show when=move || at_least(Role::Admin)>
                <Opener hint="" open_label="Add a mailbox…"
                    load=move || add_mailbox_form(domain.get_value(), actions.changed)/>
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
    view! {
        <li class="record" aria-label=format!("Mailbox {}", mailbox.address)>
            <div class="record-main">
                <strong>{mailbox.address.clone()}</strong>
                {if active { view! { <span class="badge ok-badge">"Active"</span> }.into_any() } else { view! { <span class="badge bad">"Disabled"</span> }.into_any() }}
            </div>
            <p class="muted">{format!("Quota {} · maildir {}", format::quota(mailbox.quota_bytes), mailbox.maildir)}</p>
            <Show when=move || at_least(Role::Admin)>
                <div class="record-actions">
                    <Confirm
                        label="Remove…"
                        small=true
                        what=format!("Remove mailbox {}", address.get_value())
                        warning=format!("Remove {}? Its mail stays on disk.", address.get_value())>
                        <ActionForm action=actions.remove_mailbox attr:class="inline-form">
                            <input type="hidden" name="address" value=address.get_value()/>
                            <button type="submit" class="button danger small">"Remove mailbox"</button>
                        </ActionForm>
                    </Confirm>
                </div>
                <Opener hint="" open_label="Edit…"
                    load=move || edit_mailbox_form(address.get_value(), quota.get_value(), active, actions.changed)/>
            </Show>
        </li>
    }
    .into_any()
}

#[component]
pub(super) fn AliasesPanel(
    domain: String,
    aliases: Vec<AliasRow>,
    actions: Actions,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
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
            <FormError value=actions.remove_alias.value()/>
            <Show when=move || at_least(Role::Operator)>
                <Opener hint="" open_label="Add an alias…"
                    load=move || add_alias_form(domain.get_value(), actions.changed)/>
            </Show>
        </article>
    }
    .into_any()
}

/// The form adding a mailbox: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__AddMailbox, wasm_split_path = ::leptos::wasm_split, fallible)]
fn add_mailbox_form(domain: String, changed: RwSignal<usize>) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <AddMailboxForm domain=domain changed=changed/> }.into_any())
}

#[component]
fn AddMailboxForm(domain: String, changed: RwSignal<usize>) -> impl IntoView {
    let add = ServerAction::<AddMailbox>::new();
    bump_on_success(add.value(), changed);
    view! {
        <ActionForm action=add attr:class="form" attr:aria-label="Add a mailbox">
            <input type="hidden" name="domain" value=domain.clone()/>
            <label for="mb-address">"Address"</label>
            <input id="mb-address" name="address" required placeholder=format!("alice (@{domain})")
                autocapitalize="none" spellcheck="false" aria-describedby="mb-address-error"/>
            <FieldError id="mb-address-error" message=field_error(add.value(), "address")/>
            <label for="mb-password">"Password"</label>
            <input id="mb-password" name="password" type="password" required autocomplete="new-password"
                aria-describedby="mb-password-error"/>
            <FieldError id="mb-password-error" message=field_error(add.value(), "password")/>
            <label for="mb-quota">"Quota (MiB)"</label>
            <input id="mb-quota" name="quota_mib" inputmode="numeric" placeholder="0 = no limit"
                aria-describedby="mb-quota-error"/>
            <FieldError id="mb-quota-error" message=field_error(add.value(), "quota_mib")/>
            <FormError value=add.value() fields=&["address", "password", "quota_mib"]/>
            <button type="submit" class="button">"Add mailbox"</button>
        </ActionForm>
    }
}

/// The forms editing a mailbox (quota and state; password): a chunk of
/// their own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__EditMailbox, wasm_split_path = ::leptos::wasm_split, fallible)]
fn edit_mailbox_form(
    address: String,
    quota: String,
    active: bool,
    changed: RwSignal<usize>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(
        view! { <EditMailboxForm address=address quota=quota active=active changed=changed/> }
            .into_any(),
    )
}

#[component]
fn EditMailboxForm(
    address: String,
    quota: String,
    active: bool,
    changed: RwSignal<usize>,
) -> impl IntoView {
    let update = ServerAction::<UpdateMailbox>::new();
    let password = ServerAction::<SetMailboxPassword>::new();
    // A new quota or state refetches the page; a new password changes
    // nothing shown, so the form stays open and says so.
    bump_on_success(update.value(), changed);
    let p = |what: &str| format!("{what}-{address}");
    let (q, q_error, a, pw, pw_error) = (p("q"), p("q-error"), p("a"), p("p"), p("p-error"));
    let edit_label = format!("Edit mailbox {address}");
    let password_label = format!("New password for {address}");
    let address2 = address.clone();
    view! {
        <ActionForm action=update attr:class="form" attr:aria-label=edit_label>
            <input type="hidden" name="address" value=address/>
            <label for=q.clone()>"Quota (MiB)"</label>
            <input id=q name="quota_mib" value=quota inputmode="numeric" aria-describedby=q_error.clone()/>
            <FieldError id=q_error message=field_error(update.value(), "quota_mib")/>
            <label for=a.clone()>"State"</label>
            <select id=a name="active">
                <option value="true" selected=active>"active"</option>
                <option value="false" selected=!active>"disabled"</option>
            </select>
            <FormError value=update.value() fields=&["quota_mib"]/>
            <button type="submit" class="button secondary">"Save mailbox"</button>
        </ActionForm>
        <ActionForm action=password attr:class="form" attr:aria-label=password_label>
            <input type="hidden" name="address" value=address2/>
            <label for=pw.clone()>"New password"</label>
            <input id=pw name="password" type="password" autocomplete="new-password" required
                aria-describedby=pw_error.clone()/>
            <FieldError id=pw_error message=field_error(password.value(), "password")/>
            <FormError value=password.value() fields=&["password"]/>
            {move || password.value().get().and_then(|r| r.ok()).map(|_| view! {
                <p class="form-ok" role="status">"Password changed."</p>
            })}
            <button type="submit" class="button secondary">"Set password"</button>
        </ActionForm>
    }
}

/// The form adding an alias: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__AddAlias, wasm_split_path = ::leptos::wasm_split, fallible)]
fn add_alias_form(domain: String, changed: RwSignal<usize>) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <AddAliasForm domain=domain changed=changed/> }.into_any())
}

#[component]
fn AddAliasForm(domain: String, changed: RwSignal<usize>) -> impl IntoView {
    let add = ServerAction::<AddAlias>::new();
    bump_on_success(add.value(), changed);
    view! {
        <ActionForm action=add attr:class="form" attr:aria-label="Add an alias">
            <input type="hidden" name="domain" value=domain/>
            <label for="alias-source">"Alias"</label>
            <input id="alias-source" name="source" placeholder="postmaster (empty: catch-all)"
                autocapitalize="none" spellcheck="false" aria-describedby="alias-source-error"/>
            <FieldError id="alias-source-error" message=field_error(add.value(), "source")/>
            <label for="alias-destination">"Delivers to"</label>
            <input id="alias-destination" name="destination" required placeholder="alice@example.org"
                autocapitalize="none" spellcheck="false" aria-describedby="alias-destination-error"/>
            <FieldError id="alias-destination-error" message=field_error(add.value(), "destination")/>
            <FormError value=add.value() fields=&["source", "destination"]/>
            <button type="submit" class="button">"Add alias"</button>
        </ActionForm>
    }
}
