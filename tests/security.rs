//! Regression tests for the field's known runtime escapes: each shows the
//! attack failing against real containers.

mod common;
use common::*;
use serde_json::json;
use std::process::{Command, Stdio};

fn create(b: &Bundle, tag: &str) -> String {
    let id = b.track(&unique_id(tag));
    let st = b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(st.success());
    id
}

fn init_pid(b: &Bundle, id: &str) -> i32 {
    let out = b.runc(&["state", id]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["pid"].as_i64().unwrap() as i32
}

fn hash(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// CVE-2019-5736: the container cannot write the program that set it up.
/// The init runs from a sealed file, so even host root cannot open its
/// /proc/PID/exe for writing; a container whose entry point is
/// `#!/proc/self/exe` only re-runs that sealed program; the runtime's
/// binaries (and the init cache) stay unchanged.
/// `seal` is LIBRUNC_INIT_SEAL for the runs; `expect` the kind of file the
/// init must run from ("immutable", "overlay" or "memfd").
fn attack_5736(b: &mut Bundle, seal: Option<&str>, expect: &str) {
    let runc = runc_bin();
    let before = hash(runc.to_str().unwrap());
    let with_seal = |mut c: Command| {
        if let Some(v) = seal {
            c.env("LIBRUNC_INIT_SEAL", v);
        }
        c
    };
    let id = b.track(&unique_id("5736"));
    let st = with_seal(b.runc(&["create", "--bundle", b.dir.to_str().unwrap(), &id])).stdin(Stdio::null()).stdout(Stdio::null()).status().unwrap();
    assert!(st.success());
    // After create: the cache of this build exists now (the first container
    // of a new build writes it, and drops other builds' copies).
    let cache = cached_inits();
    let pid = init_pid(b, &id);
    let w = std::fs::OpenOptions::new().write(true).open(format!("/proc/{pid}/exe"));
    assert!(w.is_err(), "opened the init's exe for writing");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    let fs_type = fs_magic(&format!("/proc/{pid}/exe"));
    match expect {
        "memfd" => assert!(exe.to_string_lossy().starts_with("/memfd:runc-init"), "{}", exe.display()),
        "immutable" => {
            assert!(exe.starts_with("/run/librunc"), "{}", exe.display());
            assert!(immutable(&format!("/proc/{pid}/exe")), "init not immutable: {}", exe.display());
        }
        _ => assert_eq!(fs_type, 0x794c_7630, "init not on overlayfs: {}", exe.display()),
    }
    assert!(b.runc(&["start", &id]).status().unwrap().success());
    // The classic payload: an entry point that execs /proc/self/exe.
    std::fs::write(b.dir.join("rootfs/bin/evil"), "#!/proc/self/exe\n").unwrap();
    std::process::Command::new("chmod").args(["755"]).arg(b.dir.join("rootfs/bin/evil")).status().unwrap();
    let out = with_seal(b.runc(&["exec", &id, "/bin/evil"])).stdin(Stdio::null()).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = with_seal(b.runc(&["exec", &id, "sh", "-c", "for p in /proc/[0-9]*; do (echo x > $p/exe) 2>/dev/null && echo WROTE $p; done; echo done"])).stdin(Stdio::null()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert_eq!(hash(runc.to_str().unwrap()), before, "runc binary changed");
    assert_eq!(cached_inits(), cache, "a cached init changed");
    assert!(b.runc(&["delete", "-f", &id]).status().unwrap().success());
}

/// Every cached init under /run/librunc with a digest of its contents.
fn cached_inits() -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/run/librunc").into_iter().flatten().flatten() {
        let f = e.path().join("runc-init");
        if let Ok(bytes) = std::fs::read(&f) {
            let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3));
            out.push((f, digest));
        }
    }
    out.sort();
    out
}

/// FS_IMMUTABLE_FL (linux/fs.h).
const IMMUTABLE: libc::c_int = 0x10;

