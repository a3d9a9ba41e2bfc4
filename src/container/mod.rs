//! Containers by id under a state root: create, start, state, kill, delete,
//! exec, list, ps.

mod exec;
pub mod id;
mod io;
mod notify;
pub mod state;

pub use exec::{ExecFlags, ExecOptions, ExecProcess};

use crate::error::{Context, Error, ErrorKind, Result};
use crate::hooks;
use crate::process::{plan, setup, spawn};
use crate::spec;
use io::{connect, listen, stdio_or_null, send_console, write_pid_file};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use runc_init::{chan, msg};
use crate::cgroups::Cgroup;
use crate::linux::smallfile::Dirs;
use state::{State, Status};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::DirBuilderExt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The default state root for root, as runc's.
pub const DEFAULT_ROOT: &str = "/run/runc";
const START_SOCK: &str = "start.sock";
const CONFIG_COPY: &str = "config.json";
/// The config's hooks, kept apart only when there are poststart or poststop
/// hooks, so that start and delete need not parse the whole config.
const HOOKS_COPY: &str = "hooks.json";

/// A state root: where containers' state directories live.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub root: PathBuf,
    /// Containers this process created and has not started: their init
    /// takes the start request on the sync socket we still hold, so that
    /// `start` (and `run`) need no state reload and no start-socket connection.
    pending: Arc<Mutex<BTreeMap<PathBuf, Pending>>>,
    /// The host's cgroup mounts, found again only when the mount table changes.
    mounts: Arc<crate::cgroups::MountCache>,
}

#[derive(Debug)]
struct Pending {
    state: State,
    sync: OwnedFd,
}

/// Options of `create`.
#[derive(Debug, Default, Clone)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    /// An in-memory config (JSON) used instead of `bundle/config.json`.
    pub config_json: Option<String>,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    /// Extra fds 3.. (after any socket-activation fds) passed to the container.
    pub preserve_fds: u32,
    /// Socket-activation fds (systemd's LISTEN_FDS) at 3..3+N.
    pub listen_fds: u32,
    pub no_pivot: bool,
    /// Keep the caller's session keyring instead of a new one per container.
    pub no_new_keyring: bool,
    /// The init's stdin/stdout/stderr; None inherits ours.
    pub stdio: Option<[RawFd; 3]>,
    /// Keep the pty master for the caller (foreground run) instead of sending it.
    pub keep_pty: bool,
}

/// Who starts a container once it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartBy {
    /// A later `start`: from any process through the start socket, or from
    /// the creating `Runtime` over the sync socket it keeps.
    Request,
    /// The creating process, at once (`run`): no start socket, and the init
    /// execs right after reporting "created" while we write the state.
    Now,
}

/// A container that `create` left in the created state.
pub struct Created {
    pub pid: i32,
    /// The pty master when `keep_pty` was asked and the process has a terminal.
    pub pty: Option<OwnedFd>,
}

