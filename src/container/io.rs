//! Small I/O helpers of the lifecycle: unix sockets in state dirs, the
//! console socket, pid files.

use crate::error::{Context, Error, Result};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Whether `fd` is open; a closed stdio slot is given /dev/null.
fn fd_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// The stdio the container gets: `given`, else ours (0-2), where a closed
/// slot gets /dev/null, opened only then (keep the fd until spawned).
pub fn stdio_or_null(given: Option<[RawFd; 3]>) -> Result<([RawFd; 3], Option<OwnedFd>)> {
    if let Some(s) = given {
        return Ok((s, None));
    }
    let open = [0, 1, 2].map(fd_open);
    if open.iter().all(|&o| o) {
        return Ok(([0, 1, 2], None));
    }
    let null = crate::process::spawn::dev_null()?;
    let n = null.as_raw_fd();
    Ok(([0, 1, 2].map(|fd| if open[fd as usize] { fd } else { n }), Some(null)))
}

/// sockaddr_un paths are limited to 108 bytes; long paths go through
/// /proc/self/fd of the directory.
fn with_short_path<T>(path: &Path, f: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    if path.as_os_str().len() < 100 {
        return f(path);
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = std::fs::File::open(parent).context(|| format!("open {}", parent.display()))?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(path.file_name().unwrap_or_default());
    f(&short)
}

/// The start socket of a state dir: SOCK_SEQPACKET, so each sync message
/// arrives whole, as on the init's own socketpair.
pub fn listen(path: &Path) -> Result<OwnedFd> {
    with_short_path(path, |p| {
        let fd = seqpacket().context(|| format!("socket for {}", path.display()))?;
        let addr = nix::sys::socket::UnixAddr::new(p).map_err(|e| Error::sys(format!("address {}", path.display()), e))?;
        nix::sys::socket::bind(fd.as_raw_fd(), &addr).map_err(|e| Error::sys(format!("listen on {}", path.display()), e))?;
        nix::sys::socket::listen(&fd, nix::sys::socket::Backlog::MAXCONN).map_err(|e| Error::sys(format!("listen on {}", path.display()), e))?;
        Ok(fd)
    })
}

pub fn connect(path: &Path) -> Result<OwnedFd> {
    with_short_path(path, |p| {
        let fd = seqpacket().context(|| format!("socket for {}", path.display()))?;
        let addr = nix::sys::socket::UnixAddr::new(p).map_err(|e| Error::sys(format!("address {}", path.display()), e))?;
        nix::sys::socket::connect(fd.as_raw_fd(), &addr).map_err(|e| Error::sys(format!("connect to {}", path.display()), e))?;
        Ok(fd)
    })
}

/// A stream connection, as seccomp agents at listenerPath expect.
pub fn connect_stream(path: &Path) -> Result<OwnedFd> {
    with_short_path(path, |p| {
        let s = std::os::unix::net::UnixStream::connect(p).context(|| format!("connect to {}", path.display()))?;
        Ok(OwnedFd::from(s))
    })
}

fn seqpacket() -> std::io::Result<OwnedFd> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    socket(AddressFamily::Unix, SockType::SeqPacket, SockFlag::SOCK_CLOEXEC, None).map_err(std::io::Error::from)
}

/// Sends the pty master over the console socket: one sendmsg, one fd, the pty name as data.
pub fn send_console(sock: &Path, master: RawFd) -> Result<()> {
    let conn = with_short_path(sock, |p| std::os::unix::net::UnixStream::connect(p).context(|| format!("connect to console socket {}", sock.display())))?;
    let name = pty_name(master);
    let iov = [std::io::IoSlice::new(name.as_bytes())];
    let fds = [master];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    nix::sys::socket::sendmsg::<()>(conn.as_raw_fd(), &iov, &cmsg, nix::sys::socket::MsgFlags::empty(), None)
        .map_err(|e| Error::sys(format!("send pty master to {}", sock.display()), e))?;
    Ok(())
}

/// "/dev/pts/N" of a pty master (as the container numbers it).
fn pty_name(master: RawFd) -> String {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int.
    if unsafe { libc::ioctl(master, libc::TIOCGPTN, &mut n) } == 0 {
        format!("/dev/pts/{n}")
    } else {
        "/dev/ptmx".into()
    }
}

/// The pid file: decimal, no newline, written atomically.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = std::path::absolute(path).context(|| format!("pid file {}", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    std::fs::write(&tmp, pid.to_string()).context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).context(|| format!("write pid file {}", path.display()))
}
