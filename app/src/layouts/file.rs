//! Layouts and host descriptions as files: TOML or JSON, read and written.
//!
//! Pure (no IO): the server's import/export, the browser's (the same code
//! compiles to wasm, so a file dropped on the editor is checked before it is
//! sent) and `stackyard layout check` all go through here. Errors name the
//! line (and column) and the field (`vm[2].memory_mib`), because the person
//! reading them has the file open in an editor.
//!
//! The hosts file describes hosts without a server: their memory (`y`), the
//! reserve for the host's OS (`y_os`), CPUs, hardware virtualization (`x`),
//! the storage pool's space for VM disks (`z`) and the VMs already on them.
//!
//! ```toml
//! thin_fill = 0.5          # optional: expected fill of thin disks
//!
//! [[host]]
//! name = "proliant-1"
//! memory_mib = 32768
//! reserve_mib = 2048       # optional: default max(2048, 5 %)
//! cpus = 16
//! hw_virt = true           # optional, default true
//! pool_gib = 1024
//!
//! [[host.vm]]              # optional: VMs already there
//! name = "old-web"
//! memory_mib = 2000
//! disk_gib = 100
//! ```

use crate::capacity::{Bytes, CapacityPolicy, HostSpec, MiB, VmDemand};
use crate::layouts::model::LayoutSpec;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// TOML (the default for people).
    Toml,
    /// JSON (for scripts).
    Json,
}

impl FileFormat {
    /// By the file name's extension (`.toml`, `.json`), else by the content:
    /// a document starting with `{` or `[` followed by `"`, `{`, `]` or `}` is
    /// JSON (a TOML file may start with `[table]`, never with `{`).
    pub fn detect(file_name: Option<&str>, text: &str) -> FileFormat {
        if let Some(name) = file_name {
            let lower = name.to_ascii_lowercase();
            if lower.ends_with(".json") {
                return FileFormat::Json;
            }
            if lower.ends_with(".toml") {
                return FileFormat::Toml;
            }
        }
        let mut chars = text.trim_start_matches('\u{feff}').trim_start().chars();
        match chars.next() {
            Some('{') => FileFormat::Json,
            Some('[') => match chars.find(|c| !c.is_whitespace()) {
                Some('"' | '{' | ']' | '}') | None => FileFormat::Json,
                _ => FileFormat::Toml,
            },
            _ => FileFormat::Toml,
        }
    }

    /// The usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Toml => "toml",
            FileFormat::Json => "json",
        }
    }
}

/// One problem with a file: where, which field, what. Reads as
/// `line 3, column 14: vm[2].memory_mib: …`, each part when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}{}{message}", place(*line, *column), field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct FileError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field, `vm[2].memory_mib` style, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// `line 3, column 14: `, `line 3: ` or nothing.
fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// 1-based (line, column) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |l| l.chars().count() + 1);
    (line, column)
}

/// serde_path_to_error's path (`vm[2].memory_mib`), or `None` at the top.
fn path_of(path: &serde_path_to_error::Path) -> Option<String> {
    let p = path.to_string();
    (p != "." && !p.is_empty()).then_some(p)
}

/// Deserialises `text` as `T`, with the line and field of the first problem.
fn deserialize<T: DeserializeOwned>(format: FileFormat, text: &str) -> Result<T, FileError> {
    match format {
        FileFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let field = path_of(e.path());
                let inner = e.into_inner();
                FileError {
                    line: (inner.line() > 0).then_some(inner.line()),
                    column: (inner.column() > 0).then_some(inner.column()),
                    field,
                    message: strip_json_position(&inner.to_string()),
                }
            })?;
            de.end().map_err(|e| FileError {
                line: Some(e.line()),
                column: Some(e.column()),
                field: None,
                message: strip_json_position(&e.to_string()),
            })?;
            Ok(value)
        }
        FileFormat::Toml => {
            let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, None, &e))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = path_of(e.path());
                toml_error(text, field, e.inner())
            })
        }
    }
}

