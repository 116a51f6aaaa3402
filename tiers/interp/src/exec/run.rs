//! The instruction loop: `loop { match *ip }` over raw instruction and register pointers.
//! Calls between interpreted functions push a [`Frame`] and continue in the same loop;
//! other callees (host functions, later JIT code) are called through their array entry.

use core::ptr;

use tierup_abi::{FuncEntry, Tier, TrapCode, ValRaw, VmContext, WASM_PAGE_SIZE, trap};

use super::stack::{Frame, ThreadStack};
use super::{cells_to_regs, enter_frame, push_backtrace, regs_to_cells, vector};
use crate::func::{InterpFunc, NARROW};
use crate::isa::{Instr, Reg, for_each_op};
use crate::num::{Bits, Imm, RegVal, call1, call2};

/// How the loop ended.
enum Exit {
    /// The outermost frame returned; results are in the argument buffer.
    Done,
    /// The interpreter raised a trap (not recorded yet).
    Trap(TrapCode),
    /// A callee or libcall trapped and recorded it; this is its status.
    Propagate(u32),
}

/// Reads register `r`.
///
/// # Safety
///
/// `r` lies in the current frame or its constant area (translator invariant 2).
#[inline(always)]
unsafe fn get(fp: *mut u64, r: Reg) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) }
}

/// Writes register `r`.
///
/// # Safety
///
/// As for [`get`].
#[inline(always)]
unsafe fn set(fp: *mut u64, r: Reg, v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) = v }
}

/// The base and length of the memory of `vmctx` (length 0 when it has none).
///
/// # Safety
///
/// `vmctx` is a valid context.
#[inline(always)]
unsafe fn memory(vmctx: *mut VmContext) -> (*mut u8, u64) {
    // SAFETY: a valid context's memory pointer is null or valid.
    unsafe {
        let m = (*vmctx).memory;
        if m.is_null() {
            (ptr::null_mut(), 0)
        } else {
            (
                (*vmctx).memory_base,
                (*m).length.load(core::sync::atomic::Ordering::Relaxed) as u64,
            )
        }
    }
}

