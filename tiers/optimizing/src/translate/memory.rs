//! Linear memory: scalar loads and stores, `memory.size`, `memory.grow` and the bulk
//! operators. `memory.fill` and `memory.copy` are inline loops (8 bytes at a time, then
//! bytes) after a check of the whole range, so that an operation that traps writes
//! nothing; a copy runs backwards when the destination lies above the source.
//! `memory.init` and `data.drop` are libcalls.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, Value, types};
use tierup_abi::CompileError;
use wasmparser::{MemArg, Operator};

use super::{Translator, block_args};
use crate::env::Libcall;

impl Translator<'_, '_> {
    /// Pops the index of an access of `size` bytes described by `memarg`; returns the
    /// checked address and the immediate offset for the access.
    pub(super) fn access(
        &mut self,
        memarg: &MemArg,
        size: u32,
    ) -> Result<(Value, i32), CompileError> {
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            return Err(CompileError("memory access to a GC array".into()));
        };
        self.env.check_memory(memory)?;
        let index = self.pop()?;
        self.env
            .heap_address(&mut self.b, index, memarg.offset, size)
    }

    /// Memory operators other than SIMD ones.
    pub(super) fn translate_memory(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{F32, F64, I32, I64};
        macro_rules! load {
            ($memarg:expr, $method:ident, $ty:expr, $size:expr) => {{
                let (addr, off) = self.access($memarg, $size)?;
                let flags = self.env.heap_flags();
                let v = self.b.ins().$method($ty, flags, addr, off);
                self.push(v);
            }};
        }
        macro_rules! load32 {
            ($memarg:expr, $method:ident) => {{
                let (addr, off) = self.access($memarg, 4)?;
                let flags = self.env.heap_flags();
                let v = self.b.ins().$method(flags, addr, off);
                self.push(v);
            }};
        }
        macro_rules! store {
            ($memarg:expr, $method:ident, $size:expr) => {{
                let v = self.pop()?;
                let (addr, off) = self.access($memarg, $size)?;
                let flags = self.env.heap_flags();
                self.b.ins().$method(flags, v, addr, off);
            }};
        }
        match *op {
            O::I32Load { ref memarg } => load!(memarg, load, I32, 4),
            O::I64Load { ref memarg } => load!(memarg, load, I64, 8),
            O::F32Load { ref memarg } => load!(memarg, load, F32, 4),
            O::F64Load { ref memarg } => load!(memarg, load, F64, 8),
            O::I32Load8S { ref memarg } => load!(memarg, sload8, I32, 1),
            O::I32Load8U { ref memarg } => load!(memarg, uload8, I32, 1),
            O::I32Load16S { ref memarg } => load!(memarg, sload16, I32, 2),
            O::I32Load16U { ref memarg } => load!(memarg, uload16, I32, 2),
            O::I64Load8S { ref memarg } => load!(memarg, sload8, I64, 1),
            O::I64Load8U { ref memarg } => load!(memarg, uload8, I64, 1),
            O::I64Load16S { ref memarg } => load!(memarg, sload16, I64, 2),
            O::I64Load16U { ref memarg } => load!(memarg, uload16, I64, 2),
            O::I64Load32S { ref memarg } => load32!(memarg, sload32),
            O::I64Load32U { ref memarg } => load32!(memarg, uload32),
            O::I32Store { ref memarg } | O::F32Store { ref memarg } => store!(memarg, store, 4),
            O::I64Store { ref memarg } | O::F64Store { ref memarg } => store!(memarg, store, 8),
            O::I32Store8 { ref memarg } | O::I64Store8 { ref memarg } => {
                store!(memarg, istore8, 1)
            }
            O::I32Store16 { ref memarg } | O::I64Store16 { ref memarg } => {
                store!(memarg, istore16, 2)
            }
            O::I64Store32 { ref memarg } => store!(memarg, istore32, 4),

            O::MemorySize { mem } => {
                self.env.check_memory(mem)?;
                let length = self.env.memory_length(&mut self.b);
                let pages = self.b.ins().ushr_imm_u(length, 16);
                let v = self.b.ins().ireduce(I32, pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                self.env.check_memory(mem)?;
                let delta = self.pop()?;
                let index = self.b.ins().iconst(I32, i64::from(mem));
                let v = self
                    .env
                    .libcall_vm(&mut self.b, Libcall::MemoryGrow, &[index, delta])
                    .ok_or_else(|| CompileError("memory.grow without a result".into()))?;
                self.push(v);
            }
            O::MemoryFill { mem } => {
                self.env.check_memory(mem)?;
                let (dst, value, len) = self.pop3()?;
                self.memory_fill(dst, value, len);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                self.env.check_memory(dst_mem)?;
                self.env.check_memory(src_mem)?;
                let (dst, src, len) = self.pop3()?;
                self.memory_copy(dst, src, len);
            }
            O::MemoryInit { data_index, mem } => {
                self.env.check_memory(mem)?;
                let (dst, src, len) = self.pop3()?;
                let mem = self.b.ins().iconst(I32, i64::from(mem));
                let data = self.b.ins().iconst(I32, i64::from(data_index));
                self.env.libcall_checked(
                    &mut self.b,
                    Libcall::MemoryInit,
                    &[mem, data, dst, src, len],
                )?;
            }
            O::DataDrop { data_index } => {
                let data = self.b.ins().iconst(I32, i64::from(data_index));
                self.env.libcall_vm(&mut self.b, Libcall::DataDrop, &[data]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A block with one `i64` parameter.
    fn counter_block(&mut self) -> (Block, Value) {
        let block = self.b.create_block();
        let v = self.b.append_block_param(block, types::I64);
        (block, v)
    }

    /// `memory.fill`: checks `dst + len`, then stores words and bytes.
    fn memory_fill(&mut self, dst: Value, value: Value, len: Value) {
        use types::{I8, I64};
        let dst = self.b.ins().uextend(I64, dst);
        let len = self.b.ins().uextend(I64, len);
        let start = self.env.heap_range(&mut self.b, dst, len);
        let end = self.b.ins().iadd(start, len);
        let byte = self.b.ins().ireduce(I8, value);
        let wide = self.b.ins().uextend(I64, byte);
        let word = self
            .b
            .ins()
            .imul_imm_u(wide, 0x0101_0101_0101_0101u64 as i64);
        let flags = self.env.heap_flags();

        let (words, p) = self.counter_block();
        let word_body = self.b.create_block();
        let (bytes, q) = self.counter_block();
        let byte_body = self.b.create_block();
        let done = self.b.create_block();

        self.b.ins().jump(words, &block_args(&[start]));
        // words(p): while end - p >= 8 { store word; p += 8 }
        self.b.switch_to_block(words);
        let left = self.b.ins().isub(end, p);
        let more = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, 8);
        self.b
            .ins()
            .brif(more, word_body, &[], bytes, &block_args(&[p]));
        self.b.seal_block(word_body);
        self.b.switch_to_block(word_body);
        self.b.ins().store(flags, word, p, 0);
        let p8 = self.b.ins().iadd_imm_u(p, 8);
        self.b.ins().jump(words, &block_args(&[p8]));
        self.b.seal_block(words);
        // bytes(q): while q < end { store byte; q += 1 }
        self.b.switch_to_block(bytes);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, q, end);
        self.b.ins().brif(more, byte_body, &[], done, &[]);
        self.b.seal_block(byte_body);
        self.b.switch_to_block(byte_body);
        self.b.ins().istore8(flags, wide, q, 0);
        let q1 = self.b.ins().iadd_imm_u(q, 1);
        self.b.ins().jump(bytes, &block_args(&[q1]));
        self.b.seal_block(bytes);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// `memory.copy`: checks both ranges, then copies words and bytes, forwards when the
    /// destination lies at or below the source and backwards otherwise.
    fn memory_copy(&mut self, dst: Value, src: Value, len: Value) {
        use types::{I32, I64};
        let dst = self.b.ins().uextend(I64, dst);
        let src = self.b.ins().uextend(I64, src);
        let len = self.b.ins().uextend(I64, len);
        let to = self.env.heap_range(&mut self.b, dst, len);
        let from = self.env.heap_range(&mut self.b, src, len);
        let flags = self.env.heap_flags();

        let forward = self.b.create_block();
        let backward = self.b.create_block();
        let done = self.b.create_block();
        let down = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, dst, src);
        self.b.ins().brif(down, forward, &[], backward, &[]);
        self.b.seal_block(forward);
        self.b.seal_block(backward);

        // Forwards: i from 0 up.
        self.b.switch_to_block(forward);
        let zero = self.b.ins().iconst(I64, 0);
        let (words, i) = self.counter_block();
        let word_body = self.b.create_block();
        let (bytes, j) = self.counter_block();
        let byte_body = self.b.create_block();
        self.b.ins().jump(words, &block_args(&[zero]));
        self.b.switch_to_block(words);
        let left = self.b.ins().isub(len, i);
        let more = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, 8);
        self.b
            .ins()
            .brif(more, word_body, &[], bytes, &block_args(&[i]));
        self.b.seal_block(word_body);
        self.b.switch_to_block(word_body);
        let s = self.b.ins().iadd(from, i);
        let d = self.b.ins().iadd(to, i);
        let w = self.b.ins().load(I64, flags, s, 0);
        self.b.ins().store(flags, w, d, 0);
        let i_next = self.b.ins().iadd_imm_u(i, 8);
        self.b.ins().jump(words, &block_args(&[i_next]));
        self.b.seal_block(words);
        self.b.switch_to_block(bytes);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, j, len);
        self.b.ins().brif(more, byte_body, &[], done, &[]);
        self.b.seal_block(byte_body);
        self.b.switch_to_block(byte_body);
        let s = self.b.ins().iadd(from, j);
        let d = self.b.ins().iadd(to, j);
        let v = self.b.ins().uload8(I32, flags, s, 0);
        self.b.ins().istore8(flags, v, d, 0);
        let j1 = self.b.ins().iadd_imm_u(j, 1);
        self.b.ins().jump(bytes, &block_args(&[j1]));
        self.b.seal_block(bytes);

        // Backwards: i from len down.
        self.b.switch_to_block(backward);
        let (words, i) = self.counter_block();
        let word_body = self.b.create_block();
        let (bytes, j) = self.counter_block();
        let byte_body = self.b.create_block();
        self.b.ins().jump(words, &block_args(&[len]));
        self.b.switch_to_block(words);
        let more = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, i, 8);
        self.b
            .ins()
            .brif(more, word_body, &[], bytes, &block_args(&[i]));
        self.b.seal_block(word_body);
        self.b.switch_to_block(word_body);
        let k = self.b.ins().iadd_imm_s(i, -8);
        let s = self.b.ins().iadd(from, k);
        let d = self.b.ins().iadd(to, k);
        let w = self.b.ins().load(I64, flags, s, 0);
        self.b.ins().store(flags, w, d, 0);
        self.b.ins().jump(words, &block_args(&[k]));
        self.b.seal_block(words);
        self.b.switch_to_block(bytes);
        self.b.ins().brif(j, byte_body, &[], done, &[]);
        self.b.seal_block(byte_body);
        self.b.switch_to_block(byte_body);
        let k = self.b.ins().iadd_imm_s(j, -1);
        let s = self.b.ins().iadd(from, k);
        let d = self.b.ins().iadd(to, k);
        let v = self.b.ins().uload8(I32, flags, s, 0);
        self.b.ins().istore8(flags, v, d, 0);
        self.b.ins().jump(bytes, &block_args(&[k]));
        self.b.seal_block(bytes);

        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }
}