/// serde_json appends " at line L column C"; the position is in its own fields.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn toml_error(text: &str, field: Option<String>, e: &toml::de::Error) -> FileError {
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    FileError {
        line,
        column,
        field,
        message: e.message().trim().to_string(),
    }
}

/// Reads a layout and checks it ([`LayoutSpec::problems`]): every problem,
/// each with its field and, for TOML, the line of that field.
pub fn parse_layout(file_name: Option<&str>, text: &str) -> Result<LayoutSpec, Vec<FileError>> {
    let format = FileFormat::detect(file_name, text);
    let spec: LayoutSpec = deserialize(format, text).map_err(|e| vec![e])?;
    let problems = spec.problems();
    if problems.is_empty() {
        return Ok(spec);
    }
    Err(problems
        .into_iter()
        .map(|p| {
            let line = match format {
                FileFormat::Toml => toml_line_of_field(text, &p.field),
                FileFormat::Json => None,
            };
            FileError {
                line,
                column: None,
                field: Some(p.field),
                message: p.message,
            }
        })
        .collect())
}

/// Best-effort line of `vm[i].key`, `network[i].key` (or a top-level
/// `key`) in a TOML layout written the usual way (`[[vm]]` and
/// `[[network]]` tables, one `key = value` per line).
fn toml_line_of_field(text: &str, field: &str) -> Option<usize> {
    let (array, index, key) = match field.split_once('[') {
        Some((array @ ("vm" | "network"), rest)) => {
            let (i, key) = rest.split_once("].")?;
            (array, Some(i.parse::<usize>().ok()?), key)
        }
        _ => ("", None, field),
    };
    let header = format!("[[{array}]]");
    let is_key = |line: &str| {
        line.trim_start()
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
    };
    let mut table: Option<usize> = None;
    let mut seen = 0usize;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = if index.is_some() && t.starts_with(&header) {
                seen += 1;
                Some(seen - 1)
            } else {
                Some(usize::MAX)
            };
            continue;
        }
        let here = match index {
            Some(i) => table == Some(i),
            None => table.is_none(),
        };
        if here && is_key(line) {
            return Some(n + 1);
        }
    }
    // The table itself when the key is missing.
    let mut seen = 0usize;
    for (n, line) in text.lines().enumerate() {
        if index.is_some() && line.trim().starts_with(&header) {
            if Some(seen) == index {
                return Some(n + 1);
            }
            seen += 1;
        }
    }
    None
}

/// A layout as TOML (what export writes and the examples use).
pub fn layout_to_toml(spec: &LayoutSpec) -> Result<String, FileError> {
    toml::to_string_pretty(spec).map_err(|e| FileError {
        line: None,
        column: None,
        field: None,
        message: format!("cannot write TOML: {e}"),
    })
}

/// A layout as pretty JSON.
pub fn layout_to_json(spec: &LayoutSpec) -> Result<String, FileError> {
    serde_json::to_string_pretty(spec)
        .map(|s| s + "\n")
        .map_err(|e| FileError {
            line: None,
            column: None,
            field: None,
            message: format!("cannot write JSON: {e}"),
        })
}

/// A layout in `format`.
pub fn render_layout(spec: &LayoutSpec, format: FileFormat) -> Result<String, FileError> {
    match format {
        FileFormat::Toml => layout_to_toml(spec),
        FileFormat::Json => layout_to_json(spec),
    }
}