/// Generates the instruction `match` from the table; `$extra` holds the other arms.
macro_rules! exec_match {
    (
        ( $instr:expr, $fp:ident, $ip:ident, $mem_base:ident, $mem_len:ident, $l:lifetime, { $($extra:tt)* } )
        binary { $( $bname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap { $( $tname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )* }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare { $( $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty) $([ $cbi:ident / $cbni:ident ])? = $cf:expr; )* }
        load { $( $lname:ident [$ln:literal] = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] = $sf:expr; )* }
        vbinary { $( $wname:ident = $wf:expr; )* }
        vunary { $( $zname:ident = $zf:expr; )* }
        extract { $( $xname:ident = $xf:expr; )* }
        replace { $( $rname:ident = $rf:expr; )* }
        vload { $( $vlname:ident [$vln:literal] = $vlf:expr; )* }
        vstore { $( $vsname:ident [$vsn:literal] = $vsf:expr; )* }
        load_lane { $( $llname:ident [$lln:literal] = $llf:expr; )* }
        store_lane { $( $slname:ident [$sln:literal] = $slf:expr; )* }
    ) => {
        match $instr {
            $( Instr::$bname { dst, a, b } => {
                let v = call2::<$ba, $bb, $br, _>(
                    $bf,
                    <$ba as Bits>::from_reg(get($fp, a)),
                    <$bb as Bits>::from_reg(get($fp, b)),
                );
                set($fp, dst, v.into_reg());
            } )*
            $( Instr::$tname { dst, a, b } => {
                match call2::<$ta, $tb, Result<$tr, TrapCode>, _>(
                    $tf,
                    <$ta as Bits>::from_reg(get($fp, a)),
                    <$tb as Bits>::from_reg(get($fp, b)),
                ) {
                    Ok(v) => set($fp, dst, v.into_reg()),
                    Err(code) => break $l Exit::Trap(code),
                }
            } )*
            $( Instr::$uname { dst, src } => {
                let v = call1::<$ua, $ur, _>($uf, <$ua as Bits>::from_reg(get($fp, src)));
                set($fp, dst, v.into_reg());
            } )*
            $( Instr::$vname { dst, src } => {
                match call1::<$va, Result<$vr, TrapCode>, _>(
                    $vf,
                    <$va as Bits>::from_reg(get($fp, src)),
                ) {
                    Ok(v) => set($fp, dst, v.into_reg()),
                    Err(code) => break $l Exit::Trap(code),
                }
            } )*
            $( Instr::$cname { dst, a, b } => {
                let v = call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(get($fp, a)),
                    <$ct as Bits>::from_reg(get($fp, b)),
                );
                set($fp, dst, v as u64);
            } )*
            $( Instr::$cbr { a, b, offset } => {
                if call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(get($fp, a)),
                    <$ct as Bits>::from_reg(get($fp, b)),
                ) {
                    $ip = $ip.offset(offset as isize);
                    continue $l;
                }
            } )*
            $( Instr::$cbrn { a, b, offset } => {
                if !call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(get($fp, a)),
                    <$ct as Bits>::from_reg(get($fp, b)),
                ) {
                    $ip = $ip.offset(offset as isize);
                    continue $l;
                }
            } )*
            $( $(
                Instr::$cbi { a, imm, offset } => {
                    if call2::<$ct, $ct, bool, _>(
                        $cf,
                        <$ct as Bits>::from_reg(get($fp, a)),
                        <$ct as Imm>::from_imm(imm),
                    ) {
                        $ip = $ip.offset(offset as isize);
                        continue $l;
                    }
                }
                Instr::$cbni { a, imm, offset } => {
                    if !call2::<$ct, $ct, bool, _>(
                        $cf,
                        <$ct as Bits>::from_reg(get($fp, a)),
                        <$ct as Imm>::from_imm(imm),
                    ) {
                        $ip = $ip.offset(offset as isize);
                        continue $l;
                    }
                }
            )? )*
            $( Instr::$lname { dst, addr, offset } => {
                let ea = get($fp, addr) as u32 as u64 + offset as u64;
                if ea + $ln > $mem_len {
                    break $l Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let bytes = ptr::read_unaligned($mem_base.add(ea as usize) as *const [u8; $ln]);
                set($fp, dst, call1::<[u8; $ln], u64, _>($lf, bytes));
            } )*
            $( Instr::$sname { addr, val, offset } => {
                let ea = get($fp, addr) as u32 as u64 + offset as u64;
                if ea + $sn > $mem_len {
                    break $l Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let bytes = call1::<u64, [u8; $sn], _>($sf, get($fp, val));
                ptr::write_unaligned($mem_base.add(ea as usize) as *mut [u8; $sn], bytes);
            } )*
            // Every v128 lane instruction: one out-of-line call (see `vector`).
            $( Instr::$wname { .. } )|*
            | $( Instr::$zname { .. } )|*
            | $( Instr::$xname { .. } )|*
            | $( Instr::$rname { .. } )|*
            | $( Instr::$vlname { .. } )|*
            | $( Instr::$vsname { .. } )|*
            | $( Instr::$llname { .. } )|*
            | $( Instr::$slname { .. } )|*
            | Instr::V128Bitselect { .. }
            | Instr::I8x16Shuffle { .. } => {
                if let Err(code) = vector::exec(&*$ip, $fp, $mem_base, $mem_len) {
                    break $l Exit::Trap(code);
                }
            }
            $($extra)*
        }
    };
}

/// Arguments/results of a call out through an array entry: on the host stack when small.
const INLINE_CELLS: usize = 16;

