//! The editor's "Names and networks": the zone the VMs are named in, and
//! each network they attach to described for their addresses (the libvirt
//! network or bridge, its subnet, gateway, resolvers and the range `auto`
//! takes from). Each row is read as it is typed; what does not read is
//! shown under its field, and what reads is checked with the whole layout
//! (a gateway outside the subnet, a network described twice).

use crate::layouts::model::{AddressRange, LayoutNetwork, Nic, Subnet};
use crate::ui::FieldError;
use leptos::prelude::*;
use std::net::IpAddr;

/// A field's problem: its name in the row, and the message.
pub(super) type NetProblem = (&'static str, String);

/// One network as typed.
#[derive(Clone, Copy)]
pub(super) struct NetRow {
    pub(super) key: u64,
    nic: RwSignal<String>,
    subnet: RwSignal<String>,
    gateway: RwSignal<String>,
    resolvers: RwSignal<String>,
    range: RwSignal<String>,
    /// The row read, or its fields' problems.
    pub(super) parsed: Memo<Result<LayoutNetwork, Vec<NetProblem>>>,
}

/// Reads one network from its fields.
pub(super) fn parse_network(
    nic: &str,
    subnet: &str,
    gateway: &str,
    resolvers: &str,
    range: &str,
) -> Result<LayoutNetwork, Vec<NetProblem>> {
    let mut problems = Vec::new();
    let nic = match nic.parse::<Nic>() {
        Ok(n) => Some(n),
        Err(m) => {
            problems.push(("nic", m));
            None
        }
    };
    let subnet = match subnet.trim() {
        "" => {
            problems.push((
                "subnet",
                "a subnet is required, such as 192.0.2.0/24".to_owned(),
            ));
            None
        }
        s => match s.parse::<Subnet>() {
            Ok(s) => Some(s),
            Err(m) => {
                problems.push(("subnet", m));
                None
            }
        },
    };
    let ip =
        |field: &'static str, s: &str, problems: &mut Vec<NetProblem>| match s.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                problems.push((field, format!("\"{s}\" is not an IPv4 or IPv6 address")));
                None
            }
        };
    let gateway = match gateway.trim() {
        "" => None,
        s => ip("gateway", s, &mut problems),
    };
    let resolvers: Vec<IpAddr> = resolvers
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| ip("resolvers", s, &mut problems))
        .collect();
    let range = match range.trim() {
        "" => None,
        s => match s.parse::<AddressRange>() {
            Ok(r) => Some(r),
            Err(m) => {
                problems.push(("range", m));
                None
            }
        },
    };
    match (nic, subnet) {
        (Some(nic), Some(subnet)) if problems.is_empty() => Ok(LayoutNetwork {
            nic,
            subnet,
            gateway,
            resolvers,
            range,
        }),
        _ => Err(problems),
    }
}

impl NetRow {
    pub(super) fn new(key: u64, net: Option<&LayoutNetwork>) -> Self {
        let text = |f: fn(&LayoutNetwork) -> String| RwSignal::new(net.map(f).unwrap_or_default());
        let nic = text(|n| n.nic.to_string());
        let subnet = text(|n| n.subnet.to_string());
        let gateway = text(|n| n.gateway.map(|g| g.to_string()).unwrap_or_default());
        let resolvers = text(|n| {
            n.resolvers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        });
        let range = text(|n| n.range.map(|r| r.to_string()).unwrap_or_default());
        let parsed = Memo::new(move |_| {
            parse_network(
                &nic.read(),
                &subnet.read(),
                &gateway.read(),
                &resolvers.read(),
                &range.read(),
            )
        });
        NetRow {
            key,
            nic,
            subnet,
            gateway,
            resolvers,
            range,
            parsed,
        }
    }
}

