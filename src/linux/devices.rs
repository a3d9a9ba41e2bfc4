//! The devices every container gets in a /dev of its own, as runc makes them.

use crate::spec::types::Device;

pub fn defaults() -> Vec<Device> {
    let d = |path: &str, major, minor| Device {
        kind: "c".into(),
        path: path.into(),
        major,
        minor,
        file_mode: Some(0o666),
        uid: Some(0),
        gid: Some(0),
    };
    vec![
        d("/dev/null", 1, 3),
        d("/dev/zero", 1, 5),
        d("/dev/full", 1, 7),
        d("/dev/random", 1, 8),
        d("/dev/urandom", 1, 9),
        d("/dev/tty", 5, 0),
    ]
}

/// S_IF* for an OCI device type letter.
pub fn kind(t: &str) -> Option<u32> {
    match t {
        "c" | "u" => Some(libc::S_IFCHR),
        "b" => Some(libc::S_IFBLK),
        "p" => Some(libc::S_IFIFO),
        _ => None,
    }
}
