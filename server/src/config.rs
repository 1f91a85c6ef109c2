//! Command-line options and their environment variables.

use crate::ServerError;
use app::auth::service::{AuthConfig, HashCost};
use clap::Args;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::{net::SocketAddr, path::PathBuf};

/// Where Stackyard keeps its data; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Directory for Stackyard's own files (the SQLite database by default);
    /// created when missing.
    #[arg(long, env = "STACKYARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database to use: `sqlite://PATH` or `postgres://USER:PASS@HOST/DB`.
    /// Default: `sqlite://DATA_DIR/stackyard.db`.
    #[arg(long, env = "STACKYARD_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Options of `stackyard serve` (also accepted without the subcommand).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STACKYARD_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub db: DbArgs,

    /// Log filter, e.g. `info`, `debug`, `stackyard_server=debug,info`.
    #[arg(long, env = "STACKYARD_LOG", default_value = "info")]
    pub log: String,

    /// Where the built site files (`pkg/`, the stylesheet, the wasm bundle)
    /// are. Default: `../site` beside the binary, else `target/site`.
    #[arg(long, env = "STACKYARD_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// The URL people open, when Stackyard sits behind a proxy (for example
    /// `https://console.example.org`): state-changing requests must come from it.
    #[arg(long, env = "STACKYARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Mark the session cookie `Secure`: set it when people reach Stackyard
    /// over https (a TLS proxy in front), never for plain http. An https
    /// `--public-url` implies it.
    #[arg(long, env = "STACKYARD_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Address of a reverse proxy in front of Stackyard (repeat the option,
    /// or separate addresses with commas). Only a request from one of these
    /// has its client's address read from `Forwarded` or `X-Forwarded-For`;
    /// from anyone else the headers are ignored, since a client could write
    /// any address there to slip past the login throttle.
    #[arg(
        long = "trusted-proxy",
        env = "STACKYARD_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Days the audit log keeps its lines; older ones are deleted at start
    /// and then daily. 0 keeps them for ever.
    #[arg(long, env = "STACKYARD_AUDIT_RETENTION_DAYS", default_value_t = 365)]
    pub audit_retention_days: u32,

    /// The key that seals the TSIG secret and the DKIM private keys in the
    /// database: a file of mode 0600, made at the first start. Keep it, and
    /// back it up, apart from the database. Default: `DATA_DIR/secret.key`.
    #[arg(long, env = "STACKYARD_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// A SQLite file Stackyard keeps for Postfix and Dovecot with the mail
    /// domains, mailboxes and aliases only (made with mode 0640, in a
    /// directory of mode 0750: give both to the daemons' group). Stackyard's
    /// own database stays readable by its owner only. Not needed on
    /// PostgreSQL (see `scripts/mail-reader.sql`).
    #[arg(long, env = "STACKYARD_MAIL_DB")]
    pub mail_db: Option<PathBuf>,

    /// A libvirt driver or driver+transport hosts may use (repeat the
    /// option, or separate with commas); the URI's scheme must be one of
    /// them. `test` reads any file it is given: allow it for tests only.
    #[arg(
        long = "libvirt-transport",
        env = "STACKYARD_LIBVIRT_TRANSPORTS",
        value_delimiter = ',',
        default_values_t = app::hosts::service::uri::DEFAULT_TRANSPORTS.map(String::from)
    )]
    pub libvirt_transports: Vec<String>,

    /// A query parameter host URIs may carry (repeat, or separate with
    /// commas), such as `keyfile` to let admins choose an SSH key.
    #[arg(
        long = "libvirt-uri-param",
        env = "STACKYARD_LIBVIRT_URI_PARAMS",
        value_delimiter = ',',
        default_values_t = app::hosts::service::uri::DEFAULT_PARAMS.map(String::from)
    )]
    pub libvirt_uri_params: Vec<String>,

    /// A command a DNS server entry may reload NSD with (repeat the option,
    /// or separate with `;`; `{zone}` stands for the zone). The web form can only pick one of these.
    #[arg(
        long = "dns-reload-command",
        env = "STACKYARD_DNS_RELOAD_COMMANDS",
        value_delimiter = ';',
        default_value = "systemctl reload nsd"
    )]
    pub dns_reload_commands: Vec<String>,

    /// Seconds a DNS reload may run before it is stopped, with every
    /// process it started (a hung `ssh` or `sudo` wrapper), and the apply
    /// reports it.
    #[arg(long, env = "STACKYARD_DNS_RELOAD_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub dns_reload_timeout: u64,

    /// Let the mail readiness check ask any resolver an admin names,
    /// loopback, link-local and other ports included (for labs and tests;
    /// by default only port 53 on other addresses).
    #[arg(long, env = "STACKYARD_MAIL_RESOLVER_ANY")]
    pub mail_resolver_any: bool,

    /// Minutes a session may stay unused before it ends.
    #[arg(long, env = "STACKYARD_SESSION_IDLE_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub session_idle_minutes: u32,

    /// Hours a session lasts at most after sign-in.
    #[arg(long, env = "STACKYARD_SESSION_LIFETIME_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=2_160))]
    pub session_lifetime_hours: u32,
}

