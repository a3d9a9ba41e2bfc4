//! The OCI lifecycle as containerd's shim and podman's conmon drive it:
//! create/start/state/kill/delete sequences, exec, list, ps, features,
//! console socket, fds, hooks.

mod common;
use common::*;
use serde_json::{json, Value};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};

fn quiet(c: impl std::borrow::BorrowMut<Command>) -> Output {
    let mut c = c;
    c.borrow_mut().stdin(Stdio::null()).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// create (stdio to /dev/null so nothing holds the test's pipes) + start.
fn create_started(b: &Bundle, tag: &str) -> String {
    let id = b.track(&unique_id(tag));
    let st = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(st.success());
    ok(&quiet(b.runc(&["start", &id])));
    id
}

fn state(b: &Bundle, id: &str) -> Value {
    serde_json::from_str(&ok(&quiet(b.runc(&["state", id])))).unwrap()
}

fn wait_status(b: &Bundle, id: &str, want: &str) {
    for _ in 0..250 {
        if state(b, id)["status"] == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{id} never became {want}");
}

#[test]
fn shim_sequence_create_start_exit_delete_twice() {
    let b = Bundle::new("exit 0");
    let id = create_started(&b, "seq");
    wait_status(&b, &id, "stopped");
    let k = quiet(b.runc(&["kill", &id, "15"]));
    assert_eq!(k.status.code(), Some(1));
    assert!(stderr(&k).contains("container not running"), "{}", stderr(&k));
    ok(&quiet(b.runc(&["delete", &id])));
    // The shim's cleanup process deletes again with --force: exit 0.
    ok(&quiet(b.runc(&["delete", "--force", &id])));
    let d = quiet(b.runc(&["delete", &id]));
    assert_eq!(d.status.code(), Some(1));
    assert!(stderr(&d).contains("container does not exist"));
    // A new create with the same id works after delete.
    let st = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(st.success());
    assert_eq!(state(&b, &id)["status"], "created");
    ok(&quiet(b.runc(&["delete", "--force", &id])));
    assert!(b.state_entries().is_empty());
}

#[test]
fn state_json_has_runcs_fields() {
    let mut b = Bundle::new("sleep 30");
    b.config["annotations"] = json!({"org.example/k": "v"});
    let id = create_started(&b, "state");
    let s = state(&b, &id);
    for k in ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner", "annotations"] {
        assert!(s.get(k).is_some(), "missing {k}: {s}");
    }
    assert_eq!(s["status"], "running");
    assert_eq!(s["annotations"]["org.example/k"], "v");
    assert!(s.get("initStartTime").is_none() && s.get("started").is_none());
    ok(&quiet(b.runc(&["delete", "--force", &id])));
}

#[test]
fn kill_accepts_numbers_and_names() {
    for sig in ["9", "KILL", "SIGKILL", "kill"] {
        let b = Bundle::new("sleep 30");
        let id = create_started(&b, "kill");
        ok(&quiet(b.runc(&["kill", &id, sig])));
        wait_status(&b, &id, "stopped");
    }
    let b = Bundle::new("sleep 30");
    let id = create_started(&b, "kill");
    let bad = quiet(b.runc(&["kill", &id, "NOPE"]));
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("unknown signal"));
}

#[test]
fn kill_all_reaches_every_process() {
    let mut b = Bundle::new("sleep 100 & sleep 100 & touch /ready/ok; wait");
    let ready = b.ready_dir();
    let id = create_started(&b, "killall");
    assert!(wait_for(&ready.join("ok")));
    let pids: Vec<i32> = serde_json::from_str(&ok(&quiet(b.runc(&["ps", "--format", "json", &id])))).unwrap();
    assert_eq!(pids.len(), 3, "{pids:?}");
    ok(&quiet(b.runc(&["kill", "--all", &id, "KILL"])));
    wait_status(&b, &id, "stopped");
    for p in pids {
        let st = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        assert!(st.is_empty() || st.contains(") Z "), "process {p} survived: {st}");
    }
}

