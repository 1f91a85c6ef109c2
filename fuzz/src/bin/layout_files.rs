//! Fuzz target: `app::fuzz::layout_files` under AFL's persistent mode.
fn main() {
    afl::fuzz!(|data: &[u8]| app::fuzz::layout_files(data));
}
