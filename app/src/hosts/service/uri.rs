//! Which libvirt URIs a person may give a host: the server's configuration
//! names the drivers and transports (`--libvirt-transport`) and the query
//! parameters (`--libvirt-uri-param`) it allows; the form chooses within
//! them. libvirt URIs can do more than connect: `qemu+ext` runs any program
//! (`?command=`), `?socket=` and `?keyfile=` point at any file, `no_verify=1`
//! turns off TLS checks, and `test:///FILE` reads any file and echoes its
//! parse errors. None of that is a web form's to choose.

/// Drivers and transports allowed when the configuration names none.
pub const DEFAULT_TRANSPORTS: [&str; 3] = ["qemu", "qemu+ssh", "qemu+tls"];

/// Query parameters allowed when the configuration names none: they only
/// shape how a connection behaves, never what it runs or reads.
pub const DEFAULT_PARAMS: [&str; 1] = ["no_tty"];

/// What the server allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriPolicy {
    /// `driver` or `driver+transport`, as the URI's scheme writes it.
    pub transports: Vec<String>,
    /// Query parameter names.
    pub params: Vec<String>,
}

impl Default for UriPolicy {
    fn default() -> Self {
        UriPolicy {
            transports: DEFAULT_TRANSPORTS.iter().map(|s| (*s).to_owned()).collect(),
            params: DEFAULT_PARAMS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// Why a URI is not allowed, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriNotAllowed {
    #[error("\"{0}\" is not a libvirt URI: write it as driver[+transport]://[user@]host/path, such as qemu+ssh://root@host.example.org/system.")]
    Malformed(String),
    #[error("{scheme}:// is not allowed on this server{}; it allows {allowed}. (The server's --libvirt-transport option names what it allows.)", if *.test { ": the test driver reads any file it is given, and is for the demo host only" } else { "" })]
    Transport {
        scheme: String,
        allowed: String,
        test: bool,
    },
    #[error("The URI parameter \"{name}\" is not allowed on this server{}. (The server's --libvirt-uri-param option names the parameters it allows{}.)", reason(name), allowed_list(allowed))]
    Param { name: String, allowed: String },
}

fn reason(name: &str) -> &'static str {
    match name {
        "command" => ": it runs a program",
        "socket" | "keyfile" | "pkipath" | "known_hosts" => ": it points the connection at a file",
        "no_verify" => ": it turns off the TLS certificate check",
        "netcat" | "proxy" => ": it chooses the program run on the host",
        _ => "",
    }
}

fn allowed_list(allowed: &str) -> String {
    if allowed.is_empty() {
        String::new()
    } else {
        format!(": now {allowed}")
    }
}

impl UriPolicy {
    /// Whether `uri` may be given to a host.
    pub fn check(&self, uri: &str) -> Result<(), UriNotAllowed> {
        let uri = uri.trim();
        let malformed = || UriNotAllowed::Malformed(uri.to_owned());
        let (scheme, rest) = uri.split_once("://").ok_or_else(malformed)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
        {
            return Err(malformed());
        }
        if !self
            .transports
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&scheme))
        {
            return Err(UriNotAllowed::Transport {
                test: scheme == "test" || scheme.starts_with("test+"),
                scheme,
                allowed: self.transports.join(", "),
            });
        }
        let Some((_, query)) = rest.split_once('?') else {
            return Ok(());
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            // Percent-encoded names would slip past a plain comparison.
            if name.contains('%') || !self.params.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                return Err(UriNotAllowed::Param {
                    name: name.to_owned(),
                    allowed: self.params.join(", "),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_allows_local_ssh_and_tls_qemu_only() {
        let policy = UriPolicy::default();
        for ok in [
            "qemu:///system",
            "qemu+ssh://root@host.example.org/system",
            "qemu+tls://host.example.org/system",
            "QEMU+SSH://root@host/system?no_tty=1",
        ] {
            assert_eq!(policy.check(ok), Ok(()), "{ok}");
        }
        let refused = |uri: &str| policy.check(uri).unwrap_err().to_string();
        assert!(
            refused("qemu+ext:///system?command=/bin/sh").contains("qemu+ext:// is not allowed")
        );
        let test = refused("test:///etc/shadow");
        assert!(test.contains("demo host only"), "{test}");
        assert!(refused("qemu+ssh://h/system?keyfile=/root/.ssh/id_rsa").contains("\"keyfile\""));
        assert!(refused("qemu:///system?socket=/run/other.sock")
            .contains("points the connection at a file"));
        assert!(refused("qemu+tls://h/system?no_verify=1").contains("TLS certificate check"));
        assert!(refused("qemu:///system?no_tty=1&%6Eo_verify=1").contains("not allowed"));
        assert!(refused("qemu+unix:///system").contains("allows qemu, qemu+ssh, qemu+tls"));
        assert!(refused("/var/run/libvirt").contains("is not a libvirt URI"));
        assert!(refused("qe mu:///system").contains("is not a libvirt URI"));
    }

    #[test]
    fn the_configuration_widens_it() {
        let policy = UriPolicy {
            transports: vec!["qemu+ssh".into(), "test".into()],
            params: vec!["keyfile".into()],
        };
        assert_eq!(policy.check("test:///default"), Ok(()));
        assert_eq!(
            policy.check("qemu+ssh://h/system?keyfile=/etc/stackyard/id_ed25519"),
            Ok(())
        );
        assert!(policy.check("qemu:///system").is_err());
    }
}
