//! Hooks the init runs itself: createContainer (before pivot_root, in the
//! container's namespaces) and startContainer (after start, before exec).
//! Each gets the state JSON on stdin, exactly its own env, and a timeout.

use crate::sys::{self, check, cstr, R};
use runc_init::HookPlan;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub fn run_all(hooks: &[HookPlan], state: &str, kind: &str) -> R<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state).map_err(|e| format!("error running {kind} hook #{i}: {e}"))?;
    }
    Ok(())
}

fn run_one(h: &HookPlan, state: &str) -> R<()> {
    let path = cstr(&h.path)?;
    let args: Vec<CString> = if h.args.is_empty() { vec![path.clone()] } else { h.args.iter().map(|a| cstr(a)).collect::<R<_>>()? };
    let env: Vec<CString> = h.env.iter().map(|e| cstr(e)).collect::<R<_>>()?;
    let mut av: Vec<*const libc::c_char> = args.iter().map(|c| c.as_ptr()).collect();
    av.push(std::ptr::null());
    let mut ev: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    ev.push(std::ptr::null());
    let mut p = [0; 2];
    // SAFETY: pipe2 fills two fds.
    check(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } as i64, || "pipe".into())?;
    // SAFETY: fresh fds we own.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) };
    // Output goes to a memfd: no pipe to fill up, and it is there for the error.
    // SAFETY: memfd_create with a valid name.
    let out = unsafe { libc::memfd_create(c"hook-output".as_ptr(), libc::MFD_CLOEXEC) };
    check(out as i64, || "memfd_create".into())?;
    // SAFETY: fresh fd we own.
    let out = unsafe { OwnedFd::from_raw_fd(out) };
    // SAFETY: the init is single-threaded; the child only dup2s and execs.
    let pid = unsafe { libc::fork() };
    check(pid as i64, || "fork hook".into())?;
    if pid == 0 {
        // SAFETY: raw calls in the child; _exit on failure.
        unsafe {
            libc::dup2(rd.as_raw_fd(), 0);
            libc::dup2(out.as_raw_fd(), 1);
            libc::dup2(out.as_raw_fd(), 2);
            sys::reset_signals();
            libc::execve(path.as_ptr(), av.as_ptr(), ev.as_ptr());
            libc::_exit(127);
        }
    }
    drop(rd);
    let _ = sys::write_all(wr.as_raw_fd(), state.as_bytes());
    drop(wr);
    match wait(pid, h.timeout_secs)? {
        None => Ok(()),
        Some(how) => Err(format!("{how}, output: {:?}", read_output(&out).trim())),
    }
}

/// Waits for the hook (killing it after `timeout` seconds); None on success,
/// else how it failed.
fn wait(pid: i32, timeout: Option<u32>) -> R<Option<String>> {
    // SAFETY: pidfd_open on our own child.
    let pfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    check(pfd, || "pidfd_open hook".into())?;
    // SAFETY: fresh fd we own.
    let pfd = unsafe { OwnedFd::from_raw_fd(pfd as i32) };
    let ms = timeout.map_or(-1, |t| (t as i64 * 1000).min(i32::MAX as i64) as i32);
    let mut p = libc::pollfd { fd: pfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    let timed_out = r == 0;
    if timed_out {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut st = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    if timed_out {
        return Err(format!("timeout after {} seconds", timeout.unwrap_or(0)));
    }
    Ok(match (libc::WIFEXITED(st), libc::WEXITSTATUS(st)) {
        (true, 0) => None,
        (true, c) => Some(format!("exit status {c}")),
        _ => Some(format!("signal: {}", libc::WTERMSIG(st))),
    })
}

fn read_output(fd: &OwnedFd) -> String {
    let mut buf = vec![0u8; 4096];
    // SAFETY: pread into our buffer.
    let n = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    buf.truncate(n.max(0) as usize);
    String::from_utf8_lossy(&buf).into_owned()
}
