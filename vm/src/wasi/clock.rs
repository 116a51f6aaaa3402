//! Clocks (`clock_res_get`, `clock_time_get`: realtime, monotonic, process and thread CPU
//! time) and `poll_oneoff` (clock subscriptions and fd readiness).

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::time::ClockId;

use super::args::Args;
use super::ctx::WasiCtx;
use super::errno::Errno;
use super::fd::host_stdio_fd;
use super::fdtable::Handle;
use super::mem::{GuestMem, WasiResult};

/// The host clock of a WASI `clockid`.
fn clock(id: u32) -> WasiResult<ClockId> {
    Ok(match id {
        0 => ClockId::Realtime,
        1 => ClockId::Monotonic,
        2 => ClockId::ProcessCPUTime,
        3 => ClockId::ThreadCPUTime,
        _ => return Err(Errno::INVAL),
    })
}

/// A time in nanoseconds (negative parts, which clocks do not give, as 0; saturating).
pub(crate) fn to_nanos(t: rustix::time::Timespec) -> u64 {
    (t.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec.max(0) as u64)
}

/// The current time of WASI clock `id`, in nanoseconds.
fn now(id: u32) -> WasiResult<u64> {
    Ok(to_nanos(rustix::time::clock_gettime(clock(id)?)))
}

/// The `clock_res_get` import.
pub fn clock_res_get(_cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let res = to_nanos(rustix::time::clock_getres(clock(a.u32(0))?)).max(1);
    m.write_u64(a.u32(1), res)
}

/// The `clock_time_get` import.
pub fn clock_time_get(_cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let t = now(a.u32(0))?;
    m.write_u64(a.u32(2), t)
}

/// Size of a `subscription` and of an `event`.
const SUB_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;
/// `eventtype` values.
const EV_CLOCK: u8 = 0;
const EV_FD_READ: u8 = 1;
const EV_FD_WRITE: u8 = 2;
/// `subclockflags.subscription_clock_abstime`.
const ABSTIME: u16 = 1;
/// `eventrwflags.fd_readwrite_hangup`.
const HANGUP: u16 = 1;

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn bytes(&self) -> [u8; EVENT_SIZE as usize] {
        let mut out = [0u8; EVENT_SIZE as usize];
        out[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        out[8..10].copy_from_slice(&self.error.0.to_le_bytes());
        out[10] = self.kind;
        out[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        out[24..26].copy_from_slice(&self.flags.to_le_bytes());
        out
    }
}

/// A subscription waiting on a host fd.
struct Waiter<'a> {
    userdata: u64,
    kind: u8,
    fd: BorrowedFd<'a>,
}

/// How a subscribed fd is ready: now (with `nbytes`), or after a host `poll`.
enum Readiness<'a> {
    Now(u64),
    Poll(BorrowedFd<'a>),
}

/// The readiness of fd `fd` for reading (`kind == EV_FD_READ`) or writing.
fn readiness<'a>(cx: &'a WasiCtx, fd: u32, kind: u8) -> WasiResult<Readiness<'a>> {
    let entry = cx.fds.get(fd)?;
    match &entry.handle {
        Handle::File(f) => {
            let st = rustix::fs::fstat(f).map_err(Errno::from)?;
            if st.st_mode & libc::S_IFMT == libc::S_IFREG {
                let nbytes = if kind == EV_FD_READ {
                    let pos = rustix::fs::seek(f, rustix::fs::SeekFrom::Current(0)).unwrap_or(0);
                    (st.st_size as u64).saturating_sub(pos)
                } else {
                    0
                };
                Ok(Readiness::Now(nbytes))
            } else {
                Ok(Readiness::Poll(f.as_fd()))
            }
        }
        Handle::Dir { .. } => Err(Errno::BADF),
        h => match host_stdio_fd(cx, h) {
            Some(fd) => Ok(Readiness::Poll(fd)),
            None => Ok(Readiness::Now(0)),
        },
    }
}

