//! The gate every request passes: resolves the session cookie, refuses
//! cross-origin state changes (CSRF), and enforces the access each server
//! function and page declared (`app::auth::policy`, `app::routes`). Pages
//! are known by the route axum matched ([`MatchedPath`]), so the router
//! itself decides which page a path is. Anything without a declaration is
//! refused. Every refusal is written to the audit log.

use app::{
    auth::{
        policy::{self, Access, Decision},
        service::{self as auth, AuditEntry, RequestAuth},
    },
    error::AppError,
    state::AppState,
};
use axum::{
    body::Body,
    extract::{connect_info::MockConnectInfo, ConnectInfo, MatchedPath, Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// What the gate needs: the state, and the page routes Leptos registered.
#[derive(Clone)]
pub struct Gate {
    pub state: AppState,
    pub pages: Arc<Vec<String>>,
    pub quiet: Arc<QuietDenials>,
}

/// Which refusals of callers who are not signed in get an audit line: one
/// per address and path every [`QuietDenials::EVERY`] (a bookmark opened
/// before signing in, a scanner walking the site would otherwise grow the
/// log without bound). Refusals of signed-in users are always logged.
#[derive(Debug, Default)]
pub struct QuietDenials {
    logged: Mutex<HashMap<(String, String), Instant>>,
}

impl QuietDenials {
    /// How long one address's refusals for one path stay unlogged.
    pub const EVERY: Duration = Duration::from_secs(10 * 60);
    /// Addresses and paths remembered; when that many were logged within
    /// [`Self::EVERY`], further anonymous refusals are not logged until
    /// they age.
    pub const MAX: usize = 10_000;

    /// Whether this refusal of a caller who is not signed in is logged.
    pub fn log(&self, client_addr: &str, path: &str, now: Instant) -> bool {
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let key = (client_addr.to_owned(), path.to_owned());
        if logged
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < Self::EVERY)
        {
            return false;
        }
        if logged.len() >= Self::MAX {
            logged.retain(|_, at| now.duration_since(*at) < Self::EVERY);
            if logged.len() >= Self::MAX {
                return false;
            }
        }
        logged.insert(key, now);
        true
    }
}

impl Gate {
    /// Whether the route axum matched is one of the console's pages
    /// (rendered by Leptos).
    pub fn is_page(&self, route: Option<&str>) -> bool {
        route.is_some_and(|route| self.pages.iter().any(|p| p == route))
    }

    /// The declared access of a request to `path`, which axum routed to
    /// `route` (`None`: the fallback); `None` means "not declared".
    pub fn access_for(&self, path: &str, route: Option<&str>) -> Option<Access> {
        if path.starts_with("/api/") {
            return policy::endpoint(path);
        }
        let Some(route) = route else {
            // Site files and paths no route claims (the 404 page).
            return Some(Access::Public);
        };
        if let Some(plain) = policy::routes().find(|r| r.path == route) {
            return Some(plain.access);
        }
        if self.is_page(Some(route)) {
            return policy::page(route);
        }
        // /healthz and the bundle's files.
        Some(Access::Public)
    }
}

/// The client's address: the peer's, unless the peer is one of the
/// `trusted` proxies. Then the hops its `Forwarded` (RFC 7239) or, without
/// it, `X-Forwarded-For` header lists are read from the nearest back, and
/// the first that is not a trusted proxy is the client; everything before
/// it was written by the client and may be anything. A hop that is not an
/// address (`unknown`, an obfuscated name) stops the walk at the last
/// trusted hop.
pub fn client_addr(request: &Request<Body>, trusted: &[IpAddr]) -> String {
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|MockConnectInfo(addr)| addr.ip())
        });
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    let mut client = peer;
    if trusted.contains(&peer) {
        for hop in forwarded_hops(request.headers()).iter().rev() {
            match hop {
                Some(ip) if trusted.contains(ip) => client = *ip,
                Some(ip) => {
                    client = *ip;
                    break;
                }
                None => break,
            }
        }
    }
    client.to_string()
}

