//! SCMP_ACT_NOTIFY: the init hands the seccomp notify fd to the runtime,
//! which passes it to the agent at `linux.seccomp.listenerPath` with the
//! container's state (runtime-spec "ContainerProcessState"), in one sendmsg.

use super::io::connect_stream;
use super::state::State;
use crate::error::{Error, Result};
use crate::spec::types::Seccomp;
use std::os::fd::{AsRawFd, OwnedFd};

pub fn forward(seccomp: Option<&Seccomp>, st: &State, fd: OwnedFd) -> Result<()> {
    let s = seccomp.ok_or_else(|| Error::new(crate::ErrorKind::Init, "seccomp notify fd without a seccomp profile"))?;
    let path = s.listener_path.as_deref().unwrap_or_default();
    let msg = serde_json::json!({
        "ociVersion": crate::SPEC_VERSION,
        "fds": ["seccompFd"],
        "pid": st.pid,
        "metadata": s.listener_metadata.clone().unwrap_or_default(),
        "state": st.to_oci_json(),
    })
    .to_string();
    let conn = connect_stream(std::path::Path::new(path)).map_err(|e| Error::new(e.kind, format!("linux.seccomp.listenerPath: {}", e.msg)))?;
    let iov = [std::io::IoSlice::new(msg.as_bytes())];
    let fds = [fd.as_raw_fd()];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    nix::sys::socket::sendmsg::<()>(conn.as_raw_fd(), &iov, &cmsg, nix::sys::socket::MsgFlags::empty(), None)
        .map_err(|e| Error::sys(format!("send seccomp fd to {path}"), e))?;
    Ok(())
}
