//! The `fd_*` imports: reading and writing streams and files, seeking, closing and
//! renumbering, sync/advise/allocate, fdstat and filestat, prestat and `fd_readdir`.

use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{Advice, FallocateFlags, FileType, OFlags, SeekFrom, Timestamps};

use super::args::Args;
use super::ctx::WasiCtx;
use super::errno::Errno;
use super::fdtable::{DirEntry, FdEntry, Handle, fdflags, filetype, rights};
use super::mem::{GuestMem, WasiResult};

/// Retries `f` while it fails with `EINTR`.
fn retry<T>(mut f: impl FnMut() -> rustix::io::Result<T>) -> WasiResult<T> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(Errno::from),
        }
    }
}

/// The host fd of a standard stream connected to the host's, for `fstat`/`poll`.
pub(crate) fn host_stdio_fd(cx: &WasiCtx, handle: &Handle) -> Option<BorrowedFd<'static>> {
    let raw = match handle {
        Handle::Stdin if cx.stdin.is_host() => 0,
        Handle::Stdout if cx.stdout.is_host() => 1,
        Handle::Stderr if cx.stderr.is_host() => 2,
        _ => return None,
    };
    // SAFETY: the host's standard streams are open for the life of the process (the
    // runtime never closes them); a closed one only makes the calls using it fail.
    Some(unsafe { BorrowedFd::borrow_raw(raw) })
}

/// Reads into the iovecs from the current position, or from `offset` if given.
fn read_iovs(
    cx: &mut WasiCtx,
    fd: u32,
    m: &mut GuestMem<'_>,
    iovs: &[(u32, u32)],
    offset: Option<u64>,
) -> WasiResult<u32> {
    let entry = cx.fds.get(fd)?;
    let mut total: u32 = 0;
    match &entry.handle {
        Handle::Stdin => {
            if offset.is_some() {
                return Err(Errno::SPIPE);
            }
            entry.require(rights::FD_READ)?;
            // A prompt written before reading must be visible.
            let _ = cx.stdout.get().flush();
            let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) else {
                return Ok(0);
            };
            let dst = m.slice_mut(buf, len)?;
            loop {
                match cx.stdin.get().read(dst) {
                    Ok(n) => return Ok(n as u32),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Handle::Stdout | Handle::Stderr => return Err(Errno::BADF),
        Handle::Dir { .. } => return Err(Errno::ISDIR),
        Handle::File(file) => {
            entry.require(rights::FD_READ)?;
            for &(buf, len) in iovs {
                let dst = m.slice_mut(buf, len)?;
                let r = match offset {
                    Some(off) => retry(|| {
                        rustix::io::pread(file, &mut *dst, off.saturating_add(u64::from(total)))
                    }),
                    None => retry(|| rustix::io::read(file, &mut *dst)),
                };
                let n = match r {
                    Ok(n) => n as u32,
                    Err(e) if total == 0 => return Err(e),
                    Err(_) => break,
                };
                total = total.saturating_add(n);
                if n < len {
                    break;
                }
            }
        }
    }
    Ok(total)
}

/// Writes the iovecs at the current position, or at `offset` if given.
fn write_iovs(
    cx: &mut WasiCtx,
    fd: u32,
    m: &GuestMem<'_>,
    iovs: &[(u32, u32)],
    offset: Option<u64>,
) -> WasiResult<u32> {
    let entry = cx.fds.get(fd)?;
    let mut total: u32 = 0;
    match &entry.handle {
        Handle::Stdout | Handle::Stderr => {
            if offset.is_some() {
                return Err(Errno::SPIPE);
            }
            entry.require(rights::FD_WRITE)?;
            let is_err = matches!(entry.handle, Handle::Stderr);
            if is_err {
                // Keep the order of stdout and stderr output.
                let _ = cx.stdout.get().flush();
            }
            let out = if is_err {
                cx.stderr.get()
            } else {
                cx.stdout.get()
            };
            for &(buf, len) in iovs {
                let src = m.slice(buf, len)?;
                if let Err(e) = out.write_all(src) {
                    if total == 0 {
                        return Err(e.into());
                    }
                    break;
                }
                total = total.saturating_add(len);
            }
        }
        Handle::Stdin | Handle::Dir { .. } => return Err(Errno::BADF),
        Handle::File(file) => {
            entry.require(rights::FD_WRITE)?;
            for &(buf, len) in iovs {
                let src = m.slice(buf, len)?;
                let r = match offset {
                    Some(off) => retry(|| {
                        rustix::io::pwrite(file, src, off.saturating_add(u64::from(total)))
                    }),
                    None => retry(|| rustix::io::write(file, src)),
                };
                let n = match r {
                    Ok(n) => n as u32,
                    Err(e) if total == 0 => return Err(e),
                    Err(_) => break,
                };
                total = total.saturating_add(n);
                if n < len {
                    break;
                }
            }
        }
    }
    Ok(total)
}

/// The `fd_read` import.
pub fn fd_read(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let iovs = m.read_iovecs(a.u32(1), a.u32(2))?;
    let n = read_iovs(cx, a.u32(0), m, &iovs, None)?;
    m.write_u32(a.u32(3), n)
}

/// The `fd_pread` import.
pub fn fd_pread(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let iovs = m.read_iovecs(a.u32(1), a.u32(2))?;
    let n = read_iovs(cx, a.u32(0), m, &iovs, Some(a.u64(3)))?;
    m.write_u32(a.u32(4), n)
}

/// The `fd_write` import.
pub fn fd_write(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let iovs = m.read_iovecs(a.u32(1), a.u32(2))?;
    let n = write_iovs(cx, a.u32(0), m, &iovs, None)?;
    m.write_u32(a.u32(3), n)
}

/// The `fd_pwrite` import.
pub fn fd_pwrite(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let iovs = m.read_iovecs(a.u32(1), a.u32(2))?;
    let n = write_iovs(cx, a.u32(0), m, &iovs, Some(a.u64(3)))?;
    m.write_u32(a.u32(4), n)
}

/// The host fd of a seekable file; streams are `ESPIPE`, directories `EBADF`.
fn seekable(entry: &FdEntry) -> WasiResult<BorrowedFd<'_>> {
    match &entry.handle {
        Handle::File(fd) => Ok(fd.as_fd()),
        Handle::Dir { .. } => Err(Errno::BADF),
        _ => Err(Errno::SPIPE),
    }
}

/// The `fd_seek` import.
pub fn fd_seek(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let fd = seekable(entry)?;
    let offset = a.u64(1) as i64;
    let pos = match a.u32(2) {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL),
    };
    let needed = if matches!(pos, SeekFrom::Current(0)) {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    entry.require(needed)?;
    let new = retry(|| rustix::fs::seek(fd, pos))?;
    m.write_u64(a.u32(3), new)
}

/// The `fd_tell` import.
pub fn fd_tell(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let fd = seekable(entry)?;
    entry.require(rights::FD_TELL)?;
    let pos = retry(|| rustix::fs::seek(fd, SeekFrom::Current(0)))?;
    m.write_u64(a.u32(1), pos)
}

/// The `fd_close` import.
pub fn fd_close(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.remove(a.u32(0))?;
    if matches!(entry.handle, Handle::Stdout | Handle::Stderr) {
        let _ = cx.flush();
    }
    Ok(())
}

/// The `fd_renumber` import.
pub fn fd_renumber(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    cx.fds.renumber(a.u32(0), a.u32(1))
}

fn sync(cx: &mut WasiCtx, a: &Args<'_>, data_only: bool) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    match &entry.handle {
        Handle::File(fd) | Handle::Dir { fd, .. } => {
            if data_only {
                entry.require(rights::FD_DATASYNC)?;
                retry(|| rustix::fs::fdatasync(fd))
            } else {
                entry.require(rights::FD_SYNC)?;
                retry(|| rustix::fs::fsync(fd))
            }
        }
        Handle::Stdout | Handle::Stderr => cx.flush().map_err(Errno::from),
        Handle::Stdin => Ok(()),
    }
}

