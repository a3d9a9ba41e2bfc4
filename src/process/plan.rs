//! Turns a validated bundle into the init's [`Plan`]: every name resolved to a
//! number, every option to flags, the seccomp profile to BPF.

use crate::error::{Error, Result};
use crate::linux::{caps, devices, mount_opts, namespaces, rlimits, seccomp};
use crate::spec::types::{Device, Mount, Process};
use crate::spec::Bundle;
use runc_init::{CapSets, MountOp, Plan, ProcessPlan};

/// Options of `create` that shape the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub no_pivot: bool,
    /// Extra fds passed through after the socket-activation ones.
    pub preserve_fds: u32,
    /// Socket-activation fds (LISTEN_FDS), passed first.
    pub listen_fds: u32,
    /// Join this new session keyring (None: keep the caller's).
    pub session_keyring: Option<String>,
}

pub fn build(b: &Bundle, opts: &PlanOptions, cgroup: &crate::cgroups::Cgroup) -> Result<Plan> {
    let spec = &b.spec;
    let linux = spec.linux_or_default();
    let mut plan = Plan {
        join_tasks: cgroup.v1_tasks(),
        rootfs: b.rootfs.to_string_lossy().into_owned(),
        rootfs_readonly: spec.root.as_ref().is_some_and(|r| r.readonly),
        no_pivot: opts.no_pivot,
        hostname: spec.hostname.clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname.clone().filter(|h| !h.is_empty()),
        sysctl: linux.sysctl.clone().into_iter().collect(),
        masked_paths: linux.masked_paths.clone().unwrap_or_default(),
        readonly_paths: linux.readonly_paths.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut ns: Vec<_> = linux.namespaces.iter().collect();
    ns.sort_by_key(|n| namespaces::order(&n.kind));
    for n in ns {
        let flag = namespaces::flag(&n.kind).expect("validated") as u64;
        match n.path.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => plan.ns_join.push((flag, p.to_string())),
            None => plan.ns_new |= flag,
        }
    }
    for (name, off) in linux.time_offsets.iter().flatten() {
        let clock = match name.as_str() {
            "monotonic" => libc::CLOCK_MONOTONIC,
            "boottime" => libc::CLOCK_BOOTTIME,
            _ => return Err(Error::config(format!("linux.timeOffsets.{name}: unknown clock"))),
        };
        plan.time_offsets.push((clock as u32, off.secs, off.nanosecs));
    }
    plan.root_propagation = match linux.rootfs_propagation.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => mount_opts::propagation(p).expect("validated"),
        None => libc::MS_SLAVE | libc::MS_REC,
    };
    let userns = plan.ns_new & libc::CLONE_NEWUSER as u64 != 0 || plan.ns_join.iter().any(|(f, _)| *f == libc::CLONE_NEWUSER as u64);
    let label = crate::linux::lsm::mount_label_option(linux.mount_label.as_deref())?;
    for (i, m) in spec.mounts.iter().enumerate() {
        let mut op = mount_op(i, m, cgroup)?;
        if let Some(l) = label.as_ref().filter(|_| op.flags & libc::MS_BIND == 0 && op.cgroup.is_empty()) {
            op.data = if op.data.is_empty() { l.clone() } else { format!("{},{l}", op.data) };
        }
        plan.mounts.push(op);
    }
    let own_dev = spec.mounts.iter().any(|m| m.destination == "/dev" && !mount_opts::parse(&m.options).map(|p| p.flags & libc::MS_BIND != 0).unwrap_or(false));
    plan.dev_links = own_dev;
    plan.bind_devices = userns;
    plan.devices = device_list(if own_dev { devices::defaults() } else { Vec::new() }, &linux.devices);
    plan.process = process(spec.process.as_ref().expect("validated"), opts)?;
    add_security(&mut plan.process, &linux)?;
    let hooks = spec.hooks_or_default();
    plan.want_hook_state = !(hooks.prestart.is_empty() && hooks.create_runtime.is_empty() && hooks.create_container.is_empty() && hooks.start_container.is_empty());
    plan.create_container_hooks = hooks.create_container.iter().map(hook_plan).collect();
    plan.start_container_hooks = hooks.start_container.iter().map(hook_plan).collect();
    plan.session_keyring = opts.session_keyring.clone();
    Ok(plan)
}

/// Seccomp and personality from the container's config.
fn add_security(p: &mut ProcessPlan, linux: &crate::spec::types::Linux) -> Result<()> {
    if let Some(s) = &linux.seccomp {
        if let Some(c) = seccomp::compile(s).map_err(Error::config)? {
            p.seccomp_bpf = Some(c.bpf);
            p.seccomp_flags = c.flags;
        }
    }
    if let Some(pers) = &linux.personality {
        p.personality = Some(if pers.domain == "LINUX32" { 0x0008 } else { 0 });
    }
    Ok(())
}

fn hook_plan(h: &crate::spec::types::Hook) -> runc_init::HookPlan {
    runc_init::HookPlan { path: h.path.clone(), args: h.args.clone(), env: h.env.clone(), timeout_secs: h.timeout.map(|t| t as u32) }
}

