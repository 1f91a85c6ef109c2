//! The record panels: MX, SPF and DMARC (built, previewed, published; the
//! builders are fetched when opened, see [`Opener`]),
//! DKIM keys and verification tokens (the forms adding one, and a key's
//! private half, fetched when opened too).

use super::*;
use crate::ui::{data_url, ChunkLoadError, Opener};

#[component]
pub(super) fn MxPanel(
    domain: String,
    current: Vec<String>,
    action: ServerAction<PublishMx>,
) -> impl IntoView {
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
                <Opener hint="" open_label="Change the MX records…"
                    load=move || mx_form(domain.get_value(), prefill.get_value(), action)/>
            </Show>
        </article>
    }
    .into_any()
}

/// The MX form: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Mx, wasm_split_path = ::leptos::wasm_split, fallible)]
fn mx_form(
    domain: String,
    prefill: String,
    action: ServerAction<PublishMx>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! {
        <ActionForm action=action attr:class="form" attr:aria-label="MX records">
            <input type="hidden" name="domain" value=domain/>
            <label for="mx-lines">"Mail servers"</label>
            <textarea id="mx-lines" name="mx" rows="2" placeholder="10 mail" aria-describedby="mx-hint mx-error">{prefill}</textarea>
            <p class="hint" id="mx-hint">"One per line: preference and host, e.g. 10 mail (relative to the domain) or 20 mx.example.net. Empty removes the MX records."</p>
            <FieldError id="mx-error" message=field_error(action.value(), "mx")/>
            <FormError value=action.value() fields=&["mx"]/>
            <button type="submit" class="button">"Publish MX"</button>
        </ActionForm>
    }
    .into_any())
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

/// A record made with a builder (SPF, DMARC): the record as published, then,
/// for an operator, the builder (fetched when opened) and what publishing
/// it said. That message is drawn here, outside the builder: a publish
/// refreshes the page, which draws the builder closed again.
#[component]
fn BuiltRecordPanel<F, Fut>(
    /// `spf`: the element ids' prefix.
    kind: &'static str,
    title: &'static str,
    /// Where the record is published (`Published at the apex:`).
    label: &'static str,
    current: Option<String>,
    hint: &'static str,
    open_label: &'static str,
    load: F,
    #[prop(into)] published: Signal<Option<Result<Published, AppError>>>,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<AnyView, ChunkLoadError>> + 'static,
{
    let load = StoredValue::new(load);
    view! {
        <article class="panel" aria-labelledby=format!("{kind}-title")>
            <h2 id=format!("{kind}-title")>{title}</h2>
            <Current label=label values=current.into_iter().collect()/>
            <Show when=move || at_least(Role::Operator)>
                <Opener hint=hint open_label=open_label load=move || load.with_value(|f| f())/>
            </Show>
            <FieldError id=format!("{kind}-record-error") message=field_error(published, "record")/>
            <FormError value=published fields=&["record"]/>
            {move || published.get().and_then(|r| r.ok()).map(|p| view! {
                <p class="form-ok" role="status">{format!("Published in {} (serial {}).", p.zone, p.serial)}</p>
            })}
        </article>
    }
    .into_any()
}

#[component]
pub(super) fn SpfPanel(
    domain: String,
    current: Option<String>,
    publish: ServerAction<PublishSpf>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    view! {
        <BuiltRecordPanel
            kind="spf"
            title="SPF"
            label="Published at the apex:"
            current=current
            hint="Build the record from who may send (or check a pasted one), then publish it."
            open_label="Build an SPF record…"
            load=move || spf_builder(domain.get_value(), publish)
            published=publish.value()
        />
    }
}

/// The SPF builder: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Spf, wasm_split_path = ::leptos::wasm_split, fallible)]
fn spf_builder(
    domain: String,
    publish: ServerAction<PublishSpf>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <SpfBuilder domain=domain publish=publish/> }.into_any())
}

