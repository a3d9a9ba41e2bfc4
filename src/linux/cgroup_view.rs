//! What a `cgroup` mount shows inside the container: the hierarchies of the
//! host, each bound at the process's own cgroup, as runc does.

use runc_init::CgroupBind;
use std::collections::HashMap;

/// One entry per mounted hierarchy below /sys/fs/cgroup. For a pure cgroup v2
/// host this is a single bind with an empty name.
pub fn binds() -> Result<Vec<CgroupBind>, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
    let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("read /proc/self/cgroup: {e}"))?;
    // hierarchy key ("memory", "name=systemd", "" for v2) -> path
    let paths: HashMap<&str, &str> = own
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            Some((ctrls, path))
        })
        .collect();
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else { continue };
        let (mnt_root, mount_point) = (fields[3], fields[4]);
        let (fstype, super_opts) = (fields.get(sep + 1).copied().unwrap_or(""), fields.get(sep + 3).copied().unwrap_or(""));
        if !mount_point.starts_with("/sys/fs/cgroup") {
            continue;
        }
        let key = match fstype {
            "cgroup2" => String::new(),
            "cgroup" => super_opts.split(',').filter(|o| *o != "rw" && *o != "ro" && !o.starts_with("xattr") && *o != "clone_children").collect::<Vec<_>>().join(","),
            _ => continue,
        };
        let Some(path) = paths.get(key.as_str()) else { continue };
        let rel = path.strip_prefix(mnt_root).unwrap_or(path).trim_start_matches('/');
        let host_dir = format!("{}/{}", mount_point, rel).trim_end_matches('/').to_string();
        let name = if mount_point == "/sys/fs/cgroup" { String::new() } else { mount_point.rsplit('/').next().unwrap_or("").to_string() };
        out.push(CgroupBind { host_dir, links: links_to(&name), name });
    }
    if out.is_empty() {
        return Err("no cgroup hierarchy is mounted under /sys/fs/cgroup".into());
    }
    Ok(out)
}

/// Symlinks in /sys/fs/cgroup that point at a co-mounted hierarchy ("cpu" -> "cpu,cpuacct").
fn links_to(name: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/sys/fs/cgroup") else { return Vec::new() };
    dir.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == name))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}
