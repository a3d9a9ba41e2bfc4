//! The static (musl) build's allocator: dlmalloc behind a spin lock. musl's
//! own malloc returns memory to the kernel on nearly every free, and
//! dlmalloc's global feature locks a pthread mutex (two libc calls) around
//! every call; the CLI is single-threaded but for brief helper threads, so an
//! uncontended atomic is all the lock it needs.

use dlmalloc::Dlmalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct SpinDlmalloc {
    locked: AtomicBool,
    heap: UnsafeCell<Dlmalloc>,
}

// SAFETY: the heap is only reached under `locked`.
unsafe impl Sync for SpinDlmalloc {}

impl SpinDlmalloc {
    pub const fn new() -> Self {
        SpinDlmalloc { locked: AtomicBool::new(false), heap: UnsafeCell::new(Dlmalloc::new()) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Dlmalloc) -> T) -> T {
        let mut spins = 0u32;
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spins += 1;
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: we hold the lock, so this is the only reference to the heap.
        let r = f(unsafe { &mut *self.heap.get() });
        self.locked.store(false, Ordering::Release);
        r
    }
}

// SAFETY: each method forwards to dlmalloc with the caller's layout, under the lock.
unsafe impl GlobalAlloc for SpinDlmalloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: as the trait requires of the caller.
        self.with(|h| unsafe { h.malloc(l.size(), l.align()) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        // SAFETY: ptr came from this allocator with layout l.
        self.with(|h| unsafe { h.free(ptr, l.size(), l.align()) })
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        self.with(|h| unsafe { h.calloc(l.size(), l.align()) })
    }

    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: ptr came from this allocator with layout l.
        self.with(|h| unsafe { h.realloc(ptr, l.size(), l.align(), new_size) })
    }
}
