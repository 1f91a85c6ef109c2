//! Unit newtypes for the quantities of the paper's eqs. (1)–(3).
//!
//! * Memory (`y`, `y_os`, `y_a`, `y_s`) is counted in [`MiB`]. Every memory figure the
//!   paper gives ("512 Mbyte", "2000 Mbyte", "32GB DDR3") and every figure a hypervisor
//!   reports for guests (libvirt's `<memory unit='MiB'>`, VirtualBox's `--memory`) is a
//!   whole number of MiB, so nothing is lost and the numbers read like the paper's.
//! * Disks and storage pools (`z`, `z_s`) are counted in [`Bytes`]. Disk images and pool
//!   free space are reported by libvirt in bytes and are often not whole MiB (qcow2
//!   metadata, sparse files); thin disks are also scaled by a fill fraction, which
//!   rarely lands on a MiB boundary. Counting bytes keeps that exact; [`Bytes`]'s
//!   `Display` prints GiB/MiB for people.
//! * Virtual CPUs are a [`VcpuCount`].
//!
//! Arithmetic never wraps: a capacity check that silently overflowed would report a
//! full host as empty. Helpers either saturate (when a clamped value is still the
//! right answer, e.g. "0 MiB left") or return `Option` (when the caller must decide).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bytes in one KiB.
pub const KIB: u64 = 1 << 10;
/// Bytes in one MiB.
pub const MIB: u64 = 1 << 20;
/// Bytes in one GiB.
pub const GIB: u64 = 1 << 30;
/// Bytes in one TiB.
pub const TIB: u64 = 1 << 40;

/// An amount of memory in mebibytes (2^20 bytes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MiB(pub u64);

impl MiB {
    /// No memory.
    pub const ZERO: MiB = MiB(0);

    /// The raw number of MiB.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `gib` GiB expressed in MiB (saturating).
    pub const fn from_gib(gib: u64) -> MiB {
        MiB(gib.saturating_mul(1024))
    }

    /// Sum, clamped at `u64::MAX` MiB.
    pub const fn saturating_add(self, other: MiB) -> MiB {
        MiB(self.0.saturating_add(other.0))
    }

    /// Difference, clamped at zero (e.g. "memory left" never goes negative).
    pub const fn saturating_sub(self, other: MiB) -> MiB {
        MiB(self.0.saturating_sub(other.0))
    }

    /// Product with a count, clamped at `u64::MAX` MiB.
    pub const fn saturating_mul(self, n: u64) -> MiB {
        MiB(self.0.saturating_mul(n))
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: MiB) -> Option<MiB> {
        self.0.checked_add(other.0).map(MiB)
    }

    /// Difference, or `None` if `other` is larger.
    pub fn checked_sub(self, other: MiB) -> Option<MiB> {
        self.0.checked_sub(other.0).map(MiB)
    }

    /// The same amount in bytes (saturating).
    pub const fn to_bytes(self) -> Bytes {
        Bytes(self.0.saturating_mul(MIB))
    }

    /// Saturating sum of an iterator of amounts.
    pub fn sum<I: IntoIterator<Item = MiB>>(iter: I) -> MiB {
        iter.into_iter().fold(MiB::ZERO, MiB::saturating_add)
    }
}

impl fmt::Display for MiB {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} MiB", self.0)
    }
}

/// An amount of storage in bytes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bytes(pub u64);

impl Bytes {
    /// No storage.
    pub const ZERO: Bytes = Bytes(0);

    /// The raw number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `gib` GiB (saturating).
    pub const fn from_gib(gib: u64) -> Bytes {
        Bytes(gib.saturating_mul(GIB))
    }

    /// `mib` MiB (saturating).
    pub const fn from_mib(mib: u64) -> Bytes {
        Bytes(mib.saturating_mul(MIB))
    }

    /// `tib` TiB (saturating).
    pub const fn from_tib(tib: u64) -> Bytes {
        Bytes(tib.saturating_mul(TIB))
    }

    /// Sum, clamped at `u64::MAX` bytes.
    pub const fn saturating_add(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(other.0))
    }

    /// Difference, clamped at zero.
    pub const fn saturating_sub(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(other.0))
    }

    /// Product with a count, clamped at `u64::MAX` bytes.
    pub const fn saturating_mul(self, n: u64) -> Bytes {
        Bytes(self.0.saturating_mul(n))
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Bytes) -> Option<Bytes> {
        self.0.checked_add(other.0).map(Bytes)
    }

    /// Difference, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Bytes) -> Option<Bytes> {
        self.0.checked_sub(other.0).map(Bytes)
    }

    /// Saturating sum of an iterator of amounts.
    pub fn sum<I: IntoIterator<Item = Bytes>>(iter: I) -> Bytes {
        iter.into_iter().fold(Bytes::ZERO, Bytes::saturating_add)
    }

    /// `ceil(self * ppm / 1_000_000)`: the part of a disk expected to be written when a
    /// fraction `ppm` parts-per-million of it fills. Integer maths (in `u128`, which
    /// cannot overflow here) so the result is exact and identical on every platform;
    /// rounding up so an expected fill is never under-counted by a byte.
    pub fn scale_ppm_ceil(self, ppm: u32) -> Bytes {
        let num = u128::from(self.0) * u128::from(ppm);
        let scaled = num.div_ceil(1_000_000);
        Bytes(u64::try_from(scaled).unwrap_or(u64::MAX))
    }
}

