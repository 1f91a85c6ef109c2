//! Downloads made in the browser from text the page already holds (a zone
//! file, a DKIM key, a layout export), as `data:` links.

use leptos::prelude::*;

/// The `data:` URL of a text file.
pub fn data_url(text: &str) -> String {
    data_url_of("text/plain", text)
}

/// The `data:` URL of a UTF-8 text of type `mime` (`application/toml`).
pub fn data_url_of(mime: &str, text: &str) -> String {
    let mut out = format!("data:{mime};charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link that saves `text` as `file_name`; the children are its label.
#[component]
pub fn DownloadLink(
    #[prop(into)] file_name: String,
    #[prop(into)] text: String,
    #[prop(optional, into)] class: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <a class=class.unwrap_or_else(|| "button secondary".to_owned()) href=data_url(&text) download=file_name>
            {children()}
        </a>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_urls_escape_everything_but_unreserved_bytes() {
        assert_eq!(
            super::data_url("a b\n;é"),
            "data:text/plain;charset=utf-8,a%20b%0A%3B%C3%A9"
        );
    }
}
