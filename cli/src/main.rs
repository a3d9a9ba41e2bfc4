//! `runc`: flag parsing and printing over librunc. No behaviour lives here.

mod log;

use clap::{Parser, Subcommand};
use runc::{CreateOptions, Runtime};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "runc", about = "Run OCI containers (librunc)", disable_version_flag = true)]
struct Cli {
    /// Root directory for container state
    #[arg(long, global = true, default_value = runc::DEFAULT_ROOT)]
    root: PathBuf,
    /// Append errors to this file (also --log=FILE)
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Enable debug output in the log
    #[arg(long, global = true)]
    debug: bool,
    /// Print the version
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
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
    },
    /// Delete a container's state (and kill it with --force)
    Delete {
        id: String,
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(clap::Args)]
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
    id: String,
}

impl CreateArgs {
    fn options(&self) -> CreateOptions {
        CreateOptions {
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            console_socket: self.console_socket.clone(),
            preserve_fds: self.preserve_fds,
            no_pivot: self.no_pivot,
            ..Default::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logger = log::Logger::new(cli.log.clone(), cli.log_format == "json");
    if cli.version {
        println!("runc version {}\ncommit: librunc-{}\nspec: {}", runc::VERSION, runc::VERSION, runc::SPEC_VERSION);
        return ExitCode::SUCCESS;
    }
    let Some(cmd) = cli.cmd else {
        eprintln!("runc: no command given; see runc --help");
        return ExitCode::from(1);
    };
    let rt = Runtime::new(&cli.root);
    let name = cmd_name(&cmd);
    match dispatch(&rt, cmd) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            logger.error(&format!("runc {name} failed: {e}"));
            ExitCode::from(1)
        }
    }
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
    }
}

/// Runs a command; Ok holds the exit code.
fn dispatch(rt: &Runtime, cmd: Cmd) -> runc::Result<u8> {
    match cmd {
        Cmd::Spec { bundle, rootless } => {
            runc::spec::template::write(&bundle, rootless)?;
            Ok(0)
        }
        Cmd::Run { c, detach } => foreground(rt, &c.id, &c.options(), detach),
        Cmd::Create { c } => rt.create(&c.id, &c.options()).map(|_| 0),
        Cmd::Start { id: Some(id) } => rt.start(&id).map(|_| 0),
        Cmd::Start { id: None } => {
            let cwd = std::env::current_dir().map_err(|e| runc::Error::sys("current directory", e))?;
            let id = cwd.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            foreground(rt, &id, &CreateOptions { bundle: cwd, ..Default::default() }, false)
        }
        Cmd::State { id } => {
            let st = rt.state(&id)?;
            println!("{}", serde_json::to_string_pretty(&st.to_oci_json()).expect("json"));
            Ok(0)
        }
        Cmd::Kill { id, signal } => rt.kill(&id, runc::process::signal::parse(&signal)?).map(|_| 0),
        Cmd::Delete { id, force } => rt.delete(&id, force).map(|_| 0),
    }
}

fn foreground(rt: &Runtime, id: &str, opts: &CreateOptions, detach: bool) -> runc::Result<u8> {
    let code = rt.run(id, opts, detach)?;
    Ok(code.unwrap_or(0).clamp(0, 255) as u8)
}