#[test]
fn delete_force_kills_a_running_container() {
    let b = Bundle::new("sleep 100");
    let id = create_started(&b, "delf");
    let pid = state(&b, &id)["pid"].as_i64().unwrap();
    let d = quiet(b.runc(&["delete", &id]));
    assert!(stderr(&d).contains("cannot delete container") && stderr(&d).contains("not stopped: running"));
    ok(&quiet(b.runc(&["delete", "--force", &id])));
    let st = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(st.is_empty() || st.contains(") Z "), "init survived");
    assert!(b.state_entries().is_empty());
}

#[test]
fn list_and_ps_formats() {
    let b = Bundle::new("sleep 100");
    let a = create_started(&b, "lista");
    let c = create_started(&b, "listc");
    let q = ok(&quiet(b.runc(&["list", "-q"])));
    assert_eq!(q.lines().collect::<Vec<_>>(), [a.as_str(), c.as_str()]);
    let j: Value = serde_json::from_str(&ok(&quiet(b.runc(&["list", "--format", "json"])))).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 2);
    assert_eq!(j[0]["status"], "running");
    let t = ok(&quiet(b.runc(&["list"])));
    assert!(t.starts_with("ID") && t.contains(&a) && t.contains("running"), "{t}");
    let pids: Vec<i32> = serde_json::from_str(&ok(&quiet(b.runc(&["ps", "--format", "json", &a])))).unwrap();
    assert_eq!(pids, vec![state(&b, &a)["pid"].as_i64().unwrap() as i32]);
    let table = ok(&quiet(b.runc(&["ps", &a])));
    assert!(table.starts_with("UID") && table.contains("sleep 100"), "{table}");
    let custom = ok(&quiet(b.runc(&["ps", &a, "-o", "pid,comm"])));
    assert!(custom.contains("sleep"), "{custom}");
}

#[test]
fn list_of_many_containers_is_whole_and_sorted() {
    // Read through held directory fds, in id order, with mixed statuses.
    let b = Bundle::new("sleep 100");
    let mut ids: Vec<String> = (0..12).map(|i| b.track(&unique_id(&format!("many{i:02}")))).collect();
    for (i, id) in ids.iter().enumerate() {
        // The init keeps its stdio: not a pipe we would wait on.
        let st = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        assert!(st.success(), "create {id}");
        if i % 2 == 0 {
            ok(&quiet(b.runc(&["start", id])));
        }
    }
    std::fs::create_dir(b.root.join("not-a-container")).unwrap();
    let j: Value = serde_json::from_str(&ok(&quiet(b.runc(&["list", "--format", "json"])))).unwrap();
    let got: Vec<(String, String)> = j.as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap().into(), c["status"].as_str().unwrap().into())).collect();
    let status: std::collections::HashMap<String, &str> = ids.iter().enumerate().map(|(i, id)| (id.clone(), if i % 2 == 0 { "running" } else { "created" })).collect();
    ids.sort();
    assert_eq!(got.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), ids);
    for (id, st) in &got {
        assert_eq!(st.as_str(), status[id], "{id}");
    }
}

