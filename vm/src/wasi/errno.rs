//! WASI preview 1 error numbers ([`Errno`]) and the mapping from host errors
//! (`rustix` errnos and `std::io::Error`) to them.

use core::fmt;

/// A WASI preview 1 `errno` value (the `u16` every import returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident = $v:expr, $doc:expr;)*) => {
        impl Errno {
            $(#[doc = $doc] pub const $name: Errno = Errno($v);)*

            /// The spec's name of the value (`"noent"`...), or `"unknown"`.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($v => $doc,)*
                    _ => "unknown",
                }
            }
        }
    };
}

errnos! {
    SUCCESS = 0, "success";
    TOOBIG = 1, "2big";
    ACCES = 2, "acces";
    ADDRINUSE = 3, "addrinuse";
    ADDRNOTAVAIL = 4, "addrnotavail";
    AFNOSUPPORT = 5, "afnosupport";
    AGAIN = 6, "again";
    ALREADY = 7, "already";
    BADF = 8, "badf";
    BADMSG = 9, "badmsg";
    BUSY = 10, "busy";
    CANCELED = 11, "canceled";
    CHILD = 12, "child";
    CONNABORTED = 13, "connaborted";
    CONNREFUSED = 14, "connrefused";
    CONNRESET = 15, "connreset";
    DEADLK = 16, "deadlk";
    DESTADDRREQ = 17, "destaddrreq";
    DOM = 18, "dom";
    DQUOT = 19, "dquot";
    EXIST = 20, "exist";
    FAULT = 21, "fault";
    FBIG = 22, "fbig";
    HOSTUNREACH = 23, "hostunreach";
    IDRM = 24, "idrm";
    ILSEQ = 25, "ilseq";
    INPROGRESS = 26, "inprogress";
    INTR = 27, "intr";
    INVAL = 28, "inval";
    IO = 29, "io";
    ISCONN = 30, "isconn";
    ISDIR = 31, "isdir";
    LOOP = 32, "loop";
    MFILE = 33, "mfile";
    MLINK = 34, "mlink";
    MSGSIZE = 35, "msgsize";
    MULTIHOP = 36, "multihop";
    NAMETOOLONG = 37, "nametoolong";
    NETDOWN = 38, "netdown";
    NETRESET = 39, "netreset";
    NETUNREACH = 40, "netunreach";
    NFILE = 41, "nfile";
    NOBUFS = 42, "nobufs";
    NODEV = 43, "nodev";
    NOENT = 44, "noent";
    NOEXEC = 45, "noexec";
    NOLCK = 46, "nolck";
    NOLINK = 47, "nolink";
    NOMEM = 48, "nomem";
    NOMSG = 49, "nomsg";
    NOPROTOOPT = 50, "noprotoopt";
    NOSPC = 51, "nospc";
    NOSYS = 52, "nosys";
    NOTCONN = 53, "notconn";
    NOTDIR = 54, "notdir";
    NOTEMPTY = 55, "notempty";
    NOTRECOVERABLE = 56, "notrecoverable";
    NOTSOCK = 57, "notsock";
    NOTSUP = 58, "notsup";
    NOTTY = 59, "notty";
    NXIO = 60, "nxio";
    OVERFLOW = 61, "overflow";
    OWNERDEAD = 62, "ownerdead";
    PERM = 63, "perm";
    PIPE = 64, "pipe";
    PROTO = 65, "proto";
    PROTONOSUPPORT = 66, "protonosupport";
    PROTOTYPE = 67, "prototype";
    RANGE = 68, "range";
    ROFS = 69, "rofs";
    SPIPE = 70, "spipe";
    SRCH = 71, "srch";
    STALE = 72, "stale";
    TIMEDOUT = 73, "timedout";
    TXTBSY = 74, "txtbsy";
    XDEV = 75, "xdev";
    NOTCAPABLE = 76, "notcapable";
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {} ({})", self.0, self.name())
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        from_raw_os_error(e.raw_os_error())
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        if let Some(code) = e.raw_os_error() {
            return from_raw_os_error(code);
        }
        use std::io::ErrorKind as K;
        match e.kind() {
            K::NotFound => Errno::NOENT,
            K::PermissionDenied => Errno::PERM,
            K::AlreadyExists => Errno::EXIST,
            K::WouldBlock => Errno::AGAIN,
            K::InvalidInput => Errno::INVAL,
            K::InvalidData => Errno::ILSEQ,
            K::BrokenPipe => Errno::PIPE,
            K::Interrupted => Errno::INTR,
            K::Unsupported => Errno::NOTSUP,
            K::OutOfMemory => Errno::NOMEM,
            _ => Errno::IO,
        }
    }
}

