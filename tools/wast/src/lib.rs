//! tierup-wast
