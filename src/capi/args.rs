//! Checking and converting C arguments: strings, out-pointers, option structs.

use super::{RuncCreateOpts, RuncError, RuncExecOpts, RUNC_CREATE_NO_NEW_KEYRING, RUNC_CREATE_NO_PIVOT, RUNC_STDIO_FDS};
use crate::spec::types::Process;
use crate::{CreateOptions, ExecOptions, ExecProcess};
use std::ffi::{c_char, c_int, c_uint, CStr};
use std::path::PathBuf;

/// An error code and its message.
pub type Fail = (RuncError, String);

/// # Safety
/// `p` must be NULL or a valid NUL-terminated string.
pub unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return Err((RuncError::InvalidArgument, format!("{name} is NULL")));
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| (RuncError::InvalidArgument, format!("{name} is not valid UTF-8")))
}

/// # Safety
/// `p` must be NULL or a valid NUL-terminated string.
pub unsafe fn opt_path(p: *const c_char, name: &str) -> Result<Option<PathBuf>, Fail> {
    // SAFETY: forwarded contract.
    Ok(if p.is_null() { None } else { Some(PathBuf::from(unsafe { str_arg(p, name)? })) })
}

pub fn out_ptr<T>(p: *mut T) -> Result<(), Fail> {
    if p.is_null() {
        return Err((RuncError::InvalidArgument, "output pointer is NULL".into()));
    }
    Ok(())
}

/// Checks a pointer output and clears it first, so that a caller that frees
/// it after a failure frees NULL instead of a stale value.
pub fn cleared_out<T>(p: *mut *mut T) -> Result<(), Fail> {
    out_ptr(p)?;
    // SAFETY: non-null (checked), and valid per every entry point's contract.
    unsafe { *p = std::ptr::null_mut() };
    Ok(())
}

/// Option structs: read `size` bytes at most, the rest stays zero, so old
/// callers work with a newer library and new callers with an older one
/// (a larger size than we know is accepted; unknown fields are ignored only
/// when zero).
pub trait SizedOpts: Copy {
    fn zeroed() -> Self;
}

impl SizedOpts for RuncCreateOpts {
    fn zeroed() -> Self {
        // SAFETY: all fields are integers or raw pointers; all-zero is valid.
        unsafe { std::mem::zeroed() }
    }
}

impl SizedOpts for RuncExecOpts {
    fn zeroed() -> Self {
        // SAFETY: as above.
        unsafe { std::mem::zeroed() }
    }
}

/// # Safety
/// `p` must point to at least `(*p).size` readable bytes (first field `size`).
pub unsafe fn read_opts<T: SizedOpts>(p: *const T, name: &str) -> Result<T, Fail> {
    if p.is_null() {
        return Err((RuncError::InvalidArgument, format!("{name} is NULL")));
    }
    // SAFETY: the first field is a size_t; reading it is allowed by the contract.
    let size = unsafe { *(p as *const usize) };
    let ours = std::mem::size_of::<T>();
    if size < std::mem::size_of::<usize>() {
        return Err((RuncError::InvalidArgument, format!("{name}->size is {size}; set it to sizeof the struct")));
    }
    if size > ours {
        // SAFETY: bytes past our struct are within the caller's `size`.
        let extra = unsafe { std::slice::from_raw_parts((p as *const u8).add(ours), size - ours) };
        if extra.iter().any(|b| *b != 0) {
            return Err((RuncError::Unsupported, format!("{name} sets fields this version of librunc does not know")));
        }
    }
    let mut out = T::zeroed();
    // SAFETY: copy min(size, ours) bytes from the caller's struct into ours.
    unsafe { std::ptr::copy_nonoverlapping(p as *const u8, &mut out as *mut T as *mut u8, size.min(ours)) };
    Ok(out)
}

fn stdio(flags: c_uint, fds: [c_int; 3]) -> Result<Option<[c_int; 3]>, Fail> {
    if flags & RUNC_STDIO_FDS == 0 {
        return Ok(None);
    }
    if fds.iter().any(|fd| *fd < 0) {
        return Err((RuncError::InvalidArgument, "stdio fds must be >= 0 with RUNC_STDIO_FDS".into()));
    }
    Ok(Some(fds))
}

/// # Safety
/// String fields of `o` are NULL or valid strings.
pub unsafe fn create_options(o: &RuncCreateOpts) -> Result<CreateOptions, Fail> {
    let known = RUNC_CREATE_NO_PIVOT | RUNC_CREATE_NO_NEW_KEYRING | RUNC_STDIO_FDS;
    if o.flags & !known != 0 {
        return Err((RuncError::InvalidArgument, format!("unknown flags {:#x}", o.flags & !known)));
    }
    // SAFETY: forwarded contract for each string field.
    let (bundle, config, pid_file, console) = unsafe {
        (opt_path(o.bundle, "bundle")?, opt_path(o.config_json, "config_json")?, opt_path(o.pid_file, "pid_file")?, opt_path(o.console_socket, "console_socket")?)
    };
    let bundle = match (bundle, &config) {
        (Some(b), _) => b,
        (None, Some(_)) => PathBuf::from("/"),
        (None, None) => return Err((RuncError::InvalidArgument, "set bundle or config_json".into())),
    };
    Ok(CreateOptions {
        bundle,
        config_json: config.map(|c| c.to_string_lossy().into_owned()),
        pid_file,
        console_socket: console,
        preserve_fds: o.preserve_fds,
        no_pivot: o.flags & RUNC_CREATE_NO_PIVOT != 0,
        no_new_keyring: o.flags & RUNC_CREATE_NO_NEW_KEYRING != 0,
        stdio: stdio(o.flags, [o.stdin_fd, o.stdout_fd, o.stderr_fd])?,
        ..Default::default()
    })
}

/// # Safety
/// String fields of `o` are NULL or valid strings.
pub unsafe fn exec_options(process: Process, o: Option<&RuncExecOpts>) -> Result<ExecOptions, Fail> {
    let process = ExecProcess::Given(process);
    let Some(o) = o else { return Ok(ExecOptions { process, ..Default::default() }) };
    if o.flags & !RUNC_STDIO_FDS != 0 {
        return Err((RuncError::InvalidArgument, format!("unknown flags {:#x}", o.flags & !RUNC_STDIO_FDS)));
    }
    // SAFETY: forwarded contract.
    let (pid_file, console) = unsafe { (opt_path(o.pid_file, "pid_file")?, opt_path(o.console_socket, "console_socket")?) };
    Ok(ExecOptions {
        process,
        pid_file,
        console_socket: console,
        preserve_fds: o.preserve_fds,
        stdio: stdio(o.flags, [o.stdin_fd, o.stdout_fd, o.stderr_fd])?,
        keep_pty: false,
    })
}
