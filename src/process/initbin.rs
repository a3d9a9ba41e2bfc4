//! The embedded init program, copied once per process into a sealed memfd.
//! Containers can never write to it (CVE-2019-5736): the memfd is sealed
//! against writes and resizing, and it is not the caller's own binary.

use crate::error::{Context, Result};
use once_cell::sync::OnceCell;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

static INIT_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runc-init"));
static SEALED: OnceCell<OwnedFd> = OnceCell::new();

/// The sealed memfd holding runc-init (made on first use, then shared).
pub fn fd() -> Result<RawFd> {
    SEALED.get_or_try_init(seal).map(|f| f.as_raw_fd())
}

/// Size of the embedded init, for diagnostics and benchmarks.
pub fn size() -> usize {
    INIT_ELF.len()
}

fn seal() -> Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag as F};
    // MFD_EXEC (0x10) is needed where vm.memfd_noexec is set; older kernels reject it.
    let fd = memfd_create(c"runc-init", F::MFD_CLOEXEC | F::MFD_ALLOW_SEALING | F::from_bits_retain(0x10))
        .or_else(|_| memfd_create(c"runc-init", F::MFD_CLOEXEC | F::MFD_ALLOW_SEALING))
        .context(|| "memfd_create for runc-init".into())?;
    let mut f = std::fs::File::from(fd);
    f.write_all(INIT_ELF).context(|| "write runc-init to memfd".into())?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on an fd we own, with integer arguments.
    if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(crate::Error::sys("seal runc-init memfd", std::io::Error::last_os_error()));
    }
    Ok(f.into())
}
