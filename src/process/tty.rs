//! The caller's terminal during a foreground run: raw mode (restored on
//! drop) and window-size copying to the container's pty.

use nix::sys::termios::{self, SetArg, Termios};
use std::os::fd::{BorrowedFd, RawFd};

/// Puts `fd` in raw mode while alive, if it is a terminal.
pub struct RawMode {
    fd: RawFd,
    saved: Option<Termios>,
}

impl RawMode {
    pub fn enter(fd: RawFd) -> RawMode {
        // SAFETY: fd stays open for the life of the guard (it is our stdin).
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let saved = termios::tcgetattr(b).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(b, SetArg::TCSANOW, &raw);
        }
        RawMode { fd, saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            // SAFETY: as in enter().
            let b = unsafe { BorrowedFd::borrow_raw(self.fd) };
            let _ = termios::tcsetattr(b, SetArg::TCSANOW, t);
        }
    }
}

/// Copies the window size of terminal `from` to pty `to`; no-op when `from` is not a tty.
pub fn copy_size(from: RawFd, to: RawFd) {
    // SAFETY: winsize is plain data; TIOCGWINSZ/TIOCSWINSZ read/write one struct.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}
