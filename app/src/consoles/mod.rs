//! Browser consoles of a VM: its screen (VNC, drawn by noVNC) and its
//! serial line (xterm.js), both carried by one WebSocket endpoint,
//! `/consoles/ws`.
//!
//! A page first asks [`open_console`] for a ticket (operators; audited as
//! `console.open`): random, used once, valid [`TICKET_SECONDS`], bound to
//! the session that asked, and kept in the database so that any instance
//! behind one PostgreSQL can take the connection. The upgrade then checks
//! the ticket, the session, the role and the `Origin`
//! (`server/src/consoles.rs`); the bytes come from the host through the
//! server-only `service`: the serial line over a libvirt stream on a
//! connection of its own, the screen over the socket libvirt hands over.

#[cfg(feature = "ssr")]
pub mod entity;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;

use crate::api;
use crate::auth::{Access, Role};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How long a ticket may wait for its connection.
pub const TICKET_SECONDS: i64 = 30;

/// Which console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleKind {
    /// The VM's screen, through VNC.
    Screen,
    /// The VM's first serial port.
    Serial,
}

impl ConsoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleKind::Screen => "screen",
            ConsoleKind::Serial => "serial",
        }
    }

    pub fn parse(s: &str) -> Option<ConsoleKind> {
        match s {
            "screen" => Some(ConsoleKind::Screen),
            "serial" => Some(ConsoleKind::Serial),
            _ => None,
        }
    }
}

/// What the page connects with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleTicket {
    /// The WebSocket path with its ticket: `/consoles/ws?ticket=…`.
    pub path: String,
    pub kind: ConsoleKind,
}

api::access!(OpenConsole, Access::Role(Role::Operator));
crate::route_access!("/consoles/ws", Access::Role(Role::Operator));

/// A ticket to connect to VM `vm`'s `kind` console on host `host_id`, for
/// this session only, within [`TICKET_SECONDS`].
#[server(prefix = "/api", endpoint = "consoles/ticket")]
pub async fn open_console(
    host_id: i32,
    vm: String,
    kind: String,
) -> Result<ConsoleTicket, AppError> {
    api::call::<OpenConsole>()
        .audit("console.open", format!("host {host_id} {vm} {kind}"))
        .run(|c| async move { service::tickets::issue(&c, host_id, &vm, &kind).await })
        .await
}
