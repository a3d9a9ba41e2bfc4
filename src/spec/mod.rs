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
    /// The config as modern JSON text (as given, or made from the 2015
    /// pair), kept with the state.
    pub raw: Vec<u8>,
}

/// Reads `config.json` (plus `runtime.json` for the 2015 format) from `dir`,
/// converts and validates it.
pub fn load_bundle(dir: &Path) -> Result<Bundle> {
    let dir = std::path::absolute(dir).map_err(|e| Error::sys(format!("bundle {}", dir.display()), e))?;
    let path = dir.join("config.json");
    let text = crate::linux::smallfile::read(&path).map_err(|e| Error::config(format!("open {}: {}", path.display(), io_text(&e))))?;
    if let Some(spec) = parse_modern(&text) {
        let rootfs = validate::validate(&spec, &dir)?;
        return Ok(Bundle { dir, rootfs, spec, raw: text });
    }
    let value = json_of("config.json", &text)?;
    let value = if legacy::is_legacy(&value) {
        let rt_path = dir.join("runtime.json");
        let rt = if rt_path.exists() { Some(read_json(&rt_path)?) } else { None };
        legacy::convert(value, rt)?
    } else {
        value
    };
    let spec = parse(&value)?;
    let rootfs = validate::validate(&spec, &dir)?;
    Ok(Bundle { dir, rootfs, spec, raw: serde_json::to_vec(&value).expect("json") })
}

/// The common case in one pass, text to typed config: a modern config that
/// parses. Anything else (2015 format, any error) takes the way through a
/// JSON value, which converts and names the failing field.
pub(crate) fn parse_modern(text: &[u8]) -> Option<Spec> {
    serde_json::from_slice::<Spec>(text).ok().filter(|s| !s.oci_version.is_empty())
}

/// A bundle from an in-memory config (JSON text); `dir` is the bundle
/// directory that a relative `root.path` is resolved against.
pub fn bundle_from_json(text: &str, dir: &Path) -> Result<Bundle> {
    let dir = std::path::absolute(dir).map_err(|e| Error::sys(format!("bundle {}", dir.display()), e))?;
    let spec = match parse_modern(text.as_bytes()) {
        Some(spec) => spec,
        None => parse(&json_of("config.json", text.as_bytes())?)?,
    };
    let rootfs = validate::validate(&spec, &dir)?;
    Ok(Bundle { dir, rootfs, spec, raw: text.as_bytes().to_vec() })
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
    json_of(&name, &text)
}

fn json_of(name: &str, text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|e| Error::config(format!("{name}: invalid JSON: {e}")))
}

/// Parses a modern config value (e.g. the copy kept in a state directory).
pub fn parse(v: &Value) -> Result<Spec> {
    serde_path_to_error::deserialize::<_, Spec>(v).map_err(|e| {
        let path = e.path().to_string();
        Error::config(format!("config.json: {}: {}", if path == "." { "(top level)".into() } else { path }, e.inner()))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_pass_for_modern_configs_the_value_way_for_the_rest() {
        let modern = br#"{"ociVersion": "1.3.0", "process": {"args": ["sh"]}}"#;
        assert_eq!(super::parse_modern(modern).map(|s| s.process.unwrap().args), Some(vec!["sh".to_string()]));
        // 2015 (no ociVersion), a wrong type, broken JSON: the slow way, which names the failure.
        assert!(super::parse_modern(br#"{"version": "0.1.0", "process": {"args": ["sh"]}}"#).is_none());
        assert!(super::parse_modern(br#"{"ociVersion": "1.3.0", "process": {"args": "sh"}}"#).is_none());
        assert!(super::parse_modern(br#"{"ociVersion": "#).is_none());
        let e = super::parse_str_unchecked(r#"{"ociVersion": "1.3.0", "process": {"args": "sh"}}"#).unwrap_err();
        assert!(e.to_string().contains("process.args"), "{e}");
    }
}
