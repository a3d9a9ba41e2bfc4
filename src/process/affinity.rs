//! Lets a new init exec on another CPU while we keep working on ours.
//!
//! The scheduler puts a forked child on its parent's CPU, so in a v1 create
//! the init waited there, runnable, until we had made its cgroups and blocked;
//! its exec did not overlap our work even with another CPU idle. Moved off our
//! CPU until the plan is sent, it execs meanwhile. The init's affinity is the
//! caller's again before it reads the plan, so before it does anything.

use crate::error::{Error, Result};
use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// A child moved off our CPU; [`Away::back`] restores its affinity.
pub struct Away {
    pid: Pid,
    mask: CpuSet,
}

impl Away {
    /// Moves `pid` (our child, not yet running our plan) to the CPUs of our
    /// thread's affinity other than the current one. `None` when there is no
    /// other CPU or any step fails: the move is only worth having.
    pub fn move_off(pid: i32) -> Option<Away> {
        let mask = sched_getaffinity(Pid::from_raw(0)).ok()?;
        let mut others = mask;
        others.unset(sched_getcpu().ok()?).ok()?;
        cpus(&others).next()?; // no other CPU
        let pid = Pid::from_raw(pid);
        sched_setaffinity(pid, &others).ok()?;
        Some(Away { pid, mask })
    }

    /// Gives the child our thread's affinity again.
    pub fn back(self) -> Result<()> {
        sched_setaffinity(self.pid, &self.mask).map_err(|e| Error::sys(format!("restore the CPU affinity of runc-init {}", self.pid), e))
    }
}

/// The CPUs in `m`.
fn cpus(m: &CpuSet) -> impl Iterator<Item = usize> + '_ {
    (0..CpuSet::count()).filter(|&c| m.is_set(c).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `sleep` killed and reaped on drop, also when an assertion fails.
    struct Kid(std::process::Child);
    impl Drop for Kid {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_child_moved_off_gets_our_mask_back() {
        let ours = sched_getaffinity(Pid::from_raw(0)).unwrap();
        let kid = Kid(std::process::Command::new("sleep").arg("30").spawn().unwrap());
        let pid = kid.0.id() as i32;
        let of_kid = || sched_getaffinity(Pid::from_raw(pid)).unwrap();
        let away = Away::move_off(pid);
        if cpus(&ours).count() < 2 {
            assert!(away.is_none(), "one CPU: nowhere to move to");
            return;
        }
        assert_eq!(cpus(&of_kid()).count(), cpus(&ours).count() - 1, "one CPU (ours) left out");
        away.expect("moved").back().unwrap();
        assert_eq!(of_kid(), ours);
    }
}
