//! [`TranslateError`]: why a function could not be translated, with the byte offset.

/// Why a function could not be translated.
#[derive(Debug, Clone)]
pub struct TranslateError {
    pub(crate) message: String,
    pub(crate) offset: usize,
}

impl TranslateError {
    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the module where translation failed.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl core::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (at byte offset {:#x})", self.message, self.offset)
    }
}

impl std::error::Error for TranslateError {}
