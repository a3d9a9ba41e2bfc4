//! Message passing on the sync socket (SOCK_SEQPACKET): one tag byte, a
//! payload, and up to 32 file descriptors per message.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Largest message we accept; plans with big seccomp filters stay far below it.
pub const MAX_MSG: usize = 1 << 20;
const MAX_FDS: usize = 32;
/// Room for one SCM_RIGHTS header (16 bytes) and MAX_FDS descriptors.
const CMSG_WORDS: usize = 2 + MAX_FDS / 2;

/// A received message.
pub struct Msg {
    pub tag: u8,
    pub data: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

/// Sends `tag` + `data` with `fds` attached as SCM_RIGHTS, in one sendmsg.
pub fn send(sock: RawFd, tag: u8, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(data.len() + 1);
    buf.push(tag);
    buf.extend_from_slice(data);
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut cmsg_buf = [0u64; CMSG_WORDS];
    // SAFETY: msghdr is plain data; every pointer in it outlives the sendmsg call.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    if !fds.is_empty() {
        if fds.len() > MAX_FDS {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} fds in one message (at most {MAX_FDS})", fds.len())));
        }
        let payload = std::mem::size_of_val(fds) as u32;
        // SAFETY: CMSG_SPACE/CMSG_FIRSTHDR/CMSG_DATA only compute offsets inside
        // cmsg_buf, which is large enough for MAX_FDS descriptors.
        unsafe {
            mh.msg_control = cmsg_buf.as_mut_ptr().cast();
            mh.msg_controllen = libc::CMSG_SPACE(payload) as _;
            let c = libc::CMSG_FIRSTHDR(&mh);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(payload) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c).cast::<RawFd>(), fds.len());
        }
    }
    loop {
        // SAFETY: mh points at live buffers (see above).
        let n = unsafe { libc::sendmsg(sock, &mh, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one message; `Ok(None)` means the peer closed the socket.
pub fn recv(sock: RawFd) -> io::Result<Option<Msg>> {
    // Learn the message's size first (MSG_TRUNC reports it), so the buffer
    // fits it exactly instead of reserving MAX_MSG for a one-byte message.
    let size = retry(|| {
        // SAFETY: a zero-length peek; no buffer is written.
        unsafe { libc::recv(sock, std::ptr::null_mut(), 0, libc::MSG_PEEK | libc::MSG_TRUNC) }
    })?;
    let mut buf: Vec<u8> = vec![0; size.clamp(1, MAX_MSG)];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut cmsg_buf = [0u64; CMSG_WORDS];
    // SAFETY: as in send(): plain data whose pointers outlive the call.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cmsg_buf.as_mut_ptr().cast();
    mh.msg_controllen = std::mem::size_of_val(&cmsg_buf) as _;
    // SAFETY: mh points at live buffers.
    let n = retry(|| unsafe { libc::recvmsg(sock, &mut mh, libc::MSG_CMSG_CLOEXEC) })?;
    let fds = take_fds(&mh);
    if n == 0 {
        return Ok(None);
    }
    if mh.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "sync message too large"));
    }
    buf.truncate(n);
    let tag = buf.remove(0);
    Ok(Some(Msg { tag, data: buf, fds }))
}

/// Repeats a system call interrupted by a signal.
fn retry(mut f: impl FnMut() -> isize) -> io::Result<usize> {
    loop {
        let n = f();
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn take_fds(mh: &libc::msghdr) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    // SAFETY: the kernel filled msg_control; the CMSG_* macros walk it within
    // msg_controllen, and each SCM_RIGHTS fd is new and owned by us.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(mh);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let p = libc::CMSG_DATA(c).cast::<RawFd>();
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    out.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(p.add(i))));
                }
            }
            c = libc::CMSG_NXTHDR(mh, c);
        }
    }
    out
}
