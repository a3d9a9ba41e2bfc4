//! The embedded init program and the sealed file it runs from. A container
//! can never write to it (CVE-2019-5736). Three ways, the same guarantee:
//!
//! - `Seal::Shared`: the init is cached once on disk (`/run/librunc/<hash>/`)
//!   and, where the filesystem keeps the flag (tmpfs since Linux 6.0),
//!   marked immutable: nobody can open it for writing, root included, until
//!   someone with CAP_LINUX_IMMUTABLE in the initial user namespace clears
//!   the flag. Costs an open and an ioctl. Each spawn checks the flag again
//!   on the fd it keeps (another library version clears it before removing
//!   this version's copy); a copy without it is not used.
//! - Where the flag is refused, the cache is opened through a private,
//!   detached overlayfs mount with two lower layers and no upper one. Such a
//!   mount is read-only at the superblock and cannot be remounted writable.
//!   Costs a mount per process, and an expedited RCU grace period when it goes.
//! - `Seal::Copy`: a memfd copy sealed against writes and resizing. Used when
//!   neither serves (not root, untrusted or read-only /run) and for
//!   containers that may hold CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE or
//!   CAP_LINUX_IMMUTABLE in the initial user namespace: such a process could
//!   clear the flag, and on kernels before 6.6 /proc/PID/map_files of an
//!   overlay mapping leads to the lower file, which it could open for writing.
//!
//! `LIBRUNC_INIT_SEAL=copy` forces the memfd, `=immutable` or `=overlay` one
//! way of the cache, `=shared` the cache either way (each failing when it
//! cannot be had). Each kind is made once per process; its one fd is kept
//! for the process's lifetime.

use crate::error::{Context, Error, Result};
use crate::spec::types::{Process, Spec};
use once_cell::sync::OnceCell;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

static INIT_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runc-init"));
const INIT_HASH: &str = env!("RUNC_INIT_HASH");
const CACHE: &str = "/run/librunc";
const NAME: &str = "runc-init";

static IMMUTABLE: OnceCell<std::result::Result<OwnedFd, String>> = OnceCell::new();
static OVERLAY: OnceCell<std::result::Result<OwnedFd, String>> = OnceCell::new();
static COPY: OnceCell<OwnedFd> = OnceCell::new();
/// FS_IMMUTABLE_FL (linux/fs.h; not in the libc crate).
const FS_IMMUTABLE_FL: libc::c_int = 0x10;
/// The overlay's mount fd, parked until [`release_mount`]: closing it
/// unmounts the detached overlay, and an unmount waits for an expedited RCU
/// grace period (0.1-0.5 ms here), so the caller closes it while the init
/// works rather than before spawning it. The runc-init fd stays valid.
static MOUNT: std::sync::Mutex<Option<OwnedFd>> = std::sync::Mutex::new(None);

/// How the init of one container (or exec) must be sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seal {
    Shared,
    Copy,
}

impl Seal {
    /// `Copy` when a process of the container may hold CAP_SYS_ADMIN,
    /// CAP_CHECKPOINT_RESTORE or CAP_LINUX_IMMUTABLE in the initial user
    /// namespace (no user namespace and one in a bounding set); `Shared`
    /// otherwise.
    pub fn for_container(spec: &Spec, extra: Option<&Process>) -> Seal {
        let linux = spec.linux.as_ref();
        if linux.is_some_and(|l| l.namespaces.iter().any(|n| n.kind == "user")) {
            return Seal::Shared;
        }
        const STRONG: [&str; 3] = ["CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE", "CAP_LINUX_IMMUTABLE"];
        let strong = |p: Option<&Process>| {
            p.and_then(|p| p.capabilities.as_ref()).and_then(|c| c.bounding.as_ref()).is_some_and(|b| b.iter().any(|c| STRONG.contains(&c.as_str())))
        };
        if strong(spec.process.as_ref()) || strong(extra) {
            Seal::Copy
        } else {
            Seal::Shared
        }
    }
}

