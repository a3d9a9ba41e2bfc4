//! Waiting for a container process without touching signals: `waitpid` for
//! our own children; for others a pidfd tells when it exited (the status is
//! then unknowable).

use crate::error::{Error, ErrorKind, Result};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What waiting found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// Exit status (128+N for signal N).
    Exited(i32),
    /// The process is gone but was not our child: no status.
    ExitedUnknown,
    /// Still running when the timeout passed.
    Running,
}

/// Waits up to `timeout_ms` (-1: forever, 0: just check).
pub fn wait(pid: i32, timeout_ms: i32) -> Result<Waited> {
    match reap(pid) {
        Ok(Some(code)) => return Ok(Waited::Exited(code)),
        Ok(None) if timeout_ms == 0 => return Ok(Waited::Running),
        Ok(None) => {}
        Err(nix::errno::Errno::ECHILD) => return wait_foreign(pid, timeout_ms),
        Err(e) => return Err(Error::sys(format!("wait for {pid}"), e)),
    }
    // Our child: block in the pidfd (not in waitpid) so a timeout is possible.
    let pidfd = pidfd(pid)?;
    if !poll(&pidfd, timeout_ms)? {
        return Ok(Waited::Running);
    }
    match reap(pid) {
        Ok(Some(code)) => Ok(Waited::Exited(code)),
        Ok(None) => Ok(Waited::Running),
        Err(e) => Err(Error::sys(format!("wait for {pid}"), e)),
    }
}

/// The exit status if `pid` (our child) has exited; never blocks.
fn reap(pid: i32) -> std::result::Result<Option<i32>, nix::errno::Errno> {
    loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => return Ok(Some(c)),
            Ok(WaitStatus::Signaled(_, s, _)) => return Ok(Some(128 + s as i32)),
            Ok(_) => return Ok(None),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Waits up to `timeout_ms` for `pid` to exit without reaping it (its
/// parent, maybe a library caller, still collects the status).
pub(crate) fn wait_foreign(pid: i32, timeout_ms: i32) -> Result<Waited> {
    let Ok(fd) = pidfd(pid) else { return Ok(Waited::ExitedUnknown) };
    Ok(if poll(&fd, timeout_ms)? { Waited::ExitedUnknown } else { Waited::Running })
}

fn pidfd(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open with a pid and no flags.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Error::sys(format!("pidfd_open {pid}"), std::io::Error::last_os_error()));
    }
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// True when the process exited within the timeout.
fn poll(fd: &OwnedFd, timeout_ms: i32) -> Result<bool> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if r >= 0 {
            return Ok(r > 0);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::new(ErrorKind::System, format!("poll pidfd: {e}")));
        }
    }
}
