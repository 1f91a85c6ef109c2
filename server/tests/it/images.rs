//! The image library over HTTP: an upload streams into a real libvirtd's
//! pool with its SHA-256; what must be refused is refused by its field
//! with nothing left behind (no volume, no row); an image a VM uses is not
//! deleted. The demo host (libvirt's test driver) cannot take uploads and
//! says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestApp, HOST, ORIGIN};
use app::auth::Role;
use app::images::entity::image;
use app::testing::libvirt::{guest_images, virsh, ScratchPool, DAEMON, SYSTEM_URI};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};

/// `sha256sum FILE`'s digest.
fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The local daemon as host 2 of the test app.
async fn local_host(app: &TestApp) -> i32 {
    let row = app::hosts::store::insert(&app.db, "local".into(), SYSTEM_URI.into(), String::new())
        .await
        .unwrap();
    app.hosts.start(row.clone());
    let (_, handle) = app.hosts.get(row.id).unwrap();
    assert!(
        handle
            .wait_reachable(std::time::Duration::from_secs(15))
            .await
    );
    // The pool the test made is in the worker's capacity.
    handle.capacity().await.unwrap();
    row.id
}

/// `POST /images/upload?…` with `body`, announcing `length` bytes.
async fn upload(
    app: &TestApp,
    cookie: &str,
    query: &str,
    body: Vec<u8>,
    length: usize,
) -> crate::common::Response {
    let request = Request::post(format!("/images/upload?{query}"))
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, length.to_string())
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

