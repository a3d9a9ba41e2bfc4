//! mount(8)-style option strings to mount(2) flags, propagation and data.

/// The result of parsing a mount's options.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub flags: u64,
    pub propagation: Vec<u64>,
    pub data: Vec<String>,
    /// `tmpcopyup`: fill a new tmpfs with what the image had at that path.
    pub copy_up: bool,
}

const FLAGS: [(&str, bool, u64); 27] = [
    ("ro", false, libc::MS_RDONLY),
    ("rw", true, libc::MS_RDONLY),
    ("nosuid", false, libc::MS_NOSUID),
    ("suid", true, libc::MS_NOSUID),
    ("nodev", false, libc::MS_NODEV),
    ("dev", true, libc::MS_NODEV),
    ("noexec", false, libc::MS_NOEXEC),
    ("exec", true, libc::MS_NOEXEC),
    ("sync", false, libc::MS_SYNCHRONOUS),
    ("async", true, libc::MS_SYNCHRONOUS),
    ("dirsync", false, libc::MS_DIRSYNC),
    ("remount", false, libc::MS_REMOUNT),
    ("mand", false, libc::MS_MANDLOCK),
    ("nomand", true, libc::MS_MANDLOCK),
    ("atime", true, libc::MS_NOATIME),
    ("noatime", false, libc::MS_NOATIME),
    ("diratime", true, libc::MS_NODIRATIME),
    ("nodiratime", false, libc::MS_NODIRATIME),
    ("bind", false, libc::MS_BIND),
    ("rbind", false, libc::MS_BIND | libc::MS_REC),
    ("relatime", false, libc::MS_RELATIME),
    ("norelatime", true, libc::MS_RELATIME),
    ("strictatime", false, libc::MS_STRICTATIME),
    ("nostrictatime", true, libc::MS_STRICTATIME),
    ("silent", false, libc::MS_SILENT),
    ("loud", true, libc::MS_SILENT),
    ("defaults", false, 0),
];

const PROPAGATION: [(&str, u64); 8] = [
    ("private", libc::MS_PRIVATE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("shared", libc::MS_SHARED),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("slave", libc::MS_SLAVE),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("unbindable", libc::MS_UNBINDABLE),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// Every option name this parser understands, sorted.
pub fn known() -> Vec<&'static str> {
    let mut v: Vec<&str> = FLAGS.iter().map(|f| f.0).chain(PROPAGATION.iter().map(|p| p.0)).chain(["tmpcopyup"]).collect();
    v.sort_unstable();
    v
}

/// Propagation flags for a rootfsPropagation value.
pub fn propagation(name: &str) -> Option<u64> {
    PROPAGATION.iter().find(|p| p.0 == name).map(|p| p.1)
}

/// Options this runtime refuses rather than silently mis-handling
/// (idmapped mounts, recursive mount_setattr flags).
const REFUSED: [&str; 21] = [
    "idmap", "ridmap", "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec",
    "rnodiratime", "rdiratime", "rrelatime", "rnorelatime", "rnoatime", "ratime", "rstrictatime",
    "rnostrictatime", "nosymfollow", "rnosymfollow", "rsymfollow",
];

pub fn parse(options: &[String]) -> Result<Parsed, String> {
    let mut p = Parsed::default();
    for o in options {
        if let Some((_, clear, f)) = FLAGS.iter().find(|f| f.0 == o) {
            if *clear {
                p.flags &= !f;
            } else {
                p.flags |= f;
            }
        } else if let Some(f) = propagation(o) {
            p.propagation.push(f);
        } else if o == "tmpcopyup" {
            p.copy_up = true;
        } else if REFUSED.contains(&o.as_str()) {
            return Err(format!("mount option {o:?} is not supported yet"));
        } else {
            p.data.push(o.clone());
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_data_and_propagation() {
        let opts: Vec<String> = ["rbind", "ro", "nosuid", "rslave", "mode=755", "size=1k"].iter().map(|s| s.to_string()).collect();
        let p = parse(&opts).unwrap();
        assert_eq!(p.flags, libc::MS_BIND | libc::MS_REC | libc::MS_RDONLY | libc::MS_NOSUID);
        assert_eq!(p.propagation, vec![libc::MS_SLAVE | libc::MS_REC]);
        assert_eq!(p.data, vec!["mode=755".to_string(), "size=1k".to_string()]);
    }

    #[test]
    fn later_options_win() {
        let p = parse(&["ro".to_string(), "rw".to_string()]).unwrap();
        assert_eq!(p.flags & libc::MS_RDONLY, 0);
    }
}
