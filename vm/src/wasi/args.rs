//! The call's parameters as WASI sees them ([`Args`]), and the small imports: program
//! arguments and environment, `proc_raise`, `sched_yield`, `random_get` and the socket
//! calls (no sockets are ever preopened, so they fail like the spec says).

use tierup_abi::ValRaw;

use super::ctx::WasiCtx;
use super::errno::Errno;
use super::mem::{GuestMem, WasiResult};

/// The raw parameter cells of one import call.
pub struct Args<'a>(pub &'a [ValRaw]);

impl Args<'_> {
    /// Parameter `i` as an unsigned 32-bit value (pointers, lengths, fds, flags).
    pub fn u32(&self, i: usize) -> u32 {
        self.0.get(i).map_or(0, |c| c.get_i32() as u32)
    }

    /// Parameter `i` as an unsigned 64-bit value.
    pub fn u64(&self, i: usize) -> u64 {
        self.0.get(i).map_or(0, |c| c.get_i64() as u64)
    }
}

/// Writes a list of NUL-terminated strings: pointers at `ptrs`, bytes at `buf`.
fn write_strings(m: &mut GuestMem<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult<()> {
    let mut at = u64::from(buf);
    for (i, s) in list.iter().enumerate() {
        let p = u32::try_from(at).map_err(|_| Errno::FAULT)?;
        let slot = u64::from(ptrs) + 4 * i as u64;
        m.write_u32(u32::try_from(slot).map_err(|_| Errno::FAULT)?, p)?;
        m.write_bytes(p, s)?;
        let end = at + s.len() as u64;
        m.write_u8(u32::try_from(end).map_err(|_| Errno::FAULT)?, 0)?;
        at = end + 1;
    }
    Ok(())
}

/// Writes the count and the total size (with NULs) of a list of strings.
fn write_sizes(m: &mut GuestMem<'_>, list: &[Vec<u8>], count: u32, size: u32) -> WasiResult<()> {
    let total: usize = list.iter().map(|s| s.len() + 1).sum();
    m.write_u32(
        count,
        u32::try_from(list.len()).map_err(|_| Errno::OVERFLOW)?,
    )?;
    m.write_u32(size, u32::try_from(total).map_err(|_| Errno::OVERFLOW)?)
}

/// The `args_get` import.
pub fn args_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    write_strings(m, &cx.args, a.u32(0), a.u32(1))
}

/// The `args_sizes_get` import.
pub fn args_sizes_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    write_sizes(m, &cx.args, a.u32(0), a.u32(1))
}

/// The `environ_get` import.
pub fn environ_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    write_strings(m, &cx.env, a.u32(0), a.u32(1))
}

/// The `environ_sizes_get` import.
pub fn environ_sizes_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    write_sizes(m, &cx.env, a.u32(0), a.u32(1))
}

/// The `proc_raise` import.
pub fn proc_raise(_cx: &mut WasiCtx, _m: &mut GuestMem<'_>, _a: &Args<'_>) -> WasiResult<()> {
    Err(Errno::NOSYS)
}

/// The `sched_yield` import.
pub fn sched_yield(_cx: &mut WasiCtx, _m: &mut GuestMem<'_>, _a: &Args<'_>) -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}

/// The `random_get` import.
pub fn random_get(_cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let buf = m.slice_mut(a.u32(0), a.u32(1))?;
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Every socket call: `EBADF` for a closed fd, else `ENOTSOCK` (no fd is a socket).
pub fn sock(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    cx.fds.get(a.u32(0))?;
    Err(Errno::NOTSOCK)
}
