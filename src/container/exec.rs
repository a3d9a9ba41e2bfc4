//! `exec`: a new process in every namespace of a running container.

use super::io::{send_console, stdio_or_null, write_pid_file};
use super::state::{State, Status};
use super::{check_console, Created, Runtime};
use crate::error::{Error, ErrorKind, Result};
use crate::process::{plan, setup, spawn};
use crate::spec::types::Process;
use crate::spec::validate::validate_process;
use std::os::fd::{AsRawFd, RawFd};
use std::borrow::Cow;
use std::path::PathBuf;

/// What `exec` runs.
#[derive(Debug, Clone)]
pub enum ExecProcess {
    /// A whole process (`runc exec --process`, the C API's JSON).
    Given(Process),
    /// The container's own process with runc's exec flags applied; read
    /// from the container's config while `exec` loads it anyway.
    Flags(ExecFlags),
}

impl Default for ExecProcess {
    fn default() -> Self {
        ExecProcess::Given(Process::default())
    }
}

/// Options of `exec`.
#[derive(Debug, Default, Clone)]
pub struct ExecOptions {
    pub process: ExecProcess,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    /// The process's stdin/stdout/stderr; None inherits ours.
    pub stdio: Option<[RawFd; 3]>,
    /// Keep the pty master for the caller (foreground exec).
    pub keep_pty: bool,
}

/// runc's exec flags applied to the container's own process (the base).
#[derive(Debug, Default, Clone)]
pub struct ExecFlags {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<(u32, Option<u32>)>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub tty: bool,
}

impl ExecFlags {
    /// The process runc builds from `exec` flags without `--process`.
    pub fn apply(self, base: &Process) -> Process {
        let mut p = base.clone();
        p.args = self.args;
        p.terminal = self.tty;
        p.console_size = None;
        p.env.extend(self.env);
        if let Some(cwd) = self.cwd {
            p.cwd = cwd;
        }
        if let Some((uid, gid)) = self.user {
            p.user.uid = uid;
            if let Some(g) = gid {
                p.user.gid = g;
            }
        }
        p.user.additional_gids.extend(self.additional_gids);
        if !self.caps.is_empty() {
            let c = p.capabilities.get_or_insert_with(Default::default);
            for set in [&mut c.bounding, &mut c.effective, &mut c.permitted] {
                set.get_or_insert_with(Vec::new).extend(self.caps.iter().cloned());
            }
        }
        p.no_new_privileges |= self.no_new_privs;
        p
    }
}

impl Runtime {
    /// Starts `opts.process` in container `id`; returns its pid (our child).
    pub fn exec(&self, id: &str, opts: &ExecOptions) -> Result<Created> {
        let dir = self.dir(id)?;
        let st = State::load(&dir, id)?;
        match st.status {
            Status::Stopped => return Err(Error::new(ErrorKind::State, "cannot exec in a stopped container")),
            // Its process would freeze on joining the freezer cgroup.
            Status::Paused => return Err(Error::new(ErrorKind::State, "cannot exec in a paused container")),
            _ => {}
        }
        let spec = self.config(&dir)?;
        let process = match &opts.process {
            ExecProcess::Given(p) => Cow::Borrowed(p),
            ExecProcess::Flags(f) => Cow::Owned(f.clone().apply(spec.process.as_ref().unwrap_or(&Process::default()))),
        };
        validate_process(&process)?;
        check_console(process.terminal, opts.console_socket.is_some(), opts.keep_pty)?;
        let popts = plan::PlanOptions { preserve_fds: opts.preserve_fds, ..Default::default() };
        let plan = plan::build_exec(&spec, &process, st.pid, st.cgroup.as_ref(), &popts)?;
        let (stdio, _null) = stdio_or_null(opts.stdio)?;
        let seal = crate::process::initbin::Seal::for_container(&spec, Some(&process));
        let cg_fd = st.cgroup.as_ref().and_then(|c| c.unified_dir_fd());
        let sp = spawn::spawn(&spawn::SpawnFds { stdio, preserve_fds: opts.preserve_fds, seal, cgroup: cg_fd.as_ref().map(|f| f.as_raw_fd()), new_pid_ns: false })?;
        if let Some(cg) = st.cgroup.as_ref().filter(|_| !sp.in_cgroup) {
            if let Err(e) = cg.join_unified(sp.pid) {
                let _ = super::kill_and_wait(sp.pid);
                return Err(e);
            }
        }
        let no_hooks = |_: i32| -> Result<Vec<String>> { Err(Error::new(ErrorKind::Init, "exec does not run hooks")) };
        let seccomp = spec.linux.as_ref().and_then(|l| l.seccomp.clone());
        let forward = |fd| super::notify::forward(seccomp.as_ref(), &st, fd);
        let serve = setup::Serve { uid_maps: &[], gid_maps: &[], on_hooks: &no_hooks, exec_mode: true, on_seccomp_fd: &forward, after_plan: &|| Ok(()), on_pid: &|_| Ok(()) };
        let mut pid = None;
        let tasks = crate::cgroups::Cgroup::open_tasks(&plan.join_tasks, &mut crate::linux::smallfile::Dirs::default()).inspect_err(|_| {
            let _ = super::kill_and_wait(sp.pid);
        })?;
        let fds: Vec<std::os::fd::RawFd> = tasks.iter().map(|f| f.as_raw_fd()).collect();
        let res = setup::run(&sp, &plan, &fds, &serve, &mut pid).inspect_err(|_| {
            if let Some(p) = pid {
                let _ = super::kill_and_wait(p);
            }
        })?;
        let mut pty = res.pty;
        if let (Some(sock), Some(master)) = (&opts.console_socket, &pty) {
            send_console(sock, master.as_raw_fd())?;
            pty = None;
        }
        if let Some(p) = &opts.pid_file {
            write_pid_file(p, res.pid)?;
        }
        Ok(Created { pid: res.pid, pty })
    }
}
