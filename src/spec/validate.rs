//! Checks a config before anything is created. Every error is one line that
//! names the field. Fields this build cannot honour yet are refused by name.

use super::types::*;
use crate::error::{Error, Result};
use crate::linux::{caps, devices, mount_opts, namespaces, rlimits, sysctl};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn bad(field: impl std::fmt::Display, msg: impl std::fmt::Display) -> Error {
    Error::config(format!("{field}: {msg}"))
}

fn unsupported(field: &str) -> Error {
    Error::unsupported(format!("{field}: not supported by this version of librunc"))
}

/// Validates `spec` for the bundle at `dir`; returns the absolute rootfs path.
pub fn validate(spec: &Spec, dir: &Path) -> Result<PathBuf> {
    let rootfs = root(spec, dir)?;
    validate_config(spec)?;
    Ok(rootfs)
}

/// Every check that does not depend on the bundle directory.
pub fn validate_config(spec: &Spec) -> Result<()> {
    if !spec.oci_version.starts_with("1.") {
        return Err(bad("ociVersion", format!("unsupported version {:?} (want 1.x)", spec.oci_version)));
    }
    let process = spec.process.as_ref().ok_or_else(|| bad("process", "missing"))?;
    validate_process(process)?;
    let linux = spec.linux.as_ref().ok_or_else(|| bad("linux", "missing"))?;
    let ns = validate_namespaces(linux)?;
    if spec.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !ns.contains("uts") {
        return Err(bad("hostname", "unable to set hostname without a private UTS namespace"));
    }
    if spec.domainname.as_deref().is_some_and(|h| !h.is_empty()) && !ns.contains("uts") {
        return Err(bad("domainname", "unable to set domainname without a private UTS namespace"));
    }
    for (i, m) in spec.mounts.iter().enumerate() {
        validate_mount(i, m)?;
    }
    validate_linux(linux, &ns)?;
    if let Some(h) = &spec.hooks {
        validate_hooks(h)?;
    }
    Ok(())
}

fn validate_hooks(h: &Hooks) -> Result<()> {
    let kinds = [
        ("prestart", &h.prestart),
        ("createRuntime", &h.create_runtime),
        ("createContainer", &h.create_container),
        ("startContainer", &h.start_container),
        ("poststart", &h.poststart),
        ("poststop", &h.poststop),
    ];
    for (kind, list) in kinds {
        for (i, hook) in list.iter().enumerate() {
            if !hook.path.starts_with('/') {
                return Err(bad(format!("hooks.{kind}[{i}].path"), format!("{:?} is not an absolute path", hook.path)));
            }
            if hook.timeout.is_some_and(|t| t <= 0) {
                return Err(bad(format!("hooks.{kind}[{i}].timeout"), "must be greater than zero"));
            }
            if let Some(j) = hook.env.iter().position(|e| !e.contains('=')) {
                return Err(bad(format!("hooks.{kind}[{i}].env[{j}]"), "is not of the form NAME=VALUE"));
            }
        }
    }
    Ok(())
}

fn root(spec: &Spec, dir: &Path) -> Result<PathBuf> {
    let root = spec.root.as_ref().ok_or_else(|| bad("root", "missing"))?;
    if root.path.is_empty() {
        return Err(bad("root.path", "empty"));
    }
    let path = dir.join(&root.path);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(bad("root.path", format!("{} is not a directory", path.display()))),
        Err(e) => Err(bad("root.path", format!("{}: {}", path.display(), crate::error::io_text(&e)))),
    }
}

