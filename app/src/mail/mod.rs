//! Mail: the authentication records a mail domain publishes (the paper's
//! Table 1) and the checks a receiving server makes (figure 3). `auth` is the
//! pure record logic; `check` (server only) the readiness check over DNS
//! and the mailbox tables Postfix and Dovecot read.

pub mod auth;
#[cfg(feature = "ssr")]
pub mod check;
