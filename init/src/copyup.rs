//! `tmpcopyup`: copy a directory tree of the image into a fresh tmpfs,
//! keeping modes, owners and symlinks. Everything goes through *at calls on
//! directory fds with O_NOFOLLOW, so the image cannot redirect the copy.

use crate::sys::{check, cstr, errno, errno_text, R};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub fn copy_tree(src: RawFd, dst: RawFd) -> R<()> {
    for name in entries(src)? {
        let n = cstr(&name)?;
        let st = stat_at(src, &n)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                // SAFETY: valid dir fd and C string.
                let r = unsafe { libc::mkdirat(dst, n.as_ptr(), st.st_mode & 0o7777) };
                if r < 0 && errno() != libc::EEXIST {
                    return Err(format!("mkdir {name}: {}", errno_text(errno())));
                }
                let (s, d) = (open_at(src, &n, libc::O_RDONLY | libc::O_DIRECTORY)?, open_at(dst, &n, libc::O_RDONLY | libc::O_DIRECTORY)?);
                copy_tree(s.as_raw_fd(), d.as_raw_fd())?;
            }
            libc::S_IFREG => copy_file(src, dst, &n, &st)?,
            libc::S_IFLNK => {
                let target = link_at(src, &n)?;
                // SAFETY: valid C strings and dir fd.
                check(unsafe { libc::symlinkat(target.as_ptr(), dst, n.as_ptr()) } as i64, || format!("symlink {name}"))?;
            }
            _ => {
                // SAFETY: as above; device nodes, fifos and sockets are recreated.
                check(unsafe { libc::mknodat(dst, n.as_ptr(), st.st_mode, st.st_rdev) } as i64, || format!("mknod {name}"))?;
            }
        }
        // SAFETY: as above; AT_SYMLINK_NOFOLLOW keeps symlinks' own owners.
        check(unsafe { libc::fchownat(dst, n.as_ptr(), st.st_uid, st.st_gid, libc::AT_SYMLINK_NOFOLLOW) } as i64, || format!("chown {name}"))?;
    }
    Ok(())
}

fn entries(dir: RawFd) -> R<Vec<String>> {
    let rd = std::fs::read_dir(format!("/proc/self/fd/{dir}")).map_err(|e| format!("read directory: {e}"))?;
    Ok(rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
}

fn stat_at(dir: RawFd, n: &CString) -> R<libc::stat> {
    // SAFETY: st is plain data; valid fd and C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    check(unsafe { libc::fstatat(dir, n.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } as i64, || format!("stat {n:?}"))?;
    Ok(st)
}

fn open_at(dir: RawFd, n: &CString, flags: i32) -> R<OwnedFd> {
    // SAFETY: openat with O_NOFOLLOW on a valid fd and C string.
    let fd = unsafe { libc::openat(dir, n.as_ptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0o600) };
    check(fd as i64, || format!("open {n:?}"))?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn link_at(dir: RawFd, n: &CString) -> R<CString> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: readlinkat into our buffer.
    let len = unsafe { libc::readlinkat(dir, n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    check(len as i64, || format!("readlink {n:?}"))?;
    buf.truncate(len as usize);
    CString::new(buf).map_err(|_| "symlink target with NUL".into())
}

fn copy_file(src: RawFd, dst: RawFd, n: &CString, st: &libc::stat) -> R<()> {
    let from = open_at(src, n, libc::O_RDONLY)?;
    // SAFETY: create the copy exclusively; mode from the original.
    let fd = unsafe { libc::openat(dst, n.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC, st.st_mode & 0o7777) };
    check(fd as i64, || format!("create {n:?}"))?;
    // SAFETY: a new fd we own.
    let to = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut from = std::fs::File::from(from);
    let mut to = std::fs::File::from(to);
    std::io::copy(&mut from, &mut to).map_err(|e| format!("copy {n:?}: {e}"))?;
    Ok(())
}
