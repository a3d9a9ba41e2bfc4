//! runc-init: the sealed program that becomes the container's PID 1 (or an
//! exec'd process).
//!
//! The library execs it from a memfd with all signals blocked and the sync
//! socket on the fd named by argv. It receives a [`runc_init::Plan`], joins
//! and creates namespaces (stage one), and then either builds the container
//! (rootfs, devices, pty, hooks), reports "created" and waits for a start
//! request, or, for `exec`, enters the running container and execs at once.

// No Rust runtime start-up (stack-guard probing, signal stack, stdio checks):
// a few hundred microseconds per container, and nothing here needs it.
#![cfg_attr(not(test), no_main)]

mod copyup;
mod hooks;
mod ns;
mod process;
mod rootfs;
mod sys;
mod tree;
mod tty;

use runc_init::{chan, msg, Plan, Wire};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use sys::{check, fd_path, R};

#[cfg_attr(not(test), no_mangle)]
pub extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    sys::reset_signals();
    // A hook that closes stdin early must not kill us; reset again before exec.
    // SAFETY: ignoring SIGPIPE is always valid.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let args = sys::args(argc, argv);
    let sync: RawFd = match (args.get(1).map(String::as_str), args.get(2).and_then(|s| s.parse().ok())) {
        (Some(runc_init::SYNC_FD_ARG), Some(fd)) => fd,
        _ => {
            eprintln!("runc-init: this program is started by librunc, not by hand");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(sync) {
        let _ = chan::send(sync, msg::ERROR, e.as_bytes(), &[]);
        std::process::exit(1);
    }
    0
}

/// Waits for one message of the given kind.
pub fn expect(sync: RawFd, tag: u8) -> R<chan::Msg> {
    match chan::recv(sync) {
        Ok(Some(m)) if m.tag == tag => Ok(m),
        Ok(Some(m)) => Err(format!("sync: expected message {tag}, got {}", m.tag)),
        Ok(None) => Err("sync: the runtime went away".into()),
        Err(e) => Err(format!("sync: {e}")),
    }
}

fn send(sync: RawFd, tag: u8, data: &[u8], fds: &[RawFd]) -> R<()> {
    chan::send(sync, tag, data, fds).map_err(|e| format!("sync: {e}"))
}

/// What stage one hands the container process.
struct Ctx {
    plan: Plan,
    sync: RawFd,
    /// The host procfs, opened before any namespace was joined.
    proc: OwnedFd,
    listener: Option<OwnedFd>,
    exec_root: Option<OwnedFd>,
}

fn run(sync: RawFd) -> R<()> {
    // Not dumpable until exec: nothing in the container may ptrace us or open /proc/<pid>/exe.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "set non-dumpable")?;
    // SAFETY: umask has no failure mode; exact modes for the nodes we create.
    unsafe { libc::umask(0) };
    let m = expect(sync, msg::PLAN)?;
    let plan = Plan::decode(&m.data).ok_or("sync: corrupt plan")?;
    let mut fds = m.fds.into_iter();
    // Still single-threaded and in the host's namespaces: "0" moves us whole.
    for t in &plan.join_tasks {
        let fd = fds.next().ok_or("sync: a cgroup tasks fd is missing")?;
        sys::write_all(fd.as_raw_fd(), b"0").map_err(|e| format!("join cgroup: write 0 to {t}: {e}"))?;
    }
    let proc = sys::open_host_proc()?;
    let exec_root = plan.exec_root.as_deref().map(|p| sys::open(p, libc::O_PATH | libc::O_DIRECTORY, 0)).transpose()?;
    let ctx = Ctx { plan, sync, proc, listener: fds.next(), exec_root };
    ns::join(&ctx.plan)?;
    // A new network namespace is made in parallel (ns::NetNs).
    let mut net = ns::create(&ctx.plan, sync, ctx.proc.as_raw_fd())?;
    if ns::needs_fork(&ctx.plan) {
        let pid = ns::fork_sibling()?;
        if pid > 0 {
            send(sync, msg::PID, &(pid as u32).to_le_bytes(), &[])?;
            std::process::exit(0);
        }
        expect(sync, msg::ACK)?;
    } else {
        // 0: the process the library spawned (maybe born in a new PID
        // namespace, where getpid() would say 1).
        send(sync, msg::PID, &0u32.to_le_bytes(), &[])?;
    }
    // SAFETY: setsid has no preconditions; we are not a group leader after clone/exec.
    unsafe { libc::setsid() };
    match ctx.exec_root {
        // (An exec's plan joins namespaces only: nothing to wait for.)
        Some(_) => net.join(ctx.proc.as_raw_fd()).and_then(|_| exec_into(&ctx)),
        None => container_init(&ctx, net),
    }
}

/// Builds the container, reports CREATED, waits for start, execs.
fn container_init(c: &Ctx, mut net: ns::NetNs) -> R<()> {
    let (plan, sync, p) = (&c.plan, c.sync, &c.plan.process);
    net.start(c.proc.as_raw_fd())?;
    process::drop_bounding(p)?;
    process::apply_limits(p, c.proc.as_raw_fd())?;
    // What needs no network namespace comes before the first wait for it.
    write_exec_labels(p, c.proc.as_raw_fd())?;
    // After the labels: an SELinux keycreate label applies to this keyring.
    if let Some(k) = &plan.session_keyring {
        join_keyring(k)?;
    }
    set_names(plan)?;
    let root = build_rootfs(plan, &mut net, c.proc.as_raw_fd())?;
    write_sysctls(plan, c.proc.as_raw_fd())?;
    let states = if plan.want_hook_state { hook_states(sync)? } else { Vec::new() };
    if !plan.create_container_hooks.is_empty() {
        hooks::run_all(&plan.create_container_hooks, &states[0], "createContainer")?;
    }
    if p.terminal {
        let ptmx = rootfs::open_in(&root, "/dev/pts/ptmx", libc::O_RDWR | libc::O_NOCTTY)?;
        let (master, peer) = tty::open(ptmx, p)?;
        let console = root.mkdir_all("/dev/console", true)?;
        sys::mount(Some(&fd_path(peer.as_raw_fd())), &fd_path(console.as_raw_fd()), None, libc::MS_BIND, None, "/dev/console")?;
        tty::make_stdio(&peer)?;
        send(sync, msg::PTY, &[], &[master.as_raw_fd()])?;
    }
    rootfs::mask_and_protect(&root, plan)?;
    rootfs::enter(root, plan)?;
    enter_cwd(&p.cwd)?;
    let exe = process::resolve_exe(p)?;
    send(sync, msg::CREATED, &[], &[])?;
    let conn = if plan.start_now {
        // SAFETY: sync is ours; from here the OwnedFd closes it (at exec).
        unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sync) }
    } else {
        wait_start(sync, c.listener.as_ref())?
    };
    let conn_fd = conn.as_raw_fd();
    let mut hand_off = |fd: RawFd| send(conn_fd, msg::SECCOMP_FD, &[], &[fd]);
    let r = hooks::run_all(&plan.start_container_hooks, states.get(1).map_or("", |s| s.as_str()), "startContainer")
        .and_then(|_| process::exec(p, &exe, &mut hand_off));
    let _ = chan::send(conn.as_raw_fd(), msg::ERROR, r.err().unwrap_or_default().as_bytes(), &[]);
    std::process::exit(255);
}

