//! Stage one: join and create namespaces, then fork the container's PID 1
//! when a PID or time namespace needs it.

use crate::sys::{self, check, R};
use runc_init::{chan, msg, Plan};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Enters every namespace the config names by path, in the order given
/// (the library puts the user namespace first). All are opened first: once
/// in the container's mount namespace, host paths no longer resolve.
pub fn join(plan: &Plan) -> R<()> {
    let fds = plan.ns_join.iter().map(|(_, p)| sys::open(p, libc::O_RDONLY, 0)).collect::<R<Vec<_>>>()?;
    for ((flag, path), fd) in plan.ns_join.iter().zip(fds) {
        // SAFETY: setns on an fd we own with a CLONE_NEW* type.
        let r = unsafe { libc::setns(fd.as_raw_fd(), *flag as i32) };
        check(r as i64, || format!("join namespace {path}"))?;
    }
    Ok(())
}

/// Creates the new namespaces; a new user namespace first, so the others are
/// owned by it, with the library writing its id maps. A new network
/// namespace is left to [`NetNs`]: started here when this process stays the
/// container's, else by the forked one.
pub fn create(plan: &Plan, sync: RawFd, proc: RawFd) -> R<NetNs> {
    let new = plan.ns_new as i32;
    if new & libc::CLONE_NEWUSER != 0 {
        unshare(libc::CLONE_NEWUSER)?;
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() } as u32;
        chan::send(sync, msg::NEED_IDMAP, &pid.to_le_bytes(), &[]).map_err(|e| format!("sync: {e}"))?;
        crate::expect(sync, msg::ACK)?;
        become_root();
    }
    let mut net = NetNs::None;
    let mut rest = new & !libc::CLONE_NEWUSER;
    if rest & libc::CLONE_NEWNET != 0 {
        rest &= !libc::CLONE_NEWNET;
        net = NetNs::Todo;
        if !needs_fork(plan) {
            net.start(proc)?;
        }
    }
    if rest != 0 {
        unshare(rest)?;
    }
    if new & libc::CLONE_NEWTIME != 0 {
        let offsets: String =
            plan.time_offsets.iter().map(|(clock, s, ns)| format!("{clock} {s} {ns}\n")).collect();
        if !offsets.is_empty() {
            sys::write_file("/proc/self/timens_offsets", &offsets)?;
        }
    }
    Ok(net)
}

fn unshare(flags: i32) -> R<()> {
    // SAFETY: unshare with namespace flags only; a new user namespace is
    // asked for while the init is still single-threaded.
    let r = unsafe { libc::unshare(flags) };
    check(r as i64, || format!("unshare namespaces {flags:#x}")).map(drop)
}

/// Switches to uid/gid 0 of a fresh user namespace when 0 is mapped; when it
/// is not, the ids stay and the final switch to the config's user decides.
fn become_root() {
    // SAFETY: plain id changes; failure (EINVAL for an unmapped id) is acceptable here.
    unsafe {
        libc::setresgid(0, 0, 0);
        libc::setresuid(0, 0, 0);
    }
}

/// A new network namespace made by a helper thread while the init goes on
/// (other namespaces, the rootfs): creating one takes longer than anything
/// else the init does (a loopback device, sysctl tables), and nothing before
/// the first sysfs mount depends on it. [`NetNs::join`] enters it.
pub enum NetNs {
    None,
    /// Wanted, not started yet.
    Todo,
    Making(std::thread::JoinHandle<R<OwnedFd>>),
}

impl NetNs {
    /// Starts making a wanted namespace. `proc` is the host procfs, where
    /// the thread finds its own namespace file.
    pub fn start(&mut self, proc: RawFd) -> R<()> {
        if !matches!(self, NetNs::Todo) {
            return Ok(());
        }
        // Only worth a thread when another CPU can run it now.
        let made = spare_cpus(proc).and_then(|away| {
            let t = std::thread::Builder::new().stack_size(64 << 10).spawn(move || {
                unshare(libc::CLONE_NEWNET)?;
                sys::open_at(proc, "thread-self/ns/net", libc::O_RDONLY, 0)
            });
            let t = t.ok()?;
            run_on(&t, &away);
            Some(t)
        });
        *self = match made {
            Some(t) => NetNs::Making(t),
            // Busy CPUs, or no thread to spare (EAGAIN): make it here and now.
            None => unshare(libc::CLONE_NEWNET).map(|_| NetNs::None)?,
        };
        Ok(())
    }

    /// Waits for the namespace and enters it; later calls do nothing.
    pub fn join(&mut self, proc: RawFd) -> R<()> {
        self.start(proc)?;
        let NetNs::Making(t) = std::mem::replace(self, NetNs::None) else { return Ok(()) };
        let fd = t.join().map_err(|_| "network namespace thread failed".to_string())??;
        // SAFETY: setns on an fd we own, naming a network namespace.
        check(unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } as i64, || "join new network namespace".into()).map(drop)
    }
}

/// Our CPUs but the current one, when one of them is idle now: the kernel's
/// count of runnable tasks (loadavg's "R/T", us included) is below our
/// number of CPUs. On a busy machine a helper thread only adds work.
fn spare_cpus(proc: RawFd) -> Option<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data, filled by the kernel through a valid
    // out-pointer of the size given; CPU_* only read and write that set.
    let (set, cpus, cur) = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) != 0 {
            return None;
        }
        (set, libc::CPU_COUNT(&set) as u32, libc::sched_getcpu())
    };
    if cur < 0 || cpus < 2 || runnable(proc)? >= cpus {
        return None;
    }
    let mut away = set;
    // SAFETY: as above; cur is a CPU number the kernel gave.
    unsafe { libc::CPU_CLR(cur as usize, &mut away) };
    Some(away)
}

/// Runnable tasks on the machine now, from /proc/loadavg.
fn runnable(proc: RawFd) -> Option<u32> {
    use std::io::Read;
    let mut file = std::fs::File::from(sys::open_at(proc, "loadavg", libc::O_RDONLY, 0).ok()?);
    let mut buf = [0u8; 128];
    let n = file.read(&mut buf).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    text.split_whitespace().nth(3)?.split('/').next()?.parse().ok()
}

/// Lets the thread run on `cpus` only: a new thread otherwise waits behind
/// its creator when no other CPU was idle at the instant it was made.
fn run_on<T>(t: &std::thread::JoinHandle<T>, cpus: &libc::cpu_set_t) {
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: a live thread's handle and a valid CPU set; failure leaves it where it is.
    unsafe { libc::pthread_setaffinity_np(t.as_pthread_t() as _, std::mem::size_of_val(cpus), cpus) };
}

/// A new or joined PID (or time) namespace only applies to children.
pub fn needs_fork(plan: &Plan) -> bool {
    let joined = plan.ns_join.iter().fold(0u64, |a, (f, _)| a | f);
    (plan.ns_new | joined) & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) as u64 != 0
}

/// Forks a sibling: the new process is a child of our parent (the library's
/// caller), so the caller can wait for it and we can simply exit.
pub fn fork_sibling() -> R<i32> {
    // SAFETY: a fork-like clone (no CLONE_VM) of a single-threaded process
    // (a NetNs thread is started after it);
    // both sides continue with their own copy of memory.
    let r = unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong, 0, 0, 0, 0) };
    check(r, || "clone container init".into()).map(|p| p as i32)
}
