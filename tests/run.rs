//! `runc run` of real busybox containers: process settings, namespaces,
//! mounts, masking, limits and exit codes.

mod common;
use common::*;
use serde_json::json;

#[test]
fn hostname_env_and_cwd() {
    let mut b = Bundle::new("hostname; echo \"A=$A\"; pwd");
    b.config["hostname"] = json!("box1");
    b.config["process"]["env"].as_array_mut().unwrap().push(json!("A=from env"));
    b.config["process"]["cwd"] = json!("/tmp");
    assert_eq!(b.run_ok(), "box1\nA=from env\n/tmp\n");
}

#[test]
fn domainname_is_set() {
    let mut b = Bundle::new("cat /proc/sys/kernel/domainname");
    b.config["domainname"] = json!("example.org");
    assert_eq!(b.run_ok(), "example.org\n");
}

#[test]
fn home_defaults_from_passwd() {
    let b = Bundle::new("echo $HOME");
    assert_eq!(b.run_ok(), "/root\n");
}

#[test]
fn user_group_and_additional_gids() {
    let mut b = Bundle::new("id -u; id -g; id -G");
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1001, "additionalGids": [5, 7]});
    assert_eq!(b.run_ok(), "1000\n1001\n1001 5 7\n");
}

#[test]
fn umask_is_applied() {
    let mut b = Bundle::new("umask");
    b.config["process"]["user"]["umask"] = json!(0o077);
    assert_eq!(b.run_ok(), "0077\n");
}

#[test]
fn readonly_root_refuses_writes() {
    let b = Bundle::new("touch /newfile 2>&1; echo rc=$?");
    let out = b.run_ok();
    assert!(out.contains("Read-only file system") && out.contains("rc=1"), "{out}");
}

#[test]
fn writable_root_when_not_readonly() {
    let mut b = Bundle::new("touch /newfile && echo ok");
    b.config["root"]["readonly"] = json!(false);
    assert_eq!(b.run_ok(), "ok\n");
}

#[test]
fn pid_namespace_makes_the_process_pid_1() {
    let b = Bundle::new("echo $$");
    assert_eq!(b.run_ok(), "1\n");
}

#[test]
fn exit_codes_pass_through() {
    let b = Bundle::new("exit 3");
    assert_eq!(b.run().status.code(), Some(3));
    let b = Bundle::new("true");
    assert_eq!(b.run().status.code(), Some(0));
    // Without a PID namespace the shell is not an init and SIGKILL takes it.
    let mut b = Bundle::new("kill -9 $$");
    b.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    assert_eq!(b.run().status.code(), Some(137));
}

#[test]
fn capabilities_are_the_configured_sets() {
    let mut b = Bundle::new("grep Cap /proc/self/status");
    let caps = json!(["CAP_CHOWN", "CAP_KILL"]);
    b.config["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps, "ambient": ["CAP_KILL"], "inheritable": ["CAP_KILL"]});
    let out = b.run_ok();
    // CAP_CHOWN = bit 0, CAP_KILL = bit 5
    assert!(out.contains("CapEff:\t0000000000000021"), "{out}");
    assert!(out.contains("CapBnd:\t0000000000000021"), "{out}");
    assert!(out.contains("CapInh:\t0000000000000020"), "{out}");
    assert!(out.contains("CapAmb:\t0000000000000020"), "{out}");
}

/// Capabilities outside runc's own bounding set are refused before
/// anything is made, each named once, in the config's order. runc runs
/// under setpriv (util-linux) with two capabilities dropped from its set.
#[test]
fn capabilities_the_runtime_lacks_are_named() {
    let mut b = Bundle::new("true");
    b.config["process"]["capabilities"]["permitted"] = json!(["CAP_WAKE_ALARM", "CAP_CHOWN", "CAP_SYS_BOOT"]);
    b.config["process"]["capabilities"]["effective"] = json!(["CAP_SYS_BOOT"]);
    let id = b.track(&unique_id("caps"));
    let runc = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    let out = under(&["setpriv", "--bounding-set", "-sys_boot,-wake_alarm", "--"], &runc)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end(), "runc run failed: process.capabilities: CAP_WAKE_ALARM, CAP_SYS_BOOT not in the runtime's own capability bounding set");
    assert!(!b.root.join(&id).exists(), "state dir left behind");
}

