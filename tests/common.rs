//! Helpers shared by the integration-test modules.

use std::process::{Command, Output};

/// Run the real `nayose` binary.
pub fn nayose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nayose"))
        .args(args)
        .output()
        .unwrap()
}
