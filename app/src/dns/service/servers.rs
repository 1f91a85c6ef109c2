//! DNS server entries and the TSIG key: the add and edit forms become
//! checked entries, the first entry generates the key, and each server gets
//! its nsd.conf clauses.

use crate::dns::entity::{server as server_row, tsig_key};
use crate::dns::nsd::{
    nsd_conf_zones, DnsServer, ReloadCommands, ReloadMethod, Secret, ServerRole, TsigAlgorithm,
    TsigKey,
};
use crate::dns::store;
use crate::dns::zone::Name;
use crate::dns::{DomainError, KeyInfo, ServerForm, ServerInfo, ServersView};
use crate::sealed::SealingKey;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Set,
    TransactionTrait,
};
use std::net::IpAddr;
use std::path::PathBuf;

/// The name of the TSIG key Stackyard generates for its servers.
pub const KEY_NAME: &str = "stackyard-xfr";

// ---- servers and the TSIG key ----------------------------------------------

fn reload_in_words(m: &ReloadMethod) -> String {
    match m {
        ReloadMethod::NsdControl { config } => {
            format!("nsd-control -c {} reload", config.display())
        }
        ReloadMethod::Command(args) => args.join(" "),
        ReloadMethod::Signal(pid) => format!("SIGHUP to the pid in {}", pid.display()),
    }
}

fn parse_reload(
    kind: &str,
    value: &str,
    commands: &ReloadCommands,
) -> Result<ReloadMethod, DomainError> {
    let v = value.trim();
    match kind {
        "nsd_control" => {
            if !v.starts_with('/') {
                return Err(DomainError::invalid(
                    "reload_value",
                    "Enter the absolute path of the server's nsd.conf, such as /etc/nsd/nsd.conf.",
                ));
            }
            Ok(ReloadMethod::NsdControl {
                config: PathBuf::from(v),
            })
        }
        "command" => match commands.find(v) {
            Some(args) => Ok(ReloadMethod::Command(args.to_vec())),
            None => Err(DomainError::invalid(
                "reload_value",
                match commands.describe().as_str() {
                    "" => "This server's configuration names no reload command: start it with \
                           --dns-reload-command \"COMMAND\" to offer one."
                        .to_owned(),
                    allowed => format!(
                        "This server runs only the reload commands its configuration names: \
                         {allowed}. (Its --dns-reload-command option adds others.)"
                    ),
                },
            )),
        },
        "signal" => {
            if !v.starts_with('/') {
                return Err(DomainError::invalid(
                    "reload_value",
                    "Enter the absolute path of NSD's pidfile, such as /run/nsd/nsd.pid.",
                ));
            }
            Ok(ReloadMethod::Signal(PathBuf::from(v)))
        }
        other => Err(DomainError::invalid(
            "reload_kind",
            format!("\"{other}\" is not a reload method."),
        )),
    }
}

/// The form's `reload_kind` and `reload_value` for a stored method.
fn reload_fields(m: &ReloadMethod) -> (String, String) {
    match m {
        ReloadMethod::NsdControl { config } => ("nsd_control".into(), config.display().to_string()),
        ReloadMethod::Command(args) => ("command".into(), args.join(" ")),
        ReloadMethod::Signal(pid) => ("signal".into(), pid.display().to_string()),
    }
}

fn info_of(row: &server_row::Model) -> ServerInfo {
    let method = serde_json::from_str::<ReloadMethod>(&row.reload).ok();
    let reload = method
        .as_ref()
        .map_or_else(|| "unreadable".into(), reload_in_words);
    let (reload_kind, reload_value) = method.as_ref().map(reload_fields).unwrap_or_default();
    ServerInfo {
        reload_kind,
        reload_value,
        id: row.id,
        name: row.name.clone(),
        role: row.role.clone(),
        ns_name: row.ns_name.clone(),
        address: row.address.clone(),
        port: u16::try_from(row.port).unwrap_or(0),
        zones_dir: row.zones_dir.clone(),
        reload,
    }
}

pub(super) fn nsd_server(row: &server_row::Model) -> Result<DnsServer, DomainError> {
    let bad = |what: &str| {
        tracing::error!("dns server {}: unreadable {what}", row.id);
        DomainError::Failed(format!(
            "The entry of DNS server {} cannot be read ({what}).",
            row.name
        ))
    };
    Ok(DnsServer {
        name: row.name.clone(),
        role: if row.role == "primary" {
            ServerRole::Primary
        } else {
            ServerRole::Secondary
        },
        address: row.address.parse().map_err(|_| bad("address"))?,
        port: u16::try_from(row.port).map_err(|_| bad("port"))?,
        reload: serde_json::from_str(&row.reload).map_err(|_| bad("reload method"))?,
    })
}

