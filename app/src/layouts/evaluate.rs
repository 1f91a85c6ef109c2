//! The layout as the editor shows it evaluated: where each VM goes, each
//! host's eq. (1) verdict and eq. (3) (how many more VMs of each template
//! still fit next to what [`super::plan::resolve`] put there), as
//! [`Evaluation`]. The server sends the first one with the page; the
//! editor evaluates every change itself, with code fetched at the first
//! change (so a page that is only read never loads the placement search).

use super::plan::{resolve, Resolved};
use super::{HostsView, LayoutSpec, TemplateDto};
use crate::capacity::{
    how_many_more_given, CapacityPolicy, HostSpec, HostVerdict, Template, Violation,
};
use crate::ui::format::gib;
use serde::{Deserialize, Serialize};

/// A layout evaluated against the hosts, as the editor draws it: figures
/// and sentences only (the browser needs no capacity model to read it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Evaluation {
    /// Everything placed and no condition broken anywhere.
    pub fits: bool,
    /// One entry per layout VM, in layout order.
    pub vms: Vec<VmPlace>,
    /// Why each VM that fits nowhere does not fit.
    pub unplaced: Vec<String>,
    /// Every host, in host order.
    pub hosts: Vec<HostEval>,
    /// Hosts holding a layout VM.
    pub hosts_used: usize,
    /// [`Resolved::hosts_summary`].
    pub hosts_summary: String,
}

/// Where one layout VM goes and what it breaks there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmPlace {
    pub vm: String,
    /// `None` when it fits nowhere.
    pub host: Option<String>,
    /// The layout said "auto".
    pub auto: bool,
    /// "auto", but it already exists on `host`, so it stays there.
    pub existing: bool,
    /// The broken conditions of its host that name it.
    pub broken: Vec<String>,
    /// Why it fits nowhere.
    pub unplaced: Option<String>,
}

/// One host as the layout leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEval {
    pub host: String,
    /// `y`, `y_os`, `y_a`, MiB.
    pub memory: u64,
    pub os_reserve: u64,
    pub available: u64,
    /// Σ `y_s` of the VMs already there and of the planned ones, MiB.
    pub used_existing: u64,
    pub used_planned: u64,
    /// How far eq. (1) is broken, MiB (0 when it holds).
    pub over_by: u64,
    /// No condition broken.
    pub fits: bool,
    /// The broken conditions, in words and numbers.
    pub violations: Vec<String>,
    /// Pool, vCPUs and CPUs in a line.
    pub resources: String,
    /// Eq. (3): how many more of each template fit (`u64::MAX`: no limit).
    pub more: Vec<(String, u64)>,
}

impl VmPlace {
    /// A condition of its host is broken because of it, or it fits nowhere.
    pub fn is_bad(&self) -> bool {
        !self.broken.is_empty() || self.unplaced.is_some()
    }

    /// Where it goes, in words: "→ placed on demo", "on demo", or why not.
    pub fn verdict(&self) -> String {
        match (&self.host, &self.unplaced) {
            (_, Some(reason)) => format!("✗ {reason}"),
            (Some(h), None) if self.broken.is_empty() => {
                if self.auto {
                    format!("→ placed on {h}")
                } else {
                    format!("on {h}")
                }
            }
            (Some(h), None) => format!("✗ on {h}: {}", self.broken.join("; ")),
            (None, None) => "not placed".into(),
        }
    }
}

impl Evaluation {
    /// Places `spec` on the hosts and describes the result.
    pub fn of(spec: &LayoutSpec, hosts: &HostsView, templates: &[TemplateDto]) -> Self {
        let r = resolve(spec, &hosts.hosts, &hosts.policy);
        Self::from_resolved(&r, hosts, templates)
    }

