//! [`Shared`]: an owned heap value that generated code reaches through raw pointers (the
//! context, entry slots, globals, descriptors). The kit touches it only through the same
//! raw pointer, never through a `Box` or a `&mut` that outlives one operation, so the
//! pointers handed to code stay valid for as long as the instance lives.

use core::ptr::NonNull;

/// A heap allocation owned by the instance and addressed only by raw pointer.
pub(crate) struct Shared<T: ?Sized> {
    ptr: NonNull<T>,
}

impl<T: ?Sized> Shared<T> {
    /// Takes ownership of `value`'s allocation; its address never changes.
    pub(crate) fn new(value: Box<T>) -> Shared<T> {
        Shared {
            ptr: NonNull::from(Box::leak(value)),
        }
    }

    /// The value's address.
    pub(crate) fn ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }
}

impl<T> Shared<[T]> {
    /// The address of element `index`, or `None` beyond the end.
    pub(crate) fn elem(&self, index: usize) -> Option<*mut T> {
        (index < self.ptr.len()).then(|| {
            // SAFETY: `index` is within the allocation.
            unsafe { self.ptr.as_ptr().cast::<T>().add(index) }
        })
    }
}

impl<T: ?Sized> Drop for Shared<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::leak` in `new` and is freed only here, once.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}
