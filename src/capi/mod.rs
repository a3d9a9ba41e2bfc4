//! The C ABI (`include/runc.h`): opaque handles, integer error codes and a
//! thread-local message. Every function catches panics; NULL pointers and
//! invalid UTF-8 are errors. Strings returned are freed with `runc_free`.
//! The functions are thin: argument checks and conversions, then the Rust API.

mod args;

use crate::process::wait::Waited;
use crate::{ErrorKind, Runtime};
use args::{cleared_out, out_ptr, str_arg, Fail};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint, CString};

/// Major version of the C ABI (the SONAME is librunc.so.<major>).
pub const RUNC_VERSION_MAJOR: u32 = 0;
/// Minor version: grows when functions are added.
pub const RUNC_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const RUNC_VERSION_PATCH: u32 = 0;

/// `runc_create_opts.flags`: use move-mount + chroot instead of pivot_root.
pub const RUNC_CREATE_NO_PIVOT: c_uint = 1;
/// `runc_create_opts.flags`: keep the caller's session keyring.
pub const RUNC_CREATE_NO_NEW_KEYRING: c_uint = 2;
/// `flags` of both option structs: the stdin/stdout/stderr fds are set
/// (otherwise the process inherits the caller's 0, 1, 2).
pub const RUNC_STDIO_FDS: c_uint = 4;

/// Error codes returned by every `runc_*` call that can fail (0 is success).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuncError {
    Ok = 0,
    /// A bad argument: NULL, invalid UTF-8, bad id, bad option.
    InvalidArgument = -1,
    /// config.json / process / resources JSON unreadable or invalid.
    Config = -2,
    /// No container with that id.
    NotFound = -3,
    /// A container with that id already exists.
    Exists = -4,
    /// The container is in the wrong state for the call.
    State = -5,
    /// A field or feature this build or host does not support.
    Unsupported = -6,
    /// A system call failed.
    System = -7,
    /// The container process could not be set up or started.
    Init = -8,
    /// A bug in librunc (a caught panic).
    Internal = -9,
    /// `runc_wait` timed out; the process is still running.
    Timeout = -10,
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

/// An opaque context: a state root directory. Safe to share between threads.
pub struct RuncContext {
    rt: Runtime,
}

/// Options of `runc_create`. Set `size` to `sizeof(runc_create_opts)`; fields
/// past `size` (from a newer header) read as zero.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RuncCreateOpts {
    pub size: usize,
    /// The bundle directory (relative `root.path` is resolved against it).
    pub bundle: *const c_char,
    /// An in-memory config.json; NULL reads `bundle`/config.json.
    pub config_json: *const c_char,
    /// Where to write the init's pid (decimal, no newline), or NULL.
    pub pid_file: *const c_char,
    /// Unix socket that receives the pty master when the process has a terminal.
    pub console_socket: *const c_char,
    pub stdin_fd: c_int,
    pub stdout_fd: c_int,
    pub stderr_fd: c_int,
    /// The caller's fds 3..3+N are passed to the container.
    pub preserve_fds: c_uint,
    /// `RUNC_CREATE_*` and `RUNC_STDIO_FDS` bits.
    pub flags: c_uint,
}

/// Options of `runc_exec`; `size` as for `runc_create_opts`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RuncExecOpts {
    pub size: usize,
    pub pid_file: *const c_char,
    pub console_socket: *const c_char,
    pub stdin_fd: c_int,
    pub stdout_fd: c_int,
    pub stderr_fd: c_int,
    pub preserve_fds: c_uint,
    /// `RUNC_STDIO_FDS`.
    pub flags: c_uint,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs `f`, turning errors and panics into a code plus the thread-local message.
