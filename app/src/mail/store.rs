//! The mail service over the database: mail domains with their check
//! settings, mailboxes (Dovecot `{ARGON2ID}` hashes), aliases and DKIM keys.
//!
//! Rows are validated by the row types of [`crate::mail::check::mailstore`]
//! (the same rules the daemons' lookups rely on: lower case, safe local
//! parts, maildir paths) before anything is written, and multi-row changes
//! run in one transaction. Functions take the connection and return
//! [`DomainError`]s: a refused value names the form field it belongs to.

use crate::auth::service::HashCost;
use crate::dns::zone::host::normalise;
use crate::mail::check::mailstore::{self, MailAlias, Mailbox};
use crate::mail::check::password::{hash_password, Argon2Cost};
use crate::mail::entity::{mail_alias, mail_check_run, mail_dkim_key, mail_domain, mailbox};
use crate::mail::service::input::{self, CheckSettings};
use crate::mail::{
    AliasRow, DkimKeyInfo, DomainError, LastCheck, MailDomainSummary, MailSettings, MailboxRow,
};
use crate::sealed::SealingKey;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

type Result<T, E = DomainError> = std::result::Result<T, E>;

/// The blocklist every new mail domain starts with.
pub const DEFAULT_DNSBL: &str = crate::mail::check::DEFAULT_DNSBL_ZONE;

/// Mailbox hashes follow the console's own Argon2id policy: real cost in
/// production, the cheapest legal one in tests.
pub fn mailbox_cost(cost: HashCost) -> Argon2Cost {
    Argon2Cost {
        memory_kib: cost.memory_kib.max(Argon2Cost::INSECURE_TEST.memory_kib),
        iterations: cost.passes.max(1),
        parallelism: cost.lanes.max(1),
    }
}

fn mailstore_error(field: &str, e: mailstore::MailstoreError) -> DomainError {
    DomainError::invalid(field, e.to_string())
}

pub async fn find_domain<C: ConnectionTrait>(db: &C, name: &str) -> Result<mail_domain::Model> {
    let name = normalise(name);
    mail_domain::Entity::find_by_id(name.clone())
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Mail domain {name}")))
}

pub fn settings_of(row: &mail_domain::Model) -> MailSettings {
    MailSettings {
        mail_host: row.mail_host.clone(),
        mail_ip: row.mail_ip.clone(),
        mail_vm: row.mail_vm.clone(),
        dnsbl_zones: input::list(&row.dnsbl_zones),
        resolver: row.resolver.clone(),
    }
}

/// The stored settings, parsed (they were validated when saved).
pub fn check_settings_of(row: &mail_domain::Model) -> Result<CheckSettings> {
    Ok(input::check_settings(
        &row.mail_host,
        &row.mail_ip,
        &row.dnsbl_zones,
        &row.resolver,
    )?)
}

pub async fn list_domains(db: &DatabaseConnection) -> Result<Vec<MailDomainSummary>> {
    let rows = mail_domain::Entity::find()
        .order_by_asc(mail_domain::Column::Name)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mailboxes = mailbox::Entity::find()
            .filter(mailbox::Column::Domain.eq(&row.name))
            .count(db)
            .await?;
        let aliases = mail_alias::Entity::find()
            .filter(mail_alias::Column::Domain.eq(&row.name))
            .count(db)
            .await?;
        let selectors = mail_dkim_key::Entity::find()
            .filter(mail_dkim_key::Column::Domain.eq(&row.name))
            .order_by_asc(mail_dkim_key::Column::Selector)
            .all(db)
            .await?
            .into_iter()
            .map(|k| k.selector)
            .collect();
        out.push(MailDomainSummary {
            name: row.name,
            active: row.active,
            mailboxes,
            aliases,
            dkim_selectors: selectors,
        });
    }
    Ok(out)
}

