//! The 2015 format (spec 0.1.0): a portable `config.json` plus a host-specific
//! `runtime.json`. Converted once, at load time, into a modern config value;
//! nothing else in the runtime knows this format exists.

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

/// A 0.x config has `version` and no `ociVersion`.
pub fn is_legacy(cfg: &Value) -> bool {
    cfg.get("ociVersion").is_none()
        && cfg.get("version").and_then(Value::as_str).is_some_and(|v| v.starts_with("0."))
}

fn err(msg: String) -> Error {
    Error::config(msg)
}

/// Builds the modern config from the pair; `rt` is None when the bundle has
/// no runtime.json (then named mounts cannot be resolved).
pub fn convert(cfg: Value, rt: Option<Value>) -> Result<Value> {
    let rt = rt.unwrap_or_else(|| json!({}));
    let rt_linux = rt.get("linux").cloned().unwrap_or(Value::Null);
    let mut process = cfg.get("process").cloned().unwrap_or_else(|| json!({}));
    if process.get("cwd").and_then(Value::as_str).is_none_or(str::is_empty) {
        process["cwd"] = json!("/");
    }
    if let Some(caps) = cfg.pointer("/linux/capabilities").filter(|c| !c.is_null()) {
        // One list in 0.1.0; inheritable stays empty (CVE-2022-29162).
        process["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    }
    move_field(&rt_linux, "rlimits", &mut process, "rlimits");
    move_nonempty_str(&rt_linux, "apparmorProfile", &mut process, "apparmorProfile");
    move_nonempty_str(&rt_linux, "selinuxProcessLabel", &mut process, "selinuxLabel");

    let mut linux = Map::new();
    for key in ["uidMappings", "gidMappings", "sysctl", "seccomp"] {
        if let Some(v) = rt_linux.get(key).filter(|v| !v.is_null()) {
            linux.insert(key.into(), v.clone());
        }
    }
    for key in ["cgroupsPath", "rootfsPropagation"] {
        if let Some(v) = rt_linux.get(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            linux.insert(key.into(), v.clone());
        }
    }
    linux.insert("namespaces".into(), namespaces(&rt_linux)?);
    linux.insert("devices".into(), devices(&rt_linux)?);
    if let Some(r) = resources(rt_linux.get("resources"))? {
        linux.insert("resources".into(), r);
    }

    let mut out = json!({
        "ociVersion": "1.0.0",
        "process": process,
        "root": cfg.get("root").cloned().unwrap_or(Value::Null),
        "mounts": mounts(&cfg, &rt)?,
        "linux": Value::Object(linux),
    });
    for key in ["hostname", "domainname"] {
        if let Some(v) = cfg.get(key) {
            out[key] = v.clone();
        }
    }
    if let Some(h) = rt.get("hooks").filter(|h| !h.is_null()) {
        out["hooks"] = h.clone();
    }
    Ok(out)
}

fn move_field(from: &Value, key: &str, to: &mut Value, new_key: &str) {
    if let Some(v) = from.get(key).filter(|v| !v.is_null()) {
        to[new_key] = v.clone();
    }
}

fn move_nonempty_str(from: &Value, key: &str, to: &mut Value, new_key: &str) {
    if let Some(v) = from.get(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
        to[new_key] = v.clone();
    }
}

/// Named mounts: `config.json` says where, `runtime.json` says what.
fn mounts(cfg: &Value, rt: &Value) -> Result<Value> {
    let list = cfg.get("mounts").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let name = m.get("name").and_then(Value::as_str).ok_or_else(|| err(format!("config.json: mounts[{i}].name: expected a string")))?;
        let path = m.get("path").and_then(Value::as_str).ok_or_else(|| err(format!("config.json: mounts[{i}].path: expected a string")))?;
        let def = rt
            .pointer(&format!("/mounts/{name}"))
            .ok_or_else(|| err(format!("config.json: mounts[{i}]: runtime.json has no mount named {name:?}")))?;
        let mut mm = json!({"destination": path});
        for key in ["type", "source", "options"] {
            if let Some(v) = def.get(key).filter(|v| !v.is_null()) {
                mm[key] = v.clone();
            }
        }
        out.push(mm);
    }
    Ok(Value::Array(out))
}

fn namespaces(rt_linux: &Value) -> Result<Value> {
    let list = rt_linux.get("namespaces").and_then(Value::as_array).cloned().unwrap_or_default();
    let out = list
        .into_iter()
        .map(|mut ns| {
            if ns.get("path").and_then(Value::as_str) == Some("") {
                ns.as_object_mut().map(|o| o.remove("path"));
            }
            ns
        })
        .collect();
    Ok(Value::Array(out))
}

/// Device `type` was a number (the character code): 99 is 'c'.
fn devices(rt_linux: &Value) -> Result<Value> {
    let list = rt_linux.get("devices").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (i, d) in list.into_iter().enumerate() {
        let mut d = d;
        if let Some(n) = d.get("type").and_then(Value::as_u64) {
            let c = char::from_u32(n as u32).filter(|c| "cbup".contains(*c));
            let c = c.ok_or_else(|| err(format!("runtime.json: linux.devices[{i}].type: unknown device type {n}")))?;
            d["type"] = json!(c.to_string());
        }
        // `permissions` fed the device cgroup in 0.1.0; the cgroup layer owns that.
        d.as_object_mut().map(|o| o.remove("permissions"));
        out.push(d);
    }
    Ok(Value::Array(out))
}

/// 0.1.0 resources used zero, -1 and "" for "unset" and older key names.
/// Returns the modern object, or None when nothing is set.
fn resources(r: Option<&Value>) -> Result<Option<Value>> {
    let Some(r) = r.filter(|r| !r.is_null()) else { return Ok(None) };
    let renames = [("blkioWeight", "weight"), ("classId", "classID")];
    let mut out = prune(r.clone());
    if let Some(Value::Object(o)) = out.as_mut() {
        for section in o.values_mut() {
            if let Value::Object(s) = section {
                for (old, new) in renames {
                    if let Some(v) = s.remove(old) {
                        s.insert(new.into(), v);
                    }
                }
                if let Some(k) = s.keys().find(|k| k.starts_with("blkio")).cloned() {
                    return Err(err(format!("runtime.json: linux.resources.blockIO.{k}: the 0.1.0 string form is not supported")));
                }
            }
        }
    }
    Ok(out)
}

/// Drops unset values (0, -1, "", false, null, empty lists and objects).
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(-1) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) => {
            let a: Vec<Value> = a.into_iter().filter_map(prune).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(o) => {
            let o: Map<String, Value> = o.into_iter().filter_map(|(k, v)| prune(v).map(|v| (k, v))).collect();
            (!o.is_empty()).then_some(Value::Object(o))
        }
        v => Some(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_pair_converts() {
        let cfg: Value = serde_json::from_str(include_str!("../../examples/seed/config.json")).unwrap();
        let rt: Value = serde_json::from_str(include_str!("../../examples/seed/runtime.json")).unwrap();
        assert!(is_legacy(&cfg));
        let out = convert(cfg, Some(rt)).unwrap();
        assert_eq!(out["mounts"][0], json!({"destination": "/proc", "type": "proc", "source": "proc"}));
        assert_eq!(out["mounts"][6]["options"][4], json!("ro"));
        assert_eq!(out["linux"]["devices"][0]["type"], json!("c"));
        assert_eq!(out["process"]["cwd"], json!("/"));
        assert_eq!(out["process"]["rlimits"][0]["type"], json!("RLIMIT_NOFILE"));
        assert_eq!(out["process"]["capabilities"]["bounding"][1], json!("CAP_KILL"));
        assert!(out["linux"].get("resources").is_none(), "all-zero resources are unset");
        assert_eq!(out["linux"]["namespaces"][0], json!({"type": "pid"}));
    }

    #[test]
    fn unknown_mount_name_is_an_error() {
        let cfg = json!({"version": "0.1.0", "mounts": [{"name": "nope", "path": "/x"}]});
        let e = convert(cfg, Some(json!({"mounts": {}}))).unwrap_err();
        assert!(e.msg.contains("no mount named \"nope\""), "{}", e.msg);
    }

    #[test]
    fn set_resources_survive() {
        let r = json!({"memory": {"limit": 1024, "swap": 0}, "blockIO": {"blkioWeight": 10}});
        let out = resources(Some(&r)).unwrap().unwrap();
        assert_eq!(out, json!({"memory": {"limit": 1024}, "blockIO": {"weight": 10}}));
    }
}
