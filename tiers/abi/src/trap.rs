//! Trap codes and the per-thread trap record.
//!
//! A tier that traps returns the [`TrapCode`] as its status. Whoever raises the trap first
//! calls [`record`]; every wasm frame the trap unwinds then adds itself with [`push_frame`]
//! (innermost first), and the Rust code that called into wasm (the runtime, the test kit)
//! collects the whole record with [`take`] once the status reaches it. Host functions that fail store their
//! error with [`record_host_error`] and return [`TrapCode::Host`].

use core::cell::RefCell;
use std::any::Any;

use crate::vmctx::VmContext;

/// Why execution trapped. The value is the status an array entry returns (never 0).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 2,
    /// Signed division overflow (`MIN / -1`).
    IntegerOverflow = 3,
    /// A trapping float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger = 4,
    /// A memory access (or bulk memory operation) out of bounds.
    MemoryOutOfBounds = 5,
    /// A table access (or bulk table operation) out of bounds.
    TableOutOfBounds = 6,
    /// `call_indirect` with an index beyond the table.
    UndefinedElement = 7,
    /// `call_indirect` of a null element.
    UninitializedElement = 8,
    /// `call_indirect` whose callee's signature differs from the expected one.
    IndirectCallTypeMismatch = 9,
    /// A bound on the call stack was exceeded (in the interpreter: `max_call_depth`, its
    /// register stack or the nesting of calls back in from host functions).
    StackOverflow = 10,
    /// A host function returned an error (see [`TrapRecord::host_error`]).
    Host = 11,
    /// A function could not be translated or compiled (see [`TrapRecord::message`]).
    CompileError = 12,
    /// A null reference was dereferenced.
    NullReference = 13,
    /// The store's epoch deadline passed (the runtime set [`crate::VmContext::interrupt`]) and
    /// the store was set to trap then.
    Interrupt = 14,
}

impl TrapCode {
    /// The trap code for a non-zero status.
    pub const fn from_status(status: u32) -> Option<TrapCode> {
        Some(match status {
            1 => TrapCode::Unreachable,
            2 => TrapCode::IntegerDivideByZero,
            3 => TrapCode::IntegerOverflow,
            4 => TrapCode::BadConversionToInteger,
            5 => TrapCode::MemoryOutOfBounds,
            6 => TrapCode::TableOutOfBounds,
            7 => TrapCode::UndefinedElement,
            8 => TrapCode::UninitializedElement,
            9 => TrapCode::IndirectCallTypeMismatch,
            10 => TrapCode::StackOverflow,
            11 => TrapCode::Host,
            12 => TrapCode::CompileError,
            13 => TrapCode::NullReference,
            14 => TrapCode::Interrupt,
            _ => return None,
        })
    }

    /// The status an array entry returns for this trap.
    #[inline]
    pub const fn status(self) -> u32 {
        self as u32
    }

    /// The message of the WebAssembly specification for this trap.
    pub const fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::Host => "host function error",
            TrapCode::CompileError => "function failed to compile",
            TrapCode::NullReference => "null reference",
            TrapCode::Interrupt => "interrupt",
        }
    }
}

impl core::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// Whose function a [`TrapFrame`] ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameOwner {
    /// The function of the instance with this context (what the interpreter knows of its
    /// frames).
    Instance(*const VmContext),
    /// The function of a module, named by an identity the runtime gave it (what the
    /// runtime finds for a frame of machine code, which belongs to a module).
    Module(*const ()),
}

/// One wasm frame of a trap's backtrace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapFrame {
    /// Whose function the frame ran (resolved to a module by the runtime).
    pub owner: FrameOwner,
    /// The function's index in its module.
    pub func_index: u32,
    /// The byte offset in the module of the instruction that trapped or made the call.
    pub code_offset: u32,
}

/// Everything known about the trap in flight on this thread.
#[derive(Default)]
pub struct TrapRecord {
    /// The trap, once recorded.
    pub code: Option<TrapCode>,
    /// Frames, innermost first.
    pub frames: Vec<TrapFrame>,
    /// A detail message (compile errors).
    pub message: Option<String>,
    /// The error a host function returned.
    pub host_error: Option<Box<dyn Any + Send + Sync>>,
}

impl core::fmt::Debug for TrapRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TrapRecord")
            .field("code", &self.code)
            .field("frames", &self.frames)
            .field("message", &self.message)
            .field("host_error", &self.host_error.is_some())
            .finish()
    }
}

thread_local! {
    static RECORD: RefCell<TrapRecord> = RefCell::new(TrapRecord::default());
}

/// Starts a new trap record with `code`, discarding any stale one, and returns the status.
pub fn record(code: TrapCode) -> u32 {
    RECORD.with(|r| {
        let mut r = r.borrow_mut();
        r.code = Some(code);
        r.frames.clear();
        r.message = None;
        r.host_error = None;
    });
    code.status()
}

/// Starts a new trap record with a detail message.
pub fn record_with_message(code: TrapCode, message: String) -> u32 {
    record(code);
    RECORD.with(|r| r.borrow_mut().message = Some(message));
    code.status()
}

/// Starts a new trap record for a failed host function and returns [`TrapCode::Host`]'s status.
pub fn record_host_error(error: Box<dyn Any + Send + Sync>) -> u32 {
    record(TrapCode::Host);
    RECORD.with(|r| r.borrow_mut().host_error = Some(error));
    TrapCode::Host.status()
}

/// Appends a frame to the trap in flight (frames are pushed innermost first).
pub fn push_frame(frame: TrapFrame) {
    RECORD.with(|r| r.borrow_mut().frames.push(frame));
}

/// Takes the trap in flight, leaving an empty record. If nothing was recorded for `status`
/// (a tier returned a status without recording it), the record is made from the status.
pub fn take(status: u32) -> TrapRecord {
    let mut rec = RECORD.with(|r| core::mem::take(&mut *r.borrow_mut()));
    if rec.code.is_none() {
        rec.code = Some(TrapCode::from_status(status).unwrap_or(TrapCode::CompileError));
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for s in 1..=14 {
            let code = TrapCode::from_status(s).unwrap();
            assert_eq!(code.status(), s);
        }
        assert_eq!(TrapCode::from_status(0), None);
        assert_eq!(TrapCode::from_status(15), None);
    }

    #[test]
    fn record_and_take() {
        let s = record(TrapCode::IntegerOverflow);
        push_frame(TrapFrame {
            owner: FrameOwner::Instance(core::ptr::null()),
            func_index: 3,
            code_offset: 17,
        });
        push_frame(TrapFrame {
            owner: FrameOwner::Module(core::ptr::null()),
            func_index: 1,
            code_offset: 9,
        });
        let rec = take(s);
        assert_eq!(rec.code, Some(TrapCode::IntegerOverflow));
        assert_eq!(rec.frames.len(), 2);
        assert_eq!(rec.frames[0].func_index, 3);
        let empty = take(TrapCode::Unreachable.status());
        assert_eq!(empty.code, Some(TrapCode::Unreachable));
        assert!(empty.frames.is_empty());
    }
}
