//! The clone primitive behind `spawn`: a child process that shares our
//! memory (`CLONE_VM`, not a thread: its own fds, signal handlers and pid)
//! and runs one function on a stack of its own until it execs.
//!
//! Sharing memory means no page table is copied at the clone and none torn
//! down at the exec, whatever the caller's size (a daemon of gigabytes
//! forks in milliseconds); unlike vfork, the caller goes on meanwhile. The
//! price is discipline in the child: it may only read memory prepared
//! before the clone and make raw system calls ([`sys`]: no errno, since it
//! shares the TLS of the thread that cloned it). The kernel zeroes the
//! `left` word and wakes it (`CLONE_CHILD_CLEARTID`) when the child execs
//! or exits, i.e. leaves our memory: only then may the stack and the
//! prepared memory go.
//!
//! x86_64 only (inline assembly); elsewhere the same API forks instead.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// clone_args of clone3 (the fields up to `cgroup`, Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// The child's function: never returns (it execs or exits).
pub type ChildFn = extern "C" fn(*const libc::c_void) -> !;

/// A small stack for the child, unmapped on drop.
pub struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is owned; moving its address between threads is fine.
unsafe impl Send for Stack {}

/// Stacks of children that have left, kept for the next spawn: saves an
/// mmap and a munmap per container (the munmap interrupts every CPU that
/// ran one of the caller's threads, to flush its TLB).
static SPARE: Mutex<Vec<Stack>> = Mutex::new(Vec::new());
const SPARES: usize = 4;

impl Stack {
    /// A spare stack of `len` bytes, else a new one.
    pub fn take(len: usize) -> std::io::Result<Stack> {
        let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
        match spare.iter().rposition(|s| s.len == len) {
            Some(i) => Ok(spare.swap_remove(i)),
            None => Stack::new(len),
        }
    }

    /// Keeps a stack that no child uses any more for `take`, or unmaps it.
    pub fn give_back(self) {
        let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < SPARES {
            spare.push(self);
        }
    }

    fn new(len: usize) -> std::io::Result<Stack> {
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK, -1, 0) };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Stack { base, len })
    }

    fn top(&self) -> u64 {
        (self.base as u64 + self.len as u64) & !15
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used (see `wait_left`).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// clone3 with `flags` (CLONE_* without CLONE_VM, which is added) into
/// cgroup `cgroup` if given; the child runs `f(arg)` on `stack`. Returns the
/// pid, or -errno.
///
/// # Safety
/// `f` follows the child's rules above; `arg`, `stack` and `left` stay
/// valid until `left` reads 0; call with all signals blocked.
pub unsafe fn clone3(flags: u64, cgroup: Option<i32>, f: ChildFn, arg: *const libc::c_void, stack: &Stack, left: &AtomicU32) -> i64 {
    left.store(1, Ordering::SeqCst);
    let mut args = CloneArgs { flags: flags | VM_FLAGS, exit_signal: libc::SIGCHLD as u64, child_tid: left.as_ptr() as u64, ..Default::default() };
    if let Some(dir) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = dir as u64;
    }
    args.stack = stack.base as u64;
    args.stack_size = stack.top() - stack.base as u64;
    // SAFETY: forwarded contract; args outlives the call.
    let r = unsafe { clone_on_stack(libc::SYS_clone3, &args as *const CloneArgs as usize, std::mem::size_of::<CloneArgs>(), 0, 0, f, arg) };
    settle(r, left)
}

/// The same with the classic clone (kernels without clone3).
///
/// # Safety
/// As for [`clone3`].
pub unsafe fn clone(flags: u64, f: ChildFn, arg: *const libc::c_void, stack: &Stack, left: &AtomicU32) -> i64 {
    left.store(1, Ordering::SeqCst);
    let fl = (flags | VM_FLAGS) as usize | libc::SIGCHLD as usize;
    // SAFETY: forwarded contract.
    let r = unsafe { clone_on_stack(libc::SYS_clone, fl, stack.top() as usize, 0, left.as_ptr() as usize, f, arg) };
    settle(r, left)
}

/// No child, or one that shares nothing: nothing to wait for.
fn settle(r: i64, left: &AtomicU32) -> i64 {
    if r < 0 || VM_FLAGS == 0 {
        left.store(0, Ordering::SeqCst);
    }
    r
}