/// The rootfs: its mounts in the config's order and the device nodes. What
/// needs no network namespace comes before the first wait for it (`net`);
/// on return the init is in it.
fn build_rootfs(plan: &Plan, net: &mut ns::NetNs, proc: RawFd) -> R<rootfs::Root> {
    let root = rootfs::prepare(plan)?;
    let trees: Vec<_> = plan.mounts.iter().map(rootfs::clone_cgroups).collect::<R<_>>()?;
    let mut devices_made = false;
    for (i, (m, trees)) in plan.mounts.iter().zip(trees).enumerate() {
        // A sysfs shows the network devices of the namespace it is mounted in.
        if m.fstype == "sysfs" {
            // Device nodes need none: made first, unless a later mount could cover them.
            if !devices_made && rootfs::devices_unaffected_by(plan, &plan.mounts[i..]) {
                rootfs::make_devices(&root, plan)?;
                devices_made = true;
            }
            net.join(proc)?;
        }
        rootfs::mount_one(&root, m, trees)?;
    }
    // Before sysctls, hooks and "created": from here the container is whole.
    net.join(proc)?;
    if !devices_made {
        rootfs::make_devices(&root, plan)?;
    }
    Ok(root)
}

/// `exec`: enter the running container's root and exec right away.
fn exec_into(c: &Ctx) -> R<()> {
    let (sync, p) = (c.sync, &c.plan.process);
    let root = c.exec_root.as_ref().expect("exec mode");
    // SAFETY: fchdir/chroot into the container's root, opened before we joined it.
    check(unsafe { libc::fchdir(root.as_raw_fd()) } as i64, || "chdir to container root".into())?;
    check(unsafe { libc::chroot(c".".as_ptr()) } as i64, || "chroot to container root".into())?;
    process::drop_bounding(p)?;
    process::apply_limits(p, c.proc.as_raw_fd())?;
    write_exec_labels(p, c.proc.as_raw_fd())?;
    enter_cwd(&p.cwd)?;
    if p.terminal {
        let ptmx = sys::open("/dev/pts/ptmx", libc::O_RDWR | libc::O_NOCTTY, 0)?;
        let (master, peer) = tty::open(ptmx, p)?;
        tty::make_stdio(&peer)?;
        send(sync, msg::PTY, &[], &[master.as_raw_fd()])?;
    }
    let exe = process::resolve_exe(p)?;
    send(sync, msg::EXECING, &[], &[])?;
    let mut hand_off = |fd: RawFd| send(sync, msg::SECCOMP_FD, &[], &[fd]);
    Err(process::exec(p, &exe, &mut hand_off).err().unwrap_or_default())
}