    fn from_resolved(r: &Resolved, hosts: &HostsView, templates: &[TemplateDto]) -> Self {
        let templates: Vec<Template> = templates.iter().map(TemplateDto::to_template).collect();
        let vms = r
            .placement
            .iter()
            .map(|p| VmPlace {
                vm: p.vm.clone(),
                host: p.host.clone(),
                auto: p.auto,
                existing: p.existing,
                broken: r
                    .verdicts
                    .iter()
                    .flat_map(|v| v.violations.iter())
                    .filter(|v| violation_names(v, &p.vm))
                    .map(ToString::to_string)
                    .collect(),
                unplaced: r
                    .unplaced
                    .iter()
                    .find(|u| u.vm == p.vm)
                    .map(|u| u.reason.clone()),
            })
            .collect();
        let host_evals = r
            .verdicts
            .iter()
            .map(|v| {
                let more = hosts
                    .hosts
                    .iter()
                    .find(|h| h.name == v.host)
                    .map(|h| {
                        templates
                            .iter()
                            .map(|t| (t.name.clone(), more_of(h, v, t, &hosts.policy)))
                            .collect()
                    })
                    .unwrap_or_default();
                HostEval {
                    host: v.host.clone(),
                    memory: v.memory.get(),
                    os_reserve: v.os_reserve.get(),
                    available: v.available.get(),
                    used_existing: v.used_existing.get(),
                    used_planned: v.used_planned.get(),
                    over_by: v.over_by.get(),
                    fits: v.fits(),
                    violations: v.violations.iter().map(ToString::to_string).collect(),
                    resources: format!(
                        "Pool: {} needed of {} ({} thin fill) · {} on {} CPUs{}",
                        gib(v.storage_needed.get()),
                        gib(v.storage_available.get()),
                        v.thin_fill,
                        v.vcpus,
                        v.cpus,
                        if v.emulated { " · emulated" } else { "" }
                    ),
                    more,
                }
            })
            .collect();
        let hosts_used = r
            .placement
            .iter()
            .filter_map(|p| p.host.as_deref())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        Self {
            fits: r.fits,
            vms,
            unplaced: r.unplaced.iter().map(|u| u.reason.clone()).collect(),
            hosts: host_evals,
            hosts_used,
            hosts_summary: r.hosts_summary(),
        }
    }
}

/// Whether a violation is about the VM called `name`.
fn violation_names(v: &Violation, name: &str) -> bool {
    match v {
        Violation::Memory { vm, .. } | Violation::Vcpus { vm, .. } => vm == name,
        Violation::Storage { vms, .. } => vms.iter().any(|v| v == name),
        Violation::NoVirtualization { .. } => false,
    }
}

