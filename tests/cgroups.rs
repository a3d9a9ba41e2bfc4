//! cgroups: limits written and seen from inside, pause/resume, update,
//! OOM events, pids and device rules, cleanup. Runs on v1/hybrid (here) and
//! on pure v2 (in the VM); file names adapt to the host.

mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Stdio;

fn v2() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().any(|l| l.split(' ').nth(4) == Some("/sys/fs/cgroup") && l.contains(" cgroup2 "))
}

fn create_started(b: &Bundle, tag: &str) -> String {
    let id = b.track(&unique_id(tag));
    // The init keeps the stdio it is given: a pipe would never reach EOF, so use a file.
    let log = b.base.join(format!("{id}.stderr"));
    let st = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).status().unwrap();
    assert!(st.success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    assert!(b.runc(&["start", &id]).status().unwrap().success());
    id
}

fn runc_ok(b: &Bundle, args: &[&str]) -> String {
    let out = b.runc(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "runc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn exec(b: &Bundle, id: &str, script: &str) -> String {
    runc_ok(b, &["exec", id, "sh", "-c", script])
}

/// A limit file as the container sees it under /sys/fs/cgroup.
fn inside(ctrl: &str, v1: &str, v2f: &str) -> String {
    if v2() { format!("/sys/fs/cgroup/{v2f}") } else { format!("/sys/fs/cgroup/{ctrl}/{v1}") }
}

#[test]
fn limits_are_written_and_seen_inside() {
    let mut b = Bundle::new("sleep 100");
    b.config["linux"]["resources"] = json!({
        "memory": {"limit": 67108864, "reservation": 33554432},
        "pids": {"limit": 42},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
    });
    let id = create_started(&b, "limits");
    let mem = exec(&b, &id, &format!("cat {}", inside("memory", "memory.limit_in_bytes", "memory.max")));
    assert_eq!(mem.trim(), "67108864");
    let pids = exec(&b, &id, &format!("cat {}", inside("pids", "pids.max", "pids.max")));
    assert_eq!(pids.trim(), "42");
    if v2() {
        assert_eq!(exec(&b, &id, "cat /sys/fs/cgroup/cpu.max").trim(), "50000 100000");
        assert_eq!(exec(&b, &id, "cat /sys/fs/cgroup/cpu.weight").trim(), "20", "runc's shares->weight");
        assert_eq!(exec(&b, &id, "cat /sys/fs/cgroup/memory.low").trim(), "33554432");
    } else {
        assert_eq!(exec(&b, &id, "cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us").split_whitespace().collect::<Vec<_>>(), ["512", "50000"]);
        assert_eq!(exec(&b, &id, "cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes").trim(), "33554432");
    }
    assert_eq!(exec(&b, &id, &format!("cat {}", inside("cpuset", "cpuset.cpus", "cpuset.cpus"))).trim(), "0");
    // The init is in the cgroup before the user process runs.
    let st: Value = serde_json::from_str(&runc_ok(&b, &["state", &id])).unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{}/cgroup", st["pid"])).unwrap();
    assert!(cg.contains(&id), "{cg}");
}

#[test]
fn relative_and_absolute_cgroups_paths() {
    let own_mem = std::fs::read_to_string("/proc/self/cgroup").unwrap().lines().find(|l| l.contains(":memory:") || l.starts_with("0::")).unwrap().rsplit(':').next().unwrap().to_string();
    // Intermediate directories the runtime creates are removed with the leaf.
    for path in [format!("relparent-{}/leaf", unique_id("cg")), format!("{}/abs-{}", own_mem.trim_end_matches('/'), unique_id("cg"))] {
        let mut b = Bundle::new("cat /proc/self/cgroup");
        b.config["linux"]["cgroupsPath"] = json!(path);
        b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "cgroup");
        let out = b.run_ok();
        let tail = if path.starts_with('/') { path.rsplit('/').next().unwrap().to_string() } else { path.clone() };
        assert!(out.lines().all(|l| l.ends_with(&tail)), "{path}: {out}");
        let first = tail.split('/').next().unwrap();
        let left = std::process::Command::new("find").args(["/sys/fs/cgroup", "-maxdepth", "5", "-name", first]).output().unwrap();
        assert!(left.stdout.is_empty(), "cgroup left behind: {}", String::from_utf8_lossy(&left.stdout));
    }
}

