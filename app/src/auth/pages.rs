//! The sign-in panel, the first-run setup page, the users page (admin), the
//! own-profile page and the audit page (operator), plus [`Protected`], which
//! the route table ([`crate::routes`]) wraps around every page that needs a
//! session, to show the sign-in panel or a refusal in place when the caller
//! may not see it.

use super::*;
use crate::ui::{field_error, Field, FieldError, FormError, PageHeader};
use leptos::form::ActionForm;
use leptos_router::hooks::{use_location, use_query_map};

/// The caller, loaded once per page load and shared by every component.
#[derive(Clone, Copy)]
pub struct SessionResource(pub crate::ui::JsonResource<Result<Option<CurrentUser>, AppError>>);

pub fn provide_session() -> SessionResource {
    let resource = SessionResource(crate::ui::blocking_resource(|| (), |_| me()));
    provide_context(resource);
    resource
}

pub fn use_session() -> Option<SessionResource> {
    use_context::<SessionResource>()
}

/// Loads `href` as a new page, so that every resource sees the new session.
fn reload_to(href: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

/// Renders `children` when the caller has `access`; otherwise the sign-in
/// panel (not signed in) or a refusal (role too weak). The server answers
/// 401/403 for the same page from its access declaration.
#[component]
pub fn Protected(access: Access, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let user = match session {
                        Some(s) => s.0.await.ok().flatten(),
                        None => None,
                    };
                    match access.decide(user.as_ref().map(|u| u.role)) {
                        Decision::Allow => children().into_any(),
                        Decision::SignIn => view! { <LoginPanel/> }.into_any(),
                        Decision::Deny => view! { <Refused/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn Refused() -> impl IntoView {
    view! {
        <section class="page">
            <PageHeader title="Not allowed"/>
            <div class="panel error-panel" role="alert">
                <p>"Your role does not allow this page. Ask an admin if you need it."</p>
            </div>
        </section>
    }
}

/// The sign-in form, shown in place of any page that needs a session.
#[component]
pub fn LoginPanel() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let location = use_location();
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            let path = location.pathname.get_untracked();
            let next = if path == "/login" {
                "/".to_owned()
            } else {
                path
            };
            reload_to(&next);
        }
    });
    view! {
        <section class="page narrow">
            <PageHeader title="Sign in" summary="Sign in to manage this organisation's hosts, DNS and mail."/>
            <div class="panel">
                <ActionForm action=login attr:class="form" attr:aria-label="Sign in">
                    <label for="login-username">"Name"</label>
                    <input id="login-username" name="username" autocomplete="username" required
                        autocapitalize="none" spellcheck="false"/>
                    <label for="login-password">"Password"</label>
                    <input id="login-password" name="password" type="password"
                        autocomplete="current-password" required/>
                    <FormError value=login.value()/>
                    <button type="submit" class="button" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <LoginPanel/> }
}

