//! Reading a body: each operator is decoded once, straight into a visitor call (no
//! [`Operator`] value kept between the decoder and its users), and handed first to the
//! validator, when the compile validates the body too
//! ([`tierup_abi::Compiler::compile_validating`]), then to the code generator. The
//! generator only ever sees operators the validator accepted, so it works on a valid
//! prefix of the body; an invalid body stops at its first invalid operator.
//!
//! The decoder is two-level. The operators most bodies are made of (locals, constants,
//! loads and stores, integer arithmetic, branches, calls, blocks without parameters),
//! with immediates in their short encodings, are decoded here ([`Reader::fast`]);
//! everything else, and every encoding this does not recognise at once, goes to
//! `wasmparser`'s decoder from the same position, which reports malformed bytes. Both
//! call the same visit methods, so the validator and the generator cannot tell them
//! apart. The syntactic frame stack `wasmparser` keeps for its reader (what `else` and
//! the end of the body are checked against) is kept here for both.

use core::mem::ManuallyDrop;

use tierup_abi::{BodyValidator, CompileError, ValidatingError};
use wasmparser::{
    BinaryReader, BlockType, ControlStack, FrameKind, FrameStack, MemArg, MemArgTarget, Operator,
    ValType, VisitOperator, VisitSimdOperator, WasmFeatures,
};

use crate::codegen::Body;
use crate::masm::Masm;

/// A visit that stopped the read; the reason is in [`Reader::error`]. (A one-byte result
/// keeps every visit's return in a register.)
pub(crate) struct Stop;

/// The visitor of one operator at a time: the validator's visit, then the generator's.
pub(crate) struct Reader<'r, 'a, M: Masm> {
    body: &'r mut Body<'a, M>,
    validator: Option<&'r mut BodyValidator>,
    /// The module offset of the operator being visited.
    offset: usize,
    /// The kinds of the open frames, as `wasmparser`'s reader tracks them.
    frames: ControlStack,
    /// Why the read stopped.
    error: Option<ValidatingError>,
}

/// Records what a visit does to the frame stack, as `wasmparser`'s reader does.
macro_rules! frame_effect {
    ($self:ident visit_block) => {
        $self.frames.push(FrameKind::Block)
    };
    ($self:ident visit_loop) => {
        $self.frames.push(FrameKind::Loop)
    };
    ($self:ident visit_if) => {
        $self.frames.push(FrameKind::If)
    };
    ($self:ident visit_else) => {{
        $self.frames.pop();
        $self.frames.push(FrameKind::Else)
    }};
    ($self:ident visit_try) => {
        $self.frames.push(FrameKind::LegacyTry)
    };
    ($self:ident visit_catch) => {{
        $self.frames.pop();
        $self.frames.push(FrameKind::LegacyCatch)
    }};
    ($self:ident visit_catch_all) => {{
        $self.frames.pop();
        $self.frames.push(FrameKind::LegacyCatchAll)
    }};
    ($self:ident visit_try_table) => {
        $self.frames.push(FrameKind::TryTable)
    };
    ($self:ident visit_delegate) => {{
        $self.frames.pop();
    }};
    ($self:ident visit_end) => {{
        $self.frames.pop();
    }};
    ($self:ident $other:ident) => {};
}

/// The visit methods of `wasmparser`'s operator lists: each one validates the operator
/// (by the validator's method of the same name, from its visitor named by the first
/// argument) and then emits it.
macro_rules! validate_then_emit {
    ($validator:ident; $( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                frame_effect!(self $visit);
                if let Some(v) = self.validator.as_deref_mut() {
                    let valid = v.$validator(self.offset as u64).$visit($($($arg.clone()),*)?);
                    if let Err(e) = valid {
                        return Err(self.stop(ValidatingError::Invalid(e)));
                    }
                }
                let op = ManuallyDrop::new(Operator::$op $({ $($arg),* })?);
                let done = self.body.operator(&op, self.offset);
                // The operator's drop is a call the compiler does not fold for the one
                // variant it holds; only where one of its fields needs dropping (a few
                // operators of proposals outside this tier) does it drop.
                if core::mem::needs_drop::<($($($argty,)*)?)>() {
                    drop(ManuallyDrop::into_inner(op));
                }
                done.map_err(|e| self.stop(ValidatingError::Compile(e)))
            }
        )*
    };
}

macro_rules! visit_operator {
    ($($list:tt)*) => { validate_then_emit!(visitor; $($list)*); };
}

macro_rules! visit_simd_operator {
    ($($list:tt)*) => { validate_then_emit!(simd_visitor; $($list)*); };
}

