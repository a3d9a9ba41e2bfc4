//! `linux.resources` of the runtime-spec (also the body of `runc update`).
//! Zero, empty and absent values mean "leave unchanged" (Docker's update
//! sends zeros), so every field is optional and zeros are dropped on read.

use crate::spec::types::null_as_default;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, deserialize_with = "null_as_default")]
    pub devices: Vec<DeviceRule>,
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
    pub pids: Option<Pids>,
    #[serde(rename = "blockIO")]
    pub block_io: Option<BlockIo>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub hugepage_limits: Vec<Hugepage>,
    pub network: Option<Network>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rdma: BTreeMap<String, Rdma>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub unified: BTreeMap<String, String>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
pub struct DeviceRule {
    pub allow: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: Option<String>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub limit: Option<i64>,
    pub reservation: Option<i64>,
    pub swap: Option<i64>,
    pub kernel: Option<i64>,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: Option<i64>,
    pub swappiness: Option<u64>,
    #[serde(rename = "disableOOMKiller")]
    pub disable_oom_killer: Option<bool>,
    pub use_hierarchy: Option<bool>,
    pub check_before_update: Option<bool>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub burst: Option<u64>,
    pub period: Option<u64>,
    pub realtime_runtime: Option<i64>,
    pub realtime_period: Option<u64>,
    pub cpus: Option<String>,
    pub mems: Option<String>,
    pub idle: Option<i64>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
pub struct Pids {
    pub limit: Option<i64>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlockIo {
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub throttle_read_bps_device: Vec<ThrottleDevice>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub throttle_write_bps_device: Vec<ThrottleDevice>,
    #[serde(default, deserialize_with = "null_as_default", rename = "throttleReadIOPSDevice")]
    pub throttle_read_iops_device: Vec<ThrottleDevice>,
    #[serde(default, deserialize_with = "null_as_default", rename = "throttleWriteIOPSDevice")]
    pub throttle_write_iops_device: Vec<ThrottleDevice>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WeightDevice {
    pub major: i64,
    pub minor: i64,
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
pub struct ThrottleDevice {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Hugepage {
    pub page_size: String,
    pub limit: u64,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    #[serde(rename = "classID")]
    pub class_id: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub priorities: Vec<NetPriority>,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
pub struct NetPriority {
    pub name: String,
    pub priority: u32,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rdma {
    pub hca_handles: Option<u32>,
    pub hca_objects: Option<u32>,
}

/// Zero means "unset" for these numbers, as runc and Docker treat them.
pub fn nz<T: Copy + Default + PartialEq>(v: Option<T>) -> Option<T> {
    v.filter(|x| *x != T::default())
}

impl Rdma {
    /// The rdma.max line for `device` ("mlx4_0 hca_handle=2 hca_object=2000").
    pub fn max_line(&self, device: &str) -> String {
        let mut v = device.to_string();
        if let Some(h) = self.hca_handles {
            v += &format!(" hca_handle={h}");
        }
        if let Some(o) = self.hca_objects {
            v += &format!(" hca_object={o}");
        }
        v
    }
}

impl BlockIo {
    /// The four throttle lists with their field names and cgroup v2 io.max keys.
    pub fn throttles(&self) -> [(&[ThrottleDevice], &'static str, &'static str); 4] {
        [
            (&self.throttle_read_bps_device, "throttleReadBpsDevice", "rbps"),
            (&self.throttle_write_bps_device, "throttleWriteBpsDevice", "wbps"),
            (&self.throttle_read_iops_device, "throttleReadIOPSDevice", "riops"),
            (&self.throttle_write_iops_device, "throttleWriteIOPSDevice", "wiops"),
        ]
    }
}

impl Resources {
    /// Parses JSON with field paths in errors ("memory.limit: invalid type...").
    pub fn from_value(v: serde_json::Value, what: &str) -> crate::Result<Resources> {
        serde_path_to_error::deserialize(v).map_err(|e| crate::Error::config(format!("{what}.{}: {}", e.path(), e.inner())))
    }
}