/// The zone field and the networks, each network a small form of its own.
#[component]
pub(super) fn NetworksForm(
    zone: RwSignal<String>,
    nets: RwSignal<Vec<NetRow>>,
    /// A field's message from the server or the whole layout's check
    /// (`zone`, `network[1].gateway`).
    field_error: impl Fn(String) -> Signal<Option<String>> + Copy + Send + Sync + 'static,
    can_edit: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let next = StoredValue::new(nets.with_untracked(Vec::len) as u64);
    let add = move |_| {
        let key = next.get_value();
        next.set_value(key + 1);
        nets.update(|n| n.push(NetRow::new(key, None)));
    };
    view! {
        <details class="panel layout-networks" open=move || {
            !zone.get_untracked().is_empty() || !nets.with_untracked(Vec::is_empty)
        }>
            <summary>"Names and networks"</summary>
            <p class="muted hint">
                "VMs are named <vm>.<zone> in DNS; a VM whose address is auto takes the next free one of its network's range."
            </p>
            <div class="form">
                <label for="layout-zone">"Zone"</label>
                <input id="layout-zone" prop:value=move || zone.get() disabled=move || !can_edit()
                    placeholder="example.org" autocapitalize="none" spellcheck="false"
                    aria-describedby="layout-zone-error"
                    on:input=move |ev| zone.set(event_target_value(&ev))/>
                <FieldError id="layout-zone-error" message=field_error("zone".into())/>
            </div>
            <For each=move || nets.get() key=|r| r.key let:row>
                {
                    let key = row.key;
                    let index = Memo::new(move |_| nets.with(|n| n.iter().position(|r| r.key == key)));
                    let error = move |field: &'static str| {
                        Signal::derive(move || {
                            let local = row.parsed.with(|p| match p {
                                Err(ps) => ps.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()),
                                Ok(_) => None,
                            });
                            local.or_else(|| {
                                let i = index.get()?;
                                field_error(format!("network[{i}].{field}")).get()
                            })
                        })
                    };
                    let input = move |field: &'static str, label: &'static str, hint: &'static str, signal: RwSignal<String>| {
                        let id = format!("net-{key}-{field}");
                        view! {
                            <div class="form">
                                <label for=id.clone()>{label}</label>
                                <input id=id.clone() prop:value=move || signal.get() disabled=move || !can_edit()
                                    placeholder=hint autocapitalize="none" spellcheck="false"
                                    aria-invalid=move || error(field).get().is_some().to_string()
                                    aria-describedby=format!("{id}-error")
                                    on:input=move |ev| signal.set(event_target_value(&ev))/>
                                <FieldError id=format!("{id}-error") message=error(field)/>
                            </div>
                        }
                    };
                    view! {
                        <fieldset class="network-row" aria-label=move || format!("Network {}", row.nic.get())>
                            {input("nic", "Network", "network:default or bridge:br0", row.nic)}
                            {input("subnet", "Subnet", "192.0.2.0/24", row.subnet)}
                            {input("gateway", "Gateway", "192.0.2.1", row.gateway)}
                            {input("resolvers", "Resolvers", "192.0.2.53, 192.0.2.54", row.resolvers)}
                            {input("range", "Auto range", "192.0.2.10-192.0.2.99", row.range)}
                            <button type="button" class="button small secondary" disabled=move || !can_edit()
                                on:click=move |_| nets.update(|n| n.retain(|r| r.key != key))>
                                {move || format!("Remove {}", row.nic.get())}
                            </button>
                        </fieldset>
                    }
                }
            </For>
            <button type="button" class="button small secondary" disabled=move || !can_edit() on:click=add>
                "Add a network"
            </button>
        </details>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_network_reads_from_its_fields_or_names_the_bad_ones() {
        let net = parse_network(
            "network:lan",
            "192.0.2.0/24",
            "192.0.2.1",
            "192.0.2.53, 192.0.2.54",
            "192.0.2.10-192.0.2.99",
        )
        .unwrap();
        assert_eq!(net.resolvers.len(), 2);
        assert_eq!(net.range.unwrap().to_string(), "192.0.2.10-192.0.2.99");
        let bad = parse_network("wifi:x", "", "gw", "192.0.2.53 nope", "1-2").unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["nic", "subnet", "gateway", "resolvers", "range"]);
    }
}
