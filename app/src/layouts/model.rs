//! The layout as the administrator writes it: a named plan of VM entries.
//!
//! This is the one shape a layout has everywhere: in the editor (the
//! browser evaluates it against the hosts with [`crate::capacity`] as the
//! admin types), in the database, in exported TOML/JSON files, on the
//! command line (`stackyard layout check`) and as the input of plan/apply.
//! It is plain data plus validation; nothing here does IO.

pub use super::addressing::{AddressChoice, AddressRange, LayoutNetwork, Subnet};
use crate::capacity::{Bytes, MiB, PlacementRequest, VmDemand};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A named plan of VMs.
// Unknown fields are refused: a misspelt `strat = false` in a file must not
// silently start a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    /// Layout name, unique among layouts.
    pub name: String,
    /// Free text: what the layout is for.
    #[serde(default)]
    pub description: String,
    /// The DNS zone the VMs are named in by default (`<vm>.<zone>`), one
    /// of Stackyard's zones for their A/AAAA and PTR records to be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The networks the VMs attach to, described for their addresses
    /// (`[[network]]` in a layout file).
    #[serde(default, rename = "network", skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<LayoutNetwork>,
    /// The account cloud-init makes on VMs from a cloud image.
    #[serde(default, skip_serializing_if = "CloudInit::is_default")]
    pub cloud_init: CloudInit,
    /// The VMs, in the order the admin listed them.
    #[serde(default, rename = "vm")]
    pub vms: Vec<LayoutVm>,
}

/// What every VM of a layout made from a cloud image gets at first boot
/// (`[cloud_init]` in a layout file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudInit {
    /// The administrator's account (sudo without a password, no password
    /// login: SSH keys only).
    #[serde(default = "default_admin")]
    pub admin: String,
    /// Its SSH public keys (`ssh-ed25519 AAAA… comment`).
    #[serde(default)]
    pub ssh_keys: Vec<String>,
}

fn default_admin() -> String {
    "admin".to_owned()
}

impl Default for CloudInit {
    fn default() -> Self {
        CloudInit {
            admin: default_admin(),
            ssh_keys: Vec::new(),
        }
    }
}

impl CloudInit {
    pub fn is_default(&self) -> bool {
        *self == CloudInit::default()
    }
}

/// One planned VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutVm {
    /// Domain name on the host; also names its volume (`<name>.qcow2`).
    pub name: String,
    /// The template the sizes came from, if any (sizes below are what counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory, MiB (`y_s`).
    pub memory_mib: u64,
    /// Disk size, GiB (`z_s`); thin-provisioned qcow2. 0 = no disk.
    pub disk_gib: u64,
    /// Where it goes: a host's name or `auto`.
    #[serde(default)]
    pub host: HostChoice,
    /// NIC: `network:NAME`, `bridge:NAME` or `none`. Default: the host's
    /// `default` network.
    #[serde(default)]
    pub network: Nic,
    /// Its address: typed, or `auto` (the next free address of its
    /// network's range); given to a cloud image by cloud-init and written
    /// in DNS with its name. None: the network's DHCP, no records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<AddressChoice>,
    /// Its full name in DNS; default `<name>.<the layout's zone>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Start the VM after defining it.
    #[serde(default = "yes")]
    pub start: bool,
    /// The image of the host's library it is made from (by name): an
    /// installer ISO in its CD drive, booted first; or a cloud image under
    /// its disk, configured by cloud-init at first boot. None: a blank disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Debian packages cloud-init installs (a cloud image only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Commands cloud-init runs once at first boot (a cloud image only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// For experts: the VM's own cloud-init user-data (`#cloud-config` or
    /// a `#!` script), written to its seed as it is instead of the one made
    /// from the layout's admin account and keys and the VM's packages and
    /// commands (which it must then leave empty). The address, the host
    /// name and the instance-id still come from the layout; the full name
    /// in `/etc/hosts` is the user-data's to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

/// The longest user-data a VM may bring (it is written to a small seed).
pub const USER_DATA_MAX: usize = 64 * 1024;

/// What is wrong with a VM's own user-data, if anything.
pub fn user_data_problem(raw: &str) -> Option<String> {
    if !(raw.starts_with("#cloud-config") || raw.starts_with("#!")) {
        return Some(
            "user-data starts with #cloud-config (a cloud-config document) or #! (a script), on its first line".into(),
        );
    }
    if raw.contains('\0') {
        return Some("user-data is text: it has a NUL character".into());
    }
    if raw.len() > USER_DATA_MAX {
        return Some(format!(
            "user-data is {} bytes; at most {USER_DATA_MAX}",
            raw.len()
        ));
    }
    None
}

