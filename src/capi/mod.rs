//! The C ABI: opaque handles, integer error codes, a thread-local message.
//! No panic crosses this boundary; null pointers and bad UTF-8 are errors.

use crate::{CreateOptions, ErrorKind, Runtime};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::path::PathBuf;

/// Error codes returned by every `runc_*` call (0 is success).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuncError {
    Ok = 0,
    InvalidArgument = -1,
    Config = -2,
    NotFound = -3,
    Exists = -4,
    State = -5,
    Unsupported = -6,
    System = -7,
    Init = -8,
    Internal = -9,
}

impl From<ErrorKind> for RuncError {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::InvalidArgument => RuncError::InvalidArgument,
            ErrorKind::Config => RuncError::Config,
            ErrorKind::NotFound => RuncError::NotFound,
            ErrorKind::Exists => RuncError::Exists,
            ErrorKind::State => RuncError::State,
            ErrorKind::Unsupported => RuncError::Unsupported,
            ErrorKind::System => RuncError::System,
            ErrorKind::Init => RuncError::Init,
        }
    }
}

/// An opaque runtime context: a state root directory.
pub struct RuncContext {
    rt: Runtime,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs `f`, turning errors and panics into a code plus the thread-local message.
fn guard(f: impl FnOnce() -> Result<(), (RuncError, String)>) -> c_int {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => RuncError::Ok as c_int,
        Ok(Err((code, msg))) => {
            set_error(&msg);
            code as c_int
        }
        Err(_) => {
            set_error("internal error (panic) in librunc");
            RuncError::Internal as c_int
        }
    }
}

fn lib_err(e: crate::Error) -> (RuncError, String) {
    (e.kind.into(), e.msg)
}

/// # Safety
/// `p` must be null or a valid NUL-terminated string.
unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, (RuncError, String)> {
    if p.is_null() {
        return Err((RuncError::InvalidArgument, format!("{name} is NULL")));
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| (RuncError::InvalidArgument, format!("{name} is not valid UTF-8")))
}

/// The library version, e.g. "0.1.0". The string is static; do not free it.
#[no_mangle]
pub extern "C" fn runc_version() -> *const c_char {
    static V: &CStr = c"0.1.0";
    V.as_ptr()
}

/// The message of the last failed call on this thread ("" if none).
/// Valid until the next librunc call on this thread; do not free it.
#[no_mangle]
pub extern "C" fn runc_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string returned by librunc (NULL is ignored).
///
/// # Safety
/// `s` must be NULL or a string returned by a librunc call, freed once.
#[no_mangle]
pub unsafe extern "C" fn runc_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: s came from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Creates a context whose containers live under `root` (NULL: /run/runc).
/// Returns 0 and stores the handle in `*out`, or an error code.
///
/// # Safety
/// `root` must be NULL or a valid string; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_context_new(root: *const c_char, out: *mut *mut RuncContext) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err((RuncError::InvalidArgument, "out is NULL".into()));
        }
        // SAFETY: checked by str_arg; root may be NULL.
        let root = if root.is_null() { crate::DEFAULT_ROOT } else { unsafe { str_arg(root, "root")? } };
        let ctx = Box::new(RuncContext { rt: Runtime::new(root) });
        // SAFETY: out is non-null and points to writable memory per the contract.
        unsafe { *out = Box::into_raw(ctx) };
        Ok(())
    })
}

/// Frees a context (NULL is ignored). Containers it created keep running.
///
/// # Safety
/// `ctx` must be NULL or a handle from runc_context_new, freed once.
#[no_mangle]
pub unsafe extern "C" fn runc_context_free(ctx: *mut RuncContext) {
    if !ctx.is_null() {
        // SAFETY: ctx came from Box::into_raw in runc_context_new.
        drop(unsafe { Box::from_raw(ctx) });
    }
}

/// Writes the default config (as `runc spec`) to `*out`; free it with runc_free.
///
/// # Safety
/// `out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_spec_default(rootless: c_int, out: *mut *mut c_char) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err((RuncError::InvalidArgument, "out is NULL".into()));
        }
        let text = serde_json::to_string_pretty(&crate::spec::template::default_spec(rootless != 0)).expect("serialise");
        // SAFETY: out is non-null per the check above.
        unsafe { *out = CString::new(text).expect("no NUL in JSON").into_raw() };
        Ok(())
    })
}

/// Runs container `id` from the bundle directory `bundle` to completion with
/// the caller's stdio, then deletes it; stores the exit status in `*status`
/// (128+N when killed by signal N). The process must not use a terminal.
///
/// # Safety
/// `ctx` must be a live context; strings valid; `status` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_run(ctx: *mut RuncContext, id: *const c_char, bundle: *const c_char, status: *mut c_int) -> c_int {
    guard(|| {
        if ctx.is_null() || status.is_null() {
            return Err((RuncError::InvalidArgument, "ctx or status is NULL".into()));
        }
        // SAFETY: checked non-null; the caller keeps ctx alive during the call.
        let ctx = unsafe { &*ctx };
        // SAFETY: string arguments are checked by str_arg.
        let (id, bundle) = unsafe { (str_arg(id, "id")?, str_arg(bundle, "bundle")?) };
        let opts = CreateOptions { bundle: PathBuf::from(bundle), ..Default::default() };
        let created = ctx.rt.create(id, &opts).map_err(lib_err)?;
        if let Err(e) = ctx.rt.start(id) {
            let _ = ctx.rt.delete(id, true);
            return Err(lib_err(e));
        }
        let code = wait_child(created.pid);
        let _ = ctx.rt.delete(id, true);
        // SAFETY: status checked non-null.
        unsafe { *status = code.map_err(lib_err)? };
        Ok(())
    })
}

/// Waits for our child `pid` without touching signals; EINTR is retried.
fn wait_child(pid: i32) -> crate::Result<i32> {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, c)) => return Ok(c),
            Ok(WaitStatus::Signaled(_, s, _)) => return Ok(128 + s as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(crate::Error::sys(format!("wait for container init {pid}"), e)),
        }
    }
}
