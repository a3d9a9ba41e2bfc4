//! `runc`: flag parsing and printing over librunc. No behaviour lives here.

#[cfg(target_env = "musl")]
mod alloc;
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: alloc::SpinDlmalloc = alloc::SpinDlmalloc::new();

mod log;
mod print;
mod update;

use clap::{Args, Parser, Subcommand};
use runc::{CreateOptions, ExecFlags, ExecOptions, Runtime};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "runc", about = "Run OCI containers (librunc)", disable_version_flag = true)]
struct Cli {
    /// Root directory for container state
    #[arg(long, default_value = runc::DEFAULT_ROOT)]
    root: PathBuf,
    /// Append log lines (errors, warnings, --debug) to this file
    #[arg(long)]
    log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Also log debug lines
    #[arg(long)]
    debug: bool,
    /// Use the systemd cgroup driver (not supported yet: refused)
    #[arg(long = "systemd-cgroup")]
    systemd_cgroup: bool,
    /// Ignore cgroup permission errors: true, false or auto
    #[arg(long = "rootless", id = "global_rootless", default_value = "auto", value_parser = ["true", "false", "auto"])]
    global_rootless: String,
    /// Print the version
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

/// Each subcommand's flags are built only when it is the one invoked
/// (clap's `defer`): building all of them cost every command ~0.1 ms.
#[derive(Subcommand)]
#[command(defer = true)]
enum Cmd {
    /// Write a new config.json (runc's default) into the bundle
    Spec {
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        /// Make a config for a rootless container
        #[arg(long)]
        rootless: bool,
    },
    /// Create and run a container (in the foreground unless --detach)
    Run {
        #[command(flatten)]
        c: CreateArgs,
        /// Detach from the container's process
        #[arg(short, long)]
        detach: bool,
    },
    /// Create a container and leave it waiting for `start`
    Create {
        #[command(flatten)]
        c: CreateArgs,
    },
    /// Start a created container; with no id, run the bundle in the current
    /// directory in the foreground (the 2015 form, id = directory name)
    Start { id: Option<String> },
    /// Print a container's state as JSON
    State { id: String },
    /// Send a signal (default SIGTERM) to a container's init
    Kill {
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
        /// Signal every process of the container
        #[arg(short, long)]
        all: bool,
    },
    /// Delete a container's state (and kill it with --force)
    Delete {
        id: String,
        #[arg(short, long)]
        force: bool,
    },
    /// List containers under --root
    List {
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Only ids
        #[arg(short, long)]
        quiet: bool,
    },
    /// List the processes of a container
    Ps {
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        id: String,
        /// Arguments for ps(1) (default -ef)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Run a new process in a running container
    Exec(ExecArgs),
    /// Freeze every process of a container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// Change a running container's resource limits
    Update(update::UpdateArgs),
    /// Print resource usage and OOM events of a container
    Events {
        id: String,
        /// Print one stats event and exit
        #[arg(long)]
        stats: bool,
        /// Seconds between stats events (e.g. 5 or 5s)
        #[arg(long, default_value = "5s")]
        interval: String,
    },
    /// Print the features this runtime supports (features.json)
    Features,
}

#[derive(Args)]
struct CreateArgs {
    /// Bundle directory (default: current directory)
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Write the container init's pid to this file
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    /// Unix socket that receives the pty master
    #[arg(long = "console-socket")]
    console_socket: Option<PathBuf>,
    /// Pass fds 3..3+N to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    preserve_fds: u32,
    /// Use move-mount and chroot instead of pivot_root
    #[arg(long = "no-pivot")]
    no_pivot: bool,
    /// Do not create a new session keyring for the container
    #[arg(long = "no-new-keyring")]
    no_new_keyring: bool,
    id: String,
}

#[derive(Args)]
struct ExecArgs {
    /// process.json to run (instead of ARGS)
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Detach from the process
    #[arg(short, long)]
    detach: bool,
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    #[arg(long = "console-socket")]
    console_socket: Option<PathBuf>,
    /// Working directory in the container
    #[arg(long)]
    cwd: Option<String>,
    /// Extra environment variables (NAME=VALUE)
    #[arg(short, long)]
    env: Vec<String>,
    /// UID[:GID]
    #[arg(short, long)]
    user: Option<String>,
    /// Additional group ids
    #[arg(short = 'g', long = "additional-gids")]
    additional_gids: Vec<u32>,
    /// Add a capability
    #[arg(short, long)]
    cap: Vec<String>,
    /// Set no_new_privs
    #[arg(long = "no-new-privs")]
    no_new_privs: bool,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    preserve_fds: u32,
    id: String,
    /// Command and arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

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
    let cli = Cli::parse();
    let logger = log::Logger::new(cli.log.clone(), cli.log_format == "json", cli.debug);
    if cli.version {
        println!("runc version {}\ncommit: librunc-{}\nspec: {}", runc::VERSION, runc::VERSION, runc::SPEC_VERSION);
        return ExitCode::SUCCESS;
    }
    let Some(cmd) = cli.cmd else {
        eprintln!("runc: no command given; see runc --help");
        return ExitCode::from(1);
    };
    let name = cmd_name(&cmd);
    logger.debug(&format!("runc {name} (librunc {})", runc::VERSION));
    let warn_logger = logger.clone();
    runc::log::set_warning_sink(move |m| warn_logger.warning(m));
    let rt = Runtime::new(&cli.root);
    let r = check_globals(&cli.systemd_cgroup, &cli.global_rootless).and_then(|_| dispatch(&rt, cmd));
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

fn cmd_name(c: &Cmd) -> &'static str {
    match c {
        Cmd::Spec { .. } => "spec",
        Cmd::Run { .. } => "run",
        Cmd::Create { .. } => "create",
        Cmd::Start { .. } => "start",
        Cmd::State { .. } => "state",
        Cmd::Kill { .. } => "kill",
        Cmd::Delete { .. } => "delete",
        Cmd::List { .. } => "list",
        Cmd::Ps { .. } => "ps",
        Cmd::Exec(_) => "exec",
        Cmd::Pause { .. } => "pause",
        Cmd::Resume { .. } => "resume",
        Cmd::Update(_) => "update",
        Cmd::Events { .. } => "events",
        Cmd::Features => "features",
    }
}

/// Runs a command; Ok holds the exit code.
fn dispatch(rt: &Runtime, cmd: Cmd) -> runc::Result<u8> {
    match cmd {
        Cmd::Spec { bundle, rootless } => runc::spec::template::write(&bundle, rootless).map(|_| 0),
        Cmd::Run { c, detach } => foreground(rt, &c.id, &c.options(), detach),
        Cmd::Create { c } => rt.create(&c.id, &c.options()).map(|_| 0),
        Cmd::Start { id: Some(id) } => rt.start(&id).map(|_| 0),
        Cmd::Start { id: None } => {
            let cwd = std::env::current_dir().map_err(|e| runc::Error::sys("current directory", e))?;
            let id = cwd.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            foreground(rt, &id, &CreateOptions { bundle: cwd, listen_fds: listen_fds(), ..Default::default() }, false)
        }
        Cmd::State { id } => {
            print::json_pretty(&rt.state(&id)?.to_oci_json());
            Ok(0)
        }
        Cmd::Kill { id, signal, all } => rt.kill(&id, runc::process::signal::parse(&signal)?, all).map(|_| 0),
        Cmd::Delete { id, force } => rt.delete(&id, force).map(|_| 0),
        Cmd::List { format, quiet } => {
            let states = rt.list()?;
            print::list(&states, &format, quiet)?;
            // The process ends next: freeing each state one by one is wasted work.
            std::mem::forget(states);
            Ok(0)
        }
        Cmd::Ps { format, id, ps_args } => print::ps(&rt.pids(&id)?, &format, &ps_args).map(|_| 0),
        Cmd::Exec(a) => exec(rt, a),
        Cmd::Pause { id } => rt.pause(&id).map(|_| 0),
        Cmd::Resume { id } => rt.resume(&id).map(|_| 0),
        Cmd::Update(a) => rt.update(&a.id, &a.resources()?).map(|_| 0),
        Cmd::Events { id, stats, interval } => print::events(rt, &id, stats, &interval).map(|_| 0),
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
        Some(path) => runc::spec::load_process(path)?,
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
            flags.apply(&rt.process_of(&a.id)?)
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
