//! Reads of small files (state.json, /proc/PID/stat, cgroup knobs) and
//! writes of existing ones (cgroup knobs) in as few system calls as
//! possible: `list` makes three per container. A raw openat with O_CLOEXEC
//! (musl's open adds an fcntl), no fstat, one buffer; no O_TRUNC (kernfs
//! handles it as a setattr) and no O_CREAT on writes.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The whole file. A read that does not fill the buffer ends it: regular
/// files only return short at end of file, and single-record procfs/cgroupfs
/// files (stat, status, a knob) hand out their whole text in one read; no
/// extra read to see EOF.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_at(libc::AT_FDCWD, path, false)
}

/// The whole of a many-record seq file (mountinfo, cgroup.procs), which may
/// return short reads before its end: read until EOF, in 4 KiB steps and up
/// (std's reads start at 32 bytes, and each read re-runs the kernel's walk).
pub fn read_to_end(path: &Path) -> io::Result<String> {
    read_at(libc::AT_FDCWD, path, true).map(text)
}

/// Directories held open while many files two levels below them are read
/// (`/proc` for `/proc/PID/stat`, a hierarchy's parent cgroup for
/// `.../ID/freezer.state`): the kernel then walks two path components per
/// file instead of all of them. The fds close when this drops.
#[derive(Default)]
pub struct Dirs(Vec<(PathBuf, OwnedFd)>);

impl Dirs {
    /// `read(path)`, through a held directory two levels up.
    pub fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        let Some(base) = path.parent().and_then(Path::parent).filter(|b| b.as_os_str().len() > 1) else { return read(path) };
        let rel = path.strip_prefix(base).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        if let Some((_, fd)) = self.0.iter().find(|(b, _)| b == base) {
            return read_at(fd.as_raw_fd(), rel, false);
        }
        let Ok(dir) = std::fs::File::open(base) else { return read(path) };
        if self.0.len() >= 8 {
            self.0.remove(0);
        }
        self.0.push((base.to_path_buf(), OwnedFd::from(dir)));
        read_at(self.0.last().expect("pushed").1.as_raw_fd(), rel, false)
    }

    pub fn read_string(&mut self, path: &Path) -> io::Result<String> {
        self.read(path).map(text)
    }
}

fn read_at(dir: RawFd, path: &Path, until_eof: bool) -> io::Result<Vec<u8>> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: openat with a valid C string; the fd is closed below.
    let fd = unsafe { libc::syscall(libc::SYS_openat, dir, c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = fd as libc::c_int;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let r = loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let spare = buf.capacity() - buf.len();
        // SAFETY: reads into the uninitialised tail of buf, within its capacity.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().add(buf.len()).cast(), spare) };
        match n {
            0 => break Ok(()),
            // SAFETY: the kernel initialised n more bytes.
            n if n > 0 => unsafe {
                buf.set_len(buf.len() + n as usize);
                if (n as usize) < spare && !until_eof {
                    break Ok(());
                }
            },
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            _ => break Err(io::Error::last_os_error()),
        }
    };
    // SAFETY: fd is ours and closed once.
    unsafe { libc::close(fd) };
    r.map(|_| buf)
}

/// The file as text (lossy on invalid UTF-8, which these files never hold).
pub fn read_string(path: &Path) -> io::Result<String> {
    read(path).map(text)
}

/// Writes `data` to an existing file in one write (a cgroup knob takes
/// one value per write).
pub fn write(path: &Path, data: &[u8]) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: openat with a valid C string; the fd is closed below.
    let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is ours; data is valid for its length.
    let n = unsafe { libc::write(fd as libc::c_int, data.as_ptr().cast(), data.len()) };
    let r = match n {
        n if n < 0 => Err(io::Error::last_os_error()),
        n if (n as usize) < data.len() => Err(io::Error::new(io::ErrorKind::WriteZero, "short write")),
        _ => Ok(()),
    };
    // SAFETY: fd is ours and closed once.
    unsafe { libc::close(fd as libc::c_int) };
    r
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_whole_files_and_reports_errors() {
        let big = super::read(std::path::Path::new("/proc/self/maps")).unwrap();
        assert!(!big.is_empty());
        let text = super::read_string(std::path::Path::new("/proc/self/stat")).unwrap();
        assert!(text.starts_with(&std::process::id().to_string()));
        let e = super::read(std::path::Path::new("/nonexistent/x")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        // Many records, longer than one kernel buffer: read to the end.
        let maps = super::read_to_end(std::path::Path::new("/proc/self/smaps")).unwrap();
        assert!(maps.len() > 8192 && maps.ends_with('\n'), "{}", maps.len());
        let mut dirs = super::Dirs::default();
        let me = format!("/proc/{}/stat", std::process::id());
        for _ in 0..2 {
            assert!(dirs.read_string(std::path::Path::new(&me)).unwrap().starts_with(&std::process::id().to_string()));
        }
        assert_eq!(dirs.0.len(), 1, "/proc held once");
        assert_eq!(dirs.read(std::path::Path::new("/proc/self/nonexistent/x")).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }
}