#[test]
fn shared_rootfs_propagation() {
    let mut b = Bundle::new("awk '$5 == \"/\"' /proc/self/mountinfo");
    b.config["linux"]["rootfsPropagation"] = json!("rshared");
    assert!(b.run_ok().contains(" shared:"));
    b.config["linux"]["rootfsPropagation"] = json!("rprivate");
    assert!(!b.run_ok().contains(" shared:"));
    b.config["linux"]["rootfsPropagation"] = json!("runbindable");
    assert!(b.run_ok().contains(" unbindable"));
}

#[test]
fn dropped_capability_is_enforced() {
    let mut b = Bundle::new("chown 1 /tmp 2>&1; echo rc=$?");
    b.config["root"]["readonly"] = json!(false);
    let out = b.run_ok();
    assert!(out.contains("Operation not permitted") && out.contains("rc=1"), "{out}");
}

#[test]
fn no_new_privileges_is_set() {
    let b = Bundle::new("grep NoNewPrivs /proc/self/status");
    assert_eq!(b.run_ok(), "NoNewPrivs:\t1\n");
    let mut b = Bundle::new("grep NoNewPrivs /proc/self/status");
    b.config["process"]["noNewPrivileges"] = json!(false);
    assert_eq!(b.run_ok(), "NoNewPrivs:\t0\n");
}

#[test]
fn rlimits_are_applied() {
    let mut b = Bundle::new("ulimit -n; ulimit -Hn; ulimit -c");
    b.config["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 777},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}
    ]);
    assert_eq!(b.run_ok(), "512\n777\n0\n");
}

#[test]
fn oom_score_adj_is_applied() {
    let mut b = Bundle::new("cat /proc/self/oom_score_adj");
    b.config["process"]["oomScoreAdj"] = json!(500);
    assert_eq!(b.run_ok(), "500\n");
}

#[test]
fn namespaced_sysctls_are_set() {
    let mut b = Bundle::new("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"});
    assert_eq!(b.run_ok(), "1\n1234\n");
}

#[test]
fn masked_paths_read_empty() {
    // /proc/kcore is masked too, but this kernel has none; timer_list is never empty unmasked.
    let b = Bundle::new("cat /proc/timer_list /proc/kcore 2>/dev/null | wc -c; ls /sys/firmware | wc -l; ls /proc/acpi | wc -l");
    assert_eq!(b.run_ok().split_whitespace().collect::<Vec<_>>(), ["0", "0", "0"]);
    let mut b = Bundle::new("head -c 20 /proc/timer_list | wc -c");
    b.config["linux"]["maskedPaths"] = serde_json::json!([]);
    assert_eq!(b.run_ok(), "20\n", "unmasked timer_list has content");
}

#[test]
fn readonly_paths_refuse_writes() {
    let mut b = Bundle::new("echo 1 > /proc/sys/kernel/shmmni 2>/dev/null; echo rc=$?");
    b.config["linux"]["sysctl"] = json!({});
    assert_eq!(b.run_ok(), "rc=1\n");
}

#[test]
fn default_devices_exist() {
    let b = Bundle::new("ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | awk '{print $1, $5, $6}'; readlink /dev/fd; readlink /dev/ptmx; echo x > /dev/null && head -c 3 /dev/zero | wc -c");
    let out = b.run_ok();
    assert_eq!(out.lines().filter(|l| l.starts_with("crw-rw-rw-")).count(), 6, "{out}");
    assert!(out.contains("1, 3") && out.contains("5, 0"), "{out}");
    assert!(out.contains("/proc/self/fd\npts/ptmx\n3\n"), "{out}");
}

#[test]
fn config_devices_are_created() {
    let mut b = Bundle::new("ls -ln /dev/mynull | awk '{print $1, $3, $4, $5, $6}'");
    b.config["linux"]["devices"] = json!([{"type": "c", "path": "/dev/mynull", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 12, "gid": 34}]);
    assert_eq!(b.run_ok(), "crw-r----- 12 34 1, 3\n");
}

