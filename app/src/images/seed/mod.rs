//! The cloud-init NoCloud seed: the documents that configure a VM made from
//! a cloud image on its first boot, and the small ISO9660 volume labelled
//! `cidata` that carries them to the guest.
//!
//! cloud-init's NoCloud data source looks for a filesystem labelled `cidata`
//! and reads `meta-data`, `user-data` and (optionally) `network-config` from
//! it. A [`SeedSpec`] is what a person fills in on the form; [`SeedSpec::files`]
//! checks it and renders the three documents, and [`iso::iso9660`] packs
//! them into the volume a VM gets as a read-only CD-ROM.
//!
//! Everything here is pure: plain values in, text and bytes out, so it is
//! tested without a hypervisor. The YAML is written by hand rather than with
//! a YAML crate: the documents are small and fixed, and every string that
//! comes from a person is written as a double-quoted scalar with every
//! character that could end or fold it escaped (`render.rs`), so no value
//! can add a key, a list item or a document of its own.
//!
//! The instance-id is a hash of the documents: cloud-init runs its
//! per-instance modules (users, SSH keys, packages, commands, and SSH host
//! keys too) again only when the instance-id changes, so a changed seed is a
//! new instance and an unchanged one is left alone.

#![warn(missing_docs)]

pub mod iso;
mod render;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tools_tests;

use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// The volume label cloud-init's NoCloud data source looks for. NoCloud
/// asks blkid for `LABEL=cidata` and `LABEL=CIDATA` exactly, so the label
/// is written in this spelling, as `genisoimage -V cidata` does.
pub const VOLUME_LABEL: &str = "cidata";

/// The name of VM `vm`'s seed volume in its pool: the VM's own, deleted
/// with its disks.
pub fn volume_name(vm: &str) -> String {
    format!("{vm}-seed.iso")
}

/// Name of the file with the instance-id and the local host name.
pub const META_DATA: &str = "meta-data";
/// Name of the file with the `#cloud-config` (or script) for the guest.
pub const USER_DATA: &str = "user-data";
/// Name of the file with the static network configuration (version 2).
pub const NETWORK_CONFIG: &str = "network-config";

/// What a new VM is configured with on its first boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSpec {
    /// The VM's short host name: one DNS label, such as `web1`.
    pub hostname: String,
    /// The VM's full name, such as `web1.example.org`; it starts with the
    /// host name. Without it the guest knows only its short name.
    pub fqdn: Option<String>,
    /// The one account people log in with (by SSH key only).
    pub admin: AdminAccount,
    /// Debian packages installed on the first boot (after `apt-get update`).
    pub packages: Vec<String>,
    /// Shell command lines run once, in order, at the end of the first boot.
    pub commands: Vec<String>,
    /// For experts: a complete user-data written to the seed as it is,
    /// instead of the one made from `admin`, `packages` and `commands`. It
    /// must start with `#cloud-config` or with `#!` (a script). With it,
    /// the admin's name is not used, and packages, commands and SSH keys
    /// must be empty (they would be silently lost otherwise).
    pub raw_user_data: Option<String>,
    /// A static address for the VM's network card; without it the guest
    /// uses the image's default (DHCP on its first card).
    pub network: Option<StaticNetwork>,
}

/// The administrator account the seed creates in the guest: password
/// locked, SSH keys only, `sudo` without a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// The Linux user name, such as `admin`.
    pub name: String,
    /// Public keys as in a `.pub` file: `type base64 [comment]`.
    pub ssh_authorized_keys: Vec<String>,
}

/// A static IPv4 or IPv6 configuration of the VM's network card, matched by
/// its MAC address (the interface keeps the name the guest gives it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticNetwork {
    /// The card's MAC address, `52:54:00:12:34:56`.
    pub mac: String,
    /// The VM's address.
    pub address: IpAddr,
    /// The length of the network prefix: `24` for `192.0.2.10/24`.
    pub prefix: u8,
    /// The default gateway, inside the VM's subnet (or an IPv6 link-local
    /// address). Without it the VM reaches only its own subnet.
    pub gateway: Option<IpAddr>,
    /// DNS resolvers, at most three (the guest's resolver uses no more).
    pub resolvers: Vec<IpAddr>,
    /// DNS search domains, such as `example.org`.
    pub search: Vec<String>,
}

/// The inputs of a seed, as the form names them; each [`SeedError`] names
/// one so the console can show the message next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Hostname,
    Fqdn,
    Admin,
    SshKeys,
    Packages,
    Commands,
    UserData,
    Mac,
    Address,
    Prefix,
    Gateway,
    Resolvers,
    Search,
}

