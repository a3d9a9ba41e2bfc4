//! cgroups: one [`Cgroup`] type over the host's layout (v1, hybrid or v2).
//! Paths are resolved from `linux.cgroupsPath`, created, limited, joined,
//! frozen, read for stats and removed here; nothing else touches cgroupfs.

mod cache;
pub mod devices;
mod fs;
pub mod resources;
pub mod stats;
mod v1;
mod v2;

pub use cache::MountCache;
use crate::linux::mounts::Mount;
use crate::linux::smallfile::Dirs;
use crate::error::{Error, ErrorKind, Result};
use resources::Resources;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A container's cgroup: one directory per mounted hierarchy (v1, keyed by
/// its controllers, e.g. "memory", "cpu,cpuacct", "name=systemd"; the
/// unified hierarchy of a hybrid host is ""), or one directory (v2, key "").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Cgroup {
    pub v2: bool,
    pub dirs: BTreeMap<String, PathBuf>,
    /// Ancestors that `create` made (removed again by `destroy`), parents first.
    #[serde(default)]
    pub made: Vec<PathBuf>,
}

/// One mounted hierarchy of the host.
#[derive(Debug, PartialEq)]
struct Hierarchy {
    key: String,
    mountpoint: PathBuf,
    /// Our own cgroup in it (relative to its root, from /proc/self/cgroup).
    own: String,
}

fn read_to_end(path: &str) -> Result<String> {
    crate::linux::smallfile::read_to_end(Path::new(path)).map_err(|e| Error::sys(format!("read {path}"), e))
}

const ROOT: &str = "/sys/fs/cgroup";

/// The mounts at and below /sys/fs/cgroup: from statmount where the kernel
/// has it (its cost does not grow with the host's other mounts), else from
/// mountinfo.
fn cgroup_mounts(cache: &MountCache) -> Result<Vec<Mount>> {
    match cache.at_and_below(ROOT) {
        Some(m) => Ok(m),
        None => Ok(mountinfo_mounts(&read_to_end("/proc/self/mountinfo")?)),
    }
}

/// The mountinfo lines whose mount point is under /sys/fs/cgroup.
fn mountinfo_mounts(mountinfo: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let Some(sep) = f.iter().position(|x| *x == "-") else { continue };
        if f.len() < 5 || !f[4].starts_with(ROOT) {
            continue;
        }
        let field = |i: usize| f.get(i).copied().unwrap_or("").to_string();
        out.push(Mount { root: field(3), point: field(4), fstype: field(sep + 1), opts: field(sep + 3) });
    }
    out
}

fn hierarchies(cache: &MountCache) -> Result<(bool, Vec<Hierarchy>)> {
    hierarchies_of(&cgroup_mounts(cache)?, &read_to_end("/proc/self/cgroup")?)
}

/// The cgroup hierarchies among `mounts`, with our own cgroup in each
/// (from `own`, the text of /proc/self/cgroup).
fn hierarchies_of(mounts: &[Mount], own: &str) -> Result<(bool, Vec<Hierarchy>)> {
    let own: BTreeMap<&str, &str> = own.lines().filter_map(|l| l.split(':').nth(1).zip(l.splitn(3, ':').nth(2))).collect();
    let mut out = Vec::new();
    let mut v2 = false;
    for m in mounts {
        let key = match m.fstype.as_str() {
            "cgroup2" => {
                v2 |= m.point == ROOT;
                String::new()
            }
            "cgroup" => m.opts.split(',').filter(|o| !matches!(*o, "" | "rw" | "ro" | "clone_children") && !o.starts_with("xattr") && !o.starts_with("release_agent")).collect::<Vec<_>>().join(","),
            _ => continue,
        };
        let path = own.get(key.as_str()).copied().unwrap_or("/");
        let rel = path.strip_prefix(m.root.as_str()).unwrap_or(path);
        out.push(Hierarchy { key, mountpoint: PathBuf::from(&m.point), own: rel.to_string() });
    }
    if out.is_empty() {
        return Err(Error::new(ErrorKind::System, "no cgroup hierarchy is mounted under /sys/fs/cgroup"));
    }
    Ok((v2, out))
}

