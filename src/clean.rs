//! The `clean` pipeline (placeholder).
