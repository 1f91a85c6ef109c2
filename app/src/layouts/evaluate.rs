//! Eq. (3) on the hosts as a layout leaves them, for the editor: how many
//! more VMs of each template still fit next to what [`super::plan::resolve`]
//! put there. Pure and cheap: the editor runs it in the browser.

use crate::capacity::{how_many_more_given, CapacityPolicy, HostSpec, HostVerdict, Template};

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
            name: name.into(),
            template: None,
            vcpus: 1,
            memory_mib,
            disk_gib: 20,
            host,
            network: Nic::default(),
            ip: None,
            start: true,
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
        let spec = LayoutSpec {
            cloud_init: Default::default(),
            name: "l".into(),
            description: String::new(),
            vms: vec![
                // Already on the host: counted once, with the layout's size.
                vm("ns1", 512, HostChoice::Auto),
                vm("big", 29_000, HostChoice::Host("proliant-1".into())),
                vm("web-3", 2000, HostChoice::Host("proliant-1".into())),
            ],
        };
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
    fn more_of_agrees_with_how_many_more() {
        let policy = CapacityPolicy::default();
        let host = paper_host();
        let spec = LayoutSpec {
            cloud_init: Default::default(),
            name: "l".into(),
            description: String::new(),
            vms: vec![vm("w1", 1024, HostChoice::Auto)],
        };
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
}
