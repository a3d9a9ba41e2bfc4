//! Starting the init: a child of the caller that runs none of its code, only
//! rearranges fds and execs the sealed runc-init.
//!
//! Safe in threaded hosts, and cheap in large ones: the child shares our
//! memory until its exec (`rawclone`: no page tables copied, whatever the
//! caller's size, and the caller goes on meanwhile); everything it reads is
//! prepared before the clone and kept until it has left our memory; it makes
//! raw system calls only (no malloc, no locks, no errno, no atfork
//! handlers); all signals are blocked in the calling thread across the clone
//! so no handler of the caller runs in the child, and the thread's mask is
//! restored right after.

use super::rawclone::{self, Stack};
use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::mem::ManuallyDrop;
use std::sync::atomic::AtomicU32;

/// What the child of the caller gets.
pub struct SpawnFds {
    /// Becomes the init's 0, 1, 2.
    pub stdio: [RawFd; 3],
    /// The caller's fds 3..3+N stay open in the container.
    pub preserve_fds: u32,
    /// How the init binary is sealed for this container.
    pub seal: super::initbin::Seal,
    /// A cgroup v2 directory (opened O_DIRECTORY) to start the init in, with
    /// clone3(CLONE_INTO_CGROUP): no migration afterwards, so no wait for the
    /// RCU grace period that a write to cgroup.procs can cost.
    pub cgroup: Option<RawFd>,
    /// Start the init in a new PID namespace (as its PID 1), which saves it
    /// a fork; only when no user namespace must own that PID namespace.
    pub new_pid_ns: bool,
}

/// A running runc-init (stage one) and our end of its sync socket.
pub struct Spawned {
    pub pid: i32,
    pub sync: OwnedFd,
    /// The init was born in `SpawnFds::cgroup` (no join needed).
    pub in_cgroup: bool,
    /// What the child reads before its exec; freed once it has left.
    _child: Prepared,
}

pub fn spawn(fds: &SpawnFds) -> Result<Spawned> {
    let exe = super::initbin::fd(fds.seal)?;
    let (ours, theirs) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::sys("socketpair for runc-init", e))?;
    let child = Prepared::new(exe, [fds.stdio[0], fds.stdio[1], fds.stdio[2], theirs.as_raw_fd()], fds.preserve_fds as RawFd)?;
    let ns = if fds.new_pid_ns { libc::CLONE_NEWPID as u64 } else { 0 };
    let (pid, in_cgroup) = with_signals_blocked(|| child.clone_child(ns, fds.cgroup));
    if pid < 0 {
        return Err(Error::sys("clone runc-init", std::io::Error::from_raw_os_error(-pid as i32)));
    }
    drop(theirs);
    Ok(Spawned { pid: pid as i32, sync: ours, in_cgroup, _child: child })
}

/// The child's stack and arguments, at fixed heap addresses, kept until the
/// kernel reports that the child left our memory (exec or exit).
struct Prepared {
    args: ManuallyDrop<Box<ChildArgs>>,
    stack: ManuallyDrop<Stack>,
}

struct ChildArgs {
    exe: RawFd,
    _argv_s: [CString; 3],
    argv: [*const libc::c_char; 4],
    envp: [*const libc::c_char; 1],
    /// stdin, stdout, stderr, sync socket
    sources: [RawFd; 4],
    preserve: RawFd,
    /// Non-zero while the child runs in our memory (CLONE_CHILD_CLEARTID).
    left: AtomicU32,
}

impl Prepared {
    fn new(exe: RawFd, sources: [RawFd; 4], preserve: RawFd) -> Result<Prepared> {
        let argv_s = [c"runc-init".to_owned(), CString::new(runc_init::SYNC_FD_ARG).unwrap(), CString::new((3 + preserve).to_string()).unwrap()];
        let argv = [argv_s[0].as_ptr(), argv_s[1].as_ptr(), argv_s[2].as_ptr(), std::ptr::null()];
        let args = Box::new(ChildArgs { exe, _argv_s: argv_s, argv, envp: [std::ptr::null()], sources, preserve, left: AtomicU32::new(0) });
        let stack = Stack::take(64 * 1024).map_err(|e| Error::sys("map a stack for runc-init's clone", e))?;
        Ok(Prepared { args: ManuallyDrop::new(args), stack: ManuallyDrop::new(stack) })
    }

