//! Telling Linux `perf` which wasm function each piece of machine code is, in the two
//! formats it reads:
//!
//! * the **perf map** `/tmp/perf-PID.map` ([`Config::perf_map`](crate::Config::perf_map),
//!   `tierup run --perfmap`): one text line per piece of code, `START SIZE NAME` in hex,
//!   which `perf report` reads to name samples in JIT code;
//! * the **jitdump** file `jit-PID.dump` in the working directory
//!   ([`Config::jitdump`](crate::Config::jitdump), `tierup run --jitdump`): the code
//!   bytes themselves with their names and load times (the format of the Linux tree's
//!   `tools/perf/Documentation/jitdump-specification.txt`), which `perf inject --jit`
//!   turns into ELF images, so that `perf report` and `perf annotate` show the code too.
//!   Record with `perf record -k mono` (the timestamps are `CLOCK_MONOTONIC`); the file
//!   is mapped executable once, which is how `perf record` learns where it is.
//!
//! A name says what the code is: `wasm[MODULE]::FUNCTION (TIER)`, with `OSR @OFFSET`
//! after the tier for an on-stack-replacement entry, and `tierup adapter` for the
//! engine's adapters. Code is written as it is loaded, from whichever thread loads it
//! (under a lock), and each line or record reaches the file at once, so a process that
//! exits at any point leaves a complete file. Off, a load costs one branch.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// The perf map and jitdump writers an engine was configured with.
#[derive(Debug, Default)]
pub(crate) struct PerfSinks {
    map: Option<Mutex<File>>,
    dump: Option<Mutex<JitDump>>,
}

impl PerfSinks {
    /// The writers asked for: the perf map (`map`) and the jitdump file (`dump`), each
    /// created anew.
    pub fn new(map: bool, dump: bool) -> io::Result<PerfSinks> {
        let pid = std::process::id();
        Ok(PerfSinks {
            map: if map {
                let path = perf_map_path(pid);
                let file = File::create(&path).map_err(|e| with_path(e, &path))?;
                Some(Mutex::new(file))
            } else {
                None
            },
            dump: if dump {
                Some(Mutex::new(JitDump::create(pid)?))
            } else {
                None
            },
        })
    }

    /// Whether any writer is on.
    pub fn on(&self) -> bool {
        self.map.is_some() || self.dump.is_some()
    }

    /// Names the code `bytes`, loaded at `start`. A failed write is logged once per
    /// writer and turns it off: the program runs on.
    pub fn loaded(&self, start: *const u8, bytes: &[u8], name: &str) {
        if let Some(map) = &self.map {
            let line = format!("{:x} {:x} {name}\n", start as usize, bytes.len());
            if let Err(e) = map.lock().write_all(line.as_bytes()) {
                tracing::warn!(target: "tierup::tiering", "cannot write the perf map: {e}");
            }
        }
        if let Some(dump) = &self.dump {
            let mut dump = dump.lock();
            if let Err(e) = dump.code_load(start, bytes, name) {
                tracing::warn!(target: "tierup::tiering", "cannot write the jitdump file: {e}");
            }
        }
    }
}

/// Where `perf` looks for the map of process `pid`.
pub fn perf_map_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{pid}.map"))
}

/// Where the jitdump file of process `pid` goes (the working directory, as `perf inject`
/// finds it through the mapping).
pub fn jitdump_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("jit-{pid}.dump"))
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The jitdump file's magic number (`JiTD`), version, and the record of loaded code.
const JITDUMP_MAGIC: u32 = 0x4A69_5444;
const JITDUMP_VERSION: u32 = 1;
const JIT_CODE_LOAD: u32 = 0;
/// `EM_X86_64`, the ELF machine of the code.
const ELF_MACHINE: u32 = 62;
/// The size of the file header and of a record header.
const FILE_HEADER: u32 = 40;
const RECORD_HEADER: u32 = 16;

/// An open jitdump file.
#[derive(Debug)]
struct JitDump {
    file: File,
    pid: u32,
    /// The index of the next piece of code.
    next: u64,
}

impl JitDump {
    /// Creates the file of process `pid`, writes its header and maps it executable once
    /// (the mapping is how `perf record` sees the file; it is unmapped at once).
    fn create(pid: u32) -> io::Result<JitDump> {
        let path = jitdump_path(pid);
        // Readable too: a mapping needs a descriptor open for reading.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| with_path(e, &path))?;
        let mut header = Vec::with_capacity(FILE_HEADER as usize);
        header.extend_from_slice(&JITDUMP_MAGIC.to_le_bytes());
        header.extend_from_slice(&JITDUMP_VERSION.to_le_bytes());
        header.extend_from_slice(&FILE_HEADER.to_le_bytes());
        header.extend_from_slice(&ELF_MACHINE.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&pid.to_le_bytes());
        header.extend_from_slice(&monotonic_nanos().to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes());
        file.write_all(&header)?;
        let page = rustix::param::page_size();
        // SAFETY: a fresh private mapping of the file's first page, which nothing reads
        // and which is unmapped right after; the file outlives it.
        unsafe {
            let at = rustix::mm::mmap(
                core::ptr::null_mut(),
                page,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::EXEC,
                rustix::mm::MapFlags::PRIVATE,
                &file,
                0,
            )
            .map_err(|e| {
                io::Error::new(
                    io::Error::from(e).kind(),
                    format!(
                        "{}: cannot map it executable, which is how perf finds it (a file \
                         system mounted noexec?): {e}",
                        path.display()
                    ),
                )
            })?;
            let _ = rustix::mm::munmap(at, page);
        }
        Ok(JitDump { file, pid, next: 0 })
    }

    /// Appends a code-load record of `bytes`, loaded at `start`, named `name`.
    fn code_load(&mut self, start: *const u8, bytes: &[u8], name: &str) -> io::Result<()> {
        let body = 4 + 4 + 8 * 4 + name.len() + 1 + bytes.len();
        let total = u32::try_from(RECORD_HEADER as usize + body)
            .map_err(|_| io::Error::other("a piece of code is too large for jitdump"))?;
        let mut record = Vec::with_capacity(total as usize);
        record.extend_from_slice(&JIT_CODE_LOAD.to_le_bytes());
        record.extend_from_slice(&total.to_le_bytes());
        record.extend_from_slice(&monotonic_nanos().to_le_bytes());
        record.extend_from_slice(&self.pid.to_le_bytes());
        // SAFETY: `gettid` has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        record.extend_from_slice(&tid.to_le_bytes());
        let at = start as u64;
        record.extend_from_slice(&at.to_le_bytes());
        record.extend_from_slice(&at.to_le_bytes());
        record.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        record.extend_from_slice(&self.next.to_le_bytes());
        record.extend_from_slice(name.as_bytes());
        record.push(0);
        record.extend_from_slice(bytes);
        self.next += 1;
        self.file.write_all(&record)
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds, the clock of `perf record -k mono`.
fn monotonic_nanos() -> u64 {
    crate::wasi::timespec_nanos(rustix::time::clock_gettime(
        rustix::time::ClockId::Monotonic,
    ))
}