#[test]
fn features_tell_the_truth() {
    let f: Value = serde_json::from_str(&ok(&quiet(Command::new(runc_bin()).arg("features")))).unwrap();
    assert_eq!(f["ociVersionMax"], "1.3.0");
    assert_eq!(f["hooks"].as_array().unwrap().len(), 6);
    assert!(f["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n == "time"));
    assert!(f["mountOptions"].as_array().unwrap().iter().any(|o| o == "rbind"));
    assert_eq!(f["linux"]["seccomp"]["enabled"], true);
    assert_eq!(f["linux"]["cgroup"]["v1"], true);
    assert_eq!(f["linux"]["cgroup"]["v2"], true);
    assert_eq!(f["linux"]["cgroup"]["systemd"], false);
    assert!(f["linux"]["seccomp"]["actions"].as_array().unwrap().iter().any(|a| a == "SCMP_ACT_NOTIFY"));
    assert!(f["linux"]["capabilities"].as_array().unwrap().iter().any(|c| c == "CAP_SYS_ADMIN"));
}

#[test]
fn exec_runs_in_the_containers_namespaces() {
    let mut b = Bundle::new("sleep 100");
    b.config["process"]["env"] = json!(["PATH=/bin", "FROM=config"]);
    let id = create_started(&b, "exec");
    let out = ok(&quiet(b.runc(&["exec", &id, "sh", "-c", "echo $$ $FROM $EXTRA; hostname; pwd; id -u"])));
    // A small pid: counted in the container's PID namespace (the init's
    // network namespace thread took 2 there; runc's Go threads take 2-5).
    let (pid, rest) = out.split_once(' ').unwrap_or_default();
    assert!(pid.parse::<u32>().is_ok_and(|p| (2..10).contains(&p)), "joined the pid namespace: {out}");
    assert_eq!(rest, "config\nrunc\n/\n0\n", "joined the uts namespace");
    let out = ok(&quiet(b.runc(&["exec", "--env", "EXTRA=x", "--cwd", "/tmp", "--user", "1000:1001", "-g", "7", &id, "sh", "-c", "echo $EXTRA; pwd; id -G"])));
    assert_eq!(out, "x\n/tmp\n1001 7\n");
    let code = quiet(b.runc(&["exec", &id, "sh", "-c", "exit 5"])).status.code();
    assert_eq!(code, Some(5));
}

/// Started with no fds above stdio (as a service manager or hyperfine
/// starts it) on a host without a cgroup2 directory to open first, `runc`
/// opens the sealed init as fd 3, the number the sync socket takes in the
/// init: run, create and exec still work. (Pure v1 is made in a private
/// mount namespace by unmounting a hybrid host's cgroup2.)
#[test]
fn commands_started_with_only_stdio_open() {
    use std::os::unix::process::CommandExt;
    let only_stdio = |c: Command| {
        let mut u = under(&["unshare", "-m", "sh", "-c", "mountpoint -q /sys/fs/cgroup/unified && umount /sys/fs/cgroup/unified; exec \"$@\"", "sh"], &c);
        // SAFETY: close_range between fork and exec touches no memory.
        unsafe {
            u.pre_exec(|| {
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        u
    };
    let b = Bundle::new("echo ran");
    let id = b.track(&unique_id("fd3run"));
    let out = quiet(only_stdio(b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id])));
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(0), "ran\n"), "{}", stderr(&out));
    let b = Bundle::new("sleep 100");
    let id = b.track(&unique_id("fd3"));
    // (No pipe for a created container's stdio: it would hold it open.)
    let st = only_stdio(b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id])).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(st.success());
    assert!(quiet(b.runc(&["start", &id])).status.success());
    let out = quiet(only_stdio(b.runc(&["exec", &id, "echo", "in"])));
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(0), "in\n"), "{}", stderr(&out));
}

/// `exec` without `--process` builds on the container's own process, read
/// from the state directory once (it was read twice: once for that base,
/// once by exec itself).
#[test]
fn exec_reads_the_state_and_config_once() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("sleep 100");
    let id = create_started(&b, "exec1");
    let t = strace_runc(&b, &["-e", "trace=open,openat"], &["exec", &id, "true"]);
    assert_eq!((t.matches("config.json").count(), t.matches("state.json").count()), (1, 1), "{t}");
}

/// `state` opens just state.json and /proc/PID/stat (no directory first:
/// that doubles the opens of a one-off read), and `delete` removes the
/// state dir by name, without listing it.
#[test]
fn state_and_delete_touch_only_their_files() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("exit 0");
    let id = create_started(&b, "files");
    wait_status(&b, &id, "stopped");
    let t = strace_runc(&b, &["-e", "trace=open,openat"], &["state", &id]);
    let opens: Vec<&str> = t.lines().filter(|l| l.contains("open")).collect();
    assert_eq!(opens.iter().filter(|l| l.contains("state.json")).count(), 1, "{t}");
    assert_eq!(opens.iter().filter(|l| l.contains("/stat\"")).count(), 1, "{t}");
    assert!(!opens.iter().any(|l| l.contains("O_PATH")), "no directory opened to read through:\n{t}");
    let t = strace_runc(&b, &["-e", "trace=open,openat,getdents64,unlink,unlinkat,rmdir"], &["delete", &id]);
    assert!(!t.contains("getdents64"), "the state dir is not listed:\n{t}");
    assert!(b.state_entries().is_empty());
}

