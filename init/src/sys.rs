//! Thin syscall wrappers for the init. Every error names the call and its target.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub type R<T> = Result<T, String>;

/// The errno text the way Go's runtime spells it ("no such file or directory").
pub fn errno_text(e: i32) -> String {
    // SAFETY: strerror returns a pointer to a static NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(libc::strerror(e)) }.to_string_lossy().into_owned();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Turns a -1 return into "what: errno text".
pub fn check(ret: i64, what: impl FnOnce() -> String) -> R<i64> {
    if ret < 0 {
        Err(format!("{}: {}", what(), errno_text(errno())))
    } else {
        Ok(ret)
    }
}

pub fn cstr(s: &str) -> R<CString> {
    CString::new(s).map_err(|_| format!("{s:?}: contains a NUL byte"))
}

/// The path through which the kernel reaches an fd, for calls that take paths.
pub fn fd_path(fd: RawFd) -> String {
    format!("/proc/self/fd/{fd}")
}

pub fn mount(src: Option<&str>, target: &str, fstype: Option<&str>, flags: u64, data: Option<&str>, what: &str) -> R<()> {
    let src_c = src.map(cstr).transpose()?;
    let t = cstr(target)?;
    let ty = fstype.map(cstr).transpose()?;
    let d = data.filter(|d| !d.is_empty()).map(cstr).transpose()?;
    let p = |o: &Option<CString>| o.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: all pointers are NUL-terminated strings or null, valid for the call.
    let r = unsafe { libc::mount(p(&src_c), t.as_ptr(), p(&ty), flags as libc::c_ulong, p(&d).cast()) };
    check(r as i64, || format!("mount {what}")).map(drop)
}

pub fn open(path: &str, flags: i32, mode: u32) -> R<OwnedFd> {
    open_at(libc::AT_FDCWD, path, flags, mode)
}

/// A raw openat with O_CLOEXEC added (musl's open adds an fcntl call).
pub fn open_at(dir: RawFd, path: &str, flags: i32, mode: u32) -> R<OwnedFd> {
    let c = cstr(path)?;
    // SAFETY: c is a valid C string; the fd returned is new and ours.
    let fd = unsafe { libc::syscall(libc::SYS_openat, dir, c.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    check(fd, || format!("open {path}"))?;
    // SAFETY: fd was just returned by openat and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

pub fn write_file(path: &str, data: &str) -> R<()> {
    let fd = open(path, libc::O_WRONLY, 0)?;
    write_all(fd.as_raw_fd(), data.as_bytes()).map_err(|e| format!("write {path}: {e}"))
}

/// Writes `data` to `rel` below the directory fd `dir` (e.g. the host procfs).
pub fn write_at(dir: RawFd, rel: &str, data: &str) -> R<()> {
    let c = cstr(rel)?;
    // SAFETY: openat with a valid C string relative to an open directory fd.
    let fd = unsafe { libc::openat(dir, c.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd as i64, || format!("open /proc/{rel}"))?;
    // SAFETY: fd is new and ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    write_all(fd.as_raw_fd(), data.as_bytes()).map_err(|e| format!("write /proc/{rel}: {e}"))
}

/// The host's procfs, opened before any namespace is joined and checked to
/// be procfs; all /proc writes go through it (CVE-2019-16884, CVE-2023-27561).
pub fn open_host_proc() -> R<OwnedFd> {
    let fd = open("/proc", libc::O_PATH | libc::O_DIRECTORY, 0)?;
    if fstatfs_type(fd.as_raw_fd())? != libc::PROC_SUPER_MAGIC {
        return Err("/proc is not procfs".into());
    }
    Ok(fd)
}

pub fn write_all(fd: RawFd, mut buf: &[u8]) -> R<()> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid slice for the given length.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return Err(errno_text(errno()));
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

pub fn fstat(fd: RawFd) -> R<libc::stat> {
    // SAFETY: st is plain data filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstat(fd, &mut st) } as i64, || "fstat".into())?;
    Ok(st)
}

pub fn fstatfs_type(fd: RawFd) -> R<i64> {
    // SAFETY: sfs is plain data filled by the kernel.
    let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: sfs is a valid out-pointer.
    check(unsafe { libc::fstatfs(fd, &mut sfs) } as i64, || "fstatfs".into())?;
    Ok(sfs.f_type as i64)
}

pub fn prctl(op: i32, arg: u64, what: &str) -> R<()> {
    prctl_or(op, arg, || what.to_string()).map(drop)
}

/// prctl with one argument; its result, or `what()` and errno.
pub fn prctl_or(op: i32, arg: u64, what: impl FnOnce() -> String) -> R<i64> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(op, arg as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    check(r as i64, what)
}

/// The command line as strings (there is no Rust runtime to collect it).
pub fn args(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<String> {
    (0..argc.max(0) as usize)
        // SAFETY: the kernel passes argc valid, NUL-terminated argv strings.
        .map(|i| unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) }.to_string_lossy().into_owned())
        .collect()
}

/// Resets every signal to its default action and unblocks all of them.
pub fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL is always valid; errors (invalid sig) are harmless.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: an empty set is a valid mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}
