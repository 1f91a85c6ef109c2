#![cfg(feature = "ssr")]
//! The service layer against libvirt's in-process test driver: no daemon
//! needed. Each connection to the demo node file gets its own private copy
//! of the node, so these tests do not disturb each other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::testing::libvirt as common;

use app::hosts::service::xml::mac_for_name;
use app::hosts::service::{HostError, Hypervisor, LibvirtHost, NetworkAttach, VmSpec, VmState};
use common::{demo, GIB};

fn host() -> LibvirtHost {
    LibvirtHost::connect(&demo()).expect("demo node opens")
}

fn spec(name: &str) -> VmSpec {
    VmSpec {
        name: name.into(),
        memory_mib: 768,
        vcpus: 2,
        disk: None,
        network: NetworkAttach::Bridge("br0".into()),
        mac: None,
        domain_type: None,
        cdroms: Vec::new(),
    }
}

#[test]
fn capacity_matches_the_demo_server() {
    let h = host();
    let c = h.capacity().unwrap();
    assert_eq!(c.memory_total_mib, 32 * 1024);
    assert_eq!(c.cpus, 16);
    assert_eq!((c.sockets, c.cores, c.threads), (2, 4, 2));
    assert_eq!(c.mhz, 2400);
    assert_eq!(c.cpu_model, "Intel Xeon E5620 @ 2.40GHz");
    // The test driver only offers its native domain type "test", never kvm
    // nor emulation: described as the paper's E5620 with VT-x.
    assert!(c.hw_virt);
    // ns1 (512) and web (1024) run.
    assert_eq!(c.memory_free_mib, 32 * 1024 - 512 - 1024);
    assert_eq!(c.pools.len(), 1);
    let p = &c.pools[0];
    assert_eq!(p.name, "default");
    assert!(p.active);
    // As the node file declares it (the driver itself says 100 GiB);
    // allocation = the three volumes (2+12+4 GiB).
    assert_eq!(p.capacity, 2048 * GIB);
    assert_eq!(p.allocation, 18 * GIB);
    assert_eq!(p.available, 2030 * GIB);
    assert_eq!(c.networks.len(), 1);
    let n = &c.networks[0];
    assert_eq!(n.name, "br0");
    assert!(n.active);
    assert_eq!(n.bridge.as_deref(), Some("br0"));
    assert_eq!(n.forward_mode.as_deref(), Some("bridge"));
    h.close().unwrap();
}

#[test]
fn lists_the_demo_vms() {
    let h = host();
    let vms = h.list_vms().unwrap();
    let names: Vec<&str> = vms.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["mail", "ns1", "web"]);
    let ns1 = &vms[1];
    assert_eq!(ns1.state, VmState::Running);
    assert_eq!(ns1.memory_mib, 512);
    assert_eq!(ns1.vcpus, 1);
    assert_eq!(ns1.uuid, "6f0c2a1e-3b7d-4e51-9a0e-0d1a5c000001");
    assert!(ns1.persistent);
    assert!(!ns1.autostart);
    assert_eq!(ns1.disks.len(), 1);
    assert_eq!(ns1.disks[0].target, "vda");
    assert_eq!(
        ns1.disks[0].path.as_deref(),
        Some("/var/lib/libvirt/images/ns1.qcow2")
    );
    assert_eq!(ns1.disks[0].capacity, Some(10 * GIB));
    assert_eq!(ns1.disks[0].allocation, Some(2 * GIB));
    // The test driver invents an address for running guests.
    assert!(!ns1.addresses.is_empty(), "{:?}", ns1.addresses);
    let mail = &vms[0];
    assert_eq!(mail.state, VmState::ShutOff);
    assert_eq!(mail.memory_mib, 2000);
    assert!(mail.addresses.is_empty());
    assert_eq!(h.vm("mail").unwrap(), *mail);
    assert_eq!(h.vm("nope"), Err(HostError::NoSuchVm("nope".into())));
}

