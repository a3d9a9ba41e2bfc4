//! cgroup v2: one directory; controllers enabled on the way down; runc's
//! v1-to-v2 conversions for cpu shares and blkio weights.

use super::devices::{self, Rule};
use super::fs::{self, write};
use super::resources::{nz, Resources};
use super::Cgroup;
use crate::error::{Error, Result};
use std::path::Path;

const ROOT: &str = "/sys/fs/cgroup";

/// Creates `dir` and every missing ancestor, enabling in each ancestor's
/// cgroup.subtree_control every controller it offers.
pub fn create(dir: &Path) -> Result<()> {
    let rel = dir.strip_prefix(ROOT).map_err(|_| Error::config(format!("cgroup {} is not under {ROOT}", dir.display())))?;
    let mut cur = Path::new(ROOT).to_path_buf();
    for comp in rel.components() {
        enable_controllers(&cur)?;
        cur.push(comp);
        match std::fs::create_dir(&cur) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::sys(format!("create cgroup {}", cur.display()), e)),
        }
    }
    Ok(())
}

fn enable_controllers(dir: &Path) -> Result<()> {
    let avail = fs::read(&dir.join("cgroup.controllers"))?;
    let enabled = fs::read(&dir.join("cgroup.subtree_control"))?;
    let missing: Vec<String> = avail.split_whitespace().filter(|c| !enabled.split_whitespace().any(|e| e == *c)).map(|c| format!("+{c}")).collect();
    if missing.is_empty() {
        return Ok(());
    }
    // One at a time: a controller the kernel refuses here (e.g. busy) must not block the rest.
    for c in missing {
        let _ = std::fs::write(dir.join("cgroup.subtree_control"), &c);
    }
    Ok(())
}

fn w(dir: &Path, file: &str, v: impl ToString, field: &str) -> Result<()> {
    let path = dir.join(file);
    if !path.exists() {
        return Err(Error::unsupported(format!("linux.resources.{field}: {file} does not exist (controller not enabled?)")));
    }
    write(&path, &v.to_string(), &format!("linux.resources.{field}"))
}

fn max(v: i64) -> String {
    if v < 0 { "max".into() } else { v.to_string() }
}

pub fn set(cg: &Cgroup, r: &Resources, devices: &[Rule]) -> Result<()> {
    let d = cg.dirs.get("").expect("v2 dir");
    if !devices.is_empty() {
        devices::attach_v2(d, devices).map_err(|e| Error::new(e.kind, format!("linux.resources.devices: {}", e.msg)))?;
    }
    if let Some(m) = &r.memory {
        if nz(m.kernel).is_some() || nz(m.kernel_tcp).is_some() {
            return Err(Error::unsupported("linux.resources.memory.kernel: kernel memory limits do not exist on cgroup v2"));
        }
        if m.disable_oom_killer == Some(true) {
            return Err(Error::unsupported("linux.resources.memory.disableOOMKiller: not available on cgroup v2"));
        }
        if m.use_hierarchy == Some(false) {
            return Err(Error::unsupported("linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical"));
        }
        if let (Some(true), Some(l)) = (m.check_before_update, nz(m.limit)) {
            super::check_usage(l, fs::read_u64(&d.join("memory.current")))?;
        }
        if let Some(v) = nz(m.limit) {
            w(d, "memory.max", max(v), "memory.limit")?;
        }
        if let Some(s) = nz(m.swap) {
            // OCI swap is memory+swap; v2 limits swap alone.
            let v = match nz(m.limit) {
                _ if s < 0 => "max".to_string(),
                Some(l) if l > 0 => (s - l).max(0).to_string(),
                _ => return Err(Error::config("linux.resources.memory.swap: needs memory.limit on cgroup v2")),
            };
            w(d, "memory.swap.max", v, "memory.swap")?;
        }
        if let Some(v) = nz(m.reservation) {
            w(d, "memory.low", max(v), "memory.reservation")?;
        }
        if m.swappiness.is_some_and(|s| s != u64::MAX) {
            return Err(Error::unsupported("linux.resources.memory.swappiness: not available on cgroup v2"));
        }
    }
    cpu(d, r)?;
    if let Some(l) = r.pids.as_ref().and_then(|p| nz(p.limit)) {
        w(d, "pids.max", max(l), "pids.limit")?;
    }
    io(d, r)?;
    for h in &r.hugepage_limits {
        w(d, &format!("hugetlb.{}.max", h.page_size), h.limit, "hugepageLimits")?;
    }
    if r.network.as_ref().is_some_and(|n| nz(n.class_id).is_some() || !n.priorities.is_empty()) {
        return Err(Error::unsupported("linux.resources.network: net_cls/net_prio do not exist on cgroup v2"));
    }
    for (dev, l) in &r.rdma {
        w(d, "rdma.max", l.max_line(dev), "rdma")?;
    }
    for (k, v) in &r.unified {
        if k.contains('/') || k.starts_with("cgroup.") && !matches!(k.as_str(), "cgroup.max.depth" | "cgroup.max.descendants") {
            return Err(Error::config(format!("linux.resources.unified.{k}: not a settable cgroup file")));
        }
        w(d, k, v, &format!("unified.{k}"))?;
    }
    Ok(())
}