fn yes() -> bool {
    true
}

impl LayoutVm {
    /// What the capacity model needs of this VM. Layout disks are always thin.
    pub fn demand(&self) -> VmDemand {
        VmDemand::new(
            self.name.clone(),
            MiB(self.memory_mib),
            self.vcpus,
            Bytes::from_gib(self.disk_gib),
            true,
        )
    }

    /// The placement request: pinned to its host or free.
    pub fn request(&self) -> PlacementRequest {
        match &self.host {
            HostChoice::Auto => PlacementRequest::auto(self.demand()),
            HostChoice::Host(h) => PlacementRequest::on(self.demand(), h.clone()),
        }
    }

    /// The volume this VM's disk lives in.
    pub fn volume_name(&self) -> String {
        format!("{}.qcow2", self.name)
    }
}

/// A host by name, or "let placement choose".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum HostChoice {
    /// Placement chooses.
    #[default]
    Auto,
    /// This host.
    Host(String),
}

impl From<String> for HostChoice {
    fn from(s: String) -> Self {
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("auto") {
            HostChoice::Auto
        } else {
            HostChoice::Host(t.to_string())
        }
    }
}

impl From<HostChoice> for String {
    fn from(h: HostChoice) -> Self {
        h.to_string()
    }
}

impl fmt::Display for HostChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostChoice::Auto => f.write_str("auto"),
            HostChoice::Host(h) => f.write_str(h),
        }
    }
}

/// How the VM's NIC is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Nic {
    /// A libvirt virtual network.
    Network(String),
    /// A host bridge such as `br0`.
    Bridge(String),
    /// No NIC.
    None,
}

impl Default for Nic {
    fn default() -> Self {
        Nic::Network("default".into())
    }
}

impl TryFrom<String> for Nic {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl std::str::FromStr for Nic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("none") {
            return Ok(Nic::None);
        }
        let (kind, name) = match t.split_once(':') {
            Some((k, n)) => (k.trim(), n.trim()),
            None => ("network", t),
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(format!(
                "\"{t}\" is not a network: write network:NAME, bridge:NAME or none \
                 (names use letters, digits, '-', '_', '.')"
            ));
        }
        match kind {
            "network" => Ok(Nic::Network(name.to_string())),
            "bridge" => Ok(Nic::Bridge(name.to_string())),
            other => Err(format!(
                "\"{other}\" is not a NIC kind: use network:NAME, bridge:NAME or none"
            )),
        }
    }
}

impl From<Nic> for String {
    fn from(n: Nic) -> Self {
        n.to_string()
    }
}

impl fmt::Display for Nic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nic::Network(n) => write!(f, "network:{n}"),
            Nic::Bridge(b) => write!(f, "bridge:{b}"),
            Nic::None => f.write_str("none"),
        }
    }
}

/// A problem with one field of a layout, for the form (`vm[2].memory_mib`)
/// and the command line alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct LayoutProblem {
    /// `name`, or `vm[i].field` (0-based index).
    pub field: String,
    /// What is wrong, in words an admin can act on.
    pub message: String,
}

/// Largest memory a single VM may ask for (16 TiB, libvirt's practical limit).
pub const MAX_MEMORY_MIB: u64 = 16 * 1024 * 1024;
/// Largest disk a single VM may ask for (1 PiB).
pub const MAX_DISK_GIB: u64 = 1024 * 1024;
/// Most vCPUs a single VM may ask for.
pub const MAX_VCPUS: u32 = 4096;

/// Checks a VM or layout name: what libvirt and volume names accept.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name is required".into());
    }
    if name.len() > 64 {
        return Err(format!("{} characters; at most 64", name.len()));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
        || name.starts_with('-')
    {
        return Err(format!(
            "\"{name}\": use letters, digits, '-', '_' and '.', not starting with '.' or '-'"
        ));
    }
    Ok(())
}