/// First start: create the first admin with the one-time link from the log.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    Effect::new(move |_| {
        if let Some(Ok(_)) = setup.value().get() {
            reload_to("/");
        }
    });
    let err = move |field: &'static str| field_error(setup.value(), field);
    view! {
        <section class="page narrow">
            <PageHeader title="Set up Stackyard" summary="Create the first admin account. This link works once."/>
            <div class="panel">
                <ActionForm action=setup attr:class="form" attr:aria-label="Create the first admin">
                    <input type="hidden" name="token" prop:value=token/>
                    <Field id="setup-username" label="Admin name" error=err("username")>
                        <input id="setup-username" name="username" autocomplete="username" required
                            autocapitalize="none" spellcheck="false" aria-describedby="setup-username-error"/>
                    </Field>
                    <Field id="setup-password" label="Password" error=err("password")>
                        <input id="setup-password" name="password" type="password" autocomplete="new-password"
                            required aria-describedby="setup-password-hint setup-password-error"/>
                        <p class="hint" id="setup-password-hint">"At least 12 characters."</p>
                    </Field>
                    <Field id="setup-confirm" label="Password again" error=err("confirm")>
                        <input id="setup-confirm" name="confirm" type="password" autocomplete="new-password"
                            required aria-describedby="setup-confirm-error"/>
                    </Field>
                    <FormError value=setup.value() fields=&["username", "password", "confirm"]/>
                    <button type="submit" class="button" disabled=move || setup.pending().get()>
                        "Create admin and sign in"
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

/// The caller's own account: who they are, and the password change.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let err = move |field: &'static str| field_error(change.value(), field);
    let user = use_session()
        .and_then(|s| s.0.get_untracked())
        .and_then(|r| r.ok())
        .flatten();
    view! {
        <section class="page narrow">
            <PageHeader title="Your account"/>
            {user.map(|u| view! {
                <p>"Signed in as " <strong>{u.username}</strong> " (" {u.role.label()} ")."</p>
            })}
            <div class="panel">
                <h2>"Change password"</h2>
                <ActionForm action=change attr:class="form" attr:aria-label="Change password">
                    <Field id="pw-current" label="Current password" error=err("current")>
                        <input id="pw-current" name="current" type="password" autocomplete="current-password"
                            required aria-describedby="pw-current-error"/>
                    </Field>
                    <Field id="pw-new" label="New password" error=err("password")>
                        <input id="pw-new" name="password" type="password" autocomplete="new-password"
                            required aria-describedby="pw-new-error"/>
                    </Field>
                    <Field id="pw-confirm" label="New password again" error=err("confirm")>
                        <input id="pw-confirm" name="confirm" type="password" autocomplete="new-password"
                            required aria-describedby="pw-confirm-error"/>
                    </Field>
                    {move || matches!(change.value().get(), Some(Ok(()))).then(|| view! {
                        <p class="form-ok" role="status">"Password changed. Your other sessions have ended."</p>
                    })}
                    <FormError value=change.value() fields=&["current", "password", "confirm"]/>
                    <button type="submit" class="button" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

/// Accounts and their roles (admins only).
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let role = ServerAction::<UpdateRole>::new();
    let enabled = ServerAction::<UpdateEnabled>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = crate::ui::resource(
        move || {
            (
                create.version().get(),
                role.version().get(),
                enabled.version().get(),
                reset.version().get(),
            )
        },
        |_| list_users(),
    );
    let err = move |field: &'static str| field_error(create.value(), field);
    // The last refusal of a row action (for example the last admin), shown above the table.
    let row_error = move || {
        [
            role.value().get().and_then(|r| r.err()),
            enabled.value().get().and_then(|r| r.err()),
            reset.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    };
    view! {
        <section class="page">
            <PageHeader title="Users" summary="Accounts and their roles: admin, operator, viewer."/>
            <div class="cards">
                <article class="panel">
                    <h2>"New account"</h2>
                    <ActionForm action=create attr:class="form" attr:aria-label="New account">
                        <Field id="new-username" label="Name" error=err("username")>
                            <input id="new-username" name="username" required autocapitalize="none"
                                spellcheck="false" aria-describedby="new-username-error"/>
                        </Field>
                        <Field id="new-password" label="Password" error=err("password")>
                            <input id="new-password" name="password" type="password" autocomplete="new-password"
                                required aria-describedby="new-password-error"/>
                        </Field>
                        <Field id="new-role" label="Role" error=err("role")>
                            <select id="new-role" name="role">
                                <option value="viewer">"Viewer: reads everything"</option>
                                <option value="operator">"Operator: runs VMs, edits DNS and mail"</option>
                                <option value="admin">"Admin: also manages accounts"</option>
                            </select>
                        </Field>
                        {move || match create.value().get() {
                            Some(Ok(row)) => Some(view! {
                                <p class="form-ok" role="status">"Created " {row.username} "."</p>
                            }),
                            _ => None,
                        }}
                        <FormError value=create.value() fields=&["username", "password", "role"]/>
                        <button type="submit" class="button" disabled=move || create.pending().get()>
                            "Create account"
                        </button>
                    </ActionForm>
                </article>
            </div>
            <h2 class="section-title">"Accounts"</h2>
            {move || row_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(rows) => view! {
                            <ul class="record-list" aria-label="Accounts">
                                {rows.into_iter().map(|row| view! {
                                    <UserRow row=row role=role enabled=enabled reset=reset/>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UserRow(
    row: AccountRow,
    role: ServerAction<UpdateRole>,
    enabled: ServerAction<UpdateEnabled>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let id = row.id;
    let name = row.username.clone();
    let role_label = format!("Role of {name}");
    let reset_label = format!("New password for {name}");
    let show_reset = RwSignal::new(false);
    view! {
        <li class="record" aria-label=format!("Account {}", row.username)>
            <div class="record-main">
                <strong>{row.username.clone()}</strong>
                <span class="badge">{row.role.label()}</span>
                {(!row.enabled).then(|| view! { <span class="badge bad">"Disabled"</span> })}
            </div>
            <div class="record-actions">
                <ActionForm action=role attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label class="visually-hidden" for=format!("role-{id}")>{role_label}</label>
                    <select id=format!("role-{id}") name="role">
                        {Role::ALL.iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == row.role>{r.label()}</option>
                        }).collect_view()}
                    </select>
                    <button type="submit" class="button secondary">"Set role"</button>
                </ActionForm>
                <ActionForm action=enabled attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <input type="hidden" name="enabled" value=(!row.enabled).to_string()/>
                    <button type="submit" class="button secondary">
                        {if row.enabled { "Disable" } else { "Enable" }}
                    </button>
                </ActionForm>
                <button type="button" class="button secondary"
                    aria-expanded=move || show_reset.get().to_string()
                    on:click=move |_| show_reset.update(|v| *v = !*v)>
                    "Reset password"
                </button>
            </div>
            <Show when=move || show_reset.get()>
                <ResetForm id=id label=reset_label.clone() reset=reset/>
            </Show>
        </li>
    }
}

#[component]
fn ResetForm(id: i32, label: String, reset: ServerAction<ResetPassword>) -> impl IntoView {
    let error = field_error(reset.value(), "password");
    view! {
        <ActionForm action=reset attr:class="form inline-reset">
            <input type="hidden" name="id" value=id.to_string()/>
            <label for=format!("reset-{id}")>{label}</label>
            <input id=format!("reset-{id}") name="password" type="password" autocomplete="new-password" required/>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <button type="submit" class="button">"Save password"</button>
        </ActionForm>
    }
}

/// The audit log with its filters (operators and admins).
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| AuditFilter {
            user: q.get("user").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            target: q.get("target").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            until: q.get("until").unwrap_or_default(),
        })
    };
    let rows = crate::ui::resource(filter, list_audit);
    let value = move |key: &'static str| move || query.with(|q| q.get(key).unwrap_or_default());
    // The same check the server makes, run on the query itself: the message
    // is in the server-rendered page and does not wait for the list.
    let field_error = move |field: &'static str| {
        Signal::derive(move || {
            let input = query.with(|q| q.get(field).unwrap_or_default());
            if input.trim().is_empty() {
                return None;
            }
            parse_time(field, &input, field == "until")
                .err()
                .map(|e| e.message)
        })
    };
    view! {
        <section class="page">
            <PageHeader title="Audit" summary="Every change, who made it, from where, and how it ended."/>
            <form method="get" action="/audit" class="panel filters" aria-label="Filter the audit log">
                <div class="field">
                    <label for="f-user">"User"</label>
                    <input id="f-user" name="user" prop:value=value("user")/>
                </div>
                <div class="field">
                    <label for="f-action">"Action"</label>
                    <input id="f-action" name="action" prop:value=value("action") placeholder="users.create"/>
                </div>
                <div class="field">
                    <label for="f-target">"Target"</label>
                    <input id="f-target" name="target" prop:value=value("target")/>
                </div>
                <div class="field">
                    <label for="f-from">"From (UTC)"</label>
                    <input id="f-from" name="from" prop:value=value("from") placeholder="2026-11-24"
                        aria-describedby="f-from-error"/>
                    <FieldError id="f-from-error" message=field_error("from")/>
                </div>
                <div class="field">
                    <label for="f-until">"Until (UTC)"</label>
                    <input id="f-until" name="until" prop:value=value("until") placeholder="2026-11-24T18:00"
                        aria-describedby="f-until-error"/>
                    <FieldError id="f-until-error" message=field_error("until")/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button">"Filter"</button>
                </div>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! {
                            <p class="muted">"Nothing matches these filters."</p>
                        }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap">
                                <table class="data-table audit-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When (UTC)"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"From"</th>
                                            <th scope="col">"Action"</th>
                                            <th scope="col">"Target"</th>
                                            <th scope="col">"Outcome"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows.into_iter().map(|r| {
                                            let outcome_class = format!("outcome {}", r.outcome);
                                            let details = [r.summary.clone(), r.reason.clone()]
                                                .into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
                                            view! {
                                                <tr>
                                                    <td data-label="When">{r.at.plain()}</td>
                                                    <td data-label="Who">{r.username}</td>
                                                    <td data-label="From">{r.client_addr}</td>
                                                    <td data-label="Action"><code>{r.action}</code></td>
                                                    <td data-label="Target">{r.target}</td>
                                                    <td data-label="Outcome"><span class=outcome_class>{r.outcome}</span></td>
                                                    <td data-label="Details">{details}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(AppError::Invalid { .. }) => ().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The header's account menu: who is signed in, and the sign-out button.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload_to("/");
        }
    });
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let user = match session {
                    Some(s) => s.0.await.ok().flatten(),
                    None => None,
                };
                user.map(|u| view! {
                    <div class="account-menu">
                        <a href="/profile" class="account-name">
                            {u.username} <span class="badge">{u.role.label()}</span>
                        </a>
                        <ActionForm action=logout attr:class="inline-form">
                            <button type="submit" class="button secondary small">"Sign out"</button>
                        </ActionForm>
                    </div>
                })
            })}
        </Transition>
    }
}