    /// clone3 into the cgroup where asked; without clone3, or if the kernel
    /// refuses the cgroup, a plain clone (the caller then joins it). Returns
    /// (pid or -errno, born in the cgroup).
    fn clone_child(&self, ns: u64, cgroup: Option<RawFd>) -> (i64, bool) {
        let a = &**self.args as *const ChildArgs as *const libc::c_void;
        let left = &self.args.left;
        // SAFETY: child_main keeps the child's rules (rawclone); args, stack
        // and `left` live in self, which waits for `left` before freeing them.
        unsafe {
            let r = rawclone::clone3(ns, cgroup, child_main, a, &self.stack, left);
            if r >= 0 {
                return (r, cgroup.is_some());
            }
            (rawclone::clone(ns, child_main, a, &self.stack, left), false)
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // By the time a Spawned is dropped the init has long exec'd (or was
        // killed); a child stopped before its exec keeps the memory (leaked).
        if rawclone::wait_left(&self.args.left, std::time::Duration::from_secs(10)) {
            // SAFETY: taken and dropped once, here; the child no longer uses them.
            unsafe {
                ManuallyDrop::take(&mut self.stack).give_back();
                ManuallyDrop::drop(&mut self.args);
            }
        }
    }
}

/// In the child, on its own stack: move fds into place, close the rest, exec
/// runc-init. Raw system calls only; any failure exits with 127.
extern "C" fn child_main(arg: *const libc::c_void) -> ! {
    // SAFETY: arg is the ChildArgs prepared before the clone, alive until we leave.
    let a = unsafe { &*(arg as *const ChildArgs) };
    let sys = |nr: libc::c_long, x: usize, y: usize, z: usize, w: usize, v: usize| -> i64 {
        // SAFETY: plain fd and exec syscalls on integers and on pointers
        // prepared before the clone.
        unsafe { rawclone::sys(nr, x, y, z, w, v) }
    };
    let die = || -> ! {
        loop {
            sys(libc::SYS_exit, 127, 0, 0, 0, 0);
        }
    };
    let first_free = 3 + a.preserve + 1;
    let mut tmp = [0i64; 4];
    for (i, src) in a.sources.iter().enumerate() {
        tmp[i] = sys(libc::SYS_fcntl, *src as usize, libc::F_DUPFD_CLOEXEC as usize, first_free as usize, 0, 0);
        if tmp[i] < 0 {
            die();
        }
    }
    // The exe too, before the moves below may land on its number; then only
    // it stays (close-on-exec) above the fds the init gets.
    let exe = sys(libc::SYS_fcntl, a.exe as usize, libc::F_DUPFD_CLOEXEC as usize, first_free as usize, 0, 0);
    if exe < 0 {
        die();
    }
    let exe = exe as RawFd;
    let targets = [0, 1, 2, 3 + a.preserve];
    for (t, dst) in tmp.iter().zip(targets) {
        if sys(libc::SYS_dup3, *t as usize, dst as usize, 0, 0, 0) < 0 {
            die();
        }
    }
    for fd in 3..3 + a.preserve {
        sys(libc::SYS_fcntl, fd as usize, libc::F_SETFD as usize, 0, 0, 0);
    }
    if exe > first_free {
        sys(libc::SYS_close_range, first_free as usize, (exe - 1) as usize, 0, 0, 0);
    }
    sys(libc::SYS_close_range, (exe + 1) as usize, libc::c_uint::MAX as usize, 0, 0, 0);
    sys(libc::SYS_execveat, exe as usize, c"".as_ptr() as usize, a.argv.as_ptr() as usize, a.envp.as_ptr() as usize, libc::AT_EMPTY_PATH as usize);
    die()
}

/// Runs `f` with every signal blocked in this thread, then restores the mask.
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset_t values are plain data; pthread_sigmask only affects this thread.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let r = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        r
    }
}

/// Opens /dev/null for stdio slots the caller leaves empty.
pub fn dev_null() -> Result<OwnedFd> {
    let fd = nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty())
        .map_err(|e| Error::sys("open /dev/null", e))?;
    // SAFETY: fd is new and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
