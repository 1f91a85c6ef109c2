//! Links the `stackyard` binary with packed relative relocations
//! (`DT_RELR`, glibc 2.36 and binutils 2.38 or later, as in Debian 12): the
//! dynamic loader then reads about 15 KB of relocations at every start
//! instead of 1.3 MB, which is memory every short command (`zone check`,
//! `user add`) keeps for its whole run.

fn main() {
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
