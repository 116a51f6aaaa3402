//! The register bytecode: one table ([`for_each_op!`]) lists every numeric, compare,
//! load and store instruction once; it generates the [`Instr`] enum, the executor's match
//! arms and the translator's operator mapping. Control, call, memory-management, table and
//! global instructions are written out in [`define_instr!`]'s invocation below.

use tierup_abi::TrapCode;

/// A register index relative to the frame pointer. Negative indices are the function's
/// constants, `0..num_locals` its parameters and locals, the rest operand-stack temporaries.
pub type Reg = i16;

/// Calls `$cb! { ($($args)*) tables... }` with the instruction table.
///
/// Types in the table are the Rust types the operands are read as (see `num::Bits`); the
/// functions take those and return the result (`Result` for trapping operators). Variant
/// names equal `wasmparser::Operator` names, so the translator maps them mechanically.
macro_rules! for_each_op {
    ($cb:ident ! ( $($args:tt)* )) => {
        $cb! { ( $($args)* )
        binary {
            I32Add(u32, u32) -> u32 = |a, b| a.wrapping_add(b);
            I32Sub(u32, u32) -> u32 = |a, b| a.wrapping_sub(b);
            I32Mul(u32, u32) -> u32 = |a, b| a.wrapping_mul(b);
            I32And(u32, u32) -> u32 = |a, b| a & b;
            I32Or(u32, u32) -> u32 = |a, b| a | b;
            I32Xor(u32, u32) -> u32 = |a, b| a ^ b;
            I32Shl(u32, u32) -> u32 = |a, b| a.wrapping_shl(b);
            I32ShrS(i32, u32) -> i32 = |a, b| a.wrapping_shr(b);
            I32ShrU(u32, u32) -> u32 = |a, b| a.wrapping_shr(b);
            I32Rotl(u32, u32) -> u32 = |a, b| a.rotate_left(b & 31);
            I32Rotr(u32, u32) -> u32 = |a, b| a.rotate_right(b & 31);
            I64Add(u64, u64) -> u64 = |a, b| a.wrapping_add(b);
            I64Sub(u64, u64) -> u64 = |a, b| a.wrapping_sub(b);
            I64Mul(u64, u64) -> u64 = |a, b| a.wrapping_mul(b);
            I64And(u64, u64) -> u64 = |a, b| a & b;
            I64Or(u64, u64) -> u64 = |a, b| a | b;
            I64Xor(u64, u64) -> u64 = |a, b| a ^ b;
            I64Shl(u64, u64) -> u64 = |a, b| a.wrapping_shl(b as u32);
            I64ShrS(i64, u64) -> i64 = |a, b| a.wrapping_shr(b as u32);
            I64ShrU(u64, u64) -> u64 = |a, b| a.wrapping_shr(b as u32);
            I64Rotl(u64, u64) -> u64 = |a, b| a.rotate_left((b & 63) as u32);
            I64Rotr(u64, u64) -> u64 = |a, b| a.rotate_right((b & 63) as u32);
            F32Add(f32, f32) -> f32 = |a, b| a + b;
            F32Sub(f32, f32) -> f32 = |a, b| a - b;
            F32Mul(f32, f32) -> f32 = |a, b| a * b;
            F32Div(f32, f32) -> f32 = |a, b| a / b;
            F32Min(f32, f32) -> f32 = crate::num::f32_min;
            F32Max(f32, f32) -> f32 = crate::num::f32_max;
            F32Copysign(f32, f32) -> f32 = crate::num::f32_copysign;
            F64Add(f64, f64) -> f64 = |a, b| a + b;
            F64Sub(f64, f64) -> f64 = |a, b| a - b;
            F64Mul(f64, f64) -> f64 = |a, b| a * b;
            F64Div(f64, f64) -> f64 = |a, b| a / b;
            F64Min(f64, f64) -> f64 = crate::num::f64_min;
            F64Max(f64, f64) -> f64 = crate::num::f64_max;
            F64Copysign(f64, f64) -> f64 = crate::num::f64_copysign;
        }
        binary_trap {
            I32DivS(i32, i32) -> i32 = crate::num::i32_div_s;
            I32DivU(u32, u32) -> u32 = crate::num::i32_div_u;
            I32RemS(i32, i32) -> i32 = crate::num::i32_rem_s;
            I32RemU(u32, u32) -> u32 = crate::num::i32_rem_u;
            I64DivS(i64, i64) -> i64 = crate::num::i64_div_s;
            I64DivU(u64, u64) -> u64 = crate::num::i64_div_u;
            I64RemS(i64, i64) -> i64 = crate::num::i64_rem_s;
            I64RemU(u64, u64) -> u64 = crate::num::i64_rem_u;
        }
        unary {
            I32Clz(u32) -> u32 = |a| a.leading_zeros();
            I32Ctz(u32) -> u32 = |a| a.trailing_zeros();
            I32Popcnt(u32) -> u32 = |a| a.count_ones();
            I64Clz(u64) -> u64 = |a| a.leading_zeros() as u64;
            I64Ctz(u64) -> u64 = |a| a.trailing_zeros() as u64;
            I64Popcnt(u64) -> u64 = |a| a.count_ones() as u64;
            F32Abs(f32) -> f32 = crate::num::f32_abs;
            F32Neg(f32) -> f32 = crate::num::f32_neg;
            F32Ceil(f32) -> f32 = |a| crate::num::quiet_f32(a.ceil());
            F32Floor(f32) -> f32 = |a| crate::num::quiet_f32(a.floor());
            F32Trunc(f32) -> f32 = |a| crate::num::quiet_f32(a.trunc());
            F32Nearest(f32) -> f32 = |a| crate::num::quiet_f32(a.round_ties_even());
            F32Sqrt(f32) -> f32 = |a| a.sqrt();
            F64Abs(f64) -> f64 = crate::num::f64_abs;
            F64Neg(f64) -> f64 = crate::num::f64_neg;
            F64Ceil(f64) -> f64 = |a| crate::num::quiet_f64(a.ceil());
            F64Floor(f64) -> f64 = |a| crate::num::quiet_f64(a.floor());
            F64Trunc(f64) -> f64 = |a| crate::num::quiet_f64(a.trunc());
            F64Nearest(f64) -> f64 = |a| crate::num::quiet_f64(a.round_ties_even());
            F64Sqrt(f64) -> f64 = |a| a.sqrt();
            I32WrapI64(u64) -> u32 = |a| a as u32;
            I64ExtendI32S(i32) -> i64 = |a| a as i64;
            I64ExtendI32U(u32) -> u64 = |a| a as u64;
            I32Extend8S(u32) -> i32 = |a| a as i8 as i32;
            I32Extend16S(u32) -> i32 = |a| a as i16 as i32;
            I64Extend8S(u64) -> i64 = |a| a as i8 as i64;
            I64Extend16S(u64) -> i64 = |a| a as i16 as i64;
            I64Extend32S(u64) -> i64 = |a| a as i32 as i64;
            F32ConvertI32S(i32) -> f32 = |a| a as f32;
            F32ConvertI32U(u32) -> f32 = |a| a as f32;
            F32ConvertI64S(i64) -> f32 = |a| a as f32;
            F32ConvertI64U(u64) -> f32 = |a| a as f32;
            F64ConvertI32S(i32) -> f64 = |a| a as f64;
            F64ConvertI32U(u32) -> f64 = |a| a as f64;
            F64ConvertI64S(i64) -> f64 = |a| a as f64;
            F64ConvertI64U(u64) -> f64 = |a| a as f64;
            F32DemoteF64(f64) -> f32 = |a| a as f32;
            F64PromoteF32(f32) -> f64 = |a| a as f64;
            I32TruncSatF32S(f32) -> i32 = |a| a as i32;
            I32TruncSatF32U(f32) -> u32 = |a| a as u32;
            I32TruncSatF64S(f64) -> i32 = |a| a as i32;
            I32TruncSatF64U(f64) -> u32 = |a| a as u32;
            I64TruncSatF32S(f32) -> i64 = |a| a as i64;
            I64TruncSatF32U(f32) -> u64 = |a| a as u64;
            I64TruncSatF64S(f64) -> i64 = |a| a as i64;
            I64TruncSatF64U(f64) -> u64 = |a| a as u64;
        }
        unary_trap {
            I32TruncF32S(f32) -> i32 = crate::num::i32_trunc_f32_s;
            I32TruncF32U(f32) -> u32 = crate::num::i32_trunc_f32_u;
            I32TruncF64S(f64) -> i32 = crate::num::i32_trunc_f64_s;
            I32TruncF64U(f64) -> u32 = crate::num::i32_trunc_f64_u;
            I64TruncF32S(f32) -> i64 = crate::num::i64_trunc_f32_s;
            I64TruncF32U(f32) -> u64 = crate::num::i64_trunc_f32_u;
            I64TruncF64S(f64) -> i64 = crate::num::i64_trunc_f64_s;
            I64TruncF64U(f64) -> u64 = crate::num::i64_trunc_f64_u;
        }
        // Compares: the value form, the fused "branch if true" and "branch if false" forms.
        compare {
            I32Eq / BrI32Eq / BrI32NotEq (u32) [BrI32EqImm / BrI32NotEqImm] = |a, b| a == b;
            I32Ne / BrI32Ne / BrI32NotNe (u32) [BrI32NeImm / BrI32NotNeImm] = |a, b| a != b;
            I32LtS / BrI32LtS / BrI32NotLtS (i32) [BrI32LtSImm / BrI32NotLtSImm] = |a, b| a < b;
            I32LtU / BrI32LtU / BrI32NotLtU (u32) [BrI32LtUImm / BrI32NotLtUImm] = |a, b| a < b;
            I32GtS / BrI32GtS / BrI32NotGtS (i32) [BrI32GtSImm / BrI32NotGtSImm] = |a, b| a > b;
            I32GtU / BrI32GtU / BrI32NotGtU (u32) [BrI32GtUImm / BrI32NotGtUImm] = |a, b| a > b;
            I32LeS / BrI32LeS / BrI32NotLeS (i32) [BrI32LeSImm / BrI32NotLeSImm] = |a, b| a <= b;
            I32LeU / BrI32LeU / BrI32NotLeU (u32) [BrI32LeUImm / BrI32NotLeUImm] = |a, b| a <= b;
            I32GeS / BrI32GeS / BrI32NotGeS (i32) [BrI32GeSImm / BrI32NotGeSImm] = |a, b| a >= b;
            I32GeU / BrI32GeU / BrI32NotGeU (u32) [BrI32GeUImm / BrI32NotGeUImm] = |a, b| a >= b;
            I64Eq / BrI64Eq / BrI64NotEq (u64) [BrI64EqImm / BrI64NotEqImm] = |a, b| a == b;
            I64Ne / BrI64Ne / BrI64NotNe (u64) [BrI64NeImm / BrI64NotNeImm] = |a, b| a != b;
            I64LtS / BrI64LtS / BrI64NotLtS (i64) [BrI64LtSImm / BrI64NotLtSImm] = |a, b| a < b;
            I64LtU / BrI64LtU / BrI64NotLtU (u64) [BrI64LtUImm / BrI64NotLtUImm] = |a, b| a < b;
            I64GtS / BrI64GtS / BrI64NotGtS (i64) [BrI64GtSImm / BrI64NotGtSImm] = |a, b| a > b;
            I64GtU / BrI64GtU / BrI64NotGtU (u64) [BrI64GtUImm / BrI64NotGtUImm] = |a, b| a > b;
            I64LeS / BrI64LeS / BrI64NotLeS (i64) [BrI64LeSImm / BrI64NotLeSImm] = |a, b| a <= b;
            I64LeU / BrI64LeU / BrI64NotLeU (u64) [BrI64LeUImm / BrI64NotLeUImm] = |a, b| a <= b;
            I64GeS / BrI64GeS / BrI64NotGeS (i64) [BrI64GeSImm / BrI64NotGeSImm] = |a, b| a >= b;
            I64GeU / BrI64GeU / BrI64NotGeU (u64) [BrI64GeUImm / BrI64NotGeUImm] = |a, b| a >= b;
            F32Eq / BrF32Eq / BrF32NotEq (f32) = |a, b| a == b;
            F32Ne / BrF32Ne / BrF32NotNe (f32) = |a, b| a != b;
            F32Lt / BrF32Lt / BrF32NotLt (f32) = |a, b| a < b;
            F32Gt / BrF32Gt / BrF32NotGt (f32) = |a, b| a > b;
            F32Le / BrF32Le / BrF32NotLe (f32) = |a, b| a <= b;
            F32Ge / BrF32Ge / BrF32NotGe (f32) = |a, b| a >= b;
            F64Eq / BrF64Eq / BrF64NotEq (f64) = |a, b| a == b;
            F64Ne / BrF64Ne / BrF64NotNe (f64) = |a, b| a != b;
            F64Lt / BrF64Lt / BrF64NotLt (f64) = |a, b| a < b;
            F64Gt / BrF64Gt / BrF64NotGt (f64) = |a, b| a > b;
            F64Le / BrF64Le / BrF64NotLe (f64) = |a, b| a <= b;
            F64Ge / BrF64Ge / BrF64NotGe (f64) = |a, b| a >= b;
        }
        // Loads: the access width and the conversion of the little-endian bytes to register bits.
        load {
            I32Load[4] = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
            I64Load[8] = u64::from_le_bytes;
            F32Load[4] = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
            F64Load[8] = u64::from_le_bytes;
            I32Load8S[1] = |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64;
            I32Load8U[1] = |b: [u8; 1]| b[0] as u64;
            I32Load16S[2] = |b: [u8; 2]| i16::from_le_bytes(b) as i32 as u32 as u64;
            I32Load16U[2] = |b: [u8; 2]| u16::from_le_bytes(b) as u64;
            I64Load8S[1] = |b: [u8; 1]| b[0] as i8 as i64 as u64;
            I64Load8U[1] = |b: [u8; 1]| b[0] as u64;
            I64Load16S[2] = |b: [u8; 2]| i16::from_le_bytes(b) as i64 as u64;
            I64Load16U[2] = |b: [u8; 2]| u16::from_le_bytes(b) as u64;
            I64Load32S[4] = |b: [u8; 4]| i32::from_le_bytes(b) as i64 as u64;
            I64Load32U[4] = |b: [u8; 4]| u32::from_le_bytes(b) as u64;
        }
        // Stores: the access width and the conversion of register bits to little-endian bytes.
        store {
            I32Store[4] = |v: u64| (v as u32).to_le_bytes();
            I64Store[8] = |v: u64| v.to_le_bytes();
            F32Store[4] = |v: u64| (v as u32).to_le_bytes();
            F64Store[8] = |v: u64| v.to_le_bytes();
            I32Store8[1] = |v: u64| [v as u8];
            I32Store16[2] = |v: u64| (v as u16).to_le_bytes();
            I64Store8[1] = |v: u64| [v as u8];
            I64Store16[2] = |v: u64| (v as u16).to_le_bytes();
            I64Store32[4] = |v: u64| (v as u32).to_le_bytes();
        }
        }
    };
}
pub(crate) use for_each_op;

