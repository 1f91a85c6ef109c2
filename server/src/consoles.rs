//! `GET /consoles/ws?ticket=…`: the WebSocket of a VM's console (see
//! `app::consoles`). The gate has let an operator's session through; here
//! the `Origin` must be the console's own (a WebSocket handshake is a GET,
//! which the CSRF check leaves alone, and browsers always send `Origin` on
//! it), and the ticket must be unused, fresh and this session's. A refusal
//! is a plain 401/403/429 with no stream. The open console ends after
//! [`IDLE`] without traffic either way, when the VM's side ends, or when
//! the server shuts down.

use crate::access::same_origin;
use crate::web::ShuttingDown;
use app::auth::service::{audit_best_effort, AuditEntry, RequestAuth};
use app::consoles::service::{self as consoles, tickets, Console, SerialOutput};
use app::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An open console with no traffic for this long is closed.
pub const IDLE: Duration = Duration::from_secs(15 * 60);
/// Consoles one session may have open at once.
pub const PER_SESSION: usize = 4;

/// The consoles open per session on this instance.
#[derive(Clone, Default)]
pub struct OpenConsoles(Arc<Mutex<HashMap<String, usize>>>);

/// One open console counted against its session until dropped.
struct Slot {
    open: OpenConsoles,
    session: String,
}

impl OpenConsoles {
    fn take(&self, session: &str) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(session.to_owned()).or_default();
        if *n >= PER_SESSION {
            return None;
        }
        *n += 1;
        Some(Slot {
            open: self.clone(),
            session: session.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.session) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.session);
            }
        }
    }
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

/// The upgrade of a console's WebSocket.
#[allow(clippy::too_many_arguments)]
pub async fn console_ws(
    State(state): State<AppState>,
    caller: Option<axum::Extension<RequestAuth>>,
    open: Option<axum::Extension<OpenConsoles>>,
    stopping: Option<axum::Extension<ShuttingDown>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let caller = caller.map(|c| c.0).unwrap_or_else(|| RequestAuth {
        user: None,
        session_hash: None,
        client_addr: String::new(),
    });
    let denied = |why: &str| AuditEntry::by(&caller, "console.connect", "console").denied(why);
    if !headers.contains_key(header::ORIGIN)
        || !same_origin(&headers, state.auth.public_origin.as_deref())
    {
        audit_best_effort(&state.db, denied("cross-origin WebSocket refused")).await;
        return refuse(StatusCode::FORBIDDEN, "Cross-origin console refused.");
    }
    let redeemed = match tickets::redeem(
        &state.db,
        query.get("ticket").map_or("", String::as_str),
        caller.session_hash.as_deref(),
        chrono::Utc::now(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("console ticket: {e}");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database did not answer.",
            );
        }
    };
    let ticket = match redeemed {
        Ok(t) => t,
        Err(why) => {
            audit_best_effort(&state.db, denied(&format!("ticket refused: {why}"))).await;
            return refuse(StatusCode::FORBIDDEN, &format!("Console refused: {why}."));
        }
    };
    // Checked after the ticket: a ticket spent on a request that is no
    // WebSocket is gone all the same.
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let target = format!(
        "host {} {} {}",
        ticket.host_id,
        ticket.vm,
        ticket.kind.as_str()
    );
    let session = caller.session_hash.clone().unwrap_or_default();
    let slot = match &open {
        Some(axum::Extension(open)) => match open.take(&session) {
            Some(slot) => Some(slot),
            None => {
                return refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("At most {PER_SESSION} consoles may be open at once; close one."),
                )
            }
        },
        None => None,
    };
    let Some((row, _)) = state.hosts.get(ticket.host_id) else {
        return refuse(StatusCode::NOT_FOUND, "That host is gone.");
    };
    let console = match consoles::open(&row.uri, &ticket.vm, ticket.kind).await {
        Ok(c) => c,
        Err(e) => {
            let entry = AuditEntry::by(&caller, "console.connect", &target).failed(e.to_string());
            audit_best_effort(&state.db, entry).await;
            return refuse(StatusCode::CONFLICT, &e.to_string());
        }
    };
    let stop = stopping.map(|s| s.0 .0);
    upgrade.on_upgrade(move |socket| async move {
        let why = pipe(socket, console, stop).await;
        tracing::info!(target = %target, "console closed: {why}");
        drop(slot);
    })
}