fn inode_flags(f: &std::fs::File) -> Option<libc::c_int> {
    let mut v: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int.
    (unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(f), libc::FS_IOC_GETFLAGS, &mut v) } == 0).then_some(v)
}

fn set_inode_flags(f: &std::fs::File, v: libc::c_int) -> bool {
    // SAFETY: FS_IOC_SETFLAGS reads one int.
    unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(f), libc::FS_IOC_SETFLAGS, &v) == 0 }
}

/// Whether the file carries FS_IMMUTABLE_FL.
fn immutable(path: &str) -> bool {
    let f = std::fs::File::open(path).unwrap();
    inode_flags(&f).unwrap_or_else(|| panic!("flags of {path}")) & IMMUTABLE != 0
}

/// Whether files in `dir` can be made immutable (tmpfs since Linux 6.0, ext4, ...).
fn keeps_immutable_flag(dir: &str) -> bool {
    let p = format!("{dir}/.librunc-flag-{}", std::process::id());
    let f = std::fs::File::create(&p).unwrap();
    let kept = inode_flags(&f).is_some_and(|v| set_inode_flags(&f, v | IMMUTABLE) && set_inode_flags(&f, v));
    std::fs::remove_file(&p).unwrap();
    kept
}

fn fs_magic(path: &str) -> i64 {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: statfs into a zeroed struct with a valid path.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statfs(c.as_ptr(), &mut sf) }, 0, "statfs {path}");
    sf.f_type as i64
}

#[test]
fn cve_2019_5736_runtime_binary_cannot_be_overwritten() {
    // Default: the init is the cache, immutable (where /run keeps the flag).
    let run_keeps_flag = keeps_immutable_flag("/run");
    attack_5736(&mut Bundle::new("sleep 100"), None, if run_keeps_flag { "immutable" } else { "overlay" });
    // Forced: the cache through a read-only overlayfs; a sealed memfd copy.
    attack_5736(&mut Bundle::new("sleep 100"), Some("overlay"), "overlay");
    attack_5736(&mut Bundle::new("sleep 100"), Some("copy"), "memfd");
    // A container that may hold CAP_SYS_ADMIN (map_files of an overlay
    // mapping on old kernels) or CAP_LINUX_IMMUTABLE (which clears the
    // flag) without a user namespace always gets the memfd.
    for cap in ["CAP_SYS_ADMIN", "CAP_LINUX_IMMUTABLE"] {
        let mut b = Bundle::new("sleep 100");
        let caps = &mut b.config["process"]["capabilities"];
        for set in ["bounding", "effective", "permitted"] {
            caps[set].as_array_mut().unwrap().push(json!(cap));
        }
        attack_5736(&mut b, None, "memfd");
    }
}

/// The on-disk cache behind the overlay is refused unless it is root's and
/// closed to others; a bad value of LIBRUNC_INIT_SEAL is a clear error.
#[test]
fn init_seal_choice_is_checked() {
    let b = Bundle::new("true");
    let id = b.track(&unique_id("seal"));
    let out = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]).env("LIBRUNC_INIT_SEAL", "bogus").stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LIBRUNC_INIT_SEAL=bogus"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(b.state_entries().is_empty(), "{:?}", b.state_entries());
    let out = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]).env("LIBRUNC_INIT_SEAL", "shared").stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A cache directory others can write to is not trusted: the init is copied.
    std::fs::create_dir_all("/run/librunc").unwrap();
    let b = Bundle::new("sleep 100");
    let id = b.track(&unique_id("seal"));
    b.write_config();
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs -o mode=0777 none /run/librunc && exec {} --root {} create --bundle {} {id}",
        runc_bin().display(), b.root.display(), b.dir.display()
    );
    let st = Command::new("unshare").args(["-m", "sh", "-c", &script]).stdin(Stdio::null()).stdout(Stdio::null()).status().unwrap();
    assert!(st.success());
    let pid = init_pid(&b, &id);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:runc-init"), "{}", exe.display());
}