#[allow(clippy::clone_on_copy)]
impl<'a, M: Masm> VisitOperator<'a> for Reader<'_, '_, M> {
    type Output = Result<(), Stop>;

    wasmparser::for_each_visit_operator!(visit_operator);

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }
}

/// SIMD operators are validated like the others; the generator refuses them (this tier
/// does not compile SIMD yet), which ends the compile.
#[allow(clippy::clone_on_copy)]
impl<'a, M: Masm> VisitSimdOperator<'a> for Reader<'_, '_, M> {
    wasmparser::for_each_visit_simd_operator!(visit_simd_operator);
}

impl<M: Masm> FrameStack for Reader<'_, '_, M> {
    fn current_frame(&self) -> Option<FrameKind> {
        self.frames.last()
    }
}

/// The first four bytes of a LEB128 at `at`: `Ok` with the value's low bits and the
/// length where the encoding ends within them (any such encoding is valid for every
/// integer type), `Err` with the 28 bits read where all four continue. `None` at the end
/// of the bytes.
#[inline(always)]
fn leb4(bytes: &[u8], at: usize) -> Option<Result<(u32, usize), u32>> {
    let mut value = 0u32;
    for i in 0..4 {
        let b = *bytes.get(at + i)?;
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(Ok((value, i + 1)));
        }
    }
    Some(Err(value))
}

/// `value`'s low `7 * n` bits, sign-extended.
#[inline(always)]
fn sign_extend(value: u32, n: usize) -> i64 {
    let shift = 64 - 7 * n as u32;
    ((u64::from(value) << shift) as i64) >> shift
}

/// An unsigned LEB128 of at most five bytes at `at` that `wasmparser` would read as this
/// `u32` (the linker pads relocated indices to five): its value and length. `None` for an
/// encoding it would refuse, or the end of the bytes.
#[inline(always)]
fn uleb(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    match leb4(bytes, at)? {
        Ok(short) => Some(short),
        // The fifth byte holds the top four bits, and nothing more.
        Err(low) => {
            let b = *bytes.get(at + 4)?;
            (b < 0x10).then_some((low | u32::from(b) << 28, 5))
        }
    }
}

/// A signed LEB128 `i32` of at most five bytes, as `wasmparser` reads it.
#[inline(always)]
fn sleb32(bytes: &[u8], at: usize) -> Option<(i32, usize)> {
    match leb4(bytes, at)? {
        Ok((value, n)) => Some((sign_extend(value, n) as i32, n)),
        // The fifth byte: the top four bits, the sign repeated in the bits above them.
        Err(low) => {
            let b = *bytes.get(at + 4)?;
            let above = b & 0x78;
            (b & 0x80 == 0 && (above == 0 || above == 0x78))
                .then_some(((low | u32::from(b) << 28) as i32, 5))
        }
    }
}

/// A signed LEB128 `i64` of at most four bytes (any such encoding is valid).
#[inline(always)]
fn sleb64(bytes: &[u8], at: usize) -> Option<(i64, usize)> {
    let (value, n) = leb4(bytes, at)?.ok()?;
    Some((sign_extend(value, n), n))
}

impl<'r, 'a, M: Masm> Reader<'r, 'a, M> {
    pub fn new(body: &'r mut Body<'a, M>, validator: Option<&'r mut BodyValidator>) -> Self {
        let mut frames = ControlStack::default();
        // The function body's own frame, which its last `end` closes.
        frames.push(FrameKind::Block);
        Reader {
            body,
            validator,
            offset: 0,
            frames,
            error: None,
        }
    }

    /// Records why the read stops.
    #[cold]
    #[inline(never)]
    fn stop(&mut self, e: ValidatingError) -> Stop {
        self.error = Some(e);
        Stop
    }

    /// Reads the operators of `bytes`, the body after its locals, which starts at module
    /// offset `base`, with the module's `features`: the checks and errors of
    /// `wasmparser`'s reader, its last `end` closing the body and nothing after it.
    pub fn read(
        &mut self,
        bytes: &'a [u8],
        base: usize,
        features: WasmFeatures,
    ) -> Result<(), ValidatingError> {
        let mut pos = 0;
        while pos < bytes.len() {
            self.offset = base + pos;
            // After the body's last `end`, `wasmparser` reports what follows.
            let fast = if self.frames.is_empty() {
                None
            } else {
                self.fast(bytes, &mut pos)
            };
            let done = match fast {
                Some(done) => done,
                None => {
                    let mut r =
                        BinaryReader::new_features(&bytes[pos..], self.offset as u64, features);
                    let done = r.visit_operator(self).map_err(ValidatingError::Invalid)?;
                    pos += r.current_position();
                    done
                }
            };
            if done.is_err() {
                return Err(self.error.take().unwrap_or_else(|| {
                    CompileError("a visit stopped the read without a reason".into()).into()
                }));
            }
        }
        // Frames still open at the end are malformed.
        BinaryReader::new_features(&[], (base + bytes.len()) as u64, features)
            .finish_expression(self)
            .map_err(ValidatingError::Invalid)
    }

