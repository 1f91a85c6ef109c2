//! The one path every server function takes.
//!
//! A server function declares its access once, beside its definition, and its
//! body is one call:
//!
//! ```text
//! api::access!(ListZones, Access::Role(Role::Viewer));
//! #[server(prefix = "/api", endpoint = "dns/zones")]
//! pub async fn list_zones() -> Result<Vec<ZoneListItem>, AppError> {
//!     api::call::<ListZones>()
//!         .run(|c| async move { service::list(c.db()).await })
//!         .await
//! }
//! ```
//!
//! [`Call::run`] checks the caller against *this* function's declared access,
//! takes the server state from the request context, runs the body, converts
//! its error into [`AppError`] (each domain's `From<DomainError> for AppError`
//! decides status and form field, once), sets the response status, and, when
//! the call was given an [`audit`](Call::audit) action, writes the audit entry
//! with its outcome and the summary the body noted. The result's type is the
//! named function's own output, so naming another function whose output
//! differs is a type error; a test over the sources catches the rest (every
//! body names its own function, declared with `access!` beside it). No
//! server function sets a status or writes an
//! audit row itself.

use crate::auth::Access;
use crate::error::AppError;
use leptos::server_fn::ServerFn;

/// A server function together with the least access it needs. Implemented by
/// [`access!`](crate::access), never by hand.
pub trait Endpoint: ServerFn<Error = AppError> {
    const ACCESS: Access;
}

