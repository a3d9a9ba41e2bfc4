//! Fuzz target: the config parser, validator and 2015 converter must never
//! panic, whatever bytes they get (modern config.json, or a 0.1.0 pair).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Modern: parse + the checks that need no bundle directory.
    if let Ok(spec) = runc::spec::parse_str_unchecked(text) {
        let _ = runc::spec::validate::validate_config(&spec);
    }
    // 2015: a config.json and runtime.json separated by a NUL-free marker.
    let (cfg, rt) = text.split_once("\n---\n").unwrap_or((text, "{}"));
    if let (Ok(c), Ok(r)) = (serde_json::from_str(cfg), serde_json::from_str(rt)) {
        if runc::spec::legacy::is_legacy(&c) {
            if let Ok(v) = runc::spec::legacy::convert(c, Some(r)) {
                let _ = runc::spec::parse(v);
            }
        }
    }
});
