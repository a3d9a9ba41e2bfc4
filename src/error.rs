//! One error type for the whole library: a kind (mapped to C error codes)
//! and a one-line message that already names the file, field or syscall.

use std::fmt;

/// What went wrong, coarsely; the C API returns these as negative codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad argument from the caller (id, flag, option).
    InvalidArgument,
    /// config.json or runtime.json is unreadable, malformed or invalid.
    Config,
    /// No container with that id.
    NotFound,
    /// A container with that id already exists.
    Exists,
    /// The container is in the wrong state for this operation.
    State,
    /// A field or feature this build does not support.
    Unsupported,
    /// A system call or I/O operation failed.
    System,
    /// The container's init reported a set-up or exec failure.
    Init,
}

/// A library error: kind plus message.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub msg: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error { kind, msg: msg.into() }
    }
    pub fn config(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, msg)
    }
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, msg)
    }
    /// A failed system call or I/O operation on `what`.
    pub fn sys(what: impl fmt::Display, e: impl Into<std::io::Error>) -> Self {
        Self::new(ErrorKind::System, format!("{what}: {}", io_text(&e.into())))
    }
}

/// An io::Error as Go spells errno texts ("no such file or directory").
pub fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let s = nix::errno::Errno::from_raw(n).desc().to_string();
            let mut c = s.chars();
            c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or(s)
        }
        None => e.to_string(),
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::sys("system call", std::io::Error::from(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

/// Adds "what: " in front of a failing result's message.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<std::io::Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::sys(what(), e))
    }
}
