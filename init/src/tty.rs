//! The container's terminal: a pty from the container's own devpts, its peer
//! taken by fd (TIOCGPTPEER, never by /dev/pts/N path, CVE-2025-52565).

use crate::sys::{self, check, R};
use runc_init::ProcessPlan;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
const TIOCGPTPEER: libc::c_ulong = 0x5441;

/// Opens a pty on the ptmx `master` fd: returns (master, peer).
pub fn open(master: OwnedFd, p: &ProcessPlan) -> R<(OwnedFd, OwnedFd)> {
    if sys::fstatfs_type(master.as_raw_fd())? != DEVPTS_SUPER_MAGIC {
        return Err("/dev/pts/ptmx is not on a devpts mount".into());
    }
    let m = master.as_raw_fd();
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int through the pointer.
    check(unsafe { libc::ioctl(m, libc::TIOCSPTLCK, &unlock) } as i64, || "unlock pty".into())?;
    // SAFETY: TIOCGPTPEER returns a new fd for the peer of this master.
    let s = unsafe { libc::ioctl(m, TIOCGPTPEER as _, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    check(s as i64, || "open pty peer".into())?;
    // SAFETY: s is a fresh fd from the kernel.
    let peer = unsafe { OwnedFd::from_raw_fd(s) };
    if let Some((h, w)) = p.console_size {
        let ws = libc::winsize { ws_row: h as u16, ws_col: w as u16, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads a winsize struct.
        check(unsafe { libc::ioctl(s, libc::TIOCSWINSZ, &ws) } as i64, || "set console size".into())?;
    }
    Ok((master, peer))
}

/// Makes the pty peer our stdin/stdout/stderr and controlling terminal.
pub fn make_stdio(peer: &OwnedFd) -> R<()> {
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors.
        check(unsafe { libc::dup2(peer.as_raw_fd(), fd) } as i64, || "dup pty to stdio".into())?;
    }
    // SAFETY: we are a session leader (setsid earlier); make the pty our ctty.
    check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } as i64, || "set controlling terminal".into()).map(drop)
}