/// The hops a proxy chain recorded, the client's first: from every
/// `Forwarded` header's `for=` if there is one, else from `X-Forwarded-For`.
/// `None` for a hop that is not an IP address.
fn forwarded_hops(headers: &http::HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.to_str().unwrap_or("unknown").split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(key, _)| key.eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    values(http::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .map(|node| parse_node(node))
        .collect()
}

/// `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:4711"` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// Whether a state-changing request comes from our own pages: its Origin
/// (or, failing that, its Referer) names this server.
pub fn same_origin(headers: &http::HeaderMap, public_origin: Option<&str>) -> bool {
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null")
        .and_then(crate::config::origin_of)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::config::origin_of)
        });
    let Some(claimed) = claimed else {
        return false;
    };
    if let Some(public) = public_origin {
        return claimed == public;
    }
    // Without a configured public URL, the browser's own Host header is the
    // origin it believes it is talking to; a foreign page cannot set it.
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    claimed
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Whether a request that names `host` (its `Host` header, or the
/// authority of an HTTP/2 request) is meant for this console. A page on
/// another site can make a browser send requests with its own name by
/// pointing that name's DNS at this server (DNS rebinding); the browser
/// then treats the answers as that site's. So a name is accepted only when
/// it is the `--public-url`'s; an IP address cannot be rebound and is
/// always accepted, and `localhost` when the console listens on loopback
/// (or everywhere).
pub fn host_allowed(host: &str, public_origin: Option<&str>, listen: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if let Some(public) = public_origin {
        if public.split_once("://").is_some_and(|(scheme, authority)| {
            authority == host || authority == default_port_stripped(&host, scheme)
        }) {
            return true;
        }
    }
    let name = match host.strip_prefix('[') {
        // [v6] or [v6]:port
        Some(rest) => {
            return rest
                .split_once(']')
                .is_some_and(|(ip, _)| ip.parse::<IpAddr>().is_ok())
        }
        None => host
            .rsplit_once(':')
            .map_or(host.as_str(), |(name, _)| name),
    };
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    name == "localhost" && (listen.ip().is_loopback() || listen.ip().is_unspecified())
}

/// `host` without the scheme's default port (`x:443` for https is `x`).
fn default_port_stripped<'h>(host: &'h str, scheme: &str) -> &'h str {
    let default = if scheme == "https" { ":443" } else { ":80" };
    host.strip_suffix(default).unwrap_or(host)
}

fn refusal(api: bool, status: StatusCode, error: AppError) -> Response {
    if api {
        let body = serde_json::to_string(&error).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        (status, format!("{error}\n")).into_response()
    }
}

