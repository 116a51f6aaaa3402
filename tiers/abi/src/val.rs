//! [`ValRaw`]: the 16-byte untyped cell in which values cross every tier boundary
//! (array-entry arguments and results, globals).

use crate::entry::FuncEntry;

/// One untyped WebAssembly value, as it is passed through the array calling convention and
/// stored in globals.
///
/// The cell is 16 bytes wide and 16-byte aligned so that a `v128` fits. Scalars are stored
/// little-endian in the low bytes; the unused high bytes are unspecified on read and written
/// as zero by the constructors here. References are stored as pointer-sized integers:
/// a `funcref` is a `*const FuncEntry` (null for `ref.null func`), an `externref` is an
/// opaque non-zero handle of the runtime (0 for `ref.null extern`).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, align(16))]
pub struct ValRaw {
    bytes: [u8; 16],
}

impl core::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ValRaw({:#034x})", self.get_v128())
    }
}

impl ValRaw {
    /// A cell holding all zero bits (`i32.const 0`, `f64.const +0`, null references).
    pub const ZERO: ValRaw = ValRaw { bytes: [0; 16] };

    /// A cell holding the 64-bit pattern `bits` in its low half.
    #[inline]
    pub const fn from_u64(bits: u64) -> ValRaw {
        ValRaw {
            bytes: (bits as u128).to_le_bytes(),
        }
    }

    /// A cell holding an `i32`.
    #[inline]
    pub const fn i32(v: i32) -> ValRaw {
        Self::from_u64(v as u32 as u64)
    }
    /// A cell holding an `i64`.
    #[inline]
    pub const fn i64(v: i64) -> ValRaw {
        Self::from_u64(v as u64)
    }
    /// A cell holding an `f32` given by its bit pattern (NaN payloads are preserved).
    #[inline]
    pub const fn f32_bits(bits: u32) -> ValRaw {
        Self::from_u64(bits as u64)
    }
    /// A cell holding an `f64` given by its bit pattern (NaN payloads are preserved).
    #[inline]
    pub const fn f64_bits(bits: u64) -> ValRaw {
        Self::from_u64(bits)
    }
    /// A cell holding a `v128`.
    #[inline]
    pub const fn v128(bits: u128) -> ValRaw {
        ValRaw {
            bytes: bits.to_le_bytes(),
        }
    }
    /// A cell holding a `funcref` (null pointer for `ref.null func`).
    #[inline]
    pub fn funcref(entry: *const FuncEntry) -> ValRaw {
        Self::from_u64(entry as usize as u64)
    }
    /// A cell holding an `externref` handle (0 for `ref.null extern`).
    #[inline]
    pub const fn externref(handle: usize) -> ValRaw {
        Self::from_u64(handle as u64)
    }

    /// The low 64 bits of the cell.
    #[inline]
    pub const fn get_u64(&self) -> u64 {
        let b = &self.bytes;
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
    /// The cell read as an `i32`.
    #[inline]
    pub const fn get_i32(&self) -> i32 {
        self.get_u64() as u32 as i32
    }
    /// The cell read as an `i64`.
    #[inline]
    pub const fn get_i64(&self) -> i64 {
        self.get_u64() as i64
    }
    /// The cell read as the bit pattern of an `f32`.
    #[inline]
    pub const fn get_f32_bits(&self) -> u32 {
        self.get_u64() as u32
    }
    /// The cell read as the bit pattern of an `f64`.
    #[inline]
    pub const fn get_f64_bits(&self) -> u64 {
        self.get_u64()
    }
    /// The whole cell read as a `v128`.
    #[inline]
    pub const fn get_v128(&self) -> u128 {
        u128::from_le_bytes(self.bytes)
    }
    /// The cell read as a `funcref`.
    #[inline]
    pub fn get_funcref(&self) -> *const FuncEntry {
        self.get_u64() as usize as *const FuncEntry
    }
    /// The cell read as an `externref` handle.
    #[inline]
    pub const fn get_externref(&self) -> usize {
        self.get_u64() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(core::mem::size_of::<ValRaw>(), 16);
        assert_eq!(core::mem::align_of::<ValRaw>(), 16);
    }

    #[test]
    fn round_trips() {
        assert_eq!(ValRaw::i32(-1).get_i32(), -1);
        assert_eq!(
            ValRaw::i32(-1).get_u64(),
            0xffff_ffff,
            "i32 is zero-extended"
        );
        assert_eq!(ValRaw::i64(i64::MIN).get_i64(), i64::MIN);
        assert_eq!(ValRaw::f32_bits(0x7fc0_0001).get_f32_bits(), 0x7fc0_0001);
        assert_eq!(
            ValRaw::f64_bits(0x7ff8_0000_0000_0001).get_f64_bits(),
            0x7ff8_0000_0000_0001
        );
        let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        assert_eq!(ValRaw::v128(v).get_v128(), v);
        assert_eq!(ValRaw::externref(7).get_externref(), 7);
        assert!(ValRaw::ZERO.get_funcref().is_null());
    }
}