impl Field {
    /// The form field's name, e.g. `"ssh_keys"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Field::Hostname => "hostname",
            Field::Fqdn => "fqdn",
            Field::Admin => "admin",
            Field::SshKeys => "ssh_keys",
            Field::Packages => "packages",
            Field::Commands => "commands",
            Field::UserData => "user_data",
            Field::Mac => "mac",
            Field::Address => "address",
            Field::Prefix => "prefix",
            Field::Gateway => "gateway",
            Field::Resolvers => "resolvers",
            Field::Search => "search",
        }
    }
}

/// Why a [`SeedSpec`] cannot be made into a seed: the field that is wrong
/// and, in words an administrator can act on, why and what would do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", field.as_str())]
pub struct SeedError {
    field: Field,
    message: String,
}

impl SeedError {
    pub(crate) fn new(field: Field, message: impl Into<String>) -> Self {
        SeedError {
            field,
            message: message.into(),
        }
    }

    /// The form field the problem concerns: `"hostname"`, `"fqdn"`,
    /// `"admin"`, `"ssh_keys"`, `"packages"`, `"commands"`, `"user_data"`,
    /// `"mac"`, `"address"`, `"prefix"`, `"gateway"`, `"resolvers"` or
    /// `"search"`.
    pub fn field(&self) -> &'static str {
        self.field.as_str()
    }

    /// The explanation, a complete sentence for the person filling the form.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The instance-id of a seed: `sy-` and 16 hex digits of a SHA-256 over
/// the documents, so equal seeds have equal ids and any change makes a new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId(String);

impl InstanceId {
    /// The id as written to `meta-data`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SeedSpec {
    /// Checks every field; the first problem found is returned, naming its
    /// field. The documents of a spec that passes are well-formed and mean
    /// what the fields say.
    pub fn validate(&self) -> Result<(), SeedError> {
        validate::spec(self)
    }

    /// The `meta-data` document: the instance-id and the local host name.
    pub fn meta_data(&self, instance_id: &InstanceId) -> String {
        render::meta_data(instance_id.as_str(), &self.hostname)
    }

    /// The `user-data` document: [`SeedSpec::raw_user_data`] as it is when
    /// given, otherwise a `#cloud-config` with the host name, the admin
    /// account, the packages and the commands.
    pub fn user_data(&self) -> String {
        match &self.raw_user_data {
            Some(raw) => raw.clone(),
            None => render::cloud_config(self),
        }
    }

    /// The `network-config` document (version 2), when a static network is
    /// given.
    pub fn network_config(&self) -> Option<String> {
        self.network.as_ref().map(render::network_config)
    }

    /// The instance-id for these documents (see [`InstanceId`]).
    ///
    /// The hash covers `meta-data` without its id, `user-data` and
    /// `network-config` (or its absence), each with its name and length so
    /// that no two different sets of documents hash alike.
    pub fn instance_id(&self) -> InstanceId {
        let mut hash = Sha256::new();
        hash.update(b"stackyard cloud-init seed\0");
        let meta = render::meta_data("", &self.hostname);
        let user = self.user_data();
        let network = self.network_config();
        let docs = [
            (META_DATA, Some(meta)),
            (USER_DATA, Some(user)),
            (NETWORK_CONFIG, network),
        ];
        for (name, text) in &docs {
            hash.update(name.as_bytes());
            match text {
                Some(text) => {
                    hash.update([1]);
                    hash.update((text.len() as u64).to_be_bytes());
                    hash.update(text.as_bytes());
                }
                None => hash.update([0]),
            }
        }
        let digest = hash.finalize();
        let mut id = String::from("sy-");
        for byte in digest.iter().take(8) {
            id.push_str(&format!("{byte:02x}"));
        }
        InstanceId(id)
    }

    /// The seed's files, checked: `meta-data`, `user-data` and, when a
    /// static network is given, `network-config`, ready for
    /// [`iso::iso9660`] with [`VOLUME_LABEL`].
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>, SeedError> {
        self.validate()?;
        let id = self.instance_id();
        let mut files = vec![
            (META_DATA, self.meta_data(&id).into_bytes()),
            (USER_DATA, self.user_data().into_bytes()),
        ];
        if let Some(network) = self.network_config() {
            files.push((NETWORK_CONFIG, network.into_bytes()));
        }
        Ok(files)
    }
}
