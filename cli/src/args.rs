//! The command line: global flags and each subcommand's arguments (clap
//! derive), parsed by building only the subcommand that was invoked.
//!
//! clap's `Command` for all fifteen subcommands costs every invocation its
//! construction, even with `defer`: small natively (~50 µs), but a fifth of
//! a command's time under instruction emulation. So [`parse`] first builds
//! the global flags plus the one subcommand named on the command line; for
//! help, version and every error it falls back to the whole command, so
//! what a user sees is clap's usual output.

use crate::update::UpdateArgs;
use clap::{Args, Command, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "runc", about = "Run OCI containers (librunc)", disable_version_flag = true)]
pub struct Cli {
    #[command(flatten)]
    pub g: Globals,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Args)]
pub struct Globals {
    /// Root directory for container state
    #[arg(long, default_value = runc::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Append log lines (errors, warnings, --debug) to this file
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Also log debug lines
    #[arg(long)]
    pub debug: bool,
    /// Use the systemd cgroup driver (not supported yet: refused)
    #[arg(long = "systemd-cgroup")]
    pub systemd_cgroup: bool,
    /// Ignore cgroup permission errors: true, false or auto
    #[arg(long = "rootless", id = "global_rootless", default_value = "auto", value_parser = ["true", "false", "auto"])]
    pub global_rootless: String,
    /// Print the version
    #[arg(short = 'v', long = "version")]
    pub version: bool,
}

/// Each subcommand's flags are built only when it is the one invoked
/// (clap's `defer`, and [`parse`]'s narrower command).
#[derive(Subcommand)]
#[command(defer = true)]
pub enum Cmd {
    /// Write a new config.json (runc's default) into the bundle
    Spec(SpecArgs),
    /// Create and run a container (in the foreground unless --detach)
    Run(RunArgs),
    /// Create a container and leave it waiting for `start`
    Create(CreateArgs),
    /// Start a created container; with no id, run the bundle in the current
    /// directory in the foreground (the 2015 form, id = directory name)
    Start(StartArgs),
    /// Print a container's state as JSON
    State(IdArgs),
    /// Send a signal (default SIGTERM) to a container's init
    Kill(KillArgs),
    /// Delete a container's state (and kill it with --force)
    Delete(DeleteArgs),
    /// List containers under --root
    List(ListArgs),
    /// List the processes of a container
    Ps(PsArgs),
    /// Run a new process in a running container
    Exec(ExecArgs),
    /// Freeze every process of a container
    Pause(IdArgs),
    /// Thaw a paused container
    Resume(IdArgs),
    /// Change a running container's resource limits
    Update(UpdateArgs),
    /// Print resource usage and OOM events of a container
    Events(EventsArgs),
    /// Print the features this runtime supports (features.json)
    Features,
}

impl Cmd {
    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Spec(_) => "spec",
            Cmd::Run(_) => "run",
            Cmd::Create(_) => "create",
            Cmd::Start(_) => "start",
            Cmd::State(_) => "state",
            Cmd::Kill(_) => "kill",
            Cmd::Delete(_) => "delete",
            Cmd::List(_) => "list",
            Cmd::Ps(_) => "ps",
            Cmd::Exec(_) => "exec",
            Cmd::Pause(_) => "pause",
            Cmd::Resume(_) => "resume",
            Cmd::Update(_) => "update",
            Cmd::Events(_) => "events",
            Cmd::Features => "features",
        }
    }

    /// The command of subcommand `name` alone (None: not one of ours).
    fn command(name: &str) -> Option<Command> {
        let (n, add): (&'static str, fn(Command) -> Command) = match name {
            "spec" => ("spec", SpecArgs::augment_args),
            "run" => ("run", RunArgs::augment_args),
            "create" => ("create", CreateArgs::augment_args),
            "start" => ("start", StartArgs::augment_args),
            "state" => ("state", IdArgs::augment_args),
            "pause" => ("pause", IdArgs::augment_args),
            "resume" => ("resume", IdArgs::augment_args),
            "kill" => ("kill", KillArgs::augment_args),
            "delete" => ("delete", DeleteArgs::augment_args),
            "list" => ("list", ListArgs::augment_args),
            "ps" => ("ps", PsArgs::augment_args),
            "exec" => ("exec", ExecArgs::augment_args),
            "update" => ("update", UpdateArgs::augment_args),
            "events" => ("events", EventsArgs::augment_args),
            "features" => ("features", |c| c),
            _ => return None,
        };
        Some(add(Command::new(n)))
    }
}

/// The command line, parsed (clap's errors and help exit as usual).
pub fn parse() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    narrow(&args).unwrap_or_else(|| Cli::parse_from(&args))
}

