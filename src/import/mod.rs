//! Import: CSV/TSV/XLSX readers (placeholder until the readers land).
