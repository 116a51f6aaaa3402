//! The `path_*` imports: open, create and remove directories, unlink, rename, link,
//! symlink, readlink and path filestat. Every path goes through [`super::path`], so it is
//! resolved beneath the directory descriptor the guest names.

use std::os::fd::AsFd;

use rustix::fs::{AtFlags, Mode, OFlags};

use super::args::Args;
use super::ctx::WasiCtx;
use super::errno::Errno;
use super::fd::{filestat_bytes, timestamps};
use super::fdtable::{FdEntry, Handle, fdflags, rights};
use super::mem::{GuestMem, WasiResult};
use super::path::{open_beneath, parent_beneath};

/// `lookupflags.symlink_follow`.
const SYMLINK_FOLLOW: u32 = 1;

/// The oflags bits.
const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_EXCL: u32 = 4;
const O_TRUNC: u32 = 8;

/// Reads the guest path `(ptr, len)`.
fn guest_path(m: &GuestMem<'_>, ptr: u32, len: u32) -> WasiResult<String> {
    m.read_string(ptr, len)
}

/// The directory descriptor `fd` after checking it has `needed` rights.
fn dir_entry(cx: &WasiCtx, fd: u32, needed: u64) -> WasiResult<&FdEntry> {
    let entry = cx.fds.get(fd)?;
    entry.dir_fd()?;
    entry.require(needed)?;
    Ok(entry)
}

fn io<T>(r: rustix::io::Result<T>) -> WasiResult<T> {
    r.map_err(Errno::from)
}

/// The `path_open` import.
pub fn path_open(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let (dirflags, oflags) = (a.u32(1), a.u32(4));
    let (base, inheriting, fdfl) = (a.u64(5), a.u64(6), a.u32(7));
    let path = guest_path(m, a.u32(2), a.u32(3))?;
    if oflags & !0xf != 0 || fdfl & !0x1f != 0 {
        return Err(Errno::INVAL);
    }
    let mut needed = rights::PATH_OPEN;
    if oflags & O_CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    let dir = dir_entry(cx, a.u32(0), needed)?;
    let mut fl = OFlags::empty();
    if oflags & O_CREAT != 0 {
        fl |= OFlags::CREATE;
    }
    if oflags & O_EXCL != 0 {
        fl |= OFlags::EXCL;
    }
    if oflags & O_TRUNC != 0 {
        fl |= OFlags::TRUNC;
    }
    let fdfl = fdfl as u16;
    for (bit, host) in [
        (fdflags::APPEND, OFlags::APPEND),
        (fdflags::DSYNC, OFlags::DSYNC),
        (fdflags::SYNC, OFlags::SYNC),
        (fdflags::RSYNC, OFlags::RSYNC),
        (fdflags::NONBLOCK, OFlags::NONBLOCK),
    ] {
        if fdfl & bit != 0 {
            fl |= host;
        }
    }
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0
        || fdfl & fdflags::APPEND != 0
        || oflags & O_TRUNC != 0;
    if oflags & O_DIRECTORY != 0 {
        fl |= OFlags::DIRECTORY | OFlags::RDONLY;
    } else if read && write {
        fl |= OFlags::RDWR;
    } else if write {
        fl |= OFlags::WRONLY;
    } else {
        fl |= OFlags::RDONLY;
    }
    let follow = dirflags & SYMLINK_FOLLOW != 0;
    // `openat2` rejects a mode without `O_CREAT`.
    let mode = if oflags & O_CREAT != 0 {
        Mode::from_bits_truncate(0o666)
    } else {
        Mode::empty()
    };
    let fd = open_beneath(dir.dir_fd()?, &path, fl, mode, follow)?;
    let (dir_base, dir_inh) = (dir.inheriting, dir.inheriting);
    let st = io(rustix::fs::fstat(&fd))?;
    let entry = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        FdEntry::new(
            Handle::dir(fd, None),
            base & dir_base & rights::DIR_BASE,
            inheriting & dir_inh,
            fdfl,
        )
    } else {
        FdEntry::new(
            Handle::File(fd),
            base & dir_base & rights::FILE,
            inheriting & dir_inh,
            fdfl,
        )
    };
    let new = cx.fds.push(entry)?;
    if let Err(e) = m.write_u32(a.u32(8), new) {
        let _ = cx.fds.remove(new);
        return Err(e);
    }
    Ok(())
}

/// The `path_create_directory` import.
pub fn path_create_directory(
    cx: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let path = guest_path(m, a.u32(1), a.u32(2))?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_CREATE_DIRECTORY)?;
    let p = parent_beneath(dir.dir_fd()?, &path)?;
    io(rustix::fs::mkdirat(
        p.fd(),
        p.name.as_str(),
        Mode::from_bits_truncate(0o777),
    ))
}

/// The `path_remove_directory` import.
pub fn path_remove_directory(
    cx: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let path = guest_path(m, a.u32(1), a.u32(2))?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_REMOVE_DIRECTORY)?;
    let p = parent_beneath(dir.dir_fd()?, &path)?;
    io(rustix::fs::unlinkat(
        p.fd(),
        p.name.as_str(),
        AtFlags::REMOVEDIR,
    ))
}