/// Asks the library to run prestart/createRuntime hooks; returns the state
/// JSONs (creating, created) for our own hooks.
fn hook_states(sync: RawFd) -> R<Vec<String>> {
    send(sync, msg::HOOKS, &[], &[])?;
    let m = expect(sync, msg::ACK)?;
    let v = Vec::<String>::decode(&m.data).ok_or("sync: corrupt hook state")?;
    if v.len() != 2 {
        return Err("sync: corrupt hook state".into());
    }
    Ok(v)
}

/// Namespaced sysctls, written through the host's verified procfs: the values
/// land in our own (network, IPC, UTS) namespaces.
fn write_sysctls(plan: &Plan, proc: RawFd) -> R<()> {
    for (k, v) in &plan.sysctl {
        sys::write_at(proc, &format!("sys/{}", k.replace('.', "/")), v).map_err(|e| format!("sysctl {k}={v}: {e}"))?;
    }
    Ok(())
}

/// LSM exec labels, through the host's verified procfs.
fn write_exec_labels(p: &runc_init::ProcessPlan, proc: RawFd) -> R<()> {
    for (file, value) in &p.exec_labels {
        sys::write_at(proc, &format!("self/attr/{file}"), value).map_err(|e| format!("set LSM label {value:?}: {e}"))?;
    }
    Ok(())
}

fn set_names(plan: &Plan) -> R<()> {
    if let Some(h) = &plan.hostname {
        // SAFETY: h is valid for h.len() bytes.
        check(unsafe { libc::sethostname(h.as_ptr().cast(), h.len()) } as i64, || format!("sethostname {h}"))?;
    }
    if let Some(d) = &plan.domainname {
        // SAFETY: d is valid for d.len() bytes.
        check(unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } as i64, || format!("setdomainname {d}"))?;
    }
    Ok(())
}

/// A new session keyring, so containers do not share the host's keys.
fn join_keyring(name: &str) -> R<()> {
    let c = sys::cstr(name)?;
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, name) with a valid C string.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c.as_ptr()) };
    // ENOSYS: no keyring support in this kernel; nothing to isolate.
    if r < 0 && sys::errno() != libc::ENOSYS {
        return Err(format!("join session keyring: {}", sys::errno_text(sys::errno())));
    }
    Ok(())
}

/// chdir into the process cwd and make sure it is inside the new root
/// (a leaked host directory would show as unreachable, CVE-2024-21626).
fn enter_cwd(cwd: &str) -> R<()> {
    let c = sys::cstr(cwd)?;
    // SAFETY: valid C string.
    check(unsafe { libc::chdir(c.as_ptr()) } as i64, || format!("chdir to cwd ({cwd:?}) set in config.json failed"))?;
    let here = std::env::current_dir().map_err(|e| format!("getcwd: {e}"))?;
    if !here.starts_with("/") {
        return Err(format!("current working directory is outside of container mount namespace root: {}", here.display()));
    }
    Ok(())
}

/// Blocks until asked to exec: on the sync socket by the process that
/// created us (while it keeps it open), or by `runc start` through the start
/// socket. Without a listener (`run`), the creator closing the sync socket
/// means it gave up: exit.
fn wait_start(sync: RawFd, listener: Option<&OwnedFd>) -> R<OwnedFd> {
    // SAFETY: sync is ours; from here the OwnedFd closes it.
    let mut creator = Some(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sync) });
    loop {
        let mut fds = [pollfd(creator.as_ref().map_or(-1, |f| f.as_raw_fd())), pollfd(listener.map_or(-1, |l| l.as_raw_fd()))];
        // SAFETY: a valid array of two pollfds (negative fds are ignored).
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Err(format!("wait for start: {}", sys::errno_text(sys::errno())));
        }
        if fds[0].revents != 0 {
            match creator.as_ref().map(|f| chan::recv(f.as_raw_fd())) {
                Some(Ok(Some(m))) if m.tag == msg::START => return Ok(creator.take().expect("polled")),
                _ if listener.is_none() => std::process::exit(0),
                _ => creator = None,
            }
        }
        if fds[1].revents != 0 {
            if let Some(conn) = accept_start(listener.expect("polled"))? {
                return Ok(conn);
            }
        }
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd { fd, events: libc::POLLIN, revents: 0 }
}

/// One connection on the start socket: Some if it asked for the exec.
fn accept_start(listener: &OwnedFd) -> R<Option<OwnedFd>> {
    // SAFETY: accept4 on a listening socket we own; no address wanted.
    let fd = unsafe { libc::accept4(listener.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC) };
    if fd < 0 {
        return match sys::errno() {
            libc::EINTR | libc::EAGAIN | libc::ECONNABORTED => Ok(None),
            e => Err(format!("accept start request: {}", sys::errno_text(e))),
        };
    }
    // SAFETY: fd is a new connection we own.
    let conn = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    Ok(matches!(chan::recv(conn.as_raw_fd()), Ok(Some(m)) if m.tag == msg::START).then_some(conn))
}
