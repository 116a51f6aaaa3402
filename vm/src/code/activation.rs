//! Entering and leaving machine code: the entry trampoline, the per-thread chain of
//! activations (unwind points), `raise`, and the backtrace walk through generated frames.
//!
//! Rust enters machine code only through [`jit_entry`], the array entry of every record
//! of machine code. It pushes an [`Activation`] on the thread's chain and calls the
//! assembly trampoline `enter`, which saves the callee-saved registers, records its stack
//! and frame pointer in the activation's [`Jmp`] and calls the function's array shim. A
//! normal return comes back the same way with status 0. A trap resumes at `resume`, which
//! reloads the stack and frame pointer from the `Jmp` and leaves through `enter`'s own
//! epilogue with the trap's status, dropping every generated frame in between and no Rust
//! frame (Rust code reached from generated code always returns to it normally). Two
//! things resume there:
//!
//! * the signal handler, for a fault at a trap site of generated code: it writes the PC,
//!   frame pointer, fault address and trap into the activation's [`Fault`] slot and sends
//!   the thread to `resume`;
//! * the `raise` libcall, which generated code calls with the non-zero status of a callee
//!   or a libcall (whose trap is already recorded): it notes the caller's PC and frame
//!   pointer and jumps to `resume`.
//!
//! Before `resume` drops the generated frames, it calls `walk` (ordinary Rust code, on the
//! stack below those frames, so they are intact): the trap record is made (for a fault)
//! and the generated frames are walked through the frame-pointer chain, innermost first,
//! each return address mapped to its function and wasm offset through the registry; the
//! walk ends at the first address that is not generated code (the trampoline).

use core::cell::Cell;

use tierup_abi::{FrameOwner, FuncCode, FuncEntry, TrapCode, TrapFrame, ValRaw, VmContext, trap};

use super::registry::{self, CodeOwner};

/// Where a trap resumes: `enter`'s stack and frame pointer, and the status to return.
#[repr(C)]
pub(crate) struct Jmp {
    sp: usize,
    fp: usize,
    status: u32,
}

/// How the activation was left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Kind {
    /// Not by a trap.
    None = 0,
    /// By a fault at a trap site.
    Fault = 1,
    /// By `raise`.
    Raised = 2,
    /// By a trap of the epoch handling that the signal of `preempt` sent the thread into:
    /// the PC is the interrupted instruction itself, and the trap is recorded.
    Preempted = 3,
}

/// What the signal handler or `raise` left for the trap's record.
#[repr(C)]
pub(crate) struct Fault {
    kind: Kind,
    /// For a fault, its trap.
    code: u32,
    /// The faulting instruction, or the return address of the call of `raise`.
    pc: usize,
    /// The frame pointer there.
    fp: usize,
    /// The address whose access faulted.
    addr: usize,
}

/// One entry into machine code, on the thread's chain.
#[repr(C)]
pub(crate) struct Activation {
    jmp: Jmp,
    fault: Fault,
    prev: *mut Activation,
    /// The context of the function entered (so of the store whose code runs), for the
    /// epoch handling of a preempted thread.
    vmctx: *mut VmContext,
}

thread_local! {
    /// The innermost activation of this thread (null outside machine code). Constant
    /// initialised and without destructor, so the signal handler can read it.
    static CURRENT: Cell<*mut Activation> = const { Cell::new(core::ptr::null_mut()) };
}

/// The innermost activation of this thread, null outside machine code.
pub(crate) fn current() -> *mut Activation {
    CURRENT.with(Cell::get)
}

impl Activation {
    /// Records a fault at trap site `pc` for the signal handler, and returns where to
    /// resume and the status.
    ///
    /// # Safety
    ///
    /// `this` is the thread's current activation.
    pub(crate) unsafe fn record_fault(
        this: *mut Activation,
        code: TrapCode,
        pc: usize,
        fp: usize,
        addr: usize,
    ) -> (*mut Jmp, u32) {
        // SAFETY: the caller's contract; the activation lives in `jit_entry`'s frame,
        // which is below the faulting code on this thread's stack.
        unsafe {
            (*this).fault = Fault {
                kind: Kind::Fault,
                code: code.status(),
                pc,
                fp,
                addr,
            };
            (&raw mut (*this).jmp, code.status())
        }
    }
}

