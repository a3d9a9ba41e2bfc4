//! Device access rules: the config's `linux.resources.devices` plus runc's
//! defaults, written as v1 `devices.allow/deny` lines or compiled into a v2
//! BPF_PROG_TYPE_CGROUP_DEVICE program.

use super::resources::DeviceRule;
use crate::error::{Error, ErrorKind, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

/// One rule: `kind` 'a', 'c' or 'b'; None = any number; access a subset of "rwm".
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub allow: bool,
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: String,
}

impl Rule {
    fn new(allow: bool, kind: char, major: Option<u32>, minor: Option<u32>, access: &str) -> Rule {
        Rule { allow, kind, major, minor, access: access.into() }
    }

    /// The v1 devices.allow/deny line ("c 1:3 rwm", "a *:* rwm").
    pub fn v1_line(&self) -> String {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |x| x.to_string());
        format!("{} {}:{} {}", self.kind, n(self.major), n(self.minor), self.access)
    }

    fn is_everything(&self) -> bool {
        self.kind == 'a' && self.major.is_none() && self.minor.is_none() && self.access.len() == 3
    }
}

/// Devices every container may use, as runc allows them (after the config's rules).
fn defaults() -> Vec<Rule> {
    let c = |ma, mi: Option<u32>| Rule::new(true, 'c', Some(ma), mi, "rwm");
    vec![
        Rule::new(true, 'c', None, None, "m"),
        Rule::new(true, 'b', None, None, "m"),
        c(1, Some(3)),
        c(1, Some(8)),
        c(1, Some(7)),
        c(5, Some(0)),
        c(1, Some(5)),
        c(1, Some(9)),
        c(136, None),
        c(5, Some(2)),
        c(10, Some(200)),
    ]
}

/// The effective rule list: config rules, then runc's defaults, then an allow
/// for every device in `linux.devices` (type letter, major, minor).
pub fn rules(config: &[DeviceRule], created: &[(char, u32, u32)]) -> Result<Vec<Rule>> {
    let mut out = Vec::new();
    for (i, r) in config.iter().enumerate() {
        let field = format!("linux.resources.devices[{i}]");
        let kind = match r.kind.as_deref().unwrap_or("a") {
            "a" => 'a',
            "c" => 'c',
            "b" => 'b',
            t => return Err(Error::config(format!("{field}.type: unknown device type {t:?}"))),
        };
        let num = |v: Option<i64>, f: &str| -> Result<Option<u32>> {
            match v {
                None | Some(-1) => Ok(None),
                Some(n) if (0..=u32::MAX as i64).contains(&n) => Ok(Some(n as u32)),
                Some(n) => Err(Error::config(format!("{field}.{f}: {n} is not a device number"))),
            }
        };
        let access = r.access.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "rwm".into());
        if access.chars().any(|c| !"rwm".contains(c)) {
            return Err(Error::config(format!("{field}.access: {access:?} is not a subset of \"rwm\"")));
        }
        out.push(Rule::new(r.allow, kind, num(r.major, "major")?, num(r.minor, "minor")?, &access));
    }
    out.extend(defaults());
    out.extend(created.iter().map(|(k, ma, mi)| Rule::new(true, *k, Some(*ma), Some(*mi), "rwm")));
    Ok(out)
}

/// Reduces rules to a default verdict plus exceptions, as the v1 kernel
/// list behaves: an "a *:* rwm" rule resets everything before it.
pub fn reduce(rules: &[Rule]) -> (bool, Vec<Rule>) {
    let mut default_allow = false;
    let mut exceptions: Vec<Rule> = Vec::new();
    for r in rules {
        if r.is_everything() {
            default_allow = r.allow;
            exceptions.clear();
        } else if r.allow != default_allow {
            exceptions.push(r.clone());
        } else {
            exceptions.retain(|e| !(e.kind == r.kind && e.major == r.major && e.minor == r.minor));
        }
    }
    (default_allow, exceptions)
}