/// The `poll_oneoff` import.
pub fn poll_oneoff(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let (input, output, n, nevents_ptr) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return Err(Errno::INVAL);
    }
    let subs = m
        .slice(input, n.checked_mul(SUB_SIZE).ok_or(Errno::FAULT)?)?
        .to_vec();
    m.slice(output, n.checked_mul(EVENT_SIZE).ok_or(Errno::FAULT)?)?;

    // `stdout` must reach the terminal before the program waits.
    let _ = cx.stdout.get().flush();
    let start = now(1)?;
    let mut ready: Vec<Event> = Vec::new();
    let mut waiters: Vec<Waiter<'_>> = Vec::new();
    // (userdata, deadline on the monotonic clock)
    let mut timers: Vec<(u64, u64)> = Vec::new();
    for sub in subs.chunks_exact(SUB_SIZE as usize) {
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&sub[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let u32_at = |o: usize| u32::from_le_bytes([sub[o], sub[o + 1], sub[o + 2], sub[o + 3]]);
        let userdata = u64_at(0);
        let kind = sub[8];
        let event = |error, kind| Event {
            userdata,
            error,
            kind,
            nbytes: 0,
            flags: 0,
        };
        match kind {
            EV_CLOCK => {
                let (id, timeout) = (u32_at(16), u64_at(24));
                let flags = u16::from_le_bytes([sub[40], sub[41]]);
                let wait = if flags & ABSTIME != 0 {
                    match now(id) {
                        Ok(t) => Ok(timeout.saturating_sub(t)),
                        Err(e) => Err(e),
                    }
                } else {
                    clock(id).map(|_| timeout)
                };
                match wait {
                    Ok(w) => timers.push((userdata, start.saturating_add(w))),
                    Err(e) => ready.push(event(e, EV_CLOCK)),
                }
            }
            EV_FD_READ | EV_FD_WRITE => match readiness(cx, u32_at(16), kind) {
                Ok(Readiness::Now(nbytes)) => ready.push(Event {
                    nbytes,
                    ..event(Errno::SUCCESS, kind)
                }),
                Ok(Readiness::Poll(fd)) => waiters.push(Waiter { userdata, kind, fd }),
                Err(e) => ready.push(event(e, kind)),
            },
            _ => return Err(Errno::INVAL),
        }
    }

    let deadline = timers.iter().map(|t| t.1).min();
    if ready.is_empty() || !waiters.is_empty() {
        // Wait for the first fd or timer (not at all if something is ready already).
        let timeout = if !ready.is_empty() {
            Some(0)
        } else {
            deadline.map(|d| d.saturating_sub(start))
        };
        if waiters.is_empty() {
            if let Some(t) = timeout {
                std::thread::sleep(Duration::from_nanos(t));
            }
        } else {
            let mut fds: Vec<PollFd<'_>> = waiters
                .iter()
                .map(|w| {
                    let flags = if w.kind == EV_FD_READ {
                        PollFlags::IN
                    } else {
                        PollFlags::OUT
                    };
                    PollFd::from_borrowed_fd(w.fd, flags)
                })
                .collect();
            let mut timeout = timeout;
            loop {
                let ts = timeout.map(|t| rustix::time::Timespec {
                    tv_sec: (t / 1_000_000_000) as i64,
                    tv_nsec: (t % 1_000_000_000) as _,
                });
                match rustix::event::poll(&mut fds, ts.as_ref()) {
                    Ok(_) => break,
                    // A signal (a profiling timer's, the embedder's) cut the wait short:
                    // wait on for the rest of it, so that the guest sees no early wake-up.
                    Err(rustix::io::Errno::INTR) => match (timeout, deadline) {
                        (Some(0), _) => break,
                        (_, Some(d)) => {
                            let t = now(1)?;
                            if t >= d {
                                break;
                            }
                            timeout = Some(d - t);
                        }
                        (_, None) => {}
                    },
                    Err(e) => return Err(e.into()),
                }
            }
            for (w, p) in waiters.iter().zip(&fds) {
                let rev = p.revents();
                if rev.is_empty() {
                    continue;
                }
                let error = if rev.contains(PollFlags::NVAL) {
                    Errno::BADF
                } else {
                    Errno::SUCCESS
                };
                ready.push(Event {
                    userdata: w.userdata,
                    error,
                    kind: w.kind,
                    nbytes: 0,
                    flags: if rev.contains(PollFlags::HUP) {
                        HANGUP
                    } else {
                        0
                    },
                });
            }
        }
        let t = now(1)?;
        for &(userdata, d) in &timers {
            if d <= t {
                ready.push(Event {
                    userdata,
                    error: Errno::SUCCESS,
                    kind: EV_CLOCK,
                    nbytes: 0,
                    flags: 0,
                });
            }
        }
    }
    let count = ready.len().min(n as usize);
    for (i, e) in ready.iter().take(count).enumerate() {
        m.write_bytes(output + i as u32 * EVENT_SIZE, &e.bytes())?;
    }
    m.write_u32(nevents_ptr, count as u32)
}
