//! Fixtures for the server's integration tests: a server on a throwaway
//! database, accounts of each role, and requests as a browser sends them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use app::auth::{service as auth, Role};
use app::state::AppState;
use axum::{body::Body, extract::connect_info::MockConnectInfo, Router};
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use stackyard_server::{db, web};
use std::net::SocketAddr;
use tower::ServiceExt;

pub const HOST: &str = "console.test";
pub const ORIGIN: &str = "http://console.test";
/// Where the tests' requests come from, unless a test says otherwise.
pub const PEER: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
    40000,
);
/// A browser on the server itself.
pub const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);
pub const PASSWORD: &str = "correct horse battery";
/// How long one request may take before the test fails instead of hanging.
pub const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct TestApp {
    pub router: Router,
    pub hosts: app::hosts::registry::HostRegistry,
    pub db: DatabaseConnection,
    /// The state behind `router`, for a router with other limits.
    pub state: app::state::AppState,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Response {
    /// The session token a `Set-Cookie` header hands out, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(auth::SESSION_COOKIE))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::on_sqlite(PEER, |_| {}).await
    }

    pub async fn with_url(url: &str, dir: tempfile::TempDir) -> Self {
        Self::configured(url, dir, PEER, |_| {}).await
    }

    /// A server on SQLite whose every request comes from `peer`.
    pub async fn sqlite_from(peer: SocketAddr) -> Self {
        Self::on_sqlite(peer, |_| {}).await
    }

    /// A server on SQLite whose auth settings `configure` changes.
    pub async fn sqlite_with(configure: impl FnOnce(&mut auth::AuthConfig)) -> Self {
        Self::on_sqlite(PEER, |state| configure(&mut state.auth)).await
    }

    /// A server on SQLite whose state `configure` changes before it serves.
    pub async fn sqlite_with_state(configure: impl FnOnce(&mut AppState)) -> Self {
        Self::on_sqlite(PEER, configure).await
    }

    /// A server whose mail check may ask any resolver (`--mail-resolver-any`):
    /// the tests' NSD answers on a loopback port.
    pub async fn sqlite_any_resolver() -> Self {
        Self::sqlite_with_state(|state| {
            state.policy = std::sync::Arc::new(app::state::Policy {
                mail_resolver_any: true,
                ..app::state::Policy::default()
            });
        })
        .await
    }

    /// A server on a throwaway SQLite database.
    async fn on_sqlite(peer: SocketAddr, configure: impl FnOnce(&mut AppState)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("stackyard.db").display()
        );
        Self::configured(&url, dir, peer, configure).await
    }

    async fn configured(
        url: &str,
        dir: tempfile::TempDir,
        peer: SocketAddr,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        let db = db::connect(url).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        let options = web::leptos_options(&dir.path().join("site"), "127.0.0.1:0".parse().unwrap());
        let config = auth::AuthConfig {
            hash_cost: auth::HashCost::TESTING,
            // The console's name in these tests (a name is answered only
            // when it is the public URL's).
            public_origin: Some(ORIGIN.to_owned()),
            ..auth::AuthConfig::default()
        };
        app::hosts::registry::ensure_demo_host(&db, dir.path())
            .await
            .unwrap();
        let mut state = AppState::new(
            db.clone(),
            options,
            config,
            app::sealed::SealingKey::generate(),
        );
        configure(&mut state);
        state.hosts.load(&db).await.unwrap();
        let hosts = state.hosts.clone();
        let router = web::router(state.clone()).layer(MockConnectInfo(peer));
        Self {
            router,
            db,
            hosts,
            state,
            _dir: dir,
        }
    }

    /// How many failed sign-ins (password confirmations included) `name` has.
    pub async fn failed_logins(&self, name: &str) -> u64 {
        use app::auth::entity::login_attempt::{Column, Entity};
        use sea_orm::{ColumnTrait, QueryFilter};
        Entity::find()
            .filter(Column::Username.eq(name))
            .filter(Column::Success.eq(false))
            .count(&self.db)
            .await
            .unwrap()
    }

    /// The throwaway directory its SQLite database lives in.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Where this server looks for its site files (`pkg/`, the favicon).
    pub fn site_root(&self) -> std::path::PathBuf {
        self._dir.path().join("site")
    }

    /// An account `name` with `role` and [`PASSWORD`]: its id.
    pub async fn account(&self, name: &str, role: Role) -> i32 {
        auth::create_account(&self.db, name, PASSWORD, role, auth::HashCost::TESTING)
            .await
            .unwrap()
            .id
    }

    /// An account `name` with `role` and [`PASSWORD`], signed in: its
    /// session cookie (`name=value`), as a browser would send it.
    pub async fn with_user(&self, name: &str, role: Role) -> String {
        let id = self.account(name, role).await;
        self.session(id).await
    }

    /// A fresh session cookie (`name=value`) for an account.
    pub async fn session(&self, id: i32) -> String {
        let token = auth::create_session(&self.db, id, "192.0.2.10", &auth::AuthConfig::default())
            .await
            .unwrap();
        format!("{}={token}", auth::SESSION_COOKIE)
    }

    /// Sends a request and reads the whole answer. A request that takes
    /// longer than [`REQUEST_LIMIT`] fails the test with its method and path
    /// instead of hanging the run.
    pub async fn send(&self, request: Request<Body>) -> Response {
        let what = format!("{} {}", request.method(), request.uri());
        let exchange = async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes().to_vec();
            (parts, bytes)
        };
        let (parts, bytes) = tokio::time::timeout(REQUEST_LIMIT, exchange)
            .await
            .unwrap_or_else(|_| panic!("{what} did not finish within {REQUEST_LIMIT:?}"));
        Response {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Only the status of a GET: for streams that never end (the event stream).
    pub async fn get_status(&self, path: &str, cookie: Option<&str>) -> StatusCode {
        self.get_head(path, cookie).await.status()
    }

    /// A GET answered as far as its head; the body is left unread.
    async fn get_head(&self, path: &str, cookie: Option<&str>) -> axum::response::Response {
        self.router
            .clone()
            .oneshot(get_request(path, cookie))
            .await
            .unwrap()
    }

    /// A GET whose whole body must arrive within `limit`: `None` when it
    /// is still streaming then (an event stream that was let through).
    pub async fn get_whole(
        &self,
        path: &str,
        cookie: Option<&str>,
        limit: std::time::Duration,
    ) -> (StatusCode, Option<String>) {
        let response = self.get_head(path, cookie).await;
        let status = response.status();
        let body = tokio::time::timeout(limit, response.into_body().collect())
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b.unwrap().to_bytes()).into_owned());
        (status, body)
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        self.send(get_request(path, cookie)).await
    }

    /// A same-origin form POST, as the console's own pages send it.
    pub async fn post(&self, path: &str, form: &str, cookie: Option<&str>) -> Response {
        self.post_from(path, form, cookie, Some(ORIGIN)).await
    }

    pub async fn post_from(
        &self,
        path: &str,
        form: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Response {
        let mut request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    pub async fn login(&self, name: &str, password: &str) -> Response {
        let form = format!("username={name}&password={}", password.replace(' ', "+"));
        self.post("/api/auth/login", &form, None).await
    }

    pub async fn audit_rows(&self) -> Vec<app::auth::entity::audit_log::Model> {
        app::auth::entity::audit_log::Entity::find()
            .all(&self.db)
            .await
            .unwrap()
    }

    pub async fn audit_count(&self) -> u64 {
        app::auth::entity::audit_log::Entity::find()
            .count(&self.db)
            .await
            .unwrap()
    }
}

/// A GET of `path` as the test host, with the session cookie if any.
fn get_request(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path).header(header::HOST, HOST);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

/// A form body, `key=value&…`, each value percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}
