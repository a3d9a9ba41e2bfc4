//! Drives a spawned runc-init through set-up over the sync socket, answering
//! its requests (id maps) until it reports "created" or an error.

use super::spawn::Spawned;
use crate::error::{Error, ErrorKind, Result};
use crate::spec::types::IdMapping;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use runc_init::{chan, msg, Plan, Wire};
use std::os::fd::{AsRawFd, OwnedFd};

/// What a finished set-up hands back.
pub struct SetupResult {
    /// The container init's pid in our pid namespace.
    pub pid: i32,
    /// The pty master, when the process has a terminal.
    pub pty: Option<OwnedFd>,
}

/// Id maps to write for a new user namespace.
pub struct IdMaps<'a> {
    pub uid: &'a [IdMapping],
    pub gid: &'a [IdMapping],
}

/// Sends the plan and serves the init until CREATED. On error the caller
/// must kill `result pid` if any; stage one is always reaped here.
pub fn run(sp: &Spawned, plan: &Plan, listener: &OwnedFd, maps: &IdMaps, pid_out: &mut Option<i32>) -> Result<SetupResult> {
    let sync = sp.sync.as_raw_fd();
    let mut stage1_reaped = false;
    let r = (|| {
        chan::send(sync, msg::PLAN, &plan.encode(), &[listener.as_raw_fd()]).map_err(|e| Error::sys("send plan to runc-init", e))?;
        let mut pty = None;
        loop {
            let m = match chan::recv(sync) {
                Ok(Some(m)) => m,
                Ok(None) => return Err(init_died(sp.pid, &mut stage1_reaped)),
                Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => return Err(init_died(sp.pid, &mut stage1_reaped)),
                Err(e) => return Err(Error::sys("read from runc-init", e)),
            };
            match m.tag {
                msg::NEED_IDMAP => {
                    write_maps(u32_of(&m.data)? as i32, maps)?;
                    ack(sync)?;
                }
                msg::PID => {
                    let pid = u32_of(&m.data)? as i32;
                    *pid_out = Some(pid);
                    if pid != sp.pid {
                        let _ = waitpid(Pid::from_raw(sp.pid), None);
                        stage1_reaped = true;
                    }
                    ack(sync)?;
                }
                msg::PTY => pty = m.fds.into_iter().next(),
                msg::CREATED => return Ok(SetupResult { pid: pid_out.expect("PID before CREATED"), pty }),
                msg::ERROR => return Err(Error::new(ErrorKind::Init, String::from_utf8_lossy(&m.data).into_owned())),
                t => return Err(Error::new(ErrorKind::Init, format!("runc-init sent unknown message {t}"))),
            }
        }
    })();
    if r.is_err() && !stage1_reaped && *pid_out != Some(sp.pid) {
        let _ = nix::sys::signal::kill(Pid::from_raw(sp.pid), nix::sys::signal::SIGKILL);
        let _ = waitpid(Pid::from_raw(sp.pid), None);
    }
    r
}

fn ack(sync: i32) -> Result<()> {
    chan::send(sync, msg::ACK, &[], &[]).map_err(|e| Error::sys("write to runc-init", e))
}

fn u32_of(d: &[u8]) -> Result<u32> {
    d.try_into().map(u32::from_le_bytes).map_err(|_| Error::new(ErrorKind::Init, "runc-init sent a malformed message"))
}

fn init_died(pid: i32, reaped: &mut bool) -> Error {
    *reaped = true;
    let status = waitpid(Pid::from_raw(pid), None);
    Error::new(ErrorKind::Init, format!("runc-init exited before the container was created ({status:?})"))
}

fn write_maps(pid: i32, maps: &IdMaps) -> Result<()> {
    let text = |m: &[IdMapping]| m.iter().map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size)).collect::<String>();
    for (file, m) in [("uid_map", maps.uid), ("gid_map", maps.gid)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, text(m)).map_err(|e| Error::sys(format!("write {path}"), e))?;
    }
    Ok(())
}