#[test]
fn exec_with_a_process_file() {
    let b = Bundle::new("sleep 100");
    let id = create_started(&b, "execp");
    let pf = b.base.join("process.json");
    std::fs::write(&pf, json!({"args": ["sh", "-c", "echo $A; id -u; cat /proc/self/status | grep CapEff"], "env": ["A=file", "PATH=/bin"], "cwd": "/", "user": {"uid": 3, "gid": 3}, "capabilities": {"effective": [], "bounding": [], "permitted": []}}).to_string()).unwrap();
    let out = ok(&quiet(b.runc(&["exec", "--process", pf.to_str().unwrap(), &id])));
    assert_eq!(out, "file\n3\nCapEff:\t0000000000000000\n");
}

#[test]
fn exec_missing_binary_exits_255_with_runcs_words() {
    let b = Bundle::new("sleep 100");
    let id = create_started(&b, "exec255");
    let out = quiet(b.runc(&["exec", &id, "/no/such/binary"]));
    assert_eq!(out.status.code(), Some(255));
    assert!(stderr(&out).contains("exec: \"/no/such/binary\": stat /no/such/binary: no such file or directory"), "{}", stderr(&out));
    let out = quiet(b.runc(&["exec", &id, "nosuch"]));
    assert_eq!(out.status.code(), Some(255));
    assert!(stderr(&out).contains("executable file not found in $PATH"));
    let out = quiet(b.runc(&["exec", &id, "/etc/passwd"]));
    assert_eq!(out.status.code(), Some(255));
    assert!(stderr(&out).contains("permission denied"), "{}", stderr(&out));
    let stopped = Bundle::new("true");
    let sid = create_started(&stopped, "execstop");
    wait_status(&stopped, &sid, "stopped");
    let out = quiet(stopped.runc(&["exec", &sid, "true"]));
    assert!(stderr(&out).contains("cannot exec in a stopped container"));
}

#[test]
fn console_socket_receives_exactly_one_fd() {
    let mut b = Bundle::new("");
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["args"] = json!(["sh", "-c", "tty; read x; echo got $x"]);
    let sock = b.base.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let id = b.track(&unique_id("console"));
    let mut create = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), "--console-socket", sock.to_str().unwrap(), &id]);
    let h = std::thread::spawn(move || accept_with_fds(&listener));
    ok(&quiet(create.stdout(Stdio::null())));
    let (name, fds) = h.join().unwrap();
    let name = String::from_utf8_lossy(&name).into_owned();
    assert_eq!(fds.len(), 1, "exactly one fd");
    assert!(name.starts_with("/dev/pts/"), "{name:?}");
    ok(&quiet(b.runc(&["start", &id])));
    let mut master = std::fs::File::from(fds.into_iter().next().unwrap());
    use std::io::{Read, Write};
    master.write_all(b"hello\n").unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&out).contains("got hello") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("/dev/pts/0") && text.contains("got hello"), "{text}");
}

#[test]
fn console_socket_rules() {
    let b = Bundle::new("true");
    let id = b.track(&unique_id("cs"));
    let out = quiet(b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), "--console-socket", "/tmp/x.sock", &id]));
    assert!(stderr(&out).contains("cannot use console socket if runc will not detach or allocate tty"));
    let mut b = Bundle::new("true");
    b.config["process"]["terminal"] = json!(true);
    let out = quiet(b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]));
    assert!(stderr(&out).contains("cannot allocate tty if runc will detach without setting console socket"));
    assert!(b.state_entries().is_empty());
}

/// Runs `runc run` with a socket on fd 3 and pipes on 4-6 held open.
fn run_with_stray_fds(b: &Bundle, extra: &[&str]) -> String {
    let (s1, _s2) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut pipes = Vec::new();
    for _ in 0..3 {
        let mut p = [0; 2];
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        pipes.push(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) });
    }
    let srcs = [s1.as_raw_fd(), pipes[0].0.as_raw_fd(), pipes[1].0.as_raw_fd(), pipes[2].1.as_raw_fd()];
    let id = b.track(&unique_id("fds"));
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--bundle", b.dir.to_str().unwrap(), &id]);
    let mut cmd = b.runc(&args);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            for (i, s) in srcs.iter().enumerate() {
                let t = libc::fcntl(*s, libc::F_DUPFD, 10 + i as i32);
                libc::dup2(t, 3 + i as i32);
            }
            Ok(())
        });
    }
    ok(&quiet(cmd))
}

