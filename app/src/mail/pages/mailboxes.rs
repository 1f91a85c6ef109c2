//! Mailboxes (admins: they hold passwords) and aliases.

use super::*;
use crate::ui::format;

#[component]
pub(super) fn MailboxesPanel(
    domain: String,
    mailboxes: Vec<MailboxRow>,
    actions: Actions,
) -> impl IntoView {
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
            <FormError value=actions.update_mailbox.value()/>
            <FormError value=actions.remove_mailbox.value()/>
            <FormError value=actions.password.value()/>
            {move || actions.password.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="form-ok" role="status">"Password changed."</p> })}
            <Show when=move || at_least(Role::Admin)>
                <ActionForm action=add attr:class="form" attr:aria-label="Add a mailbox">
                    <input type="hidden" name="domain" value=domain.get_value()/>
                    <label for="mb-address">"Address"</label>
                    <input id="mb-address" name="address" required placeholder=format!("alice (@{})", domain.get_value())
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
    view! {
        <li class="record" aria-label=format!("Mailbox {}", mailbox.address)>
            <div class="record-main">
                <strong>{mailbox.address.clone()}</strong>
                {if active { view! { <span class="badge ok-badge">"Active"</span> }.into_any() } else { view! { <span class="badge bad">"Disabled"</span> }.into_any() }}
            </div>
            <p class="muted">{format!("Quota {} · maildir {}", format::quota(mailbox.quota_bytes), mailbox.maildir)}</p>
            <Show when=move || at_least(Role::Admin)>
                <div class="record-actions">
                    <button type="button" class="button secondary small" on:click=move |_| editing.update(|e| *e = !*e)>"Edit…"</button>
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
                        <FieldError id=format!("p-{}-error", address.get_value()) message=field_error(actions.password.value(), "password")/>
                        <button type="submit" class="button secondary">"Set password"</button>
                    </ActionForm>
                </Show>
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
            <FormError value=actions.remove_alias.value()/>
            <Show when=move || at_least(Role::Operator)>
                <ActionForm action=add attr:class="form" attr:aria-label="Add an alias">
                    <input type="hidden" name="domain" value=domain.get_value()/>
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
            </Show>
        </article>
    }
    .into_any()
}