/// The `path_unlink_file` import.
pub fn path_unlink_file(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let path = guest_path(m, a.u32(1), a.u32(2))?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_UNLINK_FILE)?;
    let p = parent_beneath(dir.dir_fd()?, &path)?;
    io(rustix::fs::unlinkat(
        p.fd(),
        p.name.as_str(),
        AtFlags::empty(),
    ))
}

/// The `path_filestat_get` import.
pub fn path_filestat_get(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let path = guest_path(m, a.u32(2), a.u32(3))?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_FILESTAT_GET)?;
    let follow = a.u32(1) & SYMLINK_FOLLOW != 0;
    let fd = open_beneath(dir.dir_fd()?, &path, OFlags::PATH, Mode::empty(), follow)?;
    let st = io(rustix::fs::fstat(&fd))?;
    m.write_bytes(a.u32(4), &filestat_bytes(&st))
}

/// The `path_filestat_set_times` import.
pub fn path_filestat_set_times(
    cx: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> WasiResult<()> {
    let path = guest_path(m, a.u32(2), a.u32(3))?;
    let times = timestamps(a.u64(4), a.u64(5), a.u32(6))?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_FILESTAT_SET_TIMES)?;
    let follow = a.u32(1) & SYMLINK_FOLLOW != 0;
    let fd = open_beneath(dir.dir_fd()?, &path, OFlags::PATH, Mode::empty(), follow)?;
    io(rustix::fs::utimensat(&fd, "", &times, AtFlags::EMPTY_PATH))
}

/// The `path_readlink` import.
pub fn path_readlink(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let path = guest_path(m, a.u32(1), a.u32(2))?;
    let (buf, buf_len) = (a.u32(3), a.u32(4));
    m.slice(buf, buf_len)?;
    let dir = dir_entry(cx, a.u32(0), rights::PATH_READLINK)?;
    let p = parent_beneath(dir.dir_fd()?, &path)?;
    let target = io(rustix::fs::readlinkat(p.fd(), p.name.as_str(), Vec::new()))?;
    let bytes = target.as_bytes();
    let n = bytes.len().min(buf_len as usize);
    m.write_bytes(buf, &bytes[..n])?;
    m.write_u32(a.u32(5), n as u32)
}

/// The `path_symlink` import.
pub fn path_symlink(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let target = guest_path(m, a.u32(0), a.u32(1))?;
    let path = guest_path(m, a.u32(3), a.u32(4))?;
    if target.is_empty() {
        return Err(Errno::NOENT);
    }
    if target.as_bytes().contains(&0) {
        return Err(Errno::INVAL);
    }
    let dir = dir_entry(cx, a.u32(2), rights::PATH_SYMLINK)?;
    let p = parent_beneath(dir.dir_fd()?, &path)?;
    io(rustix::fs::symlinkat(
        target.as_str(),
        p.fd(),
        p.name.as_str(),
    ))
}

/// The `path_rename` import.
pub fn path_rename(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let old = guest_path(m, a.u32(1), a.u32(2))?;
    let new = guest_path(m, a.u32(4), a.u32(5))?;
    let from = dir_entry(cx, a.u32(0), rights::PATH_RENAME_SOURCE)?;
    let to = dir_entry(cx, a.u32(3), rights::PATH_RENAME_TARGET)?;
    let p1 = parent_beneath(from.dir_fd()?, &old)?;
    let p2 = parent_beneath(to.dir_fd()?, &new)?;
    io(rustix::fs::renameat(
        p1.fd(),
        p1.name.as_str(),
        p2.fd(),
        p2.name.as_str(),
    ))
}

/// The `path_link` import.
pub fn path_link(cx: &mut WasiCtx, m: &mut GuestMem<'_>, a: &Args<'_>) -> WasiResult<()> {
    let old = guest_path(m, a.u32(2), a.u32(3))?;
    let new = guest_path(m, a.u32(5), a.u32(6))?;
    let from = dir_entry(cx, a.u32(0), rights::PATH_LINK_SOURCE)?;
    let to = dir_entry(cx, a.u32(4), rights::PATH_LINK_TARGET)?;
    let p2 = parent_beneath(to.dir_fd()?, &new)?;
    if a.u32(1) & SYMLINK_FOLLOW == 0 {
        let p1 = parent_beneath(from.dir_fd()?, &old)?;
        return io(rustix::fs::linkat(
            p1.fd(),
            p1.name.as_str(),
            p2.fd(),
            p2.name.as_str(),
            AtFlags::empty(),
        ));
    }
    // Follow symlinks in the source only inside the sandbox: resolve it to an `O_PATH`
    // descriptor beneath the directory, then link that descriptor.
    let src = open_beneath(from.dir_fd()?, &old, OFlags::PATH, Mode::empty(), true)?;
    match rustix::fs::linkat(&src, "", p2.fd(), p2.name.as_str(), AtFlags::EMPTY_PATH) {
        Ok(()) => Ok(()),
        // Without CAP_DAC_READ_SEARCH: link through the process's own fd entry, which names
        // the already-resolved file.
        Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::PERM) => {
            use std::os::fd::AsRawFd;
            let proc_path = format!("/proc/self/fd/{}", src.as_fd().as_raw_fd());
            io(rustix::fs::linkat(
                rustix::fs::CWD,
                proc_path.as_str(),
                p2.fd(),
                p2.name.as_str(),
                AtFlags::SYMLINK_FOLLOW,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