#[test]
fn stray_fds_are_closed_and_preserve_fds_passes_exactly_n() {
    // ls lists its own fds: the ones it inherited plus its directory fd (the last).
    let b = Bundle::new("exec ls /proc/self/fd");
    let fds = |out: String| out.split_whitespace().map(String::from).collect::<Vec<_>>().join(" ");
    assert_eq!(fds(run_with_stray_fds(&b, &[])), "0 1 2 3");
    assert_eq!(fds(run_with_stray_fds(&b, &["--preserve-fds", "2"])), "0 1 2 3 4 5");
}

#[test]
fn socket_activation_fds_and_env() {
    let b = Bundle::new("echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd | sort -n | tr '\\n' ' '");
    let id = b.track(&unique_id("listen"));
    b.write_config();
    let cmd = format!("exec 3</etc/hostname; LISTEN_PID=$$ LISTEN_FDS=1 exec {} --root {} run --bundle {} {id}", runc_bin().display(), b.root.display(), b.dir.display());
    let out = ok(&quiet({
        let mut c = Command::new("sh");
        c.args(["-c", &cmd]);
        c
    }));
    assert_eq!(out, "1 1\n0 1 2 3 4 ", "{out}");
}

#[test]
fn each_container_gets_its_own_session_keyring() {
    // /proc/keys lists the keyrings we possess; ours is named after the id.
    let mut b = Bundle::new("cat /proc/keys");
    b.config["linux"]["maskedPaths"] = json!([]);
    let id = b.track(&unique_id("keyring"));
    let out = ok(&quiet(b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id])));
    assert!(out.lines().any(|l| l.contains("keyring") && l.ends_with(&format!("{id}: empty"))), "{out}");
    let id2 = b.track(&unique_id("keyring"));
    let out = ok(&quiet(b.runc(&["run", "--no-new-keyring", "--bundle", b.dir.to_str().unwrap(), &id2])));
    assert!(!out.contains(&id2), "{out}");
}

#[test]
fn global_flags_in_both_spellings() {
    let b = Bundle::new("true");
    let log = b.base.join("log.json");
    let out = quiet({
        let mut c = Command::new(runc_bin());
        c.arg(format!("--root={}", b.root.display())).args(["--log", log.to_str().unwrap(), "--log-format=json", "state", "missing"]);
        c
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    let sd = quiet(b.runc(&["--systemd-cgroup", "list"]));
    assert_eq!(sd.status.code(), Some(1));
    assert!(stderr(&sd).contains("--systemd-cgroup"), "{}", stderr(&sd));
    let help = ok(&quiet(b.runc(&["exec", "--help"])));
    assert!(help.contains("--console-socket") && help.contains("--preserve-fds"));
}

/// `create` writes the state as soon as the init's pid is known, while the
/// init sets the container up, and on "created" only renames it into place.
/// (Our side of the sync socket only: `strace -f` would wait for the init.)
#[test]
fn create_writes_its_state_while_the_init_sets_up() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("true");
    let id = b.track(&unique_id("staged"));
    let t = strace_runc(&b, &["-e", "trace=open,openat,rename,recvmsg"], &["create", "--bundle", b.dir.to_str().unwrap(), &id]);
    let at = |s: &str| line_of(&t, s);
    // Message tags: 4 is the init's pid, 6 "created".
    let (pid, created) = (at("iov_base=\"\\4"), at("iov_base=\"\\6"));
    let (written, renamed) = (at(".state.json.tmp\", O_WRONLY"), at(".state.json.tmp\", \""));
    assert!(pid < written && written < created && created < renamed, "pid, state written, created, state renamed:\n{t}");
    let out = b.runc(&["state", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"created\""), "{out:?}");
}