impl Cgroup {
    /// Where the container's cgroup is: `cgroups_path` absolute (from each
    /// hierarchy's root), relative (below the runtime's own cgroup), or empty
    /// (relative, named after the container id).
    pub fn resolve(cgroups_path: Option<&str>, id: &str, mounts: &MountCache) -> Result<Cgroup> {
        let p = cgroups_path.filter(|p| !p.is_empty()).unwrap_or(id);
        if p.contains(':') {
            return Err(Error::unsupported(format!("linux.cgroupsPath: {p:?} looks like a systemd slice path; the systemd cgroup driver is not supported yet")));
        }
        if p.split('/').any(|c| c == "..") {
            return Err(Error::config(format!("linux.cgroupsPath: {p:?} must not contain \"..\"")));
        }
        let (v2, hs) = hierarchies(mounts)?;
        let dirs = hs
            .into_iter()
            .filter(|h| !v2 || h.mountpoint == Path::new("/sys/fs/cgroup"))
            .map(|h| {
                let rel = if p.starts_with('/') { p.to_string() } else { format!("{}/{p}", h.own.trim_end_matches('/')) };
                (h.key.clone(), h.mountpoint.join(rel.trim_start_matches('/')))
            })
            .collect();
        Ok(Cgroup { v2, dirs, made: Vec::new() })
    }

    /// The directory of the hierarchy holding `controller` ("" = unified).
    fn dir_of(&self, controller: &str) -> Option<&Path> {
        if self.v2 {
            return self.dirs.get("").map(PathBuf::as_path);
        }
        self.dirs.iter().find(|(k, _)| k.split(',').any(|c| c == controller)).map(|(_, d)| d.as_path())
    }

    /// A directory whose cgroup.procs lists the container's processes.
    fn main_dir(&self) -> Result<&Path> {
        ["", "pids", "memory", "freezer", "devices", "cpu"]
            .iter()
            .find_map(|c| if self.v2 || !c.is_empty() { self.dir_of(c) } else { None })
            .or_else(|| self.dirs.values().next().map(PathBuf::as_path))
            .ok_or_else(|| Error::new(ErrorKind::System, "container has no cgroup"))
    }

    /// Creates the cgroup2 directory, if there is one (pure v2, or a hybrid
    /// host's unified hierarchy): the init is born in it. On v2 controllers
    /// are enabled on the way.
    pub fn create_unified(&mut self, dirs: &mut Dirs) -> Result<()> {
        let Some(d) = self.dirs.get("") else { return Ok(()) };
        if !self.v2 {
            self.made.extend(v1::create("", d, dirs)?);
            return Ok(());
        }
        let mut missing: Vec<PathBuf> = d.ancestors().skip(1).take_while(|a| !a.exists()).map(Path::to_path_buf).collect();
        missing.reverse();
        self.made.extend(missing);
        v2::create(d)
    }

    /// Creates the v1 hierarchies' directories, through `dirs` (held for
    /// `set` and `open_tasks` next). Nothing on v2.
    pub fn create_v1(&mut self, dirs: &mut Dirs) -> Result<()> {
        if self.v2 {
            return Ok(());
        }
        for (k, d) in self.dirs.iter().filter(|(k, _)| !k.is_empty()) {
            self.made.extend(v1::create(k, d, dirs)?);
        }
        Ok(())
    }

    /// Whether there are v1 hierarchies to make (`create_v1`).
    pub fn has_v1(&self) -> bool {
        !self.v2 && self.dirs.keys().any(|k| !k.is_empty())
    }

    /// Applies limits; zero/absent values leave the current setting alone.
    pub fn set(&self, r: &Resources, devices: &[devices::Rule], dirs: &mut Dirs) -> Result<()> {
        if self.v2 {
            v2::set(self, r, devices)
        } else {
            v1::set(self, r, devices, dirs)
        }
    }

    /// The container's cgroup2 directory (pure v2, or a hybrid host's
    /// unified hierarchy) opened for clone3's CLONE_INTO_CGROUP; None
    /// without one (or if it cannot be opened: then the init is moved with
    /// `join_unified`, which reports the error).
    pub fn has_unified(&self) -> bool {
        self.dirs.contains_key("")
    }

