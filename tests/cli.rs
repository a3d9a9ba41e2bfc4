//! The CLI surface of issue 2: spec, create/start/state/kill/delete, version, logs.

mod common;
use common::*;
use serde_json::Value;
use std::process::{Command, Stdio};

#[test]
fn spec_writes_runcs_default_and_refuses_to_overwrite() {
    let dir = std::env::temp_dir().join(unique_id("spec"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(runc_bin()).args(["spec", "--bundle", dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(v["ociVersion"], "1.3.0");
    assert_eq!(v["process"]["args"], serde_json::json!(["sh"]));
    assert_eq!(v["process"]["terminal"], true);
    assert_eq!(v["process"]["noNewPrivileges"], true);
    assert_eq!(v["process"]["capabilities"]["bounding"].as_array().unwrap().len(), 3);
    assert!(v["linux"]["maskedPaths"].as_array().unwrap().iter().any(|p| p == "/proc/kcore"));
    let again = Command::new(runc_bin()).args(["spec", "--bundle", dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    let rootless = dir.join("rl");
    std::fs::create_dir_all(&rootless).unwrap();
    assert!(Command::new(runc_bin()).args(["spec", "--rootless", "-b", rootless.to_str().unwrap()]).status().unwrap().success());
    let v: Value = serde_json::from_slice(&std::fs::read(rootless.join("config.json")).unwrap()).unwrap();
    assert!(v["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n["type"] == "user"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_has_runcs_three_lines() {
    let out = Command::new(runc_bin()).arg("--version").output().unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("runc version "), "{s}");
    assert!(lines[1].starts_with("commit: "), "{s}");
    assert_eq!(lines[2], "spec: 1.3.0");
}

#[test]
fn create_start_state_delete() {
    let b = Bundle::new("echo started > /out/x; sleep 30");
    let out_dir = b.base.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut b = b;
    b.add_mount(serde_json::json!({"destination": "/out", "type": "bind", "source": out_dir, "options": ["bind"]}));
    let id = b.track(&unique_id("life"));
    let pid_file = b.base.join("pid");
    let st = b
        .runc(&["create", "--bundle", b.dir.to_str().unwrap(), "--pid-file", pid_file.to_str().unwrap(), &id])
        .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
        .status().unwrap();
    assert!(st.success());
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(!pid.ends_with('\n') && pid.parse::<i32>().unwrap() > 0, "{pid:?}");
    let state = |b: &Bundle| -> Value { serde_json::from_slice(&b.runc(&["state", &id]).output().unwrap().stdout).unwrap() };
    let s = state(&b);
    assert_eq!(s["status"], "created");
    assert_eq!(s["pid"].to_string(), pid);
    assert_eq!(s["bundle"], b.dir.to_str().unwrap());
    assert!(!out_dir.join("x").exists(), "user process ran before start");
    assert!(b.runc(&["start", &id]).status().unwrap().success());
    for _ in 0..100 {
        if out_dir.join("x").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(out_dir.join("x").exists());
    assert_eq!(state(&b)["status"], "running");
    let del = b.runc(&["delete", &id]).output().unwrap();
    assert_eq!(del.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&del.stderr).contains("is not stopped: running"));
    assert!(b.runc(&["kill", &id, "9"]).status().unwrap().success());
    for _ in 0..100 {
        if state(&b)["status"] == "stopped" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(state(&b)["status"], "stopped");
    let k = b.runc(&["kill", &id, "TERM"]).output().unwrap();
    assert!(String::from_utf8_lossy(&k.stderr).contains("container not running"));
    assert!(b.runc(&["delete", &id]).status().unwrap().success());
    let gone = b.runc(&["state", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&gone.stderr).contains("container does not exist"));
    assert!(b.runc(&["delete", "--force", &id]).status().unwrap().success(), "delete --force of a missing container exits 0");
}

#[test]
fn json_log_gets_one_error_line() {
    let b = Bundle::new("true");
    let log = b.base.join("log.json");
    let out = b.runc(&["--log", log.to_str().unwrap(), "--log-format=json", "state", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1);
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"].as_str().unwrap().contains("container does not exist"));
    assert!(v["time"].as_str().unwrap().ends_with('Z'));
}

/// A start whose exec fails (the program is gone from the rootfs by then)
/// reports why and leaves a stopped container: `state` says so, a second
/// start is refused as runc refuses it, and delete cleans up.
#[test]
fn failed_exec_at_start_leaves_a_stopped_container() {
    let b = Bundle::new("true");
    let id = b.track(&unique_id("noexec"));
    let created = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(created.success());
    std::fs::remove_file(b.dir.join("rootfs/bin/sh")).unwrap();
    let start = b.runc(&["start", &id]).output().unwrap();
    let err = String::from_utf8_lossy(&start.stderr);
    assert!(!start.status.success(), "start succeeded without a program");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no such file or directory"), "{err}");
    let state: Value = serde_json::from_slice(&b.runc(&["state", &id]).output().unwrap().stdout).unwrap();
    assert_eq!(state["status"], "stopped");
    let again = b.runc(&["start", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("cannot start a container that has stopped"), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(b.runc(&["delete", &id]).status().unwrap().success());
    assert!(b.state_entries().is_empty());
}