#[test]
fn bind_mounts_of_dirs_and_files() {
    let mut b = Bundle::new("cat /data/in.txt; cat /etc/hostfile; echo out > /data/out.txt; echo x > /ro/f 2>/dev/null || echo ro-refused");
    let host = b.base.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from host\n").unwrap();
    let file = b.base.join("hostfile");
    std::fs::write(&file, "single file\n").unwrap();
    b.add_mount(json!({"destination": "/data", "type": "bind", "source": host, "options": ["rbind", "rw"]}));
    // The target of a file bind does not exist in the image: it must be created.
    b.add_mount(json!({"destination": "/etc/hostfile", "type": "bind", "source": file, "options": ["bind", "ro"]}));
    b.add_mount(json!({"destination": "/ro", "source": host, "options": ["bind", "ro"]}));
    assert_eq!(b.run_ok(), "from host\nsingle file\nro-refused\n");
    assert_eq!(std::fs::read_to_string(host.join("out.txt")).unwrap(), "out\n");
}

#[test]
fn tmpfs_with_size_and_mode() {
    let mut b = Bundle::new("stat -c %a /scratch; df -k /scratch | tail -1 | awk '{print $2}'; grep ' /scratch ' /proc/mounts | grep -c nosuid");
    b.add_mount(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1700", "size=2048k"]}));
    assert_eq!(b.run_ok(), "1700\n2048\n1\n");
}

#[test]
fn standard_filesystems_are_mounted() {
    let b = Bundle::new("for m in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup; do awk -v m=$m '$2==m {print $2, $3}' /proc/mounts | head -1; done");
    let out = b.run_ok();
    for want in ["/proc proc", "/dev tmpfs", "/dev/pts devpts", "/dev/shm tmpfs", "/dev/mqueue mqueue", "/sys sysfs"] {
        assert!(out.contains(want), "missing {want}: {out}");
    }
    assert!(out.contains("/sys/fs/cgroup tmpfs") || out.contains("/sys/fs/cgroup cgroup2"), "{out}");
}

#[test]
fn cgroup_mount_shows_own_cgroups_read_only() {
    let b = Bundle::new("ls /sys/fs/cgroup | sort | tr '\\n' ' '; touch /sys/fs/cgroup/x 2>/dev/null || echo ro");
    let out = b.run_ok();
    assert!(out.ends_with("ro\n"), "{out}");
    let v2_only = std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" cgroup2 "));
    if !v2_only {
        assert!(out.contains("memory") && out.contains("pids"), "{out}");
    }
}

