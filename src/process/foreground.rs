//! Waiting for a container in the foreground, as `runc run` does: signals
//! sent to us go to the container's init, the terminal is relayed, and the
//! result is the init's exit status (128+N when signal N killed it).
//!
//! This takes over the calling process's signals while it runs, so it is for
//! programs that are the container's foreground (the CLI), not for daemons.

use super::tty;
use crate::error::{Error, Result};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Signals that stay with us: synchronous faults and SIGPIPE from our own writes.
const KEEP: [Signal; 7] = [Signal::SIGSEGV, Signal::SIGBUS, Signal::SIGFPE, Signal::SIGILL, Signal::SIGTRAP, Signal::SIGSYS, Signal::SIGPIPE];

/// The signals to forward, blocked from before the container starts (so
/// none is lost, or kills us, before we listen) until the guard drops.
pub struct Signals {
    mask: SigSet,
    old: SigSet,
}

impl Signals {
    pub fn block() -> Result<Signals> {
        let mut mask = SigSet::all();
        for s in KEEP {
            mask.remove(s);
        }
        let mut old = SigSet::empty();
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old)).map_err(|e| Error::sys("block signals", e))?;
        Ok(Signals { mask, old })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.old), None);
    }
}

/// Forwards signals and relays `pty` (if any) until `pid` exits; returns its status.
pub fn wait(pid: i32, pty: Option<OwnedFd>, signals: &Signals) -> Result<i32> {
    let sfd = SignalFd::with_flags(&signals.mask, SfdFlags::SFD_CLOEXEC).map_err(|e| Error::sys("signalfd", e))?;
    let _raw = pty.as_ref().map(|_| tty::RawMode::enter(0));
    if let Some(m) = &pty {
        tty::copy_size(0, m.as_raw_fd());
    }
    Loop { pid, sfd, pty, stdin_open: true }.run()
}

struct Loop {
    pid: i32,
    sfd: SignalFd,
    pty: Option<OwnedFd>,
    stdin_open: bool,
}

impl Loop {
    fn run(mut self) -> Result<i32> {
        // The child may have exited before we blocked SIGCHLD.
        if let Some(code) = self.reap()? {
            return Ok(code);
        }
        loop {
            let mut fds = vec![pollfd(self.sfd.as_raw_fd())];
            if let Some(m) = &self.pty {
                fds.push(pollfd(m.as_raw_fd()));
                if self.stdin_open {
                    fds.push(pollfd(0));
                }
            }
            // SAFETY: fds is a valid array of pollfd for its length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as _, -1) };
            if n < 0 {
                continue; // EINTR
            }
            if fds.len() > 1 && fds[1].revents != 0 && !self.pty_to_stdout() {
                self.pty = None;
            }
            if fds.len() > 2 && fds[2].revents != 0 {
                self.stdin_to_pty();
            }
            if fds[0].revents != 0 {
                if let Some(code) = self.on_signal()? {
                    return Ok(code);
                }
            }
        }
    }

    fn on_signal(&mut self) -> Result<Option<i32>> {
        let Ok(Some(info)) = self.sfd.read_signal() else { return Ok(None) };
        match Signal::try_from(info.ssi_signo as i32) {
            Ok(Signal::SIGCHLD) => self.reap(),
            Ok(Signal::SIGWINCH) => {
                if let Some(m) = &self.pty {
                    tty::copy_size(0, m.as_raw_fd());
                }
                Ok(None)
            }
            Ok(s) => {
                let _ = kill(Pid::from_raw(self.pid), s);
                Ok(None)
            }
            Err(_) => {
                // Real-time signals: forward by number.
                // SAFETY: kill with a pid and a signal number.
                unsafe { libc::kill(self.pid, info.ssi_signo as i32) };
                Ok(None)
            }
        }
    }

    /// The exit status if the init has exited (after draining the pty).
    fn reap(&mut self) -> Result<Option<i32>> {
        let code = match waitpid(Pid::from_raw(self.pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => c,
            Ok(WaitStatus::Signaled(_, s, _)) => 128 + s as i32,
            Ok(_) => return Ok(None),
            Err(e) => return Err(Error::sys(format!("wait for container init {}", self.pid), e)),
        };
        if let Some(m) = &self.pty {
            set_nonblock(m.as_raw_fd());
            while self.pty_to_stdout() {}
        }
        Ok(Some(code))
    }

    /// Copies what the pty has to stdout; false when it is closed or empty (non-blocking).
    fn pty_to_stdout(&self) -> bool {
        let Some(m) = &self.pty else { return false };
        let mut buf = [0u8; 8192];
        match nix::unistd::read(m.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                write_all(1, &buf[..n]);
                true
            }
        }
    }

    fn stdin_to_pty(&mut self) {
        let Some(m) = &self.pty else { return };
        let mut buf = [0u8; 8192];
        match nix::unistd::read(0, &mut buf) {
            Ok(0) | Err(_) => self.stdin_open = false,
            Ok(n) => write_all(m.as_raw_fd(), &buf[..n]),
        }
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd { fd, events: libc::POLLIN, revents: 0 }
}

fn set_nonblock(fd: RawFd) {
    // SAFETY: fcntl flag changes on an fd we hold.
    unsafe { libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK) };
}

fn write_all(fd: RawFd, mut b: &[u8]) {
    while !b.is_empty() {
        // SAFETY: b is a valid slice.
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}
