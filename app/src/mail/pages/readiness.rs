//! The readiness check: its settings, the run, and the checklist.

use super::*;

#[component]
pub(super) fn ReadinessPanel(
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
                    <FieldError id="check-host-error" message=field_error(save.value(), "mail_host")/>
                    <label for="check-ip">"Mail IP"</label>
                    <input id="check-ip" name="mail_ip" value=settings.with_value(|s| s.mail_ip.clone()) placeholder="the host's address"
                        aria-describedby="check-ip-error"/>
                    <FieldError id="check-ip-error" message=field_error(save.value(), "mail_ip")/>
                    <label for="check-dnsbl">"Blocklists (DNSBL zones)"</label>
                    <input id="check-dnsbl" name="dnsbl_zones" value=zones.get_value() autocapitalize="none"
                        spellcheck="false" aria-describedby="check-dnsbl-error"/>
                    <FieldError id="check-dnsbl-error" message=field_error(save.value(), "dnsbl_zones")/>
                    <label for="check-resolver">"Resolver"</label>
                    <input id="check-resolver" name="resolver" value=settings.with_value(|s| s.resolver.clone()) placeholder="the system's"
                        aria-describedby="check-resolver-error"/>
                    <FieldError id="check-resolver-error" message=field_error(save.value(), "resolver")/>
                    <FormError value=save.value() fields=&["mail_host", "mail_ip", "dnsbl_zones", "resolver"]/>
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