/// The parse with only the invoked subcommand built; None when that cannot
/// decide (no or unknown subcommand, help, any error): then the whole
/// command parses again and reports.
fn narrow(args: &[OsString]) -> Option<Cli> {
    let globals = Globals::augment_args(Command::new("runc").disable_version_flag(true));
    let sub = Cmd::command(subcommand_name(args, &globals)?)?;
    let mut m = globals.subcommand(sub).try_get_matches_from(args).ok()?;
    Cli::from_arg_matches_mut(&mut m).ok()
}

/// The first word after the global flags (and the values of those that
/// take one, as `globals` defines them).
fn subcommand_name<'a>(args: &'a [OsString], globals: &Command) -> Option<&'a str> {
    let takes_value = |a: &str| globals.get_arguments().any(|g| g.get_action().takes_values() && g.get_long().is_some_and(|l| a.strip_prefix("--") == Some(l)));
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_str()?;
        if !a.starts_with('-') {
            return Some(a);
        }
        if takes_value(a) {
            it.next()?;
        }
    }
    None
}

#[derive(Args)]
pub struct SpecArgs {
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Make a config for a rootless container
    #[arg(long)]
    pub rootless: bool,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub c: CreateArgs,
    /// Detach from the container's process
    #[arg(short, long)]
    pub detach: bool,
}

#[derive(Args)]
pub struct StartArgs {
    pub id: Option<String>,
}

#[derive(Args)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Args)]
pub struct KillArgs {
    pub id: String,
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
    /// Signal every process of the container
    #[arg(short, long)]
    pub all: bool,
}

#[derive(Args)]
pub struct DeleteArgs {
    pub id: String,
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Only ids
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct PsArgs {
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    pub id: String,
    /// Arguments for ps(1) (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args)]
pub struct EventsArgs {
    pub id: String,
    /// Print one stats event and exit
    #[arg(long)]
    pub stats: bool,
    /// Seconds between stats events (e.g. 5 or 5s)
    #[arg(long, default_value = "5s")]
    pub interval: String,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Bundle directory (default: current directory)
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Write the container init's pid to this file
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket that receives the pty master
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Pass fds 3..3+N to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Use move-mount and chroot instead of pivot_root
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    pub id: String,
}

#[derive(Args)]
pub struct ExecArgs {
    /// process.json to run (instead of ARGS)
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Detach from the process
    #[arg(short, long)]
    pub detach: bool,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Working directory in the container
    #[arg(long)]
    pub cwd: Option<String>,
    /// Extra environment variables (NAME=VALUE)
    #[arg(short, long)]
    pub env: Vec<String>,
    /// UID[:GID]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional group ids
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Add a capability
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Set no_new_privs
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    pub id: String,
    /// Command and arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn argv(s: &str) -> Vec<OsString> {
        s.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn narrow_parse_matches_the_whole_command() {
        for line in [
            "runc --root /r --log-format json run -d --bundle /b --pid-file /p x",
            "runc state x",
            "runc --debug kill x KILL --all",
            "runc exec -t --env A=1 x sh -c true",
            "runc list -q",
            "runc start",
            "runc features",
            "runc ps x -- -o pid",
            "runc --rootless false delete -f x",
        ] {
            let a = argv(line);
            let fast = narrow(&a).unwrap_or_else(|| panic!("narrow parse refused {line}"));
            let full = Cli::try_parse_from(&a).unwrap();
            assert_eq!(format!("{:?}", summary(&fast)), format!("{:?}", summary(&full)), "{line}");
        }
    }

    #[test]
    fn help_errors_and_unknown_words_take_the_whole_command() {
        for line in ["runc", "runc --help", "runc run --help", "runc nosuch x", "runc state", "runc run --bogus x", "runc --root"] {
            assert!(narrow(&argv(line)).is_none(), "{line}");
        }
    }

    fn summary(c: &Cli) -> (String, String, bool, Option<&'static str>) {
        (c.g.root.display().to_string(), c.g.log_format.clone(), c.g.debug, c.cmd.as_ref().map(Cmd::name))
    }

    #[test]
    fn every_subcommand_has_a_narrow_command() {
        let mut whole = Cli::command();
        whole.build();
        for sub in whole.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = sub.get_name();
            let narrow = Cmd::command(name).unwrap_or_else(|| panic!("{name}"));
            let ids = |c: &Command| c.get_arguments().map(|x| x.get_id().to_string()).filter(|i| i != "help").collect::<Vec<_>>();
            let (a, b) = (ids(sub), ids(&narrow));
            assert_eq!(a, b, "{name}");
        }
    }
}