/// Eq. (3) on a host as the layout leaves it: how many more VMs of
/// `template` fit next to what the layout put there, from the host's
/// verdict in the layout's resolution. The count is
/// [`crate::capacity::how_many_more_given`]'s (eq. (3) has one copy, in
/// `capacity`); this names it as the editor asks it.
pub fn more_of(
    host: &HostSpec,
    verdict: &HostVerdict,
    template: &Template,
    policy: &CapacityPolicy,
) -> u64 {
    how_many_more_given(host, verdict, template, policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{how_many_more, table2_templates, Bytes, MiB, VmDemand};
    use crate::layouts::model::{HostChoice, LayoutSpec, LayoutVm, Nic};
    use crate::layouts::plan::resolve;

    fn vm(name: &str, memory_mib: u64, host: HostChoice) -> LayoutVm {
        LayoutVm {
            image: None,
            packages: Vec::new(),
            commands: Vec::new(),
            user_data: None,
            name: name.into(),
            template: None,
            vcpus: 1,
            memory_mib,
            disk_gib: 20,
            host,
            network: Nic::default(),
            ip: None,
            fqdn: None,
            start: true,
        }
    }

    fn layout(vms: Vec<LayoutVm>) -> LayoutSpec {
        LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: "l".into(),
            description: String::new(),
            vms,
        }
    }

    fn paper_host() -> HostSpec {
        let mut h = HostSpec::new("proliant-1", MiB(32768), 16, true, Bytes::from_tib(2));
        h.existing
            .push(VmDemand::new("ns1", MiB(512), 1, Bytes::from_gib(4), true));
        h
    }

    #[test]
    fn the_papers_table2_layout_fits_the_demo_host_as_described() {
        // The demo host: 32 GiB, 16 CPUs, a 2 TiB thin pool, already running
        // ns1 and web and holding mail (see hosts/demo-node.xml).
        let mut demo = HostSpec::new("demo", MiB(32768), 16, true, Bytes::from_tib(2));
        for (name, mib, gib) in [("ns1", 512, 10), ("mail", 2000, 40), ("web", 1024, 20)] {
            demo.existing
                .push(VmDemand::new(name, MiB(mib), 1, Bytes::from_gib(gib), true));
        }
        let spec = LayoutSpec::paper_table2(Nic::Network("br0".into()));
        assert_eq!(spec.vms.len(), 15);
        assert!(spec.problems().is_empty(), "{:?}", spec.problems());
        let r = resolve(&spec, &[demo], &CapacityPolicy::default());
        assert!(r.fits, "{r:?}");
        let v = &r.verdicts[0];
        // Counted once with the layout's sizes: 22752 MiB of y_a = 30720.
        assert_eq!(v.used_existing.get() + v.used_planned.get(), 22_752);
        assert_eq!(v.free, MiB(30_720 - 22_752));
        assert!(r
            .placement
            .iter()
            .all(|p| p.host.as_deref() == Some("demo")));
    }

    #[test]
    fn pinned_vm_that_does_not_fit_is_named_with_its_numbers() {
        let policy = CapacityPolicy::default();
        let spec = layout(vec![
            // Already on the host: counted once, with the layout's size.
            vm("ns1", 512, HostChoice::Auto),
            vm("big", 29_000, HostChoice::Host("proliant-1".into())),
            vm("web-3", 2000, HostChoice::Host("proliant-1".into())),
        ]);
        let r = resolve(&spec, &[paper_host()], &policy);
        assert!(!r.fits);
        let v = &r.verdicts[0];
        // y_a = 32768 - 2048 = 30720; big + ns1 = 29512, 1208 left.
        assert_eq!(
            v.violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["web-3 needs 2000 MiB, 1208 MiB left on proliant-1"]
        );
        assert_eq!(v.used_existing, MiB(0));
        assert_eq!(r.placement[0].host.as_deref(), Some("proliant-1"));
        assert!(r.placement[0].existing);
    }

    #[test]
    fn the_reading_puts_each_vm_and_host_in_words() {
        use crate::layouts::{EditorView, HostsView, LayoutReading};
        let mut web = vm("web-3", 2000, HostChoice::Host("proliant-1".into()));
        web.network = Nic::Bridge("br0".into());
        web.ip = Some("192.0.2.20".parse().unwrap());
        web.start = false;
        web.vcpus = 2;
        let mut dns = vm("dns", 512, HostChoice::Auto);
        dns.template = Some("Master DNS".into());
        dns.image = Some("debian-12".into());
        let spec = layout(vec![
            dns,
            vm("big", 29_000, HostChoice::Host("proliant-1".into())),
            web,
        ]);
        let hosts = HostsView {
            hosts: vec![paper_host()],
            ids: [("proliant-1".to_owned(), 7)].into(),
            ..Default::default()
        };
        let evaluation = Evaluation::of(&spec, &hosts, &[]);
        let view = EditorView {
            spec,
            hosts,
            templates: Vec::new(),
            evaluation,
        };
        let r = LayoutReading::of(&view);
        assert_eq!(r.name, "l");
        assert_eq!(r.evaluation, view.evaluation);
        let line = |i: usize| &r.vms[i];
        assert_eq!(line(0).template, "Master DNS · image debian-12");
        assert_eq!(line(0).size, "1 vCPU · 512 MiB · 20 GiB");
        assert_eq!(line(0).host_and_network, "auto · network:default");
        assert_eq!(line(0).placement, "→ placed on proliant-1");
        assert!(!line(0).bad);
        assert_eq!(line(2).template, "custom size");
        assert_eq!(line(2).size, "2 vCPUs · 2000 MiB · 20 GiB");
        assert_eq!(
            line(2).host_and_network,
            "proliant-1 · bridge:br0 · 192.0.2.20 · not started"
        );
        // Pinned to a host where eq. (1) leaves no room for it: said, and marked.
        let placement = &line(2).placement;
        assert!(placement.starts_with('✗'), "{placement}");
        assert!(
            placement.ends_with("web-3 needs 2000 MiB, 1208 MiB left on proliant-1"),
            "{placement}"
        );
        assert!(line(2).bad);
        // The host's settings as its form opens: none set, the default
        // reserve for 32 GiB, and its id for the form.
        assert_eq!(r.hosts.len(), 1);
        assert_eq!(r.hosts[0].id, Some(7));
        assert_eq!(r.hosts[0].settings.os_reserve, None);
        assert_eq!(r.hosts[0].settings.default_reserve, 2048);
    }

    #[test]
    fn more_of_agrees_with_how_many_more() {
        let policy = CapacityPolicy::default();
        let host = paper_host();
        let spec = layout(vec![vm("w1", 1024, HostChoice::Auto)]);
        let r = resolve(&spec, std::slice::from_ref(&host), &policy);
        let planned = [spec.vms[0].demand()];
        for t in table2_templates() {
            assert_eq!(
                more_of(&host, &r.verdicts[0], &t, &policy),
                how_many_more(&host, &planned, &t, &policy),
                "{}",
                t.name
            );
        }
    }

    fn view_of(host: HostSpec) -> HostsView {
        HostsView {
            ids: [(host.name.clone(), 1)].into_iter().collect(),
            hosts: vec![host],
            unreachable: Vec::new(),
            networks: Default::default(),
            policy: CapacityPolicy::default(),
        }
    }

    fn dto(t: &Template) -> TemplateDto {
        TemplateDto {
            id: 0,
            name: t.name.clone(),
            services: t.services.clone(),
            memory_mib: t.memory.get(),
            vcpus: t.vcpus.0,
            disk_gib: t.disk.get() / (1 << 30),
            thin: t.thin,
            image: None,
            packages: Vec::new(),
        }
    }

    #[test]
    fn the_evaluation_says_what_resolve_found_in_words_and_figures() {
        let policy = CapacityPolicy::default();
        let host = paper_host();
        let spec = layout(vec![
            vm("ns1", 512, HostChoice::Auto),
            vm("web-1", 1024, HostChoice::Auto),
            vm("big", 40_000, HostChoice::Auto),
        ]);
        let templates: Vec<TemplateDto> = table2_templates().iter().map(dto).collect();
        let view = view_of(host.clone());
        let e = Evaluation::of(&spec, &view, &templates);
        let r = resolve(&spec, std::slice::from_ref(&host), &policy);
        assert_eq!(e.fits, r.fits);
        assert!(!e.fits);
        assert_eq!(e.vms.len(), 3);
        assert_eq!(e.vms[0].verdict(), "→ placed on proliant-1");
        assert!(!e.vms[0].is_bad());
        // The one that fits nowhere says why, by itself and in the list.
        assert!(e.vms[2].is_bad());
        assert_eq!(e.vms[2].host, None);
        let reason = r.unplaced[0].reason.clone();
        assert_eq!(e.vms[2].verdict(), format!("✗ {reason}"));
        assert_eq!(e.unplaced, [reason]);
        assert_eq!(e.hosts_used, 1);
        assert_eq!(e.hosts_summary, r.hosts_summary());
        // The host: eq. (1)'s figures, and eq. (3) for every template.
        let (h, v) = (&e.hosts[0], &r.verdicts[0]);
        assert_eq!(
            (h.memory, h.os_reserve, h.available),
            (32_768, v.os_reserve.get(), v.available.get())
        );
        assert_eq!(h.used_planned, 512 + 1024);
        assert!(h.fits && h.violations.is_empty());
        assert!(h.resources.starts_with("Pool: "), "{}", h.resources);
        assert_eq!(h.more.len(), templates.len());
        for ((name, n), t) in h.more.iter().zip(table2_templates()) {
            assert_eq!(name, &t.name);
            assert_eq!(*n, more_of(&host, v, &t, &policy));
        }
    }

    #[test]
    fn a_vm_pinned_where_it_breaks_eq_1_is_named_with_its_host() {
        let spec = layout(vec![
            vm("big", 29_000, HostChoice::Host("proliant-1".into())),
            vm("web-3", 2000, HostChoice::Host("proliant-1".into())),
        ]);
        let e = Evaluation::of(&spec, &view_of(paper_host()), &[]);
        assert!(!e.fits);
        assert!(e.vms[1].is_bad());
        assert_eq!(
            e.vms[1].verdict(),
            "✗ web-3 does not fit on proliant-1: web-3 needs 2000 MiB, 1208 MiB left on proliant-1"
        );
        // "big" is not the one the broken condition names.
        assert_eq!(e.vms[0].verdict(), "on proliant-1");
        assert_eq!(
            e.hosts[0].violations,
            ["web-3 needs 2000 MiB, 1208 MiB left on proliant-1"]
        );
        assert!(e.hosts[0].more.is_empty());
    }
}
