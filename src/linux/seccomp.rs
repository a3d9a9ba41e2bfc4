//! linux.seccomp compiled to a BPF program in the library (libseccomp), so the
//! init only has to install bytes with seccomp(2).

use crate::spec::types::Seccomp;

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
    let default = action(&s.default_action, s.default_errno_ret, "defaultAction")?;
    if default == ScmpAction::Allow && s.syscalls.is_empty() {
        return Ok(None);
    }
    if default == ScmpAction::Notify {
        return Err("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action".into());
    }
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| format!("linux.seccomp: {e}"))?;
    // Native arch is in the filter by default; the rest come from the profile.
    for (i, a) in s.architectures.iter().enumerate() {
        let arch = ScmpArch::from_str(a).map_err(|_| format!("linux.seccomp.architectures[{i}]: unknown architecture {a:?}"))?;
        ctx.add_arch(arch).map_err(|e| format!("linux.seccomp.architectures[{i}]: {e}"))?;
    }
    for (i, f) in s.flags.iter().enumerate() {
        match f.as_str() {
            "SECCOMP_FILTER_FLAG_LOG" => ctx.set_ctl_log(true).map(drop),
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => ctx.set_ctl_ssb(true).map(drop),
            _ => return Err(format!("linux.seccomp.flags[{i}]: flag {f:?} is not supported")),
        }
        .map_err(|e| format!("linux.seccomp.flags[{i}]: {e}"))?;
    }
    for (i, sc) in s.syscalls.iter().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(&sc.action, sc.errno_ret, &format!("{field}.action"))?;
        if act == ScmpAction::Notify {
            return Err(format!("{field}.action: SCMP_ACT_NOTIFY is not supported yet"));
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
            ctx.add_rule_conditional(act, nr, &conds).map_err(|e| format!("{field}: syscall {name}: {e}"))?;
        }
    }
    let mut f = memfd().map_err(|e| format!("linux.seccomp: memfd: {e}"))?;
    ctx.export_bpf(&f).map_err(|e| format!("linux.seccomp: export: {e}"))?;
    let mut bpf = Vec::new();
    f.rewind().and_then(|_| f.read_to_end(&mut bpf)).map_err(|e| format!("linux.seccomp: read filter: {e}"))?;
    Ok(Some(Compiled { bpf, flags: 0 }))
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
