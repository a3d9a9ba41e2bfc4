//! librunc: an OCI runtime-spec 1.3 container runtime as a library.
//!
//! The Rust API is [`Runtime`] (a state root) with create/start/state/kill/
//! delete/run; the `runc` CLI and the C API in [`capi`] are thin faces of it.
//! See docs/ARCHITECTURE.md for how a bundle becomes a running process.

pub mod capi;
pub mod cgroups;
pub mod container;
pub mod error;
pub mod features;
pub mod hooks;
pub mod linux;
pub mod log;
pub mod process;
pub mod spec;

pub use container::state::{State, Status};
pub use container::{CreateOptions, Created, ExecFlags, ExecOptions, ExecProcess, Runtime, DEFAULT_ROOT};
pub use error::{Error, ErrorKind, Result};

/// The OCI runtime-spec version this runtime implements.
pub const SPEC_VERSION: &str = "1.3.0";
/// This library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Build-time features, as compiled in.
pub fn features() -> Vec<&'static str> {
    let mut f = Vec::new();
    if cfg!(feature = "seccomp") {
        f.push("seccomp");
    }
    if cfg!(feature = "selinux") {
        f.push("selinux");
    }
    if cfg!(feature = "apparmor") {
        f.push("apparmor");
    }
    f
}

impl Runtime {
    /// create and start at once, as `run -d` does: no start socket, and the
    /// init execs as soon as it is set up (no request and reply between).
    /// Returns once the process is exec'd; on any failure nothing is left.
    pub fn create_started(&self, id: &str, opts: &CreateOptions) -> Result<container::Created> {
        let created = self.create_with(id, opts, container::StartBy::Now)?;
        if let Err(e) = self.await_exec(id) {
            let _ = self.delete(id, true);
            return Err(e);
        }
        Ok(created)
    }

    /// Waits up to `timeout_ms` (-1 forever, 0 poll) for the container's init.
    /// The exit status is known for inits this process created (they are its
    /// children); for others only that they exited.
    pub fn wait(&self, id: &str, timeout_ms: i32) -> Result<process::wait::Waited> {
        process::wait::wait(self.state(id)?.pid, timeout_ms)
    }

    /// `exec`; unless `detach`, waits in the foreground (signals forwarded,
    /// terminal relayed) and returns the process's exit status.
    pub fn exec_foreground(&self, id: &str, opts: &ExecOptions, detach: bool) -> Result<Option<i32>> {
        let signals = process::foreground::Signals::block()?;
        let p = self.exec(id, &ExecOptions { keep_pty: !detach, ..opts.clone() })?;
        if detach {
            return Ok(None);
        }
        process::foreground::wait(p.pid, p.pty, &signals).map(Some)
    }

    /// create + start + wait in the foreground (signals forwarded, terminal
    /// relayed), then delete; returns the exit status. With `detach`, returns
    /// None right after start.
    pub fn run(&self, id: &str, opts: &CreateOptions, detach: bool) -> Result<Option<i32>> {
        let signals = process::foreground::Signals::block()?;
        let created = self.create_started(id, &CreateOptions { keep_pty: !detach, ..opts.clone() })?;
        if detach {
            return Ok(None);
        }
        let status = process::foreground::wait(created.pid, created.pty, &signals);
        let _ = self.delete(id, true);
        status.map(Some)
    }
}
