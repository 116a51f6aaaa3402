//! tierup-interp
