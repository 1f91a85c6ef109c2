//! What only admins see: the Postfix and Dovecot configuration files (on
//! the mail page: one server serves every domain) and removing a mail
//! domain (on its page).

use super::*;
use crate::ui::data_url;

#[component]
pub(super) fn ConfigPanel(
    defaults: crate::ui::JsonResource<Option<ConfigDefaults>>,
) -> impl IntoView {
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
                            <label for="cfg-sqlite">"Mail database file (--mail-db), as the mail server sees it"</label>
                            <input id="cfg-sqlite" name="sqlite_path" value=d.sqlite_path.clone() aria-describedby="cfg-sqlite-error"/>
                            <FieldError id="cfg-sqlite-error" message=field_error(make.value(), "sqlite_path")/>
                            <label for="cfg-pg-host">"PostgreSQL host"</label>
                            <input id="cfg-pg-host" name="pg_host" value=d.pg_host.clone() aria-describedby="cfg-pg-host-error"/>
                            <FieldError id="cfg-pg-host-error" message=field_error(make.value(), "pg_host")/>
                            <label for="cfg-pg-port">"Port"</label>
                            <input id="cfg-pg-port" name="pg_port" value=d.pg_port.clone() inputmode="numeric" aria-describedby="cfg-pg-port-error"/>
                            <FieldError id="cfg-pg-port-error" message=field_error(make.value(), "pg_port")/>
                            <label for="cfg-pg-db">"Database name"</label>
                            <input id="cfg-pg-db" name="pg_dbname" value=d.pg_dbname.clone() aria-describedby="cfg-pg-db-error"/>
                            <FieldError id="cfg-pg-db-error" message=field_error(make.value(), "pg_dbname")/>
                            <label for="cfg-pg-user">"Read-only role (a member of stackyard_mail)"</label>
                            <input id="cfg-pg-user" name="pg_user" autocapitalize="none" aria-describedby="cfg-pg-user-error"/>
                            <FieldError id="cfg-pg-user-error" message=field_error(make.value(), "pg_user")/>
                            <label for="cfg-pg-password">"Its password (not stored)"</label>
                            <input id="cfg-pg-password" name="pg_password" type="password" autocomplete="off" aria-describedby="cfg-pg-password-error"/>
                            <FieldError id="cfg-pg-password-error" message=field_error(make.value(), "pg_password")/>
                            <label for="cfg-root">"Mail root"</label>
                            <input id="cfg-root" name="mail_root" value="/var/vmail" aria-describedby="cfg-root-error"/>
                            <FieldError id="cfg-root-error" message=field_error(make.value(), "mail_root")/>
                            <FormError value=make.value() fields=&["sqlite_path", "pg_host", "pg_port", "pg_dbname", "pg_user", "pg_password", "mail_root"]/>
                            <button type="submit" class="button secondary">"Make configuration files"</button>
                        </ActionForm>
                    }
                })}
            </Transition>
            {move || make.value().get().and_then(|r| r.ok()).map(|files| view! {
                <ul class="plain-list mail-files" aria-label="Configuration files">
                    {files.into_iter().map(|f| view! {
                        <li>
                            <a href=data_url(&f.contents) download=f.name.clone()>{format!("Download {}", f.name)}</a>
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
pub(super) fn RemoveDomainPanel(domain: String) -> impl IntoView {
    let remove = ServerAction::<RemoveMailDomain>::new();
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
            <Confirm
                label="Remove mail domain…"
                warning=format!("Remove {} with its mailboxes, aliases and DKIM keys? DNS records and mail on disk stay.", d.get_value())>
                <ActionForm action=remove attr:class="inline-form">
                    <input type="hidden" name="domain" value=d.get_value()/>
                    <button type="submit" class="button danger">"Remove mail domain"</button>
                </ActionForm>
            </Confirm>
            <FormError value=remove.value()/>
        </article>
    }
    .into_any()
}
