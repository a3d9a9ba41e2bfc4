//! The user process: limits, identity, capabilities, seccomp and the final exec.

use crate::sys::{self, check, cstr, R};
use runc_init::{CapSets, ProcessPlan};
use std::ffi::CString;
use std::os::fd::RawFd;

/// Limits that need root in the host namespaces: apply before anything drops it.
pub fn apply_limits(p: &ProcessPlan, proc: RawFd) -> R<()> {
    for (res, soft, hard) in &p.rlimits {
        let lim = libc::rlimit { rlim_cur: *soft, rlim_max: *hard };
        // SAFETY: setrlimit reads a valid rlimit struct.
        let r = unsafe { libc::setrlimit(*res as _, &lim) };
        check(r as i64, || format!("setrlimit {res} to {soft}/{hard}"))?;
    }
    if let Some(adj) = p.oom_score_adj {
        sys::write_at(proc, "self/oom_score_adj", &adj.to_string())?;
    }
    if let Some((class, prio)) = p.io_priority {
        let v = (class << 13) | prio;
        // SAFETY: ioprio_set(IOPRIO_WHO_PROCESS, self, value).
        let r = unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, v) };
        check(r, || "set I/O priority".into())?;
    }
    if let Some(pers) = p.personality {
        // SAFETY: personality takes a plain integer.
        check(unsafe { libc::personality(pers as libc::c_ulong) } as i64, || "set personality".into())?;
    }
    Ok(())
}

/// Drops capabilities from the bounding set; our own effective set is not touched.
pub fn drop_bounding(p: &ProcessPlan) -> R<()> {
    let Some(c) = &p.caps else { return Ok(()) };
    for cap in 0..=cap_last_cap() {
        if c.bounding & (1 << cap) == 0 {
            sys::prctl_or(libc::PR_CAPBSET_DROP, cap.into(), || format!("drop capability {cap} from bounding set"))?;
        }
    }
    Ok(())
}

/// The highest capability the kernel knows (its cap_last_cap): reading one
/// above it fails. A binary search of six prctls is cheaper than opening
/// and reading the sysctl file.
fn cap_last_cap() -> u32 {
    let known = |cap: u32| sys::prctl_or(libc::PR_CAPBSET_READ, cap.into(), String::new).is_ok();
    let (mut lo, mut hi) = (0u32, 63u32);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if known(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The executable the way runc's init finds it, with runc's error wording.
pub fn resolve_exe(p: &ProcessPlan) -> R<CString> {
    let arg0 = p.args.first().ok_or("process.args is empty")?;
    if arg0.contains('/') {
        let c = cstr(arg0)?;
        // SAFETY: st is plain data filled by the kernel; c is a valid C string.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::stat(c.as_ptr(), &mut st) } != 0 {
            return Err(format!("exec: {arg0:?}: stat {arg0}: {}", sys::errno_text(sys::errno())));
        }
        return Ok(c);
    }
    let path = p.env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or("");
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = format!("{dir}/{arg0}");
        let c = cstr(&cand)?;
        // SAFETY: c is a valid C string; st is plain data.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::stat(c.as_ptr(), &mut st) } == 0
            && st.st_mode & libc::S_IFMT != libc::S_IFDIR
            && st.st_mode & 0o111 != 0;
        if ok {
            return Ok(c);
        }
    }
    Err(format!("exec: {arg0:?}: executable file not found in $PATH"))
}

const NEW_LISTENER: u32 = 8;

