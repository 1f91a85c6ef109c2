//! The readiness check: its settings, the run, and the checklist. The
//! settings form and the check itself (with its checklist) are fetched when
//! first asked for ([`Opener`]).

use super::*;
use crate::ui::{ChunkLoadError, Opener};

#[component]
pub(super) fn ReadinessPanel(
    domain: String,
    settings: MailSettings,
    /// The layouts' VMs the mail host can be picked from.
    hosts: Vec<crate::layouts::NamedVm>,
    save: ServerAction<SaveMailSettings>,
) -> impl IntoView {
    let domain = StoredValue::new(domain);
    let settings = StoredValue::new(settings);
    let hosts = StoredValue::new(hosts);
    view! {
        <article class="panel mail-readiness" aria-labelledby="check-title">
            <h2 id="check-title">"Readiness check"</h2>
            <p class="hint">"What a receiving server checks (figure 3): the host's address, reverse DNS confirmed forward, MX, SPF, DKIM, DMARC and blocklists."</p>
            <Show when=move || at_least(Role::Operator)>
                <p class="muted">{move || settings.with_value(summary)}</p>
                <Opener hint="" open_label="Change the check settings…"
                    load=move || settings_form(domain.get_value(), settings.get_value(), hosts.get_value(), save)/>
                // Here, not in the form: saving refetches the page, which draws
                // the form closed again.
                {move || save.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="form-ok" role="status">"Settings saved."</p> })}
                <Opener hint="" open_label="Run the check" load=move || run_check(domain.get_value())/>
            </Show>
        </article>
    }
    .into_any()
}

/// The settings in a line, as the check will use them.
fn summary(s: &MailSettings) -> String {
    let or = |v: &str, default: &str| {
        if v.trim().is_empty() {
            default.to_owned()
        } else {
            v.to_owned()
        }
    };
    let vm = if s.mail_vm.is_empty() {
        String::new()
    } else {
        " (a layout's VM)".to_owned()
    };
    format!(
        "Mail host: {}{vm} · mail IP: {} · blocklists: {} · resolver: {}",
        or(&s.mail_host, "the best MX"),
        or(&s.mail_ip, "the host's address"),
        if s.dnsbl_zones.is_empty() {
            "none".to_owned()
        } else {
            s.dnsbl_zones.join(" ")
        },
        or(&s.resolver, "the system's"),
    )
}

/// The check's settings form: a chunk of its own, fetched when opened.
#[leptos::wasm_split::wasm_split(MailDomainRoute__CheckSettings, wasm_split_path = ::leptos::wasm_split, fallible)]
fn settings_form(
    domain: String,
    settings: MailSettings,
    hosts: Vec<crate::layouts::NamedVm>,
    save: ServerAction<SaveMailSettings>,
) -> Result<AnyView, ChunkLoadError> {
    let zones = settings.dnsbl_zones.join(" ");
    let chosen = settings.mail_vm.clone();
    Ok(view! {
        <ActionForm action=save attr:class="form" attr:aria-label="Check settings">
            <input type="hidden" name="domain" value=domain/>
            <label for="check-vm">"Mail host from a layout"</label>
            <select id="check-vm" name="mail_vm" aria-describedby="check-vm-error">
                <option value="" selected=chosen.is_empty()>"None: as typed below"</option>
                {hosts.into_iter().map(|v| {
                    let selected = v.key == chosen;
                    view! { <option value=v.key selected=selected>{v.label}</option> }
                }).collect_view()}
            </select>
            <FieldError id="check-vm-error" message=field_error(save.value(), "mail_vm")/>
            <label for="check-host">"Mail host"</label>
            <input id="check-host" name="mail_host" value=settings.mail_host placeholder="the best MX"
                autocapitalize="none" spellcheck="false" aria-describedby="check-host-error"/>
            <FieldError id="check-host-error" message=field_error(save.value(), "mail_host")/>
            <label for="check-ip">"Mail IP"</label>
            <input id="check-ip" name="mail_ip" value=settings.mail_ip placeholder="the host's address"
                aria-describedby="check-ip-error"/>
            <FieldError id="check-ip-error" message=field_error(save.value(), "mail_ip")/>
            <label for="check-dnsbl">"Blocklists (DNSBL zones)"</label>
            <input id="check-dnsbl" name="dnsbl_zones" value=zones autocapitalize="none"
                spellcheck="false" aria-describedby="check-dnsbl-error"/>
            <FieldError id="check-dnsbl-error" message=field_error(save.value(), "dnsbl_zones")/>
            <label for="check-resolver">"Resolver"</label>
            <input id="check-resolver" name="resolver" value=settings.resolver placeholder="the system's"
                aria-describedby="check-resolver-error"/>
            <FieldError id="check-resolver-error" message=field_error(save.value(), "resolver")/>
            <FormError value=save.value() fields=&["mail_vm", "mail_host", "mail_ip", "dnsbl_zones", "resolver"]/>
            <button type="submit" class="button secondary">"Save settings"</button>
        </ActionForm>
    }
    .into_any())
}

/// The check, run as soon as its code has arrived, and its checklist: a
/// chunk of its own, fetched at the first run.
#[leptos::wasm_split::wasm_split(MailDomainRoute__Check, wasm_split_path = ::leptos::wasm_split, fallible)]
fn run_check(domain: String) -> Result<AnyView, ChunkLoadError> {
    Ok(view! { <RunCheck domain=domain/> }.into_any())
}

#[component]
fn RunCheck(domain: String) -> impl IntoView {
    let run = ServerAction::<RunMailCheck>::new();
    let domain = StoredValue::new(domain);
    run.dispatch(RunMailCheck {
        domain: domain.get_value(),
    });
    view! {
        <ActionForm action=run attr:class="inline-form">
            <input type="hidden" name="domain" value=domain.get_value()/>
            <button type="submit" class="button" disabled=move || run.pending().get()>
                {move || if run.pending().get() { "Checking…" } else { "Run the check again" }}
            </button>
        </ActionForm>
        {move || run.value().get().map(|r| match r {
            Ok(result) => view! { <Checklist result=result/> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
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