/// Makes open_tree, move_mount and mount_setattr fail with ENOSYS for the
/// command and its children, as on kernels before 5.12 (classic BPF, built
/// before the fork; loading it needs CAP_SYS_ADMIN, which the tests have).
fn without_new_mount_api(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let f = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let (ld, jeq, ret) = (0x20, 0x15, 0x06); // BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
    let (allow, enosys) = (0x7fff_0000, 0x0005_0000 | libc::ENOSYS as u32);
    let prog = vec![
        f(ld, 0, 0, 4),
        f(jeq, 1, 0, 0xc000_003e), // AUDIT_ARCH_X86_64
        f(ret, 0, 0, allow),
        f(ld, 0, 0, 0),
        f(jeq, 3, 0, libc::SYS_open_tree as u32),
        f(jeq, 2, 0, libc::SYS_move_mount as u32),
        f(jeq, 1, 0, libc::SYS_mount_setattr as u32),
        f(ret, 0, 0, allow),
        f(ret, 0, 0, enosys),
    ];
    // SAFETY: only the seccomp syscall runs in the child, on memory built before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr() as *mut _ };
            if libc::syscall(libc::SYS_seccomp, 1, 0, &fprog) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn mounts_are_the_same_without_the_new_mount_api() {
    // Masked file and directories, read-only paths, the cgroup view read-only
    // down to each hierarchy: by fd-to-fd binds, or by mount(2) + remount.
    let script = "grep Seccomp: /proc/self/status | tr -d ' \\t'; cat /proc/timer_list | wc -c; ls -A /proc/acpi | wc -l; ls -A /sys/firmware | wc -l; \
                  echo 1 > /proc/sys/kernel/shmmni 2>/dev/null || echo ro-sys; \
                  mkdir /sys/fs/cgroup/pids/sub 2>/dev/null || mkdir /sys/fs/cgroup/sub 2>/dev/null || echo ro-cg";
    let mut b = Bundle::new(script);
    b.config["linux"]["sysctl"] = json!({});
    let run = |legacy: bool| {
        let id = b.track(&unique_id("mntapi"));
        let mut cmd = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]);
        if legacy {
            without_new_mount_api(&mut cmd);
        }
        let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
        assert!(out.status.success(), "legacy={legacy}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(false), "Seccomp:0\n0\n0\n0\nro-sys\nro-cg\n");
    assert_eq!(run(true), "Seccomp:2\n0\n0\n0\nro-sys\nro-cg\n");
}

#[test]
fn no_pivot_uses_chroot() {
    let b = Bundle::new("cat /proc/self/mountinfo | wc -l; ls /bin/busybox");
    let id = b.track(&unique_id("nopivot"));
    let out = b.runc(&["run", "--no-pivot", "--bundle", b.dir.to_str().unwrap(), &id]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/bin/busybox"));
}

#[test]
fn joins_an_existing_namespace_by_path() {
    // A holder process in its own UTS namespace with a known hostname.
    let mut holder = std::process::Command::new("unshare")
        .args(["--uts", "sh", "-c", "hostname held-ns; echo ready; exec sleep 60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()), &mut line).unwrap();
    let mut b = Bundle::new("hostname");
    b.config.as_object_mut().unwrap().remove("hostname");
    let ns = b.config["linux"]["namespaces"].as_array_mut().unwrap();
    ns.retain(|n| n["type"] != "uts");
    ns.push(json!({"type": "uts", "path": format!("/proc/{}/ns/uts", holder.id())}));
    let out = b.run();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "held-ns\n", "{}", String::from_utf8_lossy(&out.stderr));
}

/// A new user namespace mapping 0-65535 to 100000-165535.
fn map_user_namespace(b: &mut Bundle) {
    b.add_namespace(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    // Let the mapped root own its rootfs, as a real image would be.
    let status = std::process::Command::new("chown").args(["-R", "100000:100000"]).arg(b.dir.join("rootfs")).status().unwrap();
    assert!(status.success());
    // The cgroup mount cannot be bound from a user namespace we do not own the cgroups of.
    b.config["mounts"].as_array_mut().unwrap().retain(|m| m["type"] != "cgroup");
}

#[test]
fn user_namespace_with_mappings() {
    let mut b = Bundle::new("cat /proc/self/uid_map /proc/self/gid_map; id -u; echo x > /tmp/f && echo wrote");
    b.config["root"]["readonly"] = json!(false);
    map_user_namespace(&mut b);
    let out = b.run_ok();
    let nums: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(nums, ["0", "100000", "65536", "0", "100000", "65536", "0", "wrote"], "{out}");
}

/// The clone and clone3 calls of `runc run` and its children, by strace -f
/// (run ends with its container, so -f ends too).
fn clones_of_run(b: &Bundle) -> (String, String) {
    traced_run(b, "trace=clone,clone3")
}

/// `runc run` under `strace -f -e FILTER`: its output and the trace.
fn traced_run(b: &Bundle, filter: &str) -> (String, String) {
    let id = b.track(&unique_id("traced"));
    let trace = b.base.join(format!("{id}.trace"));
    b.write_config();
    let out = std::process::Command::new("strace")
        .args(["-f", "-o", trace.to_str().unwrap(), "-e", filter])
        .arg(runc_bin())
        .args(["--root", b.root.to_str().unwrap(), "run", "--bundle", b.dir.to_str().unwrap(), &id])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), std::fs::read_to_string(&trace).unwrap())
}

/// Whether a trace names clone flag `f` (not merely a longer one, such as
/// CLONE_PARENT_SETTID for CLONE_PARENT).
fn has_flag(t: &str, f: &str) -> bool {
    t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| w == f)
}

#[test]
fn pid_namespace_is_made_at_spawn_unless_a_user_namespace_owns_it() {
    if !have_strace() {
        return;
    }
    // No user namespace: the init is cloned into the new PID namespace and
    // does not fork again.
    let b = Bundle::new("echo $$");
    let (out, t) = clones_of_run(&b);
    assert_eq!(out, "1\n");
    assert!(has_flag(&t, "CLONE_NEWPID") && !has_flag(&t, "CLONE_PARENT"), "{t}");
    // A new user namespace must own the PID namespace: made after it, by
    // unshare in the init, which then forks the container's PID 1.
    let mut b = Bundle::new("echo $$");
    map_user_namespace(&mut b);
    let (out, t) = clones_of_run(&b);
    assert_eq!(out, "1\n");
    assert!(!has_flag(&t, "CLONE_NEWPID") && has_flag(&t, "CLONE_PARENT"), "{t}");
}

/// A new network namespace is made by a thread of the init while the init
/// goes on, and entered before sysfs is mounted: the container's sysfs
/// shows its own devices only, with or without a user namespace (where the
/// init forks first and the forked one starts the thread).
#[test]
fn network_namespace_is_made_aside_and_joined_before_sysfs() {
    let cmd = "ls /sys/class/net; readlink /proc/self/ns/net";
    let host = std::fs::read_link("/proc/self/ns/net").unwrap().to_string_lossy().into_owned();
    let b = Bundle::new(cmd);
    let mut u = Bundle::new(cmd);
    map_user_namespace(&mut u);
    for b in [&b, &u] {
        let out = b.run_ok();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() == 2 && lines[0] == "lo" && lines[1] != host, "{out}");
    }
    if !have_strace() {
        return;
    }
    // The init makes the thread only when a CPU is idle at that moment:
    // retry while the other tests keep this machine busy.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, t) = traced_run(&b, "trace=clone,unshare,setns,mount,open_tree,sethostname,keyctl,mknodat");
        if made_aside_then_joined(&t) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the init made no network namespace thread in 120 s of tries:\n{t}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// In a `strace -f` of a run: false if no thread of the init unshared a
/// network namespace; else asserts that the init entered it after the
/// thread made it and before it mounted sysfs, and that what needs no
/// network namespace came before it waited for one: the hostname, the
/// keyring, the clones of the v1 cgroup hierarchies (by name) and the
/// device nodes.
fn made_aside_then_joined(t: &str) -> bool {
    // (pid, call) per line; strace pads the pid column.
    let lines: Vec<(&str, &str)> = t.lines().filter_map(|l| l.split_once(' ')).map(|(p, c)| (p, c.trim_start())).collect();
    let at = |f: &dyn Fn(&str, &str) -> bool| lines.iter().position(|(p, c)| f(p, c));
    let Some(clone) = at(&|_, c| c.starts_with("clone(") && c.contains("CLONE_THREAD") && !c.contains("= -1 ")) else { return false };
    let main = lines[clone].0;
    let Some(asked) = at(&|p, c| p != main && c.starts_with("unshare(CLONE_NEWNET")) else { return false };
    let tid = lines[asked].0;
    let done = asked + lines[asked..].iter().position(|(p, c)| *p == tid && c.ends_with("= 0")).unwrap_or_else(|| panic!("unshare failed:\n{t}"));
    let joined = at(&|p, c| p == main && c.starts_with("setns(") && c.contains("CLONE_NEWNET")).unwrap_or_else(|| panic!("not joined:\n{t}"));
    let sysfs = at(&|p, c| p == main && c.starts_with("mount(\"sysfs\"")).unwrap_or_else(|| panic!("no sysfs mount:\n{t}"));
    assert!(clone < asked && done < joined && joined < sysfs, "made, then joined, then sysfs mounted:\n{t}");
    let early = |call: &str| lines.iter().enumerate().filter(|(_, (p, c))| *p == main && c.starts_with(call)).map(|(i, (_, c))| (i, *c)).collect::<Vec<_>>();
    let named = early("open_tree(").into_iter().filter(|(_, c)| !c.contains(", \"\", "));
    let firsts = [early("sethostname("), early("keyctl(KEYCTL_JOIN_SESSION_KEYRING"), early("mknodat(")];
    assert!(firsts.iter().all(|v| !v.is_empty()), "no hostname, keyring or device node:\n{t}");
    for (i, c) in firsts.into_iter().flatten().chain(named) {
        assert!(i < joined, "{c} after the wait for the network namespace:\n{t}");
    }
    true
}

/// Device nodes are made before sysfs is mounted (they need no network
/// namespace), unless a later mount is under /dev: then after every mount,
/// as runc makes them, so that mount cannot cover or be covered differently.
#[test]
fn device_nodes_come_before_sysfs_unless_a_later_mount_is_under_dev() {
    let mut later = Bundle::new("cat /dev/null && grep -c ' /dev/later tmpfs ' /proc/mounts");
    later.add_mount(json!({"destination": "/dev/later", "type": "tmpfs", "source": "tmpfs", "options": ["size=1234k"]}));
    assert_eq!(later.run_ok(), "1\n");
    if !have_strace() {
        return;
    }
    let (_, t) = traced_run(&Bundle::new("true"), "trace=mount,mknodat");
    assert!(line_of(&t, "mknodat(") < line_of(&t, "mount(\"sysfs\""), "{t}");
    let (_, t) = traced_run(&later, "trace=mount,mknodat");
    assert!(line_of(&t, "size=1234k") < line_of(&t, "mknodat("), "{t}");
}

/// The init's clone shares our memory until it execs (no page tables are
/// copied, however large the caller), and does not make us wait for that
/// exec as vfork would.
#[test]
fn init_clone_shares_memory_until_exec() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("echo ok");
    let (out, t) = clones_of_run(&b);
    assert_eq!(out, "ok\n");
    let first = t.lines().find(|l| l.contains("clone")).unwrap_or_default();
    assert!(first.contains("CLONE_VM") && first.contains("CLONE_CHILD_CLEARTID") && !first.contains("CLONE_VFORK"), "{t}");
}