core::arch::global_asm!(
    // Every register a call may clobber, saved to and restored from the 336 bytes at rsp
    // (16-aligned by the user), for the stubs that must keep them all: `epoch_preserving`
    // and `preempt`.
    ".macro tierup_save_volatile",
    "mov [rsp + 0], rax",
    "mov [rsp + 8], rcx",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rsi",
    "mov [rsp + 32], rdi",
    "mov [rsp + 40], r8",
    "mov [rsp + 48], r9",
    "mov [rsp + 56], r10",
    "mov [rsp + 64], r11",
    "movdqa [rsp + 80], xmm0",
    "movdqa [rsp + 96], xmm1",
    "movdqa [rsp + 112], xmm2",
    "movdqa [rsp + 128], xmm3",
    "movdqa [rsp + 144], xmm4",
    "movdqa [rsp + 160], xmm5",
    "movdqa [rsp + 176], xmm6",
    "movdqa [rsp + 192], xmm7",
    "movdqa [rsp + 208], xmm8",
    "movdqa [rsp + 224], xmm9",
    "movdqa [rsp + 240], xmm10",
    "movdqa [rsp + 256], xmm11",
    "movdqa [rsp + 272], xmm12",
    "movdqa [rsp + 288], xmm13",
    "movdqa [rsp + 304], xmm14",
    "movdqa [rsp + 320], xmm15",
    ".endm",
    ".macro tierup_restore_volatile",
    "mov rax, [rsp + 0]",
    "mov rcx, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "mov rsi, [rsp + 24]",
    "mov rdi, [rsp + 32]",
    "mov r8, [rsp + 40]",
    "mov r9, [rsp + 48]",
    "mov r10, [rsp + 56]",
    "mov r11, [rsp + 64]",
    "movdqa xmm0, [rsp + 80]",
    "movdqa xmm1, [rsp + 96]",
    "movdqa xmm2, [rsp + 112]",
    "movdqa xmm3, [rsp + 128]",
    "movdqa xmm4, [rsp + 144]",
    "movdqa xmm5, [rsp + 160]",
    "movdqa xmm6, [rsp + 176]",
    "movdqa xmm7, [rsp + 192]",
    "movdqa xmm8, [rsp + 208]",
    "movdqa xmm9, [rsp + 224]",
    "movdqa xmm10, [rsp + 240]",
    "movdqa xmm11, [rsp + 256]",
    "movdqa xmm12, [rsp + 272]",
    "movdqa xmm13, [rsp + 288]",
    "movdqa xmm14, [rsp + 304]",
    "movdqa xmm15, [rsp + 320]",
    ".endm",
    // enter(jmp, shim, callee, code, caller, args_results) -> status
    ".p2align 4",
    ".globl {enter}",
    "{enter}:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rdi], rsp",
    "mov [rdi + 8], rbp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov rcx, r9",
    "call rax",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    // resume(jmp, status): entered on the stack below every frame it drops (the faulting
    // code's, or `raise`'s), so the walk of those frames (in `walk`) runs without
    // overwriting them; then leaves `enter` with `status`.
    ".p2align 4",
    ".globl {resume}",
    "{resume}:",
    "sub rsp, 136",
    "and rsp, -16",
    "mov [rsp], rdi",
    "mov [rsp + 8], esi",
    "call {walk}",
    "mov rdi, [rsp]",
    "mov esi, [rsp + 8]",
    "mov rsp, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov eax, esi",
    "jmp 2b",
    // raise(status): from generated code; never returns.
    ".p2align 4",
    ".globl {raise}",
    "{raise}:",
    "mov rsi, [rsp]",
    "mov rdx, rbp",
    "sub rsp, 8",
    "call {raise_target}",
    "mov rdi, rax",
    "mov esi, [rax + 16]",
    "jmp {resume}",
    // A register entry for a function whose adapter could not be compiled: raises
    // `function failed to compile` in the caller.
    ".p2align 4",
    ".globl {no_adapter}",
    "{no_adapter}:",
    "mov edi, {compile_error}",
    "jmp {raise}",
    // The register entry of code without one of its own (interpreted, host and not yet
    // translated functions) until its signature's adapter is known: called by the register
    // convention (`tierup_abi::regcall`), it keeps every argument register, asks
    // `resolve_target(callee, caller)` for the adapter, and jumps there with the stack as
    // the call left it, so the adapter sees the call itself.
    ".p2align 4",
    ".globl {resolve}",
    "{resolve}:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 176",
    "mov [rsp], rdi",
    "mov [rsp + 8], rsi",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rcx",
    "mov [rsp + 32], r8",
    "mov [rsp + 40], r9",
    "movdqa [rsp + 48], xmm0",
    "movdqa [rsp + 64], xmm1",
    "movdqa [rsp + 80], xmm2",
    "movdqa [rsp + 96], xmm3",
    "movdqa [rsp + 112], xmm4",
    "movdqa [rsp + 128], xmm5",
    "movdqa [rsp + 144], xmm6",
    "movdqa [rsp + 160], xmm7",
    "call {resolve_target}",
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "mov rcx, [rsp + 24]",
    "mov r8, [rsp + 32]",
    "mov r9, [rsp + 40]",
    "movdqa xmm0, [rsp + 48]",
    "movdqa xmm1, [rsp + 64]",
    "movdqa xmm2, [rsp + 80]",
    "movdqa xmm3, [rsp + 96]",
    "movdqa xmm4, [rsp + 112]",
    "movdqa xmm5, [rsp + 128]",
    "movdqa xmm6, [rsp + 144]",
    "movdqa xmm7, [rsp + 160]",
    "mov rsp, rbp",
    "pop rbp",
    "jmp rax",
    // epoch_preserving(vmctx): the `epoch` libcall for code that keeps values in every
    // register (`tierup_abi::Libcalls::epoch_preserving`): saves every register a call
    // may clobber, calls `epoch`, and raises a failed status as if its caller had called
    // `raise` (the frame it leaves is the caller's), else restores them and returns.
    ".p2align 4",
    ".globl {epoch_preserving}",
    "{epoch_preserving}:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 336",
    "and rsp, -16",
    "tierup_save_volatile",
    "call {epoch}",
    "test eax, eax",
    "jnz 4f",
    "tierup_restore_volatile",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
    "4:",
    "mov edi, eax",
    "mov rsp, rbp",
    "pop rbp",
    "jmp {raise}",
    // preempt(): where the handler of `preempt` sends a thread it stopped in machine
    // code, the interrupted PC pushed as if a call there had reached this: saves
    // the flags and every register a call may clobber, calls `preempted` (the `epoch`
    // libcall for the activation's context), and restores them and returns to the
    // interrupted instruction, or raises a failed status with that instruction as the PC
    // of the innermost frame. The stack pointer may be any multiple of 8 here, and the
    // direction flag set (baseline code's backward copy): the Rust code runs with it
    // clear, and `popfq` sets it back.
    ".p2align 4",
    ".globl {preempt}",
    "{preempt}:",
    "push rbp",
    "mov rbp, rsp",
    "pushfq",
    "cld",
    "sub rsp, 336",
    "and rsp, -16",
    "tierup_save_volatile",
    "call {preempted}",
    "test eax, eax",
    "jnz 5f",
    "tierup_restore_volatile",
    "lea rsp, [rbp - 8]",
    "popfq",
    "pop rbp",
    "ret",
    "5:",
    "mov edi, eax",
    "mov rsp, rbp",
    "pop rbp",
    "mov rsi, [rsp]",
    "mov rdx, rbp",
    "and rsp, -16",
    "call {preempt_raise_target}",
    "mov rdi, rax",
    "mov esi, [rax + 16]",
    "jmp {resume}",
    enter = sym enter_sym,
    resume = sym resume_sym,
    preempt = sym preempt_sym,
    preempted = sym preempted,
    preempt_raise_target = sym preempt_raise_target,
    epoch_preserving = sym epoch_preserving_sym,
    epoch = sym crate::libcalls::epoch,
    raise = sym raise_sym,
    raise_target = sym raise_target,
    walk = sym walk,
    no_adapter = sym no_adapter_sym,
    resolve = sym resolve_sym,
    resolve_target = sym resolve_target,
    compile_error = const TrapCode::CompileError as u32,
);