#[test]
fn every_lifecycle_action() {
    let h = host();
    let state = |n: &str| h.vm(n).unwrap().state;
    h.start("mail").unwrap();
    assert_eq!(state("mail"), VmState::Running);
    let e = h.start("mail").unwrap_err();
    assert!(
        matches!(e, HostError::InvalidState(ref m) if m.contains("mail")),
        "{e:?}"
    );
    h.pause("mail").unwrap();
    assert_eq!(state("mail"), VmState::Paused);
    h.resume("mail").unwrap();
    assert_eq!(state("mail"), VmState::Running);
    h.reboot("mail").unwrap();
    assert_eq!(state("mail"), VmState::Running);
    // The test driver has no guest: an ACPI shutdown completes at once.
    h.shutdown("mail").unwrap();
    assert_eq!(state("mail"), VmState::ShutOff);
    let e = h.pause("mail").unwrap_err();
    assert!(matches!(e, HostError::InvalidState(_)), "{e:?}");
    assert!(e.to_string().starts_with("cannot pause VM 'mail'"), "{e}");
    h.start("mail").unwrap();
    h.force_off("mail").unwrap();
    assert_eq!(state("mail"), VmState::ShutOff);
    assert!(matches!(
        h.force_off("mail"),
        Err(HostError::InvalidState(_))
    ));
    assert_eq!(h.start("ghost"), Err(HostError::NoSuchVm("ghost".into())));
}

#[test]
fn autostart_toggles() {
    let h = host();
    h.set_autostart("ns1", true).unwrap();
    assert!(h.vm("ns1").unwrap().autostart);
    h.set_autostart("ns1", false).unwrap();
    assert!(!h.vm("ns1").unwrap().autostart);
}

#[test]
fn delete_keeps_or_removes_volumes() {
    let h = host();
    // A running VM is not deleted.
    let e = h.delete("web", true).unwrap_err();
    assert!(
        matches!(e, HostError::InvalidState(ref m) if m.contains("running")),
        "{e:?}"
    );

    // Without volumes: the image stays (and its name stays taken).
    let r = h.delete("mail", false).unwrap();
    assert!(r.deleted_volumes.is_empty());
    assert_eq!(r.kept, ["/var/lib/libvirt/images/mail.qcow2"]);
    assert_eq!(h.vm("mail"), Err(HostError::NoSuchVm("mail".into())));
    assert!(matches!(
        h.create_volume("default", "mail.qcow2", GIB),
        Err(HostError::AlreadyExists(_))
    ));

    // With volumes: the image goes, the pool shrinks.
    let before = h.capacity().unwrap().pools[0].allocation;
    h.force_off("web").unwrap();
    let r = h.delete("web", true).unwrap();
    assert_eq!(r.deleted_volumes, ["/var/lib/libvirt/images/web.qcow2"]);
    assert!(r.kept.is_empty(), "{:?}", r.kept);
    assert_eq!(h.capacity().unwrap().pools[0].allocation, before - 4 * GIB);
    assert!(h.create_volume("default", "web.qcow2", GIB).is_ok());
    assert_eq!(
        h.delete("web", true),
        Err(HostError::NoSuchVm("web".into()))
    );
}

#[test]
fn delete_spares_volumes_other_vms_use() {
    let h = host();
    let mut s = spec("twin");
    s.disk = Some(("default".into(), "mail.qcow2".into()));
    h.define_vm(&s).unwrap();
    let r = h.delete("mail", true).unwrap();
    assert!(r.deleted_volumes.is_empty());
    assert!(
        r.kept[0].contains("still used by another VM"),
        "{:?}",
        r.kept
    );
}

