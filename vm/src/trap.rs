//! [`Trap`]: a WebAssembly trap as a Rust error, with its wasm backtrace, and the conversion
//! of the per-thread trap record into a `Trap` (or into a host function's own error).

use core::fmt;

use tierup_abi::trap::TrapRecord;
use tierup_abi::{FrameOwner, TrapCode};

use crate::instance::InstanceData;

/// One frame of a trap's wasm backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// The module's name from its name section.
    pub module_name: Option<String>,
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name from the name section.
    pub func_name: Option<String>,
    /// The byte offset in the module of the trapping instruction or call.
    pub module_offset: u32,
}

/// A WebAssembly trap.
#[derive(Clone, Debug)]
pub struct Trap {
    code: Option<TrapCode>,
    message: String,
    frames: Vec<FrameInfo>,
}

impl Trap {
    /// A trap with code `code` and no frames.
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code: Some(code),
            message: code.message().to_string(),
            frames: Vec::new(),
        }
    }

    /// A trap with a custom message.
    pub fn msg(message: impl Into<String>) -> Trap {
        Trap {
            code: None,
            message: message.into(),
            frames: Vec::new(),
        }
    }

    /// The trap code, if the trap has one.
    pub fn code(&self) -> Option<TrapCode> {
        self.code
    }

    /// The message (for spec traps, the specification's text, e.g. `unreachable`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The wasm frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.frames.is_empty() {
            f.write_str("\nwasm backtrace:")?;
            for (i, fr) in self.frames.iter().enumerate() {
                let module = fr.module_name.as_deref().unwrap_or("<unknown>");
                write!(f, "\n    {i}: {:#x} - {module}!", fr.module_offset)?;
                match &fr.func_name {
                    Some(n) => f.write_str(n)?,
                    None => write!(f, "func[{}]", fr.func_index)?,
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// Turns a taken trap record into the error to return: the host's own error for
/// [`TrapCode::Host`], otherwise a [`Trap`].
pub(crate) fn from_record(rec: TrapRecord) -> anyhow::Error {
    if let Some(host) = rec.host_error {
        return match host.downcast::<anyhow::Error>() {
            Ok(e) => *e,
            Err(other) => match other.downcast::<Trap>() {
                Ok(t) => anyhow::Error::new(*t),
                Err(_) => anyhow::anyhow!("host function failed"),
            },
        };
    }
    let code = rec.code.unwrap_or(TrapCode::CompileError);
    let message = match (code, rec.message) {
        (_, Some(m)) => m,
        (c, None) => c.message().to_string(),
    };
    let frames = rec
        .frames
        .iter()
        .map(|fr| {
            let module: Option<&crate::module::ModuleInner> = match fr.owner {
                // SAFETY: a frame's context belongs to an instance of the store that just
                // ran the code, which is alive.
                FrameOwner::Instance(vmctx) => unsafe {
                    vmctx
                        .as_ref()
                        .and_then(|v| (v.instance as *const InstanceData).as_ref())
                        .map(|i| &*i.module.inner)
                },
                // SAFETY: machine code names the module that owns it, which an instance of
                // the store that just ran the code keeps alive.
                FrameOwner::Module(m) => unsafe {
                    (m as *const crate::module::ModuleInner).as_ref()
                },
            };
            FrameInfo {
                module_name: module.and_then(|m| m.info.name.clone()),
                func_index: fr.func_index,
                func_name: module.and_then(|m| m.info.func_names.get(&fr.func_index).cloned()),
                module_offset: fr.code_offset,
            }
        })
        .collect();
    anyhow::Error::new(Trap {
        code: Some(code),
        message,
        frames,
    })
}