/// Declares a server function's access: `api::access!(ListZones, Access::Role(Role::Viewer));`.
/// The declaration both types the function's [`call`] and registers its URL
/// with the HTTP middleware, which refuses any server function without one.
#[macro_export]
macro_rules! access {
    ($server_fn:ty, $access:expr) => {
        impl $crate::api::Endpoint for $server_fn {
            const ACCESS: $crate::auth::Access = $access;
        }
        $crate::endpoint_access!($server_fn, $access);
    };
}
pub use crate::access;

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use super::Endpoint;
    use crate::auth::service::{audit_best_effort, request_auth, AuditEntry, RequestAuth};
    use crate::auth::Decision;
    use crate::error::AppError;
    use crate::state::AppState;
    use leptos::prelude::*;
    use std::future::Future;
    use std::marker::PhantomData;
    use std::sync::{Arc, Mutex, PoisonError};

    /// What a server function's body gets: the server state and the caller,
    /// and a place to note what its audit entry should say.
    #[derive(Clone)]
    pub struct Ctx {
        pub state: AppState,
        pub auth: RequestAuth,
        note: Arc<Mutex<Note>>,
    }

    #[derive(Default)]
    struct Note {
        target: Option<String>,
        summary: Option<String>,
    }

    impl Ctx {
        pub fn db(&self) -> &sea_orm::DatabaseConnection {
            &self.state.db
        }

        /// The key that seals the secrets kept in the database.
        pub fn keys(&self) -> &crate::sealed::SealingKey {
            &self.state.keys
        }

        /// The caller's account name (`-` when nobody is signed in).
        pub fn username(&self) -> &str {
            self.auth.username()
        }

        /// Names the audit entry's target, when the body learns it (an id
        /// becomes a zone's origin): replaces the one given to [`Call::audit`].
        pub fn target(&self, target: impl Into<String>) {
            self.note
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .target = Some(target.into());
        }

        /// The audit entry's summary: what changed, before → after.
        pub fn summary(&self, summary: impl Into<String>) {
            self.note
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .summary = Some(summary.into());
        }
    }

    /// When a call writes its audit entry.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum When {
        Always,
        OnSuccess,
    }

    /// One server function's call, typed by the function (see [`call`]).
    #[must_use = "a call does nothing until it is run"]
    pub struct Call<F> {
        audit: Option<(&'static str, String, When)>,
        password: Option<String>,
        _endpoint: PhantomData<F>,
    }

    /// Starts the call of server function `F` (its generated struct, e.g. `ListZones`).
    pub fn call<F: Endpoint>() -> Call<F> {
        Call {
            audit: None,
            password: None,
            _endpoint: PhantomData,
        }
    }

    impl<F: Endpoint> Call<F> {
        /// Writes an audit entry `action` on `target` with the call's outcome
        /// (success, denied, failed with its reason).
        pub fn audit(mut self, action: &'static str, target: impl Into<String>) -> Self {
            self.audit = Some((action, target.into(), When::Always));
            self
        }

        /// Like [`Call::audit`], for calls whose failures change nothing
        /// worth a line (a refused form).
        pub fn audit_success(mut self, action: &'static str, target: impl Into<String>) -> Self {
            self.audit = Some((action, target.into(), When::OnSuccess));
            self
        }

        /// Asks for the caller's password again (the form's
        /// `confirm_password`) before `body` runs: a wrong one answers a
        /// message by that field and counts against the login throttle.
        pub fn confirm_password(mut self, password: String) -> Self {
            self.password = Some(password);
            self
        }

        /// Checks the caller, runs `body` and answers with its result.
        pub async fn run<Fut, E>(self, body: impl FnOnce(Ctx) -> Fut) -> Result<F::Output, AppError>
        where
            Fut: Future<Output = Result<F::Output, E>>,
            AppError: From<E>,
        {
            let result = self.run_inner(body).await;
            if let Err(err) = &result {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(err.status());
                }
            }
            result
        }

        async fn run_inner<Fut, E>(
            self,
            body: impl FnOnce(Ctx) -> Fut,
        ) -> Result<F::Output, AppError>
        where
            Fut: Future<Output = Result<F::Output, E>>,
            AppError: From<E>,
        {
            let auth = request_auth();
            match F::ACCESS.decide(auth.role()) {
                Decision::Allow => {}
                Decision::SignIn => return Err(AppError::Unauthorized),
                Decision::Deny => {
                    return Err(AppError::Forbidden(
                        "Your role does not allow this.".to_owned(),
                    ))
                }
            }
            let state = AppState::from_context()?;
            let note = Arc::new(Mutex::new(Note::default()));
            let ctx = Ctx {
                state: state.clone(),
                auth: auth.clone(),
                note: Arc::clone(&note),
            };
            let confirmed = match &self.password {
                None => Ok(()),
                Some(password) => {
                    crate::auth::service::confirm_password(&state.db, &state.auth, &auth, password)
                        .await
                        .map_err(<AppError as From<crate::auth::DomainError>>::from)
                }
            };
            let result = match confirmed {
                Ok(()) => body(ctx).await.map_err(AppError::from),
                Err(e) => Err(e),
            };
            if let Some((action, target, when)) = self.audit {
                if when == When::Always || result.is_ok() {
                    let note =
                        std::mem::take(&mut *note.lock().unwrap_or_else(PoisonError::into_inner));
                    let mut entry = AuditEntry::by(&auth, action, note.target.unwrap_or(target))
                        .outcome_of(&result);
                    if let Some(summary) = note.summary {
                        entry = entry.summary(summary);
                    }
                    audit_best_effort(&state.db, entry).await;
                }
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn camel(snake: &str) -> String {
        snake
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The type system refuses `api::call::<Other>()` only when `Other`'s
    /// output differs; this catches the rest: every server function's body
    /// names its own type, whose access is declared in the same file.
    #[test]
    fn every_server_function_calls_the_pipeline_with_its_own_type() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut checked = 0;
        for (path, text) in &files {
            let starts: Vec<usize> = text
                .match_indices("\n#[server(prefix")
                .map(|(i, _)| i)
                .collect();
            for (n, &start) in starts.iter().enumerate() {
                let end = starts.get(n + 1).copied().unwrap_or(text.len());
                let body = &text[start..end];
                let name = body
                    .split("pub async fn ")
                    .nth(1)
                    .and_then(|rest| rest.split('(').next())
                    .unwrap_or_else(|| panic!("{path}: a #[server] without its fn"));
                let own = camel(name);
                let called = body
                    .split("api::call::<")
                    .nth(1)
                    .and_then(|rest| rest.split('>').next())
                    .unwrap_or_else(|| panic!("{path}: {name} does not go through api::call"));
                assert_eq!(called, own, "{path}: {name} calls the pipeline as {called}");
                assert!(
                    text.contains(&format!("api::access!({own},")),
                    "{path}: {name} has no api::access!({own}, …)"
                );
                checked += 1;
            }
        }
        assert!(checked >= 80, "only {checked} server functions found");
    }
}
