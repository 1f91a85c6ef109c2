//! Accounts, sessions, throttling, CSRF and the authorization matrix, as
//! seen over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use std::time::Duration;

use app::auth::{policy, service as auth, Access, Role};
use common::{TestApp, ORIGIN, PASSWORD};
use http::StatusCode;

/// Every registered server function and every page route, from Leptos' own
/// registries: a new one without an access declaration fails here.
#[tokio::test]
async fn authorization_matrix_covers_every_endpoint_and_page() {
    let app = TestApp::sqlite().await;
    let mut cookies = Vec::new();
    for role in Role::ALL {
        let id = app.account(role.as_str(), role).await;
        cookies.push((Some(role), id));
    }

    let endpoints: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    assert!(
        endpoints.len() >= 10,
        "the registry lists only {endpoints:?}"
    );
    let pages: Vec<String> = stackyard_server::web::route_list()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert!(pages.iter().any(|p| p == "/users"), "{pages:?}");

    let mut missing = Vec::new();
    for path in &endpoints {
        if policy::endpoint(path).is_none() {
            missing.push(path.to_string());
        }
    }
    for page in &pages {
        if policy::page(page).is_none() {
            missing.push(page.clone());
        }
    }
    let routes: Vec<&policy::RoutePolicy> = policy::routes().collect();
    assert!(routes.iter().any(|r| r.path == "/events/hosts"));
    assert!(missing.is_empty(), "no access declared for {missing:?}");

    let callers: Vec<(Option<Role>, Option<i32>)> = std::iter::once((None, None))
        .chain(cookies.iter().map(|(r, id)| (*r, Some(*id))))
        .collect();

    for path in &endpoints {
        let access = policy::endpoint(path).unwrap();
        for (role, id) in &callers {
            // A fresh session per call: some endpoints (logout) end it.
            let cookie = match id {
                Some(id) => Some(app.session(*id).await),
                None => None,
            };
            let before = app.audit_count().await;
            let r = app.post(path, "", cookie.as_deref()).await;
            check(
                path,
                access,
                *role,
                r.status,
                before,
                app.audit_count().await,
            );
        }
    }
    for route in &routes {
        for (role, id) in &callers {
            let cookie = match id {
                Some(id) => Some(app.session(*id).await),
                None => None,
            };
            let before = app.audit_count().await;
            let mut status = app.get_status(route.path, cookie.as_deref()).await;
            if route.access.allows(*role) && status == StatusCode::FORBIDDEN {
                // Let through by the gate, refused by the handler on its
                // own grounds (the console's WebSocket wants its Origin
                // and a ticket): the matrix checks the gate.
                let (_, body) = app
                    .get_whole(route.path, cookie.as_deref(), Duration::from_secs(2))
                    .await;
                let body = body.unwrap_or_default();
                assert!(
                    !body.contains("Your role does not allow this"),
                    "{} refused an allowed caller at the gate",
                    route.path
                );
                println!("{}: the handler's own refusal: {}", route.path, body.trim());
                status = StatusCode::OK;
            }
            check(
                route.path,
                route.access,
                *role,
                status,
                before,
                app.audit_count().await,
            );
            if !route.access.allows(*role) {
                // A refusal is the whole answer: the route's handler never
                // runs, so an event stream sends nothing to a refused caller.
                let (status, body) = app
                    .get_whole(route.path, cookie.as_deref(), Duration::from_secs(2))
                    .await;
                let body = body.unwrap_or_else(|| {
                    panic!(
                        "{} kept streaming to a refused caller ({status})",
                        route.path
                    )
                });
                assert!(
                    !body.contains("event:") && !body.contains("data:"),
                    "{} sent its stream to a refused caller: {body:?}",
                    route.path
                );
            }
        }
    }
    for page in &pages {
        let access = policy::page(page).unwrap();
        let path = page
            .split('/')
            .map(|seg| {
                if seg.starts_with(':') || seg.starts_with('*') {
                    "x"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        for (role, id) in &callers {
            let cookie = match id {
                Some(id) => Some(app.session(*id).await),
                None => None,
            };
            let before = app.audit_count().await;
            let r = app.get(&path, cookie.as_deref()).await;
            check(
                &path,
                access,
                *role,
                r.status,
                before,
                app.audit_count().await,
            );
        }
    }
}

fn check(
    path: &str,
    access: Access,
    role: Option<Role>,
    status: StatusCode,
    before: u64,
    after: u64,
) {
    let who = role.map_or("anonymous", Role::as_str);
    if access.allows(role) {
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "{who} should reach {path} ({access:?}) but got {status}"
        );
    } else {
        let expected = if role.is_none() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "{who} on {path} ({access:?})");
        assert!(
            after > before,
            "the denial of {path} for {who} left no audit row"
        );
    }
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_user_look_the_same() {
    let app = TestApp::sqlite().await;
    let id = app.account("alice", Role::Operator).await;
    let disabled = app.account("bob", Role::Viewer).await;
    auth::set_enabled(&app.db, disabled, false).await.unwrap();

    let wrong = app.login("alice", "not the password at all").await;
    let unknown = app.login("nobody", PASSWORD).await;
    let off = app.login("bob", PASSWORD).await;
    for r in [&wrong, &unknown, &off] {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.json(), serde_json::json!({"Refused": auth::WRONG_LOGIN}));
        assert!(r.session_cookie().is_none());
    }
    // The audit log keeps the real reasons.
    let reasons: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| r.reason)
        .collect();
    for reason in ["wrong password", "unknown name", "account disabled"] {
        assert!(reasons.iter().any(|r| r == reason), "{reasons:?}");
    }

    let ok = app.login("Alice", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["username"], "alice");
    assert_eq!(ok.json()["id"], id);
}