// The symbols of the assembly above, named through `sym` operands of placeholder
// declarations so that no global name is chosen by hand.
unsafe extern "sysv64" {
    #[link_name = "tierup_code_enter"]
    fn enter_sym(
        jmp: *mut Jmp,
        shim: *const (),
        callee: *const FuncEntry,
        code: *const FuncCode,
        caller: *mut VmContext,
        args_results: *mut ValRaw,
    ) -> u32;
    #[link_name = "tierup_code_resume"]
    fn resume_sym(jmp: *mut Jmp, status: u32) -> !;
    #[link_name = "tierup_code_raise"]
    fn raise_sym(status: u32);
    #[link_name = "tierup_code_epoch_preserving"]
    fn epoch_preserving_sym(vmctx: *mut VmContext);
    #[link_name = "tierup_code_preempt"]
    fn preempt_sym();
    #[link_name = "tierup_code_no_adapter"]
    fn no_adapter_sym();
    #[link_name = "tierup_code_resolve_adapter"]
    fn resolve_sym();
}

/// The register entry that every record without one of its own carries in an engine with
/// machine code: the first call through a slot finds the adapter of the slot's signature
/// (compiling it on first use in the engine), stores it into the slot's `register_entry`
/// so that later calls go there directly, and continues into it.
pub(crate) fn resolving_entry() -> *const () {
    resolve_sym as *const ()
}

