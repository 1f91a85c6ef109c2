//! Forms: a field with its error, the form-wide error, and the error of one
//! field picked from an action's result. Every form shows a server error next
//! to the input it belongs to; an error for no shown field lands under the
//! form, so no message is ever lost.

use crate::error::AppError;
use leptos::prelude::*;

/// The message for `field` in an action's last result, for a [`FieldError`].
/// `value` is an action's `value()` (or any signal of its last result).
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    T: 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

/// Counts `value`'s successes into `changes`: a page whose data is fetched
/// again when `changes` grows is refreshed after a change and never after a
/// refusal, so a refused form keeps what was typed into it.
pub fn bump_on_success<T, S>(value: S, changes: RwSignal<usize>)
where
    S: Get<Value = Option<Result<T, AppError>>> + 'static,
{
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_))) {
            changes.update(|n| *n += 1);
        }
    });
}

/// A form field's error message, announced when it appears. The input names
/// it with `aria-describedby` (its id is the input's id plus `-error`).
#[component]
pub fn FieldError(
    #[prop(into)] id: String,
    #[prop(into)] message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <p id=id class="field-error" role="alert" aria-live="polite">
            {move || message.get()}
        </p>
    }
}

/// A labelled field: the label, the input given as children (which sets
/// `id` and `aria-describedby="{id}-error"`), an optional hint and the
/// field's error under it.
#[component]
pub fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    children: Children,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <label for=id>{label}</label>
        {children()}
        {hint.map(|h| view! { <p class="hint">{h}</p> })}
        <FieldError id=error_id message=error/>
    }
}

/// The caller's password again, for a change that needs it (a host, a DNS
/// server, a secret shown): the field `confirm_password`, with its message.
#[component]
pub fn ConfirmPassword(
    #[prop(into)] id: String,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let described = format!("{id}-error");
    view! {
        <Field id=id.clone() label="Your password, to confirm" error=error>
            <input id=id type="password" name="confirm_password" autocomplete="current-password"
                required aria-describedby=described/>
        </Field>
    }
}

/// The error of an action that belongs to no input of the form: anything
/// but a field error, or a field error for a field not in `fields`.
#[component]
pub fn FormError<T, S>(value: S, #[prop(optional)] fields: &'static [&'static str]) -> impl IntoView
where
    T: Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).and_then(|e| match &e {
            AppError::Invalid { field, .. } if fields.contains(&field.as_str()) => None,
            _ => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }),
        })
    }
}
