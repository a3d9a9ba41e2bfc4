//! linux.seccomp compiled to a BPF program in the library (libseccomp), so the
//! init only has to install bytes with seccomp(2).

use crate::spec::types::Seccomp;

/// seccomp(2) returns a notify fd for the filter (SCMP_ACT_NOTIFY rules).
const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;

/// Compiled filter: BPF bytes and seccomp(2) flags.
pub struct Compiled {
    pub bpf: Vec<u8>,
    pub flags: u32,
}

/// Checks the profile and compiles it; Ok(None) when it allows everything.
#[cfg(feature = "seccomp")]
pub fn compile(s: &Seccomp) -> Result<Option<Compiled>, String> {
    use libseccomp::*;
    use std::io::{Read, Seek};
    use std::str::FromStr;
    let default = action(&s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction")?;
    if default == ScmpAction::Notify {
        return Err("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action".into());
    }
    let archs = s
        .architectures
        .iter()
        .enumerate()
        .map(|(i, a)| ScmpArch::from_str(a).map_err(|_| format!("linux.seccomp.architectures[{i}]: unknown architecture {a:?}")))
        .collect::<Result<Vec<_>, String>>()?;
    // The init installs the exported program itself, so the flags go to seccomp(2).
    let mut flags = 0u32;
    for (i, f) in s.flags.iter().enumerate() {
        flags |= match f.as_str() {
            "SECCOMP_FILTER_FLAG_TSYNC" => 1,
            "SECCOMP_FILTER_FLAG_LOG" => 2,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => 4,
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => 32,
            _ => return Err(format!("linux.seccomp.flags[{i}]: flag {f:?} is not supported")),
        };
    }
    if default == ScmpAction::Allow && s.syscalls.is_empty() {
        return Ok(None);
    }
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| format!("linux.seccomp: {e}"))?;
    // Native arch is in the filter by default; the rest come from the profile.
    for (i, arch) in archs.into_iter().enumerate() {
        ctx.add_arch(arch).map_err(|e| format!("linux.seccomp.architectures[{i}]: {e}"))?;
    }
    let mut max_nr = 0i32;
    for (i, sc) in s.syscalls.iter().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(&sc.action, sc.errno_ret, &format!("{field}.action"))?;
        if act == ScmpAction::Notify {
            if s.listener_path.as_deref().unwrap_or("").is_empty() {
                return Err("linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY".into());
            }
            flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        if act == default {
            continue;
        }
        let conds = sc
            .args
            .iter()
            .enumerate()
            .map(|(j, a)| {
                let (o, datum) = op(&a.op, a.value, a.value_two).ok_or(format!("{field}.args[{j}].op: unknown operator {:?}", a.op))?;
                Ok(ScmpArgCompare::new(a.index, o, datum))
            })
            .collect::<Result<Vec<_>, String>>()?;
        for name in &sc.names {
            // Like runc: a name this libseccomp does not know is skipped.
            let Ok(nr) = ScmpSyscall::from_name(name) else { continue };
            max_nr = max_nr.max(i32::from(nr));
            ctx.add_rule_conditional(act, nr, &conds).map_err(|e| format!("{field}: syscall {name}: {e}"))?;
        }
    }
    let mut f = memfd().map_err(|e| format!("linux.seccomp: memfd: {e}"))?;
    ctx.export_bpf(&f).map_err(|e| format!("linux.seccomp: export: {e}"))?;
    let mut bpf = Vec::new();
    f.rewind().and_then(|_| f.read_to_end(&mut bpf)).map_err(|e| format!("linux.seccomp: read filter: {e}"))?;
    if default != ScmpAction::Allow && max_nr > 0 {
        bpf = [enosys_stub(max_nr as u32), bpf].concat();
    }
    Ok(Some(Compiled { bpf, flags }))
}

/// A prefix for the filter: on the native arch, syscalls numbered above every
/// syscall the profile names are newer than the profile, and get ENOSYS
/// (so programs fall back) instead of the default action (as runc does).
#[cfg(feature = "seccomp")]
fn enosys_stub(max_nr: u32) -> Vec<u8> {
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const X32_BIT: u32 = 0x4000_0000;
    let ins = |code: u16, jt: u8, jf: u8, k: u32| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&code.to_ne_bytes());
        b[2] = jt;
        b[3] = jf;
        b[4..8].copy_from_slice(&k.to_ne_bytes());
        b
    };
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGE_K: u16 = 0x35;
    const JGT_K: u16 = 0x25;
    const RET_K: u16 = 0x06;
    const RET_ERRNO: u32 = 0x0005_0000;
    if !cfg!(target_arch = "x86_64") {
        return Vec::new();
    }
    [
        ins(LD_W_ABS, 0, 0, 4),                // A = arch
        ins(JEQ_K, 0, 4, AUDIT_ARCH_X86_64),   // other arch: to the real filter
        ins(LD_W_ABS, 0, 0, 0),                // A = nr
        ins(JGE_K, 2, 0, X32_BIT),             // x32 syscalls: to the real filter
        ins(JGT_K, 0, 1, max_nr),              // newer than the profile?
        ins(RET_K, 0, 0, RET_ERRNO | libc::ENOSYS as u32),
    ]
    .concat()
}

#[cfg(feature = "seccomp")]
fn memfd() -> std::io::Result<std::fs::File> {
    let fd = nix::sys::memfd::memfd_create(c"seccomp-bpf", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)?;
    Ok(std::fs::File::from(fd))
}

#[cfg(feature = "seccomp")]
fn action(name: &str, errno: Option<u32>, field: &str) -> Result<libseccomp::ScmpAction, String> {
    use libseccomp::ScmpAction::*;
    Ok(match name {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => KillThread,
        "SCMP_ACT_KILL_PROCESS" => KillProcess,
        "SCMP_ACT_TRAP" => Trap,
        "SCMP_ACT_ERRNO" => Errno(errno.unwrap_or(libc::EPERM as u32) as i32),
        "SCMP_ACT_TRACE" => Trace(errno.unwrap_or(libc::EPERM as u32) as u16),
        "SCMP_ACT_ALLOW" => Allow,
        "SCMP_ACT_LOG" => Log,
        "SCMP_ACT_NOTIFY" => Notify,
        _ => return Err(format!("{field}: unknown seccomp action {name:?}")),
    })
}

#[cfg(feature = "seccomp")]
/// The operator and the datum compared; for MASKED_EQ `value` is the mask.
fn op(name: &str, value: u64, two: u64) -> Option<(libseccomp::ScmpCompareOp, u64)> {
    use libseccomp::ScmpCompareOp::*;
    if name == "SCMP_CMP_MASKED_EQ" {
        return Some((MaskedEqual(value), two));
    }
    let o = match name {
        "SCMP_CMP_NE" => NotEqual,
        "SCMP_CMP_LT" => Less,
        "SCMP_CMP_LE" => LessOrEqual,
        "SCMP_CMP_EQ" => Equal,
        "SCMP_CMP_GE" => GreaterEqual,
        "SCMP_CMP_GT" => Greater,
        _ => return None,
    };
    Some((o, value))
}

/// Without the `seccomp` feature a profile that filters anything is refused.
#[cfg(not(feature = "seccomp"))]
pub fn compile(s: &Seccomp) -> Result<Option<Compiled>, String> {
    if s.default_action == "SCMP_ACT_ALLOW" && s.syscalls.is_empty() {
        return Ok(None);
    }
    Err("linux.seccomp: this build has no seccomp support (build with the `seccomp` feature)".into())
}
