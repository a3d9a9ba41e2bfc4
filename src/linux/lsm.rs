//! AppArmor and SELinux: which labels this build and host can apply. The init
//! writes them to /proc/self/attr (a verified procfs) just before exec.

use crate::error::{Error, Result};

/// (file under /proc/self/attr, content) pairs for the init to write.
pub type ExecLabels = Vec<(String, String)>;

/// Checks the process's LSM fields and returns what the init must write.
pub fn exec_labels(apparmor: Option<&str>, selinux: Option<&str>) -> Result<ExecLabels> {
    let mut out = Vec::new();
    if let Some(p) = apparmor.filter(|p| !p.is_empty()) {
        if !cfg!(feature = "apparmor") {
            return Err(Error::unsupported("process.apparmorProfile: this build has no AppArmor support (build with the `apparmor` feature)"));
        }
        if !apparmor_enabled() {
            return Err(Error::unsupported(format!("process.apparmorProfile: profile {p:?} requested but AppArmor is not enabled on this host")));
        }
        let file = if std::path::Path::new("/proc/self/attr/apparmor/exec").exists() { "apparmor/exec" } else { "exec" };
        out.push((file.to_string(), format!("exec {p}")));
    }
    if let Some(l) = selinux.filter(|l| !l.is_empty()) {
        check_selinux("process.selinuxLabel", l)?;
        out.push(("exec".to_string(), l.to_string()));
        // The container's session keyring gets the process's label too.
        out.push(("keycreate".to_string(), l.to_string()));
    }
    Ok(out)
}

/// Mount data option carrying the SELinux mount label, if one is set.
pub fn mount_label_option(label: Option<&str>) -> Result<Option<String>> {
    match label.filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some(l) => {
            check_selinux("linux.mountLabel", l)?;
            Ok(Some(format!("context=\"{l}\"")))
        }
    }
}

fn check_selinux(field: &str, label: &str) -> Result<()> {
    if !cfg!(feature = "selinux") {
        return Err(Error::unsupported(format!("{field}: this build has no SELinux support (build with the `selinux` feature)")));
    }
    if !selinux_enabled() {
        return Err(Error::unsupported(format!("{field}: label {label:?} requested but SELinux is not enabled on this host")));
    }
    Ok(())
}

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|s| s.trim() == "Y")
}

/// SELinux is usable when selinuxfs is mounted and a policy is loaded.
fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/policy").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_labels_need_nothing() {
        assert!(exec_labels(None, Some("")).unwrap().is_empty());
        assert_eq!(mount_label_option(None).unwrap(), None);
    }

    #[test]
    fn unavailable_lsm_is_a_clear_error() {
        // Either the feature is off or the host has no AppArmor / SELinux policy.
        if !apparmor_enabled() {
            let e = exec_labels(Some("docker-default"), None).unwrap_err();
            assert!(e.msg.starts_with("process.apparmorProfile: "), "{}", e.msg);
        }
        if !selinux_enabled() {
            let e = exec_labels(None, Some("system_u:system_r:container_t:s0")).unwrap_err();
            assert!(e.msg.starts_with("process.selinuxLabel: "), "{}", e.msg);
            assert!(mount_label_option(Some("x")).unwrap_err().msg.starts_with("linux.mountLabel: "));
        }
    }
}
