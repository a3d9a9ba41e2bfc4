//! cgroup v1: one directory per hierarchy, one file per knob.

use super::devices::Rule;
use super::fs::{self, write};
use super::resources::{nz, Resources};
use super::Cgroup;
use crate::error::{Error, Result};
use crate::linux::smallfile::Dirs;
use std::path::{Path, PathBuf};

/// Makes `dir` (its parent usually exists: one mkdir); returns the
/// ancestors it had to make first, parents first.
pub fn create(key: &str, dir: &Path, dirs: &mut Dirs) -> Result<Vec<PathBuf>> {
    let fail = |e: std::io::Error| Error::sys(format!("create cgroup {}", dir.display()), e);
    let mut made = Vec::new();
    let fresh = match dirs.mkdir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            made = dir.ancestors().skip(1).take_while(|a| !a.exists()).map(Path::to_path_buf).collect();
            made.reverse();
            std::fs::create_dir_all(dir).map_err(fail)?;
            true
        }
        Err(e) => return Err(fail(e)),
    };
    if key.split(',').any(|c| c == "cpuset") {
        inherit_cpuset(dir, fresh, dirs)?;
    }
    Ok(made)
}

/// A new cpuset cgroup starts empty: copy cpus/mems down from the nearest
/// ancestor that has them, or nothing can join it. One we just made is
/// empty or already its parent's copy (cgroup.clone_children), so it is not
/// read first; an existing one keeps what it has.
fn inherit_cpuset(dir: &Path, fresh: bool, dirs: &mut Dirs) -> Result<()> {
    for f in ["cpuset.cpus", "cpuset.mems"] {
        if fresh || fs::read_in(dirs, &dir.join(f))?.trim().is_empty() {
            let parent = dir.parent().expect("cgroup dir has a parent");
            let mut v = fs::read_in(dirs, &parent.join(f))?;
            if v.trim().is_empty() {
                inherit_cpuset(parent, false, dirs)?;
                v = fs::read_in(dirs, &parent.join(f))?;
            }
            fs::write_in(dirs, &dir.join(f), v.trim(), "cpuset")?;
        }
    }
    Ok(())
}

/// The hierarchy dir of `ctrl` for a set field, or an error naming the field.
fn need<'a>(cg: &'a Cgroup, ctrl: &str, field: &str) -> Result<&'a Path> {
    cg.dir_of(ctrl).ok_or_else(|| Error::unsupported(format!("linux.resources.{field}: the {ctrl} cgroup controller is not mounted")))
}

fn w(dir: &Path, file: &str, v: impl ToString, field: &str) -> Result<()> {
    write(&dir.join(file), &v.to_string(), &format!("linux.resources.{field}"))
}

pub fn set(cg: &Cgroup, r: &Resources, devices: &[Rule], dirs: &mut Dirs) -> Result<()> {
    if !r.unified.is_empty() {
        return Err(Error::unsupported("linux.resources.unified: needs cgroup v2 (this host uses v1)"));
    }
    if !devices.is_empty() {
        // A new cgroup starts with its parent's list: reset it to the
        // default verdict first ("a *:* rwm"), then add the exceptions.
        let d = need(cg, "devices", "devices")?;
        let (allow, exceptions) = super::devices::reduce(devices);
        let mut files = [fs::Knob::open(dirs, &d.join("devices.deny"), "devices")?, fs::Knob::open(dirs, &d.join("devices.allow"), "devices")?];
        files[allow as usize].put("a *:* rwm", "devices")?;
        for rule in exceptions {
            files[rule.allow as usize].put(&rule.v1_line(), "devices")?;
        }
    }
    memory(cg, r)?;
    cpu(cg, r)?;
    if let Some(l) = r.pids.as_ref().and_then(|p| nz(p.limit)) {
        w(need(cg, "pids", "pids.limit")?, "pids.max", if l < 0 { "max".into() } else { l.to_string() }, "pids.limit")?;
    }
    blkio(cg, r)?;
    for h in &r.hugepage_limits {
        w(need(cg, "hugetlb", "hugepageLimits")?, &format!("hugetlb.{}.limit_in_bytes", h.page_size), h.limit, "hugepageLimits")?;
    }
    if let Some(n) = &r.network {
        if let Some(c) = nz(n.class_id) {
            w(need(cg, "net_cls", "network.classID")?, "net_cls.classid", c, "network.classID")?;
        }
        for p in &n.priorities {
            w(need(cg, "net_prio", "network.priorities")?, "net_prio.ifpriomap", format!("{} {}", p.name, p.priority), "network.priorities")?;
        }
    }
    for (dev, l) in &r.rdma {
        w(need(cg, "rdma", "rdma")?, "rdma.max", l.max_line(dev), "rdma")?;
    }
    Ok(())
}