    pub fn unified_dir_fd(&self) -> Option<std::os::fd::OwnedFd> {
        std::fs::File::open(self.dirs.get("")?).ok().map(Into::into)
    }

    /// The `tasks` file of each v1 hierarchy, freezer last (a task that
    /// joins a frozen cgroup stops there); for the init to move itself.
    pub fn v1_tasks(&self) -> Vec<String> {
        if self.v2 {
            return Vec::new();
        }
        let mut v: Vec<(&String, &PathBuf)> = self.dirs.iter().filter(|(k, _)| !k.is_empty()).collect();
        v.sort_by_key(|(k, _)| *k == "freezer");
        v.into_iter().map(|(_, d)| d.join("tasks").to_string_lossy().into_owned()).collect()
    }

    /// The files of `v1_tasks`, opened for writing (the init writes "0").
    pub fn open_tasks(tasks: &[String], dirs: &mut Dirs) -> Result<Vec<std::os::fd::OwnedFd>> {
        tasks.iter().map(|t| dirs.open_write(Path::new(t)).map_err(|e| Error::sys(format!("join cgroup: open {t}"), e))).collect()
    }

    /// Moves `pid` into the container's cgroup2 directory, if there is one
    /// (v1 hierarchies: the init moves itself, see `v1_tasks`).
    pub fn join_unified(&self, pid: i32) -> Result<()> {
        match self.dirs.get("") {
            Some(d) => fs::write(&d.join("cgroup.procs"), &pid.to_string(), "join cgroup"),
            None => Ok(()),
        }
    }

    /// Pids in the container's cgroup (in our pid namespace).
    pub fn procs(&self) -> Result<Vec<i32>> {
        let f = self.main_dir()?.join("cgroup.procs");
        let text = crate::linux::smallfile::read_to_end(&f).map_err(|e| Error::sys(format!("read {}", f.display()), e))?;
        let mut v: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Freezes (true) or thaws the whole cgroup and waits until it took effect.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        if self.v2 {
            v2::freeze(self.dirs.get("").expect("v2 dir"), frozen)
        } else {
            let d = self.dir_of("freezer").ok_or_else(|| Error::unsupported("pause: the freezer cgroup controller is not mounted"))?;
            v1::freeze(d, frozen)
        }
    }

    /// Whether the freezer holds the cgroup, read through `dirs` (many
    /// containers in a row: `list`). `init_state` is the state letter of a
    /// task in it (its init): a task frozen by the v1 freezer sleeps in `D`,
    /// so for any other letter the file need not be read (a third of what
    /// `list` reads per container). v2 reports the requested `cgroup.freeze`,
    /// which no task state tells.
    pub fn is_frozen_in(&self, dirs: &mut Dirs, init_state: char) -> bool {
        if !self.v2 && init_state != 'D' {
            return false;
        }
        let (dir, file, thawed) = if self.v2 { (self.dirs.get("").map(PathBuf::as_path), "cgroup.freeze", "0") } else { (self.dir_of("freezer"), "freezer.state", "THAWED") };
        dir.is_some_and(|d| dirs.read_string(&d.join(file)).is_ok_and(|s| s.trim() != thawed))
    }

    /// SIGKILLs every process (v2 `cgroup.kill` where the kernel has it).
    pub fn kill_all(&self) -> Result<()> {
        if let Some(d) = self.dirs.get("").filter(|_| self.v2) {
            if d.join("cgroup.kill").exists() {
                return fs::write(&d.join("cgroup.kill"), "1", "kill cgroup");
            }
        }
        for pid in self.procs()? {
            // SAFETY: kill with a pid and a signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        Ok(())
    }

    /// Removes the directories, killing what is left inside first.
    pub fn destroy(&self) -> Result<()> {
        let mut dirs = Dirs::default();
        let main = self.main_dir().ok();
        // An emptied cgroup goes at once; one still holding processes (or
        // just emptied: the kernel may answer EBUSY a moment longer) is
        // emptied first.
        if let Some(m) = main {
            if dirs.rmdir(m).is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound) {
                if self.procs().is_ok_and(|p| !p.is_empty()) {
                    let _ = self.freeze(false);
                    self.kill_all()?;
                }
                fs::rmdir_retry(&mut dirs, m)?;
            }
        }
        for d in self.dirs.values().rev().filter(|d| Some(d.as_path()) != main) {
            fs::rmdir_retry(&mut dirs, d)?;
        }
        // Intermediate directories we made; another container may still use one.
        for d in self.made.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        Ok(())
    }