/// Writes `value / unit` with at most one decimal, rounded half up, trailing `.0` dropped.
fn write_scaled(f: &mut fmt::Formatter<'_>, value: u64, unit: u64, name: &str) -> fmt::Result {
    let tenths = (u128::from(value) * 10 + u128::from(unit) / 2) / u128::from(unit);
    let (whole, frac) = (tenths / 10, tenths % 10);
    if frac == 0 {
        write!(f, "{whole} {name}")
    } else {
        write!(f, "{whole}.{frac} {name}")
    }
}

impl fmt::Display for Bytes {
    /// Human units: "120 GiB", "1.5 GiB", "512 MiB", "300 B".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b >= GIB {
            write_scaled(f, b, GIB, "GiB")
        } else if b >= MIB {
            write_scaled(f, b, MIB, "MiB")
        } else if b >= KIB {
            write_scaled(f, b, KIB, "KiB")
        } else {
            write!(f, "{b} B")
        }
    }
}

/// A number of virtual CPUs given to a VM.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct VcpuCount(pub u32);

impl VcpuCount {
    /// The raw count.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Sum, clamped at `u32::MAX`.
    pub const fn saturating_add(self, other: VcpuCount) -> VcpuCount {
        VcpuCount(self.0.saturating_add(other.0))
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: VcpuCount) -> Option<VcpuCount> {
        self.0.checked_add(other.0).map(VcpuCount)
    }
}

impl fmt::Display for VcpuCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1 {
            write!(f, "1 vCPU")
        } else {
            write!(f, "{} vCPUs", self.0)
        }
    }
}

/// A fraction in parts per million, displayed as a percentage ("25%", "12.5%").
///
/// Used for the thin-provisioning fill fraction in messages: storing the integer the
/// checks actually used (not the `f64` the admin typed) keeps the message and the maths
/// in agreement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ppm(pub u32);

impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1% = 10_000 ppm; print up to four decimals of a percent, trailing zeros dropped.
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_arithmetic_saturates_and_checks() {
        assert_eq!(MiB(5).saturating_sub(MiB(7)), MiB(0));
        assert_eq!(MiB(u64::MAX).saturating_add(MiB(1)), MiB(u64::MAX));
        assert_eq!(MiB(u64::MAX).checked_add(MiB(1)), None);
        assert_eq!(MiB(3).checked_sub(MiB(4)), None);
        assert_eq!(MiB(4).checked_sub(MiB(3)), Some(MiB(1)));
        assert_eq!(MiB::from_gib(32), MiB(32768));
        assert_eq!(MiB(2).to_bytes(), Bytes(2 * MIB));
        assert_eq!(MiB::sum([MiB(1), MiB(u64::MAX)]), MiB(u64::MAX));
    }

    #[test]
    fn bytes_scale_rounds_up_and_never_overflows() {
        assert_eq!(Bytes(4).scale_ppm_ceil(250_000), Bytes(1));
        assert_eq!(Bytes(5).scale_ppm_ceil(250_000), Bytes(2));
        assert_eq!(Bytes(u64::MAX).scale_ppm_ceil(1_000_000), Bytes(u64::MAX));
        assert_eq!(
            Bytes::from_gib(100).scale_ppm_ceil(250_000),
            Bytes::from_gib(25)
        );
        assert_eq!(Bytes(9).scale_ppm_ceil(0), Bytes(0));
    }

    #[test]
    fn display_forms() {
        assert_eq!(Bytes::from_gib(120).to_string(), "120 GiB");
        assert_eq!(Bytes::from_mib(1536).to_string(), "1.5 GiB");
        assert_eq!(Bytes::from_mib(512).to_string(), "512 MiB");
        assert_eq!(Bytes(300).to_string(), "300 B");
        assert_eq!(MiB(2000).to_string(), "2000 MiB");
        assert_eq!(VcpuCount(1).to_string(), "1 vCPU");
        assert_eq!(VcpuCount(4).to_string(), "4 vCPUs");
        assert_eq!(Ppm(250_000).to_string(), "25%");
        assert_eq!(Ppm(125_000).to_string(), "12.5%");
        assert_eq!(Ppm(1_000_000).to_string(), "100%");
        assert_eq!(Ppm(1).to_string(), "0.0001%");
    }
}
