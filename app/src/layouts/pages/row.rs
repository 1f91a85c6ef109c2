//! One VM of the editor as the browser holds it: the text of each field as
//! typed, what it parses to, and the last value that passed the VM's own
//! checks, so nothing typed is lost while the evaluation keeps going; and
//! the names and NIC new VMs get.

use crate::layouts::{HostChoice, HostsView, LayoutSpec, LayoutVm, Nic};
use leptos::prelude::*;

/// What a field's problem is, by field name (`memory_mib`).
pub(super) type FieldProblems = Vec<(&'static str, String)>;

/// One VM of the editor: the text of each field as typed, what it parses to,
/// and the last value that parsed and passed the VM's own checks.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Row {
    pub(super) key: u64,
    pub(super) name: RwSignal<String>,
    pub(super) template: RwSignal<String>,
    pub(super) vcpus: RwSignal<String>,
    pub(super) memory: RwSignal<String>,
    pub(super) disk: RwSignal<String>,
    pub(super) host: RwSignal<String>,
    pub(super) network: RwSignal<String>,
    pub(super) ip: RwSignal<String>,
    pub(super) start: RwSignal<bool>,
    pub(super) parsed: Memo<Result<LayoutVm, FieldProblems>>,
    pub(super) good: Memo<LayoutVm>,
    /// On a phone, whether the VM's card is open for editing.
    pub(super) open: RwSignal<bool>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn parse_vm(
    name: &str,
    template: &str,
    vcpus: &str,
    memory: &str,
    disk: &str,
    host: &str,
    network: &str,
    ip: &str,
    start: bool,
) -> Result<LayoutVm, FieldProblems> {
    let mut problems: FieldProblems = Vec::new();
    let mut num = |field: &'static str, text: &str, unit: &str| -> u64 {
        match text.trim().parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                problems.push((field, format!("enter a whole number of {unit}")));
                0
            }
        }
    };
    let vcpus = num("vcpus", vcpus, "vCPUs");
    let memory_mib = num("memory_mib", memory, "MiB");
    let disk_gib = num("disk_gib", disk, "GiB");
    let network = match network.parse::<Nic>() {
        Ok(n) => n,
        Err(m) => {
            problems.push(("network", m));
            Nic::default()
        }
    };
    let ip = match ip.trim() {
        "" => None,
        s => match s.parse() {
            Ok(ip) => Some(ip),
            Err(m) => {
                problems.push(("ip", m));
                None
            }
        },
    };
    let vm = LayoutVm {
        image: None,
        packages: Vec::new(),
        commands: Vec::new(),
        user_data: None,
        name: name.trim().to_owned(),
        template: Some(template.to_owned()).filter(|t| !t.is_empty()),
        vcpus: u32::try_from(vcpus).unwrap_or(u32::MAX),
        memory_mib,
        disk_gib,
        host: HostChoice::from(host.to_owned()),
        network,
        ip,
        fqdn: None,
        start,
    };
    // The VM's own limits (names and addresses across VMs, and addresses
    // against the layout's networks, are checked on the whole layout).
    let one = LayoutSpec {
        zone: None,
        networks: Vec::new(),
        cloud_init: Default::default(),
        name: "layout".into(),
        description: String::new(),
        vms: vec![vm.clone()],
    };
    for p in one.problems() {
        let field = p.field.trim_start_matches("vm[0].");
        let Some(field) = ["name", "vcpus", "memory_mib", "disk_gib", "host"]
            .into_iter()
            .find(|f| *f == field)
        else {
            continue;
        };
        if !problems.iter().any(|(f, _)| *f == field) {
            problems.push((field, p.message));
        }
    }
    if problems.is_empty() {
        Ok(vm)
    } else {
        Err(problems)
    }
}