/// Runs `func` (whose frame is set up at `fp`) until its outermost frame returns or a trap.
/// Returns the status; on a trap the record is made and the backtrace pushed.
///
/// # Safety
///
/// `ts` is this thread's stack, `fp` a frame for `func` entered with [`enter_frame`],
/// `vmctx` the context `func` runs in, `results` has room for the results.
pub(super) unsafe fn run(
    ts: *mut ThreadStack,
    func: *const InterpFunc,
    vmctx: *mut VmContext,
    fp: *mut u64,
    frames_base: usize,
    results: *mut ValRaw,
) -> u32 {
    let mut func = func;
    let mut vmctx = vmctx;
    let mut fp = fp;
    // SAFETY: the loop relies on the translator invariants stated on `InterpFunc` and in
    // the module docs of `exec`: registers, branch targets, call sites and table entries
    // are in range; pointers from the context are valid while the instance lives; memory
    // and table accesses are bounds-checked against the current lengths, which are
    // reloaded after anything that may change them.
    unsafe {
        let mut ip: *const Instr = (*func).code.as_ptr();
        let (mut mem_base, mut mem_len) = memory(vmctx);

        // Calls `$callee` (a valid slot) with the site's arguments at `base`.
        macro_rules! do_call {
            ($l:lifetime, $callee:expr, $site:expr, $base:expr) => {{
                let callee: *const FuncEntry = $callee;
                let site = $site;
                let base: Reg = $base;
                let mut code = (*callee).load_code();
                if (*code).tier == Tier::Lazy {
                    code = ((*(*vmctx).libcalls).translate)(callee);
                    if code.is_null() {
                        break $l Exit::Propagate(TrapCode::CompileError.status());
                    }
                }
                if (*code).tier == Tier::Interp {
                    let cf = (*code).data as *const InterpFunc;
                    let above = fp.add((*func).frame_size as usize);
                    let cvm = (*callee).vmctx;
                    let Some(new_fp) = enter_frame(ts, above, &*cf, cvm) else {
                        break $l Exit::Trap(TrapCode::StackOverflow);
                    };
                    let args = fp.offset(base as isize);
                    for i in 0..site.param_regs as usize {
                        *new_fp.add(i) = *args.add(i);
                    }
                    (*ts).frames.push(Frame {
                        func,
                        vmctx,
                        ip,
                        fp,
                        ret: args,
                    });
                    func = cf;
                    vmctx = cvm;
                    fp = new_fp;
                    ip = (*func).code.as_ptr();
                    (mem_base, mem_len) = memory(vmctx);
                    continue $l;
                }
                // Another tier or a host function: through its array entry.
                let cells = (site.params.max(site.results)) as usize;
                let mut inline = [ValRaw::ZERO; INLINE_CELLS];
                let mut heap = Vec::new();
                let buf: *mut ValRaw = if cells <= INLINE_CELLS {
                    inline.as_mut_ptr()
                } else {
                    heap.resize(cells, ValRaw::ZERO);
                    heap.as_mut_ptr()
                };
                let args = fp.offset(base as isize);
                let wide: &[bool] = if site.wide == NARROW {
                    &[]
                } else {
                    &(&(*func).wide)[site.wide as usize..]
                };
                if site.wide == NARROW {
                    for i in 0..site.params as usize {
                        *buf.add(i) = ValRaw::from_u64(*args.add(i));
                    }
                } else {
                    regs_to_cells(args, buf, &wide[..site.params as usize]);
                }
                (*ts).top = fp.add((*func).frame_size as usize);
                let status = ((*code).array_entry)(callee, code, vmctx, buf);
                if status != tierup_abi::STATUS_OK {
                    break $l Exit::Propagate(status);
                }
                if site.wide == NARROW {
                    for i in 0..site.results as usize {
                        *args.add(i) = (*buf.add(i)).get_u64();
                    }
                } else {
                    let p = site.params as usize;
                    cells_to_regs(buf, args, &wide[p..p + site.results as usize]);
                }
                (mem_base, mem_len) = memory(vmctx);
            }};
        }

        let exit = 'run: loop {
            for_each_op!(exec_match!(*ip, fp, ip, mem_base, mem_len, 'run, {
                Instr::Trap { code } => break 'run Exit::Trap(code),
                Instr::Copy { dst, src } => set(fp, dst, get(fp, src)),
                Instr::CopySpan { dst, src, len } => {
                    let d = fp.offset(dst as isize);
                    let s = fp.offset(src as isize);
                    for i in 0..len as usize {
                        *d.add(i) = *s.add(i);
                    }
                }
                Instr::Br { offset } => {
                    ip = ip.offset(offset as isize);
                    continue 'run;
                }
                Instr::BrEqz { cond, offset } => {
                    if get(fp, cond) as u32 == 0 {
                        ip = ip.offset(offset as isize);
                        continue 'run;
                    }
                }
                Instr::BrNez { cond, offset } => {
                    if get(fp, cond) as u32 != 0 {
                        ip = ip.offset(offset as isize);
                        continue 'run;
                    }
                }
                Instr::BrI64Eqz { cond, offset } => {
                    if get(fp, cond) == 0 {
                        ip = ip.offset(offset as isize);
                        continue 'run;
                    }
                }
                Instr::BrI64Nez { cond, offset } => {
                    if get(fp, cond) != 0 {
                        ip = ip.offset(offset as isize);
                        continue 'run;
                    }
                }
                Instr::BrTable { index, len } => {
                    let i = (get(fp, index) as u32).min(len);
                    ip = ip.add(1 + i as usize);
                    continue 'run;
                }
                Instr::Return { src, len } => {
                    let s = fp.offset(src as isize);
                    if (*ts).frames.len() == frames_base {
                        let f = &*func;
                        if f.sig_wide == NARROW {
                            for i in 0..len as usize {
                                *results.add(i) = ValRaw::from_u64(*s.add(i));
                            }
                        } else {
                            let p = f.sig_wide as usize + f.num_params as usize;
                            regs_to_cells(s, results, &f.wide[p..p + f.num_results as usize]);
                        }
                        break 'run Exit::Done;
                    }
                    let Some(frame) = (*ts).frames.pop() else {
                        break 'run Exit::Trap(TrapCode::StackOverflow);
                    };
                    for i in 0..len as usize {
                        *frame.ret.add(i) = *s.add(i);
                    }
                    func = frame.func;
                    vmctx = frame.vmctx;
                    fp = frame.fp;
                    ip = frame.ip;
                    (mem_base, mem_len) = memory(vmctx);
                }
                Instr::Call { site, base } => {
                    let site = *(*func).calls.as_ptr().add(site as usize);
                    let callee = *(*vmctx).func_refs.add(site.index as usize);
                    do_call!('run, callee, site, base);
                }
                Instr::CallIndirect { site, base, index } => {
                    let site = *(*func).calls.as_ptr().add(site as usize);
                    let table = *(*vmctx).tables.add(site.table as usize);
                    let i = get(fp, index) as u32 as usize;
                    if i >= (*table).length {
                        break 'run Exit::Trap(TrapCode::UndefinedElement);
                    }
                    let callee = *(*table).elements.add(i) as *const FuncEntry;
                    if callee.is_null() {
                        break 'run Exit::Trap(TrapCode::UninitializedElement);
                    }
                    let expected = *(*vmctx).type_ids.add(site.index as usize);
                    if (*callee).type_id != expected {
                        break 'run Exit::Trap(TrapCode::IndirectCallTypeMismatch);
                    }
                    do_call!('run, callee, site, base);
                }
                Instr::I32Eqz { dst, src } => set(fp, dst, (get(fp, src) as u32 == 0) as u64),
                Instr::I64Eqz { dst, src } => set(fp, dst, (get(fp, src) == 0) as u64),
                Instr::Select { dst, cond, a, b } => {
                    let v = if get(fp, cond) as u32 != 0 { get(fp, a) } else { get(fp, b) };
                    set(fp, dst, v);
                }
                Instr::GlobalGet { dst, index } => {
                    let cell = *(*vmctx).globals.add(index as usize);
                    set(fp, dst, (*cell).get_u64());
                }
                Instr::GlobalSet { src, index } => {
                    let cell = *(*vmctx).globals.add(index as usize);
                    *cell = ValRaw::from_u64(get(fp, src));
                }
                Instr::MemorySize { dst } => {
                    set(fp, dst, mem_len / WASM_PAGE_SIZE as u64);
                }
                Instr::MemoryGrow { dst, delta } => {
                    let old = ((*(*vmctx).libcalls).memory_grow)(vmctx, 0, get(fp, delta) as u32);
                    set(fp, dst, old as u64);
                    (mem_base, mem_len) = memory(vmctx);
                }
                Instr::MemoryFill { dst, val, len } => {
                    let d = get(fp, dst) as u32 as u64;
                    let n = get(fp, len) as u32 as u64;
                    if d + n > mem_len {
                        break 'run Exit::Trap(TrapCode::MemoryOutOfBounds);
                    }
                    ptr::write_bytes(mem_base.add(d as usize), get(fp, val) as u8, n as usize);
                }
                Instr::MemoryCopy { dst, src, len } => {
                    let d = get(fp, dst) as u32 as u64;
                    let s = get(fp, src) as u32 as u64;
                    let n = get(fp, len) as u32 as u64;
                    if d + n > mem_len || s + n > mem_len {
                        break 'run Exit::Trap(TrapCode::MemoryOutOfBounds);
                    }
                    ptr::copy(mem_base.add(s as usize), mem_base.add(d as usize), n as usize);
                }
                Instr::MemoryInit { data, dst, src, len } => {
                    let status = ((*(*vmctx).libcalls).memory_init)(
                        vmctx,
                        0,
                        data,
                        get(fp, dst) as u32,
                        get(fp, src) as u32,
                        get(fp, len) as u32,
                    );
                    if status != tierup_abi::STATUS_OK {
                        break 'run Exit::Propagate(status);
                    }
                }
                Instr::DataDrop { data } => ((*(*vmctx).libcalls).data_drop)(vmctx, data),
                Instr::TableGet { dst, index, table } => {
                    let t = *(*vmctx).tables.add(table as usize);
                    let i = get(fp, index) as u32 as usize;
                    if i >= (*t).length {
                        break 'run Exit::Trap(TrapCode::TableOutOfBounds);
                    }
                    set(fp, dst, *(*t).elements.add(i) as u64);
                }
                Instr::TableSet { index, val, table } => {
                    let t = *(*vmctx).tables.add(table as usize);
                    let i = get(fp, index) as u32 as usize;
                    if i >= (*t).length {
                        break 'run Exit::Trap(TrapCode::TableOutOfBounds);
                    }
                    *(*t).elements.add(i) = get(fp, val) as usize;
                }
                Instr::TableSize { dst, table } => {
                    let t = *(*vmctx).tables.add(table as usize);
                    set(fp, dst, (*t).length as u32 as u64);
                }
                Instr::TableGrow { dst, init, delta, table } => {
                    let old = ((*(*vmctx).libcalls).table_grow)(
                        vmctx,
                        table,
                        get(fp, init) as usize,
                        get(fp, delta) as u32,
                    );
                    set(fp, dst, old as u64);
                }
                Instr::TableFill { dst, val, len, table } => {
                    let status = ((*(*vmctx).libcalls).table_fill)(
                        vmctx,
                        table,
                        get(fp, dst) as u32,
                        get(fp, val) as usize,
                        get(fp, len) as u32,
                    );
                    if status != tierup_abi::STATUS_OK {
                        break 'run Exit::Propagate(status);
                    }
                }
                Instr::TableCopy { dst, src, len, dst_table, src_table } => {
                    let status = ((*(*vmctx).libcalls).table_copy)(
                        vmctx,
                        dst_table,
                        src_table,
                        get(fp, dst) as u32,
                        get(fp, src) as u32,
                        get(fp, len) as u32,
                    );
                    if status != tierup_abi::STATUS_OK {
                        break 'run Exit::Propagate(status);
                    }
                }
                Instr::TableInit { dst, src, len, table, elem } => {
                    let status = ((*(*vmctx).libcalls).table_init)(
                        vmctx,
                        table,
                        elem,
                        get(fp, dst) as u32,
                        get(fp, src) as u32,
                        get(fp, len) as u32,
                    );
                    if status != tierup_abi::STATUS_OK {
                        break 'run Exit::Propagate(status);
                    }
                }
                Instr::ElemDrop { elem } => ((*(*vmctx).libcalls).elem_drop)(vmctx, elem),
                Instr::RefFunc { dst, func: index } => {
                    set(fp, dst, *(*vmctx).func_refs.add(index as usize) as usize as u64);
                }
                Instr::CopyV128 { dst, src } => <u128 as RegVal>::load(fp, src).store(fp, dst),
                Instr::SelectV128 { dst, cond, a, b } => {
                    let v = if get(fp, cond) as u32 != 0 { a } else { b };
                    <u128 as RegVal>::load(fp, v).store(fp, dst);
                }
                Instr::GlobalGetV128 { dst, index } => {
                    let cell = *(*vmctx).globals.add(index as usize);
                    (*cell).get_v128().store(fp, dst);
                }
                Instr::GlobalSetV128 { src, index } => {
                    let cell = *(*vmctx).globals.add(index as usize);
                    *cell = ValRaw::v128(<u128 as RegVal>::load(fp, src));
                }
            }));
            ip = ip.add(1);
        };

        match exit {
            Exit::Done => tierup_abi::STATUS_OK,
            Exit::Trap(code) => {
                let status = trap::record(code);
                push_backtrace(ts, frames_base, func, vmctx, ip);
                status
            }
            Exit::Propagate(status) => {
                push_backtrace(ts, frames_base, func, vmctx, ip);
                status
            }
        }
    }
}
