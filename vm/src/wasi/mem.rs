//! Guest-memory access for the WASI imports: every read and write of a guest pointer goes
//! through [`GuestMem`], which checks `ptr + len <= memory length` in 64-bit arithmetic and
//! returns `EFAULT` otherwise. No other WASI code slices guest memory.

use super::errno::Errno;

/// Result of a WASI operation: a value or the errno to return to the guest.
pub type WasiResult<T> = Result<T, Errno>;

/// The most iovecs one call may pass (bounds the host's copy of the list).
const MAX_IOVECS: u32 = 1 << 16;

/// A bounds-checked view of the calling instance's linear memory.
pub struct GuestMem<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMem<'a> {
    /// Wraps a memory's bytes (an empty slice when the instance exports no memory).
    pub fn new(bytes: &'a mut [u8]) -> GuestMem<'a> {
        GuestMem { bytes }
    }

    fn range(&self, ptr: u32, len: u64) -> WasiResult<core::ops::Range<usize>> {
        let end = u64::from(ptr) + len;
        if end > self.bytes.len() as u64 {
            return Err(Errno::FAULT);
        }
        Ok(ptr as usize..end as usize)
    }

    /// The `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&self.bytes[r])
    }

    /// The `len` bytes at `ptr`, mutably.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&mut self.bytes[r])
    }

    /// Copies `data` to `ptr`.
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// The little-endian `u32` at `ptr`.
    #[cfg(test)]
    pub fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        let b = self.slice(ptr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Writes a `u8`.
    pub fn write_u8(&mut self, ptr: u32, v: u8) -> WasiResult<()> {
        self.write_bytes(ptr, &[v])
    }

    /// Writes a little-endian `u32`.
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// Writes a little-endian `u64`.
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// The guest string at `ptr` (UTF-8, else `EILSEQ`), owned.
    pub fn read_string(&self, ptr: u32, len: u32) -> WasiResult<String> {
        let bytes = self.slice(ptr, len)?;
        core::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| Errno::ILSEQ)
    }

    /// The `count` iovecs (`{buf: u32, buf_len: u32}`) at `ptr`; each buffer is checked
    /// to lie inside the memory.
    pub fn read_iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        if count > MAX_IOVECS {
            return Err(Errno::INVAL);
        }
        let r = self.range(ptr, u64::from(count) * 8)?;
        let mut out = Vec::with_capacity(count as usize);
        for chunk in self.bytes[r].chunks_exact(8) {
            let buf = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            self.range(buf, u64::from(len))?;
            out.push((buf, len));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_efault() {
        let mut bytes = vec![0u8; 16];
        let mut m = GuestMem::new(&mut bytes);
        assert_eq!(m.write_u64(8, 7), Ok(()));
        assert_eq!(m.read_u32(8), Ok(7));
        assert_eq!(m.write_u64(9, 7), Err(Errno::FAULT));
        assert_eq!(m.read_u32(u32::MAX), Err(Errno::FAULT));
        assert_eq!(m.slice(u32::MAX, u32::MAX).err(), Some(Errno::FAULT));
        assert_eq!(m.slice(16, 0).map(|s| s.len()), Ok(0));
        assert_eq!(m.read_iovecs(0, u32::MAX).err(), Some(Errno::INVAL));
        assert_eq!(m.read_iovecs(8, 4096).err(), Some(Errno::FAULT));
        m.write_u32(0, 12).unwrap();
        m.write_u32(4, 100).unwrap();
        assert_eq!(m.read_iovecs(0, 1).err(), Some(Errno::FAULT));
        m.write_u32(4, 4).unwrap();
        assert_eq!(m.read_iovecs(0, 1), Ok(vec![(12, 4)]));
        m.write_bytes(12, &[0xff, 0xfe, 0, 0]).unwrap();
        assert_eq!(m.read_string(12, 2), Err(Errno::ILSEQ));
    }
}
