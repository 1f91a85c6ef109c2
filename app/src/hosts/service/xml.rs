//! Writing and reading libvirt XML.
//!
//! Writing: libvirt's XML is small and fixed here, so a format string plus
//! a five-character escaper is clearer than an XML writer crate. Every
//! value that comes from a person goes through [`escape`].
//! Reading: `roxmltree` (read-only DOM, no unsafe, no C deps).

use roxmltree::{Document, Node};

use crate::hosts::service::error::HostError;
use crate::hosts::service::types::{DomainType, NetworkAttach, VmSpec};

/// Escapes text for XML element content and attribute values (single or
/// double quoted).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Checks a VM, volume or pool name. libvirt itself accepts almost
/// anything, but names end up in file paths, shell commands of admins and
/// URLs of the console, so we keep to a safe set.
pub fn validate_name(what: &str, name: &str) -> Result<(), HostError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 64 || !ok_chars || !first_ok {
        return Err(HostError::InvalidInput(format!(
            "'{name}' is not a valid {what} name: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )));
    }
    Ok(())
}

/// A MAC address derived from the VM name: the QEMU/KVM prefix 52:54:00
/// (locally administered, unicast) plus 24 bits of an FNV-1a hash, so a VM
/// that is deleted and defined again keeps its DHCP reservation.
pub fn mac_for_name(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    // Fold the high half in so every input bit influences the three octets.
    format!(
        "52:54:00:{:02x}:{:02x}:{:02x}",
        b[5] ^ b[2],
        b[6] ^ b[1],
        b[7] ^ b[0]
    )
}

/// Validates and normalises (lower case) a MAC given by a person.
pub fn normalize_mac(mac: &str) -> Result<String, HostError> {
    let bad = || {
        HostError::InvalidInput(format!(
            "'{mac}' is not a valid MAC address (expected six hex pairs like 52:54:00:12:34:56)"
        ))
    };
    let parts: Vec<&str> = mac.trim().split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut octets = [0u8; 6];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if octets[0] & 1 == 1 {
        return Err(HostError::InvalidInput(format!(
            "'{mac}' is a multicast MAC address; a NIC needs a unicast one (first octet even)"
        )));
    }
    Ok(octets
        .iter()
        .map(|o| format!("{o:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// A resolved boot disk for [`domain_xml`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSource {
    /// Path on the host.
    pub path: String,
    /// Image format for qemu's driver ("qcow2", "raw").
    pub format: String,
    /// Block device rather than a file.
    pub block: bool,
}

/// Builds the domain XML for a new VM. `mac` must already be normalised.
pub fn domain_xml(
    spec: &VmSpec,
    dtype: DomainType,
    arch: &str,
    disk: Option<&DiskSource>,
    cdroms: &[(String, bool)],
    mac: &str,
) -> String {
    let mut devices = String::new();
    if let Some(d) = disk {
        let (kind, attr) = if d.block {
            ("block", "dev")
        } else {
            ("file", "file")
        };
        devices.push_str(&format!(
            "    <disk type='{kind}' device='disk'>\n      <driver name='qemu' type='{}'/>\n      <source {attr}='{}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n",
            escape(&d.format),
            escape(&d.path)
        ));
    }
    // CD drives on IDE (the `pc` machine type VMs get: Debian's cloud kernel
    // has no AHCI driver, so a seed on SATA would not be seen),
    // read-only: an installer ISO, a cloud-init seed.
    for (i, (path, _)) in cdroms.iter().enumerate() {
        devices.push_str(&format!(
            "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <source file='{}'/>\n      <target dev='hd{}' bus='ide'/>\n      <readonly/>\n    </disk>\n",
            escape(path),
            char::from(b'c' + (i as u8).min(23))
        ));
    }
    let boot = if cdroms.iter().any(|(_, boot)| *boot) {
        "    <boot dev='cdrom'/>\n    <boot dev='hd'/>\n"
    } else {
        "    <boot dev='hd'/>\n"
    };
    let nic = match &spec.network {
        NetworkAttach::Network(n) => Some(("network", "network", n)),
        NetworkAttach::Bridge(b) => Some(("bridge", "bridge", b)),
        NetworkAttach::None => None,
    };
    if let Some((kind, attr, value)) = nic {
        devices.push_str(&format!(
            "    <interface type='{kind}'>\n      <source {attr}='{}'/>\n      <mac address='{}'/>\n      <model type='virtio'/>\n    </interface>\n",
            escape(value),
            escape(mac)
        ));
    }
    // VNC only on loopback: consoles are reached through an SSH tunnel or
    // the web console's proxy, never directly from the network.
    devices.push_str(
        "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>\n      <listen type='address' address='127.0.0.1'/>\n    </graphics>\n",
    );
    devices.push_str(
        "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n",
    );
    // No <cpu> element: libvirt's default model works under every
    // accelerator (host-passthrough crashes qemu on some nested-KVM hosts
    // with "failed to set MSR") and keeps VMs movable between hosts of
    // different CPU generations.
    format!(
        "<domain type='{dt}'>\n  <name>{name}</name>\n  <memory unit='MiB'>{mem}</memory>\n  <currentMemory unit='MiB'>{mem}</currentMemory>\n  <vcpu placement='static'>{vcpus}</vcpu>\n  <os>\n    <type arch='{arch}'>hvm</type>\n{boot}  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n{devices}  </devices>\n</domain>\n",
        dt = dtype.as_str(),
        name = escape(&spec.name),
        mem = spec.memory_mib,
        vcpus = spec.vcpus,
        arch = escape(arch),
    )
}

/// `xml` (a domain definition) with its memory and vCPUs replaced; every
/// other byte is kept. A `current` vCPU count and memory ballooning below
/// the maximum are dropped: the VM gets exactly what was asked.
pub fn with_size(xml: &str, memory_mib: u64, vcpus: u32) -> Result<String, HostError> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut seen_memory = false;
    for n in root.children().filter(|n| n.is_element()) {
        let replacement = match n.tag_name().name() {
            "memory" => {
                seen_memory = true;
                format!("<memory unit='MiB'>{memory_mib}</memory>")
            }
            "currentMemory" => format!("<currentMemory unit='MiB'>{memory_mib}</currentMemory>"),
            "vcpu" => {
                let placement = n
                    .attribute("placement")
                    .map(|p| format!(" placement='{}'", escape(p)))
                    .unwrap_or_default();
                format!("<vcpu{placement}>{vcpus}</vcpu>")
            }
            _ => continue,
        };
        edits.push((n.range(), replacement));
    }
    if !seen_memory {
        return Err(HostError::Libvirt {
            message: "the VM's definition has no <memory> element".into(),
            code: -1,
        });
    }
    let mut out = xml.to_string();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    for (range, text) in edits {
        out.replace_range(range, &text);
    }
    Ok(out)
}

/// Whether a domain has a NIC on a libvirt virtual network.
pub fn has_network_interface(xml: &str) -> bool {
    Document::parse(xml).is_ok_and(|d| {
        d.descendants()
            .any(|n| n.has_tag_name("interface") && n.attribute("type") == Some("network"))
    })
}

/// Volume XML for a thin qcow2 image: nothing is allocated up front.
pub fn volume_xml(name: &str, capacity_bytes: u64) -> String {
    format!(
        "<volume>\n  <name>{}</name>\n  <capacity unit='bytes'>{capacity_bytes}</capacity>\n  <allocation unit='bytes'>0</allocation>\n  <target>\n    <format type='qcow2'/>\n  </target>\n</volume>\n",
        escape(name)
    )
}

/// Volume XML for a raw file of exactly `bytes` (what an upload fills):
/// nothing is allocated until the bytes arrive.
pub fn raw_volume_xml(name: &str, bytes: u64) -> String {
    format!(
        "<volume>\n  <name>{}</name>\n  <capacity unit='bytes'>{bytes}</capacity>\n  <allocation unit='bytes'>0</allocation>\n  <target>\n    <format type='raw'/>\n  </target>\n</volume>\n",
        escape(name)
    )
}

/// Volume XML for a thin qcow2 overlay on `backing` (a cloud image of
/// format `backing_format`): the VM writes into the overlay, the image is
/// shared and never changed; `capacity_bytes` grows the disk past the
/// image's size.
pub fn overlay_volume_xml(
    name: &str,
    capacity_bytes: u64,
    backing: &str,
    backing_format: &str,
) -> String {
    format!(
        "<volume>\n  <name>{}</name>\n  <capacity unit='bytes'>{capacity_bytes}</capacity>\n  <allocation unit='bytes'>0</allocation>\n  <target>\n    <format type='qcow2'/>\n  </target>\n  <backingStore>\n    <path>{}</path>\n    <format type='{}'/>\n  </backingStore>\n</volume>\n",
        escape(name),
        escape(backing),
        escape(backing_format)
    )
}

fn parse(xml: &str) -> Result<Document<'_>, HostError> {
    Document::parse(xml).map_err(|e| HostError::Libvirt {
        message: format!("libvirt returned XML we cannot read: {e}"),
        code: -1,
    })
}

fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn child_text(n: Node<'_, '_>, tag: &str) -> Option<String> {
    child(n, tag)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// What we need from the capabilities XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Host architecture, e.g. "x86_64".
    pub host_arch: String,
    /// Host CPU vendor, e.g. "Intel".
    pub cpu_vendor: Option<String>,
    /// Host CPU model name as libvirt knows it, e.g. "Westmere".
    pub cpu_model: Option<String>,
    /// (guest arch, domain type) pairs offered for `hvm` guests.
    pub hvm_domains: Vec<(String, String)>,
}

impl Capabilities {
    /// A `kvm` domain type is offered.
    pub fn has_kvm(&self) -> bool {
        self.hvm_domains.iter().any(|(_, t)| t == "kvm")
    }

    /// Guests run without software emulation: `kvm` is offered, or this is
    /// libvirt's test driver, whose `test` domains are its native kind (it
    /// has no way to describe CPU features, so this is as close as it comes
    /// to describing the demo host's VT-x).
    pub fn has_hw_virt(&self) -> bool {
        self.hvm_domains
            .iter()
            .any(|(_, t)| t == "kvm" || t == "test")
    }

    /// The arch to use for a new guest of `dtype`: the host's own arch when
    /// offered, otherwise the first arch with that type, otherwise the
    /// host arch (the test driver accepts anything).
    pub fn arch_for(&self, dtype: DomainType) -> String {
        let t = dtype.as_str();
        let offered: Vec<&String> = self
            .hvm_domains
            .iter()
            .filter(|(_, d)| d == t)
            .map(|(a, _)| a)
            .collect();
        if offered.iter().any(|a| **a == self.host_arch) || offered.is_empty() {
            if self.host_arch.is_empty() {
                "x86_64".to_string()
            } else {
                self.host_arch.clone()
            }
        } else {
            offered
                .first()
                .map(|a| (*a).clone())
                .unwrap_or_else(|| self.host_arch.clone())
        }
    }
}

/// The pool capacities a test-driver node file declares, in bytes, by pool
/// name. The test driver itself reports every pool as 100 GiB whatever its
/// file says; the demo host describes the paper's disk array through this.
pub fn declared_pool_capacities(node_xml: &str) -> Vec<(String, u64)> {
    let Ok(doc) = roxmltree::Document::parse(node_xml) else {
        return Vec::new();
    };
    doc.root_element()
        .children()
        .filter(|c| c.has_tag_name("pool"))
        .filter_map(|pool| {
            let name = child_text(pool, "name")?;
            let cap = child(pool, "capacity")?;
            let n: u64 = cap.text()?.trim().parse().ok()?;
            let unit: u64 = match cap.attribute("unit").unwrap_or("bytes") {
                "b" | "bytes" => 1,
                "KiB" | "K" | "k" => 1 << 10,
                "MiB" | "M" => 1 << 20,
                "GiB" | "G" => 1 << 30,
                "TiB" | "T" => 1 << 40,
                _ => return None,
            };
            Some((name, n.checked_mul(unit)?))
        })
        .collect()
}

/// Parses `virConnectGetCapabilities` output.
pub fn parse_capabilities(xml: &str) -> Result<Capabilities, HostError> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let mut caps = Capabilities::default();
    if let Some(cpu) = child(root, "host").and_then(|h| child(h, "cpu")) {
        caps.host_arch = child_text(cpu, "arch").unwrap_or_default();
        caps.cpu_vendor = child_text(cpu, "vendor");
        caps.cpu_model = child_text(cpu, "model");
    }
    for guest in root.children().filter(|c| c.has_tag_name("guest")) {
        if child_text(guest, "os_type").as_deref() != Some("hvm") {
            continue;
        }
        for arch in guest.children().filter(|c| c.has_tag_name("arch")) {
            let name = arch.attribute("name").unwrap_or_default().to_string();
            for d in arch.children().filter(|c| c.has_tag_name("domain")) {
                if let Some(t) = d.attribute("type") {
                    caps.hvm_domains.push((name.clone(), t.to_string()));
                }
            }
        }
    }
    Ok(caps)
}

/// A disk as written in a domain's XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainDisk {
    /// Guest device.
    pub target: String,
    /// `<source file=…>` or `<source dev=…>`.
    pub path: Option<String>,
    /// `<source pool=… volume=…>`.
    pub pool_volume: Option<(String, String)>,
}

/// Where a running VM's VNC server listens on its host (its live XML:
/// `<graphics type='vnc' port='5901' listen='127.0.0.1'>`); `None` when it
/// has none or its port is not allocated (the VM is off).
pub fn parse_vnc_listen(xml: &str) -> Option<(String, u16)> {
    let doc = parse(xml).ok()?;
    let devices = child(doc.root_element(), "devices")?;
    let vnc = devices
        .children()
        .find(|d| d.has_tag_name("graphics") && d.attribute("type") == Some("vnc"))?;
    let port: u16 = vnc.attribute("port")?.parse().ok().filter(|p| *p > 0)?;
    let listen = vnc
        .attribute("listen")
        .filter(|a| !a.is_empty() && *a != "0.0.0.0" && *a != "::")
        .unwrap_or("127.0.0.1");
    Some((listen.to_owned(), port))
}

/// The consoles of a domain XML: a VNC screen, a serial line.
pub fn parse_consoles(xml: &str) -> crate::hosts::types::Consoles {
    let mut consoles = crate::hosts::types::Consoles::default();
    let Ok(doc) = parse(xml) else {
        return consoles;
    };
    let Some(devices) = child(doc.root_element(), "devices") else {
        return consoles;
    };
    for device in devices.children().filter(roxmltree::Node::is_element) {
        match device.tag_name().name() {
            "graphics" if device.attribute("type") == Some("vnc") => consoles.screen = true,
            "serial" | "console" => consoles.serial = true,
            _ => {}
        }
    }
    consoles
}

/// Disks (device="disk") of a domain XML.
pub fn parse_domain_disks(xml: &str) -> Result<Vec<DomainDisk>, HostError> {
    domain_disks(xml, false)
}

/// Every `<disk>` of a domain, CD-ROMs and floppies included: what a VM
/// holds open (an installer ISO in its CD drive counts).
pub fn parse_domain_media(xml: &str) -> Result<Vec<DomainDisk>, HostError> {
    domain_disks(xml, true)
}

fn domain_disks(xml: &str, media: bool) -> Result<Vec<DomainDisk>, HostError> {
    let doc = parse(xml)?;
    let Some(devices) = child(doc.root_element(), "devices") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for disk in devices.children().filter(|c| c.has_tag_name("disk")) {
        if !media && disk.attribute("device").unwrap_or("disk") != "disk" {
            continue;
        }
        let target = child(disk, "target")
            .and_then(|t| t.attribute("dev"))
            .unwrap_or_default()
            .to_string();
        let source = child(disk, "source");
        let path = source
            .and_then(|s| s.attribute("file").or_else(|| s.attribute("dev")))
            .map(str::to_string);
        let pool_volume = source.and_then(|s| {
            Some((
                s.attribute("pool")?.to_string(),
                s.attribute("volume")?.to_string(),
            ))
        });
        out.push(DomainDisk {
            target,
            path,
            pool_volume,
        });
    }
    Ok(out)
}

/// A CD drive of a domain: its target, its bus, the file in it (none:
/// empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdDriveXml {
    pub target: String,
    pub bus: String,
    pub path: Option<String>,
}