/// The fd runc-init is exec'd from (made on first use, then shared).
pub fn fd(seal: Seal) -> Result<RawFd> {
    let forced = std::env::var("LIBRUNC_INIT_SEAL").ok();
    match (forced.as_deref(), seal) {
        (Some("copy"), _) | (None | Some(""), Seal::Copy) => copy(),
        (Some("shared"), _) => asked("shared", shared()),
        (Some("immutable"), _) => asked("immutable", immutable()),
        (Some("overlay"), _) => asked("overlay", overlay()),
        (None | Some(""), Seal::Shared) => shared().or_else(|_| copy()),
        (Some(other), _) => Err(Error::new(crate::ErrorKind::InvalidArgument, format!("LIBRUNC_INIT_SEAL={other}: want copy, shared, immutable or overlay"))),
    }
}

/// A way of the cache that LIBRUNC_INIT_SEAL asked for: no fallback.
fn asked(name: &str, r: std::result::Result<RawFd, String>) -> Result<RawFd> {
    r.map_err(|e| Error::new(crate::ErrorKind::Init, format!("LIBRUNC_INIT_SEAL={name}: {e}")))
}

/// Closes the overlay's mount fd, if still open (see [`MOUNT`]).
pub fn release_mount() {
    drop(MOUNT.lock().unwrap_or_else(|e| e.into_inner()).take());
}

fn copy() -> Result<RawFd> {
    COPY.get_or_try_init(seal_memfd).map(|f| f.as_raw_fd())
}

/// The cache, immutable where the flag serves, else through the overlay.
fn shared() -> std::result::Result<RawFd, String> {
    immutable().or_else(|e| overlay().map_err(|o| format!("{e}; {o}")))
}

/// The immutable cache, if its flag is still set (checked on every use).
fn immutable() -> std::result::Result<RawFd, String> {
    let fd = opened(&IMMUTABLE, immutable_open)?;
    match get_flags(fd) {
        Ok(f) if f & FS_IMMUTABLE_FL != 0 => Ok(fd),
        _ => Err(format!("/run/librunc: the cached {NAME} is no longer immutable")),
    }
}

fn overlay() -> std::result::Result<RawFd, String> {
    opened(&OVERLAY, overlay_open)
}

/// The cache opened one way, once per process.
fn opened(cell: &OnceCell<std::result::Result<OwnedFd, String>>, open: fn(&Path) -> std::result::Result<OwnedFd, String>) -> std::result::Result<RawFd, String> {
    match cell.get_or_init(|| cached_dir().and_then(|dir| open(&dir))) {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(e.clone()),
    }
}

fn seal_memfd() -> Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag as F};
    // MFD_EXEC (0x10) is needed where vm.memfd_noexec is set; older kernels reject it.
    let fd = memfd_create(c"runc-init", F::MFD_CLOEXEC | F::MFD_ALLOW_SEALING | F::from_bits_retain(0x10))
        .or_else(|_| memfd_create(c"runc-init", F::MFD_CLOEXEC | F::MFD_ALLOW_SEALING))
        .context(|| "memfd_create for runc-init".into())?;
    let mut f = std::fs::File::from(fd);
    f.write_all(INIT_ELF).context(|| "write runc-init to memfd".into())?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on an fd we own, with integer arguments.
    if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(Error::sys("seal runc-init memfd", std::io::Error::last_os_error()));
    }
    Ok(f.into())
}