/// The servers and the key (without its secret).
pub async fn servers(db: &DatabaseConnection) -> Result<ServersView, DomainError> {
    let rows = server_row::Entity::find()
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await?;
    let key = tsig_key::Entity::find().one(db).await?.map(|k| KeyInfo {
        name: k.name.clone(),
        algorithm: k.algorithm.clone(),
        created_at: k.created_at.into(),
    });
    Ok(ServersView {
        servers: rows.iter().map(info_of).collect(),
        key,
    })
}

/// Adds a server entry; the first one also generates the TSIG key.
pub async fn add_server(
    db: &DatabaseConnection,
    allowed: Allowed<'_>,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    save_server(db, allowed, None, form).await
}

/// Changes a server entry: the same checks as [`add_server`], the entry
/// itself aside. The TSIG key stays; the nsd.conf clauses of every server
/// change with the addresses, so the page offers them again.
pub async fn update_server(
    db: &DatabaseConnection,
    allowed: Allowed<'_>,
    id: i32,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    save_server(db, allowed, Some(id), form).await
}

/// What saving a server entry needs of the server's own configuration:
/// the key that seals a new TSIG secret, and the reload commands allowed.
#[derive(Clone, Copy)]
pub struct Allowed<'a> {
    pub keys: &'a SealingKey,
    pub commands: &'a ReloadCommands,
}

