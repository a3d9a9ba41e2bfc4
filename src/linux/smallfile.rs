//! Reads of small files (state.json, /proc/PID/stat, cgroup knobs) in as
//! few system calls as possible: `list` makes three per container. A raw
//! openat with O_CLOEXEC (musl's open adds an fcntl), no fstat, one buffer.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The whole file. A read that does not fill the buffer ends it: regular
/// files only return short at end of file, and procfs/cgroupfs files hand
/// out their whole (small) text in one read; no extra read to see EOF.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: openat with a valid C string; the fd is closed below.
    let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
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
                if (n as usize) < spare {
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
    read(path).map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
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
    }
}