fn guard(f: impl FnOnce() -> Result<(), Fail>) -> c_int {
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

fn lib<T>(r: crate::Result<T>) -> Result<T, Fail> {
    r.map_err(|e| (e.kind.into(), e.msg))
}

/// # Safety
/// `ctx` must be NULL or a live handle from `runc_context_new`.
unsafe fn ctx_ref<'a>(ctx: *const RuncContext) -> Result<&'a Runtime, Fail> {
    // SAFETY: per the contract, non-null means a live handle.
    unsafe { ctx.as_ref() }.map(|c| &c.rt).ok_or((RuncError::InvalidArgument, "ctx is NULL".into()))
}

/// Stores a pid in an optional out-parameter (NULL: not wanted).
fn put_pid(pid_out: *mut c_int, pid: i32) {
    if !pid_out.is_null() {
        // SAFETY: non-null out pointers are valid per the functions' contracts.
        unsafe { *pid_out = pid };
    }
}

/// Hands a string to the caller (freed with `runc_free`).
fn give(out: *mut *mut c_char, s: String) -> Result<(), Fail> {
    let c = CString::new(s).map_err(|_| (RuncError::Internal, "string with NUL".to_string()))?;
    // SAFETY: `out` was checked non-null (and cleared) by the caller of give (cleared_out).
    unsafe { *out = c.into_raw() };
    Ok(())
}

/// The library version ("0.1.0"). Static; do not free.
#[no_mangle]
pub extern "C" fn runc_version() -> *const c_char {
    static V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// The message of the last failed call on this thread ("" if none). Valid
/// until the next librunc call on this thread; do not free.
#[no_mangle]
pub extern "C" fn runc_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string returned by librunc (NULL is ignored).
///
/// # Safety
/// `s` must be NULL or a string returned by librunc, freed once.
#[no_mangle]
pub unsafe extern "C" fn runc_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: s came from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Creates a context for containers under `root` (NULL: /run/runc).
///
/// # Safety
/// `root`: NULL or a valid string; `out`: a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_context_new(root: *const c_char, out: *mut *mut RuncContext) -> c_int {
    guard(|| {
        cleared_out(out)?;
        // SAFETY: checked by str_arg; root may be NULL.
        let root = if root.is_null() { crate::DEFAULT_ROOT } else { unsafe { str_arg(root, "root")? } };
        // SAFETY: out checked non-null above.
        unsafe { *out = Box::into_raw(Box::new(RuncContext { rt: Runtime::new(root) })) };
        Ok(())
    })
}

/// Frees a context (NULL is ignored). Its containers keep running.
///
/// # Safety
/// `ctx`: NULL or a handle from `runc_context_new`, freed once, not in use.
#[no_mangle]
pub unsafe extern "C" fn runc_context_free(ctx: *mut RuncContext) {
    if !ctx.is_null() {
        // SAFETY: ctx came from Box::into_raw in runc_context_new.
        drop(unsafe { Box::from_raw(ctx) });
    }
}

/// Creates container `id` and leaves it waiting for `runc_start`. Its init
/// becomes a child of the calling process, so `runc_wait` gets its status.
/// `*pid_out` (may be NULL) receives the init's pid. Until `runc_start` or
/// `runc_delete`, the context holds one close-on-exec socket to the init, so
/// that its own `runc_start` is a single message (any process can still
/// start the container through its state directory).
///
/// # Safety
/// `ctx` live; `id` a valid string; `opts` a valid `runc_create_opts`.
#[no_mangle]
pub unsafe extern "C" fn runc_create(ctx: *mut RuncContext, id: *const c_char, opts: *const RuncCreateOpts, pid_out: *mut c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { create_by(ctx, id, opts, pid_out, Runtime::create) }
}

/// Creates container `id` and starts its process at once (as `runc run
/// --detach`): no start socket, no runc_start; returns once the process is
/// exec'd (startContainer and poststart hooks run). On failure nothing is
/// left behind. `pid_out` (may be NULL) gets the init's pid.
///
/// # Safety
/// `ctx` live; `id` a valid string; `opts` a valid `runc_create_opts`.
#[no_mangle]
pub unsafe extern "C" fn runc_run(ctx: *mut RuncContext, id: *const c_char, opts: *const RuncCreateOpts, pid_out: *mut c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { create_by(ctx, id, opts, pid_out, Runtime::create_started) }
}

/// runc_create and runc_run: read the arguments, `make` the container,
/// report its pid.
///
/// # Safety
/// As for `runc_create`.
unsafe fn create_by(
    ctx: *mut RuncContext,
    id: *const c_char,
    opts: *const RuncCreateOpts,
    pid_out: *mut c_int,
    make: fn(&Runtime, &str, &crate::CreateOptions) -> crate::Result<crate::Created>,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let (rt, id, o) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?, args::read_opts::<RuncCreateOpts>(opts, "opts")?) };
        // SAFETY: string fields of opts are NULL or valid strings.
        let copts = unsafe { args::create_options(&o)? };
        let created = lib(make(rt, id, &copts))?;
        put_pid(pid_out, created.pid);
        Ok(())
    })
}

