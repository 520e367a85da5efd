//! Master data compiled into the binary (placeholder until the Japan Post
//! postal master and the town master land).
