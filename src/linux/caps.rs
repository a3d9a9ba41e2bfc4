//! Capability names ("CAP_SYS_ADMIN") to bit masks, through the caps crate.

use std::str::FromStr;

/// The bit mask of a list of capability names; the first unknown name is the error.
pub fn mask(names: &[String]) -> Result<u64, String> {
    names.iter().try_fold(0u64, |m, n| {
        let c = caps::Capability::from_str(n).map_err(|_| n.clone())?;
        Ok(m | c.bitmask())
    })
}