/// Resolves when the server starts shutting down (never without a signal).
async fn shutting_down(stop: Option<tokio::sync::watch::Receiver<bool>>) {
    match stop {
        Some(mut stop) => {
            let _ = stop.wait_for(|s| *s).await;
        }
        None => std::future::pending().await,
    }
}

/// Moves bytes between the browser and the console until either ends;
/// returns why, which the browser also gets in the close frame.
async fn pipe(
    mut socket: WebSocket,
    console: Console,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> String {
    let why = match console {
        Console::Screen(vnc) => screen(&mut socket, vnc, stop).await,
        Console::Serial(serial) => serial_line(&mut socket, serial, stop).await,
    };
    let reason: String = why.chars().take(120).collect();
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: reason.into(),
        })))
        .await;
    why
}

/// What the browser sent: bytes for the VM (`None` for a ping or pong),
/// or why the console ends.
fn typed(message: Option<Result<Message, axum::Error>>) -> Result<Option<Vec<u8>>, String> {
    match message {
        Some(Ok(Message::Binary(bytes))) => Ok(Some(bytes.to_vec())),
        Some(Ok(Message::Text(text))) => Ok(Some(text.as_bytes().to_vec())),
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Err("closed by the browser".into()),
        Some(Ok(_)) => Ok(None),
    }
}

async fn screen(
    socket: &mut WebSocket,
    mut vnc: Box<consoles::ScreenIo>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> String {
    let mut buf = vec![0u8; 64 * 1024];
    let stopping = shutting_down(stop);
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return "the console server is shutting down".into(),
            () = tokio::time::sleep(IDLE) => return "closed after 15 minutes without activity".into(),
            read = vnc.reader.read(&mut buf) => match read {
                Ok(0) => {
                    // Give a failing tunnel a moment to say why.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return match vnc.tunnel_said() {
                        Some(said) => format!("the SSH tunnel ended: {said}"),
                        None => "the VM's screen closed (the VM stopped?)".into(),
                    };
                }
                Ok(n) => {
                    if socket.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                        return "the browser went away".into();
                    }
                }
                Err(e) => return format!("the VM's screen failed: {e}"),
            },
            message = socket.recv() => match typed(message) {
                Ok(Some(bytes)) => {
                    if let Err(e) = vnc.writer.write_all(&bytes).await {
                        return format!("the VM's screen failed: {e}");
                    }
                }
                Ok(None) => {}
                Err(why) => return why,
            },
        }
    }
}

async fn serial_line(
    socket: &mut WebSocket,
    mut serial: consoles::SerialConsole,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> String {
    let stopping = shutting_down(stop);
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return "the console server is shutting down".into(),
            () = tokio::time::sleep(IDLE) => return "closed after 15 minutes without activity".into(),
            out = serial.output.recv() => match out {
                Some(SerialOutput::Data(bytes)) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return "the browser went away".into();
                    }
                }
                Some(SerialOutput::Closed(why)) => return why,
                None => return "the serial console ended".into(),
            },
            message = socket.recv() => match typed(message) {
                Ok(Some(bytes)) => {
                    if !serial.send(bytes) {
                        return "the serial console ended".into();
                    }
                }
                Ok(None) => {}
                Err(why) => return why,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_has_at_most_its_share_of_open_consoles() {
        let open = OpenConsoles::default();
        let slots: Vec<Slot> = (0..PER_SESSION).map(|_| open.take("a").unwrap()).collect();
        assert!(open.take("a").is_none(), "one more than allowed");
        // Another session is not held back by this one.
        let other = open.take("b").unwrap();
        drop(slots);
        assert!(open.take("a").is_some(), "closed consoles free their slots");
        drop(other);
        assert_eq!(open.0.lock().unwrap().get("b"), None);
    }
}
