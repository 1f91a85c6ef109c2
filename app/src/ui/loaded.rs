//! A resource's three states in one place: loading (nothing drawn; the
//! server renders the loaded page), loaded (the children, or the empty
//! message when there is nothing), failed (the error panel with what to do).

use crate::error::AppError;
use leptos::prelude::*;

/// Draws `children` with the resource's value once loaded, or an error panel
/// titled `title` when loading failed. Create the resource at the page's top
/// (never under an already-resolved `Suspend`), so server and browser render
/// the same.
#[component]
pub fn Loaded<T, V, F>(
    resource: crate::ui::JsonResource<Result<T, AppError>>,
    /// The error panel's title (`Could not load the zones`).
    #[prop(into)]
    title: String,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=|| ()>
            {move || {
                let children = children.clone();
                let title = title.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value).into_any(),
                        Err(e) => view! { <super::ErrorPanel title=title message=e.to_string()/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// The line shown where a list has nothing yet, with what to do about it.
#[component]
pub fn Empty(children: Children) -> impl IntoView {
    view! { <p class="muted empty">{children()}</p> }
}