impl Runtime {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { root: root.into(), pending: Arc::default(), mounts: Arc::default() }
    }

    fn dir(&self, id: &str) -> Result<PathBuf> {
        id::validate(id)?;
        Ok(state::dir(&self.root, id))
    }

    /// Creates container `id` from a bundle and leaves it waiting for `start`.
    pub fn create(&self, id: &str, opts: &CreateOptions) -> Result<Created> {
        self.create_with(id, opts, StartBy::Request)
    }

    /// `create`; with `StartBy::Now` the container is started too (see
    /// `run`), and the caller must `await_exec` it.
    pub(crate) fn create_with(&self, id: &str, opts: &CreateOptions, start_by: StartBy) -> Result<Created> {
        let dir = self.dir(id)?;
        let bundle = match &opts.config_json {
            Some(text) => spec::bundle_from_json(text, &opts.bundle)?,
            None => spec::load_bundle(&opts.bundle)?,
        };
        let terminal = bundle.spec.process.as_ref().is_some_and(|p| p.terminal);
        check_console(terminal, opts.console_socket.is_some(), opts.keep_pty)?;
        let popts = plan::PlanOptions {
            no_pivot: opts.no_pivot,
            preserve_fds: opts.preserve_fds,
            listen_fds: opts.listen_fds,
            session_keyring: (!opts.no_new_keyring).then(|| id.to_string()),
        };
        let linux = bundle.spec.linux_or_default();
        let resources = spec::validate::resources(&linux)?;
        let rules = crate::cgroups::devices::rules(&resources.devices, &device_numbers(&linux))?;
        let mut cgroup = Cgroup::resolve(linux.cgroups_path.as_deref(), id, &self.mounts)?;
        let mut plan = plan::build(&bundle, &popts, &cgroup)?;
        plan.start_now = start_by == StartBy::Now;
        let pid_ns_at_spawn = pid_ns_at_spawn(&plan);
        if pid_ns_at_spawn {
            plan.ns_new &= !(libc::CLONE_NEWPID as u64);
        }
        self.make_dir(id, &dir)?;
        let _lock = state::lock(&dir)?;
        let mut guard = Cleanup { dir: dir.clone(), pid: None, cgroup: None };
        let cg = CgroupSpec { cgroup: &mut cgroup, resources: &resources, rules: &rules, dirs: Dirs::default() };
        let created = self.create_in(id, &bundle, &plan, (opts, pid_ns_at_spawn), &mut guard, cg)?;
        guard.dir = PathBuf::new();
        Ok(created)
    }

    /// Spawns the init and serves it until CREATED. A cgroup2 directory is
    /// made before the spawn (the init is born in it); v1 hierarchies after
    /// it, while the init execs (it moves itself in, first thing).
    fn create_in(
        &self,
        id: &str,
        b: &spec::Bundle,
        plan: &runc_init::Plan,
        (opts, new_pid_ns): (&CreateOptions, bool),
        guard: &mut Cleanup,
        mut cg: CgroupSpec,
    ) -> Result<Created> {
        let dir = guard.dir.clone();
        let listener = if plan.start_now { None } else { Some(listen(&dir.join(START_SOCK))?) };
        let (stdio, _null) = stdio_or_null(opts.stdio)?;
        let seal = crate::process::initbin::Seal::for_container(&b.spec, None);
        cg.make_unified(guard)?;
        let cg_fd = cg.cgroup.unified_dir_fd();
        let sp = spawn::spawn(&spawn::SpawnFds { stdio, preserve_fds: opts.listen_fds + opts.preserve_fds, seal, cgroup: cg_fd.as_ref().map(|f| f.as_raw_fd()), new_pid_ns })?;
        guard.pid = Some(sp.pid);
        // While we make the v1 hierarchies, the init execs on another CPU.
        let away = if cg.cgroup.has_v1() { crate::process::affinity::Away::move_off(sp.pid) } else { None };
        cg.make_v1(guard)?;
        let cgroup = &*cg.cgroup;
        // Before the plan is sent, the init (and so every child) is in the
        // cgroup: born there (cgroup2), moved (cgroup2 without clone3), and
        // in v1 hierarchies it moves itself first thing (plan.join_tasks).
        if !sp.in_cgroup {
            cgroup.join_unified(sp.pid)?;
        }
        let linux = b.spec.linux_or_default();
        let base = State { cgroup: Some(cgroup.clone()), ..new_state(id, b) };
        let hooks = b.spec.hooks_or_default();
        let on_hooks = |pid: i32| -> Result<Vec<String>> {
            let creating = State { pid, status: Status::Creating, ..base.clone() }.to_oci_json().to_string();
            let created = State { pid, status: Status::Created, ..base.clone() }.to_oci_json().to_string();
            // prestart (deprecated) sees "created", as with runc.
            hooks::run_all(&hooks.prestart, &created, "prestart")?;
            hooks::run_all(&hooks.create_runtime, &creating, "createRuntime")?;
            Ok(vec![creating, created])
        };
        let no_fd = |_| Err(Error::new(ErrorKind::Init, "seccomp notify fd before start"));
        // While the init sets the container up.
        let copies = || -> Result<()> {
            std::fs::write(dir.join(CONFIG_COPY), &b.raw).context(|| format!("write {}/{CONFIG_COPY}", dir.display()))?;
            if b.spec.hooks.as_ref().is_some_and(|h| !h.poststart.is_empty() || !h.poststop.is_empty()) {
                let raw: serde_json::Value = serde_json::from_slice(&b.raw).expect("parsed before");
                std::fs::write(dir.join(HOOKS_COPY), serde_json::to_vec(&raw["hooks"]).expect("json")).context(|| format!("write {}/{HOOKS_COPY}", dir.display()))?;
            }
            Ok(())
        };
        // `create`: the state is written as soon as the pid is known, while
        // the init sets up, and "created" only renames it. (`run`: the init
        // execs right after "created", and the state is written meanwhile.)
        let staged = std::cell::RefCell::new(None);
        let on_pid = |pid: i32| -> Result<()> {
            if !plan.start_now {
                *staged.borrow_mut() = Some(stage_state(&base, pid, false, &dir)?);
            }
            Ok(())
        };
        let serve = setup::Serve { uid_maps: &linux.uid_mappings, gid_maps: &linux.gid_mappings, on_hooks: &on_hooks, exec_mode: false, on_seccomp_fd: &no_fd, after_plan: &copies, on_pid: &on_pid };
        let tasks = Cgroup::open_tasks(&plan.join_tasks, &mut cg.dirs)?;
        let fds: Vec<RawFd> = tasks.iter().chain(listener.as_ref()).map(|f| f.as_raw_fd()).collect();
        away.map(|a| a.back()).transpose()?;
        let res = setup::run(&sp, plan, &fds, &serve, &mut guard.pid)?;
        let mut pty = res.pty;
        if let (Some(sock), Some(master)) = (&opts.console_socket, &pty) {
            send_console(sock, master.as_raw_fd())?;
            pty = None;
        }
        let st = match staged.take() {
            Some(st) => st,
            None => stage_state(&base, res.pid, plan.start_now, &dir)?,
        };
        State::commit(&dir)?;
        if let Some(p) = &opts.pid_file {
            write_pid_file(p, res.pid)?;
        }
        self.pending().insert(dir.to_path_buf(), Pending { state: st, sync: sp.sync });
        Ok(Created { pid: res.pid, pty })
    }

    /// The container's state dir (and the state root, when it is missing).
    fn make_dir(&self, id: &str, dir: &Path) -> Result<()> {
        let mk = || std::fs::DirBuilder::new().mode(0o711).create(dir);
        let made = match mk() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.root).context(|| format!("create state root {}", self.root.display()))?;
                mk()
            }
            r => r,
        };
        made.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::new(ErrorKind::Exists, format!("container with id exists: {id}")),
            _ => Error::sys(format!("create {}", dir.display()), e),
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a created container exec its process; runs poststart hooks.
    pub fn start(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let _lock = state::lock_existing(&dir, id)?;
        let pending = self.pending().remove(&dir);
        let (st, conn) = match pending {
            Some(p) => (p.state, p.sync),
            None => {
                let st = State::load(&dir, id)?;
                startable(st.status)?;
                (st, connect(&dir.join(START_SOCK))?)
            }
        };
        if let Err(e) = chan::send(conn.as_raw_fd(), msg::START, &[], &[]) {
            // Our sync socket is dead: the init exited or was started elsewhere.
            startable(State::load(&dir, id)?.status)?;
            return Err(Error::sys("send start request", e));
        }
        // The state is written while the init execs; an init whose exec
        // fails exits, and a dead init reads as stopped whatever the file says.
        let _ = std::fs::remove_file(dir.join(START_SOCK));
        let running = State { started: true, status: Status::Running, ..st.clone() };
        running.save(&dir)?;
        self.exec_done(&dir, &st, &conn)?;
        self.poststart(&dir, &running)
    }

    /// After `create_with(.., StartBy::Now)`: waits until the container's
    /// process is exec'd (its state already says so), runs poststart hooks.
    pub(crate) fn await_exec(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let p = self.pending().remove(&dir).ok_or_else(|| state::not_found(id))?;
        self.exec_done(&dir, &p.state, &p.sync)?;
        self.poststart(&dir, &p.state)
    }

    /// Serves a starting init on `conn` until it has exec'd (EOF) or failed.
    fn exec_done(&self, dir: &Path, st: &State, conn: &OwnedFd) -> Result<()> {
        loop {
            match chan::recv(conn.as_raw_fd()) {
                Ok(None) => break,
                Ok(Some(m)) if m.tag == msg::ERROR => {
                    // The init exits right after; once we return, the
                    // container must read as stopped.
                    let _ = crate::process::wait::wait_foreign(st.pid, 1000);
                    return Err(Error::new(ErrorKind::Init, String::from_utf8_lossy(&m.data).into_owned()));
                }
                Ok(Some(m)) if m.tag == msg::SECCOMP_FD => {
                    let spec = self.config(dir)?;
                    let fd = m.fds.into_iter().next().ok_or_else(|| Error::new(ErrorKind::Init, "seccomp message without an fd"))?;
                    notify::forward(spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()), st, fd)?;
                }
                Ok(Some(m)) => return Err(Error::new(ErrorKind::Init, format!("unexpected start reply {}", m.tag))),
                Err(e) => return Err(Error::sys("read start reply", e)),
            }
        }
        Ok(())
    }

    fn poststart(&self, dir: &Path, st: &State) -> Result<()> {
        let post = self.post_hooks(dir)?.poststart;
        hooks::run_all_warn(&post, || st.to_oci_json().to_string(), "poststart");
        Ok(())
    }

    pub fn state(&self, id: &str) -> Result<State> {
        State::load(&self.dir(id)?, id)
    }

    /// The poststart and poststop hooks of the container (none if it has none).
    fn post_hooks(&self, dir: &Path) -> Result<spec::types::Hooks> {
        let path = dir.join(HOOKS_COPY);
        match std::fs::read(&path) {
            Ok(text) => serde_json::from_slice(&text).map_err(|e| Error::new(ErrorKind::System, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(Error::sys(format!("read {}", path.display()), e)),
        }
    }

    /// The config the container was created with (kept in its state dir).
    fn config(&self, dir: &Path) -> Result<spec::Spec> {
        let path = dir.join(CONFIG_COPY);
        let text = std::fs::read(&path).context(|| format!("read {}", path.display()))?;
        // The copy is always a modern config: one pass; the value path only to name what is wrong.
        if let Some(spec) = spec::parse_modern(&text) {
            return Ok(spec);
        }
        spec::parse(&serde_json::from_slice(&text).map_err(|e| Error::new(ErrorKind::System, format!("{}: {e}", path.display())))?)
    }

    /// Sends `sig` to the container's init, or with `all` to every process in it.
    pub fn kill(&self, id: &str, sig: Signal, all: bool) -> Result<()> {
        let st = self.state(id)?;
        if st.status == Status::Stopped {
            return Err(Error::new(ErrorKind::State, "container not running"));
        }
        let pids = if all { self.container_pids(&st)? } else { vec![st.pid] };
        for pid in pids {
            match kill(Pid::from_raw(pid), sig) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) if all => {}
                Ok(()) => {}
                Err(e) => return Err(Error::sys(format!("kill container {id}"), e)),
            }
        }
        Ok(())
    }

    /// Removes a container's state; with `force`, kills a live one first.
    /// Runs poststop hooks (failures are warnings).
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let dir = self.dir(id)?;
        self.pending().remove(&dir);
        let lock = match state::lock_existing(&dir, id) {
            Err(e) if e.kind == ErrorKind::NotFound && force => return Ok(()),
            r => r?,
        };
        let st = match State::load(&dir, id) {
            Err(e) if e.kind == ErrorKind::NotFound && force => return Ok(()),
            r => r?,
        };
        match st.status {
            Status::Stopped => {}
            Status::Created => kill_and_wait(st.pid)?,
            _ if force => kill_and_wait(st.pid)?,
            s => return Err(Error::new(ErrorKind::State, format!("cannot delete container {id} that is not stopped: {s}"))),
        }
        if let Some(cg) = &st.cgroup {
            cg.destroy()?;
        }
        let post = self.post_hooks(&dir).map(|h| h.poststop).unwrap_or_default();
        state::remove(&dir, CONFIG_COPY).context(|| format!("remove {}", dir.display()))?;
        drop(lock);
        hooks::run_all_warn(&post, || State { status: Status::Stopped, ..st }.to_oci_json().to_string(), "poststop");
        Ok(())
    }

    /// The states of every container under the root, sorted by id.
    pub fn list(&self) -> Result<Vec<State>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::sys(format!("read {}", self.root.display()), e)),
        };
        // Sorted by id before loading: moving small entries, not states.
        let mut ids: Vec<(String, PathBuf)> = entries.flatten().map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect();
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut dirs = Dirs::default();
        let mut out = Vec::with_capacity(ids.len());
        out.extend(ids.iter().filter_map(|(id, p)| State::load_in(p, id, &mut dirs).ok()));
        Ok(out)
    }

    /// Pids of the container's processes, in our pid namespace.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        let st = self.state(id)?;
        if st.status == Status::Stopped {
            return Ok(Vec::new());
        }
        self.container_pids(&st)
    }

    /// The container's processes, from its cgroup.
    fn container_pids(&self, st: &State) -> Result<Vec<i32>> {
        st.cgroup.as_ref().ok_or_else(|| Error::new(ErrorKind::State, format!("container {} has no cgroup", st.id)))?.procs()
    }

    fn cgroup_of(&self, id: &str) -> Result<(State, Cgroup)> {
        let st = self.state(id)?;
        let cg = st.cgroup.clone().ok_or_else(|| Error::new(ErrorKind::State, format!("container {id} has no cgroup")))?;
        Ok((st, cg))
    }

    /// Freezes every process of a running container.
    pub fn pause(&self, id: &str) -> Result<()> {
        let (st, cg) = self.cgroup_of(id)?;
        match st.status {
            Status::Running | Status::Created => cg.freeze(true),
            Status::Paused => Ok(()),
            _ => Err(Error::new(ErrorKind::State, "container not running")),
        }
    }

    /// Thaws a paused container.
    pub fn resume(&self, id: &str) -> Result<()> {
        let (st, cg) = self.cgroup_of(id)?;
        match st.status {
            Status::Paused => cg.freeze(false),
            _ => Err(Error::new(ErrorKind::State, "container not paused")),
        }
    }

    /// Changes a live container's limits; zero values leave settings alone.
    pub fn update(&self, id: &str, r: &crate::cgroups::resources::Resources) -> Result<()> {
        let (st, cg) = self.cgroup_of(id)?;
        if st.status == Status::Stopped {
            return Err(Error::new(ErrorKind::State, "container not running"));
        }
        let rules = if r.devices.is_empty() {
            Vec::new()
        } else {
            let linux = self.config(&self.dir(id)?)?.linux.unwrap_or_default();
            crate::cgroups::devices::rules(&r.devices, &device_numbers(&linux))?
        };
        cg.set(r, &rules, &mut Dirs::default())
    }

    /// Resource usage of a container's cgroup (runc's stats JSON).
    pub fn stats(&self, id: &str) -> Result<serde_json::Value> {
        Ok(self.cgroup_of(id)?.1.stats())
    }

    /// The number of OOM kills so far in the container's cgroup.
    pub fn oom_kills(&self, id: &str) -> Result<u64> {
        Ok(self.cgroup_of(id)?.1.oom_kills())
    }
}

