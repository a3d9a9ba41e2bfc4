//! Drives a spawned runc-init through set-up over the sync socket, answering
//! its requests (id maps, runtime hooks) until it reports "created" (or, for
//! exec, until it has exec'd) or an error.

use super::spawn::Spawned;
use crate::error::{Error, ErrorKind, Result};
use crate::spec::types::IdMapping;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use runc_init::{chan, msg, Plan, Wire};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// What a finished set-up hands back.
pub struct SetupResult {
    /// The container init's (or exec'd process's) pid in our pid namespace.
    pub pid: i32,
    /// The pty master, when the process has a terminal.
    pub pty: Option<OwnedFd>,
}

/// How the library answers the init.
pub struct Serve<'a> {
    pub uid_maps: &'a [IdMapping],
    pub gid_maps: &'a [IdMapping],
    /// Runs prestart/createRuntime hooks for init `pid`; returns the state
    /// JSONs (creating, created) the init's own hooks read.
    pub on_hooks: &'a dyn Fn(i32) -> Result<Vec<String>>,
    /// `exec`: success is EOF after EXECING, not CREATED.
    pub exec_mode: bool,
    /// Passes a seccomp notify fd on to the profile's listener.
    pub on_seccomp_fd: &'a dyn Fn(OwnedFd) -> Result<()>,
    /// Work of ours done while the init works on its plan.
    pub after_plan: &'a dyn Fn() -> Result<()>,
    /// Work of ours for the process's pid, done while the init goes on.
    pub on_pid: &'a dyn Fn(i32) -> Result<()>,
}

/// Sends the plan and serves the init. `pid_out` gets the process's pid as
/// soon as it is known, so the caller can clean up on error; stage one is
/// always reaped here.
/// `fds` go with the plan: one open `tasks` file per `plan.join_tasks`
/// entry, then the start socket's listener if there is one.
pub fn run(sp: &Spawned, plan: &Plan, fds: &[RawFd], serve: &Serve, pid_out: &mut Option<i32>) -> Result<SetupResult> {
    let mut stage1_reaped = false;
    let r = serve_loop(sp, plan, fds, serve, pid_out, &mut stage1_reaped);
    // Stage one is the process itself when no fork was needed: on success it stays.
    if r.is_err() && !stage1_reaped {
        let _ = nix::sys::signal::kill(Pid::from_raw(sp.pid), nix::sys::signal::SIGKILL);
        let _ = waitpid(Pid::from_raw(sp.pid), None);
    }
    r
}

fn serve_loop(
    sp: &Spawned,
    plan: &Plan,
    fds: &[RawFd],
    serve: &Serve,
    pid_out: &mut Option<i32>,
    reaped: &mut bool,
) -> Result<SetupResult> {
    let sync = sp.sync.as_raw_fd();
    chan::send(sync, msg::PLAN, &plan.encode(), fds).map_err(|e| Error::sys("send plan to runc-init", e))?;
    (serve.after_plan)()?;
    super::initbin::release_mount();
    let mut pty = None;
    let mut execing = false;
    loop {
        let m = match chan::recv(sync) {
            Ok(Some(m)) => m,
            Ok(None) if execing => return Ok(SetupResult { pid: pid_out.expect("PID before EXECING"), pty }),
            Ok(None) => return Err(init_died()),
            Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => return Err(init_died()),
            Err(e) => return Err(Error::sys("read from runc-init", e)),
        };
        match m.tag {
            msg::NEED_IDMAP => {
                write_maps(u32_of(&m.data)? as i32, serve)?;
                send(sync, msg::ACK, &[])?;
            }
            msg::PID => {
                let pid = match u32_of(&m.data)? as i32 {
                    0 => sp.pid,
                    p => p,
                };
                *pid_out = Some(pid);
                // A forked init waits for our ACK (see msg::PID).
                if pid != sp.pid {
                    let _ = waitpid(Pid::from_raw(sp.pid), None);
                    *reaped = true;
                    send(sync, msg::ACK, &[])?;
                }
                (serve.on_pid)(pid)?;
            }
            msg::HOOKS => {
                let states = (serve.on_hooks)(pid_out.expect("PID before HOOKS"))?;
                send(sync, msg::ACK, &states.encode())?;
            }
            msg::PTY => pty = m.fds.into_iter().next(),
            msg::SECCOMP_FD => {
                let fd = m.fds.into_iter().next().ok_or_else(|| Error::new(ErrorKind::Init, "seccomp message without an fd"))?;
                (serve.on_seccomp_fd)(fd)?;
            }
            msg::CREATED if !serve.exec_mode => return Ok(SetupResult { pid: pid_out.expect("PID before CREATED"), pty }),
            msg::EXECING if serve.exec_mode => execing = true,
            msg::ERROR => return Err(Error::new(ErrorKind::Init, format!("unable to start container process: {}", String::from_utf8_lossy(&m.data)))),
            t => return Err(Error::new(ErrorKind::Init, format!("runc-init sent unexpected message {t}"))),
        }
    }
}

fn send(sync: i32, tag: u8, data: &[u8]) -> Result<()> {
    chan::send(sync, tag, data, &[]).map_err(|e| Error::sys("write to runc-init", e))
}

fn u32_of(d: &[u8]) -> Result<u32> {
    d.try_into().map(u32::from_le_bytes).map_err(|_| Error::new(ErrorKind::Init, "runc-init sent a malformed message"))
}

fn init_died() -> Error {
    Error::new(ErrorKind::Init, "unable to start container process: runc-init exited unexpectedly")
}

fn write_maps(pid: i32, serve: &Serve) -> Result<()> {
    let text = |m: &[IdMapping]| m.iter().map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size)).collect::<String>();
    for (file, m) in [("uid_map", serve.uid_maps), ("gid_map", serve.gid_maps)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, text(m)).map_err(|e| Error::sys(format!("write {path}"), e))?;
    }
    Ok(())
}
