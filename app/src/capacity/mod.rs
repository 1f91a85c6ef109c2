//! Capacity checks and VM placement for Stackyard hosts.
//!
//! Follows section 1 of E. H. Al-Hemiary, "Virtualizing Network Services: Practical
//! Perspectives" (2017). A physical host is `(x, y, z)`: hardware virtualization,
//! memory, storage; a VM needs `(x_s, y_s, z_s)`.
//!
//! * Eq. (2), `y_a ≅ y − y_os`: [`HostSpec::available_memory`], with `y_os` from
//!   [`HostSpec::os_reserve`] or the policy's [`OsReserve`] default.
//! * Eq. (1), `y_a > y_s | x, z`: [`evaluate`] checks a host's existing and planned
//!   VMs and explains each broken condition as a [`Violation`].
//! * Eq. (3), `number of VMs ≅ y_a / Σ y_si`: [`how_many_more`] counts how many more
//!   VMs of a [`Template`] still fit (memory, storage and `x`);
//!   [`how_many_more_given`] is the same from a verdict already at hand.
//! * The paper's "distributed over five, ten or twenty physical servers": [`place`]
//!   packs VMs onto as few hosts as it can without breaking eq. (1) anywhere (exactly,
//!   for small layouts), and says whether that is proven the fewest
//!   ([`Placement::proven_optimal`]) or how few any placement could need
//!   ([`Placement::lower_bound_hosts`]); [`lower_bounds`] gives memory-only bounds.
//!
//! [`table2_templates`] seeds templates from the paper's Table 2.
//!
//! Units are newtypes ([`MiB`] for memory, [`Bytes`] for disks, [`VcpuCount`]) whose
//! arithmetic saturates or is checked: a wrapped sum would make a full host look empty.
//! Everything is deterministic: no hashing order, no randomness, no floating point in
//! the checks (the thin-provisioning fraction is turned into integer ppm first).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]
#![warn(missing_docs)]

pub mod model;
pub mod placement;
pub mod templates;
pub mod units;
pub mod verdict;

pub use model::{CapacityPolicy, HostSpec, OsReserve, VmDemand};
pub use placement::{
    lower_bounds, place, place_with, Assignment, Placement, PlacementRequest, Strategy, Target,
    Unplaced, UnplacedReason,
};
pub use templates::{table2_templates, Template};
pub use units::{Bytes, MiB, Ppm, VcpuCount};
pub use verdict::{evaluate, how_many_more, how_many_more_given, HostVerdict, ThinMix, Violation};