/// Generates [`Instr`] from the table plus the hand-written variants, and the accessors the
/// translator needs (destination retargeting, compare fusion, branch patching).
macro_rules! define_instr {
    (
        ( $( $(#[$doc:meta])* $oname:ident { $($ofield:ident : $oty:ty),* $(,)? } ),* $(,)? )
        binary { $( $bname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap { $( $tname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )* }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare { $( $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty) $([ $cbi:ident / $cbni:ident ])? = $cf:expr; )* }
        load { $( $lname:ident [$ln:literal] = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] = $sf:expr; )* }
    ) => {
        /// One register-machine instruction. Branch `offset`s are relative to the index of
        /// the branch itself.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Instr {
            $( $(#[$doc])* $oname { $($ofield: $oty),* }, )*
            $( #[doc = "`dst = a op b`"] $bname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "`dst = a op b`, may trap"] $tname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "`dst = op src`"] $uname { dst: Reg, src: Reg }, )*
            $( #[doc = "`dst = op src`, may trap"] $vname { dst: Reg, src: Reg }, )*
            $( #[doc = "`dst = a cmp b`"] $cname { dst: Reg, a: Reg, b: Reg }, )*
            $( #[doc = "branch if `a cmp b`"] $cbr { a: Reg, b: Reg, offset: i32 }, )*
            $( #[doc = "branch unless `a cmp b`"] $cbrn { a: Reg, b: Reg, offset: i32 }, )*
            $( $(
                #[doc = "branch if `a cmp imm`"] $cbi { a: Reg, imm: i16, offset: i32 },
                #[doc = "branch unless `a cmp imm`"] $cbni { a: Reg, imm: i16, offset: i32 },
            )? )*
            $( #[doc = "`dst = load(addr + offset)`"] $lname { dst: Reg, addr: Reg, offset: u32 }, )*
            $( #[doc = "`store(addr + offset, val)`"] $sname { addr: Reg, val: Reg, offset: u32 }, )*
        }

        impl Instr {
            /// The destination of an instruction that writes exactly one register and reads
            /// all its operands before writing it (so it may be retargeted).
            pub(crate) fn dst_mut(&mut self) -> Option<&mut Reg> {
                match self {
                    $( Instr::$bname { dst, .. } )|*
                    | $( Instr::$tname { dst, .. } )|*
                    | $( Instr::$uname { dst, .. } )|*
                    | $( Instr::$vname { dst, .. } )|*
                    | $( Instr::$cname { dst, .. } )|*
                    | $( Instr::$lname { dst, .. } )|*
                    | Instr::Copy { dst, .. }
                    | Instr::Select { dst, .. }
                    | Instr::GlobalGet { dst, .. }
                    | Instr::TableGet { dst, .. }
                    | Instr::TableSize { dst, .. }
                    | Instr::MemorySize { dst, .. }
                    | Instr::RefFunc { dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// The fused branch for a compare instruction: taken when the compare is true
            /// (`negate == false`) or false (`negate == true`). `const_bits` gives the value
            /// of a constant register, so that an integer compare with a small constant
            /// becomes an immediate form.
            pub(crate) fn fuse_branch(
                &self,
                negate: bool,
                const_bits: impl Fn(Reg) -> Option<u64>,
            ) -> Option<Instr> {
                Some(match *self {
                    $(
                        Instr::$cname { a, b, .. } => {
                            $(
                                let imm = const_bits(b)
                                    .and_then(<$ct as crate::num::Imm>::to_imm);
                                if let Some(imm) = imm {
                                    return Some(if negate {
                                        Instr::$cbni { a, imm, offset: 0 }
                                    } else {
                                        Instr::$cbi { a, imm, offset: 0 }
                                    });
                                }
                            )?
                            if negate {
                                Instr::$cbrn { a, b, offset: 0 }
                            } else {
                                Instr::$cbr { a, b, offset: 0 }
                            }
                        }
                    )*
                    Instr::I32Eqz { src, .. } => if negate {
                        Instr::BrNez { cond: src, offset: 0 }
                    } else {
                        Instr::BrEqz { cond: src, offset: 0 }
                    },
                    Instr::I64Eqz { src, .. } => if negate {
                        Instr::BrI64Nez { cond: src, offset: 0 }
                    } else {
                        Instr::BrI64Eqz { cond: src, offset: 0 }
                    },
                    _ => return None,
                })
            }

            /// The offset field of a branch instruction.
            pub(crate) fn offset_mut(&mut self) -> Option<&mut i32> {
                match self {
                    $( $(
                        Instr::$cbi { offset, .. } | Instr::$cbni { offset, .. } => Some(offset),
                    )? )*
                    $( Instr::$cbr { offset, .. } | Instr::$cbrn { offset, .. } )|*
                    | Instr::Br { offset }
                    | Instr::BrEqz { offset, .. }
                    | Instr::BrNez { offset, .. }
                    | Instr::BrI64Eqz { offset, .. }
                    | Instr::BrI64Nez { offset, .. } => Some(offset),
                    _ => None,
                }
            }
        }
    };
}

for_each_op!(define_instr!(
    /// Traps with `code`.
    Trap { code: TrapCode },
    /// `dst = src`.
    Copy { dst: Reg, src: Reg },
    /// Copies `len` consecutive registers from `src..` to `dst..` in ascending order.
    CopySpan { dst: Reg, src: Reg, len: u16 },
    /// Unconditional branch.
    Br { offset: i32 },
    /// Branch if the i32 `cond` is zero.
    BrEqz { cond: Reg, offset: i32 },
    /// Branch if the i32 `cond` is not zero.
    BrNez { cond: Reg, offset: i32 },
    /// Branch if the i64 `cond` is zero.
    BrI64Eqz { cond: Reg, offset: i32 },
    /// Branch if the i64 `cond` is not zero.
    BrI64Nez { cond: Reg, offset: i32 },
    /// Jumps to entry `min(index, len)` of the `len + 1` `Br` instructions that follow.
    BrTable { index: Reg, len: u32 },
    /// Returns the `len` consecutive registers `src..`.
    Return { src: Reg, len: u16 },
    /// Calls `calls[site]`; arguments in `base..`, results written to `base..`.
    Call { site: u32, base: Reg },
    /// Calls through table element `index` (`calls[site]` names type and table).
    CallIndirect { site: u32, base: Reg, index: Reg },
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
));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instr_is_compact() {
        assert!(core::mem::size_of::<Instr>() <= 16);
    }
}
