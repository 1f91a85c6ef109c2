//! The dashboard: the state of this console instance at a glance.

use crate::auth::{pages::Protected, Access, Role};
use crate::error::AppError;
use crate::ui::{ErrorPanel, PageHeader};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dashboard shows about this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub version: String,
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    /// The newest schema migration applied.
    pub schema: Option<String>,
    pub database_ok: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

impl InstanceStatus {
    pub fn uptime(&self) -> String {
        let secs = (self.checked_at - self.started_at).num_seconds().max(0);
        let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
        match (d, h, m) {
            (0, 0, 0) => format!("{s} s"),
            (0, 0, _) => format!("{m} min {s} s"),
            (0, _, _) => format!("{h} h {m} min"),
            _ => format!("{d} d {h} h"),
        }
    }
}

crate::endpoint_access!(SystemStatus, Access::Role(Role::Viewer));
#[server(prefix = "/api", endpoint = "dashboard/status")]
pub async fn system_status() -> Result<InstanceStatus, AppError> {
    crate::auth::server::with_status(crate::auth::server::guard::<SystemStatus>())?;
    let state = crate::state::AppState::from_context()?;
    Ok(state.status().await)
}

crate::page_access!("/", Access::Role(Role::Viewer));

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Protected access=Access::Role(Role::Viewer)>
            <Dashboard/>
        </Protected>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let status = Resource::new(move || refresh.get(), |_| system_status());

    view! {
        <section class="page">
            <PageHeader
                title="Dashboard"
                summary="This console instance and the services it manages."
            />
            <div class="cards">
                <article class="panel" aria-labelledby="instance-title">
                    <div class="panel-head">
                        <h2 id="instance-title">"This instance"</h2>
                        <button
                            type="button"
                            class="button secondary"
                            on:click=move |_| refresh.update(|n| *n += 1)
                        >
                            "Refresh"
                        </button>
                    </div>
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match status.await {
                                Ok(s) => view! { <StatusList status=s/> }.into_any(),
                                Err(e) => view! {
                                    <ErrorPanel title="Status unavailable" message=e.to_string()/>
                                }
                                .into_any(),
                            }
                        })}
                    </Transition>
                </article>
            </div>
        </section>
    }
}

#[component]
fn StatusList(status: InstanceStatus) -> impl IntoView {
    let uptime = status.uptime();
    let db_state = if status.database_ok {
        "answering"
    } else {
        "not answering"
    };
    view! {
        <dl class="facts">
            <dt>"Version"</dt>
            <dd>{status.version.clone()}</dd>
            <dt>"Database"</dt>
            <dd>
                {status.database.clone()} " · "
                <span class=if status.database_ok { "ok" } else { "bad" }>{db_state}</span>
            </dd>
            <dt>"Schema"</dt>
            <dd><code>{status.schema.clone().unwrap_or_else(|| "none".to_owned())}</code></dd>
            <dt>"Up for"</dt>
            <dd>{uptime}</dd>
            <dt>"Checked"</dt>
            <dd>
                <time datetime=status.checked_at.to_rfc3339() data-testid="checked-at">
                    {status.checked_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}
                </time>
            </dd>
        </dl>
    }
}