#[component]
fn SpfBuilder(domain: String, publish: ServerAction<PublishSpf>) -> impl IntoView {
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
        <ActionForm action=build attr:class="form" attr:aria-label="Build an SPF record">
            <input type="hidden" name="domain" value=domain.get_value()/>
            <fieldset class="mail-choices">
                <legend>"Who may send mail for this domain"</legend>
                <label class="check"><input type="checkbox" name="a" value="on"/>" a: the domain's own addresses"</label>
                <label class="check"><input type="checkbox" name="mx" value="on"/>" mx: the domain's mail servers"</label>
            </fieldset>
            <label for="spf-ip4">"ip4 addresses or networks"</label>
            <textarea id="spf-ip4" name="ip4" rows="2" placeholder="192.0.2.25" aria-describedby="spf-ip4-error"></textarea>
            <FieldError id="spf-ip4-error" message=field_error(build.value(), "ip4")/>
            <label for="spf-ip6">"ip6 addresses or networks"</label>
            <textarea id="spf-ip6" name="ip6" rows="1" placeholder="2001:db8::25" aria-describedby="spf-ip6-error"></textarea>
            <FieldError id="spf-ip6-error" message=field_error(build.value(), "ip6")/>
            <label for="spf-include">"include (other senders' SPF records)"</label>
            <textarea id="spf-include" name="include" rows="1" placeholder="_spf.google.com" aria-describedby="spf-include-error"></textarea>
            <FieldError id="spf-include-error" message=field_error(build.value(), "include")/>
            <label for="spf-all">"Everyone else (all)"</label>
            <select id="spf-all" name="all" aria-describedby="spf-all-error">
                <option value="-">"-all: reject"</option>
                <option value="~">"~all: accept but mark (soft fail)"</option>
                <option value="?">"?all: neutral"</option>
            </select>
            <FieldError id="spf-all-error" message=field_error(build.value(), "all")/>
            <FormError value=build.value() fields=&["ip4", "ip6", "include", "all"]/>
            <button type="submit" class="button secondary">"Build SPF record"</button>
        </ActionForm>
        <ActionForm action=check attr:class="form" attr:aria-label="Check a pasted SPF record">
            <input type="hidden" name="domain" value=domain.get_value()/>
            <label for="spf-pasted">"Or paste a record"</label>
            <textarea id="spf-pasted" name="pasted" rows="2" placeholder="v=spf1 mx -all" required></textarea>
            <FormError value=check.value()/>
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
    }
    .into_any()
}

#[component]
pub(super) fn DkimPanel(
    domain: String,
    keys: Vec<DkimKeyInfo>,
    generate: ServerAction<GenerateDkim>,
    remove: ServerAction<RemoveDkim>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
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
                                        <span class="badge">{match k.bits { Some(b) => format!("{} {b}", k.algorithm.to_ascii_uppercase()), None => k.algorithm.clone() }}</span>
                                    </div>
                                    <p class="hint">{format!("TXT at {}, {} string{}:", k.owner, k.txt_strings.len(), if k.txt_strings.len() == 1 { "" } else { "s" })}</p>
                                    <ol class="mail-strings">
                                        {k.txt_strings.iter().map(|s| view! { <li><code class="mail-record">{format!("\"{s}\"")}</code></li> }).collect_view()}
                                    </ol>
                                    <div class="record-actions">
                                        <Show when=move || at_least(Role::Operator)>
                                            <Confirm
                                                label="Remove…"
                                                small=true
                                                what=format!("Remove DKIM key {}", selector.get_value())
                                                warning="Mail signed with this key fails DKIM once receivers look the record up again: switch the signer to another selector first.">
                                                <ActionForm action=remove attr:class="inline-form">
                                                    <input type="hidden" name="domain" value=domain.get_value()/>
                                                    <input type="hidden" name="selector" value=selector.get_value()/>
                                                    <button type="submit" class="button danger small">"Remove"</button>
                                                </ActionForm>
                                            </Confirm>
                                        </Show>
                                    </div>
                                    <Show when=move || at_least(Role::Admin)>
                                        <Opener hint="" open_label="Private key…"
                                            load=move || private_key_form(domain.get_value(), selector.get_value())/>
                                    </Show>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError value=remove.value()/>
            <Show when=move || at_least(Role::Operator)>
                <Opener hint="" open_label="Generate a DKIM key…"
                    load=move || dkim_form(domain.get_value(), generate)/>
            </Show>
            // Here, not in the form: a new key refetches the page, which draws
            // the form closed again.
            {move || generate.value().get().and_then(|r| r.ok()).map(|k| view! {
                <p class="form-ok" role="status">{format!("Generated and published {}.", k.owner)}</p>
            })}
        </article>
    }
    .into_any()
}

