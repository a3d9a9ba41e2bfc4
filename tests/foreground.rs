//! The foreground `run`/`start`: terminal relay through a pty, signal
//! forwarding, and the 2015 seed bundle.

mod common;
use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pty pair: (master as File, slave fd).
fn openpty() -> (std::fs::File, OwnedFd) {
    let (mut m, mut s) = (0, 0);
    // SAFETY: openpty writes two fds; no name/termios/winsize wanted.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(r, 0);
    // SAFETY: fresh fds we own.
    unsafe { (std::fs::File::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
}

/// Runs `cmd` on a terminal and types each line of `input` once a new
/// `prompt` shows; answers busybox's cursor-position queries (ESC[6n) the
/// way a terminal does, or the shell would swallow our typing as the answer.
/// Returns (everything printed, exit code).
fn on_terminal(mut cmd: Command, prompt: &str, input: &[&str]) -> (String, Option<i32>) {
    use std::sync::{Arc, Mutex};
    let (master, slave) = openpty();
    let s = slave.try_clone().unwrap();
    let s2 = slave.try_clone().unwrap();
    cmd.stdin(Stdio::from(slave)).stdout(Stdio::from(s)).stderr(Stdio::from(s2));
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // close our copies of the slave
    let out = Arc::new(Mutex::new(Vec::new()));
    let writer = Arc::new(Mutex::new(master.try_clone().unwrap()));
    let reader = {
        let (out, writer) = (out.clone(), writer.clone());
        let mut m = master;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = m.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                for _ in 0..chunk.windows(4).filter(|w| w == b"\x1b[6n").count() {
                    let _ = writer.lock().unwrap().write_all(b"\x1b[1;1R");
                }
                out.lock().unwrap().extend_from_slice(chunk);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let prompts = |o: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&o.lock().unwrap()).matches(prompt).count();
    for (i, line) in input.iter().enumerate() {
        while prompts(&out) <= i && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut w = writer.lock().unwrap();
        w.write_all(line.as_bytes()).unwrap();
        w.write_all(b"\r").unwrap();
    }
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(writer);
    // The reader ends with EIO once the last slave fd is gone.
    let _ = reader.join();
    let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    (text, status.code())
}

#[test]
fn terminal_session_in_the_foreground() {
    let mut b = Bundle::new("");
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["args"] = json!(["sh"]);
    let id = b.track(&unique_id("tty"));
    let cmd = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    let (out, code) = on_terminal(cmd, "# ", &["echo $((6*7)); tty; ls -l /dev/console | cut -c1", "exit 7"]);
    assert!(out.contains("42"), "{out}");
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert_eq!(code, Some(7), "{out}");
}

#[test]
fn seed_bundle_runs_with_runc_start() {
    // The 2015 README: config.json + runtime.json (spec 0.1.0), `runc start`
    // with no id in the bundle directory, an interactive sh as PID 1.
    let b = Bundle::new("");
    for f in ["config.json", "runtime.json"] {
        std::fs::copy(format!("{}/examples/seed/{f}", env!("CARGO_MANIFEST_DIR")), b.dir.join(f)).unwrap();
    }
    let id = b.track("bundle"); // the id is the directory's name
    let _ = id;
    let mut cmd = Command::new(runc_bin());
    cmd.arg("--root").arg(&b.root).arg("start").current_dir(&b.dir);
    let (out, code) = on_terminal(cmd, "# ", &["ps", "hostname", "exit"]);
    let ps_line = out.lines().find(|l| l.trim_start().starts_with("1 ")).unwrap_or_default();
    assert!(ps_line.trim_end().ends_with("sh"), "PID 1 is not sh: {out}");
    assert!(out.contains("shell"), "hostname from the seed config: {out}");
    assert_eq!(code, Some(0), "{out}");
    assert!(b.state_entries().is_empty(), "state left behind: {:?}", b.state_entries());
}

#[test]
fn signals_are_forwarded_to_the_container() {
    let mut b = Bundle::new("trap 'exit 42' TERM; touch /ready/ok; while :; do sleep 0.1; done");
    let ready = b.ready_dir();
    let id = b.track(&unique_id("sig"));
    let mut child = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).spawn().unwrap();
    assert!(wait_for(&ready.join("ok")));
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(42));
}

#[test]
fn killed_container_gives_128_plus_signal() {
    let mut b = Bundle::new("touch /ready/ok; exec sleep 60");
    let ready = b.ready_dir();
    let id = b.track(&unique_id("kill"));
    let mut child = b.runc(&["run", "--bundle", b.dir.to_str().unwrap(), &id]).stdin(Stdio::null()).spawn().unwrap();
    assert!(wait_for(&ready.join("ok")));
    let out = b.runc(&["kill", &id, "KILL"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(child.wait().unwrap().code(), Some(137));
}

/// The 2015 README's systemd unit, played by a small supervisor doing what
/// systemd does: `runc start` in WorkingDirectory (no terminal, stdio to the
/// journal's pipes), SIGTERM on stop, Restart=on-failure from the exit code.
#[test]
fn systemd_unit_semantics() {
    let mut b = Bundle::new("");
    let ready = b.ready_dir();
    // First run fails (exit 3), the restart then runs until SIGTERM.
    b.config["process"]["args"] = json!(["sh", "-c",
        "echo started; if [ ! -e /ready/failed-once ]; then touch /ready/failed-once; echo oops >&2; exit 3; fi; \
         trap 'echo stopping; exit 0' TERM; touch /ready/up; while :; do sleep 0.1; done"]);
    b.write_config();
    let start = || {
        Command::new(runc_bin())
            .arg("--root").arg(&b.root).arg("start")
            .current_dir(&b.dir)
            .stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped())
            .spawn().unwrap()
    };
    // Restart=on-failure: a non-zero exit means start again.
    let first = start().wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&first.stdout), "started\n");
    assert_eq!(String::from_utf8_lossy(&first.stderr), "oops\n");
    let second = start();
    assert!(wait_for(&ready.join("up")));
    // systemctl stop: SIGTERM to the main process, which forwards it.
    unsafe { libc::kill(second.id() as i32, libc::SIGTERM) };
    let out = second.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a clean stop is not a failure");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\nstopping\n");
    assert!(b.state_entries().is_empty(), "state left: {:?}", b.state_entries());
}