/// One host of a hosts file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    /// Host name, as layouts name it.
    pub name: String,
    /// `y`: installed memory, MiB.
    pub memory_mib: u64,
    /// `y_os`, MiB; absent = the default `max(2048 MiB, 5 %)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_mib: Option<u64>,
    /// Logical CPUs.
    pub cpus: u32,
    /// `x`: hardware virtualization.
    #[serde(default = "yes")]
    pub hw_virt: bool,
    /// Without `hw_virt`, software emulation is acceptable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_emulation: bool,
    /// `z`: pool space for VM disks, GiB.
    pub pool_gib: u64,
    /// VMs already on the host.
    #[serde(default, rename = "vm", skip_serializing_if = "Vec::is_empty")]
    pub vms: Vec<ExistingVmEntry>,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// A VM already on a host, in a hosts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingVmEntry {
    /// Its name.
    pub name: String,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// vCPUs.
    #[serde(default = "one")]
    pub vcpus: u32,
    /// Disk size, GiB.
    #[serde(default)]
    pub disk_gib: u64,
    /// Thin-provisioned disk (counted at the expected fill).
    #[serde(default = "yes")]
    pub thin: bool,
}

/// A hosts file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostsFile {
    /// Expected fill of thin disks, 0..=1 (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thin_fill: Option<f64>,
    /// The hosts.
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostEntry>,
}

impl HostsFile {
    /// The hosts as the capacity model sees them.
    pub fn host_specs(&self) -> Vec<HostSpec> {
        self.hosts.iter().map(HostEntry::to_spec).collect()
    }

    /// The policy: defaults, with the file's `thin_fill`.
    pub fn policy(&self) -> CapacityPolicy {
        let mut p = CapacityPolicy::default();
        if let Some(f) = self.thin_fill {
            p.thin_fill = f;
        }
        p
    }

    /// The file describing `hosts` (for exporting what the database knows).
    pub fn from_specs(hosts: &[HostSpec], policy: &CapacityPolicy) -> HostsFile {
        HostsFile {
            thin_fill: Some(policy.thin_fill),
            hosts: hosts.iter().map(HostEntry::from_spec).collect(),
        }
    }
}

impl HostEntry {
    /// As a [`HostSpec`].
    pub fn to_spec(&self) -> HostSpec {
        HostSpec {
            name: self.name.clone(),
            memory: MiB(self.memory_mib),
            os_reserve: self.reserve_mib.map(MiB),
            cpus: self.cpus,
            hw_virt: self.hw_virt,
            allow_emulation: self.allow_emulation,
            pool_available: Bytes::from_gib(self.pool_gib),
            existing: self
                .vms
                .iter()
                .map(|v| {
                    VmDemand::new(
                        v.name.clone(),
                        MiB(v.memory_mib),
                        v.vcpus,
                        Bytes::from_gib(v.disk_gib),
                        v.thin,
                    )
                })
                .collect(),
        }
    }

    /// From a [`HostSpec`] (pool and disks rounded down to whole GiB).
    pub fn from_spec(h: &HostSpec) -> HostEntry {
        HostEntry {
            name: h.name.clone(),
            memory_mib: h.memory.get(),
            reserve_mib: h.os_reserve.map(MiB::get),
            cpus: h.cpus,
            hw_virt: h.hw_virt,
            allow_emulation: h.allow_emulation,
            pool_gib: h.pool_available.get() / crate::capacity::units::GIB,
            vms: h
                .existing
                .iter()
                .map(|v| ExistingVmEntry {
                    name: v.name.clone(),
                    memory_mib: v.memory.get(),
                    vcpus: v.vcpus.get(),
                    disk_gib: v.disk.get() / crate::capacity::units::GIB,
                    thin: v.thin,
                })
                .collect(),
        }
    }
}

/// JSON hosts files may also be a bare list of hosts.
#[derive(Deserialize)]
#[serde(untagged)]
enum JsonHosts {
    File(HostsFile),
    List(Vec<HostEntry>),
}

