//! `stackyard layout check FILE [--hosts FILE] [--json]`: a layout against
//! hosts without a server. Prints each host's verdict (the memory bar's
//! numbers and every broken condition with its numbers), where the "auto"
//! VMs go, or why they fit nowhere, and how many hosts hold VMs against the
//! fewest possible.
//!
//! Hosts come from a hosts file (see `app::layouts::file`) or, without
//! `--hosts`, from the database's hosts asked live through libvirt.
//! Exit status: 0 everything fits, 1 something does not fit or a file has
//! problems, 2 a file or the database cannot be read.

use crate::config::DbArgs;
use app::capacity::{CapacityPolicy, HostSpec, HostVerdict};
use app::layouts::file::{parse_hosts, parse_layout, FileError};
use app::layouts::plan::{resolve, Resolved};
use app::layouts::LayoutSpec;
use serde_json::json;
use std::path::Path;

/// What the command prints and how it exits.
#[derive(Debug)]
pub struct Outcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub code: u8,
}

impl Outcome {
    fn unreadable(message: String, json_out: bool) -> Outcome {
        Outcome {
            stdout: if json_out {
                format!("{}\n", json!({ "fits": false, "error": message }))
            } else {
                String::new()
            },
            stderr: format!("stackyard: {message}\n"),
            code: 2,
        }
    }
}

/// Hosts for the check.
pub enum Hosts<'a> {
    /// A hosts file.
    File(&'a Path),
    /// The database's hosts, asked through libvirt.
    Database(&'a DbArgs),
}

fn file_problems(file: &Path, errors: &[FileError], json_out: bool) -> Outcome {
    let name = file.display().to_string();
    let lines: Vec<String> = errors
        .iter()
        .map(|e| match e.line {
            Some(l) => format!(
                "{name}:{l}: {}{}",
                e.field
                    .as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default(),
                e.message
            ),
            None => format!("{name}: {e}"),
        })
        .collect();
    Outcome {
        stdout: if json_out {
            format!(
                "{}\n",
                json!({ "file": name, "fits": false, "errors": errors })
            )
        } else {
            String::new()
        },
        stderr: lines.iter().map(|l| format!("{l}\n")).collect(),
        code: 1,
    }
}

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// Runs the check.
pub async fn check(layout: &Path, hosts: Hosts<'_>, json_out: bool) -> Outcome {
    let text = match read(layout) {
        Ok(t) => t,
        Err(e) => return Outcome::unreadable(e, json_out),
    };
    let spec = match parse_layout(layout.file_name().and_then(|n| n.to_str()), &text) {
        Ok(s) => s,
        Err(errors) => return file_problems(layout, &errors, json_out),
    };
    let (specs, policy, unreachable) = match hosts {
        Hosts::File(path) => {
            let text = match read(path) {
                Ok(t) => t,
                Err(e) => return Outcome::unreadable(e, json_out),
            };
            match parse_hosts(path.file_name().and_then(|n| n.to_str()), &text) {
                Ok(f) => (f.host_specs(), f.policy(), Vec::new()),
                Err(errors) => return file_problems(path, &errors, json_out),
            }
        }
        Hosts::Database(db) => match database_hosts(db).await {
            Ok(found) => found,
            Err(e) => return Outcome::unreadable(e, json_out),
        },
    };
    let resolved = resolve(&spec, &specs, &policy);
    let stdout = if json_out {
        format!("{}\n", to_json(layout, &spec, &resolved, &unreachable))
    } else {
        to_text(layout, &spec, &resolved, &unreachable)
    };
    Outcome {
        stdout,
        stderr: String::new(),
        code: if resolved.fits { 0 } else { 1 },
    }
}

/// The database's hosts as libvirt reports them now; hosts that do not
/// answer within 10 seconds are listed apart.
async fn database_hosts(
    db: &DbArgs,
) -> Result<(Vec<HostSpec>, CapacityPolicy, Vec<String>), String> {
    let conn = crate::db::open(db).await.map_err(|e| e.to_string())?;
    let registry = app::hosts::registry::HostRegistry::default();
    registry
        .load(&conn)
        .await
        .map_err(|e| format!("cannot read the hosts: {e}"))?;
    let all = registry.all();
    if all.is_empty() {
        return Err(
            "the database has no hosts: add one in the console, or pass --hosts FILE".into(),
        );
    }
    for (_, handle) in &all {
        handle
            .wait_reachable(std::time::Duration::from_secs(10))
            .await;
    }
    let live = app::layouts::service::apply::live_hosts(
        &conn,
        &registry,
        None,
        app::layouts::service::apply::Freshness::Live,
    )
    .await;
    let _ = conn.close().await;
    Ok((
        live.specs.clone(),
        live.policy.clone(),
        live.unreachable_lines(),
    ))
}

fn problems(v: &HostVerdict) -> Vec<String> {
    v.violations.iter().map(ToString::to_string).collect()
}

fn to_json(
    file: &Path,
    spec: &LayoutSpec,
    r: &Resolved,
    unreachable: &[String],
) -> serde_json::Value {
    let hosts: Vec<serde_json::Value> = r
        .verdicts
        .iter()
        .map(|v| {
            let mut value = serde_json::to_value(v).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("fits".into(), json!(v.fits()));
                map.insert("problems".into(), json!(problems(v)));
            }
            value
        })
        .collect();
    json!({
        "file": file.display().to_string(),
        "layout": spec.name,
        "fits": r.fits,
        "hosts": hosts,
        "placement": r.placement,
        "unplaced": r.unplaced,
        "unreachable": unreachable,
        "hosts_in_use": r.hosts_in_use,
        "lower_bound_hosts": r.lower_bound_hosts,
        "proven_optimal": r.proven_optimal,
    })
}

