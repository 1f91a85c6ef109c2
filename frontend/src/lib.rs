//! The browser half of Stackyard: hydrates the page the server rendered, so
//! that the same components become interactive without a second render.
//! Each page's code is a chunk of its own (`app::routes`): hydration first
//! loads the chunk of the page the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}

/// Free room in the read-only data segment, which nothing refers to.
///
/// The splitter (wasm_split_cli_support) moves each page's data (strings,
/// tables) into that page's chunk, regrouping the segment module by module;
/// the padding that adds must fit in the segment's original length, or it
/// gives up and leaves all data in the main module, which then carries every
/// page's strings. Nothing uses these bytes, so no module keeps them and
/// their room takes the padding. Non-zero, so they are data, not `.bss`.
#[used]
static SPLIT_ROOM: [u8; 16 * 1024] = [0x55; 16 * 1024];