/// Switches identity and privileges, loads seccomp (handing a notify fd to
/// `hand_off`) and execs. Returns only on error.
pub fn exec(p: &ProcessPlan, exe: &CString, hand_off: &mut dyn FnMut(RawFd) -> R<()>) -> R<()> {
    let argv: Vec<CString> = p.args.iter().map(|a| cstr(a)).collect::<R<_>>()?;
    let mut env: Vec<CString> = p.env.iter().map(|e| cstr(e)).collect::<R<_>>()?;
    if !p.env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(cstr(&format!("HOME={}", home_of(p.uid)))?);
    }
    if p.listen_fds > 0 {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        env.retain(|e| !e.as_bytes().starts_with(b"LISTEN_FDS=") && !e.as_bytes().starts_with(b"LISTEN_PID="));
        env.push(cstr(&format!("LISTEN_FDS={}", p.listen_fds))?);
        env.push(cstr(&format!("LISTEN_PID={pid}"))?);
    }
    if !p.no_new_privs {
        load_seccomp(p, hand_off)?;
    }
    switch_user(p)?;
    if let Some(c) = &p.caps {
        set_caps(c)?;
    }
    if p.no_new_privs {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "set no_new_privs")?;
        load_seccomp(p, hand_off)?;
    }
    // SAFETY: umask has no failure mode.
    unsafe { libc::umask(p.umask.unwrap_or(0o022)) };
    // Everything past the preserved fds closes on exec.
    // SAFETY: close_range with the CLOEXEC flag only marks descriptors.
    unsafe { libc::syscall(libc::SYS_close_range, 3 + p.preserve_fds, u32::MAX, 4u32) };
    // exec resets handled signals; SIGPIPE is the one we ignore ourselves.
    // SAFETY: restoring the default action is always valid.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let mut av: Vec<*const libc::c_char> = argv.iter().map(|c| c.as_ptr()).collect();
    av.push(std::ptr::null());
    let mut ev: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    ev.push(std::ptr::null());
    // SAFETY: exe, av and ev are NUL-terminated arrays of valid C strings.
    unsafe { libc::execve(exe.as_ptr(), av.as_ptr(), ev.as_ptr()) };
    let arg0 = &p.args[0];
    Err(format!("exec: {arg0:?}: {}", sys::errno_text(sys::errno())))
}

/// HOME from the container's /etc/passwd, "/" when the user has no entry.
fn home_of(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && f[2].parse() == Ok(uid))
        .map(|f| f[5].to_string())
        .unwrap_or_else(|| "/".into())
}

fn switch_user(p: &ProcessPlan) -> R<()> {
    // SAFETY: setgroups reads additional_gids.len() gid_t values.
    let r = unsafe { libc::setgroups(p.additional_gids.len(), p.additional_gids.as_ptr()) };
    // EPERM here means setgroups is denied in this user namespace; it only matters with groups to set.
    if r != 0 && !(sys::errno() == libc::EPERM && p.additional_gids.is_empty()) {
        return Err(format!("setgroups: {}", sys::errno_text(sys::errno())));
    }
    sys::prctl(libc::PR_SET_KEEPCAPS, 1, "keep capabilities")?;
    // SAFETY: plain id changes.
    check(unsafe { libc::setresgid(p.gid, p.gid, p.gid) } as i64, || format!("setgid {}", p.gid))?;
    // SAFETY: plain id changes.
    check(unsafe { libc::setresuid(p.uid, p.uid, p.uid) } as i64, || format!("setuid {}", p.uid))?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0, "reset keep capabilities")
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn set_caps(c: &CapSets) -> R<()> {
    let hdr = CapHeader { version: 0x2008_0522, pid: 0 };
    let lo = |v: u64| v as u32;
    let hi = |v: u64| (v >> 32) as u32;
    let data = [
        CapData { effective: lo(c.effective), permitted: lo(c.permitted), inheritable: lo(c.inheritable) },
        CapData { effective: hi(c.effective), permitted: hi(c.permitted), inheritable: hi(c.inheritable) },
    ];
    // SAFETY: capset v3 reads one header and two data structs.
    let r = unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) };
    check(r, || "capset".into())?;
    for cap in 0..64u64 {
        if c.ambient & (1 << cap) != 0 {
            // SAFETY: prctl with integer arguments.
            let r = unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
            check(r as i64, || format!("raise ambient capability {cap}"))?;
        }
    }
    Ok(())
}

/// Installs the filter; with SCMP_ACT_NOTIFY rules the kernel returns the
/// notify fd, which goes to `hand_off` (and is closed here afterwards).
fn load_seccomp(p: &ProcessPlan, hand_off: &mut dyn FnMut(RawFd) -> R<()>) -> R<()> {
    let Some(bpf) = &p.seccomp_bpf else { return Ok(()) };
    let mut filters: Vec<libc::sock_filter> = bpf
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let prog = libc::sock_fprog { len: filters.len() as u16, filter: filters.as_mut_ptr() };
    // SAFETY: prog points at `filters`, which lives until the call returns.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, 1, p.seccomp_flags, &prog) };
    let r = check(r, || "load seccomp filter".into())?;
    if p.seccomp_flags & NEW_LISTENER != 0 {
        let res = hand_off(r as RawFd);
        // SAFETY: the notify fd is ours; the container must not keep it.
        unsafe { libc::close(r as RawFd) };
        res?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cap_last_cap_is_the_kernels() {
        let sysctl = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").unwrap();
        assert_eq!(super::cap_last_cap(), sysctl.trim().parse::<u32>().unwrap());
    }
}