async fn save_server(
    db: &DatabaseConnection,
    allowed: Allowed<'_>,
    id: Option<i32>,
    form: &ServerForm,
) -> Result<ServerInfo, DomainError> {
    let name = form.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(DomainError::invalid(
            "name",
            "Enter a name of at most 64 characters, such as ns1.",
        ));
    }
    let role = match form.role.as_str() {
        "primary" | "secondary" => form.role.as_str(),
        other => {
            return Err(DomainError::invalid(
                "role",
                format!("\"{other}\" is not a role: primary or secondary."),
            ))
        }
    };
    let ns_name = Name::parse(form.ns_name.trim().trim_end_matches('.'))
        .map_err(|e| DomainError::invalid("ns_name", e.to_string()))?;
    if ns_name.label_count() < 2 {
        return Err(DomainError::invalid(
            "ns_name",
            "Enter the server's host name, such as ns1.example.com.",
        ));
    }
    let address: IpAddr = form.address.trim().parse().map_err(|_| {
        DomainError::invalid(
            "address",
            format!(
                "\"{}\" is not an IPv4 or IPv6 address.",
                form.address.trim()
            ),
        )
    })?;
    let port: u16 = match form.port.trim() {
        "" => 53,
        p => p.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
            DomainError::invalid(
                "port",
                format!("\"{p}\" is not a port: enter a number from 1 to 65535."),
            )
        })?,
    };
    let zones_dir = form.zones_dir.trim();
    if role == "primary" && !zones_dir.starts_with('/') {
        return Err(DomainError::invalid(
            "zones_dir",
            "Enter the absolute directory NSD reads the zone files from, such as /etc/nsd/zones.",
        ));
    }
    if zones_dir.contains(['"', '\n', '\r']) {
        return Err(DomainError::invalid(
            "zones_dir",
            "The directory may not contain quotes or line breaks.",
        ));
    }
    let reload = parse_reload(
        form.reload_kind.trim(),
        &form.reload_value,
        allowed.commands,
    )?;
    let txn = db.begin().await?;
    let all = server_row::Entity::find().all(&txn).await?;
    let existing = match id {
        Some(id) => Some(
            all.iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?,
        ),
        None => None,
    };
    let rows: Vec<_> = all.into_iter().filter(|r| Some(r.id) != id).collect();
    if rows.iter().any(|r| r.name == name) {
        return Err(DomainError::invalid(
            "name",
            format!("A DNS server is already called {name}."),
        ));
    }
    if role == "primary" {
        if let Some(p) = rows.iter().find(|r| r.role == "primary") {
            return Err(DomainError::invalid(
                "role",
                format!(
                    "{} is already the primary; Stackyard's zones have one primary.",
                    p.name
                ),
            ));
        }
    }
    if rows
        .iter()
        .any(|r| r.address == address.to_string() && r.port == i32::from(port))
    {
        return Err(DomainError::invalid(
            "address",
            format!("Another server already answers on {address} port {port}."),
        ));
    }
    let now = Utc::now();
    let reload = serde_json::to_string(&reload).map_err(|e| DomainError::Failed(e.to_string()))?;
    let row = match existing {
        Some(old) => {
            let mut row: server_row::ActiveModel = old.into();
            row.name = Set(name.to_owned());
            row.role = Set(role.to_owned());
            row.ns_name = Set(ns_name.as_str().to_owned());
            row.address = Set(address.to_string());
            row.port = Set(i32::from(port));
            row.zones_dir = Set(zones_dir.to_owned());
            row.reload = Set(reload);
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            server_row::ActiveModel {
                name: Set(name.to_owned()),
                role: Set(role.to_owned()),
                ns_name: Set(ns_name.as_str().to_owned()),
                address: Set(address.to_string()),
                port: Set(i32::from(port)),
                zones_dir: Set(zones_dir.to_owned()),
                reload: Set(reload),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    if tsig_key::Entity::find().one(&txn).await?.is_none() {
        store_new_key(&txn, allowed.keys).await?;
    }
    txn.commit().await?;
    Ok(info_of(&row))
}

/// Removes a server entry.
pub async fn remove_server(db: &DatabaseConnection, id: i32) -> Result<ServerInfo, DomainError> {
    let row = server_row::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?;
    server_row::Entity::delete_by_id(id).exec(db).await?;
    Ok(info_of(&row))
}

/// What the TSIG secret is sealed for (see [`crate::sealed`]).
const SEALED_FOR: &str = "dns_tsig_key.secret";

async fn store_new_key<C: ConnectionTrait>(
    db: &C,
    keys: &SealingKey,
) -> Result<KeyInfo, DomainError> {
    let key = TsigKey::generate(KEY_NAME)
        .map_err(|e| DomainError::Failed(format!("no TSIG key: {e}")))?;
    tsig_key::Entity::delete_many().exec(db).await?;
    let row = tsig_key::ActiveModel {
        name: Set(key.name().to_owned()),
        algorithm: Set(key.algorithm().as_str().to_owned()),
        secret: Set(keys.seal(SEALED_FOR, key.secret().reveal_base64().as_bytes())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(KeyInfo {
        name: row.name,
        algorithm: row.algorithm,
        created_at: row.created_at.into(),
    })
}

/// Replaces the TSIG key with a newly generated one (every server's
/// nsd.conf must then be regenerated).
pub async fn rotate_key(
    db: &DatabaseConnection,
    keys: &SealingKey,
) -> Result<KeyInfo, DomainError> {
    let txn = db.begin().await?;
    let info = store_new_key(&txn, keys).await?;
    txn.commit().await?;
    Ok(info)
}

/// The TSIG key with its secret, for nsd.conf and an admin who asks.
pub async fn tsig(db: &DatabaseConnection, keys: &SealingKey) -> Result<TsigKey, DomainError> {
    let row = tsig_key::Entity::find().one(db).await?.ok_or_else(|| {
        DomainError::Refused("There is no TSIG key yet: add a DNS server first.".into())
    })?;
    if row.algorithm != TsigAlgorithm::HmacSha256.as_str() {
        return Err(DomainError::Failed(format!(
            "unknown TSIG algorithm {}",
            row.algorithm
        )));
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        DomainError::Failed(format!("stored TSIG secret unreadable: {e}"))
    };
    let base64 = keys
        .open(SEALED_FOR, &row.secret)
        .map_err(|e| unreadable(&e))?;
    let secret = Secret::from_base64(&base64).map_err(|e| unreadable(&e))?;
    TsigKey::new(&row.name, TsigAlgorithm::HmacSha256, secret)
        .map_err(|e| DomainError::Failed(e.to_string()))
}

/// The TSIG secret in base64, for an admin who asks.
pub async fn reveal_secret(
    db: &DatabaseConnection,
    keys: &SealingKey,
) -> Result<String, DomainError> {
    Ok(tsig(db, keys).await?.secret().reveal_base64())
}

/// Seals a TSIG secret still kept in clear (a database from before
/// sealing), and checks that `keys` opens the stored one: a server started
/// with another key file stops here rather than failing at the first apply.
/// Whether a secret was sealed now.
pub async fn seal_stored_key(
    db: &DatabaseConnection,
    keys: &SealingKey,
) -> Result<bool, DomainError> {
    let Some(row) = tsig_key::Entity::find().one(db).await? else {
        return Ok(false);
    };
    if crate::sealed::is_sealed(&row.secret) {
        keys.open(SEALED_FOR, &row.secret)
            .map_err(|e| DomainError::Failed(format!("the TSIG secret: {e}")))?;
        return Ok(false);
    }
    let sealed = keys.seal(SEALED_FOR, row.secret.as_bytes());
    let mut row: tsig_key::ActiveModel = row.into();
    row.secret = Set(sealed);
    row.update(db).await?;
    Ok(true)
}

/// nsd.conf's `key:` and `zone:` clauses for server `id`, for every zone.
/// Contains the TSIG secret.
pub async fn server_conf(
    db: &DatabaseConnection,
    keys: &SealingKey,
    id: i32,
) -> Result<String, DomainError> {
    let rows = server_row::Entity::find()
        .order_by_asc(server_row::Column::Id)
        .all(db)
        .await?;
    let row = rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| DomainError::NotFound(format!("DNS server {id}")))?;
    let all = rows.iter().map(nsd_server).collect::<Result<Vec<_>, _>>()?;
    let zones: Vec<Name> = store::list_zones(db)
        .await?
        .into_iter()
        .map(|z| z.origin)
        .collect();
    let key = tsig(db, keys).await?;
    Ok(nsd_conf_zones(&nsd_server(row)?, &all, &zones, &key)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::dns::service::create_forward;
    use crate::dns::service::testing::*;
    use crate::dns::store;
    use crate::error::AppError;

    #[tokio::test]
    async fn servers_key_and_conf() {
        let (_dir, db) = sqlite().await;
        let keys = SealingKey::generate();
        let commands = ReloadCommands::default();
        let allowed = Allowed {
            keys: &keys,
            commands: &commands,
        };
        let form = ServerForm {
            name: "ns1".into(),
            role: "primary".into(),
            ns_name: "ns1.example.com".into(),
            address: "192.0.2.53".into(),
            port: "".into(),
            zones_dir: "relative".into(),
            reload_kind: "nsd_control".into(),
            reload_value: "/etc/nsd/nsd.conf".into(),
        };
        assert!(add_server(&db, allowed, &form)
            .await
            .unwrap_err()
            .for_field("zones_dir")
            .is_some());
        let form = ServerForm {
            zones_dir: "/etc/nsd/zones".into(),
            ..form
        };
        assert!(add_server(
            &db,
            allowed,
            &ServerForm {
                address: "192.0.2".into(),
                ..form.clone()
            }
        )
        .await
        .unwrap_err()
        .for_field("address")
        .is_some());
        let p = add_server(&db, allowed, &form).await.unwrap();
        assert_eq!(p.port, 53);
        let e = add_server(
            &db,
            allowed,
            &ServerForm {
                name: "ns9".into(),
                address: "192.0.2.99".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("role").unwrap().contains("already the primary"));
        let s = add_server(
            &db,
            allowed,
            &ServerForm {
                name: "ns2".into(),
                role: "secondary".into(),
                ns_name: "ns2.example.com".into(),
                address: "192.0.2.54".into(),
                zones_dir: "".into(),
                reload_kind: "command".into(),
                reload_value: "systemctl reload nsd".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap();
        let view = servers(&db).await.unwrap();
        assert_eq!(view.key.unwrap().algorithm, "hmac-sha256");
        let z = create_forward(&db, "alice", "example.com").await.unwrap();
        let zone = store::load_zone(&db, z.id).await.unwrap();
        assert_eq!(zone.soa.mname, n("ns1.example.com."));
        assert_eq!(zone.records.len(), 2);
        let conf = server_conf(&db, &keys, p.id).await.unwrap();
        let secret = tsig(&db, &keys).await.unwrap().secret().reveal_base64();
        assert!(conf.contains(&secret));
        assert!(
            conf.contains("notify: 192.0.2.54@53 stackyard-xfr"),
            "{conf}"
        );
        let conf2 = server_conf(&db, &keys, s.id).await.unwrap();
        assert!(
            conf2.contains("request-xfr: AXFR 192.0.2.53@53 stackyard-xfr"),
            "{conf2}"
        );
        rotate_key(&db, &keys).await.unwrap();
        assert_ne!(
            tsig(&db, &keys).await.unwrap().secret().reveal_base64(),
            secret
        );

        // Editing: the entry's own name, address and primary role are not
        // conflicts with itself; other entries' still are.
        let ns2 = servers(&db).await.unwrap().servers[1].clone();
        assert_eq!(
            (ns2.reload_kind.as_str(), ns2.reload_value.as_str()),
            ("command", "systemctl reload nsd")
        );
        let edit = ServerForm {
            name: ns2.name.clone(),
            role: ns2.role.clone(),
            ns_name: ns2.ns_name.clone(),
            address: "192.0.2.55".into(),
            port: "5353".into(),
            zones_dir: ns2.zones_dir.clone(),
            reload_kind: "signal".into(),
            reload_value: "/run/nsd/nsd.pid".into(),
        };
        let changed = update_server(&db, allowed, s.id, &edit).await.unwrap();
        assert_eq!(
            (changed.address.as_str(), changed.port),
            ("192.0.2.55", 5353)
        );
        assert_eq!(changed.reload, "SIGHUP to the pid in /run/nsd/nsd.pid");
        let conf = server_conf(&db, &keys, p.id).await.unwrap();
        assert!(
            conf.contains("notify: 192.0.2.55@5353 stackyard-xfr"),
            "{conf}"
        );
        let e = update_server(
            &db,
            allowed,
            s.id,
            &ServerForm {
                name: "ns1".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(
            e.for_field("name").unwrap().contains("already called ns1"),
            "{e}"
        );
        let e = update_server(
            &db,
            allowed,
            s.id,
            &ServerForm {
                role: "primary".into(),
                zones_dir: "/z".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(
            e.for_field("role")
                .unwrap()
                .contains("ns1 is already the primary"),
            "{e}"
        );
        let e = update_server(
            &db,
            allowed,
            s.id,
            &ServerForm {
                address: "192.0.2.53".into(),
                port: "".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("address").is_some(), "{e}");
        let e = update_server(
            &db,
            allowed,
            s.id,
            &ServerForm {
                port: "0".into(),
                ..edit.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(e.for_field("port").is_some(), "{e}");
        // Refused edits changed nothing.
        assert_eq!(servers(&db).await.unwrap().servers[1], changed);
        let primary = update_server(
            &db,
            allowed,
            p.id,
            &ServerForm {
                zones_dir: "/srv/zones".into(),
                ..form.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (primary.zones_dir.as_str(), primary.id),
            ("/srv/zones", p.id)
        );
        assert!(matches!(
            update_server(&db, allowed, 9999, &edit)
                .await
                .map_err(AppError::from),
            Err(AppError::NotFound(_))
        ));
        remove_server(&db, s.id).await.unwrap();
        assert_eq!(servers(&db).await.unwrap().servers.len(), 1);
    }

    #[tokio::test]
    async fn the_tsig_secret_is_stored_sealed_and_old_clear_ones_are_sealed_at_start() {
        let (_dir, db) = sqlite().await;
        let keys = SealingKey::generate();
        let row = |db: DatabaseConnection| async move {
            tsig_key::Entity::find().one(&db).await.unwrap().unwrap()
        };
        store_new_key(&db, &keys).await.unwrap();
        let secret = reveal_secret(&db, &keys).await.unwrap();
        let stored = row(db.clone()).await.secret;
        assert!(crate::sealed::is_sealed(&stored), "{stored}");
        assert!(!stored.contains(&secret));
        // Another key file does not open it, and says so.
        let other = SealingKey::generate();
        let e = tsig(&db, &other).await.unwrap_err().to_string();
        assert!(e.contains("another key file"), "{e}");
        assert!(seal_stored_key(&db, &other).await.is_err());
        assert!(!seal_stored_key(&db, &keys).await.unwrap());

        // A secret from before sealing is sealed once, and still the same.
        let mut clear: tsig_key::ActiveModel = row(db.clone()).await.into();
        clear.secret = Set(secret.clone());
        clear.update(&db).await.unwrap();
        assert!(seal_stored_key(&db, &keys).await.unwrap());
        assert!(!seal_stored_key(&db, &keys).await.unwrap());
        assert!(crate::sealed::is_sealed(&row(db.clone()).await.secret));
        assert_eq!(reveal_secret(&db, &keys).await.unwrap(), secret);
    }
}
