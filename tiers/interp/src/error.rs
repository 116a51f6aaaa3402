//! [`TranslateError`]: why a function could not be translated, with the byte offset.

/// Why a function could not be translated.
#[derive(Debug, Clone)]
pub struct TranslateError {
    pub(crate) message: String,
    /// The module offset, and in its top bit ([`BEYOND_REGISTERS`]) whether the function
    /// needs more registers than the form's operands can name (locals, distinct constants
    /// and operand stack together): the compact form's signal to translate it in the wide
    /// one. One word for both keeps the error, and so every `Result` of the translator's
    /// hot paths, two words.
    pub(crate) offset: usize,
}

/// The flag bit of [`TranslateError::offset`].
pub(crate) const BEYOND_REGISTERS: usize = 1 << (usize::BITS - 1);

impl TranslateError {
    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the module where translation failed.
    pub fn offset(&self) -> usize {
        self.offset & !BEYOND_REGISTERS
    }

    /// Whether the function needs more registers than this register form can name (a
    /// valid function that the wide form translates; see the crate docs, "Register
    /// forms").
    pub fn beyond_registers(&self) -> bool {
        self.offset & BEYOND_REGISTERS != 0
    }
}

impl core::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (at byte offset {:#x})", self.message, self.offset())
    }
}

impl std::error::Error for TranslateError {}