/// The `fd_sync` import.
pub fn fd_sync(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    sync(cx, a, false)
}

/// The `fd_datasync` import.
pub fn fd_datasync(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    sync(cx, a, true)
}

/// The `fd_advise` import.
pub fn fd_advise(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let advice = match a.u32(3) {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::INVAL),
    };
    let fd = seekable(entry)?;
    entry.require(rights::FD_ADVISE)?;
    let (offset, len) = (a.u64(1), a.u64(2));
    if offset > i64::MAX as u64 || len > i64::MAX as u64 {
        return Err(Errno::INVAL);
    }
    retry(|| rustix::fs::fadvise(fd, offset, core::num::NonZeroU64::new(len), advice))
}

/// The `fd_allocate` import.
pub fn fd_allocate(cx: &mut WasiCtx, _m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let fd = seekable(entry)?;
    entry.require(rights::FD_ALLOCATE)?;
    let (offset, len) = (a.u64(1), a.u64(2));
    if len == 0 || offset > i64::MAX as u64 || len > i64::MAX as u64 {
        return Err(Errno::INVAL);
    }
    match retry(|| rustix::fs::fallocate(fd, FallocateFlags::empty(), offset, len)) {
        // Filesystems without fallocate: extend the file by hand.
        Err(Errno::NOTSUP) => {
            let size = retry(|| rustix::fs::fstat(fd))?.st_size as u64;
            let end = offset.checked_add(len).ok_or(Errno::FBIG)?;
            if end > size {
                retry(|| rustix::fs::ftruncate(fd, end))?;
            }
            Ok(())
        }
        r => r,
    }
}

