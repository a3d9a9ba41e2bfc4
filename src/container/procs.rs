//! The processes of a container, found through /proc: everything in the
//! init's PID namespace when it has its own, else the init and its
//! descendants. (The cgroup layer will answer this from cgroup.procs.)

use super::state::State;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;

pub fn pids(st: &State) -> Result<Vec<i32>> {
    let ns = |pid: i32| std::fs::metadata(format!("/proc/{pid}/ns/pid")).map(|m| (m.dev(), m.ino())).ok();
    let init_ns = ns(st.pid).ok_or_else(|| Error::new(crate::ErrorKind::State, "container not running"))?;
    let own = init_ns == ns(std::process::id() as i32).unwrap_or_default();
    let all = all_pids()?;
    let mut out: Vec<i32> = if own {
        descendants(st.pid, &all)
    } else {
        all.keys().copied().filter(|p| ns(*p) == Some(init_ns)).collect()
    };
    out.sort_unstable();
    Ok(out)
}

/// pid -> parent pid of every process we can see.
fn all_pids() -> Result<HashMap<i32, i32>> {
    let dir = std::fs::read_dir("/proc").map_err(|e| Error::sys("read /proc", e))?;
    Ok(dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = s[s.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect())
}

fn descendants(root: i32, all: &HashMap<i32, i32>) -> Vec<i32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(all.iter().filter(|(_, pp)| **pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    out
}
