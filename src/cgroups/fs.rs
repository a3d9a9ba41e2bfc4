//! cgroupfs file access with errors that name the file.

use crate::error::{Error, ErrorKind, Result};
use crate::linux::smallfile::Dirs;
use std::path::Path;

pub fn write(path: &Path, value: &str, what: &str) -> Result<()> {
    crate::linux::smallfile::write(path, value.as_bytes()).map_err(|e| write_error(path, value, what, &e))
}

/// `write`, through held directories (many files of one cgroup).
pub fn write_in(dirs: &mut Dirs, path: &Path, value: &str, what: &str) -> Result<()> {
    dirs.write(path, value.as_bytes()).map_err(|e| write_error(path, value, what, &e))
}

fn write_error(path: &Path, value: &str, what: &str, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::System, format!("{what}: write {value:?} to {}: {}", path.display(), crate::error::io_text(e)))
}

/// A knob file opened once for several writes (each write is one record,
/// as with devices.allow): saves an open and a close per record.
pub struct Knob {
    path: std::path::PathBuf,
    fd: std::os::fd::OwnedFd,
}

impl Knob {
    pub fn open(dirs: &mut Dirs, path: &Path, what: &str) -> Result<Knob> {
        let fd = dirs.open_write(path).map_err(|e| Error::new(ErrorKind::System, format!("{what}: open {}: {}", path.display(), crate::error::io_text(&e))))?;
        Ok(Knob { path: path.to_path_buf(), fd })
    }

    pub fn put(&mut self, value: &str, what: &str) -> Result<()> {
        use std::os::fd::AsRawFd;
        crate::linux::smallfile::write_fd(self.fd.as_raw_fd(), value.as_bytes()).map_err(|e| Error::new(ErrorKind::System, format!("{what}: write {value:?} to {}: {}", self.path.display(), crate::error::io_text(&e))))
    }
}

pub fn read(path: &Path) -> Result<String> {
    crate::linux::smallfile::read_string(path).map_err(|e| Error::sys(format!("read {}", path.display()), e))
}

/// `read`, through held directories.
pub fn read_in(dirs: &mut Dirs, path: &Path) -> Result<String> {
    dirs.read_string(path).map_err(|e| Error::sys(format!("read {}", path.display()), e))
}

/// A number from a one-value file ("max" reads as u64::MAX).
pub fn read_u64(path: &Path) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    if s == "max" {
        return Some(u64::MAX);
    }
    s.parse().ok()
}

/// `key value` lines (cpu.stat, memory.stat, memory.events...).
pub fn read_kv(path: &Path) -> Vec<(String, u64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

/// rmdir, retrying while the kernel still sees exiting tasks (EBUSY).
pub fn rmdir_retry(dirs: &mut Dirs, dir: &Path) -> Result<()> {
    for _ in 0..100 {
        match dirs.rmdir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(Error::sys(format!("remove cgroup {}", dir.display()), e)),
        }
    }
    Err(Error::new(ErrorKind::System, format!("remove cgroup {}: still busy", dir.display())))
}
