//! The register bytecode: the [`Instr`] enum and its tag [`Op`], generated from the
//! instruction table (`table`: every operator of a fixed shape, one row each) and the
//! hand-written variants below (control, calls, fused pairs, memory, tables, globals).
//! `define` holds the generator; other modules read the table through
//! [`for_each_row!`].
//!
//! This is the data model: it knows nothing of how the executor runs an instruction
//! (handlers and forms live in `inst` and `exec`).

mod define;
mod table;

use define::define_instr;
use table::for_each_op;
use tierup_abi::TrapCode;

pub use crate::regs::Reg;

/// An operand position of an instruction that the translator may link through the
/// accumulator: its result, its first operand or its second (see `inst::Form`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The result.
    Out,
    /// The first operand (`a`, `src`, a load's or store's `addr`, a branch's `cond`).
    A,
    /// The second operand (`b`, a load's `index`, a store's `val`).
    B,
}

/// The constant a compare-branch of form `Counting::PRE` adds to its first operand (a loop
/// counter's step), or `I32AddImm2` to its operands. A type of its own, so that it is
/// not taken for a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step(pub i16);

/// What a loop counter advances by, for [`Instr::pre_add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Addend {
    Const(i16),
    Reg(Reg),
}

/// For [`Instr::regs_mut`]: calls `$f` on field `$field` of a hand-written [`Instr`]
/// variant if the variant declares it a `Reg`, by its written type (so a register is told
/// from another number of the same width, such as a branch offset in the wide form).
macro_rules! visit_reg {
    (Reg, $field:ident, $f:ident) => {
        $f($field)
    };
    ($other:tt, $field:ident, $f:ident) => {
        let _ = $field;
    };
}