/// Whether the init can be spawned straight into the container's new PID
/// namespace (no fork in the init): not when a new user namespace must own
/// it, nor with a time namespace or a joined PID namespace (both also need
/// a fork).
fn pid_ns_at_spawn(plan: &runc_init::Plan) -> bool {
    let joined = plan.ns_join.iter().fold(0u64, |a, (f, _)| a | f);
    let fork_anyway = (libc::CLONE_NEWUSER | libc::CLONE_NEWTIME | libc::CLONE_NEWPID) as u64;
    plan.ns_new & libc::CLONE_NEWPID as u64 != 0 && (plan.ns_new & !(libc::CLONE_NEWPID as u64) | joined) & fork_anyway == 0
}

fn startable(s: Status) -> Result<()> {
    match s {
        Status::Created => Ok(()),
        Status::Stopped => Err(Error::new(ErrorKind::State, "cannot start a container that has stopped")),
        _ => Err(Error::new(ErrorKind::State, "cannot start an already running container")),
    }
}

fn check_console(terminal: bool, socket: bool, keep_pty: bool) -> Result<()> {
    if terminal && !socket && !keep_pty {
        return Err(Error::new(ErrorKind::InvalidArgument, "cannot allocate tty if runc will detach without setting console socket"));
    }
    if !terminal && socket {
        return Err(Error::new(ErrorKind::InvalidArgument, "cannot use console socket if runc will not detach or allocate tty"));
    }
    Ok(())
}