async fn rows(app: &TestApp) -> u64 {
    image::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
#[ignore = "needs a running libvirtd with qemu (run with --include-ignored)"]
async fn an_upload_streams_into_the_pool_and_refusals_leave_nothing() {
    let _daemon = DAEMON.lock().await;
    let iso_path = guest_images().join("grub-rescue.iso");
    let iso = std::fs::read(&iso_path).unwrap();
    let sum = sha256sum(&iso_path);
    let mut pool = ScratchPool::new("stackyard-img");
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let viewer = app.with_user("viewer", Role::Viewer).await;
    let host = local_host(&app).await;
    let q = |name: &str, kind: &str, sha: &str| {
        format!(
            "host={host}&pool={}&name={name}&kind={kind}&sha256={sha}",
            pool.name
        )
    };

    // A viewer may not upload.
    let r = upload(
        &app,
        &viewer,
        &q("rescue", "installer", ""),
        iso.clone(),
        iso.len(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The ISO as an installer, with its checksum given in capitals.
    let r = upload(
        &app,
        &op,
        &q("grub+rescue", "installer", &sum.to_uppercase()),
        iso.clone(),
        iso.len(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let img = r.json();
    assert_eq!(img["sha256"], sum.as_str());
    assert_eq!(img["format"], "iso");
    assert_eq!(img["state"], "ready");
    assert_eq!(img["name"], "grub rescue");
    assert_eq!(img["size_bytes"], iso.len() as u64);
    let volume = img["volume"].as_str().unwrap().to_owned();
    assert_eq!(pool.volumes(), vec![volume.clone()]);
    // The volume holds exactly the file's bytes.
    assert_eq!(sha256sum(&pool.dir.join(&volume)), sum);

    // Refusals, each by its field, each leaving the pool and the table as they were.
    let before = rows(&app).await;
    let cases: Vec<(String, Vec<u8>, usize, &str, &str)> = vec![
        (
            q("rescue2", "installer", &"0".repeat(64)),
            iso.clone(),
            iso.len(),
            "sha256",
            "not the",
        ),
        (
            q("as-cloud", "cloud", ""),
            iso.clone(),
            iso.len(),
            "file",
            "a CD image",
        ),
        (
            q("short", "installer", ""),
            iso[..100_000].to_vec(),
            iso.len(),
            "file",
            "broke off after 100000",
        ),
        (
            q("grub%20rescue", "installer", ""),
            iso.clone(),
            iso.len(),
            "name",
            "already has an image",
        ),
        (
            q("bad/name", "installer", ""),
            iso.clone(),
            iso.len(),
            "name",
            "'/'",
        ),
        (
            q("x", "installer", "abc"),
            iso.clone(),
            iso.len(),
            "sha256",
            "64 hexadecimal",
        ),
        (
            q("x", "floppy", ""),
            iso.clone(),
            iso.len(),
            "kind",
            "installer ISO or a cloud image",
        ),
        (
            format!("host={host}&pool=nope&name=x&kind=installer"),
            iso.clone(),
            iso.len(),
            "pool",
            "no storage pool called nope",
        ),
        (q("empty", "installer", ""), Vec::new(), 0, "file", "empty"),
    ];
    for (query, body, length, field, says) in cases {
        let r = upload(&app, &op, &query, body, length).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.body
        );
        let e = r.json();
        assert_eq!(e["Invalid"]["field"], field, "{query}: {}", r.body);
        let message = e["Invalid"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
        assert_eq!(
            pool.volumes(),
            vec![volume.clone()],
            "{query} left a volume"
        );
        assert_eq!(rows(&app).await, before, "{query} left a row");
    }

    // Renamed in Stackyard; the volume keeps its name.
    let id = img["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/images/rename",
            &format!("host_id={host}&id={id}&name=Rescue+CD"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["name"], "Rescue CD");
    let r = app
        .post(
            "/api/images/library",
            &format!("host_id={host}"),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["images"][0]["name"], "Rescue CD");
    assert!(r.json()["pools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p[0] == pool.name.as_str()));

    // A VM with the image as its CD-ROM: the image stays.
    let vm = app::testing::libvirt::unique("img-user");
    pool.vms.push(vm.clone());
    let xml = format!(
        "<domain type='qemu'><name>{vm}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os><devices>\
         <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>",
        pool.dir.join(&volume).display()
    );
    let file = std::env::temp_dir().join(format!("{vm}.xml"));
    std::fs::write(&file, xml).unwrap();
    virsh(&["define", &file.display().to_string()]).unwrap();
    let _ = std::fs::remove_file(&file);
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={id}"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&format!("in use by {vm}")), "{}", r.body);
    assert_eq!(pool.volumes(), vec![volume.clone()]);

    // Without the VM it goes, volume and row.
    virsh(&["undefine", &vm]).unwrap();
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={id}"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(pool.volumes().is_empty());
    assert_eq!(rows(&app).await, 0);
    let audit: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|a| a.action)
        .collect();
    for action in ["image.upload", "image.rename", "image.delete"] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
}

#[tokio::test]
async fn the_demo_host_cannot_take_an_upload_and_says_so() {
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let body = vec![0u8; 40_000];
    // Without an Origin: the gate refuses the state change.
    let request = Request::post("/images/upload?host=1&pool=default-pool&name=x&kind=cloud")
        .header(header::HOST, HOST)
        .header(header::COOKIE, &op)
        .header(header::CONTENT_LENGTH, body.len().to_string())
        .body(Body::from(body.clone()))
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let pools = app
        .post("/api/images/library", "host_id=1", Some(&op))
        .await
        .json();
    let pool = pools["pools"][0][0].as_str().unwrap().to_owned();
    let r = upload(
        &app,
        &op,
        &format!("host=1&pool={pool}&name=x&kind=cloud"),
        body.clone(),
        body.len(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("refused the upload"), "{}", r.body);
    assert_eq!(rows(&app).await, 0);
}

/// Applies `spec` as a new layout, its volumes in `pool`.
async fn apply_layout(
    app: &TestApp,
    spec: &app::layouts::LayoutSpec,
    pool: &str,
) -> app::layouts::ApplyRun {
    use app::layouts::service::apply::{self, ApplyRequest};
    let layout_id = app::layouts::store::save(&app.db, None, spec)
        .await
        .unwrap();
    let run = apply::begin(&app.db, layout_id, &spec.name, "tester")
        .await
        .unwrap();
    let request = ApplyRequest {
        dns: Default::default(),
        layout_id,
        spec: spec.clone(),
        remove: Vec::new(),
        pool: Some(pool.to_owned()),
    };
    apply::execute(&app.db, &app.hosts, run, &request)
        .await
        .unwrap()
}

/// One layout VM on `host`, without a NIC, not started by the apply.
fn layout_vm(name: &str, host: &str, image: &str, disk_gib: u64) -> app::layouts::LayoutVm {
    app::layouts::LayoutVm {
        fqdn: None,
        name: name.into(),
        template: None,
        vcpus: 1,
        memory_mib: 256,
        disk_gib,
        host: app::layouts::HostChoice::Host(host.into()),
        network: app::layouts::Nic::None,
        ip: None,
        start: false,
        image: Some(image.into()),
        packages: Vec::new(),
        commands: Vec::new(),
        user_data: None,
    }
}

/// Boots a defined VM under TCG (nested KVM stalls booting guests on the
/// test machines; the console itself picks KVM where the host has it).
fn start_under_tcg(vm: &str) {
    let xml = virsh(&["dumpxml", "--inactive", vm]).unwrap();
    let xml = xml.replacen("<domain type='kvm'", "<domain type='qemu'", 1);
    let file = std::env::temp_dir().join(format!("{vm}-tcg.xml"));
    std::fs::write(&file, xml).unwrap();
    virsh(&["define", &file.display().to_string()]).unwrap();
    let _ = std::fs::remove_file(&file);
    virsh(&["start", vm]).unwrap();
}

fn state(vm: &str) -> String {
    virsh(&["domstate", vm])
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test]
#[ignore = "needs a running libvirtd with qemu (run with --include-ignored)"]
async fn a_layout_vm_boots_the_installer_iso_it_names() {
    let _daemon = DAEMON.lock().await;
    let iso_path = guest_images().join("grub-rescue.iso");
    let iso = std::fs::read(&iso_path).unwrap();
    let mut pool = ScratchPool::new("stackyard-inst");
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let host = local_host(&app).await;
    let query = format!(
        "host={host}&pool={}&name=grub-rescue&kind=installer",
        pool.name
    );
    let r = upload(&app, &op, &query, iso.clone(), iso.len()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let iso_volume = r.json()["volume"].as_str().unwrap().to_owned();

    let vm = app::testing::libvirt::unique("inst");
    pool.vms.push(vm.clone());
    let spec = app::layouts::LayoutSpec {
        zone: None,
        networks: Vec::new(),
        name: app::testing::libvirt::unique("installer layout"),
        description: String::new(),
        cloud_init: Default::default(),
        vms: vec![layout_vm(&vm, "local", "grub-rescue", 1)],
    };
    let run = apply_layout(&app, &spec, &pool.name).await;
    let steps: Vec<String> = run.steps.iter().map(|s| s.line()).collect();
    assert_eq!(
        run.outcome,
        app::layouts::RunOutcome::Succeeded,
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("installer grub-rescue in the CD drive")),
        "{steps:#?}"
    );
    // The ISO in a read-only CD drive, booted before the blank disk.
    let xml = virsh(&["dumpxml", &vm]).unwrap();
    assert!(
        xml.contains(&format!("{}/{iso_volume}", pool.dir.display())),
        "{xml}"
    );
    let boot_cd = xml.find("<boot dev='cdrom'/>").expect("boots from the CD");
    assert!(
        boot_cd < xml.find("<boot dev='hd'/>").expect("then the disk"),
        "{xml}"
    );

    // It boots GRUB from the ISO: GRUB's own `halt` powers it off.
    start_under_tcg(&vm);
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    virsh(&["send-key", &vm, "KEY_C"]).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    for key in ["KEY_H", "KEY_A", "KEY_L", "KEY_T", "KEY_ENTER"] {
        virsh(&["send-key", &vm, key]).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let t0 = std::time::Instant::now();
    while state(&vm) != "shut off" {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "{vm} did not power off from GRUB: {}",
            state(&vm)
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // The image is in use by the VM now: not deleted.
    let id = r.json()["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={id}"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

/// The Debian 12 cloud image `scripts/cloud-image.sh` builds once from
/// Debian's packages (cached outside the repository).
fn cloud_image() -> std::path::PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/cloud-image.sh");
    let out = std::process::Command::new(script)
        .output()
        .expect("scripts/cloud-image.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::path::PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
}

/// Reads `vm`'s serial line until a line holds `needle`; answers that line.
async fn serial_line(vm: &str, needle: &str, within: std::time::Duration) -> String {
    use app::consoles::service::{open_serial, SerialOutput};
    let mut console = open_serial(SYSTEM_URI, vm)
        .await
        .expect("the VM's serial console");
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, console.output.recv()).await {
            Ok(Some(SerialOutput::Data(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                // Whole lines only: the last one may still be arriving.
                let complete = seen.rfind('\n').map_or("", |end| &seen[..end]);
                if let Some(line) = complete
                    .lines()
                    .find(|l| l.contains(needle) && !l.contains("echo"))
                {
                    return line.trim().to_owned();
                }
            }
            Ok(Some(SerialOutput::Closed(why))) => {
                panic!("the serial console closed: {why}\n{seen}")
            }
            Ok(None) => panic!("the serial console ended\n{seen}"),
            Err(_) => panic!(
                "no line with {needle:?} on {vm}'s serial line within {within:?}; it said:\n{}",
                &seen[seen.len().saturating_sub(3000)..]
            ),
        }
    }
}

/// A fresh ed25519 public key line (`ssh-keygen`).
fn public_key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id");
    let status = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "test@stackyard",
            "-f",
        ])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A test app with the local daemon as host `local` and the cloud image
/// uploaded (as `debian-12`, through `/images/upload`) into a scratch pool
/// of its own; answers the image's path and the upload's answer too.
async fn cloud_app(
    prefix: &str,
) -> (
    TestApp,
    ScratchPool,
    std::path::PathBuf,
    crate::common::Response,
) {
    let image_path = cloud_image();
    let image = std::fs::read(&image_path).unwrap();
    let pool = ScratchPool::new(prefix);
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let host = local_host(&app).await;
    let query = format!("host={host}&pool={}&name=debian-12&kind=cloud", pool.name);
    let r = upload(&app, &op, &query, image.clone(), image.len()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (app, pool, image_path, r)
}

#[tokio::test]
#[ignore = "needs a running libvirtd with qemu (run with --include-ignored)"]
async fn a_layout_vm_from_a_cloud_image_boots_with_its_seed() {
    let _daemon = DAEMON.lock().await;
    let (app, mut pool, image_path, r) = cloud_app("stackyard-cloud").await;
    assert_eq!(r.json()["format"], "qcow2");
    let image_volume = r.json()["volume"].as_str().unwrap().to_owned();

    let vm = app::testing::libvirt::unique("web").replace('-', "x");
    pool.vms.push(vm.clone());
    let mut entry = layout_vm(&vm, "local", "debian-12", 3);
    entry.memory_mib = 512;
    entry.commands =
        vec!["echo \"STACKYARD hostname=$(hostname) user=$(id -un admin)\" > /dev/ttyS0".into()];
    let spec = app::layouts::LayoutSpec {
        zone: None,
        networks: Vec::new(),
        name: app::testing::libvirt::unique("cloud layout"),
        description: String::new(),
        cloud_init: app::layouts::model::CloudInit {
            admin: "admin".into(),
            ssh_keys: vec![public_key()],
        },
        vms: vec![entry],
    };
    let run = apply_layout(&app, &spec, &pool.name).await;
    let steps: Vec<String> = run.steps.iter().map(|s| s.line()).collect();
    assert_eq!(
        run.outcome,
        app::layouts::RunOutcome::Succeeded,
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("thin qcow2 on the cloud image debian-12")),
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("cloud-init seed")),
        "{steps:#?}"
    );
    // The disk is an overlay on the image, grown to the planned 3 GiB;
    // the seed is in a read-only CD drive; the image itself is unchanged.
    let vol = virsh(&["vol-dumpxml", "--pool", &pool.name, &format!("{vm}.qcow2")]).unwrap();
    assert!(
        vol.contains(&format!("{}/{image_volume}", pool.dir.display())),
        "{vol}"
    );
    assert!(
        vol.contains("<capacity unit='bytes'>3221225472</capacity>"),
        "{vol}"
    );
    let xml = virsh(&["dumpxml", &vm]).unwrap();
    assert!(xml.contains(&format!("{vm}-seed.iso")), "{xml}");

    start_under_tcg(&vm);
    let line = serial_line(
        &vm,
        "STACKYARD hostname=",
        std::time::Duration::from_secs(240),
    )
    .await;
    assert_eq!(line, format!("STACKYARD hostname={vm} user=admin"));
    assert_eq!(
        sha256sum(&pool.dir.join(&image_volume)),
        sha256sum(&image_path)
    );
}

/// From layout to living service: two VMs from the cloud image, `auto`
/// addresses from a documentation subnet on an isolated network the test
/// makes (no address on the host side), their names in Stackyard's zones
/// published to a real NSD primary. Each VM says on its own serial line
/// (a cloud-init command) the host name and address it was given; NSD
/// answers the A records and the PTRs back. Nothing is sent to the VMs.
#[tokio::test]
#[ignore = "needs a running libvirtd with qemu and nsd (run with --include-ignored)"]
async fn a_layout_of_two_vms_boots_named_and_addressed_in_dns() {
    use app::dns::service as dns;
    use app::layouts::model::{AddressChoice, LayoutNetwork};
    use app::testing::libvirt::IsolatedNetwork;
    use app::testing::nsd::{free_port, wait_for, Nsd};

    let _daemon = DAEMON.lock().await;
    let (app, mut pool, _, _) = cloud_app("stackyard-living").await;
    let net = IsolatedNetwork::new("sy-iso").unwrap();

    // The NSD primary and the zones, made in Stackyard.
    let keys = app::sealed::SealingKey::generate();
    let commands = app::dns::nsd::ReloadCommands::new(["true"]);
    let (pdir, pcfg) = Nsd::prepare(free_port());
    let pconf = pdir.path().join("nsd.conf");
    let primary = dns::add_server(
        &app.db,
        dns::Allowed {
            keys: &keys,
            commands: &commands,
        },
        &app::testing::nsd::primary_form(&pcfg, &pconf, "ns1.example.test"),
    )
    .await
    .unwrap();
    dns::create_forward(&app.db, "alice", "example.test")
        .await
        .unwrap();
    dns::create_reverse(&app.db, "alice", "192.0.2.0/24")
        .await
        .unwrap();
    let conf = dns::server_conf(&app.db, &keys, primary.id).await.unwrap();
    let nsd = Nsd::start(pdir, pcfg, &conf);

    let ns2 = app::testing::libvirt::unique("ns2").replace('-', "x");
    let web1 = app::testing::libvirt::unique("web1").replace('-', "x");
    // The address may come up a moment after the command starts on a
    // loaded machine: it waits for it (at most a minute).
    let say = "for i in $(seq 60); do a=$(ip -4 -o addr show scope global | awk '{print $4}'); [ -n \"$a\" ] && break; sleep 1; done; echo \"STACKYARD hostname=$(hostname) fqdn=$(hostname -f) address=$a\" > /dev/ttyS0";
    let vms: Vec<app::layouts::LayoutVm> = [&ns2, &web1]
        .into_iter()
        .map(|name| {
            pool.vms.push(name.clone());
            let mut vm = layout_vm(name, "local", "debian-12", 3);
            vm.memory_mib = 512;
            vm.network = app::layouts::Nic::Network(net.name.clone());
            vm.ip = Some(AddressChoice::Auto);
            vm.commands = vec![say.into()];
            vm
        })
        .collect();
    // web1 brings its own user-data (for experts), used as it is: the same
    // command says so; its address and host name still come from the
    // layout (the network-config and meta-data are Stackyard's), its full
    // name from what the user-data says (as an expert's would).
    let mut vms = vms;
    vms[1].commands.clear();
    vms[1].user_data = Some(format!(
        "#cloud-config\n# web1's own\nfqdn: {web1}.example.test\nmanage_etc_hosts: true\nruncmd:\n  - |\n    {}\n",
        say.replace("address=$a\"", "address=$a user-data=own\"")
    ));
    let spec = app::layouts::LayoutSpec {
        name: app::testing::libvirt::unique("living layout"),
        description: String::new(),
        zone: Some("example.test".into()),
        networks: vec![LayoutNetwork {
            nic: app::layouts::Nic::Network(net.name.clone()),
            subnet: "192.0.2.0/24".parse().unwrap(),
            gateway: Some("192.0.2.1".parse().unwrap()),
            resolvers: Vec::new(),
            range: Some("192.0.2.10-192.0.2.99".parse().unwrap()),
        }],
        cloud_init: app::layouts::model::CloudInit {
            admin: "admin".into(),
            ssh_keys: vec![public_key()],
        },
        vms,
    };
    let run = apply_layout(&app, &spec, &pool.name).await;
    let steps: Vec<String> = run.steps.iter().map(|s| s.line()).collect();
    assert_eq!(
        run.outcome,
        app::layouts::RunOutcome::Succeeded,
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains(&format!(
            "host name {ns2}.example.test, address 192.0.2.10/24"
        ))),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("records: 4 records written")),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("dns: installed on the NSD primary")),
        "{steps:#?}"
    );

    // Both boot (under TCG) and say what they were given.
    start_under_tcg(&ns2);
    start_under_tcg(&web1);
    let within = std::time::Duration::from_secs(300);
    let (a, b) = tokio::join!(
        serial_line(&ns2, "STACKYARD hostname=", within),
        serial_line(&web1, "STACKYARD hostname=", within)
    );
    assert_eq!(
        a,
        format!("STACKYARD hostname={ns2} fqdn={ns2}.example.test address=192.0.2.10/24")
    );
    assert_eq!(
        b,
        format!("STACKYARD hostname={web1} fqdn={web1}.example.test address=192.0.2.11/24 user-data=own")
    );

    // NSD answers their names and the PTRs back.
    wait_for(&nsd, &format!("{web1}.example.test"), "A", &["192.0.2.11"]);
    wait_for(
        &nsd,
        "11.2.0.192.in-addr.arpa",
        "PTR",
        &[&format!("{web1}.example.test.")],
    );
    wait_for(&nsd, &format!("{ns2}.example.test"), "A", &["192.0.2.10"]);
    wait_for(
        &nsd,
        "10.2.0.192.in-addr.arpa",
        "PTR",
        &[&format!("{ns2}.example.test.")],
    );
}

/// Waits until VM `vm`'s guest no longer reads from drive `target` (its
/// read count still for a second and a half): a guest booting from the
/// disc keeps closing the tray, and a change then waits or is refused.
async fn disc_idle(vm: &str, target: &str) {
    let read = || {
        virsh(&["domblkstat", vm, target])
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("rd_bytes"))
            .and_then(|l| l.split_whitespace().last().map(str::to_owned))
            .unwrap_or_default()
    };
    let start = std::time::Instant::now();
    let (mut last, mut still) = (read(), 0);
    while still < 3 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "{vm} kept reading {target}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = read();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
}

/// VM `vm`'s CD drives as its live definition has them: (target, source).
fn cd_sources(vm: &str) -> Vec<(String, String)> {
    virsh(&["domblklist", vm, "--details"])
        .unwrap()
        .lines()
        .filter(|l| l.contains("cdrom"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[2].to_owned(), f.get(3).copied().unwrap_or("-").to_owned())
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs a running libvirtd with qemu (run with --include-ignored)"]
async fn a_vm_takes_an_iso_in_a_new_drive_changes_and_ejects_it_while_running() {
    let _daemon = DAEMON.lock().await;
    let iso_path = guest_images().join("grub-rescue.iso");
    let iso = std::fs::read(&iso_path).unwrap();
    let mut pool = ScratchPool::new("stackyard-media");
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let viewer = app.with_user("viewer", Role::Viewer).await;
    let host = local_host(&app).await;
    let mut ids = Vec::new();
    let mut paths = Vec::new();
    for name in ["grub", "grub-two"] {
        let q = format!("host={host}&pool={}&name={name}&kind=installer", pool.name);
        let r = upload(&app, &op, &q, iso.clone(), iso.len()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
        paths.push(
            pool.dir
                .join(r.json()["volume"].as_str().unwrap())
                .display()
                .to_string(),
        );
    }
    // A VM without a CD drive, shut off.
    let vm = app::testing::libvirt::unique("media");
    pool.vms.push(vm.clone());
    let xml = format!(
        "<domain type='qemu'><name>{vm}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os><devices>\
         </devices></domain>"
    );
    let file = std::env::temp_dir().join(format!("{vm}.xml"));
    std::fs::write(&file, xml).unwrap();
    virsh(&["define", &file.display().to_string()]).unwrap();
    let _ = std::fs::remove_file(&file);
    let change = |target: &str, image: i64, who: &str| {
        let body = format!("host_id={host}&vm={vm}&target={target}&image_id={image}");
        let who = who.to_owned();
        let app = &app;
        async move {
            app.post("/api/images/media/change", &body, Some(&who))
                .await
        }
    };

    let r = app
        .post(
            "/api/images/media",
            &format!("host_id={host}&vm={vm}"),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["drives"], serde_json::json!([]));
    assert_eq!(r.json()["running"], false);
    assert_eq!(r.json()["isos"].as_array().unwrap().len(), 2);

    // A viewer may not; a new drive needs its ISO.
    assert_eq!(
        change("", ids[0], &viewer).await.status,
        StatusCode::FORBIDDEN
    );
    let r = change("", 0, &op).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["Invalid"]["field"], "image");
    let r = change("", 999, &op).await;
    assert_eq!(r.json()["Invalid"]["field"], "image", "{}", r.body);
    assert!(cd_sources(&vm).is_empty());

    // Shut off: a new drive with the first ISO.
    let r = change("", ids[0], &op).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["drives"][0]["target"], "hdc");
    assert_eq!(r.json()["drives"][0]["image"], "grub");
    assert_eq!(cd_sources(&vm), vec![("hdc".to_owned(), paths[0].clone())]);

    // Running: the disc changes in the running VM and in its definition.
    start_under_tcg(&vm);
    disc_idle(&vm, "hdc").await;
    let r = change("", ids[1], &op).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("shut it down to add a CD drive"),
        "{}",
        r.body
    );
    let r = change("hdc", ids[1], &op).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["running"], true);
    assert_eq!(r.json()["drives"][0]["image"], "grub-two");
    assert_eq!(cd_sources(&vm), vec![("hdc".to_owned(), paths[1].clone())]);
    let inactive = virsh(&["dumpxml", "--inactive", &vm]).unwrap();
    assert!(inactive.contains(&paths[1]), "{inactive}");
    // The ISO in the drive is in use; the other one is not.
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={}", ids[1]),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Ejected: the drive stays, empty, live and defined.
    let r = change("hdc", 0, &op).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["drives"][0]["path"], serde_json::Value::Null);
    assert_eq!(cd_sources(&vm), vec![("hdc".to_owned(), "-".to_owned())]);
    let inactive = virsh(&["dumpxml", "--inactive", &vm]).unwrap();
    assert!(!inactive.contains(&paths[1]), "{inactive}");
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={}", ids[1]),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = change("hdx", ids[0], &op).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("no CD drive hdx"), "{}", r.body);

    let audit: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|a| a.action == "vm.media" && a.outcome == "success")
        .map(|a| a.summary)
        .collect();
    assert_eq!(
        audit,
        vec![
            "new CD drive hdc with grub",
            "hdc: grub-two",
            "hdc: ejected"
        ],
        "what the audit log says"
    );
}
