//! The bundle's configuration: loading (modern or 2015 format), validation,
//! and the default template of `runc spec`.

pub mod legacy;
pub mod template;
pub mod types;
pub mod validate;

pub use types::Spec;

use crate::error::{io_text, Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A loaded, validated bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Absolute bundle directory.
    pub dir: PathBuf,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    pub spec: Spec,
    /// The config as modern JSON (after 2015 conversion), kept with the state.
    pub raw: Value,
}

/// Reads `config.json` (plus `runtime.json` for the 2015 format) from `dir`,
/// converts and validates it.
pub fn load_bundle(dir: &Path) -> Result<Bundle> {
    let dir = std::path::absolute(dir).map_err(|e| Error::sys(format!("bundle {}", dir.display()), e))?;
    let path = dir.join("config.json");
    let value = read_json(&path)?;
    let value = if legacy::is_legacy(&value) {
        let rt_path = dir.join("runtime.json");
        let rt = if rt_path.exists() { Some(read_json(&rt_path)?) } else { None };
        legacy::convert(value, rt)?
    } else {
        value
    };
    let spec = parse(&value)?;
    let rootfs = validate::validate(&spec, &dir)?;
    Ok(Bundle { dir, rootfs, spec, raw: value })
}

/// A bundle from an in-memory config (JSON text); `dir` is the bundle
/// directory that a relative `root.path` is resolved against.
pub fn bundle_from_json(text: &str, dir: &Path) -> Result<Bundle> {
    let dir = std::path::absolute(dir).map_err(|e| Error::sys(format!("bundle {}", dir.display()), e))?;
    let value: Value = serde_json::from_str(text).map_err(|e| Error::config(format!("config.json: invalid JSON: {e}")))?;
    let spec = parse(&value)?;
    let rootfs = validate::validate(&spec, &dir)?;
    Ok(Bundle { dir, rootfs, spec, raw: value })
}

/// Parses a modern config from JSON text without validating it (fuzzing,
/// tools); errors name the field.
pub fn parse_str_unchecked(text: &str) -> Result<Spec> {
    let v: Value = serde_json::from_str(text).map_err(|e| Error::config(format!("config.json: invalid JSON: {e}")))?;
    parse(&v)
}

/// Parses an OCI process object from JSON text (the C API's `runc_exec`).
pub fn parse_process(text: &str) -> Result<types::Process> {
    let v: Value = serde_json::from_str(text).map_err(|e| Error::config(format!("process: invalid JSON: {e}")))?;
    serde_path_to_error::deserialize::<_, types::Process>(v).map_err(|e| Error::config(format!("process: {}: {}", e.path(), e.inner())))
}

/// Reads an exec `process.json` (a plain OCI process object).
pub fn load_process(path: &Path) -> Result<types::Process> {
    let v = read_json(path)?;
    serde_path_to_error::deserialize::<_, types::Process>(v).map_err(|e| Error::config(format!("{}: {}: {}", path.display(), e.path(), e.inner())))
}

fn read_json(path: &Path) -> Result<Value> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let text = crate::linux::smallfile::read(path).map_err(|e| Error::config(format!("open {}: {}", path.display(), io_text(&e))))?;
    serde_json::from_slice(&text).map_err(|e| Error::config(format!("{name}: invalid JSON: {e}")))
}

/// Parses a modern config value (e.g. the copy kept in a state directory).
pub fn parse(v: &Value) -> Result<Spec> {
    serde_path_to_error::deserialize::<_, Spec>(v).map_err(|e| {
        let path = e.path().to_string();
        Error::config(format!("config.json: {}: {}", if path == "." { "(top level)".into() } else { path }, e.inner()))
    })
}