/// (type, major, minor) of the config's device nodes: they get an allow rule.
fn device_numbers(l: &spec::types::Linux) -> Vec<(char, u32, u32)> {
    l.devices
        .iter()
        .filter_map(|d| {
            let k = match d.kind.as_str() {
                "b" => 'b',
                "c" | "u" => 'c',
                _ => return None,
            };
            Some((k, d.major as u32, d.minor as u32))
        })
        .collect()
}

fn new_state(id: &str, b: &spec::Bundle) -> State {
    State {
        oci_version: crate::SPEC_VERSION.into(),
        id: id.into(),
        pid: 0,
        status: Status::Created,
        bundle: b.dir.to_string_lossy().into_owned(),
        rootfs: b.rootfs.to_string_lossy().into_owned(),
        created: state::rfc3339_now(),
        owner: String::new(),
        annotations: b.spec.annotations.clone(),
        init_start_time: 0,
        started: false,
        cgroup: None,
    }
}

/// Removes a half-created container: kills its init, removes its cgroup and
/// drops the state dir.
struct Cleanup {
    dir: PathBuf,
    pid: Option<i32>,
    cgroup: Option<Cgroup>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.dir.as_os_str().is_empty() {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = kill_and_wait(pid);
        }
        if let Some(cg) = &self.cgroup {
            let _ = cg.destroy();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The container's cgroup and what to set in it, made by `create`.
struct CgroupSpec<'a> {
    cgroup: &'a mut Cgroup,
    resources: &'a crate::cgroups::resources::Resources,
    rules: &'a [crate::cgroups::devices::Rule],
    /// Held directories for the cgroup's many files (`/sys/fs/cgroup`,
    /// each hierarchy's parent dir).
    dirs: Dirs,
}

impl CgroupSpec<'_> {
    /// The cgroup2 directory, before the spawn; on pure v2 with its limits.
    fn make_unified(&mut self, guard: &mut Cleanup) -> Result<()> {
        let made = self.cgroup.create_unified(&mut self.dirs);
        guard.cgroup = Some(self.cgroup.clone());
        made?;
        if self.cgroup.has_v1() {
            return Ok(());
        }
        self.cgroup.set(self.resources, self.rules, &mut self.dirs)
    }

