//! The dashboard page: hosts, DNS, mail and recent changes from one
//! overview, refetched whenever the server announces a host change (the
//! hosts page's event stream), then this instance.
//!
//! Everything drawn comes from the two resources, which the server renders
//! and hands to the browser with the page: nothing here reads the clock,
//! the window or the session, so hydration finds exactly what the server
//! drew. Whether "Recent changes" shows is the overview's `recent_changes`,
//! decided on the server.

use super::*;
use crate::hosts::pages::use_host_changes;
use crate::ui::{Loaded, MemoryBar, PageHeader};
use leptos_router::components::A;

/// The dashboard (viewers and up; [`crate::routes`] says so).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let status = crate::ui::resource(move || refresh.get(), |_| system_status());
    // Zero on the server and when the page hydrates; it moves only with
    // events the browser receives afterwards.
    let changes = use_host_changes(None);
    let overview = crate::ui::resource(move || changes.get(), |_| dashboard_overview());

    view! {
        <section class="page dashboard">
            <PageHeader
                title="Dashboard"
                summary="Hosts, DNS, mail and recent changes at a glance; hosts update as they change."
            />
            <Loaded resource=overview title="Overview unavailable" let:o>
                <OverviewPanels overview=o/>
            </Loaded>
            <article class="panel dash-instance" aria-labelledby="instance-title">
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
                <Loaded resource=status title="Status unavailable" let:s>
                    <StatusList status=s/>
                </Loaded>
            </article>
        </section>
    }
}

#[component]
fn OverviewPanels(overview: Overview) -> impl IntoView {
    let Overview {
        hosts,
        dns,
        mail,
        recent_changes,
    } = overview;
    view! {
        <HostsPanel hosts=hosts/>
        <div class="cards">
            <DnsPanel dns=dns/>
            <MailPanel mail=mail/>
        </div>
        {recent_changes.map(|rows| view! { <RecentChanges rows=rows/> })}
    }
}

#[component]
fn HostsPanel(hosts: Vec<HostRow>) -> impl IntoView {
    view! {
        <article class="panel" aria-labelledby="dash-hosts-title">
            <div class="panel-head">
                <h2 id="dash-hosts-title">"Hosts"</h2>
                <A href="/hosts">"All hosts"</A>
            </div>
            {if hosts.is_empty() {
                view! { <p class="muted">"No host yet. An admin adds one on the hosts page."</p> }
                    .into_any()
            } else {
                view! {
                    <ul class="dash-hosts" aria-label="Hosts">
                        {hosts.into_iter().map(|h| view! { <HostItem host=h/> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}

#[component]
fn HostItem(host: HostRow) -> impl IntoView {
    let usage = host.memory();
    let bar_name = format!("Memory of {}", host.name);
    let label = format!("Host {}", host.name);
    let name = host.name;
    view! {
        <li class="dash-host" aria-label=label>
            <div class="dash-host-head">
                <A href=format!("/hosts/{}", host.id)>{name}</A>
                {if host.reachable {
                    view! { <span class="badge ok-badge">"Reachable"</span> }.into_any()
                } else {
                    view! { <span class="badge bad">"Unreachable"</span> }.into_any()
                }}
            </div>
            {host.last_error.map(|e| view! { <p class="dash-error">{e}</p> })}
            <MemoryBar usage=usage name=bar_name/>
            <p class="dash-vms">
                {format!("{} of {} VMs running", host.vms_running, host.vms_total)}
            </p>
        </li>
    }
}

#[component]
fn DnsPanel(dns: DnsOverview) -> impl IntoView {
    let body = if dns.attention.is_empty() {
        view! { <p>"All zones are applied and the secondaries are in step."</p> }.into_any()
    } else {
        view! {
            <ul class="dash-list" aria-label="Zones needing attention">
                {dns
                    .attention
                    .into_iter()
                    .map(|z| {
                        view! {
                            <li>
                                <A href=format!("/dns/zone/{}", z.id)>{z.origin}</A>
                                <ul class="plain-list">
                                    {z
                                        .issues
                                        .iter()
                                        .map(|i| view! { <li>{i.describe()}</li> })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let note = match (dns.zones, dns.secondaries) {
        (0, _) => "No zones yet.".to_owned(),
        (_, 0) => "No secondary DNS server is entered: only the primary is compared.".to_owned(),
        (_, 1) => "Serials compared with 1 secondary.".to_owned(),
        (_, n) => format!("Serials compared with {n} secondaries."),
    };
    view! {
        <article class="panel" aria-labelledby="dash-dns-title">
            <div class="panel-head">
                <h2 id="dash-dns-title">"DNS"</h2>
                <A href="/dns">"Zones"</A>
            </div>
            {body}
            <p class="muted dash-note">{note}</p>
        </article>
    }
}

#[component]
fn MailPanel(mail: Vec<MailRow>) -> impl IntoView {
    view! {
        <article class="panel" aria-labelledby="dash-mail-title">
            <div class="panel-head">
                <h2 id="dash-mail-title">"Mail"</h2>
                <A href="/mail">"Mail domains"</A>
            </div>
            {if mail.is_empty() {
                view! { <p class="muted">"No mail domains yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="dash-list" aria-label="Mail domains">
                        {mail.into_iter().map(|m| view! { <MailItem row=m/> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}

#[component]
fn MailItem(row: MailRow) -> impl IntoView {
    let result = match row.last_check {
        Some(c) => {
            // Colour only what needs looking at: "0 failed" is not alarming.
            let count = |n: u32, words: &'static str, class: &'static str| {
                let class = if n > 0 { class } else { "" };
                view! { <span class=class>{format!("{n} {words}")}</span> }
            };
            view! {
                <p class="dash-check">
                    {count(c.passed, "passed", "ok")} " · "
                    {count(c.failed, "failed", "bad")} " · "
                    {count(c.warned, "warned", "dash-warn")} " · "
                    <time datetime=c.ran_at.iso()>
                        {c.ran_at.minutes()}
                    </time>
                </p>
            }
            .into_any()
        }
        None => view! { <p class="dash-check muted">"never checked"</p> }.into_any(),
    };
    view! {
        <li>
            <A href=format!("/mail/{}", row.domain)>{row.domain.clone()}</A>
            {(!row.active).then(|| view! { " " <span class="badge">"inactive"</span> })}
            {result}
        </li>
    }
}

#[component]
fn RecentChanges(rows: Vec<AuditRow>) -> impl IntoView {
    view! {
        <article class="panel" aria-labelledby="dash-recent-title">
            <div class="panel-head">
                <h2 id="dash-recent-title">"Recent changes"</h2>
                <A href="/audit">"Audit log"</A>
            </div>
            {if rows.is_empty() {
                view! { <p class="muted">"Nothing has been done yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"When (UTC)"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"Outcome"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <tr>
                                                <td data-label="When">
                                                    <time datetime=r.at.iso()>
                                                        {r.at.plain()}
                                                    </time>
                                                </td>
                                                <td data-label="Who">{r.username}</td>
                                                // One child: on a phone the cell is
                                                // a grid of label and value.
                                                <td data-label="What">
                                                    <span>
                                                        <code>{r.action}</code>
                                                        " "
                                                        {r.target}
                                                    </span>
                                                </td>
                                                <td data-label="Outcome">
                                                    <span class=format!(
                                                        "outcome {}",
                                                        r.outcome,
                                                    )>{r.outcome.clone()}</span>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </article>
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
                <time datetime=status.checked_at.iso() data-testid="checked-at">
                    {status.checked_at.seconds()}
                </time>
            </dd>
        </dl>
    }
}
