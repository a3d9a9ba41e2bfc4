//! Bad input: one clear line on stderr, a non-zero exit, and nothing left
//! behind (no state directory, no mounts, no processes).

mod common;
use common::*;
use serde_json::json;

/// Runs `runc run` on the bundle and checks the failure contract; returns stderr.
fn fails_cleanly(b: &Bundle, id: &str) -> String {
    let mounts_before = host_mount_count();
    let out = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), id]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "want one line: {err:?}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", String::from_utf8_lossy(&out.stdout));
    assert!(b.state_entries().is_empty(), "state left: {:?}", b.state_entries());
    assert_eq!(host_mount_count(), mounts_before, "mounts changed");
    let _ = id;
    assert_no_process_in(&b.base);
    err
}

/// No process has its root or cwd inside the test's directory (an init would).
fn assert_no_process_in(base: &std::path::Path) {
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        for link in ["root", "cwd"] {
            if let Ok(t) = std::fs::read_link(e.path().join(link)) {
                assert!(!t.starts_with(base), "process {:?} left behind in {}", e.file_name(), t.display());
            }
        }
    }
}

#[test]
fn broken_json() {
    let b = Bundle::new("true");
    b.write_config();
    std::fs::write(b.dir.join("config.json"), "{\"ociVersion\": \"1.0.0\", ").unwrap();
    let mut cmd = std::process::Command::new(runc_bin());
    let out = cmd.arg("--root").arg(&b.root).args(["run", "--bundle", b.dir.to_str().unwrap(), "x1"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("config.json: invalid JSON"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert!(b.state_entries().is_empty());
}

#[test]
fn wrong_type_names_the_field() {
    let mut b = Bundle::new("true");
    b.config["process"]["args"] = json!("sh");
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("process.args") && err.contains("expected a sequence"), "{err}");
}

#[test]
fn missing_rootfs() {
    let mut b = Bundle::new("true");
    b.config["root"]["path"] = json!("no-such-rootfs");
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("root.path") && err.contains("no such file or directory"), "{err}");
}

#[test]
fn relative_mount_destination() {
    let mut b = Bundle::new("true");
    b.add_mount(json!({"destination": "relative/dir", "type": "tmpfs", "source": "tmpfs"}));
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("mounts[7].destination") && err.contains("not an absolute path"), "{err}");
}

#[test]
fn unknown_or_duplicate_namespace_type() {
    for (ns, want) in [("bogus", "linux.namespaces[6].type: unknown namespace type \"bogus\""), ("network", "linux.namespaces[6]: duplicate namespace \"network\"")] {
        let mut b = Bundle::new("true");
        b.add_namespace(json!({"type": ns}));
        let err = fails_cleanly(&b, &unique_id("bad"));
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn invalid_ids() {
    let b = Bundle::new("true");
    for id in ["../x", "", "a/b", ".."] {
        let err = fails_cleanly(&b, id);
        assert!(err.contains("invalid container id"), "{id:?}: {err}");
    }
    assert!(!b.base.join("x").exists());
}

#[test]
fn unknown_capability_and_unknown_or_duplicate_rlimit() {
    let mut b = Bundle::new("true");
    b.config["process"]["capabilities"]["bounding"] = json!(["CAP_NOPE"]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("process.capabilities.bounding") && err.contains("CAP_NOPE"), "{err}");
    let mut b = Bundle::new("true");
    b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("process.rlimits[0].type"), "{err}");
    let mut b = Bundle::new("true");
    let nofile = json!({"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64});
    b.config["process"]["rlimits"] = json!([nofile.clone(), {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, nofile]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("process.rlimits[2]: duplicate rlimit RLIMIT_NOFILE"), "{err}");
}

#[test]
fn missing_binary_fails_at_create_with_runcs_words() {
    let mut b = Bundle::new("true");
    b.config["process"]["args"] = json!(["/no/such/binary"]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("exec: \"/no/such/binary\": stat /no/such/binary: no such file or directory"), "{err}");
    let mut b = Bundle::new("true");
    b.config["process"]["args"] = json!(["nosuchcmd"]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("exec: \"nosuchcmd\": executable file not found in $PATH"), "{err}");
}

/// An exec that fails after "created" (`run` starts the init without waiting
/// for a start request) still comes back as runc's one-line error, with
/// nothing left behind.
#[test]
fn exec_failure_after_created_fails_run_cleanly() {
    let mut b = Bundle::new("true");
    b.config["process"]["args"] = json!(["/etc/passwd"]);
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("exec: \"/etc/passwd\"") && err.contains("permission denied"), "{err}");
}

#[test]
fn unsupported_fields_are_refused_by_name() {
    let mut b = Bundle::new("true");
    b.config["linux"]["intelRdt"] = json!({"closID": "x"});
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("linux.intelRdt: not supported"), "{err}");
    let mut b = Bundle::new("true");
    b.config["hooks"] = json!({"prestart": [{"path": "relative/hook"}]});
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("hooks.prestart[0].path") && err.contains("not an absolute path"), "{err}");
    let mut b = Bundle::new("true");
    b.config["process"]["apparmorProfile"] = json!("docker-default");
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("process.apparmorProfile"), "{err}");
}

#[test]
fn hostname_without_uts_namespace() {
    let mut b = Bundle::new("true");
    b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "uts");
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("hostname") && err.contains("UTS"), "{err}");
}

#[test]
fn sysctl_outside_the_containers_namespaces() {
    let mut b = Bundle::new("true");
    b.config["linux"]["sysctl"] = json!({"vm.swappiness": "10"});
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("linux.sysctl.vm.swappiness"), "{err}");
}

#[test]
fn failure_inside_the_init_cleans_up() {
    // Passes validation, fails in the init (a bind source that vanished is
    // caught early, so use a device node path the kernel refuses).
    let mut b = Bundle::new("true");
    b.config["linux"]["sysctl"] = json!({"net.ipv4.no_such_knob": "1"});
    let err = fails_cleanly(&b, &unique_id("bad"));
    assert!(err.contains("sysctl net.ipv4.no_such_knob=1"), "{err}");
}

#[test]
fn duplicate_id_is_refused_and_keeps_the_first() {
    let b = Bundle::new("sleep 30");
    let id = b.track(&unique_id("dup"));
    let out = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().unwrap();
    assert!(out.success());
    let out = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("container with id exists: {id}")));
    let st = b.runc(&["state", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&st.stdout).contains("\"created\""));
}