/// The plan of `exec`: join every namespace of the container's init `pid`
/// (except those we already share), chroot into its root, run `p`; move
/// itself into the container's v1 cgroups first.
pub fn build_exec(spec: &crate::spec::Spec, p: &Process, pid: i32, cgroup: Option<&crate::cgroups::Cgroup>, opts: &PlanOptions) -> Result<Plan> {
    let linux = spec.linux_or_default();
    let mut kinds: Vec<&str> = linux.namespaces.iter().map(|n| n.kind.as_str()).collect();
    kinds.sort_by_key(|k| namespaces::order(k));
    let join_tasks = cgroup.map(|c| c.v1_tasks()).unwrap_or_default();
    let mut plan = Plan { exec_root: Some(format!("/proc/{pid}/root")), join_tasks, ..Default::default() };
    for k in kinds {
        let name = namespaces::TYPES.iter().find(|t| t.0 == k).expect("validated").2;
        let theirs = format!("/proc/{pid}/ns/{name}");
        if !same_file(&theirs, &format!("/proc/self/ns/{name}")) {
            plan.ns_join.push((namespaces::flag(k).expect("validated") as u64, theirs));
        }
    }
    plan.process = process(p, opts)?;
    add_security(&mut plan.process, &linux)?;
    Ok(plan)
}

fn same_file(a: &str, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn mount_op(i: usize, m: &Mount, cgroup: &crate::cgroups::Cgroup) -> Result<MountOp> {
    let p = mount_opts::parse(&m.options).map_err(|e| Error::config(format!("mounts[{i}].options: {e}")))?;
    let fstype = m.kind.clone().unwrap_or_default();
    let mut flags = p.flags;
    if fstype == "bind" {
        flags |= libc::MS_BIND;
    }
    let bind = flags & libc::MS_BIND != 0;
    let mut op = MountOp {
        source: m.source.clone().unwrap_or_default(),
        dest: m.destination.clone(),
        fstype: if bind { String::new() } else { fstype.clone() },
        flags,
        data: p.data.join(","),
        propagation: p.propagation.clone(),
        bind_remount: bind && flags & !(libc::MS_BIND | libc::MS_REC) != 0,
        copy_up: p.copy_up,
        cgroup: Vec::new(),
    };
    if fstype == "cgroup" || fstype == "cgroup2" {
        op.cgroup = cgroup.view();
    }
    Ok(op)
}

/// Default devices, replaced by config devices of the same path.
fn device_list(defaults: Vec<Device>, config: &[Device]) -> Vec<runc_init::Device> {
    let mut all: Vec<Device> = defaults.into_iter().filter(|d| !config.iter().any(|c| c.path == d.path)).collect();
    all.extend(config.iter().cloned());
    all.into_iter()
        .map(|d| runc_init::Device {
            kind: devices::kind(&d.kind).expect("validated"),
            major: d.major as u64,
            minor: d.minor as u64,
            mode: d.file_mode.unwrap_or(0o666),
            uid: d.uid.unwrap_or(0),
            gid: d.gid.unwrap_or(0),
            path: d.path,
        })
        .collect()
}

/// The process part of a plan (also used for `exec`).
pub fn process(p: &Process, opts: &PlanOptions) -> Result<ProcessPlan> {
    let caps = match &p.capabilities {
        None => None,
        Some(c) => {
            let m = |l: &Option<Vec<String>>| caps::mask(l.as_deref().unwrap_or(&[])).map_err(|n| Error::config(format!("process.capabilities: unknown capability {n:?}")));
            let sets = CapSets { bounding: m(&c.bounding)?, effective: m(&c.effective)?, permitted: m(&c.permitted)?, inheritable: m(&c.inheritable)?, ambient: m(&c.ambient)? };
            caps::check_available([&c.permitted, &c.effective, &c.inheritable, &c.ambient].into_iter().flatten().flatten()).map_err(Error::config)?;
            Some(sets)
        }
    };
    let rlimits = p.rlimits.iter().map(|r| (rlimits::resource(&r.kind).expect("validated"), r.soft, r.hard)).collect();
    let io_priority = p.io_priority.as_ref().map(|io| {
        let class = match io.class.as_str() {
            "IOPRIO_CLASS_RT" => 1,
            "IOPRIO_CLASS_BE" => 2,
            _ => 3,
        };
        (class, io.priority as u32)
    });
    Ok(ProcessPlan {
        args: p.args.clone(),
        env: p.env.clone(),
        cwd: p.cwd.clone(),
        terminal: p.terminal,
        console_size: p.console_size.map(|c| (c.height, c.width)),
        uid: p.user.uid,
        gid: p.user.gid,
        additional_gids: p.user.additional_gids.clone(),
        umask: p.user.umask,
        rlimits,
        oom_score_adj: p.oom_score_adj,
        caps,
        no_new_privs: p.no_new_privileges,
        io_priority,
        personality: None,
        exec_labels: crate::linux::lsm::exec_labels(p.apparmor_profile.as_deref(), p.selinux_label.as_deref())?,
        seccomp_bpf: None,
        seccomp_flags: 0,
        preserve_fds: opts.listen_fds + opts.preserve_fds,
        listen_fds: opts.listen_fds,
    })
}