pub async fn gate(State(gate): State<Gate>, mut request: Request<Body>, next: Next) -> Response {
    let state = &gate.state;
    let named = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    if let Some(host) = named {
        let listen = state.leptos_options.site_addr;
        if !host_allowed(&host, state.auth.public_origin.as_deref(), listen) {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "This console does not answer to the name {host:?}. Open it by its IP \
                     address, or start Stackyard with --public-url naming the address people \
                     open (e.g. --public-url https://{host}).\n"
                ),
            )
                .into_response();
        }
    }
    let client_addr = client_addr(&request, &state.auth.trusted_proxies);
    let (user, session_hash) = match auth::token_from_headers(request.headers(), &state.auth) {
        None => (None, None),
        Some(token) => {
            match auth::resolve_session(&state.db, &token, &state.auth, chrono::Utc::now()).await {
                Ok(Some((user, hash))) => (Some(user), Some(hash)),
                Ok(None) => (None, None),
                Err(e) => {
                    tracing::error!("session lookup: {e}");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The database did not answer.\n",
                    )
                        .into_response();
                }
            }
        }
    };
    let caller = RequestAuth {
        user,
        session_hash,
        client_addr,
    };
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let api = path.starts_with("/api/");
    // A page's path with a trailing slash (`/hosts/`) is routed nowhere; send
    // it to the page's own path, so it meets that page's access and nothing
    // else answers for it.
    if route.is_none() && !api && path.len() > 1 && path.ends_with('/') {
        // One leading slash, always: `//elsewhere.example/` must not become
        // a protocol-relative redirect to another site.
        let trimmed = path.trim_matches('/');
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let target = format!("/{trimmed}{query}");
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, target)]).into_response();
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );

    if !safe && !same_origin(request.headers(), state.auth.public_origin.as_deref()) {
        let entry = AuditEntry::by(&caller, "csrf", &path)
            .denied(format!("cross-origin {} refused", request.method()));
        auth::audit_best_effort(&state.db, entry).await;
        return refusal(
            api,
            StatusCode::FORBIDDEN,
            AppError::Forbidden("Cross-origin request refused.".into()),
        );
    }

    let decision = match gate.access_for(&path, route.as_deref()) {
        Some(access) => access.decide(caller.role()),
        None => Decision::Deny,
    };
    let logged = decision == Decision::Allow
        || caller.user.is_some()
        || gate.quiet.log(&caller.client_addr, &path, Instant::now());
    if !logged {
        tracing::debug!(path, client = %caller.client_addr, "refusal not logged again");
    } else if decision != Decision::Allow {
        let reason = match decision {
            Decision::SignIn => "not signed in",
            _ => "role does not allow it",
        };
        let action = if api { "api" } else { "page" };
        let entry = AuditEntry::by(&caller, action, &path).denied(reason);
        auth::audit_best_effort(&state.db, entry).await;
    }
    request.extensions_mut().insert(caller);

    match (decision, api) {
        (Decision::Allow, _) => next.run(request).await,
        (Decision::SignIn, true) => refusal(true, StatusCode::UNAUTHORIZED, AppError::Unauthorized),
        (Decision::Deny, true) => refusal(
            true,
            StatusCode::FORBIDDEN,
            AppError::Forbidden("Your role does not allow this.".into()),
        ),
        // Pages render the sign-in panel or the refusal in place (the same
        // decision, made by `Protected`), with the matching status. Any other
        // route (an event stream) gets the refusal alone: its handler never
        // runs, so nothing it would send reaches a refused caller.
        (decision, false) => {
            let status = if decision == Decision::SignIn {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            if !gate.is_page(route.as_deref()) {
                let error = if decision == Decision::SignIn {
                    AppError::Unauthorized
                } else {
                    AppError::Forbidden("Your role does not allow this.".into())
                };
                return refusal(false, status, error);
            }
            let mut response = next.run(request).await;
            *response.status_mut() = status;
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut request = Request::new(Body::empty());
        for (name, value) in headers {
            request.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    const PROXY: &str = "10.0.0.2:50000";

    fn trusted() -> Vec<IpAddr> {
        vec!["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()]
    }

    #[test]
    fn anonymous_refusals_are_logged_once_per_address_and_path_in_ten_minutes() {
        let quiet = QuietDenials::default();
        let t0 = Instant::now();
        assert!(quiet.log("192.0.2.1", "/hosts", t0));
        assert!(!quiet.log("192.0.2.1", "/hosts", t0 + Duration::from_secs(60)));
        assert!(quiet.log("192.0.2.1", "/dns", t0));
        assert!(quiet.log("192.0.2.2", "/hosts", t0));
        assert!(quiet.log("192.0.2.1", "/hosts", t0 + QuietDenials::EVERY));
        // A flood of distinct paths fills the memory, then stops logging
        // until the entries age.
        let flood = QuietDenials::default();
        for i in 0..QuietDenials::MAX {
            assert!(flood.log("198.51.100.9", &format!("/x{i}"), t0));
        }
        assert!(!flood.log("198.51.100.9", "/one-more", t0));
        assert!(flood.log("198.51.100.9", "/one-more", t0 + QuietDenials::EVERY));
    }

    #[test]
    fn only_the_consoles_own_names_are_answered() {
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let lan: SocketAddr = "192.0.2.5:3000".parse().unwrap();
        // Addresses cannot be rebound: always answered.
        for host in ["192.0.2.5:3000", "127.0.0.1", "[::1]:3000", "[2001:db8::5]"] {
            assert!(host_allowed(host, None, lan), "{host}");
        }
        // A name only when it is the public URL's.
        assert!(!host_allowed("evil.example:3000", None, lan));
        assert!(!host_allowed("console.example.org", None, any));
        let public = Some("https://console.example.org");
        assert!(host_allowed("Console.Example.org", public, lan));
        assert!(host_allowed("console.example.org:443", public, lan));
        assert!(!host_allowed("console.example.org:8443", public, lan));
        assert!(!host_allowed("evil.example", public, lan));
        let with_port = Some("http://console.example.org:3000");
        assert!(host_allowed("console.example.org:3000", with_port, lan));
        // localhost only where the console listens on loopback.
        assert!(host_allowed("localhost:3000", None, lo));
        assert!(host_allowed("localhost:3000", None, any));
        assert!(!host_allowed("localhost:3000", None, lan));
        assert!(!host_allowed("[::1", None, lan));
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let spoof = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(
            client_addr(&from("198.51.100.4:1", &spoof), &trusted()),
            "198.51.100.4"
        );
        assert_eq!(client_addr(&from(PROXY, &spoof), &[]), "10.0.0.2");
        assert_eq!(client_addr(&from(PROXY, &spoof), &trusted()), "203.0.113.9");
        // No header: the proxy itself.
        assert_eq!(client_addr(&from(PROXY, &[]), &trusted()), "10.0.0.2");
    }

    #[test]
    fn the_client_is_the_nearest_hop_that_is_not_a_trusted_proxy() {
        // The client wrote 6.6.6.6 itself; our proxies appended the rest.
        let chain = [("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.3")];
        assert_eq!(client_addr(&from(PROXY, &chain), &trusted()), "203.0.113.9");
        // Several header lines are one list.
        let lines = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(client_addr(&from(PROXY, &lines), &trusted()), "203.0.113.9");
        // Forwarded wins over X-Forwarded-For, with ports and IPv6.
        let rfc = [
            (
                "forwarded",
                r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.3"#,
            ),
            ("x-forwarded-for", "6.6.6.6"),
        ];
        assert_eq!(
            client_addr(&from(PROXY, &rfc), &trusted()),
            "2001:db8:cafe::17"
        );
        let port = [("forwarded", r#"for="192.0.2.43:47011""#)];
        assert_eq!(client_addr(&from(PROXY, &port), &trusted()), "192.0.2.43");
        // A hop that is no address stops at the last trusted one.
        let unknown = [("x-forwarded-for", "203.0.113.9, unknown, 10.0.0.3")];
        assert_eq!(client_addr(&from(PROXY, &unknown), &trusted()), "10.0.0.3");
    }
}