impl DbArgs {
    /// The database URL, creating the data directory for the SQLite default.
    pub fn database_url(&self) -> Result<String, ServerError> {
        if let Some(url) = &self.database_url {
            if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://")
            {
                return Ok(url.clone());
            }
            return Err(ServerError::Config(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                crate::db::redact_url(url)
            )));
        }
        self.prepare_data_dir()?;
        let file = self.data_dir.join("stackyard.db");
        // SQLite would make the file (and, after it, its -wal and -shm,
        // which take the file's mode) readable by all under the usual umask.
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file);
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(ServerError::DataDir {
                    path: file.clone(),
                    source,
                })
            }
        }
        Ok(format!("sqlite://{}?mode=rwc", file.display()))
    }

    /// Creates the data directory readable by its owner only (0700) and
    /// makes an existing one, and the files Stackyard keeps in it, owner-only:
    /// they hold password and session hashes, and sealed secrets.
    pub fn prepare_data_dir(&self) -> Result<(), ServerError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.data_dir)
            .map_err(|source| ServerError::DataDir {
                path: self.data_dir.clone(),
                source,
            })?;
        app::sealed::tighten(&self.data_dir);
        for name in OWN_FILES {
            app::sealed::tighten(&self.data_dir.join(name));
        }
        Ok(())
    }
}

/// The files Stackyard makes in its data directory.
const OWN_FILES: [&str; 6] = [
    "stackyard.db",
    "stackyard.db-wal",
    "stackyard.db-shm",
    "stackyard.db-journal",
    "setup-url.txt",
    "secret.key",
];

impl ServeArgs {
    /// What the web forms may choose among.
    pub fn policy(&self) -> app::state::Policy {
        app::state::Policy {
            libvirt: app::hosts::service::uri::UriPolicy {
                transports: self.libvirt_transports.clone(),
                params: self.libvirt_uri_params.clone(),
            },
            reload_commands: app::dns::nsd::ReloadCommands::new(&self.dns_reload_commands),
            mail_resolver_any: self.mail_resolver_any,
            dns_reload_timeout: std::time::Duration::from_secs(self.dns_reload_timeout),
        }
    }

    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.db.data_dir.join("secret.key"))
    }

    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        // cargo-leptos sets this when it runs the server itself.
        if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
            return PathBuf::from(root);
        }
        // target/release/stackyard → target/site, wherever it is started from.
        if let Some(beside) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("../site")))
        {
            if beside.join("pkg").is_dir() {
                return beside;
            }
        }
        PathBuf::from("target/site")
    }

    pub fn auth_config(&self) -> Result<AuthConfig, ServerError> {
        let public_origin = match &self.public_url {
            None => None,
            Some(url) => Some(origin_of(url).ok_or_else(|| {
                ServerError::Config(format!(
                    "--public-url {url:?} is not an http(s) URL such as https://console.example.org"
                ))
            })?),
        };
        Ok(AuthConfig {
            idle_timeout: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            lifetime: chrono::Duration::hours(i64::from(self.session_lifetime_hours)),
            // An https public URL means people reach the console over TLS
            // (itself or a proxy): the cookie must never travel in clear.
            secure_cookies: self.secure_cookies
                || public_origin
                    .as_deref()
                    .is_some_and(|o| o.starts_with("https://")),
            hash_cost: HashCost::PRODUCTION,
            public_origin,
            trusted_proxies: self.trusted_proxies.clone(),
            ..AuthConfig::default()
        })
    }

    /// The base URL to print in messages (the setup link).
    pub fn base_url(&self) -> String {
        self.public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

/// `scheme://host[:port]` of a URL as a browser writes it in `Origin`:
/// lowercased, without the scheme's default port; `None` unless http(s).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    // A browser's `Origin` leaves the scheme's default port out, so
    // `https://x:443` must compare equal to `https://x`.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::{origin_of, ServeArgs};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn auth_config(args: &[&str]) -> app::auth::service::AuthConfig {
        let cli =
            Cli::try_parse_from(std::iter::once("stackyard").chain(args.iter().copied())).unwrap();
        cli.serve.auth_config().unwrap()
    }

    #[test]
    fn an_https_public_url_makes_the_cookie_secure_and_matches_the_browsers_origin() {
        let https = auth_config(&["--public-url", "https://Console.Example.org:443/"]);
        assert!(https.secure_cookies);
        assert_eq!(
            https.public_origin.as_deref(),
            Some("https://console.example.org")
        );
        let http = auth_config(&["--public-url", "http://192.0.2.7:3000"]);
        assert!(!http.secure_cookies);
        assert!(!auth_config(&[]).secure_cookies);
        assert!(auth_config(&["--secure-cookies"]).secure_cookies);
    }

    #[test]
    fn trusted_proxies_are_addresses() {
        let two = auth_config(&[
            "--trusted-proxy",
            "10.0.0.2,::1",
            "--trusted-proxy",
            "10.0.0.3",
        ]);
        let expected: Vec<std::net::IpAddr> = ["10.0.0.2", "::1", "10.0.0.3"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(two.trusted_proxies, expected);
        assert!(auth_config(&[]).trusted_proxies.is_empty());
        let wrong = Cli::try_parse_from(["stackyard", "--trusted-proxy", "proxy.example.org"]);
        assert!(wrong.is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Console.Example.org/x?y").as_deref(),
            Some("https://console.example.org")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            origin_of("https://console.example.org:443/").as_deref(),
            Some("https://console.example.org")
        );
        assert_eq!(
            origin_of("http://console.example.org:80").as_deref(),
            Some("http://console.example.org")
        );
        assert_eq!(
            origin_of("https://console.example.org:8443").as_deref(),
            Some("https://console.example.org:8443")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("https://user@evil"), None);
        assert_eq!(origin_of("null"), None);
    }
}
