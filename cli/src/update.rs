//! `runc update`: flags or `--resources FILE|-` to a Resources value.

use clap::Args;
use runc::cgroups::resources::{BlockIo, Cpu, Memory, Pids, Resources};

#[derive(Args)]
pub struct UpdateArgs {
    /// JSON LinuxResources from a file, or "-" for stdin
    #[arg(short, long)]
    resources: Option<String>,
    #[arg(long = "blkio-weight")]
    blkio_weight: Option<u16>,
    #[arg(long = "cpu-period")]
    cpu_period: Option<u64>,
    #[arg(long = "cpu-quota")]
    cpu_quota: Option<i64>,
    #[arg(long = "cpu-burst")]
    cpu_burst: Option<u64>,
    #[arg(long = "cpu-share")]
    cpu_share: Option<u64>,
    #[arg(long = "cpu-rt-period")]
    cpu_rt_period: Option<u64>,
    #[arg(long = "cpu-rt-runtime")]
    cpu_rt_runtime: Option<i64>,
    #[arg(long = "cpu-idle")]
    cpu_idle: Option<i64>,
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k/m/g suffix; -1 for none)
    #[arg(short, long, allow_hyphen_values = true)]
    memory: Option<String>,
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    memory_reservation: Option<String>,
    /// Memory plus swap limit
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    pub id: String,
}

impl UpdateArgs {
    pub fn resources(&self) -> runc::Result<Resources> {
        let mut r = match self.resources.as_deref() {
            Some(src) => read(src)?,
            None => Resources::default(),
        };
        let mem = |s: &Option<String>| s.as_deref().map(size).transpose();
        let (limit, reservation, swap) = (mem(&self.memory)?, mem(&self.memory_reservation)?, mem(&self.memory_swap)?);
        if limit.or(reservation).or(swap).is_some() {
            let m = r.memory.get_or_insert_with(Memory::default);
            m.limit = limit.or(m.limit);
            m.reservation = reservation.or(m.reservation);
            m.swap = swap.or(m.swap);
        }
        let cpu_set = self.cpu_period.is_some() || self.cpu_quota.is_some() || self.cpu_burst.is_some() || self.cpu_share.is_some()
            || self.cpu_rt_period.is_some() || self.cpu_rt_runtime.is_some() || self.cpu_idle.is_some() || self.cpuset_cpus.is_some() || self.cpuset_mems.is_some();
        if cpu_set {
            let c = r.cpu.get_or_insert_with(Cpu::default);
            c.period = self.cpu_period.or(c.period);
            c.quota = self.cpu_quota.or(c.quota);
            c.burst = self.cpu_burst.or(c.burst);
            c.shares = self.cpu_share.or(c.shares);
            c.realtime_period = self.cpu_rt_period.or(c.realtime_period);
            c.realtime_runtime = self.cpu_rt_runtime.or(c.realtime_runtime);
            c.idle = self.cpu_idle.or(c.idle);
            c.cpus = self.cpuset_cpus.clone().or(c.cpus.take());
            c.mems = self.cpuset_mems.clone().or(c.mems.take());
        }
        if let Some(l) = self.pids_limit {
            r.pids = Some(Pids { limit: Some(l) });
        }
        if let Some(w) = self.blkio_weight {
            r.block_io.get_or_insert_with(BlockIo::default).weight = Some(w);
        }
        Ok(r)
    }
}

fn read(src: &str) -> runc::Result<Resources> {
    let text = if src == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| runc::Error::sys("read resources from stdin", e))?;
        s
    } else {
        std::fs::read_to_string(src).map_err(|e| runc::Error::sys(format!("read {src}"), e))?
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| runc::Error::config(format!("--resources: invalid JSON: {e}")))?;
    Resources::from_value(v, "resources")
}

/// "128m", "1g", "4096", "-1".
fn size(s: &str) -> runc::Result<i64> {
    let bad = || runc::Error::new(runc::ErrorKind::InvalidArgument, format!("invalid size {s:?}"));
    if s == "-1" {
        return Ok(-1);
    }
    let l = s.to_ascii_lowercase();
    let l = l.trim_end_matches('b');
    let (num, mult) = match l.chars().last() {
        Some('k') => (&l[..l.len() - 1], 1i64 << 10),
        Some('m') => (&l[..l.len() - 1], 1 << 20),
        Some('g') => (&l[..l.len() - 1], 1 << 30),
        Some('t') => (&l[..l.len() - 1], 1 << 40),
        _ => (l, 1),
    };
    num.parse::<i64>().map(|n| n * mult).map_err(|_| bad())
}