#[tokio::test]
async fn five_failures_throttle_further_attempts() {
    let app = TestApp::sqlite().await;
    app.account("carol", Role::Viewer).await;
    for _ in 0..5 {
        let r = app.login("carol", "wrong wrong wrong").await;
        assert_eq!(r.json(), serde_json::json!({"Refused": auth::WRONG_LOGIN}));
    }
    // Even the right password is refused now, with a delay.
    let r = app.login("carol", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let message = r.json()["TooMany"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.starts_with("Too many failed logins. Try again in "),
        "{message}"
    );
    assert!(r.session_cookie().is_none());
    // An unknown name is throttled the same way: no hint that carol exists.
    for _ in 0..5 {
        app.login("nobody", "wrong wrong wrong").await;
    }
    let r = app.login("nobody", PASSWORD).await;
    assert!(r.json()["TooMany"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Too many failed logins"));

    // Refused attempts are not failures: they never extend the delay, so a
    // trickle of them cannot keep an account locked.
    let from = "192.0.2.10";
    let delay = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            auth::throttle_delay(&db, "carol", from, chrono::Utc::now())
                .await
                .unwrap()
        }
    };
    let first = delay(&app).await.unwrap();
    for _ in 0..3 {
        app.login("carol", PASSWORD).await;
    }
    let again = delay(&app).await.unwrap();
    assert!(again <= first, "{again} should not exceed {first}");
    // A real failure does: 30 s doubles to 60 s.
    auth::record_attempt(&app.db, "carol", from, false)
        .await
        .unwrap();
    let longer = delay(&app).await.unwrap();
    assert!(
        longer > first + 20,
        "{longer} should be about twice {first}"
    );

    // Another address may still try carol: six failures are far from the
    // 20 that throttle a name from everywhere.
    let elsewhere = auth::throttle_delay(&app.db, "carol", "198.51.100.7", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(elsewhere, None);
}

#[tokio::test]
async fn a_burst_of_logins_gets_at_most_five_verifications() {
    let app = TestApp::sqlite().await;
    app.account("erin", Role::Viewer).await;
    let before = app.state.auth.logins.verifications();
    let burst = (0..500).map(|_| app.login("erin", "wrong wrong wrong"));
    let answers = futures::future::join_all(burst).await;
    let verified = app.state.auth.logins.verifications() - before;
    assert!(
        verified <= 5,
        "{verified} verifications for one name and address"
    );
    assert!(verified >= 1);
    let mut wrong = 0;
    for r in &answers {
        match r.status {
            StatusCode::CONFLICT => {
                assert_eq!(r.json(), serde_json::json!({"Refused": auth::WRONG_LOGIN}));
                wrong += 1;
            }
            // Refused at once: by the login gate, or by the server's
            // bound on requests in flight.
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("{other}: {}", r.body),
        }
    }
    assert_eq!(wrong, verified, "each verification answered once");

    // Once the delay has passed (the failures moved 20 minutes back), the
    // right password works.
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    app.db
        .execute(Statement::from_string(
            backend,
            "UPDATE login_attempt SET at = datetime(at, '-20 minutes')".to_owned(),
        ))
        .await
        .unwrap();
    let ok = app.login("erin", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_invalidates_it() {
    let app = TestApp::sqlite().await;
    app.account("dave", Role::Viewer).await;
    let first = app.login("dave", PASSWORD).await.session_cookie().unwrap();
    let set_cookie = app.login("dave", PASSWORD).await;
    let raw = set_cookie
        .headers
        .get(http::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Strict"),
        "{raw}"
    );
    // Signing in again with the old cookie replaces that session.
    let rotated = app
        .post(
            "/api/auth/login",
            &format!("username=dave&password={}", PASSWORD.replace(' ', "+")),
            Some(&first),
        )
        .await
        .session_cookie()
        .unwrap();
    assert_ne!(first, rotated);
    assert_eq!(
        app.post("/api/auth/me", "", Some(&first)).await.json(),
        serde_json::Value::Null
    );
    assert_eq!(
        app.post("/api/auth/me", "", Some(&rotated)).await.json()["username"],
        "dave"
    );

    let out = app.post("/api/auth/logout", "", Some(&rotated)).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out
        .headers
        .get(http::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .contains("Max-Age=0"));
    let after = app.post("/api/dashboard/status", "", Some(&rotated)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::sqlite().await;
    let id = app.account("erin", Role::Operator).await;
    let here = app.session(id).await;
    let elsewhere = app.session(id).await;
    let new = "a much better passphrase";
    let form = format!(
        "current={}&password={}&confirm={}",
        PASSWORD.replace(' ', "+"),
        new.replace(' ', "+"),
        new.replace(' ', "+")
    );
    let r = app.post("/api/auth/password", &form, Some(&here)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.post("/api/dashboard/status", "", Some(&elsewhere))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post("/api/dashboard/status", "", Some(&here))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.login("erin", new).await.status, StatusCode::OK);

    // The current password is required, and the rules hold.
    let r = app
        .post(
            "/api/auth/password",
            "current=wrong&password=short&confirm=short",
            Some(&here),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["Invalid"]["field"], "current");
    let form = format!(
        "current={}&password=short&confirm=short",
        new.replace(' ', "+")
    );
    let r = app.post("/api/auth/password", &form, Some(&here)).await;
    assert_eq!(r.json()["Invalid"]["field"], "password");
    assert_eq!(
        r.json()["Invalid"]["message"],
        "Use at least 12 characters; this one has 5."
    );
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = TestApp::sqlite().await;
    let id = app.account("frank", Role::Admin).await;
    let cookie = app.session(id).await;
    let form = format!(
        "username=mallory&password={}&role=admin",
        PASSWORD.replace(' ', "+")
    );
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let before = app.audit_count().await;
        let r = app
            .post_from("/api/users/create", &form, Some(&cookie), origin)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "origin {origin:?}");
        let rows = app.audit_rows().await;
        assert_eq!(rows.len() as u64, before + 1);
        assert_eq!(rows.last().map(|r| r.action.as_str()), Some("csrf"));
    }
    // A Referer from our own origin is accepted when Origin is missing.
    let mut request = http::Request::post("/api/users/create")
        .header(http::header::HOST, common::HOST)
        .header(http::header::REFERER, format!("{ORIGIN}/users"))
        .header(http::header::COOKIE, &cookie)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    request = request.header("x-test", "referer");
    let r = app
        .send(request.body(axum::body::Body::from(form.clone())).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Logins are state changes too (login CSRF).
    let r = app
        .post_from(
            "/api/auth/login",
            &format!("username=frank&password={}", PASSWORD.replace(' ', "+")),
            None,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // And no state changes over GET.
    assert_eq!(
        app.get("/api/users/create", Some(&cookie)).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_disabled() {
    let app = TestApp::sqlite().await;
    let admin = app.account("grace", Role::Admin).await;
    let cookie = app.session(admin).await;
    let r = app
        .post(
            "/api/users/role",
            &format!("id={admin}&role=viewer"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json()["Refused"],
        "grace is the last enabled admin; make another account admin first."
    );
    let r = app
        .post(
            "/api/users/enabled",
            &format!("id={admin}&enabled=false"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json()["Refused"],
        "grace is the last enabled admin and cannot be disabled."
    );

    // With a second admin, the first may step down; then the second is last.
    let other = app.account("heidi", Role::Admin).await;
    let r = app
        .post(
            "/api/users/role",
            &format!("id={admin}&role=operator"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let heidi = app.session(other).await;
    let r = app
        .post(
            "/api/users/enabled",
            &format!("id={other}&enabled=false"),
            Some(&heidi),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Each attempt is in the audit log with its outcome and before/after.
    let rows = app.audit_rows().await;
    assert!(rows.iter().any(|r| r.action == "users.role"
        && r.outcome == "success"
        && r.summary == "role admin → operator"));
    assert!(rows
        .iter()
        .any(|r| r.action == "users.enabled" && r.outcome == "failed"));
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions() {
    let app = TestApp::sqlite().await;
    let admin = app.account("ivan", Role::Admin).await;
    let viewer = app.account("judy", Role::Viewer).await;
    let judy = app.session(viewer).await;
    let admin_cookie = app.session(admin).await;
    assert_eq!(
        app.post("/api/dashboard/status", "", Some(&judy))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .post(
            "/api/users/enabled",
            &format!("id={viewer}&enabled=false"),
            Some(&admin_cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.post("/api/dashboard/status", "", Some(&judy))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn users_are_validated_on_the_server() {
    let app = TestApp::sqlite().await;
    let admin = app.account("kim", Role::Admin).await;
    let cookie = app.session(admin).await;
    let cases = [
        (
            "username=kim&password=long+enough+pass&role=viewer",
            "username",
            "The name \"kim\" is taken.",
        ),
        (
            "username=bad+name&password=long+enough+pass&role=viewer",
            "username",
            "' ' is not allowed: use letters, digits, '.', '_' and '-'.",
        ),
        (
            "username=leo&password=short&role=viewer",
            "password",
            "Use at least 12 characters; this one has 5.",
        ),
        (
            "username=leo&password=long+enough+pass&role=root",
            "role",
            "Choose admin, operator or viewer.",
        ),
    ];
    for (form, field, message) in cases {
        let r = app.post("/api/users/create", form, Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert_eq!(r.json()["Invalid"]["field"], field, "{form}");
        assert_eq!(r.json()["Invalid"]["message"], message, "{form}");
    }
    // Nothing was half-written.
    let r = app.post("/api/users/list", "", Some(&cookie)).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let form = |t: &str, name: &str| {
        format!("token={t}&username={name}&password=first+admin+pass&confirm=first+admin+pass")
    };
    // Only from the server itself: the right link from elsewhere is refused.
    let remote = TestApp::sqlite().await;
    let token = auth::issue_setup_token(&remote.db).await.unwrap().unwrap();
    let r = remote
        .post("/api/auth/setup", &form(&token, "root"), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("on the server itself"), "{}", r.body);
    assert_eq!(auth::account_count(&remote.db).await.unwrap(), 0);

    let app = TestApp::sqlite_from(common::LOOPBACK).await;
    let token = auth::issue_setup_token(&app.db).await.unwrap().unwrap();
    let r = app
        .post("/api/auth/setup", &form("wrong", "root"), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post("/api/auth/setup", &form(&token, "root"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.session_cookie().unwrap();
    assert_eq!(
        app.post("/api/auth/me", "", Some(&cookie)).await.json()["role"],
        "admin"
    );
    // Used once, gone.
    let r = app
        .post("/api/auth/setup", &form(&token, "second"), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(auth::issue_setup_token(&app.db).await.unwrap().is_none());
}

#[tokio::test]
async fn a_setup_link_expires_after_a_day() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let app = TestApp::sqlite_from(common::LOOPBACK).await;
    let token = auth::issue_setup_token(&app.db).await.unwrap().unwrap();
    let issued = app::auth::store::setup_token(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut aged = issued.into_active_model();
    aged.updated_at = Set(chrono::Utc::now() - auth::SETUP_LINK_LIFETIME);
    aged.update(&app.db).await.unwrap();
    let form =
        format!("token={token}&username=root&password=first+admin+pass&confirm=first+admin+pass");
    let r = app.post("/api/auth/setup", &form, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("not valid any more"), "{}", r.body);
    // A restart issues a fresh link, which works.
    let fresh = auth::issue_setup_token(&app.db).await.unwrap().unwrap();
    let form =
        format!("token={fresh}&username=root&password=first+admin+pass&confirm=first+admin+pass");
    let r = app.post("/api/auth/setup", &form, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn the_audit_page_filters_by_user_action_target_and_time() {
    let app = TestApp::sqlite().await;
    let op = app.account("mallet", Role::Operator).await;
    let cookie = app.session(op).await;
    app.login("mallet", "wrong wrong wrong").await;
    app.login("nobody", "wrong wrong wrong").await;
    let r = app
        .post("/api/audit/list", "filter[target]=nobody", Some(&cookie))
        .await;
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["action"], "auth.login");
    assert_eq!(rows[0]["outcome"], "failed");
    let r = app
        .post("/api/audit/list", "filter[from]=2999-01-01", Some(&cookie))
        .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(0));
    let r = app
        .post("/api/audit/list", "filter[from]=yesterday", Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["Invalid"]["field"], "from");
}

#[tokio::test]
async fn accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let args = stackyard_server::config::DbArgs {
        data_dir: dir.path().to_owned(),
        database_url: None,
    };
    let name = stackyard_server::users::add(&args, "Root", Role::Admin, "from the command line")
        .await
        .unwrap();
    assert_eq!(name, "root");
    let err = stackyard_server::users::add(&args, "other", Role::Viewer, "short")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Use at least 12 characters; this one has 5."
    );
}

#[tokio::test]
async fn idle_and_old_sessions_end() {
    let app = TestApp::sqlite().await;
    let id = app.account("nina", Role::Viewer).await;
    let config = auth::AuthConfig::default();
    let token = auth::create_session(&app.db, id, "192.0.2.10", &config)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    assert!(auth::resolve_session(&app.db, &token, &config, now)
        .await
        .unwrap()
        .is_some());
    // Unused for longer than the idle timeout: gone, and stays gone.
    let later = now + config.idle_timeout + chrono::Duration::seconds(1);
    assert!(auth::resolve_session(&app.db, &token, &config, later)
        .await
        .unwrap()
        .is_none());
    assert!(auth::resolve_session(&app.db, &token, &config, now)
        .await
        .unwrap()
        .is_none());

    // Used all along, but past its lifetime: gone too.
    let token = auth::create_session(&app.db, id, "192.0.2.10", &config)
        .await
        .unwrap();
    let steps = config.lifetime.num_minutes() / 30;
    for step in (1..=steps + 1).filter(|s| *s != steps) {
        let t = now + chrono::Duration::minutes(30 * step);
        let alive = auth::resolve_session(&app.db, &token, &config, t)
            .await
            .unwrap()
            .is_some();
        assert_eq!(alive, step < steps, "after {step} half hours");
    }
}

#[tokio::test]
async fn anonymous_page_refusals_are_logged_once_and_old_lines_expire() {
    use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
    let app = TestApp::sqlite().await;
    let refusals = |app: &TestApp| {
        let app_db = app.db.clone();
        async move {
            app::auth::entity::audit_log::Entity::find()
                .all(&app_db)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.action == "page" && r.target == "/hosts")
                .count()
        }
    };
    for _ in 0..20 {
        assert_eq!(
            app.get_status("/hosts", None).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(refusals(&app).await, 1, "twenty visits, one line");
    // A signed-in viewer refused a page is logged every time.
    let viewer = app.account("ivan", Role::Viewer).await;
    let cookie = app.session(viewer).await;
    for _ in 0..3 {
        assert_eq!(
            app.get_status("/users", Some(&cookie)).await,
            StatusCode::FORBIDDEN
        );
    }
    let denied = app::auth::entity::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.target == "/users" && r.username == "ivan")
        .count();
    assert_eq!(denied, 3);

    // Retention: lines older than the limit go, the rest stay.
    let before = app::auth::entity::audit_log::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let backend = app.db.get_database_backend();
    app.db
        .execute(Statement::from_string(
            backend,
            "UPDATE audit_log SET at = datetime(at, '-400 days') WHERE target = '/users'"
                .to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(auth::apply_audit_retention(&app.db, 0).await.unwrap(), 0);
    assert_eq!(auth::apply_audit_retention(&app.db, 365).await.unwrap(), 3);
    let after = app::auth::entity::audit_log::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before - 3);
}
