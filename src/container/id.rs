//! Container ids: runc's rules, so an id can never be a path trick.

use crate::error::{Error, ErrorKind, Result};

pub fn validate(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidArgument, format!("invalid container id {id:?}: use letters, digits and _ . + - only")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_tricks_are_refused() {
        for bad in ["", ".", "..", "../x", "a/b", "a b", "x\0"] {
            assert!(super::validate(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "ctr-echo", "A_b.c+d-1", "27c004e0f7ad7cc62360453b2ed3fe418d0fad15ad73894c0a40ba1feba6abf9"] {
            assert!(super::validate(good).is_ok(), "{good:?}");
        }
    }
}
