//! Lane operations of the `v128` instructions, in portable Rust over lane arrays. Every
//! operation takes and returns arrays such as `[u32; 4]`, which the executor reads from and
//! writes to the two registers of a v128 with one unaligned 16-byte access (see the
//! `RegVal` impls below), so after inlining LLVM turns the fixed-size lane loops into SSE
//! instructions on x86-64. Lane `i` of a v128 is bytes `i*w .. (i+1)*w` (little-endian).
//! Integer lane ops are in `int`, float lane ops in `float`, memory forms in `mem`.

mod float;
mod int;
mod lanes;
mod mem;

pub(crate) use float::*;
pub(crate) use int::*;
pub(crate) use mem::*;

#[cfg(test)]
mod tests {
    use crate::regs::RegVal;

    #[test]
    fn lanes_are_16_bytes() {
        assert_eq!(core::mem::size_of::<[u8; 16]>(), 16);
        assert_eq!(core::mem::size_of::<[f64; 2]>(), 16);
    }

    #[test]
    fn registers_hold_the_vector_little_endian() {
        let mut regs = [0u64; 4];
        let fp = regs.as_mut_ptr();
        let v: u128 = 0x0f0e0d0c_0b0a0908_07060504_03020100;
        // SAFETY: registers 1 and 2 lie in `regs`.
        unsafe {
            v.store(fp, 1);
            assert_eq!(regs[1], 0x07060504_03020100);
            assert_eq!(<[u8; 16] as RegVal>::load(fp, 1)[15], 15);
            let lanes = <[u32; 4] as RegVal>::load(fp, 1);
            assert_eq!(lanes, [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
            [1u16, 2, 3, 4, 5, 6, 7, 8].store(fp, 2);
            assert_eq!(regs[2], 0x0004_0003_0002_0001);
            assert_eq!(regs[3], 0x0008_0007_0006_0005);
            assert_eq!(<u128 as RegVal>::load(fp, 2) >> 112, 8);
        }
    }
}
