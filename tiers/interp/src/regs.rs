//! The register file's model: register indices ([`Reg`]), how a value of each type sits
//! in a register or a pair ([`Bits`], [`RegVal`]), which half of the executor's
//! accumulator it travels in ([`AccClass`]), and which constants fit an instruction's
//! 16-bit immediate ([`Imm`]). Every other module of the crate builds on this one; it
//! depends on none of them.

/// A register index relative to the frame pointer. Negative indices are the function's
/// constants, `0..num_locals` its parameters and locals, the rest operand-stack temporaries.
/// 16 bits in the compact form, 32 in the wide one (see the crate docs, "Register
/// forms").
#[cfg(not(wide_registers))]
pub type Reg = i16;
/// A register index relative to the frame pointer. Negative indices are the function's
/// constants, `0..num_locals` its parameters and locals, the rest operand-stack temporaries.
/// 16 bits in the compact form, 32 in the wide one (see the crate docs, "Register
/// forms").
#[cfg(wide_registers)]
pub type Reg = i32;

/// Whether this build of the crate is the wide register form.
pub(crate) const WIDE: bool = cfg!(wide_registers);

/// This form's [`tierup_abi::FuncCode::variant`].
pub(crate) const VARIANT: u8 = WIDE as u8;

/// The [`tierup_abi::FuncCode::kind`] of this form's records.
pub(crate) const KIND: u16 = tierup_abi::FuncCode::kind_of(tierup_abi::Tier::Interp, VARIANT);

/// How a register (8 bytes) holds a value of type `Self`.
pub(crate) trait Bits: Copy {
    /// Reads the value from a register.
    fn from_reg(r: u64) -> Self;
    /// The register bits of the value (i32 and f32 zero-extended).
    fn into_reg(self) -> u64;
}

macro_rules! bits_int {
    ($($t:ty => $u:ty),*) => {$(
        impl Bits for $t {
            #[inline(always)]
            fn from_reg(r: u64) -> Self { r as $u as $t }
            #[inline(always)]
            fn into_reg(self) -> u64 { self as $u as u64 }
        }
    )*};
}
bits_int!(u32 => u32, i32 => u32, u64 => u64, i64 => u64);

impl Bits for f32 {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        f32::from_bits(r as u32)
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self.to_bits() as u64
    }
}

impl Bits for f64 {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        f64::from_bits(r)
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self.to_bits()
    }
}

impl Bits for bool {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        r != 0
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self as u64
    }
}

/// Which half of the executor's accumulator a value of this type travels in (an integer
/// register, or a vector register for f64, so that float chains need no moves between
/// the register files). The translator links two instructions only where they agree.
pub(crate) trait AccClass {
    /// Whether the value travels in the accumulator's float half.
    const FLOAT: bool;
}

macro_rules! acc_class {
    ($($t:ty => $float:expr),*) => {$(
        impl AccClass for $t {
            const FLOAT: bool = $float;
        }
    )*};
}
acc_class!(u32 => false, i32 => false, u64 => false, i64 => false, f32 => false, f64 => true);

/// How an instruction operand of type `Self` is read from and written to the register
/// file: scalars (any [`Bits`] type) in one register, a `v128` in two adjacent registers
/// (low 64 bits first), either whole as a `u128` or as a lane array such as `[f32; 4]`
/// (those impls are in `simd`).
pub(crate) trait RegVal: Sized {
    /// Whether the value occupies two registers.
    const WIDE: bool;
    /// Reads the value at register `r`.
    ///
    /// # Safety
    ///
    /// `r` (and `r + 1` when wide) lie in the frame of `fp`.
    unsafe fn load(fp: *mut u64, r: Reg) -> Self;
    /// Writes the value at register `r`.
    ///
    /// # Safety
    ///
    /// As for [`RegVal::load`].
    unsafe fn store(self, fp: *mut u64, r: Reg);
}

impl<T: Bits> RegVal for T {
    const WIDE: bool = false;
    #[inline(always)]
    unsafe fn load(fp: *mut u64, r: Reg) -> Self {
        // SAFETY: guaranteed by the caller.
        T::from_reg(unsafe { *fp.offset(r as isize) })
    }
    #[inline(always)]
    unsafe fn store(self, fp: *mut u64, r: Reg) {
        // SAFETY: guaranteed by the caller.
        unsafe { *fp.offset(r as isize) = self.into_reg() }
    }
}

impl RegVal for u128 {
    const WIDE: bool = true;
    #[inline(always)]
    unsafe fn load(fp: *mut u64, r: Reg) -> Self {
        // SAFETY: guaranteed by the caller (both registers are in the frame). On a
        // little-endian target the two registers are the u128's bytes in order, so one
        // 16-byte load reads them (one vector load).
        unsafe {
            let p = fp.offset(r as isize);
            if cfg!(target_endian = "little") {
                core::ptr::read_unaligned(p as *const u128)
            } else {
                (*p as u128) | ((*p.add(1) as u128) << 64)
            }
        }
    }
    #[inline(always)]
    unsafe fn store(self, fp: *mut u64, r: Reg) {
        // SAFETY: as for `load`.
        unsafe {
            let p = fp.offset(r as isize);
            if cfg!(target_endian = "little") {
                core::ptr::write_unaligned(p as *mut u128, self);
            } else {
                *p = self as u64;
                *p.add(1) = (self >> 64) as u64;
            }
        }
    }
}

/// Integer operand types a compare may take as a 16-bit immediate.
pub(crate) trait Imm: Sized {
    /// The immediate for the register bits of a constant, if it fits.
    fn to_imm(bits: u64) -> Option<i16>;
    /// The operand value of an immediate (sign-extended).
    fn from_imm(imm: i16) -> Self;
}

macro_rules! imm {
    ($($t:ty => $s:ty),*) => {$(
        impl Imm for $t {
            #[inline(always)]
            fn to_imm(bits: u64) -> Option<i16> {
                i16::try_from(<$t as Bits>::from_reg(bits) as $s).ok()
            }
            #[inline(always)]
            fn from_imm(imm: i16) -> Self {
                imm as $s as $t
            }
        }
    )*};
}
imm!(u32 => i32, i32 => i32, u64 => i64, i64 => i64);

/// Whether `f`'s result is a v128 (for the translator: the width of the result slot).
pub(crate) fn wide_result1<A, R: RegVal>(_: impl Fn(A) -> R) -> bool {
    R::WIDE
}

/// As [`wide_result1`] for a binary operation.
pub(crate) fn wide_result2<A, B, R: RegVal>(_: impl Fn(A, B) -> R) -> bool {
    R::WIDE
}
