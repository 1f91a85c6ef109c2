//! The confirm step before anything destructive: a button ("Remove…"), then
//! the warning with the real action (the children: usually an `ActionForm`
//! with its submit button) and "Cancel". Nothing that breaks something is
//! ever one tap away.

use leptos::prelude::*;

/// `label` is the first button's text (`Remove…`), `what` names the thing
/// for screen readers (`Remove web1…`) where the label alone is ambiguous
/// (left out, the label is the name), `warning` says what happens.
/// Holds plain values only, so a page that rebuilds the row while the
/// confirmation is open never reads a disposed signal.
#[component]
pub fn Confirm(
    #[prop(into)] label: String,
    #[prop(optional, into)] what: Option<String>,
    #[prop(optional, into)] warning: Option<String>,
    /// Small buttons, for rows and cards.
    #[prop(optional)]
    small: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let group = what
        .clone()
        .unwrap_or_else(|| label.trim_end_matches('…').to_string());
    let what = what.map(|w| format!("{w}…"));
    let size = if small {
        "button secondary small"
    } else {
        "button secondary"
    };
    move || {
        if confirming.get() {
            let warning = warning.clone();
            view! {
                <div class="confirm-row" role="group" aria-label=group.clone()>
                    {warning.map(|w| view! { <p class="hint">{w}</p> })}
                    {children()}
                    <button type="button" class=size on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class=size aria-label=what.clone()
                    on:click=move |_| confirming.set(true)>{label.clone()}</button>
            }
            .into_any()
        }
    }
}