    /// Where each hierarchy's dir is, for the container's /sys/fs/cgroup view.
    pub fn view(&self) -> Vec<runc_init::CgroupBind> {
        // Only v1 hierarchies have symlinks to them (cpu -> cpu,cpuacct).
        let links = if self.v2 { Vec::new() } else { symlinks() };
        self.dirs
            .iter()
            .map(|(k, d)| {
                let name = if self.v2 { String::new() } else if k.is_empty() { "unified".into() } else { mount_name(k) };
                let to_us = links.iter().filter(|(_, t)| *t == name).map(|(l, _)| l.clone()).collect();
                runc_init::CgroupBind { host_dir: d.to_string_lossy().into_owned(), links: to_us, name }
            })
            .collect()
    }
}

/// `memory.checkBeforeUpdate`: refuse a limit below what is in use now.
fn check_usage(limit: i64, usage: Option<u64>) -> Result<()> {
    match usage {
        Some(u) if limit >= 0 && (limit as u64) < u => {
            Err(Error::new(ErrorKind::State, format!("linux.resources.memory.limit: {limit} is below the current usage {u} (checkBeforeUpdate)")))
        }
        _ => Ok(()),
    }
}

/// The directory name of a v1 hierarchy under /sys/fs/cgroup ("name=systemd" -> "systemd").
fn mount_name(key: &str) -> String {
    key.strip_prefix("name=").unwrap_or(key).to_string()
}

/// Symlinks in /sys/fs/cgroup to co-mounted hierarchies: ("cpu", "cpu,cpuacct").
fn symlinks() -> Vec<(String, String)> {
    let Ok(dir) = std::fs::read_dir("/sys/fs/cgroup") else { return Vec::new() };
    dir.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .filter_map(|e| Some((e.file_name().to_string_lossy().into_owned(), std::fs::read_link(e.path()).ok()?.to_string_lossy().into_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
28 26 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
29 26 0:27 /ctr /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
";

    #[test]
    fn hierarchies_from_mountinfo() {
        let own = "2:cpu,cpuacct:/ctr/svc\n1:name=systemd:/user.slice\n0::/user.slice\n";
        let (v2, hs) = hierarchies_of(&mountinfo_mounts(MOUNTINFO), own).unwrap();
        assert!(!v2, "cgroup2 is not at /sys/fs/cgroup: hybrid");
        let got: Vec<(&str, &str, &str)> = hs.iter().map(|h| (h.key.as_str(), h.mountpoint.to_str().unwrap(), h.own.as_str())).collect();
        assert_eq!(got, [
            ("", "/sys/fs/cgroup/unified", "user.slice"),
            ("name=systemd", "/sys/fs/cgroup/systemd", "user.slice"),
            // mounted from /ctr: our /ctr/svc is /svc in it
            ("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/svc"),
        ]);
    }

    /// statmount must give what mountinfo gives; a kernel without it (or
    /// without mount options in it) must be one older than 6.11.
    #[test]
    fn statmount_and_mountinfo_agree() {
        let own = read_to_end("/proc/self/cgroup").unwrap();
        let from_mountinfo = hierarchies_of(&mountinfo_mounts(&read_to_end("/proc/self/mountinfo").unwrap()), &own).unwrap();
        match MountCache::default().at_and_below(ROOT) {
            Some(m) => assert_eq!(hierarchies_of(&m, &own).unwrap(), from_mountinfo),
            None => {
                let rel = nix::sys::utsname::uname().unwrap().release().to_string_lossy().into_owned();
                let v: Vec<u32> = rel.split(|c: char| !c.is_ascii_digit()).take(2).map(|n| n.parse().unwrap_or(0)).collect();
                assert!((v[0], v[1]) < (6, 11), "kernel {rel} should have statmount with mount options");
            }
        }
    }
}
