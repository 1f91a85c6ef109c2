//! The mail domain's logic: what each server function does, with typed
//! input ([`input`]) and answers in [`DomainError`].
//!
//! - [`input`]: form values to typed values, naming the field that is wrong;
//! - [`zone`]: the mail records in the domain's DNS zone (MX, SPF, DKIM,
//!   DMARC, verification tokens), through the DNS zone store;
//! - [`check`]: the readiness check of a stored domain;
//! - [`config`]: the Postfix and Dovecot configuration files.
//!
//! Rows themselves are read and written by [`crate::mail::store`].

pub mod check;
pub mod config;
pub mod input;
pub mod zone;

use crate::dns::ZoneSummary;
use crate::mail::records::dkim::{generate_ed25519, generate_rsa, DkimKeyPair};
use crate::mail::{
    store, ConfigFile, DkimKeyInfo, DmarcChoices, DomainError, MailDomainDetail, Published,
    RecordPreview, SpfChoices,
};
use crate::sealed::SealingKey;
use sea_orm::DatabaseConnection;

pub(crate) type Result<T, E = DomainError> = std::result::Result<T, E>;

/// Everything a mail domain's page shows.
pub async fn detail(db: &DatabaseConnection, domain: &str) -> Result<MailDomainDetail> {
    let row = store::find_domain(db, domain).await?;
    Ok(MailDomainDetail {
        settings: store::settings_of(&row),
        mailboxes: store::mailboxes(db, &row.name).await?,
        aliases: store::aliases(db, &row.name).await?,
        dkim: store::dkim_keys(db, &row.name).await?,
        zone: zone::zone_state(db, &row.name).await?,
        // Offered, not needed: the page opens without them if the layouts
        // cannot be read.
        mail_hosts: crate::layouts::service::names::named_vms(db)
            .await
            .unwrap_or_default(),
        name: row.name,
        active: row.active,
    })
}

/// A DKIM private key as a file for the signer (the caller audits it).
pub async fn dkim_private_key(
    db: &DatabaseConnection,
    keys: &SealingKey,
    domain: &str,
    selector: &str,
) -> Result<ConfigFile> {
    let pem = store::dkim_private_key(db, keys, domain, selector).await?;
    Ok(ConfigFile {
        name: format!("{}.{}.private.pem", selector.trim(), domain.trim()),
        contents: pem,
    })
}

/// The key pair of the algorithm the DKIM form chose.
pub fn generate_dkim(algorithm: &str) -> Result<DkimKeyPair> {
    let pair = match algorithm.trim() {
        "" | "rsa" | "rsa2048" => generate_rsa(2048),
        "rsa3072" => generate_rsa(3072),
        "rsa4096" => generate_rsa(4096),
        "ed25519" => generate_ed25519(),
        other => {
            return Err(DomainError::invalid(
                "algorithm",
                format!("\"{other}\" is not offered: choose RSA 2048, 3072, 4096 or Ed25519."),
            ))
        }
    };
    pair.map_err(|e| DomainError::Failed(format!("the key could not be generated: {e}")))
}

fn published(owner: &str, record: &str, z: &ZoneSummary) -> Published {
    Published {
        owner: owner.to_owned(),
        zone: z.origin.as_str().to_owned(),
        serial: z.serial,
        record: record.to_owned(),
    }
}

/// The stored domain's name and the resolver its settings name.
async fn domain_resolver(
    db: &DatabaseConnection,
    domain: &str,
) -> Result<(String, Option<std::net::SocketAddr>)> {
    let row = store::find_domain(db, domain).await?;
    let settings = store::check_settings_of(&row)?;
    Ok((row.name, settings.resolver))
}

/// Creates the DNS zone of a mail domain Stackyard does not serve yet.
pub async fn create_zone(db: &DatabaseConnection, actor: &str, domain: &str) -> Result<String> {
    let row = store::find_domain(db, domain).await?;
    let origin = crate::dns::zone::Name::parse(&row.name)
        .map_err(|e| DomainError::invalid("domain", e.to_string()))?;
    let z = crate::dns::store::create_zone(db, actor, &origin).await?;
    Ok(z.origin.as_str().to_owned())
}

pub async fn publish_spf(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    record: &str,
) -> Result<Published> {
    let (name, resolver) = domain_resolver(db, domain).await?;
    let (p, z) = zone::publish_spf(db, actor, &name, record, resolver).await?;
    Ok(published(&p.owner, &p.record, &z))
}

pub async fn publish_dmarc(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    record: &str,
) -> Result<Published> {
    let row = store::find_domain(db, domain).await?;
    let (p, z) = zone::publish_dmarc(db, actor, &row.name, record).await?;
    Ok(published(&p.owner, &p.record, &z))
}

pub async fn publish_verification(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    value: &str,
) -> Result<Published> {
    let row = store::find_domain(db, domain).await?;
    let z = zone::publish_verification(db, actor, &row.name, value).await?;
    Ok(published(&format!("{}.", row.name), value.trim(), &z))
}

pub async fn remove_verification(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    value: &str,
) -> Result<()> {
    let row = store::find_domain(db, domain).await?;
    zone::remove_verification(db, actor, &row.name, value).await?;
    Ok(())
}

pub async fn publish_mx(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    mx: &str,
) -> Result<Published> {
    let row = store::find_domain(db, domain).await?;
    let z = zone::publish_mx(db, actor, &row.name, mx).await?;
    Ok(published(&format!("{}.", row.name), mx.trim(), &z))
}

/// Generates a key under `selector` and publishes its record.
pub async fn generate_dkim_key(
    db: &DatabaseConnection,
    keys: &SealingKey,
    actor: &str,
    domain: &str,
    selector: &str,
    algorithm: &str,
) -> Result<DkimKeyInfo> {
    let row = store::find_domain(db, domain).await?;
    let selector = input::selector(selector)?;
    zone::generate_and_publish_dkim(db, keys, actor, &row.name, &selector, algorithm).await
}

pub async fn remove_dkim(
    db: &DatabaseConnection,
    actor: &str,
    domain: &str,
    selector: &str,
) -> Result<()> {
    let row = store::find_domain(db, domain).await?;
    zone::remove_dkim(db, actor, &row.name, selector).await?;
    Ok(())
}

/// The SPF record of the builder's choices, or the pasted one, checked and
/// with its lookups counted.
pub async fn build_spf(
    db: &DatabaseConnection,
    domain: &str,
    choices: &SpfChoices,
    pasted: &str,
) -> Result<RecordPreview> {
    let (name, resolver) = domain_resolver(db, domain).await?;
    let record = if pasted.trim().is_empty() {
        input::spf_builder(choices)?
            .build()
            .map_err(DomainError::SpfBuild)?
    } else {
        pasted.trim().to_owned()
    };
    zone::spf_preview(db, &name, &record, resolver).await
}

/// The DMARC record of the builder's fields, or the pasted one, checked.
pub async fn build_dmarc(
    db: &DatabaseConnection,
    domain: &str,
    choices: &DmarcChoices,
    pasted: &str,
) -> Result<RecordPreview> {
    let row = store::find_domain(db, domain).await?;
    let record = if pasted.trim().is_empty() {
        input::dmarc_record(choices)?
            .build()
            .map_err(DomainError::DmarcBuild)?
    } else {
        pasted.trim().to_owned()
    };
    zone::dmarc_preview(&row.name, &record)
}
