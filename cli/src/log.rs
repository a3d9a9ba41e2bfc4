//! Log lines: errors always to stderr too; every line to --log when given,
//! as text or runc's logrus JSON (`level`, `msg`, `time`).

use std::io::Write;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Logger {
    file: Option<PathBuf>,
    json: bool,
    debug: bool,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, json: bool, debug: bool) -> Self {
        Logger { file, json, debug }
    }

    pub fn error(&self, msg: &str) {
        eprintln!("{msg}");
        self.line("error", msg);
    }

    pub fn warning(&self, msg: &str) {
        if self.file.is_none() {
            eprintln!("warning: {msg}");
        }
        self.line("warning", msg);
    }

    pub fn debug(&self, msg: &str) {
        if !self.debug {
            return;
        }
        if self.file.is_none() {
            eprintln!("debug: {msg}");
        }
        self.line("debug", msg);
    }

    fn line(&self, level: &str, msg: &str) {
        let Some(path) = &self.file else { return };
        let time = format!("{}Z", &runc::container::state::rfc3339_now()[..19]);
        let line = if self.json {
            serde_json::json!({"level": level, "msg": msg, "time": time}).to_string()
        } else {
            format!("time={time:?} level={level} msg={msg:?}")
        };
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}
