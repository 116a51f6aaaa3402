//! [`define_instr!`]: the one reader of the table's grouped shape. From the table and the
//! hand-written variants it generates the [`Instr`](super::Instr) enum, its tag enum
//! [`Op`](super::Op), the accessors the translator needs (destination retargeting,
//! compare fusion, branch patching), and [`for_each_row!`](super::for_each_row), which
//! gives every other consumer the table one uniform row at a time.

/// Generates [`Instr`](super::Instr), [`Op`](super::Op), their accessors and
/// `for_each_row!` (see the module docs). The first argument is a `$` token, which the
/// generated macro needs for its own metavariables.
macro_rules! define_instr {
    (
        (
            ($d:tt)
            $( $(#[$doc:meta])* $oname:ident { $($ofield:ident : $oty:tt),* $(,)? } ),* $(,)?
        )
        binary { $( $bname:ident / $biname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap {
            $( $tname:ident / $tiname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )*
        }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare {
            $(
                $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty)
                $([ $cbi:ident / $cbni:ident ])? = $cf:expr;
            )*
        }
        load { $( $lname:ident [$ln:literal] -> $lt:ty = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] ($st:ty) = $sf:expr; )* }
        vbinary { $( $wname:ident = $wf:expr; )* }
        vunary { $( $zname:ident = $zf:expr; )* }
        extract { $( $xname:ident = $xf:expr; )* }
        replace { $( $rname:ident = $rf:expr; )* }
        vload { $( $vlname:ident [$vln:literal] = $vlf:expr; )* }
        vstore { $( $vsname:ident [$vsn:literal] = $vsf:expr; )* }
        load_lane { $( $llname:ident [$lln:literal] = $llf:expr; )* }
        store_lane { $( $slname:ident [$sln:literal] = $slf:expr; )* }
    ) => {
        /// Calls `$cb! { ($($args)*) rows... }` with every row of the instruction table,
        /// in one uniform shape: `[group Operator { operator fields } rest of the row]`,
        /// the rest as the group writes it (see the `table` module). A consumer matches
        /// `$( [$group:ident $name:ident $fields:tt $($row:tt)*] )*` and hands each row to
        /// a macro with one arm per group it handles (and a catch-all for the others).
        macro_rules! for_each_row {
            ($d cb:ident ! ( $d ($d args:tt)* )) => {
                $d cb! { ( $d ($d args)* )
                    $( [binary $bname {} / $biname ($ba, $bb) -> $br = $bf] )*
                    $( [binary_trap $tname {} / $tiname ($ta, $tb) -> $tr = $tf] )*
                    $( [unary $uname {} ($ua) -> $ur = $uf] )*
                    $( [unary_trap $vname {} ($va) -> $vr = $vf] )*
                    $( [compare $cname {} / $cbr / $cbrn ($ct) $([$cbi / $cbni])? = $cf] )*
                    $( [load $lname { memarg } [$ln] -> $lt = $lf] )*
                    $( [store $sname { memarg } [$sn] ($st) = $sf] )*
                    $( [vbinary $wname {} = $wf] )*
                    $( [vunary $zname {} = $zf] )*
                    $( [extract $xname { lane } = $xf] )*
                    $( [replace $rname { lane } = $rf] )*
                    $( [vload $vlname { memarg } [$vln] = $vlf] )*
                    $( [vstore $vsname { memarg } [$vsn] = $vsf] )*
                    $( [load_lane $llname { memarg, lane } [$lln] = $llf] )*
                    $( [store_lane $slname { memarg, lane } [$sln] = $slf] )*
                }
            };
        }
        pub(crate) use for_each_row;

        /// One register-machine instruction. Branch `offset`s are relative to the index of
        /// the branch itself (in the translator; the executor's `Inst` holds them in
        /// bytes).
        ///
        /// `repr(u16)` fixes the layout: every variant starts with its `u16` tag, which
        /// equals the [`Op`] of the same name; the executor dispatches on that tag.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(u16)]
        pub enum Instr {
            $( $(#[$doc])* $oname { $($ofield: $oty),* }, )*
            $(
                /// `dst = a op b`
                $bname { dst: Reg, a: Reg, b: Reg },
            )*
            $(
                /// `dst = a op b`, may trap
                $tname { dst: Reg, a: Reg, b: Reg },
            )*
            $(
                /// `dst = a op imm` (`imm`: the register bits of a constant `b`)
                $biname { dst: Reg, a: Reg, imm: u64 },
            )*
            $(
                /// `dst = a op imm`, may trap
                $tiname { dst: Reg, a: Reg, imm: u64 },
            )*
            $(
                /// `dst = op src`
                $uname { dst: Reg, src: Reg },
            )*
            $(
                /// `dst = op src`, may trap
                $vname { dst: Reg, src: Reg },
            )*
            $(
                /// `dst = a cmp b`
                $cname { dst: Reg, a: Reg, b: Reg },
            )*
            $(
                /// branch if `a cmp b` (counting: `a += add` first, or `a += add_reg`)
                $cbr { a: Reg, b: Reg, add_reg: Reg, offset: i32, add: Step },
            )*
            $(
                /// branch unless `a cmp b` (counting as for the branch if)
                $cbrn { a: Reg, b: Reg, add_reg: Reg, offset: i32, add: Step },
            )*
            $( $(
                /// branch if `a cmp imm` (counting: `a += add` first, or `a += add_reg`)
                $cbi { a: Reg, imm: i16, add_reg: Reg, offset: i32, add: Step },
                /// branch unless `a cmp imm` (counting as for the branch if)
                $cbni { a: Reg, imm: i16, add_reg: Reg, offset: i32, add: Step },
            )? )*
            $(
                /// `dst = load(addr + offset)` (indexed: the address is `addr + index *
                /// scale`, in 32 bits)
                $lname { dst: Reg, addr: Reg, index: Reg, scale: u8, offset: u32 },
            )*
            $(
                /// `store(addr + offset, val)` (indexed: the address is `addr + index *
                /// scale`, in 32 bits)
                $sname { addr: Reg, val: Reg, index: Reg, scale: u8, offset: u32 },
            )*
            $(
                /// `dst = a op b` (v128)
                $wname { dst: Reg, a: Reg, b: Reg },
            )*
            $(
                /// `dst = op src` (v128)
                $zname { dst: Reg, src: Reg },
            )*
            $(
                /// `dst = lane of src`
                $xname { dst: Reg, src: Reg, lane: u8 },
            )*
            $(
                /// `dst = a with lane replaced by b`
                $rname { dst: Reg, a: Reg, b: Reg, lane: u8 },
            )*
            $(
                /// `dst = load(addr + offset)` (v128)
                $vlname { dst: Reg, addr: Reg, offset: u32 },
            )*
            $(
                /// `store(addr + offset, val)` (v128)
                $vsname { addr: Reg, val: Reg, offset: u32 },
            )*
            $(
                /// `dst = src with lane loaded from addr + offset`
                $llname { dst: Reg, addr: Reg, src: Reg, lane: u8, offset: u32 },
            )*
            $(
                /// `store(addr + offset, lane of val)`
                $slname { addr: Reg, val: Reg, lane: u8, offset: u32 },
            )*
        }

        /// The tag of each [`Instr`] variant (same names, same order, so the same values).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub(crate) enum Op {
            $( $oname, )*
            $( $bname, )*
            $( $tname, )*
            $( $biname, )*
            $( $tiname, )*
            $( $uname, )*
            $( $vname, )*
            $( $cname, )*
            $( $cbr, )*
            $( $cbrn, )*
            $( $( $cbi, $cbni, )? )*
            $( $lname, )*
            $( $sname, )*
            $( $wname, )*
            $( $zname, )*
            $( $xname, )*
            $( $rname, )*
            $( $vlname, )*
            $( $vsname, )*
            $( $llname, )*
            $( $slname, )*
        }

        impl Op {
            /// Every tag in order (`ALL[t as usize] == t`).
            pub(crate) const ALL: &[Op] = &[
                $( Op::$oname, )*
                $( Op::$bname, )*
                $( Op::$tname, )*
                $( Op::$biname, )*
                $( Op::$tiname, )*
                $( Op::$uname, )*
                $( Op::$vname, )*
                $( Op::$cname, )*
                $( Op::$cbr, )*
                $( Op::$cbrn, )*
                $( $( Op::$cbi, Op::$cbni, )? )*
                $( Op::$lname, )*
                $( Op::$sname, )*
                $( Op::$wname, )*
                $( Op::$zname, )*
                $( Op::$xname, )*
                $( Op::$rname, )*
                $( Op::$vlname, )*
                $( Op::$vsname, )*
                $( Op::$llname, )*
                $( Op::$slname, )*
            ];
            /// The number of tags.
            pub(crate) const COUNT: usize = Op::ALL.len();
        }

        impl Instr {
            /// The tag of this instruction, from a `match` (the executor reads it from
            /// memory instead; tests check that both agree).
            #[allow(dead_code)]
            pub(crate) fn op(&self) -> Op {
                match self {
                    $( Instr::$oname { .. } => Op::$oname, )*
                    $( Instr::$bname { .. } => Op::$bname, )*
                    $( Instr::$tname { .. } => Op::$tname, )*
                    $( Instr::$biname { .. } => Op::$biname, )*
                    $( Instr::$tiname { .. } => Op::$tiname, )*
                    $( Instr::$uname { .. } => Op::$uname, )*
                    $( Instr::$vname { .. } => Op::$vname, )*
                    $( Instr::$cname { .. } => Op::$cname, )*
                    $( Instr::$cbr { .. } => Op::$cbr, )*
                    $( Instr::$cbrn { .. } => Op::$cbrn, )*
                    $( $(
                        Instr::$cbi { .. } => Op::$cbi,
                        Instr::$cbni { .. } => Op::$cbni,
                    )? )*
                    $( Instr::$lname { .. } => Op::$lname, )*
                    $( Instr::$sname { .. } => Op::$sname, )*
                    $( Instr::$wname { .. } => Op::$wname, )*
                    $( Instr::$zname { .. } => Op::$zname, )*
                    $( Instr::$xname { .. } => Op::$xname, )*
                    $( Instr::$rname { .. } => Op::$rname, )*
                    $( Instr::$vlname { .. } => Op::$vlname, )*
                    $( Instr::$vsname { .. } => Op::$vsname, )*
                    $( Instr::$llname { .. } => Op::$llname, )*
                    $( Instr::$slname { .. } => Op::$slname, )*
                }
            }

            /// The tag stored in the first two bytes of the instruction.
            #[inline(always)]
            pub(crate) fn tag(&self) -> u16 {
                // SAFETY: `Instr` is `repr(u16)`: every variant begins with its `u16` tag.
                unsafe { *(self as *const Instr as *const u16) }
            }

            /// The destination of an instruction that writes one register and reads all its
            /// operands before writing it (so it may be retargeted). Two fused pairs write
            /// a second register before it, which [`Instr::also_writes`] names.
            pub(crate) fn dst_mut(&mut self) -> Option<&mut Reg> {
                match self {
                    $( Instr::$bname { dst, .. } )|*
                    | $( Instr::$tname { dst, .. } )|*
                    | $( Instr::$biname { dst, .. } )|*
                    | $( Instr::$tiname { dst, .. } )|*
                    | $( Instr::$uname { dst, .. } )|*
                    | $( Instr::$vname { dst, .. } )|*
                    | $( Instr::$cname { dst, .. } )|*
                    | $( Instr::$lname { dst, .. } )|*
                    | $( Instr::$wname { dst, .. } )|*
                    | $( Instr::$zname { dst, .. } )|*
                    | $( Instr::$xname { dst, .. } )|*
                    | $( Instr::$rname { dst, .. } )|*
                    | $( Instr::$vlname { dst, .. } )|*
                    | $( Instr::$llname { dst, .. } )|*
                    | Instr::CopyV128 { dst, .. }
                    | Instr::SelectV128 { dst, .. }
                    | Instr::GlobalGetV128 { dst, .. }
                    | Instr::V128Bitselect { dst, .. }
                    | Instr::I8x16Shuffle { dst, .. }
                    | Instr::Copy { dst, .. }
                    | Instr::I32AddShl { dst, .. }
                    | Instr::I32AddShlLoad { val: dst, .. }
                    | Instr::CopyI32Load { dst, .. }
                    | Instr::I32AddShrU { dst, .. }
                    | Instr::I32XorShl { dst, .. }
                    | Instr::I32XorShrU { dst, .. }
                    | Instr::I32XorRotl { dst, .. }
                    | Instr::I32OrShl { dst, .. }
                    | Instr::I32OrShrU { dst, .. }
                    | Instr::I64XorShl { dst, .. }
                    | Instr::I64XorShrU { dst, .. }
                    | Instr::I32ShiftMask { dst, .. }
                    | Instr::I32OrShiftMask { dst, .. }
                    | Instr::I32SubMulImm { dst, .. }
                    | Instr::I32XorMulImm { dst, .. }
                    | Instr::I32DivUMagic { dst, .. }
                    | Instr::F64AddLoad { dst, .. }
                    | Instr::F64MulLoad { dst, .. }
                    | Instr::I32AddLoad { dst, .. }
                    | Instr::I32MinU { dst, .. }
                    | Instr::I32MaxU { dst, .. }
                    | Instr::I32MinS { dst, .. }
                    | Instr::I32MaxS { dst, .. }
                    | Instr::I64MinU { dst, .. }
                    | Instr::I64MaxU { dst, .. }
                    | Instr::I64MinS { dst, .. }
                    | Instr::I64MaxS { dst, .. }
                    | Instr::I32Eqz { dst, .. }
                    | Instr::I64Eqz { dst, .. }
                    | Instr::Select { dst, .. }
                    | Instr::GlobalGet { dst, .. }
                    | Instr::TableGet { dst, .. }
                    | Instr::TableSize { dst, .. }
                    | Instr::MemorySize { dst, .. }
                    | Instr::RefFunc { dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// The register an instruction with a `dst_mut` writes before that one:
            /// `I32AddShlLoad`'s address, `CopyI32Load`'s copy.
            pub(crate) fn also_writes(&self) -> Option<Reg> {
                match *self {
                    Instr::I32AddShlLoad { dst, .. } | Instr::CopyI32Load { copy: dst, .. } => Some(dst),
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
                                    .and_then(<$ct as crate::regs::Imm>::to_imm);
                                if let Some(imm) = imm {
                                    return Some(if negate {
                                        Instr::$cbni { a, imm, offset: 0, add_reg: 0, add: Step(0) }
                                    } else {
                                        Instr::$cbi { a, imm, offset: 0, add_reg: 0, add: Step(0) }
                                    });
                                }
                            )?
                            if negate {
                                Instr::$cbrn { a, b, offset: 0, add_reg: 0, add: Step(0) }
                            } else {
                                Instr::$cbr { a, b, offset: 0, add_reg: 0, add: Step(0) }
                            }
                        }
                    )*
                    Instr::I32Eqz { src, .. } => if negate {
                        Instr::BrNez { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    } else {
                        Instr::BrEqz { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    },
                    Instr::I64Eqz { src, .. } => if negate {
                        Instr::BrI64Nez { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    } else {
                        Instr::BrI64Eqz { cond: src, add_reg: 0, offset: 0, add: Step(0) }
                    },
                    _ => return None,
                })
            }

            /// Whether the value in `slot` travels in the float half of the accumulator
            /// (see `regs::AccClass`): a link joins two instructions only where they agree.
            pub(crate) fn acc_float(&self, slot: Slot) -> bool {
                use crate::regs::AccClass;
                use Slot::{A, B, Out};
                match (self, slot) {
                    $(
                        (Instr::$bname { .. } | Instr::$biname { .. }, Out) => {
                            <$br as AccClass>::FLOAT
                        }
                        (Instr::$bname { .. } | Instr::$biname { .. }, A) => {
                            <$ba as AccClass>::FLOAT
                        }
                        (Instr::$bname { .. }, B) => <$bb as AccClass>::FLOAT,
                    )*
                    $(
                        (Instr::$uname { .. }, Out) => <$ur as AccClass>::FLOAT,
                        (Instr::$uname { .. }, A) => <$ua as AccClass>::FLOAT,
                    )*
                    $(
                        (Instr::$cname { .. } | Instr::$cbr { .. } | Instr::$cbrn { .. }, A | B) => {
                            <$ct as AccClass>::FLOAT
                        }
                        $(
                            (Instr::$cbi { .. } | Instr::$cbni { .. }, A) => {
                                <$ct as AccClass>::FLOAT
                            }
                        )?
                    )*
                    $( (Instr::$lname { .. }, Out) => <$lt as AccClass>::FLOAT, )*
                    (Instr::F64AddLoad { .. } | Instr::F64MulLoad { .. }, Out | A) => true,
                    (Instr::F64AddInPlace { .. }, A) => true,
                    $( (Instr::$sname { .. }, B) => <$st as AccClass>::FLOAT, )*
                    _ => false,
                }
            }

            /// Calls `f` on every register operand, in field order. (A span operand, such
            /// as `Return`'s `src`, is visited as its first register.)
            pub(crate) fn regs_mut(&mut self, mut f: impl FnMut(&mut Reg)) {
                match self {
                    $( Instr::$oname { $($ofield),* } => {
                        $( visit_reg!($oty, $ofield, f); )*
                    } )*
                    $( Instr::$bname { dst, a, b } )|*
                    | $( Instr::$tname { dst, a, b } )|*
                    | $( Instr::$cname { dst, a, b } )|*
                    | $( Instr::$wname { dst, a, b } )|*
                    | $( Instr::$rname { dst, a, b, .. } )|* => {
                        f(dst);
                        f(a);
                        f(b);
                    }
                    $( Instr::$biname { dst, a, .. } )|*
                    | $( Instr::$tiname { dst, a, .. } )|*
                    | $( Instr::$uname { dst, src: a } )|*
                    | $( Instr::$vname { dst, src: a } )|*
                    | $( Instr::$zname { dst, src: a } )|*
                    | $( Instr::$xname { dst, src: a, .. } )|*
                    | $( Instr::$vlname { dst, addr: a, .. } )|* => {
                        f(dst);
                        f(a);
                    }
                    $( Instr::$lname { dst, addr, index, .. } )|* => {
                        f(dst);
                        f(addr);
                        f(index);
                    }
                    $( Instr::$cbr { a, b, add_reg: c, .. } | Instr::$cbrn { a, b, add_reg: c, .. } )|* => {
                        f(a);
                        f(b);
                        f(c);
                    }
                    $( Instr::$sname { addr, val, index, .. } )|* => {
                        f(addr);
                        f(val);
                        f(index);
                    }
                    $( Instr::$vsname { addr: a, val: b, .. } )|*
                    | $( Instr::$slname { addr: a, val: b, .. } )|* => {
                        f(a);
                        f(b);
                    }
                    $( $(
                        Instr::$cbi { a, add_reg, .. } | Instr::$cbni { a, add_reg, .. } => {
                            f(a);
                            f(add_reg);
                        }
                    )? )*
                    $( Instr::$llname { dst, addr, src, .. } => {
                        f(dst);
                        f(addr);
                        f(src);
                    } )*
                }
            }

            /// The address register and offset of a scalar load or store.
            pub(crate) fn address_mut(&mut self) -> Option<(&mut Reg, &mut u32)> {
                match self {
                    $( Instr::$lname { addr, offset, .. } )|*
                    | $( Instr::$sname { addr, offset, .. } )|* => Some((addr, offset)),
                    _ => None,
                }
            }

            /// The address register, index register and scale of a scalar load or store
            /// (see form `Access::INDEX`).
            pub(crate) fn index_mut(&mut self) -> Option<(&mut Reg, &mut Reg, &mut u8)> {
                match self {
                    $( Instr::$lname { addr, index, scale, .. } )|*
                    | $( Instr::$sname { addr, index, scale, .. } )|* => Some((addr, index, scale)),
                    _ => None,
                }
            }

            /// The register operand of one of the table's scalar instructions that the
            /// translator links through the accumulator under form `Form::A` (`second` false:
            /// `a`, `src`, a load's or store's `addr`) or `B` (`second`: `b`, a load's
            /// `index`, a store's `val`), or the i32 condition, operand or index of
            /// `br_if`, `i32.eqz`, `select` and `br_table`; `None` for other
            /// instructions. These read an i32 operand through the low 32 bits of its
            /// register alone (`Bits::from_reg`, and addresses are 32-bit), so the
            /// register may hold an i64 whose low half is that i32.
            pub(crate) fn scalar_operand_mut(&mut self, second: bool) -> Option<&mut Reg> {
                match (self, second) {
                    $( (Instr::$bname { a: r, .. }, false) | (Instr::$bname { b: r, .. }, true) => Some(r), )*
                    $( (Instr::$tname { a: r, .. }, false) | (Instr::$tname { b: r, .. }, true) => Some(r), )*
                    $( (Instr::$cname { a: r, .. }, false) | (Instr::$cname { b: r, .. }, true) => Some(r), )*
                    $(
                        (Instr::$cbr { a: r, .. } | Instr::$cbrn { a: r, .. }, false)
                        | (Instr::$cbr { b: r, .. } | Instr::$cbrn { b: r, .. }, true) => Some(r),
                    )*
                    $( $( (Instr::$cbi { a: r, .. } | Instr::$cbni { a: r, .. }, false) => Some(r), )? )*
                    $( (Instr::$biname { a: r, .. }, false) => Some(r), )*
                    $( (Instr::$tiname { a: r, .. }, false) => Some(r), )*
                    $( (Instr::$uname { src: r, .. }, false) => Some(r), )*
                    $( (Instr::$vname { src: r, .. }, false) => Some(r), )*
                    $( (Instr::$lname { addr: r, .. }, false) | (Instr::$lname { index: r, .. }, true) => Some(r), )*
                    $( (Instr::$sname { addr: r, .. }, false) | (Instr::$sname { val: r, .. }, true) => Some(r), )*
                    (
                        Instr::BrEqz { cond: r, .. }
                        | Instr::BrNez { cond: r, .. }
                        | Instr::I32Eqz { src: r, .. }
                        | Instr::Select { cond: r, .. }
                        | Instr::BrTable { index: r, .. },
                        false,
                    ) => Some(r),
                    _ => None,
                }
            }

            /// The value register of a scalar store.
            pub(crate) fn stored_value(&self) -> Option<Reg> {
                match *self {
                    $( Instr::$sname { val, .. } )|* => Some(val),
                    _ => None,
                }
            }

            /// Makes an integer branch reading register `r` first add `by` to it, in
            /// `bits` (32 or 64) arithmetic: the branch then does the work of the
            /// `r = r + by` before it (form `Counting::PRE`, with `Counting::ADD_REG` for a register). `r`
            /// must be the first operand, or either operand of an `eq`/`ne`. Returns
            /// whether the branch took it.
            pub(crate) fn pre_add(&mut self, r: Reg, by: Addend, bits: usize) -> bool {
                let symmetric = matches!(
                    self.op(),
                    Op::BrI32Eq | Op::BrI32Ne | Op::BrI64Eq | Op::BrI64Ne
                );
                let (first, other, add, add_reg, width) = match self {
                    $( $(
                        Instr::$cbi { a, add, add_reg, .. } | Instr::$cbni { a, add, add_reg, .. } => {
                            (a, None, add, add_reg, core::mem::size_of::<$ct>())
                        }
                        Instr::$cbr { a, b, add, add_reg, .. } | Instr::$cbrn { a, b, add, add_reg, .. } => {
                            (a, Some(b), add, add_reg, core::mem::size_of::<$ct>())
                        }
                    )? )*
                    Instr::BrEqz { cond, add, add_reg, .. } | Instr::BrNez { cond, add, add_reg, .. } => {
                        (cond, None, add, add_reg, 4)
                    }
                    Instr::BrI64Eqz { cond, add, add_reg, .. } | Instr::BrI64Nez { cond, add, add_reg, .. } => {
                        (cond, None, add, add_reg, 8)
                    }
                    _ => return false,
                };
                if width * 8 != bits {
                    return false;
                }
                if *first != r {
                    match other {
                        Some(b) if symmetric && *b == r => core::mem::swap(first, b),
                        _ => return false,
                    }
                }
                match by {
                    Addend::Const(k) => *add = Step(k),
                    Addend::Reg(x) => *add_reg = x,
                }
                true
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
                    | Instr::BrI64Nez { offset, .. }
                    | Instr::BrI32NeLoad8U { offset, .. }
                    | Instr::BrI32EqLoad8U { offset, .. } => Some(offset),
                    _ => None,
                }
            }

            /// The branch taken exactly when this conditional branch is not (the same
            /// operands, target and `PRE` step; a float compare's negation is also taken
            /// on NaN), which has the same forms: a conditional branch over an
            /// unconditional one is inverted into one branch.
            pub(crate) fn negated_branch(&self) -> Option<Instr> {
                Some(match *self {
                    $( $(
                        Instr::$cbi { a, imm, add_reg, offset, add } => {
                            Instr::$cbni { a, imm, add_reg, offset, add }
                        }
                        Instr::$cbni { a, imm, add_reg, offset, add } => {
                            Instr::$cbi { a, imm, add_reg, offset, add }
                        }
                    )? )*
                    $(
                        Instr::$cbr { a, b, add_reg, offset, add } => {
                            Instr::$cbrn { a, b, add_reg, offset, add }
                        }
                        Instr::$cbrn { a, b, add_reg, offset, add } => {
                            Instr::$cbr { a, b, add_reg, offset, add }
                        }
                    )*
                    Instr::BrEqz { cond, add_reg, offset, add } => {
                        Instr::BrNez { cond, add_reg, offset, add }
                    }
                    Instr::BrNez { cond, add_reg, offset, add } => {
                        Instr::BrEqz { cond, add_reg, offset, add }
                    }
                    Instr::BrI64Eqz { cond, add_reg, offset, add } => {
                        Instr::BrI64Nez { cond, add_reg, offset, add }
                    }
                    Instr::BrI64Nez { cond, add_reg, offset, add } => {
                        Instr::BrI64Eqz { cond, add_reg, offset, add }
                    }
                    Instr::BrI32NeLoad8U { a, addr, index, offset, mem_offset } => {
                        Instr::BrI32EqLoad8U { a, addr, index, offset, mem_offset }
                    }
                    Instr::BrI32EqLoad8U { a, addr, index, offset, mem_offset } => {
                        Instr::BrI32NeLoad8U { a, addr, index, offset, mem_offset }
                    }
                    _ => return None,
                })
            }
        }
    };
}
pub(super) use define_instr;