for_each_op!(define_instr!(
    ($)
    /// Traps with `code`.
    Trap { code: TrapCode },
    /// Adds one to the call counter of the running function's slot
    /// (`FuncEntry::calls`): the first instruction of a function translated with
    /// `CompileOptions::count_calls`, and never a branch target.
    CountCall {},
    /// `dst = src`.
    Copy { dst: Reg, src: Reg },
    /// `dst = src`, then `dst2 = src2`: two consecutive copies in one dispatch.
    Copy2 { dst: Reg, src: Reg, dst2: Reg, src2: Reg },
    /// Copies `len` consecutive registers from `src..` to `dst..` in ascending order.
    CopySpan { dst: Reg, src: Reg, len: u16 },
    /// Unconditional branch.
    Br { offset: i32 },
    /// Branch if the i32 `cond` is zero. (In this and the next three, form `Counting::PRE` first
    /// adds `add`, or register `add_reg` with `Counting::ADD_REG`, to `cond`, as for the
    /// compare-branches.)
    BrEqz { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i32 `cond` is not zero.
    BrNez { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i64 `cond` is zero.
    BrI64Eqz { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if the i64 `cond` is not zero.
    BrI64Nez { cond: Reg, add_reg: Reg, offset: i32, add: Step },
    /// Branch if `a` differs from the byte at `addr + index` (in 32-bit arithmetic, as
    /// form `Access::INDEX` of a load) plus `mem_offset`: an indexed `i32.load8_u` whose value
    /// only the compare-branch after it reads, as in a loop comparing two byte strings.
    /// Traps as the load.
    BrI32NeLoad8U { a: Reg, addr: Reg, index: Reg, offset: i32, mem_offset: u32 },
    /// Branch if `a` equals the byte at `addr + index` plus `mem_offset`, as
    /// `BrI32NeLoad8U`.
    BrI32EqLoad8U { a: Reg, addr: Reg, index: Reg, offset: i32, mem_offset: u32 },
    /// Jumps to entry `min(index, len)` of the `len + 1` `Br` instructions that follow.
    BrTable { index: Reg, len: u32 },
    /// Returns the `len` consecutive registers `src..`.
    Return { src: Reg, len: u16 },
    /// Returns the one-register value `src` (a scalar).
    ReturnOne { src: Reg },
    /// Calls function `func` (`calls[site]` has the rest of the signature). The
    /// arguments are in the registers from `base`, the top of the operand stack: the
    /// callee's frame begins there, and its results are left there. In form `Counting::PRE` the
    /// call first sets its first argument, `base = arg + step` (i32; a copy of `arg` when
    /// `step` is 0; `arg` is not `base`, as the slow path may run the call again): the
    /// `fib(n - 1)` or `f(x)` of a one-argument call, computed or copied just before it,
    /// in the same dispatch.
    Call { base: Reg, site: u32, func: u32, arg: Reg, step: Step },
    /// Calls through table element `index` (`calls[site]` names type and table); `ty`
    /// is the expected type index. Arguments and results as for `Call`; in form `Counting::PRE`,
    /// first `base = arg` (after `index` is read).
    CallIndirect { base: Reg, index: Reg, arg: Reg, site: u32, ty: u32 },
    /// `dst = a + (b << shift)` (i32, wrapping): a constant `i32.shl` whose result only
    /// the next `i32.add` reads, as in array indexing. This and the eight after it are
    /// the shifted-operand family: an add, xor or or of a register and a shift or
    /// rotation of another by a constant (`shift`, already reduced modulo the width),
    /// which only that operation reads.
    I32AddShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a + (b >> shift)` (i32, logical shift, wrapping add).
    I32AddShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b << shift)` (i32).
    I32XorShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b >> shift)` (i32, logical shift).
    I32XorShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ rotl(b, shift)` (i32; a rotation right by `k` is one left by `32 - k`):
    /// the sums of rotations in SHA-2 and similar hashes.
    I32XorRotl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a | (b << shift)` (i32).
    I32OrShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a | (b >> shift)` (i32, logical shift).
    I32OrShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b << shift)` (i64): the steps of xorshift generators.
    I64XorShl { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a ^ (b >> shift)` (i64, logical shift).
    I64XorShrU { dst: Reg, a: Reg, b: Reg, shift: u8 },
    /// `dst = a + (b << shift)` as `I32AddShl`, then `val` = the i32 at `dst + offset`:
    /// the address of an array element kept in a local (the code stores back through
    /// it, as a swap does) and the element loaded from it. Traps as the load, after
    /// `dst` is written.
    I32AddShlLoad { dst: Reg, a: Reg, b: Reg, val: Reg, shift: u8, offset: u32 },
    /// `copy = src`, then `dst` = the i32 at `addr + src * scale` (in 32-bit arithmetic,
    /// as form `Access::INDEX`) `+ offset`: a loop moving its index to a local before it loads
    /// the element at the new one (`i = next; x = a[i]`, as in a merge). The load reads
    /// `src`, which holds what `copy` now does, so it need not wait for the copy.
    CopyI32Load { copy: Reg, src: Reg, dst: Reg, addr: Reg, scale: u8, offset: u32 },
    /// `dst = a / d` (i32, unsigned) for a constant `d >= 2`, by a multiplication:
    /// `magic = ceil(2^64 / d)`, and `a / d = (a * magic) >> 64` for every 32-bit `a`
    /// (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019). A
    /// division takes tens of cycles, the multiplication a few.
    I32DivUMagic { dst: Reg, a: Reg, magic: u64 },
    /// `dst = a - b * imm` (i32, wrapping): a multiplication by a constant whose result
    /// only the next `i32.sub` reads, as its second operand. The remainder `x - (x / d) *
    /// d` as compilers lower `x % d` where the quotient is needed too (digit loops).
    I32SubMulImm { dst: Reg, a: Reg, b: Reg, imm: u32 },
    /// `dst = (a ^ b) * imm` (i32, wrapping): an `i32.xor` whose result only the next
    /// multiplication by a constant reads: the step of FNV-1a hashing.
    I32XorMulImm { dst: Reg, a: Reg, b: Reg, imm: u32 },
    /// `dst = ((a >> shr) & mask) << shl` (i32, logical shifts): the shift and mask of a
    /// bit-field extraction (`shl` 0) or insertion (`shr` 0), whose first result only the
    /// second reads.
    I32ShiftMask { dst: Reg, a: Reg, shr: u8, shl: u8, mask: u32 },
    /// `dst = a | (((b >> shr) & mask) << shl)` (i32): an `I32ShiftMask` whose result
    /// only the next `i32.or` reads.
    I32OrShiftMask { dst: Reg, a: Reg, b: Reg, shr: u8, shl: u8, mask: u32 },
    /// `dst = a + imm`, then `dst2 = a2 + imm2` (i32, wrapping): two consecutive
    /// increments of locals.
    I32AddImm2 { dst: Reg, a: Reg, dst2: Reg, a2: Reg, imm: Step, imm2: Step },
    /// `dst = a + b`, then `dst2 = a2 + b2` (i32, wrapping): two consecutive adds into
    /// locals that are not both small constant increments (a constant addend is read
    /// from its constant register), such as a loop's strength-reduced induction
    /// variables stepping together.
    I32Add2 { dst: Reg, a: Reg, b: Reg, dst2: Reg, a2: Reg, b2: Reg },
    /// `dst` = the unsigned minimum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MinU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned maximum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MaxU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed minimum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MinS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed maximum of `a` and `b` (i32): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I32MaxS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned minimum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MinU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the unsigned maximum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MaxU { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed minimum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MinS { dst: Reg, a: Reg, b: Reg },
    /// `dst` = the signed maximum of `a` and `b` (i64): a compare and the `select` of its
    /// operands, which wasm has no instruction for.
    I64MaxS { dst: Reg, a: Reg, b: Reg },
    /// `dst = a + load(addr + offset)` (f64): a load whose value only the next `f64.add`
    /// reads, as its second operand.
    F64AddLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `dst = a * load(addr + offset)` (f64), as `F64AddLoad`.
    F64MulLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `dst = a + load(addr + offset)` (i32), as `F64AddLoad`.
    I32AddLoad { dst: Reg, a: Reg, addr: Reg, offset: u32 },
    /// `store(addr + offset, a + load(addr + offset))` (f64): an `F64AddLoad` whose sum
    /// only the store back to the same address reads, `c[j] += x` (the update of a
    /// matrix product or an axpy). Traps as the load.
    F64AddInPlace { a: Reg, addr: Reg, offset: u32 },
    /// `store(addr + offset, a + load(addr + offset))` (i32), as `F64AddInPlace`:
    /// `count[k] += x`.
    I32AddInPlace { a: Reg, addr: Reg, offset: u32 },
    /// `i32.eqz`.
    I32Eqz { dst: Reg, src: Reg },
    /// `i64.eqz` (also `ref.is_null`).
    I64Eqz { dst: Reg, src: Reg },
    /// `dst = cond != 0 ? a : b`.
    Select { dst: Reg, cond: Reg, a: Reg, b: Reg },
    /// `dst = global[index]`.
    GlobalGet { dst: Reg, index: u32 },
    /// `global[index] = src`.
    GlobalSet { src: Reg, index: u32 },
    /// `dst = memory.size`.
    MemorySize { dst: Reg },
    /// `dst = memory.grow(delta)`.
    MemoryGrow { dst: Reg, delta: Reg },
    /// `memory.fill(dst, val, len)`.
    MemoryFill { dst: Reg, val: Reg, len: Reg },
    /// `memory.copy(dst, src, len)`.
    MemoryCopy { dst: Reg, src: Reg, len: Reg },
    /// `memory.init data (dst, src, len)`.
    MemoryInit { data: u32, dst: Reg, src: Reg, len: Reg },
    /// `data.drop data`.
    DataDrop { data: u32 },
    /// `dst = table[index]`.
    TableGet { dst: Reg, index: Reg, table: u32 },
    /// `table[index] = val`.
    TableSet { index: Reg, val: Reg, table: u32 },
    /// `dst = table.size`.
    TableSize { dst: Reg, table: u32 },
    /// `dst = table.grow(init, delta)`.
    TableGrow { dst: Reg, init: Reg, delta: Reg, table: u32 },
    /// `table.fill(dst, val, len)`.
    TableFill { dst: Reg, val: Reg, len: Reg, table: u32 },
    /// `table.copy dst_table src_table (dst, src, len)`.
    TableCopy { dst: Reg, src: Reg, len: Reg, dst_table: u32, src_table: u32 },
    /// `table.init table elem (dst, src, len)`.
    TableInit { dst: Reg, src: Reg, len: Reg, table: u32, elem: u32 },
    /// `elem.drop elem`.
    ElemDrop { elem: u32 },
    /// `dst = ref.func func`.
    RefFunc { dst: Reg, func: u32 },
    /// `dst = src` for a v128 (two registers; both read before either is written).
    CopyV128 { dst: Reg, src: Reg },
    /// `dst = cond != 0 ? a : b` for v128 operands.
    SelectV128 { dst: Reg, cond: Reg, a: Reg, b: Reg },
    /// `dst = global[index]` for a v128 global.
    GlobalGetV128 { dst: Reg, index: u32 },
    /// `global[index] = src` for a v128 global.
    GlobalSetV128 { src: Reg, index: u32 },
    /// `dst = v128.bitselect(a, b, c)`.
    V128Bitselect { dst: Reg, a: Reg, b: Reg, c: Reg },
    /// `dst = i8x16.shuffle(a, b)` with the lane indices in the v128 constant `mask`.
    I8x16Shuffle { dst: Reg, a: Reg, b: Reg, mask: Reg },
));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instr_is_compact() {
        assert!(core::mem::size_of::<Instr>() <= if crate::regs::WIDE { 32 } else { 16 });
    }

    #[test]
    fn op_table_is_dense() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
    }

    /// The register operands of hand-written instructions are the fields declared `Reg`,
    /// whatever the width of `Reg`: a branch offset, an index or a length is never
    /// renumbered as a register (in the wide form, `Reg` and a branch offset are both
    /// `i32`).
    #[test]
    fn regs_mut_visits_the_fields_declared_reg() {
        let regs = |mut i: Instr| {
            let mut seen = Vec::new();
            i.regs_mut(|r| seen.push(*r));
            seen
        };
        assert!(regs(Instr::Br { offset: 5 }).is_empty());
        let branch = Instr::BrEqz {
            cond: 3,
            add_reg: 4,
            offset: 6,
            add: Step(7),
        };
        assert_eq!(regs(branch), [3, 4]);
        let load = Instr::BrI32NeLoad8U {
            a: 1,
            addr: 2,
            index: 3,
            offset: 40,
            mem_offset: 50,
        };
        assert_eq!(regs(load), [1, 2, 3]);
        assert_eq!(
            regs(Instr::CopySpan {
                dst: 8,
                src: 9,
                len: 10
            }),
            [8, 9]
        );
        assert_eq!(regs(Instr::GlobalGet { dst: 11, index: 12 }), [11]);
    }

    #[test]
    fn tag_matches_op() {
        let samples = [
            Instr::Trap {
                code: TrapCode::Unreachable,
            },
            Instr::Copy { dst: 1, src: -2 },
            Instr::I32Add { dst: 1, a: 2, b: 3 },
            Instr::F64Sqrt { dst: 1, src: 2 },
            Instr::BrI32LtS {
                a: 1,
                b: 2,
                add_reg: 3,
                offset: -7,
                add: Step(1),
            },
            Instr::BrI64NotGeUImm {
                a: 1,
                imm: 2,
                add_reg: 0,
                offset: 9,
                add: Step(-1),
            },
            Instr::F64Load {
                dst: 1,
                addr: 2,
                index: 4,
                scale: 8,
                offset: 3,
            },
            Instr::I64Store32 {
                addr: 1,
                val: 2,
                index: 3,
                scale: 4,
                offset: 3,
            },
            Instr::I8x16Shuffle {
                dst: 1,
                a: 2,
                b: 3,
                mask: -4,
            },
            Instr::V128Store64Lane {
                addr: 1,
                val: 2,
                lane: 1,
                offset: 5,
            },
        ];
        for i in samples {
            assert_eq!(i.tag(), i.op() as u16);
        }
    }
}