fn cpu(d: &Path, r: &Resources) -> Result<()> {
    let Some(c) = &r.cpu else { return Ok(()) };
    if let Some(s) = nz(c.shares) {
        // runc's conversion of shares (2..262144) to weight (1..10000).
        let weight = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
        w(d, "cpu.weight", weight, "cpu.shares")?;
    }
    if nz(c.quota).is_some() || nz(c.period).is_some() {
        let cur = fs::read(&d.join("cpu.max")).unwrap_or_default();
        let mut it = cur.split_whitespace();
        let (cur_q, cur_p) = (it.next().unwrap_or("max").to_string(), it.next().unwrap_or("100000").to_string());
        let q = nz(c.quota).map_or(cur_q, max);
        let p = nz(c.period).map_or(cur_p, |p| p.to_string());
        w(d, "cpu.max", format!("{q} {p}"), "cpu.quota")?;
    }
    if let Some(b) = nz(c.burst) {
        w(d, "cpu.max.burst", b, "cpu.burst")?;
    }
    if let Some(i) = c.idle {
        w(d, "cpu.idle", i, "cpu.idle")?;
    }
    if nz(c.realtime_runtime).is_some() || nz(c.realtime_period).is_some() {
        return Err(Error::unsupported("linux.resources.cpu.realtimeRuntime: real-time limits do not exist on cgroup v2"));
    }
    if let Some(v) = c.cpus.as_deref().filter(|s| !s.is_empty()) {
        w(d, "cpuset.cpus", v, "cpu.cpus")?;
    }
    if let Some(v) = c.mems.as_deref().filter(|s| !s.is_empty()) {
        w(d, "cpuset.mems", v, "cpu.mems")?;
    }
    Ok(())
}

fn io(d: &Path, r: &Resources) -> Result<()> {
    let Some(b) = &r.block_io else { return Ok(()) };
    // runc's conversion of blkio weight (10..1000) to io.weight (1..10000).
    let conv = |v: u16| 1 + (v.clamp(10, 1000) as u64 - 10) * 9999 / 990;
    if let Some(v) = nz(b.weight) {
        if d.join("io.bfq.weight").exists() {
            w(d, "io.bfq.weight", v, "blockIO.weight")?;
        } else {
            w(d, "io.weight", conv(v), "blockIO.weight")?;
        }
    }
    if nz(b.leaf_weight).is_some() {
        return Err(Error::unsupported("linux.resources.blockIO.leafWeight: not available on cgroup v2"));
    }
    for wd in &b.weight_device {
        if let Some(v) = nz(wd.weight) {
            w(d, "io.weight", format!("{}:{} {}", wd.major, wd.minor, conv(v)), "blockIO.weightDevice")?;
        }
    }
    for (list, field, key) in b.throttles() {
        for t in list {
            w(d, "io.max", format!("{}:{} {key}={}", t.major, t.minor, t.rate), &format!("blockIO.{field}"))?;
        }
    }
    Ok(())
}

/// Writes cgroup.freeze and waits for cgroup.events to say so.
pub fn freeze(dir: &Path, frozen: bool) -> Result<()> {
    write(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" }, "freeze")?;
    let want = if frozen { 1 } else { 0 };
    for _ in 0..1000 {
        if fs::read_kv(&dir.join("cgroup.events")).iter().any(|(k, v)| k == "frozen" && *v == want) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err(Error::new(crate::ErrorKind::System, format!("freeze: {} did not reach frozen={want}", dir.display())))
}
