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

/// Directories held open while many files two levels below them are used
/// (`/proc` for `/proc/PID/stat`, a hierarchy's parent cgroup for
/// `.../ID/freezer.state`, `/sys/fs/cgroup` for `cpu/ID`): the kernel then
/// walks two path components per file instead of all of them (cgroupfs and
/// sysfs ones are the slow kind). The fds close when this drops.
pub struct Dirs {
    held: Vec<(PathBuf, OwnedFd)>,
    /// False for one file or two: opening a directory first would double the opens.
    hold: bool,
}

impl Default for Dirs {
    fn default() -> Self {
        Dirs { held: Vec::new(), hold: true }
    }
}

impl Dirs {
    /// Holds nothing: every path is opened whole.
    pub fn one_shot() -> Dirs {
        Dirs { held: Vec::new(), hold: false }
    }

    /// The nearest held ancestor of `path`, or else the directory two levels
    /// above it (opened now, held from then on), and the rest of the path;
    /// None for paths too short to gain anything. (A held ancestor further
    /// up still walks less than opening a nearer one would.)
    fn at<'p>(&mut self, path: &'p Path) -> Option<(RawFd, &'p Path)> {
        if !self.hold {
            return None;
        }
        let near = self.held.iter().filter_map(|(b, fd)| Some((below(path, b)?, fd))).min_by_key(|(rel, _)| rel.as_os_str().len());
        if let Some((rel, fd)) = near.filter(|(rel, _)| !rel.as_os_str().is_empty()) {
            return Some((fd.as_raw_fd(), rel));
        }
        let base = path.parent().and_then(Path::parent).filter(|b| b.as_os_str().len() > 1)?;
        let rel = below(path, base)?;
        let fd = open_at(libc::AT_FDCWD, base, libc::O_PATH | libc::O_DIRECTORY).ok()?;
        if self.held.len() >= 16 {
            self.held.remove(0);
        }
        self.held.push((base.to_path_buf(), fd));
        Some((self.held.last().expect("pushed").1.as_raw_fd(), rel))
    }

    /// `read(path)`, through a held directory.
    pub fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        match self.at(path) {
            Some((fd, rel)) => read_at(fd, rel, false),
            None => read(path),
        }
    }

    pub fn read_string(&mut self, path: &Path) -> io::Result<String> {
        self.read(path).map(text)
    }

    /// `write(path, data)`, through a held directory.
    pub fn write(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        let fd = self.open_write(path)?;
        write_fd(fd.as_raw_fd(), data)
    }

    /// An existing file opened for writing (no O_CREAT, no O_TRUNC).
    pub fn open_write(&mut self, path: &Path) -> io::Result<OwnedFd> {
        match self.at(path) {
            Some((fd, rel)) => open_at(fd, rel, libc::O_WRONLY),
            None => open_at(libc::AT_FDCWD, path, libc::O_WRONLY),
        }
    }

    /// mkdir(path, 0777) (less the umask).
    pub fn mkdir(&mut self, path: &Path) -> io::Result<()> {
        let (fd, rel) = self.at(path).unwrap_or((libc::AT_FDCWD, path));
        let c = cstr(rel)?;
        // SAFETY: mkdirat with a valid C string.
        if unsafe { libc::mkdirat(fd, c.as_ptr(), 0o777) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// rmdir(path).
    pub fn rmdir(&mut self, path: &Path) -> io::Result<()> {
        let (fd, rel) = self.at(path).unwrap_or((libc::AT_FDCWD, path));
        let c = cstr(rel)?;
        // SAFETY: unlinkat with a valid C string.
        if unsafe { libc::unlinkat(fd, c.as_ptr(), libc::AT_REMOVEDIR) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// `path` relative to `base`, when `base`'s bytes and then a slash begin it
/// (both are plain absolute paths here; `list` calls this per held
/// directory for every file, and std's component-wise `strip_prefix` was an
/// eighth of its user time). A path that spells the directory differently
/// (`/run//x` for `/run/x`) only misses it and opens its own.
fn below<'p>(path: &'p Path, base: &Path) -> Option<&'p Path> {
    let rest = path.as_os_str().as_bytes().strip_prefix(base.as_os_str().as_bytes())?;
    if rest.first().is_some_and(|&b| b != b'/') {
        return None;
    }
    let start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
    Some(Path::new(std::ffi::OsStr::from_bytes(&rest[start..])))
}

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// A raw openat with O_CLOEXEC added.
fn open_at(dir: RawFd, path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    // SAFETY: openat with a valid C string.
    let fd = unsafe { libc::syscall(libc::SYS_openat, dir, c.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd, ours alone.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as RawFd) })
}

/// One write of all of `data` (a cgroup knob takes one value per write).
pub fn write_fd(fd: RawFd, data: &[u8]) -> io::Result<()> {
    // SAFETY: data is valid for its length.
    match unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) } {
        n if n < 0 => Err(io::Error::last_os_error()),
        n if (n as usize) < data.len() => Err(io::Error::new(io::ErrorKind::WriteZero, "short write")),
        _ => Ok(()),
    }
}