impl LayoutSpec {
    /// Every problem in the layout, each with its field. Empty = valid.
    /// (Whether it fits the hosts is [`crate::capacity`]'s question, not this one.)
    pub fn problems(&self) -> Vec<LayoutProblem> {
        let mut out = Vec::new();
        let mut push = |field: String, message: String| out.push(LayoutProblem { field, message });
        let name = self.name.trim();
        if name.is_empty() {
            push("name".into(), "a layout needs a name".into());
        } else if name.len() > 100 {
            push(
                "name".into(),
                format!("{} characters; at most 100", name.len()),
            );
        }
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for (i, vm) in self.vms.iter().enumerate() {
            let f = |field: &str| format!("vm[{i}].{field}");
            if let Err(m) = check_name(&vm.name) {
                push(f("name"), m);
            } else if let Some(first) = seen.insert(vm.name.to_ascii_lowercase(), i) {
                push(
                    f("name"),
                    format!("\"{}\" is already VM {} of this layout", vm.name, first + 1),
                );
            }
            if vm.vcpus == 0 || vm.vcpus > MAX_VCPUS {
                push(
                    f("vcpus"),
                    format!("{} vCPUs; between 1 and {MAX_VCPUS}", vm.vcpus),
                );
            }
            if vm.memory_mib < 16 || vm.memory_mib > MAX_MEMORY_MIB {
                push(
                    f("memory_mib"),
                    format!(
                        "{} MiB; between 16 MiB and {MAX_MEMORY_MIB} MiB",
                        vm.memory_mib
                    ),
                );
            }
            if vm.disk_gib > MAX_DISK_GIB {
                push(
                    f("disk_gib"),
                    format!("{} GiB; at most {MAX_DISK_GIB} GiB", vm.disk_gib),
                );
            }
            if let HostChoice::Host(h) = &vm.host {
                if let Err(m) = check_name(h) {
                    push(f("host"), m);
                }
            }
            if let Some(image) = &vm.image {
                if let Err(e) = crate::images::check_name(image) {
                    push(f("image"), e.to_string());
                }
            }
            if let Some(p) = vm.packages.iter().find(|p| !is_package_name(p)) {
                push(
                    f("packages"),
                    format!(
                        "\"{p}\" is not a Debian package name (lowercase letters, digits, + - .)"
                    ),
                );
            }
            if vm.commands.iter().any(|c| c.contains(['\n', '\r', '\0'])) {
                push(
                    f("commands"),
                    "one command per entry, without line breaks".into(),
                );
            }
            if (!vm.packages.is_empty() || !vm.commands.is_empty()) && vm.image.is_none() {
                push(
                    f("packages"),
                    "packages and commands need a cloud image (set image)".into(),
                );
            }
            if let Some(raw) = &vm.user_data {
                if let Some(m) = user_data_problem(raw) {
                    push(f("user_data"), m);
                } else if vm.image.is_none() {
                    push(
                        f("user_data"),
                        "user-data needs a cloud image (set image)".into(),
                    );
                } else if !vm.packages.is_empty() || !vm.commands.is_empty() {
                    push(
                        f("user_data"),
                        "with its own user-data a VM takes no packages or commands: put them in the user-data".into(),
                    );
                }
            }
        }
        self.addressing_problems(&mut push);
        let admin = &self.cloud_init.admin;
        let valid_admin = !admin.is_empty()
            && admin.len() <= 32
            && admin != "root"
            && admin.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && admin
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_admin {
            push(
                "cloud_init.admin".into(),
                format!("\"{admin}\" is not an account name: lowercase letters, digits, _ and -, not root"),
            );
        }
        for (i, key) in self.cloud_init.ssh_keys.iter().enumerate() {
            if let Err(m) = check_ssh_key(key) {
                push(format!("cloud_init.ssh_keys[{i}]"), m);
            }
        }
        out
    }
}

