//! The container's root filesystem: mounts, device nodes, masked and read-only
//! paths, pivot_root. Every path inside the rootfs is resolved with openat2
//! RESOLVE_IN_ROOT and mounted onto through /proc/self/fd/N of the resolved fd,
//! so a symlink in the rootfs can never point a mount at the host.

use crate::sys::{self, check, cstr, errno, fd_path, R};
use crate::tree;
use runc_init::{CgroupBind, Device, MountOp, Plan};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const MS_BIND: u64 = libc::MS_BIND;
const LATE_PROPAGATION: u64 = libc::MS_SHARED | libc::MS_UNBINDABLE;
const MS_REC: u64 = libc::MS_REC;

/// The rootfs, bind-mounted onto itself, held open.
pub struct Root {
    pub fd: OwnedFd,
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// openat2 inside `dir` treated as "/"; returns the errno on failure.
fn openat2(dir: RawFd, path: &str, flags: i32) -> Result<OwnedFd, i32> {
    let c = cstr(path).map_err(|_| libc::EINVAL)?;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: 0, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    // SAFETY: how and c are valid for the duration of the syscall.
    let fd = unsafe { libc::syscall(libc::SYS_openat2, dir, c.as_ptr(), &how, std::mem::size_of::<OpenHow>()) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: fd was just returned by openat2 and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

impl Root {
    /// An O_PATH fd for `path` inside the rootfs, or the errno.
    fn lookup(&self, path: &str) -> Result<OwnedFd, i32> {
        openat2(self.fd.as_raw_fd(), path, libc::O_PATH)
    }

    fn resolve(&self, path: &str) -> R<OwnedFd> {
        self.lookup(path).map_err(|e| format!("resolve {path} in rootfs: {}", sys::errno_text(e)))
    }

    /// Resolves `path`, creating missing directories (and the last component
    /// as a file when `file`) inside the rootfs.
    pub fn mkdir_all(&self, path: &str, file: bool) -> R<OwnedFd> {
        self.mkdir_all_depth(path, file, 0)
    }

    fn mkdir_all_depth(&self, path: &str, file: bool, depth: u32) -> R<OwnedFd> {
        if depth > 40 {
            return Err(format!("create {path} in rootfs: too many levels of symbolic links"));
        }
        match self.lookup(path) {
            Ok(fd) => return Ok(fd),
            Err(libc::ENOENT) => {}
            Err(e) => return Err(format!("resolve {path} in rootfs: {}", sys::errno_text(e))),
        }
        let trimmed = path.trim_end_matches('/');
        let (parent, name) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if name.is_empty() || name == ".." || name == "." {
            return Err(format!("create {path} in rootfs: invalid path"));
        }
        let parent = if parent.is_empty() { "/" } else { parent };
        let dir = self.mkdir_all_depth(parent, false, depth + 1)?;
        let n = cstr(name)?;
        // SAFETY: dir is an O_PATH directory fd and n a valid C string; O_NOFOLLOW|O_EXCL
        // never follow a symlink planted at the last component.
        let r = unsafe {
            if file {
                let fd = libc::openat(dir.as_raw_fd(), n.as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_WRONLY, 0o644);
                if fd >= 0 {
                    libc::close(fd);
                }
                fd
            } else {
                libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), 0o755)
            }
        };
        if r < 0 && errno() != libc::EEXIST {
            return Err(format!("create {path} in rootfs: {}", sys::errno_text(errno())));
        }
        match self.lookup(path) {
            // A dangling symlink: create its target, taken as a path inside the rootfs.
            Err(libc::ENOENT) => {
                let target = read_link_at(dir.as_raw_fd(), name).ok_or_else(|| format!("resolve {path} in rootfs: no such file or directory"))?;
                let inside = if target.starts_with('/') { target } else { format!("{parent}/{target}") };
                self.mkdir_all_depth(&inside, file, depth + 1)?;
                self.lookup(path).map_err(|e| format!("resolve {path} in rootfs: {}", sys::errno_text(e)))
            }
            r => r.map_err(|e| format!("resolve {path} in rootfs: {}", sys::errno_text(e))),
        }
    }
}

/// A real (not O_PATH) directory fd for `name` under `dir`, never following a symlink.
fn open_dir_at(dir: RawFd, name: &str) -> R<OwnedFd> {
    let n = cstr(name)?;
    // SAFETY: openat with a valid C string; O_NOFOLLOW|O_DIRECTORY refuse symlinks and files.
    let fd = unsafe { libc::openat(dir, n.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    check(fd as i64, || format!("open directory {name}"))?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The target of symlink `name` in directory `dir`, if it is one.
fn read_link_at(dir: RawFd, name: &str) -> Option<String> {
    let n = cstr(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: readlinkat into our buffer of the given length.
    let len = unsafe { libc::readlinkat(dir, n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if len <= 0 {
        return None;
    }
    buf.truncate(len as usize);
    String::from_utf8(buf).ok()
}

/// Makes "/" private/slave as asked and turns the rootfs into a mount point.
pub fn prepare(plan: &Plan) -> R<Root> {
    // pivot_root refuses shared mounts and an unbindable rootfs cannot be
    // bound: those propagations are applied after pivot (in enter); until
    // then nothing may propagate to the host.
    let before = if plan.root_propagation & LATE_PROPAGATION != 0 { libc::MS_SLAVE | MS_REC } else { plan.root_propagation };
    sys::mount(None, "/", None, before, None, "propagation of /")?;
    sys::mount(Some(&plan.rootfs), &plan.rootfs, None, MS_BIND | MS_REC, None, &format!("rootfs {}", plan.rootfs))?;
    let fd = sys::open(&plan.rootfs, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    Ok(Root { fd })
}

/// Binds host path `src` onto `target` (the resolved `dest`), then applies
/// the per-mount flags in `ms`.
fn bind(root: &Root, src: &str, target: &OwnedFd, rec: bool, ms: u64, dest: &str) -> R<()> {
    let s = sys::open(src, libc::O_PATH, 0)?;
    tree::bind(s.as_raw_fd(), target.as_raw_fd(), rec, ms, &format!("{src} on {dest}"), &|| root.resolve(dest))
}

fn is_dir(path: &str) -> R<bool> {
    let fd = sys::open(path, libc::O_PATH, 0).map_err(|e| format!("mount source: {e}"))?;
    Ok(sys::fstat(fd.as_raw_fd())?.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// Performs one config mount inside the rootfs; `trees`: from
/// [`clone_cgroups`] for this mount.
pub fn mount_one(root: &Root, m: &MountOp, trees: Vec<OwnedFd>) -> R<()> {
    if !m.cgroup.is_empty() {
        return mount_cgroup(root, m, trees);
    }
    let bind_mount = m.flags & MS_BIND != 0;
    let dir = if bind_mount { is_dir(&m.source)? } else { true };
    let target = root.mkdir_all(&m.dest, !dir)?;
    if bind_mount {
        let ms = if m.bind_remount { m.flags } else { 0 };
        bind(root, &m.source, &target, m.flags & MS_REC != 0, ms, &m.dest)?;
    } else {
        let what = format!("{} on {} (type {})", m.source, m.dest, m.fstype);
        let src = if m.source.is_empty() { &m.fstype } else { &m.source };
        // The image's directory, still reachable through this fd once covered.
        let below = if m.copy_up { Some(open_dir_at(target.as_raw_fd(), ".")?) } else { None };
        sys::mount(Some(src), &fd_path(target.as_raw_fd()), Some(&m.fstype), m.flags, Some(&m.data), &what)?;
        if let Some(below) = below {
            let top = root.resolve(&m.dest)?;
            let top = open_dir_at(top.as_raw_fd(), ".")?;
            crate::copyup::copy_tree(below.as_raw_fd(), top.as_raw_fd()).map_err(|e| format!("tmpcopyup {}: {e}", m.dest))?;
        }
    }
    for p in &m.propagation {
        let t = root.resolve(&m.dest)?;
        sys::mount(None, &fd_path(t.as_raw_fd()), None, *p, None, &format!("propagation of {}", m.dest))?;
    }
    Ok(())
}

/// The host's hierarchies that a v1 `cgroup` mount shows.
const HOST: &str = "/sys/fs/cgroup/";

/// What every part of a `cgroup` mount gets: its tmpfs and its binds.
const CGROUP_BASE: u64 = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// Per-mount flags of the binds in a `cgroup` mount.
fn cgroup_flags(m: &MountOp) -> u64 {
    (m.flags & tree::REMOUNT_MASK) | CGROUP_BASE
}

/// A cgroup2 view: one bind of the container's cgroup, no tmpfs.
fn is_unified_view(m: &MountOp) -> bool {
    matches!(m.cgroup.as_slice(), [CgroupBind { name, .. }] if name.is_empty())
}

/// The container's directory in each host hierarchy of a v1 `cgroup`
/// mount, cloned with its flags ahead of the mount loop: this needs no
/// network namespace, so it runs while a new one may still be in the making
/// (ns::NetNs). Empty: mount_cgroup binds each itself (not a v1 view, a
/// hierarchy outside /sys/fs/cgroup, or no new mount API).
pub fn clone_cgroups(m: &MountOp) -> R<Vec<OwnedFd>> {
    if m.cgroup.is_empty() || is_unified_view(m) {
        return Ok(Vec::new());
    }
    let host = sys::open(HOST, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    let mut trees = Vec::with_capacity(m.cgroup.len());
    for b in &m.cgroup {
        let Some(rel) = b.host_dir.strip_prefix(HOST) else { return Ok(Vec::new()) };
        let what = format!("{}/{}", m.dest.trim_end_matches('/'), b.name);
        match tree::clone_named(host.as_raw_fd(), rel, cgroup_flags(m), &what)? {
            Some(t) => trees.push(t),
            None => return Ok(Vec::new()),
        }
    }
    Ok(trees)
}

/// A `cgroup` mount, as runc shows it: cgroup2 is a bind of the container's
/// cgroup; v1 is a tmpfs holding a bind of the container's directory in
/// each hierarchy (a bind needs no superblock lookup and no cgroup_mutex,
/// which every cgroup mkdir and attach on the host also takes). `trees`:
/// those binds, cloned already (clone_cgroups), or empty.
fn mount_cgroup(root: &Root, m: &MountOp, trees: Vec<OwnedFd>) -> R<()> {
    let target = root.mkdir_all(&m.dest, false)?;
    let flags = cgroup_flags(m);
    if is_unified_view(m) {
        return bind(root, &m.cgroup[0].host_dir, &target, true, flags, &m.dest);
    }
    sys::mount(Some("tmpfs"), &fd_path(target.as_raw_fd()), Some("tmpfs"), CGROUP_BASE, Some("mode=755"), &format!("tmpfs on {}", m.dest))?;
    // The tmpfs is new and nothing runs in the container yet: plain *at()
    // calls below its root cannot meet a planted symlink.
    let dir = root.resolve(&m.dest)?;
    let mut trees = trees.into_iter();
    for b in &m.cgroup {
        let dest = format!("{}/{}", m.dest.trim_end_matches('/'), b.name);
        let n = cstr(&b.name)?;
        // SAFETY: an open directory fd and a valid C string.
        check(unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), 0o755) } as i64, || format!("mkdir {dest}"))?;
        match trees.next() {
            Some(t) => tree::attach_named(&t, dir.as_raw_fd(), &b.name, &dest)?,
            None => {
                let sub = open_path_at(dir.as_raw_fd(), &b.name)?;
                let src = sys::open(&b.host_dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                tree::bind(src.as_raw_fd(), sub.as_raw_fd(), false, flags, &dest, &|| open_path_at(dir.as_raw_fd(), &b.name))?;
            }
        }
        for l in &b.links {
            symlink_at(dir.as_raw_fd(), &b.name, l)?;
        }
    }
    if flags & libc::MS_RDONLY != 0 {
        sys::mount(None, &fd_path(dir.as_raw_fd()), None, libc::MS_REMOUNT | CGROUP_BASE | libc::MS_RDONLY, None, &format!("remount {}", m.dest))?;
    }
    Ok(())
}

/// An O_PATH fd for `name` directly under `dir`, never following a symlink.
fn open_path_at(dir: RawFd, name: &str) -> R<OwnedFd> {
    let n = cstr(name)?;
    // SAFETY: openat with a valid C string; O_NOFOLLOW refuses a symlink.
    let fd = unsafe { libc::openat(dir, n.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    check(fd as i64, || format!("open {name}"))?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn symlink_at(dir: RawFd, target: &str, name: &str) -> R<()> {
    let (t, n) = (cstr(target)?, cstr(name)?);
    // SAFETY: valid C strings and an open directory fd.
    let r = unsafe { libc::symlinkat(t.as_ptr(), dir, n.as_ptr()) };
    if r < 0 && errno() != libc::EEXIST {
        return Err(format!("symlink {name} -> {target}: {}", sys::errno_text(errno())));
    }
    Ok(())
}

fn split(path: &str) -> (&str, &str) {
    let p = path.trim_end_matches('/');
    match p.rfind('/') {
        Some(0) => ("/", &p[1..]),
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("/", p),
    }
}

/// Whether the device nodes may be made before the mounts `later`: none of
/// them is at, above or below /dev or a device's path, so the nodes come out
/// as when made after every mount (runc's order). A path with ".." counts
/// as unsafe; one the image redirects through a symlink is not seen.
pub fn devices_unaffected_by(plan: &Plan, later: &[MountOp]) -> bool {
    fn parts(p: &str) -> Option<Vec<&str>> {
        let v: Vec<&str> = p.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
        (!v.contains(&"..")).then_some(v)
    }
    let overlap = |a: &[&str], b: &[&str]| a.starts_with(b) || b.starts_with(a);
    let nodes: Option<Vec<Vec<&str>>> = plan.devices.iter().map(|d| parts(&d.path)).collect();
    let Some(nodes) = nodes else { return false };
    later.iter().all(|m| parts(&m.dest).is_some_and(|d| !overlap(&d, &["dev"]) && nodes.iter().all(|n| !overlap(&d, n))))
}

/// Creates the config's device nodes (or binds the host's, in a user namespace).
pub fn make_devices(root: &Root, plan: &Plan) -> R<()> {
    // Most nodes share a directory (/dev): resolve it once.
    let mut parent: Option<(&str, OwnedFd)> = None;
    for d in &plan.devices {
        if plan.bind_devices {
            let t = root.mkdir_all(&d.path, true)?;
            bind(root, &d.path, &t, false, 0, &d.path)?;
            continue;
        }
        let (dir, name) = split(&d.path);
        let fd = match &parent {
            Some((p, fd)) if *p == dir => fd,
            _ => &parent.insert((dir, root.mkdir_all(dir, false)?)).1,
        };
        mknod(fd.as_raw_fd(), name, d)?;
    }
    if plan.dev_links {
        let dev = root.resolve("/dev")?;
        let links = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr")];
        for (t, n) in links {
            symlink_at(dev.as_raw_fd(), t, n)?;
        }
        if root.lookup("/dev/ptmx").is_err() {
            symlink_at(dev.as_raw_fd(), "pts/ptmx", "ptmx")?;
        }
        if std::path::Path::new("/proc/kcore").exists() {
            symlink_at(dev.as_raw_fd(), "/proc/kcore", "core")?;
        }
    }
    Ok(())
}

fn mknod(dir: RawFd, name: &str, d: &Device) -> R<()> {
    let n = cstr(name)?;
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    // SAFETY: dir is an open directory fd, n a valid C string.
    let r = unsafe { libc::mknodat(dir, n.as_ptr(), d.kind | (d.mode & 0o7777), dev) };
    if r < 0 && errno() != libc::EEXIST {
        return Err(format!("mknod {}: {}", d.path, sys::errno_text(errno())));
    }
    // SAFETY: as above; AT_SYMLINK_NOFOLLOW keeps a planted symlink from being followed.
    let r = unsafe { libc::fchownat(dir, n.as_ptr(), d.uid, d.gid, libc::AT_SYMLINK_NOFOLLOW) };
    check(r as i64, || format!("chown {}", d.path)).map(drop)
}

/// Resolves `p` in the rootfs; a missing path is None, any other error fails.
fn lookup_existing(root: &Root, p: &str, what: &str) -> R<Option<OwnedFd>> {
    match root.lookup(p) {
        Ok(t) => Ok(Some(t)),
        Err(libc::ENOENT) => Ok(None),
        Err(e) => Err(format!("{what} {p}: {}", sys::errno_text(e))),
    }
}

/// Masks and protects paths after every other mount, failing closed.
pub fn mask_and_protect(root: &Root, plan: &Plan) -> R<()> {
    let null = sys::open("/dev/null", libc::O_PATH, 0)?;
    let st = sys::fstat(null.as_raw_fd())?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(1, 3) {
        return Err("/dev/null is not the null device".into());
    }
    // One read-only tmpfs masks the first directory; the others get binds of it.
    let mut empty: Option<OwnedFd> = None;
    for p in &plan.masked_paths {
        let Some(t) = lookup_existing(root, p, "mask")? else { continue };
        let what = format!("mask {p}");
        let reopen = || root.resolve(p);
        if sys::fstat(t.as_raw_fd())?.st_mode & libc::S_IFMT != libc::S_IFDIR {
            tree::bind(null.as_raw_fd(), t.as_raw_fd(), false, 0, &what, &reopen)?;
        } else if let Some(e) = &empty {
            tree::bind(e.as_raw_fd(), t.as_raw_fd(), false, 0, &what, &reopen)?;
        } else {
            sys::mount(Some("tmpfs"), &fd_path(t.as_raw_fd()), Some("tmpfs"), libc::MS_RDONLY, None, &what)?;
            empty = Some(reopen()?);
        }
    }
    for p in &plan.readonly_paths {
        let Some(t) = lookup_existing(root, p, "readonly")? else { continue };
        tree::bind(t.as_raw_fd(), t.as_raw_fd(), true, libc::MS_RDONLY, &format!("readonly {p}"), &|| root.resolve(p))?;
    }
    Ok(())
}

/// Makes the rootfs "/" (pivot_root, or move + chroot with --no-pivot).
pub fn enter(root: Root, plan: &Plan) -> R<()> {
    // SAFETY: fchdir on an O_PATH directory fd we own.
    check(unsafe { libc::fchdir(root.fd.as_raw_fd()) } as i64, || "chdir to rootfs".into())?;
    let dot = cstr(".")?;
    if plan.no_pivot {
        sys::mount(Some(&plan.rootfs), "/", None, libc::MS_MOVE, None, "move rootfs to /")?;
        // SAFETY: chroot(".") with a valid C string.
        check(unsafe { libc::chroot(dot.as_ptr()) } as i64, || "chroot".into())?;
    } else {
        // SAFETY: pivot_root(".", ".") stacks the old root on the new one.
        let r = unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) };
        check(r, || "pivot_root".into())?;
        sys::mount(None, ".", None, libc::MS_SLAVE | MS_REC, None, "old root propagation")?;
        // SAFETY: detaching the old root, now stacked on ".".
        check(unsafe { libc::umount2(dot.as_ptr(), libc::MNT_DETACH) } as i64, || "unmount old root".into())?;
    }
    let slash = cstr("/")?;
    // SAFETY: chdir with a valid C string.
    check(unsafe { libc::chdir(slash.as_ptr()) } as i64, || "chdir /".into())?;
    if plan.root_propagation & LATE_PROPAGATION != 0 {
        sys::mount(None, "/", None, plan.root_propagation, None, "rootfs propagation")?;
    }
    if plan.rootfs_readonly {
        let f = libc::MS_REMOUNT | MS_BIND | libc::MS_RDONLY | tree::kept_flags(sys::open("/", libc::O_PATH, 0)?.as_raw_fd());
        sys::mount(None, "/", None, f, None, "remount rootfs read-only")?;
    }
    Ok(())
}

/// Opens a path inside the rootfs for real I/O (not O_PATH).
pub fn open_in(root: &Root, path: &str, flags: i32) -> R<OwnedFd> {
    openat2(root.fd.as_raw_fd(), path, flags).map_err(|e| format!("open {path} in rootfs: {}", sys::errno_text(e)))
}
