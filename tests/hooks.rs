//! The six hook kinds: order, where they run, state on stdin, env, timeout,
//! and what a failure does.

mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Stdio;

/// A hook that appends "<name>" and its stdin's status/pid to `log`.
fn recorder(name: &str, log: &str) -> Value {
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("read -r s; echo \"{name} $(echo \"$s\" | grep -o '\"status\":\"[a-z]*\"') $HOOKENV\" >> {log}")],
        "env": ["HOOKENV=set", "PATH=/bin:/usr/bin"]
    })
}

#[test]
fn all_six_hooks_run_in_order_with_state_on_stdin() {
    let mut b = Bundle::new("echo process >> /ready/log");
    let ready = b.ready_dir();
    let host_log = ready.join("log");
    let hl = host_log.to_str().unwrap().to_string();
    b.config["hooks"] = json!({
        "prestart": [recorder("prestart", &hl)],
        "createRuntime": [recorder("createRuntime", &hl)],
        // Runs in the container's namespaces before pivot_root: host paths still resolve.
        "createContainer": [recorder("createContainer", &hl)],
        // Runs after pivot_root: the path and the log are the container's.
        "startContainer": [recorder("startContainer", "/ready/log")],
        "poststart": [recorder("poststart", &hl)],
        "poststop": [recorder("poststop", &hl)]
    });
    b.run_ok();
    let log = std::fs::read_to_string(&host_log).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 7, "{log}");
    assert_eq!(&lines[..4], [
        "prestart \"status\":\"created\" set",
        "createRuntime \"status\":\"creating\" set",
        "createContainer \"status\":\"creating\" set",
        "startContainer \"status\":\"created\" set",
    ]);
    // The process and poststart race; poststop is last.
    let mid: std::collections::BTreeSet<&str> = lines[4..6].iter().copied().collect();
    assert!(mid.contains("process") && mid.contains("poststart \"status\":\"running\" set"), "{log}");
    assert_eq!(lines[6], "poststop \"status\":\"stopped\" set");
}

#[test]
fn create_container_hook_sees_the_container_namespaces() {
    let mut b = Bundle::new("true");
    let out = b.base.join("uts");
    b.config["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("hostname > {}", out.display())]}]});
    b.run_ok();
    assert_eq!(std::fs::read_to_string(out).unwrap(), "runc\n");
}

#[test]
fn failing_prestart_hook_aborts_create_and_cleans_up() {
    let mut b = Bundle::new("true");
    b.config["hooks"] = json!({"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo broken >&2; exit 3"]}]});
    let mounts = host_mount_count();
    let out = b.run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("error running prestart hook #0: exit status 3") && err.contains("broken"), "{err}");
    assert!(b.state_entries().is_empty());
    assert_eq!(host_mount_count(), mounts);
}

#[test]
fn failing_create_container_hook_aborts_create() {
    let mut b = Bundle::new("true");
    b.config["hooks"] = json!({"createContainer": [{"path": "/bin/false"}]});
    let out = b.run();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error running createContainer hook #0: exit status 1"));
    assert!(b.state_entries().is_empty());
}

#[test]
fn hook_timeout_kills_the_hook() {
    for kind in ["prestart", "createContainer"] {
        let mut b = Bundle::new("true");
        b.config["hooks"] = json!({kind: [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]});
        let t = std::time::Instant::now();
        let out = b.run();
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("error running {kind} hook #0: timeout after 1 seconds")), "{err}");
        assert!(b.state_entries().is_empty());
    }
}

#[test]
fn failing_start_container_hook_fails_start() {
    let mut b = Bundle::new("true");
    b.config["hooks"] = json!({"startContainer": [{"path": "/bin/false"}]});
    let id = b.track(&unique_id("sc"));
    let created = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(created.success());
    let out = b.runc(&["start", &id]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error running startContainer hook #0"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn failing_poststop_hook_is_a_warning() {
    let mut b = Bundle::new("true");
    b.config["hooks"] = json!({"poststop": [{"path": "/bin/false"}], "poststart": [{"path": "/bin/false"}]});
    let out = b.run();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: error running poststart hook #0") && err.contains("warning: error running poststop hook #0"), "{err}");
}
