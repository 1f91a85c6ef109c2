//! Images and what VMs are made from: cloud images and the cloud-init seed that configures a VM on its first boot.

#[cfg(feature = "ssr")]
pub mod seed;
