//! Layouts and templates in the database, and the hosts described for the
//! capacity model. The service calls into here; nothing in this module
//! knows about sessions or roles.
//!
//! Saving a layout replaces its VM rows inside one transaction, so a failed
//! save leaves the previous version whole.

use super::entity::{layout, layout_vm, vm_template};
use super::DomainError;
use super::{
    HostChoice, HostsView, LayoutSpec, LayoutSummary, LayoutVm, Nic, TemplateDto, UnreachableHost,
};
use crate::capacity::{Bytes, CapacityPolicy, HostSpec, MiB, VmDemand};
use crate::error::Invalid;
use crate::hosts::entity::host;
use crate::hosts::{HostCapacity, VmInfo};
use crate::state::AppState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

/// The setting holding the expected fill of thin disks (a number in 0..=1).
pub const THIN_FILL_KEY: &str = "capacity.thin_fill";

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn to_i64(field: &str, v: u64) -> Result<i64, Invalid> {
    i64::try_from(v).map_err(|_| Invalid::new(field, format!("{v} is too large")))
}

fn to_i32(field: &str, v: u32) -> Result<i32, Invalid> {
    i32::try_from(v).map_err(|_| Invalid::new(field, format!("{v} is too large")))
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// The first problem of a layout or template, refused by its field.
fn first_problem(problems: Vec<super::LayoutProblem>) -> Result<(), DomainError> {
    match problems.into_iter().next() {
        Some(p) => Err(p.into()),
        None => Ok(()),
    }
}

/// A stored JSON array of strings (empty text: none).
fn json_list(vm: &str, text: &str) -> Result<Vec<String>, DomainError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text)
        .map_err(|e| DomainError::Corrupt(format!("VM {vm}: stored list {text:?}: {e}")))
}

fn vm_from_row(row: layout_vm::Model) -> Result<LayoutVm, DomainError> {
    let network: Nic = row
        .network
        .parse()
        .map_err(|e: String| DomainError::Corrupt(format!("VM {}: {e}", row.name)))?;
    let ip = match row.ip.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse().map_err(|_| {
            DomainError::Corrupt(format!(
                "VM {}: stored address {s:?} is not an IP",
                row.name
            ))
        })?),
    };
    Ok(LayoutVm {
        image: row.image.clone().filter(|i| !i.is_empty()),
        packages: json_list(&row.name, &row.packages)?,
        commands: json_list(&row.name, &row.commands)?,
        name: row.name,
        template: row.template,
        vcpus: to_u32(row.vcpus),
        memory_mib: to_u64(row.memory_mib),
        disk_gib: to_u64(row.disk_gib),
        host: HostChoice::from(row.host),
        network,
        ip,
        fqdn: row.fqdn.filter(|f| !f.is_empty()),
        start: row.start,
        user_data: row.user_data.filter(|u| !u.is_empty()),
    })
}

/// The layout with this id.
pub async fn load(db: &DatabaseConnection, id: i32) -> Result<LayoutSpec, DomainError> {
    let row = layout::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Layout {id}")))?;
    let vms = layout_vm::Entity::find()
        .filter(layout_vm::Column::LayoutId.eq(id))
        .order_by_asc(layout_vm::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(vm_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let cloud_init = if row.cloud_init.trim().is_empty() {
        Default::default()
    } else {
        serde_json::from_str(&row.cloud_init).map_err(|e| {
            DomainError::Corrupt(format!(
                "layout {}: stored cloud-init settings: {e}",
                row.name
            ))
        })?
    };
    let networks = if row.networks.trim().is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&row.networks).map_err(|e| {
            DomainError::Corrupt(format!("layout {}: stored networks: {e}", row.name))
        })?
    };
    Ok(LayoutSpec {
        zone: row.zone.filter(|z| !z.is_empty()),
        networks,
        cloud_init,
        name: row.name,
        description: row.description,
        vms,
    })
}

/// Every layout, by name.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<LayoutSummary>, DomainError> {
    let rows = layout::Entity::find()
        .order_by_asc(layout::Column::Name)
        .find_with_related(layout_vm::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(l, vms)| LayoutSummary {
            id: l.id,
            name: l.name,
            description: l.description,
            vms: vms.len(),
            memory_mib: vms.iter().map(|v| to_u64(v.memory_mib)).sum(),
            updated_at: l.updated_at.to_rfc3339(),
        })
        .collect())
}

