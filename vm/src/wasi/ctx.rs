//! [`WasiCtx`] (the state of one WASI program: arguments, environment, stdio streams and
//! the descriptor table) and [`WasiCtxBuilder`], which sets it up in the wasmtime shape.

use std::io::{BufWriter, Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustix::fs::{Mode, OFlags};

use super::fdtable::{FdEntry, FdTable, Handle, rights};
use crate::Result;

/// The size of the buffer in front of an inherited stdout.
const STDOUT_BUFFER: usize = 64 * 1024;

/// Where a standard stream goes: the host process's own stream, or a Rust reader/writer.
pub(crate) enum Stream<S: ?Sized> {
    /// The host's stream of the same number (its fd is inspected for `fdstat`/`poll`).
    Host(Box<S>),
    /// A stream supplied by the embedder.
    Custom(Box<S>),
}

impl<S: ?Sized> Stream<S> {
    pub(crate) fn get(&mut self) -> &mut S {
        match self {
            Stream::Host(s) | Stream::Custom(s) => s,
        }
    }

    pub(crate) fn is_host(&self) -> bool {
        matches!(self, Stream::Host(_))
    }
}

/// The WASI state of one program. Put it in the store's data and register the imports with
/// [`super::add_to_linker`].
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) stdin: Stream<dyn Read + Send>,
    pub(crate) stdout: Stream<dyn Write + Send>,
    pub(crate) stderr: Stream<dyn Write + Send>,
    pub(crate) fds: FdTable,
}

impl WasiCtx {
    /// Flushes the guest's stdout and stderr (call after the program exits or traps; the
    /// context also flushes when dropped).
    pub fn flush(&mut self) -> std::io::Result<()> {
        let a = self.stdout.get().flush();
        let b = self.stderr.get().flush();
        a.and(b)
    }
}

impl Drop for WasiCtx {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl core::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`WasiCtx`]. By default a program has no arguments, no environment, an empty
/// stdin, discarded stdout/stderr and no preopened directories.
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: Option<Stream<dyn Read + Send>>,
    stdout: Option<Stream<dyn Write + Send>>,
    stderr: Option<Stream<dyn Write + Send>>,
    preopens: Vec<(OwnedFd, String)>,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// A builder for an empty context.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            stdout: None,
            stderr: None,
            preopens: Vec::new(),
        }
    }

    /// Appends one argument (the first one is the program name, `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().as_bytes().to_vec());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Appends the host process's arguments.
    pub fn inherit_args(&mut self) -> &mut Self {
        use std::os::unix::ffi::OsStringExt;
        self.args
            .extend(std::env::args_os().map(OsStringExt::into_vec));
        self
    }

    /// Sets the environment variable `key` to `value` (replacing an earlier value).
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.set_env(key.as_ref().as_bytes(), value.as_ref().as_bytes());
        self
    }

    /// Sets several environment variables.
    pub fn envs(&mut self, vars: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Copies the host process's environment.
    pub fn inherit_env(&mut self) -> &mut Self {
        use std::os::unix::ffi::OsStrExt;
        for (k, v) in std::env::vars_os() {
            self.set_env(k.as_bytes(), v.as_bytes());
        }
        self
    }

    fn set_env(&mut self, key: &[u8], value: &[u8]) {
        let mut entry = key.to_vec();
        entry.push(b'=');
        self.env.retain(|e| !e.starts_with(&entry));
        entry.extend_from_slice(value);
        self.env.push(entry);
    }

    /// Connects the guest's stdin, stdout and stderr to the host's (stdout is buffered and
    /// flushed before stderr output, before reading stdin, and at exit).
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Connects the guest's stdin to the host's (unbuffered, so that what `poll_oneoff`
    /// sees on the host fd is what the guest reads next).
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Some(Stream::Host(Box::new(HostStdin)));
        self
    }

    /// Connects the guest's stdout to the host's, through a buffer (flushed at each line
    /// when the host's stdout is a terminal).
    pub fn inherit_stdout(&mut self) -> &mut Self {
        use std::io::IsTerminal;
        let out = std::io::stdout();
        let w: Box<dyn Write + Send> = if out.is_terminal() {
            Box::new(std::io::LineWriter::new(out))
        } else {
            Box::new(BufWriter::with_capacity(STDOUT_BUFFER, out))
        };
        self.stdout = Some(Stream::Host(w));
        self
    }

    /// Connects the guest's stderr to the host's (unbuffered).
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Some(Stream::Host(Box::new(std::io::stderr())));
        self
    }

    /// Reads the guest's stdin from `r`.
    pub fn stdin(&mut self, r: impl Read + Send + 'static) -> &mut Self {
        self.stdin = Some(Stream::Custom(Box::new(r)));
        self
    }

    /// Writes the guest's stdout to `w` (unbuffered: every `fd_write` reaches `w`).
    pub fn stdout(&mut self, w: impl Write + Send + 'static) -> &mut Self {
        self.stdout = Some(Stream::Custom(Box::new(w)));
        self
    }

    /// Writes the guest's stderr to `w`.
    pub fn stderr(&mut self, w: impl Write + Send + 'static) -> &mut Self {
        self.stderr = Some(Stream::Custom(Box::new(w)));
        self
    }

    /// Gives the guest the host directory `host_path` under the name `guest_path`.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
    ) -> Result<&mut Self> {
        let host = host_path.as_ref();
        let fd = rustix::fs::open(
            host,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| anyhow::anyhow!("cannot open directory `{}`: {e}", host.display()))?;
        self.preopens.push((fd, guest_path.as_ref().to_string()));
        Ok(self)
    }

    /// The context; the builder is left empty.
    pub fn build(&mut self) -> WasiCtx {
        let b = core::mem::take(self);
        let mut fds = FdTable::default();
        let stdio = |handle| FdEntry::new(handle, rights::STDIO, 0, 0);
        // A fresh table has room for far more than these (`MAX_FDS`).
        let _ = fds.push(stdio(Handle::Stdin));
        let _ = fds.push(stdio(Handle::Stdout));
        let _ = fds.push(stdio(Handle::Stderr));
        for (fd, name) in b.preopens {
            let _ = fds.push(FdEntry::new(
                Handle::dir(fd, Some(name)),
                rights::DIR_BASE,
                rights::DIR_INHERITING,
                0,
            ));
        }
        WasiCtx {
            args: b.args,
            env: b.env,
            stdin: b
                .stdin
                .unwrap_or_else(|| Stream::Custom(Box::new(std::io::empty()))),
            stdout: b
                .stdout
                .unwrap_or_else(|| Stream::Custom(Box::new(std::io::sink()))),
            stderr: b
                .stderr
                .unwrap_or_else(|| Stream::Custom(Box::new(std::io::sink()))),
            fds,
        }
    }
}

/// The host's stdin, read straight from fd 0 (no buffer in between).
struct HostStdin;

impl Read for HostStdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::fd::AsFd;
        let stdin = std::io::stdin();
        rustix::io::read(stdin.as_fd(), buf).map_err(std::io::Error::from)
    }
}

/// An in-memory output stream for capturing a guest's stdout or stderr: clones share one
/// buffer, so keep a clone and read [`MemoryOutputPipe::contents`] after the run.
#[derive(Clone, Default, Debug)]
pub struct MemoryOutputPipe {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// An empty pipe.
    pub fn new() -> MemoryOutputPipe {
        MemoryOutputPipe::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

impl Write for MemoryOutputPipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self.buf.lock() {
            Ok(mut b) => {
                b.extend_from_slice(data);
                Ok(data.len())
            }
            Err(_) => Err(std::io::Error::other("output pipe poisoned")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
