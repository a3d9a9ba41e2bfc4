//! The container's terminal: a pty from the container's own devpts, its peer
//! taken by fd (TIOCGPTPEER, never by /dev/pts/N path) and bound to /dev/console.

use crate::rootfs::{self, Root};
use crate::sys::{self, check, fd_path, R};
use runc_init::ProcessPlan;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
const TIOCGPTPEER: libc::c_ulong = 0x5441;

/// Opens the pty, makes its peer our stdio and controlling terminal and
/// /dev/console; returns the master for the library.
pub fn setup(root: &Root, p: &ProcessPlan) -> R<OwnedFd> {
    let master = rootfs::open_in(root, "/dev/pts/ptmx", libc::O_RDWR | libc::O_NOCTTY)?;
    if sys::fstatfs_type(master.as_raw_fd())? != DEVPTS_SUPER_MAGIC {
        return Err("/dev/pts/ptmx is not on a devpts mount".into());
    }
    let m = master.as_raw_fd();
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int through the pointer.
    check(unsafe { libc::ioctl(m, libc::TIOCSPTLCK, &unlock) } as i64, || "unlock pty".into())?;
    // SAFETY: TIOCGPTPEER returns a new fd for the peer of this master.
    let s = unsafe { libc::ioctl(m, TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    check(s as i64, || "open pty peer".into())?;
    // SAFETY: s is a fresh fd from the kernel.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    if let Some((h, w)) = p.console_size {
        let ws = libc::winsize { ws_row: h as u16, ws_col: w as u16, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads a winsize struct.
        check(unsafe { libc::ioctl(s, libc::TIOCSWINSZ, &ws) } as i64, || "set console size".into())?;
    }
    let console = root.mkdir_all("/dev/console", true)?;
    sys::mount(Some(&fd_path(s)), &fd_path(console.as_raw_fd()), None, libc::MS_BIND, None, "/dev/console")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors.
        check(unsafe { libc::dup2(s, fd) } as i64, || "dup pty to stdio".into())?;
    }
    // SAFETY: we are a session leader (setsid earlier); make the pty our ctty.
    check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } as i64, || "set controlling terminal".into())?;
    drop(slave);
    Ok(master)
}