/// CVE-2016-9962: during set-up the init is not dumpable, so processes in
/// the container cannot ptrace it or read its memory, environment or exe.
#[test]
fn cve_2016_9962_init_is_not_dumpable_before_start() {
    let b = Bundle::new("true");
    let id = create(&b, "9962");
    let pid = init_pid(&b, &id);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("NoNewPrivs") && !status.is_empty());
    // Our own uid is 0; a non-dumpable process's /proc files belong to root
    // but ptrace-mode access is refused to anyone without CAP_SYS_PTRACE.
    let out = b.runc(&["exec", &id, "sh", "-c", "cat /proc/1/environ >/dev/null 2>&1 && echo READ; readlink /proc/1/exe >/dev/null 2>&1 && echo EXE; echo done"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n", "{}", String::from_utf8_lossy(&out.stderr));
}

/// CVE-2024-21626: a leaked host directory fd cannot become the cwd.
#[test]
fn cve_2024_21626_leaked_fd_cwd_is_refused() {
    let mut b = Bundle::new("pwd; ls");
    b.config["process"]["cwd"] = json!("/proc/self/fd/3");
    for preserve in [&[][..], &["--preserve-fds", "1"][..]] {
        let id = b.track(&unique_id("21626"));
        b.write_config();
        let mut args = vec!["--root", b.root.to_str().unwrap(), "run"];
        args.extend_from_slice(preserve);
        args.extend_from_slice(&["--bundle", b.dir.to_str().unwrap(), &id]);
        let cmd = format!("exec 3</tmp; exec {} \"$@\"", runc_bin().display());
        let out = Command::new("sh").arg("-c").arg(cmd).arg("sh").args(&args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{preserve:?}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cwd") || String::from_utf8_lossy(&out.stderr).contains("getcwd"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // The same through exec --cwd.
    let b = Bundle::new("sleep 100");
    let id = create(&b, "21626e");
    assert!(b.runc(&["start", &id]).status().unwrap().success());
    let cmd = format!("exec 3</tmp; exec {} --root {} exec --preserve-fds 1 --cwd /proc/self/fd/3 {id} pwd", runc_bin().display(), b.root.display());
    let out = Command::new("sh").arg("-c").arg(cmd).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(255), "{}", String::from_utf8_lossy(&out.stdout));
}

/// CVE-2021-30465 / CVE-2024-45310: a mount target that is a symlink to a
/// host path is resolved inside the rootfs; nothing happens on the host.
#[test]
fn cve_2021_30465_symlinked_mount_target_stays_inside() {
    let mut b = Bundle::new("ls -d /evil/ && touch /evil/x");
    let outside = b.base.join("outside-target");
    std::os::unix::fs::symlink(&outside, b.dir.join("rootfs/evil")).unwrap();
    b.add_mount(json!({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}));
    let mounts = host_mount_count();
    let out = b.run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!outside.exists(), "created {} on the host", outside.display());
    assert_eq!(host_mount_count(), mounts);
    // The directory was made under the rootfs instead.
    assert!(b.dir.join("rootfs").join(outside.strip_prefix("/").unwrap()).exists());
}

/// CVE-2019-16884 / CVE-2023-27561: no config mount on or under /proc.
#[test]
fn cve_2019_16884_mounts_over_proc_are_refused() {
    for (dest, kind) in [("/proc", "tmpfs"), ("//proc/./", "tmpfs"), ("/proc/self/attr", "tmpfs"), ("/proc/sys", "bind")] {
        let mut b = Bundle::new("true");
        let src = if kind == "bind" { b.base.to_str().unwrap().to_string() } else { "tmpfs".into() };
        b.add_mount(json!({"destination": dest, "type": kind, "source": src, "options": if kind == "bind" { json!(["bind"]) } else { json!([]) }}));
        let out = b.run();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{dest}: {err}");
        assert!(err.contains("mounts[7]") && err.contains("proc"), "{dest}: {err}");
    }
}

/// CVE-2025-31133: masking binds the host's verified /dev/null, so a
/// container /dev/null swapped for a symlink cannot unmask anything.
#[test]
fn cve_2025_31133_masking_ignores_a_swapped_dev_null() {
    let mut b = Bundle::new("wc -c < /proc/timer_list; ls -l /dev/null");
    // The image's /dev is a bind of a directory where "null" points elsewhere.
    let dev = b.base.join("devdir");
    std::fs::create_dir_all(&dev).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dev.join("null")).unwrap();
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| m["destination"] != "/dev" && !m["destination"].as_str().unwrap().starts_with("/dev/"));
    b.add_mount(json!({"destination": "/dev", "type": "bind", "source": dev, "options": ["rbind"]}));
    let out = b.run_ok();
    assert!(out.starts_with("0\n"), "masked path readable: {out}");
}

