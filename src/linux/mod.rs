//! Linux facts the planner needs: namespace flags, capability and rlimit
//! numbers, mount options, default devices, the cgroup view, seccomp;
//! quick reads of small files.

pub mod caps;
pub mod devices;
pub mod lsm;
pub mod mount_opts;
pub mod mounts;
pub mod namespaces;
pub mod rlimits;
pub mod seccomp;
pub mod smallfile;
pub mod sysctl;
