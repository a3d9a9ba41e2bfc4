//! runc-init: the sealed program that becomes the container's PID 1.
//!
//! The library execs it from a memfd with all signals blocked and the sync
//! socket on the fd named by argv. It receives a [`runc_init::Plan`], sets up
//! namespaces and the rootfs, reports "created", waits for a start request on
//! the listener it was handed, then execs the user process.

mod ns;
mod process;
mod rootfs;
mod sys;
mod tty;

use runc_init::{chan, msg, Plan, Wire};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use sys::{check, R};

fn main() {
    sys::reset_signals();
    let args: Vec<String> = std::env::args().collect();
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

fn run(sync: RawFd) -> R<()> {
    // Not dumpable until exec: nothing in the container may ptrace us or open /proc/<pid>/exe.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "set non-dumpable")?;
    // SAFETY: umask has no failure mode; exact modes for the nodes we create.
    unsafe { libc::umask(0) };
    let m = expect(sync, msg::PLAN)?;
    let plan = Plan::decode(&m.data).ok_or("sync: corrupt plan")?;
    let listener = m.fds.into_iter().next().ok_or("sync: no start listener")?;
    ns::join(&plan)?;
    ns::create(&plan, sync)?;
    if ns::needs_fork(&plan) {
        let pid = ns::fork_sibling()?;
        if pid > 0 {
            send(sync, msg::PID, &(pid as u32).to_le_bytes(), &[])?;
            std::process::exit(0);
        }
    } else {
        // SAFETY: getpid has no preconditions.
        send(sync, msg::PID, &(unsafe { libc::getpid() } as u32).to_le_bytes(), &[])?;
    }
    expect(sync, msg::ACK)?;
    container_init(&plan, sync, listener)
}

fn container_init(plan: &Plan, sync: RawFd, listener: OwnedFd) -> R<()> {
    // SAFETY: setsid has no preconditions; we are not a group leader after clone/exec.
    unsafe { libc::setsid() };
    let p = &plan.process;
    process::drop_bounding(p)?;
    process::apply_limits(p)?;
    let root = rootfs::prepare(plan)?;
    for m in &plan.mounts {
        rootfs::mount_one(&root, m)?;
    }
    rootfs::make_devices(&root, plan)?;
    write_sysctls(plan)?;
    write_exec_labels(p)?;
    set_names(plan)?;
    if p.terminal {
        let master = tty::setup(&root, p)?;
        send(sync, msg::PTY, &[], &[master.as_raw_fd()])?;
    }
    rootfs::mask_and_protect(&root, plan)?;
    rootfs::enter(root, plan)?;
    enter_cwd(&p.cwd)?;
    let exe = process::resolve_exe(p)?;
    send(sync, msg::CREATED, &[], &[])?;
    // SAFETY: closing our own sync fd; the library no longer listens after CREATED.
    unsafe { libc::close(sync) };
    let conn = wait_start(&listener)?;
    drop(listener);
    let err = process::exec(p, &exe).err().unwrap_or_default();
    let _ = chan::send(conn.as_raw_fd(), msg::ERROR, err.as_bytes(), &[]);
    std::process::exit(255);
}

/// Namespaced sysctls, written through the host's procfs before pivot: the
/// values land in our own namespaces. The procfs is verified first.
fn write_sysctls(plan: &Plan) -> R<()> {
    if plan.sysctl.is_empty() {
        return Ok(());
    }
    let proc = sys::open("/proc/sys", libc::O_PATH | libc::O_DIRECTORY, 0)?;
    if sys::fstatfs_type(proc.as_raw_fd())? != libc::PROC_SUPER_MAGIC {
        return Err("/proc/sys is not on procfs".into());
    }
    for (k, v) in &plan.sysctl {
        let path = format!("/proc/self/fd/{}/{}", proc.as_raw_fd(), k.replace('.', "/"));
        sys::write_file(&path, v).map_err(|e| format!("sysctl {k}={v}: {e}"))?;
    }
    Ok(())
}

/// LSM exec labels, through the host's verified procfs (CVE-2019-16884).
fn write_exec_labels(p: &runc_init::ProcessPlan) -> R<()> {
    for (file, value) in &p.exec_labels {
        let attr = sys::open("/proc/self/attr", libc::O_PATH | libc::O_DIRECTORY, 0)?;
        if sys::fstatfs_type(attr.as_raw_fd())? != libc::PROC_SUPER_MAGIC {
            return Err("/proc/self/attr is not on procfs".into());
        }
        let path = format!("/proc/self/fd/{}/{file}", attr.as_raw_fd());
        sys::write_file(&path, value).map_err(|e| format!("set LSM label {value:?}: {e}"))?;
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

/// chdir into the process cwd and make sure it is inside the new root
/// (a leaked host directory would show as "(unreachable)", CVE-2024-21626).
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

/// Blocks until `runc start` connects and asks for the exec.
fn wait_start(listener: &OwnedFd) -> R<OwnedFd> {
    loop {
        // SAFETY: accept4 on a listening socket we own; no address wanted.
        let fd = unsafe { libc::accept4(listener.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC) };
        if fd < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Err(format!("accept start request: {}", sys::errno_text(sys::errno())));
        }
        // SAFETY: fd is a new connection we own.
        let conn = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        if let Ok(Some(m)) = chan::recv(conn.as_raw_fd()) {
            if m.tag == msg::START {
                return Ok(conn);
            }
        }
    }
}
