//! Containers by id under a state root: create, start, state, kill, delete.

pub mod id;
pub mod state;

use crate::error::{Context, Error, ErrorKind, Result};
use crate::process::{plan, setup, spawn};
use crate::spec;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use runc_init::{chan, msg};
use state::{State, Status};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The default state root for root, as runc's.
pub const DEFAULT_ROOT: &str = "/run/runc";
const START_SOCK: &str = "start.sock";

/// A state root: where containers' state directories live.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub root: PathBuf,
}

/// Options of `create`.
#[derive(Debug, Default, Clone)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub no_pivot: bool,
    /// The init's stdin/stdout/stderr; None inherits ours.
    pub stdio: Option<[RawFd; 3]>,
    /// Keep the pty master for the caller (foreground run) instead of sending it.
    pub keep_pty: bool,
}

/// A container that `create` left in the created state.
pub struct Created {
    pub pid: i32,
    /// The pty master when `keep_pty` was asked and the process has a terminal.
    pub pty: Option<OwnedFd>,
}

impl Runtime {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { root: root.into() }
    }

    fn dir(&self, id: &str) -> Result<PathBuf> {
        id::validate(id)?;
        Ok(state::dir(&self.root, id))
    }

    /// Creates container `id` from a bundle and leaves it waiting for `start`.
    pub fn create(&self, id: &str, opts: &CreateOptions) -> Result<Created> {
        let dir = self.dir(id)?;
        let bundle = spec::load_bundle(&opts.bundle)?;
        let terminal = bundle.spec.process.as_ref().is_some_and(|p| p.terminal);
        if terminal && opts.console_socket.is_none() && !opts.keep_pty {
            return Err(Error::new(ErrorKind::InvalidArgument, "cannot allocate tty if runc will detach without setting console socket"));
        }
        if !terminal && opts.console_socket.is_some() {
            return Err(Error::new(ErrorKind::InvalidArgument, "cannot use console socket if runc will not detach or allocate tty"));
        }
        let plan = plan::build(&bundle, &plan::PlanOptions { no_pivot: opts.no_pivot, preserve_fds: opts.preserve_fds })?;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.root).context(|| format!("create state root {}", self.root.display()))?;
        std::fs::DirBuilder::new().mode(0o711).create(&dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::new(ErrorKind::Exists, format!("container with id exists: {id}")),
            _ => Error::sys(format!("create {}", dir.display()), e),
        })?;
        let mut guard = Cleanup { dir: dir.clone(), pid: None };
        let created = self.create_in(id, &dir, &bundle, &plan, opts, &mut guard.pid)?;
        guard.dir = PathBuf::new();
        Ok(created)
    }

    fn create_in(&self, id: &str, dir: &Path, b: &spec::Bundle, plan: &runc_init::Plan, opts: &CreateOptions, pid: &mut Option<i32>) -> Result<Created> {
        let listener = listen(&dir.join(START_SOCK))?;
        let null = spawn::dev_null()?;
        let stdio = opts.stdio.unwrap_or_else(|| [0, 1, 2].map(|fd| if fd_open(fd) { fd } else { null.as_raw_fd() }));
        let sp = spawn::spawn(&spawn::SpawnFds { stdio, preserve_fds: opts.preserve_fds })?;
        let linux = b.spec.linux.clone().unwrap_or_default();
        let maps = setup::IdMaps { uid: &linux.uid_mappings, gid: &linux.gid_mappings };
        let res = setup::run(&sp, plan, &listener, &maps, pid)?;
        let mut pty = res.pty;
        if let (Some(sock), Some(master)) = (&opts.console_socket, &pty) {
            send_console(sock, master.as_raw_fd())?;
            pty = None;
        }
        let (_, start_time) = state::proc_stat(res.pid).ok_or_else(|| Error::new(ErrorKind::Init, "container init exited during create"))?;
        let st = State {
            oci_version: crate::SPEC_VERSION.into(),
            id: id.into(),
            pid: res.pid,
            status: Status::Created,
            bundle: b.dir.to_string_lossy().into_owned(),
            rootfs: b.rootfs.to_string_lossy().into_owned(),
            created: state::rfc3339_now(),
            owner: String::new(),
            annotations: b.spec.annotations.clone(),
            init_start_time: start_time,
            started: false,
        };
        st.save(dir)?;
        if let Some(p) = &opts.pid_file {
            write_pid_file(p, res.pid)?;
        }
        Ok(Created { pid: res.pid, pty })
    }

    /// Lets a created container exec its process.
    pub fn start(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let mut st = State::load(&dir, id)?;
        match st.status {
            Status::Created => {}
            Status::Stopped => return Err(Error::new(ErrorKind::State, "cannot start a container that has stopped")),
            _ => return Err(Error::new(ErrorKind::State, "cannot start an already running container")),
        }
        let sock = dir.join(START_SOCK);
        let conn = connect(&sock)?;
        chan::send(conn.as_raw_fd(), msg::START, &[], &[]).map_err(|e| Error::sys("send start request", e))?;
        match chan::recv(conn.as_raw_fd()) {
            Ok(None) => {}
            Ok(Some(m)) if m.tag == msg::ERROR => return Err(Error::new(ErrorKind::Init, String::from_utf8_lossy(&m.data).into_owned())),
            Ok(Some(m)) => return Err(Error::new(ErrorKind::Init, format!("unexpected start reply {}", m.tag))),
            Err(e) => return Err(Error::sys("read start reply", e)),
        }
        let _ = std::fs::remove_file(&sock);
        st.started = true;
        st.save(&dir)
    }

    pub fn state(&self, id: &str) -> Result<State> {
        State::load(&self.dir(id)?, id)
    }

    /// Sends `sig` to the container's init.
    pub fn kill(&self, id: &str, sig: Signal) -> Result<()> {
        let st = self.state(id)?;
        if st.status == Status::Stopped {
            return Err(Error::new(ErrorKind::State, "container not running"));
        }
        kill(Pid::from_raw(st.pid), sig).map_err(|e| Error::sys(format!("kill container {id}"), e))
    }

    /// Removes a container's state; with `force`, kills a live one first.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let dir = self.dir(id)?;
        let st = match State::load(&dir, id) {
            Err(e) if e.kind == ErrorKind::NotFound && force => return Ok(()),
            r => r?,
        };
        match st.status {
            Status::Stopped => {}
            Status::Created => kill_and_wait(st.pid)?,
            s if force => {
                let _ = s;
                kill_and_wait(st.pid)?
            }
            s => return Err(Error::new(ErrorKind::State, format!("cannot delete container {id} that is not stopped: {s}"))),
        }
        std::fs::remove_dir_all(&dir).context(|| format!("remove {}", dir.display()))
    }
}