    /// The v1 hierarchies, after the spawn, and the limits (none on v2).
    fn make_v1(&mut self, guard: &mut Cleanup) -> Result<()> {
        if !self.cgroup.has_v1() {
            return Ok(());
        }
        let made = self.cgroup.create_v1(&mut self.dirs);
        guard.cgroup = Some(self.cgroup.clone());
        made?;
        self.cgroup.set(self.resources, self.rules, &mut self.dirs)
    }
}

/// SIGKILL and wait (through a pidfd) until the process is gone or a zombie.
pub(crate) fn kill_and_wait(pid: i32) -> Result<()> {
    // SAFETY: pidfd_open with a pid and no flags.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Ok(()); // already gone
    }
    // SAFETY: fd is a new pidfd we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // SAFETY: pidfd_send_signal on our pidfd.
    unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), libc::SIGKILL, 0, 0) };
    let mut pfd = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd; pidfds become readable when the process exits.
    let r = unsafe { libc::poll(&mut pfd, 1, 10_000) };
    if r <= 0 {
        return Err(Error::new(ErrorKind::System, format!("process {pid} did not exit after SIGKILL")));
    }
    // If it is our child (a foreground run), reap it.
    let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), Some(nix::sys::wait::WaitPidFlag::WNOHANG));
    Ok(())
}

/// The state of a container whose init is `pid`, written to the temp file
/// that [`State::commit`] makes state.json.
fn stage_state(base: &State, pid: i32, started: bool, dir: &Path) -> Result<State> {
    let (_, start_time) = state::proc_stat(pid).ok_or_else(|| Error::new(ErrorKind::Init, "container init exited during create"))?;
    let status = if started { Status::Running } else { Status::Created };
    let st = State { pid, init_start_time: start_time, started, status, ..base.clone() };
    st.stage(dir)?;
    Ok(st)
}