/// CVE-2025-52565: /dev/console is the container's pty, bound by fd.
#[test]
fn cve_2025_52565_console_is_the_pty_peer() {
    let mut b = Bundle::new("");
    let ready = b.ready_dir();
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["args"] = json!(["sh", "-c", "stat -L -c %t:%T /dev/console > /ready/c; stat -L -c %t:%T $(tty) > /ready/t"]);
    let sock = b.base.join("c.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let id = b.track(&unique_id("52565"));
    let h = std::thread::spawn(move || listener.accept().map(|(c, _)| c));
    let st = b.runc(&["run", "-d", "--console-socket", sock.to_str().unwrap(), "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).stdout(Stdio::null()).status().unwrap();
    assert!(st.success());
    let _conn = h.join().unwrap().unwrap();
    assert!(wait_for(&ready.join("t")));
    std::thread::sleep(std::time::Duration::from_millis(100));
    let console = std::fs::read_to_string(ready.join("c")).unwrap();
    assert!(console.starts_with("88:"), "/dev/console is not a pts device: {console}");
    assert_eq!(console, std::fs::read_to_string(ready.join("t")).unwrap(), "/dev/console is not the process's own pty");
}

/// CVE-2022-29162: inheritable capabilities are empty unless asked for, and
/// a non-root process gains nothing across exec.
#[test]
fn cve_2022_29162_no_inheritable_capabilities() {
    let b = Bundle::new("grep -E 'CapInh|CapAmb' /proc/self/status");
    assert_eq!(b.run_ok(), "CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n");
    let mut b = Bundle::new("grep -E 'CapEff|CapPrm' /proc/self/status");
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    assert_eq!(b.run_ok(), "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n");
}

/// no_new_privs stops a setuid-root binary from gaining root.
#[test]
fn no_new_privs_stops_setuid() {
    let src = b"#include <stdio.h>\n#include <unistd.h>\nint main(void){printf(\"%d\\n\",geteuid());return 0;}\n";
    let dir = std::env::temp_dir().join(unique_id("suid"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("s.c"), src).unwrap();
    let cc = Command::new("cc").args(["-static", "-o"]).arg(dir.join("suid")).arg(dir.join("s.c")).status().unwrap();
    assert!(cc.success());
    for (nnp, want) in [(true, "1000\n"), (false, "0\n")] {
        let mut b = Bundle::new("/bin/suid");
        std::fs::copy(dir.join("suid"), b.dir.join("rootfs/bin/suid")).unwrap();
        Command::new("chmod").arg("4755").arg(b.dir.join("rootfs/bin/suid")).status().unwrap();
        b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        b.config["process"]["noNewPrivileges"] = json!(nnp);
        b.config["process"]["args"] = json!(["/bin/suid"]);
        assert_eq!(b.run_ok(), want, "noNewPrivileges {nnp}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