/// Called by the resolving entry (assembly) with the call's first two arguments: returns
/// the adapter of `callee`'s signature, or [`no_adapter`] where there is none (logged).
extern "sysv64" fn resolve_target(callee: *const FuncEntry, caller: *mut VmContext) -> *const () {
    let found = std::panic::catch_unwind(|| {
        // SAFETY: the register convention: `callee` is the slot the call went through and
        // `caller` the calling instance's context, both live for the call.
        unsafe { crate::engine::resolve_adapter(callee, caller) }
    });
    let adapter = match found {
        Ok(Ok(adapter)) => adapter,
        Ok(Err(e)) => {
            tracing::error!(target: "tierup::tiering", "{e:#}");
            return no_adapter();
        }
        Err(_) => {
            tracing::error!(target: "tierup::tiering", "making an adapter panicked");
            return no_adapter();
        }
    };
    // SAFETY: as above. Only a slot that still holds the resolving entry changes: one whose
    // compiled code was published meanwhile keeps it (both entries are valid for the
    // record in `code`, which the adapter reads at each call).
    let _ = unsafe { &*callee }.register_entry.compare_exchange(
        resolving_entry() as *mut (),
        adapter as *mut (),
        core::sync::atomic::Ordering::Release,
        core::sync::atomic::Ordering::Relaxed,
    );
    adapter
}

/// The register entry of a function whose adapter failed to compile: a call raises
/// `function failed to compile`.
pub(crate) fn no_adapter() -> *const () {
    no_adapter_sym as *const ()
}

/// The address the signal handler sends a thread to: `resume(jmp, status)`.
pub(crate) fn resume_address() -> usize {
    resume_sym as *const () as usize
}

/// The `raise` libcall.
pub(crate) const RAISE: unsafe extern "sysv64" fn(u32) = raise_sym;

/// The `epoch_preserving` libcall.
pub(crate) const EPOCH_PRESERVING: unsafe extern "sysv64" fn(*mut VmContext) = epoch_preserving_sym;

/// Called by `raise` (assembly) with the status and the PC and frame pointer of
/// `raise`'s caller; records them in the current activation and returns its `Jmp`.
extern "sysv64" fn raise_target(status: u32, pc: usize, fp: usize) -> *mut Jmp {
    record_raise(Kind::Raised, status, pc, fp)
}

/// Called by `preempt` (assembly) with a failed status of the epoch handling and the
/// interrupted instruction and its frame pointer; as [`raise_target`].
extern "sysv64" fn preempt_raise_target(status: u32, pc: usize, fp: usize) -> *mut Jmp {
    record_raise(Kind::Preempted, status, pc, fp)
}

/// Records a raised status in the current activation; returns its `Jmp`.
fn record_raise(kind: Kind, status: u32, pc: usize, fp: usize) -> *mut Jmp {
    let act = current();
    if act.is_null() {
        // Generated code runs only inside an activation; without one there is nowhere to
        // unwind to, and returning would continue after a call that must not return.
        eprintln!("tierup: a trap was raised outside of any activation of machine code");
        std::process::abort();
    }
    // SAFETY: `act` is the live innermost activation of this thread.
    unsafe {
        (*act).fault = Fault {
            kind,
            code: status,
            pc,
            fp,
            addr: 0,
        };
        (*act).jmp.status = status;
        &raw mut (*act).jmp
    }
}

