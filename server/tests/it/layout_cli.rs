//! `stackyard layout check` as a user runs it: the real binary, its output
//! and its exit status, with hosts from a file and from the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const LAYOUT: &str = r#"name = "paper"

[[vm]]
name = "dns-1"
template = "Master DNS"
vcpus = 1
memory_mib = 512
disk_gib = 4
host = "proliant-1"

[[vm]]
name = "mail"
vcpus = 1
memory_mib = 2000
disk_gib = 100

[[vm]]
name = "files"
vcpus = 1
memory_mib = 4000
disk_gib = 500
"#;

const HOSTS: &str = r#"[[host]]
name = "proliant-1"
memory_mib = 32768
cpus = 16
pool_gib = 1024

[[host]]
name = "small"
memory_mib = 8192
reserve_mib = 1024
cpus = 4
pool_gib = 200

[[host.vm]]
name = "old-web"
memory_mib = 2000
disk_gib = 100
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stackyard(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackyard"))
        .args(args)
        .env_remove("STACKYARD_DATABASE_URL")
        .env_remove("STACKYARD_DATA_DIR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `stackyard layout check LAYOUT --hosts HOSTS --json`: exit code and stdout.
fn check_json(layout: &Path, hosts: &Path) -> (i32, String) {
    let (code, out, _) = stackyard(&["layout", "check", s(layout), "--hosts", s(hosts), "--json"]);
    (code, out)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_fitting_layout_exits_zero_with_verdicts_and_placement() {
    let dir = tempfile::tempdir().unwrap();
    let layout = write(dir.path(), "paper.toml", LAYOUT);
    let hosts = write(dir.path(), "hosts.toml", HOSTS);
    let (code, out, err) = stackyard(&["layout", "check", s(&layout), "--hosts", s(&hosts)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("proliant-1: fits"), "{out}");
    assert!(
        out.contains("memory 32768 MiB: host OS 2048 MiB | existing VMs 0 MiB | planned 6512 MiB | free 24208 MiB (y_a = 30720 MiB)"),
        "{out}"
    );
    assert!(out.contains("dns-1  -> proliant-1 (pinned)"), "{out}");
    assert!(out.contains("fits: 3 VMs on 2 hosts"), "{out}");

    let (code, out) = check_json(&layout, &hosts);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fits"], true);
    assert_eq!(v["layout"], "paper");
    assert_eq!(v["hosts"][0]["host"], "proliant-1");
    assert_eq!(v["hosts"][0]["available"], 30720);
    assert_eq!(v["hosts"][0]["used_planned"], 6512);
    assert_eq!(v["hosts"][1]["used_existing"], 2000);
    assert_eq!(v["placement"].as_array().unwrap().len(), 3);
    assert_eq!(v["placement"][1]["auto"], true);
    assert!(v["placement"][1]["host"].is_string());
    assert_eq!(v["unplaced"], serde_json::json!([]));
}

#[test]
fn the_check_says_whether_the_hosts_in_use_are_the_fewest() {
    let dir = tempfile::tempdir().unwrap();
    // The paper layout: proliant-1 (pinned dns-1) and small (old-web) hold VMs
    // whatever happens, and mail and files fit beside dns-1.
    let layout = write(dir.path(), "paper.toml", LAYOUT);
    let hosts = write(dir.path(), "hosts.toml", HOSTS);
    let (code, out, err) = stackyard(&["layout", "check", s(&layout), "--hosts", s(&hosts)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\n  hosts in use: 2, the fewest possible (proven)\n"),
        "{out}"
    );

    // 6+4, 5+3+2, 4+3+3 GiB fill three 10 GiB hosts exactly, where first fit
    // decreasing needs four.
    let mut eight = String::from("name = \"eight\"\n");
    for (i, gib) in [6, 5, 4, 4, 3, 3, 3, 2].iter().enumerate() {
        eight.push_str(&format!(
            "\n[[vm]]\nname = \"v{i}\"\nvcpus = 1\nmemory_mib = {}\ndisk_gib = 1\n",
            gib * 1024
        ));
    }
    let four: String = (0..4)
        .map(|i| {
            format!(
                "[[host]]\nname = \"h{i}\"\nmemory_mib = 10240\nreserve_mib = 0\ncpus = 4\npool_gib = 100\n\n"
            )
        })
        .collect();
    let layout = write(dir.path(), "eight.toml", &eight);
    let hosts = write(dir.path(), "four.toml", &four);
    let (code, out, err) = stackyard(&["layout", "check", s(&layout), "--hosts", s(&hosts)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\n  hosts in use: 3, the fewest possible (proven)\n"),
        "{out}"
    );
    assert!(out.contains("fits: 8 VMs on 4 hosts"), "{out}");
    let (code, out) = check_json(&layout, &hosts);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hosts_in_use"], 3);
    assert_eq!(v["lower_bound_hosts"], 3);
    assert_eq!(v["proven_optimal"], true);
}

#[test]
fn a_layout_that_does_not_fit_exits_one_naming_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let over = format!(
        "{LAYOUT}\n[[vm]]\nname = \"web-3\"\nvcpus = 1\nmemory_mib = 30500\ndisk_gib = 1\nhost = \"proliant-1\"\n\n[[vm]]\nname = \"huge\"\nvcpus = 1\nmemory_mib = 40000\ndisk_gib = 1\n"
    );
    let layout = write(dir.path(), "over.toml", &over);
    let hosts = write(dir.path(), "hosts.toml", HOSTS);
    let (code, out, _) = stackyard(&["layout", "check", s(&layout), "--hosts", s(&hosts)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("proliant-1: DOES NOT FIT"), "{out}");
    assert!(
        out.contains("- web-3 needs 30500 MiB, 24208 MiB left on proliant-1"),
        "{out}"
    );
    assert!(out.contains("huge fits nowhere; closest is"), "{out}");

    let (code, out) = check_json(&layout, &hosts);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fits"], false);
    assert_eq!(v["hosts"][0]["fits"], false);
    assert_eq!(v["hosts"][0]["violations"][0]["kind"], "memory");
    assert_eq!(v["hosts"][0]["violations"][0]["needs"], 30500);
    assert_eq!(v["hosts"][0]["violations"][0]["left"], 24208);
    let unplaced: Vec<&str> = v["unplaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["vm"].as_str().unwrap())
        .collect();
    assert_eq!(unplaced, ["web-3", "huge"]);
    assert_eq!(v["unplaced"][1]["detail"]["kind"], "does_not_fit");
}

#[test]
fn file_problems_exit_one_with_line_and_field_and_unreadable_files_two() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        &LAYOUT.replace("memory_mib = 2000", "memory_mib = \"2000\""),
    );
    let hosts = write(
        dir.path(),
        "hosts.json",
        r#"[{"name":"proliant-1","memory_mib":32768,"cpus":16,"pool_gib":100}]"#,
    );
    let (code, out, err) = stackyard(&["layout", "check", s(&bad), "--hosts", s(&hosts)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("bad.toml:14: vm[1].memory_mib: invalid type"),
        "{err}"
    );
    let (code, out, _) = stackyard(&["layout", "check", s(&bad), "--hosts", s(&hosts), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"][0]["line"], 14);
    assert_eq!(v["errors"][0]["field"], "vm[1].memory_mib");

    let bad_hosts = write(
        dir.path(),
        "h.toml",
        "[[host]]\nname = \"x\"\nmemory_mib = 1\n",
    );
    let good = write(
        dir.path(),
        "good.json",
        r#"{"name":"j","vm":[{"name":"a","vcpus":1,"memory_mib":512,"disk_gib":1}]}"#,
    );
    let (code, _, err) = stackyard(&["layout", "check", s(&good), "--hosts", s(&bad_hosts)]);
    assert_eq!(code, 1);
    assert!(err.contains("h.toml") && err.contains("cpus"), "{err}");

    let (code, _, err) = stackyard(&[
        "layout",
        "check",
        s(&dir.path().join("missing.toml")),
        "--hosts",
        s(&hosts),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[tokio::test]
async fn without_hosts_file_the_database_hosts_are_asked() {
    let dir = tempfile::tempdir().unwrap();
    let args = stackyard_server::config::DbArgs {
        data_dir: dir.path().to_owned(),
        database_url: None,
    };
    let data = s(dir.path()).to_owned();
    let layout = write(
        dir.path(),
        "demo.toml",
        "name = \"demo\"\n\n[[vm]]\nname = \"dns-2\"\nvcpus = 1\nmemory_mib = 512\ndisk_gib = 4\nhost = \"demo\"\n",
    );
    // No hosts at all: the database cannot answer the question.
    let (code, _, err) = stackyard(&["layout", "check", s(&layout), "--data-dir", &data]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no hosts"), "{err}");

    // The demo host (the paper's 32 GiB server on the test driver).
    let db = stackyard_server::db::open(&args).await.unwrap();
    app::hosts::registry::ensure_demo_host(&db, dir.path())
        .await
        .unwrap();
    db.close().await.unwrap();
    let (code, out, err) =
        stackyard(&["layout", "check", s(&layout), "--data-dir", &data, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hosts"][0]["host"], "demo");
    assert_eq!(v["hosts"][0]["memory"], 32768);
    assert!(
        v["hosts"][0]["used_existing"].as_u64().unwrap() > 0,
        "{out}"
    );
    assert_eq!(v["placement"][0]["host"], "demo");
}

#[test]
fn routes_lists_every_page_with_its_access() {
    let (code, out, err) = stackyard(&["routes"]);
    assert_eq!(code, 0, "{err}");
    let pages: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let find = |path: &str| {
        pages
            .iter()
            .find(|p| p["path"] == path)
            .map(|p| p["access"].as_str().unwrap().to_owned())
    };
    assert_eq!(find("/").as_deref(), Some("viewer"));
    assert_eq!(find("/layouts/{id}").as_deref(), Some("viewer"));
    assert_eq!(find("/users").as_deref(), Some("admin"));
    assert_eq!(find("/audit").as_deref(), Some("operator"));
    assert_eq!(find("/login").as_deref(), Some("public"));
    assert!(
        pages.iter().all(|p| p["access"] != "undeclared"),
        "{pages:?}"
    );
}
