//! The instructions on an instance's state: globals, memory (size, grow, fill, copy,
//! init, drop) and tables (get, set, size, grow, fill, copy, init, drop), and
//! `ref.func`. The bulk operations that need the instance's segments are libcalls.

use core::ptr;

use tierup_abi::{TrapCode, ValRaw, WASM_PAGE_SIZE};

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, get, memory, set};
use crate::inst::Inst;
use crate::isa::{Instr, Op};

handler! {
    /// `global.get`.
    GlobalGet |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, GlobalGet { dst, index });
        let cell = *(*(*ctx).vmctx).globals.add(index as usize);
        set(fp, dst, (*cell).get_u64());
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `global.set`.
    GlobalSet |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, GlobalSet { src, index });
        let cell = *(*(*ctx).vmctx).globals.add(index as usize);
        *cell = ValRaw::from_u64(get(fp, src));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `memory.size`.
    MemorySize |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, MemorySize { dst });
        set(fp, dst, mem_len / WASM_PAGE_SIZE as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `memory.grow` (a libcall; the memory is reloaded after it).
    MemoryGrow |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, MemoryGrow { dst, delta });
        let vmctx = (*ctx).vmctx;
        let old = ((*(*vmctx).libcalls).memory_grow)(vmctx, 0, get(fp, delta) as u32);
        set(fp, dst, old as u64);
        let (mem, mem_len) = memory(vmctx);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `memory.fill`.
    MemoryFill |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, MemoryFill { dst, val, len });
        let d = get(fp, dst) as u32 as u64;
        let n = get(fp, len) as u32 as u64;
        if d + n > mem_len {
            leave!(ip, fp, ctx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        ptr::write_bytes(mem.add(d as usize), get(fp, val) as u8, n as usize);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `memory.copy`.
    MemoryCopy |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, MemoryCopy { dst, src, len });
        let d = get(fp, dst) as u32 as u64;
        let s = get(fp, src) as u32 as u64;
        let n = get(fp, len) as u32 as u64;
        if d + n > mem_len || s + n > mem_len {
            leave!(ip, fp, ctx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        ptr::copy(mem.add(s as usize), mem.add(d as usize), n as usize);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

/// Ends the handler with `Propagate` when a libcall's status is not OK.
macro_rules! check_status {
    ($ip:expr, $fp:expr, $ctx:expr, $status:expr) => {{
        let status: u32 = $status;
        if status != tierup_abi::STATUS_OK {
            leave!($ip, $fp, $ctx, Exit::propagate(status));
        }
    }};
}

handler! {
    /// `memory.init` (a libcall).
    MemoryInit |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, MemoryInit { data, dst, src, len });
        let vmctx = (*ctx).vmctx;
        check_status!(ip, fp, ctx, ((*(*vmctx).libcalls).memory_init)(
            vmctx,
            0,
            data,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `data.drop` (a libcall).
    DataDrop |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, DataDrop { data });
        let vmctx = (*ctx).vmctx;
        ((*(*vmctx).libcalls).data_drop)(vmctx, data);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.get`.
    TableGet |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableGet { dst, index, table });
        let t = *(*(*ctx).vmctx).tables.add(table as usize);
        let i = get(fp, index) as u32 as usize;
        if i >= (*t).length {
            leave!(ip, fp, ctx, Exit::trap(TrapCode::TableOutOfBounds));
        }
        set(fp, dst, *(*t).elements.add(i) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.set`.
    TableSet |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableSet { index, val, table });
        let t = *(*(*ctx).vmctx).tables.add(table as usize);
        let i = get(fp, index) as u32 as usize;
        if i >= (*t).length {
            leave!(ip, fp, ctx, Exit::trap(TrapCode::TableOutOfBounds));
        }
        *(*t).elements.add(i) = get(fp, val) as usize;
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.size`.
    TableSize |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableSize { dst, table });
        let t = *(*(*ctx).vmctx).tables.add(table as usize);
        set(fp, dst, (*t).length as u32 as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.grow` (a libcall).
    TableGrow |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableGrow { dst, init, delta, table });
        let vmctx = (*ctx).vmctx;
        let old = ((*(*vmctx).libcalls).table_grow)(
            vmctx,
            table,
            get(fp, init) as usize,
            get(fp, delta) as u32,
        );
        set(fp, dst, old as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.fill` (a libcall).
    TableFill |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableFill { dst, val, len, table });
        let vmctx = (*ctx).vmctx;
        check_status!(ip, fp, ctx, ((*(*vmctx).libcalls).table_fill)(
            vmctx,
            table,
            get(fp, dst) as u32,
            get(fp, val) as usize,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.copy` (a libcall).
    TableCopy |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableCopy { dst, src, len, dst_table, src_table });
        let vmctx = (*ctx).vmctx;
        check_status!(ip, fp, ctx, ((*(*vmctx).libcalls).table_copy)(
            vmctx,
            dst_table,
            src_table,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `table.init` (a libcall).
    TableInit |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, TableInit { dst, src, len, table, elem });
        let vmctx = (*ctx).vmctx;
        check_status!(ip, fp, ctx, ((*(*vmctx).libcalls).table_init)(
            vmctx,
            table,
            elem,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `elem.drop` (a libcall).
    ElemDrop |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, ElemDrop { elem });
        let vmctx = (*ctx).vmctx;
        ((*(*vmctx).libcalls).elem_drop)(vmctx, elem);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `ref.func`.
    RefFunc |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, RefFunc { dst, func });
        set(fp, dst, *(*(*ctx).vmctx).func_refs.add(func as usize) as usize as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

/// Enters the global, memory, table and reference handlers into `t` (form 0).
pub(super) const fn register(t: &mut HandlerTable) {
    register!(
        t, GlobalGet, GlobalSet, MemorySize, MemoryGrow, MemoryFill, MemoryCopy, MemoryInit,
        DataDrop, TableGet, TableSet, TableSize, TableGrow, TableFill, TableCopy, TableInit,
        ElemDrop, RefFunc,
    );
}
