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

    /// The access as the kernel's BPF_DEVCG_ACC_* bits (mknod 1, read 2, write 4).
    fn access_bits(&self) -> i32 {
        self.access.chars().fold(0, |a, c| a | match c { 'm' => 1, 'r' => 2, _ => 4 })
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
const JA: u8 = 0x05;
// 32-bit compares: device numbers are u32, an immediate is sign-extended.
const JEQ_K: u8 = 0x16;
const JNE_K: u8 = 0x56;
const EXIT: u8 = 0x95;
// Registers the program keeps the request in.
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

/// Instructions with jumps to labels, resolved by `finish`.
struct Asm {
    code: Vec<[u8; 8]>,
    labels: Vec<Option<usize>>,
    jumps: Vec<(usize, usize)>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }
    fn jump(&mut self, code: u8, reg: u8, imm: i32, label: usize) {
        self.jumps.push((self.code.len(), label));
        self.code.push(insn(code, reg, 0, 0, imm));
    }
    fn finish(mut self) -> Vec<[u8; 8]> {
        for (at, label) in self.jumps {
            let off = self.labels[label].expect("bound label") as i64 - at as i64 - 1;
            self.code[at][2..4].copy_from_slice(&(off as i16).to_le_bytes());
        }
        self.code
    }
}

/// One condition of a rule: a register equals a number, or the requested
/// access has no bit outside the rule's.
enum Check {
    Is(u8, u32),
    AccessWithin(i32),
}

/// What a rule has to check besides its type; its major only `with_major`
/// (inside a major's group the group has checked it).
fn checks(r: &Rule, with_major: bool) -> Vec<Check> {
    let bits = r.access_bits();
    let mut out = Vec::new();
    if bits != 7 {
        out.push(Check::AccessWithin(bits));
    }
    match r.major {
        Some(m) if with_major => out.push(Check::Is(MAJOR, m)),
        _ => {}
    }
    out.extend(r.minor.map(|m| Check::Is(MINOR, m)));
    out
}

/// Emits rules that match when any one does: each check but the last skips
/// to the next rule, the last jumps to `hit`. Returns false when a rule
/// with nothing to check made the rest unreachable (the verifier refuses
/// unreachable code).
fn any_of(a: &mut Asm, rules: &[Vec<Check>], hit: usize) -> bool {
    for r in rules {
        let Some((last, first)) = r.split_last() else {
            a.jump(JA, 0, 0, hit);
            return false;
        };
        let next = a.label();
        for c in first {
            emit(a, c, JNE_K, next);
        }
        emit(a, last, JEQ_K, hit);
        a.bind(next);
    }
    true
}

fn emit(a: &mut Asm, c: &Check, jump: u8, label: usize) {
    match *c {
        Check::Is(reg, v) => a.jump(jump, reg, v as i32, label),
        Check::AccessWithin(bits) => {
            a.code.push(insn(MOV32_X, 1, ACCESS, 0, 0));
            a.code.push(insn(AND32_K, 1, 0, 0, !bits));
            a.jump(jump, 1, 0, label);
        }
    }
}

/// Compiles the rules into a cgroup device program. Every exception has the
/// verdict opposite to the default, so the program asks whether any one
/// matches, as a tree: rules for any type, then per type the rules for any
/// major, then one group per major. Past the rules for any type, no register
/// is compared with a second value on a path where it is known, so the
/// verifier walks each instruction about once (runc's defaults as a linear
/// list took it ~0.45 ms here, this tree ~0.14 ms).
pub fn bpf_program(rules: &[Rule]) -> Result<Vec<[u8; 8]>> {
    let (default_allow, exceptions) = reduce(rules);
    let mut a = Asm { code: Vec::new(), labels: Vec::new(), jumps: Vec::new() };
    a.code.extend([
        insn(LDX_W, TYPE, 1, 0, 0),
        insn(AND32_K, TYPE, 0, 0, 0xffff),
        insn(LDX_W, ACCESS, 1, 0, 0),
        insn(RSH32_K, ACCESS, 0, 0, 16),
        insn(LDX_W, MAJOR, 1, 4, 0),
        insn(LDX_W, MINOR, 1, 8, 0),
    ]);
    let (hit, miss) = (a.label(), a.label());
    let of = |kind: char| exceptions.iter().filter(move |r| r.kind == kind);
    if any_of(&mut a, &of('a').map(|r| checks(r, true)).collect::<Vec<_>>(), hit) {
        for (kind, code) in [('c', 2), ('b', 1)] {
            if of(kind).next().is_none() {
                continue;
            }
            let other_type = a.label();
            a.jump(JNE_K, TYPE, code, other_type);
            type_section(&mut a, of(kind).collect(), hit, miss);
            a.bind(other_type);
        }
    }
    a.bind(miss);
    a.code.push(insn(MOV64_K, 0, 0, 0, default_allow as i32));
    a.code.push(insn(EXIT, 0, 0, 0, 0));
    if a.jumps.iter().any(|&(_, l)| l == hit) {
        a.bind(hit);
        a.code.push(insn(MOV64_K, 0, 0, 0, !default_allow as i32));
        a.code.push(insn(EXIT, 0, 0, 0, 0));
    }
    // Jump offsets are 16 bits.
    if a.code.len() > i16::MAX as usize {
        return Err(Error::config(format!("{} device rules make too long a program", exceptions.len())));
    }
    Ok(a.finish())
}

