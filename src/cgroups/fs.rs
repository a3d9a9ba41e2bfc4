//! cgroupfs file access with errors that name the file.

use crate::error::{Error, ErrorKind, Result};
use std::path::Path;

pub fn write(path: &Path, value: &str, what: &str) -> Result<()> {
    crate::linux::smallfile::write(path, value.as_bytes()).map_err(|e| Error::new(ErrorKind::System, format!("{what}: write {value:?} to {}: {}", path.display(), crate::error::io_text(&e))))
}

/// A knob file opened once for several writes (each write is one record,
/// as with devices.allow): saves an open and a close per record.
pub struct Knob {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl Knob {
    pub fn open(path: &Path, what: &str) -> Result<Knob> {
        let file = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::new(ErrorKind::System, format!("{what}: open {}: {}", path.display(), crate::error::io_text(&e))))?;
        Ok(Knob { path: path.to_path_buf(), file })
    }

    pub fn put(&mut self, value: &str, what: &str) -> Result<()> {
        use std::io::Write;
        self.file.write_all(value.as_bytes()).map_err(|e| Error::new(ErrorKind::System, format!("{what}: write {value:?} to {}: {}", self.path.display(), crate::error::io_text(&e))))
    }
}

pub fn read(path: &Path) -> Result<String> {
    crate::linux::smallfile::read_string(path).map_err(|e| Error::sys(format!("read {}", path.display()), e))
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
pub fn rmdir_retry(dir: &Path) -> Result<()> {
    for _ in 0..100 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(Error::sys(format!("remove cgroup {}", dir.display()), e)),
        }
    }
    Err(Error::new(ErrorKind::System, format!("remove cgroup {}: still busy", dir.display())))
}
