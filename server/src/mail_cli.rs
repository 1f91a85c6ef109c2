//! `stackyard mail check DOMAIN [--mail-host NAME] [--mail-ip IP]
//! [--resolver IP:PORT] [--dnsbl ZONE]… [--dkim SELECTOR[=KEYFILE]]… [--json]`:
//! the console's readiness check (figure 3) from the command line, over
//! live DNS, without a server or a database. Exit status 0 only when every
//! check passes, 1 when any fails or could not be checked, 2 on bad usage.

use app::mail::check::{check, CheckOptions, HickoryDns, Report, ResolverSettings, Status};
use std::net::IpAddr;
use std::path::PathBuf;

/// The options, as clap parsed them.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The mail domain, e.g. `example.org`.
    pub domain: String,
    /// The mail server's host name (default: the domain's best MX).
    #[arg(long)]
    pub mail_host: Option<String>,
    /// The address the server sends from (default: the host's A record).
    #[arg(long)]
    pub mail_ip: Option<IpAddr>,
    /// The resolver to ask, `IP` or `IP:PORT` (default: the system's).
    #[arg(long)]
    pub resolver: Option<String>,
    /// A DNS blocklist zone; repeat for several (default: zen.spamhaus.org).
    #[arg(long = "dnsbl", value_name = "ZONE")]
    pub dnsbl: Vec<String>,
    /// A DKIM selector to check, optionally with the private key file it
    /// must match: `mail` or `mail=/etc/dkim/mail.pem`. Repeatable.
    #[arg(long = "dkim", value_name = "SELECTOR[=KEYFILE]")]
    pub dkim: Vec<String>,
    /// Print the report as JSON (the console's format) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the check; `Err` is a usage problem (exit 2).
pub fn run(args: &CheckArgs) -> Result<Report, String> {
    let settings = match &args.resolver {
        Some(spec) => ResolverSettings::with_nameserver(spec).map_err(|e| e.to_string())?,
        None => ResolverSettings::default(),
    };
    let resolver = HickoryDns::new(&settings).map_err(|e| e.to_string())?;
    let mut opts = CheckOptions::new(resolver);
    if !args.dnsbl.is_empty() {
        opts.dnsbl_zones = args.dnsbl.clone();
    }
    for spec in &args.dkim {
        let (selector, key) = match spec.split_once('=') {
            Some((s, file)) => {
                let path = PathBuf::from(file);
                let pem = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                (s.trim().to_owned(), Some(pem))
            }
            None => (spec.trim().to_owned(), None),
        };
        if selector.is_empty() {
            return Err(format!("--dkim {spec:?}: the selector is empty"));
        }
        opts.dkim.push((selector, key));
    }
    // The command line has no runtime of its own: the check gets one
    // thread for its lookups.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the DNS lookups: {e}"))?;
    Ok(runtime.block_on(check(
        &args.domain,
        args.mail_host.as_deref(),
        args.mail_ip,
        &opts,
    )))
}

/// The checklist as text: one line per item, then what was found and how
/// to fix it.
pub fn render_text(report: &Report) -> String {
    let mut out = format!(
        "Mail readiness of {} (mail host {}, address {})\n",
        report.domain,
        report.mail_host.as_deref().unwrap_or("unknown"),
        report
            .mail_ip
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".to_owned()),
    );
    for item in &report.items {
        let status = match item.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skipped => "SKIP",
        };
        out.push_str(&format!("[{status}] {} ({})\n", item.title, item.id));
        out.push_str(&format!("       {}\n", item.detail));
        if let Some(fix) = &item.fix {
            out.push_str(&format!("       fix: {fix}\n"));
        }
    }
    let problems = report.problems().count();
    if problems == 0 {
        out.push_str("Every check passed.\n");
    } else {
        out.push_str(&format!(
            "{problems} check{} did not pass.\n",
            if problems == 1 { "" } else { "s" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::mail::check::CheckItem;

    #[test]
    fn text_names_each_item_with_its_fix() {
        let report = Report {
            domain: "example.org".into(),
            mail_host: Some("mail.example.org".into()),
            mail_ip: Some("192.0.2.10".parse().unwrap()),
            items: vec![
                CheckItem {
                    id: "ptr".into(),
                    title: "Reverse DNS".into(),
                    status: Status::Fail,
                    detail: "no PTR".into(),
                    fix: Some("add a PTR".into()),
                },
                CheckItem {
                    id: "mx".into(),
                    title: "MX".into(),
                    status: Status::Pass,
                    detail: "ok".into(),
                    fix: None,
                },
            ],
        };
        let text = render_text(&report);
        assert!(text.contains("[FAIL] Reverse DNS (ptr)\n       no PTR\n       fix: add a PTR\n"));
        assert!(text.contains("[PASS] MX (mx)\n"));
        assert!(text.ends_with("1 check did not pass.\n"), "{text}");
    }

    #[test]
    fn bad_usage_is_an_error() {
        let args = CheckArgs {
            domain: "example.org".into(),
            mail_host: None,
            mail_ip: None,
            resolver: Some("not-an-address".into()),
            dnsbl: vec![],
            dkim: vec![],
            json: false,
        };
        assert!(run(&args).unwrap_err().contains("not a nameserver address"));
    }
}