pub async fn add_domain(db: &DatabaseConnection, name: &str) -> Result<mail_domain::Model> {
    let name = input::domain("name", name)?;
    if mail_domain::Entity::find_by_id(name.clone())
        .one(db)
        .await?
        .is_some()
    {
        return Err(DomainError::invalid(
            "name",
            format!("{name} is already a mail domain."),
        ));
    }
    let now = chrono::Utc::now();
    Ok(mail_domain::ActiveModel {
        name: Set(name),
        active: Set(true),
        mail_host: Set(String::new()),
        mail_ip: Set(String::new()),
        mail_vm: Set(String::new()),
        dnsbl_zones: Set(DEFAULT_DNSBL.to_owned()),
        resolver: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Removes the domain with its mailboxes, aliases and DKIM keys (the mail
/// on disk stays: Stackyard never deletes maildirs).
pub async fn remove_domain(db: &DatabaseConnection, name: &str) -> Result<()> {
    let row = find_domain(db, name).await?;
    let txn = db.begin().await?;
    mail_dkim_key::Entity::delete_many()
        .filter(mail_dkim_key::Column::Domain.eq(&row.name))
        .exec(&txn)
        .await?;
    mail_check_run::Entity::delete_many()
        .filter(mail_check_run::Column::Domain.eq(&row.name))
        .exec(&txn)
        .await?;
    mail_alias::Entity::delete_many()
        .filter(mail_alias::Column::Domain.eq(&row.name))
        .exec(&txn)
        .await?;
    mailbox::Entity::delete_many()
        .filter(mailbox::Column::Domain.eq(&row.name))
        .exec(&txn)
        .await?;
    mail_domain::Entity::delete_by_id(row.name)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn save_settings(
    db: &DatabaseConnection,
    name: &str,
    settings: &CheckSettings,
    mail_vm: &str,
) -> Result<MailSettings> {
    let row = find_domain(db, name).await?;
    let mut active: mail_domain::ActiveModel = row.into();
    active.mail_vm = Set(mail_vm.trim().to_owned());
    active.mail_host = Set(settings.mail_host.clone().unwrap_or_default());
    active.mail_ip = Set(settings
        .mail_ip
        .map(|ip| ip.to_string())
        .unwrap_or_default());
    active.dnsbl_zones = Set(settings.dnsbl_zones.join(" "));
    active.resolver = Set(settings.resolver.map(|r| r.to_string()).unwrap_or_default());
    active.updated_at = Set(chrono::Utc::now());
    let row = active.update(db).await?;
    Ok(settings_of(&row))
}

fn mailbox_row(m: mailbox::Model) -> MailboxRow {
    MailboxRow {
        address: m.address,
        quota_bytes: u64::try_from(m.quota_bytes).unwrap_or(0),
        active: m.active,
        maildir: m.maildir,
    }
}

pub async fn mailboxes(db: &DatabaseConnection, domain: &str) -> Result<Vec<MailboxRow>> {
    Ok(mailbox::Entity::find()
        .filter(mailbox::Column::Domain.eq(domain))
        .order_by_asc(mailbox::Column::Address)
        .all(db)
        .await?
        .into_iter()
        .map(mailbox_row)
        .collect())
}

/// Hashes off the async runtime: Argon2id at production cost takes a
/// noticeable fraction of a second.
async fn dovecot_hash(password: String, cost: HashCost) -> Result<String> {
    crate::auth::service::check_new_password("password", &password)?;
    let cost = mailbox_cost(cost);
    tokio::task::spawn_blocking(move || hash_password(&password, &cost))
        .await
        .map_err(|e| DomainError::Failed(format!("hashing stopped: {e}")))?
        .map_err(|e| DomainError::invalid("password", e.to_string()))
}

/// `local` may be the part before `@` or the whole address in this domain.
pub fn mailbox_address(domain: &str, local: &str) -> Result<String> {
    let local = local.trim();
    let address = if local.contains('@') {
        local.to_owned()
    } else {
        format!("{local}@{domain}")
    };
    let (address, in_domain) =
        mailstore::valid_address(&address).map_err(|e| mailstore_error("address", e))?;
    if in_domain != domain {
        return Err(DomainError::invalid(
            "address",
            format!("{address} is not in {domain}; add it on {in_domain}'s page."),
        ));
    }
    Ok(address)
}

pub async fn add_mailbox(
    db: &DatabaseConnection,
    domain: &str,
    local: &str,
    password: String,
    quota_bytes: u64,
    cost: HashCost,
) -> Result<MailboxRow> {
    let domain = find_domain(db, domain).await?;
    let address = mailbox_address(&domain.name, local)?;
    if mailbox::Entity::find_by_id(address.clone())
        .one(db)
        .await?
        .is_some()
    {
        return Err(DomainError::invalid(
            "address",
            format!("{address} already exists."),
        ));
    }
    let hash = dovecot_hash(password, cost).await?;
    let mb = Mailbox::new(&address, &hash, quota_bytes).map_err(|e| match e {
        mailstore::MailstoreError::QuotaTooLarge(_) => mailstore_error("quota_mib", e),
        other => mailstore_error("address", other),
    })?;
    let now = chrono::Utc::now();
    let row = mailbox::ActiveModel {
        address: Set(mb.address.clone()),
        domain: Set(mb.domain.clone()),
        password: Set(mb.password.clone()),
        quota_bytes: Set(mb.quota_i64()),
        active: Set(true),
        maildir: Set(mb.maildir.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(mailbox_row(row))
}

async fn find_mailbox(db: &DatabaseConnection, address: &str) -> Result<mailbox::Model> {
    let address = address.trim().to_ascii_lowercase();
    mailbox::Entity::find_by_id(address.clone())
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Mailbox {address}")))
}

pub async fn set_mailbox_password(
    db: &DatabaseConnection,
    address: &str,
    password: String,
    cost: HashCost,
) -> Result<()> {
    let row = find_mailbox(db, address).await?;
    let hash = dovecot_hash(password, cost).await?;
    let mut active: mailbox::ActiveModel = row.into();
    active.password = Set(hash);
    active.updated_at = Set(chrono::Utc::now());
    active.update(db).await?;
    Ok(())
}

pub async fn update_mailbox(
    db: &DatabaseConnection,
    address: &str,
    quota_bytes: u64,
    enabled: bool,
) -> Result<MailboxRow> {
    let row = find_mailbox(db, address).await?;
    let quota = i64::try_from(quota_bytes)
        .map_err(|_| DomainError::invalid("quota_mib", "That quota is too large."))?;
    let mut active: mailbox::ActiveModel = row.into();
    active.quota_bytes = Set(quota);
    active.active = Set(enabled);
    active.updated_at = Set(chrono::Utc::now());
    Ok(mailbox_row(active.update(db).await?))
}

pub async fn remove_mailbox(db: &DatabaseConnection, address: &str) -> Result<String> {
    let row = find_mailbox(db, address).await?;
    mailbox::Entity::delete_by_id(row.address.clone())
        .exec(db)
        .await?;
    Ok(row.address)
}

fn alias_row(a: mail_alias::Model) -> AliasRow {
    AliasRow {
        id: a.id,
        source: a.source,
        destination: a.destination,
        active: a.active,
    }
}

pub async fn aliases(db: &DatabaseConnection, domain: &str) -> Result<Vec<AliasRow>> {
    Ok(mail_alias::Entity::find()
        .filter(mail_alias::Column::Domain.eq(domain))
        .order_by_asc(mail_alias::Column::Source)
        .order_by_asc(mail_alias::Column::Destination)
        .all(db)
        .await?
        .into_iter()
        .map(alias_row)
        .collect())
}

/// `source` is a local part, `@` alone (catch-all) or an address in the
/// domain; `destination` any address.
pub async fn add_alias(
    db: &DatabaseConnection,
    domain: &str,
    source: &str,
    destination: &str,
) -> Result<AliasRow> {
    let domain = find_domain(db, domain).await?;
    let source = source.trim();
    let source = if source.is_empty() || source == "@" || source == "*" {
        format!("@{}", domain.name)
    } else if source.contains('@') {
        source.to_owned()
    } else {
        format!("{source}@{}", domain.name)
    };
    let destination = destination.trim();
    if destination.is_empty() {
        return Err(DomainError::invalid(
            "destination",
            "Enter the address mail is delivered to.",
        ));
    }
    if let Err(e) = mailstore::valid_address(destination) {
        return Err(mailstore_error("destination", e));
    }
    let alias = MailAlias::new(&source, destination).map_err(|e| match e {
        mailstore::MailstoreError::BadAddress { ref address, .. }
            if address.trim().eq_ignore_ascii_case(destination) =>
        {
            mailstore_error("destination", e)
        }
        other => mailstore_error("source", other),
    })?;
    let in_domain = alias
        .source
        .rsplit_once('@')
        .map(|(_, d)| d == domain.name)
        .unwrap_or(false);
    if !in_domain {
        return Err(DomainError::invalid(
            "source",
            format!("{} is not in {}.", alias.source, domain.name),
        ));
    }
    let exists = mail_alias::Entity::find()
        .filter(mail_alias::Column::Source.eq(&alias.source))
        .filter(mail_alias::Column::Destination.eq(&alias.destination))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Err(DomainError::invalid(
            "source",
            format!(
                "{} already forwards to {}.",
                alias.source, alias.destination
            ),
        ));
    }
    let row = mail_alias::ActiveModel {
        domain: Set(domain.name),
        source: Set(alias.source),
        destination: Set(alias.destination),
        active: Set(true),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(alias_row(row))
}

pub async fn remove_alias(db: &DatabaseConnection, id: i32) -> Result<AliasRow> {
    let row = mail_alias::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("Alias {id}")))?;
    mail_alias::Entity::delete_by_id(id).exec(db).await?;
    Ok(alias_row(row))
}

fn dkim_info(k: &mail_dkim_key::Model) -> DkimKeyInfo {
    DkimKeyInfo {
        selector: k.selector.clone(),
        algorithm: k.algorithm.clone(),
        bits: k.bits.and_then(|b| u32::try_from(b).ok()),
        owner: format!("{}._domainkey.{}", k.selector, k.domain),
        txt_strings: crate::mail::records::split_txt(&k.public_record),
        public_record: k.public_record.clone(),
        created_at: k.created_at.into(),
    }
}

pub async fn dkim_rows<C: ConnectionTrait>(
    db: &C,
    domain: &str,
) -> Result<Vec<mail_dkim_key::Model>> {
    Ok(mail_dkim_key::Entity::find()
        .filter(mail_dkim_key::Column::Domain.eq(domain))
        .order_by_asc(mail_dkim_key::Column::Selector)
        .all(db)
        .await?)
}

pub async fn dkim_keys(db: &DatabaseConnection, domain: &str) -> Result<Vec<DkimKeyInfo>> {
    Ok(dkim_rows(db, domain).await?.iter().map(dkim_info).collect())
}

/// Stores a fresh key under `selector`; a selector is never reused, since
/// receivers cache the old key for the record's TTL.
pub async fn add_dkim_key<C: ConnectionTrait>(
    db: &C,
    keys: &SealingKey,
    domain: &str,
    selector: &str,
    pair: &crate::mail::records::dkim::DkimKeyPair,
) -> Result<DkimKeyInfo> {
    let domain = find_domain(db, domain).await?;
    let exists = mail_dkim_key::Entity::find()
        .filter(mail_dkim_key::Column::Domain.eq(&domain.name))
        .filter(mail_dkim_key::Column::Selector.eq(selector))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Err(DomainError::invalid(
            "selector",
            format!(
                "{selector} already has a key; choose a new selector (e.g. the date) so \
                 receivers that cached the old key keep verifying old mail."
            ),
        ));
    }
    let key = &pair.private_key;
    let row = mail_dkim_key::ActiveModel {
        domain: Set(domain.name),
        selector: Set(selector.to_owned()),
        algorithm: Set(key.key_type().to_string()),
        bits: Set(key.rsa_bits().and_then(|b| i32::try_from(b).ok())),
        private_key: Set(keys.seal(DKIM_SEALED_FOR, key.pem().as_bytes())),
        public_record: Set(pair.record.clone()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(dkim_info(&row))
}

/// The PEM for the signer (OpenDKIM, rspamd). Callers audit the access.
pub async fn dkim_private_key(
    db: &DatabaseConnection,
    keys: &SealingKey,
    domain: &str,
    selector: &str,
) -> Result<String> {
    let domain = find_domain(db, domain).await?;
    let row = mail_dkim_key::Entity::find()
        .filter(mail_dkim_key::Column::Domain.eq(&domain.name))
        .filter(mail_dkim_key::Column::Selector.eq(selector.trim()))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("DKIM key {selector}")))?;
    open_private_key(keys, &row)
}

/// What a DKIM private key is sealed for (see [`crate::sealed`]).
const DKIM_SEALED_FOR: &str = "mail_dkim_key.private_key";

/// The PEM of a stored key.
pub fn open_private_key(keys: &SealingKey, row: &mail_dkim_key::Model) -> Result<String> {
    keys.open(DKIM_SEALED_FOR, &row.private_key).map_err(|e| {
        DomainError::Failed(format!(
            "the private key of {}._domainkey.{}: {e}",
            row.selector, row.domain
        ))
    })
}

/// Seals the DKIM private keys still kept in clear (a database from before
/// sealing) and checks that `keys` opens the sealed ones; how many were
/// sealed now.
pub async fn seal_stored_keys(db: &DatabaseConnection, keys: &SealingKey) -> Result<usize> {
    let mut sealed = 0;
    for row in mail_dkim_key::Entity::find().all(db).await? {
        if crate::sealed::is_sealed(&row.private_key) {
            open_private_key(keys, &row)?;
            continue;
        }
        let text = keys.seal(DKIM_SEALED_FOR, row.private_key.as_bytes());
        let mut row: mail_dkim_key::ActiveModel = row.into();
        row.private_key = Set(text);
        row.update(db).await?;
        sealed += 1;
    }
    Ok(sealed)
}

pub async fn remove_dkim_key<C: ConnectionTrait>(
    db: &C,
    domain: &str,
    selector: &str,
) -> Result<()> {
    let domain = find_domain(db, domain).await?;
    let res = mail_dkim_key::Entity::delete_many()
        .filter(mail_dkim_key::Column::Domain.eq(&domain.name))
        .filter(mail_dkim_key::Column::Selector.eq(selector.trim()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(DomainError::NotFound(format!("DKIM key {selector}")));
    }
    Ok(())
}

/// Stores one run of a domain's readiness check.
pub async fn record_check_run(
    db: &DatabaseConnection,
    domain: &str,
    run: &LastCheck,
) -> Result<()> {
    let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    mail_check_run::ActiveModel {
        domain: Set(domain.to_owned()),
        ran_at: Set(run.ran_at.to_chrono()),
        passed: Set(count(run.passed)),
        failed: Set(count(run.failed)),
        warned: Set(count(run.warned)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest readiness-check run of every domain that had one, by domain.
/// Runs are only ever inserted, so the newest of a domain has its highest id.
pub async fn last_checks<C: ConnectionTrait>(
    db: &C,
) -> Result<std::collections::BTreeMap<String, LastCheck>> {
    use sea_orm::sea_query::{Expr, Query};
    let newest = Query::select()
        .expr(Expr::col(mail_check_run::Column::Id).max())
        .from(mail_check_run::Entity)
        .group_by_col(mail_check_run::Column::Domain)
        .to_owned();
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok(mail_check_run::Entity::find()
        .filter(mail_check_run::Column::Id.in_subquery(newest))
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let run = LastCheck {
                ran_at: r.ran_at.into(),
                passed: count(r.passed),
                failed: count(r.failed),
                warned: count(r.warned),
            };
            (r.domain, run)
        })
        .collect())
}

/// How the daemons reach the mail tables: on SQLite the mail database
/// (`mail_db`, which Stackyard keeps in step; Stackyard's own file when
/// `mail_db` is `None`, for callers that need to know it), on PostgreSQL
/// the host, port and database of the connection.
pub fn config_defaults(
    db: &DatabaseConnection,
    mail_db: Option<&std::path::Path>,
) -> crate::mail::ConfigDefaults {
    use sea_orm::DatabaseBackend;
    let mut d = crate::mail::ConfigDefaults {
        backend: "sqlite".to_owned(),
        sqlite_path: String::new(),
        pg_host: String::new(),
        pg_port: String::new(),
        pg_dbname: String::new(),
    };
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let options = db.get_sqlite_connection_pool().connect_options();
            let path = mail_db.unwrap_or_else(|| options.get_filename());
            d.sqlite_path = std::path::absolute(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string();
        }
        DatabaseBackend::Postgres => {
            let options = db.get_postgres_connection_pool().connect_options();
            d.backend = "pgsql".to_owned();
            d.pg_host = options.get_host().to_owned();
            d.pg_port = options.get_port().to_string();
            d.pg_dbname = options.get_database().unwrap_or_default().to_owned();
        }
        DatabaseBackend::MySql => {}
    }
    d
}
