//! `runc`: flag parsing and printing over librunc. No behaviour lives here.

#[cfg(target_env = "musl")]
mod alloc;
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: alloc::SpinDlmalloc = alloc::SpinDlmalloc::new();

mod args;
mod log;
mod print;
mod update;

use args::{Cmd, CreateArgs, ExecArgs};
use runc::{CreateOptions, ExecFlags, ExecOptions, ExecProcess, Runtime};
use std::process::ExitCode;

impl CreateArgs {
    fn options(&self) -> CreateOptions {
        CreateOptions {
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            console_socket: self.console_socket.clone(),
            preserve_fds: self.preserve_fds,
            listen_fds: listen_fds(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            ..Default::default()
        }
    }
}

/// systemd socket activation: LISTEN_FDS fds for us (LISTEN_PID is our pid).
fn listen_fds() -> u32 {
    let ours = std::env::var("LISTEN_PID").ok().and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id());
    if !ours {
        return 0;
    }
    std::env::var("LISTEN_FDS").ok().and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn main() -> ExitCode {
    let cli = args::parse();
    let g = cli.g;
    let logger = log::Logger::new(g.log.clone(), g.log_format == "json", g.debug);
    if g.version {
        println!("runc version {}\ncommit: librunc-{}\nspec: {}", runc::VERSION, runc::VERSION, runc::SPEC_VERSION);
        return ExitCode::SUCCESS;
    }
    let Some(cmd) = cli.cmd else {
        eprintln!("runc: no command given; see runc --help");
        return ExitCode::from(1);
    };
    let name = cmd.name();
    logger.debug(&format!("runc {name} (librunc {})", runc::VERSION));
    let warn_logger = logger.clone();
    runc::log::set_warning_sink(move |m| warn_logger.warning(m));
    let rt = Runtime::new(&g.root);
    let r = check_globals(&g.systemd_cgroup, &g.global_rootless).and_then(|_| dispatch(&rt, cmd));
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let (prefix, code) = if name == "exec" { ("exec failed", 255) } else { ("", 1) };
            let msg = if prefix.is_empty() { format!("runc {name} failed: {e}") } else { format!("{prefix}: {e}") };
            logger.error(&msg);
            ExitCode::from(code)
        }
    }
}

fn check_globals(systemd: &bool, rootless: &str) -> runc::Result<()> {
    if *systemd {
        return Err(runc::Error::unsupported("--systemd-cgroup: the systemd cgroup driver is not supported yet"));
    }
    if rootless == "true" {
        return Err(runc::Error::unsupported("--rootless=true: rootless mode is not supported yet"));
    }
    Ok(())
}

/// Runs a command; Ok holds the exit code.
fn dispatch(rt: &Runtime, cmd: Cmd) -> runc::Result<u8> {
    match cmd {
        Cmd::Spec(a) => runc::spec::template::write(&a.bundle, a.rootless).map(|_| 0),
        Cmd::Run(a) => foreground(rt, &a.c.id, &a.c.options(), a.detach),
        Cmd::Create(c) => rt.create(&c.id, &c.options()).map(|_| 0),
        Cmd::Start(args::StartArgs { id: Some(id) }) => rt.start(&id).map(|_| 0),
        Cmd::Start(args::StartArgs { id: None }) => {
            let cwd = std::env::current_dir().map_err(|e| runc::Error::sys("current directory", e))?;
            let id = cwd.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            foreground(rt, &id, &CreateOptions { bundle: cwd, listen_fds: listen_fds(), ..Default::default() }, false)
        }
        Cmd::State(a) => {
            print::json_pretty(&rt.state(&a.id)?.to_oci_json());
            Ok(0)
        }
        Cmd::Kill(a) => rt.kill(&a.id, runc::process::signal::parse(&a.signal)?, a.all).map(|_| 0),
        Cmd::Delete(a) => rt.delete(&a.id, a.force).map(|_| 0),
        Cmd::List(a) => {
            let states = rt.list()?;
            print::list(&states, &a.format, a.quiet)?;
            // The process ends next: freeing each state one by one is wasted work.
            std::mem::forget(states);
            Ok(0)
        }
        Cmd::Ps(a) => print::ps(&rt.pids(&a.id)?, &a.format, &a.ps_args).map(|_| 0),
        Cmd::Exec(a) => exec(rt, a),
        Cmd::Pause(a) => rt.pause(&a.id).map(|_| 0),
        Cmd::Resume(a) => rt.resume(&a.id).map(|_| 0),
        Cmd::Update(a) => rt.update(&a.id, &a.resources()?).map(|_| 0),
        Cmd::Events(a) => print::events(rt, &a.id, a.stats, &a.interval).map(|_| 0),
        Cmd::Features => {
            print::json_pretty(&runc::features::features());
            Ok(0)
        }
    }
}

fn foreground(rt: &Runtime, id: &str, opts: &CreateOptions, detach: bool) -> runc::Result<u8> {
    let code = rt.run(id, opts, detach)?;
    Ok(code.unwrap_or(0).clamp(0, 255) as u8)
}

fn exec(rt: &Runtime, a: ExecArgs) -> runc::Result<u8> {
    let process = match &a.process {
        Some(path) => ExecProcess::Given(runc::spec::load_process(path)?),
        None => {
            if a.args.is_empty() {
                return Err(runc::Error::new(runc::ErrorKind::InvalidArgument, "exec: no command given (ARGS or --process)"));
            }
            let user = a.user.as_deref().map(parse_user).transpose()?;
            let flags = ExecFlags {
                args: a.args.clone(),
                env: a.env.clone(),
                cwd: a.cwd.clone(),
                user,
                additional_gids: a.additional_gids.clone(),
                caps: a.cap.clone(),
                no_new_privs: a.no_new_privs,
                tty: a.tty,
            };
            ExecProcess::Flags(flags)
        }
    };
    let opts = ExecOptions {
        process,
        pid_file: a.pid_file.clone(),
        console_socket: a.console_socket.clone(),
        preserve_fds: a.preserve_fds,
        stdio: None,
        keep_pty: !a.detach,
    };
    let code = rt.exec_foreground(&a.id, &opts, a.detach)?;
    Ok(code.unwrap_or(0).clamp(0, 255) as u8)
}

fn parse_user(s: &str) -> runc::Result<(u32, Option<u32>)> {
    let bad = || runc::Error::new(runc::ErrorKind::InvalidArgument, format!("--user {s:?}: want UID[:GID] as numbers"));
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    Ok((u.parse().map_err(|_| bad())?, g.map(|g| g.parse().map_err(|_| bad())).transpose()?))
}
