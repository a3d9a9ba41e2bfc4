//! What the library and the sealed init program say to each other.
//!
//! The library turns a validated OCI config into a [`Plan`]: plain numbers,
//! flags and strings, nothing left to interpret. The init program only
//! executes it. The encoding is a small length-prefixed binary format so the
//! init stays free of serde and JSON (it is exec'd on every container start).

pub mod chan;
pub mod wire;

pub use wire::{Reader, Wire};

/// argv[1] of the init; argv[2] is the sync socket's fd number.
pub const SYNC_FD_ARG: &str = "--sync-fd";

wire::wire_struct! {
    /// Everything the init needs to turn itself into the container process.
    pub struct Plan {
        /// cgroup v1 `tasks` files to write "0" to before anything else
        /// (the library opened them: their fds come first with the plan): a
        /// thread moving itself skips the global threadgroup lock, whose
        /// first writer after an idle spell waits out an RCU grace period
        /// (~10 ms) when a pid is written to cgroup.procs.
        pub join_tasks: Vec<String>,
        /// Namespaces to join, as (CLONE_NEW* flag, path), in join order.
        pub ns_join: Vec<(u64, String)>,
        /// CLONE_NEW* flags of namespaces to create.
        pub ns_new: u64,
        /// Offsets for a new time namespace: (clock id, seconds, nanoseconds).
        pub time_offsets: Vec<(u32, i64, u32)>,
        pub rootfs: String,
        pub rootfs_readonly: bool,
        /// Propagation applied to "/" before any mount (MS_SLAVE|MS_REC, ...).
        pub root_propagation: u64,
        pub no_pivot: bool,
        pub mounts: Vec<MountOp>,
        pub devices: Vec<Device>,
        /// Create device nodes by bind-mounting the host's (user namespaces).
        pub bind_devices: bool,
        /// Add /dev/fd, /dev/std* and /dev/ptmx links (when /dev is a tmpfs of ours).
        pub dev_links: bool,
        pub masked_paths: Vec<String>,
        pub readonly_paths: Vec<String>,
        pub hostname: Option<String>,
        pub domainname: Option<String>,
        pub sysctl: Vec<(String, String)>,
        /// Exec into a running container: chroot into this directory (opened
        /// before joining its namespaces) instead of building a rootfs.
        pub exec_root: Option<String>,
        /// Stop before pivot_root for the library's prestart/createRuntime
        /// hooks and the state JSON the init's own hooks read.
        pub want_hook_state: bool,
        pub create_container_hooks: Vec<HookPlan>,
        pub start_container_hooks: Vec<HookPlan>,
        /// Join a new session keyring with this name.
        pub session_keyring: Option<String>,
        /// Exec right after CREATED instead of waiting for a start request
        /// (`run`: the library starts the container at once and meanwhile
        /// writes its state). Exec errors still come on the sync socket.
        pub start_now: bool,
        pub process: ProcessPlan,
    }
}

wire::wire_struct! {
    /// A hook the init runs itself (createContainer, startContainer).
    pub struct HookPlan {
        pub path: String,
        pub args: Vec<String>,
        pub env: Vec<String>,
        pub timeout_secs: Option<u32>,
    }
}

wire::wire_struct! {
    /// The user process: identity, limits, privileges and what to exec.
    pub struct ProcessPlan {
        pub args: Vec<String>,
        pub env: Vec<String>,
        pub cwd: String,
        pub terminal: bool,
        pub console_size: Option<(u32, u32)>,
        pub uid: u32,
        pub gid: u32,
        pub additional_gids: Vec<u32>,
        pub umask: Option<u32>,
        /// (resource, soft, hard)
        pub rlimits: Vec<(u32, u64, u64)>,
        pub oom_score_adj: Option<i32>,
        pub caps: Option<CapSets>,
        pub no_new_privs: bool,
        /// (ioprio class, priority)
        pub io_priority: Option<(u32, u32)>,
        pub personality: Option<u64>,
        /// Compiled seccomp filter: raw `struct sock_filter` array.
        pub seccomp_bpf: Option<Vec<u8>>,
        pub seccomp_flags: u32,
        /// LSM labels: (file under /proc/self/attr, content), written before exec.
        pub exec_labels: Vec<(String, String)>,
        /// Inherited fds 3..3+N stay open for the process.
        pub preserve_fds: u32,
        /// The first N of them are socket-activation fds: set LISTEN_FDS/LISTEN_PID.
        pub listen_fds: u32,
    }
}

