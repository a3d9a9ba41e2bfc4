//! Processes: planning the init, spawning it, driving its set-up, the
//! terminal, and waiting in the foreground.

pub mod affinity;
pub mod foreground;
pub mod initbin;
pub mod plan;
mod rawclone;
pub mod setup;
pub mod signal;
pub mod spawn;
pub mod tty;
pub mod wait;
