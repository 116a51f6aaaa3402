//! The guest's descriptor table: what each WASI fd stands for (a standard stream, a host
//! file or a host directory), its rights and flags, and the WASI constants that describe
//! them (rights bits, file types, fd flags).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::errno::Errno;
use super::mem::WasiResult;

/// WASI `rights` bits and the sets given to each kind of descriptor.
#[allow(dead_code)] // the complete list of the spec
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right of a regular file.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Every right of a directory.
    pub const DIR_BASE: u64 = FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;
    /// What a directory passes on to what is opened beneath it.
    pub const DIR_INHERITING: u64 = DIR_BASE | FILE;
    /// The rights of a standard stream.
    pub const STDIO: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_DATASYNC
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE;
}

/// WASI `filetype` values.
#[allow(dead_code)] // the complete list of the spec
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;

    /// The WASI file type of a host `st_mode`.
    pub fn from_mode(mode: u32) -> u8 {
        match mode & libc::S_IFMT {
            libc::S_IFREG => REGULAR_FILE,
            libc::S_IFDIR => DIRECTORY,
            libc::S_IFLNK => SYMBOLIC_LINK,
            libc::S_IFCHR => CHARACTER_DEVICE,
            libc::S_IFBLK => BLOCK_DEVICE,
            libc::S_IFSOCK => SOCKET_STREAM,
            _ => UNKNOWN,
        }
    }
}

/// WASI `fdflags` bits.
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// One directory entry as `fd_readdir` reports it.
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

/// What a descriptor stands for.
pub enum Handle {
    /// The context's stdin stream.
    Stdin,
    /// The context's stdout stream.
    Stdout,
    /// The context's stderr stream.
    Stderr,
    /// A host file (regular file, device, pipe...).
    File(OwnedFd),
    /// A host directory; `preopen` is its guest name if it was preopened; `entries` caches
    /// the listing `fd_readdir` serves cookies from (read again at cookie 0).
    Dir {
        fd: OwnedFd,
        preopen: Option<String>,
        entries: Option<Vec<DirEntry>>,
    },
}

impl Handle {
    /// A directory handle.
    pub fn dir(fd: OwnedFd, preopen: Option<String>) -> Handle {
        Handle::Dir {
            fd,
            preopen,
            entries: None,
        }
    }
}

/// One open descriptor.
pub struct FdEntry {
    pub handle: Handle,
    pub base: u64,
    pub inheriting: u64,
    /// The `fdflags` given at open (or set later).
    pub flags: u16,
}

impl FdEntry {
    /// A descriptor with the given rights and flags.
    pub fn new(handle: Handle, base: u64, inheriting: u64, flags: u16) -> FdEntry {
        FdEntry {
            handle,
            base,
            inheriting,
            flags,
        }
    }

    /// The host fd of a file or directory (`EBADF` for streams).
    pub fn host_fd(&self) -> WasiResult<BorrowedFd<'_>> {
        match &self.handle {
            Handle::File(fd) | Handle::Dir { fd, .. } => Ok(fd.as_fd()),
            _ => Err(Errno::BADF),
        }
    }

    /// The host fd of a directory (`ENOTDIR` for anything else).
    pub fn dir_fd(&self) -> WasiResult<BorrowedFd<'_>> {
        match &self.handle {
            Handle::Dir { fd, .. } => Ok(fd.as_fd()),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// Fails with `ENOTCAPABLE` unless the descriptor has all the `needed` rights.
    pub fn require(&self, needed: u64) -> WasiResult<()> {
        if self.base & needed == needed {
            Ok(())
        } else {
            Err(Errno::NOTCAPABLE)
        }
    }
}

/// Descriptors by number; a new descriptor takes the lowest free number.
#[derive(Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

/// The most descriptors a guest may hold at once.
const MAX_FDS: usize = 1 << 16;

impl FdTable {
    /// Adds `entry` at the lowest free number.
    pub fn push(&mut self, entry: FdEntry) -> WasiResult<u32> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(entry);
            return Ok(i as u32);
        }
        if self.slots.len() >= MAX_FDS {
            return Err(Errno::MFILE);
        }
        self.slots.push(Some(entry));
        Ok((self.slots.len() - 1) as u32)
    }

    /// The descriptor `fd`, or `EBADF`.
    pub fn get(&self, fd: u32) -> WasiResult<&FdEntry> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    /// The descriptor `fd` mutably, or `EBADF`.
    pub fn get_mut(&mut self, fd: u32) -> WasiResult<&mut FdEntry> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// Removes and returns the descriptor `fd`.
    pub fn remove(&mut self, fd: u32) -> WasiResult<FdEntry> {
        let entry = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::BADF)?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// Moves `from` to `to`, closing what `to` held.
    pub fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let entry = self.remove(from)?;
        // `to` exists, so its slot is inside the table even after trailing slots went.
        if let Some(slot) = self.slots.get_mut(to as usize) {
            *slot = Some(entry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio() -> FdEntry {
        FdEntry::new(Handle::Stdin, rights::STDIO, 0, 0)
    }

    #[test]
    fn lowest_free_number_and_renumber() {
        let mut t = FdTable::default();
        assert_eq!(t.push(stdio()), Ok(0));
        assert_eq!(t.push(stdio()), Ok(1));
        assert_eq!(t.push(stdio()), Ok(2));
        assert!(t.remove(1).is_ok());
        assert_eq!(t.remove(1).err(), Some(Errno::BADF));
        assert_eq!(t.push(stdio()), Ok(1));
        assert_eq!(t.renumber(2, 0), Ok(()));
        assert_eq!(t.get(2).err(), Some(Errno::BADF));
        assert!(t.get(0).is_ok());
        assert_eq!(t.renumber(0, 7).err(), Some(Errno::BADF));
        assert_eq!(t.get(u32::MAX).err(), Some(Errno::BADF));
    }
}