/// One type's rules: those for any major, then a group per major. A request
/// that reaches a group has that major, so a failed group ends in `miss`.
fn type_section(a: &mut Asm, mut rules: Vec<&Rule>, hit: usize, miss: usize) {
    rules.sort_by_key(|r| r.major);
    let any_major = rules.partition_point(|r| r.major.is_none());
    if !any_of(a, &rules[..any_major].iter().map(|r| checks(r, false)).collect::<Vec<_>>(), hit) {
        return;
    }
    for group in rules[any_major..].chunk_by(|x, y| x.major == y.major) {
        let other_major = a.label();
        // Every rule past the first `any_major` has a major.
        a.jump(JNE_K, MAJOR, group[0].major.unwrap_or_default() as i32, other_major);
        if any_of(a, &group.iter().map(|r| checks(r, false)).collect::<Vec<_>>(), hit) {
            a.jump(JA, 0, 0, miss);
        }
        a.bind(other_major);
    }
    a.jump(JA, 0, 0, miss);
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
    let insns: Vec<u8> = bpf_program(rules)?.concat();
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
/// verifier. Each is one close-on-exec fd.
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

    /// Runs a program the way the kernel would, for the instructions we emit.
    fn run(p: &[[u8; 8]], ctx: [u32; 3]) -> u64 {
        let mut r = [0u64; 11];
        let mut pc = 0;
        loop {
            let i = p[pc];
            let (dst, src) = ((i[1] & 0xf) as usize, (i[1] >> 4) as usize);
            let off = i16::from_le_bytes([i[2], i[3]]) as isize;
            let imm = i32::from_le_bytes([i[4], i[5], i[6], i[7]]);
            let mut jump = false;
            match i[0] {
                LDX_W => r[dst] = ctx[off as usize / 4] as u64,
                AND32_K => r[dst] = (r[dst] as u32 & imm as u32) as u64,
                RSH32_K => r[dst] = (r[dst] as u32 >> imm) as u64,
                MOV32_X => r[dst] = r[src] as u32 as u64,
                MOV64_K => r[dst] = imm as i64 as u64,
                JA => jump = true,
                JEQ_K => jump = r[dst] as u32 == imm as u32,
                JNE_K => jump = r[dst] as u32 != imm as u32,
                EXIT => return r[0],
                op => panic!("opcode {op:#x}"),
            }
            pc = if jump { (pc as isize + 1 + off) as usize } else { pc + 1 };
        }
    }

    /// The verdict as the rules say: any exception flips the default.
    fn verdict(rules: &[Rule], kind: char, major: u32, minor: u32, access: u32) -> bool {
        let (allow, ex) = reduce(rules);
        let hit = ex.iter().any(|e| {
            (e.kind == 'a' || e.kind == kind) && e.major.is_none_or(|m| m == major) && e.minor.is_none_or(|m| m == minor) && access & !e.access_bits() as u32 == 0
        });
        allow != hit
    }

    /// Random rule lists (a fixed-seed generator), each compiled and run on
    /// every request over a small grid of numbers, compared with `verdict`.
    fn random_rule_lists() -> impl Iterator<Item = Vec<Rule>> {
        let mut seed = 0x2545f4914f6cdd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let num = |v: u64| [None, Some(0), Some(1), Some(2), Some(u32::MAX)][v as usize];
        (0..400).map(move |_| {
            let mut rules = defaults();
            rules.truncate(next(12) as usize);
            for _ in 0..next(8) {
                let kind = ['a', 'c', 'b'][next(3) as usize];
                let access = ["m", "r", "w", "rw", "rm", "wm", "rwm"][next(7) as usize];
                rules.insert(next(rules.len() as u64 + 1) as usize, Rule::new(next(2) == 0, kind, num(next(5)), num(next(5)), access));
            }
            rules
        })
    }

    #[test]
    fn program_gives_the_rules_verdict() {
        let mut lists = 0;
        for rules in random_rule_lists().chain([defaults(), vec![Rule::new(false, 'a', None, None, "rwm")]]) {
            let p = bpf_program(&rules).unwrap();
            for (kind, code) in [('c', 2), ('b', 1), ('x', 3)] {
                for (major, minor) in [(0, 0), (0, 2), (1, 3), (2, 1), (5, 2), (136, 7), (u32::MAX, 1)] {
                    for access in 1..8 {
                        let want = verdict(&rules, kind, major, minor, access);
                        let got = run(&p, [access << 16 | code, major, minor]) == 1;
                        assert_eq!(got, want, "{kind} {major}:{minor} access {access} with {rules:?}");
                    }
                }
            }
            lists += 1;
        }
        assert_eq!(lists, 402);
    }

    #[test]
    fn too_many_rules_for_16_bit_jumps_are_refused() {
        let many: Vec<Rule> = (0..11000).map(|m| Rule::new(true, 'c', Some(m), Some(1), "rwm")).collect();
        let e = bpf_program(&many).unwrap_err();
        assert_eq!(e.msg, "11000 device rules make too long a program");
        assert!(bpf_program(&many[..10000]).is_ok());
    }

    #[test]
    fn kernel_accepts_every_program() {
        if !nix::unistd::geteuid().is_root() {
            return eprintln!("skipped: needs root");
        }
        for rules in random_rule_lists() {
            load(&bpf_program(&rules).unwrap().concat()).unwrap_or_else(|e| panic!("{e} for {rules:?}"));
        }
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
            loaded(&bpf_program(&[Rule::new(true, 'c', Some(m), None, "r")]).unwrap().concat()).unwrap();
        }
        assert_eq!(LOADED.lock().unwrap().len(), KEEP);
    }
}
