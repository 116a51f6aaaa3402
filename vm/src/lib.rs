//! tierup