/// Starts a created container's process.
///
/// # Safety
/// `ctx` live; `id` a valid string.
#[no_mangle]
pub unsafe extern "C" fn runc_start(ctx: *mut RuncContext, id: *const c_char) -> c_int {
    // SAFETY: per the contract.
    guard(|| unsafe { lib(ctx_ref(ctx)?.start(str_arg(id, "id")?)) })
}

/// Waits for the container's init: `timeout_ms` -1 blocks, 0 polls.
/// Returns 0 with `*status` = exit code (128+N when killed by signal N), or
/// -1 when the init was not created by this process (its status cannot be
/// known, only that it exited); RUNC_ERROR_TIMEOUT if it is still running.
/// Never reaps other children and never touches signals.
///
/// # Safety
/// `ctx` live; `id` a valid string; `status` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_wait(ctx: *mut RuncContext, id: *const c_char, timeout_ms: c_int, status: *mut c_int) -> c_int {
    guard(|| {
        out_ptr(status)?;
        // SAFETY: per the contract.
        let w = unsafe { lib(ctx_ref(ctx)?.wait(str_arg(id, "id")?, timeout_ms))? };
        let code = match w {
            Waited::Exited(c) => c,
            Waited::ExitedUnknown => -1,
            Waited::Running => return Err((RuncError::Timeout, "container is still running".into())),
        };
        // SAFETY: checked non-null.
        unsafe { *status = code };
        Ok(())
    })
}

/// Sends `signal` to the init, or with `all` != 0 to every process of the container.
///
/// # Safety
/// `ctx` live; `id` a valid string.
#[no_mangle]
pub unsafe extern "C" fn runc_kill(ctx: *mut RuncContext, id: *const c_char, signal: c_int, all: c_int) -> c_int {
    guard(|| {
        let sig = nix::sys::signal::Signal::try_from(signal).map_err(|_| (RuncError::InvalidArgument, format!("unknown signal {signal}")))?;
        // SAFETY: per the contract.
        unsafe { lib(ctx_ref(ctx)?.kill(str_arg(id, "id")?, sig, all != 0)) }
    })
}

/// Deletes a stopped (or created) container; `force` kills a running one first.
///
/// # Safety
/// `ctx` live; `id` a valid string.
#[no_mangle]
pub unsafe extern "C" fn runc_delete(ctx: *mut RuncContext, id: *const c_char, force: c_int) -> c_int {
    // SAFETY: per the contract.
    guard(|| unsafe { lib(ctx_ref(ctx)?.delete(str_arg(id, "id")?, force != 0)) })
}

/// The OCI state JSON of a container (as `runc state`); free with `runc_free`.
///
/// # Safety
/// `ctx` live; `id` a valid string; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_state(ctx: *mut RuncContext, id: *const c_char, json_out: *mut *mut c_char) -> c_int {
    guard(|| {
        cleared_out(json_out)?;
        // SAFETY: per the contract.
        let st = unsafe { lib(ctx_ref(ctx)?.state(str_arg(id, "id")?))? };
        give(json_out, st.to_oci_json().to_string())
    })
}