/// Checks a process object (config.json's, or an exec's process.json).
pub fn validate_process(p: &Process) -> Result<()> {
    if p.args.is_empty() || p.args[0].is_empty() {
        return Err(bad("process.args", "must not be empty"));
    }
    if !p.cwd.starts_with('/') {
        return Err(bad("process.cwd", format!("{:?} is not an absolute path", p.cwd)));
    }
    if let Some(i) = p.env.iter().position(|e| !e.contains('=')) {
        return Err(bad(format!("process.env[{i}]"), format!("{:?} is not of the form NAME=VALUE", p.env[i])));
    }
    if let Some(c) = &p.capabilities {
        let sets = [("bounding", &c.bounding), ("effective", &c.effective), ("inheritable", &c.inheritable), ("permitted", &c.permitted), ("ambient", &c.ambient)];
        for (name, set) in sets {
            if let Some(list) = set {
                caps::mask(list).map_err(|n| bad(format!("process.capabilities.{name}"), format!("unknown capability {n:?}")))?;
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (i, r) in p.rlimits.iter().enumerate() {
        let field = format!("process.rlimits[{i}]");
        rlimits::resource(&r.kind).ok_or_else(|| bad(format!("{field}.type"), format!("unknown rlimit {:?}", r.kind)))?;
        if !seen.insert(&r.kind) {
            return Err(bad(field, format!("duplicate rlimit {}", r.kind)));
        }
        if r.soft > r.hard {
            return Err(bad(field, format!("soft limit {} is above hard limit {}", r.soft, r.hard)));
        }
    }
    if let Some(adj) = p.oom_score_adj {
        if !(-1000..=1000).contains(&adj) {
            return Err(bad("process.oomScoreAdj", format!("{adj} is outside -1000..1000")));
        }
    }
    if let Some(io) = &p.io_priority {
        if !["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"].contains(&io.class.as_str()) {
            return Err(bad("process.ioPriority.class", format!("unknown class {:?}", io.class)));
        }
        if !(0..=7).contains(&io.priority) {
            return Err(bad("process.ioPriority.priority", format!("{} is outside 0..7", io.priority)));
        }
    }
    crate::linux::lsm::exec_labels(p.apparmor_profile.as_deref(), p.selinux_label.as_deref())?;
    if p.scheduler.is_some() {
        return Err(unsupported("process.scheduler"));
    }
    if p.exec_cpu_affinity.is_some() {
        return Err(unsupported("process.execCPUAffinity"));
    }
    Ok(())
}

/// Returns the set of namespace types the container has (new or joined).
fn validate_namespaces(l: &Linux) -> Result<BTreeSet<&str>> {
    let mut seen = BTreeSet::new();
    for (i, n) in l.namespaces.iter().enumerate() {
        let field = format!("linux.namespaces[{i}]");
        if namespaces::flag(&n.kind).is_none() {
            return Err(bad(format!("{field}.type"), format!("unknown namespace type {:?}", n.kind)));
        }
        if !seen.insert(n.kind.as_str()) {
            return Err(bad(field, format!("duplicate namespace {:?}", n.kind)));
        }
        if let Some(p) = n.path.as_deref().filter(|p| !p.is_empty()) {
            if !p.starts_with('/') {
                return Err(bad(format!("{field}.path"), format!("{p:?} is not an absolute path")));
            }
            if !Path::new(p).exists() {
                return Err(bad(format!("{field}.path"), format!("{p}: no such file or directory")));
            }
        }
    }
    if !seen.contains("mount") {
        return Err(bad("linux.namespaces", "a mount namespace is required"));
    }
    let new_user = l.namespaces.iter().any(|n| n.kind == "user" && n.path.as_deref().unwrap_or("").is_empty());
    let has_maps = !l.uid_mappings.is_empty() || !l.gid_mappings.is_empty();
    if new_user && (l.uid_mappings.is_empty() || l.gid_mappings.is_empty()) {
        return Err(bad("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings"));
    }
    if has_maps && !new_user {
        return Err(bad("linux.uidMappings", "id mappings need a new user namespace"));
    }
    for (name, maps) in [("uidMappings", &l.uid_mappings), ("gidMappings", &l.gid_mappings)] {
        if let Some(i) = maps.iter().position(|m| m.size == 0) {
            return Err(bad(format!("linux.{name}[{i}].size"), "must not be 0"));
        }
    }
    if l.time_offsets.as_ref().is_some_and(|t| !t.is_empty()) && !l.namespaces.iter().any(|n| n.kind == "time" && n.path.is_none()) {
        return Err(bad("linux.timeOffsets", "time offsets need a new time namespace"));
    }
    Ok(seen)
}

fn validate_mount(i: usize, m: &Mount) -> Result<()> {
    let field = format!("mounts[{i}]");
    if !m.destination.starts_with('/') {
        return Err(bad(format!("{field}.destination"), format!("{:?} is not an absolute path", m.destination)));
    }
    if m.destination.split('/').any(|c| c == "..") {
        return Err(bad(format!("{field}.destination"), format!("{:?} contains \"..\"", m.destination)));
    }
    let opts = mount_opts::parse(&m.options).map_err(|e| bad(format!("{field}.options"), e))?;
    let bind = opts.flags & libc::MS_BIND != 0 || m.kind.as_deref() == Some("bind");
    if bind {
        let src = m.source.as_deref().unwrap_or("");
        if !src.starts_with('/') {
            return Err(bad(format!("{field}.source"), format!("bind source {src:?} must be an absolute path")));
        }
        if std::fs::symlink_metadata(src).is_err() {
            return Err(bad(format!("{field}.source"), format!("{src}: no such file or directory")));
        }
    } else if m.kind.as_deref().unwrap_or("").is_empty() {
        return Err(bad(format!("{field}.type"), "missing (needed for a non-bind mount)"));
    }
    check_proc_mount(&field, m, bind)?;
    if opts.copy_up && m.kind.as_deref() != Some("tmpfs") {
        return Err(bad(format!("{field}.options"), "tmpcopyup is only for tmpfs mounts"));
    }
    if !m.uid_mappings.is_empty() || !m.gid_mappings.is_empty() {
        return Err(unsupported(&format!("{field}.uidMappings")));
    }
    Ok(())
}

/// Files under /proc that may be bind-mounted over (lxcfs and the like); any
/// other mount on or under /proc could redirect the runtime's own procfs
/// writes (CVE-2019-16884, CVE-2023-27561) and is refused.
const PROC_BIND_OK: [&str; 10] = [
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
];

fn check_proc_mount(field: &str, m: &Mount, bind: bool) -> Result<()> {
    // "//proc/./" is /proc too.
    let dest = format!("/{}", m.destination.split('/').filter(|c| !c.is_empty() && *c != ".").collect::<Vec<_>>().join("/"));
    let dest = dest.as_str();
    if dest == "/proc" {
        if m.kind.as_deref() != Some("proc") || bind {
            return Err(bad(format!("{field}.type"), "only a proc filesystem may be mounted on /proc"));
        }
    } else if dest.starts_with("/proc/") && !(bind && PROC_BIND_OK.contains(&dest)) {
        return Err(bad(format!("{field}.destination"), format!("{dest:?} is under /proc; mounts there are refused")));
    }
    Ok(())
}

fn validate_linux(l: &Linux, ns: &BTreeSet<&str>) -> Result<()> {
    for (i, d) in l.devices.iter().enumerate() {
        let field = format!("linux.devices[{i}]");
        if devices::kind(&d.kind).is_none() {
            return Err(bad(format!("{field}.type"), format!("unknown device type {:?}", d.kind)));
        }
        if !d.path.starts_with("/dev/") || d.path.contains("/../") {
            return Err(bad(format!("{field}.path"), format!("{:?} is not a path under /dev", d.path)));
        }
    }
    for k in l.sysctl.keys() {
        match sysctl::namespace_of(k) {
            Some(n) if ns.contains(n) => {}
            Some(n) => return Err(bad(format!("linux.sysctl.{k}"), format!("needs a private {n} namespace"))),
            None => return Err(bad(format!("linux.sysctl.{k}"), "is not in a separate kernel namespace")),
        }
    }
    if let Some(p) = l.rootfs_propagation.as_deref().filter(|p| !p.is_empty()) {
        if mount_opts::propagation(p).is_none() {
            return Err(bad("linux.rootfsPropagation", format!("unknown propagation {p:?}")));
        }
    }
    for (name, list) in [("maskedPaths", &l.masked_paths), ("readonlyPaths", &l.readonly_paths)] {
        if let Some(i) = list.iter().flatten().position(|p| !p.starts_with('/')) {
            return Err(bad(format!("linux.{name}[{i}]"), "must be an absolute path"));
        }
    }
    if let Some(p) = &l.personality {
        if !["LINUX", "LINUX32"].contains(&p.domain.as_str()) {
            return Err(bad("linux.personality.domain", format!("unknown domain {:?}", p.domain)));
        }
        if !p.flags.is_empty() {
            return Err(unsupported("linux.personality.flags"));
        }
    }
    crate::linux::lsm::mount_label_option(l.mount_label.as_deref())?;
    let r = resources(l)?;
    crate::cgroups::devices::rules(&r.devices, &[])?;
    let refused = [
        ("linux.netDevices", l.net_devices.is_some()),
        ("linux.intelRdt", l.intel_rdt.is_some()),
        ("linux.memoryPolicy", l.memory_policy.is_some()),
    ];
    if let Some((f, _)) = refused.iter().find(|r| r.1) {
        return Err(unsupported(f));
    }
    Ok(())
}

/// The typed `linux.resources` (empty when absent); errors name the field.
pub fn resources(l: &Linux) -> Result<crate::cgroups::resources::Resources> {
    match &l.resources {
        None => Ok(Default::default()),
        Some(v) => crate::cgroups::resources::Resources::from_value(v.clone(), "linux.resources"),
    }
}
