//! Capability names ("CAP_SYS_ADMIN") to bit masks, through the caps crate.

use std::str::FromStr;

/// Fails, naming them, when capabilities are asked for that this runtime
/// itself does not have in its bounding set (capset would refuse them).
/// Unknown names are `mask`'s error and skipped here.
pub fn check_available<'a>(names: impl IntoIterator<Item = &'a String>) -> Result<(), String> {
    // PR_CAPBSET_READ per wanted capability, a fraction of a microsecond
    // each, where /proc/self/status costs ~20 µs to format. It reads the
    // calling thread's set, the one the init inherits. A capability this
    // kernel does not know (EINVAL) is missing too. (By name, not over
    // `caps::all()`: that builds a hash set.)
    let mut seen = 0u64;
    let mut missing = Vec::new();
    for c in names.into_iter().filter_map(|n| caps::Capability::from_str(n).ok()) {
        if seen & c.bitmask() == 0 && !caps::has_cap(None, caps::CapSet::Bounding, c).unwrap_or(false) {
            missing.push(c.to_string());
        }
        seen |= c.bitmask();
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("process.capabilities: {} not in the runtime's own capability bounding set", missing.join(", ")))
}

/// The bit mask of a list of capability names; the first unknown name is the error.
pub fn mask(names: &[String]) -> Result<u64, String> {
    names.iter().try_fold(0u64, |m, n| {
        let c = caps::Capability::from_str(n).map_err(|_| n.clone())?;
        Ok(m | c.bitmask())
    })
}
