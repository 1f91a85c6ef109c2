//! The mail server's side of Stackyard: the readiness check and mailbox storage.
//!
//! A small organisation running its own Postfix + Dovecot server and its own
//! authoritative DNS needs two things from the console:
//!
//! 1. **Is our mail going to be accepted?** Receiving servers trace the
//!    sending address back through DNS (PTR, forward confirmation, MX, SPF,
//!    DKIM, DMARC) and ask blocklists such as Spamhaus about it (figure 3
//!    and Table 1 of the reference paper). [`check()`](fn@check) walks the same path
//!    and returns a [`Report`]: a checklist whose every failing item says
//!    which record to add, with which value.
//! 2. **Mailboxes.** [`mailstore`] defines the SQL tables Postfix and
//!    Dovecot read directly, [`password`] stores passwords in Dovecot's
//!    `{ARGON2ID}` scheme, and [`serverconf`] writes the Postfix lookup
//!    tables and `dovecot-sql.conf.ext` that point the daemons at them.
//!
//! Record parsing and evaluation (SPF, DKIM, DMARC, DNSBL answers) come
//! from [`crate::mail::records`]; this module adds the DNS access ([`dns`],
//! [`hickory`]) and the judgement of what a receiver would make of it.
//!
//! Modules:
//! - [`dns`]: the async [`DnsResolver`] trait, the in-memory [`StaticDns`]
//!   the tests use, and the per-check memo that the SPF evaluator also
//!   reads through;
//! - [`hickory`]: [`HickoryDns`], the live resolver;
//! - [`readiness`]: the readiness check;
//! - [`mailstore`], [`password`], [`serverconf`]: mailbox storage.

#![forbid(unsafe_code)]

// The resolver trait and the in-memory resolver are pure, so the SPF
// evaluator's tests run without the server stack (`cargo test -p app --lib`).
pub mod dns;
#[cfg(feature = "ssr")]
pub mod hickory;
pub mod mailstore;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod readiness;
pub mod serverconf;

pub use dns::{DnsResolver, LookupError, MxRecord, StaticDns};
#[cfg(feature = "ssr")]
pub use hickory::{DnsSetupError, HickoryDns, ResolverSettings};
#[cfg(feature = "ssr")]
pub use readiness::{check, CheckItem, CheckOptions, Report, Status, DEFAULT_DNSBL_ZONE};
