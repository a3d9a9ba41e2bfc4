//! The host's cgroup mounts as one `Runtime` last read them, reused while
//! the mount table has not changed: a daemon creating many containers asks
//! the kernel a statx and a poll per create instead of a statmount per
//! hierarchy (ten on a v1 host).
//!
//! Valid while (a) the mount at /sys/fs/cgroup has the same unique id (a
//! new mount there, or another mount namespace, has another) and (b)
//! /proc/self/mounts, opened before the mounts were read, does not poll
//! POLLPRI (the kernel raises it on any mount, unmount or remount in the
//! namespace).
//! Only where statmount serves (Linux 6.8+, options since 6.11); older
//! kernels read mountinfo every time, as a one-off `runc` does.

use crate::linux::mounts::{self, Mount};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

/// One per `Runtime`; shared by its threads.
#[derive(Debug, Default)]
pub struct MountCache(Mutex<Kept>);

#[derive(Debug, Default)]
struct Kept {
    /// Unique id of the /sys/fs/cgroup mount the list was read under.
    top: u64,
    mounts: Option<Vec<Mount>>,
    /// Opened at the second read: a one-off command never pays for it.
    watch: Option<OwnedFd>,
    /// How many times the mounts were read (for the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    reads: u32,
}

impl MountCache {
    /// The mounts at and below `root`, or None where statmount does not serve.
    pub fn at_and_below(&self, root: &str) -> Option<Vec<Mount>> {
        let top = mounts::unique_id(root)?;
        let mut k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(m), Some(w)) = (&k.mounts, &k.watch) {
            if k.top == top && !changed(w) {
                return Some(m.clone());
            }
        }
        // Watched from the second read on; watched anew after a move to
        // another mount namespace (whose /sys/fs/cgroup has another id).
        if k.mounts.is_some() && (k.watch.is_none() || k.top != top) {
            k.watch = open_watch();
        }
        let fresh = mounts::at_and_below(top);
        k.reads += 1;
        k.top = top;
        k.mounts.clone_from(&fresh);
        fresh
    }
}

fn open_watch() -> Option<OwnedFd> {
    std::fs::File::open("/proc/self/mounts").ok().map(OwnedFd::from)
}

/// Whether the namespace's mounts changed since the watch was opened or
/// last polled (a poll consumes the event).
fn changed(watch: &OwnedFd) -> bool {
    let mut p = libc::pollfd { fd: watch.as_raw_fd(), events: libc::POLLPRI, revents: 0 };
    // SAFETY: one valid pollfd; a zero timeout never blocks.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    r != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::mount::{mount, umount2, MntFlags, MsFlags};

    /// Unmounts what the test mounted, also when an assertion fails.
    struct Mounted(Vec<std::path::PathBuf>);
    impl Drop for Mounted {
        fn drop(&mut self) {
            for p in self.0.iter().rev() {
                let _ = umount2(p, MntFlags::MNT_DETACH);
            }
            if let Some(p) = self.0.first() {
                let _ = std::fs::remove_dir_all(p);
            }
        }
    }

    fn tmpfs(at: &std::path::Path, m: &mut Mounted) {
        std::fs::create_dir_all(at).unwrap();
        mount(Some("tmpfs"), at, Some("tmpfs"), MsFlags::empty(), None::<&str>).unwrap();
        m.0.push(at.to_path_buf());
    }

    #[test]
    fn kept_until_a_mount_changes() {
        let root = std::env::temp_dir().join(format!("librunc-mountcache-{}", std::process::id()));
        let mut m = Mounted(Vec::new());
        tmpfs(&root, &mut m);
        let r = root.to_str().unwrap();
        let c = MountCache::default();
        let Some(first) = c.at_and_below(r) else {
            eprintln!("no statmount on this kernel: nothing is cached");
            return;
        };
        assert_eq!(first.len(), 1);
        assert_eq!(c.at_and_below(r).unwrap(), first, "second read, now watched");
        assert_eq!(c.at_and_below(r).unwrap(), first);
        assert_eq!(c.at_and_below(r).unwrap(), first);
        let reads = |c: &MountCache| c.0.lock().unwrap().reads;
        assert_eq!(reads(&c), 2, "the third and fourth came from the cache");
        tmpfs(&root.join("sub"), &mut m);
        let two = c.at_and_below(r).unwrap();
        assert_eq!(two.len(), 2, "a new mount below is seen: {two:?}");
        assert_eq!(reads(&c), 3);
        umount2(&root.join("sub"), MntFlags::MNT_DETACH).unwrap();
        m.0.pop();
        assert_eq!(c.at_and_below(r).unwrap(), first, "and its unmount");
        // A mount on top of the root: another unique id.
        mount(Some("tmpfs"), &root, Some("tmpfs"), MsFlags::empty(), None::<&str>).unwrap();
        m.0.push(root.clone());
        let top = c.at_and_below(r).unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(reads(&c), 5);
    }
}