fn to_text(file: &Path, spec: &LayoutSpec, r: &Resolved, unreachable: &[String]) -> String {
    let mut out = format!(
        "layout \"{}\" ({}): {} VM{}\n",
        spec.name,
        file.display(),
        spec.vms.len(),
        if spec.vms.len() == 1 { "" } else { "s" }
    );
    for u in unreachable {
        out.push_str(&format!("unreachable, left out: {u}\n"));
    }
    for v in &r.verdicts {
        out.push_str(&format!(
            "\n{}: {}\n",
            v.host,
            if v.fits() { "fits" } else { "DOES NOT FIT" }
        ));
        let over = if v.over_by.get() > 0 {
            format!(", over by {}", v.over_by)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  memory {}: host OS {} | existing VMs {} | planned {} | free {}{over} (y_a = {})\n",
            v.memory, v.os_reserve, v.used_existing, v.used_planned, v.free, v.available
        ));
        out.push_str(&format!(
            "  storage: {} needed of {} (thin disks at {} expected fill), {} free\n",
            v.storage_needed, v.storage_available, v.thin_fill, v.storage_free
        ));
        out.push_str(&format!(
            "  {} on {} CPUs{}\n",
            v.vcpus,
            v.cpus,
            if v.emulated { " (emulated)" } else { "" }
        ));
        for p in problems(v) {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out.push_str("\nplacement:\n");
    let width = spec.vms.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for p in &r.placement {
        match &p.host {
            Some(h) => {
                let how = match (p.auto, p.existing) {
                    (false, _) => "pinned",
                    (true, true) => "auto, already there",
                    (true, false) => "auto",
                };
                out.push_str(&format!("  {:width$}  -> {h} ({how})\n", p.vm));
            }
            None => {
                let why = r
                    .unplaced
                    .iter()
                    .find(|u| u.vm == p.vm)
                    .map_or("not placed", |u| u.reason.as_str());
                out.push_str(&format!("  {:width$}  !! {why}\n", p.vm));
            }
        }
    }
    out.push_str(&format!("  hosts in use: {}\n", r.hosts_summary()));
    let broken = r.verdicts.iter().filter(|v| !v.fits()).count();
    if r.fits {
        out.push_str(&format!(
            "\nfits: {} VM{} on {} host{}\n",
            spec.vms.len(),
            if spec.vms.len() == 1 { "" } else { "s" },
            r.verdicts.len(),
            if r.verdicts.len() == 1 { "" } else { "s" }
        ));
    } else {
        out.push_str(&format!(
            "\ndoes not fit: {} VM{} placed nowhere, {} host{} over a limit\n",
            r.unplaced.len(),
            if r.unplaced.len() == 1 { "" } else { "s" },
            broken,
            if broken == 1 { "" } else { "s" }
        ));
    }
    out
}