/// Reads a hosts file and checks it: names present and unique, memory and
/// CPUs above zero, `thin_fill` within 0..=1.
pub fn parse_hosts(file_name: Option<&str>, text: &str) -> Result<HostsFile, Vec<FileError>> {
    let format = FileFormat::detect(file_name, text);
    let file = match format {
        FileFormat::Json if text.trim_start().starts_with('[') => {
            HostsFile {
                thin_fill: None,
                hosts: deserialize::<Vec<HostEntry>>(format, text).map_err(|mut e| {
                    // A bare list: name the field as in the `host` form.
                    e.field = e.field.map(|f| format!("host{f}"));
                    vec![e]
                })?,
            }
        }
        _ => match deserialize::<HostsFile>(format, text) {
            Ok(f) => f,
            Err(e) if format == FileFormat::Json => match serde_json::from_str::<JsonHosts>(text) {
                Ok(JsonHosts::File(f)) => f,
                Ok(JsonHosts::List(hosts)) => HostsFile {
                    thin_fill: None,
                    hosts,
                },
                Err(_) => return Err(vec![e]),
            },
            Err(e) => return Err(vec![e]),
        },
    };
    let mut errors = Vec::new();
    let mut err = |field: String, message: String| {
        errors.push(FileError {
            line: None,
            column: None,
            field: Some(field),
            message,
        })
    };
    if let Some(f) = file.thin_fill {
        if !(0.0..=1.0).contains(&f) {
            err(
                "thin_fill".into(),
                format!("{f}; between 0 (thin disks cost nothing) and 1 (counted in full)"),
            );
        }
    }
    if file.hosts.is_empty() {
        err("host".into(), "the file describes no host".into());
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, h) in file.hosts.iter().enumerate() {
        if let Err(m) = crate::layouts::model::check_name(&h.name) {
            err(format!("host[{i}].name"), m);
        } else if let Some(first) = seen.insert(h.name.clone(), i) {
            err(
                format!("host[{i}].name"),
                format!("\"{}\" is already host {}", h.name, first + 1),
            );
        }
        if h.memory_mib == 0 {
            err(
                format!("host[{i}].memory_mib"),
                "0 MiB; a host has memory".into(),
            );
        }
        if h.cpus == 0 {
            err(format!("host[{i}].cpus"), "0 CPUs; at least 1".into());
        }
    }
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

/// A hosts file in `format`.
pub fn render_hosts(file: &HostsFile, format: FileFormat) -> Result<String, FileError> {
    let out = match format {
        FileFormat::Toml => toml::to_string_pretty(file).map_err(|e| e.to_string()),
        FileFormat::Json => serde_json::to_string_pretty(file)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
    };
    out.map_err(|message| FileError {
        line: None,
        column: None,
        field: None,
        message,
    })
}

/// Largest layout file accepted (1 MiB: thousands of VMs).
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Reads a layout file as import does, in the browser too; the error lists
/// every problem (with line and field) on its own line.
pub fn check_file(file_name: &str, text: &str) -> Result<LayoutSpec, String> {
    if text.trim().is_empty() {
        return Err("Choose a file or paste a layout in TOML or JSON.".into());
    }
    if text.len() > MAX_FILE_BYTES {
        return Err(format!(
            "The file has {} bytes; at most {MAX_FILE_BYTES}.",
            text.len()
        ));
    }
    let name = Some(file_name.trim()).filter(|n| !n.is_empty());
    let spec = parse_layout(name, text).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    match spec.problems().first() {
        Some(p) => Err(p.to_string()),
        None => Ok(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layouts::model::{HostChoice, LayoutVm, Nic};

    const LAYOUT: &str = r#"name = "paper"
description = "Table 2 on one server"

[[vm]]
name = "dns-1"
template = "Master DNS"
vcpus = 1
memory_mib = 512
disk_gib = 4
host = "proliant-1"

[[vm]]
name = "mail"
vcpus = 1
memory_mib = 2000
disk_gib = 100
network = "bridge:br0"
ip = "192.0.2.25"
start = false
"#;

    #[test]
    fn detects_format_by_name_then_content() {
        assert_eq!(FileFormat::detect(Some("a.JSON"), "x"), FileFormat::Json);
        assert_eq!(FileFormat::detect(Some("a.toml"), "{"), FileFormat::Toml);
        assert_eq!(FileFormat::detect(None, " {\"a\":1}"), FileFormat::Json);
        assert_eq!(FileFormat::detect(None, "[{\"a\":1}]"), FileFormat::Json);
        assert_eq!(
            FileFormat::detect(None, "[[vm]]\nname='a'"),
            FileFormat::Toml
        );
        assert_eq!(FileFormat::detect(None, "[host]\n"), FileFormat::Toml);
        assert_eq!(FileFormat::detect(None, "name = 'x'"), FileFormat::Toml);
    }

    #[test]
    fn toml_layout_reads_and_round_trips_through_both_formats() {
        let spec = parse_layout(Some("l.toml"), LAYOUT).unwrap();
        assert_eq!(spec.vms.len(), 2);
        assert_eq!(spec.vms[0].host, HostChoice::Host("proliant-1".into()));
        assert_eq!(spec.vms[1].host, HostChoice::Auto);
        assert_eq!(spec.vms[1].network, Nic::Bridge("br0".into()));
        assert!(!spec.vms[1].start);
        let toml = layout_to_toml(&spec).unwrap();
        assert_eq!(parse_layout(None, &toml).unwrap(), spec);
        let json = layout_to_json(&spec).unwrap();
        assert_eq!(FileFormat::detect(None, &json), FileFormat::Json);
        assert_eq!(parse_layout(None, &json).unwrap(), spec);
    }

    #[test]
    fn toml_errors_name_line_and_field() {
        let bad = LAYOUT.replace("memory_mib = 2000", "memory_mib = \"lots\"");
        let e = parse_layout(None, &bad).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, Some(15), "{}", e[0]);
        assert_eq!(e[0].field.as_deref(), Some("vm[1].memory_mib"), "{}", e[0]);
        let typo = LAYOUT.replace("start = false", "strat = false");
        let e = parse_layout(None, &typo).unwrap_err();
        assert!(e[0].message.contains("unknown field `strat`"), "{}", e[0]);
        assert_eq!(e[0].line, Some(19));
        let syntax = LAYOUT.replace("vcpus = 1\nmemory_mib = 2000", "vcpus = = 1");
        let e = parse_layout(None, &syntax).unwrap_err();
        assert_eq!(e[0].line, Some(14), "{}", e[0]);
    }

    #[test]
    fn validation_problems_carry_their_toml_line() {
        let bad = LAYOUT.replace(
            "vcpus = 1\nmemory_mib = 2000",
            "vcpus = 0\nmemory_mib = 2000",
        );
        let e = parse_layout(None, &bad).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field.as_deref(), Some("vm[1].vcpus"));
        assert_eq!(e[0].line, Some(14));
        assert!(e[0]
            .to_string()
            .starts_with("line 14: vm[1].vcpus: 0 vCPUs"));
    }

    #[test]
    fn address_problems_carry_their_toml_line() {
        let text = "name = \"services\"\nzone = \"example.org\"\n\n[[network]]\nnic = \"network:lan\"\nsubnet = \"192.0.2.0/24\"\ngateway = \"198.51.100.1\"\n\n[[vm]]\nname = \"ns2\"\nvcpus = 1\nmemory_mib = 512\ndisk_gib = 4\nnetwork = \"network:lan\"\nip = \"192.0.2.10\"\n\n[[vm]]\nname = \"web1\"\nvcpus = 1\nmemory_mib = 512\ndisk_gib = 4\nnetwork = \"network:lan\"\nip = \"192.0.2.10\"\n\n[[vm]]\nname = \"web2\"\nvcpus = 1\nmemory_mib = 512\ndisk_gib = 4\nnetwork = \"network:lan\"\nip = \"203.0.113.5\"\n";
        let e = parse_layout(Some("l.toml"), text).unwrap_err();
        let got: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "line 7: network[0].gateway: 198.51.100.1 is outside 192.0.2.0/24",
                "line 23: vm[1].ip: 192.0.2.10 is already the address of ns2 (VM 1)",
                "line 31: vm[2].ip: 203.0.113.5 is outside 192.0.2.0/24 (network:lan)",
            ]
        );
        let bad_subnet = text.replace("192.0.2.0/24", "192.0.2.7/24");
        let e = parse_layout(Some("l.toml"), &bad_subnet).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "line 6, column 10: network[0].subnet: 192.0.2.7/24 has host bits set: the subnet is 192.0.2.0/24"
        );
    }

    #[test]
    fn a_vms_own_user_data_is_checked_by_field_and_line() {
        let text = "name = \"own\"\n\n[[vm]]\nname = \"web1\"\nvcpus = 1\nmemory_mib = 512\ndisk_gib = 4\nimage = \"debian-12\"\nuser_data = '''\n#cloud-config\nruncmd:\n  - echo hi\n'''\n";
        let spec = parse_layout(Some("l.toml"), text).unwrap();
        assert_eq!(
            spec.vms[0].user_data.as_deref(),
            Some("#cloud-config\nruncmd:\n  - echo hi\n")
        );
        for (bad, says) in [
            (
                text.replace("#cloud-config\n", "packages: [nginx]\n"),
                "line 9: vm[0].user_data: user-data starts with #cloud-config",
            ),
            (
                text.replace("image = \"debian-12\"\n", ""),
                "line 8: vm[0].user_data: user-data needs a cloud image",
            ),
            (
                text.replace("image = \"debian-12\"\n", "image = \"debian-12\"\npackages = [\"nsd\"]\n"),
                "line 10: vm[0].user_data: with its own user-data a VM takes no packages or commands",
            ),
        ] {
            let e = parse_layout(Some("l.toml"), &bad).unwrap_err();
            assert!(e[0].to_string().starts_with(says), "{}", e[0]);
        }
        let huge = text.replace("  - echo hi\n", &"# padding\n".repeat(7000));
        let e = parse_layout(Some("l.toml"), &huge).unwrap_err();
        assert!(e[0].to_string().contains("at most 65536"), "{}", e[0]);
    }

    #[test]
    fn json_errors_name_line_and_field() {
        let json = "{\n  \"name\": \"x\",\n  \"vm\": [\n    {\"name\": \"a\", \"vcpus\": 1, \"memory_mib\": -5, \"disk_gib\": 1}\n  ]\n}";
        let e = parse_layout(Some("x.json"), json).unwrap_err();
        assert_eq!(e[0].line, Some(4));
        assert_eq!(e[0].field.as_deref(), Some("vm[0].memory_mib"));
        assert!(!e[0].message.contains(" at line "), "{}", e[0].message);
        let trailing = "{\"name\": \"x\"} junk";
        assert!(parse_layout(None, trailing).is_err());
    }

    #[test]
    fn layout_with_every_field_survives_export() {
        let spec = LayoutSpec {
            cloud_init: crate::layouts::model::CloudInit {
                admin: "ops".into(),
                ssh_keys: vec!["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDx9 ops@desk".into()],
            },
            name: "all".into(),
            description: "every field".into(),
            zone: Some("example.org".into()),
            networks: vec![crate::layouts::model::LayoutNetwork {
                nic: Nic::Network("lan".into()),
                subnet: "2001:db8::/64".parse().unwrap(),
                gateway: Some("fe80::1".parse().unwrap()),
                resolvers: vec!["2001:db8::53".parse().unwrap()],
                range: Some("2001:db8::10-2001:db8::ff".parse().unwrap()),
            }],
            vms: vec![
                LayoutVm {
                    image: Some("Debian 12 (cloud)".into()),
                    packages: vec!["apache2".into(), "php".into()],
                    commands: vec!["echo 'it: works' > /etc/motd".into()],
                    user_data: None,
                    name: "web-1".into(),
                    template: None,
                    vcpus: 2,
                    memory_mib: 2000,
                    disk_gib: 0,
                    host: HostChoice::Auto,
                    network: Nic::Network("lan".into()),
                    ip: Some("2001:db8::1".parse().unwrap()),
                    fqdn: Some("www.example.org".into()),
                    start: true,
                },
                LayoutVm {
                    image: Some("Debian 12 (cloud)".into()),
                    packages: Vec::new(),
                    commands: Vec::new(),
                    user_data: Some(
                        "#cloud-config\n# 'quoted' and \"double\" and ''' and \\ kept\nruncmd:\n  - [sh, -c, \"echo hi > /dev/ttyS0\"]\n".into(),
                    ),
                    name: "web-2".into(),
                    template: None,
                    vcpus: 1,
                    memory_mib: 512,
                    disk_gib: 1,
                    host: HostChoice::Auto,
                    network: Nic::Network("lan".into()),
                    ip: Some(crate::layouts::model::AddressChoice::Auto),
                    fqdn: None,
                    start: false,
                },
            ],
        };
        for f in [FileFormat::Toml, FileFormat::Json] {
            let text = render_layout(&spec, f).unwrap();
            assert_eq!(parse_layout(None, &text).unwrap(), spec, "{text}");
        }
    }

    const HOSTS: &str = r#"thin_fill = 0.25