/// `memory.kmem.limit_in_bytes`: gone on some kernels, refused by others
/// (the write fails), and on recent ones (6.x) still there but a write
/// succeeds and has no effect, which only a read-back shows.
fn kernel_memory(d: &Path, v: i64) -> Result<()> {
    let file = d.join("memory.kmem.limit_in_bytes");
    if !file.exists() {
        return Err(Error::unsupported("linux.resources.memory.kernel: this kernel has no kernel memory limit"));
    }
    w(d, "memory.kmem.limit_in_bytes", v, "memory.kernel")?;
    // The kernel keeps whole pages; -1 (no limit) reads back as its maximum.
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    if v > 0 && fs::read_u64(&file) != Some(v as u64 / page * page) {
        return Err(Error::unsupported("linux.resources.memory.kernel: this kernel ignores kernel memory limits (memory.kmem.limit_in_bytes does nothing)"));
    }
    Ok(())
}

fn memory(cg: &Cgroup, r: &Resources) -> Result<()> {
    let Some(m) = &r.memory else { return Ok(()) };
    let any = nz(m.limit).or(nz(m.reservation)).or(nz(m.swap)).or(nz(m.kernel_tcp)).or(nz(m.kernel)).is_some()
        || m.swappiness.is_some()
        || m.disable_oom_killer == Some(true)
        || m.use_hierarchy.is_some();
    if !any {
        return Ok(());
    }
    let d = need(cg, "memory", "memory")?;
    let (limit, swap) = (nz(m.limit), nz(m.swap));
    if let (Some(true), Some(l)) = (m.check_before_update, limit) {
        super::check_usage(l, fs::read_u64(&d.join("memory.usage_in_bytes")))?;
    }
    if let Some(h) = m.use_hierarchy {
        w(d, "memory.use_hierarchy", h as u8, "memory.useHierarchy")?;
    }
    // memsw must stay >= limit: order the two writes so neither is refused.
    let swap_first = matches!((limit, swap), (Some(l), Some(s)) if s == -1 || (l != -1 && fs::read_u64(&d.join("memory.limit_in_bytes")).is_some_and(|cur| l as u64 > cur)));
    if swap_first {
        w(d, "memory.memsw.limit_in_bytes", swap.unwrap(), "memory.swap")?;
    }
    if let Some(l) = limit {
        w(d, "memory.limit_in_bytes", l, "memory.limit")?;
    }
    if let (Some(s), false) = (swap, swap_first) {
        w(d, "memory.memsw.limit_in_bytes", s, "memory.swap")?;
    }
    if let Some(v) = nz(m.reservation) {
        w(d, "memory.soft_limit_in_bytes", v, "memory.reservation")?;
    }
    if let Some(v) = nz(m.kernel) {
        kernel_memory(d, v)?;
    }
    if let Some(v) = nz(m.kernel_tcp) {
        w(d, "memory.kmem.tcp.limit_in_bytes", v, "memory.kernelTCP")?;
    }
    if let Some(v) = m.swappiness {
        if v > 100 {
            return Err(Error::config(format!("linux.resources.memory.swappiness: {v} is above 100")));
        }
        w(d, "memory.swappiness", v, "memory.swappiness")?;
    }
    if m.disable_oom_killer == Some(true) {
        w(d, "memory.oom_control", 1, "memory.disableOOMKiller")?;
    }
    Ok(())
}

