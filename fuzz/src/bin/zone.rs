//! Fuzz target: `app::fuzz::zone` under AFL's persistent mode.
fn main() {
    afl::fuzz!(|data: &[u8]| app::fuzz::zone(data));
}