/// The form generating a DKIM key: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Dkim, wasm_split_path = ::leptos::wasm_split, fallible)]
fn dkim_form(
    domain: String,
    generate: ServerAction<GenerateDkim>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! {
        <ActionForm action=generate attr:class="form" attr:aria-label="Generate a DKIM key">
            <input type="hidden" name="domain" value=domain/>
            <label for="dkim-selector">"Selector"</label>
            <input id="dkim-selector" name="selector" required placeholder="mail" autocapitalize="none"
                spellcheck="false" aria-describedby="dkim-selector-error"/>
            <FieldError id="dkim-selector-error" message=field_error(generate.value(), "selector")/>
            <label for="dkim-algorithm">"Key"</label>
            <select id="dkim-algorithm" name="algorithm" aria-describedby="dkim-algorithm-error">
                <option value="rsa2048" selected>"RSA 2048 (works everywhere)"</option>
                <option value="rsa3072">"RSA 3072"</option>
                <option value="rsa4096">"RSA 4096"</option>
                <option value="ed25519">"Ed25519 (RFC 8463; add beside an RSA key)"</option>
            </select>
            <FieldError id="dkim-algorithm-error" message=field_error(generate.value(), "algorithm")/>
            <FormError value=generate.value() fields=&["selector", "algorithm"]/>
            <button type="submit" class="button" disabled=move || generate.pending().get()>
                {move || if generate.pending().get() { "Generating…" } else { "Generate and publish key" }}
            </button>
        </ActionForm>
    }
    .into_any())
}

/// The form handing out a key's private half (the admin's password again):
/// a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__PrivateKey, wasm_split_path = ::leptos::wasm_split, fallible)]
fn private_key_form(domain: String, selector: String) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <PrivateKeyForm domain=domain selector=selector/> }.into_any())
}