wire::wire_struct! {
    /// The five capability sets as bit masks (bit N = capability N).
    pub struct CapSets {
        pub bounding: u64,
        pub effective: u64,
        pub permitted: u64,
        pub inheritable: u64,
        pub ambient: u64,
    }
}

wire::wire_struct! {
    /// One mount(2) call and what follows it.
    pub struct MountOp {
        /// Source as given (a host path for binds, a name otherwise).
        pub source: String,
        /// Absolute path inside the container.
        pub dest: String,
        pub fstype: String,
        pub flags: u64,
        pub data: String,
        /// Propagation flags applied after the mount, one call each.
        pub propagation: Vec<u64>,
        /// Flags the bind needs re-applied with MS_REMOUNT (ro, nosuid...).
        pub bind_remount: bool,
        /// Mount a cgroup view (v1: tmpfs + per-hierarchy binds; v2: bind).
        pub cgroup: Vec<CgroupBind>,
        /// Copy what the image has at `dest` into the new (tmpfs) mount.
        pub copy_up: bool,
    }
}

wire::wire_struct! {
    /// One cgroup hierarchy to show inside a `cgroup` mount.
    pub struct CgroupBind {
        /// Host directory of the container's cgroup in this hierarchy.
        pub host_dir: String,
        /// Name below the mount point ("memory", "cpu,cpuacct"); empty for v2.
        pub name: String,
        /// Extra names that become symlinks to `name` ("cpu", "cpuacct").
        pub links: Vec<String>,
    }
}

wire::wire_struct! {
    /// A device node to create in the container's /dev.
    pub struct Device {
        pub path: String,
        /// S_IFCHR, S_IFBLK or S_IFIFO.
        pub kind: u32,
        pub major: u64,
        pub minor: u64,
        pub mode: u32,
        pub uid: u32,
        pub gid: u32,
    }
}

/// Messages on the sync socket. The first byte is the tag.
pub mod msg {
    /// library -> init: the plan follows (listener fd attached).
    pub const PLAN: u8 = 1;
    /// init -> library: new user namespace made; write id maps for pid (u32).
    pub const NEED_IDMAP: u8 = 2;
    /// library -> init: go on.
    pub const ACK: u8 = 3;
    /// init -> library: the container init's pid in the library's pid
    /// namespace (u32); 0 when it is the spawned process itself. A forked
    /// init (pid > 0) waits for ACK, so that nothing it sends can overtake
    /// this message of its parent; the spawned process goes on at once.
    pub const PID: u8 = 4;
    /// init -> library: the pty master is attached.
    pub const PTY: u8 = 5;
    /// init -> library: set-up done; waiting for start (or, with
    /// `Plan::start_now`, going on to exec).
    pub const CREATED: u8 = 6;
    /// init -> library: a one-line error (UTF-8) follows; the init exits.
    pub const ERROR: u8 = 7;
    /// start connection: exec the user process now.
    pub const START: u8 = 8;
    /// init -> library: run prestart/createRuntime hooks, then ACK with the
    /// state JSONs (creating, created) as a wire `Vec<String>`.
    pub const HOOKS: u8 = 9;
    /// init -> library (exec): about to execve; EOF next means success.
    pub const EXECING: u8 = 10;
    /// init -> runtime: the seccomp notify fd is attached (SCMP_ACT_NOTIFY).
    pub const SECCOMP_FD: u8 = 11;
}
