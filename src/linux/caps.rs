//! Capability names ("CAP_SYS_ADMIN") to bit masks, through the caps crate.

use std::str::FromStr;

/// Fails, naming them, when capabilities are asked for that this runtime
/// itself does not have in its bounding set (capset would refuse them).
pub fn check_available(wanted: u64) -> Result<(), String> {
    // One read of /proc/self/status instead of a prctl per capability.
    let Some(have) = crate::linux::smallfile::read_string(std::path::Path::new("/proc/self/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapBnd:").and_then(|v| u64::from_str_radix(v.trim(), 16).ok())))
    else {
        return Ok(());
    };
    let missing: Vec<String> = caps::all().into_iter().filter(|c| wanted & c.bitmask() != 0 && have & c.bitmask() == 0).map(|c| c.to_string()).collect();
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
