//! The one formatter for sizes. Each style is used where a person compares
//! exact numbers (a layout's MiB against eq. (1)) or reads a magnitude (a
//! host's memory, a disk), and every page picks one of these rather than
//! writing its own.

const MIB: u64 = 1024 * 1024;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// An exact amount in MiB: `1536 MiB` (layouts, memory bars: figures a
/// person checks against the paper's equations).
pub fn mib(n: u64) -> String {
    format!("{n} MiB")
}

/// A magnitude in MiB, in GiB from 10 GiB on: `4096 MiB`, `31.3 GiB`.
pub fn mib_short(n: u64) -> String {
    if n >= 10 * 1024 {
        format!("{:.1} GiB", n as f64 / 1024.0)
    } else {
        mib(n)
    }
}

/// A magnitude in bytes: `512 MiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    let g = n as f64 / GIB;
    if g >= 1.0 {
        format!("{g:.1} GiB")
    } else {
        format!("{:.0} MiB", n as f64 / MIB as f64)
    }
}

/// Bytes as GiB with one decimal, however small: `0.5 GiB` (pool space).
pub fn gib(n: u64) -> String {
    format!("{:.1} GiB", n as f64 / GIB)
}

/// A quota in bytes, where 0 means none: `100 MiB`, `no limit`.
pub fn quota(n: u64) -> String {
    if n == 0 {
        "no limit".to_owned()
    } else {
        mib(n / MIB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_style_reads_as_before() {
        assert_eq!(mib(1536), "1536 MiB");
        assert_eq!(mib_short(4096), "4096 MiB");
        assert_eq!(mib_short(32 * 1024), "32.0 GiB");
        assert_eq!(bytes(512 * MIB), "512 MiB");
        assert_eq!(bytes(3 * MIB * 512), "1.5 GiB");
        assert_eq!(gib(MIB * 512), "0.5 GiB");
        assert_eq!(quota(0), "no limit");
        assert_eq!(quota(100 * MIB), "100 MiB");
    }
}
