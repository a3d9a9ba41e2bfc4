//! Starting the init: fork the caller without running any of its code, and in
//! the child only rearrange fds and exec the sealed runc-init.
//!
//! Safe in threaded hosts: everything the child needs is allocated before the
//! fork; the child makes raw system calls only (no malloc, no locks, no
//! atfork handlers: a raw clone, not fork(3)); all signals are blocked in the
//! calling thread across the fork so no handler of the caller runs in the
//! child, and the thread's mask is restored right after.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

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
    let sync_target = 3 + fds.preserve_fds as RawFd;
    let argv_s = [CString::new("runc-init").unwrap(), CString::new(runc_init::SYNC_FD_ARG).unwrap(), CString::new(sync_target.to_string()).unwrap()];
    let argv: [*const libc::c_char; 4] = [argv_s[0].as_ptr(), argv_s[1].as_ptr(), argv_s[2].as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let sources = [fds.stdio[0], fds.stdio[1], fds.stdio[2], theirs.as_raw_fd()];
    let child = ChildArgs { exe, argv: &argv, envp: &envp, sources, preserve: fds.preserve_fds as RawFd };

    let (pid, in_cgroup) = with_signals_blocked(|| {
        // clone3 into the cgroup where asked; without clone3, or if the kernel
        // refuses the cgroup, a plain fork (the caller then joins it).
        let ns = if fds.new_pid_ns { libc::CLONE_NEWPID as u64 } else { 0 };
        let (r, in_cgroup) = match fds.cgroup.map(|d| fork_into_cgroup(d, ns)).filter(|r| *r >= 0) {
            Some(r) => (r, true),
            // SAFETY: a fork-like clone (no CLONE_VM, no atfork handlers).
            None => (unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong | ns, 0, 0, 0, 0) }, false),
        };
        if r == 0 {
            // The child only runs `child_main`: raw syscalls, never returns.
            child_main(&child);
        }
        (r, in_cgroup)
    });
    if pid < 0 {
        return Err(Error::sys("clone runc-init", std::io::Error::last_os_error()));
    }
    drop(theirs);
    Ok(Spawned { pid: pid as i32, sync: ours, in_cgroup })
}

/// clone_args of clone3 (the fields up to `cgroup`, Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// A fork (like clone(SIGCHLD)) whose child starts in cgroup `dir`, with
/// the extra namespace flags `ns`.
fn fork_into_cgroup(dir: RawFd, ns: u64) -> libc::c_long {
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let args = CloneArgs { flags: CLONE_INTO_CGROUP | ns, exit_signal: libc::SIGCHLD as u64, cgroup: dir as u64, ..Default::default() };
    // SAFETY: clone3 without CLONE_VM is a fork; args outlives the call. In
    // the child only `child_main` runs (see spawn).
    unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, std::mem::size_of::<CloneArgs>()) }
}

struct ChildArgs<'a> {
    exe: RawFd,
    argv: &'a [*const libc::c_char; 4],
    envp: &'a [*const libc::c_char; 1],
    /// stdin, stdout, stderr, sync socket
    sources: [RawFd; 4],
    preserve: RawFd,
}

/// In the child: move fds into place, close the rest, exec runc-init.
/// Only async-signal-safe raw syscalls; any failure exits with 127.
fn child_main(a: &ChildArgs) -> ! {
    let first_free = 3 + a.preserve + 1;
    // SAFETY: raw fcntl/dup3/close_range/execveat calls on integers and on
    // pointers prepared before the fork; nothing allocates or locks.
    unsafe {
        let mut tmp = [0; 4];
        for (i, src) in a.sources.iter().enumerate() {
            tmp[i] = libc::fcntl(*src, libc::F_DUPFD_CLOEXEC, first_free);
            if tmp[i] < 0 {
                libc::_exit(127);
            }
        }
        let targets = [0, 1, 2, 3 + a.preserve];
        for (t, dst) in tmp.iter().zip(targets) {
            if libc::dup3(*t, dst, 0) < 0 {
                libc::_exit(127);
            }
        }
        for fd in 3..3 + a.preserve {
            libc::fcntl(fd, libc::F_SETFD, 0);
        }
        // Keep only the exe (close-on-exec) above the fds the init gets.
        let exe = libc::fcntl(a.exe, libc::F_DUPFD_CLOEXEC, first_free);
        if exe < 0 {
            libc::_exit(127);
        }
        let close = |lo: RawFd, hi: libc::c_uint| libc::syscall(libc::SYS_close_range, lo as libc::c_uint, hi, 0 as libc::c_uint);
        if exe > first_free {
            close(first_free, (exe - 1) as libc::c_uint);
        }
        close(exe + 1, libc::c_uint::MAX);
        let empty = c"".as_ptr();
        libc::syscall(libc::SYS_execveat, exe, empty, a.argv.as_ptr(), a.envp.as_ptr(), libc::AT_EMPTY_PATH);
        libc::_exit(127);
    }
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
