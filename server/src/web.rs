//! The HTTP surface: Leptos pages and server functions, static site files,
//! `/healthz`, and the layers every response passes through (request spans,
//! security headers, compression).

use app::{shell, state::AppState, App};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{
    generate_route_list, handle_server_fns_with_context, AxumRouteListing, LeptosRoutes,
};
use std::{
    net::SocketAddr,
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
};
use tower::Layer;
use tower_http::{
    compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

/// Leptos' own configuration, built here rather than read from Cargo.toml so
/// that the binary runs from anywhere without cargo-leptos' environment.
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("stackyard")
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The console's page routes, generated once per process.
///
/// Leptos generates the list by running the app with resource loading
/// suppressed through a process-wide flag, and a resource first polled
/// meanwhile by another render never wakes again
/// (leptos-rs/leptos#4773). Generating the list once, before any router
/// exists to render with, keeps that window away from every request, even
/// when several routers share a process (the integration tests do).
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The page routes as JSON: `[{"path": "/hosts/{id}", "access": "viewer"}, …]`,
/// with the access each page declared (`public`, a role, or `undeclared`).
pub fn routes_json() -> String {
    use app::auth::policy::{self, Access};
    let pages: Vec<serde_json::Value> = route_list()
        .iter()
        .map(|r| {
            let access = match policy::page(r.path()) {
                Some(Access::Public) => "public".to_owned(),
                Some(Access::Role(role)) => role.to_string().to_lowercase(),
                None => "undeclared".to_owned(),
            };
            serde_json::json!({ "path": r.path(), "access": access })
        })
        .collect();
    serde_json::Value::Array(pages).to_string()
}

/// Every route of the console, with its layers.
pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let gate = crate::access::Gate {
        state: state.clone(),
        pages: Arc::new(routes.iter().map(|r| r.path().to_owned()).collect()),
    };
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let pkg = Path::new(&*state.leptos_options.site_root).join(&*state.leptos_options.site_pkg_dir);

    Router::new()
        .route("/healthz", get(healthz))
        .route("/events/hosts", get(host_events))
        // POST only: no state changes over GET.
        .route("/api/{*fn_name}", post(server_fn_handler))
        .nest_service("/pkg", bundle_files(&pkg))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            gate,
            crate::access::gate,
        ))
        // Pages set their own nonce'd policy in the shell; everything else
        // (files, server functions, health) gets one that allows nothing.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ))
        // Pages and answers carry accounts, keys and audit rows: never kept
        // by a browser or proxy cache (the bundle sets its own no-cache).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                static NEXT_ID: AtomicU64 = AtomicU64::new(1);
                tracing::info_span!(
                    "request",
                    id = NEXT_ID.fetch_add(1, Ordering::Relaxed),
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            }),
        )
        .with_state(state)
}

/// The wasm bundle, its loader and the stylesheet. A release build made
/// with `--precompress` leaves `.br` and `.gz` files beside them, served as
/// they are to browsers that take them: no compression per request (brotli
/// on the fly costs about 0.1 s of CPU per bundle download and gives a
/// larger file than the prebuilt quality-11 one). Without them the
/// compression layer still compresses. The names carry no hash, so browsers
/// revalidate (`no-cache`) and get `304 Not Modified` while the build is the
/// same.
fn bundle_files(pkg: &Path) -> tower_http::set_header::SetResponseHeader<ServeDir, HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .layer(ServeDir::new(pkg).precompressed_br().precompressed_gzip())
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> Response {
    handle_server_fns_with_context(move || provide_context(state.clone()), request)
        .await
        .into_response()
}

/// Live host changes for open pages, as server-sent events: `event: host`,
/// `data: <host id>` (or `all` when this client fell behind).
async fn host_events(
    State(state): State<AppState>,
) -> axum::response::sse::Sse<
    impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let changes = state.hosts.subscribe();
    let stream = futures::stream::unfold(changes, |mut changes| async move {
        let data = match changes.recv().await {
            Ok(change) => change.host_id.to_string(),
            Err(RecvError::Lagged(_)) => "all".to_owned(),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().event("host").data(data)), changes))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// 200 while the database answers, 503 when it does not: what a load
/// balancer or a monitoring check (Nagios, in the paper) should poll.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (status, body) = if state.database_ok().await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    };
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        body,
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemd, docker stop), letting
/// requests in flight finish.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