/// Saves `spec` as layout `id` (or a new layout when `None`) and returns its
/// id. Refuses an invalid layout with the first problem's field
/// (`vm[2].memory_mib`), a name another layout has, or an unknown id.
pub async fn save(
    db: &DatabaseConnection,
    id: Option<i32>,
    spec: &LayoutSpec,
) -> Result<i32, DomainError> {
    first_problem(spec.problems())?;
    let name = spec.name.trim().to_owned();
    let mut taken = layout::Entity::find().filter(layout::Column::Name.eq(&name));
    if let Some(id) = id {
        taken = taken.filter(layout::Column::Id.ne(id));
    }
    if taken.one(db).await?.is_some() {
        return Err(DomainError::NameTaken {
            kind: "layout",
            name,
        });
    }
    let mut rows = Vec::with_capacity(spec.vms.len());
    for (i, vm) in spec.vms.iter().enumerate() {
        let f = |field: &str| format!("vm[{i}].{field}");
        rows.push(layout_vm::ActiveModel {
            position: Set(position(i)),
            name: Set(vm.name.clone()),
            template: Set(vm.template.clone().filter(|t| !t.trim().is_empty())),
            vcpus: Set(to_i32(&f("vcpus"), vm.vcpus)?),
            memory_mib: Set(to_i64(&f("memory_mib"), vm.memory_mib)?),
            disk_gib: Set(to_i64(&f("disk_gib"), vm.disk_gib)?),
            host: Set(vm.host.to_string()),
            network: Set(vm.network.to_string()),
            ip: Set(vm.ip.map(|ip| ip.to_string())),
            fqdn: Set(vm.fqdn.clone()),
            start: Set(vm.start),
            image: Set(vm.image.clone()),
            packages: Set(serde_json::to_string(&vm.packages).unwrap_or_else(|_| "[]".into())),
            commands: Set(serde_json::to_string(&vm.commands).unwrap_or_else(|_| "[]".into())),
            user_data: Set(vm.user_data.clone()),
            ..Default::default()
        });
    }

    let cloud_init = if spec.cloud_init.is_default() {
        String::new()
    } else {
        serde_json::to_string(&spec.cloud_init).unwrap_or_default()
    };
    let networks = serde_json::to_string(&spec.networks).unwrap_or_else(|_| "[]".into());
    let now = chrono::Utc::now();
    let txn = db.begin().await?;
    let id = match id {
        Some(id) => {
            let row = layout::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| DomainError::NotFound(format!("Layout {id}")))?;
            let mut active: layout::ActiveModel = row.into();
            active.name = Set(name);
            active.description = Set(spec.description.clone());
            active.cloud_init = Set(cloud_init.clone());
            active.zone = Set(spec.zone.clone());
            active.networks = Set(networks);
            active.updated_at = Set(now);
            active.update(&txn).await?;
            layout_vm::Entity::delete_many()
                .filter(layout_vm::Column::LayoutId.eq(id))
                .exec(&txn)
                .await?;
            id
        }
        None => {
            layout::ActiveModel {
                name: Set(name),
                description: Set(spec.description.clone()),
                cloud_init: Set(cloud_init),
                zone: Set(spec.zone.clone()),
                networks: Set(networks),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    for mut row in rows {
        row.layout_id = Set(id);
        row.insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(id)
}

/// Deletes a layout and its VM entries (not the VMs on the hosts); returns
/// its name.
pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<String, DomainError> {
    let row = layout::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Layout {id}")))?;
    let txn = db.begin().await?;
    // Explicitly, since SQLite only cascades with foreign keys switched on.
    layout_vm::Entity::delete_many()
        .filter(layout_vm::Column::LayoutId.eq(id))
        .exec(&txn)
        .await?;
    layout::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(row.name)
}

fn template_from_row(row: vm_template::Model) -> Result<TemplateDto, DomainError> {
    let packages = json_list(&format!("template {}", row.name), &row.packages)?;
    Ok(TemplateDto {
        id: row.id,
        name: row.name,
        services: row
            .services
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        memory_mib: to_u64(row.memory_mib),
        vcpus: to_u32(row.vcpus),
        disk_gib: to_u64(row.disk_gib),
        thin: row.thin,
        image: row.image,
        packages,
    })
}

/// Every template, in their order.
pub async fn templates(db: &DatabaseConnection) -> Result<Vec<TemplateDto>, DomainError> {
    vm_template::Entity::find()
        .order_by_asc(vm_template::Column::Position)
        .order_by_asc(vm_template::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(template_from_row)
        .collect()
}

/// Saves a template (new when `t.id == 0`), refusing invalid values by field
/// and a name another template has.
pub async fn save_template(
    db: &DatabaseConnection,
    t: &TemplateDto,
) -> Result<TemplateDto, DomainError> {
    first_problem(t.problems())?;
    let name = t.name.trim().to_owned();
    let taken = vm_template::Entity::find()
        .filter(vm_template::Column::Name.eq(&name))
        .filter(vm_template::Column::Id.ne(t.id))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(DomainError::NameTaken {
            kind: "template",
            name,
        });
    }
    let services = t
        .services
        .iter()
        .map(|s| s.trim())
        .collect::<Vec<_>>()
        .join("\n");
    let packages = serde_json::to_string(&t.packages).unwrap_or_else(|_| "[]".into());
    let now = chrono::Utc::now();
    let row = if t.id == 0 {
        let last = vm_template::Entity::find()
            .order_by_desc(vm_template::Column::Position)
            .one(db)
            .await?
            .map_or(-1, |r| r.position);
        vm_template::ActiveModel {
            name: Set(name),
            services: Set(services),
            memory_mib: Set(to_i64("memory_mib", t.memory_mib)?),
            vcpus: Set(to_i32("vcpus", t.vcpus)?),
            disk_gib: Set(to_i64("disk_gib", t.disk_gib)?),
            thin: Set(t.thin),
            image: Set(t.image.clone()),
            packages: Set(packages),
            position: Set(last.saturating_add(1)),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?
    } else {
        let row = vm_template::Entity::find_by_id(t.id)
            .one(db)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("Template {}", t.id)))?;
        let mut active: vm_template::ActiveModel = row.into();
        active.name = Set(name);
        active.services = Set(services);
        active.memory_mib = Set(to_i64("memory_mib", t.memory_mib)?);
        active.vcpus = Set(to_i32("vcpus", t.vcpus)?);
        active.disk_gib = Set(to_i64("disk_gib", t.disk_gib)?);
        active.thin = Set(t.thin);
        active.image = Set(t.image.clone());
        active.packages = Set(packages);
        active.updated_at = Set(now);
        active.update(db).await?
    };
    template_from_row(row)
}

/// Removes a template; layouts keep their sizes (they copy them). Returns
/// its name.
pub async fn delete_template(db: &DatabaseConnection, id: i32) -> Result<String, DomainError> {
    let row = vm_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Template {id}")))?;
    vm_template::Entity::delete_by_id(id).exec(db).await?;
    Ok(row.name)
}

/// The capacity policy: the default OS reserve, and the thin-disk fill
/// from the `capacity.thin_fill` setting when an admin has set it.
pub async fn policy(db: &DatabaseConnection) -> Result<CapacityPolicy, DomainError> {
    use crate::auth::entity::setting;
    let mut policy = CapacityPolicy::default();
    if let Some(row) = setting::Entity::find_by_id(THIN_FILL_KEY.to_owned())
        .one(db)
        .await?
    {
        match row.value.trim().parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => policy.thin_fill = f,
            _ => tracing::warn!("ignoring {THIN_FILL_KEY} = {:?}: not in 0..=1", row.value),
        }
    }
    Ok(policy)
}

/// Sets the expected fill of thin disks (0..=1).
pub async fn set_thin_fill(db: &DatabaseConnection, fill: f64) -> Result<(), DomainError> {
    use crate::auth::entity::setting;
    if !(0.0..=1.0).contains(&fill) {
        return Err(Invalid::new(
            "thin_fill",
            format!("{fill}: enter a fraction between 0 and 1, such as 0.5"),
        )
        .into());
    }
    let now = chrono::Utc::now();
    let value = fill.to_string();
    match setting::Entity::find_by_id(THIN_FILL_KEY.to_owned())
        .one(db)
        .await?
    {
        Some(row) => {
            let mut active: setting::ActiveModel = row.into();
            active.value = Set(value);
            active.updated_at = Set(now);
            active.update(db).await?;
        }
        None => {
            setting::ActiveModel {
                key: Set(THIN_FILL_KEY.into()),
                value: Set(value),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Sets a host's OS reserve (`None` = the default policy) and whether guests
/// may run emulated. Returns the host's name.
pub async fn set_host_capacity(
    db: &DatabaseConnection,
    host_id: i32,
    y_os_mib: Option<u64>,
    allow_emulation: bool,
) -> Result<String, DomainError> {
    let row = host::Entity::find_by_id(host_id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Host {host_id}")))?;
    if let Some(y) = y_os_mib {
        if y > super::model::MAX_MEMORY_MIB {
            return Err(Invalid::new(
                "y_os_mib",
                format!("{y} MiB; at most {} MiB", super::model::MAX_MEMORY_MIB),
            )
            .into());
        }
    }
    let name = row.name.clone();
    let mut active: host::ActiveModel = row.into();
    active.y_os_mib = Set(y_os_mib.map(|y| to_i64("y_os_mib", y)).transpose()?);
    active.allow_emulation = Set(allow_emulation);
    active.updated_at = Set(chrono::Utc::now());
    active.update(db).await?;
    Ok(name)
}

/// The pool VM disks go to: `default`, else the first active one.
pub fn chosen_pool(cap: &HostCapacity) -> Option<&crate::hosts::types::PoolInfo> {
    cap.pools
        .iter()
        .find(|p| p.name == "default" && p.active)
        .or_else(|| cap.pools.iter().find(|p| p.active))
}

/// An existing VM as a demand: its memory, vCPUs and the virtual size of its
/// disks; thin when any disk is allocated below its size (or it has none).
pub fn existing_demand(vm: &VmInfo) -> VmDemand {
    let disk = Bytes::sum(vm.disks.iter().map(|d| Bytes(d.capacity.unwrap_or(0))));
    let thin = vm.disks.is_empty()
        || vm
            .disks
            .iter()
            .any(|d| matches!((d.allocation, d.capacity), (Some(a), Some(c)) if a < c));
    VmDemand::new(vm.name.clone(), MiB(vm.memory_mib), vm.vcpus, disk, thin)
}

/// The capacity model's host from what its worker reports.
///
/// `z` (the pool space for VM disks) is the pool's available bytes plus what
/// the existing VMs' disks already occupy (capped at the pool's capacity):
/// [`HostSpec::pool_available`] is the space *before* existing VMs, which are
/// then counted at the expected fill like new ones; taking only the pool's
/// free space would count them twice.
pub fn host_spec(
    name: &str,
    cap: &HostCapacity,
    vms: &[VmInfo],
    y_os_mib: Option<i64>,
    allow_emulation: bool,
) -> HostSpec {
    let pool = chosen_pool(cap);
    let existing_alloc: u64 = vms
        .iter()
        .flat_map(|v| v.disks.iter())
        .map(|d| d.allocation.unwrap_or(0))
        .fold(0u64, u64::saturating_add);
    let pool_available = pool.map_or(0, |p| {
        p.available.saturating_add(existing_alloc).min(p.capacity)
    });
    let mut spec = HostSpec::new(
        name,
        MiB(cap.memory_total_mib),
        cap.cpus,
        cap.hw_virt,
        Bytes(pool_available),
    );
    spec.os_reserve = y_os_mib.map(|y| MiB(to_u64(y)));
    spec.allow_emulation = allow_emulation;
    spec.existing = vms.iter().map(existing_demand).collect();
    spec
}

/// Every registered host that answers, described for the capacity model:
/// memory, CPUs and hardware virtualization from the worker's `capacity()`,
/// the available bytes of its pool (`default` or the first active one, see
/// [`host_spec`]), its VMs from the worker's cache as existing demands, and
/// the host's `y_os` and emulation setting from the database (emulation is
/// always allowed on libvirt's test driver, which runs nothing, as apply
/// does).
///
/// Unreachable hosts are **skipped** (nothing can be checked or applied on
/// them); [`hosts_view`] lists them, with libvirt's message, for the pages.
pub async fn host_specs(state: &AppState) -> Result<Vec<HostSpec>, DomainError> {
    Ok(hosts_view(state).await?.hosts)
}

/// [`host_specs`] plus the hosts left out, their ids and networks, and the
/// capacity policy: everything the editor needs to evaluate in the browser.
pub async fn hosts_view(state: &AppState) -> Result<HostsView, DomainError> {
    let rows = crate::hosts::store::by_id(&state.db).await?;
    let mut view = HostsView {
        policy: policy(&state.db).await?,
        ..HostsView::default()
    };
    let hosts = state.hosts.all();
    let answers = ask_hosts(&hosts, Freshness::Cached).await;
    for ((cached, _), answer) in hosts.into_iter().zip(answers) {
        let row = rows.get(&cached.id).unwrap_or(&cached);
        view.ids.insert(row.name.clone(), row.id);
        match answer {
            Ok((cap, vms)) => {
                view.networks.insert(
                    row.name.clone(),
                    cap.networks
                        .iter()
                        .map(|n| format!("network:{}", n.name))
                        .collect(),
                );
                // As apply does: the test driver runs nothing, so emulation
                // costs nothing there.
                let emulation = row.allow_emulation || row.uri.starts_with("test:");
                view.hosts
                    .push(host_spec(&row.name, &cap, &vms, row.y_os_mib, emulation));
            }
            Err(error) => view.unreachable.push(UnreachableHost {
                name: row.name.clone(),
                error,
            }),
        }
    }
    view.hosts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(view)
}

/// How long the layout pages wait for the hosts, all of them together.
pub const HOSTS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where [`live_hosts`](crate::layouts::service::apply::live_hosts) takes each host's capacity and VMs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Asked of libvirt now: an apply acts on what it reads.
    Live,
    /// The host worker's cache where it has one (the worker keeps it up to
    /// date from libvirt's events and periodic reads), for pages that only
    /// show a plan; hosts without one are asked, all of them together under
    /// [`HOSTS_DEADLINE`].
    Cached,
}

/// What one host answered: its capacity and VMs, or why not.
pub type HostAnswer = Result<(crate::hosts::HostCapacity, Vec<VmInfo>), String>;

/// Each host's capacity and VMs (or why not), in the order given, asked of
/// all hosts at once: one slow host costs a page at most [`HOSTS_DEADLINE`]
/// (with [`Freshness::Cached`]), not a timeout per host one after another.
pub async fn ask_hosts(
    hosts: &[(
        crate::hosts::entity::host::Model,
        crate::hosts::service::HostHandle,
    )],
    freshness: Freshness,
) -> Vec<HostAnswer> {
    let mut asks = tokio::task::JoinSet::new();
    for (i, (_, handle)) in hosts.iter().enumerate() {
        let handle = handle.clone();
        asks.spawn(async move { (i, host_state(&handle, freshness).await) });
    }
    let mut answers: Vec<HostAnswer> = vec![Err("no answer".into()); hosts.len()];
    let collect = async {
        while let Some(joined) = asks.join_next().await {
            if let Ok((i, answer)) = joined {
                answers[i] = answer;
            }
        }
    };
    match freshness {
        // Each call has its own timeout (the worker's).
        Freshness::Live => collect.await,
        Freshness::Cached => {
            let late = format!("no answer within {} s", HOSTS_DEADLINE.as_secs());
            if tokio::time::timeout(HOSTS_DEADLINE, collect).await.is_err() {
                for a in &mut answers {
                    if matches!(a, Err(m) if m == "no answer") {
                        *a = Err(late.clone());
                    }
                }
            }
        }
    }
    answers
}

async fn host_state(
    handle: &crate::hosts::service::HostHandle,
    freshness: Freshness,
) -> HostAnswer {
    if freshness == Freshness::Cached {
        let snapshot = handle.snapshot();
        match snapshot.capacity {
            Some(capacity) if snapshot.reachable => {
                return Ok((capacity, snapshot.vms.into_values().collect()));
            }
            _ if !snapshot.reachable => {
                return Err(snapshot
                    .last_error
                    .unwrap_or_else(|| "not connected yet".into()));
            }
            _ => {}
        }
    }
    host_now(handle).await.map_err(|e| e.to_string())
}

async fn host_now(
    handle: &crate::hosts::service::HostHandle,
) -> Result<(crate::hosts::HostCapacity, Vec<VmInfo>), crate::hosts::service::HostError> {
    let capacity = handle.capacity().await?;
    let vms = handle.list_vms().await?;
    Ok((capacity, vms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::table2_templates;
    use crate::error::AppError;

    async fn db() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        (dir, db)
    }

    fn vm(name: &str, memory_mib: u64) -> LayoutVm {
        LayoutVm {
            image: None,
            packages: Vec::new(),
            commands: Vec::new(),
            user_data: None,
            name: name.into(),
            template: Some("Web Server".into()),
            vcpus: 1,
            memory_mib,
            disk_gib: 20,
            host: HostChoice::Auto,
            network: Nic::default(),
            ip: None,
            fqdn: None,
            start: true,
        }
    }

    #[tokio::test]
    async fn seeded_templates_are_table2() {
        let (_dir, db) = db().await;
        let seeded = templates(&db).await.unwrap();
        let paper = table2_templates();
        assert_eq!(seeded.len(), paper.len());
        for (s, p) in seeded.iter().zip(&paper) {
            let t = s.to_template();
            assert_eq!(
                (&t.name, &t.services, t.memory, t.vcpus, t.disk, t.thin),
                (&p.name, &p.services, p.memory, p.vcpus, p.disk, p.thin)
            );
        }
    }

    #[tokio::test]
    async fn layouts_round_trip_and_bad_ones_are_refused_by_field() {
        let (_dir, db) = db().await;
        let mut spec = LayoutSpec {
            zone: None,
            networks: Vec::new(),
            cloud_init: Default::default(),
            name: "paper".into(),
            description: "Table 2".into(),
            vms: vec![vm("web-1", 1024), vm("web-2", 1024)],
        };
        spec.vms[1].host = HostChoice::Host("demo".into());
        spec.vms[1].network = Nic::Bridge("br0".into());
        spec.vms[1].ip = Some("192.0.2.7".parse().unwrap());
        spec.vms[1].start = false;
        let id = save(&db, None, &spec).await.unwrap();
        assert_eq!(load(&db, id).await.unwrap(), spec);

        // An update replaces the VMs; a bad one changes nothing.
        spec.vms.remove(0);
        save(&db, Some(id), &spec).await.unwrap();
        assert_eq!(load(&db, id).await.unwrap(), spec);
        let mut bad = spec.clone();
        bad.vms.push(vm("web-3", 4));
        let err = AppError::from(save(&db, Some(id), &bad).await.unwrap_err());
        assert!(err.for_field("vm[1].memory_mib").is_some(), "{err:?}");
        assert_eq!(load(&db, id).await.unwrap(), spec);

        let other = save(
            &db,
            None,
            &LayoutSpec {
                zone: None,
                networks: Vec::new(),
                cloud_init: Default::default(),
                name: "other".into(),
                ..spec.clone()
            },
        )
        .await
        .unwrap();
        let clash = AppError::from(save(&db, Some(other), &spec).await.unwrap_err());
        assert!(clash.for_field("name").is_some(), "{clash:?}");

        let listed = list(&db).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|l| (l.name.as_str(), l.vms, l.memory_mib))
                .collect::<Vec<_>>(),
            [("other", 1, 1024), ("paper", 1, 1024)]
        );
        assert_eq!(delete(&db, id).await.unwrap(), "paper");
        assert!(matches!(
            load(&db, id).await.map_err(AppError::from),
            Err(AppError::NotFound(_))
        ));
        assert_eq!(list(&db).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn templates_are_validated_and_unique() {
        let (_dir, db) = db().await;
        let mut t = TemplateDto {
            id: 0,
            name: "Monitoring".into(),
            services: vec!["Nagios".into(), "Amanda".into()],
            memory_mib: 1024,
            vcpus: 1,
            disk_gib: 40,
            thin: true,
            image: Some("debian-12".into()),
            packages: vec!["nagios4".into(), "amanda-server".into()],
        };
        let saved = save_template(&db, &t).await.unwrap();
        assert!(saved.id > 0);
        assert_eq!(templates(&db).await.unwrap().last(), Some(&saved));
        assert_eq!(saved.packages, ["nagios4", "amanda-server"]);
        assert_eq!(saved.image.as_deref(), Some("debian-12"));
        // A package name Debian cannot have, an image name a library
        // cannot hold: each refused by its field, nothing changed.
        for (field, image, package) in [
            ("packages", "debian-12", "Nagios 4"),
            ("image", "../etc/passwd", "nagios4"),
        ] {
            let bad = TemplateDto {
                id: saved.id,
                image: Some(image.into()),
                packages: vec![package.into()],
                ..t.clone()
            };
            let err = AppError::from(save_template(&db, &bad).await.unwrap_err());
            assert!(err.for_field(field).is_some(), "{field}: {err:?}");
        }
        assert_eq!(templates(&db).await.unwrap().last(), Some(&saved));
        t.name = "Master DNS".into();
        let err = AppError::from(save_template(&db, &t).await.unwrap_err());
        assert!(err.for_field("name").is_some(), "{err:?}");
        t.name = "Monitoring".into();
        t.id = saved.id;
        t.vcpus = 0;
        let err = AppError::from(save_template(&db, &t).await.unwrap_err());
        assert!(err.for_field("vcpus").is_some(), "{err:?}");
        assert_eq!(delete_template(&db, saved.id).await.unwrap(), "Monitoring");
        assert_eq!(templates(&db).await.unwrap().len(), 6);
    }

    #[tokio::test]
    async fn the_papers_templates_name_their_services_packages() {
        let (_dir, db) = db().await;
        let all = templates(&db).await.unwrap();
        let packages = |name: &str| {
            all.iter()
                .find(|t| t.name == name)
                .map(|t| t.packages.clone())
                .unwrap_or_default()
        };
        assert_eq!(packages("Master DNS"), ["nsd"]);
        let mail = packages("Mail Server");
        for p in ["postfix", "dovecot-imapd", "spamassassin", "roundcube"] {
            assert!(mail.iter().any(|m| m == p), "{p} in {mail:?}");
        }
        let web = packages("Web Server");
        for p in ["apache2", "php"] {
            assert!(web.iter().any(|m| m == p), "{p} in {web:?}");
        }
        // Every one a Debian package name, no image yet (an admin names the
        // image the site uploaded).
        for t in &all {
            assert!(!t.packages.is_empty(), "{}", t.name);
            assert!(t.problems().is_empty(), "{}: {:?}", t.name, t.problems());
            assert_eq!(t.image, None);
        }
    }

    #[test]
    fn host_spec_counts_existing_vms_once() {
        use crate::hosts::types::{DiskInfo, PoolInfo};
        const GIB: u64 = 1 << 30;
        let cap = HostCapacity {
            memory_total_mib: 32768,
            memory_free_mib: 0,
            cpu_model: String::new(),
            sockets: 2,
            cores: 8,
            threads: 1,
            cpus: 16,
            mhz: 0,
            hw_virt: true,
            pools: vec![PoolInfo {
                name: "default".into(),
                capacity: 100 * GIB,
                allocation: 18 * GIB,
                available: 82 * GIB,
                active: true,
            }],
            networks: Vec::new(),
        };
        let web = VmInfo {
            name: "web".into(),
            uuid: String::new(),
            state: crate::hosts::VmState::Running,
            vcpus: 2,
            memory_mib: 1024,
            disks: vec![DiskInfo {
                target: "vda".into(),
                path: None,
                capacity: Some(20 * GIB),
                allocation: Some(4 * GIB),
            }],
            autostart: false,
            persistent: true,
            addresses: Vec::new(),
            consoles: Default::default(),
        };
        let h = host_spec("demo", &cap, &[web], Some(1024), true);
        assert_eq!(h.pool_available, Bytes(86 * GIB));
        assert_eq!(h.os_reserve, Some(MiB(1024)));
        assert!(h.allow_emulation);
        assert_eq!(h.existing.len(), 1);
        assert!(h.existing[0].thin);
        assert_eq!(h.existing[0].disk, Bytes(20 * GIB));
    }
}
