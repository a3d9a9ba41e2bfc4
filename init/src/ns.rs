//! Stage one: join and create namespaces, then fork the container's PID 1
//! when a PID or time namespace needs it.

use crate::sys::{self, check, R};
use runc_init::{chan, msg, Plan};
use std::os::fd::{AsRawFd, RawFd};

/// Enters every namespace the config names by path, in the order given
/// (the library puts the user namespace first). All are opened first: once
/// in the container's mount namespace, host paths no longer resolve.
pub fn join(plan: &Plan) -> R<()> {
    let fds = plan.ns_join.iter().map(|(_, p)| sys::open(p, libc::O_RDONLY, 0)).collect::<R<Vec<_>>>()?;
    for ((flag, path), fd) in plan.ns_join.iter().zip(fds) {
        // SAFETY: setns on an fd we own with a CLONE_NEW* type.
        let r = unsafe { libc::setns(fd.as_raw_fd(), *flag as i32) };
        check(r as i64, || format!("join namespace {path}"))?;
    }
    Ok(())
}

/// Creates the new namespaces; a new user namespace first, so the others are
/// owned by it, with the library writing its id maps.
pub fn create(plan: &Plan, sync: RawFd) -> R<()> {
    let new = plan.ns_new as i32;
    if new & libc::CLONE_NEWUSER != 0 {
        unshare(libc::CLONE_NEWUSER)?;
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() } as u32;
        chan::send(sync, msg::NEED_IDMAP, &pid.to_le_bytes(), &[]).map_err(|e| format!("sync: {e}"))?;
        crate::expect(sync, msg::ACK)?;
        become_root();
    }
    let rest = new & !libc::CLONE_NEWUSER;
    if rest != 0 {
        unshare(rest)?;
    }
    if new & libc::CLONE_NEWTIME != 0 {
        let offsets: String =
            plan.time_offsets.iter().map(|(clock, s, ns)| format!("{clock} {s} {ns}\n")).collect();
        if !offsets.is_empty() {
            sys::write_file("/proc/self/timens_offsets", &offsets)?;
        }
    }
    Ok(())
}

fn unshare(flags: i32) -> R<()> {
    // SAFETY: unshare with namespace flags only; the init is single-threaded.
    let r = unsafe { libc::unshare(flags) };
    check(r as i64, || format!("unshare namespaces {flags:#x}")).map(drop)
}

/// Switches to uid/gid 0 of a fresh user namespace when 0 is mapped; when it
/// is not, the ids stay and the final switch to the config's user decides.
fn become_root() {
    // SAFETY: plain id changes; failure (EINVAL for an unmapped id) is acceptable here.
    unsafe {
        libc::setresgid(0, 0, 0);
        libc::setresuid(0, 0, 0);
    }
}

/// A new or joined PID (or time) namespace only applies to children.
pub fn needs_fork(plan: &Plan) -> bool {
    let joined = plan.ns_join.iter().fold(0u64, |a, (f, _)| a | f);
    (plan.ns_new | joined) & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) as u64 != 0
}

/// Forks a sibling: the new process is a child of our parent (the library's
/// caller), so the caller can wait for it and we can simply exit.
pub fn fork_sibling() -> R<i32> {
    // SAFETY: a fork-like clone (no CLONE_VM) of a single-threaded process;
    // both sides continue with their own copy of memory.
    let r = unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong, 0, 0, 0, 0) };
    check(r, || "clone container init".into()).map(|p| p as i32)
}