/// `/run/librunc/<hash>` holding exactly runc-init, written once (atomically,
/// by renaming a finished directory into place) and trusted only if the
/// directories are root's and closed to others.
fn cached_dir() -> std::result::Result<PathBuf, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let base = Path::new(CACHE);
    private_dir(base)?;
    private_dir(&base.join("empty"))?;
    let dir = base.join(INIT_HASH);
    if cached_ok(&dir) {
        return Ok(dir);
    }
    let tmp = base.join(format!(".tmp-{}-{}", std::process::id(), INIT_HASH));
    let _ = std::fs::remove_dir_all(&tmp);
    let made = write_cache(&tmp).and_then(|_| std::fs::rename(&tmp, &dir).map_err(|e| format!("rename {}: {e}", tmp.display())));
    let _ = std::fs::remove_dir_all(&tmp);
    match made {
        Ok(()) => {
            remove_other_versions(base);
            Ok(dir)
        }
        // Another process may have won the race.
        Err(_) if cached_ok(&dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

/// Drops the caches of other library versions (one directory each). A
/// process still running one keeps its open fd, which stays valid.
fn remove_other_versions(base: &Path) {
    for e in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_version = name.split_once('-').is_some_and(|(h, n)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()) && n.bytes().all(|b| b.is_ascii_digit()));
        if is_version && name != INIT_HASH {
            // Its users see the flag gone and stop using their fd.
            flag(&e.path().join(NAME), false);
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn private_dir(p: &Path) -> std::result::Result<(), String> {
    match std::fs::DirBuilder::new().mode(0o700).create(p) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("create {}: {e}", p.display())),
    }
    let m = std::fs::symlink_metadata(p).map_err(|e| format!("stat {}: {e}", p.display()))?;
    if !m.is_dir() || m.uid() != 0 || m.mode() & 0o022 != 0 {
        return Err(format!("{} is not a root-only directory", p.display()));
    }
    Ok(())
}

fn cached_ok(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(NAME))
        .is_ok_and(|m| m.is_file() && m.uid() == 0 && m.len() == INIT_ELF.len() as u64 && m.mode() & 0o022 == 0)
}