/// The file type of a descriptor, as `fdstat`/`filestat` report it.
fn entry_filetype(cx: &WasiCtx, entry: &FdEntry) -> u8 {
    let fd = match &entry.handle {
        Handle::File(fd) | Handle::Dir { fd, .. } => fd.as_fd(),
        h => match host_stdio_fd(cx, h) {
            Some(fd) => fd,
            None => return filetype::UNKNOWN,
        },
    };
    rustix::fs::fstat(fd)
        .map(|st| filetype::from_mode(st.st_mode))
        .unwrap_or(filetype::UNKNOWN)
}

/// The `fd_fdstat_get` import.
pub fn fd_fdstat_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let ft = entry_filetype(cx, entry);
    let mut out = [0u8; 24];
    out[0] = ft;
    out[2..4].copy_from_slice(&entry.flags.to_le_bytes());
    out[8..16].copy_from_slice(&entry.base.to_le_bytes());
    out[16..24].copy_from_slice(&entry.inheriting.to_le_bytes());
    m.write_bytes(a.u32(1), &out)
}

/// The `fd_fdstat_set_flags` import.
pub fn fd_fdstat_set_flags(
    cx: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let flags = u16::try_from(a.u32(1)).map_err(|_| Errno::INVAL)?;
    let entry = cx.fds.get_mut(a.u32(0))?;
    entry.require(rights::FD_FDSTAT_SET_FLAGS)?;
    if flags
        & !(fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC)
        != 0
    {
        return Err(Errno::INVAL);
    }
    let sync_bits = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
    if (flags ^ entry.flags) & sync_bits != 0 {
        // Linux cannot change the synchronisation mode of an open file.
        return Err(Errno::NOTSUP);
    }
    if let Handle::File(fd) | Handle::Dir { fd, .. } = &entry.handle {
        let mut fl = retry(|| rustix::fs::fcntl_getfl(fd))?;
        fl.set(OFlags::APPEND, flags & fdflags::APPEND != 0);
        fl.set(OFlags::NONBLOCK, flags & fdflags::NONBLOCK != 0);
        retry(|| rustix::fs::fcntl_setfl(fd, fl))?;
    }
    entry.flags = flags;
    Ok(())
}

/// The `fd_fdstat_set_rights` import.
pub fn fd_fdstat_set_rights(
    cx: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let entry = cx.fds.get_mut(a.u32(0))?;
    let (base, inheriting) = (a.u64(1), a.u64(2));
    if base & !entry.base != 0 || inheriting & !entry.inheriting != 0 {
        return Err(Errno::NOTCAPABLE);
    }
    entry.base = base;
    entry.inheriting = inheriting;
    Ok(())
}

/// Nanoseconds since the epoch of a `stat` time.
fn nanos(sec: i64, nsec: i64) -> u64 {
    (sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec.max(0) as u64)
}

/// The 64-byte WASI `filestat` of a host `stat`.
pub(crate) fn filestat_bytes(st: &rustix::fs::Stat) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[0..8].copy_from_slice(&st.st_dev.to_le_bytes());
    out[8..16].copy_from_slice(&st.st_ino.to_le_bytes());
    out[16] = filetype::from_mode(st.st_mode);
    out[24..32].copy_from_slice(&st.st_nlink.to_le_bytes());
    out[32..40].copy_from_slice(&(st.st_size as u64).to_le_bytes());
    let times = [
        nanos(st.st_atime, st.st_atime_nsec as i64),
        nanos(st.st_mtime, st.st_mtime_nsec as i64),
        nanos(st.st_ctime, st.st_ctime_nsec as i64),
    ];
    for (i, t) in times.iter().enumerate() {
        out[40 + i * 8..48 + i * 8].copy_from_slice(&t.to_le_bytes());
    }
    out
}

/// The `fd_filestat_get` import.
pub fn fd_filestat_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    entry.require(rights::FD_FILESTAT_GET)?;
    let fd = match &entry.handle {
        Handle::File(fd) | Handle::Dir { fd, .. } => Some(fd.as_fd()),
        h => host_stdio_fd(cx, h),
    };
    let out = match fd {
        Some(fd) => filestat_bytes(&retry(|| rustix::fs::fstat(fd))?),
        None => [0u8; 64],
    };
    m.write_bytes(a.u32(1), &out)
}

/// The `fd_filestat_set_size` import.
pub fn fd_filestat_set_size(
    cx: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let Handle::File(fd) = &entry.handle else {
        return Err(Errno::BADF);
    };
    entry.require(rights::FD_FILESTAT_SET_SIZE)?;
    let size = a.u64(1);
    if size > i64::MAX as u64 {
        return Err(Errno::INVAL);
    }
    retry(|| rustix::fs::ftruncate(fd, size))
}