/// Maps a host (Linux) errno to the WASI one; unknown values become `EIO`.
pub fn from_raw_os_error(code: i32) -> Errno {
    use libc as c;
    match code {
        0 => Errno::SUCCESS,
        c::E2BIG => Errno::TOOBIG,
        c::EACCES => Errno::ACCES,
        c::EADDRINUSE => Errno::ADDRINUSE,
        c::EADDRNOTAVAIL => Errno::ADDRNOTAVAIL,
        c::EAFNOSUPPORT => Errno::AFNOSUPPORT,
        c::EAGAIN => Errno::AGAIN,
        c::EALREADY => Errno::ALREADY,
        c::EBADF => Errno::BADF,
        c::EBADMSG => Errno::BADMSG,
        c::EBUSY => Errno::BUSY,
        c::ECANCELED => Errno::CANCELED,
        c::ECHILD => Errno::CHILD,
        c::ECONNABORTED => Errno::CONNABORTED,
        c::ECONNREFUSED => Errno::CONNREFUSED,
        c::ECONNRESET => Errno::CONNRESET,
        c::EDEADLK => Errno::DEADLK,
        c::EDESTADDRREQ => Errno::DESTADDRREQ,
        c::EDOM => Errno::DOM,
        c::EDQUOT => Errno::DQUOT,
        c::EEXIST => Errno::EXIST,
        c::EFAULT => Errno::FAULT,
        c::EFBIG => Errno::FBIG,
        c::EHOSTUNREACH => Errno::HOSTUNREACH,
        c::EIDRM => Errno::IDRM,
        c::EILSEQ => Errno::ILSEQ,
        c::EINPROGRESS => Errno::INPROGRESS,
        c::EINTR => Errno::INTR,
        c::EINVAL => Errno::INVAL,
        c::EIO => Errno::IO,
        c::EISCONN => Errno::ISCONN,
        c::EISDIR => Errno::ISDIR,
        c::ELOOP => Errno::LOOP,
        c::EMFILE => Errno::MFILE,
        c::EMLINK => Errno::MLINK,
        c::EMSGSIZE => Errno::MSGSIZE,
        c::EMULTIHOP => Errno::MULTIHOP,
        c::ENAMETOOLONG => Errno::NAMETOOLONG,
        c::ENETDOWN => Errno::NETDOWN,
        c::ENETRESET => Errno::NETRESET,
        c::ENETUNREACH => Errno::NETUNREACH,
        c::ENFILE => Errno::NFILE,
        c::ENOBUFS => Errno::NOBUFS,
        c::ENODEV => Errno::NODEV,
        c::ENOENT => Errno::NOENT,
        c::ENOEXEC => Errno::NOEXEC,
        c::ENOLCK => Errno::NOLCK,
        c::ENOLINK => Errno::NOLINK,
        c::ENOMEM => Errno::NOMEM,
        c::ENOMSG => Errno::NOMSG,
        c::ENOPROTOOPT => Errno::NOPROTOOPT,
        c::ENOSPC => Errno::NOSPC,
        c::ENOSYS => Errno::NOSYS,
        c::ENOTCONN => Errno::NOTCONN,
        c::ENOTDIR => Errno::NOTDIR,
        c::ENOTEMPTY => Errno::NOTEMPTY,
        c::ENOTRECOVERABLE => Errno::NOTRECOVERABLE,
        c::ENOTSOCK => Errno::NOTSOCK,
        c::EOPNOTSUPP => Errno::NOTSUP,
        c::ENOTTY => Errno::NOTTY,
        c::ENXIO => Errno::NXIO,
        c::EOVERFLOW => Errno::OVERFLOW,
        c::EOWNERDEAD => Errno::OWNERDEAD,
        c::EPERM => Errno::PERM,
        c::EPIPE => Errno::PIPE,
        c::EPROTO => Errno::PROTO,
        c::EPROTONOSUPPORT => Errno::PROTONOSUPPORT,
        c::EPROTOTYPE => Errno::PROTOTYPE,
        c::ERANGE => Errno::RANGE,
        c::EROFS => Errno::ROFS,
        c::ESPIPE => Errno::SPIPE,
        c::ESRCH => Errno::SRCH,
        c::ESTALE => Errno::STALE,
        c::ETIMEDOUT => Errno::TIMEDOUT,
        c::ETXTBSY => Errno::TXTBSY,
        c::EXDEV => Errno::XDEV,
        _ => Errno::IO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errnos_map_to_wasi_values() {
        assert_eq!(from_raw_os_error(libc::ENOENT), Errno::NOENT);
        assert_eq!(Errno::NOENT.0, 44);
        assert_eq!(from_raw_os_error(libc::EBADF).0, 8);
        assert_eq!(from_raw_os_error(libc::EEXIST).0, 20);
        assert_eq!(from_raw_os_error(libc::ENOTEMPTY).0, 55);
        assert_eq!(from_raw_os_error(libc::EXDEV), Errno::XDEV);
        assert_eq!(from_raw_os_error(libc::EWOULDBLOCK), Errno::AGAIN);
        assert_eq!(from_raw_os_error(libc::ENOTSUP), Errno::NOTSUP);
        assert_eq!(from_raw_os_error(9999), Errno::IO);
        assert_eq!(Errno::from(rustix::io::Errno::NOTDIR), Errno::NOTDIR);
        assert_eq!(Errno::NOTCAPABLE.0, 76);
        assert_eq!(Errno::NOTCAPABLE.name(), "notcapable");
    }

    #[test]
    fn io_errors_without_os_code_map_by_kind() {
        let e = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed");
        assert_eq!(Errno::from(e), Errno::PIPE);
        let e = std::io::Error::other("x");
        assert_eq!(Errno::from(e), Errno::IO);
    }
}
