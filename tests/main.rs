//! The one integration-test binary: each module is a feature area.

mod cli;
mod golden;
mod properties;
