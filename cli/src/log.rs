//! Error output: stderr always, plus one line in the --log file (runc's
//! logrus JSON with --log-format json).

use std::io::Write;
use std::path::PathBuf;

pub struct Logger {
    file: Option<PathBuf>,
    json: bool,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, json: bool) -> Self {
        Logger { file, json }
    }

    pub fn error(&self, msg: &str) {
        eprintln!("{msg}");
        let Some(path) = &self.file else { return };
        let time = runc::container::state::rfc3339_now();
        let line = if self.json {
            let t = format!("{}Z", &time[..19]);
            serde_json::json!({"level": "error", "msg": msg, "time": t}).to_string()
        } else {
            format!("time=\"{}\" level=error msg={:?}", &time[..19], msg)
        };
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}
