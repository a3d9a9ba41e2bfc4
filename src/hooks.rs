//! Hooks the runtime runs itself (prestart, createRuntime, poststart,
//! poststop): in the runtime's namespaces, the state JSON on stdin, exactly
//! the hook's env, killed after its timeout. createContainer and
//! startContainer run inside the container, from the init (init/src/hooks.rs).

use crate::error::{Error, ErrorKind, Result};
use crate::spec::types::Hook;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `hooks` in order; the first failure is the error.
pub fn run_all(hooks: &[Hook], state: &str, kind: &str) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state).map_err(|e| Error::new(ErrorKind::Init, format!("error running {kind} hook #{i}: {e}")))?;
    }
    Ok(())
}

/// Runs every hook and logs failures as warnings (poststart, poststop).
/// The state JSON is only made when there is a hook to read it.
pub fn run_all_warn(hooks: &[Hook], state: impl FnOnce() -> String, kind: &str) {
    if hooks.is_empty() {
        return;
    }
    let state = state();
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run_one(h, &state) {
            crate::log::warn(&format!("error running {kind} hook #{i}: {e}"));
        }
    }
}

fn run_one(h: &Hook, state: &str) -> std::result::Result<(), String> {
    let mut cmd = Command::new(&h.path);
    if let Some((first, rest)) = h.args.split_first() {
        cmd.arg0(first).args(rest);
    }
    cmd.env_clear()
        .envs(h.env.iter().filter_map(|e| e.split_once('=')))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("{}: {}", h.path, crate::error::io_text(&e)))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine.
        let _ = stdin.write_all(state.as_bytes());
    }
    // Collect output on a thread so a chatty hook cannot fill its pipes while we wait.
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let got = match h.timeout {
        Some(t) => rx.recv_timeout(Duration::from_secs(t.max(0) as u64)).ok(),
        None => rx.recv().ok(),
    };
    let out = match got {
        Some(r) => r.map_err(|e| e.to_string())?,
        None => {
            // SAFETY: the child is not reaped until the thread's wait returns, so the pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = rx.recv();
            return Err(format!("timeout after {} seconds", h.timeout.unwrap_or(0)));
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let how = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (_, Some(s)) => format!("signal: {s}"),
        _ => "failed".into(),
    };
    Err(format!(
        "{how}, stdout: {}, stderr: {}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}
