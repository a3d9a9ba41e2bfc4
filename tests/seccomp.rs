//! seccomp: the engines' real default profiles load and run busybox, the
//! profile's actions hold, and syscalls newer than the profile get ENOSYS.

mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Command;

/// The seccomp section of a client's sample config (../shared/design/client-specs).
fn client_profile(name: &str) -> Value {
    let path = format!("{}/../shared/design/client-specs/{name}-run-config.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str::<Value>(&text).unwrap()["linux"]["seccomp"].clone()
}

/// A static helper that calls `syscall(nr)` and prints the errno name.
fn syscall_probe(dir: &std::path::Path) -> std::path::PathBuf {
    let src = dir.join("probe.c");
    std::fs::write(&src, "#include <errno.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n\
        int main(int c, char **v) { for (int i = 1; i < c; i++) { long r = syscall(atol(v[i]), -1, 0, 0, 0); \
        printf(\"%s \", r == -1 ? (errno == ENOSYS ? \"ENOSYS\" : errno == EPERM ? \"EPERM\" : strerror(errno)) : \"ok\"); } return 0; }\n").unwrap();
    let out = dir.join("probe");
    assert!(Command::new("cc").args(["-static", "-o"]).arg(&out).arg(&src).status().unwrap().success());
    out
}

#[test]
fn docker_and_podman_default_profiles_run_busybox() {
    for client in ["docker", "podman"] {
        let mut b = Bundle::new("echo hello; ls / >/dev/null && ps >/dev/null && echo ran");
        b.config["linux"]["seccomp"] = client_profile(client);
        assert_eq!(b.run_ok(), "hello\nran\n", "{client}");
    }
}

#[test]
fn newer_syscalls_get_enosys_and_unlisted_ones_the_default() {
    let mut b = Bundle::new("true");
    let probe = syscall_probe(&b.base);
    std::fs::copy(&probe, b.dir.join("rootfs/bin/probe")).unwrap();
    b.config["linux"]["seccomp"] = client_profile("docker");
    // 163 acct: older than the profile, not allowed: the default (EPERM).
    // 452 fchmodat2: newer than every syscall docker's profile names: ENOSYS.
    b.config["process"]["args"] = json!(["/bin/probe", "163", "452"]);
    assert_eq!(b.run_ok(), "EPERM ENOSYS ");
    // Without a filter the kernel itself answers (acct(-1) fails with EFAULT).
    b.config["linux"].as_object_mut().unwrap().remove("seccomp");
    assert!(!b.run_ok().contains("ENOSYS"));
}

#[test]
fn actions_errno_kill_and_args() {
    let mut b = Bundle::new("mkdir /tmp/a 2>&1; echo rc=$?; chmod 777 / 2>&1; echo rc=$?");
    b.config["root"]["readonly"] = json!(false);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            // chmod(..., 0777) only: the argument filter must match.
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]}
        ]
    });
    let out = b.run_ok();
    assert!(out.contains("Permission denied\nrc=1"), "{out}");
    assert!(out.contains("Operation not permitted\nrc=1"), "{out}");
    let mut b = Bundle::new("echo before; exec mkdir /tmp/x");
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]});
    let out = b.run();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
    assert_eq!(out.status.code(), Some(128 + 31), "killed by SIGSYS");
}

#[test]
fn bad_profiles_are_refused_by_field() {
    for (profile, field) in [
        (json!({"defaultAction": "SCMP_ACT_NOTIFY"}), "linux.seccomp.defaultAction"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}), "linux.seccomp.listenerPath"),
        (json!({"defaultAction": "SCMP_ACT_BOGUS"}), "linux.seccomp.defaultAction"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]}), "linux.seccomp.architectures[0]"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}), "linux.seccomp.flags[0]"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}]}]}), "linux.seccomp.syscalls[0].args[0].op"),
    ] {
        let mut b = Bundle::new("true");
        b.config["linux"]["seccomp"] = profile;
        let out = b.run();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn log_and_spec_allow_flags_are_accepted() {
    let mut b = Bundle::new("echo ok");
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
        "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]
    });
    assert_eq!(b.run_ok(), "ok\n");
}

/// An agent on `listenerPath` gets the notify fd with the container's state
/// and answers the container's mkdir calls itself (with EACCES here).
#[test]
fn notify_hands_the_fd_to_the_listener() {
    use std::os::fd::AsRawFd;
    let mut b = Bundle::new("mkdir /tmp/x 2>&1; echo rc=$?");
    let sock = b.base.join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock, "listenerMetadata": "hello-agent",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    });
    let agent = std::thread::spawn(move || {
        let (data, fds) = accept_with_fds(&listener);
        let fd = fds.into_iter().next().expect("the notify fd");
        let state: Value = serde_json::from_slice(&data).unwrap();
        // struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes).
        let mut notif = [0u8; 80];
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), 0xc0502100u64 as _, notif.as_mut_ptr()) };
        assert_eq!(r, 0, "NOTIF_RECV");
        let nr = i32::from_ne_bytes(notif[16..20].try_into().unwrap());
        let mut resp = [0u8; 24];
        resp[0..8].copy_from_slice(&notif[0..8]); // id
        resp[16..20].copy_from_slice(&(-libc::EACCES).to_ne_bytes());
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), 0xc0182101u64 as _, resp.as_ptr()) };
        assert_eq!(r, 0, "NOTIF_SEND");
        (state, nr)
    });
    let out = b.run_ok();
    let (state, nr) = agent.join().unwrap();
    assert_eq!(out, "mkdir: can't create directory '/tmp/x': Permission denied\nrc=1\n");
    assert!(nr == libc::SYS_mkdir as i32 || nr == libc::SYS_mkdirat as i32, "syscall {nr}");
    assert_eq!(state["fds"], json!(["seccompFd"]));
    assert_eq!(state["metadata"], "hello-agent");
    assert!(state["pid"].as_i64().unwrap() > 0 && state["state"]["id"].is_string(), "{state}");
}
