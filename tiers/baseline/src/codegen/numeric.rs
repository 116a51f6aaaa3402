//! Integer and float operations, comparisons (left in the flags), conversions.

use super::*;

impl<M: Masm> CodeGen<'_, M> {
    pub(super) fn int_binop(
        &mut self,
        size: Size,
        ty: ValType,
        op: IntOp,
    ) -> Result<(), CompileError> {
        if let Some(imm) = self.pop_imm(size) {
            let lhs = self.pop_gpr()?;
            self.m.int_op_imm(op, size, lhs, imm);
            self.push_gpr(ty, lhs);
        } else {
            let rhs = self.pop_operand()?;
            let lhs = self.pop_gpr()?;
            match rhs {
                Operand::Reg(r) => {
                    self.m.int_op(op, size, lhs, r.reg);
                    self.release(r);
                }
                Operand::Mem(at) => self.m.int_op_mem(op, size, lhs, at),
            }
            self.push_gpr(ty, lhs);
        }
        Ok(())
    }

    pub(super) fn int_cmp(&mut self, size: Size, cond: Cond) -> Result<(), CompileError> {
        if let Some(imm) = self.pop_imm(size) {
            match self.pop_operand()? {
                Operand::Reg(lhs) => {
                    self.m.cmp_imm(size, lhs.reg, imm);
                    self.release(lhs);
                }
                Operand::Mem(at) => self.m.cmp_mem_imm(size, at, imm),
            }
        } else {
            let rhs = self.pop_operand()?;
            let lhs = self.pop_gpr_read()?;
            match rhs {
                Operand::Reg(r) => {
                    self.m.cmp(size, lhs.reg, r.reg);
                    self.release(r);
                }
                Operand::Mem(at) => self.m.cmp_mem(size, lhs.reg, at),
            }
            self.release(lhs);
        }
        self.stack.push(Entry::Cmp(cond));
        Ok(())
    }

    /// Turns a comparison left in the flags into a register.
    pub(super) fn materialize_cmp(&mut self) {
        if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
            self.stack.pop();
            // Allocating may spill, which moves and stores: the flags stay.
            let r = self.alloc_gpr();
            self.m.set(cond, r);
            self.push_gpr(ValType::I32, r);
        }
    }

    /// Pops an `i32` condition as the flag condition that means "non-zero".
    pub(super) fn pop_cond(&mut self) -> Result<Cond, CompileError> {
        if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
            self.stack.pop();
            return Ok(cond);
        }
        let r = self.pop_gpr()?;
        self.m.test(Size::S32, r);
        self.regs.free(Reg::G(r));
        Ok(Cond::Ne)
    }

    pub(super) fn shift(
        &mut self,
        size: Size,
        ty: ValType,
        op: ShiftOp,
    ) -> Result<(), CompileError> {
        let bits = if size == Size::S32 { 31 } else { 63 };
        if let Some(imm) = self.pop_imm(size) {
            let v = self.pop_gpr()?;
            self.m.shift_imm(op, size, v, (imm & bits) as u8);
            self.push_gpr(ty, v);
            return Ok(());
        }
        let count = self.pop_gpr()?;
        let mut v = self.pop_gpr()?;
        if count != M::COUNT {
            if v == M::COUNT {
                let t = self.alloc_gpr();
                self.m.mov(Size::S64, t, v);
                self.regs.free(Reg::G(v));
                v = t;
            }
            self.claim(Reg::G(M::COUNT));
            self.m.mov(Size::S64, M::COUNT, count);
            self.regs.free(Reg::G(count));
        }
        self.m.shift(op, size, v);
        self.regs.free(Reg::G(M::COUNT));
        self.push_gpr(ty, v);
        Ok(())
    }

    /// Division and remainder, with wasm's traps.
    pub(super) fn divide(
        &mut self,
        size: Size,
        ty: ValType,
        signed: bool,
        rem: bool,
    ) -> Result<(), CompileError> {
        let rhs = self.pop_gpr()?;
        self.m.mov(Size::S64, M::SCRATCH, rhs);
        self.regs.free(Reg::G(rhs));
        let lhs = self.pop_gpr()?;
        let (q, r) = (M::DIV_QUOTIENT, M::DIV_REMAINDER);
        if lhs != q {
            self.claim(Reg::G(q));
            self.m.mov(Size::S64, q, lhs);
            self.regs.free(Reg::G(lhs));
        }
        self.claim(Reg::G(r));
        self.m.test(size, M::SCRATCH);
        self.trap_unless(Cond::Ne, TrapCode::IntegerDivideByZero);
        let done = self.m.new_label();
        if signed {
            let normal = self.m.new_label();
            self.m.cmp_imm(size, M::SCRATCH, -1);
            self.m.jcc(Cond::Ne, normal);
            if rem {
                // x rem -1 = 0 (and MIN rem -1 must not fault).
                self.m.mov_imm(size, r, 0);
                self.m.jmp(done);
            } else {
                let min = if size == Size::S32 {
                    i32::MIN as u32 as u64
                } else {
                    i64::MIN as u64
                };
                self.m.mov_imm(size, r, min);
                self.m.cmp(size, q, r);
                self.trap_unless(Cond::Ne, TrapCode::IntegerOverflow);
            }
            self.m.bind(normal);
        }
        self.m.div(size, signed, M::SCRATCH);
        self.m.bind(done);
        let (keep, drop) = if rem { (r, q) } else { (q, r) };
        self.regs.free(Reg::G(drop));
        self.push_gpr(ty, keep);
        Ok(())
    }

    pub(super) fn float_binop(
        &mut self,
        size: Size,
        ty: ValType,
        op: FloatOp,
    ) -> Result<(), CompileError> {
        let rhs = self.pop_xmm()?;
        let lhs = self.pop_xmm()?;
        self.m.float_op(op, size, lhs, rhs);
        self.regs.free(Reg::X(rhs));
        self.push_xmm(ty, lhs);
        Ok(())
    }

    /// `min` and `max`: a NaN operand gives a NaN, and `-0` is below `+0`.
    pub(super) fn float_minmax(
        &mut self,
        size: Size,
        ty: ValType,
        max: bool,
    ) -> Result<(), CompileError> {
        let b = self.pop_xmm()?;
        let a = self.pop_xmm()?;
        let (nan, ordinary, done) = (self.m.new_label(), self.m.new_label(), self.m.new_label());
        self.m.fcmp(size, a, b);
        self.m.jcc(Cond::Parity, nan);
        self.m.jcc(Cond::Ne, ordinary);
        // Equal: only the signs of zeros can differ.
        self.m.fbits(if max { FBits::And } else { FBits::Or }, a, b);
        self.m.jmp(done);
        self.m.bind(nan);
        self.m.float_op(FloatOp::Add, size, a, b);
        self.m.jmp(done);
        self.m.bind(ordinary);
        self.m
            .float_op(if max { FloatOp::Max } else { FloatOp::Min }, size, a, b);
        self.m.bind(done);
        self.regs.free(Reg::X(b));
        self.push_xmm(ty, a);
        Ok(())
    }

    /// Loads the float constant `bits` into the float scratch register.
    pub(super) fn xscratch_const(&mut self, size: Size, bits: u64) {
        self.m.mov_imm(Size::S64, M::SCRATCH, bits);
        self.m.gpr_to_xmm(size, M::XSCRATCH, M::SCRATCH);
    }

    pub(super) fn sign_mask(size: Size) -> u64 {
        if size == Size::S32 {
            0x8000_0000
        } else {
            0x8000_0000_0000_0000
        }
    }

    /// `abs`, `neg` (bit operations on the sign) and `copysign`.
    pub(super) fn float_sign(
        &mut self,
        size: Size,
        ty: ValType,
        op: u8,
    ) -> Result<(), CompileError> {
        let sign = Self::sign_mask(size);
        match op {
            0 | 1 => {
                let a = self.pop_xmm()?;
                if op == 0 {
                    self.xscratch_const(
                        size,
                        !sign
                            & if size == Size::S32 {
                                0xffff_ffff
                            } else {
                                u64::MAX
                            },
                    );
                    self.m.fbits(FBits::And, a, M::XSCRATCH);
                } else {
                    self.xscratch_const(size, sign);
                    self.m.fbits(FBits::Xor, a, M::XSCRATCH);
                }
                self.push_xmm(ty, a);
            }
            _ => {
                let b = self.pop_xmm()?;
                let a = self.pop_xmm()?;
                self.xscratch_const(size, sign);
                self.m.fbits(FBits::And, b, M::XSCRATCH);
                self.m.fbits(FBits::AndNot, M::XSCRATCH, a);
                self.m.fbits(FBits::Or, M::XSCRATCH, b);
                self.m.fmov(a, M::XSCRATCH);
                self.regs.free(Reg::X(b));
                self.push_xmm(ty, a);
            }
        }
        Ok(())
    }

    /// Float comparisons, into an `i32` (false for a NaN operand but in `ne`).
    pub(super) fn float_cmp(&mut self, size: Size, op: &str) -> Result<(), CompileError> {
        let b = self.pop_xmm()?;
        let a = self.pop_xmm()?;
        let r = self.alloc_gpr();
        match op {
            "eq" | "ne" => {
                self.m.fcmp(size, a, b);
                let (c, p, combine) = if op == "eq" {
                    (Cond::Eq, Cond::NoParity, IntOp::And)
                } else {
                    (Cond::Ne, Cond::Parity, IntOp::Or)
                };
                self.m.set(c, r);
                self.m.set(p, M::SCRATCH);
                self.m.int_op(combine, Size::S32, r, M::SCRATCH);
            }
            // a < b is b > a: "above" is false for unordered operands.
            _ => {
                let (x, y, cond) = match op {
                    "lt" => (b, a, Cond::GtU),
                    "le" => (b, a, Cond::GeU),
                    "gt" => (a, b, Cond::GtU),
                    _ => (a, b, Cond::GeU),
                };
                self.m.fcmp(size, x, y);
                self.regs.free(Reg::G(r));
                self.regs.free(Reg::X(a));
                self.regs.free(Reg::X(b));
                self.stack.push(Entry::Cmp(cond));
                return Ok(());
            }
        }
        self.regs.free(Reg::X(a));
        self.regs.free(Reg::X(b));
        self.push_gpr(ValType::I32, r);
        Ok(())
    }

    pub(super) fn float_unop(
        &mut self,
        size: Size,
        ty: ValType,
        round: Option<Round>,
    ) -> Result<(), CompileError> {
        let a = self.pop_xmm()?;
        match round {
            Some(mode) => self.m.fround(mode, size, a, a),
            None => self.m.fsqrt(size, a, a),
        }
        self.push_xmm(ty, a);
        Ok(())
    }

    /// `convert` of a signed or unsigned integer of width `from` to a float.
    pub(super) fn convert(
        &mut self,
        from: Size,
        to: Size,
        ty: ValType,
        signed: bool,
    ) -> Result<(), CompileError> {
        let v = self.pop_gpr()?;
        let x = self.alloc_xmm();
        match (from, signed) {
            (Size::S32, true) => self.m.int_to_float(Size::S32, to, x, v),
            // A zero-extended 32-bit value is a non-negative 64-bit one.
            (Size::S32, false) | (Size::S64, true) => self.m.int_to_float(Size::S64, to, x, v),
            (Size::S64, false) => {
                let (big, done) = (self.m.new_label(), self.m.new_label());
                self.m.test(Size::S64, v);
                self.m.jcc(Cond::LtS, big);
                self.m.int_to_float(Size::S64, to, x, v);
                self.m.jmp(done);
                self.m.bind(big);
                // Halve (keeping the low bit for rounding), convert, double.
                self.m.mov(Size::S64, M::SCRATCH, v);
                self.m.shift_imm(ShiftOp::ShrU, Size::S64, M::SCRATCH, 1);
                self.m.int_op_imm(IntOp::And, Size::S64, v, 1);
                self.m.int_op(IntOp::Or, Size::S64, M::SCRATCH, v);
                self.m.int_to_float(Size::S64, to, x, M::SCRATCH);
                self.m.float_op(FloatOp::Add, to, x, x);
                self.m.bind(done);
            }
        }
        self.regs.free(Reg::G(v));
        self.push_xmm(ty, x);
        Ok(())
    }

    /// `trunc` (trapping) and `trunc_sat` of a float of width `from` to an integer of
    /// width `to`: the operand's range is checked first, then converted.
    pub(super) fn truncate_float(
        &mut self,
        from: Size,
        to: Size,
        signed: bool,
        sat: bool,
    ) -> Result<(), CompileError> {
        let ty = if to == Size::S32 {
            ValType::I32
        } else {
            ValType::I64
        };
        let x = self.pop_xmm()?;
        let r = self.alloc_gpr();
        let f = |v: f64| -> u64 {
            if from == Size::S32 {
                u64::from((v as f32).to_bits())
            } else {
                v.to_bits()
            }
        };
        // Valid iff lo < x (or lo <= x) and x < hi.
        let (lo, lo_inclusive, hi) = match (signed, to, from) {
            (true, Size::S32, Size::S64) => (-2147483649.0, false, 2147483648.0),
            (true, Size::S32, Size::S32) => (-2147483648.0, true, 2147483648.0),
            (true, Size::S64, _) => (-9223372036854775808.0, true, 9223372036854775808.0),
            (false, Size::S32, _) => (-1.0, false, 4294967296.0),
            (false, Size::S64, _) => (-1.0, false, 18446744073709551616.0),
        };
        let (nan, small, big, done) = (
            self.m.new_label(),
            self.m.new_label(),
            self.m.new_label(),
            self.m.new_label(),
        );
        self.m.fcmp(from, x, x);
        self.m.jcc(Cond::Parity, nan);
        self.xscratch_const(from, f(lo));
        self.m.fcmp(from, x, M::XSCRATCH);
        self.m
            .jcc(if lo_inclusive { Cond::LtU } else { Cond::LeU }, small);
        self.xscratch_const(from, f(hi));
        self.m.fcmp(from, x, M::XSCRATCH);
        self.m.jcc(Cond::GeU, big);
        match (signed, to) {
            (true, _) => self.m.float_to_int(from, to, r, x),
            (false, Size::S32) => {
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.mov(Size::S32, r, r);
            }
            (false, Size::S64) => {
                let high = self.m.new_label();
                self.xscratch_const(from, f(9223372036854775808.0));
                self.m.fcmp(from, x, M::XSCRATCH);
                self.m.jcc(Cond::GeU, high);
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.jmp(done);
                self.m.bind(high);
                self.m.float_op(FloatOp::Sub, from, x, M::XSCRATCH);
                self.m.float_to_int(from, Size::S64, r, x);
                self.m.mov_imm(Size::S64, M::SCRATCH, 1 << 63);
                self.m.int_op(IntOp::Xor, Size::S64, r, M::SCRATCH);
            }
        }
        self.m.jmp(done);
        let (min, max) = match (signed, to) {
            (true, Size::S32) => (i32::MIN as u32 as u64, i32::MAX as u64),
            (true, Size::S64) => (i64::MIN as u64, i64::MAX as u64),
            (false, Size::S32) => (0, u32::MAX as u64),
            (false, Size::S64) => (0, u64::MAX),
        };
        for (label, value, code) in [
            (nan, 0, TrapCode::BadConversionToInteger),
            (small, min, TrapCode::IntegerOverflow),
            (big, max, TrapCode::IntegerOverflow),
        ] {
            self.m.bind(label);
            if sat {
                self.m.mov_imm(to, r, value);
                self.m.jmp(done);
            } else {
                self.m.trap(code, &mut self.traps);
            }
        }
        self.m.bind(done);
        self.regs.free(Reg::X(x));
        self.push_gpr(ty, r);
        Ok(())
    }

    pub(super) fn bit_count(
        &mut self,
        size: Size,
        ty: ValType,
        op: BitCount,
    ) -> Result<(), CompileError> {
        let r = self.pop_gpr()?;
        self.m.bit_count(op, size, r, r);
        self.push_gpr(ty, r);
        Ok(())
    }

    pub(super) fn extend(
        &mut self,
        widen: Widen,
        to: Size,
        ty: ValType,
    ) -> Result<(), CompileError> {
        let r = self.pop_gpr()?;
        self.m.extend(widen, to, r, r);
        if to == Size::S32 {
            // A sign-extension within 32 bits keeps the upper half zero.
            self.m.mov(Size::S32, r, r);
        }
        self.push_gpr(ty, r);
        Ok(())
    }
}