fn write_cache(tmp: &Path) -> std::result::Result<(), String> {
    std::fs::DirBuilder::new().mode(0o700).create(tmp).map_err(|e| format!("create {}: {e}", tmp.display()))?;
    let path = tmp.join(NAME);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o500).open(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
    f.write_all(INIT_ELF).and_then(|_| f.sync_all()).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Opens `dir/runc-init` and makes it immutable if it is not yet (a cache
/// written before, or by a library that did not set the flag).
fn immutable_open(dir: &Path) -> std::result::Result<OwnedFd, String> {
    let path = dir.join(NAME);
    let f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let flags = get_flags(f.as_raw_fd()).map_err(|e| format!("{}: read inode flags: {e}", path.display()))?;
    if flags & FS_IMMUTABLE_FL == 0 {
        set_flags(f.as_raw_fd(), flags | FS_IMMUTABLE_FL).map_err(|e| format!("{}: make immutable: {e}", path.display()))?;
    }
    Ok(f.into())
}

/// Sets or clears the immutable flag of `path`, if it can.
fn flag(path: &Path, on: bool) {
    if let Ok(f) = std::fs::File::open(path) {
        let fd = f.as_raw_fd();
        let _ = get_flags(fd).and_then(|v| set_flags(fd, if on { v | FS_IMMUTABLE_FL } else { v & !FS_IMMUTABLE_FL }));
    }
}

fn get_flags(fd: RawFd) -> std::io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int to a valid pointer.
    if unsafe { libc::ioctl(fd, libc::FS_IOC_GETFLAGS, &mut v) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(v)
}

fn set_flags(fd: RawFd, v: libc::c_int) -> std::io::Result<()> {
    // SAFETY: FS_IOC_SETFLAGS reads one int from a valid pointer.
    if unsafe { libc::ioctl(fd, libc::FS_IOC_SETFLAGS, &v) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Opens `dir/runc-init` through a new detached, read-only overlayfs mount.
fn overlay_open(dir: &Path) -> std::result::Result<OwnedFd, String> {
    let ctx = fsopen("overlay")?;
    // Two lower layers and no upper one: overlayfs makes such a mount read-only.
    let lower = format!("{}:{}/empty", dir.display(), CACHE);
    fsconfig_str(&ctx, "lowerdir", &lower)?;
    let _ = fsconfig_str(&ctx, "xino", "off");
    fsconfig_create(&ctx)?;
    let mnt = fsmount(&ctx, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV)?;
    let name = CString::new(NAME).unwrap();
    // SAFETY: openat on a mount fd we own with a valid C string.
    let fd = unsafe { libc::openat(mnt.as_raw_fd(), name.as_ptr(), libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW) };
    if fd < 0 {
        return Err(format!("open {NAME} in the overlay of {}: {}", dir.display(), std::io::Error::last_os_error()));
    }
    *MOUNT.lock().unwrap_or_else(|e| e.into_inner()) = Some(mnt);
    // SAFETY: fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fsopen(fs: &str) -> std::result::Result<OwnedFd, String> {
    let name = CString::new(fs).unwrap();
    // SAFETY: fsopen with a valid C string; returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), libc::FSOPEN_CLOEXEC) };
    if fd < 0 {
        return Err(format!("fsopen {fs}: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn fsconfig_str(ctx: &OwnedFd, key: &str, value: &str) -> std::result::Result<(), String> {
    let (k, v) = (CString::new(key).unwrap(), CString::new(value).map_err(|_| format!("{key}: NUL in {value:?}"))?);
    // SAFETY: fsconfig on our context fd with valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), libc::FSCONFIG_SET_STRING, k.as_ptr(), v.as_ptr(), 0) };
    if r < 0 {
        return Err(format!("overlayfs {key}={value}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

fn fsconfig_create(ctx: &OwnedFd) -> std::result::Result<(), String> {
    // SAFETY: fsconfig CMD_CREATE takes no pointers.
    let r = unsafe { libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), libc::FSCONFIG_CMD_CREATE, 0usize, 0usize, 0) };
    if r < 0 {
        return Err(format!("create overlayfs: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

fn fsmount(ctx: &OwnedFd, attrs: u64) -> std::result::Result<OwnedFd, String> {
    // SAFETY: fsmount on our context fd with integer flags.
    let fd = unsafe { libc::syscall(libc::SYS_fsmount, ctx.as_raw_fd(), libc::FSMOUNT_CLOEXEC, attrs) };
    if fd < 0 {
        return Err(format!("fsmount overlayfs: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Restores the immutable flag of the real cache, also on a failure.
    struct Reflag(PathBuf);
    impl Drop for Reflag {
        fn drop(&mut self) {
            flag(&self.0, true);
        }
    }

    fn immutable_flag(p: &Path) -> bool {
        let f = std::fs::File::open(p).unwrap();
        get_flags(f.as_raw_fd()).unwrap() & FS_IMMUTABLE_FL != 0
    }

    #[test]
    fn a_cache_that_lost_its_flag_is_not_used() {
        let Ok(fd) = immutable() else {
            eprintln!("no immutable cache here (not root, or no flag on /run)");
            return;
        };
        let path = cached_dir().unwrap().join(NAME);
        assert!(immutable_flag(&path));
        assert!(std::fs::OpenOptions::new().write(true).open(&path).is_err(), "root opened it for writing");
        let _restore = Reflag(path.clone());
        flag(&path, false);
        assert!(!immutable_flag(&path));
        let e = immutable().unwrap_err();
        assert!(e.contains("no longer immutable"), "{e}");
        let other = shared().or_else(|_| copy().map_err(|e| e.to_string())).unwrap();
        assert_ne!(other, fd, "the flagless fd was used again");
    }

    #[test]
    fn other_versions_lose_their_flag_and_go() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let base = PathBuf::from(format!("/run/librunc-test-{}", std::process::id()));
        let old = base.join("0123456789abcdef-42");
        std::fs::create_dir_all(&old).unwrap();
        let file = old.join(NAME);
        std::fs::write(&file, b"old init").unwrap();
        struct Gone(PathBuf, PathBuf);
        impl Drop for Gone {
            fn drop(&mut self) {
                flag(&self.1, false);
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let _gone = Gone(base.clone(), file.clone());
        flag(&file, true);
        if !immutable_flag(&file) {
            eprintln!("this filesystem keeps no immutable flag");
            return;
        }
        assert!(std::fs::remove_file(&file).is_err(), "immutable file removed");
        std::fs::create_dir_all(base.join("keep-me")).unwrap();
        remove_other_versions(&base);
        assert!(!old.exists(), "old version kept");
        assert!(base.join("keep-me").exists(), "a non-version dir removed");
    }
}
