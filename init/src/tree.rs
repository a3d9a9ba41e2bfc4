//! Bind mounts fd to fd with the new mount API (open_tree, mount_setattr,
//! move_mount, Linux 5.12): no /proc/self/fd path for the kernel to resolve,
//! no second remount call, and the flags are on the copy before it is
//! attached, so nothing ever sees it writable. Older kernels get mount(2)
//! through /proc/self/fd and a remount, as before.

use crate::sys::{self, errno, fd_path, R};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a call returned ENOSYS: use mount(2) from then on.
static LEGACY: AtomicBool = AtomicBool::new(false);

const OPEN_TREE_CLONE: u32 = 1;
const AT_EMPTY_PATH: u32 = libc::AT_EMPTY_PATH as u32;
const AT_RECURSIVE: u32 = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
const MOUNT_ATTR_RDONLY: u64 = 0x01;
const MOUNT_ATTR_NOSUID: u64 = 0x02;
const MOUNT_ATTR_NODEV: u64 = 0x04;
const MOUNT_ATTR_NOEXEC: u64 = 0x08;
const MOUNT_ATTR_ATIME: u64 = 0x70;
const MOUNT_ATTR_NOATIME: u64 = 0x10;
const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
const MOUNT_ATTR_NODIRATIME: u64 = 0x80;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Per-mount MS_* flags of a bind remount as mount_setattr's (set, clear):
/// like MS_REMOUNT, a bind without MS_RDONLY becomes writable; unlike it,
/// flags not named (nosuid etc. of the source) are simply kept.
fn attrs(ms: u64) -> (u64, u64) {
    let map = [
        (libc::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (libc::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
        (libc::MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
    ];
    let mut set = map.iter().filter(|(m, _)| ms & m != 0).fold(0, |a, (_, at)| a | at);
    let mut clr = if ms & libc::MS_RDONLY == 0 { MOUNT_ATTR_RDONLY } else { 0 };
    let atime = [(libc::MS_NOATIME, MOUNT_ATTR_NOATIME), (libc::MS_STRICTATIME, MOUNT_ATTR_STRICTATIME), (libc::MS_RELATIME, 0)];
    if let Some((_, a)) = atime.iter().find(|(m, _)| ms & m != 0) {
        set |= a;
        clr |= MOUNT_ATTR_ATIME;
    }
    (set, clr)
}

/// Binds `src` onto `target`, recursively with `rec`, then applies the
/// per-mount flags in `ms` (0: none). `reopen` resolves the target path
/// again (for the legacy remount, which must reach the new mount on top).
pub fn bind(src: RawFd, target: RawFd, rec: bool, ms: u64, what: &str, reopen: &dyn Fn() -> R<OwnedFd>) -> R<()> {
    if new_api(what, || clone_attach(src, target, rec, ms))?.is_some() {
        return Ok(());
    }
    let flags = libc::MS_BIND | if rec { libc::MS_REC } else { 0 };
    sys::mount(Some(&fd_path(src)), &fd_path(target), None, flags, None, what)?;
    if ms != 0 {
        let t = reopen()?;
        let f = libc::MS_REMOUNT | libc::MS_BIND | (ms & REMOUNT_MASK) | kept_flags(t.as_raw_fd());
        sys::mount(None, &fd_path(t.as_raw_fd()), None, f, None, &format!("remount {what}"))?;
    }
    Ok(())
}

/// Clones `src_dir`/`src` (not recursive) as a detached mount with the
/// flags in `ms`, resolved by name in the kernel: for trees only the runtime
/// has touched (a cgroup directory it made), where an O_PATH open and close
/// per bind are pure cost. Ok(None): this kernel lacks the new mount API;
/// the caller binds by fd instead.
pub fn clone_named(src_dir: RawFd, src: &str, ms: u64, what: &str) -> R<Option<OwnedFd>> {
    let s = sys::cstr(src)?;
    new_api(what, || clone_tree((src_dir, &s, 0), false, ms))
}

/// Attaches a tree from [`clone_named`] at the entry `name` of `dir`; a
/// symlink there is not followed.
pub fn attach_named(tree: &OwnedFd, dir: RawFd, name: &str, what: &str) -> R<()> {
    let n = sys::cstr(name)?;
    attach(tree, (dir, &n, 0)).map_err(|(call, e)| format!("{call} {what}: {}", sys::errno_text(e)))
}

/// Runs `attach` unless the kernel already refused the new mount API:
/// Some: done, None: the caller uses mount(2) (set for good on ENOSYS).
fn new_api<T>(what: &str, attach: impl FnOnce() -> Result<T, (&'static str, i32)>) -> R<Option<T>> {
    if LEGACY.load(Ordering::Relaxed) {
        return Ok(None);
    }
    match attach() {
        Ok(t) => Ok(Some(t)),
        Err((_, libc::ENOSYS)) => {
            LEGACY.store(true, Ordering::Relaxed);
            Ok(None)
        }
        Err((call, e)) => Err(format!("{call} {what}: {}", sys::errno_text(e))),
    }
}

/// open_tree(OPEN_TREE_CLONE) + mount_setattr + move_mount, fd to fd; the
/// failing call and errno on error.
fn clone_attach(src: RawFd, target: RawFd, rec: bool, ms: u64) -> Result<(), (&'static str, i32)> {
    attach(&clone_tree((src, c"", AT_EMPTY_PATH), rec, ms)?, (target, c"", MOVE_MOUNT_T_EMPTY_PATH))
}

/// open_tree(OPEN_TREE_CLONE) of (dir fd, path, flag for an empty path),
/// then mount_setattr with the flags in `ms` (0: none).
fn clone_tree(src: (RawFd, &CStr, u32), rec: bool, ms: u64) -> Result<OwnedFd, (&'static str, i32)> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32 | src.2 | if rec { AT_RECURSIVE } else { 0 };
    // SAFETY: a valid C string and an fd; the kernel returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, src.0, src.1.as_ptr(), flags) };
    if fd < 0 {
        return Err(("bind", errno()));
    }
    // SAFETY: a new fd we own.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    if ms != 0 {
        let (attr_set, attr_clr) = attrs(ms);
        let a = MountAttr { attr_set, attr_clr, propagation: 0, userns_fd: 0 };
        // Top mount only (no AT_RECURSIVE), as a bind remount does.
        // SAFETY: a valid attr struct of the size passed, an fd we own.
        let r = unsafe { libc::syscall(libc::SYS_mount_setattr, tree.as_raw_fd(), c"".as_ptr(), AT_EMPTY_PATH, &a, std::mem::size_of::<MountAttr>()) };
        if r < 0 {
            return Err(("set flags of", errno()));
        }
    }
    Ok(tree)
}

/// move_mount of a detached tree to (dir fd, path, flag for an empty path).
fn attach(tree: &OwnedFd, to: (RawFd, &CStr, u32)) -> Result<(), (&'static str, i32)> {
    // No MOVE_MOUNT_T_SYMLINKS: a symlink at the target is not followed.
    let mflags = MOVE_MOUNT_F_EMPTY_PATH | to.2;
    // SAFETY: two fds and valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_move_mount, tree.as_raw_fd(), c"".as_ptr(), to.0, to.1.as_ptr(), mflags) };
    if r < 0 {
        return Err(("attach", errno()));
    }
    Ok(())
}

pub const REMOUNT_MASK: u64 = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_NOATIME
    | libc::MS_NODIRATIME | libc::MS_RELATIME | libc::MS_STRICTATIME;

/// Flags of an existing mount that a remount must repeat (locked in user namespaces).
pub fn kept_flags(fd: RawFd) -> u64 {
    // SAFETY: sv is plain data filled by the kernel.
    let mut sv: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: sv is a valid out-pointer and fd an open fd.
    if unsafe { libc::fstatvfs(fd, &mut sv) } != 0 {
        return 0;
    }
    let map = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (ST_RELATIME, libc::MS_RELATIME),
    ];
    map.iter().filter(|(st, _)| sv.f_flag & st != 0).fold(0, |a, (_, ms)| a | ms)
}

/// statvfs's relatime bit (musl's libc crate lacks the constant).
const ST_RELATIME: libc::c_ulong = 0x1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remount_flags_map_to_attrs() {
        assert_eq!(attrs(libc::MS_RDONLY | libc::MS_NOSUID), (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0));
        assert_eq!(attrs(libc::MS_NODEV), (MOUNT_ATTR_NODEV, MOUNT_ATTR_RDONLY));
        assert_eq!(attrs(libc::MS_RDONLY | libc::MS_NOATIME), (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME, MOUNT_ATTR_ATIME));
        assert_eq!(attrs(libc::MS_RELATIME | libc::MS_RDONLY), (MOUNT_ATTR_RDONLY, MOUNT_ATTR_ATIME));
    }
}
