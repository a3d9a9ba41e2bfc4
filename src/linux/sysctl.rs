//! Which sysctls a container may set: only those of namespaces it owns.

/// The namespace type a sysctl belongs to, or None when it is host-wide.
pub fn namespace_of(key: &str) -> Option<&'static str> {
    const IPC: [&str; 7] = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni"];
    if IPC.contains(&key) || key == "kernel.shm_rmid_forced" || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key.starts_with("net.") {
        Some("network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}
