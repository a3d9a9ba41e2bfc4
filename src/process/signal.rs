//! Signal names and numbers as runc accepts them: "9", "KILL", "SIGKILL".

use crate::error::{Error, ErrorKind, Result};
pub use nix::sys::signal::Signal;
use std::str::FromStr;

pub fn parse(s: &str) -> Result<Signal> {
    let bad = || Error::new(ErrorKind::InvalidArgument, format!("unknown signal {s:?}"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") { up } else { format!("SIG{up}") };
    Signal::from_str(&name).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse("sigterm").unwrap(), Signal::SIGTERM);
        assert!(parse("NOPE").is_err());
        assert!(parse("0").is_err());
    }
}