/// The limit is in force (read in the container's own cgroup view) or the
/// run fails naming the field: recent kernels accept the write to
/// memory.kmem.limit_in_bytes and ignore it (v2 has no such limit at all).
#[test]
fn kernel_memory_limit_in_force_or_a_clear_error() {
    let mut b = Bundle::new("cat /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes");
    b.config["linux"]["resources"] = json!({"memory": {"kernel": 67108864}});
    let out = b.run();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        assert!(!v2(), "v2 has no kernel memory limit, yet the run succeeded");
        assert_eq!(stdout.trim(), "67108864", "the limit is not in force");
    } else {
        assert!(stderr.contains("linux.resources.memory.kernel"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn cgroup_namespace_hides_host_paths() {
    let b = Bundle::new("cat /proc/self/cgroup");
    let out = b.run_ok();
    assert!(out.lines().all(|l| l.ends_with(":/")), "{out}");
}

/// With room for one task only, the init makes its network namespace
/// itself (no helper thread can start) and the container still gets it.
#[test]
fn pids_limit_of_one_still_gets_a_network_namespace() {
    let mut b = Bundle::new("exec ls /sys/class/net");
    b.config["linux"]["resources"] = json!({"pids": {"limit": 1}});
    assert_eq!(b.run_ok(), "lo\n");
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let mut b = Bundle::new("sleep 100");
    b.config["linux"]["resources"] = json!({"pids": {"limit": 10}});
    let id = create_started(&b, "forkbomb");
    // The bomb's shell dies when fork fails; everything it started stays.
    // (stdio to /dev/null: the sleeps would hold a pipe open for 100 s)
    let st = b.runc(&["exec", &id, "sh", "-c", "while :; do sleep 100 & done"]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert_ne!(st.code(), Some(0));
    let st: Value = serde_json::from_str(&runc_ok(&b, &["events", "--stats", &id])).unwrap();
    // 10 while the bomb lived; its own shell has exited since.
    let cur = st["data"]["pids"]["current"].as_u64().unwrap();
    assert!((9..=10).contains(&cur), "{st}");
    // And nothing more can start.
    let more = b.runc(&["exec", &id, "true"]).output().unwrap();
    assert_eq!(more.status.code(), Some(255), "{}", String::from_utf8_lossy(&more.stderr));
}

#[test]
fn device_rules_deny_and_allow() {
    let mut b = Bundle::new("mknod /tmp/k c 1 11 && (echo x > /tmp/k) 2>&1; echo rc=$?");
    b.config["process"]["capabilities"]["bounding"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    b.config["process"]["capabilities"]["effective"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    b.config["process"]["capabilities"]["permitted"].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    b.add_mount(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}));
    b.config["linux"]["resources"] = json!({"devices": [{"allow": false, "access": "rwm"}]});
    let out = b.run_ok();
    assert!(out.contains("Operation not permitted") && out.contains("rc=1"), "{out}");
    b.config["linux"]["resources"] = json!({"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]});
    assert_eq!(b.run_ok(), "rc=0\n");
}

#[test]
fn pause_freezes_and_resume_thaws() {
    // The counter is replaced by rename, so a read never sees it half written
    // (a freeze between the truncation and the write of `>` would).
    let mut b = Bundle::new("i=0; while :; do i=$((i+1)); echo $i > /ready/t; mv /ready/t /ready/n; sleep 0.01; done");
    let ready = b.ready_dir();
    let id = create_started(&b, "pause");
    assert!(wait_for(&ready.join("n")));
    runc_ok(&b, &["pause", &id]);
    let st: Value = serde_json::from_str(&runc_ok(&b, &["state", &id])).unwrap();
    assert_eq!(st["status"], "paused");
    let listed: Value = serde_json::from_str(&runc_ok(&b, &["list", "--format", "json"])).unwrap();
    assert_eq!(listed[0]["status"], "paused", "{listed}");
    let a = std::fs::read_to_string(ready.join("n")).unwrap();
    let ex = b.runc(&["exec", &id, "true"]).stdin(Stdio::null()).output().unwrap();
    assert!(!ex.status.success() && String::from_utf8_lossy(&ex.stderr).contains("cannot exec in a paused container"), "{ex:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(ready.join("n")).unwrap(), a, "counter moved while paused");
    runc_ok(&b, &["resume", &id]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_ne!(std::fs::read_to_string(ready.join("n")).unwrap(), a, "counter stuck after resume");
    let st: Value = serde_json::from_str(&runc_ok(&b, &["state", &id])).unwrap();
    assert_eq!(st["status"], "running");
    let listed: Value = serde_json::from_str(&runc_ok(&b, &["list", "--format", "json"])).unwrap();
    assert_eq!(listed[0]["status"], "running", "{listed}");
    let again = b.runc(&["resume", &id]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("container not paused"));
}

#[test]
fn update_changes_limits_and_zero_means_unchanged() {
    let mut b = Bundle::new("sleep 100");
    b.config["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 50}, "cpu": {"shares": 512}});
    let id = create_started(&b, "update");
    runc_ok(&b, &["update", "--memory", "128m", "--pids-limit", "77", &id]);
    let mem_file = inside("memory", "memory.limit_in_bytes", "memory.max");
    let pids_file = inside("pids", "pids.max", "pids.max");
    assert_eq!(exec(&b, &id, &format!("cat {mem_file} {pids_file}")).split_whitespace().collect::<Vec<_>>(), ["134217728", "77"]);
    // Docker's update: zeros for everything it does not change.
    let mut c = b.runc(&["update", "--resources", "-", &id]);
    let mut child = c.stdin(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":0},"blockIO":{"weight":0},"pids":{"limit":0}}"#).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(exec(&b, &id, &format!("cat {mem_file} {pids_file}")).split_whitespace().collect::<Vec<_>>(), ["134217728", "77"]);
    let shares = if v2() { exec(&b, &id, "cat /sys/fs/cgroup/cpu.weight") } else { exec(&b, &id, "cat /sys/fs/cgroup/cpu/cpu.shares") };
    assert_eq!(shares.trim(), if v2() { "20" } else { "512" });
}

#[test]
fn refused_limit_names_the_field_and_leaves_nothing() {
    let mut b = Bundle::new("true");
    b.config["linux"]["resources"] = json!({"cpu": {"cpus": "999"}});
    let id = b.track(&unique_id("refused"));
    let out = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("linux.resources.cpu.cpus") && err.lines().count() == 1, "{err}");
    assert!(b.state_entries().is_empty());
    let left = std::process::Command::new("find").args(["/sys/fs/cgroup", "-maxdepth", "5", "-name", &id]).output().unwrap();
    assert!(left.stdout.is_empty(), "cgroup left: {}", String::from_utf8_lossy(&left.stdout));
}

#[test]
fn oom_kill_is_reported_by_events() {
    // The hog starts only once `events` has printed its first stats line
    // (it has read its OOM baseline by then).
    let mut b = Bundle::new("while [ ! -e /ready/go ]; do sleep 0.05; done; tail /dev/zero; sleep 30");
    let ready = b.ready_dir();
    b.config["linux"]["resources"] = json!({"memory": {"limit": 33554432, "swap": 33554432}});
    let id = create_started(&b, "oom");
    let mut ev = b.runc(&["events", "--interval", "1s", &id]).stdout(Stdio::piped()).spawn().unwrap();
    let mut r = std::io::BufReader::new(ev.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut r, &mut first).unwrap();
    assert!(first.contains("\"type\":\"stats\""), "{first}");
    std::fs::write(ready.join("go"), "").unwrap();
    let mut saw_oom = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.trim() == format!("{{\"id\":\"{id}\",\"type\":\"oom\"}}") {
            saw_oom = true;
            break;
        }
    }
    let _ = ev.kill();
    let _ = ev.wait();
    assert!(saw_oom, "no oom event within 60 s");
}

#[test]
fn events_stats_prints_one_stats_object() {
    let mut b = Bundle::new("sleep 100");
    b.config["linux"]["resources"] = json!({"pids": {"limit": 20}});
    let id = create_started(&b, "stats");
    let v: Value = serde_json::from_str(runc_ok(&b, &["events", "--stats", &id]).trim()).unwrap();
    assert_eq!(v["type"], "stats");
    assert_eq!(v["data"]["pids"]["current"], 1);
    assert_eq!(v["data"]["pids"]["limit"], 20);
    assert!(v["data"]["memory"]["usage"]["usage"].as_u64().unwrap() > 0);
    assert!(v["data"]["cpu"]["usage"]["total"].as_u64().is_some());
}

#[test]
fn delete_force_removes_cgroup_with_processes_inside() {
    let b = Bundle::new("sleep 100 & sleep 100");
    let id = create_started(&b, "cgdel");
    runc_ok(&b, &["delete", "--force", &id]);
    let left = std::process::Command::new("find").args(["/sys/fs/cgroup", "-maxdepth", "5", "-name", &id]).output().unwrap();
    assert!(left.stdout.is_empty(), "cgroup left: {}", String::from_utf8_lossy(&left.stdout));
}

#[test]
fn check_before_update_refuses_a_limit_below_usage() {
    let b = Bundle::new("sleep 100");
    let id = create_started(&b, "cbu");
    let mut c = b.runc(&["update", "--resources", "-", &id]);
    let mut child = c.stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"memory":{"limit":4096,"checkBeforeUpdate":true}}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("below the current usage"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn block_io_throttles_are_written() {
    // The first real block device of the host; none in some VMs.
    let Some(dev) = std::fs::read_dir("/sys/block").unwrap().flatten().map(|e| e.path()).find(|p| {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        !n.starts_with("loop") && !n.starts_with("ram") && p.join("dev").exists()
    }) else { return };
    let mm = std::fs::read_to_string(dev.join("dev")).unwrap().trim().to_string();
    let (major, minor) = mm.split_once(':').unwrap();
    let mut b = Bundle::new("sleep 100");
    b.config["linux"]["resources"] = json!({"blockIO": {
        "throttleReadBpsDevice": [{"major": major.parse::<i64>().unwrap(), "minor": minor.parse::<i64>().unwrap(), "rate": 1048576}],
        "throttleWriteIOPSDevice": [{"major": major.parse::<i64>().unwrap(), "minor": minor.parse::<i64>().unwrap(), "rate": 100}]
    }});
    let id = create_started(&b, "blkio");
    let out = if v2() {
        exec(&b, &id, "cat /sys/fs/cgroup/io.max")
    } else {
        exec(&b, &id, "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device")
    };
    if v2() {
        assert!(out.contains(&format!("{mm} rbps=1048576")) && out.contains("wiops=100"), "{out}");
    } else {
        assert_eq!(out, format!("{mm} 1048576\n{mm} 100\n"));
    }
}

#[test]
fn unified_keys_on_v2_and_a_clear_error_on_v1() {
    let mut b = Bundle::new(&format!("cat {}", inside("pids", "pids.max", "pids.max")));
    b.config["linux"]["resources"] = json!({"unified": {"pids.max": "23"}});
    let out = b.run();
    if v2() {
        assert_eq!(String::from_utf8_lossy(&out.stdout), "23\n", "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        assert!(String::from_utf8_lossy(&out.stderr).contains("linux.resources.unified"));
    }
    let mut b = Bundle::new("true");
    b.config["linux"]["resources"] = json!({"unified": {"../escape": "1"}});
    assert!(String::from_utf8_lossy(&b.run().stderr).contains("linux.resources.unified"));
}

#[test]
fn hugepage_limits_where_hugetlb_is_available() {
    let mut b = Bundle::new("true");
    b.config["linux"]["resources"] = json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]});
    let out = b.run();
    let has_hugetlb = if v2() {
        std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").unwrap_or_default().contains("hugetlb")
    } else {
        std::path::Path::new("/sys/fs/cgroup/hugetlb").exists()
    };
    if has_hugetlb {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        assert!(String::from_utf8_lossy(&out.stderr).contains("linux.resources.hugepageLimits"), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn device_rules_change_with_update() {
    let mut b = Bundle::new("sleep 100");
    b.add_mount(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    for set in ["bounding", "effective", "permitted"] {
        b.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
    }
    let id = create_started(&b, "devupd");
    let write = |b: &Bundle| b.runc(&["exec", &id, "sh", "-c", "[ -e /tmp/k ] || mknod /tmp/k c 1 11; echo x > /tmp/k"]).output().unwrap().status.success();
    assert!(!write(&b), "kmsg writable before the update");
    let mut c = b.runc(&["update", "--resources", "-", &id]);
    let mut child = c.stdin(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"rw"}]}"#).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(write(&b), "kmsg still denied after the update");
}

/// A cgroup2 hierarchy, pure or a hybrid host's unified one.
fn has_cgroup2() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().any(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with("/sys/fs/cgroup")) && l.contains(" cgroup2 "))
}

/// The init (of create and of exec) is born in the container's cgroup2
/// cgroup with clone3(CLONE_INTO_CGROUP), never migrated; in v1 hierarchies
/// it moves itself by writing "0" to `tasks` (no global lock, no RCU wait),
/// and the runtime writes no cgroup.procs. Seen with strace, and the
/// processes are there.
#[test]
fn init_is_born_in_its_cgroup_or_moves_itself() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("sleep 100");
    let id = b.track(&unique_id("clone3"));
    // Only the runc process itself is traced (it makes the clone); not -f,
    // which would follow the container and wait for it to end.
    let clones = ["-e", "trace=clone,clone3"];
    let t = strace_runc(&b, &clones, &["create", "--bundle", b.dir.to_str().unwrap(), &id]) + &strace_runc(&b, &clones, &["exec", &id, "true"]);
    assert!(t.contains("clone"), "{t}");
    let into = t.matches("CLONE_INTO_CGROUP").count();
    assert_eq!(into, if has_cgroup2() { 2 } else { 0 }, "create and exec should each clone3 into a cgroup2 cgroup:\n{t}");
    if !v2() {
        // exec ends when its process does: -f may follow it.
        let t = strace_runc(&b, &["-f", "-e", "trace=openat,open,write"], &["exec", &id, "true"]);
        let tasks = t.lines().filter(|l| l.contains("/tasks\"") && l.contains("O_WRONLY")).count();
        assert!(tasks >= 2, "the init opens each v1 tasks file:\n{t}");
        assert!(t.lines().filter(|l| l.contains("write(") && l.contains("\"0\", 1)")).count() >= tasks, "and writes 0:\n{t}");
        assert!(!t.lines().any(|l| l.contains("cgroup.procs\"") && l.contains("O_WRONLY") && !l.contains("/unified/")), "no v1 cgroup.procs written:\n{t}");
    }
    let procs = exec_in(&b, &id);
    assert!(procs.lines().any(|l| l.trim() == "1"), "{procs}");
}

/// `create` asks the kernel for its bounding set one capability at a time
/// instead of reading /proc/self/status (~20 µs for the kernel to format),
/// copies a new v1 cpuset cgroup's cpus and mems from its parent without
/// reading the new cgroup's own (empty) values first, and on v2 does not
/// list /sys/fs/cgroup for the cgroup mount (only v1 hierarchies have
/// symlinks there, such as cpu -> cpu,cpuacct).
#[test]
fn create_skips_reads_it_does_not_need() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("true");
    let id = b.track(&unique_id("reads"));
    let t = strace_runc(&b, &["-e", "trace=open,openat"], &["create", "--bundle", b.dir.to_str().unwrap(), &id]);
    assert!(!t.contains("/proc/self/status"), "{t}");
    if v2() {
        assert!(!t.lines().any(|l| l.contains("\"/sys/fs/cgroup\"") && l.contains("O_DIRECTORY") && !l.contains("O_PATH")), "{t}");
    }
    let own = format!("{id}/cpuset.");
    let opens = |mode: &str| t.lines().filter(|l| l.contains(&own) && l.contains(mode)).count();
    if !v2() && std::path::Path::new("/sys/fs/cgroup/cpuset").is_dir() {
        assert_eq!((opens("O_RDONLY"), opens("O_WRONLY")), (0, 2), "{t}");
    }
}

/// The v1 cgroup view binds each hierarchy's directory by name
/// (open_tree of "<hierarchy>/<path>" under /sys/fs/cgroup, move_mount to
/// "<name>" in the new tmpfs): no O_PATH open and close of either end.
#[test]
fn v1_cgroup_view_binds_by_name() {
    if v2() || !have_strace() {
        return;
    }
    let b = Bundle::new("ls /sys/fs/cgroup/pids/ >/dev/null");
    let id = b.track(&unique_id("view"));
    let t = strace_runc(&b, &["-f", "-e", "trace=openat,open_tree,move_mount"], &["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    let ours = format!("/{id}\"");
    let named = t.lines().filter(|l| l.contains("open_tree(") && l.contains(&ours)).count();
    assert!(named >= 2, "an open_tree by name per hierarchy:\n{t}");
    assert!(!t.lines().any(|l| l.contains("openat(") && l.contains(&ours) && l.contains("O_PATH")), "{t}");
}

/// With v1 cgroups made after the spawn, the init is moved off our CPU to
/// exec meanwhile, and has our affinity back before its plan is sent.
#[test]
fn v1_init_moves_off_our_cpu_and_back_before_its_plan() {
    if v2() || !have_strace() || std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return;
    }
    let b = Bundle::new("grep Cpus_allowed_list /proc/self/status");
    let id = b.track(&unique_id("cpus"));
    let t = strace_runc(&b, &["-e", "trace=clone3,sched_setaffinity,sendmsg"], &["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    let lines: Vec<&str> = t.lines().collect();
    let at = |f: &dyn Fn(&str) -> bool, from: usize| lines.iter().skip(from).position(|l| f(l)).map(|i| i + from);
    let clone = at(&|l| l.starts_with("clone3(") && !l.contains("= -"), 0).unwrap_or_else(|| panic!("no clone3:\n{t}"));
    let pid = lines[clone].rsplit("= ").next().unwrap().trim().to_string();
    let set = format!("sched_setaffinity({pid},");
    let off = at(&|l| l.starts_with(&set), clone).unwrap_or_else(|| panic!("init not moved:\n{t}"));
    let back = at(&|l| l.starts_with(&set), off + 1).unwrap_or_else(|| panic!("affinity not restored:\n{t}"));
    let plan = at(&|l| l.starts_with("sendmsg("), clone).unwrap_or_else(|| panic!("no plan sent:\n{t}"));
    assert!(off < back && back < plan, "moved, restored, then the plan:\n{t}");
    let mask = |l: &str| l.split(['[', ']']).nth(1).unwrap_or_default().split_whitespace().count();
    assert_eq!(mask(lines[off]) + 1, mask(lines[back]), "one CPU left out, then all back:\n{t}");
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    let ours = ours.lines().find(|l| l.starts_with("Cpus_allowed_list")).unwrap().to_string();
    assert_eq!(b.run_ok().trim(), ours, "the container's affinity is ours");
}

fn exec_in(b: &Bundle, id: &str) -> String {
    let f = if v2() { "/sys/fs/cgroup/cgroup.procs" } else { "/sys/fs/cgroup/pids/cgroup.procs" };
    exec(b, id, &format!("cat {f}"))
}
