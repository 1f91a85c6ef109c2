//! Fuzz target: `app::fuzz::mail_records` under AFL's persistent mode.
fn main() {
    afl::fuzz!(|data: &[u8]| app::fuzz::mail_records(data));
}