/// The CD drives (`<disk device='cdrom'>`) of a domain XML, in order.
pub fn parse_cd_drives(xml: &str) -> Result<Vec<CdDriveXml>, HostError> {
    let doc = parse(xml)?;
    let Some(devices) = child(doc.root_element(), "devices") else {
        return Ok(Vec::new());
    };
    Ok(devices
        .children()
        .filter(|c| c.has_tag_name("disk") && c.attribute("device") == Some("cdrom"))
        .map(|disk| {
            let target = child(disk, "target");
            CdDriveXml {
                target: target
                    .and_then(|t| t.attribute("dev"))
                    .unwrap_or_default()
                    .to_string(),
                bus: target
                    .and_then(|t| t.attribute("bus"))
                    .unwrap_or("ide")
                    .to_string(),
                path: child(disk, "source")
                    .and_then(|s| s.attribute("file"))
                    .filter(|f| !f.is_empty())
                    .map(str::to_string),
            }
        })
        .collect())
}

/// Where a new CD drive of this domain goes: IDE on the `pc` machine,
/// SATA on `q35` (which has no IDE), at the first free target.
pub fn free_cd_target(xml: &str) -> Result<(String, String), HostError> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let q35 = child(root, "os")
        .and_then(|os| child(os, "type"))
        .and_then(|t| t.attribute("machine"))
        .is_some_and(|m| m.contains("q35"));
    let used: Vec<String> = child(root, "devices")
        .map(|d| {
            d.descendants()
                .filter(|n| n.has_tag_name("target"))
                .filter_map(|t| t.attribute("dev").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let (bus, candidates): (&str, &[&str]) = if q35 {
        ("sata", &["sda", "sdb", "sdc", "sdd", "sde", "sdf"])
    } else {
        // hdc first: the secondary master, where installers' drives sit.
        ("ide", &["hdc", "hdd", "hdb", "hda"])
    };
    candidates
        .iter()
        .find(|c| !used.iter().any(|u| u == *c))
        .map(|c| (c.to_string(), bus.to_string()))
        .ok_or_else(|| {
            HostError::InvalidState(format!(
                "this VM has no free {bus} slot for another CD drive"
            ))
        })
}

/// A CD drive's `<disk>` with `path` in it (none: empty, ejected).
pub fn cdrom_xml(target: &str, bus: &str, path: Option<&str>) -> String {
    let source = path
        .map(|p| format!("<source file='{}'/>", escape(p)))
        .unwrap_or_default();
    format!(
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>{source}<target dev='{}' bus='{}'/><readonly/></disk>",
        escape(target),
        escape(bus)
    )
}

/// The backing file of a storage volume's XML (`<backingStore><path>`),
/// if it has one.
pub fn parse_backing_path(xml: &str) -> Option<String> {
    let doc = parse(xml).ok()?;
    let backing = child(doc.root_element(), "backingStore")?;
    let path = child(backing, "path")?.text()?.trim();
    (!path.is_empty()).then(|| path.to_string())
}

/// (bridge, forward mode) of a network XML. A `<forward>` without a mode
/// means NAT in libvirt.
pub fn parse_network(xml: &str) -> Result<(Option<String>, Option<String>), HostError> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let bridge = child(root, "bridge")
        .and_then(|b| b.attribute("name"))
        .map(str::to_string);
    let forward = child(root, "forward").map(|f| f.attribute("mode").unwrap_or("nat").to_string());
    Ok((bridge, forward))
}

/// The SMBIOS processor version from `virConnectGetSysinfo`, e.g.
/// "Intel(R) Xeon(R) CPU E5620 @ 2.40GHz".
pub fn parse_sysinfo_processor(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    doc.descendants()
        .filter(|n| n.has_tag_name("processor"))
        .flat_map(|p| p.children())
        .find(|e| e.has_tag_name("entry") && e.attribute("name") == Some("version"))
        .and_then(|e| e.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// `<target><format type=…>` of a volume XML.
pub fn parse_volume_format(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    child(doc.root_element(), "target")
        .and_then(|t| child(t, "format"))
        .and_then(|f| f.attribute("type"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VmSpec {
        VmSpec {
            name: "web".into(),
            memory_mib: 1024,
            vcpus: 2,
            disk: None,
            network: NetworkAttach::Bridge("br0".into()),
            mac: None,
            domain_type: None,
            cdroms: Vec::new(),
        }
    }

    #[test]
    fn escapes_all_five() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    }

    #[test]
    fn mac_is_stable_and_local() {
        let a = mac_for_name("ns1");
        assert_eq!(a, mac_for_name("ns1"));
        assert_ne!(a, mac_for_name("ns2"));
        assert!(a.starts_with("52:54:00:"));
        assert_eq!(normalize_mac(&a).ok(), Some(a));
    }

    #[test]
    fn mac_validation() {
        assert_eq!(
            normalize_mac("52:54:00:AB:cd:01").ok().as_deref(),
            Some("52:54:00:ab:cd:01")
        );
        assert!(normalize_mac("52:54:00:ab:cd").is_err());
        assert!(normalize_mac("01:00:5e:00:00:01").is_err());
        assert!(normalize_mac("52:54:00:ab:cd:zz").is_err());
    }

    #[test]
    fn names() {
        assert!(validate_name("VM", "mail-01.example_x").is_ok());
        for bad in ["", "-x", "a b", "a/b", "a'b", &"x".repeat(65)] {
            assert!(validate_name("VM", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domain_xml_has_what_we_promise() {
        let disk = DiskSource {
            path: "/var/lib/libvirt/images/a&b.qcow2".into(),
            format: "qcow2".into(),
            block: false,
        };
        let xml = domain_xml(
            &spec(),
            DomainType::Kvm,
            "x86_64",
            Some(&disk),
            &[],
            "52:54:00:01:02:03",
        );
        let doc = Document::parse(&xml).expect("domain XML parses");
        let root = doc.root_element();
        assert_eq!(root.attribute("type"), Some("kvm"));
        assert!(xml.contains("<source file='/var/lib/libvirt/images/a&amp;b.qcow2'/>"));
        assert!(xml.contains("<target dev='vda' bus='virtio'/>"));
        assert!(xml.contains("<interface type='bridge'>"));
        assert!(xml.contains("<source bridge='br0'/>"));
        assert!(xml.contains("<model type='virtio'/>"));
        assert!(xml.contains("listen='127.0.0.1'"));
        assert!(xml.contains("<serial type='pty'>"));
        let disks = parse_domain_disks(&xml).expect("disks");
        assert_eq!(
            disks[0].path.as_deref(),
            Some("/var/lib/libvirt/images/a&b.qcow2")
        );

        let mut s = spec();
        s.name = "x'><evil/>".into();
        s.network = NetworkAttach::None;
        let xml = domain_xml(
            &s,
            DomainType::Qemu,
            "x86_64",
            None,
            &[],
            "52:54:00:01:02:03",
        );
        let doc = Document::parse(&xml).expect("escaped XML parses");
        let name = doc
            .descendants()
            .find(|n| n.has_tag_name("name"))
            .and_then(|n| n.text());
        assert_eq!(name, Some("x'><evil/>"));
        assert!(!xml.contains("<interface"));
        assert!(!xml.contains("<cpu"));
        assert!(xml.contains("<boot dev='hd'/>\n  </os>"));
    }

    #[test]
    fn cd_drives_are_read_and_a_new_one_finds_a_free_slot() {
        let pc = "<domain><os><type machine='pc-i440fx-7.2'>hvm</type></os><devices>\
            <disk type='file' device='disk'><source file='/v/a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
            <disk type='file' device='cdrom'><source file='/v/grub.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>\
            <disk type='file' device='cdrom'><target dev='hdd' bus='ide'/><readonly/></disk>\
            </devices></domain>";
        let drives = parse_cd_drives(pc).expect("drives");
        assert_eq!(
            drives,
            vec![
                CdDriveXml {
                    target: "hdc".into(),
                    bus: "ide".into(),
                    path: Some("/v/grub.iso".into())
                },
                CdDriveXml {
                    target: "hdd".into(),
                    bus: "ide".into(),
                    path: None
                },
            ]
        );
        assert_eq!(
            free_cd_target(pc).expect("free"),
            ("hdb".to_string(), "ide".to_string())
        );
        let q35 = "<domain><os><type machine='pc-q35-7.2'>hvm</type></os><devices>\
            <disk type='file' device='disk'><target dev='sda' bus='sata'/></disk></devices></domain>";
        assert_eq!(
            free_cd_target(q35).expect("free"),
            ("sdb".to_string(), "sata".to_string())
        );
        assert_eq!(
            cdrom_xml("hdc", "ide", Some("/v/it's.iso")),
            "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/v/it&apos;s.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>"
        );
        assert!(!cdrom_xml("hdc", "ide", None).contains("<source"));
    }

    #[test]
    fn cdroms_are_read_only_and_an_installer_boots_first() {
        let cds = [
            ("/img/debian.iso".to_owned(), true),
            ("/img/seed.iso".to_owned(), false),
        ];
        let xml = domain_xml(
            &spec(),
            DomainType::Qemu,
            "x86_64",
            None,
            &cds,
            "52:54:00:01:02:03",
        );
        let doc = Document::parse(&xml).expect("parses");
        let drives: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("device") == Some("cdrom"))
            .collect();
        assert_eq!(drives.len(), 2);
        for (d, dev) in drives.iter().zip(["hdc", "hdd"]) {
            assert!(child(*d, "readonly").is_some());
            assert_eq!(
                child(*d, "target").and_then(|t| t.attribute("dev")),
                Some(dev)
            );
        }
        assert!(xml.contains("<boot dev='cdrom'/>\n    <boot dev='hd'/>"));
        // The media count as what the VM uses; disks alone do not list them.
        assert_eq!(parse_domain_media(&xml).expect("media").len(), 2);
        assert!(parse_domain_disks(&xml).expect("disks").is_empty());
        let overlay = overlay_volume_xml("web1.qcow2", 10 << 30, "/img/a&b.img", "qcow2");
        let doc = Document::parse(&overlay).expect("parses");
        assert_eq!(
            doc.descendants()
                .find(|n| n.has_tag_name("path"))
                .and_then(|n| n.text()),
            Some("/img/a&b.img")
        );
    }

    #[test]
    fn declared_pool_capacity_in_units() {
        let xml = "<node><pool type='dir'><name>default</name><capacity unit='TiB'>2</capacity></pool>\
            <pool><name>small</name><capacity>4096</capacity></pool><pool><name>x</name></pool></node>";
        assert_eq!(
            declared_pool_capacities(xml),
            [
                ("default".to_string(), 2u64 << 40),
                ("small".to_string(), 4096)
            ]
        );
    }

    #[test]
    fn capabilities_kvm_detection() {
        let xml = "<capabilities><host><cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor></cpu></host>\
            <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>\
            <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>";
        let caps = parse_capabilities(xml).expect("caps");
        assert!(caps.has_kvm());
        assert_eq!(caps.arch_for(DomainType::Kvm), "x86_64");
        assert_eq!(caps.cpu_model.as_deref(), Some("Westmere"));
    }

    #[test]
    fn network_forward() {
        let (b, f) = parse_network(
            "<network><name>br0</name><forward mode='bridge'/><bridge name='br0'/></network>",
        )
        .expect("net");
        assert_eq!(b.as_deref(), Some("br0"));
        assert_eq!(f.as_deref(), Some("bridge"));
        let (_, f) = parse_network("<network><forward/></network>").expect("net");
        assert_eq!(f.as_deref(), Some("nat"));
        let (_, f) = parse_network("<network/>").expect("net");
        assert_eq!(f, None);
    }

    #[test]
    fn with_size_replaces_memory_and_vcpus_only() {
        let xml = "<domain type='kvm'>\n  <name>a</name>\n  <memory unit='KiB'>524288</memory>\n  <currentMemory unit='KiB'>262144</currentMemory>\n  <vcpu placement='static' current='1'>2</vcpu>\n  <devices><memory model='dimm'/></devices>\n</domain>\n";
        let out = with_size(xml, 2000, 4).unwrap();
        assert_eq!(
            out,
            "<domain type='kvm'>\n  <name>a</name>\n  <memory unit='MiB'>2000</memory>\n  <currentMemory unit='MiB'>2000</currentMemory>\n  <vcpu placement='static'>4</vcpu>\n  <devices><memory model='dimm'/></devices>\n</domain>\n"
        );
        assert!(with_size("<domain><name>a</name></domain>", 1, 1).is_err());
    }
}