/// Where the kernel has statmount with mount options (6.11), the cgroup
/// hierarchies are found without /proc/self/mountinfo, whose read formats
/// every mount on the host; older kernels (the VM's 6.1) read it.
#[test]
fn cgroup_mounts_found_without_mountinfo_where_statmount_serves() {
    if !have_strace() {
        return;
    }
    let b = Bundle::new("echo ok");
    let (out, t) = traced_run(&b, "trace=open,openat");
    assert_eq!(out, "ok\n");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let v: Vec<u32> = release.trim().split(|c: char| !c.is_ascii_digit()).take(2).map(|n| n.parse().unwrap_or(0)).collect();
    let read = t.contains("/proc/self/mountinfo");
    assert_eq!(read, (v[0], v[1]) < (6, 11), "kernel {release}: mountinfo read: {read}\n{t}");
}

#[test]
fn time_namespace_offsets() {
    let mut b = Bundle::new("cut -d. -f1 /proc/uptime");
    b.add_namespace(json!({"type": "time"}));
    b.config["linux"]["timeOffsets"] = json!({"boottime": {"secs": 86400 * 365, "nanosecs": 0}});
    let up: u64 = b.run_ok().trim().parse().unwrap();
    assert!(up >= 86400 * 365, "uptime {up}");
}