#[test]
fn delete_spares_volumes_named_by_pool_or_backing_another() {
    let h = host();
    let conn = h.raw_connection().unwrap();
    // A VM defined elsewhere (virsh, virt-manager) names mail's image by
    // pool and volume, where mail names it by path: the same file.
    conn.define_domain_xml(
        "<domain type='test'><name>alias</name><memory unit='MiB'>256</memory>\
         <os><type>hvm</type></os><devices><disk type='volume' device='disk'>\
         <source pool='default' volume='mail.qcow2'/><target dev='vda'/></disk>\
         </devices></domain>",
    )
    .unwrap();
    let r = h.delete("alias", true).unwrap();
    assert!(r.deleted_volumes.is_empty(), "{r:?}");
    assert_eq!(
        r.kept,
        ["/var/lib/libvirt/images/mail.qcow2 (still used by another VM)"]
    );

    // An overlay built on web's image: web's image must stay.
    let pool = conn.lookup_storage_pool_by_name("default").unwrap();
    virt::storage_vol::StorageVol::create_xml(
        &pool,
        "<volume><name>web-overlay.qcow2</name><capacity>1073741824</capacity>\
         <target><format type='qcow2'/></target><backingStore>\
         <path>/var/lib/libvirt/images/web.qcow2</path><format type='qcow2'/>\
         </backingStore></volume>",
        0,
    )
    .unwrap();
    h.force_off("web").unwrap();
    let r = h.delete("web", true).unwrap();
    assert!(r.deleted_volumes.is_empty(), "{r:?}");
    assert_eq!(
        r.kept,
        ["/var/lib/libvirt/images/web.qcow2 (the backing file of \
             /var/lib/libvirt/images/web-overlay.qcow2)"]
    );
}

#[test]
fn create_volume_is_thin_qcow2_and_refuses_taken_names() {
    let h = host();
    let v = h.create_volume("default", "data1.qcow2", 5 * GIB).unwrap();
    assert_eq!(v.pool, "default");
    assert_eq!(v.name, "data1.qcow2");
    assert_eq!(v.path, "/var/lib/libvirt/images/data1.qcow2");
    assert_eq!(v.capacity, 5 * GIB);
    assert_eq!(v.allocation, 0);
    let e = h.create_volume("default", "data1.qcow2", GIB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a volume named 'data1.qcow2' already exists in pool 'default'; choose another name"
    );
    assert_eq!(
        h.create_volume("tank", "x.qcow2", GIB),
        Err(HostError::NoSuchPool("tank".into()))
    );
    assert!(matches!(
        h.create_volume("default", "../etc/passwd", GIB),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        h.create_volume("default", "zero.qcow2", 0),
        Err(HostError::InvalidInput(_))
    ));
}

#[test]
fn define_vm_writes_the_promised_xml() {
    let h = host();
    h.create_volume("default", "app1.qcow2", 8 * GIB).unwrap();
    let mut s = spec("app1");
    s.disk = Some(("default".into(), "app1.qcow2".into()));
    let vm = h.define_vm(&s).unwrap();
    assert_eq!(vm.name, "app1");
    assert_eq!(vm.state, VmState::ShutOff);
    assert_eq!(vm.memory_mib, 768);
    assert_eq!(vm.vcpus, 2);
    assert!(vm.persistent);
    assert_eq!(vm.disks[0].capacity, Some(8 * GIB));

    let xml = h.vm_xml("app1").unwrap();
    // No kvm in the test driver's capabilities, so qemu was chosen.
    assert!(xml.contains("<domain type='qemu'"), "{xml}");
    assert!(xml.contains(&format!("<mac address='{}'/>", mac_for_name("app1"))));
    assert!(xml.contains("<source bridge='br0'/>"));
    assert!(xml.contains("<model type='virtio'/>"));
    assert!(xml.contains("<source file='/var/lib/libvirt/images/app1.qcow2'/>"));
    assert!(xml.contains("<target dev='vda' bus='virtio'/>"));
    assert!(xml.contains("<driver name='qemu' type='qcow2'/>"));
    assert!(xml.contains("listen='127.0.0.1'"));
    assert!(xml.contains("<serial type='pty'>"));
    assert!(xml.contains("<console type='pty'>"));

    // Same name again: refused with a clear message.
    let e = h.define_vm(&s).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a VM named 'app1' already exists on this host"
    );

    // Explicit MAC (normalised), explicit kvm, a libvirt network.
    let mut s2 = spec("app2");
    s2.mac = Some("52:54:00:AA:BB:CC".into());
    s2.domain_type = Some(app::hosts::service::DomainType::Kvm);
    s2.network = NetworkAttach::Network("br0".into());
    h.define_vm(&s2).unwrap();
    let xml = h.vm_xml("app2").unwrap();
    assert!(xml.contains("<domain type='kvm'"));
    assert!(xml.contains("<mac address='52:54:00:aa:bb:cc'/>"));
    assert!(xml.contains("<source network='br0'"));

    // Bad input never reaches libvirt.
    let mut bad = spec("app3");
    bad.network = NetworkAttach::Network("nonet".into());
    assert!(matches!(h.define_vm(&bad), Err(HostError::InvalidInput(m)) if m.contains("nonet")));
    bad.network = NetworkAttach::None;
    bad.mac = Some("01:00:5e:00:00:01".into());
    assert!(matches!(h.define_vm(&bad), Err(HostError::InvalidInput(_))));
    bad.mac = None;
    bad.disk = Some(("default".into(), "missing.qcow2".into()));
    assert!(matches!(
        h.define_vm(&bad),
        Err(HostError::NoSuchVolume { .. })
    ));
    bad.disk = None;
    bad.memory_mib = 0;
    assert!(matches!(h.define_vm(&bad), Err(HostError::InvalidInput(_))));
    bad.memory_mib = 64;
    bad.name = "a b".into();
    assert!(matches!(h.define_vm(&bad), Err(HostError::InvalidInput(_))));

    // And it boots.
    h.start("app1").unwrap();
    assert_eq!(h.vm("app1").unwrap().state, VmState::Running);
}