/// A Debian package name (policy 5.6.1): lowercase letters, digits, `+`,
/// `-`, `.`, at least two, starting with a letter or digit.
pub fn is_package_name(p: &str) -> bool {
    p.len() >= 2
        && p.len() <= 128
        && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// An OpenSSH public key line: a known type, its base64 body, a comment.
pub fn check_ssh_key(key: &str) -> Result<(), String> {
    let mut parts = key.split_whitespace();
    let (kind, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    const KINDS: [&str; 7] = [
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    if !KINDS.contains(&kind) {
        return Err(format!(
            "a public key starts with its type (ssh-ed25519, ssh-rsa, ecdsa-sha2-…), not \"{kind}\""
        ));
    }
    let base64 = body.len() >= 16
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    if !base64 || key.contains(['\n', '\r']) {
        return Err("the key's body is not base64: paste the whole line of the .pub file".into());
    }
    Ok(())
}

/// The name of the layout every new console starts with.
pub const PAPER_LAYOUT_NAME: &str = "Paper, Table 2";

impl LayoutSpec {
    /// The paper's Table 2 as a layout: one VM per service, ten web servers,
    /// sized by [`crate::capacity::table2_templates`], placed automatically.
    /// The demo host already runs `ns1`, `mail` and `web`, so those names
    /// are kept: the layout completes the paper's server rather than
    /// doubling it.
    pub fn paper_table2(network: Nic) -> LayoutSpec {
        let names = |template: &str, count: u32| -> Vec<String> {
            match template {
                "Master DNS" => vec!["ns1".into()],
                "Mail Server" => vec!["mail".into()],
                "Web Server" => (1..=count)
                    .map(|i| {
                        if i == 1 {
                            "web".into()
                        } else {
                            format!("web{i}")
                        }
                    })
                    .collect(),
                "E-Learning Server" => vec!["elearning".into()],
                "Workflow" => vec!["workflow".into()],
                _ => vec!["files".into()],
            }
        };
        let vms = crate::capacity::table2_templates()
            .into_iter()
            .flat_map(|t| {
                let network = network.clone();
                names(&t.name, t.paper_count)
                    .into_iter()
                    .map(move |name| LayoutVm {
                        image: None,
                        packages: Vec::new(),
                        commands: Vec::new(),
                        user_data: None,
                        name,
                        template: Some(t.name.clone()),
                        vcpus: t.vcpus.get(),
                        memory_mib: t.memory.get(),
                        disk_gib: t.disk.get() / crate::capacity::units::GIB,
                        host: HostChoice::Auto,
                        network: network.clone(),
                        ip: None,
                        fqdn: None,
                        start: true,
                    })
            })
            .collect();
        LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: PAPER_LAYOUT_NAME.into(),
            description: "The paper's virtualized network services (Table 2) with ten web \
                          servers, on its HP ProLiant DL380 G8 (32 GiB)."
                .into(),
            vms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(name: &str) -> LayoutVm {
        LayoutVm {
            image: None,
            packages: Vec::new(),
            commands: Vec::new(),
            user_data: None,
            name: name.into(),
            template: Some("Master DNS".into()),
            vcpus: 1,
            memory_mib: 512,
            disk_gib: 4,
            host: HostChoice::Auto,
            network: Nic::default(),
            ip: None,
            fqdn: None,
            start: true,
        }
    }

    #[test]
    fn host_choice_and_nic_read_and_write_as_strings() {
        let json = r#"{"name":"a","vcpus":1,"memory_mib":512,"disk_gib":4,"host":"demo","network":"bridge:br0"}"#;
        let v: LayoutVm = serde_json::from_str(json).unwrap();
        assert_eq!(v.host, HostChoice::Host("demo".into()));
        assert_eq!(v.network, Nic::Bridge("br0".into()));
        assert!(v.start, "start defaults to true");
        let back = serde_json::to_string(&v).unwrap();
        assert!(back.contains(r#""host":"demo""#) && back.contains(r#""network":"bridge:br0""#));
        let auto: LayoutVm = serde_json::from_str(
            r#"{"name":"a","vcpus":1,"memory_mib":512,"disk_gib":4,"host":"AUTO"}"#,
        )
        .unwrap();
        assert_eq!(auto.host, HostChoice::Auto);
        assert_eq!(auto.network, Nic::Network("default".into()));
        let bad = serde_json::from_str::<LayoutVm>(
            r#"{"name":"a","vcpus":1,"memory_mib":512,"disk_gib":4,"network":"wifi:x"}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("not a NIC kind"));
    }

    #[test]
    fn problems_name_each_field() {
        let mut spec = LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: " ".into(),
            description: String::new(),
            vms: vec![vm("dns-1"), vm("DNS-1"), vm("bad name")],
        };
        spec.vms[0].memory_mib = 8;
        spec.vms[2].vcpus = 0;
        let p = spec.problems();
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "vm[0].memory_mib",
                "vm[1].name",
                "vm[2].name",
                "vm[2].vcpus"
            ]
        );
        assert!(p[2].message.contains("already VM 1"), "{}", p[2].message);
    }

    #[test]
    fn valid_layout_has_no_problems_and_demands_thin_disks() {
        let spec = LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: "paper".into(),
            description: String::new(),
            vms: vec![vm("dns-1"), vm("dns-2")],
        };
        assert!(spec.problems().is_empty());
        let d = spec.vms[0].demand();
        assert!(d.thin);
        assert_eq!(d.memory, MiB(512));
        assert_eq!(d.disk, Bytes::from_gib(4));
        assert_eq!(spec.vms[0].volume_name(), "dns-1.qcow2");
    }
}
