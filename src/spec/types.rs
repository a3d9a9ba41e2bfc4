//! OCI runtime-spec 1.3.0 config.json, the Linux parts. Unknown properties are
//! ignored (the spec requires it); wrong types fail with the field's path.
//! Fields this build cannot honour yet are kept as raw JSON so validation can
//! reject them by name instead of dropping them.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub oci_version: String,
    pub process: Option<Process>,
    pub root: Option<Root>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mounts: Vec<Mount>,
    pub hooks: Option<Hooks>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
    pub linux: Option<Linux>,
}

impl Spec {
    /// `linux`, borrowed, or an empty one when the config has none.
    pub fn linux_or_default(&self) -> Cow<'_, Linux> {
        self.linux.as_ref().map_or_else(Cow::default, Cow::Borrowed)
    }

    /// `hooks`, borrowed, or none of each kind.
    pub fn hooks_or_default(&self) -> Cow<'_, Hooks> {
        self.hooks.as_ref().map_or_else(Cow::default, Cow::Borrowed)
    }
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default)]
    pub terminal: bool,
    pub console_size: Option<ConsoleSize>,
    #[serde(default)]
    pub user: User,
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    pub capabilities: Option<Capabilities>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rlimits: Vec<Rlimit>,
    #[serde(default)]
    pub no_new_privileges: bool,
    pub apparmor_profile: Option<String>,
    pub oom_score_adj: Option<i32>,
    pub scheduler: Option<Value>,
    pub selinux_label: Option<String>,
    pub io_priority: Option<IoPriority>,
    #[serde(rename = "execCPUAffinity")]
    pub exec_cpu_affinity: Option<Value>,
}

#[derive(Deserialize, Debug, Clone, Copy, Default)]
pub struct ConsoleSize {
    pub height: u32,
    pub width: u32,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    pub umask: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub additional_gids: Vec<u32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Capabilities {
    pub bounding: Option<Vec<String>>,
    pub effective: Option<Vec<String>>,
    pub inheritable: Option<Vec<String>>,
    pub permitted: Option<Vec<String>>,
    pub ambient: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub hard: u64,
    pub soft: u64,
}

#[derive(Deserialize, Debug, Clone)]
pub struct IoPriority {
    pub class: String,
    #[serde(default)]
    pub priority: i32,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Root {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    pub destination: String,
    pub source: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub options: Vec<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub uid_mappings: Vec<IdMapping>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub gid_mappings: Vec<IdMapping>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default, deserialize_with = "null_as_default")]
    pub prestart: Vec<Hook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub create_runtime: Vec<Hook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub create_container: Vec<Hook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub start_container: Vec<Hook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub poststart: Vec<Hook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub poststop: Vec<Hook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        [&self.prestart, &self.create_runtime, &self.create_container, &self.start_container, &self.poststart, &self.poststop]
            .iter()
            .all(|v| v.is_empty())
    }
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Hook {
    pub path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    pub timeout: Option<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    #[serde(default, deserialize_with = "null_as_default")]
    pub namespaces: Vec<Namespace>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub uid_mappings: Vec<IdMapping>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub gid_mappings: Vec<IdMapping>,
    pub time_offsets: Option<BTreeMap<String, TimeOffset>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub devices: Vec<Device>,
    pub net_devices: Option<Value>,
    pub cgroups_path: Option<String>,
    pub resources: Option<Value>,
    pub rootfs_propagation: Option<String>,
    pub seccomp: Option<Seccomp>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sysctl: BTreeMap<String, String>,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    pub mount_label: Option<String>,
    pub intel_rdt: Option<Value>,
    pub memory_policy: Option<Value>,
    pub personality: Option<Personality>,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdMapping {
    #[serde(rename = "containerID")]
    pub container_id: u32,
    #[serde(rename = "hostID")]
    pub host_id: u32,
    pub size: u32,
}

#[derive(Deserialize, Debug, Clone, Copy, Default)]
pub struct TimeOffset {
    #[serde(default)]
    pub secs: i64,
    #[serde(default)]
    pub nanosecs: u32,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    pub file_mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Seccomp {
    pub default_action: String,
    pub default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub flags: Vec<String>,
    pub listener_path: Option<String>,
    pub listener_metadata: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub syscalls: Vec<Syscall>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Syscall {
    pub names: Vec<String>,
    pub action: String,
    pub errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<SyscallArg>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SyscallArg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: String,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Personality {
    pub domain: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub flags: Vec<String>,
}

/// JSON `null` where a list or map is expected means "empty", as Go's encoding/json reads it.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