#[test]
fn connect_errors_say_what_to_do() {
    let e = LibvirtHost::connect("bogus:///nothing").unwrap_err();
    assert!(e.is_connection_lost());
    assert!(e.to_string().contains("check the connection URI"), "{e}");

    let e =
        LibvirtHost::connect("qemu+unix:///system?socket=/nonexistent/libvirt-sock").unwrap_err();
    assert!(e.to_string().contains("is libvirtd"), "{e}");

    let e = LibvirtHost::connect("test:///nonexistent/node.xml").unwrap_err();
    assert!(e.is_connection_lost(), "{e}");

    let e = LibvirtHost::connect("test:///default\0").unwrap_err();
    assert!(e.to_string().contains("NUL"), "{e}");
}

#[test]
fn delete_with_volumes_takes_the_vms_seed_and_leaves_other_media() {
    let h = host();
    h.create_volume("default", "lone.qcow2", GIB).unwrap();
    h.create_volume("default", "lone-seed.iso", 1 << 20)
        .unwrap();
    h.create_volume("default", "installer.iso", 1 << 20)
        .unwrap();
    let conn = h.raw_connection().unwrap();
    // Its disk, its cloud-init seed in one CD drive (by path), an installer
    // ISO of the library in another (by pool and volume).
    conn.define_domain_xml(
        "<domain type='test'><name>lone</name><memory unit='MiB'>256</memory>\
         <os><type>hvm</type></os><devices>\
         <disk type='file' device='disk'><source file='/var/lib/libvirt/images/lone.qcow2'/>\
         <target dev='vda'/></disk>\
         <disk type='file' device='cdrom'><source file='/var/lib/libvirt/images/lone-seed.iso'/>\
         <target dev='sda'/><readonly/></disk>\
         <disk type='volume' device='cdrom'><source pool='default' volume='installer.iso'/>\
         <target dev='sdb'/><readonly/></disk>\
         </devices></domain>",
    )
    .unwrap();
    let r = h.delete("lone", true).unwrap();
    assert_eq!(
        r.deleted_volumes,
        [
            "/var/lib/libvirt/images/lone.qcow2",
            "/var/lib/libvirt/images/lone-seed.iso"
        ],
        "{r:?}"
    );
    assert!(r.kept.is_empty(), "{r:?}");
    // The seed's name is free again; the installer is still in the pool.
    assert!(h.create_volume("default", "lone-seed.iso", 1 << 20).is_ok());
    assert!(matches!(
        h.create_volume("default", "installer.iso", 1 << 20),
        Err(HostError::AlreadyExists(_))
    ));
}
