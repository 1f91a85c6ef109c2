//! The readiness check of a stored mail domain: its settings and DKIM keys
//! handed to [`crate::mail::check`], the answer as the page's checklist,
//! and each run noted for the dashboard.

use super::Result;
use crate::mail::DomainError;
use crate::mail::{check, store, CheckLine, CheckResult, LastCheck};
use crate::sealed::SealingKey;
use sea_orm::DatabaseConnection;

/// Runs the check for `domain` and notes the run: the dashboard shows the
/// last one. Failing to note it does not take the answer away from the
/// person who asked.
pub async fn run(db: &DatabaseConnection, keys: &SealingKey, domain: &str) -> Result<CheckResult> {
    let row = store::find_domain(db, domain).await?;
    let resolver = if row.resolver.is_empty() {
        "the system's resolver".to_owned()
    } else {
        row.resolver.clone()
    };
    let report = report(db, keys, &row.name).await?;
    let result = checklist(&report, resolver);
    let run = LastCheck::of_statuses(
        crate::ui::Timestamp::now(),
        result.items.iter().map(|i| i.status.as_str()),
    );
    if let Err(e) = store::record_check_run(db, &row.name, &run).await {
        tracing::warn!("mail check of {}: the run was not recorded: {e}", row.name);
    }
    Ok(result)
}

/// The audit line of a run: every check passed, or which did not.
pub fn summary(result: &CheckResult) -> String {
    let failed: Vec<&str> = result
        .items
        .iter()
        .filter(|i| i.status == "fail" || i.status == "warn")
        .map(|i| i.id.as_str())
        .collect();
    if failed.is_empty() {
        "all passed".to_owned()
    } else {
        format!("problems: {}", failed.join(", "))
    }
}

/// A report as the page's checklist; `resolver` says who was asked.
pub fn checklist(report: &check::Report, resolver: String) -> CheckResult {
    CheckResult {
        domain: report.domain.clone(),
        mail_host: report.mail_host.clone(),
        mail_ip: report.mail_ip.map(|ip| ip.to_string()),
        resolver,
        all_passed: report.all_passed(),
        items: report
            .items
            .iter()
            .map(|i| CheckLine {
                id: i.id.clone(),
                title: i.title.clone(),
                status: match i.status {
                    check::Status::Pass => "pass",
                    check::Status::Fail => "fail",
                    check::Status::Warn => "warn",
                    check::Status::Skipped => "skipped",
                }
                .to_owned(),
                detail: i.detail.clone(),
                fix: i.fix.clone(),
            })
            .collect(),
    }
}

/// The readiness check for a stored mail domain with its settings and
/// DKIM keys, over the domain's resolver.
pub async fn report(
    db: &DatabaseConnection,
    keys: &SealingKey,
    domain: &str,
) -> Result<check::Report> {
    use crate::mail::check::{CheckOptions, HickoryDns, ResolverSettings};
    let row = store::find_domain(db, domain).await?;
    let mut settings = store::check_settings_of(&row)?;
    // A layout's VM as the mail host: its name and address as the layout
    // has them now (what was saved with the settings otherwise).
    if !row.mail_vm.is_empty() {
        if let Ok((fqdn, ip)) = crate::mail::mail_vm(db, &row.mail_vm).await {
            settings.mail_host = Some(fqdn);
            settings.mail_ip = Some(ip);
        }
    }
    let dkim: Vec<(String, Option<String>)> = store::dkim_rows(db, &row.name)
        .await?
        .iter()
        .map(|k| Ok((k.selector.clone(), Some(store::open_private_key(keys, k)?))))
        .collect::<Result<_>>()?;
    let live = HickoryDns::new(&ResolverSettings {
        nameserver: settings.resolver,
        ..ResolverSettings::default()
    });
    let check = async {
        let (host, ip) = (settings.mail_host.as_deref(), settings.mail_ip);
        match live {
            Ok(resolver) => {
                let mut opts = CheckOptions::new(resolver);
                opts.dnsbl_zones = settings.dnsbl_zones.clone();
                opts.dkim = dkim;
                check::check(&row.name, host, ip, &opts).await
            }
            // The checklist still shows every item, each saying why it
            // could not be checked.
            Err(e) => {
                let mut opts = CheckOptions::new(NoResolver(e.to_string()));
                opts.dnsbl_zones = settings.dnsbl_zones.clone();
                opts.dkim = dkim;
                check::check(&row.name, host, ip, &opts).await
            }
        }
    };
    // However many questions a domain's records lead to, one check ends.
    tokio::time::timeout(CHECK_LIMIT, check).await.map_err(|_| {
        DomainError::Failed(format!(
            "The check did not finish within {} s and was stopped: is the resolver answering?",
            CHECK_LIMIT.as_secs()
        ))
    })
}

/// The longest one readiness check may take.
pub const CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Stands in when no resolver can be set up (no `/etc/resolv.conf`):
/// every question fails temporarily with the reason.
struct NoResolver(String);

impl NoResolver {
    fn fail<T>(&self) -> check::dns::Answer<T> {
        Err(check::LookupError::Temporary(self.0.clone()))
    }
}

impl check::DnsResolver for NoResolver {
    async fn a(&self, _: &str) -> check::dns::Answer<std::net::Ipv4Addr> {
        self.fail()
    }
    async fn aaaa(&self, _: &str) -> check::dns::Answer<std::net::Ipv6Addr> {
        self.fail()
    }
    async fn mx(&self, _: &str) -> check::dns::Answer<check::MxRecord> {
        self.fail()
    }
    async fn txt(&self, _: &str) -> check::dns::Answer<String> {
        self.fail()
    }
    async fn ptr(&self, _: std::net::IpAddr) -> check::dns::Answer<String> {
        self.fail()
    }
}
