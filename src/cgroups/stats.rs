//! Resource usage as `runc events` prints it (runc's `types.Stats` JSON):
//! cpu, memory, pids, blkio, hugetlb; and the OOM-kill counter.

use super::fs::{read_kv, read_u64};
use super::Cgroup;
use serde_json::{json, Map, Value};
use std::path::Path;

impl Cgroup {
    pub fn stats(&self) -> Value {
        if self.v2 {
            self.dirs.get("").map(|d| v2_stats(d)).unwrap_or(Value::Null)
        } else {
            self.v1_stats()
        }
    }

    /// How many times the kernel OOM-killed a process in this cgroup.
    pub fn oom_kills(&self) -> u64 {
        let f = if self.v2 { self.dirs.get("").map(|d| d.join("memory.events")) } else { self.dir_of("memory").map(|d| d.join("memory.oom_control")) };
        f.map(|f| read_kv(&f).into_iter().find(|(k, _)| k == "oom_kill").map_or(0, |(_, v)| v)).unwrap_or(0)
    }

    fn v1_stats(&self) -> Value {
        let mut s = Map::new();
        if let Some(d) = self.dir_of("cpuacct") {
            let percpu: Vec<u64> = std::fs::read_to_string(d.join("cpuacct.usage_percpu")).unwrap_or_default().split_whitespace().filter_map(|x| x.parse().ok()).collect();
            let st = kv(&d.join("cpuacct.stat"));
            // USER_HZ ticks to nanoseconds.
            let ns = |k: &str| st.get(k).and_then(Value::as_u64).unwrap_or(0) * 10_000_000;
            let thr = self.dir_of("cpu").map(|c| kv(&c.join("cpu.stat"))).unwrap_or_default();
            s.insert("cpu".into(), json!({
                "usage": {"total": read_u64(&d.join("cpuacct.usage")).unwrap_or(0), "percpu": percpu, "kernel": ns("system"), "user": ns("user")},
                "throttling": {"periods": thr.get("nr_periods"), "throttled_periods": thr.get("nr_throttled"), "throttled_time": thr.get("throttled_time")}
            }));
        }
        if let Some(d) = self.dir_of("memory") {
            let entry = |p: &str| json!({
                "limit": read_u64(&d.join(format!("{p}limit_in_bytes"))).unwrap_or(0),
                "usage": read_u64(&d.join(format!("{p}usage_in_bytes"))).unwrap_or(0),
                "max_usage": read_u64(&d.join(format!("{p}max_usage_in_bytes"))).unwrap_or(0),
                "failcnt": read_u64(&d.join(format!("{p}failcnt"))).unwrap_or(0)
            });
            s.insert("memory".into(), json!({
                "usage": entry("memory."), "swap": entry("memory.memsw."), "kernel": entry("memory.kmem."), "kernelTCP": entry("memory.kmem.tcp."),
                "raw": kv(&d.join("memory.stat"))
            }));
        }
        if let Some(d) = self.dir_of("pids") {
            s.insert("pids".into(), json!({"current": read_u64(&d.join("pids.current")).unwrap_or(0), "limit": limit(read_u64(&d.join("pids.max")))}));
        }
        if let Some(d) = self.dir_of("blkio") {
            s.insert("blkio".into(), json!({
                "ioServiceBytesRecursive": blkio_entries(&d.join("blkio.throttle.io_service_bytes_recursive")),
                "ioServicedRecursive": blkio_entries(&d.join("blkio.throttle.io_serviced_recursive"))
            }));
        }
        if let Some(d) = self.dir_of("hugetlb") {
            s.insert("hugetlb".into(), hugetlb(d, "limit_in_bytes", "usage_in_bytes", "failcnt"));
        }
        Value::Object(s)
    }
}

fn v2_stats(d: &Path) -> Value {
    let cpu = kv(&d.join("cpu.stat"));
    let us = |k: &str| cpu.get(k).and_then(Value::as_u64).unwrap_or(0) * 1000;
    let mem = kv(&d.join("memory.stat"));
    json!({
        "cpu": {
            "usage": {"total": us("usage_usec"), "kernel": us("system_usec"), "user": us("user_usec")},
            "throttling": {"periods": cpu.get("nr_periods"), "throttled_periods": cpu.get("nr_throttled"), "throttled_time": us("throttled_usec")}
        },
        "memory": {
            "usage": {"usage": read_u64(&d.join("memory.current")).unwrap_or(0), "limit": limit(read_u64(&d.join("memory.max"))), "max_usage": read_u64(&d.join("memory.peak")).unwrap_or(0)},
            "swap": {"usage": read_u64(&d.join("memory.swap.current")).unwrap_or(0), "limit": limit(read_u64(&d.join("memory.swap.max")))},
            "raw": mem
        },
        "pids": {"current": read_u64(&d.join("pids.current")).unwrap_or(0), "limit": limit(read_u64(&d.join("pids.max")))},
        "blkio": {"ioServiceBytesRecursive": io_stat(&d.join("io.stat"))},
        "hugetlb": hugetlb(d, "max", "current", "events")
    })
}

/// runc reports "no limit" as 0 for pids and as the max value for memory; 0 for both is clearer.
fn limit(v: Option<u64>) -> u64 {
    v.filter(|x| *x != u64::MAX).unwrap_or(0)
}

fn kv(p: &Path) -> Map<String, Value> {
    read_kv(p).into_iter().map(|(k, v)| (k, json!(v))).collect()
}

fn blkio_entries(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (maj, min) = f.first()?.split_once(':')?;
            Some(json!({"major": maj.parse::<u64>().ok()?, "minor": min.parse::<u64>().ok()?, "op": f.get(1)?, "value": f.get(2)?.parse::<u64>().ok()?}))
        })
        .collect()
}

fn io_stat(p: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for l in std::fs::read_to_string(p).unwrap_or_default().lines() {
        let mut f = l.split_whitespace();
        let Some((maj, min)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        for kv in f {
            if let Some((k, v)) = kv.split_once('=') {
                let op = match k {
                    "rbytes" => "Read",
                    "wbytes" => "Write",
                    _ => continue,
                };
                out.push(json!({"major": maj.parse::<u64>().unwrap_or(0), "minor": min.parse::<u64>().unwrap_or(0), "op": op, "value": v.parse::<u64>().unwrap_or(0)}));
            }
        }
    }
    out
}

fn hugetlb(d: &Path, lim: &str, usage: &str, fail: &str) -> Value {
    let mut m = Map::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(size) = name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(&format!(".{usage}"))) {
            m.insert(size.into(), json!({
                "usage": read_u64(&d.join(&name)).unwrap_or(0),
                "limit": limit(read_u64(&d.join(format!("hugetlb.{size}.{lim}")))),
                "failcnt": read_u64(&d.join(format!("hugetlb.{size}.{fail}"))).unwrap_or(0)
            }));
        }
    }
    Value::Object(m)
}
