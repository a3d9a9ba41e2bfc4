//! OCI namespace type names and their CLONE_NEW* flags.

/// (OCI type, clone flag, /proc/PID/ns name), in the order runc joins them.
pub const TYPES: [(&str, i32, &str); 8] = [
    ("user", libc::CLONE_NEWUSER, "user"),
    ("ipc", libc::CLONE_NEWIPC, "ipc"),
    ("uts", libc::CLONE_NEWUTS, "uts"),
    ("network", libc::CLONE_NEWNET, "net"),
    ("pid", libc::CLONE_NEWPID, "pid"),
    ("mount", libc::CLONE_NEWNS, "mnt"),
    ("cgroup", libc::CLONE_NEWCGROUP, "cgroup"),
    ("time", libc::CLONE_NEWTIME, "time"),
];

pub fn flag(kind: &str) -> Option<i32> {
    TYPES.iter().find(|t| t.0 == kind).map(|t| t.1)
}

/// Position in join order (user first).
pub fn order(kind: &str) -> usize {
    TYPES.iter().position(|t| t.0 == kind).unwrap_or(usize::MAX)
}