/// Removes a half-created container: kills its init and drops the state dir.
struct Cleanup {
    dir: PathBuf,
    pid: Option<i32>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.dir.as_os_str().is_empty() {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = kill_and_wait(pid);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SIGKILL and wait (through a pidfd) until the process is gone or a zombie.
fn kill_and_wait(pid: i32) -> Result<()> {
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

/// Whether `fd` is open; a closed stdio slot is given /dev/null.
fn fd_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// sockaddr_un paths are limited to 108 bytes; long state paths go through
/// /proc/self/fd of the directory.
fn with_short_path<T>(path: &Path, f: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    if path.as_os_str().len() < 100 {
        return f(path);
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = std::fs::File::open(parent).context(|| format!("open {}", parent.display()))?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(path.file_name().unwrap_or_default());
    f(&short)
}

fn listen(path: &Path) -> Result<OwnedFd> {
    with_short_path(path, |p| {
        let l = std::os::unix::net::UnixListener::bind(p).context(|| format!("listen on {}", path.display()))?;
        Ok(OwnedFd::from(l))
    })
}

fn connect(path: &Path) -> Result<OwnedFd> {
    with_short_path(path, |p| {
        let s = std::os::unix::net::UnixStream::connect(p).context(|| format!("connect to {}", path.display()))?;
        Ok(OwnedFd::from(s))
    })
}

/// Sends the pty master over the console socket: one sendmsg, one fd, the pty name as data.
fn send_console(sock: &Path, master: RawFd) -> Result<()> {
    let conn = with_short_path(sock, |p| std::os::unix::net::UnixStream::connect(p).context(|| format!("connect to console socket {}", sock.display())))?;
    let name = pty_name(master);
    let iov = [std::io::IoSlice::new(name.as_bytes())];
    let fds = [master];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    nix::sys::socket::sendmsg::<()>(conn.as_raw_fd(), &iov, &cmsg, nix::sys::socket::MsgFlags::empty(), None)
        .map_err(|e| Error::sys(format!("send pty master to {}", sock.display()), e))?;
    Ok(())
}

/// "/dev/pts/N" of a pty master (as the container numbers it).
fn pty_name(master: RawFd) -> String {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int.
    if unsafe { libc::ioctl(master, libc::TIOCGPTN, &mut n) } == 0 {
        format!("/dev/pts/{n}")
    } else {
        "/dev/ptmx".into()
    }
}

/// The pid file: decimal, no newline, written atomically.
fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = std::path::absolute(path).context(|| format!("pid file {}", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    std::fs::write(&tmp, pid.to_string()).context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).context(|| format!("write pid file {}", path.display()))
}