impl Row {
    pub(super) fn new(key: u64, vm: &LayoutVm) -> Self {
        let name = RwSignal::new(vm.name.clone());
        let template = RwSignal::new(vm.template.clone().unwrap_or_default());
        let vcpus = RwSignal::new(vm.vcpus.to_string());
        let memory = RwSignal::new(vm.memory_mib.to_string());
        let disk = RwSignal::new(vm.disk_gib.to_string());
        let host = RwSignal::new(vm.host.to_string());
        let network = RwSignal::new(vm.network.to_string());
        let ip = RwSignal::new(vm.ip.map(|i| i.to_string()).unwrap_or_default());
        let start = RwSignal::new(vm.start);
        // What the editor has no field for yet (the image, cloud-init's
        // packages, commands and user-data, the full name, set in a
        // layout file) travels with the VM untouched, so saving from the
        // editor never drops it.
        let kept = StoredValue::new(vm.clone());
        let parsed = Memo::new(move |_| {
            parse_vm(
                &name.read(),
                &template.read(),
                &vcpus.read(),
                &memory.read(),
                &disk.read(),
                &host.read(),
                &network.read(),
                &ip.read(),
                start.get(),
            )
            .map(|mut vm| {
                kept.with_value(|k| {
                    vm.image = k.image.clone();
                    vm.packages = k.packages.clone();
                    vm.commands = k.commands.clone();
                    vm.fqdn = k.fqdn.clone();
                    vm.user_data = k.user_data.clone();
                });
                vm
            })
        });
        let initial = vm.clone();
        let good = Memo::new(move |prev: Option<&LayoutVm>| match parsed.get() {
            Ok(vm) => vm,
            Err(_) => prev.cloned().unwrap_or_else(|| initial.clone()),
        });
        Row {
            key,
            name,
            template,
            vcpus,
            memory,
            disk,
            host,
            network,
            ip,
            start,
            parsed,
            good,
            open: RwSignal::new(false),
        }
    }
}

/// `Web Server` → `web-server`.
pub(super) fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s: String = s.trim_end_matches('-').chars().take(40).collect();
    if s.is_empty() {
        "vm".into()
    } else {
        s
    }
}

/// The NIC new VMs start with: `network:default` when every host offers it
/// (libvirt's usual NAT network), otherwise the first network all hosts
/// share, so that a VM added to a layout can be applied as it is.
pub(super) fn default_nic(view: &HostsView) -> Nic {
    let mut offered = view.networks.values();
    let Some(first) = offered.next() else {
        return Nic::default();
    };
    let common: Vec<&String> = first
        .iter()
        .filter(|n| view.networks.values().all(|all| all.contains(n)))
        .collect();
    let preferred = Nic::default().to_string();
    if common.iter().any(|n| **n == preferred) {
        return Nic::default();
    }
    common
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod default_nic_tests {
    use super::*;

    fn view(hosts: &[(&str, &[&str])]) -> HostsView {
        HostsView {
            networks: hosts
                .iter()
                .map(|(h, ns)| (h.to_string(), ns.iter().map(|n| n.to_string()).collect()))
                .collect(),
            ..HostsView::default()
        }
    }

    #[test]
    fn prefers_default_then_the_first_shared_network() {
        assert_eq!(default_nic(&view(&[])), Nic::default());
        assert_eq!(
            default_nic(&view(&[("demo", &["network:br0"])])),
            Nic::Network("br0".into())
        );
        assert_eq!(
            default_nic(&view(&[
                ("a", &["network:br0", "network:default"]),
                ("b", &["network:default"])
            ])),
            Nic::default()
        );
        assert_eq!(
            default_nic(&view(&[("a", &["network:lan"]), ("b", &["network:dmz"])])),
            Nic::default(),
            "nothing shared: libvirt's usual network"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layouts::model::check_name;

    #[test]
    fn slugs_make_vm_names() {
        assert_eq!(slug("Web Server"), "web-server");
        assert_eq!(
            slug("File Sharing and Data Storage"),
            "file-sharing-and-data-storage"
        );
        assert_eq!(slug("  "), "vm");
        assert!(check_name(&format!("{}-10", slug("Master DNS"))).is_ok());
    }

    #[test]
    fn a_bad_number_names_its_field_and_limits_count() {
        let ok = parse_vm(
            "web-1",
            "",
            "1",
            "1024",
            "20",
            "auto",
            "network:default",
            "",
            true,
        );
        assert!(ok.is_ok());
        let bad = parse_vm(
            "web-1",
            "",
            "x",
            "8",
            "20",
            "demo",
            "wifi:x",
            "300.1.1.1",
            true,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["vcpus", "network", "ip", "memory_mib"]);
    }
}
