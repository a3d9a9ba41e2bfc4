//! conmon and containerd's shim are child subreapers: after `create` and
//! `exec --detach` exit, the container's processes must be re-parented to
//! them so they can collect exit codes. This binary makes itself a
//! subreaper (which is why it is a test binary of its own).

mod common;
use common::*;
use std::process::Stdio;

fn wait_exit(pid: i32) -> i32 {
    let mut st = 0;
    // SAFETY: waiting for a process re-parented to us.
    let r = unsafe { libc::waitpid(pid, &mut st, 0) };
    assert_eq!(r, pid, "pid {pid} is not our child");
    assert!(libc::WIFEXITED(st));
    libc::WEXITSTATUS(st)
}

#[test]
fn subreaper_collects_init_and_detached_exec_exit_codes() {
    // SAFETY: prctl on our own process.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }, 0);
    let mut b = Bundle::new("while [ ! -e /ready/go ]; do sleep 0.05; done; exit 3");
    let ready = b.ready_dir();
    let id = b.track(&unique_id("reap"));
    let pid_file = b.base.join("init.pid");
    let st = b
        .runc(&["create", "--bundle", b.dir.to_str().unwrap(), "--pid-file", pid_file.to_str().unwrap(), &id])
        .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
        .status().unwrap();
    assert!(st.success());
    let init: i32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(b.runc(&["start", &id]).status().unwrap().success());

    let exec_pid_file = b.base.join("exec.pid");
    let st = b
        .runc(&["exec", "--detach", "--pid-file", exec_pid_file.to_str().unwrap(), &id, "sh", "-c", "exit 5"])
        .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
        .status().unwrap();
    assert!(st.success());
    let exec_pid: i32 = std::fs::read_to_string(&exec_pid_file).unwrap().parse().unwrap();
    assert_eq!(wait_exit(exec_pid), 5);

    std::fs::write(ready.join("go"), "").unwrap();
    assert_eq!(wait_exit(init), 3);
    let s = b.runc(&["state", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&s.stdout).contains("\"stopped\""));
}
