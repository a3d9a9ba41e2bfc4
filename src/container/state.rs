//! The state directory of one container and its state.json.

use crate::error::{Context, Error, ErrorKind, Result};
use crate::linux::smallfile::Dirs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The OCI state, as `runc state` prints it, plus what we need to tell a live
/// init from a recycled pid.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: String,
    pub rootfs: String,
    pub created: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Kernel start time of the init (field 22 of /proc/PID/stat).
    #[serde(default)]
    pub init_start_time: u64,
    #[serde(default)]
    pub started: bool,
    /// The container's cgroup directories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<crate::cgroups::Cgroup>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    /// The name in state.json and `runc list` ("running").
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const STATE_FILE: &str = "state.json";
const STAGED_FILE: &str = ".state.json.tmp";

impl State {
    pub fn load(dir: &Path, id: &str) -> Result<State> {
        Self::load_in(dir, id, &mut Dirs::one_shot())
    }

    /// `load`, reading through `dirs` (many states in a row: `list`).
    pub fn load_in(dir: &Path, id: &str, dirs: &mut Dirs) -> Result<State> {
        let path = dir.join(STATE_FILE);
        let text = dirs.read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found(id),
            _ => Error::sys(format!("read {}", path.display()), e),
        })?;
        let mut st: State = serde_json::from_slice(&text).map_err(|e| Error::new(ErrorKind::System, format!("{}: {e}", path.display())))?;
        st.status = st.current_status(dirs);
        Ok(st)
    }

    /// The OCI state as runc prints it (without our private fields).
    pub fn to_oci_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("state serialises");
        if let Some(o) = v.as_object_mut() {
            o.remove("initStartTime");
            o.remove("started");
            o.remove("cgroup");
        }
        v
    }

    /// Writes state.json atomically (temp file + rename).
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.stage(dir)?;
        Self::commit(dir)
    }

    /// Writes the temp file that [`State::commit`] makes state.json.
    pub fn stage(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(STAGED_FILE);
        let data = serde_json::to_vec(self).expect("state serialises");
        std::fs::write(&tmp, data).context(|| format!("write {}", tmp.display()))
    }

    /// Renames the staged state to state.json, atomically.
    pub fn commit(dir: &Path) -> Result<()> {
        let tmp = dir.join(STAGED_FILE);
        std::fs::rename(&tmp, dir.join(STATE_FILE)).context(|| format!("rename {}", tmp.display()))
    }

    /// Created/running while the recorded init is alive, stopped otherwise.
    fn current_status(&self, dirs: &mut Dirs) -> Status {
        match proc_stat_in(self.pid, dirs) {
            Some((state, start)) if start == self.init_start_time && state != 'Z' && state != 'X' => {
                if self.cgroup.as_ref().is_some_and(|c| c.is_frozen_in(dirs, state)) {
                    Status::Paused
                } else if self.started {
                    Status::Running
                } else {
                    Status::Created
                }
            }
            _ => Status::Stopped,
        }
    }
}

pub fn not_found(id: &str) -> Error {
    let _ = id;
    Error::new(ErrorKind::NotFound, "container does not exist")
}

/// (state letter, start time) from /proc/PID/stat.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    proc_stat_in(pid, &mut Dirs::one_shot())
}

fn proc_stat_in(pid: i32, dirs: &mut Dirs) -> Option<(char, u64)> {
    if pid <= 0 {
        return None;
    }
    let s = dirs.read(Path::new(&format!("/proc/{pid}/stat"))).ok()?;
    // The command name may contain spaces and parentheses: split after the last ')'.
    let close = s.iter().rposition(|&b| b == b')')?;
    let mut fields = s.get(close + 2..)?.split(|&b| b == b' ');
    let state = *fields.next()?.first()? as char;
    // Field 22, the start time: the 20th after the command name.
    let start = std::str::from_utf8(fields.nth(18)?).ok()?.parse().ok()?;
    Some((state, start))
}

/// An exclusive flock on a container's state directory, held while alive.
pub struct Lock(#[allow(dead_code)] std::fs::File);

/// Locks a state directory we just created.
pub fn lock(dir: &Path) -> Result<Lock> {
    lock_open(std::fs::File::open(dir).context(|| format!("open {}", dir.display()))?, dir)
}

/// Locks the state directory of an existing container.
pub fn lock_existing(dir: &Path, id: &str) -> Result<Lock> {
    match std::fs::File::open(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(id)),
        f => lock_open(f.context(|| format!("open {}", dir.display()))?, dir),
    }
}

fn lock_open(f: std::fs::File, dir: &Path) -> Result<Lock> {
    // SAFETY: flock on an fd we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(Error::sys(format!("lock {}", dir.display()), std::io::Error::last_os_error()));
    }
    Ok(Lock(f))
}

/// The directory of container `id` under `root`.
pub fn dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Removes a state dir: the two files every container has and the dir
/// (three calls), else (a start socket, hooks) the whole tree.
pub fn remove(dir: &Path, config_copy: &str) -> std::io::Result<()> {
    for f in [STATE_FILE, config_copy] {
        match std::fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => std::fs::remove_dir_all(dir),
        r => r,
    }
}

/// Now, as RFC 3339 with nanoseconds in UTC ("2026-11-27T23:00:14.264998917Z").
pub fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_nanos())
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_names_match_serde() {
        use super::Status::*;
        for s in [Creating, Created, Running, Paused, Stopped] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn proc_stat_reads_state_and_start_time_after_any_command_name() {
        // A thread named with spaces and parentheses, read as /proc/TID/stat.
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            // SAFETY: PR_SET_NAME with a NUL-terminated name of under 16 bytes.
            unsafe { libc::prctl(libc::PR_SET_NAME, c"a) b ) 1 2".as_ptr()) };
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            done_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        let raw = std::fs::read_to_string(format!("/proc/{tid}/stat")).unwrap();
        assert!(raw.contains("(a) b ) 1 2)"), "{raw}");
        let start: u64 = raw.rsplit_once(')').unwrap().1.split(' ').nth(20).unwrap().parse().unwrap();
        let (state, got) = super::proc_stat(tid).unwrap();
        assert!(state == 'S' || state == 'R', "{state}");
        assert_eq!(got, start);
        done_tx.send(()).unwrap();
        t.join().unwrap();
        assert_eq!(super::proc_stat(0), None);
    }

    #[test]
    fn timestamp_shape() {
        let t = super::rfc3339_now();
        assert_eq!(t.len(), 30, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