/// Called by `preempt` (assembly): the `epoch` libcall for the context of the thread's
/// innermost activation, whose code the thread was stopped in.
extern "sysv64" fn preempted() -> u32 {
    let act = current();
    if act.is_null() {
        return tierup_abi::STATUS_OK;
    }
    // SAFETY: `act` is the live innermost activation, entered with a live context; its
    // store runs this thread's code and is borrowed by nothing while that code runs.
    unsafe { crate::libcalls::epoch((*act).vmctx) }
}

/// Where the handler of `preempt` sends a thread it stopped (see the assembly).
pub(crate) fn preempt_address() -> usize {
    preempt_sym as *const () as usize
}

/// The array entry of every record of machine code: runs the function's array shim
/// (`code.data`) inside a new activation, and turns a trap into its status with the
/// record and the backtrace of the generated frames made.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`]; `code.data` is the array shim of machine code
/// loaded by the runtime for `callee`'s function.
pub(crate) unsafe extern "sysv64" fn jit_entry(
    callee: *const FuncEntry,
    code: *const FuncCode,
    caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32 {
    let mut act = Activation {
        jmp: Jmp {
            sp: 0,
            fp: 0,
            status: 0,
        },
        fault: Fault {
            kind: Kind::None,
            code: 0,
            pc: 0,
            fp: 0,
            addr: 0,
        },
        prev: current(),
        // SAFETY: the caller's contract: `callee` is a live slot.
        vmctx: unsafe { (*callee).vmctx },
    };
    let this: *mut Activation = &mut act;
    CURRENT.with(|c| c.set(this));
    // SAFETY: the caller's contract covers the arguments; the shim is machine code that
    // follows the array convention; `this` lives until after the call.
    let status = unsafe {
        enter_sym(
            &raw mut (*this).jmp,
            (*code).data,
            callee,
            code,
            caller,
            args_results,
        )
    };
    CURRENT.with(|c| c.set(act.prev));
    status
}

/// Called by `resume` (assembly) before it drops the generated frames: makes the trap's
/// record (a fault starts a new one with its trap; a raised status was recorded by whoever
/// failed) and adds every generated frame of the activation, innermost first.
///
/// It runs on the stack below those frames, so their memory is intact.
extern "sysv64" fn walk(jmp: *mut Jmp) {
    // `jmp` is the first field of the current activation.
    let act = jmp.cast::<Activation>();
    // SAFETY: `resume` is only reached with the `Jmp` of the thread's live innermost
    // activation, whose fault slot was just written.
    let fault = unsafe { &(*act).fault };
    let (mut pc, mut fp) = (fault.pc, fault.fp);
    let mut exact = match fault.kind {
        Kind::Fault => {
            let code = TrapCode::from_status(fault.code).unwrap_or(TrapCode::CompileError);
            tracing::debug!(
                target: "tierup::trap",
                pc = format_args!("{:#x}", fault.pc),
                addr = format_args!("{:#x}", fault.addr),
                trap = code.message(),
                "fault in generated code"
            );
            trap::record(code);
            true
        }
        Kind::Raised => false,
        Kind::Preempted => true,
        Kind::None => return,
    };
    loop {
        // A return address lies after its call: look up the call instruction itself.
        let at = if exact { pc } else { pc.wrapping_sub(1) };
        let found = registry::lookup(at, |info, offset| (info.owner, info.wasm_offset(offset)));
        let Some((owner, wasm_offset)) = found else {
            break;
        };
        if let (
            CodeOwner::Func {
                module, func_index, ..
            },
            Some(code_offset),
        ) = (owner, wasm_offset)
        {
            trap::push_frame(TrapFrame {
                owner: FrameOwner::Module(module),
                func_index,
                code_offset,
            });
        }
        if fp == 0 {
            break;
        }
        // SAFETY: `fp` is the frame pointer of a generated frame (its code is in the
        // registry), and generated code keeps the frame-pointer chain: the caller's frame
        // pointer at `fp` and the return address above it. The frames lie above this
        // function's own, so they are intact.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
        exact = false;
    }
}
