//! A panel whose body is fetched when a person opens it.
//!
//! The page draws the panel's title, a line saying what it is for, and a
//! button; the body's code is a chunk of its own (a `wasm_split` point, as
//! each page is: see [`crate::routes`]), fetched on the first click, so a
//! page's first load does not carry tools most visits never open (a zone's
//! import and history). While the chunk loads the button says so; if it
//! cannot be fetched, the panel says that with a Reload button, and nothing
//! else on the page is touched.

use super::ChunkLoadError;
use leptos::prelude::*;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The panel; `load` returns the body (the split function's call).
#[component]
pub fn OnDemand<F, Fut>(
    /// The panel's heading.
    title: &'static str,
    /// What the panel is for, shown while it is closed.
    hint: &'static str,
    /// The button's label (`Open the import…`).
    open_label: &'static str,
    /// An extra class for the panel (`dns-import`).
    #[prop(optional)]
    class: &'static str,
    load: F,
    /// Drawn under the body whether it is open or not: what must outlive
    /// it (a change refetches the page, which draws the panel closed again,
    /// so the message saying it was done belongs here).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, ChunkLoadError>> + 'static,
{
    let title_id = format!("on-demand-{}", title.to_ascii_lowercase().replace(' ', "-"));
    let labelled_by = title_id.clone();
    view! {
        <article class=format!("panel on-demand {class}") aria-labelledby=labelled_by>
            <h2 id=title_id>{title}</h2>
            <Opener hint=hint open_label=open_label load=load/>
            {children.map(|c| c())}
        </article>
    }
}

/// The hint and button of [`OnDemand`] alone, for a part of a panel (a
/// record builder under the record as published).
#[component]
pub fn Opener<F, Fut>(
    /// What the part is for, shown while it is closed.
    hint: &'static str,
    /// The button's label.
    open_label: &'static str,
    load: F,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, ChunkLoadError>> + 'static,
{
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Closed,
        Loading,
        Loaded,
        Failed,
    }
    let state = RwSignal::new(State::Closed);
    // The body, handed over once to the view below when it has arrived
    // (only ever filled in the browser).
    let body = Arc::new(Mutex::new(None::<AnyView>));
    let load = StoredValue::new(load);
    let arrived = Arc::clone(&body);
    let open = move |_| {
        if state.get_untracked() != State::Closed {
            return;
        }
        state.set(State::Loading);
        let fut = load.with_value(|f| f());
        let arrived = Arc::clone(&arrived);
        leptos::task::spawn_local(async move {
            match fut.await {
                Ok(view) => {
                    if let Ok(mut slot) = arrived.lock() {
                        *slot = Some(view);
                    }
                    state.set(State::Loaded);
                }
                Err(ChunkLoadError) => state.set(State::Failed),
            }
        });
    };
    move || {
        match state.get() {
        State::Closed => view! {
            <p class="hint">{hint}</p>
            <button type="button" class="button secondary" on:click=open.clone()>{open_label}</button>
        }
        .into_any(),
        State::Loading => view! {
            <p class="hint">{hint}</p>
            <button type="button" class="button secondary" disabled=true aria-busy="true">"Loading…"</button>
        }
        .into_any(),
        State::Loaded => body.lock().ok().and_then(|mut slot| slot.take()).into_any(),
        State::Failed => view! {
            <p class="form-error" role="alert">
                "This part could not be loaded: the connection may have dropped, or "
                "Stackyard was updated since this tab opened. Nothing was changed."
            </p>
            <button type="button" class="button" on:click=|_| super::reload()>"Reload"</button>
        }
        .into_any(),
    }
    }
}