    /// Decodes and visits the operator at `*pos` if it is one of the common ones with
    /// its immediates in short encodings, moving `*pos` past it; `None` (and `*pos`
    /// unchanged) for any other, which `wasmparser` decodes.
    #[inline(always)]
    fn fast(&mut self, bytes: &'a [u8], pos: &mut usize) -> Option<Result<(), Stop>> {
        let at = *pos;
        let code = *bytes.get(at)?;
        let imm = at + 1;
        // An index immediate; `*pos` moves past it.
        macro_rules! index {
            () => {{
                let (v, n) = uleb(bytes, imm)?;
                *pos = imm + n;
                v
            }};
        }
        // A memory immediate of an access of natural alignment `2^max`: the alignment's
        // exponent alone in its byte (no memory index or other flags) and the offset.
        macro_rules! memarg {
            ($max:expr) => {{
                let flags = *bytes.get(imm)?;
                if flags >= 0x10 {
                    return None;
                }
                let (offset, n) = uleb(bytes, imm + 1)?;
                *pos = imm + 1 + n;
                MemArg {
                    align: flags,
                    max_align: $max,
                    offset: u64::from(offset),
                    target: MemArgTarget::Memory(0),
                    ordering: None,
                }
            }};
        }
        // One `match` on the opcode: the operators without immediates first, then the
        // others' arms.
        macro_rules! dispatch {
            (plain { $($plain:literal => $visit:ident),* $(,)? } $($arms:tt)*) => {
                match code {
                    $($plain => {
                        *pos = imm;
                        self.$visit()
                    })*
                    $($arms)*
                }
            };
        }
        Some(dispatch! {
            plain {
                0x00 => visit_unreachable, 0x01 => visit_nop, 0x0b => visit_end,
                0x0f => visit_return, 0x1a => visit_drop, 0x1b => visit_select,
                0x45 => visit_i32_eqz, 0x46 => visit_i32_eq, 0x47 => visit_i32_ne,
                0x48 => visit_i32_lt_s, 0x49 => visit_i32_lt_u, 0x4a => visit_i32_gt_s,
                0x4b => visit_i32_gt_u, 0x4c => visit_i32_le_s, 0x4d => visit_i32_le_u,
                0x4e => visit_i32_ge_s, 0x4f => visit_i32_ge_u,
                0x50 => visit_i64_eqz, 0x51 => visit_i64_eq, 0x52 => visit_i64_ne,
                0x53 => visit_i64_lt_s, 0x54 => visit_i64_lt_u, 0x55 => visit_i64_gt_s,
                0x56 => visit_i64_gt_u, 0x57 => visit_i64_le_s, 0x58 => visit_i64_le_u,
                0x59 => visit_i64_ge_s, 0x5a => visit_i64_ge_u,
                0x6a => visit_i32_add, 0x6b => visit_i32_sub, 0x6c => visit_i32_mul,
                0x71 => visit_i32_and, 0x72 => visit_i32_or, 0x73 => visit_i32_xor,
                0x74 => visit_i32_shl, 0x75 => visit_i32_shr_s, 0x76 => visit_i32_shr_u,
                0x7c => visit_i64_add, 0x7d => visit_i64_sub, 0x7e => visit_i64_mul,
                0x83 => visit_i64_and, 0x84 => visit_i64_or, 0x85 => visit_i64_xor,
                0x86 => visit_i64_shl, 0x87 => visit_i64_shr_s, 0x88 => visit_i64_shr_u,
                0xa7 => visit_i32_wrap_i64, 0xac => visit_i64_extend_i32_s,
                0xad => visit_i64_extend_i32_u,
            }
            0x02..=0x04 => {
                let ty = match *bytes.get(imm)? {
                    0x40 => BlockType::Empty,
                    0x7f => BlockType::Type(ValType::I32),
                    0x7e => BlockType::Type(ValType::I64),
                    0x7d => BlockType::Type(ValType::F32),
                    0x7c => BlockType::Type(ValType::F64),
                    _ => return None,
                };
                *pos = imm + 1;
                match code {
                    0x02 => self.visit_block(ty),
                    0x03 => self.visit_loop(ty),
                    _ => self.visit_if(ty),
                }
            }
            0x0c => self.visit_br(index!()),
            0x0d => self.visit_br_if(index!()),
            0x10 => self.visit_call(index!()),
            0x20 => self.visit_local_get(index!()),
            0x21 => self.visit_local_set(index!()),
            0x22 => self.visit_local_tee(index!()),
            0x23 => self.visit_global_get(index!()),
            0x24 => self.visit_global_set(index!()),
            0x28 => self.visit_i32_load(memarg!(2)),
            0x29 => self.visit_i64_load(memarg!(3)),
            0x2a => self.visit_f32_load(memarg!(2)),
            0x2b => self.visit_f64_load(memarg!(3)),
            0x2c => self.visit_i32_load8_s(memarg!(0)),
            0x2d => self.visit_i32_load8_u(memarg!(0)),
            0x2e => self.visit_i32_load16_s(memarg!(1)),
            0x2f => self.visit_i32_load16_u(memarg!(1)),
            0x30 => self.visit_i64_load8_s(memarg!(0)),
            0x31 => self.visit_i64_load8_u(memarg!(0)),
            0x32 => self.visit_i64_load16_s(memarg!(1)),
            0x33 => self.visit_i64_load16_u(memarg!(1)),
            0x34 => self.visit_i64_load32_s(memarg!(2)),
            0x35 => self.visit_i64_load32_u(memarg!(2)),
            0x36 => self.visit_i32_store(memarg!(2)),
            0x37 => self.visit_i64_store(memarg!(3)),
            0x38 => self.visit_f32_store(memarg!(2)),
            0x39 => self.visit_f64_store(memarg!(3)),
            0x3a => self.visit_i32_store8(memarg!(0)),
            0x3b => self.visit_i32_store16(memarg!(1)),
            0x3c => self.visit_i64_store8(memarg!(0)),
            0x3d => self.visit_i64_store16(memarg!(1)),
            0x3e => self.visit_i64_store32(memarg!(2)),
            0x41 => {
                let (v, n) = sleb32(bytes, imm)?;
                *pos = imm + n;
                self.visit_i32_const(v)
            }
            0x42 => {
                let (v, n) = sleb64(bytes, imm)?;
                *pos = imm + n;
                self.visit_i64_const(v)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodings of one to five bytes: every short one, and five-byte ones around the
    /// edges of what the last byte may hold.
    fn encodings() -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for a in 0..=255u8 {
            all.push(vec![a]);
            for b in [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xff] {
                all.push(vec![a, b]);
                all.push(vec![a | 0x80, b]);
                all.push(vec![a | 0x80, 0x80, b]);
                all.push(vec![a | 0x80, 0xff, 0xff, b]);
            }
            for last in 0..=255u8 {
                if a % 17 == 0 {
                    all.push(vec![a | 0x80, 0x80, 0xff, 0x80, last]);
                }
            }
        }
        all
    }

    /// Where the short decoders accept an encoding, `wasmparser` reads the same value
    /// and length; where they refuse one of five bytes or less that it accepts, only
    /// because it is of a kind they leave to it.
    #[test]
    fn the_short_decoders_agree_with_wasmparser() {
        for bytes in encodings() {
            let mut r = BinaryReader::new(&bytes, 0);
            let theirs = r.read_var_u32().ok().map(|v| (v, r.current_position()));
            match uleb(&bytes, 0) {
                Some(ours) => assert_eq!(Some(ours), theirs, "u32 {bytes:x?}"),
                None => assert!(theirs.is_none(), "u32 {bytes:x?} refused"),
            }
            let mut r = BinaryReader::new(&bytes, 0);
            let theirs = r.read_var_i32().ok().map(|v| (v, r.current_position()));
            match sleb32(&bytes, 0) {
                Some(ours) => assert_eq!(Some(ours), theirs, "i32 {bytes:x?}"),
                None => assert!(theirs.is_none(), "i32 {bytes:x?} refused"),
            }
            let mut r = BinaryReader::new(&bytes, 0);
            let theirs = r.read_var_i64().ok().map(|v| (v, r.current_position()));
            match sleb64(&bytes, 0) {
                Some(ours) => assert_eq!(Some(ours), theirs, "i64 {bytes:x?}"),
                // Five bytes and more are left to wasmparser.
                None => assert!(theirs.is_none_or(|(_, n)| n == 5), "i64 {bytes:x?} refused"),
            }
        }
    }
}