fn cpu(cg: &Cgroup, r: &Resources) -> Result<()> {
    let Some(c) = &r.cpu else { return Ok(()) };
    let cpu = || need(cg, "cpu", "cpu");
    if let Some(v) = nz(c.shares) {
        w(cpu()?, "cpu.shares", v, "cpu.shares")?;
    }
    if let Some(v) = nz(c.period) {
        w(cpu()?, "cpu.cfs_period_us", v, "cpu.period")?;
    }
    if let Some(v) = nz(c.quota) {
        w(cpu()?, "cpu.cfs_quota_us", v, "cpu.quota")?;
    }
    if let Some(v) = nz(c.burst) {
        w(cpu()?, "cpu.cfs_burst_us", v, "cpu.burst")?;
    }
    if let Some(v) = nz(c.realtime_period) {
        w(cpu()?, "cpu.rt_period_us", v, "cpu.realtimePeriod")?;
    }
    if let Some(v) = nz(c.realtime_runtime) {
        w(cpu()?, "cpu.rt_runtime_us", v, "cpu.realtimeRuntime")?;
    }
    if let Some(v) = c.idle {
        w(cpu()?, "cpu.idle", v, "cpu.idle")?;
    }
    if let Some(v) = c.cpus.as_deref().filter(|s| !s.is_empty()) {
        w(need(cg, "cpuset", "cpu.cpus")?, "cpuset.cpus", v, "cpu.cpus")?;
    }
    if let Some(v) = c.mems.as_deref().filter(|s| !s.is_empty()) {
        w(need(cg, "cpuset", "cpu.mems")?, "cpuset.mems", v, "cpu.mems")?;
    }
    Ok(())
}

fn blkio(cg: &Cgroup, r: &Resources) -> Result<()> {
    let Some(b) = &r.block_io else { return Ok(()) };
    let dir = || need(cg, "blkio", "blockIO");
    // Kernels with BFQ only have blkio.bfq.weight.
    let weight_file = |d: &Path, f: &str| if d.join(format!("blkio.{f}")).exists() { format!("blkio.{f}") } else { format!("blkio.bfq.{f}") };
    if let Some(v) = nz(b.weight) {
        let d = dir()?;
        w(d, &weight_file(d, "weight"), v, "blockIO.weight")?;
    }
    if let Some(v) = nz(b.leaf_weight) {
        w(dir()?, "blkio.leaf_weight", v, "blockIO.leafWeight")?;
    }
    for wd in &b.weight_device {
        if let Some(v) = nz(wd.weight) {
            let d = dir()?;
            w(d, &weight_file(d, "weight_device"), format!("{}:{} {v}", wd.major, wd.minor), "blockIO.weightDevice")?;
        }
        if let Some(v) = nz(wd.leaf_weight) {
            w(dir()?, "blkio.leaf_weight_device", format!("{}:{} {v}", wd.major, wd.minor), "blockIO.weightDevice")?;
        }
    }
    for (list, field, key) in b.throttles() {
        // rbps -> read_bps_device, wiops -> write_iops_device
        let file = format!("blkio.throttle.{}_{}_device", if key.starts_with('r') { "read" } else { "write" }, &key[1..]);
        for t in list {
            w(dir()?, &file, format!("{}:{} {}", t.major, t.minor, t.rate), &format!("blockIO.{field}"))?;
        }
    }
    Ok(())
}

/// Writes FROZEN/THAWED and waits until freezer.state agrees.
pub fn freeze(dir: &Path, frozen: bool) -> Result<()> {
    let want = if frozen { "FROZEN" } else { "THAWED" };
    for _ in 0..1000 {
        write(&dir.join("freezer.state"), want, "freezer")?;
        if fs::read(&dir.join("freezer.state"))?.trim() == want {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err(Error::new(crate::ErrorKind::System, format!("freezer: {} did not become {want}", dir.display())))
}