// BPF instruction encoding (struct bpf_insn).
fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | (dst & 0xf);
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}
const LDX_W: u8 = 0x61; // r_dst = *(u32 *)(r_src + off)
const AND32_K: u8 = 0x54;
const RSH32_K: u8 = 0x74;
const MOV32_X: u8 = 0xbc;
const MOV64_K: u8 = 0xb7;
const JNE_K: u8 = 0x55;
const EXIT: u8 = 0x95;

/// Compiles the rules into a cgroup device program: r2 = type, r3 = access,
/// r4 = major, r5 = minor; each exception is a block that returns its
/// verdict when everything matches and otherwise jumps to the next block.
pub fn bpf_program(rules: &[Rule]) -> Vec<[u8; 8]> {
    let (default_allow, exceptions) = reduce(rules);
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND32_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH32_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    // Exceptions are matched last-first: a later rule overrides an earlier one.
    for r in exceptions.iter().rev() {
        let mut checks: Vec<(u8, u8, i32)> = Vec::new(); // (setup?, reg, imm) as jne tests
        let mut block: Vec<[u8; 8]> = Vec::new();
        let kind = match r.kind {
            'c' => Some(2),
            'b' => Some(1),
            _ => None,
        };
        if let Some(t) = kind {
            checks.push((0, 2, t));
        }
        let bits = r.access.chars().fold(0, |a, c| a | match c { 'm' => 1, 'r' => 2, _ => 4 });
        if bits != 7 {
            checks.push((1, 1, 0)); // r1 = r3 & !bits must be 0
        }
        if let Some(m) = r.major {
            checks.push((0, 4, m as i32));
        }
        if let Some(m) = r.minor {
            checks.push((0, 5, m as i32));
        }
        // Each jne jumps to the end of this block; compute lengths first.
        let body_len = |c: &(u8, u8, i32)| if c.0 == 1 { 3 } else { 1 };
        let total: usize = checks.iter().map(body_len).sum::<usize>() + 2;
        let mut pos = 0usize;
        for c in &checks {
            if c.0 == 1 {
                block.push(insn(MOV32_X, 1, 3, 0, 0));
                block.push(insn(AND32_K, 1, 0, 0, !bits));
                pos += 2;
            }
            pos += 1;
            let skip = (total - pos) as i16;
            block.push(insn(JNE_K, c.1, 0, skip, c.2));
        }
        block.push(insn(MOV64_K, 0, 0, 0, r.allow as i32));
        block.push(insn(EXIT, 0, 0, 0, 0));
        p.extend(block);
    }
    p.push(insn(MOV64_K, 0, 0, 0, default_allow as i32));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

const BPF_PROG_LOAD: i64 = 5;
const BPF_PROG_ATTACH: i64 = 8;
const BPF_PROG_DETACH: i64 = 9;
const BPF_PROG_GET_FD_BY_ID: i64 = 13;
const BPF_PROG_QUERY: i64 = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn bpf(cmd: i64, attr: &mut [u8; 128], what: &str) -> Result<i32> {
    // SAFETY: attr is a zero-padded bpf_attr of the size we pass.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len()) };
    if r < 0 {
        return Err(Error::new(ErrorKind::System, format!("{what}: {}", crate::error::io_text(&std::io::Error::last_os_error()))));
    }
    Ok(r as i32)
}

fn put32(a: &mut [u8; 128], off: usize, v: u32) {
    a[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(a: &mut [u8; 128], off: usize, v: u64) {
    a[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Attaches the rules' program to the cgroup directory, then detaches the
/// programs that were there before (so an update replaces the filter; while
/// both are attached the stricter one wins).
pub fn attach_v2(dir: &std::path::Path, rules: &[Rule]) -> Result<()> {
    let insns: Vec<u8> = bpf_program(rules).concat();
    let cg = std::fs::File::open(dir).map_err(|e| Error::sys(format!("open {}", dir.display()), e))?;
    let old = query(cg.as_raw_fd())?;
    // A kept program is attached only where none is yet: attaching one that
    // is already there would fail, and an update must not detach it.
    let prog = if old.is_empty() { loaded(&insns)? } else { Arc::new(load(&insns)?) };
    let mut a = [0u8; 128];
    put32(&mut a, 0, cg.as_raw_fd() as u32);
    put32(&mut a, 4, prog.as_raw_fd() as u32);
    put32(&mut a, 8, BPF_CGROUP_DEVICE);
    put32(&mut a, 12, BPF_F_ALLOW_MULTI);
    bpf(BPF_PROG_ATTACH, &mut a, &format!("attach device program to {}", dir.display()))?;
    for id in old {
        detach(cg.as_raw_fd(), id)?;
    }
    Ok(())
}

/// Programs loaded by this process, newest first, by their instructions:
/// a container with the same rules as a recent one skips the kernel's
/// verifier (~0.6 ms per container). Each is one close-on-exec fd.
static LOADED: Mutex<Vec<(Vec<u8>, Arc<OwnedFd>)>> = Mutex::new(Vec::new());
const KEEP: usize = 4;

fn loaded(insns: &[u8]) -> Result<Arc<OwnedFd>> {
    let mut kept = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    let prog = match kept.iter().position(|(i, _)| i == insns) {
        Some(at) => kept.remove(at).1,
        None => Arc::new(load(insns)?),
    };
    kept.insert(0, (insns.to_vec(), prog.clone()));
    kept.truncate(KEEP);
    Ok(prog)
}

fn load(insns: &[u8]) -> Result<OwnedFd> {
    let license = c"Apache";
    let mut a = [0u8; 128];
    put32(&mut a, 0, BPF_PROG_TYPE_CGROUP_DEVICE);
    put32(&mut a, 4, (insns.len() / 8) as u32);
    put64(&mut a, 8, insns.as_ptr() as u64);
    put64(&mut a, 16, license.as_ptr() as u64);
    // SAFETY: the fd returned by BPF_PROG_LOAD is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(bpf(BPF_PROG_LOAD, &mut a, "load device cgroup program")?) })
}

fn detach(cg: i32, id: u32) -> Result<()> {
    let mut a = [0u8; 128];
    put32(&mut a, 0, id);
    let Ok(fd) = bpf(BPF_PROG_GET_FD_BY_ID, &mut a, "get old device program") else { return Ok(()) };
    // SAFETY: a new fd for the old program.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut a = [0u8; 128];
    put32(&mut a, 0, cg as u32);
    put32(&mut a, 4, fd.as_raw_fd() as u32);
    put32(&mut a, 8, BPF_CGROUP_DEVICE);
    bpf(BPF_PROG_DETACH, &mut a, "detach old device program").map(drop)
}

/// Ids of the device programs attached to this cgroup itself.
fn query(cg: i32) -> Result<Vec<u32>> {
    let mut ids = [0u32; 64];
    let mut a = [0u8; 128];
    put32(&mut a, 0, cg as u32);
    put32(&mut a, 4, BPF_CGROUP_DEVICE);
    put64(&mut a, 16, ids.as_mut_ptr() as u64);
    put32(&mut a, 24, ids.len() as u32);
    bpf(BPF_PROG_QUERY, &mut a, "query device programs")?;
    let n = u32::from_le_bytes(a[24..28].try_into().unwrap()) as usize;
    Ok(ids[..n.min(ids.len())].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_all_then_allows_reduces_to_exceptions() {
        let cfg = vec![DeviceRule { allow: false, access: Some("rwm".into()), ..Default::default() }];
        let r = rules(&cfg, &[('c', 1, 3)]).unwrap();
        let (allow, ex) = reduce(&r);
        assert!(!allow);
        assert!(ex.iter().any(|e| e.v1_line() == "c 136:* rwm"));
        assert_eq!(r[0].v1_line(), "a *:* rwm");
    }

    #[test]
    fn program_ends_with_default_verdict() {
        let p = bpf_program(&[Rule::new(false, 'a', None, None, "rwm"), Rule::new(true, 'c', Some(1), Some(3), "rw")]);
        assert_eq!(p.last().unwrap()[0], EXIT);
        assert_eq!(p[p.len() - 2][4], 0, "default deny");
        // type check, access check (3 insns), major, minor, verdict, exit
        assert_eq!(p.len(), 6 + 1 + 3 + 1 + 1 + 2 + 2);
    }

    /// A cgroup2 directory to make test cgroups in, if this is root.
    fn cgroup2_root() -> Option<&'static str> {
        let is_cg2 = |p: &str| nix::sys::statfs::statfs(p).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
        if !nix::unistd::geteuid().is_root() {
            return None;
        }
        ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].into_iter().find(|p| is_cg2(p))
    }

    struct Dirs(Vec<std::path::PathBuf>);
    impl Drop for Dirs {
        fn drop(&mut self) {
            for d in &self.0 {
                let _ = std::fs::remove_dir(d);
            }
        }
    }

    fn in_cgroup(dir: &std::path::Path, dev: &str) -> std::process::Output {
        let script = format!("echo $$ > {}/cgroup.procs && exec head -c1 {dev}", dir.display());
        std::process::Command::new("sh").args(["-c", &script]).output().unwrap()
    }

    #[test]
    fn kept_programs_are_reused_only_where_none_is_attached() {
        let Some(root) = cgroup2_root() else { return eprintln!("skipped: needs root and cgroup2") };
        let dirs = Dirs((0..2).map(|i| std::path::PathBuf::from(format!("{root}/librunc-devtest-{}-{i}", std::process::id()))).collect());
        for d in &dirs.0 {
            std::fs::create_dir(d).unwrap();
        }
        let ids = |d: &std::path::Path| query(std::fs::File::open(d).unwrap().as_raw_fd()).unwrap();
        let only_null = [Rule::new(false, 'a', None, None, "rwm"), Rule::new(true, 'c', Some(1), Some(3), "rwm")];
        let (a, b) = (&dirs.0[0], &dirs.0[1]);
        attach_v2(a, &only_null).unwrap();
        attach_v2(b, &only_null).unwrap();
        let (ia, ib) = (ids(a), ids(b));
        assert_eq!((ia.len(), ib.len()), (1, 1));
        assert_eq!(ia, ib, "the second cgroup got the kept program");
        // The kept program does its job in the second cgroup.
        let full = in_cgroup(b, "/dev/full");
        assert!(!full.status.success() && String::from_utf8_lossy(&full.stderr).contains("not permitted"), "{full:?}");
        assert!(in_cgroup(b, "/dev/null").status.success());
        // An update replaces a's program and leaves b's; an update back to
        // the kept rules loads anew instead of attaching the kept one twice.
        attach_v2(a, &[Rule::new(true, 'a', None, None, "rwm")]).unwrap();
        assert!(ids(a).len() == 1 && ids(a) != ib && ids(b) == ib);
        attach_v2(a, &only_null).unwrap();
        assert!(ids(a).len() == 1 && ids(a) != ib && ids(b) == ib);
        assert!(in_cgroup(a, "/dev/full").stderr.ends_with(b"Operation not permitted\n"));
        attach_v2(b, &only_null).expect("an update with the rules b already has");
        assert!(ids(b).len() == 1 && ids(b) != ib);
        for m in 0..KEEP as u32 + 2 {
            loaded(&bpf_program(&[Rule::new(true, 'c', Some(m), None, "r")]).concat()).unwrap();
        }
        assert_eq!(LOADED.lock().unwrap().len(), KEEP);
    }
}
