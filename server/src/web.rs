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
    router_with(state, RequestLimits::default())
}

/// [`router`] with other request limits (tests).
pub fn router_with(state: AppState, limits: RequestLimits) -> Router {
    let routes = route_list();
    let gate = crate::access::Gate {
        state: state.clone(),
        pages: Arc::new(routes.iter().map(|r| r.path().to_owned()).collect()),
        quiet: Arc::default(),
    };
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let pkg = Path::new(&*state.leptos_options.site_root).join(&*state.leptos_options.site_pkg_dir);
    // Served over https (an https public URL): browsers that have seen the
    // console once never try plain http for it again, for a year.
    let hsts = state
        .auth
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"))
        .then(|| HeaderValue::from_static("max-age=31536000"));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/events/hosts", get(host_events))
        .route("/consoles/ws", get(crate::consoles::console_ws))
        .layer(axum::Extension(crate::consoles::OpenConsoles::default()))
        .route(app::images::UPLOAD_PATH, post(crate::images::upload))
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
        // Before the gate: a refused body is never read, a flood never
        // reaches the database.
        .layer(axum::middleware::from_fn_with_state(limits, limit))
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
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
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

/// Limits on every request (the connection's own are in
/// [`crate::listen`]). Beyond them the answer comes at once: 503 when too
/// many requests are in flight or too many event streams open, 413 for a
/// body over its route's limit, 503 after the time for an answer.
#[derive(Clone)]
pub struct RequestLimits {
    in_flight: Arc<tokio::sync::Semaphore>,
    event_streams: Arc<tokio::sync::Semaphore>,
    /// Time for a request to be answered (an event stream's answer is its
    /// headers; the stream itself runs on).
    time: std::time::Duration,
}

/// Requests answered at once; more are refused, not queued.
const MAX_IN_FLIGHT: usize = 256;
/// Open event streams (each an open page); more are refused.
const MAX_EVENT_STREAMS: usize = 128;
/// The longest a request may take: a DNS apply waits for NSD's reload
/// (itself bounded) and the mail check for its DNS lookups.
const REQUEST_TIME: std::time::Duration = std::time::Duration::from_secs(120);
/// A form's body.
const FORM_BODY: usize = 64 * 1024;
/// A pasted or uploaded file: a zone or a layout.
const FILE_BODY: usize = 8 * 1024 * 1024;

impl RequestLimits {
    /// Limits of `in_flight` requests, `event_streams` open streams and
    /// `time` for an answer.
    pub fn new(in_flight: usize, event_streams: usize, time: std::time::Duration) -> Self {
        RequestLimits {
            in_flight: Arc::new(tokio::sync::Semaphore::new(in_flight)),
            event_streams: Arc::new(tokio::sync::Semaphore::new(event_streams)),
            time,
        }
    }
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            event_streams: Arc::new(tokio::sync::Semaphore::new(MAX_EVENT_STREAMS)),
            time: REQUEST_TIME,
        }
    }
}

/// The largest body a request to `path` may have: files for the import
/// functions, a form for other server functions, nothing elsewhere.
pub fn body_limit(path: &str) -> usize {
    match path {
        "/api/dns/import_preview" | "/api/dns/import" | "/api/layouts/import" => FILE_BODY,
        p if p.starts_with("/api/") => FORM_BODY,
        _ => 0,
    }
}

fn busy(what: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        format!("The server is busy ({what}); try again in a few seconds.\n"),
    )
        .into_response()
}

async fn limit(
    State(limits): State<RequestLimits>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let Ok(_permit) = limits.in_flight.try_acquire() else {
        return busy("too many requests at once");
    };
    let path = request.uri().path().to_owned();
    if path == app::images::UPLOAD_PATH {
        // An image of several GB: streamed to the host as it arrives, never
        // held, and as slow as the link (the handler stops a stalled one).
        return next.run(request).await;
    }
    let max = body_limit(&path);
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request is larger than the {max} bytes {path} takes.\n"),
        )
            .into_response()
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    // Read the body here, within its limit, so that an endless or lying
    // one ends in 413 before any handler sees it.
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(limits.time, axum::body::to_bytes(body, max)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) if is_length_limit(&e) => return too_large(),
        Ok(Err(_)) => {
            return (StatusCode::BAD_REQUEST, "The request body broke off.\n").into_response()
        }
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "The request body took too long.\n",
            )
                .into_response()
        }
    };
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request
        .extensions_mut()
        .insert(EventStreams(Arc::clone(&limits.event_streams)));
    match tokio::time::timeout(limits.time, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, "no answer within {} s", limits.time.as_secs());
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "No answer within {} seconds; the work may still finish. Reload to see.\n",
                    limits.time.as_secs()
                ),
            )
                .into_response()
        }
    }
}

/// Whether a body error is the limit of `to_bytes`.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// The event streams that may still open, see [`RequestLimits`].
#[derive(Clone)]
pub struct EventStreams(Arc<tokio::sync::Semaphore>);

/// Turns `true` when the server begins to shut down: event streams end.
#[derive(Clone)]
pub struct ShuttingDown(pub tokio::sync::watch::Receiver<bool>);

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> Response {
    handle_server_fns_with_context(move || provide_context(state.clone()), request)
        .await
        .into_response()
}

/// Live host changes for open pages, as server-sent events: `event: host`,
/// `data: <host id>` (or `all` when this client fell behind). A stream
/// ends when the server shuts down; beyond [`MAX_EVENT_STREAMS`] open ones
/// the answer is 503 (the page then reloads its data on its own).
async fn host_events(
    State(state): State<AppState>,
    streams: Option<axum::Extension<EventStreams>>,
    stopping: Option<axum::Extension<ShuttingDown>>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt as _;
    use tokio::sync::broadcast::error::RecvError;
    let permit = match streams {
        Some(axum::Extension(EventStreams(open))) => match open.try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => return busy("too many open event streams"),
        },
        None => None,
    };
    let changes = state.hosts.subscribe();
    let stream = futures::stream::unfold((changes, permit), |(mut changes, permit)| async move {
        let data = match changes.recv().await {
            Ok(change) => change.host_id.to_string(),
            Err(RecvError::Lagged(_)) => "all".to_owned(),
            Err(RecvError::Closed) => return None,
        };
        Some((
            Ok::<_, std::convert::Infallible>(Event::default().event("host").data(data)),
            (changes, permit),
        ))
    });
    let stop = async move {
        match stopping {
            Some(axum::Extension(ShuttingDown(mut stop))) => {
                let _ = stop.wait_for(|stopping| *stopping).await;
            }
            None => std::future::pending().await,
        }
    };
    Sse::new(stream.take_until(Box::pin(stop)))
        .keep_alive(KeepAlive::default())
        .into_response()
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
