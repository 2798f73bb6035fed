//! Site identity cases end to end (placeholder).