/// Waits (up to `timeout`) until the child has left our memory; false on
/// timeout (a child stopped before its exec), when nothing may be freed.
pub fn wait_left(left: &AtomicU32, timeout: std::time::Duration) -> bool {
    let end = std::time::Instant::now() + timeout;
    loop {
        let v = left.load(Ordering::SeqCst);
        let now = std::time::Instant::now();
        if v == 0 {
            return true;
        }
        if now >= end {
            return false;
        }
        let rest = end - now;
        // SAFETY: timespec is plain data.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        ts.tv_sec = rest.as_secs() as _;
        ts.tv_nsec = rest.subsec_nanos() as _;
        // SAFETY: FUTEX_WAIT on a live u32 with a valid timespec; spurious
        // wake-ups and EAGAIN just loop.
        unsafe { libc::syscall(libc::SYS_futex, left.as_ptr(), libc::FUTEX_WAIT, v, &ts as *const libc::timespec, 0, 0) };
    }
}

#[cfg(target_arch = "x86_64")]
const VM_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID) as u64;

/// A clone-family syscall whose child (rax 0, on its new stack) calls
/// `f(arg)`; the parent gets the result.
#[cfg(target_arch = "x86_64")]
unsafe fn clone_on_stack(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize, f: ChildFn, arg: *const libc::c_void) -> i64 {
    let ret: i64;
    // SAFETY: the child continues on the stack the kernel switched it to and
    // never returns here (f does not return); r12/r13 survive the syscall.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") nr => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") 0usize,
            in("r12") arg, in("r13") f,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A raw system call: returns the result or -errno, sets no errno.
///
/// # Safety
/// As the system call itself.
#[cfg(target_arch = "x86_64")]
pub unsafe fn sys(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> i64 {
    let ret: i64;
    // SAFETY: forwarded contract; the syscall clobbers only rax, rcx, r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

// Elsewhere: a fork (own copy of memory), the child calling f on its copy
// of our stack; no CLEARTID (nothing is shared, nothing to wait for).
#[cfg(not(target_arch = "x86_64"))]
const VM_FLAGS: u64 = 0;

#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone_on_stack(nr: i64, a1: usize, a2: usize, _a3: usize, _a4: usize, f: ChildFn, arg: *const libc::c_void) -> i64 {
    let r = if nr == libc::SYS_clone3 {
        // SAFETY: a1/a2 are clone_args and its size; without CLONE_VM (and
        // without a stack) this is a fork.
        let args = unsafe { &mut *(a1 as *mut CloneArgs) };
        args.child_tid = 0;
        args.stack = 0;
        args.stack_size = 0;
        unsafe { libc::syscall(nr, a1, a2) }
    } else {
        // SAFETY: a fork-like clone.
        unsafe { libc::syscall(nr, a1, 0, 0, 0, 0) }
    };
    if r == 0 {
        f(arg);
    }
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL) as i64)
    } else {
        r
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn sys(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> i64 {
    // SAFETY: forwarded; the child has its own memory here, so errno is its own.
    let r = unsafe { libc::syscall(nr, a1, a2, a3, a4, a5) };
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL) as i64)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn exit_with(arg: *const libc::c_void) -> ! {
        let code = arg as usize;
        loop {
            // SAFETY: exit takes no pointers.
            unsafe { sys(libc::SYS_exit, code, 0, 0, 0, 0) };
        }
    }

    /// Both clone paths: the child runs on its stack and exits with the
    /// code it was given; the kernel clears `left` when it is gone.
    #[test]
    fn children_run_on_their_stack_and_report_leaving() {
        let stack = Stack::new(64 * 1024).unwrap();
        for (classic, code) in [(false, 7usize), (true, 9usize)] {
            let left = AtomicU32::new(0);
            // SAFETY: exit_with only makes a raw exit; stack and left outlive
            // the child (we wait for `left` below).
            let pid = unsafe {
                let arg = code as *const libc::c_void;
                if classic {
                    clone(0, exit_with, arg, &stack, &left)
                } else {
                    clone3(0, None, exit_with, arg, &stack, &left)
                }
            };
            assert!(pid > 0, "clone (classic: {classic}): {pid}");
            let mut status = 0;
            // SAFETY: waitpid on our child.
            assert_eq!(unsafe { libc::waitpid(pid as i32, &mut status, 0) }, pid as i32);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == code as i32, "status {status:#x}");
            assert!(wait_left(&left, std::time::Duration::from_secs(5)), "left still set");
        }
    }

    /// A stack given back is the next one taken of its size (an unusual
    /// size here, so that no spawn elsewhere in the tests takes it).
    #[test]
    fn a_stack_given_back_is_taken_again() {
        let s = Stack::take(12 * 1024).unwrap();
        let base = s.base;
        s.give_back();
        let again = Stack::take(12 * 1024).unwrap();
        assert_eq!(again.base, base);
    }
}