/// The timestamps for `futimens`/`utimensat` from WASI `fstflags`.
pub(crate) fn timestamps(atim: u64, mtim: u64, fst: u32) -> WasiResult<Timestamps> {
    const ATIM: u32 = 1;
    const ATIM_NOW: u32 = 2;
    const MTIM: u32 = 4;
    const MTIM_NOW: u32 = 8;
    if fst & !0xf != 0
        || (fst & ATIM != 0 && fst & ATIM_NOW != 0)
        || (fst & MTIM != 0 && fst & MTIM_NOW != 0)
    {
        return Err(Errno::INVAL);
    }
    let one = |set: bool, now: bool, t: u64| rustix::fs::Timespec {
        tv_sec: if set { (t / 1_000_000_000) as i64 } else { 0 },
        tv_nsec: if now {
            rustix::fs::UTIME_NOW
        } else if set {
            (t % 1_000_000_000) as _
        } else {
            rustix::fs::UTIME_OMIT
        },
    };
    Ok(Timestamps {
        last_access: one(fst & ATIM != 0, fst & ATIM_NOW != 0, atim),
        last_modification: one(fst & MTIM != 0, fst & MTIM_NOW != 0, mtim),
    })
}

/// The `fd_filestat_set_times` import.
pub fn fd_filestat_set_times(
    cx: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let fd = entry.host_fd()?;
    entry.require(rights::FD_FILESTAT_SET_TIMES)?;
    let times = timestamps(a.u64(1), a.u64(2), a.u32(3))?;
    retry(|| rustix::fs::futimens(fd, &times))
}

/// The `fd_prestat_get` import.
pub fn fd_prestat_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let Handle::Dir {
        preopen: Some(name),
        ..
    } = &entry.handle
    else {
        return Err(Errno::BADF);
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
    let mut out = [0u8; 8];
    out[4..8].copy_from_slice(&len.to_le_bytes());
    m.write_bytes(a.u32(1), &out)
}

/// The `fd_prestat_dir_name` import.
pub fn fd_prestat_dir_name(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let entry = cx.fds.get(a.u32(0))?;
    let Handle::Dir {
        preopen: Some(name),
        ..
    } = &entry.handle
    else {
        return Err(Errno::BADF);
    };
    if (a.u32(2) as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    m.write_bytes(a.u32(1), name.as_bytes())
}

/// Reads the whole listing of a directory.
fn list_dir(fd: BorrowedFd<'_>) -> WasiResult<Vec<DirEntry>> {
    let mut dir = rustix::fs::Dir::read_from(fd).map_err(Errno::from)?;
    let mut out = Vec::new();
    while let Some(item) = dir.read() {
        let item = item.map_err(Errno::from)?;
        let name = item.file_name().to_bytes().to_vec();
        let ft = match item.file_type() {
            FileType::RegularFile => filetype::REGULAR_FILE,
            FileType::Directory => filetype::DIRECTORY,
            FileType::Symlink => filetype::SYMBOLIC_LINK,
            FileType::CharacterDevice => filetype::CHARACTER_DEVICE,
            FileType::BlockDevice => filetype::BLOCK_DEVICE,
            FileType::Socket => filetype::SOCKET_STREAM,
            FileType::Fifo => filetype::UNKNOWN,
            FileType::Unknown => {
                rustix::fs::statat(fd, item.file_name(), rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| filetype::from_mode(st.st_mode))
                    .unwrap_or(filetype::UNKNOWN)
            }
        };
        out.push(DirEntry {
            name,
            ino: item.ino(),
            filetype: ft,
        });
    }
    Ok(out)
}

/// The `fd_readdir` import.
pub fn fd_readdir(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let (buf, buf_len, cookie, used_ptr) = (a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    m.slice(buf, buf_len)?;
    let entry = cx.fds.get_mut(a.u32(0))?;
    entry.require(rights::FD_READDIR)?;
    let Handle::Dir { fd, entries, .. } = &mut entry.handle else {
        return Err(Errno::NOTDIR);
    };
    if cookie == 0 || entries.is_none() {
        *entries = Some(list_dir(fd.as_fd())?);
    }
    let list = entries.as_deref().unwrap_or(&[]);
    let mut out: Vec<u8> = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in list.iter().enumerate().skip(start) {
        if out.len() >= buf_len as usize {
            break;
        }
        out.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
        out.extend_from_slice(&[e.filetype, 0, 0, 0]);
        out.extend_from_slice(&e.name);
    }
    out.truncate(buf_len as usize);
    m.write_bytes(buf, &out)?;
    m.write_u32(used_ptr, out.len() as u32)
}