#[component]
fn PrivateKeyForm(domain: String, selector: String) -> impl IntoView {
    let download = ServerAction::<DkimPrivateKey>::new();
    let label = format!("Private key of {selector}");
    let password_id = format!("dkim-password-{selector}");
    view! {
        <ActionForm action=download attr:class="form" attr:aria-label=label>
            <input type="hidden" name="domain" value=domain/>
            <input type="hidden" name="selector" value=selector/>
            <ConfirmPassword id=password_id
                error=field_error(download.value(), "confirm_password")/>
            <button type="submit" class="button secondary small">"Get the private key"</button>
        </ActionForm>
        {move || download.value().get().map(|r| match r {
            Ok(file) => view! {
                <p class="form-ok" role="status">
                    <a href=data_url(&file.contents) download=file.name.clone()>{format!("Download {}", file.name)}</a>
                    " (the download is in the audit log)"
                </p>
            }.into_any(),
            // A wrong password is shown by its field.
            Err(e) if e.for_field("confirm_password").is_some() => ().into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
}

#[component]
pub(super) fn DmarcPanel(
    domain: String,
    current: Option<String>,
    publish: ServerAction<PublishDmarc>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    view! {
        <BuiltRecordPanel
            kind="dmarc"
            title="DMARC"
            label="Published at _dmarc:"
            current=current
            hint="Choose the policy and where reports go, then publish the record."
            open_label="Build a DMARC record…"
            load=move || dmarc_builder(domain.get_value(), publish)
            published=publish.value()
        />
    }
}

/// The DMARC builder: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Dmarc, wasm_split_path = ::leptos::wasm_split, fallible)]
fn dmarc_builder(
    domain: String,
    publish: ServerAction<PublishDmarc>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <DmarcBuilder domain=domain publish=publish/> }.into_any())
}

#[component]
fn DmarcBuilder(domain: String, publish: ServerAction<PublishDmarc>) -> impl IntoView {
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
        <ActionForm action=build attr:class="form" attr:aria-label="Build a DMARC record">
            <input type="hidden" name="domain" value=domain.get_value()/>
            <label for="dmarc-p">"Policy (p)"</label>
            <select id="dmarc-p" name="p" aria-describedby="dmarc-p-error">{policy_options()}</select>
            <FieldError id="dmarc-p-error" message=field_error(build.value(), "p")/>
            <label for="dmarc-sp">"Subdomain policy (sp)"</label>
            <select id="dmarc-sp" name="sp" aria-describedby="dmarc-sp-error">
                <option value="">"same as p"</option>
                {policy_options()}
            </select>
            <FieldError id="dmarc-sp-error" message=field_error(build.value(), "sp")/>
            <label for="dmarc-pct">"Percentage (pct)"</label>
            <input id="dmarc-pct" name="pct" inputmode="numeric" placeholder="100" aria-describedby="dmarc-pct-error"/>
            <FieldError id="dmarc-pct-error" message=field_error(build.value(), "pct")/>
            <label for="dmarc-rua">"Aggregate reports to (rua)"</label>
            <input id="dmarc-rua" name="rua" placeholder="dmarc@example.org" autocapitalize="none" aria-describedby="dmarc-rua-error"/>
            <FieldError id="dmarc-rua-error" message=field_error(build.value(), "rua")/>
            <label for="dmarc-ruf">"Failure reports to (ruf)"</label>
            <input id="dmarc-ruf" name="ruf" autocapitalize="none" aria-describedby="dmarc-ruf-error"/>
            <FieldError id="dmarc-ruf-error" message=field_error(build.value(), "ruf")/>
            <label for="dmarc-adkim">"DKIM alignment (adkim)"</label>
            <select id="dmarc-adkim" name="adkim" aria-describedby="dmarc-adkim-error">{align_options()}</select>
            <FieldError id="dmarc-adkim-error" message=field_error(build.value(), "adkim")/>
            <label for="dmarc-aspf">"SPF alignment (aspf)"</label>
            <select id="dmarc-aspf" name="aspf" aria-describedby="dmarc-aspf-error">{align_options()}</select>
            <FieldError id="dmarc-aspf-error" message=field_error(build.value(), "aspf")/>
            <label for="dmarc-fo">"Failure report options (fo)"</label>
            <input id="dmarc-fo" name="fo" placeholder="1:d" aria-describedby="dmarc-fo-hint dmarc-fo-error"/>
            <p class="hint" id="dmarc-fo-hint">"0: all fail (default), 1: any fails, d: DKIM fails, s: SPF fails. Needs ruf."</p>
            <FieldError id="dmarc-fo-error" message=field_error(build.value(), "fo")/>
            <label for="dmarc-pasted">"Or paste a record"</label>
            <textarea id="dmarc-pasted" name="pasted" rows="2" placeholder="v=DMARC1; p=none; rua=mailto:dmarc@example.org"></textarea>
            <FormError value=build.value() fields=&["p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo"]/>
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
    }
    .into_any()
}

#[component]
pub(super) fn VerificationPanel(
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
                                    <Confirm
                                        label="Remove…"
                                        small=true
                                        what=format!("Remove token {}", token.get_value())
                                        warning="The service that asked for it may stop treating the domain as verified.">
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="domain" value=domain.get_value()/>
                                            <input type="hidden" name="value" value=token.get_value()/>
                                            <button type="submit" class="button danger small">"Remove"</button>
                                        </ActionForm>
                                    </Confirm>
                                </Show>
                            </li>
                        }}).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError value=remove.value()/>
            <Show when=move || at_least(Role::Operator)>
                <Opener hint="" open_label="Add a verification token…"
                    load=move || verification_form(domain.get_value(), action)/>
            </Show>
        </article>
    }
    .into_any()
}

/// The form publishing a verification token: a chunk of its own, fetched
/// when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Verification, wasm_split_path = ::leptos::wasm_split, fallible)]
fn verification_form(
    domain: String,
    action: ServerAction<PublishVerification>,
) -> Result<AnyView, ChunkLoadError> {
    Ok(view! {
        <ActionForm action=action attr:class="form" attr:aria-label="Add a verification token">
            <input type="hidden" name="domain" value=domain/>
            <label for="verify-value">"Token"</label>
            <input id="verify-value" name="value" required placeholder="google-site-verification=…"
                autocapitalize="none" spellcheck="false" aria-describedby="verify-value-error"/>
            <FieldError id="verify-value-error" message=field_error(action.value(), "value")/>
            <FormError value=action.value() fields=&["value"]/>
            <button type="submit" class="button">"Publish token"</button>
        </ActionForm>
    }
    .into_any())
}
