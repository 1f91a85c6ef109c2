//! The browser half of Stackyard: hydrates the page the server rendered, so
//! that the same components become interactive without a second render.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