/// Runs the OCI process object `process_json` in the container. The process
/// becomes a child of the caller; `*pid_out` (may be NULL) gets its pid.
///
/// # Safety
/// `ctx` live; strings valid; `opts` NULL or a valid `runc_exec_opts`.
#[no_mangle]
pub unsafe extern "C" fn runc_exec(ctx: *mut RuncContext, id: *const c_char, process_json: *const c_char, opts: *const RuncExecOpts, pid_out: *mut c_int) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let (rt, id, text) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?, str_arg(process_json, "process_json")?) };
        let process = lib(crate::spec::parse_process(text))?;
        let o = if opts.is_null() { None } else { Some(unsafe { args::read_opts::<RuncExecOpts>(opts, "opts")? }) };
        // SAFETY: string fields are NULL or valid strings.
        let eopts = unsafe { args::exec_options(process, o.as_ref())? };
        let p = lib(rt.exec(id, &eopts))?;
        put_pid(pid_out, p.pid);
        Ok(())
    })
}

/// Freezes every process of the container.
///
/// # Safety
/// `ctx` live; `id` a valid string.
#[no_mangle]
pub unsafe extern "C" fn runc_pause(ctx: *mut RuncContext, id: *const c_char) -> c_int {
    // SAFETY: per the contract.
    guard(|| unsafe { lib(ctx_ref(ctx)?.pause(str_arg(id, "id")?)) })
}

/// Thaws a paused container.
///
/// # Safety
/// `ctx` live; `id` a valid string.
#[no_mangle]
pub unsafe extern "C" fn runc_resume(ctx: *mut RuncContext, id: *const c_char) -> c_int {
    // SAFETY: per the contract.
    guard(|| unsafe { lib(ctx_ref(ctx)?.resume(str_arg(id, "id")?)) })
}

/// Applies an OCI LinuxResources JSON to a running container (zeros = unchanged).
///
/// # Safety
/// `ctx` live; strings valid.
#[no_mangle]
pub unsafe extern "C" fn runc_update(ctx: *mut RuncContext, id: *const c_char, resources_json: *const c_char) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let (rt, id, text) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?, str_arg(resources_json, "resources_json")?) };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| (RuncError::Config, format!("resources: invalid JSON: {e}")))?;
        let r = lib(crate::cgroups::resources::Resources::from_value(v, "resources"))?;
        lib(rt.update(id, &r))
    })
}

/// Resource usage of the container (runc's stats JSON); free with `runc_free`.
///
/// # Safety
/// `ctx` live; `id` a valid string; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_stats(ctx: *mut RuncContext, id: *const c_char, json_out: *mut *mut c_char) -> c_int {
    guard(|| {
        cleared_out(json_out)?;
        // SAFETY: per the contract.
        let v = unsafe { lib(ctx_ref(ctx)?.stats(str_arg(id, "id")?))? };
        give(json_out, v.to_string())
    })
}

/// A JSON array of the states of all containers under the context's root.
///
/// # Safety
/// `ctx` live; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_list(ctx: *mut RuncContext, json_out: *mut *mut c_char) -> c_int {
    guard(|| {
        cleared_out(json_out)?;
        // SAFETY: per the contract.
        let list = unsafe { lib(ctx_ref(ctx)?.list())? };
        give(json_out, serde_json::Value::Array(list.iter().map(|s| s.to_oci_json()).collect()).to_string())
    })
}

/// features.json (runtime-spec features.md) of this build; free with `runc_free`.
///
/// # Safety
/// `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_features(json_out: *mut *mut c_char) -> c_int {
    guard(|| {
        cleared_out(json_out)?;
        give(json_out, crate::features::features().to_string())
    })
}

/// The default config (as `runc spec`); free with `runc_free`.
///
/// # Safety
/// `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runc_spec_default(rootless: c_int, json_out: *mut *mut c_char) -> c_int {
    guard(|| {
        cleared_out(json_out)?;
        give(json_out, serde_json::to_string_pretty(&crate::spec::template::default_spec(rootless != 0)).expect("json"))
    })
}
