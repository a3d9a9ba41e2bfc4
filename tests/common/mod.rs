//! Test harness: a busybox bundle per test, a private state root, unique ids,
//! and cleanup (delete --force, remove dirs) even when the test fails.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The runc binary under test: $RUNC_BIN or target/debug/runc.
pub fn runc_bin() -> PathBuf {
    std::env::var_os("RUNC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/runc"))
}

/// Whether strace is installed (tests that trace system calls skip without it).
pub fn have_strace() -> bool {
    let ok = Command::new("strace").arg("-V").output().is_ok();
    if !ok {
        eprintln!("strace not installed: skipped");
    }
    ok
}

/// `c` run under another program: `PREFIX... c's program and args` (strace,
/// setpriv, unshare and the like).
pub fn under(prefix: &[&str], c: &Command) -> Command {
    let mut w = Command::new(prefix[0]);
    w.args(&prefix[1..]).arg(c.get_program()).args(c.get_args());
    w
}

/// `strace -o TRACE STRACE_ARGS runc --root R ARGS`, stdio all /dev/null
/// (a created container keeps what it inherits); asserts that runc
/// succeeded and returns the trace.
pub fn strace_runc(b: &Bundle, strace_args: &[&str], args: &[&str]) -> String {
    let trace = b.base.join(format!("strace.{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
    let prefix = [&["strace", "-o", trace.to_str().unwrap()], strace_args].concat();
    let st = under(&prefix, &b.runc(args)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    let t = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(st.success(), "runc {args:?}: {st:?}\n{t}");
    t
}

/// A unique container id for this test process.
pub fn unique_id(tag: &str) -> String {
    format!("{tag}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A temporary bundle (busybox rootfs + config.json) and state root.
pub struct Bundle {
    pub base: PathBuf,
    pub dir: PathBuf,
    pub root: PathBuf,
    pub config: Value,
    ids: std::cell::RefCell<Vec<String>>,
}

/// Makes a busybox rootfs from busybox-static with its applet links.
pub fn make_rootfs(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static must be installed (/bin/busybox)");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
        }
    }
    for d in ["proc", "sys", "dev", "etc", "tmp", "root"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n").unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\n").unwrap();
}

impl Bundle {
    /// A bundle whose process runs `sh -c script` without a terminal.
    pub fn new(script: &str) -> Bundle {
        let base = std::env::temp_dir().join(unique_id("librunc-test"));
        let dir = base.join("bundle");
        let root = base.join("state");
        std::fs::create_dir_all(&dir).unwrap();
        // World-traversable so user-namespaced containers can reach the rootfs.
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        make_rootfs(&dir.join("rootfs"));
        let mut config = runc::spec::template::default_spec(false);
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(["sh", "-c", script]);
        Bundle { base, dir, root, config, ids: Default::default() }
    }

    pub fn write_config(&self) {
        std::fs::write(self.dir.join("config.json"), serde_json::to_vec_pretty(&self.config).unwrap()).unwrap();
    }

    /// `runc --root R <args>` with the config written first.
    pub fn runc(&self, args: &[&str]) -> Command {
        self.write_config();
        let mut c = Command::new(runc_bin());
        c.arg("--root").arg(&self.root).args(args);
        c
    }

    /// Remembers an id for cleanup and returns it.
    pub fn track(&self, id: &str) -> String {
        self.ids.borrow_mut().push(id.to_string());
        id.to_string()
    }

    /// `runc run --bundle B <id>`, output captured.
    pub fn run(&self) -> Output {
        let id = self.track(&unique_id("run"));
        self.runc(&["run", "--bundle", self.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn run_ok(&self) -> String {
        let out = self.run();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "run failed: {:?}\nstdout: {stdout}\nstderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
        stdout
    }

    pub fn add_mount(&mut self, m: Value) {
        self.config["mounts"].as_array_mut().unwrap().push(m);
    }

    pub fn add_namespace(&mut self, ns: Value) {
        self.config["linux"]["namespaces"].as_array_mut().unwrap().push(ns);
    }

    /// A host directory bound at /ready in the container, for handshakes.
    pub fn ready_dir(&mut self) -> PathBuf {
        let ready = self.base.join("ready");
        std::fs::create_dir_all(&ready).unwrap();
        self.add_mount(json!({"destination": "/ready", "type": "bind", "source": ready, "options": ["bind"]}));
        ready
    }

    /// Entries left in the state root (must be none after a failure).
    pub fn state_entries(&self) -> Vec<String> {
        match std::fs::read_dir(&self.root) {
            Ok(d) => d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            let _ = Command::new(runc_bin()).arg("--root").arg(&self.root).args(["delete", "--force", id]).output();
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Accepts one connection and receives one message with its SCM_RIGHTS fds
/// (what console sockets and seccomp agents get).
pub fn accept_with_fds(listener: &std::os::unix::net::UnixListener) -> (Vec<u8>, Vec<std::os::fd::OwnedFd>) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (conn, _) = listener.accept().unwrap();
    let mut buf = vec![0u8; 16384];
    let mut cmsg = [0u64; 32];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: plain data whose pointers outlive the recvmsg call.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cmsg.as_mut_ptr().cast();
    mh.msg_controllen = std::mem::size_of_val(&cmsg) as _;
    // SAFETY: mh points at live buffers.
    let n = unsafe { libc::recvmsg(conn.as_raw_fd(), &mut mh, 0) };
    assert!(n >= 0, "recvmsg");
    let mut fds = Vec::new();
    // SAFETY: walking the control data the kernel filled; each fd is new and ours.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&mh);
        while !c.is_null() {
            let len = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
            let p = libc::CMSG_DATA(c).cast::<i32>();
            for i in 0..len {
                fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(p.add(i))));
            }
            c = libc::CMSG_NXTHDR(&mh, c);
        }
    }
    buf.truncate(n as usize);
    (buf, fds)
}

/// Waits up to 10 s for `path` to exist.
pub fn wait_for(path: &Path) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !path.exists() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}

/// Number of mounts in our mount namespace (a failed create must not add any).
pub fn host_mount_count() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().count()
}

/// The index of the first line of trace `t` that contains `s`; panics with
/// the trace when there is none.
pub fn line_of(t: &str, s: &str) -> usize {
    t.lines().position(|l| l.contains(s)).unwrap_or_else(|| panic!("no {s}:\n{t}"))
}