fn read_at(dir: RawFd, path: &Path, until_eof: bool) -> io::Result<Vec<u8>> {
    let file = open_at(dir, path, libc::O_RDONLY)?;
    let fd = file.as_raw_fd();
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
    r.map(|_| buf)
}

/// The file as text (lossy on invalid UTF-8, which these files never hold).
pub fn read_string(path: &Path) -> io::Result<String> {
    read(path).map(text)
}

/// Writes `data` to an existing file in one write (a cgroup knob takes
/// one value per write).
pub fn write(path: &Path, data: &[u8]) -> io::Result<()> {
    let fd = open_at(libc::AT_FDCWD, path, libc::O_WRONLY)?;
    write_fd(fd.as_raw_fd(), data)
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
        assert_eq!(dirs.held.len(), 1, "/proc held once");
        let mut one = super::Dirs::one_shot();
        assert!(one.read_string(std::path::Path::new(&me)).is_ok());
        assert!(one.held.is_empty(), "nothing held");
        assert_eq!(dirs.read(std::path::Path::new("/proc/self/nonexistent/x")).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn below_matches_whole_components_only() {
        use std::path::Path;
        let b = |p: &str, base: &str| super::below(Path::new(p), Path::new(base)).map(|r| r.to_str().unwrap().to_string());
        assert_eq!(b("/proc/12/stat", "/proc").as_deref(), Some("12/stat"));
        assert_eq!(b("/proc//12/stat", "/proc").as_deref(), Some("12/stat"));
        assert_eq!(b("/proc", "/proc").as_deref(), Some(""));
        assert_eq!(b("/procfs/12", "/proc"), None);
        assert_eq!(b("/sys/fs/cgroup/a", "/proc"), None);
    }

    #[test]
    fn dirs_make_write_and_remove_below_held_directories() {
        let base = std::env::temp_dir().join(format!("librunc-dirs-{}", std::process::id()));
        std::fs::create_dir_all(base.join("h")).unwrap();
        let mut dirs = super::Dirs::default();
        let d = base.join("h/c");
        dirs.mkdir(&d).unwrap();
        assert_eq!(dirs.mkdir(&d).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(dirs.open_write(&d.join("knob")).unwrap_err().kind(), std::io::ErrorKind::NotFound, "no O_CREAT");
        std::fs::write(d.join("knob"), "old").unwrap();
        dirs.write(&d.join("knob"), b"new").unwrap();
        assert_eq!(dirs.read_string(&d.join("knob")).unwrap(), "new");
        std::fs::remove_file(d.join("knob")).unwrap();
        dirs.rmdir(&d).unwrap();
        assert!(!d.exists());
        assert_eq!(dirs.held.len(), 1, "{base:?} held once, for h/c and then h/c/knob");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