[[host]]
name = "proliant-1"
memory_mib = 32768
cpus = 16
pool_gib = 1024

[[host.vm]]
name = "old"
memory_mib = 2000
disk_gib = 100

[[host]]
name = "small"
memory_mib = 8192
reserve_mib = 1024
cpus = 4
hw_virt = false
allow_emulation = true
pool_gib = 100
"#;

    #[test]
    fn hosts_file_reads_into_host_specs() {
        let f = parse_hosts(None, HOSTS).unwrap();
        let p = f.policy();
        assert_eq!(p.thin_fill, 0.25);
        let specs = f.host_specs();
        assert_eq!(specs[0].memory, MiB(32768));
        assert_eq!(specs[0].os_reserve, None);
        assert!(specs[0].hw_virt);
        assert_eq!(specs[0].existing[0].vcpus.get(), 1);
        assert!(specs[0].existing[0].thin);
        assert_eq!(specs[0].pool_available, Bytes::from_gib(1024));
        assert_eq!(specs[1].os_reserve, Some(MiB(1024)));
        assert!(specs[1].can_virtualize() && !specs[1].hw_virt);
        for format in [FileFormat::Toml, FileFormat::Json] {
            let text = render_hosts(&HostsFile::from_specs(&specs, &p), format).unwrap();
            let back = parse_hosts(None, &text).unwrap();
            assert_eq!(back.host_specs(), specs, "{text}");
        }
    }

    #[test]
    fn hosts_json_may_be_a_bare_list_and_errors_name_fields() {
        let list = r#"[{"name":"a","memory_mib":4096,"cpus":2,"pool_gib":10}]"#;
        assert_eq!(parse_hosts(None, list).unwrap().hosts.len(), 1);
        let bad = r#"[{"name":"a","memory_mib":4096,"cpus":2}]"#;
        let e = parse_hosts(None, bad).unwrap_err();
        assert!(e[0].message.contains("pool_gib"), "{}", e[0]);
        let dup = HOSTS.replace("name = \"small\"", "name = \"proliant-1\"");
        let e = parse_hosts(None, &dup).unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("host[1].name"));
        let fill = HOSTS.replace("0.25", "2.0");
        let e = parse_hosts(None, &fill).unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("thin_fill"));
        let typo = HOSTS.replace("cpus = 4", "cpu = 4");
        let e = parse_hosts(None, &typo).unwrap_err();
        assert!(e[0].message.contains("unknown field `cpu`"), "{}", e[0]);
        assert_eq!(e[0].line, Some(18), "{}", e[0]);
    }
}