#[test]
fn seccomp_profile_is_enforced() {
    let mut b = Bundle::new("mkdir /tmp/d 2>&1; echo rc=$?");
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    });
    let out = b.run_ok();
    assert!(out.contains("Operation not permitted") && out.contains("rc=1"), "{out}");
}

#[test]
fn stray_fds_do_not_reach_the_container() {
    use std::os::fd::AsRawFd;
    let b = Bundle::new("ls /proc/self/fd | wc -l");
    // Open a non-CLOEXEC fd in a child's place: runc inherits it as fd 3+.
    let f = std::fs::File::open("/etc/hostname").unwrap();
    let fd = f.as_raw_fd();
    let id = b.track(&unique_id("fds"));
    let mut cmd = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            libc::dup2(fd, 3);
            libc::dup2(fd, 7);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    // 0, 1, 2 and the fd ls itself opens.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn tmpfs_copy_up_keeps_the_image_contents() {
    let mut b = Bundle::new("grep -c root /etc/passwd; ls -l /etc/link | grep -c -- '-> passwd'; echo new > /etc/x && echo writable; grep ' /etc ' /proc/mounts | cut -d' ' -f3");
    std::os::unix::fs::symlink("passwd", b.dir.join("rootfs/etc/link")).unwrap();
    b.add_mount(json!({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "mode=755"]}));
    assert_eq!(b.run_ok(), "1\n1\nwritable\ntmpfs\n");
    assert!(!b.dir.join("rootfs/etc/x").exists(), "wrote through to the image");
}
