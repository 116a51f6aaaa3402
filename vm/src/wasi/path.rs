//! Sandboxed path resolution: every guest path is resolved by the kernel beneath a
//! directory fd the guest holds (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`),
//! so absolute paths, `..` and symlinks cannot leave a preopened directory. Operations that
//! act on a name (unlink, rename, link, ...) resolve the *parent* this way and then use the
//! `*at` call on the last component without following symlinks.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::errno::Errno;
use super::mem::WasiResult;

/// The flags of every sandboxed lookup.
fn resolve_flags() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS
}

/// Checks a guest path: not empty, no NUL byte, not absolute.
pub fn check(path: &str) -> WasiResult<()> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    if path.as_bytes().contains(&0) {
        return Err(Errno::INVAL);
    }
    if path.starts_with('/') {
        return Err(Errno::NOTCAPABLE);
    }
    Ok(())
}

/// Maps the error of a sandboxed lookup: leaving the directory (`EXDEV` from
/// `RESOLVE_BENEATH`) is `ENOTCAPABLE`.
fn lookup_error(e: rustix::io::Errno) -> Errno {
    if e == rustix::io::Errno::XDEV {
        Errno::NOTCAPABLE
    } else {
        e.into()
    }
}

/// Opens `path` beneath `dir`. `follow` says whether a symlink in the last component is
/// followed (else `O_NOFOLLOW`: opening a symlink fails with `ELOOP`, unless `O_PATH`).
pub fn open_beneath(
    dir: BorrowedFd<'_>,
    path: &str,
    mut flags: OFlags,
    mode: Mode,
    follow: bool,
) -> WasiResult<OwnedFd> {
    check(path)?;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    flags |= OFlags::CLOEXEC;
    if !flags.contains(OFlags::PATH) {
        // (`openat2` rejects any other flag next to `O_PATH`.)
        flags |= OFlags::NOCTTY;
    }
    loop {
        match rustix::fs::openat2(dir, path, flags, mode, resolve_flags()) {
            Ok(fd) => return Ok(fd),
            Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(lookup_error(e)),
        }
    }
}

/// A path split into its parent directory (opened beneath the base) and a last component
/// that lies directly in it.
pub struct Parent {
    /// The parent directory (an `O_PATH` descriptor).
    pub dir: OwnedFd,
    /// The last component; may end in `/` (the kernel then requires a directory), or be
    /// `.` when the path names a directory through `.`/`..`.
    pub name: String,
}

impl Parent {
    /// The parent as a borrowed fd for `*at` calls.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

/// Splits `path` into (parent, last component); the parent part may be empty (`.`).
/// A last component of `.` or `..` makes the whole path the parent and `.` the name.
pub fn split(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        // "/" or "///": absolute; callers reject it before.
        return (".", ".");
    }
    let (parent, last) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..i], &path[i + 1..]),
        None => (".", path),
    };
    let parent = if parent.is_empty() { "." } else { parent };
    let bare = last.trim_end_matches('/');
    if bare == "." || bare == ".." {
        return (trimmed, ".");
    }
    (parent, last)
}

/// Resolves the parent of `path` beneath `dir` (following symlinks inside the sandbox).
pub fn parent_beneath(dir: BorrowedFd<'_>, path: &str) -> WasiResult<Parent> {
    check(path)?;
    let (parent, name) = split(path);
    let fd = open_beneath(
        dir,
        parent,
        OFlags::PATH | OFlags::DIRECTORY,
        Mode::empty(),
        true,
    )?;
    Ok(Parent {
        dir: fd,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_paths() {
        assert_eq!(split("a"), (".", "a"));
        assert_eq!(split("a/b"), ("a", "b"));
        assert_eq!(split("a/b/"), ("a", "b/"));
        assert_eq!(split("a//b"), ("a/", "b"));
        assert_eq!(split("a/.."), ("a/..", "."));
        assert_eq!(split(".."), ("..", "."));
        assert_eq!(split("./"), (".", "."));
        assert_eq!(split("x/./"), ("x/.", "."));
    }

    #[test]
    fn checks() {
        assert_eq!(check(""), Err(Errno::NOENT));
        assert_eq!(check("/etc"), Err(Errno::NOTCAPABLE));
        assert_eq!(check("a\0b"), Err(Errno::INVAL));
        assert_eq!(check("a/b"), Ok(()));
    }

    #[test]
    fn resolution_stays_beneath() {
        let root = std::env::temp_dir().join(format!("tierup-wasi-path-{}", std::process::id()));
        let inner = root.join("inner");
        std::fs::create_dir_all(inner.join("sub")).unwrap();
        std::fs::write(root.join("secret"), b"x").unwrap();
        std::fs::write(inner.join("ok"), b"y").unwrap();
        std::os::unix::fs::symlink("../secret", inner.join("escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", inner.join("abs")).unwrap();
        std::os::unix::fs::symlink("sub/../ok", inner.join("fine")).unwrap();
        let dir = std::fs::File::open(&inner).unwrap();
        let d = dir.as_fd();
        let ro = OFlags::RDONLY;
        assert!(open_beneath(d, "ok", ro, Mode::empty(), true).is_ok());
        assert!(open_beneath(d, "sub/../ok", ro, Mode::empty(), true).is_ok());
        assert!(open_beneath(d, "fine", ro, Mode::empty(), true).is_ok());
        for bad in ["../secret", "sub/../../secret", "escape", "abs"] {
            assert_eq!(
                open_beneath(d, bad, ro, Mode::empty(), true).err(),
                Some(Errno::NOTCAPABLE),
                "{bad}"
            );
        }
        assert_eq!(
            open_beneath(d, "/etc/passwd", ro, Mode::empty(), true).err(),
            Some(Errno::NOTCAPABLE)
        );
        assert_eq!(
            open_beneath(d, "fine", ro, Mode::empty(), false).err(),
            Some(Errno::LOOP)
        );
        assert_eq!(parent_beneath(d, "../x").err(), Some(Errno::NOTCAPABLE));
        assert_eq!(parent_beneath(d, "escape/x").err(), Some(Errno::NOTCAPABLE));
        let p = parent_beneath(d, "sub/new").unwrap();
        assert_eq!(p.name, "new");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
