//! Fuzz target: `app::fuzz::libvirt_xml` under AFL's persistent mode.
fn main() {
    afl::fuzz!(|data: &[u8]| app::fuzz::libvirt_xml(data));
}
